//! The program compiler: a layer, its data and a mapping become one host command stream
//! (docs/commands.md), and the host's output stream becomes the ofmap and the counters again.
//!
//! Each pass configures the array where it changed, loads the pass's ifmap rows and filters
//! into the GLB, starts the PEs, and streams: filters once, then per step one ifmap STREAM (the
//! diagonal of rows the chains need for that step) and, when accumulating, one psum STREAM (a
//! row per chain). A step's rows are all in one command, so every PE of a chain is fed at once
//! and a chain never waits on a command that cannot start. The last pass of a tile STOREs the
//! chain regions (with ReLU if the layer asks for it).

use thiserror::Error;

use crate::config::ArchConfig;
use crate::layer::{ConvLayer, Tensors};
use crate::mapper::layout::{pass_layout, reset_pe};
use crate::mapper::{self, MapError, Pass, Plan, Shape, Tile};
use crate::program::{
    Cmd, LayerCfg, NUM_COUNTERS, Net, OP_MARK, OP_READ_COUNTERS, OP_STORE, PeCfg,
};

#[derive(Debug, Error)]
pub enum CompileError {
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("layer data: {0}")]
    Data(String),
    #[error("output stream: {0}")]
    Output(String),
}

/// One STORE: a run of a tile's chain regions.
#[derive(Debug, Clone)]
pub struct StoreMap {
    pub tile: usize,
    /// First region of the run.
    pub first: u32,
    pub count: u32,
}

/// A compiled layer: the program and what is needed to read its answers.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub plan: Plan,
    pub shape: Shape,
    pub tiles: Vec<Tile>,
    pub words: Vec<u64>,
    pub stores: Vec<StoreMap>,
    pub mark: u64,
    pub psum_width: u32,
}

/// Pack elements of `bits` bits into 64-bit words, element `e` in lane `e % L` of word `e / L`.
fn pack(elems: &[i16], bits: u32) -> Vec<u64> {
    let lanes = (64 / bits) as usize;
    let mask = (1u64 << bits) - 1;
    elems
        .chunks(lanes)
        .map(|ch| {
            ch.iter().enumerate().fold(0u64, |w, (k, &e)| {
                w | ((e as i64 as u64) & mask) << (bits as usize * k)
            })
        })
        .collect()
}

/// A pass's ifmap rows (`[image][padded row][chunk][position][channel]`) and filters
/// (`[block][chunk][filter row]`, each `(s*q + j)*p + i`), packed into GLB words.
fn pass_data(sh: &Shape, data: &Tensors, dw: u32, t: &Tile, pass: &Pass) -> (Vec<u64>, Vec<u64>) {
    let c_all = sh.g * sh.cg;
    let vc = pass.chans.len() as u32;
    let hrows = mapper::pass_rows(sh, t, pass);
    let rowlen = mapper::row_len(sh, pass);
    let mut ifm = Vec::with_capacity((t.nn * hrows * vc * rowlen) as usize);
    for nl in 0..t.nn {
        let n = t.n0 + nl;
        for hr in 0..hrows {
            let y = (t.e0 * sh.uv + pass.r0 + hr) as i64 - sh.pv as i64;
            for &c0 in &pass.chans {
                for w in 0..(sh.f - 1) * sh.uh + pass.sc {
                    let x = (pass.s0 + w) as i64 - sh.ph as i64;
                    for jj in 0..pass.q {
                        let c = t.g * sh.cg + c0 + jj;
                        let inside = y >= 0 && y < sh.h as i64 && x >= 0 && x < sh.w as i64;
                        ifm.push(if inside {
                            data.ifmap[(((n * c_all + c) as i64 * sh.h as i64 + y) * sh.w as i64
                                + x) as usize]
                        } else {
                            0
                        });
                    }
                }
            }
        }
    }
    let flen = t.p * pass.q * pass.sc;
    let mut fil = Vec::with_capacity(t.blocks.len() * (vc * pass.h * flen) as usize);
    for &m0 in t.blocks.iter() {
        for &c0 in &pass.chans {
            for i in 0..pass.h {
                for s in 0..pass.sc {
                    for jj in 0..pass.q {
                        for ii in 0..t.p {
                            let m = t.g * sh.mg + m0 + ii;
                            let (c, r, sx) = (c0 + jj, pass.r0 + i, pass.s0 + s);
                            fil.push(
                                data.weights[(((m * sh.cg + c) * sh.r + r) * sh.s + sx) as usize],
                            );
                        }
                    }
                }
            }
        }
    }
    (pack(&ifm, dw), pack(&fil, dw))
}

