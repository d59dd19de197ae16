//! `eyeriss-gen sim`: layers run on the Verilator or rust-hdl build of the design, checked
//! against the golden model, with their cycles, counters and energy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::ValueEnum;
use indicatif::MultiProgress;

use eyeriss_gen::analysis::energy::EnergyTable;
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::output::{OutDir, OutFileStaged};
use eyeriss_gen::program::Counter;
use eyeriss_gen::progress;
use eyeriss_gen::run::{self, LayerStats};
use eyeriss_gen::sim::Backend as SimBackend;
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::rusthdl::RustHdlSim;
use eyeriss_gen::sim::verilator::VerilatorSim;

use super::{Target, load_config, plan_showing};

#[derive(clap::Args)]
pub struct SimArgs {
    #[command(flatten)]
    pub target: Target,
    #[arg(long, value_enum, default_value_t = Backend::Verilator)]
    pub backend: Backend,
    /// Write a waveform (VCD) of the run here, under the same signal names on both
    /// backends (with --network, one file per layer: FILE's stem, '-', the layer name).
    #[arg(long, value_name = "FILE")]
    pub vcd: Option<PathBuf>,
    /// Write ifmap.npy, weights.npy, ofmap.npy, program.bin and stats.json here (one
    /// subdirectory per layer with --network).
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// Replace the --dump directory even if eyeriss-gen did not write it.
    #[arg(long, requires = "dump")]
    pub force: bool,
    /// Run through the FPGA board top: the host talks to it only over its UART pins
    /// (docs/fpga.md), with --uart-div clocks per bit.
    #[arg(long)]
    pub uart: bool,
    /// Clocks per UART bit with --uart (at least 4; a board at 12 MHz and 115200 baud
    /// has 104).
    #[arg(long, requires = "uart", default_value_t = eyeriss_gen::fpga::uart::SIM_DIVISOR,
          value_parser = clap::value_parser!(u32).range(4..=100_000))]
    pub uart_div: u32,
    /// With --uart: no layer; serve the board top's UART on a pseudo-terminal, whose path
    /// it prints, for `eyeriss-gen board --port PATH` (or any serial terminal) until Ctrl-C.
    #[arg(long, requires = "uart", conflicts_with_all = ["layer", "network", "dump", "vcd", "json"])]
    pub pty: bool,
    /// Percent of cycles the host holds back an input word (backpressure test); with
    /// --uart, percent of bytes before which the host pauses one bit time.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=95))]
    pub stall_in: u32,
    /// Percent of cycles the host refuses an output word (backpressure test; not with
    /// --uart, where the board holds its output while the UART is busy).
    #[arg(long, default_value_t = 0, conflicts_with = "uart",
          value_parser = clap::value_parser!(u32).range(0..=95))]
    pub stall_out: u32,
    /// Energy cost table (TOML, see energy/); default: ISCA 2016 normalized costs.
    #[arg(long)]
    pub energy: Option<PathBuf>,
    /// Print the statistics as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    /// The generated Verilog, compiled with Verilator (cached per config): the fast one.
    Verilator,
    /// The rust-hdl model of the same hardware (src/hw), cycle for cycle the same; no build
    /// step, slower per cycle.
    RustHdl,
}

pub fn run(a: SimArgs) -> Result<ExitCode> {
    let SimArgs {
        target,
        backend,
        vcd,
        dump,
        force,
        uart,
        uart_div,
        pty,
        stall_in,
        stall_out,
        energy,
        json,
    } = a;
    let cfg = load_config(&target.config)?;
    if pty {
        return serve_pty(&cfg, uart_div);
    }
    let outputs = Outputs {
        vcd,
        dump,
        force,
        energy,
        json,
    };
    let prepared = prepare(&cfg, &target, &outputs)?;
    let sim: Box<dyn SimBackend> = match backend {
        Backend::Verilator if uart => Box::new(
            VerilatorSim::builder(&cfg)
                .uart(uart_div)
                .progress(true)
                .build()?,
        ),
        Backend::Verilator => Box::new(VerilatorSim::build(&cfg, true)?),
        Backend::RustHdl if uart => {
            anyhow::bail!("--uart needs --backend verilator: the rust-hdl model has no board top")
        }
        Backend::RustHdl => Box::new(RustHdlSim::new(&cfg)?),
    };
    execute(&cfg, prepared, &outputs, sim.as_ref(), stall_in, stall_out)
}

