//! The reference convolution, with exactly DESIGN.md's arithmetic: each product `a * w` is
//! exact, arithmetic-shifted right by the layer's `shift`, and wrapped to `psum_width` bits;
//! psums add modulo 2^psum_width; ReLU at the end if the layer asks. Padding is zeros.

use crate::layer::{ConvLayer, Tensors};

/// `v` wrapped to `bits` bits, two's complement, sign-extended back.
pub fn wrap(v: i64, bits: u32) -> i64 {
    (v << (64 - bits)) >> (64 - bits)
}

/// Ofmap N x M x E x F, row-major.
pub fn conv2d(l: &ConvLayer, t: &Tensors, psum_width: u32) -> Vec<i32> {
    if l.max_pool {
        return max2d(l, t, psum_width);
    }
    let (n, c, m) = (
        l.batch as usize,
        l.in_channels as usize,
        l.out_channels as usize,
    );
    let (h, w) = (l.height as usize, l.width as usize);
    let (r, s) = (l.kernel_size.0 as usize, l.kernel_size.1 as usize);
    let (uv, uh) = (l.stride.0 as usize, l.stride.1 as usize);
    let (pv, ph) = (l.padding.0 as i64, l.padding.1 as i64);
    let g = l.groups as usize;
    let (cg, mg) = (c / g, m / g);
    let (e, f) = (l.out_height() as usize, l.out_width() as usize);
    let mut acc = vec![0i64; e * f];
    let mut out = vec![0i32; n * m * e * f];
    for ni in 0..n {
        for mi in 0..m {
            let gi = mi / mg;
            acc.iter_mut().for_each(|a| *a = 0);
            for ci in 0..cg {
                let x = &t.ifmap[((ni * c + gi * cg + ci) * h) * w..][..h * w];
                let wt = &t.weights[((mi * cg + ci) * r) * s..][..r * s];
                for ri in 0..r {
                    for si in 0..s {
                        let wv = wt[ri * s + si] as i64;
                        if wv == 0 {
                            continue;
                        }
                        for ei in 0..e {
                            let y = (ei * uv + ri) as i64 - pv;
                            if y < 0 || y >= h as i64 {
                                continue;
                            }
                            let row = &x[y as usize * w..][..w];
                            let arow = &mut acc[ei * f..][..f];
                            for (fi, a) in arow.iter_mut().enumerate() {
                                let xx = (fi * uh + si) as i64 - ph;
                                if xx >= 0 && xx < w as i64 {
                                    *a +=
                                        wrap((row[xx as usize] as i64 * wv) >> l.shift, psum_width);
                                }
                            }
                        }
                    }
                }
            }
            let o = &mut out[((ni * m + mi) * e) * f..][..e * f];
            for (dst, &a) in o.iter_mut().zip(&acc) {
                let v = wrap(a, psum_width);
                *dst = if l.relu && v < 0 { 0 } else { v as i32 };
            }
        }
    }
    out
}

/// The PE's MAX mode: each output is the largest of its window's products (shifted, wrapped
/// to `psum_width` bits, signed), over the group's channels, filter rows and columns, zero
/// padding included (the array streams padding as zeros and, in MAX mode, compares them).
fn max2d(l: &ConvLayer, t: &Tensors, psum_width: u32) -> Vec<i32> {
    let (n, c, m) = (
        l.batch as usize,
        l.in_channels as usize,
        l.out_channels as usize,
    );
    let (h, w) = (l.height as i64, l.width as i64);
    let (r, s) = (l.kernel_size.0 as usize, l.kernel_size.1 as usize);
    let (uv, uh) = (l.stride.0 as i64, l.stride.1 as i64);
    let (pv, ph) = (l.padding.0 as i64, l.padding.1 as i64);
    let g = l.groups as usize;
    let (cg, mg) = (c / g, m / g);
    let (e, f) = (l.out_height() as usize, l.out_width() as usize);
    let mut out = Vec::with_capacity(n * m * e * f);
    for ni in 0..n {
        for mi in 0..m {
            let gi = mi / mg;
            for ei in 0..e {
                for fi in 0..f {
                    let mut best = i64::MIN;
                    for ci in 0..cg {
                        let ch = ni * c + gi * cg + ci;
                        for ri in 0..r {
                            for si in 0..s {
                                let y = ei as i64 * uv + ri as i64 - pv;
                                let x = fi as i64 * uh + si as i64 - ph;
                                let v = if (0..h).contains(&y) && (0..w).contains(&x) {
                                    t.ifmap
                                        [(ch * h as usize + y as usize) * w as usize + x as usize]
                                        as i64
                                } else {
                                    0
                                };
                                let wv = t.weights[((mi * cg + ci) * r + ri) * s + si] as i64;
                                best = best.max(wrap((v * wv) >> l.shift, psum_width));
                            }
                        }
                    }
                    out.push(if l.relu && best < 0 { 0 } else { best as i32 });
                }
            }
        }
    }
    out
}
