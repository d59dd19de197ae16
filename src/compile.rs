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
use crate::mapper::ids::{self, IdAssignment, IdError, Pe};
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

/// Role of an enabled PE in a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// Chain index in `Tile::chains()` order.
    pub chain: usize,
    pub j: u32,
    pub i: u32,
}

/// Everything about a pass that follows from the tile geometry: PE roles, multicast IDs,
/// and the tag of every stream row.
#[derive(Debug, Clone)]
pub struct PassLayout {
    pub roles: Vec<Option<Role>>,
    pub pe_cfg: Vec<PeCfg>,
    /// Row IDs per network (filter, ifmap, psum, GON), per physical row.
    pub row_ids: [Vec<u32>; 4],
    /// Filter rows, index `(block * vc + j) * h + i`.
    pub filt_tags: Vec<(u32, u32)>,
    /// Ifmap rows of a step, index `d * vc + j` with `d = l * U + i`.
    pub ifmap_tags: Vec<(u32, u32)>,
    /// Psum rows of a step, index = chain region.
    pub psum_tags: Vec<(u32, u32)>,
    pub span: u32,
    pub region_words: u64,
}

fn id_err(net: &str, e: IdError, cfg: &ArchConfig) -> String {
    match e {
        IdError::RowIds(n, have) => format!(
            "the {net} network needs {n} row IDs, noc.row_id_bits = {} gives {have}",
            cfg.noc.row_id_bits
        ),
        IdError::ColIds(n, have) => {
            format!(
                "the {net} network needs {n} column IDs in one row group, its ID width gives {have}"
            )
        }
        IdError::Overlap((r, c)) => format!("PE ({r}, {c}) is in two {net} classes"),
    }
}

fn checked(
    cfg: &ArchConfig,
    net: &str,
    col_bits: u32,
    classes: &[Vec<Pe>],
) -> Result<IdAssignment, String> {
    let (rows, cols, rb) = (cfg.array.rows, cfg.array.cols, cfg.noc.row_id_bits);
    let a = ids::assign(rows, cols, rb, col_bits, classes).map_err(|e| id_err(net, e, cfg))?;
    // What the multicast controllers will do must be what the mapping meant.
    for (k, class) in classes.iter().enumerate() {
        let mut got = a.reach(cols, rb, col_bits, a.tags[k]);
        let mut want = class.clone();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            return Err(format!(
                "{net} tag {:?} reaches {got:?}, meant {want:?}",
                a.tags[k]
            ));
        }
    }
    Ok(a)
}

