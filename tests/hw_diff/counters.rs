//! `eyeriss_counters` (`src/hw/counters.rs`) under per-row sums as `eyeriss_counters_row` makes
//! them, one counter followed independently.

use eyeriss_gen::hw::Model;
use eyeriss_gen::hw::counters::{Counters, ROW_INPUTS};
use eyeriss_gen::sim::diff::{Stimulus, Values};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::common::{CONFIGS, SUM_W, config, get_field, low, put, reset_at, rng, run};

/// Row sums as `eyeriss_counters_row` makes them (at most COLS), now and then any 16-bit
/// value; p changes now and then; rare clears and resets. Counter 8 (psum spad reads) is
/// followed independently: each cycle adds the rows' pacc plus p times their pcol, with the p
/// of the cycle before, and every cycle `sel` shows it, the value must agree.
struct CounterTraffic {
    r: ChaCha8Rng,
    ix: std::collections::HashMap<&'static str, usize>,
    rows: u32,
    cols: u32,
    cnt_w: u32,
    p: u64,
    p_last: u64,
    /// cfg_p two cycles back: the row sums are scaled by it
    p_prev: u64,
    psum_reads: u64,
    /// What the last cycle added to `psum_reads` (0 after a clear).
    last_added: u64,
    checked: u64,
    errors: u64,
    max_seen: u64,
}

impl Stimulus for CounterTraffic {
    fn drive(&mut self, c: u64, io: &mut Values) {
        let ix = |n: &str| self.ix[n];
        let sum = |io: &Values, n: &str| {
            (0..self.rows as usize).fold(0u64, |a, r| a + get_field(&io.v[ix(n)], r, SUM_W))
                & low(SUM_W)
        };
        if c > 0 {
            // last cycle: what it showed, then what it added
            if io.get(ix("sel")) == 8 {
                self.checked += 1;
                // counter 8 has an extra stage: it shows the events up to two cycles back
                let expected = self.psum_reads.wrapping_sub(self.last_added) & low(self.cnt_w);
                self.errors += (io.get(ix("value")) != expected) as u64;
            }
            self.max_seen = self.max_seen.max(io.get(ix("value")));
            if io.get(ix("rst")) != 0 || io.get(ix("clear")) != 0 {
                self.psum_reads = 0;
                self.last_added = 0;
            } else {
                let inc = (sum(io, "row_pacc") + sum(io, "row_pcol") * self.p_prev) & low(SUM_W);
                self.psum_reads = (self.psum_reads + inc) & low(self.cnt_w);
                self.last_added = inc;
            }
            self.p_prev = self.p_last;
            self.p_last = io.get(ix("cfg_p"));
        }
        io.set(ix("rst"), reset_at(&mut self.r, c));
        io.set(ix("clear"), self.r.random_bool(0.001) as u64);
        if self.r.random_bool(0.01) {
            self.p = self.r.random_range(0..=255);
        }
        io.set(ix("cfg_p"), self.p);
        for n in ROW_INPUTS {
            let p = ix(n);
            io.v[p].iter_mut().for_each(|w| *w = 0);
            for row in 0..self.rows as usize {
                let v = if self.r.random_bool(0.95) {
                    self.r.random_range(0..=self.cols as u64)
                } else {
                    self.r.random::<u64>() & low(SUM_W)
                };
                put(io, p, row, SUM_W, v);
            }
        }
        for n in ["glb_reads", "glb_writes"] {
            let v = self.r.random_range(0..16);
            io.set(ix(n), v);
        }
        for n in [
            "filt_beat",
            "ifmap_beat",
            "psum_beat",
            "gon_word",
            "host_in",
            "host_out",
            "host_in_wait",
            "host_out_wait",
        ] {
            let v = self.r.random_bool(0.5) as u64;
            io.set(ix(n), v);
        }
        // dwell on counter 8 a third of the time
        let sel = if self.r.random_bool(0.3) {
            8
        } else {
            self.r.random_range(0..32)
        };
        io.set(ix("sel"), sel);
    }
}

#[test]
fn counters() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        for cnt_w in [cfg.host.counter_bits, 24] {
            let mut m = Counters::new(cfg.array.rows, SUM_W, cnt_w).expect("counters");
            let mut t = CounterTraffic {
                r: rng(170 + k as u64 + cnt_w as u64),
                ix: m
                    .ports()
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.name, i))
                    .collect(),
                rows: cfg.array.rows,
                cols: cfg.array.cols,
                cnt_w,
                p: 3,
                p_last: 0,
                p_prev: 0,
                psum_reads: 0,
                last_added: 0,
                checked: 0,
                errors: 0,
                max_seen: 0,
            };
            run(&cfg, &mut m, &mut t, 10_000);
            eprintln!(
                "counters on {name} (CNT_W {cnt_w}): counter 8 checked on {} cycles, largest value {:#x}",
                t.checked, t.max_seen
            );
            assert!(t.checked > 2_000);
            assert!(t.max_seen > 1 << 20, "the counters grew: {:#x}", t.max_seen);
            assert_eq!(t.errors, 0, "psum spad reads differ from pacc + p * pcol");
        }
    }
}
