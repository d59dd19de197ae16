//! `eyeriss_pe` (`src/hw/pe.rs`) under real pass traffic (START, weights, ifmap rows, psums) on
//! the chip and small configs and on configs with other widths, lane counts and depths; every
//! output word is also checked against the PE's semantics in docs/commands.md.

use std::collections::VecDeque;

use eyeriss_gen::hw::Model;
use eyeriss_gen::hw::pe::{Pe, PeParams};
use eyeriss_gen::sim::diff::{Stimulus, Values};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::common::{config, ix, rng, run, variant};

/// One pass's PE configuration, within what the mapper produces (docs/commands.md CFG_LAYER):
/// p <= psum spad, q*S <= ifmap spad, p*q*S <= filter spad, 1 <= U <= S.
#[derive(Clone, Debug, Default)]
struct Pass {
    p: u64,
    q: u64,
    s: u64,
    f: u64,
    u: u64,
    shift: u64,
    en: bool,
    pin_used: bool,
    rows: u64,
}

/// Realistic PE traffic: START, then the pass's filter weights, ifmap rows and (when the PE
/// adds a psum input) psum words, each offered on random cycles and held until taken, with
/// random lengths of beat (count) and garbage in unused lanes; random backpressure on
/// pout_ready; a new pass once every output word of the last one has been taken.
pub struct PeTraffic {
    r: ChaCha8Rng,
    pp: PeParams,
    ix: std::collections::HashMap<&'static str, usize>,
    pass: Pass,
    filt: VecDeque<(u64, u64)>,
    ifm: VecDeque<(u64, u64)>,
    psum: VecDeque<u64>,
    offered: [bool; 3],
    pout_ready: bool,
    expect_out: u64,
    got_out: u64,
    pass_start: u64,
    idle_wait: u64,
    passes_done: u64,
    timeouts_enabled: u64,
    stall_phase: bool,
    /// A mid-pass START happened since the last reset.
    dirty: bool,
    /// The pass's output words by docs/commands.md ("PE semantics for one pass").
    golden: VecDeque<u64>,
    golden_checked: u64,
    golden_errors: u64,
}

