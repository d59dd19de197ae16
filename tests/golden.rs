//! The golden convolution against an independent formulation (im2col + matrix multiply with
//! the same per-product arithmetic), over random layers, plus hand-checked cases.

use eyeriss_gen::golden::{conv2d, wrap};
use eyeriss_gen::layer::{ConvLayer, LayerData, Tensors};
use proptest::prelude::*;

fn layer(c: u32, m: u32, h: u32, w: u32, k: (u32, u32)) -> ConvLayer {
    ConvLayer {
        name: "t".into(),
        in_channels: c,
        out_channels: m,
        height: h,
        width: w,
        kernel_size: k,
        stride: (1, 1),
        padding: (0, 0),
        groups: 1,
        batch: 1,
        shift: 0,
        relu: false,
        max_pool: false,
        data: LayerData::Seed {
            seed: 0,
            zero_fraction: 0.0,
        },
    }
}

/// im2col: one column per output position, one row per (c, r, s) of a group; then
/// out[m][pos] = sum_k W[m][k] * col[k][pos], each product shifted and wrapped.
fn im2col_conv(l: &ConvLayer, t: &Tensors, pw: u32) -> Vec<i32> {
    let (n, c, m) = (
        l.batch as usize,
        l.in_channels as usize,
        l.out_channels as usize,
    );
    let (h, w) = (l.height as i64, l.width as i64);
    let (r, s) = (l.kernel_size.0 as usize, l.kernel_size.1 as usize);
    let g = l.groups as usize;
    let (cg, mg) = (c / g, m / g);
    let (e, f) = (l.out_height() as usize, l.out_width() as usize);
    let kk = cg * r * s;
    let mut out = vec![0i32; n * m * e * f];
    for ni in 0..n {
        for gi in 0..g {
            let mut col = vec![0i64; kk * e * f];
            for ci in 0..cg {
                for ri in 0..r {
                    for si in 0..s {
                        let row = (ci * r + ri) * s + si;
                        for ei in 0..e {
                            for fi in 0..f {
                                let y = (ei * l.stride.0 as usize + ri) as i64 - l.padding.0 as i64;
                                let x = (fi * l.stride.1 as usize + si) as i64 - l.padding.1 as i64;
                                if (0..h).contains(&y) && (0..w).contains(&x) {
                                    let idx = ((ni * c + gi * cg + ci) as i64 * h + y) * w + x;
                                    col[row * e * f + ei * f + fi] = t.ifmap[idx as usize] as i64;
                                }
                            }
                        }
                    }
                }
            }
            for mm in 0..mg {
                let mi = gi * mg + mm;
                let wrow = &t.weights[mi * kk..(mi + 1) * kk];
                for pos in 0..e * f {
                    let mut acc = 0i64;
                    for k in 0..kk {
                        acc = wrap(
                            acc + wrap((wrow[k] as i64 * col[k * e * f + pos]) >> l.shift, pw),
                            pw,
                        );
                    }
                    let v = if l.relu && acc < 0 { 0 } else { acc };
                    out[(ni * m + mi) * e * f + pos] = v as i32;
                }
            }
        }
    }
    out
}

