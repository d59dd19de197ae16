//! `eyeriss_glb` (`src/hw/glb.rs`): the GLB under engine-like requesters, every read checked
//! against a shadow of the memory.

use eyeriss_gen::hw::glb::Glb;
use eyeriss_gen::hw::glb_addr_w;
use eyeriss_gen::sim::diff::{Stimulus, Values};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::common::{CONFIGS, config, get_field, ix, reset_at, rng, run, set_field};

/// The GLB's requesters: each port holds a request (read or write, address, data) until it is
/// granted, as the engines do, and now and then drops it (an address past the last bank is
/// never granted). Addresses fall in a few banks and offsets, so ports collide and reads find
/// earlier writes. Every read is checked against a shadow of the memory: rvalid the cycle after
/// the grant, with the word last written there.
struct GlbPorts {
    r: ChaCha8Rng,
    off_w: u32,
    bank_w: u32,
    nports: usize,
    ix: [usize; 8],
    hot: Vec<u64>,
    shadow: std::collections::HashMap<u64, u64>,
    /// Reads granted last cycle: (port, expected word).
    pending: Vec<(usize, u64)>,
    reads_checked: u64,
    read_errors: u64,
    writes: u64,
}

impl GlbPorts {
    fn new(m: &Glb, banks: u32, bank_words: u32, addr_w: u32, nports: usize, seed: u64) -> Self {
        let off_w = eyeriss_gen::hw::clog2(bank_words as u64);
        let mut r = rng(seed);
        let bank_w = addr_w - off_w;
        let hot = (0..3)
            .map(|_| r.random_range(0..1u64 << bank_w))
            // the first and last banks, and the highest bank number (past the last bank when
            // the count is not a power of two: never granted, reads as zero)
            .chain([0, banks as u64 - 1, (1 << bank_w) - 1])
            .collect();
        GlbPorts {
            r,
            off_w,
            bank_w,
            nports,
            ix: [
                "rst", "req", "we", "addr", "wdata", "gnt", "rvalid", "rdata",
            ]
            .map(|p| ix(m, p)),
            hot,
            shadow: Default::default(),
            pending: Vec::new(),
            reads_checked: 0,
            read_errors: 0,
            writes: 0,
        }
    }

    fn addr(&mut self) -> u64 {
        let bank = self.hot[self.r.random_range(0..self.hot.len())];
        let off = if self.r.random_bool(0.9) {
            self.r.random_range(0..6)
        } else {
            self.r.random_range(0..1u64 << self.off_w)
        };
        bank << self.off_w | off
    }
}

impl Stimulus for GlbPorts {
    fn drive(&mut self, c: u64, io: &mut Values) {
        let [rst, req, we, addr, wdata, gnt, rvalid, rdata] = self.ix;
        let aw = self.off_w + self.bank_w;
        // last cycle's reads answer now (in io: last cycle's outputs)
        for (p, want) in std::mem::take(&mut self.pending) {
            self.reads_checked += 1;
            let got = io.v[rdata][p];
            if io.get(rvalid) >> p & 1 == 0 || got != want {
                self.read_errors += 1;
            }
        }
        // last cycle's grants (io still holds last cycle's inputs)
        let (g, was_rst) = (io.get(gnt), io.get(rst) != 0);
        let (mut q, w) = (io.get(req), io.get(we));
        for p in 0..self.nports {
            if g >> p & 1 == 0 {
                continue;
            }
            let a = get_field(&io.v[addr], p, aw);
            if w >> p & 1 != 0 {
                self.shadow.insert(a, io.v[wdata][p]);
                self.writes += 1;
            } else if !was_rst {
                self.pending
                    .push((p, self.shadow.get(&a).copied().unwrap_or(0)));
            }
            q &= !(1 << p);
        }
        io.set(rst, reset_at(&mut self.r, c));
        let mut w = w;
        for p in 0..self.nports {
            let holding = q >> p & 1 != 0 && !self.r.random_bool(0.05);
            if holding {
                continue;
            }
            q &= !(1 << p);
            if self.r.random_bool(0.5) {
                q |= 1 << p;
                w = w & !(1 << p) | (self.r.random_bool(0.4) as u64) << p;
                let a = self.addr();
                set_field(&mut io.v[addr], p, aw, a);
                io.v[wdata][p] = self.r.random();
            }
        }
        io.set(req, q);
        io.set(we, w);
    }
}

#[test]
fn glb() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let (banks, words, aw) = (cfg.glb.banks, cfg.glb.bank_words, glb_addr_w(&cfg));
        let mut m = Glb::new(banks, words, 64, 6, aw).expect("glb");
        let mut t = GlbPorts::new(&m, banks, words, aw, 6, 120 + k as u64);
        let rep = run(&cfg, &mut m, &mut t, 20_000);
        eprintln!(
            "glb on {name}: {} writes, {} reads checked against the written words",
            t.writes, t.reads_checked
        );
        assert!(t.writes > 5_000 && t.reads_checked > 5_000);
        assert_eq!(t.read_errors, 0, "reads that did not return the last write");
        let _ = rep;
    }
}