impl PeTraffic {
    pub fn new(m: &Pe, seed: u64) -> PeTraffic {
        PeTraffic {
            r: rng(seed),
            pp: m.params_of().clone(),
            ix: m
                .ports()
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name, i))
                .collect(),
            pass: Pass::default(),
            filt: VecDeque::new(),
            ifm: VecDeque::new(),
            psum: VecDeque::new(),
            offered: [false; 3],
            pout_ready: false,
            expect_out: 0,
            got_out: 0,
            pass_start: 0,
            idle_wait: 0,
            passes_done: 0,
            timeouts_enabled: 0,
            stall_phase: false,
            dirty: false,
            golden: VecDeque::new(),
            golden_checked: 0,
            golden_errors: 0,
        }
    }

    fn elem(&mut self, zero_pct: f64) -> u64 {
        let w = self.pp.data_w;
        if self.r.random_bool(zero_pct) {
            0
        } else {
            self.r.random::<u64>() & ((1 << w) - 1)
        }
    }

    /// Pack elements into beats of 1..=lanes elements from lane 0; unused lanes hold garbage.
    fn beats(&mut self, elems: &[u64], lanes: u32) -> VecDeque<(u64, u64)> {
        let w = self.pp.data_w;
        let mut out = VecDeque::new();
        let mut i = 0;
        while i < elems.len() {
            let n = if self.r.random_bool(0.6) {
                lanes as usize
            } else {
                self.r.random_range(1..=lanes as usize)
            }
            .min(elems.len() - i);
            let mut data = 0u64;
            for l in 0..lanes as usize {
                let e = if l < n {
                    elems[i + l]
                } else {
                    self.r.random::<u64>() & ((1 << w) - 1)
                };
                data |= e << (l as u32 * w);
            }
            out.push_back((data, n as u64));
            i += n;
        }
        out
    }

    fn new_pass(&mut self) {
        let pp = self.pp.clone();
        let r = &mut self.r;
        let pass = loop {
            let p = r.random_range(1..=pp.psum_depth.min(16) as u64);
            let q = r.random_range(1..=4);
            let s = r.random_range(1..=5);
            if s * q > pp.ifmap_depth as u64 || p * q * s > pp.filt_depth as u64 {
                continue;
            }
            break Pass {
                p,
                q,
                s,
                f: r.random_range(1..=5),
                u: r.random_range(1..=s.min(3)),
                shift: r.random_range(0..=10),
                en: r.random_bool(0.93),
                pin_used: r.random_bool(0.5),
                rows: r.random_range(1..=2),
            };
        };
        let weights: Vec<u64> = (0..pass.p * pass.q * pass.s)
            .map(|_| self.elem(0.05))
            .collect();
        let row_len = ((pass.f - 1) * pass.u + pass.s) * pass.q;
        let ifmap: Vec<u64> = (0..pass.rows * row_len).map(|_| self.elem(0.3)).collect();
        // A disabled PE has the all-ones IDs, so no stream word reaches it: it stays idle.
        let (wsent, xsent): (&[u64], &[u64]) = if pass.en {
            (&weights, &ifmap)
        } else {
            (&[], &[])
        };
        self.filt = self.beats(wsent, pp.filt_lanes);
        self.ifm = self.beats(xsent, pp.ifmap_lanes);
        let wpc = pass.p.div_ceil(pp.psum_lanes as u64);
        let words = pass.rows * pass.f * wpc;
        self.psum = if pass.pin_used && pass.en {
            (0..words).map(|_| self.r.random::<u64>()).collect()
        } else {
            VecDeque::new()
        };
        self.expect_out = if pass.en { words } else { 0 };
        self.golden = if pass.en {
            expected_words(&pp, &pass, &weights, &ifmap, &self.psum)
        } else {
            VecDeque::new()
        };
        self.got_out = 0;
        self.pass = pass;
    }
}

/// The output words of one pass as docs/commands.md defines them: for each row and output
/// column, `ceil(p/L)` words whose lane `l` of word `k` is filter `k*L + l`'s
/// `sum over s, j of wrap(x[j][f*U+s] * w[i][j][s] >>> shift)` plus the psum input lane.
fn expected_words(
    pp: &PeParams,
    ps: &Pass,
    weights: &[u64],
    ifmap: &[u64],
    psum_in: &VecDeque<u64>,
) -> VecDeque<u64> {
    let dw = pp.data_w;
    let pw = pp.psum_w as u64;
    let pmask = (1u64 << pw) - 1;
    let sext = |v: u64| ((v << (64 - dw)) as i64) >> (64 - dw);
    let lanes = pp.psum_lanes as u64;
    let wpc = ps.p.div_ceil(lanes);
    let row_len = ((ps.f - 1) * ps.u + ps.s) * ps.q;
    let mut out = VecDeque::new();
    let mut pin = psum_in.iter();
    for row in 0..ps.rows {
        let x = |pos: u64, j: u64| sext(ifmap[(row * row_len + pos * ps.q + j) as usize]);
        for f in 0..ps.f {
            for k in 0..wpc {
                let pin_word = if ps.pin_used {
                    pin.next().copied().unwrap_or(0)
                } else {
                    0
                };
                let mut word = 0u64;
                for l in 0..lanes {
                    let i = k * lanes + l;
                    if i >= ps.p {
                        continue;
                    }
                    let mut acc = 0u64;
                    for sc in 0..ps.s {
                        for j in 0..ps.q {
                            let w = sext(weights[((sc * ps.q + j) * ps.p + i) as usize]);
                            let prod = (x(f * ps.u + sc, j) * w) >> ps.shift;
                            acc = acc.wrapping_add(prod as u64) & pmask;
                        }
                    }
                    let lane = (acc + ((pin_word >> (l * pw)) & pmask)) & pmask;
                    word |= lane << (l * pw);
                }
                out.push_back(word);
            }
        }
    }
    out
}

