//! `eyeriss-gen`: the command-line edge. Library errors become `anyhow` reports here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use eyeriss_gen::analysis::energy::EnergyTable;
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::mapper;
use eyeriss_gen::network::Network;
use eyeriss_gen::output::{OutDir, OutFileStaged};
use eyeriss_gen::program::Counter;
use eyeriss_gen::progress;
use eyeriss_gen::run::{self, LayerStats};
use eyeriss_gen::sim::Backend as SimBackend;
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::rusthdl::RustHdlSim;
use eyeriss_gen::sim::verilator::VerilatorSim;
use eyeriss_gen::{compare, report};
use indicatif::MultiProgress;

#[derive(Parser)]
#[command(
    name = "eyeriss-gen",
    version,
    about = "Generate Eyeriss-style row-stationary CNN accelerators"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Which layers to work on: one layer file, or layers of a network file.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct LayerSel {
    /// A layer file (TOML, PyTorch Conv2d names).
    #[arg(long, short)]
    layer: Option<PathBuf>,
    /// A network file (e.g. networks/alexnet.toml); all layers unless --layers is given.
    #[arg(long, short)]
    network: Option<PathBuf>,
}

impl LayerSel {
    fn load(&self, only: Option<&str>) -> Result<Vec<ConvLayer>> {
        match (&self.layer, &self.network) {
            (Some(l), _) => Ok(vec![ConvLayer::load(l)?]),
            (None, Some(n)) => select(&Network::load(n)?, only),
            (None, None) => anyhow::bail!("give --layer FILE or --network FILE"),
        }
    }
}

/// The layers of `net` that `--layers` names (all for `None`).
fn select(net: &Network, only: Option<&str>) -> Result<Vec<ConvLayer>> {
    if let Some(only) = only {
        check_layer_list(only)?;
    }
    Ok(net.select(only)?)
}

