//! `eyeriss-gen import`'s output: a network directory a person can browse and every verb can
//! read.
//!
//! ```text
//! DIR/network.toml          the array layers in the format of networks/ (map, report,
//!                           compare, sim --network read it; so does --network DIR)
//! DIR/graph.json            every node: op, where it runs, inputs, output, shape; with a
//!                           calibration, every value's exponent and every layer's shift
//! DIR/weights/<layer>.npy   int16 quantized weights, M x C/groups x R x S
//! DIR/ifmaps/<layer>.npy    with --calibrate: the layer's input on the calibration samples
//! DIR/model.onnx            the model, so that `infer --model DIR` needs nothing else
//! DIR/calibration.npy       with --calibrate: the samples, which `infer --model DIR` uses
//! ```
//!
//! Written under [`crate::output`]'s rule: staged beside DIR, renamed into place whole.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::quant::{self, Quant};
use super::reference::Values;
use super::{Graph, OnnxError, Op};
use crate::io_error::io_err;
use crate::output::OutDir;

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub layers: usize,
    pub host_ops: usize,
    pub calibrated: bool,
}

#[derive(Serialize)]
struct GraphFile<'a> {
    graph: &'a Graph,
    data_width: u32,
    /// Present when the import was calibrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    quant: Option<&'a Quant>,
}

