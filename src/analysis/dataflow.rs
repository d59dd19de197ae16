//! The dataflow comparison of Chen, Emer and Sze (ISCA 2016, section VII) as an analytical model:
//! weight stationary (WS), three output-stationary variants (OSA, OSB, OSC), no local reuse
//! (NLR) and row stationary (RS) on one spatial architecture of the same area, each with its own
//! best mapping of a layer.
//!
//! # The model
//!
//! A mapping splits every layer dimension (N, M, C, E, F, R, S, per group) into four factors:
//! DRAM-level loops, GLB-level loops, a spatial factor (PEs) and RF-level loops inside a PE. A
//! dataflow decides which dimensions may be spatial, which may be RF-level loops and which data
//! types its RF keeps (WS: weights, OS: psums, RS: all three, NLR: none).
//!
//! Accesses are counted in 16-bit words, as the paper counts them (its equations, also the
//! book's 6.1 and 6.2):
//!
//! - An input value (ifmap or weight) is *read* from DRAM into the GLB, from the GLB into the
//!   array (one read, multicast to every PE that needs it), *delivered* to each such PE (one
//!   array access per receiving PE), and read from the RF by each MAC that uses it. A data type
//!   the RF does not keep reaches the MAC straight from the array: one array access per MAC,
//!   none in the RF. Writes that fill a level are part of the cost of the level above
//!   (the paper's a, ab, abc, abcd terms).
//! - A level's tile is refetched each time a loop outside it that indexes that data type
//!   advances, except that loops which do not index it and sit directly outside it leave it in
//!   place (stationarity) when the level stores it. Where the level slides a window along a
//!   dimension (RS's ifmap spad along F; the GLB along E and F; WS and OS forwarding ifmaps
//!   between neighbouring PEs), the overlapping part is fetched once.
//! - A psum moves between accumulations: a transition kept in the RF costs a read and a write
//!   there, in each PE of a spatial reduction; kept in the GLB, a read and a write of the GLB;
//!   spilled to DRAM, a read and a write of DRAM. Spatial reduction over `c` PEs costs `c - 1`
//!   array accesses each time a psum passes through the array, and each ofmap value is written
//!   to DRAM once. With one level each, this is the paper's
//!   (2a-1) DRAM + 2a(b-1) GLB + ab(c-1) array + 2abc(d-1) RF.
//!
//! Only exact divisors are used as factors, so every mapping does exactly the layer's MACs.

use serde::Serialize;
use thiserror::Error;

use crate::analysis::energy::{Accesses, Energy, EnergyTable, energy};
use crate::layer::ConvLayer;

