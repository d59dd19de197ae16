//! `infer`: a trained ONNX model run end to end on the simulated accelerator, and `import`:
//! the model as a network directory (`network.toml`, weights, the graph).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use indicatif::MultiProgress;

use eyeriss_gen::npy;
use eyeriss_gen::onnx::infer::{self, Inference, Placement};
use eyeriss_gen::onnx::{Graph, import};
use eyeriss_gen::output::OutDir;
use eyeriss_gen::progress;
use eyeriss_gen::sim::Backend as SimBackend;
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::rusthdl::RustHdlSim;
use eyeriss_gen::sim::verilator::VerilatorSim;

use super::load_config;
use super::sim::Backend;

#[derive(clap::Args)]
pub struct InferArgs {
    /// Architecture config (TOML), e.g. configs/small.toml.
    #[arg(long, short)]
    pub config: PathBuf,
    /// An ONNX model, or a directory `eyeriss-gen import` wrote (its model.onnx).
    #[arg(long, short)]
    pub model: PathBuf,
    /// The inputs: float32 N x C x H x W (.npy).
    #[arg(long, short)]
    pub input: PathBuf,
    /// Calibrate the scales on these inputs instead of the run's own (.npy, as --input).
    #[arg(long)]
    pub calibrate: Option<PathBuf>,
    /// The true class of each input (integer .npy of N): prints the accuracy of the
    /// hardware and of the float model.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Backend::Verilator)]
    pub backend: Backend,
    /// Output directory (default: infer_out/<config>-<model>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace the output directory even if eyeriss-gen did not write it.
    #[arg(long)]
    pub force: bool,
}

/// The ONNX file of `--model`: the file itself, or an imported directory's copy.
pub fn model_file(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("model.onnx")
    } else {
        p.to_path_buf()
    }
}

/// A model run's inputs and outputs, from `infer` or `board --model`.
pub struct ModelRun {
    pub model: PathBuf,
    pub input: PathBuf,
    pub calibrate: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub force: bool,
}

pub fn run(a: InferArgs) -> Result<ExitCode> {
    let cfg = load_config(&a.config)?;
    let m = ModelRun {
        model: a.model,
        input: a.input,
        calibrate: a.calibrate,
        labels: a.labels,
        out: a.out,
        force: a.force,
    };
    let backend = a.backend;
    run_model(&cfg, &m, || {
        Ok(match backend {
            Backend::Verilator => Box::new(VerilatorSim::build(&cfg, true)?),
            Backend::RustHdl => Box::new(RustHdlSim::new(&cfg)?),
        })
    })
}

