//! Run a quantized graph on the accelerator, one layer after another: every Conv, FC and
//! average pool on the simulated array (each checked bit for bit against the golden model),
//! each fed by the previous layer's hardware output after the host's ops; the few ops the
//! array cannot do on the host, with the integer semantics of `docs/onnx.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::quant::{self, Quant};
use super::{Graph, Node, OnnxError, Op, reference};
use crate::config::ArchConfig;
use crate::layer::{ConvLayer, LayerData, Tensors};
use crate::run::{self, LayerStats};
use crate::sim::{Backend, RunOpts};

/// Where an op ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    Array,
    Host,
    /// Folded into the array layer before it (a ReLU the PE applies).
    Fused,
}

/// One node of a run.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRun {
    pub name: String,
    pub onnx_name: String,
    pub op: &'static str,
    pub placement: Placement,
    /// Output shape per sample, C x H x W.
    pub shape: String,
    /// The output's scale exponent (2^exp per integer step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i32>,
    /// The array's measurements (array layers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<LayerStats>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Inference {
    pub model: String,
    pub config: String,
    pub config_hash: String,
    pub backend: String,
    pub batch: usize,
    /// Every node, in the order they ran.
    pub nodes: Vec<NodeRun>,
    pub quant: Quant,
    /// The dequantized output: batch x `classes`.
    #[serde(skip)]
    pub output: Vec<f32>,
    /// The float model's output (tract).
    #[serde(skip)]
    pub reference: Vec<f32>,
    pub classes: usize,
    /// Per sample: the class the hardware picks, and the float model's.
    pub top1: Vec<usize>,
    pub reference_top1: Vec<usize>,
    /// Per sample: cosine similarity of output and reference.
    pub cosine: Vec<f64>,
    /// Every array layer's output equals the golden model's, bit for bit.
    pub matches: bool,
    pub cycles: u64,
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &x)| {
            if x > bv { (i, x) } else { (bi, bv) }
        })
        .0
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let na: f64 = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        if na == nb { 1.0 } else { 0.0 }
    } else {
        dot / (na * nb)
    }
}

/// The padding the host adds before node `n` runs (top, left, bottom, right).
pub fn host_pad(n: &Node) -> [u32; 4] {
    match &n.op {
        Op::Conv(c) => c.host_pad,
        Op::MaxPool(p) | Op::AvgPool(p) => p.host_pad,
        _ => [0; 4],
    }
}

/// `x` (N x C x H x W of `s`) with `pad` (top, left, bottom, right) more rows and columns of
/// `fill` around each plane.
pub fn pad_input(x: &[i16], s: super::Shape, pad: [u32; 4], fill: i16) -> Vec<i16> {
    if pad == [0; 4] {
        return x.to_vec();
    }
    let (h, w) = (s.h as usize, s.w as usize);
    let (ph, pw) = (
        h + (pad[0] + pad[2]) as usize,
        w + (pad[1] + pad[3]) as usize,
    );
    let planes = x.len() / (h * w).max(1);
    let mut out = vec![fill; planes * ph * pw];
    for p in 0..planes {
        for y in 0..h {
            let src = &x[(p * h + y) * w..][..w];
            let at = (p * ph + y + pad[0] as usize) * pw + pad[1] as usize;
            out[at..at + w].copy_from_slice(src);
        }
    }
    out
}

