//! The dataflow model (`analysis::dataflow`) against counts worked out by hand on a tiny layer,
//! and properties every mapping the search returns must have.

use std::path::PathBuf;

use eyeriss_gen::analysis::dataflow::{
    self, Area, C, Counts, Dataflow, E, F, M, Mapping, N, ORDERS, PerLevel, R, S, Shape,
};
use eyeriss_gen::analysis::energy::EnergyTable;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::network::Network;
use proptest::prelude::*;

fn layer(text: &str) -> ConvLayer {
    ConvLayer::from_toml_str(text, &PathBuf::from(".")).unwrap()
}

/// One 3 x 3 filter over one 4 x 4 ifmap channel: a 2 x 2 ofmap, 36 MACs.
fn tiny() -> ConvLayer {
    layer(
        "name = \"tiny\"\nin_channels = 1\nout_channels = 1\nheight = 4\nwidth = 4\n\
         kernel_size = 3\nseed = 1\n",
    )
}

/// A mapping of the tiny layer: `spatial` and `rf` factors, everything else at the GLB level
/// with the loop order F, E, N (innermost) then M then S, R, C; nothing at the DRAM level.
fn mapping(spatial: [u64; 7], rf: [u64; 7]) -> Mapping {
    let d = [1, 1, 1, 2, 2, 3, 3];
    Mapping {
        dram: [1; 7],
        glb: std::array::from_fn(|k| d[k] / (spatial[k] * rf[k])),
        spatial,
        rf,
        glb_order: ORDERS[0],
        dram_order: ORDERS[0],
    }
}

fn lv(dram: u64, glb: u64, array: u64, rf: u64) -> PerLevel {
    PerLevel {
        dram,
        glb,
        array,
        rf,
    }
}

fn counted(df: Dataflow, m: &Mapping) -> Counts {
    let l = tiny();
    let sh = Shape::of(&l);
    let hw = Area::default().hw(df).unwrap();
    m.check(df, &hw, &sh).unwrap();
    let c = dataflow::count(df, &sh, m);
    assert_eq!(c.macs, 36);
    c
}

// Every dataflow reads each of the 16 ifmap values, 9 weights once from DRAM (the GLB holds
// the whole layer) and writes the 4 ofmap values once.

#[test]
fn nlr_by_hand() {
    // One PE (M x C = 1 x 1). Nothing stays in the PE, so every MAC reads its ifmap value and
    // weight from the GLB through the array: 36 GLB reads and 36 array accesses each. Each
    // output takes 9 products, accumulated in the GLB: 8 read-and-write pairs, 4 x 16 = 64.
    let c = counted(Dataflow::Nlr, &mapping([1; 7], [1; 7]));
    assert_eq!(c.ifmap, lv(16, 36, 36, 0));
    assert_eq!(c.filter, lv(9, 36, 36, 0));
    assert_eq!(c.psum, lv(4, 64, 0, 0));
}

#[test]
fn ws_by_hand() {
    // Nine PEs (R x S = 3 x 3), one weight each: 9 GLB reads, 9 deliveries, then every MAC
    // reads its weight from the RF (36). For each of the 4 outputs the GLB broadcasts the
    // 3 x 3 ifmap window (36 reads), one array access per MAC (36). Psums add up across the
    // 9 PEs: 8 array hops per output (32), nothing temporal.
    let c = counted(Dataflow::Ws, &mapping([1, 1, 1, 1, 1, 3, 3], [1; 7]));
    assert_eq!(c.filter, lv(9, 9, 9, 36));
    assert_eq!(c.ifmap, lv(16, 36, 36, 0));
    assert_eq!(c.psum, lv(4, 0, 32, 0));
}

#[test]
fn osa_by_hand() {
    // Four PEs, one output pixel each (E x F = 2 x 2); the PE loops over the 3 x 3 filter.
    // Each weight is read once from the GLB and broadcast to the 4 PEs (9 reads, 36 array).
    // Neighbours pass ifmap values on as the filter position moves, so the GLB sends the 16
    // values once (16 reads), and each MAC takes its value from the array (36). The psum
    // stays in the RF: 8 read-and-write pairs per output, 4 x 16 = 64.
    let c = counted(
        Dataflow::Osa,
        &mapping([1, 1, 1, 2, 2, 1, 1], [1, 1, 1, 1, 1, 3, 3]),
    );
    assert_eq!(c.filter, lv(9, 9, 36, 0));
    assert_eq!(c.ifmap, lv(16, 16, 36, 0));
    assert_eq!(c.psum, lv(4, 0, 0, 64));
}

