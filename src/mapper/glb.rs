//! The global buffer a pass needs: psum regions per chain, ifmap rows and filters, and where
//! each sits (single or double-buffered, bank-aligned).

use crate::config::ArchConfig;
use serde::Serialize;

use super::{Limits, Pass, Shape, Tile, pass_rows, row_len};

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

/// GLB words of a pass of tile `t` with `buffers` copies of its ifmap rows and filters.
pub fn pass_glb(cfg: &ArchConfig, sh: &Shape, t: &Tile, pass: &Pass, buffers: u64) -> GlbUse {
    glb_use(sh, &Limits::of(cfg), t, pass, buffers)
}

pub(super) fn glb_use(sh: &Shape, lim: &Limits, t: &Tile, pass: &Pass, buffers: u64) -> GlbUse {
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