/// The array layer for Conv/FC/average-pool node `n` on `batch` samples.
fn layer_for(g: &Graph, n: &Node, batch: u32, q: &Quant) -> Result<ConvLayer, OnnxError> {
    let mut s = g
        .shape_of(&n.inputs[0])
        .ok_or_else(|| OnnxError::Reference(format!("no shape for '{}'", n.inputs[0])))?;
    let hp = host_pad(n);
    s.h += hp[0] + hp[2];
    s.w += hp[1] + hp[3];
    let dummy = LayerData::Seed {
        seed: 0,
        zero_fraction: 0.0,
    };
    let (out_channels, kernel, stride, padding, groups, shift) = match &n.op {
        Op::Conv(c) => (
            c.out_channels,
            c.kernel,
            c.stride,
            c.padding,
            c.groups,
            q.convs[&n.name].shift,
        ),
        Op::AvgPool(p) => (
            s.c,
            p.kernel,
            p.stride,
            p.padding,
            s.c,
            q.avgs[&n.name].shift,
        ),
        Op::MaxPool(p) => (s.c, p.kernel, p.stride, p.padding, s.c, 0),
        _ => unreachable!("only Conv and the pools run on the array"),
    };
    let l = ConvLayer {
        name: n.name.clone(),
        in_channels: s.c,
        out_channels,
        height: s.h,
        width: s.w,
        kernel_size: kernel,
        stride,
        padding,
        groups,
        batch,
        shift,
        relu: false,
        max_pool: matches!(n.op, Op::MaxPool(_)),
        data: dummy,
    };
    l.validate()?;
    Ok(l)
}

/// Whether node `n` runs on the array: every Conv, FC and average pool, and a max pool where
/// the PEs have MAX mode and its zero padding cannot win (no padding, or an input that a ReLU
/// made non-negative).
pub fn on_array(cfg: &ArchConfig, g: &Graph, n: &Node) -> bool {
    on_array_with(cfg.pe.max_pool, g, n)
}

/// [`on_array`] for PEs with (`max_mode`) or without MAX mode.
pub fn on_array_with(max_mode: bool, g: &Graph, n: &Node) -> bool {
    match &n.op {
        Op::Conv(_) | Op::AvgPool(_) => true,
        Op::MaxPool(p) => {
            let padded = p.padding != (0, 0) || p.host_pad != [0; 4];
            max_mode && (!padded || non_negative(g, &n.inputs[0]))
        }
        _ => false,
    }
}

/// A value that cannot be negative: a ReLU's output, or a max pool or Flatten of one.
fn non_negative(g: &Graph, v: &str) -> bool {
    match g.nodes.iter().find(|m| m.output == v) {
        Some(m) => match m.op {
            Op::Relu => true,
            Op::MaxPool(_) | Op::Flatten => non_negative(g, &m.inputs[0]),
            _ => false,
        },
        None => false,
    }
}

/// The ReLU node that alone reads `n`'s output, if the array can apply it (no bias to add on
/// the host first).
fn fusable_relu<'g>(g: &'g Graph, n: &Node, q: &Quant) -> Option<&'g Node> {
    let no_bias = match &n.op {
        Op::Conv(_) => q.convs[&n.name].bias.is_none(),
        Op::AvgPool(_) | Op::MaxPool(_) => true,
        _ => return None,
    };
    let readers: Vec<&Node> = g
        .nodes
        .iter()
        .filter(|m| m.inputs.contains(&n.output))
        .collect();
    match readers.as_slice() {
        [r] if no_bias && r.op == Op::Relu && g.output != n.output => Some(r),
        _ => None,
    }
}

/// Check the model's input array and return its batch size.
pub fn check_input(g: &Graph, shape: &[u64], what: &str) -> Result<usize, OnnxError> {
    let s = g.input_shape;
    let want = [u64::from(s.c), u64::from(s.h), u64::from(s.w)];
    match shape {
        [n, rest @ ..] if rest == want && *n >= 1 && *n <= 4096 => Ok(*n as usize),
        _ => Err(OnnxError::Input {
            what: what.to_string(),
            msg: format!(
                "shape {shape:?}; the model takes N x {} x {} x {} float32 images (N from 1 to 4096)",
                s.c, s.h, s.w
            ),
        }),
    }
}

