//! Whole layers on the generated hardware in Verilator, bit-exact against the golden model:
//! every layer in `layers/` on the 3 x 4 `configs/small.toml`, one on the 12 x 14 chip config.
//! The MAC counters must equal what the data implies, and random stalls on both host streams
//! must change the cycle count and nothing else. The `[fpga]` options run on a subset.

mod common;

use std::path::{Path, PathBuf};

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::program::Counter;
use eyeriss_gen::run::LayerRun;
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::verilator::VerilatorSim;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn config(name: &str) -> ArchConfig {
    ArchConfig::load(&root().join("configs").join(name)).expect("config loads")
}

fn run_file(cfg: &ArchConfig, sim: &VerilatorSim, path: &Path, opts: &RunOpts) -> LayerRun {
    let l = ConvLayer::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r = common::run_checked(cfg, sim, &l, opts);
    let last = r.compiled.tiles.last().expect("a tile");
    let pass = last.passes.last().expect("a pass");
    assert_eq!(
        r.stats.counters[Counter::EnabledPes] as u32,
        last.blocks.len() as u32 * last.ew * pass.chans.len() as u32 * pass.h,
        "{}: enabled PEs are the last pass's",
        l.name
    );
    r
}

fn small_layers() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("layers"))
        .expect("layers/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| {
            !p.file_stem()
                .unwrap()
                .to_string_lossy()
                .starts_with("chip_")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_layer_is_bit_exact_on_3x4() {
    let cfg = config("small.toml");
    let sim = VerilatorSim::build(&cfg, false).expect("verilator build");
    let layers = small_layers();
    assert!(
        layers.len() >= 12,
        "at least 12 varied layers, found {}",
        layers.len()
    );
    for path in &layers {
        let r = run_file(&cfg, &sim, path, &RunOpts::default());
        eprintln!(
            "{:<28} {:>8} cycles, {:>7} MACs, {} passes, {:.1}% utilization",
            r.stats.layer,
            r.stats.cycles,
            r.stats.layer_macs,
            r.stats.plan.passes,
            100.0 * r.stats.utilization
        );
    }
}

#[test]
fn random_host_stalls_lose_nothing() {
    let cfg = config("small.toml");
    let sim = VerilatorSim::build(&cfg, false).expect("verilator build");
    let path = root().join("layers/stride2_pad1.toml");
    let calm = run_file(&cfg, &sim, &path, &RunOpts::default());
    for seed in [1, 2] {
        let opts = RunOpts {
            stall_in: 30,
            stall_out: 40,
            seed,
            ..RunOpts::default()
        };
        let stalled = run_file(&cfg, &sim, &path, &opts);
        assert!(
            stalled.stats.cycles > calm.stats.cycles,
            "stalls cost cycles"
        );
        assert_eq!(stalled.ofmap, calm.ofmap, "same ofmap under backpressure");
        for c in [
            Counter::Macs,
            Counter::ZeroSkippedMacs,
            Counter::GlbReads,
            Counter::GlbWrites,
            Counter::HostWordsIn,
        ] {
            assert_eq!(
                stalled.stats.counters[c],
                calm.stats.counters[c],
                "{}",
                c.name()
            );
        }
        assert!(stalled.stats.counters[Counter::HostInWaitCycles] > 0);
    }
}

/// `configs/ecp5_small.toml`: the 3 x 4 array with the FPGA options on (a pipelined multiply,
/// the last 3 PEs multiplying in logic). Varied layers that reach the logic-multiplier PEs
/// must stay bit-exact, with the counters the analysis predicts (`common::run_checked`), and
/// take the cycles of the default PE plus one per output column and pass.
#[test]
fn fpga_options_are_bit_exact_on_ecp5_small() {
    let cfg = config("ecp5_small.toml");
    assert!(cfg.fpga.mult_pipeline && cfg.fpga.logic_mult_pes > 0);
    let sim = VerilatorSim::build(&cfg, false).expect("verilator build");
    let base = config("small.toml");
    let base_sim = VerilatorSim::build(&base, false).expect("verilator build");
    for name in [
        "tiny",
        "stride2_pad1",
        "kernel3x5",
        "groups2",
        "odd_channels",
        "zeros80",
    ] {
        let path = root().join("layers").join(format!("{name}.toml"));
        let r = run_file(&cfg, &sim, &path, &RunOpts::default());
        let b = run_file(&base, &base_sim, &path, &RunOpts::default());
        assert_eq!(r.ofmap, b.ofmap, "{name}: same ofmap as the default PE");
        assert!(
            r.stats.cycles > b.stats.cycles,
            "{name}: the extra stage costs cycles ({} vs {})",
            r.stats.cycles,
            b.stats.cycles
        );
        assert!(
            r.stats.plan.predicted_cycles > b.stats.plan.predicted_cycles,
            "{name}: and the model predicts them"
        );
        eprintln!(
            "{name:<14} {:>7} cycles ({:+} over small.toml; predicted {:+})",
            r.stats.cycles,
            r.stats.cycles as i64 - b.stats.cycles as i64,
            r.stats.plan.predicted_cycles as i64 - b.stats.plan.predicted_cycles as i64
        );
    }
}

/// The ECP5 form of `configs/ecp5_small.toml`: what the ECP5 flow synthesizes, with each DSP
/// PE's multiply pipeline in a MULT18X18D's own input and output registers
/// (`eyeriss_mult_pipe` under `EYERISS_ECP5`), simulated through `sim/ecp5_mult18x18d.v`.
/// It must be cycle for cycle the portable form: same output words, same counters.
#[test]
fn the_ecp5_dsp_form_matches_the_portable_one() {
    let cfg = config("ecp5_small.toml");
    let dsp = VerilatorSim::builder(&cfg)
        .ecp5()
        .build()
        .expect("verilator build");
    let portable = VerilatorSim::build(&cfg, false).expect("verilator build");
    assert_ne!(dsp.binary(), portable.binary(), "two different builds");
    for name in ["tiny", "kernel3x5", "odd_channels", "zeros80"] {
        let path = root().join("layers").join(format!("{name}.toml"));
        let stalls = RunOpts {
            stall_in: 20,
            stall_out: 20,
            seed: 7,
            ..RunOpts::default()
        };
        let d = run_file(&cfg, &dsp, &path, &stalls);
        let p = run_file(&cfg, &portable, &path, &stalls);
        assert_eq!(d.ofmap, p.ofmap, "{name}");
        assert_eq!(d.stats.cycles, p.stats.cycles, "{name}: cycles");
        assert_eq!(d.stats.counters, p.stats.counters, "{name}: counters");
    }
}

/// Logic multipliers without the pipeline stage, in every PE: bit-exact, and cycle for cycle
/// the default PE's.
#[test]
fn logic_multipliers_alone_are_bit_exact_and_cost_no_cycles() {
    let mut cfg = config("small.toml");
    cfg.fpga.logic_mult_pes = cfg.pes();
    cfg.name = "small_logic_mult".into();
    cfg.validate().unwrap();
    let sim = VerilatorSim::build(&cfg, false).expect("verilator build");
    let base = config("small.toml");
    let base_sim = VerilatorSim::build(&base, false).expect("verilator build");
    for name in ["stride2_pad1", "odd_channels"] {
        let path = root().join("layers").join(format!("{name}.toml"));
        let r = run_file(&cfg, &sim, &path, &RunOpts::default());
        let b = run_file(&base, &base_sim, &path, &RunOpts::default());
        assert_eq!(r.ofmap, b.ofmap, "{name}");
        assert_eq!(r.stats.cycles, b.stats.cycles, "{name}: cycles");
    }
}

/// Shared filter spads (`[fpga] shared_filter_spad`) on 3 x 4 and on 3 x 3 (the last PE alone
/// in its pair module): bit-exact, and cycle for cycle the private spads of the default PE.
#[test]
fn shared_filter_spads_are_bit_exact_and_cost_no_cycles() {
    let base = config("small.toml");
    let base_sim = VerilatorSim::build(&base, false).expect("verilator build");
    for (rows, cols) in [(3, 4), (3, 3)] {
        let mut cfg = base.clone();
        cfg.array.rows = rows;
        cfg.array.cols = cols;
        cfg.fpga.shared_filter_spad = true;
        cfg.name = format!("shared_{rows}x{cols}");
        cfg.validate().unwrap();
        let sim = VerilatorSim::build(&cfg, false).expect("verilator build");
        let mut plain = base.clone();
        plain.array.rows = rows;
        plain.array.cols = cols;
        plain.name = format!("a{rows}x{cols}");
        let plain_sim = if (rows, cols) == (3, 4) {
            None
        } else {
            Some(VerilatorSim::build(&plain, false).expect("verilator build"))
        };
        for name in ["kernel3x5", "groups2", "kernel7_tall"] {
            let path = root().join("layers").join(format!("{name}.toml"));
            let r = run_file(&cfg, &sim, &path, &RunOpts::default());
            let b = run_file(
                &plain,
                plain_sim.as_ref().unwrap_or(&base_sim),
                &path,
                &RunOpts::default(),
            );
            assert_eq!(r.ofmap, b.ofmap, "{name} on {rows} x {cols}");
            assert_eq!(
                r.stats.cycles, b.stats.cycles,
                "{name} on {rows} x {cols}: cycles"
            );
        }
    }
}

#[test]
fn a_layer_is_bit_exact_on_the_12x14_chip() {
    let cfg = config("eyeriss.toml");
    let sim = VerilatorSim::build(&cfg, false).expect("verilator build");
    let r = run_file(
        &cfg,
        &sim,
        &root().join("layers/chip_conv3x3.toml"),
        &RunOpts::default(),
    );
    assert!(
        r.stats.plan.active_pes > 100,
        "the chip mapping uses most PEs"
    );
}
