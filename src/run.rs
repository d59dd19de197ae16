//! Running a layer on a simulation backend: compile, run, read back, compare with the golden
//! model, and report cycles, utilization and every counter.

use std::path::Path;

use serde::Serialize;
use thiserror::Error;

use crate::analysis::energy::{self, Energy, EnergyTable};
use crate::compile::{self, CompileError, Compiled};
use crate::config::ArchConfig;
use crate::golden;
use crate::layer::{ConvLayer, Tensors};
use crate::mapper::Plan;
use crate::program::{Counter, Counters};
use crate::sim::Backend;
use crate::sim::{LinkStats, RunOpts, SimError};

#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(
        "the controller refused a command and stopped: output word {index} is its error word 0x{word:016x} (0xEE, then the low 56 bits of the command); was the program compiled for this config?"
    )]
    Controller { index: usize, word: u64 },
    #[error("cannot write {path}: {msg}")]
    Dump { path: String, msg: String },
}

/// One ofmap value that differs from the golden model.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// (n, m, e, f)
    pub at: [u32; 4],
    pub expected: i32,
    pub got: i32,
}

/// What a run of one layer measured.
#[derive(Debug, Clone, Serialize)]
pub struct LayerStats {
    pub layer: String,
    pub config: String,
    pub config_hash: String,
    pub backend: String,
    pub plan: Plan,
    pub program_words: usize,
    pub layer_macs: u64,
    /// MACs whose ifmap value is non-zero, from the data: what the MAC counter must show.
    pub nonzero_macs: u64,
    /// Cycles from the first command to READ_COUNTERS, as the hardware counted them.
    pub cycles: u64,
    /// Cycles minus those the controller spent waiting for a host word.
    pub processing_cycles: u64,
    /// Cycles the harness ran, to the end mark.
    pub harness_cycles: u64,
    /// What the UART host counted, when the run went through the board top's UART.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkStats>,
    /// Busy PE-cycles / (PEs x cycles).
    pub utilization: f64,
    /// Every hardware counter, in READ_COUNTERS order (a JSON object).
    pub counters: Counters,
    /// Energy per level from the counters, by default with the ISCA 2016 normalized table.
    pub energy: Energy,
    pub matches: bool,
    pub mismatch_count: usize,
    pub first_mismatches: Vec<Mismatch>,
}

impl LayerStats {
    /// Energy per level with another cost table.
    pub fn energy_with(&self, cfg: &ArchConfig, table: &EnergyTable) -> Energy {
        energy::energy(energy::accesses(cfg, |c| self.counters[c]), table)
    }
}

/// A finished run: the stats and the tensors, for `--dump`.
pub struct LayerRun {
    pub stats: LayerStats,
    pub tensors: Tensors,
    pub ofmap: Vec<i32>,
    pub compiled: Compiled,
}

/// MACs whose (padded) ifmap operand is non-zero.
pub fn nonzero_macs(l: &ConvLayer, t: &Tensors) -> u64 {
    // MAX mode compares zero operands too (and the zero padding): every MAC slot counts.
    if l.max_pool {
        return l.macs();
    }
    let (r, s) = (l.kernel_size.0 as i64, l.kernel_size.1 as i64);
    let (h, w) = (l.height as i64, l.width as i64);
    let (e, f) = (l.out_height() as i64, l.out_width() as i64);
    let mg = (l.out_channels / l.groups) as u64;
    let mut total = 0u64;
    for (k, &x) in t.ifmap.iter().enumerate() {
        if x == 0 {
            continue;
        }
        let k = k as i64;
        let (y, xx) = ((k / w) % h, k % w);
        // output positions (e, f) whose window holds (y, xx)
        let count_1d = |pos: i64, pad: i64, stride: i64, k: i64, n_out: i64| -> u64 {
            (0..k)
                .filter(|&kk| {
                    let o = pos + pad - kk;
                    o >= 0 && o % stride == 0 && o / stride < n_out
                })
                .count() as u64
        };
        let ce = count_1d(y, l.padding.0 as i64, l.stride.0 as i64, r, e);
        let cf = count_1d(xx, l.padding.1 as i64, l.stride.1 as i64, s, f);
        total += ce * cf * mg;
    }
    total
}

/// Compile `l` for `cfg`, run it on the simulator `sim`, and compare with the golden model.
pub fn run_layer(
    cfg: &ArchConfig,
    l: &ConvLayer,
    tensors: Tensors,
    sim: &dyn Backend,
    opts: &RunOpts,
) -> Result<LayerRun, RunError> {
    let plan = crate::mapper::plan(cfg, l).map_err(CompileError::from)?;
    run_planned(cfg, l, plan, tensors, sim, opts)
}

