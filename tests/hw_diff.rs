//! Block-level differential tests (issue 4): each rust-hdl model in `src/hw/` and the template's
//! Verilog, built by Verilator with the same parameters, get the same seeded random stimulus;
//! every output is compared on every cycle.
//!
//! `cargo test --release --test hw_diff -- --nocapture` also prints each block's cycles and the
//! model's simulation speed.

use std::collections::VecDeque;
use std::path::Path;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::hw::controller::{Controller, ControllerParams};
use eyeriss_gen::hw::counters::{Counters, ROW_INPUTS};
use eyeriss_gen::hw::counters_row::{CountersRow, EVENTS};
use eyeriss_gen::hw::drain::Drain;
use eyeriss_gen::hw::fifo::Fifo;
use eyeriss_gen::hw::gin::Gin;
use eyeriss_gen::hw::gin_xbus::GinXbus;
use eyeriss_gen::hw::glb::Glb;
use eyeriss_gen::hw::glb_bank::GlbBank;
use eyeriss_gen::hw::gon::Gon;
use eyeriss_gen::hw::gon_xbus::GonXbus;
use eyeriss_gen::hw::ln::Ln;
use eyeriss_gen::hw::mc::Mc;
use eyeriss_gen::hw::pe::{Pe, PeParams};
use eyeriss_gen::hw::rr_arb::RrArb;
use eyeriss_gen::hw::stream::{Engine, Stream, StreamParams};
use eyeriss_gen::hw::{AtomKind, Dir, Model, glb_addr_w, top_atoms};
use eyeriss_gen::sim::diff::{
    DiffError, DiffReport, FlipBit, Layout, Stimulus, Values, VerilatorBlock, diff, run_model,
    run_model_vcd,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CONFIGS: &[&str] = &["eyeriss", "small"];

fn config(name: &str) -> ArchConfig {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(format!("{name}.toml"));
    ArchConfig::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Port index by name.
fn ix(m: &dyn Model, name: &str) -> usize {
    Layout::new(m.ports())
        .port(name)
        .unwrap_or_else(|| panic!("{} has no port {name}", m.block()))
}

fn run(
    cfg: &ArchConfig,
    model: &mut dyn Model,
    stim: &mut dyn Stimulus,
    cycles: u64,
) -> DiffReport {
    let vb = VerilatorBlock::build(cfg, model).unwrap_or_else(|e| panic!("{e}"));
    let r = diff(model, &vb, stim, cycles).unwrap_or_else(|e| panic!("{}: {e}", cfg.name));
    eprintln!(
        "{} on {}: {} cycles, {} outputs compared, model {:.0} cycles/s",
        r.block, cfg.name, r.cycles, r.outputs_compared, r.model_cycles_per_sec
    );
    r
}

/// Random words of `width` bits for every input that has no protocol of its own.
fn random_words(r: &mut ChaCha8Rng, io: &mut Values, port: usize) {
    for w in io.v[port].iter_mut() {
        *w = r.random::<u64>();
    }
}

/// Reset in the first cycles and then on a few random cycles.
fn reset_at(r: &mut ChaCha8Rng, cycle: u64) -> u64 {
    (cycle < 2 || r.random_bool(0.002)) as u64
}

#[test]
fn ports_match_the_rust_hdl_blocks() {
    // The declared port lists (which the Verilator harness is generated from) against what
    // rust-hdl sees in each block: same names, directions, and enough bits.
    let cfg = config("eyeriss");
    let pp = PeParams::from_config(&cfg);
    let models: Vec<Box<dyn Model>> = vec![
        Box::new(Fifo::<128>::new(67, 4).expect("fifo")),
        Box::new(Mc::new(4).expect("mc")),
        Box::new(RrArb::<64>::new(12).expect("rr_arb")),
        Box::new(GinXbus::new(14, 4).expect("gin_xbus")),
        Box::new(Gin::new(12, 14, 4, 5).expect("gin")),
        Box::new(Ln::new(64).expect("ln")),
        Box::new(GonXbus::new(14, 64, 16, 4).expect("gon_xbus")),
        Box::new(Gon::new(12, 64, 16, 4, 4).expect("gon")),
        Box::new(Pe::new(&pp).expect("pe")),
        Box::new(GlbBank::new(512, 64).expect("glb_bank")),
        Box::new(Glb::new(27, 512, 64, 6, 14).expect("glb")),
        Box::new(Drain::new(64, 14, 16, 4, 4).expect("drain")),
        Box::new(CountersRow::new(14, 16).expect("counters_row")),
        Box::new(Counters::new(12, 16, 48).expect("counters")),
        Box::new(Controller::new(&ControllerParams::from_config(&cfg)).expect("controller")),
        Box::new(
            Stream::<64>::new(&StreamParams::from_config(&cfg, Engine::Ifmap)).expect("stream"),
        ),
    ];
    for m in &models {
        let atoms = top_atoms(m.hdl());
        let params: Vec<_> = atoms
            .iter()
            .filter(|(_, k, _)| matches!(k, AtomKind::InputParameter | AtomKind::OutputParameter))
            .collect();
        for p in m.ports() {
            let found: Vec<_> = params.iter().filter(|(n, _, _)| n == p.name).collect();
            assert_eq!(
                found.len() as u32,
                p.elems,
                "{}: port {} as {} rust-hdl signals",
                m.block(),
                p.name,
                p.elems
            );
            let want = if p.dir == Dir::In {
                AtomKind::InputParameter
            } else {
                AtomKind::OutputParameter
            };
            for (_, k, bits) in found {
                assert_eq!(*k, want, "{}: direction of {}", m.block(), p.name);
                assert!(
                    (*bits as u32) * p.elems >= p.width,
                    "{}: {} holds {} bits, needs {}",
                    m.block(),
                    p.name,
                    bits,
                    p.width
                );
            }
        }
        let declared = m.ports().len() + m.clocked() as usize;
        let distinct: std::collections::BTreeSet<_> = params.iter().map(|(n, _, _)| n).collect();
        assert_eq!(
            distinct.len(),
            declared,
            "{}: every rust-hdl port (and clk) is declared",
            m.block()
        );
    }
}

#[test]
fn fifo() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let pp = PeParams::from_config(&cfg);
        // the PE's filter FIFO: its widest instance
        let width = pp.filt_lanes * pp.data_w + pp.filt_cnt_w;
        for depth in [cfg.pe.fifo_depth, 8] {
            let mut m = Fifo::<128>::new(width, depth).expect("fifo");
            let (rst, iv, id, or) = (
                ix(&m, "rst"),
                ix(&m, "in_valid"),
                ix(&m, "in_data"),
                ix(&m, "out_ready"),
            );
            let mut r = rng(10 + k as u64 + depth as u64);
            let mut stim = |c: u64, io: &mut Values| {
                io.set(rst, reset_at(&mut r, c));
                // bursts of high and low load so the FIFO goes both full and empty
                let load = if (c / 64).is_multiple_of(2) { 0.8 } else { 0.3 };
                io.set(iv, r.random_bool(load) as u64);
                random_words(&mut r, io, id);
                io.set(or, r.random_bool(1.1 - load) as u64);
            };
            let rep = run(&cfg, &mut m, &mut stim, 20_000);
            let full = ix(&m, "in_ready");
            assert!(
                rep.trace.count_high(full) < rep.cycles,
                "the FIFO was full at some point"
            );
        }
    }
}

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

