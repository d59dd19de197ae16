//! Power-of-two quantization and the integer semantics of every op (`docs/onnx.md`).
//!
//! Every value v has one exponent e for all its elements: v ≈ q · 2^e with q a signed
//! `data_width`-bit integer. A Conv's weights get their own exponent, and the layer's `shift`
//! is what takes input x weight products to the output's exponent:
//! shift = e_out - e_in - e_w. Exponents come from calibration: the largest magnitude a value
//! reaches on the calibration inputs (the float model's, run by tract), with a little
//! headroom for the rounding of the integer pipeline.

use std::collections::BTreeMap;

use serde::Serialize;

use super::reference::Values;
use super::{Graph, OnnxError, Op};

/// Calibrated magnitudes are scaled by this before an exponent is chosen: the integer
/// pipeline rounds differently from the float model, and a value that lands exactly at the
/// top of its range must not wrap.
pub const HEADROOM: f64 = 1.05;

/// The largest shift the layer format takes ([`crate::layer::ConvLayer::validate`]).
pub const MAX_SHIFT: i32 = 31;

/// The largest magnitude of a signed `bits`-bit value.
pub fn qmax(bits: u32) -> i64 {
    (1i64 << (bits - 1)) - 1
}

/// The smallest exponent e with `max_abs` · [`HEADROOM`] / 2^e within `bits` bits.
pub fn exponent(max_abs: f64, bits: u32) -> i32 {
    let q = qmax(bits) as f64;
    let m = max_abs * HEADROOM;
    if m.is_nan() || m <= 0.0 || !m.is_finite() {
        // An all-zero value: any scale represents it; a fine one keeps later shifts small.
        return -(bits as i32 - 1);
    }
    let mut e = (m / q).log2().ceil() as i32;
    while m / 2f64.powi(e) > q {
        e += 1;
    }
    while e > i32::MIN + 1 && m / 2f64.powi(e - 1) <= q {
        e -= 1;
    }
    e
}

/// `v` / 2^e rounded to the nearest integer (ties away from zero), saturated to `bits` bits.
pub fn quantize(v: f32, e: i32, bits: u32) -> i16 {
    let q = (f64::from(v) / 2f64.powi(e)).round();
    q.clamp(-(qmax(bits) as f64), qmax(bits) as f64) as i16
}

pub fn dequantize(q: i64, e: i32) -> f32 {
    (q as f64 * 2f64.powi(e)) as f32
}

/// Saturate to a signed `bits`-bit value.
pub fn saturate(v: i64, bits: u32) -> i16 {
    v.clamp(-qmax(bits), qmax(bits)) as i16
}

/// `q` at exponent `from` moved to exponent `to`: a left shift or an arithmetic right shift
/// (rounding toward minus infinity, as the array's shifts do). The caller saturates.
pub fn align(q: i64, from: i32, to: i32) -> i64 {
    if from >= to {
        let k = (from - to).min(62) as u32;
        q.saturating_mul(1i64 << k)
    } else {
        q >> ((to - from).min(62) as u32)
    }
}

/// A Conv or FC layer quantized for the array.
#[derive(Debug, Clone, Serialize)]
pub struct ConvQuant {
    pub in_exp: i32,
    pub w_exp: i32,
    pub out_exp: i32,
    pub shift: u32,
    #[serde(skip)]
    pub weights: Vec<i16>,
    /// The bias in units of 2^out_exp, added on the host to the array's output.
    #[serde(skip)]
    pub bias: Option<Vec<i64>>,
}

/// An average pool as the array runs it: a depthwise convolution whose every weight is
/// `weight` = round(2^shift / window), so that (q · weight) >> shift sums to the mean.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct AvgQuant {
    pub weight: i16,
    pub shift: u32,
}

impl AvgQuant {
    /// For a window of `window` values at `bits`-bit data: the largest shift whose weight
    /// still fits.
    pub fn new(window: u32, bits: u32) -> AvgQuant {
        let q = qmax(bits);
        let mut shift = 0u32;
        while shift < MAX_SHIFT as u32
            && ((1i64 << (shift + 1)) as f64 / f64::from(window)).round() as i64 <= q
        {
            shift += 1;
        }
        let weight = ((1i64 << shift) as f64 / f64::from(window)).round() as i64;
        AvgQuant {
            weight: weight.clamp(1, q) as i16,
            shift,
        }
    }
}

/// Every exponent of a graph and its quantized layers.
#[derive(Debug, Clone, Serialize)]
pub struct Quant {
    pub data_width: u32,
    /// By value name: the input and every node's output but a Softmax's.
    pub exps: BTreeMap<String, i32>,
    /// By node name.
    pub convs: BTreeMap<String, ConvQuant>,
    pub avgs: BTreeMap<String, AvgQuant>,
}

fn max_abs(v: &[f32]) -> f64 {
    v.iter().fold(0.0f64, |m, &x| m.max(f64::from(x).abs()))
}

/// The values a calibration needs the float model to give: every node's output.
pub fn calibration_values(g: &Graph) -> Vec<String> {
    g.nodes.iter().map(|n| n.output.clone()).collect()
}

