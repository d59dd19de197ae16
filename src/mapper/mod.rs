//! Row-stationary mapping of a convolution layer onto the configured PE array.
//!
//! The unit of work is the 1-D row primitive: a PE holds `p` filters x `q` channels of one
//! filter row (`sc` columns of it) and convolves one ifmap row with them, producing one psum row
//! of `F` columns. PEs are arranged in *chains*: one PE column of `vc` channel chunks x `h` filter
//! rows, summing psums upward over the LN; the chain top sends one ofmap row to the GON.
//!
//! - Side by side, `ew` chains (lanes) compute `ew` consecutive ofmap rows of the same filters:
//!   filter rows are multicast horizontally, ifmap rows diagonally (lane `l`, filter row `i`
//!   reads padded row `l*U + i`), as in the Eyeriss PE set of R x E.
//! - Across the array, the lanes are replicated for other filter blocks: `th` horizontally and
//!   `tv` vertically (Eyeriss' `t`).
//! - `vc` channel chunks are stacked in one chain (Eyeriss' `r`), so their psums add in-array.
//! - Over time, each chain processes `ks` strips of `ew` ofmap rows for `nb` images (a *tile*),
//!   and a tile's *passes* run the remaining channel chunks and the folded filter rows and
//!   columns (R taller than the array, S wider than the ifmap spad), accumulating in the GLB.
//!
//! `p`, `q`, `F`, `S` and `U` are the same for every PE of a pass, so remainders (M not a
//! multiple of p, C not a multiple of q, E not a multiple of ew) get passes of their own
//! rather than padded work: the MAC counter then equals the layer's MAC count exactly.

pub mod ids;
pub mod layout;

use serde::Serialize;
use thiserror::Error;

use crate::config::ArchConfig;
use crate::layer::ConvLayer;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MapError {
    #[error("layer '{layer}' cannot run on config '{config}': {reason}")]
    Unmappable {
        layer: String,
        config: String,
        reason: String,
    },
    #[error("internal mapping error in pass {pass}: {msg}")]
    Internal { pass: usize, msg: String },
}

/// Layer dimensions the mapper works with (per group).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Shape {
    pub n: u32,
    pub g: u32,
    pub cg: u32,
    pub mg: u32,
    pub h: u32,
    pub w: u32,
    pub r: u32,
    pub s: u32,
    pub uv: u32,
    pub uh: u32,
    pub pv: u32,
    pub ph: u32,
    pub e: u32,
    pub f: u32,
}

impl Shape {
    pub fn of(l: &ConvLayer) -> Shape {
        Shape {
            n: l.batch,
            g: l.groups,
            cg: l.in_channels / l.groups,
            mg: l.out_channels / l.groups,
            h: l.height,
            w: l.width,
            r: l.kernel_size.0,
            s: l.kernel_size.1,
            uv: l.stride.0,
            uh: l.stride.1,
            pv: l.padding.0,
            ph: l.padding.1,
            e: l.out_height(),
            f: l.out_width(),
        }
    }
}

/// A chosen mapping: the parameters every pass is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// Filters interleaved in a PE.
    pub p: u32,
    /// Channels interleaved in a PE.
    pub q: u32,
    /// Channel chunks stacked in one chain (their psums add over the LN).
    pub vc: u32,
    /// Ofmap rows computed side by side (chains per filter block).
    pub ew: u32,
    /// Filter rows per chain slot (R is folded into ceil(R / rh) chunks).
    pub rh: u32,
    /// Filter columns per PE (S is folded into ceil(S / sw) chunks).
    pub sw: u32,
    /// Images per tile.
    pub nb: u32,
    /// Strips of `ew` ofmap rows per tile.
    pub ks: u32,
    /// Double-buffer the ifmap rows and filters: the next pass loads while this one computes.
    pub overlap: bool,
}

/// One tile: a set of output rows whose psums live in the GLB until they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub g: u32,
    pub n0: u32,
    pub nn: u32,
    pub e0: u32,
    pub ew: u32,
    pub ks: u32,
    pub p: u32,
    /// First filter (within the group) of each filter block of `p` filters.
    pub blocks: Blocks,
    /// Filter blocks side by side in one vertical group.
    pub th: u32,
    /// Lanes per vertical group. A set wider than the array (`ew` > columns) is *segmented*:
    /// its lanes wrap into `ceil(ew / seg_w)` vertical groups, as Eyeriss runs AlexNet CONV2's
    /// 5 x 27 set as 5 x 14 + 5 x 13.
    pub seg_w: u32,
    /// PE rows per vertical group.
    pub hg: u32,
    /// Shared by every tile of a schedule.
    pub passes: std::sync::Arc<[Pass]>,
}

/// A tile's filter blocks: a run of the schedule's shared block list, so visiting the tiles of
/// a candidate mapping allocates nothing per tile.
#[derive(Debug, Clone)]
pub struct Blocks {
    all: std::sync::Arc<[u32]>,
    range: std::ops::Range<usize>,
}

impl Blocks {
    pub fn new(all: std::sync::Arc<[u32]>, range: std::ops::Range<usize>) -> Blocks {
        Blocks { all, range }
    }
}

