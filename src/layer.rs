//! Convolution layers, named like PyTorch's `Conv2d`, from TOML:
//!
//! ```toml
//! name = "conv3"
//! in_channels = 256
//! out_channels = 384
//! height = 13            # input, before padding
//! width = 13
//! kernel_size = 3        # or [R, S]
//! stride = 1             # or [vertical, horizontal]; default 1
//! padding = 1            # or a pair; default 0
//! groups = 1             # default 1
//! batch = 4              # default 1
//! shift = 8              # product right shift; default 0
//! relu = true            # default false
//! max_pool = false       # the PE's MAX mode: the largest shifted product, not the sum
//! seed = 7               # random data (optional zero_fraction, default 0.5) ...
//! # ifmap = "x.npy"      # ... or .npy files, relative to this file
//! # weights = "w.npy"
//! ```

use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::toml_file::{self, TomlError};

use crate::npy;

/// Most elements any one tensor of a layer (ifmap, weights, ofmap) may have: 2^28, 512 MiB
/// at int16. [`ConvLayer::validate`] refuses larger layers before anything is allocated.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 28;

/// Longest layer or network name [`check_name`] accepts.
pub const MAX_NAME_LEN: usize = 64;

/// What [`check_name`] accepts, as its errors say it.
pub const NAME_RULE: &str = "a name holds only ASCII letters, digits, `_`, `-` and `.`, \
     starts with a letter or a digit and has at most 64 characters";

/// A name that cannot be used: it would not stay one file name (`..`, `a/b`), or could not
/// be shown or typed as it is (spaces, control characters, non-ASCII).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field} = {value}: {problem}; {NAME_RULE}")]
pub struct NameError {
    /// The field or option the name came from, e.g. `name`.
    pub field: String,
    /// The name as given, quoted, with control and non-ASCII characters escaped.
    pub value: String,
    pub problem: String,
}

/// Check that `name` (from `field`) is safe to use as a file or directory name and in
/// reports: ASCII letters, digits, `_`, `-` and `.`, starting with a letter or digit, at most
/// [`MAX_NAME_LEN`] characters. Layer and network names must pass; so should any name the
/// CLI turns into a path.
pub fn check_name(field: &str, name: &str) -> Result<(), NameError> {
    let err = |problem: String| NameError {
        field: field.to_string(),
        value: quoted(name),
        problem,
    };
    let Some(first) = name.chars().next() else {
        return Err(err("is empty".into()));
    };
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(err(format!(
            "holds the character {}",
            match bad {
                ' ' => "' ' (a space)".to_string(),
                '/' | '\\' => format!("'{bad}' (a path separator)"),
                c if c.is_ascii_graphic() => format!("'{c}'"),
                c => format!("U+{:04X}", c as u32),
            }
        )));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(err(format!("starts with '{first}'")));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(err(format!("has {} characters", name.len())));
    }
    Ok(())
}

/// `s` as a TOML basic string that shows only printable ASCII: control characters and
/// anything outside ASCII (which could reorder or hide text on a terminal) become `\\uXXXX`.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[derive(Debug, Error)]
pub enum LayerError {
    #[error(transparent)]
    File(#[from] TomlError),
    #[error("layer '{layer}': {field} = {value}: {limit}")]
    Invalid {
        layer: String,
        field: &'static str,
        value: String,
        limit: String,
    },
    #[error("layer {0}")]
    Name(#[from] NameError),
    /// Where the layer's data comes from is missing or given twice.
    #[error("layer '{layer}': {msg}")]
    Data { layer: String, msg: String },
    #[error(
        "layer '{layer}': the {tensor} ({dims} = {shape}) has {elements} elements, more than the {} (2^28) a tensor may have",
        MAX_TENSOR_ELEMENTS
    )]
    TooLarge {
        layer: String,
        tensor: &'static str,
        dims: &'static str,
        shape: String,
        elements: u128,
    },
    #[error(transparent)]
    Npy(#[from] npy::NpyError),
    #[error("{path}: shape {got:?}, expected {want:?} ({what})")]
    Shape {
        path: PathBuf,
        got: Vec<u64>,
        want: Vec<u64>,
        what: &'static str,
    },
    #[error(
        "{path}: value {value} at flat index {index} does not fit data.data_width = {bits} bits ({lo}..={hi})"
    )]
    Range {
        path: PathBuf,
        index: usize,
        value: i64,
        bits: u32,
        lo: i64,
        hi: i64,
    },
}

