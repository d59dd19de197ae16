//! `eyeriss_drain` (`src/hw/drain.rs`), the drain engine, under controller-, GON- and GLB-like
//! traffic; every accepted word is checked to be written at its address.

use std::collections::VecDeque;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::hw::drain::Drain;
use eyeriss_gen::hw::{Model, glb_addr_w};
use eyeriss_gen::sim::diff::{Stimulus, Values};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::common::{CONFIGS, config, idx_w, ix, low, random_words, rng, run};

/// What drives the drain engine in `eyeriss_top`: the controller starts a DRAIN only on an idle
/// engine; the GON holds each word (data, index, IDs) until it is taken; the GLB grants wr_req
/// in the cycle it is made on most cycles (`respond`). Every accepted word must be written, in
/// order, at base + {row, col} * stride + index.
pub struct DrainTraffic {
    r: ChaCha8Rng,
    ix: std::collections::HashMap<&'static str, usize>,
    aw: u32,
    widths: (u32, u32, u32),
    word: Option<(u64, u64, u64, u64)>,
    cmd: (u64, u64),
    running: bool,
    cmd_cycle: u64,
    expect: VecDeque<(u64, u64)>,
    glb_stall: bool,
    gon_rate: f64,
    cmds: u64,
    taken: u64,
    writes: u64,
    write_errors: u64,
}

impl DrainTraffic {
    pub fn new(m: &Drain, cfg: &ArchConfig, seed: u64) -> Self {
        DrainTraffic {
            r: rng(seed),
            ix: m
                .ports()
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name, i))
                .collect(),
            aw: glb_addr_w(cfg),
            widths: (idx_w(cfg), cfg.noc.row_id_bits, cfg.noc.gon_col_id_bits),
            word: None,
            cmd: (0, 0),
            running: false,
            cmd_cycle: 0,
            expect: VecDeque::new(),
            glb_stall: false,
            gon_rate: 0.9,
            cmds: 0,
            taken: 0,
            writes: 0,
            write_errors: 0,
        }
    }
}

impl Stimulus for DrainTraffic {
    fn drive(&mut self, c: u64, io: &mut Values) {
        let ix = |n: &str| self.ix[n];
        let was_rst = io.get(ix("rst")) != 0;
        let mask = |w: u32| low(w);
        if !was_rst {
            // last cycle's write (granted while the buffer held a word) and accepted word
            if io.get(ix("wr_req")) != 0 && io.get(ix("wr_gnt")) != 0 {
                self.writes += 1;
                let got = (io.get(ix("wr_addr")), io.get(ix("wr_data")));
                if self.expect.pop_front() != Some(got) {
                    self.write_errors += 1;
                }
            }
            if io.get(ix("in_valid")) != 0
                && io.get(ix("in_ready")) != 0
                && let Some((d, i, y, x)) = self.word.take()
            {
                let (_, _, cw) = self.widths;
                let a = self.cmd.0 + ((y << cw | x) * self.cmd.1) + i;
                self.expect.push_back((a & mask(self.aw), d));
                self.taken += 1;
            }
        }
        let rst = c < 2 || self.r.random_bool(0.001);
        io.set(ix("rst"), rst as u64);
        io.set(ix("wr_gnt"), 0);
        for n in ["cmd_total", "cmd_base", "cmd_stride"] {
            random_words(&mut self.r, io, ix(n));
        }
        io.set(ix("cmd_valid"), 0);
        if rst {
            self.expect.clear();
            self.running = false;
        } else if self.running && c > self.cmd_cycle + 1 && io.get(ix("idle")) != 0 {
            self.running = false;
        } else if !self.running && c > self.cmd_cycle + 1 && self.r.random_bool(0.2) {
            let total = if self.r.random_bool(0.05) {
                0
            } else {
                self.r.random_range(1..=40)
            };
            let base = self.r.random::<u32>() as u64;
            let stride = if self.r.random_bool(0.7) {
                self.r.random_range(0..100)
            } else {
                self.r.random::<u32>() as u64
            };
            io.set(ix("cmd_valid"), 1);
            io.set(ix("cmd_total"), total);
            io.set(ix("cmd_base"), base);
            io.set(ix("cmd_stride"), stride);
            self.cmd = (base & mask(self.aw), stride & mask(self.aw));
            self.running = true;
            self.cmd_cycle = c;
            self.cmds += 1;
        }
        if self.r.random_bool(0.005) {
            self.gon_rate = if self.gon_rate > 0.5 { 0.1 } else { 0.9 };
        }
        if self.word.is_none() && self.r.random_bool(self.gon_rate) {
            let (iw, rw, cw) = self.widths;
            let r = &mut self.r;
            self.word = Some((
                r.random(),
                r.random::<u64>() & mask(iw),
                r.random::<u64>() & mask(rw),
                r.random::<u64>() & mask(cw),
            ));
        }
        // the GON's output register drives its last word's fields when it has none
        if let Some((d, i, y, x)) = self.word {
            for (n, v) in [
                ("in_data", d),
                ("in_idx", i),
                ("in_row_id", y),
                ("in_col_id", x),
            ] {
                io.set(ix(n), v);
            }
        }
        io.set(ix("in_valid"), self.word.is_some() as u64);
    }

    fn respond(&mut self, _c: u64, io: &mut Values) -> bool {
        if self.r.random_bool(0.01) {
            self.glb_stall = !self.glb_stall;
        }
        let free = self.r.random_bool(if self.glb_stall { 0.1 } else { 0.8 });
        if io.get(self.ix["wr_req"]) != 0 && free {
            io.set(self.ix["wr_gnt"], 1);
            return true;
        }
        false
    }
}

#[test]
fn drain() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let aw = glb_addr_w(&cfg);
        let (iw, rw, cw) = (idx_w(&cfg), cfg.noc.row_id_bits, cfg.noc.gon_col_id_bits);
        let mut m = Drain::new(64, aw, iw, rw, cw).expect("drain");
        let mut t = DrainTraffic::new(&m, &cfg, 150 + k as u64);
        let rep = run(&cfg, &mut m, &mut t, 20_000);
        eprintln!(
            "drain on {name}: {} commands, {} words taken, {} written",
            t.cmds, t.taken, t.writes
        );
        assert!(t.cmds > 100 && t.writes > 3_000);
        assert_eq!(
            t.write_errors, 0,
            "writes not at base + chain * stride + index"
        );
        assert!(rep.trace.count_high(ix(&m, "idle")) > 100);
    }
}