/// IDs drawn from a few values so that tags match often; the all-ones ID now and then.
fn id_pool(r: &mut ChaCha8Rng, w: u32) -> u64 {
    let all = (1u64 << w) - 1;
    if r.random_bool(0.15) {
        all
    } else {
        r.random_range(0..=all.min(3))
    }
}

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

/// Field `i` of `w` bits (w <= 64) of a little-endian word vector.
fn get_field(words: &[u64], i: usize, w: u32) -> u64 {
    let lo = i * w as usize;
    let (wi, bi) = (lo / 64, lo % 64);
    let mut v = words[wi] >> bi;
    if bi + w as usize > 64 {
        v |= words[wi + 1] << (64 - bi);
    }
    v & low(w)
}

/// Replace field `i` of `w` bits (w <= 64).
fn set_field(words: &mut [u64], i: usize, w: u32, v: u64) {
    for b in 0..w as usize {
        let at = i * w as usize + b;
        let bit = (v >> b) & 1;
        words[at / 64] = words[at / 64] & !(1 << (at % 64)) | bit << (at % 64);
    }
}

fn low(w: u32) -> u64 {
    if w >= 64 { u64::MAX } else { (1 << w) - 1 }
}

fn put(io: &mut Values, port: usize, i: usize, w: u32, v: u64) {
    let lo = i * w as usize;
    let (wi, bi) = (lo / 64, lo % 64);
    io.v[port][wi] |= v << bi;
    if bi + w as usize > 64 {
        io.v[port][wi + 1] |= v >> (64 - bi);
    }
}

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