/// A validated convolution layer. Pairs are (vertical, horizontal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvLayer {
    pub name: String,
    pub in_channels: u32,
    pub out_channels: u32,
    /// Input height and width, before padding.
    pub height: u32,
    pub width: u32,
    /// (R, S): filter height and width.
    pub kernel_size: (u32, u32),
    pub stride: (u32, u32),
    pub padding: (u32, u32),
    pub groups: u32,
    pub batch: u32,
    /// Products are arithmetic-shifted right by this many bits before accumulation.
    pub shift: u32,
    pub relu: bool,
    /// MAX mode: each output is the largest of its window's shifted products (zero padding
    /// included) instead of their sum; with unit weights and shift 0, a max pool.
    pub max_pool: bool,
    pub data: LayerData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LayerData {
    /// Random data from this seed; `zero_fraction` of the ifmap values are zero.
    Seed { seed: u64, zero_fraction: f64 },
    /// `.npy` files (paths already resolved against the layer file's directory).
    Npy { ifmap: PathBuf, weights: PathBuf },
}

/// Layer tensors. Row-major: ifmap N x C x H x W, weights M x C/groups x R x S.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensors {
    pub ifmap: Vec<i16>,
    pub weights: Vec<i16>,
}

/// What `kernel_size`, `stride` and `padding` accept, as PyTorch's `Conv2d` does.
const PAIR_FORMS: &str =
    "expected an integer or a pair [vertical, horizontal] of non-negative integers";

/// A TOML value as the user wrote it (strings shown by [`quoted`]).
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => quoted(s),
        other => other.to_string(),
    }
}

