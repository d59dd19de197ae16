//! `eyeriss-gen board`: layers run on a board over its serial port, checked against the
//! golden model, with the board's cycle counter and every counter, exactly as `sim` shows a
//! simulated run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use eyeriss_gen::board::{Board, BoardBackend, BoardOpts};
use eyeriss_gen::fpga::uart::DEFAULT_BAUD;

use super::sim::{Outputs, execute, prepare};
use super::{Target, load_config};

#[derive(clap::Args)]
pub struct BoardArgs {
    #[command(flatten)]
    pub target: Target,
    /// The board's serial port: its USB-serial adapter (e.g. /dev/ttyUSB0; docs/board.md
    /// says which for each board), or the pty `eyeriss-gen sim --uart --pty` prints.
    #[arg(long, short)]
    pub port: String,
    /// The board top's baud rate, as `fpga --baud` built it (default 115200).
    #[arg(long, default_value_t = DEFAULT_BAUD,
          value_parser = clap::value_parser!(u32).range(1200..=12_000_000))]
    pub baud: u32,
    /// Seconds without a byte from the board, while one is awaited, before giving up.
    #[arg(long, default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Write ifmap.npy, weights.npy, ofmap.npy, program.bin and stats.json here (one
    /// subdirectory per layer with --network).
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// Replace the --dump (or --out) directory even if eyeriss-gen did not write it.
    #[arg(long)]
    pub force: bool,
    /// Run a trained ONNX model (or an imported directory) on the board, as `infer` does in
    /// a simulator: every array layer over the serial port, the host ops here.
    #[arg(long, conflicts_with_all = ["layer", "network", "dump", "json"], requires = "input")]
    pub model: Option<PathBuf>,
    /// With --model: the inputs, float32 N x C x H x W (.npy).
    #[arg(long, requires = "model")]
    pub input: Option<PathBuf>,
    /// With --model: calibrate on these inputs instead of the run's own.
    #[arg(long, requires = "model")]
    pub calibrate: Option<PathBuf>,
    /// With --model: the true class of each input (integer .npy), for the accuracy.
    #[arg(long, requires = "model")]
    pub labels: Option<PathBuf>,
    /// With --model: the output directory (default: infer_out/<config>-<model>).
    #[arg(long, requires = "model")]
    pub out: Option<PathBuf>,
    /// Percent of program words before which the host pauses (50 ms), to see that the board
    /// waits and loses nothing.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=95))]
    pub stall_in: u32,
    /// Energy cost table (TOML, see energy/); default: ISCA 2016 normalized costs.
    #[arg(long)]
    pub energy: Option<PathBuf>,
    /// Print the statistics as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t > 0.0 && t <= 3600.0 => Ok(t),
        _ => Err(format!(
            "{s:?} is not a timeout in seconds (more than 0, at most 3600)"
        )),
    }
}

pub fn run(a: BoardArgs) -> Result<ExitCode> {
    let BoardArgs {
        target,
        port,
        baud,
        timeout,
        dump,
        force,
        stall_in,
        energy,
        json,
        model,
        input,
        calibrate,
        labels,
        out,
    } = a;
    let cfg = load_config(&target.config)?;
    let opts = BoardOpts {
        baud,
        timeout: Duration::from_secs_f64(timeout),
    };
    if let (Some(model), Some(input)) = (model, input) {
        let m = super::infer::ModelRun {
            model,
            input,
            calibrate,
            labels,
            out,
            force,
        };
        return super::infer::run_model(&cfg, &m, || {
            Ok(Box::new(BoardBackend::new(Board::open(&port, opts)?, &cfg)))
        });
    }
    let outputs = Outputs {
        vcd: None,
        dump,
        force,
        energy,
        json,
    };
    let prepared = prepare(&cfg, &target, &outputs)?;
    let board = Board::open(&port, opts)?;
    let backend = BoardBackend::new(board, &cfg);
    execute(&cfg, prepared, &outputs, &backend, stall_in, 0)
}
