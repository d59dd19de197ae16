//! `report`: cycles, active PEs and energy per layer without simulating anything.
//!
//! For every layer: the mapper's plan, the compiled program, and the counters the analysis
//! predicts from that program (the same prediction `sim` checks against the hardware). Energy is
//! the predicted accesses times a cost table. Output is a table, `report.json`, `layers.csv` and
//! three SVG charts, written atomically into one directory.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use thiserror::Error;

use crate::analysis::energy::{self, Accesses, Energy, EnergyTable};
use crate::analysis::{self, Counts, chip};
use crate::compile::{self, CompileError};
use crate::config::ArchConfig;
use crate::emit::{self, EmitError, OutFile};
use crate::layer::{ConvLayer, Tensors};
use crate::mapper::{self, MapError, Mapping};
use crate::plot::{Bar, Chart, Group, PALETTE, Series};
use crate::program::{self, Cmd, Counter, ProgramError};

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("layer '{layer}'")]
    Map {
        layer: String,
        #[source]
        source: MapError,
    },
    #[error("layer '{layer}'")]
    Compile {
        layer: String,
        #[source]
        source: CompileError,
    },
    #[error("layer '{layer}': the compiled program does not decode")]
    Program {
        layer: String,
        #[source]
        source: ProgramError,
    },
    #[error("no layers to report on")]
    Empty,
    #[error(transparent)]
    Write(#[from] EmitError),
}

/// What the report says about one layer.
#[derive(Debug, Clone, Serialize)]
pub struct LayerReport {
    pub layer: String,
    pub batch: u32,
    pub macs: u64,
    pub mapping: Mapping,
    pub passes: usize,
    pub active_pes: u32,
    pub array_pes: u32,
    /// The mapper's cycle model.
    pub predicted_cycles: u64,
    /// MACs / PEs of the array.
    pub ideal_cycles: u64,
    /// The Eyeriss chip's processing latency for this very layer (JSSC 2017 Table V), if known.
    pub chip_cycles: Option<u64>,
    pub chip_active_pes: Option<u32>,
    pub program_words: usize,
    /// The analysis' prediction of the data-independent counters.
    pub counters: Counts,
    /// Host words out: every STORE's answer (its header and its words), and the words of the
    /// READ_COUNTERS answer the hardware has sent when it samples this counter.
    pub host_words_out: u64,
    /// Energy per level, every MAC counted (no zero gating).
    pub energy: Energy,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub macs: u64,
    pub predicted_cycles: u64,
    pub ideal_cycles: u64,
    /// Sums over the layers the chip measured, and the same layers' predicted cycles.
    pub chip_cycles: Option<u64>,
    pub predicted_cycles_of_chip_layers: Option<u64>,
    pub energy: Energy,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generator: String,
    pub config: String,
    pub config_hash: String,
    pub array: [u32; 2],
    pub network: String,
    pub table: EnergyTable,
    pub zero_gating: &'static str,
    pub layers: Vec<LayerReport>,
    pub totals: Totals,
}

const ZERO_GATING: &str = "not modelled: zero-skipped MACs depend on the data, so every MAC, \
filter spad read and psum spad access is counted as if no ifmap value were zero; the chip's \
zero gating would lower the MAC and RF energy";

/// Accesses per level from the predicted counters, with the data-dependent ones filled in as
/// if no ifmap value were zero: then every busy PE-cycle is a MAC with one filter spad read and
/// one psum spad write, and the psum spad reads equal them too (the first MAC of each psum
/// entry reads nothing, and each entry is read once more to leave the PE).
fn accesses(cfg: &ArchConfig, c: &Counts, host_words_out: u64) -> Accesses {
    let busy = c.busy_pe_cycles;
    let named = c.named();
    energy::accesses(cfg, |counter| match counter {
        Counter::Macs
        | Counter::FilterSpadReads
        | Counter::PsumSpadReads
        | Counter::PsumSpadWrites => busy,
        Counter::HostWordsOut => host_words_out,
        // What the program alone does not decide (zero skips, waits, cycles) counts nothing.
        _ => named
            .iter()
            .find(|(n, _)| *n == counter)
            .map_or(0, |&(_, v)| v),
    })
}