pub const N: usize = 0;
pub const M: usize = 1;
pub const C: usize = 2;
pub const E: usize = 3;
pub const F: usize = 4;
pub const R: usize = 5;
pub const S: usize = 6;
pub const DIMS: [&str; 7] = ["N", "M", "C", "E", "F", "R", "S"];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DataflowError {
    #[error("{dataflow} cannot map layer '{layer}': {reason}")]
    NoMapping {
        dataflow: &'static str,
        layer: String,
        reason: String,
    },
    #[error("area: {0}")]
    Area(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dataflow {
    #[serde(rename = "WS")]
    Ws,
    #[serde(rename = "OSA")]
    Osa,
    #[serde(rename = "OSB")]
    Osb,
    #[serde(rename = "OSC")]
    Osc,
    #[serde(rename = "NLR")]
    Nlr,
    #[serde(rename = "RS")]
    Rs,
}

/// The three data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ifmap,
    Filter,
    Psum,
}

/// Whether a dimension indexes a data type.
pub fn relevant(kind: Kind, dim: usize) -> bool {
    match kind {
        Kind::Filter => matches!(dim, M | C | R | S),
        Kind::Ifmap => dim != M,
        Kind::Psum => matches!(dim, N | M | E | F),
    }
}

impl Dataflow {
    pub const ALL: [Dataflow; 6] = [
        Dataflow::Ws,
        Dataflow::Osa,
        Dataflow::Osb,
        Dataflow::Osc,
        Dataflow::Nlr,
        Dataflow::Rs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dataflow::Ws => "WS",
            Dataflow::Osa => "OSA",
            Dataflow::Osb => "OSB",
            Dataflow::Osc => "OSC",
            Dataflow::Nlr => "NLR",
            Dataflow::Rs => "RS",
        }
    }

    pub fn parse(s: &str) -> Option<Dataflow> {
        Dataflow::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Dimensions the dataflow spreads over PEs.
    pub fn spatial_dims(self) -> &'static [usize] {
        match self {
            // each PE holds one weight: filters x channels x filter positions
            Dataflow::Ws => &[M, C, R, S],
            // one ofmap channel, a block of ofmap pixels (ShiDianNao-like)
            Dataflow::Osa => &[E, F],
            // several channels and several pixels
            Dataflow::Osb => &[M, E, F],
            // several channels, one pixel (for FC layers)
            Dataflow::Osc => &[M],
            // filters x channels with an adder tree over channels (DianNao-like)
            Dataflow::Nlr => &[M, C],
            // PE sets of R x e, replicated over filters (t) and channels (r)
            Dataflow::Rs => &[R, E, M, C],
        }
    }

    /// Dimensions a PE loops over with its RF.
    pub fn rf_dims(self) -> &'static [usize] {
        match self {
            Dataflow::Ws | Dataflow::Nlr => &[],
            Dataflow::Osa | Dataflow::Osb | Dataflow::Osc => &[C, R, S],
            // p filters, q channels, one filter row of S
            Dataflow::Rs => &[M, C, S],
        }
    }

    pub fn rf_keeps(self, kind: Kind) -> bool {
        match self {
            Dataflow::Ws => kind == Kind::Filter,
            Dataflow::Osa | Dataflow::Osb | Dataflow::Osc => kind == Kind::Psum,
            Dataflow::Nlr => false,
            Dataflow::Rs => true,
        }
    }

    /// Dimensions along which an ifmap that the RF does not keep is passed from PE to PE
    /// (counted in the array, read once from the GLB) when they are the loops directly outside.
    fn forwards(self) -> &'static [usize] {
        match self {
            // as the filter position advances, neighbours pass their ifmap values on
            // (ShiDianNao's inter-PE FIFOs)
            Dataflow::Osa | Dataflow::Osb => &[S, R],
            // WS broadcasts ifmaps from the GLB to the PEs (nn-X, NVDLA; the book's 5.7.1);
            // a systolic WS (TPU) that shifts them between PEs is not modelled
            Dataflow::Ws | Dataflow::Osc | Dataflow::Nlr | Dataflow::Rs => &[],
        }
    }

    /// Dimensions along which the RF slides a window over an ifmap it keeps.
    fn rf_slides(self) -> &'static [usize] {
        match self {
            Dataflow::Rs => &[F],
            _ => &[],
        }
    }

    /// RF words a PE needs for the RF-level factors `rf` of a layer.
    pub fn rf_words(self, rf: &[u64; 7]) -> u64 {
        match self {
            Dataflow::Ws => 1,
            Dataflow::Osa | Dataflow::Osb | Dataflow::Osc => 1,
            Dataflow::Nlr => 0,
            // filters p*q*S, an ifmap window q*S, p psums (as the chip's spads)
            Dataflow::Rs => rf[M] * rf[C] * rf[S] + rf[C] * rf[S] + rf[M],
        }
    }
}

/// The area budget of the comparison and what each dataflow buys with it.
#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub pes: u64,
    pub word_bytes: u64,
    /// RF bytes per PE of the baseline (RS keeps exactly this).
    pub rf_bytes: u64,
    /// GLB bytes of the baseline.
    pub glb_bytes: u64,
    /// Area of one RF byte in GLB bytes: a dataflow with a smaller RF gets this many GLB bytes
    /// for each RF byte it gives up.
    pub rf_byte_in_glb_bytes: f64,
}

