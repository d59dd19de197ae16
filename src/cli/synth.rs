//! `eyeriss-gen synth`: what each module of a design costs on an FPGA family, from Yosys.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;

use eyeriss_gen::fpga::{self, Family};

use super::load_config;

#[derive(Clone, Copy, ValueEnum)]
pub enum FamilyArg {
    Ecp5,
    Ice40,
}

#[derive(clap::Args)]
pub struct SynthArgs {
    /// Architecture config (TOML), e.g. configs/eyeriss.toml.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The FPGA family whose cells to count.
    #[arg(long, value_enum, default_value_t = FamilyArg::Ecp5)]
    pub family: FamilyArg,
    /// Synthesize the design flattened, as the `fpga` verb's synth step does (without the
    /// board top): whole-design totals, with constants propagated and shared logic merged
    /// across modules, where the default counts each module once.
    #[arg(long)]
    pub flat: bool,
    /// Print the costs as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: SynthArgs) -> Result<ExitCode> {
    let cfg = load_config(&a.config)?;
    let family = match a.family {
        FamilyArg::Ecp5 => Family::Ecp5,
        FamilyArg::Ice40 => Family::Ice40,
    };
    let report = fpga::module_costs(&cfg, family, a.flat, !a.json)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}
