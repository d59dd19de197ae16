//! System-level co-simulation (issue 4): the same host programs on the Verilator build of the
//! generated Verilog and on the rust-hdl model (`src/hw/top.rs`), which must agree on every
//! output word, the cycle it came out in, and every hardware counter, with and without host
//! stalls: on the 3 x 4 `configs/small.toml`, on a 4 x 2 array, and on the 12 x 14 chip.
//! Both waveforms name the same signals the same way, and show the same top-port values at the
//! same times.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::rusthdl::RustHdlSim;
use eyeriss_gen::sim::verilator::VerilatorSim;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn config(name: &str) -> ArchConfig {
    ArchConfig::load(&root().join("configs").join(name)).expect("config loads")
}

fn layer(name: &str) -> ConvLayer {
    let p = root().join("layers").join(format!("{name}.toml"));
    ConvLayer::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Run `name` on both backends (each run checked against the golden model and the analysis)
/// and assert they agree in everything; returns the cycles.
fn agree(cfg: &ArchConfig, v: &VerilatorSim, r: &RustHdlSim, name: &str, opts: &RunOpts) -> u64 {
    let l = layer(name);
    let a = common::run_checked(cfg, v, &l, opts);
    let b = common::run_checked(cfg, r, &l, opts);
    assert_eq!(a.stats.backend, "verilator");
    assert_eq!(b.stats.backend, "rust-hdl");
    assert_eq!(b.ofmap, a.ofmap, "{name} on {}: ofmap", cfg.name);
    assert_eq!(
        b.stats.harness_cycles, a.stats.harness_cycles,
        "{name} on {}: cycles to the end mark",
        cfg.name
    );
    assert_eq!(
        b.stats.counters, a.stats.counters,
        "{name} on {}: every counter",
        cfg.name
    );
    eprintln!(
        "{name:<14} on {:<10} stalls {:>2}/{:>2}%: {:>6} cycles on both backends",
        cfg.name, opts.stall_in, opts.stall_out, a.stats.harness_cycles
    );
    a.stats.harness_cycles
}

fn stalls(seed: u64) -> RunOpts {
    RunOpts {
        stall_in: 30,
        stall_out: 40,
        seed,
        ..RunOpts::default()
    }
}

#[test]
fn varied_layers_agree_on_3x4() {
    let cfg = config("small.toml");
    let v = VerilatorSim::build(&cfg, false).expect("verilator build");
    let r = RustHdlSim::new(&cfg).expect("model");
    for name in [
        "tiny",
        "kernel3x5",
        "stride4_k5",
        "groups2",
        "batch2_relu",
        "kernel7_tall",
        "zeros80",
        "segmented",
    ] {
        agree(&cfg, &v, &r, name, &RunOpts::default());
    }
    // host backpressure: the same stall draws on both, so the same cycles
    let calm = agree(&cfg, &v, &r, "stride2_pad1", &RunOpts::default());
    let stalled = agree(&cfg, &v, &r, "stride2_pad1", &stalls(3));
    assert!(stalled > calm, "the stalls cost cycles");
}

#[test]
fn layers_agree_on_a_4x2_array() {
    let cfg = ArchConfig::from_toml_str(
        "base = \"small.toml\"\nname = \"tall_4x2\"\n[array]\nrows = 4\ncols = 2\n",
        &root().join("configs"),
    )
    .expect("4 x 2 config");
    let v = VerilatorSim::build(&cfg, false).expect("verilator build");
    let r = RustHdlSim::new(&cfg).expect("model");
    for name in ["kernel3x5", "odd_channels", "stride_2x1"] {
        agree(&cfg, &v, &r, name, &RunOpts::default());
    }
    agree(&cfg, &v, &r, "kernel5x2", &stalls(5));
}

#[test]
fn a_layer_agrees_on_the_12x14_chip() {
    let cfg = config("eyeriss.toml");
    let v = VerilatorSim::build(&cfg, false).expect("verilator build");
    let r = RustHdlSim::new(&cfg).expect("model");
    agree(&cfg, &v, &r, "chip_conv3x3", &RunOpts::default());
}

/// Shared filter spads change the Verilog's structure, not its behaviour: the model (which
/// keeps each PE's spad inside it) agrees cycle for cycle on 3 x 3 (one PE alone in its pair).
#[test]
fn shared_filter_spads_agree_with_the_model() {
    let cfg = ArchConfig::from_toml_str(
        "base = \"small.toml\"\nname = \"shared_3x3\"\n[array]\nrows = 3\ncols = 3\n\
         [fpga]\nshared_filter_spad = true\n",
        &root().join("configs"),
    )
    .expect("3 x 3 shared config");
    let v = VerilatorSim::build(&cfg, false).expect("verilator build");
    let r = RustHdlSim::new(&cfg).expect("model");
    agree(&cfg, &v, &r, "kernel3x5", &RunOpts::default());
    agree(&cfg, &v, &r, "groups2", &stalls(9));
}

/// ecp5_small's `[fpga]` options, the multiply in two register stages (eyeriss_mult_pipe)
/// and three PEs multiplying in logic, are in the model too: it agrees cycle for cycle.
#[test]
fn the_ecp5_options_agree_with_the_model() {
    let cfg = config("ecp5_small.toml");
    assert!(cfg.fpga.mult_pipeline && cfg.fpga.logic_mult_pes > 0);
    let v = VerilatorSim::build(&cfg, false).expect("verilator build");
    let r = RustHdlSim::new(&cfg).expect("model");
    agree(&cfg, &v, &r, "kernel3x5", &RunOpts::default());
    agree(&cfg, &v, &r, "groups2", &stalls(7));
}

/// A VCD's variables as full dotted names, and each variable's value changes as (time, value).
struct Vcd {
    widths: BTreeMap<String, u32>,
    changes: BTreeMap<String, Vec<(u64, String)>>,
}

fn read_vcd(path: &Path) -> Vcd {
    let text = std::fs::read_to_string(path).expect("vcd");
    let mut scope: Vec<String> = Vec::new();
    let mut by_code: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut widths = BTreeMap::new();
    let mut lines = text.lines();
    for line in lines.by_ref() {
        let t: Vec<&str> = line.split_whitespace().collect();
        match t.first().copied() {
            Some("$scope") => scope.push(t[2].to_string()),
            Some("$upscope") => {
                scope.pop();
            }
            Some("$var") => {
                let name = format!("{}.{}", scope.join("."), t[4]);
                widths.insert(name.clone(), t[2].parse().expect("width"));
                by_code.entry(t[3].to_string()).or_default().push(name);
            }
            Some("$enddefinitions") => break,
            _ => {}
        }
    }
    let mut changes: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    let mut time = 0u64;
    for line in lines {
        let line = line.trim();
        if let Some(t) = line.strip_prefix('#') {
            time = t.parse().expect("time");
            continue;
        }
        let (value, code) = match line.strip_prefix('b') {
            Some(rest) => match rest.split_once(' ') {
                Some((v, c)) => (v.trim_start_matches('0').to_string(), c),
                None => continue,
            },
            None if line.len() >= 2 && (line.starts_with('0') || line.starts_with('1')) => {
                (line[..1].trim_start_matches('0').to_string(), &line[1..])
            }
            None => continue,
        };
        for name in by_code.get(code).into_iter().flatten() {
            changes
                .entry(name.clone())
                .or_default()
                .push((time, value.clone()));
        }
    }
    Vcd { widths, changes }
}

#[test]
fn waveforms_name_the_same_signals_and_agree_on_the_top_ports() {
    let cfg = config("small.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let (vf, rf) = (dir.path().join("v.vcd"), dir.path().join("r.vcd"));
    let v = VerilatorSim::build(&cfg, false).expect("verilator build");
    let r = RustHdlSim::new(&cfg).expect("model");
    let l = layer("tiny");
    let opts = |p: &Path| RunOpts {
        vcd: Some(p.to_path_buf()),
        ..stalls(7)
    };
    common::run_checked(&cfg, &v, &l, &opts(&vf));
    common::run_checked(&cfg, &r, &l, &opts(&rf));
    let (a, b) = (read_vcd(&vf), read_vcd(&rf));

    // Every block instance and every port of the model is where Verilator has it.
    let shared = b
        .widths
        .keys()
        .filter(|k| a.widths.contains_key(*k))
        .count();
    assert!(
        shared * 100 >= b.widths.len() * 90,
        "only {shared} of the model's {} signals are in Verilator's waveform",
        b.widths.len()
    );
    for name in [
        "top.in_valid",
        "top.eyeriss_top.out_data",
        "top.eyeriss_top.u_ctrl.state",
        "top.eyeriss_top.u_glb.g_bank[1].u_bank.en",
        "top.eyeriss_top.g_row[2].g_col[3].u_pe.pout_valid",
        "top.eyeriss_top.g_row[2].g_col[3].u_ln.gon_valid",
        "top.eyeriss_top.g_row[1].u_gon_xbus.x_valid",
        "top.eyeriss_top.u_filt_gin.g_row[2].u_xbus.g_col[3].u_mc.out_valid",
        "top.eyeriss_top.u_filt_gin.pe_ready",
    ] {
        assert!(a.widths.contains_key(name), "Verilator has {name}");
        assert!(b.widths.contains_key(name), "the model has {name}");
    }
    // Every signal both waveforms have takes the same values at the same times: the whole
    // design agrees cycle by cycle, not only at its ports. The exception is a vector the model
    // splits into elements below the top's instances (a GIN X-bus's `col_ids`, the GLB's
    // `rbank`): the waveform knows the Verilog widths only of the top's instances' ports, so
    // it joins these at the element signal's width, and their declared widths differ.
    let norm = |v: Option<&Vec<(u64, String)>>| {
        let mut out: Vec<(u64, String)> = Vec::new();
        for (t, x) in v.into_iter().flatten() {
            if out.last().is_none_or(|(_, y)| y != x) {
                out.push((*t, x.clone()));
            }
        }
        out
    };
    let mut same = 0;
    for (name, w) in &b.widths {
        let Some(vw) = a.widths.get(name) else {
            continue;
        };
        if norm(a.changes.get(name)) == norm(b.changes.get(name)) {
            same += 1;
        } else {
            assert_ne!(
                vw, w,
                "{name}: value changes differ between Verilator and the model"
            );
        }
    }
    assert!(
        same * 100 >= shared * 99,
        "{same} of {shared} shared signals agree"
    );
    // The host ports change to the same values at the same times, stalls and all.
    for port in [
        "in_valid",
        "in_ready",
        "in_data",
        "out_valid",
        "out_ready",
        "out_data",
    ] {
        let name = format!("top.eyeriss_top.{port}");
        let (x, y) = (&a.changes[&name], &b.changes[&name]);
        assert!(x.len() > 2, "{name} moves");
        assert_eq!(x, y, "{name}: value changes");
    }
}