impl Default for Area {
    /// ISCA 2016: 256 PEs, 512 B RF per PE and a 128 KiB GLB (256 x 512 B). The paper says the
    /// dataflows' on-chip storage differs by up to 80 KB and their GLBs by up to 2.6x; an RF with
    /// none at all (NLR) giving 128 KiB of RF area to the GLB does both when one RF byte has the
    /// area of 1.625 GLB bytes (128 + 208 = 336 KiB, 2.63x; 336 - 256 = 80 KiB).
    fn default() -> Area {
        Area {
            pes: 256,
            word_bytes: 2,
            rf_bytes: 512,
            glb_bytes: 128 * 1024,
            rf_byte_in_glb_bytes: 1.625,
        }
    }
}

/// The storage one dataflow gets under an area budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hw {
    pub pes: u64,
    pub rf_words: u64,
    pub glb_words: u64,
}

impl Area {
    pub fn hw(&self, df: Dataflow) -> Result<Hw, DataflowError> {
        if self.pes == 0 || self.word_bytes == 0 {
            return Err(DataflowError::Area("pes and word_bytes must be > 0".into()));
        }
        let rf_words = match df {
            Dataflow::Rs => self.rf_bytes / self.word_bytes,
            // one register of the stationary type (a weight for WS, a psum for OS)
            Dataflow::Ws | Dataflow::Osa | Dataflow::Osb | Dataflow::Osc => 1,
            Dataflow::Nlr => 0,
        };
        let rf_bytes = rf_words * self.word_bytes;
        if rf_bytes > self.rf_bytes {
            return Err(DataflowError::Area(format!(
                "{} needs {rf_bytes} B of RF per PE, the budget has {}",
                df.name(),
                self.rf_bytes
            )));
        }
        let freed = (self.pes * (self.rf_bytes - rf_bytes)) as f64 * self.rf_byte_in_glb_bytes;
        let glb_bytes = self.glb_bytes as f64 + freed;
        Ok(Hw {
            pes: self.pes,
            rf_words,
            glb_words: (glb_bytes / self.word_bytes as f64).floor() as u64,
        })
    }
}

/// A layer's dimensions per group, as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shape {
    /// N, M, C, E, F, R, S of one group.
    pub d: [u64; 7],
    /// Vertical and horizontal stride.
    pub u: [u64; 2],
    pub groups: u64,
    /// Input height and width before padding.
    pub hw: [u64; 2],
    pub pad: [u64; 2],
}

impl Shape {
    pub fn of(l: &ConvLayer) -> Shape {
        let g = l.groups.max(1) as u64;
        Shape {
            d: [
                l.batch as u64,
                l.out_channels as u64 / g,
                l.in_channels as u64 / g,
                l.out_height() as u64,
                l.out_width() as u64,
                l.kernel_size.0 as u64,
                l.kernel_size.1 as u64,
            ],
            u: [l.stride.0 as u64, l.stride.1 as u64],
            groups: g,
            hw: [l.height as u64, l.width as u64],
            pad: [l.padding.0 as u64, l.padding.1 as u64],
        }
    }

    pub fn macs(&self) -> u64 {
        self.groups * self.d.iter().product::<u64>()
    }

    /// Values of each data type the layer uses (all groups): ifmap values some window covers
    /// (padding excluded; a stride wider than the kernel skips some), filters, ofmap.
    pub fn unique(&self) -> [u64; 3] {
        let d = &self.d;
        // input rows (columns) that output e (f) with tap r (s) reads
        let used = |k: usize, out: u64, taps: u64| {
            (0..self.hw[k])
                .filter(|&y| {
                    (0..taps).any(|r| {
                        let p = y + self.pad[k];
                        p >= r && (p - r).is_multiple_of(self.u[k]) && (p - r) / self.u[k] < out
                    })
                })
                .count() as u64
        };
        [
            self.groups * d[N] * d[C] * used(0, d[E], d[R]) * used(1, d[F], d[S]),
            self.groups * d[M] * d[C] * d[R] * d[S],
            self.groups * d[N] * d[M] * d[E] * d[F],
        ]
    }
}

