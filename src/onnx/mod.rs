//! Trained networks from ONNX: import a model into a graph of array layers and host ops
//! ([`import`]), run the float model for a reference and for calibration ([`reference`]),
//! quantize it to power-of-two scales ([`quant`]) and run it layer after layer on the
//! accelerator ([`infer`]).
//!
//! The graph is small on purpose: the ops the array runs (Conv with BatchNormalization
//! folded in, Gemm/MatMul as a convolution whose filter covers its whole input, pools) and
//! the few the host runs (Add, Flatten, Softmax), each on a named value. The integer
//! semantics of every op are in `docs/onnx.md`.

pub mod import;
pub mod infer;
pub mod network_dir;
pub mod quant;
pub mod reference;

use serde::Serialize;
use thiserror::Error;

/// A value's shape for one sample: channels, height, width (a flat vector is C x 1 x 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub c: u32,
    pub h: u32,
    pub w: u32,
}

impl Shape {
    pub fn elements(&self) -> usize {
        self.c as usize * self.h as usize * self.w as usize
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} x {} x {}", self.c, self.h, self.w)
    }
}

/// A convolution on the array: an ONNX Conv (BatchNormalization folded in) or an FC layer
/// (Gemm/MatMul) as a convolution whose filter covers its whole input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvOp {
    /// `false` for Conv, `true` for an FC layer.
    pub fc: bool,
    pub out_channels: u32,
    pub kernel: (u32, u32),
    pub stride: (u32, u32),
    pub padding: (u32, u32),
    /// Padding the host adds before the layer where the model's is uneven: top, left,
    /// bottom, right (the array pads both sides of a dimension by `padding`).
    pub host_pad: [u32; 4],
    pub groups: u32,
    /// M x C/groups x R x S, row-major, float as trained.
    #[serde(skip)]
    pub weights: Vec<f32>,
    /// One per output channel; `None` when the model has none (and no BN was folded).
    #[serde(skip)]
    pub bias: Option<Vec<f32>>,
}

/// A pooling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pool {
    pub kernel: (u32, u32),
    pub stride: (u32, u32),
    pub padding: (u32, u32),
    /// As [`ConvOp::host_pad`].
    pub host_pad: [u32; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Conv(ConvOp),
    Relu,
    MaxPool(Pool),
    /// AveragePool, and GlobalAveragePool as a window over the whole input.
    AvgPool(Pool),
    /// Elementwise sum of two values of one shape (a residual connection).
    Add,
    /// Flatten or Reshape to N x (C·H·W): the values stay in the same order.
    Flatten,
    /// Softmax over the channels, as the graph's last op.
    Softmax,
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Conv(c) if c.fc => "fc",
            Op::Conv(c) if c.groups > 1 && c.groups == c.out_channels => "depthwise conv",
            Op::Conv(_) => "conv",
            Op::Relu => "relu",
            Op::MaxPool(_) => "max pool",
            Op::AvgPool(_) => "average pool",
            Op::Add => "add",
            Op::Flatten => "flatten",
            Op::Softmax => "softmax",
        }
    }
}

/// One op on named values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// Unique, a plain name ([`crate::layer::check_name`]): the layer's name on the array.
    pub name: String,
    /// The ONNX node it came from (the first, where several were folded into it).
    pub onnx_name: String,
    pub op: Op,
    pub inputs: Vec<String>,
    pub output: String,
    /// The output's shape.
    pub shape: Shape,
}

/// A model as the accelerator runs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Graph {
    pub name: String,
    pub input: String,
    pub input_shape: Shape,
    /// In an order where every value is made before it is used.
    pub nodes: Vec<Node>,
    pub output: String,
}

impl Graph {
    /// The shape of value `v`.
    pub fn shape_of(&self, v: &str) -> Option<Shape> {
        if v == self.input {
            return Some(self.input_shape);
        }
        self.nodes.iter().find(|n| n.output == v).map(|n| n.shape)
    }
}

#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("{path}: not an ONNX model ({msg})")]
    NotOnnx { path: String, msg: String },
    #[error(
        "node '{node}' ({op}) is not supported{why}; supported: Conv (any stride and padding, dilation 1, groups), Gemm, MatMul, BatchNormalization after a Conv, Relu, MaxPool, AveragePool, GlobalAveragePool, Add, Flatten, Reshape to N x -1, Softmax at the end"
    )]
    Unsupported {
        node: String,
        op: String,
        /// ": <reason>", or empty when the op type itself is not supported.
        why: String,
    },
    #[error("{path}: {msg}")]
    Model { path: String, msg: String },
    #[error("{what}: {msg}")]
    Input { what: String, msg: String },
    #[error("the float model (tract): {0}")]
    Reference(String),
    #[error("value '{value}' ({node}) reaches {max:.4e} at its calibrated scale 2^{exp}: {why}")]
    Range {
        value: String,
        node: String,
        max: f64,
        exp: i32,
        why: String,
    },
    #[error(transparent)]
    Layer(#[from] crate::layer::LayerError),
    #[error(transparent)]
    Run(#[from] Box<crate::run::RunError>),
    #[error(transparent)]
    Map(#[from] crate::mapper::MapError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error(transparent)]
    Io(#[from] crate::io_error::IoError),
}