/// `field` = an int or a pair, as PyTorch allows, each at most `hi`.
fn int_or_pair(
    layer: &str,
    field: &'static str,
    v: &toml::Value,
    hi: u32,
) -> Result<(u32, u32), LayerError> {
    let err = |limit: String| LayerError::Invalid {
        layer: layer.to_string(),
        field,
        value: shown(v),
        limit,
    };
    let ints: Vec<i64> = match v {
        toml::Value::Integer(i) => vec![*i, *i],
        toml::Value::Array(a) if a.len() == 2 => a
            .iter()
            .map(|x| x.as_integer())
            .collect::<Option<_>>()
            .ok_or_else(|| err(PAIR_FORMS.into()))?,
        _ => return Err(err(PAIR_FORMS.into())),
    };
    if ints.iter().any(|&i| i < 0) {
        return Err(err(PAIR_FORMS.into()));
    }
    match (u32::try_from(ints[0]), u32::try_from(ints[1])) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        _ => Err(err(format!("must be at most {hi}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    name: String,
    in_channels: u32,
    out_channels: u32,
    height: u32,
    width: u32,
    // checked by hand, so that the message names the field and the forms it takes
    kernel_size: toml::Value,
    stride: Option<toml::Value>,
    padding: Option<toml::Value>,
    groups: Option<u32>,
    batch: Option<u32>,
    shift: Option<u32>,
    relu: Option<bool>,
    max_pool: Option<bool>,
    seed: Option<u64>,
    zero_fraction: Option<f64>,
    ifmap: Option<String>,
    weights: Option<String>,
}

impl ConvLayer {
    /// Read and validate a layer file.
    pub fn load(path: &Path) -> Result<ConvLayer, LayerError> {
        let text = toml_file::read(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, path, dir)
    }

    /// Parse layer TOML; `.npy` paths are resolved against `dir`.
    pub fn from_toml_str(text: &str, dir: &Path) -> Result<ConvLayer, LayerError> {
        Self::parse(text, &dir.join("<string>"), dir)
    }

    fn parse(text: &str, path: &Path, dir: &Path) -> Result<ConvLayer, LayerError> {
        let table = toml_file::table(text, path)?;
        Self::from_table(table, path, dir)
    }

    /// A layer from a parsed TOML table (a layer file, or a network's `[[layer]]` merged over
    /// the network's defaults); `path` names the source in errors.
    pub fn from_table(
        table: toml::Table,
        path: &Path,
        dir: &Path,
    ) -> Result<ConvLayer, LayerError> {
        let raw: RawLayer = toml_file::decode(table, path)?;
        // Before any message names the layer.
        check_name("name", &raw.name)?;
        let invalid = |field: &'static str, value: String, limit: &str| LayerError::Invalid {
            layer: raw.name.clone(),
            field,
            value,
            limit: limit.to_string(),
        };
        let data_err = |msg: String| LayerError::Data {
            layer: raw.name.clone(),
            msg,
        };
        let file =
            |key: &str, v: &Option<String>| v.as_ref().map(|p| format!("{key} = {}", quoted(p)));
        let (ifmap, weights) = (file("ifmap", &raw.ifmap), file("weights", &raw.weights));
        const EITHER: &str =
            "give either `seed` (random data) or both `ifmap` and `weights` (.npy files)";
        let data = match (raw.seed, &raw.ifmap, &raw.weights) {
            (Some(seed), None, None) => LayerData::Seed {
                seed,
                zero_fraction: raw.zero_fraction.unwrap_or(0.5),
            },
            (None, Some(i), Some(w)) => {
                if let Some(z) = raw.zero_fraction {
                    return Err(invalid(
                        "zero_fraction",
                        z.to_string(),
                        "only applies to seeded data, not to .npy files",
                    ));
                }
                LayerData::Npy {
                    ifmap: dir.join(i),
                    weights: dir.join(w),
                }
            }
            (Some(seed), _, _) => {
                let files: Vec<String> = [ifmap, weights].into_iter().flatten().collect();
                return Err(data_err(format!(
                    "seed = {seed} and {} are both given: give either `seed` or `ifmap` and `weights`, not both",
                    files.join(" and ")
                )));
            }
            (None, None, None) => {
                return Err(data_err(format!("no data is given: {EITHER}")));
            }
            (None, _, _) => {
                let (given, missing) = match (ifmap, weights) {
                    (Some(i), None) => (i, "weights"),
                    (_, w) => (w.unwrap_or_default(), "ifmap"),
                };
                return Err(data_err(format!(
                    "{given} is given but `{missing}` is not: {EITHER}"
                )));
            }
        };
        let pair = |field, v: &Option<toml::Value>, default, hi| {
            v.as_ref()
                .map_or(Ok(default), |v| int_or_pair(&raw.name, field, v, hi))
        };
        let l = ConvLayer {
            name: raw.name.clone(),
            in_channels: raw.in_channels,
            out_channels: raw.out_channels,
            height: raw.height,
            width: raw.width,
            kernel_size: int_or_pair(&raw.name, "kernel_size", &raw.kernel_size, 255)?,
            stride: pair("stride", &raw.stride, (1, 1), 15)?,
            padding: pair("padding", &raw.padding, (0, 0), 255)?,
            groups: raw.groups.unwrap_or(1),
            batch: raw.batch.unwrap_or(1),
            shift: raw.shift.unwrap_or(0),
            relu: raw.relu.unwrap_or(false),
            max_pool: raw.max_pool.unwrap_or(false),
            data,
        };
        l.validate()?;
        Ok(l)
    }

    /// Check every field against the limits a layer must respect.
    pub fn validate(&self) -> Result<(), LayerError> {
        let invalid = |field: &'static str, value: String, limit: String| LayerError::Invalid {
            layer: self.name.clone(),
            field,
            value,
            limit,
        };
        let range = |field: &'static str, v: u32, hi: u32| {
            if v == 0 || v > hi {
                Err(invalid(
                    field,
                    v.to_string(),
                    format!("must be in 1..={hi}"),
                ))
            } else {
                Ok(())
            }
        };
        check_name("name", &self.name)?;
        range("in_channels", self.in_channels, 65536)?;
        range("out_channels", self.out_channels, 65536)?;
        range("height", self.height, 16384)?;
        range("width", self.width, 16384)?;
        range("kernel_size[0]", self.kernel_size.0, 255)?;
        range("kernel_size[1]", self.kernel_size.1, 255)?;
        range("stride[0]", self.stride.0, 15)?;
        range("stride[1]", self.stride.1, 15)?;
        range("groups", self.groups, 65536)?;
        range("batch", self.batch, 1024)?;
        for (field, v) in [
            ("padding[0]", self.padding.0),
            ("padding[1]", self.padding.1),
        ] {
            if v > 255 {
                return Err(invalid(field, v.to_string(), "must be in 0..=255".into()));
            }
        }
        if self.shift > 31 {
            return Err(invalid(
                "shift",
                self.shift.to_string(),
                "must be in 0..=31".into(),
            ));
        }
        for (field, v) in [
            ("in_channels", self.in_channels),
            ("out_channels", self.out_channels),
        ] {
            if v % self.groups != 0 {
                return Err(invalid(
                    field,
                    v.to_string(),
                    format!("must be divisible by groups ({})", self.groups),
                ));
            }
        }
        let ph = self.height + 2 * self.padding.0;
        let pw = self.width + 2 * self.padding.1;
        if self.kernel_size.0 > ph {
            return Err(invalid(
                "kernel_size[0]",
                self.kernel_size.0.to_string(),
                format!("larger than height + 2*padding ({ph})"),
            ));
        }
        if self.kernel_size.1 > pw {
            return Err(invalid(
                "kernel_size[1]",
                self.kernel_size.1.to_string(),
                format!("larger than width + 2*padding ({pw})"),
            ));
        }
        if let LayerData::Seed { zero_fraction, .. } = self.data
            && !(0.0..1.0).contains(&zero_fraction)
        {
            return Err(invalid(
                "zero_fraction",
                zero_fraction.to_string(),
                "must be in [0, 1)".into(),
            ));
        }
        // Last: the shapes are only meaningful once the fields above are in range.
        for (tensor, dims, shape) in [
            ("ifmap", "N x C x H x W", self.ifmap_shape()),
            ("weights", "M x C/groups x R x S", self.weights_shape()),
            ("ofmap", "N x M x E x F", self.ofmap_shape()),
        ] {
            let elements = shape.iter().map(|&d| u128::from(d)).product::<u128>();
            if elements > u128::from(MAX_TENSOR_ELEMENTS) {
                return Err(LayerError::TooLarge {
                    layer: self.name.clone(),
                    tensor,
                    dims,
                    shape: shape.map(|d| d.to_string()).join(" x "),
                    elements,
                });
            }
        }
        Ok(())
    }

    /// Ofmap height E.
    pub fn out_height(&self) -> u32 {
        (self.height + 2 * self.padding.0 - self.kernel_size.0) / self.stride.0 + 1
    }
    /// Ofmap width F.
    pub fn out_width(&self) -> u32 {
        (self.width + 2 * self.padding.1 - self.kernel_size.1) / self.stride.1 + 1
    }
    pub fn macs(&self) -> u64 {
        self.batch as u64
            * self.out_channels as u64
            * self.out_height() as u64
            * self.out_width() as u64
            * (self.in_channels / self.groups) as u64
            * self.kernel_size.0 as u64
            * self.kernel_size.1 as u64
    }
    pub fn ifmap_shape(&self) -> [u64; 4] {
        [self.batch, self.in_channels, self.height, self.width].map(u64::from)
    }
    /// Ofmap N x M x E x F.
    pub fn ofmap_shape(&self) -> [u64; 4] {
        [
            self.batch,
            self.out_channels,
            self.out_height(),
            self.out_width(),
        ]
        .map(u64::from)
    }
    pub fn weights_shape(&self) -> [u64; 4] {
        [
            self.out_channels,
            self.in_channels / self.groups,
            self.kernel_size.0,
            self.kernel_size.1,
        ]
        .map(u64::from)
    }

    /// The layer's data as signed `data_width`-bit values.
    /// `data_width` is the config's `data.data_width`, at most 16 (the tensors are int16).
    pub fn tensors(&self, data_width: u32) -> Result<Tensors, LayerError> {
        // The fields are public: hold a layer built by hand to the limits a loaded one meets,
        // so that the sizes below are small and the seeded ranges are not empty.
        self.validate()?;
        if !(2..=16).contains(&data_width) {
            return Err(LayerError::Invalid {
                layer: self.name.clone(),
                field: "data.data_width",
                value: data_width.to_string(),
                limit: "layer data must be in 2..=16 bits (it is held as int16)".into(),
            });
        }
        let lo = -(1i64 << (data_width - 1));
        let hi = (1i64 << (data_width - 1)) - 1;
        // validate() bounds both by MAX_TENSOR_ELEMENTS, which fits any usize of 32 bits up
        let elements = |shape: [u64; 4]| {
            usize::try_from(shape.iter().product::<u64>()).expect("bounded by validate()")
        };
        let ni = elements(self.ifmap_shape());
        let nw = elements(self.weights_shape());
        match &self.data {
            LayerData::Seed {
                seed,
                zero_fraction,
            } => {
                let mut rng = ChaCha8Rng::seed_from_u64(*seed);
                // Ifmaps: post-ReLU-like, non-negative with a share of exact zeros;
                // weights: signed, small, rarely zero. Both span the data width.
                let ifmap = (0..ni)
                    .map(|_| {
                        if rng.random_bool(*zero_fraction) {
                            0
                        } else {
                            rng.random_range(1..=hi) as i16
                        }
                    })
                    .collect();
                let weights = (0..nw).map(|_| rng.random_range(lo..=hi) as i16).collect();
                Ok(Tensors { ifmap, weights })
            }
            LayerData::Npy { ifmap, weights } => {
                let read = |path: &Path, want: [u64; 4], what: &'static str| {
                    // the shape first: a wrong file is refused before its data is read
                    let f = npy::open_int(path)?;
                    if f.shape() != want {
                        return Err(LayerError::Shape {
                            path: path.to_path_buf(),
                            got: f.shape().to_vec(),
                            want: want.to_vec(),
                            what,
                        });
                    }
                    let a = f.read()?;
                    a.data
                        .iter()
                        .enumerate()
                        .map(|(index, &v)| {
                            if v < lo || v > hi {
                                Err(LayerError::Range {
                                    path: path.to_path_buf(),
                                    index,
                                    value: v,
                                    bits: data_width,
                                    lo,
                                    hi,
                                })
                            } else {
                                Ok(v as i16)
                            }
                        })
                        .collect::<Result<Vec<i16>, _>>()
                };
                Ok(Tensors {
                    ifmap: read(ifmap, self.ifmap_shape(), "ifmap: N x C x H x W")?,
                    weights: read(
                        weights,
                        self.weights_shape(),
                        "weights: M x C/groups x R x S",
                    )?,
                })
            }
        }
    }
}