/// Rows (or columns) of input that `e` outputs with `r` filter taps at stride `u` touch.
fn span(e: u64, r: u64, u: u64) -> u64 {
    if r >= u { (e - 1) * u + r } else { e * r }
}

fn tile(kind: Kind, x: &[u64; 7], sh: &Shape) -> u64 {
    match kind {
        Kind::Filter => x[M] * x[C] * x[R] * x[S],
        Kind::Psum => x[N] * x[M] * x[E] * x[F],
        Kind::Ifmap => x[N] * x[C] * span(x[E], x[R], sh.u[0]) * span(x[F], x[S], sh.u[1]),
    }
}

/// The loop-order groups: loops in a group index the same two data types, so only which group
/// sits innermost (and next) matters. 0: N, E, F (not weights); 1: M (not ifmaps); 2: C, R, S
/// (not psums). Inside a group the order is fixed, innermost first.
const GROUPS: [&[usize]; 3] = [&[F, E, N], &[M], &[S, R, C]];

/// Every order of the three groups, innermost first.
pub const ORDERS: [[u8; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// A mapping: the four factors of every dimension and the loop orders of the two temporal
/// levels outside the PEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mapping {
    pub dram: [u64; 7],
    pub glb: [u64; 7],
    pub spatial: [u64; 7],
    pub rf: [u64; 7],
    /// Group order (innermost first) of the GLB-level and DRAM-level loops.
    pub glb_order: [u8; 3],
    pub dram_order: [u8; 3],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Rf,
    Glb,
    Dram,
}

/// One temporal loop.
#[derive(Debug, Clone, Copy)]
struct Loop {
    dim: usize,
    factor: u64,
    level: Level,
}

/// Accesses per level for one data type, in words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PerLevel {
    pub dram: u64,
    pub glb: u64,
    pub array: u64,
    pub rf: u64,
}

/// What a mapping of a layer costs, per data type and level (all groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub ifmap: PerLevel,
    pub filter: PerLevel,
    pub psum: PerLevel,
    pub macs: u64,
    pub pes_used: u64,
}

impl Counts {
    pub fn accesses(&self) -> Accesses {
        let sum = |f: fn(&PerLevel) -> u64| f(&self.ifmap) + f(&self.filter) + f(&self.psum);
        Accesses {
            dram: sum(|p| p.dram),
            glb: sum(|p| p.glb),
            array: sum(|p| p.array),
            rf: sum(|p| p.rf),
            mac: self.macs,
        }
    }
}

impl Mapping {
    fn loops_of(f: &[u64; 7], order: [u8; 3], level: Level, out: &mut Vec<Loop>) {
        for g in order {
            for &dim in GROUPS[g as usize] {
                out.push(Loop {
                    dim,
                    factor: f[dim],
                    level,
                });
            }
        }
    }

    /// Temporal loops, innermost first: RF level, GLB level, DRAM level.
    fn loops(&self) -> Vec<Loop> {
        let mut v = Vec::with_capacity(21);
        Self::loops_of(&self.rf, [2, 1, 0], Level::Rf, &mut v);
        Self::loops_of(&self.glb, self.glb_order, Level::Glb, &mut v);
        Self::loops_of(&self.dram, self.dram_order, Level::Dram, &mut v);
        v
    }

    pub fn pes_used(&self) -> u64 {
        self.spatial.iter().product()
    }

    /// Everything inside the GLB: its tile's extent in each dimension.
    fn inner(&self) -> [u64; 7] {
        std::array::from_fn(|d| self.rf[d] * self.spatial[d] * self.glb[d])
    }

    /// GLB words the mapping needs: its tile of each data type.
    pub fn glb_words(&self, sh: &Shape) -> u64 {
        let x = self.inner();
        tile(Kind::Ifmap, &x, sh) + tile(Kind::Filter, &x, sh) + tile(Kind::Psum, &x, sh)
    }