/// `sim --uart --pty`: the board top's model serving its UART on a pseudo-terminal until
/// interrupted.
fn serve_pty(cfg: &ArchConfig, uart_div: u32) -> Result<ExitCode> {
    let sim = VerilatorSim::builder(cfg)
        .uart(uart_div)
        .progress(true)
        .build()?;
    let server = sim.serve_pty()?;
    println!(
        "serving the board top of '{}' (design {:016x}) on {}: {} baud, {} clocks per bit; Ctrl-C ends it",
        cfg.name,
        eyeriss_gen::fpga::uart::design_id(cfg),
        server.path().display(),
        eyeriss_gen::fpga::uart::DEFAULT_BAUD,
        uart_div
    );
    println!(
        "  run: eyeriss-gen board --port {} --config <this config> --layer <layer>",
        server.path().display()
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    let status = server.wait()?;
    anyhow::ensure!(status.success(), "the pty model ended: {status}");
    Ok(ExitCode::SUCCESS)
}

/// Where a run's results go besides the table: `--vcd`, `--dump`, `--energy`, `--json`.
pub struct Outputs {
    pub vcd: Option<PathBuf>,
    pub dump: Option<PathBuf>,
    pub force: bool,
    pub energy: Option<PathBuf>,
    pub json: bool,
}

/// Everything that can be refused before a backend is built or a board talked to: the
/// layers and their plans, the energy table and the output paths.
pub struct Prepared {
    list: Vec<eyeriss_gen::layer::ConvLayer>,
    plans: Vec<eyeriss_gen::mapper::Plan>,
    table: Option<EnergyTable>,
    dump_dir: Option<OutDir>,
    vcds: Vec<Option<OutFileStaged>>,
    multi: MultiProgress,
}

pub fn prepare(cfg: &ArchConfig, target: &Target, o: &Outputs) -> Result<Prepared> {
    let table = match &o.energy {
        Some(p) => Some(EnergyTable::load(p)?),
        None => None,
    };
    let list = target.sel.load(target.layers.as_deref())?;
    let many = list.len() > 1;
    // Layers that cannot run first, then output paths.
    let multi = MultiProgress::new();
    let plans = list
        .iter()
        .map(|l| plan_showing(&multi, cfg, l))
        .collect::<Result<Vec<_>, _>>()?;
    let dump_dir = match &o.dump {
        Some(d) => Some(OutDir::create(d, o.force)?),
        None => None,
    };
    let vcds = match &o.vcd {
        Some(v) => list
            .iter()
            .map(|l| OutFileStaged::create(&vcd_path(v, &l.name, many)).map(Some))
            .collect::<Result<Vec<_>, _>>()?,
        None => list.iter().map(|_| None).collect(),
    };
    Ok(Prepared {
        list,
        plans,
        table,
        dump_dir,
        vcds,
        multi,
    })
}

/// Run every prepared layer on `sim`, check it against the golden model, and print (or
/// dump, or write as JSON) what it measured. Exit 1 unless every layer matched.
pub fn execute(
    cfg: &ArchConfig,
    p: Prepared,
    o: &Outputs,
    sim: &dyn SimBackend,
    stall_in: u32,
    stall_out: u32,
) -> Result<ExitCode> {
    let Prepared {
        list,
        plans,
        table,
        dump_dir,
        vcds,
        multi,
    } = p;
    let many = list.len() > 1;
    let json = o.json;
    let mut all_match = true;
    let mut stats = Vec::new();
    let all = many.then(|| progress::items(&multi, list.len() as u64, "layers simulated"));
    for ((l, plan), vcd) in list.iter().zip(plans).zip(vcds) {
        let bar = progress::cycles(&multi, plan.predicted_cycles, &l.name);
        let tensors = l
            .tensors(cfg.data.data_width)
            .with_context(|| format!("layer data for '{}'", l.name))?;
        let opts = RunOpts {
            stall_in,
            stall_out,
            vcd: vcd.as_ref().map(|v| v.path().to_path_buf()),
            progress: Some(bar.clone()),
            ..RunOpts::default()
        };
        let t = Instant::now();
        let mut r = run::run_planned(cfg, l, plan, tensors, sim, &opts)?;
        if let Some(table) = &table {
            r.stats.energy = r.stats.energy_with(cfg, table);
        }
        let wall = t.elapsed().as_secs_f64();
        bar.finish_and_clear();
        if let Some(a) = &all {
            a.inc(1);
        }
        if let Some(v) = vcd {
            v.commit()?;
        }
        if let Some(d) = &dump_dir {
            let dir = if many {
                d.path().join(&l.name)
            } else {
                d.path().to_path_buf()
            };
            run::dump(cfg, l, &r, &dir)?;
        }
        if !json {
            multi.suspend(|| print_stats(cfg, &r.stats, wall));
        }
        all_match &= r.stats.matches;
        stats.push(r.stats);
    }
    if let Some(a) = all {
        a.finish_and_clear();
    }
    if let (Some(d), Some(name)) = (dump_dir, &o.dump) {
        d.commit()?;
        if !json {
            println!("dumped to {}", name.display());
        }
    }
    if json {
        if stats.len() == 1 {
            println!("{}", serde_json::to_string_pretty(&stats[0])?);
        } else {
            println!("{}", serde_json::to_string_pretty(&stats)?);
        }
    }
    Ok(if all_match {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--vcd FILE` for one layer of several: `<stem>-<layer>.vcd` beside FILE.
fn vcd_path(file: &Path, layer: &str, many: bool) -> PathBuf {
    if !many {
        return file.to_path_buf();
    }
    let stem = file
        .file_stem()
        .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
    file.with_file_name(format!("{stem}-{layer}.vcd"))
}

fn print_stats(cfg: &ArchConfig, s: &LayerStats, wall: f64) {
    let verdict = if s.matches {
        "MATCH: ofmap is bit-exact against the golden model".to_string()
    } else {
        format!(
            "MISMATCH: {} ofmap values differ from the golden model",
            s.mismatch_count
        )
    };
    println!(
        "layer '{}' on '{}' ({} x {} PEs, {}): {verdict}",
        s.layer, s.config, cfg.array.rows, cfg.array.cols, s.backend
    );
    for m in &s.first_mismatches {
        println!(
            "  ofmap[n={}, m={}, e={}, f={}]: expected {}, got {}",
            m.at[0], m.at[1], m.at[2], m.at[3], m.expected, m.got
        );
    }
    println!("  cycles            {}", s.cycles);
    println!(
        "  processing cycles {} (cycles minus {} waiting for host input)",
        s.processing_cycles,
        s.counters[Counter::HostInWaitCycles]
    );
    println!(
        "  predicted cycles  {} ({:+.1}% against measured)",
        s.plan.predicted_cycles,
        100.0 * (s.plan.predicted_cycles as f64 - s.cycles as f64) / s.cycles.max(1) as f64
    );
    println!("  ideal cycles      {} (MACs / PEs)", s.plan.ideal_cycles);
    println!("  active PEs        {} of {}", s.plan.active_pes, cfg.pes());
    println!(
        "  utilization       {:.1}% (busy PE-cycles / PE-cycles)",
        100.0 * s.utilization
    );
    println!(
        "  MACs              {} of {} (zero-skipped {})",
        s.counters[Counter::Macs],
        s.layer_macs,
        s.counters[Counter::ZeroSkippedMacs]
    );
    if s.harness_cycles > 0 {
        println!(
            "  simulated         {} cycles in {:.2} s ({:.0} cycles/s)",
            s.harness_cycles,
            wall,
            s.harness_cycles as f64 / wall.max(1e-9)
        );
    } else {
        println!("  ran               in {wall:.2} s on the board");
    }
    if let Some(l) = &s.link {
        print!(
            "  UART              {} bytes to the board, {} from it; {} credits in {} frames",
            l.bytes_to_board, l.bytes_from_board, l.credits, l.credit_frames
        );
        if s.harness_cycles > 0 {
            print!("; host waited {} cycles for credits", l.credit_wait_cycles);
        }
        println!();
    }
    let e = &s.energy;
    let pct = |x: f64| 100.0 * x / e.total.max(f64::MIN_POSITIVE);
    println!(
        "  energy            {:.4e} {} ({}): DRAM {:.1}%, GLB {:.1}%, array {:.1}%, RF {:.1}%, MAC {:.1}%",
        e.total,
        e.unit,
        e.table,
        pct(e.dram),
        pct(e.glb),
        pct(e.array),
        pct(e.rf),
        pct(e.mac)
    );
    println!("  counters:");
    for (c, v) in s.counters.iter() {
        println!("    {:<22} {v}", c.name());
    }
}