/// `--layers a,b`: at least one name, none empty, none twice.
fn check_layer_list(only: &str) -> Result<()> {
    let names: Vec<&str> = only.split(',').map(str::trim).collect();
    if names.iter().all(|n| n.is_empty()) {
        anyhow::bail!(
            "--layers is empty: name at least one layer of the network (comma-separated)"
        );
    }
    if names.iter().any(|n| n.is_empty()) {
        anyhow::bail!("--layers {only:?} has an empty name: separate names with single commas");
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            anyhow::bail!("--layers names '{n}' twice: name each layer once");
        }
    }
    Ok(())
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the Verilog, filelist, manifest and FuseSoC core for a config.
    Generate {
        /// Architecture config (TOML), e.g. configs/eyeriss.toml.
        #[arg(long, short)]
        config: PathBuf,
        /// Output directory (default: rtl_out/<name>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Replace the output directory even if eyeriss-gen did not write it.
        #[arg(long)]
        force: bool,
    },
    /// Map layers onto the array and print the chosen mappings and their predicted cycles.
    Map {
        /// Architecture config (TOML), e.g. configs/eyeriss.toml.
        #[arg(long, short)]
        config: PathBuf,
        #[command(flatten)]
        sel: LayerSel,
        /// With --network: only these layers (comma-separated names).
        #[arg(long, requires = "network")]
        layers: Option<String>,
        /// Say which limit rules out each larger choice of every parameter.
        #[arg(long)]
        explain: bool,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run layers on the generated hardware and compare them with the golden model.
    Sim {
        /// Architecture config (TOML), e.g. configs/eyeriss.toml.
        #[arg(long, short)]
        config: PathBuf,
        #[command(flatten)]
        sel: LayerSel,
        /// With --network: only these layers (comma-separated names).
        #[arg(long, requires = "network")]
        layers: Option<String>,
        #[arg(long, value_enum, default_value_t = Backend::Verilator)]
        backend: Backend,
        /// Write a waveform (VCD) of the run here, under the same signal names on both
        /// backends (with --network, one file per layer: FILE's stem, '-', the layer name).
        #[arg(long, value_name = "FILE")]
        vcd: Option<PathBuf>,
        /// Write ifmap.npy, weights.npy, ofmap.npy, program.bin and stats.json here (one
        /// subdirectory per layer with --network).
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Replace the --dump directory even if eyeriss-gen did not write it.
        #[arg(long, requires = "dump")]
        force: bool,
        /// Run through the FPGA board top: the host talks to it only over its UART pins
        /// (docs/fpga.md), with --uart-div clocks per bit.
        #[arg(long)]
        uart: bool,
        /// Clocks per UART bit with --uart (at least 4; a board at 12 MHz and 115200 baud
        /// has 104).
        #[arg(long, requires = "uart", default_value_t = eyeriss_gen::fpga::uart::SIM_DIVISOR,
              value_parser = clap::value_parser!(u32).range(4..=100_000))]
        uart_div: u32,
        /// Percent of cycles the host holds back an input word (backpressure test); with
        /// --uart, percent of bytes before which the host pauses one bit time.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=95))]
        stall_in: u32,
        /// Percent of cycles the host refuses an output word (backpressure test; not with
        /// --uart, where the board holds its output while the UART is busy).
        #[arg(long, default_value_t = 0, conflicts_with = "uart",
              value_parser = clap::value_parser!(u32).range(0..=95))]
        stall_out: u32,
        /// Energy cost table (TOML, see energy/); default: ISCA 2016 normalized costs.
        #[arg(long)]
        energy: Option<PathBuf>,
        /// Print the statistics as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Build a bitstream for a board: resource check, Yosys, nextpnr, pack, report.json.
    Fpga {
        #[arg(long, short)]
        config: PathBuf,
        /// A board in constraints/ (icebreaker, hx8k_breakout, ulx3s, ...) or a board file.
        #[arg(long, short)]
        board: String,
        /// Output directory (default: fpga_out/<config>-<board>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Clock constraint in MHz (default: the board's clock).
        #[arg(long)]
        freq: Option<f64>,
        /// Run the tools even when the resource check says the design does not fit.
        #[arg(long)]
        ignore_fit: bool,
        /// Replace the output directory even if eyeriss-gen did not write it.
        #[arg(long)]
        force: bool,
        /// Baud rate of the board top's UART (default: the board file's, else 115200).
        #[arg(long)]
        baud: Option<u32>,
    },
    /// Cycles, active PEs and energy per layer from the mapper and the counter model, without
    /// simulating: a table, report.json, layers.csv and SVG charts.
    Report {
        /// Architecture config (TOML), e.g. configs/eyeriss.toml.
        #[arg(long, short)]
        config: PathBuf,
        #[command(flatten)]
        sel: LayerSel,
        /// With --network: only these layers (comma-separated names).
        #[arg(long, requires = "network")]
        layers: Option<String>,
        /// Energy cost table (TOML, see energy/); default: ISCA 2016 normalized costs.
        #[arg(long)]
        energy: Option<PathBuf>,
        /// Output directory (default: report_out/<config>-<network>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Replace the output directory even if eyeriss-gen did not write it.
        #[arg(long)]
        force: bool,
    },
    /// Compare the energy of dataflows (WS, OSA, OSB, OSC, NLR, RS) on a network under the
    /// same area, as ISCA 2016 section VII: a table, compare.json and SVG charts.
    Compare {
        /// A network file (default: AlexNet, as networks/alexnet.toml, built into the tool so
        /// that it does not depend on the working directory).
        #[arg(long, short)]
        network: Option<PathBuf>,
        /// With --network: only these layers (comma-separated names).
        #[arg(long)]
        layers: Option<String>,
        /// Batch sizes (comma-separated).
        #[arg(long, default_value = "1,16,64", value_delimiter = ',')]
        batches: Vec<u32>,
        /// Energy cost table (TOML, see energy/); default: ISCA 2016 normalized costs.
        #[arg(long)]
        energy: Option<PathBuf>,
        /// Output directory (default: report_out/compare-<network>).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Replace the output directory even if eyeriss-gen did not write it.
        #[arg(long)]
        force: bool,
    },
    /// List the shipped boards: their FPGA, package, clock and UART (for `fpga --board`).
    Boards,
    /// Check which external tools are installed.
    Doctor,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// The generated Verilog, compiled with Verilator (cached per config): the fast one.
    Verilator,
    /// The rust-hdl model of the same hardware (src/hw), cycle for cycle the same; no build
    /// step, slower per cycle.
    RustHdl,
}