#[test]
fn rs_by_hand() {
    // A 3 x 2 PE set: filter row r in PE row r, ofmap row e in PE column e; each PE keeps one
    // filter row (3 weights) and slides over one ifmap row of 4 values for the 2 outputs.
    // Filters: 9 GLB reads, each row delivered to the 2 PEs of its PE row (6 x 3 = 18).
    // Ifmap: the GLB sends the 4 rows of 4 once (16), each PE receives its row (6 x 4 = 24).
    // Every MAC reads a weight and an ifmap value from the RF (36 + 36).
    // Psums: in each PE, each of its 2 outputs takes 3 products: 2 read-and-write pairs, so
    // 6 PEs x 2 outputs x 4 = 48 RF accesses; up the columns, 2 hops per output (8).
    let c = counted(
        Dataflow::Rs,
        &mapping([1, 1, 1, 2, 1, 3, 1], [1, 1, 1, 1, 1, 1, 3]),
    );
    assert_eq!(c.filter, lv(9, 9, 18, 36));
    assert_eq!(c.ifmap, lv(16, 16, 24, 36));
    assert_eq!(c.psum, lv(4, 0, 8, 48));
}

#[test]
fn loop_order_decides_what_stays() {
    // RS with one PE column (3 x 1) and both ofmap rows as a GLB-level loop. Whatever the
    // order, the filter row stays in each PE (3 weights, delivered once: only F and E have a
    // factor above 1 and weights depend on neither), while the ifmap row is delivered again
    // for each of the 2 ofmap rows (the window slides along F only): 3 PEs x 4 values x 2.
    let l = tiny();
    let sh = Shape::of(&l);
    let mut m = mapping([1, 1, 1, 1, 1, 3, 1], [1, 1, 1, 1, 1, 1, 3]);
    for o in ORDERS {
        m.glb_order = o;
        let c = dataflow::count(Dataflow::Rs, &sh, &m);
        assert_eq!(c.filter.array, 3 * 3, "{o:?}");
        assert_eq!(c.ifmap.array, 3 * 4 * 2, "{o:?}");
    }
}

#[test]
fn mappings_that_break_a_limit_are_refused() {
    let l = tiny();
    let sh = Shape::of(&l);
    let area = Area::default();
    // NLR cannot spread filter positions over PEs
    let m = mapping([1, 1, 1, 1, 1, 3, 3], [1; 7]);
    let e = m.check(Dataflow::Nlr, &area.hw(Dataflow::Nlr).unwrap(), &sh);
    assert!(e.unwrap_err().contains("R is not spatial"));
    // factors must multiply to the layer's dimensions
    let mut m = mapping([1; 7], [1; 7]);
    m.glb[E] = 1;
    let e = m.check(Dataflow::Nlr, &area.hw(Dataflow::Nlr).unwrap(), &sh);
    assert!(e.unwrap_err().contains("E: factors multiply to 1"));
    // a 2-PE array is too small for a 3 x 2 PE set
    let small = Area {
        pes: 2,
        ..Area::default()
    };
    let m = mapping([1, 1, 1, 2, 1, 3, 1], [1, 1, 1, 1, 1, 1, 3]);
    let e = m.check(Dataflow::Rs, &small.hw(Dataflow::Rs).unwrap(), &sh);
    assert!(e.unwrap_err().contains("6 PEs, the array has 2"));
    assert!(dataflow::best(Dataflow::Rs, &small, &l, &EnergyTable::isca()).is_err());
}

