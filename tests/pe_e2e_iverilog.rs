//! End to end on the generated 1 x 1 design in Icarus: a hand-built program (docs/commands.md)
//! loads one ifmap row of q channels and p*q*S weights, runs one PE pass, stores the psums and
//! reads the counters. Checks the ofmap against DESIGN.md's arithmetic, the MAC counters, and
//! that random stalls on both host streams change the cycle count but not one output word.
//!
//! The program is written out word by word (tests/pe_pass), independent of the compiler, and
//! Icarus is a second simulator beside Verilator.

mod pe_pass;

use std::path::Path;
use std::process::Command;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;
use pe_pass::*;

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
    let files = emit::write(&cfg, &rtl, false).unwrap();
    let (x, wt) = data();
    let prog = program(1, 1, &x, &wt);
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

    let expect = expected(&x, &wt);

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
    let zeros_in_windows = zeros_in_windows(&x);
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