/// Compile a layer with its data for `cfg`, choosing the mapping with `mapper::plan`.
pub fn compile(cfg: &ArchConfig, l: &ConvLayer, data: &Tensors) -> Result<Compiled, CompileError> {
    let plan = mapper::plan(cfg, l)?;
    compile_with(cfg, l, data, plan)
}

pub fn compile_with(
    cfg: &ArchConfig,
    l: &ConvLayer,
    data: &Tensors,
    plan: Plan,
) -> Result<Compiled, CompileError> {
    let sh = Shape::of(l);
    let dw = cfg.data.data_width;
    let lo = -(1i32 << (dw - 1));
    let hi = (1i32 << (dw - 1)) - 1;
    for (name, v) in [("ifmap", &data.ifmap), ("weights", &data.weights)] {
        if let Some(k) = v.iter().position(|&x| (x as i32) < lo || (x as i32) > hi) {
            return Err(CompileError::Data(format!(
                "{name}[{k}] = {}: outside the {dw}-bit range of data.data_width ({lo}..={hi})",
                v[k]
            )));
        }
    }
    let want_i = (sh.n * sh.g * sh.cg * sh.h * sh.w) as usize;
    let want_w = (sh.g * sh.mg * sh.cg * sh.r * sh.s) as usize;
    if data.ifmap.len() != want_i || data.weights.len() != want_w {
        return Err(CompileError::Data(format!(
            "expected {want_i} ifmap and {want_w} weight values, got {} and {}",
            data.ifmap.len(),
            data.weights.len()
        )));
    }
    let tiles = mapper::schedule(cfg, &sh, &plan.mapping);
    let (rows, cols) = (cfg.array.rows, cfg.array.cols);
    let dl = cfg.lanes(dw);
    let pl = cfg.lanes(cfg.data.psum_width);
    let max_rows = cfg.noc.stream_rows as usize;

    // configuration state as the hardware holds it, starting from reset
    let rb = cfg.noc.row_id_bits;
    let mut cur_rows: [Vec<u32>; 4] = std::array::from_fn(|_| vec![(1 << rb) - 1; rows as usize]);
    let mut cur_pe: Vec<PeCfg> = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| reset_pe(cfg, r, c))
        .collect();
    let mut cur_layer: Option<LayerCfg> = None;

    // GLB layout for the whole layer: chain regions from word 0, then one buffer (or two,
    // when loads overlap compute) of ifmap rows followed by filters.
    // (The mapper worked the layout out, and checked it fits the GLB, when it made the plan.)
    let (buffers_at, buffer_words) = (plan.glb.buffers_at() as u32, plan.glb.buffer_words() as u32);
    let flat: Vec<(usize, usize)> = tiles
        .iter()
        .enumerate()
        .flat_map(|(ti, t)| (0..t.passes.len()).map(move |pi| (ti, pi)))
        .collect();
    let mut current = match flat.first() {
        Some(&(t, p)) => pass_data(&sh, data, dw, &tiles[t], &tiles[t].passes[p]),
        None => (Vec::new(), Vec::new()),
    };

    let mut cmds = vec![Cmd::ClearCounters];
    let mut stores = Vec::new();
    let mut k = 0usize;
    for (ti, t) in tiles.iter().enumerate() {
        let wpc = t.p.div_ceil(pl);
        for pass in t.passes.iter() {
            let lay = pass_layout(cfg, &sh, t, pass)
                .map_err(|msg| MapError::Internal { pass: k, msg })?;
            let vc = pass.chans.len() as u32;
            let layer_cfg = LayerCfg {
                p: t.p,
                q: pass.q,
                s: pass.sc,
                f: sh.f,
                u: sh.uh,
                shift: l.shift,
                acc: pass.acc,
                max: l.max_pool,
            };
            if cur_layer != Some(layer_cfg) {
                cmds.push(Cmd::CfgLayer(layer_cfg));
                cur_layer = Some(layer_cfg);
            }
            for (k, net) in [Net::Filter, Net::Ifmap, Net::Psum, Net::Gon]
                .into_iter()
                .enumerate()
            {
                for (r, (cur, &want)) in cur_rows[k].iter_mut().zip(&lay.row_ids[k]).enumerate() {
                    if *cur != want {
                        cmds.push(Cmd::CfgRowId {
                            net,
                            row: r as u32,
                            id: want,
                        });
                        *cur = want;
                    }
                }
            }
            for (n, pc) in lay.pe_cfg.iter().enumerate() {
                if cur_pe[n] != *pc {
                    cmds.push(Cmd::CfgPe(*pc));
                    cur_pe[n] = *pc;
                }
            }

            // This pass's rows and filters are in its buffer (loaded before, or during the
            // previous pass); the next pass's go to the other buffer while this one computes.
            let buf = if plan.mapping.overlap { k % 2 } else { 0 } as u32;
            let ibase = buffers_at + buf * buffer_words;
            let (iwords, fwords) = std::mem::take(&mut current);
            let fbase = ibase + iwords.len() as u32;
            if !plan.mapping.overlap || k == 0 {
                cmds.push(Cmd::Load {
                    addr: ibase,
                    words: [iwords, fwords].concat(),
                });
            }
            let next = match flat.get(k + 1) {
                Some(&(nt, np)) => pass_data(&sh, data, dw, &tiles[nt], &tiles[nt].passes[np]),
                None => (Vec::new(), Vec::new()),
            };
            let mut slices = Vec::new();
            if plan.mapping.overlap && flat.get(k + 1).is_some() {
                let nbase = buffers_at + (1 - buf) * buffer_words;
                let words = [next.0.clone(), next.1.clone()].concat();
                let per = words.len().div_ceil(t.steps() as usize).max(1);
                for (j, chunk) in words.chunks(per).enumerate() {
                    slices.push(Cmd::Load {
                        addr: nbase + (j * per) as u32,
                        words: chunk.to_vec(),
                    });
                }
            }
            current = next;
            let hrows = mapper::pass_rows(&sh, t, pass);
            let rowlen = mapper::row_len(&sh, pass);
            let flen = t.p * pass.q * pass.sc;
            cmds.push(Cmd::Start);
            let chains = t.chains().len() as u64;
            cmds.push(Cmd::Drain {
                total: (chains * t.steps() as u64 * sh.f as u64 * wpc as u64) as u32,
                base: 0,
                stride: lay.region_words as u32,
            });
            for (k, tags) in lay.filt_tags.chunks(max_rows).enumerate() {
                cmds.push(Cmd::Stream {
                    net: Net::Filter,
                    len: flen,
                    base: fbase * dl + (k * max_rows) as u32 * flen,
                    stride: flen,
                    tags: tags.to_vec(),
                });
            }
            for s in 0..t.steps() {
                let (nl, strip) = (s / t.ks, s % t.ks);
                cmds.push(Cmd::Stream {
                    net: Net::Ifmap,
                    len: rowlen,
                    base: ibase * dl + (nl * hrows + strip * t.ew * sh.uv) * vc * rowlen,
                    stride: rowlen,
                    tags: lay.ifmap_tags.clone(),
                });
                if pass.acc {
                    let words = sh.f * wpc;
                    cmds.push(Cmd::Stream {
                        net: Net::Psum,
                        len: words * pl,
                        base: s * words * pl,
                        stride: lay.region_words as u32 * pl,
                        tags: lay.psum_tags.clone(),
                    });
                }
                // the controller loads while this step streams; the next step's STREAM waits
                // for this one to finish anyway
                if let Some(slice) = slices.get_mut(s as usize) {
                    cmds.push(std::mem::replace(slice, Cmd::Nop));
                }
            }
            cmds.push(Cmd::Barrier);
            k += 1;
        }
        let region = mapper::tile_regions(&sh, cfg.noc.gon_col_id_bits, pl, t).0;
        for (first, n) in mapper::region_runs(cfg.noc.gon_col_id_bits, t) {
            let count = (region * n as u64) as u32;
            cmds.push(Cmd::Store {
                addr: (region * first as u64) as u32,
                count,
                relu: l.relu,
            });
            stores.push(StoreMap {
                tile: ti,
                first,
                count,
            });
        }
    }
    cmds.push(Cmd::ReadCounters);
    let mark = (OP_MARK << 56) | 0x00E7_E415_0000_0000 | (stores.len() as u64 & 0xffff_ffff);
    cmds.push(Cmd::Mark(mark & ((1 << 56) - 1)));
    Ok(Compiled {
        plan,
        shape: sh,
        tiles,
        words: crate::program::encode(&cmds),
        stores,
        mark,
        psum_width: cfg.data.psum_width,
    })
}