#[test]
fn area_trades_rf_for_glb() {
    let a = Area::default();
    let rs = a.hw(Dataflow::Rs).unwrap();
    let nlr = a.hw(Dataflow::Nlr).unwrap();
    assert_eq!(rs.rf_words, 256);
    assert_eq!(rs.glb_words * 2, 128 * 1024);
    assert_eq!(nlr.rf_words, 0);
    // the paper: GLBs differ by up to 2.6x and total storage by up to 80 KB
    let ratio = nlr.glb_words as f64 / rs.glb_words as f64;
    assert!((2.55..2.7).contains(&ratio), "{ratio}");
    let total_rs = rs.glb_words * 2 + 256 * 512;
    assert_eq!(nlr.glb_words * 2 - total_rs, 80 * 1024);
}

fn check_properties(l: &ConvLayer) {
    let isca = EnergyTable::isca();
    let dearer = EnergyTable {
        name: "dearer".into(),
        glb: isca.glb * 2.0,
        rf: isca.rf + 0.5,
        ..isca.clone()
    };
    let sh = Shape::of(l);
    let [ifmap, filters, ofmap] = sh.unique();
    for df in Dataflow::ALL {
        let b = dataflow::best(df, &Area::default(), l, &isca)
            .unwrap_or_else(|e| panic!("{}: {e}", l.name));
        let c = b.counts;
        assert_eq!(c.macs, l.macs(), "{df:?}: every MAC once");
        assert!(c.ifmap.dram >= ifmap, "{df:?}: ifmap DRAM reads");
        assert!(c.filter.dram >= filters, "{df:?}: filter DRAM reads");
        assert!(c.psum.dram >= ofmap, "{df:?}: ofmap DRAM writes");
        if df == Dataflow::Nlr {
            assert_eq!(
                (c.ifmap.rf, c.filter.rf, c.psum.rf),
                (0, 0, 0),
                "NLR has no RF"
            );
        }
        // every level that feeds the MACs is accessed at least once per MAC for each operand
        for p in [c.ifmap, c.filter] {
            assert!(
                p.array.max(p.rf) >= c.macs,
                "{df:?}: operands reach the MACs"
            );
            assert!(
                p.glb <= p.array,
                "{df:?}: a GLB read reaches at least one PE"
            );
        }
        let hw = Area::default().hw(df).unwrap();
        b.mapping.check(df, &hw, &sh).unwrap();
        // a dearer table cannot make the best mapping cheaper
        let d = dataflow::best(df, &Area::default(), l, &dearer).unwrap();
        assert!(
            d.energy.total >= b.energy.total,
            "{df:?}: monotone in the table"
        );
    }
}

#[test]
fn properties_on_alexnet_conv2_and_fc8() {
    let net =
        Network::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("networks/alexnet.toml"))
            .unwrap();
    for l in net.select(Some("conv2,fc8")).unwrap() {
        check_properties(&l);
    }
}

#[test]
fn rs_is_the_least_energy_on_every_alexnet_conv_layer() {
    // The paper's claim for CONV layers (ISCA 2016, Fig. 10), at its batch size of 16.
    let net =
        Network::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("networks/alexnet.toml"))
            .unwrap();
    let isca = EnergyTable::isca();
    for l in &net.layers[..5] {
        let l = ConvLayer {
            batch: 16,
            ..l.clone()
        };
        let rs = dataflow::best(Dataflow::Rs, &Area::default(), &l, &isca).unwrap();
        for df in Dataflow::ALL {
            let b = dataflow::best(df, &Area::default(), &l, &isca).unwrap();
            assert!(
                b.energy.total >= rs.energy.total,
                "{}: {df:?} {} < RS {}",
                l.name,
                b.energy.total,
                rs.energy.total
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn properties_on_random_layers(
        n in 1u32..4, c in 1u32..6, m in 1u32..6, h in 3u32..10, k in 1u32..4, u in 1u32..3,
        pad in 0u32..2,
    ) {
        let k = k.min(h);
        let l = layer(&format!(
            "name = \"r\"\nin_channels = {c}\nout_channels = {m}\nheight = {h}\nwidth = {h}\n\
             kernel_size = {k}\nstride = {u}\npadding = {pad}\nbatch = {n}\nseed = 1\n"
        ));
        check_properties(&l);
    }
}

#[test]
fn dimension_names_line_up() {
    assert_eq!(
        [N, M, C, E, F, R, S].map(|d| dataflow::DIMS[d]),
        ["N", "M", "C", "E", "F", "R", "S"]
    );
}
