//! ONNX -> [`Graph`]: read the model with tract-onnx's protobuf types, check every node
//! against what the accelerator runs, fold BatchNormalization into the Conv before it and a
//! bias Add into the FC before it, turn Gemm/MatMul after a Flatten into a convolution whose
//! filter covers the flattened input, and work out every value's shape.
//!
//! A node outside the supported set is refused with its name, its op type and what is
//! supported; nothing is written by an import that fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tract_onnx::pb;
use tract_onnx::prelude::*;

use super::{ConvOp, Graph, Node, OnnxError, Op, Pool, Shape};

/// A tensor from the model's initializers or Constant nodes.
#[derive(Debug, Clone)]
struct Const {
    dims: Vec<usize>,
    data: Vec<f32>,
}

/// Read `path` as an ONNX model and convert it.
pub fn import(path: &Path) -> Result<Graph, OnnxError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(crate::io_error::io_err("cannot read", path))?;
    let model = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .map_err(|e| OnnxError::NotOnnx {
            path: shown.clone(),
            msg: format!("{e}"),
        })?;
    let graph = model.graph.as_ref().ok_or_else(|| OnnxError::NotOnnx {
        path: shown.clone(),
        msg: "it has no graph".into(),
    })?;
    if graph.node.is_empty() {
        return Err(OnnxError::NotOnnx {
            path: shown,
            msg: "its graph has no nodes".into(),
        });
    }
    let name = path
        .file_stem()
        .map(|s| sanitize(&s.to_string_lossy()))
        .unwrap_or_else(|| "model".into());
    Importer::new(&shown, graph)?.run(name)
}

/// A name from the model made safe as a layer and file name: letters, digits, `_`, `-`, `.`.
pub fn sanitize(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    s = s
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    if s.is_empty() {
        s = "node".into();
    }
    s.truncate(crate::layer::MAX_NAME_LEN - 4);
    s
}

struct Importer<'a> {
    path: &'a str,
    graph: &'a pb::GraphProto,
    consts: BTreeMap<String, Const>,
    nodes: Vec<Node>,
    shapes: BTreeMap<String, Shape>,
    names: BTreeSet<String>,
    input: String,
    input_shape: Shape,
}

fn attr<'p>(n: &'p pb::NodeProto, name: &str) -> Option<&'p pb::AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn attr_i(n: &pb::NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map_or(default, |a| a.i)
}

fn attr_f(n: &pb::NodeProto, name: &str, default: f32) -> f32 {
    attr(n, name).map_or(default, |a| a.f)
}

