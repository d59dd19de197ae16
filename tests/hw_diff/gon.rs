//! `eyeriss_gon` (`src/hw/gon.rs`): the GON Y-bus under X-bus-like sources.

use eyeriss_gen::hw::gon::Gon;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, Sources, config, idx_w, ix, put, reset_at, rng, run};

#[test]
fn gon() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let rows = cfg.array.rows;
        let (iw, rw, cw) = (idx_w(&cfg), cfg.noc.row_id_bits, cfg.noc.gon_col_id_bits);
        let mut m = Gon::new(rows, cfg.noc.gon_width, iw, rw, cw).expect("gon");
        let [rst, xv, xt, xd, xi, xc, ids, or] = [
            "rst",
            "x_valid",
            "x_taken",
            "x_data",
            "x_idx",
            "x_col",
            "row_ids",
            "out_ready",
        ]
        .map(|p| ix(&m, p));
        let mut src = Sources::new(rows);
        let mut r = rng(100 + k as u64);
        let mut stall = false;
        let mut stim = |c: u64, io: &mut Values| {
            io.set(rst, reset_at(&mut r, c));
            if c.is_multiple_of(200) {
                io.v[ids].iter_mut().for_each(|w| *w = 0);
                for row in 0..rows as usize {
                    let v = r.random_range(0..1u64 << rw);
                    put(io, ids, row, rw, v);
                }
            }
            src.drive(&mut r, io, xt, xv, xd, xi, iw, 0.4);
            io.v[xc].iter_mut().for_each(|w| *w = 0);
            for row in 0..rows as usize {
                let v = r.random_range(0..1u64 << cw);
                put(io, xc, row, cw, v);
            }
            if r.random_bool(0.02) {
                stall = !stall;
            }
            io.set(or, r.random_bool(if stall { 0.1 } else { 0.9 }) as u64);
        };
        let rep = run(&cfg, &mut m, &mut stim, 10_000);
        assert!(rep.trace.count_high(ix(&m, "out_valid")) > 1000);
    }
}