    /// Why the mapping does not fit the dataflow, the layer or the hardware, if it does not.
    pub fn check(&self, df: Dataflow, hw: &Hw, sh: &Shape) -> Result<(), String> {
        for (d, name) in DIMS.iter().enumerate() {
            let all = self.dram[d] * self.glb[d] * self.spatial[d] * self.rf[d];
            if all != sh.d[d] {
                return Err(format!(
                    "{name}: factors multiply to {all}, the layer has {}",
                    sh.d[d]
                ));
            }
            if self.spatial[d] > 1 && !df.spatial_dims().contains(&d) {
                return Err(format!("{name} is not spatial in {}", df.name()));
            }
            if self.rf[d] > 1 && !df.rf_dims().contains(&d) {
                return Err(format!("{name} is not an RF loop in {}", df.name()));
            }
        }
        if df == Dataflow::Rs && (self.spatial[R] != sh.d[R] || self.rf[S] != sh.d[S]) {
            return Err(
                "RS keeps whole filter rows (S) in a PE and a whole PE set height (R)".into(),
            );
        }
        if self.pes_used() > hw.pes {
            return Err(format!("{} PEs, the array has {}", self.pes_used(), hw.pes));
        }
        if df.rf_words(&self.rf) > hw.rf_words {
            return Err(format!(
                "{} RF words per PE, the RF has {}",
                df.rf_words(&self.rf),
                hw.rf_words
            ));
        }
        if self.glb_words(sh) > hw.glb_words {
            return Err(format!(
                "{} GLB words, the GLB has {}",
                self.glb_words(sh),
                hw.glb_words
            ));
        }
        Ok(())
    }
}

/// Refetches of a tile under `loops` (innermost first), and the factors by which sliding
/// windows widen the tile instead.
fn refetch(loops: &[Loop], kind: Kind, stationary: bool, slides: &[usize]) -> (u64, [u64; 7]) {
    let mut wide = [1u64; 7];
    let mut it = loops.iter().filter(|l| l.factor > 1).peekable();
    if stationary {
        while it.next_if(|l| !relevant(kind, l.dim)).is_some() {}
    }
    if kind == Kind::Ifmap {
        while let Some(l) = it.next_if(|l| slides.contains(&l.dim)) {
            wide[l.dim] *= l.factor;
        }
    }
    (it.map(|l| l.factor).product(), wide)
}

fn times(a: &[u64; 7], b: &[u64; 7]) -> [u64; 7] {
    std::array::from_fn(|d| a[d] * b[d])
}