/// Write `g` (read from `model`) to `out` for PEs of `data_width`-bit data with or without
/// MAX mode; with `calib` (samples, their count, the float values of a run on them, the
/// quantization they gave) also real layer inputs and shifts.
#[allow(clippy::too_many_arguments)]
pub fn write(
    g: &Graph,
    model: &Path,
    data_width: u32,
    max_mode: bool,
    calib: Option<(&[f32], usize, &Values, &Quant)>,
    out: &Path,
    force: bool,
) -> Result<Written, OnnxError> {
    let staged = OutDir::create(out, force)?;
    let dir = staged.path().to_path_buf();
    for d in ["weights", "ifmaps"] {
        if d == "ifmaps" && calib.is_none() {
            continue;
        }
        let p = dir.join(d);
        std::fs::create_dir_all(&p).map_err(io_err("cannot create", &p))?;
    }
    let mp = dir.join("model.onnx");
    std::fs::copy(model, &mp).map_err(io_err("cannot write", &mp))?;

    let batch = calib.map_or(1, |c| c.1);
    let mut toml = String::new();
    let _ = writeln!(
        toml,
        "# Imported by eyeriss-gen {} from {}: the layers the array runs, in order.\n\
         # The ops between them (ReLU after a bias, max pools, residual adds, softmax) run on\n\
         # the host: graph.json has the whole graph, `eyeriss-gen infer --model <this dir>` runs it.",
        env!("CARGO_PKG_VERSION"),
        model
            .file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default()
    );
    if calib.is_none() {
        let _ = writeln!(
            toml,
            "# Not calibrated: the layers carry random data and shift 0, for map, report and\n\
             # compare; import with --calibrate X.npy for the trained weights on real inputs."
        );
    }
    let _ = writeln!(toml, "name = {:?}\nbatch = {batch}", g.name);
    let mut layers = 0;
    for (k, n) in g.nodes.iter().enumerate() {
        if !super::infer::on_array_with(max_mode, g, n) {
            continue;
        }
        layers += 1;
        let unpadded = g
            .shape_of(&n.inputs[0])
            .ok_or_else(|| OnnxError::Reference(format!("no shape for '{}'", n.inputs[0])))?;
        // Uneven padding: the host pads the rest before the layer, which sees the larger input.
        let hp = super::infer::host_pad(n);
        let mut s = unpadded;
        s.h += hp[0] + hp[2];
        s.w += hp[1] + hp[3];
        let (m, kernel, stride, pad, groups) = match &n.op {
            Op::Conv(c) => (c.out_channels, c.kernel, c.stride, c.padding, c.groups),
            Op::AvgPool(p) | Op::MaxPool(p) => (s.c, p.kernel, p.stride, p.padding, s.c),
            _ => continue,
        };
        // Weights: the Conv's own (exponent from them alone), the pool's constant.
        let weights: Vec<i16> = match (&n.op, calib) {
            (Op::Conv(_), Some((_, _, _, q))) => q.convs[&n.name].weights.clone(),
            (Op::Conv(c), None) => {
                let m_abs = c
                    .weights
                    .iter()
                    .fold(0.0f64, |a, &w| a.max(f64::from(w).abs()));
                let e = quant::exponent(m_abs, data_width);
                c.weights
                    .iter()
                    .map(|&w| quant::quantize(w, e, data_width))
                    .collect()
            }
            (Op::AvgPool(_), _) => {
                let a = quant::AvgQuant::new(kernel.0 * kernel.1, data_width);
                vec![a.weight; (m * kernel.0 * kernel.1) as usize]
            }
            _ => vec![1; (m * kernel.0 * kernel.1) as usize],
        };
        let wshape = [
            u64::from(m),
            u64::from(s.c / groups),
            u64::from(kernel.0),
            u64::from(kernel.1),
        ];
        let wp = dir.join("weights").join(format!("{}.npy", n.name));
        crate::npy::write_i16(&wp, &wshape, &weights).map_err(|e| OnnxError::Input {
            what: wp.display().to_string(),
            msg: e.to_string(),
        })?;
        let _ = writeln!(
            toml,
            "\n[[layer]]\n# {} (ONNX node {:?}){}\nname = {:?}\nin_channels = {}\nout_channels = {m}\nheight = {}\nwidth = {}\nkernel_size = [{}, {}]\nstride = [{}, {}]\npadding = [{}, {}]\ngroups = {groups}{}",
            n.op.name(),
            n.onnx_name,
            if hp == [0; 4] {
                String::new()
            } else {
                format!("; the host pads its input by {hp:?} (top, left, bottom, right) first")
            },
            n.name,
            s.c,
            s.h,
            s.w,
            kernel.0,
            kernel.1,
            stride.0,
            stride.1,
            pad.0,
            pad.1,
            if matches!(n.op, Op::MaxPool(_)) {
                "\nmax_pool = true"
            } else {
                ""
            }
        );
        match calib {
            Some((_, cn, values, q)) => {
                let shift = match &n.op {
                    Op::Conv(_) => q.convs[&n.name].shift,
                    Op::AvgPool(_) => q.avgs[&n.name].shift,
                    _ => 0,
                };
                let src = &n.inputs[0];
                let e = q.exps[src];
                let float = if *src == g.input {
                    calib.map(|c| c.0.to_vec()).unwrap_or_default()
                } else {
                    values.get(src).cloned().unwrap_or_default()
                };
                let ifmap: Vec<i16> = float
                    .iter()
                    .map(|&v| quant::quantize(v, e, data_width))
                    .collect();
                let ifmap = super::infer::pad_input(&ifmap, unpadded, hp, 0);
                let ip = dir.join("ifmaps").join(format!("{}.npy", n.name));
                let ishape = [cn as u64, u64::from(s.c), u64::from(s.h), u64::from(s.w)];
                crate::npy::write_i16(&ip, &ishape, &ifmap).map_err(|e| OnnxError::Input {
                    what: ip.display().to_string(),
                    msg: e.to_string(),
                })?;
                let _ = writeln!(
                    toml,
                    "shift = {shift}\nifmap = \"ifmaps/{}.npy\"\nweights = \"weights/{}.npy\"",
                    n.name, n.name
                );
            }
            None => {
                let _ = writeln!(toml, "seed = {}", k + 1);
            }
        }
    }
    let tp = dir.join("network.toml");
    std::fs::write(&tp, toml).map_err(io_err("cannot write", &tp))?;
    let gf = GraphFile {
        graph: g,
        data_width,
        quant: calib.map(|c| c.3),
    };
    let mut json = serde_json::to_string_pretty(&gf).map_err(|e| OnnxError::Input {
        what: "graph.json".into(),
        msg: e.to_string(),
    })?;
    json.push('\n');
    let gp = dir.join("graph.json");
    std::fs::write(&gp, json).map_err(io_err("cannot write", &gp))?;
    if let Some((x, cn, _, _)) = calib {
        let s = g.input_shape;
        let cp = dir.join("calibration.npy");
        crate::npy::write_f32(
            &cp,
            &[cn as u64, u64::from(s.c), u64::from(s.h), u64::from(s.w)],
            x,
        )
        .map_err(|e| OnnxError::Input {
            what: cp.display().to_string(),
            msg: e.to_string(),
        })?;
    }
    staged.commit()?;
    Ok(Written {
        layers,
        host_ops: g.nodes.len() - layers,
        calibrated: calib.is_some(),
    })
}
