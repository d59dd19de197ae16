//! Architecture configuration: the single source of truth for the generated hardware.
//!
//! A config file may name a `base` file (relative to itself); its tables are merged key by key
//! over the base's, so presets hold only what differs from the chip. The `[noc]` multicast ID
//! widths may be left out: they are then derived from the array size
//! ([`NocCfg::derived_id_bits`]), so a preset that changes only `[array]` gets IDs that fit it.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::io_error::io_err;
use crate::toml_file::{self, Chain, TomlError};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(transparent)]
    File(#[from] TomlError),
    #[error("{field} = {value}: {limit}")]
    Invalid {
        field: &'static str,
        value: String,
        limit: String,
    },
}

fn invalid(field: &'static str, value: impl ToString, limit: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        value: value.to_string(),
        limit: limit.into(),
    }
}

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
    /// FPGA-aware generation options. Left out of the serialized config (and so of its hash
    /// and the manifest) while all are off, so that configs without them generate exactly what
    /// they did before the options existed.
    #[serde(default, skip_serializing_if = "FpgaGenCfg::is_off")]
    pub fpga: FpgaGenCfg,
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
    /// MAX mode (CFG_LAYER max): max pools run on the array as the degenerate convolution.
    /// On by default, and then left out of the serialized config (and its hash); off saves
    /// five signed comparators per PE (docs/fpga.md), and max pools run on the host.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub max_pool: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
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
    /// ID widths: optional in a config file, where [`NocCfg::derived_id_bits`] fills in what
    /// is left out; always present once loaded (and so in the hash and the manifest).
    pub row_id_bits: u32,
    pub filter_col_id_bits: u32,
    pub ifmap_col_id_bits: u32,
    pub psum_col_id_bits: u32,
    pub gon_col_id_bits: u32,
    pub stream_rows: u32,
    /// Rows the ifmap stream engine interleaves: one step's whole diagonal must fit.
    pub ifmap_stream_rows: u32,
}

/// Multicast ID widths, in bits, per network (the `noc.*_id_bits` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdBits {
    pub row: u32,
    pub filter_col: u32,
    pub ifmap_col: u32,
    pub psum_col: u32,
    pub gon_col: u32,
}

/// Bits for IDs `0..n` plus the all-ones ID, which never matches: the smallest `b` with
/// `2^b - 1 >= n`, at least 1.
fn ids_for(n: u64) -> u32 {
    (64 - n.leading_zeros()).max(1)
}

impl NocCfg {
    /// The ID widths a `rows x cols` array gets when its config leaves them out: the smallest
    /// that address every PE set the mapper lays out at stride 1 without segmenting it
    /// (src/mapper/ids.rs numbers row groups and, within each, delivery classes; the all-ones
    /// ID never matches):
    ///
    /// - row IDs: each physical row may be its own row group, so `rows` IDs;
    /// - filter columns: a row holds up to one filter block per column, so `cols` classes;
    /// - ifmap columns: an `h x ew` set (h <= rows filter rows, ew <= cols lanes) has `ew + h - 1`
    ///   diagonals, all in one row group, so `rows + cols - 1` classes;
    /// - psum and GON columns: one chain per column, so `cols` IDs (what
    ///   [`ArchConfig::validate`] demands of them).
    ///
    /// For 12 x 14 that is the chip's 4, 4, 5, 4, 4. Sets that need more (segmented ones
    /// wider than the array, strided ones whose diagonals outnumber the ifmap IDs) are refused
    /// by the mapper's ID check, as they are on the chip, and another mapping is chosen.
    pub fn derived_id_bits(rows: u32, cols: u32) -> IdBits {
        let (r, c) = (u64::from(rows), u64::from(cols));
        IdBits {
            row: ids_for(r),
            filter_col: ids_for(c),
            ifmap_col: ids_for((r + c).saturating_sub(1)),
            psum_col: ids_for(c),
            gon_col: ids_for(c),
        }
    }

