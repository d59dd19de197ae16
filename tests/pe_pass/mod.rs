//! One hand-built PE pass (docs/commands.md, written out word by word rather than compiled), shared
//! by the Icarus test and the Verilator backend test: p = 3 filters, q = 2 channels, S = 3, F = 5,
//! shift 2, on PE (0, 0) with every other PE disabled.

#![allow(dead_code)] // each including test uses its own subset

pub const P: usize = 3;
pub const Q: usize = 2;
pub const S: usize = 3;
pub const U: usize = 1;
pub const F: usize = 5;
pub const SHIFT: u32 = 2;
pub const LANES: usize = 4;
pub const MARK: u64 = (0x0C << 56) | 0xD0DE;
pub const ALL_ONES_ID: u64 = 0xff;

pub fn wrap16(v: i64) -> i64 {
    (v as i16) as i64
}

pub fn data() -> (Vec<Vec<i64>>, Vec<Vec<Vec<i64>>>) {
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

pub fn pack(elems: &[i64]) -> Vec<u64> {
    elems
        .chunks(LANES)
        .map(|c| {
            c.iter().enumerate().fold(0u64, |acc, (l, &e)| {
                acc | (((e as u64) & 0xffff) << (16 * l))
            })
        })
        .collect()
}

pub fn op(o: u64, v: u64) -> u64 {
    (o << 56) | v
}

/// One PE pass on PE (0,0) of a `rows` x `cols` array; every other PE and X-bus gets the
/// all-ones ID and is disabled.
pub fn program(rows: u64, cols: u64, x: &[Vec<i64>], wt: &[Vec<Vec<i64>>]) -> Vec<u64> {
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

pub fn expected(x: &[Vec<i64>], wt: &[Vec<Vec<i64>>]) -> Vec<i64> {
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

/// Zero-skipped MACs the pass must count: zeros in every window, once per filter.
pub fn zeros_in_windows(x: &[Vec<i64>]) -> u64 {
    (0..F)
        .map(|f| {
            (0..S)
                .map(|s| (0..Q).filter(|&j| x[j][f * U + s] == 0).count() as u64)
                .sum::<u64>()
        })
        .sum::<u64>()
        * P as u64
}
