//! The mapper's cost model: cycles and host words per tile, summed into a plan's predicted
//! cycles.

use crate::config::ArchConfig;

use super::{
    Limits, Mapping, Pass, Shape, Tile, TileShape, glb_use, ifmap_rows_per_step, reduction,
    row_len, tile_regions, visit_tiles_with,
};

/// Predicted cycles of one tile (see docs/architecture.md for the per-block numbers).
pub(super) fn tile_cycles(sh: &Shape, lim: &Limits, t: &Tile, overlap: bool) -> u64 {
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
pub(super) fn tile_host_words(sh: &Shape, lim: &Limits, t: &Tile) -> u64 {
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

/// Predicted cycles, tiles, passes, active PEs and (`with_host`) host words of a mapping.
pub(super) fn evaluate(
    cfg: &ArchConfig,
    sh: &Shape,
    lim: &Limits,
    m: &Mapping,
    with_host: bool,
) -> (u64, usize, usize, u32, u64) {
    evaluate_with(cfg, sh, lim, m, &reduction(sh, m), with_host)
}

pub(super) fn evaluate_with(
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