impl Stimulus for PeTraffic {
    fn drive(&mut self, c: u64, io: &mut Values) {
        let ports = self.ix.clone();
        let ix = |n: &str| ports[n];
        // what the PE took last cycle (ready depends only on its registers)
        if self.offered[0] && io.get(ix("filt_ready")) != 0 {
            self.filt.pop_front();
        }
        if self.offered[1] && io.get(ix("ifm_ready")) != 0 {
            self.ifm.pop_front();
        }
        if self.offered[2] && io.get(ix("pin_ready")) != 0 {
            self.psum.pop_front();
        }
        // (a word taken in a reset cycle belongs to the pass the reset abandoned)
        if self.pout_ready && io.get(ix("pout_valid")) != 0 && io.get(ix("rst")) == 0 {
            self.got_out += 1;
            let want = self.golden.pop_front();
            if !self.dirty {
                self.golden_checked += 1;
                if want != Some(io.get(ix("pout_data"))) {
                    self.golden_errors += 1;
                }
            }
        }
        self.offered = [false; 3];

        let rst = c < 3 || self.r.random_bool(0.0003);
        let done = self.got_out >= self.expect_out
            && self.filt.is_empty()
            && self.ifm.is_empty()
            && self.psum.is_empty();
        let limit = if self.pass.en && !self.dirty {
            50_000
        } else {
            400
        };
        let timeout = c - self.pass_start > limit;
        // Now and then a START in the middle of a pass (which the compiler never issues): the
        // PE drops its pass state but not its FIFOs, so the passes after it see stale words
        // until the next reset; only the comparison counts there, not completion.
        let rogue = !rst && self.r.random_bool(0.0002);
        if rogue {
            self.dirty = true;
        }
        let mut start = false;
        if rst {
            self.filt.clear();
            self.ifm.clear();
            self.psum.clear();
            self.expect_out = 0;
            self.got_out = 0;
            self.golden.clear();
            self.pass.en = false;
            self.pass_start = c;
            self.idle_wait = 1;
            self.dirty = false;
        } else if rogue {
            self.new_pass();
            self.pass_start = c;
            self.idle_wait = 0;
            start = true;
        } else if done || timeout {
            if self.idle_wait > 0 {
                self.idle_wait -= 1;
            } else {
                if done && self.expect_out > 0 && !self.dirty {
                    self.passes_done += 1;
                }
                if timeout && self.pass.en && !self.dirty {
                    self.timeouts_enabled += 1;
                }
                self.new_pass();
                self.pass_start = c;
                self.idle_wait = self.r.random_range(2..=6);
                start = true;
            }
        }
        io.set(ix("rst"), rst as u64);
        io.set(ix("start"), start as u64);
        let ps = &self.pass;
        for (n, v) in [
            ("cfg_p", ps.p),
            ("cfg_q", ps.q),
            ("cfg_s", ps.s),
            ("cfg_f", ps.f),
            ("cfg_u", ps.u),
            ("cfg_shift", ps.shift),
            ("cfg_en", ps.en as u64),
            ("pin_used", ps.pin_used as u64),
        ] {
            io.set(ix(n), v);
        }

        // streams: offered on random cycles, never in the START cycle
        let may = !rst && !start;
        let (fo, io_, po) = (
            may && !self.filt.is_empty() && self.r.random_bool(0.7),
            may && !self.ifm.is_empty() && self.r.random_bool(0.7),
            may && !self.psum.is_empty() && self.r.random_bool(0.6),
        );
        self.offered = [fo, io_, po];
        let (fd, fc) = self.filt.front().copied().unwrap_or((self.r.random(), 0));
        let (id, ic) = self.ifm.front().copied().unwrap_or((self.r.random(), 0));
        let pd = self.psum.front().copied().unwrap_or(self.r.random());
        io.set(ix("filt_valid"), fo as u64);
        io.set(ix("filt_data"), fd);
        io.set(ix("filt_count"), fc);
        io.set(ix("ifm_valid"), io_ as u64);
        io.set(ix("ifm_data"), id);
        io.set(ix("ifm_count"), ic);
        io.set(ix("pin_valid"), po as u64);
        io.set(ix("pin_data"), pd);

        // backpressure: mostly ready, with bursts of stalls
        if self.r.random_bool(0.01) {
            self.stall_phase = !self.stall_phase;
        }
        self.pout_ready = self.r.random_bool(if self.stall_phase { 0.1 } else { 0.8 });
        io.set(ix("pout_ready"), self.pout_ready as u64);
    }
}