#[test]
fn ln() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let mut m = Ln::new(cfg.noc.ln_width).expect("ln");
        let ports: Vec<usize> = m
            .ports()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.dir == Dir::In)
            .map(|(i, _)| i)
            .collect();
        let mut r = rng(60 + k as u64);
        let mut stim = |_c: u64, io: &mut Values| {
            for &p in &ports {
                random_words(&mut r, io, p);
            }
        };
        let rep = run(&cfg, &mut m, &mut stim, 5_000);
        assert!(rep.trace.count_high(ix(&m, "pin_valid")) > 100);
    }
}

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
struct PeTraffic {
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
    fn new(m: &Pe, seed: u64) -> PeTraffic {
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

/// A deliberately wrong model is caught, and the report names the block, the first cycle that
/// differs and the signal.
#[test]
fn wrong_model_is_caught() {
    let cfg = config("small");
    let pp = PeParams::from_config(&cfg);

    // the PE with bit 5 of pout_data flipped from cycle 1000 on
    let pe = Pe::new(&pp).expect("pe");
    let mut t = PeTraffic::new(&pe, 70);
    let port = ix(&pe, "pout_data");
    let mut bad = FlipBit::new(pe, port, 5, 1000);
    let vb = VerilatorBlock::build(&cfg, &bad).unwrap_or_else(|e| panic!("{e}"));
    match diff(&mut bad, &vb, &mut t, 3000) {
        Err(e @ DiffError::Mismatch { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("block pe: cycle 1000: signal pout_data: verilator 0x"),
                "{msg}"
            );
            assert!(msg.contains(", rust-hdl 0x"), "{msg}");
        }
        other => panic!("a flipped pout_data bit went unnoticed: {other:?}"),
    }

    // a combinational block: mc's ready_ok wrong from cycle 17
    let mc = Mc::new(cfg.noc.row_id_bits).expect("mc");
    let port = ix(&mc, "ready_ok");
    let mut bad = FlipBit::new(mc, port, 0, 17);
    let vb = VerilatorBlock::build(&cfg, &bad).unwrap_or_else(|e| panic!("{e}"));
    let mut r = rng(5);
    let mut stim = |_c: u64, io: &mut Values| {
        for p in 0..4 {
            io.v[p][0] = r.random::<u64>();
        }
    };
    match diff(&mut bad, &vb, &mut stim, 100) {
        Err(DiffError::Mismatch {
            block,
            cycle,
            signal,
            ..
        }) => assert_eq!((block, cycle, signal), ("mc", 17, "ready_ok")),
        other => panic!("a flipped ready_ok went unnoticed: {other:?}"),
    }

    // a block whose stimulus answers within the cycle (two settles a cycle): drain's wr_addr
    let cfg = config("small");
    let (aw, iw) = (glb_addr_w(&cfg), idx_w(&cfg));
    let dr = Drain::new(64, aw, iw, cfg.noc.row_id_bits, cfg.noc.gon_col_id_bits).expect("drain");
    let mut t = DrainTraffic::new(&dr, &cfg, 7);
    let port = ix(&dr, "wr_addr");
    let mut bad = FlipBit::new(dr, port, 0, 700);
    let vb = VerilatorBlock::build(&cfg, &bad).unwrap_or_else(|e| panic!("{e}"));
    match diff(&mut bad, &vb, &mut t, 2000) {
        Err(DiffError::Mismatch {
            block,
            cycle,
            signal,
            ..
        }) => assert_eq!((block, cycle, signal), ("drain", 700, "wr_addr")),
        other => panic!("a flipped wr_addr went unnoticed: {other:?}"),
    }
}

/// The chip and small configs give their PEs the same parameters; these give other widths,
/// lane counts and depths (a power-of-two ifmap spad, a two-entry FIFO, 8-bit data).
fn variant(name: &str, body: &str) -> ArchConfig {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let text = format!("base = \"small.toml\"\nname = \"{name}\"\n{body}");
    ArchConfig::from_toml_str(&text, &dir).unwrap_or_else(|e| panic!("{name}: {e}"))
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

/// Sources that hold a word (valid, data, index) until it is taken, as a PE's output queue or
/// an X-bus register does; a new word arrives with probability `rate`.
struct Sources {
    words: Vec<Option<(u64, u64)>>,
}

impl Sources {
    fn new(n: u32) -> Sources {
        Sources {
            words: vec![None; n as usize],
        }
    }
    /// Retire the words `taken` (bit per source, last cycle's output), refill, and write
    /// valid, data (64 bits each) and index fields.
    #[allow(clippy::too_many_arguments)]
    fn drive(
        &mut self,
        r: &mut ChaCha8Rng,
        io: &mut Values,
        taken: usize,
        valid: usize,
        data: usize,
        idx: usize,
        idx_w: u32,
        rate: f64,
    ) {
        for w in [valid, idx] {
            io.v[w].iter_mut().for_each(|x| *x = 0);
        }
        for (k, word) in self.words.iter_mut().enumerate() {
            if word.is_some() && (io.v[taken][k / 64] >> (k % 64)) & 1 != 0 {
                *word = None;
            }
            if word.is_none() && r.random_bool(rate) {
                *word = Some((r.random(), r.random::<u64>() & ((1 << idx_w) - 1)));
            }
            // a source with nothing to send drives garbage on its data lines
            let (d, i) = word.unwrap_or((r.random(), r.random::<u64>() & ((1 << idx_w) - 1)));
            put(io, valid, k, 1, word.is_some() as u64);
            io.v[data][k] = d;
            put(io, idx, k, idx_w, i);
        }
    }
}

fn idx_w(cfg: &ArchConfig) -> u32 {
    PeParams::from_config(cfg).idx_w
}

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

#[test]
fn model_vcd_records_every_cycle() {
    let mut m = Fifo::<128>::new(20, 4).expect("fifo");
    let [rst, iv, id, or] = ["rst", "in_valid", "in_data", "out_ready"].map(|p| ix(&m, p));
    let mut r = rng(1);
    let mut stim = |c: u64, io: &mut Values| {
        io.set(rst, (c < 2) as u64);
        io.set(iv, r.random_bool(0.5) as u64);
        io.set(id, r.random::<u64>());
        io.set(or, r.random_bool(0.5) as u64);
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fifo.vcd");
    let traced = run_model_vcd(&mut m, &mut stim, 100, &path).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(&path).expect("vcd written");
    for name in ["in_valid", "out_data", "count", "clk"] {
        assert!(text.contains(&format!(" {name} ")), "VCD lacks {name}");
    }
    assert!(text.contains("\n#199\n"), "VCD ends at the last half cycle");
    // the traced run behaves exactly as an untraced one
    let mut m2 = Fifo::<128>::new(20, 4).expect("fifo");
    let mut r = rng(1);
    let mut stim = |c: u64, io: &mut Values| {
        io.set(rst, (c < 2) as u64);
        io.set(iv, r.random_bool(0.5) as u64);
        io.set(id, r.random::<u64>());
        io.set(or, r.random_bool(0.5) as u64);
    };
    let plain = run_model(&mut m2, &mut stim, 100).expect("run");
    assert_eq!(plain.outputs, traced.outputs);
}

#[test]
fn glb_bank() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let words = cfg.glb.bank_words;
        let mut m = GlbBank::new(words, 64).expect("glb_bank");
        let [en, we, addr, wdata] = ["en", "we", "addr", "wdata"].map(|p| ix(&m, p));
        let mut r = rng(110 + k as u64);
        let mut stim = |_c: u64, io: &mut Values| {
            io.set(en, r.random_bool(0.7) as u64);
            io.set(we, r.random_bool(0.4) as u64);
            // a few addresses, so that reads find what was written
            let a = if r.random_bool(0.8) {
                r.random_range(0..8)
            } else {
                r.random_range(0..words as u64)
            };
            io.set(addr, a);
            random_words(&mut r, io, wdata);
        };
        let rep = run(&cfg, &mut m, &mut stim, 10_000);
        let rd = ix(&m, "rdata");
        let nonzero = rep.trace.count_high(rd);
        assert!(nonzero > 5_000, "cycles with non-zero read data: {nonzero}");
    }
}

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

/// What drives a stream engine in `eyeriss_top`: the controller writes a command's row tags one
/// per cycle (with gaps, as it fetches tag words) once the engine is idle, and raises cmd_valid
/// with the last tag write; the GLB grants rd_req in the cycle it is made (`respond`), on most
/// cycles, and returns the word with rd_valid the next cycle (not after a reset cycle); the GIN
/// takes beats on random cycles, with bursts of stalls on both sides. Command fields carry
/// garbage when cmd_valid is low. Every beat's element count is added up: a command that runs
/// without a reset must send exactly rows x len elements.
struct StreamTraffic {
    r: ChaCha8Rng,
    p: StreamParams,
    ix: std::collections::HashMap<&'static str, usize>,
    /// Tags written so far for the next command, or None between commands.
    tags: Option<u64>,
    cmd: (u64, u64),
    running: bool,
    clean: bool,
    cmd_cycle: u64,
    sent: u64,
    granted: bool,
    glb_stall: bool,
    gin_stall: bool,
    cmds_done: u64,
    elems: u64,
    beats: u64,
    count_errors: u64,
    /// Beats that carried no element: a row with nothing left must not be offered.
    empty_beats: u64,
    longest: u64,
}

impl StreamTraffic {
    fn new<const R: usize>(m: &Stream<R>, seed: u64) -> Self {
        StreamTraffic {
            r: rng(seed),
            p: m.params_of().clone(),
            ix: m
                .ports()
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name, i))
                .collect(),
            tags: None,
            cmd: (0, 0),
            running: false,
            clean: false,
            cmd_cycle: 0,
            sent: 0,
            granted: false,
            glb_stall: false,
            gin_stall: false,
            cmds_done: 0,
            elems: 0,
            beats: 0,
            count_errors: 0,
            empty_beats: 0,
            longest: 0,
        }
    }
}

