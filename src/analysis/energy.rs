//! Energy per level: access counts times per-access costs from a TOML table (`energy/`).
//!
//! Accesses are counted in data words of 16 bits (`data.data_width` bits in general), as the
//! ISCA 2016 model counts them: a 64-bit GLB or host word is four accesses, a network beat is
//! as many accesses as its bus carries lanes, a spad read or write is one, and a MAC is one ALU
//! operation (zero-skipped MACs are gated and cost nothing, as on the chip).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::toml_file::{self, TomlError};

use crate::config::ArchConfig;
use crate::program::Counter;

#[derive(Debug, Error)]
pub enum EnergyError {
    #[error(transparent)]
    File(#[from] TomlError),
    #[error("{path}: {field} = {value}: must be a finite number >= 0")]
    Invalid {
        path: PathBuf,
        field: &'static str,
        value: f64,
    },
    #[error(
        "{path}: every cost is 0: energies and their ratios would be meaningless; give at least one level a positive cost"
    )]
    AllZero { path: PathBuf },
    #[error(
        "{path}: {field} = \"\": must name the table (name) or the costs' unit (unit, e.g. \"pJ\")"
    )]
    Empty { path: PathBuf, field: &'static str },
}

/// Cost of one access at each level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyTable {
    pub name: String,
    /// What the costs are in: "MAC" for the normalized table, "pJ" for an absolute one.
    pub unit: String,
    pub dram: f64,
    pub glb: f64,
    pub array: f64,
    pub rf: f64,
    pub mac: f64,
}

/// The default table, ISCA 2016's normalized costs (also `energy/isca.toml`).
pub const ISCA: &str = include_str!("../../energy/isca.toml");

impl EnergyTable {
    pub fn isca() -> EnergyTable {
        Self::parse(ISCA, Path::new("energy/isca.toml")).expect("the built-in table parses")
    }

    pub fn load(path: &Path) -> Result<EnergyTable, EnergyError> {
        let text = toml_file::read(path)?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<EnergyTable, EnergyError> {
        let t: EnergyTable = toml_file::parse(text, path)?;
        for (field, value) in [
            ("dram", t.dram),
            ("glb", t.glb),
            ("array", t.array),
            ("rf", t.rf),
            ("mac", t.mac),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(EnergyError::Invalid {
                    path: path.to_path_buf(),
                    field,
                    value,
                });
            }
        }
        if [t.dram, t.glb, t.array, t.rf, t.mac]
            .iter()
            .all(|&v| v == 0.0)
        {
            return Err(EnergyError::AllZero {
                path: path.to_path_buf(),
            });
        }
        for (field, v) in [("name", &t.name), ("unit", &t.unit)] {
            if v.trim().is_empty() {
                return Err(EnergyError::Empty {
                    path: path.to_path_buf(),
                    field,
                });
            }
        }
        Ok(t)
    }
}

/// Accesses per level, in data words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Accesses {
    pub dram: u64,
    pub glb: u64,
    pub array: u64,
    pub rf: u64,
    pub mac: u64,
}

/// Energy per level and in total, in the table's unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Energy {
    pub table: String,
    pub unit: String,
    pub accesses: Accesses,
    pub dram: f64,
    pub glb: f64,
    pub array: f64,
    pub rf: f64,
    pub mac: f64,
    pub total: f64,
}

/// Accesses per level from hardware counters (`counter(c)` gives counter `c`'s value).
pub fn accesses(cfg: &ArchConfig, counter: impl Fn(Counter) -> u64) -> Accesses {
    let per_word = (64 / cfg.data.data_width) as u64;
    let lanes = |w: u32| (w / cfg.data.data_width) as u64;
    let psum_lanes = (64 / cfg.data.psum_width) as u64;
    Accesses {
        dram: (counter(Counter::HostWordsIn) + counter(Counter::HostWordsOut)) * per_word,
        glb: (counter(Counter::GlbReads) + counter(Counter::GlbWrites)) * per_word,
        array: counter(Counter::FilterGinBeats) * lanes(cfg.noc.filter_gin_width)
            + counter(Counter::IfmapGinBeats) * lanes(cfg.noc.ifmap_gin_width)
            + (counter(Counter::PsumGinBeats)
                + counter(Counter::GonWords)
                + counter(Counter::LnWords))
                * psum_lanes,
        rf: [
            Counter::FilterSpadReads,
            Counter::FilterSpadWrites,
            Counter::IfmapSpadReads,
            Counter::IfmapSpadWrites,
            Counter::PsumSpadReads,
            Counter::PsumSpadWrites,
        ]
        .into_iter()
        .map(&counter)
        .sum(),
        mac: counter(Counter::Macs),
    }
}

pub fn energy(a: Accesses, t: &EnergyTable) -> Energy {
    let (dram, glb, array, rf, mac) = (
        a.dram as f64 * t.dram,
        a.glb as f64 * t.glb,
        a.array as f64 * t.array,
        a.rf as f64 * t.rf,
        a.mac as f64 * t.mac,
    );
    Energy {
        table: t.name.clone(),
        unit: t.unit.clone(),
        accesses: a,
        dram,
        glb,
        array,
        rf,
        mac,
        total: dram + glb + array + rf + mac,
    }
}