    /// The ID widths in use.
    pub fn id_bits(&self) -> IdBits {
        IdBits {
            row: self.row_id_bits,
            filter_col: self.filter_col_id_bits,
            ifmap_col: self.ifmap_col_id_bits,
            psum_col: self.psum_col_id_bits,
            gon_col: self.gon_col_id_bits,
        }
    }
}

/// A config as written: the same fields as [`ArchConfig`], but the `[noc]` ID widths may be
/// left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArchConfig {
    name: String,
    array: ArrayCfg,
    pe: PeCfg,
    data: DataCfg,
    glb: GlbCfg,
    noc: RawNocCfg,
    host: HostCfg,
    #[serde(default)]
    fpga: FpgaGenCfg,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNocCfg {
    filter_gin_width: u32,
    ifmap_gin_width: u32,
    psum_gin_width: u32,
    gon_width: u32,
    ln_width: u32,
    row_id_bits: Option<u32>,
    filter_col_id_bits: Option<u32>,
    ifmap_col_id_bits: Option<u32>,
    psum_col_id_bits: Option<u32>,
    gon_col_id_bits: Option<u32>,
    stream_rows: u32,
    ifmap_stream_rows: u32,
}

impl RawArchConfig {
    /// The config with every ID width left out derived from the array size.
    fn resolve(self) -> ArchConfig {
        let d = NocCfg::derived_id_bits(self.array.rows, self.array.cols);
        let n = self.noc;
        ArchConfig {
            name: self.name,
            array: self.array,
            pe: self.pe,
            data: self.data,
            glb: self.glb,
            noc: NocCfg {
                filter_gin_width: n.filter_gin_width,
                ifmap_gin_width: n.ifmap_gin_width,
                psum_gin_width: n.psum_gin_width,
                gon_width: n.gon_width,
                ln_width: n.ln_width,
                row_id_bits: n.row_id_bits.unwrap_or(d.row),
                filter_col_id_bits: n.filter_col_id_bits.unwrap_or(d.filter_col),
                ifmap_col_id_bits: n.ifmap_col_id_bits.unwrap_or(d.ifmap_col),
                psum_col_id_bits: n.psum_col_id_bits.unwrap_or(d.psum_col),
                gon_col_id_bits: n.gon_col_id_bits.unwrap_or(d.gon_col),
                stream_rows: n.stream_rows,
                ifmap_stream_rows: n.ifmap_stream_rows,
            },
            host: self.host,
            fpga: self.fpga,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostCfg {
    pub width: u32,
    /// Width of each hardware counter READ_COUNTERS answers with (zero-extended to a word).
    /// 48 bits count 16 days at 200 MHz; FPGA configs narrow them to save logic.
    #[serde(default = "default_counter_bits")]
    pub counter_bits: u32,
}

/// Options that shape the PE for an FPGA; all off by default (docs/fpga.md, "FPGA-aware
/// generation").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FpgaGenCfg {
    /// One more PE pipeline stage: the multiplier's operands and its raw product are
    /// registered, so Yosys can place them in the MULT18X18D's input and output registers,
    /// and the shift and wrap follow the product register.
    #[serde(default)]
    pub mult_pipeline: bool,
    /// How many PEs, counted back from the last in row-major order, multiply in logic
    /// (`eyeriss_mult_logic`) instead of in a DSP block.
    #[serde(default)]
    pub logic_mult_pes: u32,
    /// PEs 2k and 2k+1 (row-major) keep their filter spads in the two ports of one
    /// true dual-port memory (`eyeriss_fspad_pair`): one ECP5 DP16KD per two PEs.
    #[serde(default)]
    pub shared_filter_spad: bool,
}

impl FpgaGenCfg {
    pub fn is_off(&self) -> bool {
        *self == FpgaGenCfg::default()
    }
}

/// PE pipeline stages after the issue cycle (filter spad read, multiply, accumulate); the
/// PE's drain wait and the mapper's cycle model both follow it.
pub const PE_PIPE_STAGES: u32 = 2;

fn default_counter_bits() -> u32 {
    48
}

fn load_table(path: &Path, chain: &mut Chain) -> Result<toml::Table, TomlError> {
    let canon = path.canonicalize().map_err(io_err("cannot read", path))?;
    chain.enter(canon, path)?;
    let text = toml_file::read(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    table_from_str(&text, path, dir, chain)
}

fn table_from_str(
    text: &str,
    path: &Path,
    dir: &Path,
    chain: &mut Chain,
) -> Result<toml::Table, TomlError> {
    let table = toml_file::table(text, path)?;
    toml_file::with_base(table, path, |b| load_table(&dir.join(b), chain))
}

impl ArchConfig {
    /// Read a config file, resolve its `base` chain and validate the result.
    pub fn load(path: &Path) -> Result<ArchConfig, ConfigError> {
        let table = load_table(path, &mut Chain::default())?;
        Self::from_table(table, path)
    }

    /// Parse config text; a `base` is resolved relative to `dir`.
    pub fn from_toml_str(text: &str, dir: &Path) -> Result<ArchConfig, ConfigError> {
        let path = dir.join("<string>");
        let table = table_from_str(text, &path, dir, &mut Chain::default())?;
        Self::from_table(table, &path)
    }

    fn from_table(table: toml::Table, path: &Path) -> Result<ArchConfig, ConfigError> {
        let raw: RawArchConfig = toml_file::decode(table, path)?;
        let cfg = raw.resolve();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Hash of the resolved config: every output generated from it carries this.
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(json.as_bytes()))[..16].to_string()
    }

    /// Check every field against the limits of the generator and the hardware.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let c = self;
        let ok_name = c
            .name
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_lowercase())
            && c.name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        if !ok_name {
            return Err(invalid(
                "name",
                format!("{:?}", c.name),
                "must start with a-z and hold only a-z, 0-9 and _ (it names files and modules)",
            ));
        }
        let range = |field: &'static str, v: u32, lo: u32, hi: u32| {
            if v < lo || v > hi {
                Err(invalid(field, v, format!("must be in {lo}..={hi}")))
            } else {
                Ok(())
            }
        };
        range("array.rows", c.array.rows, 1, 64)?;
        range("array.cols", c.array.cols, 1, 64)?;
        if ![4, 8, 16].contains(&c.data.data_width) {
            return Err(invalid(
                "data.data_width",
                c.data.data_width,
                "must be 4, 8 or 16",
            ));
        }
        if ![8, 16, 32].contains(&c.data.psum_width) || c.data.psum_width < c.data.data_width {
            return Err(invalid(
                "data.psum_width",
                c.data.psum_width,
                format!(
                    "must be 8, 16 or 32 and at least data.data_width ({})",
                    c.data.data_width
                ),
            ));
        }
        if c.host.width != 64 {
            return Err(invalid("host.width", c.host.width, "must be 64"));
        }
        range("host.counter_bits", c.host.counter_bits, 24, 48)?;
        if c.glb.word_bits != 64 {
            return Err(invalid(
                "glb.word_bits",
                c.glb.word_bits,
                "must be 64 (= host.width)",
            ));
        }
        if !c.glb.bank_words.is_power_of_two() || !(16..=65536).contains(&c.glb.bank_words) {
            return Err(invalid(
                "glb.bank_words",
                c.glb.bank_words,
                "must be a power of two in 16..=65536",
            ));
        }
        range("glb.banks", c.glb.banks, 1, 1024)?;
        if c.glb.ifmap_psum_banks == 0
            || c.glb.filter_banks == 0
            || u64::from(c.glb.ifmap_psum_banks) + u64::from(c.glb.filter_banks)
                != u64::from(c.glb.banks)
        {
            return Err(invalid(
                "glb.ifmap_psum_banks",
                c.glb.ifmap_psum_banks,
                format!(
                    "glb.ifmap_psum_banks ({}) + glb.filter_banks ({}) must equal glb.banks ({}), each at least 1",
                    c.glb.ifmap_psum_banks, c.glb.filter_banks, c.glb.banks
                ),
            ));
        }
        let bytes = c.glb.banks as u64 * c.glb.bank_words as u64 * 8;
        if bytes != c.glb.kib as u64 * 1024 {
            return Err(invalid(
                "glb.kib",
                c.glb.kib,
                format!(
                    "the banks add up to {bytes} bytes ({} banks x {} words x 8 bytes), not {} KiB",
                    c.glb.banks, c.glb.bank_words, c.glb.kib
                ),
            ));
        }
        if c.glb_words() >= 1 << 24 {
            return Err(invalid(
                "glb.kib",
                c.glb.kib,
                "at most 2^24 words (LOAD addresses)",
            ));
        }
        range("pe.filter_spad", c.pe.filter_spad, 1, 4096)?;
        range("pe.ifmap_spad", c.pe.ifmap_spad, 1, 255)?;
        range("pe.psum_spad", c.pe.psum_spad, 1, 255)?;
        if !c.pe.fifo_depth.is_power_of_two() || !(2..=64).contains(&c.pe.fifo_depth) {
            return Err(invalid(
                "pe.fifo_depth",
                c.pe.fifo_depth,
                "must be a power of two in 2..=64",
            ));
        }
        for (field, w) in [
            ("noc.filter_gin_width", c.noc.filter_gin_width),
            ("noc.ifmap_gin_width", c.noc.ifmap_gin_width),
        ] {
            if w < c.data.data_width || w % c.data.data_width != 0 || 64 % w != 0 {
                return Err(invalid(
                    field,
                    w,
                    format!(
                        "must be a multiple of data.data_width ({}) that divides 64",
                        c.data.data_width
                    ),
                ));
            }
        }
        for (field, w) in [
            ("noc.psum_gin_width", c.noc.psum_gin_width),
            ("noc.gon_width", c.noc.gon_width),
            ("noc.ln_width", c.noc.ln_width),
        ] {
            if w != 64 {
                return Err(invalid(
                    field,
                    w,
                    "must be 64: psums move in whole GLB words",
                ));
            }
        }
        for (field, b) in [
            ("noc.row_id_bits", c.noc.row_id_bits),
            ("noc.filter_col_id_bits", c.noc.filter_col_id_bits),
            ("noc.ifmap_col_id_bits", c.noc.ifmap_col_id_bits),
            ("noc.psum_col_id_bits", c.noc.psum_col_id_bits),
            ("noc.gon_col_id_bits", c.noc.gon_col_id_bits),
        ] {
            range(field, b, 1, 8)?;
        }
        for (field, b) in [
            ("noc.psum_col_id_bits", c.noc.psum_col_id_bits),
            ("noc.gon_col_id_bits", c.noc.gon_col_id_bits),
        ] {
            if (1u32 << b) - 1 < c.array.cols {
                return Err(invalid(
                    field,
                    b,
                    format!(
                        "{} columns need IDs 0..{} plus the never-matching all-ones ID",
                        c.array.cols,
                        c.array.cols - 1
                    ),
                ));
            }
        }
        range("noc.stream_rows", c.noc.stream_rows, 2, 255)?;
        range("noc.ifmap_stream_rows", c.noc.ifmap_stream_rows, 2, 255)?;
        if c.fpga.logic_mult_pes > c.pes() {
            return Err(invalid(
                "fpga.logic_mult_pes",
                c.fpga.logic_mult_pes,
                format!(
                    "must be at most the array's {} PEs ({} x {})",
                    c.pes(),
                    c.array.rows,
                    c.array.cols
                ),
            ));
        }
        Ok(())
    }

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
    /// PE pipeline stages after the issue cycle: `fpga.mult_pipeline` adds the register
    /// between the multiplier's operands and its product.
    pub fn pe_pipe_stages(&self) -> u32 {
        PE_PIPE_STAGES + u32::from(self.fpga.mult_pipeline)
    }
    /// Row-major index of the first PE whose multiplier is built in logic (`pes()` if none).
    pub fn first_logic_mult_pe(&self) -> u32 {
        self.pes() - self.fpga.logic_mult_pes.min(self.pes())
    }
}
