//! `eyeriss_gon_xbus` (`src/hw/gon_xbus.rs`): a GON X-bus under PE-like sources.

use eyeriss_gen::hw::gon_xbus::GonXbus;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, Sources, config, idx_w, ix, put, reset_at, rng, run};

#[test]
fn gon_xbus() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let (cols, iw, cw) = (cfg.array.cols, idx_w(&cfg), cfg.noc.gon_col_id_bits);
        let mut m = GonXbus::new(cols, cfg.noc.gon_width, iw, cw).expect("gon_xbus");
        let [rst, pv, pr, pd, pi, ids, xt] = [
            "rst", "pe_valid", "pe_ready", "pe_data", "pe_idx", "col_ids", "x_taken",
        ]
        .map(|p| ix(&m, p));
        let mut src = Sources::new(cols);
        let mut r = rng(90 + k as u64);
        let mut stim = |c: u64, io: &mut Values| {
            io.set(rst, reset_at(&mut r, c));
            if c.is_multiple_of(200) {
                io.v[ids].iter_mut().for_each(|w| *w = 0);
                for col in 0..cols as usize {
                    let v = r.random_range(0..1u64 << cw);
                    put(io, ids, col, cw, v);
                }
            }
            let rate = if (c / 300).is_multiple_of(2) {
                0.3
            } else {
                0.05
            };
            src.drive(&mut r, io, pr, pv, pd, pi, iw, rate);
            io.set(xt, r.random_bool(0.6) as u64);
        };
        let rep = run(&cfg, &mut m, &mut stim, 10_000);
        assert!(rep.trace.count_high(ix(&m, "x_valid")) > 1000);
    }
}
