//! Mapper properties over random layers and array sizes: every MAC of the layer is assigned to
//! exactly one PE-step of one pass, every pass respects the spad, GLB and stream limits, and
//! the multicast IDs deliver each stream row to exactly the PEs meant (checked inside
//! `pass_layout`).

use std::collections::HashMap;
use std::path::Path;

use eyeriss_gen::compile;
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::layer::{ConvLayer, LayerData};
use eyeriss_gen::mapper::layout::pass_layout;
use eyeriss_gen::mapper::{self, Shape};
use eyeriss_gen::network::Network;
use proptest::prelude::*;

fn cfg(rows: u32, cols: u32, small_glb: bool) -> ArchConfig {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = if small_glb {
        "configs/small.toml"
    } else {
        "configs/eyeriss.toml"
    };
    let mut c = ArchConfig::load(&root.join(base)).unwrap();
    c.array.rows = rows;
    c.array.cols = cols;
    c.validate().unwrap();
    c
}

prop_compose! {
    fn layers()(g in 1u32..4, cpg in 1u32..7, mpg in 1u32..9, r in 1u32..8, s in 1u32..8,
                uv in 1u32..4, uh in 1u32..4, pv in 0u32..3, ph in 0u32..3, n in 1u32..3,
                extra_h in 0u32..6, extra_w in 0u32..6) -> ConvLayer {
        ConvLayer {
            name: "prop".into(),
            in_channels: g * cpg,
            out_channels: g * mpg,
            height: (r + extra_h).saturating_sub(2 * pv).max(1).max(r.saturating_sub(2 * pv)),
            width: (s + extra_w).saturating_sub(2 * ph).max(1).max(s.saturating_sub(2 * ph)),
            kernel_size: (r, s),
            stride: (uv, uh),
            padding: (pv.min(r - 1), ph.min(s - 1)),
            groups: g,
            batch: n,
            shift: 0,
            relu: false,
            max_pool: false,
            data: LayerData::Seed { seed: 0, zero_fraction: 0.0 },
        }
    }
}

