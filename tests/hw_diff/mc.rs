//! `eyeriss_mc` (`src/hw/mc.rs`), the multicast controller: combinational, random tags and IDs.

use eyeriss_gen::hw::mc::Mc;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, config, ix, rng, run};

#[test]
fn mc() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        for id_w in [cfg.noc.row_id_bits, cfg.noc.ifmap_col_id_bits] {
            let mut m = Mc::new(id_w).expect("mc");
            let ports = ["id", "tag", "in_valid", "out_ready"].map(|p| ix(&m, p));
            let all = (1u64 << id_w) - 1;
            let mut r = rng(20 + k as u64);
            let mut stim = |_c: u64, io: &mut Values| {
                let id = if r.random_bool(0.1) {
                    all
                } else {
                    r.random_range(0..=all)
                };
                let tag = if r.random_bool(0.5) {
                    id
                } else {
                    r.random_range(0..=all)
                };
                io.set(ports[0], id);
                io.set(ports[1], tag);
                io.set(ports[2], r.random_bool(0.5) as u64);
                io.set(ports[3], r.random_bool(0.5) as u64);
            };
            let rep = run(&cfg, &mut m, &mut stim, 5_000);
            assert!(rep.trace.count_high(ix(&m, "out_valid")) > 100);
        }
    }
}
