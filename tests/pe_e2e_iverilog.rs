//! End to end on the generated 1 x 1 design in Icarus: a hand-built program (docs/commands.md)
//! loads one ifmap row of q channels and p*q*S weights, runs one PE pass, stores the psums and
//! reads the counters. Checks the ofmap against DESIGN.md's arithmetic, the MAC counters, and
//! that random stalls on both host streams change the cycle count but not one output word.
//!
//! This stands in for the mapper and program compiler, which are not written yet.

use std::path::Path;
use std::process::Command;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;

const P: usize = 3;
const Q: usize = 2;
const S: usize = 3;
const U: usize = 1;
const F: usize = 5;
const SHIFT: u32 = 2;
const MARK: u64 = (0x0C << 56) | 0xD0DE;

fn wrap16(v: i64) -> i64 {
    (v as i16) as i64
}

/// Deterministic small data; every third ifmap value is zero, to exercise zero gating.
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
        .chunks(4)
        .map(|c| {
            c.iter().enumerate().fold(0u64, |acc, (l, &e)| {
                acc | (((e as u64) & 0xffff) << (16 * l))
            })
        })
        .collect()
}

fn program(x: &[Vec<i64>], wt: &[Vec<Vec<i64>>]) -> Vec<u64> {
    let w = (F - 1) * U + S;
    let ifm: Vec<i64> = (0..w).flat_map(|k| (0..Q).map(move |j| x[j][k])).collect();
    let fil: Vec<i64> = (0..S)
        .flat_map(|s| (0..Q).flat_map(move |j| (0..P).map(move |i| wt[i][j][s])))
        .collect();
    let (iw, fw) = (pack(&ifm), pack(&fil));
    let op = |o: u64, v: u64| (o << 56) | v;
    let filt_base = 100u64;
    let psum_base = 50u64;
    let wpc = P.div_ceil(4) as u64;
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
        p.push(op(0x02, net << 48));
    }
    // PE (0,0): enabled, psum from nothing, output to the GON, every column ID 0
    p.push(op(0x03, 1 << 32 | 1 << 35));
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

fn run(dir: &Path, stall_in: u32, stall_out: u32) -> (u64, Vec<u64>) {
    let out = Command::new("vvp")
        .current_dir(dir)
        .args([
            "-n",
            "sim",
            &format!("+STALL_IN={stall_in}"),
            &format!("+STALL_OUT={stall_out}"),
        ])
        .output()
        .expect("vvp runs (apt-get install iverilog)");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("DONE"))
        .unwrap_or_else(|| panic!("simulation did not finish:\n{text}"));
    let cycles = line.trim_start_matches("DONE cycles=").parse().unwrap();
    let words = std::fs::read_to_string(dir.join("out.hex"))
        .unwrap()
        .lines()
        .map(|l| u64::from_str_radix(l.trim(), 16).unwrap())
        .collect();
    (cycles, words)
}

#[test]
fn one_pe_pass_is_bit_exact_and_survives_stalls() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cfg = ArchConfig::load(&root.join("configs/small.toml")).unwrap();
    cfg.array.rows = 1;
    cfg.array.cols = 1;
    cfg.name = "one".into();
    let dir = tempfile::tempdir().unwrap();
    let rtl = dir.path().join("rtl_out");
    let files = emit::write(&cfg, &rtl).unwrap();
    let (x, wt) = data();
    let prog = program(&x, &wt);
    let hex: String = prog.iter().map(|w| format!("{w:016x}\n")).collect();
    std::fs::write(dir.path().join("prog.hex"), hex).unwrap();
    let status = Command::new("iverilog")
        .current_dir(dir.path())
        .args(["-g2005", "-o", "sim"])
        .arg(root.join("tests/fixtures/host_tb.v"))
        .args(
            files
                .iter()
                .filter(|f| f.path.ends_with(".v"))
                .map(|f| rtl.join(&f.path)),
        )
        .status()
        .expect("iverilog runs");
    assert!(status.success());

    // expected psums: product shifted, wrapped to 16 bits, summed modulo 2^16
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

    let (cycles, words) = run(dir.path(), 0, 0);
    let wpc = P.div_ceil(4);
    assert_eq!(words[0], (0x05 << 56) | (F * wpc) as u64, "STORE header");
    let mut got = Vec::new();
    for f in 0..F {
        let word = words[1 + f];
        for i in 0..P {
            got.push(wrap16(((word >> (16 * i)) & 0xffff) as i64));
        }
        assert_eq!(word >> (16 * P), 0, "lanes past p are zero");
    }
    assert_eq!(got, expect, "ofmap row");

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
    assert_eq!(
        c(2) + c(3),
        (F * P * Q * S) as u64,
        "MACs + zero-skipped = the pass's MACs"
    );
    assert_eq!(c(3), zeros_in_windows, "zero-skipped MACs");
    assert_eq!(c(1), (F * P * Q * S) as u64, "busy PE-cycles");
    assert_eq!(c(21), 1, "enabled PEs");
    assert_eq!(*words.last().unwrap(), MARK);

    let (stalled_cycles, stalled) = run(dir.path(), 30, 40);
    assert!(stalled_cycles > cycles, "stalls cost cycles");
    // Cycles, waits and words already sent at the moment of sampling depend on the stalls;
    // the ofmap and the work counters must not.
    assert_eq!(
        stalled[..1 + F],
        words[..1 + F],
        "no word lost or changed under backpressure"
    );
    assert_eq!(
        stalled[1 + F + 1 + 2..1 + F + 1 + 18],
        words[1 + F + 1 + 2..1 + F + 1 + 18]
    );
}
