//! The issue-2 and issue-4 benchmark: `generate` time for 12 x 14, Verilator build time, and
//! simulated cycles per second on a real layer for 3 x 4 and 12 x 14 on both backends (the
//! Verilator build of the generated Verilog, and the rust-hdl model). Prints figures; asserts
//! nothing about speed.
//!
//! ```sh
//! cargo run --release --example bench              # 3 x 4 and 12 x 14
//! cargo run --release --example bench -- --small   # 3 x 4 only
//! ```
//!
//! Builds go to a fresh temporary cache, so the build times are real builds, not cache hits.

use std::path::PathBuf;
use std::time::Instant;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::sim::Backend;
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::rusthdl::RustHdlSim;
use eyeriss_gen::sim::verilator::VerilatorSim;
use eyeriss_gen::{compile, golden};

fn main() -> anyhow::Result<()> {
    let small_only = std::env::args().any(|a| a == "--small");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cache = tempfile::tempdir()?;
    // SAFETY: set before any other thread exists; the build cache is read from the environment.
    unsafe { std::env::set_var("EYERISS_SIM_CACHE", cache.path()) };

    let chip = ArchConfig::load(&root.join("configs/eyeriss.toml"))?;
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let files = emit::render(&chip)?;
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(files);
    }
    times.sort_by(f64::total_cmp);
    let out = tempfile::tempdir()?;
    let t = Instant::now();
    emit::write(&chip, &out.path().join("eyeriss"), false)?;
    let write_s = t.elapsed().as_secs_f64();
    println!(
        "generate 12 x 14: render {:.1} ms (median of 20), render + atomic write {:.1} ms",
        1e3 * times[times.len() / 2],
        1e3 * write_s
    );

    let layer = ConvLayer::load(&root.join("layers/chip_conv3x3.toml"))?;
    // 8,600 cycles on 12 x 14 are over in a tenth of a second, where starting the harness
    // and moving the program through files weigh in; a quarter-size AlexNet CONV4 runs for
    // 113,000 (Verilator only: the rust-hdl model would take two minutes).
    let long = ConvLayer::load(&root.join("layers/chip_alexnet_conv4_slice.toml"))?;
    let mut configs = vec!["small.toml"];
    if !small_only {
        configs.push("eyeriss.toml");
    }
    println!(
        "{:<8} {:>7} {:<9} {:>10} {:>10} {:>9} {:>12}  layer",
        "config", "array", "backend", "build s", "cycles", "run s", "cycles/s",
    );
    for name in configs {
        let cfg = ArchConfig::load(&root.join("configs").join(name))?;
        let t = Instant::now();
        let verilator = VerilatorSim::build(&cfg, true)?;
        let build_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let rust_hdl = RustHdlSim::new(&cfg)?;
        let model_s = t.elapsed().as_secs_f64();
        let mut runs: Vec<(&dyn Backend, f64, &ConvLayer)> =
            vec![(&verilator, build_s, &layer), (&rust_hdl, model_s, &layer)];
        if name == "eyeriss.toml" {
            runs.push((&verilator, build_s, &long));
        }
        for (sim, setup_s, layer) in runs {
            let tensors = layer.tensors(cfg.data.data_width)?;
            let compiled = compile::compile(&cfg, layer, &tensors)?;
            let want = golden::conv2d(layer, &tensors, cfg.data.psum_width);
            // time the simulation alone (for Verilator, the harness process from program file
            // to output file)
            let t = Instant::now();
            let res = sim.run(&compiled.words, &RunOpts::default())?;
            let run_s = t.elapsed().as_secs_f64();
            let exact = compiled.decode(&cfg, &res.words)?.ofmap == want;
            println!(
                "{:<8} {:>7} {:<9} {:>10.1} {:>10} {:>9.2} {:>12.0}  {} ({} MACs), {}",
                cfg.name,
                format!("{}x{}", cfg.array.rows, cfg.array.cols),
                sim.name(),
                setup_s,
                res.cycles,
                run_s,
                res.cycles as f64 / run_s,
                layer.name,
                layer.macs(),
                if exact { "bit-exact" } else { "MISMATCH" }
            );
        }
    }
    Ok(())
}