fn attr_ints(n: &pb::NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

fn attr_s(n: &pb::NodeProto, name: &str) -> Option<String> {
    attr(n, name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

fn unsupported(n: &pb::NodeProto, why: impl Into<String>) -> OnnxError {
    let why = why.into();
    OnnxError::Unsupported {
        node: shown_name(n),
        op: n.op_type.clone(),
        why: if why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        },
    }
}

fn shown_name(n: &pb::NodeProto) -> String {
    if n.name.is_empty() {
        n.output.first().cloned().unwrap_or_default()
    } else {
        n.name.clone()
    }
}

fn load_const(t: &pb::TensorProto, what: &str) -> Result<Const, String> {
    let tensor =
        tract_onnx::tensor::load_tensor(&tract_onnx::data_resolver::FopenDataResolver, t, None)
            .map_err(|e| format!("{what}: {e}"))?;
    let dims = tensor.shape().to_vec();
    let data = tensor
        .cast_to::<f32>()
        .map_err(|e| format!("{what}: {e}"))?
        .to_plain_array_view::<f32>()
        .map_err(|e| format!("{what}: {e}"))?
        .iter()
        .copied()
        .collect();
    Ok(Const { dims, data })
}

/// A window attribute pair (`kernel_shape`, `strides`, `dilations`) as (vertical, horizontal).
fn pair(n: &pb::NodeProto, name: &str, default: u32) -> Result<(u32, u32), OnnxError> {
    match attr_ints(n, name) {
        None => Ok((default, default)),
        Some(v) if v.len() == 2 && v.iter().all(|&x| (0..=u32::MAX as i64).contains(&x)) => {
            Ok((v[0] as u32, v[1] as u32))
        }
        Some(v) => Err(unsupported(n, format!("{name} = {v:?}: only 2-D windows"))),
    }
}

/// `pads` = [top, left, bottom, right]. The array pads both sides of a dimension alike, so
/// it takes the smaller of the two; the host adds the rest before the layer (`extra`, in
/// the same order).
fn pads(n: &pb::NodeProto) -> Result<((u32, u32), [u32; 4]), OnnxError> {
    if let Some(p) = attr_s(n, "auto_pad")
        && !p.is_empty()
        && p != "NOTSET"
        && p != "VALID"
    {
        return Err(unsupported(
            n,
            format!("auto_pad = {p}: give explicit pads (export with auto_pad NOTSET)"),
        ));
    }
    match attr_ints(n, "pads") {
        None => Ok(((0, 0), [0; 4])),
        Some(p) if p.len() == 4 && p.iter().all(|&x| (0..=64).contains(&x)) => {
            let p: Vec<u32> = p.iter().map(|&x| x as u32).collect();
            let sym = (p[0].min(p[2]), p[1].min(p[3]));
            Ok((
                sym,
                [p[0] - sym.0, p[1] - sym.1, p[2] - sym.0, p[3] - sym.1],
            ))
        }
        Some(p) => Err(unsupported(n, format!("pads = {p:?}"))),
    }
}

/// The output height and width of a window on `s` with the array's `padding` and the host's
/// `host_pad`.
fn window_out(
    s: Shape,
    padding: (u32, u32),
    host_pad: [u32; 4],
    kernel: (u32, u32),
    stride: (u32, u32),
) -> Option<(u32, u32)> {
    Some((
        out_dim(
            s.h + host_pad[0] + host_pad[2],
            padding.0,
            kernel.0,
            stride.0,
        )?,
        out_dim(
            s.w + host_pad[1] + host_pad[3],
            padding.1,
            kernel.1,
            stride.1,
        )?,
    ))
}

fn out_dim(input: u32, pad: u32, k: u32, stride: u32) -> Option<u32> {
    let padded = input + 2 * pad;
    if stride == 0 || k == 0 || padded < k {
        return None;
    }
    Some((padded - k) / stride + 1)
}

impl<'a> Importer<'a> {
    fn new(path: &'a str, graph: &'a pb::GraphProto) -> Result<Self, OnnxError> {
        let model_err = |msg: String| OnnxError::Model {
            path: path.to_string(),
            msg,
        };
        let mut consts = BTreeMap::new();
        for t in &graph.initializer {
            let c = load_const(t, &format!("initializer '{}'", t.name)).map_err(model_err)?;
            consts.insert(t.name.clone(), c);
        }
        let inputs: Vec<&pb::ValueInfoProto> = graph
            .input
            .iter()
            .filter(|i| !consts.contains_key(&i.name))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(model_err(format!(
                "the graph has {} inputs ({}); the accelerator runs models with one image input",
                inputs.len(),
                inputs
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let dims = value_dims(input).ok_or_else(|| {
            model_err(format!(
                "input '{}' has no tensor shape: export the model with its input shape",
                input.name
            ))
        })?;
        let bad_shape = || {
            model_err(format!(
                "input '{}' has shape {}: the accelerator takes N x C x H x W images with fixed C, H and W",
                input.name,
                dims.iter()
                    .map(|d| d.map_or_else(|| "?".to_string(), |v| v.to_string()))
                    .collect::<Vec<_>>()
                    .join(" x ")
            ))
        };
        let [_, Some(c), Some(h), Some(w)] = dims.as_slice() else {
            return Err(bad_shape());
        };
        let in_range = |v: i64| (1..=65_535).contains(&v);
        if !(in_range(*c) && in_range(*h) && in_range(*w)) {
            return Err(bad_shape());
        }
        let input_shape = Shape {
            c: *c as u32,
            h: *h as u32,
            w: *w as u32,
        };
        let mut shapes = BTreeMap::new();
        shapes.insert(input.name.clone(), input_shape);
        Ok(Importer {
            path,
            graph,
            consts,
            nodes: Vec::new(),
            shapes,
            names: BTreeSet::new(),
            input: input.name.clone(),
            input_shape,
        })
    }

    fn unique_name(&mut self, n: &pb::NodeProto) -> String {
        let base = sanitize(&shown_name(n));
        let mut name = base.clone();
        let mut k = 2;
        while self.names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        name
    }

    fn shape(&self, n: &pb::NodeProto, v: &str) -> Result<Shape, OnnxError> {
        self.shapes.get(v).copied().ok_or_else(|| {
            if self.consts.contains_key(v) {
                unsupported(
                    n,
                    format!(
                        "input '{v}' is a constant: only one operand of a node may be a weight"
                    ),
                )
            } else {
                OnnxError::Model {
                    path: self.path.to_string(),
                    msg: format!(
                        "node '{}' reads '{v}', which no earlier node makes",
                        shown_name(n)
                    ),
                }
            }
        })
    }

    /// The node that makes value `v`, if it is one of ours and nothing else reads `v` yet.
    fn sole_producer(&self, v: &str, readers: &BTreeMap<String, usize>) -> Option<usize> {
        if readers.get(v).copied().unwrap_or(0) != 1
            || self.graph.output.iter().any(|o| o.name == v)
        {
            return None;
        }
        self.nodes.iter().position(|n| n.output == v)
    }

    fn push(&mut self, n: &pb::NodeProto, op: Op, inputs: Vec<String>, shape: Shape) {
        let name = self.unique_name(n);
        let output = n.output.first().cloned().unwrap_or_default();
        self.shapes.insert(output.clone(), shape);
        self.nodes.push(Node {
            name,
            onnx_name: shown_name(n),
            op,
            inputs,
            output,
            shape,
        });
    }

    /// Replace node `i`'s output by `output` (a folded node's), keeping its shape.
    fn rename_output(&mut self, i: usize, output: &str) {
        let old = std::mem::replace(&mut self.nodes[i].output, output.to_string());
        if let Some(s) = self.shapes.remove(&old) {
            self.shapes.insert(output.to_string(), s);
        }
    }

    fn run(mut self, name: String) -> Result<Graph, OnnxError> {
        let mut readers: BTreeMap<String, usize> = BTreeMap::new();
        for n in &self.graph.node {
            for i in n.input.iter().filter(|i| !i.is_empty()) {
                *readers.entry(i.clone()).or_default() += 1;
            }
        }
        let outputs: Vec<String> = self.graph.output.iter().map(|o| o.name.clone()).collect();
        let [graph_output] = outputs.as_slice() else {
            return Err(OnnxError::Model {
                path: self.path.to_string(),
                msg: format!(
                    "the graph has {} outputs; the accelerator runs models with one",
                    outputs.len()
                ),
            });
        };
        let graph = self.graph;
        for n in &graph.node {
            if !n.domain.is_empty() && n.domain != "ai.onnx" {
                return Err(unsupported(n, format!("domain '{}'", n.domain)));
            }
            if n.output.len() != 1 && n.op_type != "BatchNormalization" && n.op_type != "MaxPool" {
                return Err(unsupported(n, format!("{} outputs", n.output.len())));
            }
            let out = n.output.first().cloned().unwrap_or_default();
            match n.op_type.as_str() {
                "Constant" => {
                    let t = attr(n, "value")
                        .and_then(|a| a.t.as_ref())
                        .ok_or_else(|| unsupported(n, "a Constant without a tensor `value`"))?;
                    let c =
                        load_const(t, &format!("constant '{}'", shown_name(n))).map_err(|msg| {
                            OnnxError::Model {
                                path: self.path.to_string(),
                                msg,
                            }
                        })?;
                    self.consts.insert(out, c);
                }
                "Conv" => self.conv(n)?,
                "Gemm" | "MatMul" => self.fc(n)?,
                "BatchNormalization" => self.batch_norm(n, &readers)?,
                "Relu" => {
                    let s = self.shape(n, &n.input[0])?;
                    self.push(n, Op::Relu, vec![n.input[0].clone()], s);
                }
                "MaxPool" | "AveragePool" => self.pool(n)?,
                "GlobalAveragePool" => {
                    let s = self.shape(n, &n.input[0])?;
                    let pool = Pool {
                        kernel: (s.h, s.w),
                        stride: (1, 1),
                        padding: (0, 0),
                        host_pad: [0; 4],
                    };
                    let shape = Shape { c: s.c, h: 1, w: 1 };
                    self.push(n, Op::AvgPool(pool), vec![n.input[0].clone()], shape);
                }
                "Add" => self.add(n, &readers)?,
                "Flatten" => {
                    if attr_i(n, "axis", 1) != 1 {
                        return Err(unsupported(n, "only axis = 1 (N x rest)"));
                    }
                    let s = self.shape(n, &n.input[0])?;
                    let flat = Shape {
                        c: s.elements() as u32,
                        h: 1,
                        w: 1,
                    };
                    self.push(n, Op::Flatten, vec![n.input[0].clone()], flat);
                }
                "Reshape" => self.reshape(n)?,
                "Softmax" => {
                    let s = self.shape(n, &n.input[0])?;
                    let axis = attr_i(n, "axis", -1);
                    let channel_axis = axis == 1 || (axis == -1 && s.h == 1 && s.w == 1);
                    if !channel_axis || s.h != 1 || s.w != 1 {
                        return Err(unsupported(
                            n,
                            "only over the channels of a flat N x C value",
                        ));
                    }
                    if &out != graph_output {
                        return Err(unsupported(n, "only as the graph's last node"));
                    }
                    self.push(n, Op::Softmax, vec![n.input[0].clone()], s);
                }
                _ => return Err(unsupported(n, "")),
            }
        }
        if !self.shapes.contains_key(graph_output) {
            return Err(OnnxError::Model {
                path: self.path.to_string(),
                msg: format!("no node makes the graph's output '{graph_output}'"),
            });
        }
        let mut g = Graph {
            name,
            input: self.input,
            input_shape: self.input_shape,
            nodes: self.nodes,
            output: graph_output.clone(),
        };
        fold_flatten_into_fc(&mut g);
        Ok(g)
    }

    fn weight(&self, n: &pb::NodeProto, k: usize, what: &str) -> Result<Const, OnnxError> {
        let v = n
            .input
            .get(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| unsupported(n, format!("no {what}")))?;
        self.consts.get(v).cloned().ok_or_else(|| {
            unsupported(
                n,
                format!("its {what} '{v}' is computed, not a constant: only trained weights"),
            )
        })
    }

    fn conv(&mut self, n: &pb::NodeProto) -> Result<(), OnnxError> {
        let s = self.shape(n, &n.input[0])?;
        let w = self.weight(n, 1, "weights")?;
        let [m, cg, r, k] = w.dims.as_slice() else {
            return Err(unsupported(
                n,
                format!("weights of shape {:?}: only 2-D", w.dims),
            ));
        };
        let groups = attr_i(n, "group", 1);
        if groups < 1 || s.c as i64 % groups != 0 || *m as i64 % groups != 0 {
            return Err(unsupported(
                n,
                format!("group = {groups} with {} input channels", s.c),
            ));
        }
        let groups = groups as u32;
        if *cg as u32 * groups != s.c {
            return Err(unsupported(
                n,
                format!(
                    "weights for {} input channels per group, the input has {} in {groups} groups",
                    cg, s.c
                ),
            ));
        }
        if pair(n, "dilations", 1)? != (1, 1) {
            return Err(unsupported(n, "dilation other than 1"));
        }
        let kernel = (*r as u32, *k as u32);
        if let Some(ks) = attr_ints(n, "kernel_shape")
            && ks != [*r as i64, *k as i64]
        {
            return Err(unsupported(
                n,
                format!("kernel_shape {ks:?} differs from its weights"),
            ));
        }
        let stride = pair(n, "strides", 1)?;
        let (padding, host_pad) = pads(n)?;
        let Some((e, f)) = window_out(s, padding, host_pad, kernel, stride) else {
            return Err(unsupported(n, format!("a {r} x {k} kernel on a {s} input")));
        };
        let bias = match n.input.get(2).filter(|v| !v.is_empty()) {
            Some(_) => Some(self.weight(n, 2, "bias")?.data),
            None => None,
        };
        let op = ConvOp {
            fc: false,
            out_channels: *m as u32,
            kernel,
            stride,
            padding,
            host_pad,
            groups,
            weights: w.data,
            bias,
        };
        let shape = Shape {
            c: *m as u32,
            h: e,
            w: f,
        };
        self.push(n, Op::Conv(op), vec![n.input[0].clone()], shape);
        Ok(())
    }

    fn fc(&mut self, n: &pb::NodeProto) -> Result<(), OnnxError> {
        let s = self.shape(n, &n.input[0])?;
        if s.h != 1 || s.w != 1 {
            return Err(unsupported(
                n,
                format!("on a {s} input: Flatten (or Reshape to N x -1) it first"),
            ));
        }
        let w = self.weight(n, 1, "weights")?;
        let gemm = n.op_type == "Gemm";
        if gemm {
            if attr_i(n, "transA", 0) != 0 {
                return Err(unsupported(n, "transA = 1"));
            }
            if attr_f(n, "alpha", 1.0) != 1.0 || attr_f(n, "beta", 1.0) != 1.0 {
                return Err(unsupported(n, "alpha or beta other than 1"));
            }
        }
        let trans_b = gemm && attr_i(n, "transB", 0) != 0;
        let [a, b] = w.dims.as_slice() else {
            return Err(unsupported(n, format!("weights of shape {:?}", w.dims)));
        };
        let (k, m) = if trans_b { (*b, *a) } else { (*a, *b) };
        if k != s.c as usize {
            return Err(unsupported(
                n,
                format!("weights for {k} inputs, the input has {}", s.c),
            ));
        }
        // ONNX keeps K x M (or M x K with transB); the array wants M x K.
        let weights = if trans_b {
            w.data
        } else {
            let mut t = vec![0.0; k * m];
            for i in 0..k {
                for j in 0..m {
                    t[j * k + i] = w.data[i * m + j];
                }
            }
            t
        };
        let bias = match n.input.get(2).filter(|v| !v.is_empty()) {
            Some(_) => {
                let c = self.weight(n, 2, "bias")?;
                let per_output = c.data.len() == m;
                let scalar = c.data.len() == 1;
                if !(per_output || scalar) {
                    return Err(unsupported(n, format!("a bias of shape {:?}", c.dims)));
                }
                Some(if scalar { vec![c.data[0]; m] } else { c.data })
            }
            None => None,
        };
        let op = ConvOp {
            fc: true,
            out_channels: m as u32,
            kernel: (1, 1),
            stride: (1, 1),
            padding: (0, 0),
            host_pad: [0; 4],
            groups: 1,
            weights,
            bias,
        };
        let shape = Shape {
            c: m as u32,
            h: 1,
            w: 1,
        };
        self.push(n, Op::Conv(op), vec![n.input[0].clone()], shape);
        Ok(())
    }

    fn batch_norm(
        &mut self,
        n: &pb::NodeProto,
        readers: &BTreeMap<String, usize>,
    ) -> Result<(), OnnxError> {
        let x = &n.input[0];
        let Some(i) = self
            .sole_producer(x, readers)
            .filter(|&i| matches!(self.nodes[i].op, Op::Conv(_)))
        else {
            return Err(unsupported(
                n,
                "only right after a Conv whose output nothing else reads (it is folded into the Conv's weights and bias)",
            ));
        };
        let mut p = Vec::new();
        for (k, what) in [(1, "scale"), (2, "bias"), (3, "mean"), (4, "var")] {
            p.push(self.weight(n, k, what)?.data);
        }
        let eps = attr_f(n, "epsilon", 1e-5);
        let Op::Conv(c) = &mut self.nodes[i].op else {
            return Err(unsupported(n, "not after a Conv"));
        };
        let m = c.out_channels as usize;
        if p.iter().any(|v| v.len() != m) {
            return Err(unsupported(n, format!("parameters not of {m} channels")));
        }
        let per = c.weights.len() / m;
        let mut bias = c.bias.clone().unwrap_or_else(|| vec![0.0; m]);
        for ch in 0..m {
            let g = p[0][ch] / (p[3][ch] + eps).sqrt();
            for w in &mut c.weights[ch * per..(ch + 1) * per] {
                *w *= g;
            }
            bias[ch] = (bias[ch] - p[2][ch]) * g + p[1][ch];
        }
        c.bias = Some(bias);
        let out = n.output[0].clone();
        self.rename_output(i, &out);
        Ok(())
    }

    fn pool(&mut self, n: &pb::NodeProto) -> Result<(), OnnxError> {
        let s = self.shape(n, &n.input[0])?;
        if n.output.len() > 1 && n.output[1..].iter().any(|o| !o.is_empty()) {
            return Err(unsupported(n, "the Indices output"));
        }
        if attr_i(n, "ceil_mode", 0) != 0 {
            return Err(unsupported(n, "ceil_mode = 1"));
        }
        if pair(n, "dilations", 1)? != (1, 1) {
            return Err(unsupported(n, "dilation other than 1"));
        }
        let kernel = attr_ints(n, "kernel_shape")
            .filter(|k| k.len() == 2 && k.iter().all(|&x| (1..=64).contains(&x)))
            .map(|k| (k[0] as u32, k[1] as u32))
            .ok_or_else(|| unsupported(n, "kernel_shape must give two sizes from 1 to 64"))?;
        let stride = pair(n, "strides", 1)?;
        let (padding, host_pad) = pads(n)?;
        let avg = n.op_type == "AveragePool";
        let padded = padding != (0, 0) || host_pad != [0; 4];
        if avg && padded && attr_i(n, "count_include_pad", 0) == 0 {
            return Err(unsupported(
                n,
                "padding with count_include_pad = 0 (a border window would average fewer values)",
            ));
        }
        let Some((e, f)) = window_out(s, padding, host_pad, kernel, stride) else {
            return Err(unsupported(
                n,
                format!("a {kernel:?} window on a {s} input"),
            ));
        };
        let pool = Pool {
            kernel,
            stride,
            padding,
            host_pad,
        };
        let op = if avg {
            Op::AvgPool(pool)
        } else {
            Op::MaxPool(pool)
        };
        let shape = Shape { c: s.c, h: e, w: f };
        self.push(n, op, vec![n.input[0].clone()], shape);
        Ok(())
    }

    fn add(
        &mut self,
        n: &pb::NodeProto,
        readers: &BTreeMap<String, usize>,
    ) -> Result<(), OnnxError> {
        let [a, b] = n.input.as_slice() else {
            return Err(unsupported(n, "not two inputs"));
        };
        // A constant operand is a bias: folded into the FC or Conv before it.
        let (x, c) = match (self.consts.get(a), self.consts.get(b)) {
            (None, Some(c)) => (a, Some(c.clone())),
            (Some(c), None) => (b, Some(c.clone())),
            (None, None) => (a, None),
            (Some(_), Some(_)) => return Err(unsupported(n, "both operands constant")),
        };
        if let Some(c) = c {
            let Some(i) = self
                .sole_producer(x, readers)
                .filter(|&i| matches!(self.nodes[i].op, Op::Conv(_)))
            else {
                return Err(unsupported(
                    n,
                    "a constant added to something other than a Conv or FC output (only a bias is supported)",
                ));
            };
            let Op::Conv(conv) = &mut self.nodes[i].op else {
                return Err(unsupported(n, "not after a Conv"));
            };
            let m = conv.out_channels as usize;
            let per_channel = c.data.len() == m || c.data.len() == 1;
            if !per_channel {
                return Err(unsupported(n, format!("a constant of shape {:?}", c.dims)));
            }
            let bias = conv.bias.get_or_insert_with(|| vec![0.0; m]);
            for (ch, v) in bias.iter_mut().enumerate() {
                *v += if c.data.len() == 1 {
                    c.data[0]
                } else {
                    c.data[ch]
                };
            }
            let out = n.output[0].clone();
            self.rename_output(i, &out);
            return Ok(());
        }
        let (sa, sb) = (self.shape(n, a)?, self.shape(n, b)?);
        if sa != sb {
            return Err(unsupported(
                n,
                format!("operands of shapes {sa} and {sb}: only equal shapes (no broadcasting)"),
            ));
        }
        self.push(n, Op::Add, vec![a.clone(), b.clone()], sa);
        Ok(())
    }

    fn reshape(&mut self, n: &pb::NodeProto) -> Result<(), OnnxError> {
        let s = self.shape(n, &n.input[0])?;
        let target = n
            .input
            .get(1)
            .and_then(|v| self.consts.get(v))
            .ok_or_else(|| unsupported(n, "a shape that is not a constant"))?;
        let t: Vec<i64> = target.data.iter().map(|&v| v as i64).collect();
        let k = s.elements() as i64;
        let flat =
            t.len() == 2 && (t[1] == -1 || t[1] == k) && (t[0] == -1 || t[0] == 0 || t[1] == k);
        if !flat {
            return Err(unsupported(
                n,
                format!("target shape {t:?}: only N x -1 (a Flatten)"),
            ));
        }
        let shape = Shape {
            c: k as u32,
            h: 1,
            w: 1,
        };
        self.push(n, Op::Flatten, vec![n.input[0].clone()], shape);
        Ok(())
    }
}

/// The dims of a value's tensor type (`None` for a symbolic dim), if it has a shape.
fn value_dims(v: &pb::ValueInfoProto) -> Option<Vec<Option<i64>>> {
    use pb::tensor_shape_proto::dimension::Value;
    use pb::type_proto::Value as Ty;
    let Ty::TensorType(t) = v.r#type.as_ref()?.value.as_ref()?;
    let shape = t.shape.as_ref()?;
    Some(
        shape
            .dim
            .iter()
            .map(|d| match &d.value {
                Some(Value::DimValue(x)) => Some(*x),
                _ => None,
            })
            .collect(),
    )
}

/// An FC layer that reads a Flatten's output reads the Flatten's input instead, with a filter
/// as large as that input: the same values in the same order, and the array sees the
/// convolution the issue of FC-on-a-row-stationary-array asks for. A Flatten nothing else
/// reads is then dropped.
fn fold_flatten_into_fc(g: &mut Graph) {
    let mut i = 0;
    while i < g.nodes.len() {
        if let Op::Conv(c) = &g.nodes[i].op
            && c.fc
        {
            let src = g.nodes[i].inputs[0].clone();
            if let Some(f) = g
                .nodes
                .iter()
                .position(|n| n.output == src && n.op == Op::Flatten)
            {
                let before = g.nodes[f].inputs[0].clone();
                let s = g.shape_of(&before).unwrap_or(g.nodes[f].shape);
                if let Op::Conv(c) = &mut g.nodes[i].op {
                    c.kernel = (s.h, s.w);
                }
                g.nodes[i].inputs[0] = before;
                let still_read = g.output == src || g.nodes.iter().any(|n| n.inputs.contains(&src));
                if !still_read {
                    g.nodes.remove(f);
                    continue;
                }
            }
        }
        i += 1;
    }
}