/// The error and its causes, each once: many library errors already end with their cause's
/// text (`cannot create x.vcd: No such file or directory`), which `{:#}` would repeat.
fn error_chain(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.ends_with(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
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

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader goes away (`eyeriss-gen map ... | head`)
    // instead of panicking on a failed print.
    #[cfg(unix)]
    // SAFETY: restores the default disposition of SIGPIPE before any thread or I/O exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if let Err(e) = eyeriss_gen::output::install_signal_cleanup() {
        eprintln!("warning: temporary files will not be removed on Ctrl-C: {e}");
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// Plan `l`, with a bar over the mapper's search under `multi`.
fn plan_showing(
    multi: &MultiProgress,
    cfg: &ArchConfig,
    l: &ConvLayer,
) -> Result<mapper::Plan, mapper::MapError> {
    let bar = progress::search(multi, &l.name);
    let r = mapper::plan_reporting(cfg, l, &mut |done, total| {
        bar.set_length(u64::from(total));
        bar.set_position(u64::from(done));
    });
    bar.finish_and_clear();
    r
}

fn load_config(path: &Path) -> Result<ArchConfig> {
    Ok(ArchConfig::load(path)?)
}

fn print_plans(cfg: &ArchConfig, plans: &[(ConvLayer, mapper::Plan)]) {
    println!(
        "{} x {} PEs, GLB {} words ('{}')",
        cfg.array.rows,
        cfg.array.cols,
        cfg.glb_words(),
        cfg.name
    );
    println!(
        "{:<10} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>4} {:>7} {:>3} {:>9} {:>12} {:>12} {:>6}",
        "layer",
        "n",
        "p",
        "q",
        "e",
        "r",
        "t",
        "m",
        "PEs",
        "passes",
        "buf",
        "GLB words",
        "predicted",
        "ideal",
        "ratio"
    );
    for (l, p) in plans {
        let m = p.mapping;
        let t = p.active_pes / (m.ew * m.vc * m.rh).max(1);
        println!(
            "{:<10} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3} {:>4} {:>7} {:>3} {:>9} {:>12} {:>12} {:>6.2}",
            l.name,
            m.nb,
            m.p,
            m.q,
            m.ew,
            m.vc,
            t,
            t * m.p,
            p.active_pes,
            p.passes,
            mapper::buffers(&m),
            p.glb_words,
            p.predicted_cycles,
            p.ideal_cycles,
            p.predicted_cycles as f64 / p.ideal_cycles.max(1) as f64
        );
    }
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
    println!(
        "  simulated         {} cycles in {:.2} s ({:.0} cycles/s)",
        s.harness_cycles,
        wall,
        s.harness_cycles as f64 / wall.max(1e-9)
    );
    if let Some(l) = &s.link {
        println!(
            "  UART              {} bytes to the board, {} from it; {} credits in {} frames; host waited {} cycles for credits",
            l.bytes_to_board, l.bytes_from_board, l.credits, l.credit_frames, l.credit_wait_cycles
        );
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

fn default_out(cfg: &ArchConfig) -> PathBuf {
    PathBuf::from("rtl_out").join(&cfg.name)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::Generate { config, out, force } => {
            let cfg = load_config(&config)?;
            let out = out.unwrap_or_else(|| default_out(&cfg));
            let t = Instant::now();
            let files = emit::write(&cfg, &out, force)?;
            println!(
                "wrote {} files to {} in {:.1} ms (config '{}', hash {})",
                files.len(),
                out.display(),
                t.elapsed().as_secs_f64() * 1e3,
                cfg.name,
                cfg.hash()
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Map {
            config,
            sel,
            layers,
            explain,
            json,
        } => {
            let cfg = load_config(&config)?;
            let mut plans = Vec::new();
            let mut refused = Vec::new();
            let list = sel.load(layers.as_deref())?;
            let multi = MultiProgress::new();
            let all = progress::items(&multi, list.len() as u64, "layers mapped");
            for l in list {
                // With --explain, a layer that cannot run is reported, the others go on, and
                // the exit code says that one could not.
                let planned = plan_showing(&multi, &cfg, &l);
                all.inc(1);
                match planned {
                    Ok(plan) => plans.push((l, plan)),
                    Err(e) if explain => refused.push((l.name, e.to_string())),
                    Err(e) => return Err(e.into()),
                }
            }
            all.finish_and_clear();
            if json {
                let mut v: Vec<_> = plans
                    .iter()
                    .map(|(l, p)| {
                        let mut o = serde_json::json!({"layer": l.name, "plan": p});
                        if explain {
                            o["why_not_larger"] = mapper::explain(&cfg, l, p)
                                .into_iter()
                                .map(|(what, why)| serde_json::json!({"choice": what, "why": why}))
                                .collect();
                        }
                        o
                    })
                    .collect();
                v.extend(
                    refused
                        .iter()
                        .map(|(l, e)| serde_json::json!({"layer": l, "cannot_run": e})),
                );
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for (l, e) in &refused {
                    println!("{l}: cannot run: {e}");
                }
                print_plans(&cfg, &plans);
                println!(
                    "GLB banks of the largest pass ({} words each):",
                    cfg.glb.bank_words
                );
                for (l, p) in &plans {
                    let show = |r: Option<(u64, u64)>| {
                        r.map_or("-".to_string(), |(a, b)| format!("{a}-{b}"))
                    };
                    let [ps, ifm, fil] = p.glb.banks(cfg.glb.bank_words as u64);
                    println!(
                        "  {:<10} psums {:>6} words in banks {:<7} ifmap rows {:>6} in {:<7} filters {:>6} in {}",
                        l.name,
                        p.glb.psum_words,
                        show(ps),
                        p.glb.ifmap_words,
                        show(ifm),
                        p.glb.filter_words,
                        show(fil)
                    );
                }
                if explain {
                    for (l, p) in &plans {
                        println!("{}: why not larger", l.name);
                        for (what, why) in mapper::explain(&cfg, l, p) {
                            println!("  {what:<12} {why}");
                        }
                    }
                }
            }
            if !refused.is_empty() {
                eprintln!(
                    "error: {} of {} layers cannot run on '{}': {}",
                    refused.len(),
                    refused.len() + plans.len(),
                    cfg.name,
                    refused
                        .iter()
                        .map(|(l, _)| l.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Ok(ExitCode::from(2));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Sim {
            config,
            sel,
            layers,
            backend,
            vcd,
            dump,
            force,
            uart,
            uart_div,
            stall_in,
            stall_out,
            energy,
            json,
        } => {
            let cfg = load_config(&config)?;
            let table = match &energy {
                Some(p) => Some(EnergyTable::load(p)?),
                None => None,
            };
            let list = sel.load(layers.as_deref())?;
            let many = list.len() > 1;
            // Everything that can be refused is refused before a simulator is built or a
            // tensor allocated: layers that cannot run, then output paths.
            let multi = MultiProgress::new();
            let plans = list
                .iter()
                .map(|l| plan_showing(&multi, &cfg, l))
                .collect::<Result<Vec<_>, _>>()?;
            let dump_dir = match &dump {
                Some(d) => Some(OutDir::create(d, force)?),
                None => None,
            };
            let vcds = match &vcd {
                Some(v) => list
                    .iter()
                    .map(|l| OutFileStaged::create(&vcd_path(v, &l.name, many)).map(Some))
                    .collect::<Result<Vec<_>, _>>()?,
                None => list.iter().map(|_| None).collect(),
            };
            let sim: Box<dyn SimBackend> = match backend {
                Backend::Verilator if uart => Box::new(
                    VerilatorSim::builder(&cfg)
                        .uart(uart_div)
                        .progress(true)
                        .build()?,
                ),
                Backend::Verilator => Box::new(VerilatorSim::build(&cfg, true)?),
                Backend::RustHdl if uart => anyhow::bail!(
                    "--uart needs --backend verilator: the rust-hdl model has no board top"
                ),
                Backend::RustHdl => Box::new(RustHdlSim::new(&cfg)?),
            };
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
                let mut r = run::run_planned(&cfg, l, plan, tensors, sim.as_ref(), &opts)?;
                if let Some(table) = &table {
                    r.stats.energy = r.stats.energy_with(&cfg, table);
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
                    run::dump(&cfg, l, &r, &dir)?;
                }
                if !json {
                    multi.suspend(|| print_stats(&cfg, &r.stats, wall));
                }
                all_match &= r.stats.matches;
                stats.push(r.stats);
            }
            if let Some(a) = all {
                a.finish_and_clear();
            }
            if let (Some(d), Some(name)) = (dump_dir, &dump) {
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
        Cmd::Fpga {
            config,
            board,
            out,
            freq,
            ignore_fit,
            force,
            baud,
        } => {
            let cfg = load_config(&config)?;
            let board = eyeriss_gen::fpga::Board::load(&board)?;
            let out = out.unwrap_or_else(|| {
                PathBuf::from("fpga_out").join(format!("{}-{}", cfg.name, board.name))
            });
            let opts = eyeriss_gen::fpga::FpgaOpts {
                out: out.clone(),
                freq_mhz: freq,
                ignore_fit,
                force,
                baud,
                progress: true,
            };
            let report = eyeriss_gen::fpga::build(&cfg, &board, &opts)?;
            println!("{}", report.summary());
            println!("wrote {} (report.json, logs/)", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Report {
            config,
            sel,
            layers,
            energy,
            out,
            force,
        } => {
            let cfg = load_config(&config)?;
            let table = energy_table(energy.as_deref())?;
            let (name, list) = match &sel.network {
                Some(n) => {
                    let net = Network::load(n)?;
                    let list = select(&net, layers.as_deref())?;
                    (net.name, list)
                }
                None => {
                    let list = sel.load(None)?;
                    (list[0].name.clone(), list)
                }
            };
            let out = out.unwrap_or_else(|| {
                PathBuf::from("report_out").join(format!("{}-{}", cfg.name, name))
            });
            eyeriss_gen::output::check_dir(&out, force)?;
            let multi = MultiProgress::new();
            let bar = progress::items(&multi, list.len() as u64, "layers planned and compiled");
            let report = report::build(&cfg, &name, &list, &table, |r| {
                bar.set_message(r.layer.clone());
                bar.inc(1);
            })?;
            bar.finish_and_clear();
            print!("{}", report.table());
            let files = report.write(&out, force)?;
            print_written(&out, &files);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Compare {
            network,
            layers,
            batches,
            energy,
            out,
            force,
        } => {
            let table = energy_table(energy.as_deref())?;
            let net = match &network {
                Some(n) => Network::load(n)?,
                None => Network::from_toml_str(compare::DEFAULT_NETWORK, Path::new("networks"))?,
            };
            let list = select(&net, layers.as_deref())?;
            let out = out.unwrap_or_else(|| {
                PathBuf::from("report_out").join(format!("compare-{}", net.name))
            });
            eyeriss_gen::output::check_dir(&out, force)?;
            let area = eyeriss_gen::analysis::dataflow::Area::default();
            let multi = MultiProgress::new();
            let bar = progress::items(&multi, 0, "layer and batch searches");
            bar.set_message(net.name.clone());
            let c = compare::run(&net.name, &list, &batches, &area, &table, &bar)?;
            bar.finish_and_clear();
            print!("{}", c.table());
            let files = c.write(&out, force)?;
            print_written(&out, &files);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Boards => {
            boards()?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Doctor => {
            doctor();
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The energy table given with `--energy`, else the ISCA 2016 normalized costs.
fn energy_table(path: Option<&Path>) -> Result<EnergyTable> {
    Ok(match path {
        Some(p) => EnergyTable::load(p)?,
        None => EnergyTable::isca(),
    })
}

fn print_written(out: &Path, files: &[eyeriss_gen::emit::OutFile]) {
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    println!("wrote {} ({})", out.display(), names.join(", "));
}

fn boards() -> Result<()> {
    use eyeriss_gen::fpga::{Board, Device, board::builtin_boards};
    println!(
        "{:<14} {:<6} {:<14} {:<10} {:>8} {:>7}  description",
        "board", "family", "device", "package", "clock", "baud"
    );
    for name in builtin_boards() {
        let b = Board::load(name)?;
        let d = Device::load(&b.device)?;
        println!(
            "{:<14} {:<6} {:<14} {:<10} {:>4} MHz {:>7}  {}",
            b.name,
            b.family.as_str(),
            d.name,
            b.package,
            b.clock.mhz,
            b.uart.baud.unwrap_or(eyeriss_gen::fpga::uart::DEFAULT_BAUD),
            b.description
        );
    }
    println!("(or give `fpga --board` a board file of your own: docs/fpga.md)");
    Ok(())
}

fn doctor() {
    let mut tools = vec![
        ("verilator", "--version", "apt-get install verilator"),
        ("yosys", "-V", "apt-get install yosys"),
        ("iverilog", "-V", "apt-get install iverilog"),
    ];
    tools.extend(eyeriss_gen::fpga::doctor_tools());
    for (tool, flag, hint) in tools {
        match std::process::Command::new(tool).arg(flag).output() {
            // It ran, so it is installed; some tools print their version to stderr only.
            Ok(o) => {
                let out = String::from_utf8_lossy(&o.stdout);
                let err = String::from_utf8_lossy(&o.stderr);
                let line = out
                    .lines()
                    .chain(err.lines())
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("");
                println!("ok       {tool:<20} {line}");
            }
            Err(_) => println!("missing  {tool:<20} install with: {hint}"),
        }
    }
}
