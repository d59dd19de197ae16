//! `eyeriss_rr_arb` (`src/hw/rr_arb.rs`), the round-robin arbiter: at the sizes the configs give
//! it (rows, columns, stream rows) and at 255 requesters, the most a stream engine has.

use eyeriss_gen::hw::rr_arb::RrArb;
use eyeriss_gen::sim::diff::Values;
use rand::RngExt;

use crate::common::{CONFIGS, config, ix, reset_at, rng, run};

#[test]
fn rr_arb() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        for n in [
            cfg.array.rows,
            cfg.array.cols,
            cfg.noc.stream_rows,
            cfg.noc.ifmap_stream_rows,
        ] {
            let mut m = RrArb::<64>::new(n).expect("rr_arb");
            let (rst, req, adv) = (ix(&m, "rst"), ix(&m, "req"), ix(&m, "advance"));
            let mut r = rng(30 + k as u64 + n as u64);
            let mut stim = |c: u64, io: &mut Values| {
                io.set(rst, reset_at(&mut r, c));
                // sparse and dense request patterns
                let mut q = r.random::<u64>();
                if (c / 100).is_multiple_of(2) {
                    q &= r.random::<u64>() & r.random::<u64>();
                }
                io.set(req, q);
                io.set(adv, r.random_bool(0.7) as u64);
            };
            run(&cfg, &mut m, &mut stim, 10_000);
        }
    }
}

/// The widest arbiter: a stream engine of noc.stream_rows = 255 rows.
#[test]
fn rr_arb_255() {
    let cfg = config("small");
    let mut m = RrArb::<256>::new(255).expect("rr_arb");
    let (rst, req, adv) = (ix(&m, "rst"), ix(&m, "req"), ix(&m, "advance"));
    let mut r = rng(35);
    let mut stim = |c: u64, io: &mut Values| {
        io.set(rst, reset_at(&mut r, c));
        // sparse requests, so that the grant walks across all four words
        for w in io.v[req].iter_mut() {
            *w = r.random::<u64>() & r.random::<u64>() & r.random::<u64>() & r.random::<u64>();
        }
        io.set(adv, r.random_bool(0.7) as u64);
    };
    let rep = run(&cfg, &mut m, &mut stim, 5_000);
    let gnt = ix(&m, "gnt");
    let high = (0..rep.cycles)
        .filter(|&c| rep.trace.output(c, gnt)[3] != 0)
        .count();
    assert!(high > 100, "grants to rows 192..254: {high}");
}
