//! Build time and simulation speed of the Verilator backend on a whole-array workload.
//!
//! ```sh
//! cargo run --release --example verilator_bench -- configs/eyeriss.toml [PASSES]
//! ```
//!
//! Every PE of the array is enabled and runs the same pass (p = 4 filters, q = 4 channels,
//! S = 3, F = 48 output columns): filters and the ifmap row are multicast to all PEs, psums
//! climb each column over the LN and leave the top row over the GON into the GLB. The program
//! repeats the pass PASSES times (default 20), stores the ofmap, reads the counters and checks
//! the ofmap and the MAC counters. With `BENCH_WRITE_PROGRAM=FILE` it only writes the program. Prints the build time (0 when cached), cycles, wall time,
//! cycles per second and a digest of every output word (to compare designs bit for bit).

use std::path::PathBuf;
use std::time::Instant;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::sim::verilator::{RunOpts, VerilatorSim};
use sha2::{Digest, Sha256};

const P: usize = 4;
const Q: usize = 4;
const S: usize = 3;
const F: usize = 48;
const SHIFT: u64 = 2;
const LANES: usize = 4;
const MARK: u64 = (0x0C << 56) | 0xBE7C;
const ALL_ONES_ID: u64 = 0xff;

fn op(o: u64, v: u64) -> u64 {
    (o << 56) | v
}

fn wrap16(v: i64) -> i64 {
    (v as i16) as i64
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cfg_path = PathBuf::from(args.get(1).map_or("configs/eyeriss.toml", |s| s.as_str()));
    let passes: usize = args.get(2).map_or(20, |s| s.parse().expect("PASSES"));
    let cfg = ArchConfig::load(&cfg_path).expect("config loads");
    let (rows, cols) = (cfg.array.rows as usize, cfg.array.cols as usize);

    // data: position-major ifmap row (element w*q + j), filters in spad order (s*q + j)*p + i
    let width = F - 1 + S;
    let mut state = 99u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % 601) as i64 - 300
    };
    let x: Vec<Vec<i64>> = (0..Q)
        .map(|j| {
            (0..width)
                .map(|k| if (k + j) % 5 == 0 { 0 } else { next() })
                .collect()
        })
        .collect();
    let wt: Vec<Vec<Vec<i64>>> = (0..P)
        .map(|_| (0..Q).map(|_| (0..S).map(|_| next()).collect()).collect())
        .collect();
    let ifm: Vec<i64> = (0..width)
        .flat_map(|k| (0..Q).map(move |j| (k, j)))
        .map(|(k, j)| x[j][k])
        .collect();
    let fil: Vec<i64> = (0..S)
        .flat_map(|s| (0..Q).flat_map(move |j| (0..P).map(move |i| (i, j, s))))
        .map(|(i, j, s)| wt[i][j][s])
        .collect();
    let (iw, fw) = (pack(&ifm), pack(&fil));

    // GLB: ofmap rows (one per column chain) at 0, then the ifmap row, then the filters
    let ofmap_words = cols * F;
    let ifm_base = ofmap_words as u64;
    let fil_base = ifm_base + iw.len() as u64;
    assert!(
        fil_base + fw.len() as u64 <= cfg.glb_words(),
        "GLB too small"
    );

    let mut p = vec![
        op(0x0B, 0),
        op(
            0x01,
            P as u64
                | (Q as u64) << 8
                | (S as u64) << 16
                | (F as u64) << 24
                | 1 << 36
                | SHIFT << 40,
        ),
    ];
    for r in 0..rows as u64 {
        p.push(op(0x02, r << 8)); // filter GIN: every row ID 0
        p.push(op(0x02, 1 << 48 | r << 8)); // ifmap GIN: every row ID 0
        p.push(op(0x02, 2 << 48 | r << 8 | ALL_ONES_ID)); // no psum GIN
        let gon = if r == 0 { 0 } else { ALL_ONES_ID };
        p.push(op(0x02, 3 << 48 | r << 8 | gon));
    }
    for r in 0..rows as u64 {
        for c in 0..cols as u64 {
            let bottom = r == rows as u64 - 1;
            let psum_sel = if bottom { 0 } else { 2 };
            let out_gon = u64::from(r == 0);
            p.push(op(
                0x03,
                ALL_ONES_ID << 16
                    | c << 24
                    | 1 << 32
                    | psum_sel << 33
                    | out_gon << 35
                    | c << 36
                    | r << 44,
            ));
        }
    }
    p.push(op(0x04, ifm_base | (iw.len() as u64) << 24));
    p.extend(&iw);
    p.push(op(0x04, fil_base | (fw.len() as u64) << 24));
    p.extend(&fw);
    for _ in 0..passes {
        p.push(op(0x08, 0));
        p.extend([op(0x06, fil.len() as u64 | 1 << 32), fil_base * 4, 0]);
        p.extend([
            op(0x06, ifm.len() as u64 | 1 << 32 | 1 << 48),
            ifm_base * 4,
            0,
        ]);
        p.extend([op(0x07, ofmap_words as u64), (F as u64) << 32]);
        p.push(op(0x09, 0));
    }
    p.push(op(0x05, (ofmap_words as u64) << 24));
    p.push(op(0x0A, 0));
    p.push(MARK);

    if let Some(path) = std::env::var_os("BENCH_WRITE_PROGRAM") {
        // for running a binary by hand: Vharness --program FILE --out out.bin
        let bytes: Vec<u8> = p.iter().flat_map(|w| w.to_le_bytes()).collect();
        std::fs::write(&path, bytes).expect("write the program");
        return;
    }
    let t = Instant::now();
    let sim = VerilatorSim::build(&cfg, true).unwrap_or_else(|e| panic!("{e}"));
    let build = t.elapsed();
    let t = Instant::now();
    let res = sim
        .run(&p, &RunOpts::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let wall = t.elapsed();

    // every column sums the same PE result over its rows
    let w = &res.words;
    assert_eq!(w[0], op(0x05, ofmap_words as u64), "STORE header");
    for c in 0..cols {
        for f in 0..F {
            let word = w[1 + c * F + f];
            for (i, filt) in wt.iter().enumerate() {
                let mut acc = 0i64;
                for s in 0..S {
                    for (j, xj) in x.iter().enumerate() {
                        acc += wrap16((xj[f + s] * filt[j][s]) >> SHIFT);
                    }
                }
                let got = wrap16(((word >> (16 * i)) & 0xffff) as i64);
                assert_eq!(
                    got,
                    wrap16(acc * rows as i64),
                    "column {c} ofmap {f} filter {i}"
                );
            }
        }
    }
    let cnt = &w[1 + ofmap_words + 1..];
    let macs = (passes * rows * cols * F * P * Q * S) as u64;
    assert_eq!(cnt[2] + cnt[3], macs, "MACs + zero-skipped MACs");
    assert_eq!(cnt[1], macs, "busy PE-cycles");
    assert_eq!(cnt[21], (rows * cols) as u64, "enabled PEs");

    let digest = hex::encode(Sha256::digest(
        w.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
    ));
    println!(
        "{}: {rows}x{cols}, {passes} passes: build {:.1} s, {} cycles in {:.2} s = {:.0} cycles/s, output digest {}",
        cfg.name,
        build.as_secs_f64(),
        res.cycles,
        wall.as_secs_f64(),
        res.cycles as f64 / wall.as_secs_f64(),
        &digest[..16]
    );
}