/// Run `g` (from the ONNX file `model`) on `input` (N x C x H x W), calibrated on `calib`
/// (default: the input), on `sim`.
#[allow(clippy::too_many_arguments)]
pub fn infer(
    cfg: &ArchConfig,
    g: &Graph,
    model: &Path,
    input: &[f32],
    batch: usize,
    calib: Option<(&[f32], usize)>,
    sim: &dyn Backend,
    opts: &RunOpts,
    mut on_node: impl FnMut(&NodeRun),
) -> Result<Inference, OnnxError> {
    let bits = cfg.data.data_width;
    let wanted = quant::calibration_values(g);
    let (cx, cn) = calib.unwrap_or((input, batch));
    let cal_values = reference::run(model, g, cx, cn, &wanted)?;
    let q = quant::calibrate(g, cx, &cal_values, bits)?;
    let ref_values = if calib.is_some() {
        reference::run(model, g, input, batch, std::slice::from_ref(&g.output))?
    } else {
        cal_values
    };
    let reference = ref_values
        .get(&g.output)
        .cloned()
        .ok_or_else(|| OnnxError::Reference(format!("no value '{}'", g.output)))?;

    // Every array layer is planned before the first one runs, so that one the config cannot
    // run fails at once; the runs below use these plans.
    let mut plans = BTreeMap::new();
    for n in &g.nodes {
        if on_array(cfg, g, n) {
            let l = layer_for(g, n, batch as u32, &q)?;
            let plan = crate::mapper::plan(cfg, &l)?;
            plans.insert(n.name.clone(), (l, plan));
        }
    }

    // Integer values by name, batch-major.
    let mut vals: BTreeMap<String, Vec<i16>> = BTreeMap::new();
    let in_exp = q.exps[&g.input];
    let limit = quant::qmax(bits) as f64 * 2f64.powi(in_exp);
    if let Some(v) = input.iter().find(|v| f64::from(v.abs()) > limit) {
        return Err(OnnxError::Range {
            value: g.input.clone(),
            node: "the model's input".into(),
            max: f64::from(v.abs()),
            exp: in_exp,
            why: format!(
                "{bits}-bit data holds at most {limit:.4e} at that scale; calibrate on inputs that cover this run's (--calibrate), or on the run's own inputs"
            ),
        });
    }
    vals.insert(
        g.input.clone(),
        input
            .iter()
            .map(|&v| quant::quantize(v, in_exp, bits))
            .collect(),
    );
    let mut runs = Vec::new();
    let mut fused: Vec<String> = Vec::new();
    let mut matches = true;
    let mut cycles = 0u64;
    let mut output: Option<Vec<f32>> = None;
    let node_run = |n: &Node, placement, stats| NodeRun {
        name: n.name.clone(),
        onnx_name: n.onnx_name.clone(),
        op: n.op.name(),
        placement,
        shape: n.shape.to_string(),
        exp: q.exps.get(&n.output).copied(),
        stats,
    };
    for n in &g.nodes {
        if fused.contains(&n.name) {
            let x = vals[&n.inputs[0]].clone();
            vals.insert(n.output.clone(), x);
            let r = node_run(n, Placement::Fused, None);
            on_node(&r);
            runs.push(r);
            continue;
        }
        let x = &vals[&n.inputs[0]];
        let mut stats = None;
        let out: Vec<i16> = match &n.op {
            _ if on_array(cfg, g, n) => {
                let (mut l, plan) = plans.remove(&n.name).ok_or_else(|| {
                    OnnxError::Reference(format!("no plan for array layer '{}'", n.name))
                })?;
                let relu = fusable_relu(g, n, &q);
                if let Some(r) = relu {
                    l.relu = true;
                    fused.push(r.name.clone());
                }
                let taps = (l.out_channels * l.kernel_size.0 * l.kernel_size.1) as usize;
                let weights = match &n.op {
                    Op::Conv(_) => q.convs[&n.name].weights.clone(),
                    Op::AvgPool(_) => vec![q.avgs[&n.name].weight; taps],
                    // MAX mode with unit weights and no shift: the largest value of the window.
                    _ => vec![1; taps],
                };
                let in_shape = g.shape_of(&n.inputs[0]).unwrap_or(n.shape);
                let tensors = Tensors {
                    ifmap: pad_input(x, in_shape, host_pad(n), 0),
                    weights,
                };
                let bias = match &n.op {
                    Op::Conv(_) => q.convs[&n.name].bias.as_ref(),
                    _ => None,
                };
                check_range(cfg, n, &l, &tensors, bias, &q)?;
                let r = run::run_planned(cfg, &l, plan, tensors, sim, opts).map_err(Box::new)?;
                matches &= r.stats.matches;
                cycles += r.stats.cycles;
                let per = n.shape.elements() / n.shape.c as usize;
                let out = r
                    .ofmap
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| {
                        let b = bias.map_or(0, |b| b[(k / per) % n.shape.c as usize]);
                        quant::saturate(i64::from(v) + b, bits)
                    })
                    .collect();
                stats = Some(r.stats);
                out
            }
            Op::Conv(_) | Op::AvgPool(_) => {
                unreachable!("on_array holds for every Conv and average pool")
            }
            Op::Relu => x.iter().map(|&v| v.max(0)).collect(),
            Op::MaxPool(p) => max_pool(x, g.shape_of(&n.inputs[0]).unwrap_or(n.shape), n, p),
            Op::Flatten => x.clone(),
            Op::Add => {
                let y = &vals[&n.inputs[1]];
                let (ea, eb) = (q.exps[&n.inputs[0]], q.exps[&n.inputs[1]]);
                let e = q.exps[&n.output];
                let sums: Vec<i64> = x
                    .iter()
                    .zip(y)
                    .map(|(&a, &b)| {
                        quant::align(i64::from(a), ea, e).saturating_add(quant::align(
                            i64::from(b),
                            eb,
                            e,
                        ))
                    })
                    .collect();
                if let Some(&v) = sums.iter().find(|v| v.abs() > quant::qmax(bits)) {
                    return Err(out_of_range(n, v, e, &format!("the {bits}-bit data")));
                }
                sums.iter().map(|&v| quant::saturate(v, bits)).collect()
            }
            Op::Softmax => {
                let e = q.exps[&n.inputs[0]];
                let k = n.shape.c as usize;
                let mut o = Vec::with_capacity(x.len());
                for row in x.chunks(k) {
                    let f: Vec<f64> = row
                        .iter()
                        .map(|&v| f64::from(quant::dequantize(i64::from(v), e)))
                        .collect();
                    let m = f.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let ex: Vec<f64> = f.iter().map(|v| (v - m).exp()).collect();
                    let sum: f64 = ex.iter().sum();
                    o.extend(ex.iter().map(|v| (v / sum) as f32));
                }
                output = Some(o);
                Vec::new()
            }
        };
        let placement = if stats.is_some() {
            Placement::Array
        } else {
            Placement::Host
        };
        let r = node_run(n, placement, stats);
        on_node(&r);
        runs.push(r);
        vals.insert(n.output.clone(), out);
    }
    let output = match output {
        Some(o) => o,
        None => {
            let e = q.exps[&g.output];
            vals[&g.output]
                .iter()
                .map(|&v| quant::dequantize(i64::from(v), e))
                .collect()
        }
    };
    let classes = output.len() / batch;
    let top1 = output.chunks(classes).map(argmax).collect();
    let reference_top1 = reference.chunks(classes).map(argmax).collect();
    let cosine = output
        .chunks(classes)
        .zip(reference.chunks(classes))
        .map(|(a, b)| cosine(a, b))
        .collect();
    Ok(Inference {
        model: g.name.clone(),
        config: cfg.name.clone(),
        config_hash: cfg.hash(),
        backend: sim.name().to_string(),
        batch,
        nodes: runs,
        quant: q,
        output,
        reference,
        classes,
        top1,
        reference_top1,
        cosine,
        matches,
        cycles,
    })
}