/// Report on one layer: plan, compile (with all-zero tensors: the predicted counters do not
/// depend on the values), predict.
pub fn layer(
    cfg: &ArchConfig,
    l: &ConvLayer,
    table: &EnergyTable,
) -> Result<LayerReport, ReportError> {
    let plan = mapper::plan(cfg, l).map_err(|source| ReportError::Map {
        layer: l.name.clone(),
        source,
    })?;
    let [n, c, h, w] = l.ifmap_shape();
    let ws: u64 = l.weights_shape().iter().product();
    let zeros = Tensors {
        ifmap: vec![0; (n * c * h * w) as usize],
        weights: vec![0; ws as usize],
    };
    let compiled = compile::compile_with(cfg, l, &zeros, plan.clone()).map_err(|source| {
        ReportError::Compile {
            layer: l.name.clone(),
            source,
        }
    })?;
    let perr = |source| ReportError::Program {
        layer: l.name.clone(),
        source,
    };
    let counters = analysis::predict(cfg, &compiled.words).map_err(perr)?;
    // The counter is sampled while READ_COUNTERS streams its answer: the counters before it in
    // the answer are already out (18 words; `sim` shows this exact total on the layers/ files).
    let before = Counter::HostWordsOut as u64;
    let host_words_out = before
        + program::decode(&compiled.words, program::RowLimits::of(cfg))
            .map_err(perr)?
            .iter()
            .map(|cmd| match cmd {
                Cmd::Store { count, .. } => 1 + *count as u64,
                _ => 0,
            })
            .sum::<u64>();
    let chip = chip::measured(l);
    let energy = energy::energy(accesses(cfg, &counters, host_words_out), table);
    Ok(LayerReport {
        layer: l.name.clone(),
        batch: l.batch,
        macs: l.macs(),
        mapping: plan.mapping,
        passes: plan.passes,
        active_pes: plan.active_pes,
        array_pes: cfg.pes(),
        predicted_cycles: plan.predicted_cycles,
        ideal_cycles: plan.ideal_cycles,
        chip_cycles: chip.map(|c| c.cycles),
        chip_active_pes: chip.map(|c| c.active_pes),
        program_words: compiled.words.len(),
        counters,
        host_words_out,
        energy,
    })
}

/// Report on `layers` of `network` (a name for the output) on `cfg`.
pub fn build(
    cfg: &ArchConfig,
    network: &str,
    layers: &[ConvLayer],
    table: &EnergyTable,
    mut progress: impl FnMut(&LayerReport),
) -> Result<Report, ReportError> {
    if layers.is_empty() {
        return Err(ReportError::Empty);
    }
    let mut out = Vec::with_capacity(layers.len());
    for l in layers {
        let r = layer(cfg, l, table)?;
        progress(&r);
        out.push(r);
    }
    let sum = |f: fn(&LayerReport) -> u64| out.iter().map(f).sum::<u64>();
    let acc = out.iter().fold(Accesses::default(), |a, r| {
        let b = r.energy.accesses;
        Accesses {
            dram: a.dram + b.dram,
            glb: a.glb + b.glb,
            array: a.array + b.array,
            rf: a.rf + b.rf,
            mac: a.mac + b.mac,
        }
    });
    let chip_layers: Vec<&LayerReport> = out.iter().filter(|r| r.chip_cycles.is_some()).collect();
    let (chip_cycles, predicted_of_chip) = if chip_layers.is_empty() {
        (None, None)
    } else {
        (
            Some(chip_layers.iter().filter_map(|r| r.chip_cycles).sum()),
            Some(chip_layers.iter().map(|r| r.predicted_cycles).sum()),
        )
    };
    let totals = Totals {
        macs: sum(|r| r.macs),
        predicted_cycles: sum(|r| r.predicted_cycles),
        ideal_cycles: sum(|r| r.ideal_cycles),
        chip_cycles,
        predicted_cycles_of_chip_layers: predicted_of_chip,
        energy: energy::energy(acc, table),
    };
    Ok(Report {
        generator: format!("eyeriss-gen {}", env!("CARGO_PKG_VERSION")),
        config: cfg.name.clone(),
        config_hash: cfg.hash(),
        array: [cfg.array.rows, cfg.array.cols],
        network: network.to_string(),
        table: table.clone(),
        zero_gating: ZERO_GATING,
        layers: out,
        totals,
    })
}