/// Check everything `m` names, then make the backend with `make` and run the model on it.
pub fn run_model(
    cfg: &eyeriss_gen::config::ArchConfig,
    m: &ModelRun,
    make: impl FnOnce() -> Result<Box<dyn SimBackend>>,
) -> Result<ExitCode> {
    let model = model_file(&m.model);
    let g: Graph = import::import(&model)?;
    let x = npy::read_f32(&m.input)?;
    let batch = infer::check_input(&g, &x.shape, &m.input.display().to_string())?;
    // An imported directory brings the samples it was calibrated on.
    let calib_file = m.calibrate.clone().or_else(|| {
        let p = m.model.join("calibration.npy");
        (m.model.is_dir() && p.is_file()).then_some(p)
    });
    let calib = match &calib_file {
        Some(p) => {
            let c = npy::read_f32(p)?;
            let n = infer::check_input(&g, &c.shape, &p.display().to_string())?;
            Some((c, n))
        }
        None => None,
    };
    let labels = match &m.labels {
        Some(p) => {
            let l = npy::read_int(p)?;
            anyhow::ensure!(
                l.shape == [batch as u64],
                "{}: shape {:?}; give one label per input ({batch})",
                p.display(),
                l.shape
            );
            Some(l.data)
        }
        None => None,
    };
    let out = m
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("infer_out").join(format!("{}-{}", cfg.name, g.name)));
    eyeriss_gen::output::check_dir(&out, m.force)?;
    let sim = make()?;
    let multi = MultiProgress::new();
    let bar = progress::items(&multi, g.nodes.len() as u64, "nodes");
    let r = infer::infer(
        cfg,
        &g,
        &model,
        &x.data,
        batch,
        calib.as_ref().map(|(c, n)| (c.data.as_slice(), *n)),
        sim.as_ref(),
        &RunOpts::default(),
        |n| {
            bar.set_message(n.name.clone());
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();
    print_table(&r);
    print_summary(&r, labels.as_deref());

    let staged = OutDir::create(&out, m.force)?;
    let shape = [batch as u64, r.classes as u64];
    npy::write_f32(&staged.path().join("output.npy"), &shape, &r.output)?;
    npy::write_f32(&staged.path().join("reference.npy"), &shape, &r.reference)?;
    let mut json = serde_json::to_string_pretty(&r)?;
    json.push('\n');
    let rp = staged.path().join("report.json");
    std::fs::write(&rp, json).with_context(|| format!("cannot write {}", rp.display()))?;
    staged.commit()?;
    println!(
        "wrote {} (output.npy, reference.npy, report.json)",
        out.display()
    );
    Ok(if r.matches {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_table(r: &Inference) {
    println!(
        "{:<20} {:<15} {:<6} {:>14} {:>5} {:>11} {:>6} {:>12}  check",
        "node", "op", "where", "output", "exp", "cycles", "util", "energy"
    );
    for n in &r.nodes {
        let place = match n.placement {
            Placement::Array => "array",
            Placement::Host => "host",
            Placement::Fused => "fused",
        };
        let exp = n.exp.map_or_else(|| "-".into(), |e| e.to_string());
        match &n.stats {
            Some(s) => println!(
                "{:<20} {:<15} {:<6} {:>14} {:>5} {:>11} {:>5.1}% {:>12.4e}  {}",
                n.name,
                n.op,
                place,
                n.shape,
                exp,
                s.cycles,
                100.0 * s.utilization,
                s.energy.total,
                if s.matches { "MATCH" } else { "MISMATCH" }
            ),
            None => println!(
                "{:<20} {:<15} {:<6} {:>14} {:>5}",
                n.name, n.op, place, n.shape, exp
            ),
        }
    }
}

fn print_summary(r: &Inference, labels: Option<&[i64]>) {
    let n = r.top1.len();
    let agree = r
        .top1
        .iter()
        .zip(&r.reference_top1)
        .filter(|(a, b)| a == b)
        .count();
    let min_cos = r.cosine.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "{} samples on '{}' ({}): {} cycles on the array; top-1 equals the float model's on {agree} of {n}; cosine similarity to it at least {min_cos:.4}",
        n, r.config, r.backend, r.cycles
    );
    if let Some(l) = labels {
        let acc = |pred: &[usize]| {
            100.0
                * pred
                    .iter()
                    .zip(l)
                    .filter(|(p, y)| **p as i64 == **y)
                    .count() as f64
                / n as f64
        };
        println!(
            "accuracy: hardware {:.2}%, float model {:.2}% ({n} labelled samples)",
            acc(&r.top1),
            acc(&r.reference_top1)
        );
    }
    if r.matches {
        println!("MATCH: every array layer's ofmap equals the golden model's, bit for bit");
    } else {
        let bad: Vec<&str> = r
            .nodes
            .iter()
            .filter(|n| n.stats.as_ref().is_some_and(|s| !s.matches))
            .map(|n| n.name.as_str())
            .collect();
        println!("MISMATCH in {}", bad.join(", "));
    }
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Output directory (default: networks_out/<model>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Calibrate on these inputs (float32 N x C x H x W .npy): the layers then carry their
    /// shifts and their real inputs, and `infer --model DIR` uses the same calibration.
    #[arg(long)]
    pub calibrate: Option<PathBuf>,
    /// The config whose data width the weights are quantized to and whose PEs run the
    /// layers (default: 16 bits, with MAX mode).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Replace the output directory even if eyeriss-gen did not write it.
    #[arg(long)]
    pub force: bool,
}

pub fn import_run(a: ImportArgs) -> Result<ExitCode> {
    let g = import::import(&a.model)?;
    let (data_width, max_mode) = match &a.config {
        Some(c) => {
            let cfg = load_config(c)?;
            (cfg.data.data_width, cfg.pe.max_pool)
        }
        None => (16, true),
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("networks_out").join(&g.name));
    eyeriss_gen::output::check_dir(&out, a.force)?;
    let calib = match &a.calibrate {
        Some(p) => {
            let c = npy::read_f32(p)?;
            let n = infer::check_input(&g, &c.shape, &p.display().to_string())?;
            let values = eyeriss_gen::onnx::reference::run(
                &a.model,
                &g,
                &c.data,
                n,
                &eyeriss_gen::onnx::quant::calibration_values(&g),
            )?;
            let q = eyeriss_gen::onnx::quant::calibrate(&g, &c.data, &values, data_width)?;
            Some((c, n, values, q))
        }
        None => None,
    };
    let w = eyeriss_gen::onnx::network_dir::write(
        &g,
        &a.model,
        data_width,
        max_mode,
        calib
            .as_ref()
            .map(|(c, n, v, q)| (c.data.as_slice(), *n, v, q)),
        &out,
        a.force,
    )?;
    for n in &g.nodes {
        println!(
            "{:<20} {:<15} {:>14}  <- {}",
            n.name,
            n.op.name(),
            n.shape.to_string(),
            n.inputs.join(", ")
        );
    }
    println!(
        "wrote {} (network.toml with {} array layers, graph.json with {} host ops, weights/{}); run it: eyeriss-gen infer --config C --model {} --input X.npy",
        out.display(),
        w.layers,
        w.host_ops,
        if w.calibrated {
            ", ifmaps/, calibration.npy"
        } else {
            ", not calibrated"
        },
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
