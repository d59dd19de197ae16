//! `eyeriss_gin_xbus` (`src/hw/gin_xbus.rs`): a GIN X-bus under random column tags and IDs.

use eyeriss_gen::hw::gin_xbus::GinXbus;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, config, id_pool, ix, put, rng, run};

#[test]
fn gin_xbus() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let cols = cfg.array.cols;
        for id_w in [cfg.noc.filter_col_id_bits, cfg.noc.ifmap_col_id_bits] {
            let mut m = GinXbus::new(cols, id_w).expect("gin_xbus");
            let (tag, ids, iv, rdy) = (
                ix(&m, "col_tag"),
                ix(&m, "col_ids"),
                ix(&m, "in_valid"),
                ix(&m, "pe_ready"),
            );
            let mut r = rng(40 + k as u64);
            let mut stim = |c: u64, io: &mut Values| {
                if c.is_multiple_of(50) {
                    io.v[ids].iter_mut().for_each(|w| *w = 0);
                    for col in 0..cols as usize {
                        let v = id_pool(&mut r, id_w);
                        put(io, ids, col, id_w, v);
                    }
                }
                let t = id_pool(&mut r, id_w);
                io.set(tag, t);
                io.set(iv, r.random_bool(0.6) as u64);
                let mut ready = r.random::<u64>();
                if r.random_bool(0.5) {
                    ready |= r.random::<u64>(); // mostly ready
                }
                io.set(rdy, ready);
            };
            let rep = run(&cfg, &mut m, &mut stim, 5_000);
            assert!(rep.trace.count_high(ix(&m, "ready_ok")) > 100);
        }
    }
}
