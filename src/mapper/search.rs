//! The search: every mapping the array, spads, IDs and GLB allow, evaluated, the cheapest
//! kept; and `explain`, which names the limit behind each choice.

use super::layout;
use crate::config::ArchConfig;
use crate::layer::ConvLayer;

use super::{
    GlbUse, Limits, MapError, Mapping, Pass, Plan, Shape, Tile, buffers, evaluate, evaluate_with,
    first_tile, glb_use, ifmap_rows_per_step, reduction, reduction_passes, schedule_upto,
    tile_regions, visit_tiles,
};

/// Why a tile's pass cannot run, if it cannot: the cheap limits, then the multicast IDs.
pub(super) fn check_pass(
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

/// Layer-level limits of the hardware, whatever the mapping.
pub(super) fn check_layer(cfg: &ArchConfig, l: &ConvLayer) -> Result<(), String> {
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
    if l.max_pool && !cfg.pe.max_pool {
        return Err(
            "max_pool = true, but the config builds its PEs without MAX mode ([pe] max_pool = false); use a config with it, or run the pool elsewhere".into(),
        );
    }
    Ok(())
}

pub(super) fn unmappable(cfg: &ArchConfig, l: &ConvLayer, reason: String) -> MapError {
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
pub(super) fn check_pass_cheap(
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
pub(super) fn largest(lo: u32, hi: u32, ok: impl Fn(u32) -> bool) -> u32 {
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