impl Stimulus for StreamTraffic {
    fn drive(&mut self, c: u64, io: &mut Values) {
        let ix = |n: &str| self.ix[n];
        let was_rst = io.get(ix("rst")) != 0;
        // last cycle's beat
        if io.get(ix("out_valid")) != 0 && io.get(ix("out_ready")) != 0 && !was_rst {
            self.beats += 1;
            self.sent += io.get(ix("out_count"));
            self.empty_beats += (io.get(ix("out_count")) == 0) as u64;
        }
        // a command finishes when the engine is idle again (seen after its command cycle)
        if self.running && !was_rst && c > self.cmd_cycle + 1 && io.get(ix("idle")) != 0 {
            self.running = false;
            if self.clean {
                self.cmds_done += 1;
                self.elems += self.sent;
                if self.sent != self.cmd.0 * self.cmd.1 {
                    self.count_errors += 1;
                }
                self.longest = self.longest.max(c - self.cmd_cycle);
            }
        }
        // resets rarer than elsewhere, so that most commands (hundreds of cycles) run clean
        let rst = c < 2 || self.r.random_bool(0.0002);
        io.set(ix("rst"), rst as u64);
        io.set(ix("rd_valid"), (self.granted && !was_rst) as u64);
        random_words(&mut self.r, io, ix("rd_data"));
        io.set(ix("rd_gnt"), 0);
        self.granted = false;
        for n in [
            "tag_idx",
            "tag_data",
            "cmd_len",
            "cmd_nrows",
            "cmd_base",
            "cmd_stride",
        ] {
            random_words(&mut self.r, io, ix(n));
        }
        io.set(ix("tag_we"), 0);
        io.set(ix("cmd_valid"), 0);
        if rst {
            self.tags = None;
            self.running = false;
        } else if !self.running {
            let max = self.p.max_rows as u64;
            if self.tags.is_none() && self.r.random_bool(0.3) {
                let nrows = if self.r.random_bool(0.2) {
                    max
                } else {
                    self.r.random_range(1..=max)
                };
                let len = if self.r.random_bool(0.05) {
                    0
                } else if self.r.random_bool(0.8) {
                    self.r.random_range(1..=12)
                } else {
                    self.r.random_range(13..=60)
                };
                self.cmd = (nrows, len);
                self.tags = Some(0);
            }
            if let Some(i) = self.tags
                && self.r.random_bool(0.8)
            {
                io.set(ix("tag_we"), 1);
                io.set(ix("tag_idx"), i);
                if i + 1 == self.cmd.0 {
                    io.set(ix("cmd_valid"), 1);
                    io.set(ix("cmd_nrows"), self.cmd.0);
                    io.set(ix("cmd_len"), self.cmd.1);
                    let stride = if self.r.random_bool(0.7) {
                        self.r.random_range(0..64)
                    } else {
                        self.r.random::<u32>() as u64
                    };
                    io.set(ix("cmd_stride"), stride);
                    self.tags = None;
                    self.running = true;
                    self.clean = true;
                    self.cmd_cycle = c;
                    self.sent = 0;
                } else {
                    self.tags = Some(i + 1);
                }
            }
        }
        if rst {
            self.clean = false;
        }
        if self.r.random_bool(0.01) {
            self.gin_stall = !self.gin_stall;
        }
        let ready = self.r.random_bool(if self.gin_stall { 0.1 } else { 0.8 });
        io.set(ix("out_ready"), ready as u64);
    }

