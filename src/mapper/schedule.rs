//! What a mapping runs, in order: its tiles (blocks of filters, images and ofmap rows held
//! in the array at once) and each tile's passes (the channel chunks and folded filter rows and
//! columns that accumulate into the same psums), with the rows each pass streams.

use crate::config::ArchConfig;

use super::{Limits, Mapping, Shape, region_index};

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

/// Filter blocks side by side and lanes per vertical group for `ew` lanes on `cols` columns:
/// a set that fits is replicated across the array; a wider one is segmented (one block per
/// vertical group row, `cols` lanes per segment).
pub(super) fn across(cols: u32, ew: u32) -> (u32, u32) {
    if ew <= cols {
        (cols / ew, ew)
    } else {
        (1, cols)
    }
}

/// Passes per tile: channel-chunk groups x R folds x S folds.
pub(super) fn reduction_passes(sh: &Shape, m: &Mapping) -> u32 {
    let nfull = sh.cg / m.q;
    let groups = nfull.div_ceil(m.vc) + u32::from(!sh.cg.is_multiple_of(m.q));
    groups * sh.r.div_ceil(m.rh) * sh.s.div_ceil(m.sw)
}

/// The schedule's first tile with only its first pass: the largest tile and pass, all the fit
/// checks of the search need.
pub(super) fn first_tile(cfg: &ArchConfig, sh: &Shape, m: &Mapping) -> Option<Tile> {
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
pub(super) fn first_pass(sh: &Shape, m: &Mapping) -> Pass {
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
pub(super) fn reduction(sh: &Shape, m: &Mapping) -> std::sync::Arc<[Pass]> {
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
pub(super) fn visit_tiles(
    cfg: &ArchConfig,
    sh: &Shape,
    m: &Mapping,
    visit: &mut dyn FnMut(Tile) -> bool,
) {
    visit_tiles_with(cfg, sh, m, &reduction(sh, m), visit)
}

/// Calls `visit` with every tile, given the mapping's reduction passes.
pub(super) fn visit_tiles_with(
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
