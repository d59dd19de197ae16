//! The harness itself: every declared port list against the rust-hdl block, a deliberately wrong
//! model caught with block, cycle and signal named, and the model's own VCD.

use eyeriss_gen::hw::controller::{Controller, ControllerParams};
use eyeriss_gen::hw::counters::Counters;
use eyeriss_gen::hw::counters_row::CountersRow;
use eyeriss_gen::hw::drain::Drain;
use eyeriss_gen::hw::fifo::Fifo;
use eyeriss_gen::hw::gin::Gin;
use eyeriss_gen::hw::gin_xbus::GinXbus;
use eyeriss_gen::hw::glb::Glb;
use eyeriss_gen::hw::glb_bank::GlbBank;
use eyeriss_gen::hw::gon::Gon;
use eyeriss_gen::hw::gon_xbus::GonXbus;
use eyeriss_gen::hw::ln::Ln;
use eyeriss_gen::hw::mc::Mc;
use eyeriss_gen::hw::pe::{Pe, PeParams};
use eyeriss_gen::hw::rr_arb::RrArb;
use eyeriss_gen::hw::stream::{Engine, Stream, StreamParams};
use eyeriss_gen::hw::{AtomKind, Dir, Model, glb_addr_w, top_atoms};
use eyeriss_gen::sim::diff::{
    DiffError, FlipBit, Values, VerilatorBlock, diff, run_model, run_model_vcd,
};
use rand::RngExt;

use crate::common::{config, idx_w, ix, rng};
use crate::drain::DrainTraffic;
use crate::pe::PeTraffic;

#[test]
fn ports_match_the_rust_hdl_blocks() {
    // The declared port lists (which the Verilator harness is generated from) against what
    // rust-hdl sees in each block: same names, directions, and enough bits.
    let cfg = config("eyeriss");
    let pp = PeParams::from_config(&cfg);
    let models: Vec<Box<dyn Model>> = vec![
        Box::new(Fifo::<128>::new(67, 4).expect("fifo")),
        Box::new(Mc::new(4).expect("mc")),
        Box::new(RrArb::<64>::new(12).expect("rr_arb")),
        Box::new(GinXbus::new(14, 4).expect("gin_xbus")),
        Box::new(Gin::new(12, 14, 4, 5).expect("gin")),
        Box::new(Ln::new(64).expect("ln")),
        Box::new(GonXbus::new(14, 64, 16, 4).expect("gon_xbus")),
        Box::new(Gon::new(12, 64, 16, 4, 4).expect("gon")),
        Box::new(Pe::new(&pp).expect("pe")),
        Box::new(GlbBank::new(512, 64).expect("glb_bank")),
        Box::new(Glb::new(27, 512, 64, 6, 14).expect("glb")),
        Box::new(Drain::new(64, 14, 16, 4, 4).expect("drain")),
        Box::new(CountersRow::new(14, 16).expect("counters_row")),
        Box::new(Counters::new(12, 16, 48).expect("counters")),
        Box::new(Controller::new(&ControllerParams::from_config(&cfg)).expect("controller")),
        Box::new(
            Stream::<64>::new(&StreamParams::from_config(&cfg, Engine::Ifmap)).expect("stream"),
        ),
    ];
    for m in &models {
        let atoms = top_atoms(m.hdl());
        let params: Vec<_> = atoms
            .iter()
            .filter(|(_, k, _)| matches!(k, AtomKind::InputParameter | AtomKind::OutputParameter))
            .collect();
        for p in m.ports() {
            let found: Vec<_> = params.iter().filter(|(n, _, _)| n == p.name).collect();
            assert_eq!(
                found.len() as u32,
                p.elems,
                "{}: port {} as {} rust-hdl signals",
                m.block(),
                p.name,
                p.elems
            );
            let want = if p.dir == Dir::In {
                AtomKind::InputParameter
            } else {
                AtomKind::OutputParameter
            };
            for (_, k, bits) in found {
                assert_eq!(*k, want, "{}: direction of {}", m.block(), p.name);
                assert!(
                    (*bits as u32) * p.elems >= p.width,
                    "{}: {} holds {} bits, needs {}",
                    m.block(),
                    p.name,
                    bits,
                    p.width
                );
            }
        }
        let declared = m.ports().len() + m.clocked() as usize;
        let distinct: std::collections::BTreeSet<_> = params.iter().map(|(n, _, _)| n).collect();
        assert_eq!(
            distinct.len(),
            declared,
            "{}: every rust-hdl port (and clk) is declared",
            m.block()
        );
    }
}

