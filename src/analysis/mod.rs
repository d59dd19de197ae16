//! Counts the hardware must show for a program, predicted without simulating the datapath.
//!
//! The model walks the command stream as the controller does, keeps the configuration
//! registers (layer parameters, row IDs, per-PE IDs, enables and LN settings), and applies the
//! multicast controllers' rule to every stream row's tag to find which PEs receive it. From
//! that it counts what does not depend on the data: network beats, GON and LN words, GLB reads
//! and writes, host words, spad writes and reads, and MAC cycles. Zero-skipped MACs and psum
//! spad traffic depend on the ifmap values and are not predicted here.

pub mod chip;
pub mod dataflow;
pub mod energy;

use serde::Serialize;

use crate::config::ArchConfig;
use crate::program::{self, Cmd, Counter, LayerCfg, Net, PeCfg, ProgramError};

/// Predicted values of the data-independent counters (names as in READ_COUNTERS).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub busy_pe_cycles: u64,
    pub filter_spad_writes: u64,
    /// `None` when a pass has a stride wider than its filter (U > S): positions the stride
    /// skips are written if they arrive before the window slides and dropped if after, which
    /// depends on timing, not on the program.
    pub ifmap_spad_writes: Option<u64>,
    pub ifmap_spad_reads: u64,
    pub glb_reads: u64,
    pub glb_writes: u64,
    pub filter_gin_beats: u64,
    pub ifmap_gin_beats: u64,
    pub psum_gin_beats: u64,
    pub gon_words: u64,
    pub ln_words: u64,
    pub host_words_in: u64,
    pub enabled_pes: u64,
}

impl Counts {
    /// (counter, predicted value) for every counter the program alone decides, for comparing
    /// with a run's `LayerStats::counters`.
    pub fn named(&self) -> Vec<(Counter, u64)> {
        let mut v = vec![
            (Counter::BusyPeCycles, self.busy_pe_cycles),
            (Counter::FilterSpadWrites, self.filter_spad_writes),
            (Counter::IfmapSpadReads, self.ifmap_spad_reads),
            (Counter::GlbReads, self.glb_reads),
            (Counter::GlbWrites, self.glb_writes),
            (Counter::FilterGinBeats, self.filter_gin_beats),
            (Counter::IfmapGinBeats, self.ifmap_gin_beats),
            (Counter::PsumGinBeats, self.psum_gin_beats),
            (Counter::GonWords, self.gon_words),
            (Counter::LnWords, self.ln_words),
            (Counter::HostWordsIn, self.host_words_in),
            (Counter::EnabledPes, self.enabled_pes),
        ];
        if let Some(w) = self.ifmap_spad_writes {
            v.push((Counter::IfmapSpadWrites, w));
        }
        v
    }
}

/// Elements received per PE in the current pass.
#[derive(Clone, Default)]
struct PeIn {
    filter: u64,
    rows: u64,
    elements: u64,
}