/// Energy levels in chart and table order: (name, value).
fn levels(e: &Energy) -> [(&'static str, f64); 5] {
    [
        ("DRAM (host)", e.dram),
        ("GLB", e.glb),
        ("array (GIN, GON, LN)", e.array),
        ("RF (spads)", e.rf),
        ("MAC", e.mac),
    ]
}

impl Report {
    /// The table `report` prints.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "'{}' ({} x {} PEs, hash {}), network '{}', energy table '{}' (unit: {}); no zero gating",
            self.config,
            self.array[0],
            self.array[1],
            self.config_hash,
            self.network,
            self.table.name,
            self.table.unit
        );
        let _ = writeln!(
            s,
            "{:<8} {:>12} {:>9} {:>12} {:>12} {:>12} {:>6} {:>11} {:>6} {:>6} {:>6} {:>6} {:>6}",
            "layer",
            "MACs",
            "PEs",
            "predicted",
            "ideal",
            "chip",
            "/chip",
            "energy",
            "DRAM%",
            "GLB%",
            "arr%",
            "RF%",
            "MAC%"
        );
        let row = |s: &mut String,
                   name: &str,
                   macs: u64,
                   pes: String,
                   pred: u64,
                   ideal: u64,
                   chip: Option<u64>,
                   e: &Energy| {
            let pct = |x: f64| 100.0 * x / e.total.max(f64::MIN_POSITIVE);
            let _ = writeln!(
                s,
                "{:<8} {:>12} {:>9} {:>12} {:>12} {:>12} {:>6} {:>11.4e} {:>6.1} {:>6.1} {:>6.1} {:>6.1} {:>6.1}",
                name,
                macs,
                pes,
                pred,
                ideal,
                chip.map_or("-".to_string(), |c| c.to_string()),
                chip.map_or("-".to_string(), |c| format!(
                    "{:.2}",
                    pred as f64 / c as f64
                )),
                e.total,
                pct(e.dram),
                pct(e.glb),
                pct(e.array),
                pct(e.rf),
                pct(e.mac)
            );
        };
        for r in &self.layers {
            row(
                &mut s,
                &r.layer,
                r.macs,
                format!("{}/{}", r.active_pes, r.array_pes),
                r.predicted_cycles,
                r.ideal_cycles,
                r.chip_cycles,
                &r.energy,
            );
        }
        let t = &self.totals;
        row(
            &mut s,
            "total",
            t.macs,
            String::new(),
            t.predicted_cycles,
            t.ideal_cycles,
            None,
            &t.energy,
        );
        if let (Some(c), Some(p)) = (t.chip_cycles, t.predicted_cycles_of_chip_layers) {
            let _ = writeln!(
                s,
                "layers the chip measured: predicted {p} cycles, chip {c} ({:.2}x)",
                p as f64 / c as f64
            );
        }
        s
    }

    /// `layers.csv`: one row per layer, like SCALE-Sim's per-layer reports.
    pub fn csv(&self) -> String {
        let mut s = String::from(
            "layer,batch,macs,active_pes,array_pes,passes,predicted_cycles,ideal_cycles,chip_cycles,\
             dram_accesses,glb_accesses,array_accesses,rf_accesses,mac_ops,\
             energy_dram,energy_glb,energy_array,energy_rf,energy_mac,energy_total,energy_unit\n",
        );
        for r in &self.layers {
            let e = &r.energy;
            let a = e.accesses;
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6e},{:.6e},{:.6e},{:.6e},{:.6e},{:.6e},{}",
                r.layer,
                r.batch,
                r.macs,
                r.active_pes,
                r.array_pes,
                r.passes,
                r.predicted_cycles,
                r.ideal_cycles,
                r.chip_cycles.map_or(String::new(), |c| c.to_string()),
                a.dram,
                a.glb,
                a.array,
                a.rf,
                a.mac,
                e.dram,
                e.glb,
                e.array,
                e.rf,
                e.mac,
                e.total,
                e.unit
            );
        }
        s
    }

    fn chart(
        &self,
        title: &str,
        y: &str,
        series: &[&str],
        bars: impl Fn(&LayerReport) -> Vec<Bar>,
    ) -> Chart {
        Chart {
            title: format!("{title}: {} on '{}'", self.network, self.config),
            y_label: y.to_string(),
            series: series
                .iter()
                .zip(PALETTE)
                .map(|(n, c)| Series {
                    name: n.to_string(),
                    color: c,
                })
                .collect(),
            groups: self
                .layers
                .iter()
                .map(|r| Group {
                    label: r.layer.clone(),
                    bars: bars(r),
                })
                .collect(),
            hline: None,
        }
    }

    pub fn cycles_svg(&self) -> String {
        let bar = |k: usize, v: u64, label: &str| Bar {
            label: label.to_string(),
            segs: vec![(k, v as f64)],
        };
        self.chart(
            "Cycles per layer",
            "cycles",
            &[
                "predicted (mapper)",
                "ideal (MACs / PEs)",
                "Eyeriss chip (JSSC 2017)",
            ],
            |r| {
                let mut v = vec![
                    bar(0, r.predicted_cycles, "predicted"),
                    bar(1, r.ideal_cycles, "ideal"),
                ];
                if let Some(c) = r.chip_cycles {
                    v.push(bar(2, c, "chip"));
                }
                v
            },
        )
        .to_svg()
    }

    pub fn pes_svg(&self) -> String {
        let mut c = self.chart(
            "Active PEs per layer",
            "PEs",
            &["active PEs (mapper)", "Eyeriss chip (JSSC 2017)"],
            |r| {
                let mut v = vec![Bar {
                    label: "active".into(),
                    segs: vec![(0, r.active_pes as f64)],
                }];
                if let Some(c) = r.chip_active_pes {
                    v.push(Bar {
                        label: "chip".into(),
                        segs: vec![(1, c as f64)],
                    });
                }
                v
            },
        );
        let pes = self.layers.first().map_or(0, |r| r.array_pes);
        c.hline = Some((pes as f64, format!("array: {pes}")));
        c.to_svg()
    }

    pub fn energy_svg(&self) -> String {
        let names: Vec<&str> = levels(&self.totals.energy).iter().map(|l| l.0).collect();
        let y = format!(
            "energy ({}, table '{}', no zero gating)",
            self.table.unit, self.table.name
        );
        self.chart("Energy per layer by level", &y, &names, |r| {
            vec![Bar {
                label: String::new(),
                segs: levels(&r.energy)
                    .iter()
                    .enumerate()
                    .map(|(k, l)| (k, l.1))
                    .collect(),
            }]
        })
        .to_svg()
    }

    /// Every output file, relative to the output directory.
    pub fn files(&self) -> Vec<OutFile> {
        let mut json = serde_json::to_string_pretty(self).expect("the report serializes");
        json.push('\n');
        vec![
            OutFile::new("report.json", json),
            OutFile::new("layers.csv", self.csv()),
            OutFile::new("cycles.svg", self.cycles_svg()),
            OutFile::new("pes.svg", self.pes_svg()),
            OutFile::new("energy.svg", self.energy_svg()),
        ]
    }

    /// Write every file to `out`, replacing it only once all are written.
    pub fn write(&self, out: &Path, force: bool) -> Result<Vec<OutFile>, ReportError> {
        let files = self.files();
        emit::write_files(&files, out, force)?;
        Ok(files)
    }
}