impl std::ops::Deref for Blocks {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.all[self.range.clone()]
    }
}

impl PartialEq for Blocks {
    fn eq(&self, other: &Blocks) -> bool {
        **self == **other
    }
}

impl Eq for Blocks {}

/// One processing pass of a tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    /// First channel (within the group) of each channel chunk of `q` channels.
    pub chans: Vec<u32>,
    pub q: u32,
    pub r0: u32,
    pub h: u32,
    pub s0: u32,
    pub sc: u32,
    /// Add the psums already in the GLB (every pass of a tile but the first).
    pub acc: bool,
}

/// What a tile's cost and layout depend on: images, lanes, strips, p, blocks, blocks across.
pub type TileShape = (u32, u32, u32, u32, usize, u32);

impl Tile {
    pub fn shape(&self) -> TileShape {
        (
            self.nn,
            self.ew,
            self.ks,
            self.p,
            self.blocks.len(),
            self.th,
        )
    }
    /// Vertical groups in use.
    pub fn tv(&self) -> u32 {
        (self.blocks.len() as u32).div_ceil(self.th) * self.segs()
    }
    /// Vertical groups per filter block.
    pub fn segs(&self) -> u32 {
        self.ew.div_ceil(self.seg_w)
    }
    /// Columns a vertical group uses.
    pub fn width(&self) -> u32 {
        self.th * self.seg_w
    }
    /// (vertical group, column) of lane `l` of block `b`.
    pub fn place(&self, b: u32, l: u32) -> (u32, u32) {
        (
            (b / self.th) * self.segs() + l / self.seg_w,
            (b % self.th) * self.seg_w + l % self.seg_w,
        )
    }
    /// Steps (rows per chain) per pass.
    pub fn steps(&self) -> u32 {
        self.nn * self.ks
    }
    /// Region index of each chain, in `chains()` order.
    pub fn chain_regions(&self, gon_col_bits: u32) -> Vec<u32> {
        self.chains()
            .iter()
            .map(|&(v, c, _, _)| region_index(v, c, self.width(), gon_col_bits))
            .collect()
    }
    /// Chains in use: (vertical group, column, block index, lane).
    pub fn chains(&self) -> Vec<(u32, u32, usize, u32)> {
        let mut out = Vec::new();
        for (b, _) in self.blocks.iter().enumerate() {
            for l in 0..self.ew {
                let (v, c) = self.place(b as u32, l);
                out.push((v, c, b, l));
            }
        }
        out
    }
}

/// Per-config limits the mapper works against.
struct Limits {
    rows: u32,
    cols: u32,
    filt: u32,
    ifmap: u32,
    psum: u32,
    stream_rows: u32,
    ifmap_stream_rows: u32,
    bank_words: u64,
    glb_words: u64,
    data_lanes: u32,
    psum_lanes: u32,
    gon_col_bits: u32,
    /// Elements per beat of the filter and ifmap GINs.
    filt_gin_lanes: u32,
    ifmap_gin_lanes: u32,
    /// PE pipeline stages after the issue cycle (`ArchConfig::pe_pipe_stages`).
    pe_pipe: u32,
}

impl Limits {
    fn of(cfg: &ArchConfig) -> Limits {
        Limits {
            rows: cfg.array.rows,
            cols: cfg.array.cols,
            filt: cfg.pe.filter_spad,
            ifmap: cfg.pe.ifmap_spad,
            psum: cfg.pe.psum_spad.min(255),
            stream_rows: cfg.noc.stream_rows,
            ifmap_stream_rows: cfg.noc.ifmap_stream_rows,
            bank_words: cfg.glb.bank_words as u64,
            glb_words: cfg.glb_words(),
            data_lanes: cfg.lanes(cfg.data.data_width),
            psum_lanes: cfg.lanes(cfg.data.psum_width),
            gon_col_bits: cfg.noc.gon_col_id_bits,
            filt_gin_lanes: cfg.noc.filter_gin_width / cfg.data.data_width,
            ifmap_gin_lanes: cfg.noc.ifmap_gin_width / cfg.data.data_width,
            pe_pipe: cfg.pe_pipe_stages(),
        }
    }
}

/// GLB region of a chain in a tile. Chains are numbered `{GON row ID, GON column ID}`; a
/// vertical group uses `width` columns, and as many groups as fit share a GON row ID, so the
/// regions of a tile stay nearly contiguous.
pub fn region_index(v: u32, c: u32, width: u32, gon_col_bits: u32) -> u32 {
    let gpy = ((1u32 << gon_col_bits) / width).max(1);
    (v / gpy) * (1 << gon_col_bits) + (v % gpy) * width + c
}

/// GLB words a tile's pass needs: (psum regions, ifmap rows, filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GlbUse {
    pub psum_words: u64,
    pub ifmap_words: u64,
    pub filter_words: u64,
    /// Copies of the ifmap rows and filters (2 when loads overlap compute).
    pub buffers: u64,
    /// Regions start on multiples of this: a bank when double-buffered, so a LOAD into one
    /// buffer never shares a bank (and loses no GLB port cycles) with reads of the other.
    pub align: u64,
}

impl GlbUse {
    fn up(&self, n: u64) -> u64 {
        n.div_ceil(self.align) * self.align
    }