/// Access counts of `m` for `df` on `sh` (capacity is not checked here: see `Mapping::check`).
pub fn count(df: Dataflow, sh: &Shape, m: &Mapping) -> Counts {
    let loops = m.loops();
    let n_rf = loops.iter().filter(|l| l.level == Level::Rf).count();
    let n_dram_start = loops
        .iter()
        .position(|l| l.level == Level::Dram)
        .unwrap_or(loops.len());
    let macs_g: u64 = sh.d.iter().product();
    let pes = m.pes_used();
    let g = sh.groups;
    let ones = [1u64; 7];
    let input = |kind: Kind| -> PerLevel {
        let keeps = df.rf_keeps(kind);
        let pe = if keeps { m.rf } else { ones };
        // into the PEs: the RF's loops are outside the tile when the RF does not keep it
        let outer = if keeps { &loops[n_rf..] } else { &loops[..] };
        let slides = if keeps { df.rf_slides() } else { df.forwards() };
        let (fills, wide) = refetch(outer, kind, keeps, slides);
        let glb = tile(kind, &times(&times(&pe, &m.spatial), &wide), sh) * fills;
        let (array, rf) = if keeps {
            (pes * tile(kind, &times(&pe, &wide), sh) * fills, macs_g)
        } else {
            (macs_g, 0)
        };
        // into the GLB: it keeps everything inside it and slides along E and F
        let (fills, wide) = refetch(&loops[n_dram_start..], kind, true, &[E, F]);
        let dram = tile(kind, &times(&m.inner(), &wide), sh) * fills;
        PerLevel {
            dram: g * dram,
            glb: g * glb,
            array: g * array,
            rf: g * rf,
        }
    };
    let psum = {
        let keeps = df.rf_keeps(Kind::Psum);
        let base = if keeps { Level::Rf } else { Level::Glb };
        let (mut t_rf, mut t_glb, mut t_dram) = (0u64, 0u64, 0u64);
        for (k, l) in loops.iter().enumerate() {
            if l.factor <= 1 || relevant(Kind::Psum, l.dim) {
                continue;
            }
            let outer_acc: u64 = loops[k + 1..]
                .iter()
                .filter(|o| !relevant(Kind::Psum, o.dim))
                .map(|o| o.factor)
                .product();
            // where the psum waits between two accumulations: below the outermost loop inside
            // this one that moves to other psums
            let hold = loops[..k]
                .iter()
                .filter(|i| i.factor > 1 && relevant(Kind::Psum, i.dim))
                .map(|i| i.level)
                .fold(base, Ord::max);
            let t = (l.factor - 1) * outer_acc;
            match hold {
                Level::Rf => t_rf += t,
                Level::Glb => t_glb += t,
                Level::Dram => t_dram += t,
            }
        }
        let o = sh.d[N] * sh.d[M] * sh.d[E] * sh.d[F];
        let red = m.spatial[C] * m.spatial[R] * m.spatial[S];
        PerLevel {
            dram: g * o * (1 + 2 * t_dram),
            glb: g * o * 2 * t_glb,
            array: g * o * (1 + t_glb + t_dram) * (red - 1),
            rf: g * o * 2 * t_rf * red,
        }
    };
    Counts {
        ifmap: input(Kind::Ifmap),
        filter: input(Kind::Filter),
        psum,
        macs: g * macs_g,
        pes_used: pes,
    }
}

/// The best mapping found for a dataflow on a layer.
#[derive(Debug, Clone, Serialize)]
pub struct Best {
    pub dataflow: Dataflow,
    pub hw: Hw,
    pub mapping: Mapping,
    pub counts: Counts,
    pub energy: Energy,
    /// Energy per MAC, in the table's unit.
    pub per_op: f64,
    /// Mappings whose energy was computed.
    pub evaluated: u64,
}

fn divisors(n: u64) -> Vec<u64> {
    (1..=n).filter(|&d| n.is_multiple_of(d)).collect()
}

/// Every way to pick a factor of each of `dims` (dividing `of`) whose product is at most `max`.
fn factorings(dims: &[usize], of: &[u64; 7], max: u64, fixed: &[(usize, u64)]) -> Vec<[u64; 7]> {
    let mut out = vec![[1u64; 7]];
    for &d in dims {
        let choices: Vec<u64> = match fixed.iter().find(|f| f.0 == d) {
            Some(&(_, v)) => vec![v],
            None => divisors(of[d]),
        };
        let mut next = Vec::new();
        for f in &out {
            let p: u64 = f.iter().product();
            for &c in &choices {
                if p * c <= max && of[d].is_multiple_of(c) {
                    let mut g = *f;
                    g[d] = c;
                    next.push(g);
                }
            }
        }
        out = next;
    }
    out
}

/// Inner mappings (spatial and RF factors) kept for the full search of the levels outside.
const KEEP: usize = 12;