prop_compose! {
    fn cases()(g in 1u32..4, cpg in 1u32..4, mpg in 1u32..4, r in 1u32..5, s in 1u32..5,
               uv in 1u32..4, uh in 1u32..4, pv in 0u32..3, ph in 0u32..3, n in 1u32..3,
               eh in 0u32..5, ew in 0u32..5, shift in 0u32..10, relu: bool, wide: bool,
               seed: u64, zf in 0.0f64..0.9)
               -> (ConvLayer, u32) {
        let mut l = layer(g * cpg, g * mpg, r + eh, s + ew, (r, s));
        l.stride = (uv, uh);
        l.padding = (pv.min(r - 1), ph.min(s - 1));
        l.groups = g;
        l.batch = n;
        l.shift = shift;
        l.relu = relu;
        l.data = LayerData::Seed { seed, zero_fraction: zf };
        (l, if wide { 32 } else { 16 })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn golden_equals_im2col((l, pw) in cases()) {
        l.validate().unwrap();
        let t = l.tensors(16).unwrap();
        prop_assert_eq!(conv2d(&l, &t, pw), im2col_conv(&l, &t, pw));
    }
}

#[test]
fn all_ones_3x3() {
    let l = layer(1, 1, 3, 3, (3, 3));
    let t = Tensors {
        ifmap: vec![1; 9],
        weights: vec![1; 9],
    };
    assert_eq!(conv2d(&l, &t, 16), vec![9]);
}

#[test]
fn sums_wrap_at_16_bits() {
    // 4 products of 16384 * 2 = 32768 each: 131072 = 2 * 65536 wraps to 0 in 16 bits.
    let l = layer(1, 1, 2, 2, (2, 2));
    let t = Tensors {
        ifmap: vec![16384; 4],
        weights: vec![2; 4],
    };
    assert_eq!(conv2d(&l, &t, 16), vec![0]);
    assert_eq!(conv2d(&l, &t, 32), vec![131072]);
    // one product of 16384 * 2 = 32768 is -32768 in 16 bits
    let l1 = layer(1, 1, 1, 1, (1, 1));
    let t1 = Tensors {
        ifmap: vec![16384],
        weights: vec![2],
    };
    assert_eq!(conv2d(&l1, &t1, 16), vec![-32768]);
}

#[test]
fn shift_rounds_toward_minus_infinity_per_product() {
    let mut l = layer(1, 1, 1, 2, (1, 2));
    l.shift = 2;
    // products -5 and 3: -5 >> 2 = -2, 3 >> 2 = 0; a shift of the sum would give -1.
    let t = Tensors {
        ifmap: vec![-5, 3],
        weights: vec![1, 1],
    };
    assert_eq!(conv2d(&l, &t, 16), vec![-2]);
}

#[test]
fn relu_and_padding() {
    let mut l = layer(1, 1, 1, 1, (3, 3));
    l.padding = (1, 1);
    l.relu = true;
    let t = Tensors {
        ifmap: vec![-7],
        weights: vec![0, 0, 0, 0, 1, 0, 0, 0, 0],
    };
    assert_eq!(conv2d(&l, &t, 16), vec![0]);
    l.relu = false;
    assert_eq!(conv2d(&l, &t, 16), vec![-7]);
}

#[test]
fn max_mode_keeps_the_largest_product_of_each_window_zero_padding_included() {
    // One channel, 3 x 3, a 2 x 2 window with padding 1: the corner windows see three zeros.
    let mut l = layer(1, 1, 3, 3, (2, 2));
    l.padding = (1, 1);
    l.stride = (2, 2);
    l.max_pool = true;
    let t = Tensors {
        ifmap: vec![-5, -7, -1, -2, -9, -3, -4, -6, -8],
        weights: vec![1, 1, 1, 1],
    };
    // Windows at padded rows and columns 0..1 and 2..3: three of the four touch the padding,
    // whose zero beats every (negative) value; the last lies inside: max(-9, -3, -6, -8).
    assert_eq!(conv2d(&l, &t, 16), vec![0, 0, 0, -3]);
    l.padding = (0, 0);
    l.stride = (1, 1);
    // Inside only: max of each 2 x 2 window.
    assert_eq!(conv2d(&l, &t, 16), vec![-2, -1, -2, -3]);
    // Products, shifted and wrapped, are what is compared: weights scale and shift divides.
    let t2 = Tensors {
        ifmap: t.ifmap.clone(),
        weights: vec![-4, 1, 1, 1],
    };
    l.shift = 1;
    // window 0: -5*-4=20>>1=10, -7>>1=-4, -2>>1=-1, -9>>1=-5 -> 10
    assert_eq!(conv2d(&l, &t2, 16)[0], 10);
    // ReLU applies after the max.
    l.relu = true;
    assert_eq!(conv2d(&l, &t, 16), vec![0, 0, 0, 0]);
}
