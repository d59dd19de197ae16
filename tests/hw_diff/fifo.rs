//! `eyeriss_fifo` (`src/hw/fifo.rs`): the PE's widest FIFO at the config's depth and at 8, under
//! random valid, data and ready with resets.

use eyeriss_gen::hw::fifo::Fifo;
use eyeriss_gen::hw::pe::PeParams;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, config, ix, random_words, reset_at, rng, run};

#[test]
fn fifo() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let pp = PeParams::from_config(&cfg);
        // the PE's filter FIFO: its widest instance
        let width = pp.filt_lanes * pp.data_w + pp.filt_cnt_w;
        for depth in [cfg.pe.fifo_depth, 8] {
            let mut m = Fifo::<128>::new(width, depth).expect("fifo");
            let (rst, iv, id, or) = (
                ix(&m, "rst"),
                ix(&m, "in_valid"),
                ix(&m, "in_data"),
                ix(&m, "out_ready"),
            );
            let mut r = rng(10 + k as u64 + depth as u64);
            let mut stim = |c: u64, io: &mut Values| {
                io.set(rst, reset_at(&mut r, c));
                // bursts of high and low load so the FIFO goes both full and empty
                let load = if (c / 64).is_multiple_of(2) { 0.8 } else { 0.3 };
                io.set(iv, r.random_bool(load) as u64);
                random_words(&mut r, io, id);
                io.set(or, r.random_bool(1.1 - load) as u64);
            };
            let rep = run(&cfg, &mut m, &mut stim, 20_000);
            let full = ix(&m, "in_ready");
            assert!(
                rep.trace.count_high(full) < rep.cycles,
                "the FIFO was full at some point"
            );
        }
    }
}
