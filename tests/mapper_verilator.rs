//! A deterministic sample of random layers, each mapped by the mapper and run in Verilator on
//! the 3 x 4 config and on a 6 x 7 array: the chosen mappings must be bit-exact, with exact MAC
//! counters. The random shapes cover what the hand-written layers in `layers/` may miss.

mod common;

use std::path::PathBuf;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::layer::{ConvLayer, LayerData};
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::verilator::VerilatorSim;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn sample(n: usize) -> Vec<ConvLayer> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    (0..n)
        .map(|k| {
            let g = rng.random_range(1..=3u32);
            let (r, s) = (rng.random_range(1..=7u32), rng.random_range(1..=6u32));
            let pad = (rng.random_range(0..r.min(3)), rng.random_range(0..s.min(3)));
            ConvLayer {
                name: format!("random{k}"),
                in_channels: g * rng.random_range(1..=5u32),
                out_channels: g * rng.random_range(1..=6u32),
                height: r + rng.random_range(0..=8u32),
                width: s + rng.random_range(0..=10u32),
                kernel_size: (r, s),
                stride: (rng.random_range(1..=3u32), rng.random_range(1..=3u32)),
                padding: pad,
                groups: g,
                batch: rng.random_range(1..=2u32),
                shift: rng.random_range(0..=8u32),
                relu: rng.random_bool(0.5),
                max_pool: false,
                data: LayerData::Seed {
                    seed: k as u64,
                    zero_fraction: rng.random_range(0.0..0.8),
                },
            }
        })
        .collect()
}

fn check_on(cfg: &ArchConfig, layers: &[ConvLayer]) {
    let sim = VerilatorSim::build(cfg, false).expect("verilator build");
    for l in layers {
        l.validate().unwrap();
        common::run_checked(cfg, &sim, l, &RunOpts::default());
    }
}

fn config(rows: u32, cols: u32) -> ArchConfig {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut c = ArchConfig::load(&root.join("configs/small.toml")).unwrap();
    c.array.rows = rows;
    c.array.cols = cols;
    c.name = format!("a{rows}x{cols}");
    c.validate().unwrap();
    c
}

#[test]
fn random_layers_are_bit_exact_on_3x4() {
    check_on(&config(3, 4), &sample(24));
}

#[test]
fn random_layers_are_bit_exact_on_6x7() {
    check_on(&config(6, 7), &sample(24));
}
