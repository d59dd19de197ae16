//! Row-stationary mapping of a convolution layer onto the configured PE array.
//!
//! The unit of work is the 1-D row primitive: a PE holds `p` filters x `q` channels of one
//! filter row (`sc` columns of it) and convolves one ifmap row with them, producing one psum row
//! of `F` columns. PEs are arranged in *chains*: one PE column of `vc` channel chunks x `h` filter
//! rows, summing psums upward over the LN; the chain top sends one ofmap row to the GON.
//!
//! - Side by side, `ew` chains (lanes) compute `ew` consecutive ofmap rows of the same filters:
//!   filter rows are multicast horizontally, ifmap rows diagonally (lane `l`, filter row `i`
//!   reads padded row `l*U + i`), as in the Eyeriss PE set of R x E.
//! - Across the array, the lanes are replicated for other filter blocks: `th` horizontally and
//!   `tv` vertically (Eyeriss' `t`).
//! - `vc` channel chunks are stacked in one chain (Eyeriss' `r`), so their psums add in-array.
//! - Over time, each chain processes `ks` strips of `ew` ofmap rows for `nb` images (a *tile*),
//!   and a tile's *passes* run the remaining channel chunks and the folded filter rows and
//!   columns (R taller than the array, S wider than the ifmap spad), accumulating in the GLB.
//!
//! `p`, `q`, `F`, `S` and `U` are the same for every PE of a pass, so remainders (M not a
//! multiple of p, C not a multiple of q, E not a multiple of ew) get passes of their own
//! rather than padded work: the MAC counter then equals the layer's MAC count exactly.

mod cost;
mod glb;
pub mod ids;
pub mod layout;
mod schedule;
mod search;

use serde::Serialize;
use thiserror::Error;

use crate::config::ArchConfig;
use crate::layer::ConvLayer;

use cost::{evaluate, evaluate_with};
use glb::glb_use;
pub use glb::{GlbUse, pass_glb, region_index, region_runs, tile_regions};
pub use schedule::{
    Blocks, Pass, Tile, TileShape, ifmap_rows_per_step, pass_rows, row_len, schedule, schedule_upto,
};
use schedule::{first_tile, reduction, reduction_passes, visit_tiles, visit_tiles_with};
pub use search::{explain, plan, plan_reporting};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MapError {
    #[error("layer '{layer}' cannot run on config '{config}': {reason}")]
    Unmappable {
        layer: String,
        config: String,
        reason: String,
    },
    #[error("internal mapping error in pass {pass}: {msg}")]
    Internal { pass: usize, msg: String },
}

/// Layer dimensions the mapper works with (per group).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Shape {
    pub n: u32,
    pub g: u32,
    pub cg: u32,
    pub mg: u32,
    pub h: u32,
    pub w: u32,
    pub r: u32,
    pub s: u32,
    pub uv: u32,
    pub uh: u32,
    pub pv: u32,
    pub ph: u32,
    pub e: u32,
    pub f: u32,
}

impl Shape {
    pub fn of(l: &ConvLayer) -> Shape {
        Shape {
            n: l.batch,
            g: l.groups,
            cg: l.in_channels / l.groups,
            mg: l.out_channels / l.groups,
            h: l.height,
            w: l.width,
            r: l.kernel_size.0,
            s: l.kernel_size.1,
            uv: l.stride.0,
            uh: l.stride.1,
            pv: l.padding.0,
            ph: l.padding.1,
            e: l.out_height(),
            f: l.out_width(),
        }
    }
}

/// A chosen mapping: the parameters every pass is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// Filters interleaved in a PE.
    pub p: u32,
    /// Channels interleaved in a PE.
    pub q: u32,
    /// Channel chunks stacked in one chain (their psums add over the LN).
    pub vc: u32,
    /// Ofmap rows computed side by side (chains per filter block).
    pub ew: u32,
    /// Filter rows per chain slot (R is folded into ceil(R / rh) chunks).
    pub rh: u32,
    /// Filter columns per PE (S is folded into ceil(S / sw) chunks).
    pub sw: u32,
    /// Images per tile.
    pub nb: u32,
    /// Strips of `ew` ofmap rows per tile.
    pub ks: u32,
    /// Double-buffer the ifmap rows and filters: the next pass loads while this one computes.
    pub overlap: bool,
}

/// Per-config limits the mapper works against.
struct Limits {
    rows: u32,
    cols: u32,
    filt: u32,
    ifmap: u32,
    psum: u32,
    stream_rows: u32,
    ifmap_stream_rows: u32,
    bank_words: u64,
    glb_words: u64,
    data_lanes: u32,
    psum_lanes: u32,
    gon_col_bits: u32,
    /// Elements per beat of the filter and ifmap GINs.
    filt_gin_lanes: u32,
    ifmap_gin_lanes: u32,
    /// PE pipeline stages after the issue cycle (`ArchConfig::pe_pipe_stages`).
    pe_pipe: u32,
}

impl Limits {
    fn of(cfg: &ArchConfig) -> Limits {
        Limits {
            rows: cfg.array.rows,
            cols: cfg.array.cols,
            filt: cfg.pe.filter_spad,
            ifmap: cfg.pe.ifmap_spad,
            psum: cfg.pe.psum_spad.min(255),
            stream_rows: cfg.noc.stream_rows,
            ifmap_stream_rows: cfg.noc.ifmap_stream_rows,
            bank_words: cfg.glb.bank_words as u64,
            glb_words: cfg.glb_words(),
            data_lanes: cfg.lanes(cfg.data.data_width),
            psum_lanes: cfg.lanes(cfg.data.psum_width),
            gon_col_bits: cfg.noc.gon_col_id_bits,
            filt_gin_lanes: cfg.noc.filter_gin_width / cfg.data.data_width,
            ifmap_gin_lanes: cfg.noc.ifmap_gin_width / cfg.data.data_width,
            pe_pipe: cfg.pe_pipe_stages(),
        }
    }
}

/// Copies of the ifmap rows and filters a mapping keeps in the GLB.
pub fn buffers(m: &Mapping) -> u64 {
    if m.overlap { 2 } else { 1 }
}

/// The prediction and the figures `map` prints for a mapping.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub mapping: Mapping,
    pub tiles: usize,
    pub passes: usize,
    pub active_pes: u32,
    pub predicted_cycles: u64,
    pub ideal_cycles: u64,
    /// GLB words of the largest pass: psum regions from word 0, then ifmap rows, then filters.
    pub glb_words: u64,
    pub glb: GlbUse,
}
