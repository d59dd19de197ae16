//! `eyeriss-gen`: the command-line edge. Library errors become `anyhow` reports here; each
//! verb lives in `src/cli/<verb>.rs` (a few small ones together).

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod cli;

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

#[derive(Subcommand)]
enum Cmd {
    /// Write the Verilog, filelist, manifest and FuseSoC core for a config.
    Generate(cli::outputs::GenerateArgs),
    /// Map layers onto the array and print the chosen mappings and their predicted cycles.
    Map(cli::map::MapArgs),
    /// Run layers on the generated hardware and compare them with the golden model.
    Sim(cli::sim::SimArgs),
    /// Run layers on a board over its serial port and compare them with the golden model
    /// (the board must run this config's bitstream; `sim --uart --pty` stands in for one).
    Board(cli::board::BoardArgs),
    /// Read an ONNX model into a network directory: network.toml (the array layers, for map,
    /// report, compare and sim), graph.json (the host ops between them), weights per layer.
    Import(cli::infer::ImportArgs),
    /// Run a trained ONNX model end to end on the simulated accelerator: every Conv, FC and
    /// average pool on the array, fed by the previous layer's hardware output.
    Infer(cli::infer::InferArgs),
    /// Build a bitstream for a board: resource check, Yosys, nextpnr, pack, report.json.
    Fpga(cli::outputs::FpgaArgs),
    /// Load a bitstream onto a board with openFPGALoader (its SRAM, or --flash); the
    /// command per board is in its board file.
    Program(cli::program::ProgramArgs),
    /// What each module costs on an FPGA family (LUTs, carry, LUT RAM, flip-flops, block RAM,
    /// DSPs, per module and per instance), from Yosys; writes nothing.
    Synth(cli::synth::SynthArgs),
    /// Cycles, active PEs and energy per layer from the mapper and the counter model, without
    /// simulating: a table, report.json, layers.csv and SVG charts.
    Report(cli::outputs::ReportArgs),
    /// Compare the energy of dataflows (WS, OSA, OSB, OSC, NLR, RS) on a network under the
    /// same area, as ISCA 2016 section VII: a table, compare.json and SVG charts.
    Compare(cli::outputs::CompareArgs),
    /// List the shipped boards: their FPGA, package, clock and UART (for `fpga --board`).
    Boards,
    /// Check which external tools are installed.
    Doctor,
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
            eprintln!("error: {}", cli::error_chain(&e));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::Generate(a) => cli::outputs::generate(a),
        Cmd::Map(a) => cli::map::run(a),
        Cmd::Sim(a) => cli::sim::run(a),
        Cmd::Board(a) => cli::board::run(a),
        Cmd::Import(a) => cli::infer::import_run(a),
        Cmd::Infer(a) => cli::infer::run(a),
        Cmd::Fpga(a) => cli::outputs::fpga(a),
        Cmd::Program(a) => cli::program::run(a),
        Cmd::Synth(a) => cli::synth::run(a),
        Cmd::Report(a) => cli::outputs::report(a),
        Cmd::Compare(a) => cli::outputs::compare(a),
        Cmd::Boards => {
            cli::info::boards()?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Doctor => {
            cli::info::doctor();
            Ok(ExitCode::SUCCESS)
        }
    }
}
