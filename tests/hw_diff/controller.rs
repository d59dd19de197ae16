//! `eyeriss_controller` (`src/hw/controller.rs`) under host command sequences, well-formed and
//! not, with engine- and GLB-like neighbours; every response word and every loaded word checked.

use std::collections::VecDeque;

use eyeriss_gen::hw::Model;
use eyeriss_gen::hw::controller::{Controller, ControllerParams};
use eyeriss_gen::sim::diff::{Stimulus, Values};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::common::{CONFIGS, config, ix, low, random_words, rng, run};

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
                // now and then a row longer than the engines count
                let len_over = r.random_bool(0.03);
                let len = if len_over {
                    r.random_range(1u64 << self.cp.len_w..1 << 32)
                } else {
                    r.random_range(0..100u64)
                };
                let w = 0x06 << 56 | net << 48 | nrows << 32 | len;
                self.queue.push_back(w);
                if nrows == 0 || nrows > max || net == 3 || len_over {
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
