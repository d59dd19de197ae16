//! The Verilator backend on the 3 x 4 `configs/small.toml` design: one PE pass on PE (0,0)
//! with every other PE disabled (the program of `tests/pe_e2e_iverilog.rs`), bit-exact;
//! random stalls on both host streams change the cycle count but not the stored words; a
//! second build of the same design reuses the cache entry; a bad opcode and a too-small cycle
//! budget come back as errors; the control file `sim/eyeriss.vlt` names every PE input port.

mod pe_pass;

use std::path::{Path, PathBuf};

use pe_pass::*;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;
use eyeriss_gen::sim::verilator::{CONTROL_SRC, VerilatorSim};
use eyeriss_gen::sim::{RunOpts, SimError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn small() -> ArchConfig {
    ArchConfig::load(&root().join("configs/small.toml")).unwrap()
}

/// Every test shares one cache directory inside the target dir, so the design is built once
/// per test run (the backend serializes builds of one key with a lock file).
fn cache() -> PathBuf {
    root().join("target").join("verilator-test-cache")
}

fn build(cfg: &ArchConfig) -> VerilatorSim {
    VerilatorSim::builder(cfg)
        .cache_dir(cache())
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn one_pe_pass_on_3x4_is_bit_exact_and_survives_stalls() {
    let cfg = small();
    let sim = build(&cfg);
    let (x, wt) = data();
    let prog = program(cfg.array.rows as u64, cfg.array.cols as u64, &x, &wt);

    let res = sim
        .run(&prog, &RunOpts::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let words = &res.words;
    let wpc = P.div_ceil(LANES);
    assert_eq!(words[0], (0x05 << 56) | (F * wpc) as u64, "STORE header");
    let mut got = Vec::new();
    for f in 0..F {
        let word = words[1 + f];
        for i in 0..P {
            got.push(wrap16(((word >> (16 * i)) & 0xffff) as i64));
        }
        assert_eq!(word >> (16 * P), 0, "lanes past p are zero");
    }
    assert_eq!(got, expected(&x, &wt), "ofmap row");

    let counters = &words[1 + F..];
    assert_eq!(counters[0], (0x0A << 56) | 22, "READ_COUNTERS header");
    let c = |k: usize| counters[1 + k];
    let zeros_in_windows = zeros_in_windows(&x);
    assert_eq!(c(2) + c(3), (F * P * Q * S) as u64, "MACs + zero-skipped");
    assert_eq!(c(3), zeros_in_windows, "zero-skipped MACs");
    assert_eq!(c(1), (F * P * Q * S) as u64, "busy PE-cycles");
    // Counted from the word after CLEAR_COUNTERS (the first) to READ_COUNTERS itself: all but
    // CLEAR_COUNTERS and the MARK (docs/commands.md).
    assert_eq!(
        c(17),
        prog.len() as u64 - 2,
        "host words in, at the time of reading"
    );
    assert_eq!(c(21), 1, "enabled PEs");
    assert_eq!(*words.last().unwrap(), MARK);
    assert_eq!(words.len(), 1 + F + 1 + 22 + 1);

    let again = sim.run(&prog, &RunOpts::default()).unwrap();
    assert_eq!(again, res, "runs are deterministic");

    let stalls = RunOpts {
        stall_in: 30,
        stall_out: 40,
        seed: 7,
        ..RunOpts::default()
    };
    let stalled = sim.run(&prog, &stalls).unwrap();
    assert!(
        stalled.cycles > res.cycles,
        "stalls cost cycles: {} vs {}",
        stalled.cycles,
        res.cycles
    );
    assert_eq!(
        stalled.words[..1 + F],
        words[..1 + F],
        "no word lost or changed under backpressure"
    );
    // Cycles, waits and the words already sent when the counters are sampled (host words out)
    // depend on the stalls; the work counters (1..=17) must not.
    assert_eq!(
        stalled.words[1 + F + 1 + 1..1 + F + 1 + 18],
        words[1 + F + 1 + 1..1 + F + 1 + 18]
    );
    assert_ne!(
        stalled.words[1 + F + 1 + 19],
        0,
        "the host input stalls were seen"
    );
    assert_eq!(
        sim.run(&prog, &stalls).unwrap(),
        stalled,
        "deterministic for a seed"
    );
    let other_seed = sim.run(&prog, &RunOpts { seed: 8, ..stalls }).unwrap();
    assert_eq!(other_seed.words[..1 + F], words[..1 + F]);
}

#[test]
fn build_is_cached() {
    let cfg = small();
    let first = build(&cfg);
    let entry = first.binary().parent().unwrap().to_path_buf();
    assert!(entry.join("Vharness").is_file());
    assert!(entry.join("build.log").is_file(), "the build log is kept");
    assert!(entry.starts_with(cache()));
    let modified = std::fs::metadata(first.binary())
        .unwrap()
        .modified()
        .unwrap();
    let second = build(&cfg);
    assert_eq!(second.binary(), first.binary(), "same cache entry");
    let key = entry.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        !cache().join(format!("{key}.lock")).exists(),
        "the lock file goes once the entry is in place"
    );
    assert_eq!(
        std::fs::metadata(second.binary())
            .unwrap()
            .modified()
            .unwrap(),
        modified,
        "not rebuilt"
    );
}

#[test]
fn errors_are_reported() {
    let cfg = small();
    let sim = build(&cfg);

    // An unknown opcode halts the controller after its error word; the harness cannot tell an
    // error word from psum data, so it runs to max_cycles and hands back what came out.
    let bad = [op(0x0C, 1), op(0x42, 7), op(0x0C, 2)];
    let opts = RunOpts {
        max_cycles: 2000,
        ..RunOpts::default()
    };
    match sim.run(&bad, &opts) {
        Err(SimError::Timeout { words, .. }) => {
            assert_eq!(words, vec![op(0x0C, 1), op(0xEE, 7)]);
        }
        other => panic!("expected a timeout with the error word, got {other:?}"),
    }

    // a BARRIER never waits forever, but 5 cycles are too few for anything
    let (x, wt) = data();
    let prog = program(cfg.array.rows as u64, cfg.array.cols as u64, &x, &wt);
    let short = RunOpts {
        max_cycles: 5,
        ..RunOpts::default()
    };
    match sim.run(&prog, &short) {
        Err(e @ SimError::Timeout { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("max_cycles = 5"), "{msg}");
            assert!(msg.contains("program words consumed"), "{msg}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(matches!(
        sim.run(&[], &RunOpts::default()),
        Err(SimError::EmptyProgram)
    ));
}

#[test]
fn vcd_trace() {
    let cfg = small();
    let sim = build(&cfg);
    let dir = tempfile::tempdir().unwrap();
    let vcd = dir.path().join("trace.vcd");
    let prog = [op(0x0C, 0x55)];
    let res = sim
        .run(
            &prog,
            &RunOpts {
                vcd: Some(vcd.clone()),
                ..RunOpts::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(res.words, vec![op(0x0C, 0x55)]);
    let text = std::fs::read_to_string(Path::new(&vcd)).unwrap();
    assert!(text.contains("$enddefinitions") && text.contains("in_valid"));
}

/// The PE's code is shared by all its instances only while every input port but the clock stays
/// a variable of the PE (`sim/eyeriss.vlt`). A port added to the template and not to the control
/// file would not fail any layer, only make the 12 x 14 model 1.7 times slower; this names it.
#[test]
fn the_control_file_keeps_every_pe_input_but_the_clock() {
    let kept: Vec<&str> = CONTROL_SRC
        .lines()
        .filter_map(|l| l.strip_prefix("public_flat_rd -module \"eyeriss_pe\" -var \""))
        .map(|rest| rest.trim_end().trim_end_matches('"'))
        .collect();
    assert!(CONTROL_SRC.contains("\nno_inline -module \"eyeriss_pe\"\n"));
    assert!(
        !kept.contains(&"clk"),
        "a public clock per PE is a clock per PE to edge-detect"
    );
    let matches = |port: &str| {
        kept.iter().any(|pat| match pat.strip_suffix('*') {
            Some(prefix) => port.starts_with(prefix),
            None => port == *pat,
        })
    };
    let configs = [
        ArchConfig::load(&root().join("configs/eyeriss.toml")).unwrap(),
        ArchConfig::load(&root().join("configs/ecp5_small.toml")).unwrap(),
        ArchConfig::from_toml_str(
            "base = \"small.toml\"\nname = \"shared\"\n[fpga]\nshared_filter_spad = true\n",
            &root().join("configs"),
        )
        .unwrap(),
    ];
    for cfg in &configs {
        let files = emit::render(cfg).unwrap();
        let pe = files
            .iter()
            .find(|f| f.path == "rtl/eyeriss_pe.v")
            .expect("the PE's Verilog");
        let ports = &pe.contents[pe.contents.find(") (").unwrap()..pe.contents.find(");").unwrap()];
        let inputs: Vec<&str> = ports
            .lines()
            .map(|l| l.split("//").next().unwrap().trim())
            .filter(|l| l.starts_with("input"))
            .map(|l| l.trim_end_matches(',').split_whitespace().last().unwrap())
            .collect();
        assert!(inputs.len() > 15, "{}: ports not found", cfg.name);
        for port in inputs.iter().filter(|p| **p != "clk") {
            assert!(
                matches(port),
                "{}: eyeriss_pe input '{port}' is not kept public_flat_rd in sim/eyeriss.vlt",
                cfg.name
            );
        }
    }
}