/// Choose every exponent from the float values of a calibration run, and quantize the
/// weights.
pub fn calibrate(
    g: &Graph,
    input: &[f32],
    values: &Values,
    data_width: u32,
) -> Result<Quant, OnnxError> {
    let mut exps = BTreeMap::new();
    exps.insert(g.input.clone(), exponent(max_abs(input), data_width));
    let mut convs = BTreeMap::new();
    let mut avgs = BTreeMap::new();
    for n in &g.nodes {
        let in_exp = |k: usize| -> i32 { exps.get(&n.inputs[k]).copied().unwrap_or(0) };
        let float = values.get(&n.output);
        match &n.op {
            Op::Conv(c) => {
                let out = float.ok_or_else(|| {
                    OnnxError::Reference(format!("no value '{}' from the float run", n.output))
                })?;
                // The array's output is the sum before the bias, which must fit as well.
                let per = n.shape.elements() / c.out_channels as usize;
                let mut m = max_abs(out);
                if let Some(b) = &c.bias {
                    for (k, v) in out.iter().enumerate() {
                        let ch = (k / per) % c.out_channels as usize;
                        m = m.max((f64::from(*v) - f64::from(b[ch])).abs());
                    }
                }
                let want = exponent(m, data_width);
                let w_exp = exponent(max_abs(&c.weights), data_width);
                let in_e = in_exp(0);
                let raw = want - in_e - w_exp;
                if raw > MAX_SHIFT {
                    return Err(OnnxError::Range {
                        value: n.output.clone(),
                        node: n.name.clone(),
                        max: m,
                        exp: want,
                        why: format!(
                            "the layer would need a shift of {raw}, more than the {MAX_SHIFT} the array does; the input's scale 2^{in_e} and the weights' 2^{w_exp} are too fine for it"
                        ),
                    });
                }
                let shift = raw.max(0);
                let out_exp = in_e + w_exp + shift;
                let weights = c
                    .weights
                    .iter()
                    .map(|&w| quantize(w, w_exp, data_width))
                    .collect();
                let bias = c.bias.as_ref().map(|b| {
                    b.iter()
                        .map(|&v| (f64::from(v) / 2f64.powi(out_exp)).round() as i64)
                        .collect()
                });
                exps.insert(n.output.clone(), out_exp);
                convs.insert(
                    n.name.clone(),
                    ConvQuant {
                        in_exp: in_e,
                        w_exp,
                        out_exp,
                        shift: shift as u32,
                        weights,
                        bias,
                    },
                );
            }
            Op::Relu | Op::MaxPool(_) | Op::Flatten => {
                exps.insert(n.output.clone(), in_exp(0));
            }
            Op::AvgPool(p) => {
                exps.insert(n.output.clone(), in_exp(0));
                avgs.insert(
                    n.name.clone(),
                    AvgQuant::new(p.kernel.0 * p.kernel.1, data_width),
                );
            }
            Op::Add => {
                let out = float.ok_or_else(|| {
                    OnnxError::Reference(format!("no value '{}' from the float run", n.output))
                })?;
                exps.insert(n.output.clone(), exponent(max_abs(out), data_width));
            }
            Op::Softmax => {}
        }
    }
    Ok(Quant {
        data_width,
        exps,
        convs,
        avgs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exponent_is_the_finest_that_holds_the_value_with_headroom() {
        // 1.0 * 1.05 / 32767 -> 2^-14 holds 1.05 as 17203; 2^-15 would need 34406.
        assert_eq!(exponent(1.0, 16), -14);
        assert_eq!(exponent(0.0, 16), -15);
        for &m in &[1e-6, 0.3, 1.0, 7.5, 1234.0] {
            let e = exponent(m, 16);
            assert!(m * HEADROOM / 2f64.powi(e) <= 32767.0);
            assert!(m * HEADROOM / 2f64.powi(e - 1) > 32767.0);
        }
    }

    #[test]
    fn quantize_rounds_and_saturates() {
        assert_eq!(quantize(1.5, 0, 16), 2);
        assert_eq!(quantize(-1.5, 0, 16), -2);
        assert_eq!(quantize(1e9, 0, 16), 32767);
        assert_eq!(quantize(-1e9, 0, 8), -127);
    }

    #[test]
    fn align_shifts_left_and_right() {
        assert_eq!(align(5, -3, -4), 10);
        assert_eq!(align(5, -4, -3), 2);
        assert_eq!(align(-5, -4, -3), -3);
    }

    #[test]
    fn an_average_weight_approximates_one_over_the_window() {
        for window in [1u32, 2, 4, 9, 16, 49, 64] {
            let a = AvgQuant::new(window, 16);
            let mean = f64::from(a.weight) / 2f64.powi(a.shift as i32);
            assert!(
                (mean * f64::from(window) - 1.0).abs() < 1e-3,
                "{window}: {a:?}"
            );
            assert!(i64::from(a.weight) <= qmax(16));
        }
        // A power-of-two window is an exact shift.
        let a = AvgQuant::new(4, 16);
        assert_eq!(f64::from(a.weight) * 4.0, 2f64.powi(a.shift as i32));
    }
}