/// Predict the counters of `words` (a whole program, CLEAR_COUNTERS first and MARK last) on
/// `cfg`'s hardware.
pub fn predict(cfg: &ArchConfig, words: &[u64]) -> Result<Counts, ProgramError> {
    let cmds = program::decode(words, program::RowLimits::of(cfg))?;
    let (rows, cols) = (cfg.array.rows as usize, cfg.array.cols as usize);
    let npe = rows * cols;
    let rb = cfg.noc.row_id_bits;
    let row_none = (1u32 << rb) - 1;
    let mask = |b: u32| (1u32 << b) - 1;
    let col_bits = [
        cfg.noc.filter_col_id_bits,
        cfg.noc.ifmap_col_id_bits,
        cfg.noc.psum_col_id_bits,
    ];
    let mut row_ids = [
        vec![row_none; rows],
        vec![row_none; rows],
        vec![row_none; rows],
    ];
    let mut pes: Vec<PeCfg> = (0..npe)
        .map(|n| PeCfg {
            row: (n / cols) as u32,
            col: (n % cols) as u32,
            filt_id: mask(col_bits[0]),
            ifmap_id: mask(col_bits[1]),
            psum_id: mask(col_bits[2]),
            gon_id: 0,
            enable: false,
            psum_sel: 0,
            out_gon: false,
        })
        .collect();
    let mut layer: Option<LayerCfg> = None;
    let mut got = vec![PeIn::default(); npe];
    let mut c = Counts {
        // CLEAR_COUNTERS does not count itself, nor is the MARK taken before the read.
        host_words_in: words.len().saturating_sub(2) as u64,
        ifmap_spad_writes: Some(0),
        ..Counts::default()
    };
    let word_lanes = |bits: u32| 64 / bits as u64;
    let data_wl = word_lanes(cfg.data.data_width);
    let psum_wl = word_lanes(cfg.data.psum_width);

    // What the PEs of the pass that just ended did with what they received.
    let settle = |got: &mut [PeIn], pes: &[PeCfg], layer: Option<LayerCfg>, c: &mut Counts| {
        let Some(l) = layer else { return };
        let (p, q, s, f, u) = (l.p as u64, l.q as u64, l.s as u64, l.f as u64, l.u as u64);
        let wpc = p.div_ceil(psum_wl);
        for (pe, g) in pes.iter().zip(got.iter_mut()) {
            // a PE fills its filter spad whatever else it does
            c.filter_spad_writes += g.filter.min(p * q * s);
            if pe.enable && g.rows > 0 {
                if u > s {
                    c.ifmap_spad_writes = None;
                }
                if let Some(w) = c.ifmap_spad_writes.as_mut() {
                    *w += g.elements;
                }
                c.ifmap_spad_reads += g.rows * f * s * q;
                c.busy_pe_cycles += g.rows * f * p * q * s;
                if !pe.out_gon {
                    c.ln_words += g.rows * f * wpc;
                }
            }
            *g = PeIn::default();
        }
    };

    for cmd in &cmds {
        match cmd {
            Cmd::CfgLayer(l) => layer = Some(*l),
            Cmd::CfgRowId { net, row, id } => {
                if let Some(k) = [Net::Filter, Net::Ifmap, Net::Psum]
                    .iter()
                    .position(|n| n == net)
                    && (*row as usize) < rows
                {
                    row_ids[k][*row as usize] = id & row_none;
                }
            }
            Cmd::CfgPe(pc) => {
                let (r, col) = (pc.row as usize, pc.col as usize);
                if r < rows && col < cols {
                    pes[r * cols + col] = PeCfg {
                        filt_id: pc.filt_id & mask(col_bits[0]),
                        ifmap_id: pc.ifmap_id & mask(col_bits[1]),
                        psum_id: pc.psum_id & mask(col_bits[2]),
                        ..*pc
                    };
                }
            }
            Cmd::Load { words, .. } => c.glb_writes += words.len() as u64,
            Cmd::Store { count, .. } => c.glb_reads += *count as u64,
            // A pass ends at its BARRIER, before the next pass reconfigures anything.
            Cmd::Barrier => settle(&mut got, &pes, layer, &mut c),
            Cmd::Drain { total, .. } => {
                c.gon_words += *total as u64;
                c.glb_writes += *total as u64;
            }
            Cmd::Stream {
                net,
                len,
                base,
                stride,
                tags,
            } => {
                let k = match net {
                    Net::Filter => 0,
                    Net::Ifmap => 1,
                    _ => 2,
                };
                let (wl, lanes) = match net {
                    Net::Filter => (
                        data_wl,
                        (cfg.noc.filter_gin_width / cfg.data.data_width) as u64,
                    ),
                    Net::Ifmap => (
                        data_wl,
                        (cfg.noc.ifmap_gin_width / cfg.data.data_width) as u64,
                    ),
                    _ => (psum_wl, psum_wl),
                };
                for (i, &(rt, ct)) in tags.iter().enumerate() {
                    let (len, a) = (*len as u64, *base as u64 + i as u64 * *stride as u64);
                    if len == 0 {
                        continue;
                    }
                    // one GLB read per word the row touches; a beat never crosses a word
                    let first = a / wl;
                    let last = (a + len - 1) / wl;
                    c.glb_reads += last - first + 1;
                    let mut beats = 0;
                    let mut e = a;
                    while e < a + len {
                        let in_word = wl - e % wl;
                        let n = in_word.min(lanes).min(a + len - e);
                        e += n;
                        beats += 1;
                    }
                    match net {
                        Net::Filter => c.filter_gin_beats += beats,
                        Net::Ifmap => c.ifmap_gin_beats += beats,
                        _ => c.psum_gin_beats += beats,
                    }
                    if net == &Net::Psum {
                        continue;
                    }
                    // the multicast controllers' rule: row ID and column ID equal the tag,
                    // and the all-ones ID never matches
                    let cmask = mask(col_bits[k]);
                    if (rt & row_none) == row_none || (ct & cmask) == cmask {
                        continue;
                    }
                    for r in 0..rows {
                        if row_ids[k][r] != rt & row_none {
                            continue;
                        }
                        for col in 0..cols {
                            let pe = &pes[r * cols + col];
                            let id = [pe.filt_id, pe.ifmap_id, pe.psum_id][k];
                            if id == ct & cmask {
                                let g = &mut got[r * cols + col];
                                if k == 0 {
                                    g.filter += len;
                                } else {
                                    g.rows += 1;
                                    g.elements += len;
                                }
                            }
                        }
                    }
                }
            }
            Cmd::ReadCounters => {
                settle(&mut got, &pes, layer, &mut c);
                c.enabled_pes = pes.iter().filter(|p| p.enable).count() as u64;
                break;
            }
            _ => {}
        }
    }
    Ok(c)
}