fn pe_on(name: &str, seed: u64, cycles: u64) {
    let cfg = config(name);
    let pp = PeParams::from_config(&cfg);
    let mut m = Pe::new(&pp).expect("pe");
    let mut t = PeTraffic::new(&m, seed);
    let rep = run(&cfg, &mut m, &mut t, cycles);
    let count = |p: &str| rep.trace.count_high(ix(&m, p));
    let (macs, busy, cols) = (count("ev_mac"), count("ev_busy"), count("ev_pcol"));
    eprintln!(
        "pe on {name}: {} passes completed, {macs} MACs, {} zero-skipped, {cols} output columns",
        t.passes_done,
        busy - macs
    );
    // The PE computed: many passes ran to their last output word, with MACs and zero-skips.
    assert!(t.passes_done >= 20, "passes completed: {}", t.passes_done);
    assert!(macs > 1000 && busy > macs, "MACs {macs}, busy {busy}");
    assert!(cols > 100, "output columns {cols}");
    let (pv, pd) = (ix(&m, "pout_valid"), ix(&m, "pout_data"));
    let nonzero = (0..rep.cycles)
        .filter(|&c| rep.trace.output(c, pv)[0] != 0 && rep.trace.output(c, pd)[0] != 0)
        .count();
    assert!(
        nonzero > 100,
        "cycles with a non-zero output word: {nonzero}"
    );
    assert_eq!(t.timeouts_enabled, 0, "an enabled pass never finished");
    // and computed what the PE semantics say (docs/commands.md)
    assert!(
        t.golden_checked > 500,
        "words checked: {}",
        t.golden_checked
    );
    assert_eq!(
        t.golden_errors, 0,
        "{} of {} output words differ from the PE semantics",
        t.golden_errors, t.golden_checked
    );
}

#[test]
fn pe_chip() {
    pe_on("eyeriss", 70, 100_000);
}

#[test]
fn pe_small() {
    pe_on("small", 71, 100_000);
}

#[test]
fn pe_other_sizes() {
    for (k, cfg) in [
        variant(
            "pe_d8",
            "[data]\ndata_width = 8\npsum_width = 16\n\
             [pe]\nfilter_spad = 100\nifmap_spad = 16\npsum_spad = 7\nfifo_depth = 2\n\
             [noc]\nifmap_gin_width = 16\n",
        ),
        variant(
            "pe_p32",
            "[data]\npsum_width = 32\n[pe]\nfilter_spad = 64\nifmap_spad = 9\nfifo_depth = 8\n",
        ),
        // the multiply in eyeriss_mult_pipe's two register stages (ecp5_small's PEs)
        variant("pe_mult_pipe", "[fpga]\nmult_pipeline = true\n"),
    ]
    .iter()
    .enumerate()
    {
        let pp = PeParams::from_config(cfg);
        let mut m = Pe::new(&pp).expect("pe");
        let mut t = PeTraffic::new(&m, 80 + k as u64);
        let rep = run(cfg, &mut m, &mut t, 20_000);
        assert!(
            t.passes_done >= 10,
            "{}: passes {}",
            cfg.name,
            t.passes_done
        );
        assert!(rep.trace.count_high(ix(&m, "ev_mac")) > 500);
        assert!(
            t.golden_checked > 200 && t.golden_errors == 0,
            "{}: {} of {} output words differ from the PE semantics",
            cfg.name,
            t.golden_errors,
            t.golden_checked
        );
    }
}
