//! `eyeriss_counters_row` (`src/hw/counters_row.rs`), the per-row first stage of the counters.

use eyeriss_gen::hw::counters_row::{CountersRow, EVENTS};
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, SUM_W, config, ix, random_words, reset_at, rng, run};

#[test]
fn counters_row() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let cols = cfg.array.cols;
        let mut m = CountersRow::new(cols, SUM_W).expect("counters_row");
        let (rst, clear) = (ix(&m, "rst"), ix(&m, "clear"));
        let ev: Vec<usize> = EVENTS.iter().map(|n| ix(&m, n)).collect();
        let mut r = rng(160 + k as u64);
        let mut stim = |c: u64, io: &mut Values| {
            io.set(rst, reset_at(&mut r, c));
            io.set(clear, r.random_bool(0.01) as u64);
            // MACs are busy cycles, except now and then (which the counters must survive)
            let busy = r.random::<u64>();
            let mac = if r.random_bool(0.9) {
                busy & r.random::<u64>()
            } else {
                r.random()
            };
            io.set(ev[0], busy);
            io.set(ev[1], mac);
            for &p in &ev[2..9] {
                let v = r.random::<u64>() & r.random::<u64>();
                io.set(p, v);
            }
            if r.random_bool(0.02) {
                random_words(&mut r, io, ev[9]);
            }
        };
        let rep = run(&cfg, &mut m, &mut stim, 10_000);
        for n in ["n_mac", "n_zero", "n_pcol", "n_enabled"] {
            let p = ix(&m, n);
            let busy = rep.trace.count_high(p);
            assert!(busy > 5_000, "{n} non-zero on {busy} cycles");
        }
    }
}