    pub fn total(&self) -> u64 {
        self.buffers_at() + self.buffers * self.buffer_words()
    }

    /// GLB word where the first buffer of ifmap rows and filters starts (the psum regions
    /// come first, from word 0).
    pub fn buffers_at(&self) -> u64 {
        self.up(self.psum_words)
    }

    /// Words of one buffer: the largest pass's ifmap rows, then its filters.
    pub fn buffer_words(&self) -> u64 {
        self.up(self.ifmap_words + self.filter_words)
    }

    /// Banks (first, last) holding the psums, the ifmap rows and the filters (of every buffer),
    /// in the compiler's layout; `None` for an empty region.
    pub fn banks(&self, bank_words: u64) -> [Option<(u64, u64)>; 3] {
        let up = |n: u64| n.div_ceil(self.align) * self.align;
        let buf = up(self.ifmap_words + self.filter_words);
        let ifmap_at = up(self.psum_words);
        let filter_at = ifmap_at + self.ifmap_words;
        // the last buffer's filters end the used space
        let end = ifmap_at + (self.buffers.max(1) - 1) * buf + self.ifmap_words + self.filter_words;
        let span = |a: u64, b: u64| (b > a).then(|| (a / bank_words, (b - 1) / bank_words));
        [
            span(0, self.psum_words),
            span(ifmap_at, filter_at),
            span(filter_at, end),
        ]
    }
}

/// Words per chain region and the number of regions the tile's chains span.
pub fn tile_regions(sh: &Shape, gon_col_bits: u32, psum_lanes: u32, t: &Tile) -> (u64, u32) {
    let wpc = t.p.div_ceil(psum_lanes) as u64;
    let region = t.steps() as u64 * sh.f as u64 * wpc;
    // The last block's last lane has the highest region (region_index grows with v and c).
    let span = match t.blocks.len() as u32 {
        0 => 0,
        n => {
            let (v, c) = t.place(n - 1, t.ew - 1);
            region_index(v, c, t.width(), gon_col_bits) + 1
        }
    };
    (region, span)
}

/// Runs `(first region, regions)` of the regions a tile's chains use, in order.
pub fn region_runs(gon_col_bits: u32, t: &Tile) -> Vec<(u32, u32)> {
    let mut ks = t.chain_regions(gon_col_bits);
    ks.sort_unstable();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for k in ks {
        match runs.last_mut() {
            Some((a, n)) if *a + *n == k => *n += 1,
            _ => runs.push((k, 1)),
        }
    }
    runs
}

/// Elements of one ifmap row as a PE of `pass` receives it.
pub fn row_len(sh: &Shape, pass: &Pass) -> u32 {
    ((sh.f - 1) * sh.uh + pass.sc) * pass.q
}

/// Padded ifmap rows a pass of `t` holds per image and chunk.
pub fn pass_rows(sh: &Shape, t: &Tile, pass: &Pass) -> u32 {
    (t.ks * t.ew - 1) * sh.uv + pass.h
}

/// Stream rows one ifmap step sends: rows of the diagonal x chunks.
pub fn ifmap_rows_per_step(sh: &Shape, t: &Tile, pass: &Pass) -> u32 {
    ((t.ew - 1) * sh.uv + pass.h) * pass.chans.len() as u32
}

/// GLB words of a pass of tile `t` with `buffers` copies of its ifmap rows and filters.
pub fn pass_glb(cfg: &ArchConfig, sh: &Shape, t: &Tile, pass: &Pass, buffers: u64) -> GlbUse {
    glb_use(sh, &Limits::of(cfg), t, pass, buffers)
}

fn glb_use(sh: &Shape, lim: &Limits, t: &Tile, pass: &Pass, buffers: u64) -> GlbUse {
    let (region, span) = tile_regions(sh, lim.gon_col_bits, lim.psum_lanes, t);
    let ifm = t.nn as u64
        * pass_rows(sh, t, pass) as u64
        * pass.chans.len() as u64
        * row_len(sh, pass) as u64;
    let fil = (t.blocks.len() * pass.chans.len()) as u64
        * pass.h as u64
        * (t.p * pass.q * pass.sc) as u64;
    GlbUse {
        psum_words: region * span as u64,
        ifmap_words: ifm.div_ceil(lim.data_lanes as u64),
        filter_words: fil.div_ceil(lim.data_lanes as u64),
        buffers,
        align: if buffers > 1 { lim.bank_words } else { 1 },
    }
}

/// The schedule of a mapping: every tile with its passes, in execution order.
pub fn schedule(cfg: &ArchConfig, sh: &Shape, m: &Mapping) -> Vec<Tile> {
    schedule_upto(cfg, sh, m, usize::MAX)
}

/// The first `max` tiles of the schedule (the first tile is the largest).
pub fn schedule_upto(cfg: &ArchConfig, sh: &Shape, m: &Mapping, max: usize) -> Vec<Tile> {
    let mut tiles = Vec::new();
    visit_tiles(cfg, sh, m, &mut |t| {
        tiles.push(t);
        tiles.len() < max
    });
    tiles
}

