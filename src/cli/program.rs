//! `program`: load a bitstream onto a board with its loader (openFPGALoader), as `fpga
//! --program` does after a build.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use eyeriss_gen::fpga::Board;
use eyeriss_gen::fpga::load::{self, LoadCommand, Memory};

#[derive(clap::Args)]
pub struct ProgramArgs {
    /// An `fpga` output directory (fpga_out/<config>-<board>): its report.json names the
    /// board and the bitstream.
    pub dir: Option<PathBuf>,
    /// The board (a shipped one or a board file); default: the one DIR was built for.
    #[arg(long, short)]
    pub board: Option<String>,
    /// The bitstream to load; default: DIR's.
    #[arg(long, conflicts_with = "dir")]
    pub bitstream: Option<PathBuf>,
    /// Write the board's flash (kept at power-off) instead of its SRAM.
    #[arg(long)]
    pub flash: bool,
    /// Print the loader's command instead of running it.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `program` needs of an `fpga` report.json.
#[derive(serde::Deserialize)]
struct Built {
    config: String,
    config_hash: String,
    board: String,
    bitstream: String,
}

pub fn run(a: ProgramArgs) -> Result<ExitCode> {
    let (board, bitstream, built) = match (&a.dir, &a.bitstream) {
        (Some(dir), _) => {
            let rp = dir.join("report.json");
            let text = std::fs::read_to_string(&rp).with_context(|| {
                format!(
                    "cannot read {}: give the directory `eyeriss-gen fpga` wrote, or --board and --bitstream",
                    rp.display()
                )
            })?;
            let built: Built = serde_json::from_str(&text)
                .with_context(|| format!("{} is not an `fpga` report", rp.display()))?;
            eyeriss_gen::layer::check_name("bitstream", &built.bitstream)
                .with_context(|| format!("in {}", rp.display()))?;
            let board = a.board.clone().unwrap_or_else(|| built.board.clone());
            let bit = dir.join(&built.bitstream);
            (board, bit, Some(built))
        }
        (None, Some(bit)) => match &a.board {
            Some(b) => (b.clone(), bit.clone(), None),
            None => anyhow::bail!("--bitstream needs --board: the loader's command depends on it"),
        },
        (None, None) => anyhow::bail!(
            "give an `fpga` output directory (eyeriss-gen program fpga_out/<config>-<board>), or --board and --bitstream"
        ),
    };
    let board = Board::load(&board)?;
    let cmd = load::command(&board, &bitstream, a.flash.then_some(Memory::Flash))?;
    if a.dry_run {
        println!("{}", cmd.shell());
        return Ok(ExitCode::SUCCESS);
    }
    load_and_say(
        &cmd,
        built
            .as_ref()
            .map(|b| (b.config.as_str(), b.config_hash.as_str())),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Load, then say what is on the board now and how to drive it.
pub fn load_and_say(cmd: &LoadCommand, design: Option<(&str, &str)>) -> Result<()> {
    let done = load::run(cmd, true)?;
    let what = match design {
        Some((name, hash)) => format!(" (config '{name}', hash {hash})"),
        None => String::new(),
    };
    println!(
        "loaded {}{what} into the {}'s {} in {:.1} s ({})",
        cmd.bitstream.display(),
        cmd.board,
        cmd.memory.as_str(),
        done.seconds,
        cmd.program
    );
    if let Some((name, _)) = design {
        println!(
            "drive it: eyeriss-gen board --port <its serial port> --config <{name}'s config> --layer <layer> (docs/board.md)"
        );
    }
    Ok(())
}
