//! `eyeriss_gin` (`src/hw/gin.rs`): a whole GIN, its Y-bus and X-buses, under random row and
//! column tags and IDs.

use eyeriss_gen::hw::gin::Gin;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, config, id_pool, ix, put, rng, run};

#[test]
fn gin() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let (rows, cols) = (cfg.array.rows, cfg.array.cols);
        let rw = cfg.noc.row_id_bits;
        for cw in [cfg.noc.filter_col_id_bits, cfg.noc.ifmap_col_id_bits] {
            let mut m = Gin::new(rows, cols, rw, cw).expect("gin");
            let [iv, rt, ct, rids, cids, rdy] = [
                "in_valid", "row_tag", "col_tag", "row_ids", "col_ids", "pe_ready",
            ]
            .map(|p| ix(&m, p));
            let mut r = rng(50 + k as u64);
            let mut stim = |c: u64, io: &mut Values| {
                if c.is_multiple_of(100) {
                    for p in [rids, cids] {
                        io.v[p].iter_mut().for_each(|w| *w = 0);
                    }
                    for row in 0..rows as usize {
                        let v = id_pool(&mut r, rw);
                        put(io, rids, row, rw, v);
                    }
                    for n in 0..(rows * cols) as usize {
                        let v = id_pool(&mut r, cw);
                        put(io, cids, n, cw, v);
                    }
                }
                let (a, b) = (id_pool(&mut r, rw), id_pool(&mut r, cw));
                io.set(rt, a);
                io.set(ct, b);
                io.set(iv, r.random_bool(0.6) as u64);
                // each PE ready with probability 7/8, so whole multicasts go through
                for w in 0..io.v[rdy].len() {
                    io.v[rdy][w] = !(r.random::<u64>() & r.random::<u64>() & r.random::<u64>());
                }
            };
            let rep = run(&cfg, &mut m, &mut stim, 3_000);
            assert!(rep.trace.count_high(ix(&m, "in_ready")) > 100);
        }
    }
}
