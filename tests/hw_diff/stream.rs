//! `eyeriss_stream` (`src/hw/stream.rs`), the stream engines, under controller-, GLB- and
//! GIN-like traffic: every engine on the chip and small configs, and the most rows (255).

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::hw::Model;
use eyeriss_gen::hw::stream::{Engine, Stream, StreamParams};
use eyeriss_gen::sim::diff::{Stimulus, Values};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::common::{CONFIGS, config, ix, random_words, rng, run, variant};

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
