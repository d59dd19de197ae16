//! `compare`: energy per operation of every dataflow of `analysis::dataflow` on a network's
//! layers at several batch sizes, by layer class (CONV, FC), normalized to row stationary, as
//! ISCA 2016's Fig. 10 and 11 compare them.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use thiserror::Error;

use crate::analysis::dataflow::{self, Area, Best, Dataflow, DataflowError, Hw};
use crate::analysis::energy::EnergyTable;
use crate::emit::{self, EmitError, OutFile};
use crate::layer::ConvLayer;
use crate::plot::{Bar, Chart, Group, PALETTE, Series};

#[derive(Debug, Error)]
pub enum CompareError {
    #[error(transparent)]
    Dataflow(#[from] DataflowError),
    #[error("batch sizes must be 1 or more, got {0}")]
    Batch(u32),
    #[error("no layers or no batch sizes to compare")]
    Empty,
    #[error(transparent)]
    Write(#[from] EmitError),
}

/// CONV or FC: a layer whose kernel covers its whole (padded) input, giving one output
/// pixel, is fully connected.
pub fn class(l: &ConvLayer) -> &'static str {
    if l.out_height() == 1 && l.out_width() == 1 {
        "FC"
    } else {
        "CONV"
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerResult {
    pub layer: String,
    pub class: &'static str,
    pub batch: u32,
    pub macs: u64,
    pub results: Vec<Best>,
}

/// Energy per MAC of one dataflow on one layer class at one batch size, by level.
#[derive(Debug, Clone, Serialize)]
pub struct ClassResult {
    pub class: &'static str,
    pub batch: u32,
    pub dataflow: Dataflow,
    pub macs: u64,
    pub dram: f64,
    pub glb: f64,
    pub array: f64,
    pub rf: f64,
    pub mac: f64,
    pub per_op: f64,
    /// This dataflow's energy per op over RS's.
    pub vs_rs: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub generator: String,
    pub network: String,
    pub table: EnergyTable,
    pub area: Area,
    pub hw: Vec<(Dataflow, Hw)>,
    pub batches: Vec<u32>,
    pub classes: Vec<ClassResult>,
    pub layers: Vec<LayerResult>,
}

/// The network `compare` runs when none is named: AlexNet (`networks/alexnet.toml`), the
/// network of ISCA 2016's comparison, built in so that the default does not depend on the
/// working directory.
pub const DEFAULT_NETWORK: &str = include_str!("../networks/alexnet.toml");

/// Compare every dataflow on `layers` (their batch replaced by each of `batches`).
pub fn run(
    network: &str,
    layers: &[ConvLayer],
    batches: &[u32],
    area: &Area,
    table: &EnergyTable,
    progress: &indicatif::ProgressBar,
) -> Result<Comparison, CompareError> {
    if layers.is_empty() || batches.is_empty() {
        return Err(CompareError::Empty);
    }
    if let Some(&b) = batches.iter().find(|&&b| b == 0) {
        return Err(CompareError::Batch(b));
    }
    let jobs: Vec<ConvLayer> = batches
        .iter()
        .flat_map(|&b| {
            layers.iter().map(move |l| ConvLayer {
                batch: b,
                ..l.clone()
            })
        })
        .collect();
    progress.set_length(jobs.len() as u64);
    // The searches are independent; two threads halve the wait and the order of the results
    // stays that of `jobs`.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2);
    let chunk = jobs.len().div_ceil(threads);
    let results: Vec<Result<LayerResult, DataflowError>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|l| {
                            let results = Dataflow::ALL
                                .iter()
                                .map(|&df| dataflow::best(df, area, l, table))
                                .collect::<Result<Vec<_>, _>>()?;
                            progress.inc(1);
                            Ok(LayerResult {
                                layer: l.name.clone(),
                                class: class(l),
                                batch: l.batch,
                                macs: l.macs(),
                                results,
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a search thread does not panic"))
            .collect()
    });
    let layers: Vec<LayerResult> = results.into_iter().collect::<Result<_, _>>()?;
    let mut classes = Vec::new();
    for &b in batches {
        for cl in ["CONV", "FC"] {
            let of: Vec<&LayerResult> = layers
                .iter()
                .filter(|r| r.batch == b && r.class == cl)
                .collect();
            if of.is_empty() {
                continue;
            }
            let macs: u64 = of.iter().map(|r| r.macs).sum();
            let mut rows: Vec<ClassResult> = Dataflow::ALL
                .iter()
                .enumerate()
                .map(|(k, &df)| {
                    let sum = |f: fn(&Best) -> f64| {
                        of.iter().map(|r| f(&r.results[k])).sum::<f64>() / macs as f64
                    };
                    ClassResult {
                        class: cl,
                        batch: b,
                        dataflow: df,
                        macs,
                        dram: sum(|x| x.energy.dram),
                        glb: sum(|x| x.energy.glb),
                        array: sum(|x| x.energy.array),
                        rf: sum(|x| x.energy.rf),
                        mac: sum(|x| x.energy.mac),
                        per_op: sum(|x| x.energy.total),
                        vs_rs: 0.0,
                    }
                })
                .collect();
            let rs = rows
                .iter()
                .find(|r| r.dataflow == Dataflow::Rs)
                .map_or(1.0, |r| r.per_op);
            for r in &mut rows {
                r.vs_rs = r.per_op / rs;
            }
            classes.extend(rows);
        }
    }
    let hw = Dataflow::ALL
        .iter()
        .map(|&df| Ok((df, area.hw(df)?)))
        .collect::<Result<Vec<_>, DataflowError>>()?;
    Ok(Comparison {
        generator: format!("eyeriss-gen {}", env!("CARGO_PKG_VERSION")),
        network: network.to_string(),
        table: table.clone(),
        area: area.clone(),
        hw,
        batches: batches.to_vec(),
        classes,
        layers,
    })
}

impl Comparison {
    /// Energy per op (table unit per MAC) and the ratio to RS, per class and batch.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "energy per MAC ({} per MAC, table '{}'), and over RS; '{}', {} PEs",
            self.table.unit, self.table.name, self.network, self.area.pes
        );
        let _ = write!(s, "{:<5} {:>5}", "class", "batch");
        for df in Dataflow::ALL {
            let _ = write!(s, " {:>15}", df.name());
        }
        s.push('\n');
        for row in self.classes.chunks(Dataflow::ALL.len()) {
            let _ = write!(s, "{:<5} {:>5}", row[0].class, row[0].batch);
            for r in row {
                let _ = write!(s, " {:>8.2} ({:.2}x)", r.per_op, r.vs_rs);
            }
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "per layer: energy per MAC (over RS); RS per MAC by level: DRAM GLB array RF"
        );
        for l in &self.layers {
            let _ = write!(s, "{:<5} {:>5} {:<6}", l.class, l.batch, l.layer);
            let rs = l
                .results
                .iter()
                .find(|b| b.dataflow == Dataflow::Rs)
                .map_or(1.0, |b| b.per_op);
            for b in &l.results {
                let _ = write!(s, " {:>6.2} ({:.2}x)", b.per_op, b.per_op / rs);
            }
            if let Some(b) = l.results.iter().find(|b| b.dataflow == Dataflow::Rs) {
                let m = b.counts.macs.max(1) as f64;
                let e = &b.energy;
                let _ = write!(
                    s,
                    " | {:.2} {:.2} {:.2} {:.2}",
                    e.dram / m,
                    e.glb / m,
                    e.array / m,
                    e.rf / m
                );
            }
            s.push('\n');
        }
        let _ = writeln!(s, "storage per dataflow (RF words per PE, GLB words):");
        for (df, hw) in &self.hw {
            let _ = writeln!(
                s,
                "  {:<4} RF {:>4}  GLB {:>7} ({:.1} KiB)",
                df.name(),
                hw.rf_words,
                hw.glb_words,
                (hw.glb_words * self.area.word_bytes) as f64 / 1024.0
            );
        }
        s
    }

    /// One chart per class: energy per op, each dataflow's bar split by level, grouped by batch.
    pub fn svg(&self, class: &str) -> Option<String> {
        let levels = ["DRAM", "GLB", "array", "RF", "MAC"];
        let groups: Vec<Group> = self
            .classes
            .chunks(Dataflow::ALL.len())
            .filter(|row| row[0].class == class)
            .map(|row| Group {
                label: format!("batch {}", row[0].batch),
                bars: row
                    .iter()
                    .map(|r| Bar {
                        label: r.dataflow.name().to_string(),
                        segs: vec![(0, r.dram), (1, r.glb), (2, r.array), (3, r.rf), (4, r.mac)],
                    })
                    .collect(),
            })
            .collect();
        if groups.is_empty() {
            return None;
        }
        Some(
            Chart {
                title: format!(
                    "{} {class} layers: energy per MAC by level, best mapping per dataflow",
                    self.network
                ),
                y_label: format!(
                    "energy / MAC ({} per MAC, '{}')",
                    self.table.unit, self.table.name
                ),
                series: levels
                    .iter()
                    .zip(PALETTE)
                    .map(|(n, c)| Series {
                        name: n.to_string(),
                        color: c,
                    })
                    .collect(),
                groups,
                hline: None,
            }
            .to_svg(),
        )
    }

    pub fn files(&self) -> Vec<OutFile> {
        let mut json = serde_json::to_string_pretty(self).expect("the comparison serializes");
        json.push('\n');
        let mut files = vec![OutFile::new("compare.json", json)];
        for (class, name) in [("CONV", "compare_conv.svg"), ("FC", "compare_fc.svg")] {
            if let Some(svg) = self.svg(class) {
                files.push(OutFile::new(name, svg));
            }
        }
        files
    }

    pub fn write(&self, out: &Path, force: bool) -> Result<Vec<OutFile>, CompareError> {
        let files = self.files();
        emit::write_files(&files, out, force)?;
        Ok(files)
    }
}
