//! Convolution layers, named like PyTorch's `Conv2d`.
//!
//! TODO(helper): TOML loading, validation, data from seed or .npy.

use serde::{Deserialize, Serialize};

/// A validated convolution layer. Sizes are (vertical, horizontal) pairs where PyTorch allows
/// an int or a pair.
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
    pub data: LayerData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LayerData {
    /// Random data from this seed; `zero_fraction` of the ifmap values are zero.
    Seed { seed: u64, zero_fraction: f64 },
    /// `.npy` files (paths resolved relative to the layer file).
    Npy {
        ifmap: std::path::PathBuf,
        weights: std::path::PathBuf,
    },
}

/// Layer tensors. Row-major: ifmap N x C x H x W, weights M x C/groups x R x S.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensors {
    pub ifmap: Vec<i16>,
    pub weights: Vec<i16>,
}

impl ConvLayer {
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
}