    fn respond(&mut self, _c: u64, io: &mut Values) -> bool {
        if self.r.random_bool(0.01) {
            self.glb_stall = !self.glb_stall;
        }
        let free = self.r.random_bool(if self.glb_stall { 0.1 } else { 0.75 });
        if io.get(self.ix["rd_req"]) != 0 && free {
            io.set(self.ix["rd_gnt"], 1);
            self.granted = true;
            return true;
        }
        false
    }
}

fn stream_on<const R: usize>(cfg: &ArchConfig, engine: Engine, seed: u64, cycles: u64) {
    let p = StreamParams::from_config(cfg, engine);
    let mut m = Stream::<R>::new(&p).expect("stream");
    let mut t = StreamTraffic::new(&m, seed);
    let rep = run(cfg, &mut m, &mut t, cycles);
    eprintln!(
        "stream {engine:?} on {} (MAX_ROWS {}): {} commands completed, {} beats, {} elements, longest command {} cycles",
        cfg.name, p.max_rows, t.cmds_done, t.beats, t.elems, t.longest
    );
    assert!(t.cmds_done >= 15, "commands completed: {}", t.cmds_done);
    assert!(t.beats > 2_000, "beats: {}", t.beats);
    assert_eq!(
        t.count_errors, 0,
        "commands that did not send rows x len elements"
    );
    assert_eq!(t.empty_beats, 0, "beats without an element");
    // the engine went idle between commands and was not stuck at the end
    assert!(rep.trace.count_high(ix(&m, "idle")) > 0);
    assert!(rep.trace.count_high(ix(&m, "rd_req")) > 1_000);
}