/// Copies of the ifmap rows and filters a mapping keeps in the GLB.
pub fn buffers(m: &Mapping) -> u64 {
    if m.overlap { 2 } else { 1 }
}

/// Filter blocks side by side and lanes per vertical group for `ew` lanes on `cols` columns:
/// a set that fits is replicated across the array; a wider one is segmented (one block per
/// vertical group row, `cols` lanes per segment).
fn across(cols: u32, ew: u32) -> (u32, u32) {
    if ew <= cols {
        (cols / ew, ew)
    } else {
        (1, cols)
    }
}

/// Passes per tile: channel-chunk groups x R folds x S folds.
fn reduction_passes(sh: &Shape, m: &Mapping) -> u32 {
    let nfull = sh.cg / m.q;
    let groups = nfull.div_ceil(m.vc) + u32::from(!sh.cg.is_multiple_of(m.q));
    groups * sh.r.div_ceil(m.rh) * sh.s.div_ceil(m.sw)
}

/// The schedule's first tile with only its first pass: the largest tile and pass, all the fit
/// checks of the search need.
fn first_tile(cfg: &ArchConfig, sh: &Shape, m: &Mapping) -> Option<Tile> {
    let first: std::sync::Arc<[Pass]> = vec![first_pass(sh, m)].into();
    let mut tile = None;
    visit_tiles_with(cfg, sh, m, &first, &mut |t| {
        tile = Some(t);
        false
    });
    tile
}

/// The first pass of every tile: the first channel-chunk group (or the remainder chunk when
/// C < q), filter rows and columns from 0.
fn first_pass(sh: &Shape, m: &Mapping) -> Pass {
    let (q, chunks) = if sh.cg >= m.q {
        (m.q, m.vc.min(sh.cg / m.q))
    } else {
        (sh.cg, 1)
    };
    Pass {
        chans: (0..chunks).map(|c| c * q).collect(),
        q,
        r0: 0,
        h: m.rh.min(sh.r),
        s0: 0,
        sc: m.sw.min(sh.s),
        acc: false,
    }
}

/// The passes of every tile: channel-chunk groups (full chunks of q, vc per pass, then the
/// remainder chunk alone) x R folds x S folds. They depend only on q, vc, rh and sw.
fn reduction(sh: &Shape, m: &Mapping) -> std::sync::Arc<[Pass]> {
    let nfull = sh.cg / m.q;
    let mut chan_passes: Vec<(Vec<u32>, u32)> = Vec::new();
    let mut i = 0;
    while i < nfull {
        let k = m.vc.min(nfull - i);
        chan_passes.push(((i..i + k).map(|c| c * m.q).collect(), m.q));
        i += k;
    }
    if !sh.cg.is_multiple_of(m.q) {
        chan_passes.push((vec![nfull * m.q], sh.cg % m.q));
    }
    let mut red = Vec::new();
    for (chans, q) in &chan_passes {
        for r0 in (0..sh.r).step_by(m.rh as usize) {
            for s0 in (0..sh.s).step_by(m.sw as usize) {
                red.push(Pass {
                    chans: chans.clone(),
                    q: *q,
                    r0,
                    h: m.rh.min(sh.r - r0),
                    s0,
                    sc: m.sw.min(sh.s - s0),
                    acc: !red.is_empty(),
                });
            }
        }
    }
    red.into()
}

/// Calls `visit` with every tile of the schedule in execution order, until it returns false.
fn visit_tiles(cfg: &ArchConfig, sh: &Shape, m: &Mapping, visit: &mut dyn FnMut(Tile) -> bool) {
    visit_tiles_with(cfg, sh, m, &reduction(sh, m), visit)
}