pub fn pass_layout(
    cfg: &ArchConfig,
    sh: &Shape,
    t: &Tile,
    pass: &Pass,
) -> Result<PassLayout, String> {
    let (rows, cols) = (cfg.array.rows, cfg.array.cols);
    let npe = (rows * cols) as usize;
    let vc = pass.chans.len() as u32;
    let h = pass.h;
    let chains = t.chains();
    let tv = t.tv();
    if tv * t.hg > rows || t.width() > cols || vc * h > t.hg {
        return Err(format!(
            "tile geometry {tv} x {} groups of {} x {} PEs does not fit {rows} x {cols}",
            t.th, t.hg, t.seg_w
        ));
    }
    let d_rows = (t.ew - 1) * sh.uv + h;
    let mut roles = vec![None; npe];
    let mut filt_classes = vec![Vec::new(); t.blocks.len() * (vc * h) as usize];
    let mut ifmap_classes = vec![Vec::new(); (d_rows * vc) as usize];
    let gcb = cfg.noc.gon_col_id_bits;
    let (region_words, span) = mapper::tile_regions(sh, gcb, cfg.lanes(cfg.data.psum_width), t);
    let regions = t.chain_regions(gcb);
    let mut psum_classes = vec![Vec::new(); span as usize];
    for (k, &(v, c, b, l)) in chains.iter().enumerate() {
        for j in 0..vc {
            for i in 0..h {
                let r = v * t.hg + j * h + i;
                roles[(r * cols + c) as usize] = Some(Role { chain: k, j, i });
                filt_classes[((b as u32 * vc + j) * h + i) as usize].push((r, c));
                ifmap_classes[((l * sh.uv + i) * vc + j) as usize].push((r, c));
            }
        }
        let bottom = v * t.hg + vc * h - 1;
        psum_classes[regions[k] as usize].push((bottom, c));
    }
    let fa = checked(cfg, "filter", cfg.noc.filter_col_id_bits, &filt_classes)?;
    let ia = checked(cfg, "ifmap", cfg.noc.ifmap_col_id_bits, &ifmap_classes)?;
    let pa = checked(cfg, "psum", cfg.noc.psum_col_id_bits, &psum_classes)?;

    // GON IDs name the chain's region: {row ID, column ID} = region index.
    let rb = cfg.noc.row_id_bits;
    let row_none = (1u32 << rb) - 1;
    let mut gon_rows = vec![row_none; rows as usize];
    let mut gon_cols = vec![(1u32 << gcb) - 1; npe];
    for (&(v, c, _, _), &k) in chains.iter().zip(&regions) {
        let (y, x) = (k >> gcb, k & ((1 << gcb) - 1));
        if y > row_none {
            return Err(format!(
                "GON row ID {y} does not fit noc.row_id_bits = {rb}"
            ));
        }
        gon_rows[(v * t.hg) as usize] = y;
        gon_cols[(v * t.hg * cols + c) as usize] = x;
    }

    let mut pe_cfg = Vec::with_capacity(npe);
    for r in 0..rows {
        for c in 0..cols {
            let n = (r * cols + c) as usize;
            pe_cfg.push(match roles[n] {
                None => reset_pe(cfg, r, c),
                Some(role) => {
                    let top = role.j == 0 && role.i == 0;
                    let bottom = role.j == vc - 1 && role.i == h - 1;
                    PeCfg {
                        row: r,
                        col: c,
                        filt_id: fa.col_ids[n],
                        ifmap_id: ia.col_ids[n],
                        psum_id: pa.col_ids[n],
                        gon_id: gon_cols[n],
                        enable: true,
                        psum_sel: if bottom { 1 } else { 2 },
                        out_gon: top,
                    }
                }
            });
        }
    }
    Ok(PassLayout {
        roles,
        pe_cfg,
        row_ids: [fa.row_ids, ia.row_ids, pa.row_ids, gon_rows],
        filt_tags: fa.tags,
        ifmap_tags: ia.tags,
        psum_tags: pa.tags,
        span,
        region_words,
    })
}

fn reset_pe(cfg: &ArchConfig, row: u32, col: u32) -> PeCfg {
    let ones = |b: u32| (1u32 << b) - 1;
    PeCfg {
        row,
        col,
        filt_id: ones(cfg.noc.filter_col_id_bits),
        ifmap_id: ones(cfg.noc.ifmap_col_id_bits),
        psum_id: ones(cfg.noc.psum_col_id_bits),
        gon_id: ones(cfg.noc.gon_col_id_bits),
        enable: false,
        psum_sel: 0,
        out_gon: false,
    }
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

/// Where a layer's data lives in the GLB: the largest tile's chain regions, then buffers of
/// the largest pass's ifmap rows and filters.
struct Layout {
    psum_words: u32,
    buffer_words: u32,
}

impl Layout {
    fn of(cfg: &ArchConfig, sh: &Shape, tiles: &[Tile], buffers: u64) -> Result<Layout, String> {
        let (mut psum, mut buf) = (0u64, 0u64);
        let mut seen = Vec::new();
        for t in tiles {
            for pass in t.passes.iter() {
                let key = (t.shape(), pass.chans.len(), pass.q, pass.h, pass.sc);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let g = mapper::pass_glb(cfg, sh, t, pass, buffers);
                psum = psum.max(g.psum_words);
                buf = buf.max(g.ifmap_words + g.filter_words);
            }
        }
        // Double-buffered, each region starts on a bank (see mapper::GlbUse::align).
        let align = if buffers > 1 {
            cfg.glb.bank_words as u64
        } else {
            1
        };
        let (psum, buf) = (psum.div_ceil(align) * align, buf.div_ceil(align) * align);
        let total = psum + buffers * buf;
        if total > cfg.glb_words() {
            return Err(format!(
                "the layer needs {total} GLB words (psums {psum} + {buffers} x {buf}), the GLB has {}",
                cfg.glb_words()
            ));
        }
        Ok(Layout {
            psum_words: psum as u32,
            buffer_words: buf as u32,
        })
    }
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
    let layout = Layout::of(cfg, &sh, &tiles, mapper::buffers(&plan.mapping))
        .map_err(|msg| MapError::Internal { pass: 0, msg })?;
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
            let ibase = layout.psum_words + buf * layout.buffer_words;
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
                let nbase = layout.psum_words + (1 - buf) * layout.buffer_words;
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
