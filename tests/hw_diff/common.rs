//! Shared by the blocks' tests: configs, seeded random numbers, the run-and-compare step, and
//! stimulus helpers (random words, reset, multicast IDs, fields of packed vectors, word sources).

use std::path::Path;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::hw::Model;
use eyeriss_gen::hw::pe::PeParams;
use eyeriss_gen::sim::diff::{DiffReport, Layout, Stimulus, Values, VerilatorBlock, diff};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const CONFIGS: &[&str] = &["eyeriss", "small"];

pub fn config(name: &str) -> ArchConfig {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(format!("{name}.toml"));
    ArchConfig::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Port index by name.
pub fn ix(m: &dyn Model, name: &str) -> usize {
    Layout::new(m.ports())
        .port(name)
        .unwrap_or_else(|| panic!("{} has no port {name}", m.block()))
}

pub fn run(
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
pub fn random_words(r: &mut ChaCha8Rng, io: &mut Values, port: usize) {
    for w in io.v[port].iter_mut() {
        *w = r.random::<u64>();
    }
}

/// Reset in the first cycles and then on a few random cycles.
pub fn reset_at(r: &mut ChaCha8Rng, cycle: u64) -> u64 {
    (cycle < 2 || r.random_bool(0.002)) as u64
}

/// IDs drawn from a few values so that tags match often; the all-ones ID now and then.
pub fn id_pool(r: &mut ChaCha8Rng, w: u32) -> u64 {
    let all = (1u64 << w) - 1;
    if r.random_bool(0.15) {
        all
    } else {
        r.random_range(0..=all.min(3))
    }
}

/// Field `i` of `w` bits (w <= 64) of a little-endian word vector.
pub fn get_field(words: &[u64], i: usize, w: u32) -> u64 {
    let lo = i * w as usize;
    let (wi, bi) = (lo / 64, lo % 64);
    let mut v = words[wi] >> bi;
    if bi + w as usize > 64 {
        v |= words[wi + 1] << (64 - bi);
    }
    v & low(w)
}

/// Replace field `i` of `w` bits (w <= 64).
pub fn set_field(words: &mut [u64], i: usize, w: u32, v: u64) {
    for b in 0..w as usize {
        let at = i * w as usize + b;
        let bit = (v >> b) & 1;
        words[at / 64] = words[at / 64] & !(1 << (at % 64)) | bit << (at % 64);
    }
}

pub fn low(w: u32) -> u64 {
    if w >= 64 { u64::MAX } else { (1 << w) - 1 }
}

pub fn put(io: &mut Values, port: usize, i: usize, w: u32, v: u64) {
    let lo = i * w as usize;
    let (wi, bi) = (lo / 64, lo % 64);
    io.v[port][wi] |= v << bi;
    if bi + w as usize > 64 {
        io.v[port][wi + 1] |= v >> (64 - bi);
    }
}

/// The chip and small configs give their PEs the same parameters; these give other widths,
/// lane counts and depths (a power-of-two ifmap spad, a two-entry FIFO, 8-bit data).
pub fn variant(name: &str, body: &str) -> ArchConfig {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let text = format!("base = \"small.toml\"\nname = \"{name}\"\n{body}");
    ArchConfig::from_toml_str(&text, &dir).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Sources that hold a word (valid, data, index) until it is taken, as a PE's output queue or
/// an X-bus register does; a new word arrives with probability `rate`.
pub struct Sources {
    words: Vec<Option<(u64, u64)>>,
}

impl Sources {
    pub fn new(n: u32) -> Sources {
        Sources {
            words: vec![None; n as usize],
        }
    }
    /// Retire the words `taken` (bit per source, last cycle's output), refill, and write
    /// valid, data (64 bits each) and index fields.
    #[allow(clippy::too_many_arguments)]
    pub fn drive(
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

pub fn idx_w(cfg: &ArchConfig) -> u32 {
    PeParams::from_config(cfg).idx_w
}

/// `eyeriss_top`'s per-row sum width.
pub const SUM_W: u32 = 16;