/// Calls `visit` with every tile, given the mapping's reduction passes.
fn visit_tiles_with(
    cfg: &ArchConfig,
    sh: &Shape,
    m: &Mapping,
    red: &std::sync::Arc<[Pass]>,
    visit: &mut dyn FnMut(Tile) -> bool,
) {
    let lim = Limits::of(cfg);
    // ofmap row segments: (e0, lanes, strips)
    let mut esegs = Vec::new();
    let mut e = 0;
    while e < sh.e {
        let left = sh.e - e;
        if left >= m.ew {
            let ks = m.ks.min(left / m.ew);
            esegs.push((e, m.ew, ks));
            e += ks * m.ew;
        } else {
            esegs.push((e, left, 1));
            e += left;
        }
    }
    // filter blocks: full blocks of p, then the remainder block
    let mut pclasses: Vec<(u32, std::sync::Arc<[u32]>)> =
        vec![(m.p, (0..sh.mg / m.p).map(|b| b * m.p).collect())];
    if !sh.mg.is_multiple_of(m.p) {
        pclasses.push((sh.mg % m.p, vec![sh.mg / m.p * m.p].into()));
    }
    let hg = red[0].chans.len() as u32 * m.rh;

    for g in 0..sh.g {
        for n0 in (0..sh.n).step_by(m.nb as usize) {
            let nn = m.nb.min(sh.n - n0);
            for &(e0, ew, ks) in &esegs {
                let (th_cap, seg_w) = across(lim.cols, ew);
                let tv_cap = (lim.rows / (hg * ew.div_ceil(seg_w))).max(1);
                for (p, blocks) in &pclasses {
                    if blocks.is_empty() {
                        continue;
                    }
                    let cap = (th_cap * tv_cap) as usize;
                    for start in (0..blocks.len()).step_by(cap) {
                        let chunk =
                            Blocks::new(blocks.clone(), start..(start + cap).min(blocks.len()));
                        let go_on = visit(Tile {
                            g,
                            n0,
                            nn,
                            e0,
                            ew,
                            ks,
                            p: *p,
                            th: th_cap.min(chunk.len() as u32),
                            blocks: chunk,
                            seg_w,
                            hg,
                            passes: red.clone(),
                        });
                        if !go_on {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Why a tile's pass cannot run, if it cannot: the cheap limits, then the multicast IDs.
fn check_pass(
    cfg: &ArchConfig,
    sh: &Shape,
    lim: &Limits,
    t: &Tile,
    pass: &Pass,
    buffers: u64,
) -> Result<(), String> {
    check_pass_cheap(cfg, sh, lim, t, pass, t.passes.len() > 1, buffers)?;
    layout::pass_layout(cfg, sh, t, pass).map(|_| ())
}

/// Predicted cycles of one tile (see docs/architecture.md for the per-block numbers).
fn tile_cycles(sh: &Shape, lim: &Limits, t: &Tile, overlap: bool) -> u64 {
    let wpc = t.p.div_ceil(lim.psum_lanes) as u64;
    // A beat carries up to the GIN's lanes from one GLB word, so an unaligned row takes one
    // beat more than its elements need.
    let beats = |elems: u64, lanes: u32| elems.div_ceil(lanes as u64) + u64::from(lanes > 1);
    let mut total = 0u64;
    // Passes come in a few shapes (full channel groups, the remainder, the last R and S folds).
    let mut known: Vec<((usize, u32, u32, u32), u64)> = Vec::new();
    for pass in t.passes.iter() {
        let key = (pass.chans.len(), pass.q, pass.h, pass.sc);
        if let Some(&(_, c)) = known.iter().find(|(k, _)| *k == key) {
            total += c;
            continue;
        }
        let gu = glb_use(sh, lim, t, pass, 1);
        let pqs = (t.p * pass.q * pass.sc) as u64;
        let frows = (t.blocks.len() * pass.chans.len()) as u64 * pass.h as u64;
        let filt = frows * beats(pqs, lim.filt_gin_lanes);
        // A step is as slow as its PEs or as the ifmap GIN, which carries every row of the step.
        let rows = ifmap_rows_per_step(sh, t, pass) as u64;
        // Per output column: the MACs, the drain of the pipeline (its stages and the cycle
        // that sees it empty), the output words and the window slide.
        let compute = sh.f as u64 * (pqs + lim.pe_pipe as u64 + 2 + wpc);
        let bus = rows * beats(row_len(sh, pass) as u64, lim.ifmap_gin_lanes);
        let step = compute.max(bus) + rows + 8;
        // Before the first MAC a PE needs its filters and a whole window (S*q elements, one
        // per ifmap beat); after the last, the column's psums climb the chain, cross the GON
        // registers and the drain buffer, and the barrier sees the engines idle.
        let window = rows * (pass.sc * pass.q) as u64 / lim.ifmap_gin_lanes as u64;
        let chain = window + (pass.chans.len() as u64 * pass.h as u64) * 2 + 30;
        let steps = t.steps() as u64 * step;
        // A pass's loads run before it, or, double-buffered, during the previous pass's steps
        // (taken to be as long as this one's), costing only what they do not hide.
        let load = gu.ifmap_words + gu.filter_words + 2;
        let load = if overlap {
            load.saturating_sub(steps)
        } else {
            load
        };
        let c = load + 14 + filt + steps + chain;
        known.push((key, c));
        total += c;
    }
    let (region, span) = tile_regions(sh, lim.gon_col_bits, lim.psum_lanes, t);
    total + region * span as u64 + 4
}

/// Words a tile moves over the host link (the DRAM traffic of the model): each pass's ifmap
/// rows and filters, and the chain regions it stores.
fn tile_host_words(sh: &Shape, lim: &Limits, t: &Tile) -> u64 {
    let loads: u64 = t
        .passes
        .iter()
        .map(|pass| {
            let g = glb_use(sh, lim, t, pass, 1);
            g.ifmap_words + g.filter_words
        })
        .sum();
    let (region, _) = tile_regions(sh, lim.gon_col_bits, lim.psum_lanes, t);
    loads + region * t.chains().len() as u64
}

/// The prediction and the figures `map` prints for a mapping.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub mapping: Mapping,
    pub tiles: usize,
    pub passes: usize,
    pub active_pes: u32,
    pub predicted_cycles: u64,
    pub ideal_cycles: u64,
    /// GLB words of the largest pass: psum regions from word 0, then ifmap rows, then filters.
    pub glb_words: u64,
    pub glb: GlbUse,
}

/// Predicted cycles, tiles, passes, active PEs and (`with_host`) host words of a mapping.
fn evaluate(
    cfg: &ArchConfig,
    sh: &Shape,
    lim: &Limits,
    m: &Mapping,
    with_host: bool,
) -> (u64, usize, usize, u32, u64) {
    evaluate_with(cfg, sh, lim, m, &reduction(sh, m), with_host)
}

fn evaluate_with(
    cfg: &ArchConfig,
    sh: &Shape,
    lim: &Limits,
    m: &Mapping,
    red: &std::sync::Arc<[Pass]>,
    with_host: bool,
) -> (u64, usize, usize, u32, u64) {
    // Tiles come in a handful of shapes (full and remainder images, strips and filter blocks);
    // the cost of a shape is computed once.
    let mut known: Vec<(TileShape, u64, u64)> = Vec::new();
    let (mut cycles, mut tiles, mut passes, mut active, mut host) =
        (0u64, 0usize, 0usize, 0u32, 0u64);
    visit_tiles_with(cfg, sh, m, red, &mut |t| {
        let key = t.shape();
        let (c, h) = match known.iter().find(|(k, _, _)| *k == key) {
            Some(&(_, c, h)) => (c, h),
            None => {
                let c = tile_cycles(sh, lim, &t, m.overlap);
                let h = if with_host {
                    tile_host_words(sh, lim, &t)
                } else {
                    0
                };
                known.push((key, c, h));
                (c, h)
            }
        };
        host += h;
        if tiles == 0 && m.overlap {
            // nothing hides the layer's first loads
            let g = glb_use(sh, lim, &t, &t.passes[0], 1);
            cycles += g.ifmap_words + g.filter_words;
        }
        cycles += c;
        tiles += 1;
        passes += t.passes.len();
        let first = &t.passes[0];
        active = active.max(t.blocks.len() as u32 * t.ew * first.chans.len() as u32 * first.h);
        true
    });
    (cycles, tiles, passes, active, host)
}

/// Layer-level limits of the hardware, whatever the mapping.
fn check_layer(cfg: &ArchConfig, l: &ConvLayer) -> Result<(), String> {
    let sh = Shape::of(l);
    if sh.f > 4095 {
        return Err(format!(
            "ofmap width {} exceeds 4095, the PE's column counter (CFG_LAYER F is 12 bits)",
            sh.f
        ));
    }
    if sh.uh > 15 {
        return Err(format!(
            "horizontal stride {} exceeds 15 (CFG_LAYER U is 4 bits)",
            sh.uh
        ));
    }
    if l.shift > 63 {
        return Err(format!(
            "shift {} exceeds 63 (CFG_LAYER shift is 6 bits)",
            l.shift
        ));
    }
    let _ = cfg;
    Ok(())
}

fn unmappable(cfg: &ArchConfig, l: &ConvLayer, reason: String) -> MapError {
    MapError::Unmappable {
        layer: l.name.clone(),
        config: cfg.name.clone(),
        reason,
    }
}

/// Choose the mapping with the fewest predicted cycles.
pub fn plan(cfg: &ArchConfig, l: &ConvLayer) -> Result<Plan, MapError> {
    plan_reporting(cfg, l, &mut |_, _| {})
}

/// [`plan`], calling `progress(done, total)` as the search goes (`total` is the number of
/// channel-group sizes `q` it tries, the outer loop; a large layer takes seconds).
pub fn plan_reporting(
    cfg: &ArchConfig,
    l: &ConvLayer,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Plan, MapError> {
    check_layer(cfg, l).map_err(|r| unmappable(cfg, l, r))?;
    let sh = Shape::of(l);
    let lim = Limits::of(cfg);
    let rfold = sh.r.div_ceil(lim.rows);
    let rh = sh.r.div_ceil(rfold);
    let sw_max = sh.s.min(lim.ifmap).min(lim.filt);
    let sw = sh.s.div_ceil(sh.s.div_ceil(sw_max));
    // (predicted cycles, host words, mapping)
    let mut cands: Vec<(u64, u64, Mapping)> = Vec::new();
    // The best KEEP predicted cycles so far (a max-heap): a candidate whose bound cannot beat
    // the worst of them is not evaluated, as it could not reach the exact checks.
    const KEEP: usize = 64;
    let mut top: std::collections::BinaryHeap<u64> = std::collections::BinaryHeap::new();
    let mut first_err: Option<String> = None;
    let qmax = sh.cg.min(lim.ifmap / sw).min(255);
    let pmax = sh.mg.min(lim.psum);
    for q in 1..=qmax {
        progress(q - 1, qmax);
        for p in 1..=pmax {
            if p * q * sw > lim.filt {
                break;
            }
            let chunks = sh.cg / q;
            let vmax = chunks.max(1).min(lim.rows / rh);
            for vc in 1..=vmax {
                // the passes of a tile depend on q and vc only: built once for every e below
                let red = reduction(
                    &sh,
                    &Mapping {
                        p,
                        q,
                        vc,
                        ew: 1,
                        rh,
                        sw,
                        nb: 1,
                        ks: 1,
                        overlap: false,
                    },
                );
                // up to the array width, or segmented over the vertical groups that fit
                let ew_max = sh.e.min(lim.cols * (lim.rows / (vc * rh)).max(1));
                for (ew, overlap) in (1..=ew_max).flat_map(|e| [(e, true), (e, false)]) {
                    let mut m = Mapping {
                        p,
                        q,
                        vc,
                        ew,
                        rh,
                        sw,
                        nb: 1,
                        ks: 1,
                        overlap,
                    };
                    // the largest tile that fits: strips first, then images
                    let fits = |m: &Mapping| -> Result<(), String> {
                        let t = first_tile(cfg, &sh, m).ok_or("the layer has no output")?;
                        check_pass_cheap(
                            cfg,
                            &sh,
                            &lim,
                            &t,
                            &t.passes[0],
                            reduction_passes(&sh, m) > 1,
                            buffers(m),
                        )
                    };
                    if let Err(e) = fits(&m) {
                        first_err.get_or_insert(e);
                        continue;
                    }
                    let kmax = sh.e / ew;
                    m.ks = largest(1, kmax.max(1), |k| fits(&Mapping { ks: k, ..m }).is_ok());
                    m.nb = largest(1, sh.n, |n| fits(&Mapping { nb: n, ..m }).is_ok());
                    // No mapping beats one MAC per used PE per cycle: skip what cannot win.
                    let Some(t) = &first_tile(cfg, &sh, &m) else {
                        continue;
                    };
                    let used = t.blocks.len() as u64
                        * (t.ew * t.passes[0].chans.len() as u32 * t.passes[0].h) as u64;
                    if top.len() == KEEP && top.peek().is_some_and(|&w| l.macs() / used.max(1) >= w)
                    {
                        continue;
                    }
                    let (cycles, _, _, _, _) = evaluate_with(cfg, &sh, &lim, &m, &red, false);
                    top.push(cycles);
                    if top.len() > KEEP {
                        top.pop();
                    }
                    cands.push((cycles, 0, m));
                }
            }
        }
    }
    // Fewest cycles; ties: least host (DRAM) traffic, then the most work per PE. Host words
    // are only needed to break ties, so they are counted for the best few only.
    cands.sort_by_key(|&(c, _, m)| (c, u32::MAX - m.p * m.q));
    cands.truncate(KEEP);
    let cycles: Vec<u64> = cands.iter().map(|c| c.0).collect();
    for (i, cand) in cands.iter_mut().enumerate() {
        let tied = (i > 0 && cycles[i - 1] == cycles[i]) || cycles.get(i + 1) == Some(&cycles[i]);
        if tied {
            cand.1 = evaluate(cfg, &sh, &lim, &cand.2, true).4;
        }
    }
    cands.sort_by_key(|&(c, h, m)| (c, h, u32::MAX - m.p * m.q));
    for (cycles, _, m) in cands.iter().take(KEEP) {
        // The exact checks (IDs, every tile and pass shape) on the best few. Tiles and passes
        // of one shape lay out alike, so each shape is checked once.
        let mut ok = true;
        let mut seen = Vec::new();
        // The compiler's layout: the largest psum regions of any tile, then buffers of the
        // largest pass's ifmap rows and filters, which the compiler lowers as it stands.
        let mut layout: Option<GlbUse> = None;
        visit_tiles(cfg, &sh, m, &mut |t| {
            for pass in t.passes.iter() {
                let key = (
                    t.shape(),
                    (pass.chans.len(), pass.q, pass.h, pass.sc, pass.acc),
                );
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                if let Err(e) = check_pass(cfg, &sh, &lim, &t, pass, buffers(m)) {
                    first_err.get_or_insert(e);
                    ok = false;
                    return false;
                }
                let g = glb_use(&sh, &lim, &t, pass, buffers(m));
                layout = Some(match layout {
                    None => g,
                    Some(l) => {
                        let bigger =
                            g.ifmap_words + g.filter_words > l.ifmap_words + l.filter_words;
                        GlbUse {
                            psum_words: l.psum_words.max(g.psum_words),
                            ifmap_words: if bigger { g.ifmap_words } else { l.ifmap_words },
                            filter_words: if bigger {
                                g.filter_words
                            } else {
                                l.filter_words
                            },
                            ..l
                        }
                    }
                });
            }
            true
        });
        if let Some(g) = layout.filter(|g| ok && g.total() > lim.glb_words) {
            first_err.get_or_insert(format!(
                "the layer needs {} GLB words (the largest psum regions {} + {} x the largest pass's ifmap rows {} and filters {}), the GLB has {} (glb.kib = {})",
                g.total(),
                g.psum_words,
                g.buffers,
                g.ifmap_words,
                g.filter_words,
                lim.glb_words,
                cfg.glb.kib
            ));
            ok = false;
        }
        let first = layout;
        if ok {
            let (_, ntiles, passes, active, _) = evaluate(cfg, &sh, &lim, m, false);
            return Ok(Plan {
                mapping: *m,
                tiles: ntiles,
                passes,
                active_pes: active,
                predicted_cycles: *cycles,
                ideal_cycles: l.macs().div_ceil(cfg.pes() as u64),
                glb_words: first.map_or(0, |g| g.total()),
                glb: first.unwrap_or(GlbUse {
                    psum_words: 0,
                    ifmap_words: 0,
                    filter_words: 0,
                    buffers: 1,
                    align: 1,
                }),
            });
        }
    }
    Err(unmappable(
        cfg,
        l,
        first_err.unwrap_or_else(|| "no mapping fits".into()),
    ))
}

/// The limits that do not need IDs: GLB space and stream rows. `accumulates`: the tile has
/// more than one pass, so psums are streamed back in.
fn check_pass_cheap(
    cfg: &ArchConfig,
    sh: &Shape,
    lim: &Limits,
    t: &Tile,
    pass: &Pass,
    accumulates: bool,
    buffers: u64,
) -> Result<(), String> {
    let gu = glb_use(sh, lim, t, pass, buffers);
    if gu.total() > lim.glb_words {
        return Err(format!(
            "one pass needs {} GLB words (psums {}, {} x (ifmap rows {} + filters {})), the GLB has {} (glb.kib = {})",
            gu.total(),
            gu.psum_words,
            gu.buffers,
            gu.ifmap_words,
            gu.filter_words,
            lim.glb_words,
            cfg.glb.kib
        ));
    }
    let irows = ifmap_rows_per_step(sh, t, pass);
    if irows > lim.ifmap_stream_rows {
        return Err(format!(
            "an ifmap step streams {irows} rows, noc.ifmap_stream_rows = {}",
            lim.ifmap_stream_rows
        ));
    }
    if accumulates {
        let (_, span) = tile_regions(sh, lim.gon_col_bits, lim.psum_lanes, t);
        if span > lim.stream_rows {
            return Err(format!(
                "a psum step streams {span} chain regions, noc.stream_rows = {}",
                lim.stream_rows
            ));
        }
    }
    Ok(())
}

/// The largest `x` in `lo..=hi` with `ok(x)`, given `ok(lo)` and `ok` monotone.
fn largest(lo: u32, hi: u32, ok: impl Fn(u32) -> bool) -> u32 {
    let (mut lo, mut hi) = (lo, hi);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// For each mapping parameter, why the next larger value was not chosen: the limit it breaks,
/// or its predicted cycles when it fits but is slower.
pub fn explain(cfg: &ArchConfig, l: &ConvLayer, plan: &Plan) -> Vec<(String, String)> {
    let sh = Shape::of(l);
    let lim = Limits::of(cfg);
    let m = plan.mapping;
    let chunks = sh.cg.div_ceil(m.q);
    let mut out = Vec::new();
    let params: [(&str, u32, Mapping); 6] = [
        ("p", m.p + 1, Mapping { p: m.p + 1, ..m }),
        ("q", m.q + 1, Mapping { q: m.q + 1, ..m }),
        ("r (vc)", m.vc + 1, Mapping { vc: m.vc + 1, ..m }),
        ("e", m.ew + 1, Mapping { ew: m.ew + 1, ..m }),
        ("strips", m.ks + 1, Mapping { ks: m.ks + 1, ..m }),
        ("n", m.nb + 1, Mapping { nb: m.nb + 1, ..m }),
    ];
    for (name, v, m2) in params {
        let why = if m2.p > sh.mg {
            format!("the layer has {} filters per group", sh.mg)
        } else if m2.p > lim.psum {
            format!("p = {v} > psum spad ({} entries, pe.psum_spad)", lim.psum)
        } else if m2.q > sh.cg {
            format!("the layer has {} channels per group", sh.cg)
        } else if m2.q * m2.sw > lim.ifmap {
            format!(
                "q*S = {} > ifmap spad ({} entries, pe.ifmap_spad)",
                m2.q * m2.sw,
                lim.ifmap
            )
        } else if m2.p * m2.q * m2.sw > lim.filt {
            format!(
                "p*q*S = {} > filter spad ({} entries, pe.filter_spad)",
                m2.p * m2.q * m2.sw,
                lim.filt
            )
        } else if m2.vc > chunks {
            format!("only {chunks} channel chunks of q = {}", m.q)
        } else if m2.vc * m2.rh > lim.rows {
            format!(
                "{} chunks x {} filter rows = {} > {} array rows",
                m2.vc,
                m2.rh,
                m2.vc * m2.rh,
                lim.rows
            )
        } else if m2.ew > sh.e {
            format!("the layer has {} ofmap rows", sh.e)
        } else if m2.ew.div_ceil(lim.cols) * m2.vc * m2.rh > lim.rows {
            format!(
                "e = {v} needs {} segments of {} rows, the array has {}",
                m2.ew.div_ceil(lim.cols),
                m2.vc * m2.rh,
                lim.rows
            )
        } else if m2.ks * m2.ew > sh.e.max(m2.ew) {
            format!(
                "{} strips of {} rows cover E = {} already",
                m.ks, m.ew, sh.e
            )
        } else if m2.nb > sh.n {
            format!("the batch is {}", sh.n)
        } else {
            let tiles = schedule_upto(cfg, &sh, &m2, 1);
            match check_pass(cfg, &sh, &lim, &tiles[0], &tiles[0].passes[0], buffers(&m2)) {
                Err(e) => e,
                Ok(()) => {
                    let (cycles, _, _, _, _) = evaluate(cfg, &sh, &lim, &m2, false);
                    format!(
                        "fits, but predicted {cycles} cycles vs {} chosen",
                        plan.predicted_cycles
                    )
                }
            }
        };
        out.push((format!("{name} = {v}"), why));
    }
    out
}
