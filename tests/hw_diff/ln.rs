//! `eyeriss_ln` (`src/hw/ln.rs`), the local network between a PE and the PE below,
//! under random inputs.

use eyeriss_gen::hw::ln::Ln;
use eyeriss_gen::hw::{Dir, Model};
use eyeriss_gen::sim::diff::Values;

use crate::common::{CONFIGS, config, ix, random_words, rng, run};

#[test]
fn ln() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let mut m = Ln::new(cfg.noc.ln_width).expect("ln");
        let ports: Vec<usize> = m
            .ports()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.dir == Dir::In)
            .map(|(i, _)| i)
            .collect();
        let mut r = rng(60 + k as u64);
        let mut stim = |_c: u64, io: &mut Values| {
            for &p in &ports {
                random_words(&mut r, io, p);
            }
        };
        let rep = run(&cfg, &mut m, &mut stim, 5_000);
        assert!(rep.trace.count_high(ix(&m, "pin_valid")) > 100);
    }
}
