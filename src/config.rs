//! Architecture configuration: the single source of truth for the generated hardware.
//!
//! TODO(helper): `load` with `base` merging, validation, hash.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchConfig {
    pub name: String,
    pub array: ArrayCfg,
    pub pe: PeCfg,
    pub data: DataCfg,
    pub glb: GlbCfg,
    pub noc: NocCfg,
    pub host: HostCfg,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrayCfg {
    pub rows: u32,
    pub cols: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeCfg {
    pub filter_spad: u32,
    pub ifmap_spad: u32,
    pub psum_spad: u32,
    pub fifo_depth: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCfg {
    pub data_width: u32,
    pub psum_width: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlbCfg {
    pub kib: u32,
    pub banks: u32,
    pub bank_words: u32,
    pub word_bits: u32,
    pub ifmap_psum_banks: u32,
    pub filter_banks: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NocCfg {
    pub filter_gin_width: u32,
    pub ifmap_gin_width: u32,
    pub psum_gin_width: u32,
    pub gon_width: u32,
    pub ln_width: u32,
    pub row_id_bits: u32,
    pub filter_col_id_bits: u32,
    pub ifmap_col_id_bits: u32,
    pub psum_col_id_bits: u32,
    pub gon_col_id_bits: u32,
    pub stream_rows: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostCfg {
    pub width: u32,
}

impl ArchConfig {
    /// Total GLB words.
    pub fn glb_words(&self) -> u64 {
        self.glb.banks as u64 * self.glb.bank_words as u64
    }
    /// Elements of `bits` width per 64-bit GLB word.
    pub fn lanes(&self, bits: u32) -> u32 {
        self.glb.word_bits / bits
    }
    pub fn pes(&self) -> u32 {
        self.array.rows * self.array.cols
    }
}
