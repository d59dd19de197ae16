//! The verbs that write an output directory from a config alone: `generate` (the Verilog),
//! `fpga` (a bitstream), `report` (predicted cycles and energy), `compare` (dataflows).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use indicatif::MultiProgress;

use eyeriss_gen::emit;
use eyeriss_gen::fpga::load;
use eyeriss_gen::network::Network;
use eyeriss_gen::progress;
use eyeriss_gen::{compare, report};

use super::{Target, default_out, energy_table, load_config, print_written, select};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Architecture config (TOML), e.g. configs/eyeriss.toml.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Output directory (default: rtl_out/<name>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace the output directory even if eyeriss-gen did not write it.
    #[arg(long)]
    pub force: bool,
}

pub fn generate(a: GenerateArgs) -> Result<ExitCode> {
    let GenerateArgs { config, out, force } = a;
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

#[derive(clap::Args)]
pub struct FpgaArgs {
    #[arg(long, short)]
    pub config: PathBuf,
    /// A board in constraints/ (icebreaker, hx8k_breakout, ulx3s, ...) or a board file.
    #[arg(long, short)]
    pub board: String,
    /// Output directory (default: fpga_out/<config>-<board>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Clock constraint in MHz (default: the board's clock).
    #[arg(long)]
    pub freq: Option<f64>,
    /// Run the tools even when the resource check says the design does not fit.
    #[arg(long)]
    pub ignore_fit: bool,
    /// Replace the output directory even if eyeriss-gen did not write it.
    #[arg(long)]
    pub force: bool,
    /// Baud rate of the board top's UART (default: the board file's, else 115200).
    #[arg(long)]
    pub baud: Option<u32>,
    /// Load the bitstream onto the board once it is built (as `eyeriss-gen program DIR`).
    #[arg(long)]
    pub program: bool,
    /// With --program: write the board's flash (kept at power-off) instead of its SRAM.
    #[arg(long, requires = "program")]
    pub flash: bool,
    /// Print the commands the build (and with --program, the load) would run; run nothing,
    /// write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn fpga(a: FpgaArgs) -> Result<ExitCode> {
    let FpgaArgs {
        config,
        board,
        out,
        freq,
        ignore_fit,
        force,
        baud,
        program,
        flash,
        dry_run,
    } = a;
    let cfg = load_config(&config)?;
    let board = eyeriss_gen::fpga::Board::load(&board)?;
    let out = out
        .unwrap_or_else(|| PathBuf::from("fpga_out").join(format!("{}-{}", cfg.name, board.name)));
    let opts = eyeriss_gen::fpga::FpgaOpts {
        out: out.clone(),
        freq_mhz: freq,
        ignore_fit,
        force,
        baud,
        progress: true,
    };
    let memory = flash.then_some(load::Memory::Flash);
    if dry_run {
        let plan = eyeriss_gen::fpga::plan(&cfg, &board, &opts)?;
        print!("{}", plan.shell(&out));
        if program {
            let bit = Path::new(&plan.bitstream);
            println!("{}", load::command(&board, bit, memory)?.shell());
        }
        return Ok(ExitCode::SUCCESS);
    }
    // A board that cannot be loaded is refused before the build, not after it.
    let load = if program {
        let chain = eyeriss_gen::fpga::Toolchain::load(board.family)?;
        let bit = out.join(eyeriss_gen::fpga::bitstream_name(&cfg, &board, &chain));
        Some(load::command(&board, &bit, memory)?)
    } else {
        None
    };
    let report = eyeriss_gen::fpga::build(&cfg, &board, &opts)?;
    println!("{}", report.summary());
    println!("wrote {} (report.json, logs/)", out.display());
    if let Some(cmd) = load {
        super::program::load_and_say(&cmd, Some((&report.config, &report.config_hash)))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub target: Target,
    /// Energy cost table (TOML, see energy/); default: ISCA 2016 normalized costs.
    #[arg(long)]
    pub energy: Option<PathBuf>,
    /// Output directory (default: report_out/<config>-<network>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace the output directory even if eyeriss-gen did not write it.
    #[arg(long)]
    pub force: bool,
}

pub fn report(a: ReportArgs) -> Result<ExitCode> {
    let ReportArgs {
        target: Target {
            config,
            sel,
            layers,
        },
        energy,
        out,
        force,
    } = a;
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
    let out =
        out.unwrap_or_else(|| PathBuf::from("report_out").join(format!("{}-{}", cfg.name, name)));
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

#[derive(clap::Args)]
pub struct CompareArgs {
    /// A network file (default: AlexNet, as networks/alexnet.toml, built into the tool so
    /// that it does not depend on the working directory).
    #[arg(long, short)]
    pub network: Option<PathBuf>,
    /// With --network: only these layers (comma-separated names).
    #[arg(long)]
    pub layers: Option<String>,
    /// Batch sizes (comma-separated).
    #[arg(long, default_value = "1,16,64", value_delimiter = ',')]
    pub batches: Vec<u32>,
    /// Energy cost table (TOML, see energy/); default: ISCA 2016 normalized costs.
    #[arg(long)]
    pub energy: Option<PathBuf>,
    /// Output directory (default: report_out/compare-<network>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace the output directory even if eyeriss-gen did not write it.
    #[arg(long)]
    pub force: bool,
}

pub fn compare(a: CompareArgs) -> Result<ExitCode> {
    let CompareArgs {
        network,
        layers,
        batches,
        energy,
        out,
        force,
    } = a;
    let table = energy_table(energy.as_deref())?;
    let net = match &network {
        Some(n) => Network::load(n)?,
        None => Network::from_toml_str(compare::DEFAULT_NETWORK, Path::new("networks"))?,
    };
    let list = select(&net, layers.as_deref())?;
    let out =
        out.unwrap_or_else(|| PathBuf::from("report_out").join(format!("compare-{}", net.name)));
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