#[test]
fn stream() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        for (e, engine) in [Engine::Filter, Engine::Ifmap, Engine::Psum]
            .into_iter()
            .enumerate()
        {
            stream_on::<64>(&cfg, engine, 130 + 3 * k as u64 + e as u64, 30_000);
        }
    }
}

/// The most rows a stream engine may have (noc.stream_rows = 255), and 8-bit data.
#[test]
fn stream_255_rows() {
    let cfg = variant(
        "stream255",
        "[noc]\nstream_rows = 255\nifmap_stream_rows = 255\n",
    );
    stream_on::<256>(&cfg, Engine::Filter, 140, 60_000);
    let cfg = variant(
        "stream_d8",
        "[data]\ndata_width = 8\npsum_width = 16\n[noc]\nifmap_gin_width = 16\nstream_rows = 7\n",
    );
    stream_on::<64>(&cfg, Engine::Filter, 141, 20_000);
    stream_on::<64>(&cfg, Engine::Ifmap, 142, 20_000);
}

/// What drives the drain engine in `eyeriss_top`: the controller starts a DRAIN only on an idle
/// engine; the GON holds each word (data, index, IDs) until it is taken; the GLB grants wr_req
/// in the cycle it is made on most cycles (`respond`). Every accepted word must be written, in
/// order, at base + {row, col} * stride + index.
struct DrainTraffic {
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
    fn new(m: &Drain, cfg: &ArchConfig, seed: u64) -> Self {
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

/// `eyeriss_top`'s per-row sum width.
const SUM_W: u32 = 16;

#[test]
fn counters_row() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let cols = cfg.array.cols;
        let mut m = CountersRow::new(cols, SUM_W).expect("counters_row");
        let (rst, clear) = (ix(&m, "rst"), ix(&m, "clear"));
        let ev: Vec<usize> = EVENTS.iter().map(|n| ix(&m, n)).collect();
        let mut r = rng(160 + k as u64);
        let mut stim = |c: u64, io: &mut Values| {
            io.set(rst, reset_at(&mut r, c));
            io.set(clear, r.random_bool(0.01) as u64);
            // MACs are busy cycles, except now and then (which the counters must survive)
            let busy = r.random::<u64>();
            let mac = if r.random_bool(0.9) {
                busy & r.random::<u64>()
            } else {
                r.random()
            };
            io.set(ev[0], busy);
            io.set(ev[1], mac);
            for &p in &ev[2..9] {
                let v = r.random::<u64>() & r.random::<u64>();
                io.set(p, v);
            }
            if r.random_bool(0.02) {
                random_words(&mut r, io, ev[9]);
            }
        };
        let rep = run(&cfg, &mut m, &mut stim, 10_000);
        for n in ["n_mac", "n_zero", "n_pcol", "n_enabled"] {
            let p = ix(&m, n);
            let busy = rep.trace.count_high(p);
            assert!(busy > 5_000, "{n} non-zero on {busy} cycles");
        }
    }
}

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
    psum_reads: u64,
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
                self.errors += (io.get(ix("value")) != self.psum_reads) as u64;
            }
            self.max_seen = self.max_seen.max(io.get(ix("value")));
            if io.get(ix("rst")) != 0 || io.get(ix("clear")) != 0 {
                self.psum_reads = 0;
            } else {
                let inc = (sum(io, "row_pacc") + sum(io, "row_pcol") * self.p_last) & low(SUM_W);
                self.psum_reads = (self.psum_reads + inc) & low(self.cnt_w);
            }
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
                psum_reads: 0,
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

/// A response word the host expects: exactly this word, or one of data (store data, counter
/// values) whose value the controller passes through.
#[derive(Clone, Debug, PartialEq)]
enum Resp {
    Exact(u64),
    Any,
}

/// A host and the controller's neighbours. The host sends well-formed command sequences of
/// docs/commands.md (a LOAD followed by its words, a STREAM by its base/stride word and tag
/// words, a DRAIN by its word), with random gaps, and now and then a malformed STREAM or an
/// unknown opcode, after which the controller halts until a reset. Engines go busy for a
/// while after their command; the GLB grants ld_req and sr_req in the cycle they are made on
/// most cycles (`respond`) and returns store data the cycle after a read grant; the host stalls
/// the output stream in bursts. Checked: every response word in order (headers, markers, error
/// words exactly; data words by count) and every loaded word at its GLB address.
struct HostTraffic {
    r: ChaCha8Rng,
    ix: std::collections::HashMap<&'static str, usize>,
    cp: ControllerParams,
    queue: VecDeque<u64>,
    resp: VecDeque<Resp>,
    loads: VecDeque<(u64, u64)>,
    halted_at: Option<u64>,
    busy_until: [u64; 4],
    sr_granted: bool,
    out_stall: bool,
    glb_stall: bool,
    commands: u64,
    words_out: u64,
    resp_errors: u64,
    load_writes: u64,
    load_errors: u64,
    stream_cmds: u64,
    drain_cmds: u64,
    halts: u64,
}

