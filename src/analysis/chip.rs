//! What the Eyeriss chip measured (JSSC 2017 Table V: AlexNet CONV1-5, batch 4, 200 MHz), for
//! comparing a generated design's figures with the silicon. One copy, used by `report`, the
//! `alexnet` example and the tests.

use crate::layer::ConvLayer;

/// One measured layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipLayer {
    pub name: &'static str,
    /// The layer's MACs at batch 4: a layer matches only if its shape and batch give these.
    pub macs: u64,
    /// Processing latency at 200 MHz, in cycles.
    pub cycles: u64,
    pub active_pes: u32,
}

pub const ALEXNET: [ChipLayer; 5] = [
    ChipLayer {
        name: "conv1",
        macs: 421_660_800,
        cycles: 3_300_000,
        active_pes: 154,
    },
    ChipLayer {
        name: "conv2",
        macs: 895_795_200,
        cycles: 7_840_000,
        active_pes: 135,
    },
    ChipLayer {
        name: "conv3",
        macs: 598_081_536,
        cycles: 4_360_000,
        active_pes: 156,
    },
    ChipLayer {
        name: "conv4",
        macs: 448_561_152,
        cycles: 3_200_000,
        active_pes: 156,
    },
    ChipLayer {
        name: "conv5",
        macs: 299_040_768,
        cycles: 2_000_000,
        active_pes: 156,
    },
];

/// The chip's measurement of `l`, if the chip ran this very layer (same name, same MACs, so a
/// different batch or shape does not borrow the chip's numbers).
pub fn measured(l: &ConvLayer) -> Option<ChipLayer> {
    ALEXNET
        .iter()
        .find(|c| c.name == l.name && c.macs == l.macs())
        .copied()
}