/// MaxPool on the host: padding (the array's and the host's share alike) reads as the
/// smallest value, so it never wins.
fn max_pool(x: &[i16], s: super::Shape, n: &Node, p: &super::Pool) -> Vec<i16> {
    let (c, h, w) = (s.c as usize, s.h as i64, s.w as i64);
    let (e, f) = (n.shape.h as usize, n.shape.w as usize);
    let per_in = c * (h * w) as usize;
    let batch = x.len() / per_in.max(1);
    let mut out = Vec::with_capacity(batch * c * e * f);
    for b in 0..batch {
        for ch in 0..c {
            let plane = &x[(b * c + ch) * (h * w) as usize..][..(h * w) as usize];
            for oy in 0..e {
                for ox in 0..f {
                    let mut m = i16::MIN;
                    for ky in 0..p.kernel.0 as i64 {
                        for kx in 0..p.kernel.1 as i64 {
                            let y = oy as i64 * i64::from(p.stride.0) + ky
                                - i64::from(p.padding.0 + p.host_pad[0]);
                            let xx = ox as i64 * i64::from(p.stride.1) + kx
                                - i64::from(p.padding.1 + p.host_pad[1]);
                            if (0..h).contains(&y) && (0..w).contains(&xx) {
                                m = m.max(plane[(y * w + xx) as usize]);
                            }
                        }
                    }
                    out.push(m);
                }
            }
        }
    }
    out
}