fn check(cfg: &ArchConfig, l: &ConvLayer) -> Result<(), TestCaseError> {
    let plan = mapper::plan(cfg, l).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let m = plan.mapping;
    // What the mapper accepts, the compiler lays out in the GLB.
    let data = l.tensors(cfg.data.data_width).unwrap();
    compile::compile_with(cfg, l, &data, plan.clone())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(m.p <= cfg.pe.psum_spad);
    prop_assert!(m.p * m.q * m.sw <= cfg.pe.filter_spad);
    prop_assert!(m.q * m.sw <= cfg.pe.ifmap_spad);
    let sh = Shape::of(l);
    let tiles = mapper::schedule(cfg, &sh, &m);
    // (n, m, e, f-independent c, r, s) -> times covered
    let mut seen: HashMap<(u32, u32, u32, u32, u32, u32), u32> = HashMap::new();
    for t in &tiles {
        for pass in t.passes.iter() {
            prop_assert!(t.p * pass.q * pass.sc <= cfg.pe.filter_spad);
            prop_assert!(pass.q * pass.sc <= cfg.pe.ifmap_spad);
            let lay = pass_layout(cfg, &sh, t, pass).map_err(TestCaseError::fail)?;
            let enabled = lay.pe_cfg.iter().filter(|p| p.enable).count();
            prop_assert_eq!(enabled, lay.roles.iter().flatten().count());
            for (b, l_) in t.chains().iter().map(|&(_, _, b, l)| (b, l)) {
                for s in 0..t.steps() {
                    let n = t.n0 + s / t.ks;
                    let e = t.e0 + (s % t.ks) * t.ew + l_;
                    for ii in 0..t.p {
                        let mm = t.g * sh.mg + t.blocks[b] + ii;
                        for &c0 in &pass.chans {
                            for jj in 0..pass.q {
                                for i in 0..pass.h {
                                    for sx in 0..pass.sc {
                                        *seen
                                            .entry((n, mm, e, c0 + jj, pass.r0 + i, pass.s0 + sx))
                                            .or_default() += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let want =
        sh.n as usize * (sh.g * sh.mg) as usize * sh.e as usize * (sh.cg * sh.r * sh.s) as usize;
    prop_assert_eq!(seen.len(), want, "every (n, m, e, c, r, s) covered");
    prop_assert!(seen.values().all(|&k| k == 1), "none twice");
    prop_assert!(seen.keys().all(|&(n, mm, e, c, r, s)| n < sh.n
        && mm < sh.g * sh.mg
        && e < sh.e
        && c < sh.cg
        && r < sh.r
        && s < sh.s));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_mac_once_on_small_arrays(l in layers(), rows in 1u32..5, cols in 1u32..6) {
        check(&cfg(rows, cols, true), &l)?;
    }

    #[test]
    fn every_mac_once_on_the_chip(l in layers()) {
        check(&cfg(12, 14, false), &l)?;
    }
}

/// A one-channel 3 x 3 layer over a 3-row input of `width` columns.
fn row_layer(width: u32) -> ConvLayer {
    ConvLayer {
        name: "row".into(),
        in_channels: 1,
        out_channels: 1,
        height: 3,
        width,
        kernel_size: (3, 3),
        stride: (1, 1),
        padding: (0, 0),
        groups: 1,
        batch: 1,
        shift: 0,
        relu: false,
        max_pool: false,
        data: LayerData::Seed {
            seed: 0,
            zero_fraction: 0.0,
        },
    }
}

#[test]
fn a_layer_too_wide_is_refused_with_the_reason() {
    let err = mapper::plan(&cfg(3, 4, true), &row_layer(5000))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ofmap width 4998 exceeds 4095"), "{err}");
}

#[test]
fn a_layer_whose_rows_do_not_fit_the_glb_is_refused_with_the_reason() {
    let mut c = cfg(3, 4, true);
    c.glb.kib = 2;
    c.glb.banks = 2;
    c.glb.bank_words = 128;
    c.glb.ifmap_psum_banks = 1;
    c.glb.filter_banks = 1;
    c.validate().unwrap();
    let err = mapper::plan(&c, &row_layer(4000)).unwrap_err().to_string();
    assert!(
        err.contains("GLB words") && err.contains("glb.kib = 2"),
        "{err}"
    );
}

#[test]
fn explain_names_the_limit_behind_each_choice() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let net = eyeriss_gen::network::Network::load(&root.join("networks/alexnet.toml")).unwrap();
    let conv3 = &net.select(Some("conv3")).unwrap()[0];
    let chip = cfg(12, 14, false);
    let plan = mapper::plan(&chip, conv3).unwrap();
    let why = mapper::explain(&chip, conv3, &plan);
    let find = |k: &str| {
        why.iter()
            .find(|(w, _)| w.starts_with(k))
            .unwrap()
            .1
            .clone()
    };
    let p = plan.mapping.p;
    if p == chip.pe.psum_spad {
        assert!(find(&format!("p = {}", p + 1)).contains("psum spad (24 entries, pe.psum_spad)"));
    }
    assert!(find("q = ").contains("spad") || find("q = ").contains("predicted"));
    assert!(find("n = 5").contains("the batch is 4"));
    assert!(find("e = 14").contains("13 ofmap rows"));
    // every line names a limit or a predicted cycle count
    for (what, w) in &why {
        assert!(
            w.contains("spad")
                || w.contains("GLB")
                || w.contains("stream_rows")
                || w.contains("array")
                || w.contains("layer has")
                || w.contains("batch")
                || w.contains("predicted")
                || w.contains("cover")
                || w.contains("chunks")
                || w.contains("ID"),
            "{what}: {w}"
        );
    }
}

/// Every AlexNet layer the mapper plans for the 3 x 4 config also compiles: the mapper sizes
/// the GLB as the compiler lays it out (the largest psum regions of any tile plus buffers of
/// the largest pass), not from the first pass alone (CONV3 was planned for 2,048 words and
/// laid out in 2,304).
#[test]
fn alexnet_plans_on_the_small_config_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let c = ArchConfig::load(&root.join("configs/small.toml")).unwrap();
    let net = Network::load(&root.join("networks/alexnet.toml")).unwrap();
    for l in net.select(None).unwrap() {
        let plan = mapper::plan(&c, &l).unwrap_or_else(|e| panic!("{}: {e}", l.name));
        assert!(plan.glb_words <= c.glb_words(), "{}", l.name);
        let data = l.tensors(c.data.data_width).unwrap();
        compile::compile_with(&c, &l, &data, plan).unwrap_or_else(|e| panic!("{}: {e}", l.name));
    }
}
