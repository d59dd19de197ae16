//! `eyeriss-gen`: the command-line edge. Library errors become `anyhow` reports here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::{Parser, Subcommand};

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;

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
    Generate {
        #[arg(long, short)]
        config: PathBuf,
        /// Output directory (default: rtl_out/<name>).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Check which external tools are installed.
    Doctor,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn load_config(path: &Path) -> Result<ArchConfig> {
    Ok(ArchConfig::load(path)?)
}

fn default_out(cfg: &ArchConfig) -> PathBuf {
    PathBuf::from("rtl_out").join(&cfg.name)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::Generate { config, out } => {
            let cfg = load_config(&config)?;
            let out = out.unwrap_or_else(|| default_out(&cfg));
            let t = Instant::now();
            let files = emit::write(&cfg, &out)?;
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
        Cmd::Doctor => {
            doctor();
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn doctor() {
    let tools = [
        ("verilator", "--version", "apt-get install verilator"),
        ("yosys", "-V", "apt-get install yosys"),
        ("iverilog", "-V", "apt-get install iverilog"),
    ];
    for (tool, flag, hint) in tools {
        match std::process::Command::new(tool).arg(flag).output() {
            Ok(o) if o.status.success() || !o.stdout.is_empty() => {
                let text = String::from_utf8_lossy(&o.stdout);
                let line = text.lines().next().unwrap_or("").trim();
                println!("ok       {tool:<10} {line}");
            }
            _ => println!("missing  {tool:<10} install with: {hint}"),
        }
    }
}