/// The ofmap and counters read back from the host output stream.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// N x M x E x F, sign-extended from `psum_width` bits.
    pub ofmap: Vec<i32>,
    pub counters: crate::program::Counters,
}

impl Compiled {
    /// A controller error word where a response header was due: the controller refused a
    /// command and stopped. Returns (output word index, the word).
    pub fn controller_error(&self, out: &[u64]) -> Option<(usize, u64)> {
        let is_err = |k: usize| out.get(k).filter(|&&w| w >> 56 == crate::program::OP_ERROR);
        let mut at = 0usize;
        for st in &self.stores {
            if let Some(&w) = is_err(at) {
                return Some((at, w));
            }
            at += 1 + st.count as usize;
        }
        for k in [at, at + 1 + NUM_COUNTERS] {
            if let Some(&w) = is_err(k) {
                return Some((k, w));
            }
        }
        None
    }

    /// Read the host output stream of this program.
    pub fn decode(&self, cfg: &ArchConfig, out: &[u64]) -> Result<Decoded, CompileError> {
        let sh = &self.shape;
        let m_all = sh.g * sh.mg;
        let mut ofmap = vec![0i32; (sh.n * m_all * sh.e * sh.f) as usize];
        let pl = cfg.lanes(self.psum_width);
        let bits = self.psum_width;
        let mut at = 0usize;
        let take = |at: &mut usize, n: usize| -> Result<std::ops::Range<usize>, CompileError> {
            if *at + n > out.len() {
                return Err(CompileError::Output(format!(
                    "ended after {} words, expected at least {}",
                    out.len(),
                    *at + n
                )));
            }
            let r = *at..*at + n;
            *at += n;
            Ok(r)
        };
        for st in &self.stores {
            let hdr = out[take(&mut at, 1)?][0];
            if hdr != (OP_STORE << 56 | st.count as u64) {
                return Err(CompileError::Output(format!(
                    "word {}: expected a STORE header for {} words, got 0x{hdr:016x}",
                    at - 1,
                    st.count
                )));
            }
            let words = &out[take(&mut at, st.count as usize)?];
            let t = &self.tiles[st.tile];
            let wpc = t.p.div_ceil(pl);
            let gcb = cfg.noc.gon_col_id_bits;
            let (region, _) = mapper::tile_regions(sh, gcb, pl, t);
            let n_regions = st.count as u64 / region;
            for (&(_, _, b, l), &k) in t.chains().iter().zip(&t.chain_regions(gcb)) {
                if k < st.first || (k - st.first) as u64 >= n_regions {
                    continue;
                }
                let base = (k - st.first) as u64 * region;
                for s in 0..t.steps() {
                    let n = t.n0 + s / t.ks;
                    let e = t.e0 + (s % t.ks) * t.ew + l;
                    for f in 0..sh.f {
                        for ii in 0..t.p {
                            let wi = base + ((s * sh.f + f) * wpc + ii / pl) as u64;
                            let raw = words[wi as usize] >> (bits * (ii % pl));
                            let v = ((raw << (64 - bits)) as i64 >> (64 - bits)) as i32;
                            let m = t.g * sh.mg + t.blocks[b] + ii;
                            ofmap[(((n * m_all + m) * sh.e + e) * sh.f + f) as usize] = v;
                        }
                    }
                }
            }
        }
        let hdr = out[take(&mut at, 1)?][0];
        if hdr != (OP_READ_COUNTERS << 56 | NUM_COUNTERS as u64) {
            return Err(CompileError::Output(format!(
                "word {}: expected the counters header, got 0x{hdr:016x}",
                at - 1
            )));
        }
        let mut counters = crate::program::Counters::default();
        counters
            .0
            .copy_from_slice(&out[take(&mut at, NUM_COUNTERS)?]);
        let last = out[take(&mut at, 1)?][0];
        if last != self.mark {
            return Err(CompileError::Output(format!(
                "word {}: expected the end mark 0x{:016x}, got 0x{last:016x}",
                at - 1,
                self.mark
            )));
        }
        Ok(Decoded { ofmap, counters })
    }
}