impl HostTraffic {
    fn new(m: &Controller, cp: ControllerParams, seed: u64) -> Self {
        HostTraffic {
            r: rng(seed),
            ix: m
                .ports()
                .iter()
                .enumerate()
                .map(|(i, p)| (p.name, i))
                .collect(),
            cp,
            queue: VecDeque::new(),
            resp: VecDeque::new(),
            loads: VecDeque::new(),
            halted_at: None,
            busy_until: [0; 4],
            sr_granted: false,
            out_stall: false,
            glb_stall: false,
            commands: 0,
            words_out: 0,
            resp_errors: 0,
            load_writes: 0,
            load_errors: 0,
            stream_cmds: 0,
            drain_cmds: 0,
            halts: 0,
        }
    }

    /// Queue one command (and the words that follow it); false once it makes the controller
    /// halt.
    fn command(&mut self) -> bool {
        let r = &mut self.r;
        let aw = self.cp.addr_w;
        self.commands += 1;
        let op: u64 = r.random_range(0..=13);
        let body = r.random::<u64>() & low(56);
        match op {
            0x04 => {
                let n = r.random_range(0..=12u64);
                let a = r.random::<u64>() & low(aw);
                self.queue.push_back(0x04 << 56 | n << 24 | a);
                for i in 0..n {
                    let w = r.random();
                    self.queue.push_back(w);
                    self.loads.push_back(((a + i) & low(aw), w));
                }
            }
            0x05 => {
                let n = r.random_range(0..=12u64);
                let relu = r.random_bool(0.5) as u64;
                let a = r.random::<u64>() & low(aw);
                self.queue.push_back(0x05 << 56 | relu << 48 | n << 24 | a);
                self.resp.push_back(Resp::Exact(0x05 << 56 | n));
                self.resp.extend((0..n).map(|_| Resp::Any));
            }
            0x06 => {
                let net = if r.random_bool(0.03) {
                    3
                } else {
                    r.random_range(0..3)
                };
                let max = if net == 1 {
                    self.cp.ifmap_max_rows
                } else {
                    self.cp.max_rows
                } as u64;
                let nrows = if r.random_bool(0.03) {
                    if r.random_bool(0.5) {
                        0
                    } else {
                        (max + 1).min(255)
                    }
                } else {
                    r.random_range(1..=max)
                };
                let len = r.random_range(0..100u64);
                let w = 0x06 << 56 | net << 48 | nrows << 32 | len;
                self.queue.push_back(w);
                if nrows == 0 || nrows > max || net == 3 {
                    self.resp.push_back(Resp::Exact(0xEE << 56 | w & low(56)));
                    return false;
                }
                self.stream_cmds += 1;
                self.queue.push_back(r.random());
                for _ in 0..nrows.div_ceil(4) {
                    self.queue.push_back(r.random());
                }
            }
            0x07 => {
                self.drain_cmds += 1;
                self.queue.push_back(0x07 << 56 | r.random_range(0..50u64));
                self.queue.push_back(r.random());
            }
            0x0A => {
                self.queue.push_back(0x0A << 56 | body);
                self.resp.push_back(Resp::Exact(0x0A << 56 | 22));
                self.resp.extend((0..22).map(|_| Resp::Any));
            }
            0x0C => {
                let w = 0x0C << 56 | body;
                self.queue.push_back(w);
                self.resp.push_back(Resp::Exact(w));
            }
            0x0D => {
                // an unknown opcode (now and then)
                if r.random_bool(0.2) {
                    let w = r.random_range(0x0Du64..=0xFF) << 56 | body;
                    self.queue.push_back(w);
                    self.resp.push_back(Resp::Exact(0xEE << 56 | body));
                    return false;
                }
                self.queue.push_back(body);
            }
            _ => self.queue.push_back(op << 56 | body),
        }
        true
    }

