//! Everything about a pass that follows from the tile geometry: which PE plays which role in
//! which chain, the multicast IDs of every network and the tag of every stream row. The mapper
//! checks a mapping with it and the compiler lowers a plan through it; it is worked out here
//! once, in the mapper, so that the compiler only reads it.

use super::ids::{self, IdAssignment, IdError, Pe};
use super::{Pass, Shape, Tile};
use crate::config::ArchConfig;
use crate::program::PeCfg;

/// Role of an enabled PE in a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// Chain index in `Tile::chains()` order.
    pub chain: usize,
    pub j: u32,
    pub i: u32,
}

/// Everything about a pass that follows from the tile geometry: PE roles, multicast IDs,
/// and the tag of every stream row.
#[derive(Debug, Clone)]
pub struct PassLayout {
    pub roles: Vec<Option<Role>>,
    pub pe_cfg: Vec<PeCfg>,
    /// Row IDs per network (filter, ifmap, psum, GON), per physical row.
    pub row_ids: [Vec<u32>; 4],
    /// Filter rows, index `(block * vc + j) * h + i`.
    pub filt_tags: Vec<(u32, u32)>,
    /// Ifmap rows of a step, index `d * vc + j` with `d = l * U + i`.
    pub ifmap_tags: Vec<(u32, u32)>,
    /// Psum rows of a step, index = chain region.
    pub psum_tags: Vec<(u32, u32)>,
    pub span: u32,
    pub region_words: u64,
}

fn id_err(net: &str, e: IdError, cfg: &ArchConfig) -> String {
    match e {
        IdError::RowIds(n, have) => format!(
            "the {net} network needs {n} row IDs, noc.row_id_bits = {} gives {have}",
            cfg.noc.row_id_bits
        ),
        IdError::ColIds(n, have) => {
            format!(
                "the {net} network needs {n} column IDs in one row group, its ID width gives {have}"
            )
        }
        IdError::Overlap((r, c)) => format!("PE ({r}, {c}) is in two {net} classes"),
    }
}

fn checked(
    cfg: &ArchConfig,
    net: &str,
    col_bits: u32,
    classes: &[Vec<Pe>],
) -> Result<IdAssignment, String> {
    let (rows, cols, rb) = (cfg.array.rows, cfg.array.cols, cfg.noc.row_id_bits);
    let a = ids::assign(rows, cols, rb, col_bits, classes).map_err(|e| id_err(net, e, cfg))?;
    // What the multicast controllers will do must be what the mapping meant.
    for (k, class) in classes.iter().enumerate() {
        let mut got = a.reach(cols, rb, col_bits, a.tags[k]);
        let mut want = class.clone();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            return Err(format!(
                "{net} tag {:?} reaches {got:?}, meant {want:?}",
                a.tags[k]
            ));
        }
    }
    Ok(a)
}

pub fn pass_layout(
    cfg: &ArchConfig,
    sh: &Shape,
    t: &Tile,
    pass: &Pass,
) -> Result<PassLayout, String> {
    let (rows, cols) = (cfg.array.rows, cfg.array.cols);
    let npe = (rows * cols) as usize;
    let vc = pass.chans.len() as u32;
    let h = pass.h;
    let chains = t.chains();
    let tv = t.tv();
    if tv * t.hg > rows || t.width() > cols || vc * h > t.hg {
        return Err(format!(
            "tile geometry {tv} x {} groups of {} x {} PEs does not fit {rows} x {cols}",
            t.th, t.hg, t.seg_w
        ));
    }
    let d_rows = (t.ew - 1) * sh.uv + h;
    let mut roles = vec![None; npe];
    let mut filt_classes = vec![Vec::new(); t.blocks.len() * (vc * h) as usize];
    let mut ifmap_classes = vec![Vec::new(); (d_rows * vc) as usize];
    let gcb = cfg.noc.gon_col_id_bits;
    let (region_words, span) = super::tile_regions(sh, gcb, cfg.lanes(cfg.data.psum_width), t);
    let regions = t.chain_regions(gcb);
    let mut psum_classes = vec![Vec::new(); span as usize];
    for (k, &(v, c, b, l)) in chains.iter().enumerate() {
        for j in 0..vc {
            for i in 0..h {
                let r = v * t.hg + j * h + i;
                roles[(r * cols + c) as usize] = Some(Role { chain: k, j, i });
                filt_classes[((b as u32 * vc + j) * h + i) as usize].push((r, c));
                ifmap_classes[((l * sh.uv + i) * vc + j) as usize].push((r, c));
            }
        }
        let bottom = v * t.hg + vc * h - 1;
        psum_classes[regions[k] as usize].push((bottom, c));
    }
    let fa = checked(cfg, "filter", cfg.noc.filter_col_id_bits, &filt_classes)?;
    let ia = checked(cfg, "ifmap", cfg.noc.ifmap_col_id_bits, &ifmap_classes)?;
    let pa = checked(cfg, "psum", cfg.noc.psum_col_id_bits, &psum_classes)?;

    // GON IDs name the chain's region: {row ID, column ID} = region index.
    let rb = cfg.noc.row_id_bits;
    let row_none = (1u32 << rb) - 1;
    let mut gon_rows = vec![row_none; rows as usize];
    let mut gon_cols = vec![(1u32 << gcb) - 1; npe];
    for (&(v, c, _, _), &k) in chains.iter().zip(&regions) {
        let (y, x) = (k >> gcb, k & ((1 << gcb) - 1));
        if y > row_none {
            return Err(format!(
                "GON row ID {y} does not fit noc.row_id_bits = {rb}"
            ));
        }
        gon_rows[(v * t.hg) as usize] = y;
        gon_cols[(v * t.hg * cols + c) as usize] = x;
    }

    let mut pe_cfg = Vec::with_capacity(npe);
    for r in 0..rows {
        for c in 0..cols {
            let n = (r * cols + c) as usize;
            pe_cfg.push(match roles[n] {
                None => reset_pe(cfg, r, c),
                Some(role) => {
                    let top = role.j == 0 && role.i == 0;
                    let bottom = role.j == vc - 1 && role.i == h - 1;
                    PeCfg {
                        row: r,
                        col: c,
                        filt_id: fa.col_ids[n],
                        ifmap_id: ia.col_ids[n],
                        psum_id: pa.col_ids[n],
                        gon_id: gon_cols[n],
                        enable: true,
                        psum_sel: if bottom { 1 } else { 2 },
                        out_gon: top,
                    }
                }
            });
        }
    }
    Ok(PassLayout {
        roles,
        pe_cfg,
        row_ids: [fa.row_ids, ia.row_ids, pa.row_ids, gon_rows],
        filt_tags: fa.tags,
        ifmap_tags: ia.tags,
        psum_tags: pa.tags,
        span,
        region_words,
    })
}

pub fn reset_pe(cfg: &ArchConfig, row: u32, col: u32) -> PeCfg {
    let ones = |b: u32| (1u32 << b) - 1;
    PeCfg {
        row,
        col,
        filt_id: ones(cfg.noc.filter_col_id_bits),
        ifmap_id: ones(cfg.noc.ifmap_col_id_bits),
        psum_id: ones(cfg.noc.psum_col_id_bits),
        gon_id: ones(cfg.noc.gon_col_id_bits),
        enable: false,
        psum_sel: 0,
        out_gon: false,
    }
}