/// [`run_layer`] with the layer's plan already made (`sim` plans every layer before it
/// builds a simulator or a tensor, so that a layer that cannot run fails at once).
pub fn run_planned(
    cfg: &ArchConfig,
    l: &ConvLayer,
    plan: Plan,
    tensors: Tensors,
    sim: &dyn Backend,
    opts: &RunOpts,
) -> Result<LayerRun, RunError> {
    let compiled = compile::compile_with(cfg, l, &tensors, plan)?;
    // A hung or halted design must not run for ever: allow far more than the prediction.
    let out_words: u64 = compiled
        .stores
        .iter()
        .map(|s| u64::from(s.count) + 1)
        .sum::<u64>()
        + crate::program::NUM_COUNTERS as u64
        + 2;
    let budget = compiled.plan.predicted_cycles.saturating_mul(50)
        + 1_000_000
        + sim
            .link_cycles(compiled.words.len() as u64, out_words)
            .saturating_mul(2);
    let opts = RunOpts {
        max_cycles: opts.max_cycles.min(budget),
        ..opts.clone()
    };
    let res = match sim.run(&compiled.words, &opts) {
        Err(SimError::Timeout { words, .. } | SimError::Board { words, .. })
            if compiled.controller_error(&words).is_some() =>
        {
            let (index, word) = compiled.controller_error(&words).unwrap_or_default();
            return Err(RunError::Controller { index, word });
        }
        r => r?,
    };
    let dec = compiled.decode(cfg, &res.words)?;
    let want = golden::conv2d(l, &tensors, cfg.data.psum_width);
    let (e, f) = (l.out_height(), l.out_width());
    let m = l.out_channels;
    let bad: Vec<usize> = (0..want.len())
        .filter(|&k| want[k] != dec.ofmap[k])
        .collect();
    let first_mismatches = bad
        .iter()
        .take(10)
        .map(|&k| {
            let k32 = k as u32;
            Mismatch {
                at: [k32 / (m * e * f), k32 / (e * f) % m, k32 / f % e, k32 % f],
                expected: want[k],
                got: dec.ofmap[k],
            }
        })
        .collect();
    let counters = dec.counters;
    let cycles = counters[Counter::Cycles];
    let energy = energy::energy(energy::accesses(cfg, |c| counters[c]), &EnergyTable::isca());
    let stats = LayerStats {
        layer: l.name.clone(),
        config: cfg.name.clone(),
        config_hash: cfg.hash(),
        backend: sim.name().into(),
        plan: compiled.plan.clone(),
        program_words: compiled.words.len(),
        layer_macs: l.macs(),
        nonzero_macs: nonzero_macs(l, &tensors),
        cycles,
        processing_cycles: cycles.saturating_sub(counters[Counter::HostInWaitCycles]),
        harness_cycles: res.cycles,
        link: res.link.clone(),
        utilization: counters[Counter::BusyPeCycles] as f64
            / (cfg.pes() as f64 * cycles.max(1) as f64),
        counters,
        energy,
        matches: bad.is_empty(),
        mismatch_count: bad.len(),
        first_mismatches,
    };
    Ok(LayerRun {
        stats,
        tensors,
        ofmap: dec.ofmap,
        compiled,
    })
}

fn dump_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Dump {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// Write `ifmap.npy`, `weights.npy`, `ofmap.npy`, `program.bin` and `stats.json` into `dir`
/// (which must exist: a staging directory of [`crate::output::OutDir`], so that the dump is
/// all or nothing).
pub fn dump(cfg: &ArchConfig, l: &ConvLayer, run: &LayerRun, dir: &Path) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| dump_err(dir, e))?;
    let (n, c, h, w) = (l.batch, l.in_channels, l.height, l.width);
    let (m, e, f) = (l.out_channels, l.out_height(), l.out_width());
    let cg = l.in_channels / l.groups;
    let (r, s) = l.kernel_size;
    let dims = |v: &[u32]| v.iter().map(|&x| x as u64).collect::<Vec<u64>>();
    crate::npy::write_i16(
        &dir.join("ifmap.npy"),
        &dims(&[n, c, h, w]),
        &run.tensors.ifmap,
    )
    .map_err(|e| dump_err(&dir.join("ifmap.npy"), e))?;
    crate::npy::write_i16(
        &dir.join("weights.npy"),
        &dims(&[m, cg, r, s]),
        &run.tensors.weights,
    )
    .map_err(|e| dump_err(&dir.join("weights.npy"), e))?;
    let oshape = dims(&[n, m, e, f]);
    let opath = dir.join("ofmap.npy");
    if cfg.data.psum_width <= 16 {
        let v: Vec<i16> = run.ofmap.iter().map(|&x| x as i16).collect();
        crate::npy::write_i16(&opath, &oshape, &v)
    } else {
        crate::npy::write_i32(&opath, &oshape, &run.ofmap)
    }
    .map_err(|e| dump_err(&opath, e))?;
    std::fs::write(
        dir.join("program.bin"),
        crate::program::to_bytes(&run.compiled.words),
    )
    .map_err(|e| dump_err(&dir.join("program.bin"), e))?;
    let json = serde_json::to_string_pretty(&run.stats).map_err(|e| dump_err(dir, e))?;
    std::fs::write(dir.join("stats.json"), json + "\n").map_err(|e| dump_err(dir, e))?;
    Ok(())
}