    fn drive_with(
        &mut self,
        map: &std::collections::HashMap<&'static str, usize>,
        c: u64,
        io: &mut Values,
    ) {
        let ix = |n: &str| map[n];
        let was_rst = io.get(ix("rst")) != 0;
        if !was_rst {
            if io.get(ix("in_valid")) != 0 && io.get(ix("in_ready")) != 0 {
                self.queue.pop_front();
            }
            if io.get(ix("out_valid")) != 0 && io.get(ix("out_ready")) != 0 {
                self.words_out += 1;
                let got = io.get(ix("out_data"));
                match self.resp.pop_front() {
                    Some(Resp::Any) => {}
                    Some(Resp::Exact(w)) if w == got => {}
                    _ => self.resp_errors += 1,
                }
            }
            if io.get(ix("ld_req")) != 0 && io.get(ix("ld_gnt")) != 0 {
                self.load_writes += 1;
                let got = (io.get(ix("ld_addr")), io.get(ix("ld_data")));
                if self.loads.pop_front() != Some(got) {
                    self.load_errors += 1;
                }
            }
            let cmds = io.get(ix("st_cmd_valid"));
            for e in 0..3 {
                if cmds >> e & 1 != 0 {
                    self.busy_until[e] = c + self.r.random_range(0..300);
                }
            }
            if io.get(ix("dr_cmd_valid")) != 0 {
                self.busy_until[3] = c + self.r.random_range(0..300);
            }
        }
        // a halted controller waits for a reset; otherwise rare random resets
        let rst = c < 2
            || self
                .halted_at
                .is_some_and(|h| c > h + 300 && self.resp.is_empty())
            || self.halted_at.is_some_and(|h| c > h + 3_000)
            || self.r.random_bool(0.0003);
        io.set(ix("rst"), rst as u64);
        io.set(ix("sr_rvalid"), (self.sr_granted && !was_rst) as u64);
        self.sr_granted = false;
        random_words(&mut self.r, io, ix("sr_rdata"));
        random_words(&mut self.r, io, ix("cnt_value"));
        io.set(ix("ld_gnt"), 0);
        io.set(ix("sr_gnt"), 0);
        if rst {
            self.queue.clear();
            self.resp.clear();
            self.loads.clear();
            self.busy_until = [0; 4];
            if self.halted_at.take().is_some() {
                self.halts += 1;
            }
        } else if self.halted_at.is_none() && self.queue.len() < 4 && !self.command() {
            self.halted_at = Some(c);
        }
        let idle: Vec<bool> = self.busy_until.iter().map(|&b| c >= b).collect();
        io.set(
            ix("st_idle"),
            (0..3).map(|e| (idle[e] as u64) << e).sum::<u64>(),
        );
        io.set(ix("dr_idle"), idle[3] as u64);
        let offer = !rst && !self.queue.is_empty() && self.r.random_bool(0.8);
        io.set(ix("in_valid"), offer as u64);
        match self.queue.front() {
            Some(&w) => io.set(ix("in_data"), w),
            None => random_words(&mut self.r, io, ix("in_data")),
        }
        if self.r.random_bool(0.01) {
            self.out_stall = !self.out_stall;
        }
        let ready = self.r.random_bool(if self.out_stall { 0.1 } else { 0.85 });
        io.set(ix("out_ready"), ready as u64);
    }
}

impl Stimulus for HostTraffic {
    fn drive(&mut self, c: u64, io: &mut Values) {
        // the port map is set aside while `command` borrows self
        let map = std::mem::take(&mut self.ix);
        self.drive_with(&map, c, io);
        self.ix = map;
    }
    fn respond(&mut self, _c: u64, io: &mut Values) -> bool {
        if self.r.random_bool(0.01) {
            self.glb_stall = !self.glb_stall;
        }
        let p = if self.glb_stall { 0.1 } else { 0.8 };
        let mut any = false;
        for (req, gnt) in [("ld_req", "ld_gnt"), ("sr_req", "sr_gnt")] {
            if io.get(self.ix[req]) != 0 && self.r.random_bool(p) {
                io.set(self.ix[gnt], 1);
                any = true;
                if req == "sr_req" {
                    self.sr_granted = true;
                }
            }
        }
        any
    }
}

#[test]
fn controller() {
    for (k, name) in CONFIGS.iter().enumerate() {
        let cfg = config(name);
        let cp = ControllerParams::from_config(&cfg);
        let mut m = Controller::new(&cp).expect("controller");
        let mut t = HostTraffic::new(&m, cp, 180 + k as u64);
        let rep = run(&cfg, &mut m, &mut t, 50_000);
        eprintln!(
            "controller on {name}: {} commands, {} response words, {} loaded words, {} STREAMs, {} DRAINs, {} halts",
            t.commands, t.words_out, t.load_writes, t.stream_cmds, t.drain_cmds, t.halts
        );
        assert!(t.commands > 1_000 && t.words_out > 2_000 && t.load_writes > 500);
        assert!(t.stream_cmds > 50 && t.drain_cmds > 50 && t.halts > 5);
        assert_eq!(t.resp_errors, 0, "response words out of order or wrong");
        assert_eq!(t.load_errors, 0, "loaded words not at their GLB address");
        for p in ["pe_start", "rid_we", "pec_we", "cnt_clear", "host_out_wait"] {
            assert!(rep.trace.count_high(ix(&m, p)) > 20, "{p} seldom high");
        }
    }
}
