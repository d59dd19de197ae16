//! The verbs of the command line, one file each (or a few small ones together), with what
//! they share: which layers to work on, loading a config, planning with a progress bar.

pub mod board;
pub mod infer;
pub mod info;
pub mod map;
pub mod outputs;
pub mod program;
pub mod sim;
pub mod synth;

use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::MultiProgress;

use eyeriss_gen::analysis::energy::EnergyTable;
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::mapper;
use eyeriss_gen::network::Network;
use eyeriss_gen::progress;

/// The config and the layers a verb works on (`map`, `sim`, `report`).
#[derive(clap::Args)]
pub struct Target {
    /// Architecture config (TOML), e.g. configs/eyeriss.toml.
    #[arg(long, short)]
    pub config: PathBuf,
    #[command(flatten)]
    pub sel: LayerSel,
    /// With --network: only these layers (comma-separated names).
    #[arg(long, requires = "network")]
    pub layers: Option<String>,
}

/// Which layers to work on: one layer file, or layers of a network file.
#[derive(clap::Args)]
#[group(multiple = false)]
pub struct LayerSel {
    /// A layer file (TOML, PyTorch Conv2d names).
    #[arg(long, short)]
    pub layer: Option<PathBuf>,
    /// A network file (e.g. networks/alexnet.toml); all layers unless --layers is given.
    #[arg(long, short)]
    pub network: Option<PathBuf>,
}

impl LayerSel {
    pub fn load(&self, only: Option<&str>) -> Result<Vec<ConvLayer>> {
        match (&self.layer, &self.network) {
            (Some(l), _) => Ok(vec![ConvLayer::load(l)?]),
            (None, Some(n)) => select(&Network::load(n)?, only),
            (None, None) => anyhow::bail!("give --layer FILE or --network FILE"),
        }
    }
}

/// The layers of `net` that `--layers` names (all for `None`).
pub fn select(net: &Network, only: Option<&str>) -> Result<Vec<ConvLayer>> {
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

/// The error and its causes, each once: many library errors already end with their cause's
/// text (`cannot create x.vcd: No such file or directory`), which `{:#}` would repeat.
pub fn error_chain(e: &anyhow::Error) -> String {
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

/// Plan `l`, with a bar over the mapper's search under `multi`.
pub fn plan_showing(
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

pub fn load_config(path: &Path) -> Result<ArchConfig> {
    Ok(ArchConfig::load(path)?)
}

/// The energy table given with `--energy`, else the ISCA 2016 normalized costs.
pub fn energy_table(path: Option<&Path>) -> Result<EnergyTable> {
    Ok(match path {
        Some(p) => EnergyTable::load(p)?,
        None => EnergyTable::isca(),
    })
}

pub fn print_written(out: &Path, files: &[eyeriss_gen::emit::OutFile]) {
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    println!("wrote {} ({})", out.display(), names.join(", "));
}

pub fn default_out(cfg: &ArchConfig) -> PathBuf {
    PathBuf::from("rtl_out").join(&cfg.name)
}
