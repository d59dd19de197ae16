//! The Verilator backend on the 3 x 4 `configs/small.toml` design: one PE pass on PE (0,0)
//! with every other PE disabled (the program of `tests/pe_e2e_iverilog.rs`), bit-exact;
//! random stalls on both host streams change the cycle count but not the stored words; a
//! second build of the same design reuses the cache entry; a bad opcode and a too-small cycle
//! budget come back as errors.

use std::path::{Path, PathBuf};

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::sim::verilator::{RunOpts, SimError, VerilatorSim};

const P: usize = 3;
const Q: usize = 2;
const S: usize = 3;
const U: usize = 1;
const F: usize = 5;
const SHIFT: u32 = 2;
const LANES: usize = 4;
const MARK: u64 = (0x0C << 56) | 0xD0DE;
const ALL_ONES_ID: u64 = 0xff;

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
    VerilatorSim::build_in(cfg, &cache(), false).unwrap_or_else(|e| panic!("{e}"))
}

fn wrap16(v: i64) -> i64 {
    (v as i16) as i64
}

fn data() -> (Vec<Vec<i64>>, Vec<Vec<Vec<i64>>>) {
    let w = (F - 1) * U + S;
    let mut state = 12345u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 601) as i64 - 300
    };
    let x = (0..Q)
        .map(|j| {
            (0..w)
                .map(|k| if (k + j) % 3 == 0 { 0 } else { next() })
                .collect()
        })
        .collect();
    let wt = (0..P)
        .map(|_| (0..Q).map(|_| (0..S).map(|_| next()).collect()).collect())
        .collect();
    (x, wt)
}

fn pack(elems: &[i64]) -> Vec<u64> {
    elems
        .chunks(LANES)
        .map(|c| {
            c.iter().enumerate().fold(0u64, |acc, (l, &e)| {
                acc | (((e as u64) & 0xffff) << (16 * l))
            })
        })
        .collect()
}

fn op(o: u64, v: u64) -> u64 {
    (o << 56) | v
}

/// One PE pass on PE (0,0) of a `rows` x `cols` array; every other PE and X-bus gets the
/// all-ones ID and is disabled.
fn program(rows: u64, cols: u64, x: &[Vec<i64>], wt: &[Vec<Vec<i64>>]) -> Vec<u64> {
    let w = (F - 1) * U + S;
    let ifm: Vec<i64> = (0..w).flat_map(|k| (0..Q).map(move |j| x[j][k])).collect();
    let fil: Vec<i64> = (0..S)
        .flat_map(|s| (0..Q).flat_map(move |j| (0..P).map(move |i| wt[i][j][s])))
        .collect();
    let (iw, fw) = (pack(&ifm), pack(&fil));
    let filt_base = 100u64;
    let psum_base = 50u64;
    let wpc = P.div_ceil(LANES) as u64;
    let mut p = vec![
        op(0x0B, 0),
        op(
            0x01,
            P as u64
                | (Q as u64) << 8
                | (S as u64) << 16
                | (F as u64) << 24
                | (U as u64) << 36
                | (SHIFT as u64) << 40,
        ),
    ];
    for net in 0..4u64 {
        for r in 0..rows {
            let id = if r == 0 { 0 } else { ALL_ONES_ID };
            p.push(op(0x02, net << 48 | r << 8 | id));
        }
    }
    for r in 0..rows {
        for c in 0..cols {
            let word = if r == 0 && c == 0 {
                // enabled, psum from nothing, output to the GON, every column ID 0
                1 << 32 | 1 << 35
            } else {
                ALL_ONES_ID | ALL_ONES_ID << 8 | ALL_ONES_ID << 16 | ALL_ONES_ID << 24
            };
            p.push(op(0x03, word | c << 36 | r << 44));
        }
    }
    p.push(op(0x04, (iw.len() as u64) << 24));
    p.extend(&iw);
    p.push(op(0x04, filt_base | (fw.len() as u64) << 24));
    p.extend(&fw);
    p.push(op(0x08, 0));
    p.extend([op(0x06, fil.len() as u64 | 1 << 32), filt_base * 4, 0]);
    p.extend([op(0x06, ifm.len() as u64 | 1 << 32 | 1 << 48), 0, 0]);
    p.extend([op(0x07, F as u64 * wpc), psum_base]);
    p.push(op(0x09, 0));
    p.push(op(0x05, psum_base | (F as u64 * wpc) << 24));
    p.push(op(0x0A, 0));
    p.push(MARK);
    p
}

fn expected(x: &[Vec<i64>], wt: &[Vec<Vec<i64>>]) -> Vec<i64> {
    let mut expect = Vec::new();
    for f in 0..F {
        for filt in wt.iter() {
            let mut acc = 0i64;
            for s in 0..S {
                for (j, xj) in x.iter().enumerate() {
                    acc += wrap16((xj[f * U + s] * filt[j][s]) >> SHIFT);
                }
            }
            expect.push(wrap16(acc));
        }
    }
    expect
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
    let zeros_in_windows: u64 = (0..F)
        .map(|f| {
            (0..S)
                .map(|s| (0..Q).filter(|&j| x[j][f * U + s] == 0).count() as u64)
                .sum::<u64>()
        })
        .sum::<u64>()
        * P as u64;
    assert_eq!(c(2) + c(3), (F * P * Q * S) as u64, "MACs + zero-skipped");
    assert_eq!(c(3), zeros_in_windows, "zero-skipped MACs");
    assert_eq!(c(1), (F * P * Q * S) as u64, "busy PE-cycles");
    // every word after CLEAR_COUNTERS up to READ_COUNTERS (not the MARK after it)
    assert_eq!(c(17), prog.len() as u64 - 2, "host words in");
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
    // Cycles, waits and the words already sent when sampled depend on the stalls; the work
    // counters (1..=17) must not.
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

    let bad = [op(0x0C, 1), op(0x42, 7), op(0x0C, 2)];
    match sim.run(&bad, &RunOpts::default()) {
        Err(SimError::ControllerError { word, words }) => {
            assert_eq!(word, op(0xEE, 7));
            assert_eq!(words, vec![op(0x0C, 1), op(0xEE, 7)]);
        }
        other => panic!("expected a controller error, got {other:?}"),
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