/// A deliberately wrong model is caught, and the report names the block, the first cycle that
/// differs and the signal.
#[test]
fn wrong_model_is_caught() {
    let cfg = config("small");
    let pp = PeParams::from_config(&cfg);

    // the PE with bit 5 of pout_data flipped from cycle 1000 on
    let pe = Pe::new(&pp).expect("pe");
    let mut t = PeTraffic::new(&pe, 70);
    let port = ix(&pe, "pout_data");
    let mut bad = FlipBit::new(pe, port, 5, 1000);
    let vb = VerilatorBlock::build(&cfg, &bad).unwrap_or_else(|e| panic!("{e}"));
    match diff(&mut bad, &vb, &mut t, 3000) {
        Err(e @ DiffError::Mismatch { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("block pe: cycle 1000: signal pout_data: verilator 0x"),
                "{msg}"
            );
            assert!(msg.contains(", rust-hdl 0x"), "{msg}");
        }
        other => panic!("a flipped pout_data bit went unnoticed: {other:?}"),
    }

    // a combinational block: mc's ready_ok wrong from cycle 17
    let mc = Mc::new(cfg.noc.row_id_bits).expect("mc");
    let port = ix(&mc, "ready_ok");
    let mut bad = FlipBit::new(mc, port, 0, 17);
    let vb = VerilatorBlock::build(&cfg, &bad).unwrap_or_else(|e| panic!("{e}"));
    let mut r = rng(5);
    let mut stim = |_c: u64, io: &mut Values| {
        for p in 0..4 {
            io.v[p][0] = r.random::<u64>();
        }
    };
    match diff(&mut bad, &vb, &mut stim, 100) {
        Err(DiffError::Mismatch {
            block,
            cycle,
            signal,
            ..
        }) => assert_eq!((block, cycle, signal), ("mc", 17, "ready_ok")),
        other => panic!("a flipped ready_ok went unnoticed: {other:?}"),
    }

    // a block whose stimulus answers within the cycle (two settles a cycle): drain's wr_addr
    let cfg = config("small");
    let (aw, iw) = (glb_addr_w(&cfg), idx_w(&cfg));
    let dr = Drain::new(64, aw, iw, cfg.noc.row_id_bits, cfg.noc.gon_col_id_bits).expect("drain");
    let mut t = DrainTraffic::new(&dr, &cfg, 7);
    let port = ix(&dr, "wr_addr");
    let mut bad = FlipBit::new(dr, port, 0, 700);
    let vb = VerilatorBlock::build(&cfg, &bad).unwrap_or_else(|e| panic!("{e}"));
    match diff(&mut bad, &vb, &mut t, 2000) {
        Err(DiffError::Mismatch {
            block,
            cycle,
            signal,
            ..
        }) => assert_eq!((block, cycle, signal), ("drain", 700, "wr_addr")),
        other => panic!("a flipped wr_addr went unnoticed: {other:?}"),
    }
}

#[test]
fn model_vcd_records_every_cycle() {
    let mut m = Fifo::<128>::new(20, 4).expect("fifo");
    let [rst, iv, id, or] = ["rst", "in_valid", "in_data", "out_ready"].map(|p| ix(&m, p));
    let mut r = rng(1);
    let mut stim = |c: u64, io: &mut Values| {
        io.set(rst, (c < 2) as u64);
        io.set(iv, r.random_bool(0.5) as u64);
        io.set(id, r.random::<u64>());
        io.set(or, r.random_bool(0.5) as u64);
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fifo.vcd");
    let traced = run_model_vcd(&mut m, &mut stim, 100, &path).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(&path).expect("vcd written");
    for name in ["in_valid", "out_data", "count", "clk"] {
        assert!(text.contains(&format!(" {name} ")), "VCD lacks {name}");
    }
    assert!(text.contains("\n#199\n"), "VCD ends at the last half cycle");
    // the traced run behaves exactly as an untraced one
    let mut m2 = Fifo::<128>::new(20, 4).expect("fifo");
    let mut r = rng(1);
    let mut stim = |c: u64, io: &mut Values| {
        io.set(rst, (c < 2) as u64);
        io.set(iv, r.random_bool(0.5) as u64);
        io.set(id, r.random::<u64>());
        io.set(or, r.random_bool(0.5) as u64);
    };
    let plain = run_model(&mut m2, &mut stim, 100).expect("run");
    assert_eq!(plain.outputs, traced.outputs);
}