/// Refuse a layer whose result does not fit at its output's scale: past the psum width the
/// array's sums wrap (garbage, not a clipped value), and past the data width the host would
/// have to clip what the next layer reads. Calibration on the run's own inputs leaves
/// headroom for both; inputs beyond the calibration's range can break it.
fn check_range(
    cfg: &ArchConfig,
    n: &Node,
    l: &ConvLayer,
    t: &Tensors,
    bias: Option<&Vec<i64>>,
    q: &Quant,
) -> Result<(), OnnxError> {
    let (bits, psum) = (cfg.data.data_width, cfg.data.psum_width);
    let wide = crate::golden::conv2d(l, t, 32);
    let per = (l.out_height() * l.out_width()) as usize;
    let m = l.out_channels as usize;
    let mut worst = (0i64, 0usize);
    for (k, &v) in wide.iter().enumerate() {
        let pre = i64::from(v);
        let post = pre + bias.map_or(0, |b| b[(k / per) % m]);
        let over = (pre.abs() - quant::qmax(psum)).max(post.abs() - quant::qmax(bits));
        if over > worst.0 {
            worst = (over, k);
        }
    }
    if worst.0 > 0 {
        let e = q.exps.get(&n.output).copied().unwrap_or(0);
        let v = i64::from(wide[worst.1]) + bias.map_or(0, |b| b[(worst.1 / per) % m]);
        return Err(out_of_range(
            n,
            v,
            e,
            &format!("the {bits}-bit data ({psum}-bit psums)"),
        ));
    }
    Ok(())
}

/// `n`'s output reaching `v` steps of 2^`e`, beyond `what` holds.
fn out_of_range(n: &Node, v: i64, e: i32, what: &str) -> OnnxError {
    OnnxError::Range {
        value: n.output.clone(),
        node: n.name.clone(),
        max: v.abs() as f64 * 2f64.powi(e),
        exp: e,
        why: format!(
            "that is {v} in steps of 2^{e}, beyond {what}; calibrate on inputs that cover this run's (--calibrate), or on the run's own inputs"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arrays_max_mode_and_the_hosts_max_pool_agree() {
        let s = super::super::Shape { c: 3, h: 6, w: 6 };
        let pool = super::super::Pool {
            kernel: (2, 2),
            stride: (2, 2),
            padding: (0, 0),
            host_pad: [0; 4],
        };
        let n = Node {
            name: "p".into(),
            onnx_name: "p".into(),
            op: Op::MaxPool(pool),
            inputs: vec!["x".into()],
            output: "y".into(),
            shape: super::super::Shape { c: 3, h: 3, w: 3 },
        };
        let x: Vec<i16> = (0..2 * 3 * 36)
            .map(|k| ((k * 7919) % 201) as i16 - 100)
            .collect();
        let host = max_pool(&x, s, &n, &pool);
        let l = ConvLayer {
            name: "p".into(),
            in_channels: 3,
            out_channels: 3,
            height: 6,
            width: 6,
            kernel_size: (2, 2),
            stride: (2, 2),
            padding: (0, 0),
            groups: 3,
            batch: 2,
            shift: 0,
            relu: false,
            max_pool: true,
            data: LayerData::Seed {
                seed: 0,
                zero_fraction: 0.0,
            },
        };
        let t = Tensors {
            ifmap: x,
            weights: vec![1; 12],
        };
        let arr: Vec<i16> = crate::golden::conv2d(&l, &t, 16)
            .iter()
            .map(|&v| v as i16)
            .collect();
        assert_eq!(host, arr);
    }
}
