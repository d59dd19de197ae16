//! `eyeriss_glb_bank` (`src/hw/glb_bank.rs`): one GLB bank under random reads and writes.

use eyeriss_gen::hw::glb_bank::GlbBank;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, config, ix, random_words, rng, run};

#[test]
fn glb_bank() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let words = cfg.glb.bank_words;
        let mut m = GlbBank::new(words, 64).expect("glb_bank");
        let [en, we, addr, wdata] = ["en", "we", "addr", "wdata"].map(|p| ix(&m, p));
        let mut r = rng(110 + k as u64);
        let mut stim = |_c: u64, io: &mut Values| {
            io.set(en, r.random_bool(0.7) as u64);
            io.set(we, r.random_bool(0.4) as u64);
            // a few addresses, so that reads find what was written
            let a = if r.random_bool(0.8) {
                r.random_range(0..8)
            } else {
                r.random_range(0..words as u64)
            };
            io.set(addr, a);
            random_words(&mut r, io, wdata);
        };
        let rep = run(&cfg, &mut m, &mut stim, 10_000);
        let rd = ix(&m, "rdata");
        let nonzero = rep.trace.count_high(rd);
        assert!(nonzero > 5_000, "cycles with non-zero read data: {nonzero}");
    }
}