/// The dataflow's mapping with the least energy under `table`, searched over its spatial
/// factors, its RF factors, the split of the rest between the GLB and DRAM levels, and both
/// levels' loop orders.
///
/// The search is exhaustive over the outer levels for the `KEEP` inner mappings whose energy
/// is least with every outer factor at the GLB level (a bound that ignores the GLB size), among
/// those using at least half as many PEs as the dataflow can use on the layer; only N, M, C
/// and E are split between the GLB and DRAM levels (F, R and S stay inside the GLB).
pub fn best(
    df: Dataflow,
    area: &Area,
    l: &ConvLayer,
    table: &EnergyTable,
) -> Result<Best, DataflowError> {
    let hw = area.hw(df)?;
    let sh = Shape::of(l);
    let fail = |reason: String| DataflowError::NoMapping {
        dataflow: df.name(),
        layer: l.name.clone(),
        reason,
    };
    let energy_of = |c: &Counts| energy(c.accesses(), table).total;
    let fixed: Vec<(usize, u64)> = if df == Dataflow::Rs {
        vec![(R, sh.d[R])]
    } else {
        Vec::new()
    };
    let spatial = factorings(df.spatial_dims(), &sh.d, hw.pes, &fixed);
    let most = spatial
        .iter()
        .map(|s| s.iter().product::<u64>())
        .max()
        .unwrap_or(0);
    if most == 0 {
        return Err(fail(format!(
            "a PE set of {} filter rows does not fit {} PEs",
            sh.d[R], hw.pes
        )));
    }
    let mut evaluated = 0u64;
    // (bound, spatial, rf)
    let mut inner: Vec<(f64, [u64; 7], [u64; 7])> = Vec::new();
    for sp in spatial
        .iter()
        .filter(|s| 2 * s.iter().product::<u64>() >= most)
    {
        let rest: [u64; 7] = std::array::from_fn(|d| sh.d[d] / sp[d]);
        let rf_fixed: Vec<(usize, u64)> = if df == Dataflow::Rs {
            vec![(S, sh.d[S])]
        } else {
            Vec::new()
        };
        for rf in factorings(df.rf_dims(), &rest, u64::MAX, &rf_fixed) {
            if df.rf_words(&rf) > hw.rf_words {
                continue;
            }
            let glb: [u64; 7] = std::array::from_fn(|d| rest[d] / rf[d]);
            let mut bound = f64::INFINITY;
            for o in ORDERS {
                let m = Mapping {
                    dram: [1; 7],
                    glb,
                    spatial: *sp,
                    rf,
                    glb_order: o,
                    dram_order: ORDERS[0],
                };
                evaluated += 1;
                bound = bound.min(energy_of(&count(df, &sh, &m)));
            }
            inner.push((bound, *sp, rf));
        }
    }
    inner.sort_by(|a, b| a.0.total_cmp(&b.0));
    inner.truncate(KEEP);
    let mut best: Option<(f64, Mapping, Counts)> = None;
    let mut why = String::from("no spatial and RF factors fit");
    for (_, sp, rf) in &inner {
        let rest: [u64; 7] = std::array::from_fn(|d| sh.d[d] / (sp[d] * rf[d]));
        for dram in factorings(&[N, M, C, E], &rest, u64::MAX, &[]) {
            let glb: [u64; 7] = std::array::from_fn(|d| rest[d] / dram[d]);
            let probe = Mapping {
                dram,
                glb,
                spatial: *sp,
                rf: *rf,
                glb_order: ORDERS[0],
                dram_order: ORDERS[0],
            };
            if let Err(e) = probe.check(df, &hw, &sh) {
                why = e;
                continue;
            }
            for go in ORDERS {
                for d_o in ORDERS {
                    let m = Mapping {
                        glb_order: go,
                        dram_order: d_o,
                        ..probe
                    };
                    let c = count(df, &sh, &m);
                    evaluated += 1;
                    let e = energy_of(&c);
                    // ties keep the first found, so the result does not depend on timing
                    if best.as_ref().is_none_or(|b| e < b.0) {
                        best = Some((e, m, c));
                    }
                }
            }
        }
    }
    let (_, mapping, counts) = best.ok_or_else(|| fail(why))?;
    let en = energy(counts.accesses(), table);
    Ok(Best {
        dataflow: df,
        hw,
        mapping,
        counts,
        per_op: en.total / counts.macs.max(1) as f64,
        energy: en,
        evaluated,
    })
}
