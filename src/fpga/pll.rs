//! The ECP5 PLL (EHXPLLL) that derives the design clock from a board's oscillator when the
//! requested clock is above it. Output CLKOP feeds back to CLKFB, so
//! `f_out = f_in * CLKFB_DIV / CLKI_DIV` and the VCO runs at `f_out * CLKOP_DIV`.
//! Limits from the ECP5 family data sheet (FPGA-DS-02012, "sysCLOCK PLL Timing").

use serde::Serialize;

use super::FpgaError;

/// Phase detector input range, MHz.
pub const PFD_MHZ: (f64, f64) = (3.125, 400.0);
/// VCO range, MHz.
pub const VCO_MHZ: (f64, f64) = (400.0, 800.0);
/// Output range, MHz.
pub const OUT_MHZ: (f64, f64) = (3.125, 400.0);
/// Divider ranges (the EHXPLLL parameters' widths).
pub const CLKI_DIV_MAX: u32 = 128;
pub const CLKFB_DIV_MAX: u32 = 80;
pub const CLKOP_DIV_MAX: u32 = 128;

/// One EHXPLLL setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EcpPll {
    pub in_mhz: f64,
    pub out_mhz: f64,
    pub vco_mhz: f64,
    pub clki_div: u32,
    pub clkfb_div: u32,
    pub clkop_div: u32,
    /// CLKOP's coarse phase: CLKOP_DIV - 1 puts its edge where the VCO's is (0 degrees).
    pub clkop_cphase: u32,
}

/// The setting whose output is nearest `want_mhz` (ties: the one not above it, then the VCO
/// nearest the middle of its range, where the PLL's jitter is lowest).
pub fn ecp5_pll(in_mhz: f64, want_mhz: f64) -> Result<EcpPll, FpgaError> {
    let bad = |why: String| FpgaError::Pll {
        in_mhz,
        want_mhz,
        why,
    };
    if !(OUT_MHZ.0..=OUT_MHZ.1).contains(&want_mhz) {
        return Err(bad(format!(
            "an EHXPLLL output runs at {} to {} MHz",
            OUT_MHZ.0, OUT_MHZ.1
        )));
    }
    let vco_mid = (VCO_MHZ.0 + VCO_MHZ.1) / 2.0;
    let mut best: Option<(EcpPll, (f64, bool, f64))> = None;
    for clki_div in 1..=CLKI_DIV_MAX {
        let pfd = in_mhz / f64::from(clki_div);
        if pfd < PFD_MHZ.0 {
            break;
        }
        if pfd > PFD_MHZ.1 {
            continue;
        }
        for clkfb_div in 1..=CLKFB_DIV_MAX {
            let out = pfd * f64::from(clkfb_div);
            if !(OUT_MHZ.0..=OUT_MHZ.1).contains(&out) {
                continue;
            }
            for clkop_div in 1..=CLKOP_DIV_MAX {
                let vco = out * f64::from(clkop_div);
                if vco < VCO_MHZ.0 {
                    continue;
                }
                if vco > VCO_MHZ.1 {
                    break;
                }
                let key = (
                    (out - want_mhz).abs(),
                    out > want_mhz,
                    (vco - vco_mid).abs(),
                );
                let better = best.as_ref().is_none_or(|(_, k)| {
                    (key.0, key.1, key.2)
                        .partial_cmp(&(k.0, k.1, k.2))
                        .is_some_and(|o| o.is_lt())
                });
                if better {
                    best = Some((
                        EcpPll {
                            in_mhz,
                            out_mhz: out,
                            vco_mhz: vco,
                            clki_div,
                            clkfb_div,
                            clkop_div,
                            clkop_cphase: clkop_div - 1,
                        },
                        key,
                    ));
                }
            }
        }
    }
    best.map(|(p, _)| p)
        .ok_or_else(|| bad("no divider setting keeps the PFD and VCO in range".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_range(p: &EcpPll) {
        let pfd = p.in_mhz / f64::from(p.clki_div);
        assert!((PFD_MHZ.0..=PFD_MHZ.1).contains(&pfd), "{p:?}");
        assert!((VCO_MHZ.0..=VCO_MHZ.1).contains(&p.vco_mhz), "{p:?}");
        assert!((OUT_MHZ.0..=OUT_MHZ.1).contains(&p.out_mhz), "{p:?}");
        assert!((p.out_mhz - pfd * f64::from(p.clkfb_div)).abs() < 1e-9);
        assert!((p.vco_mhz - p.out_mhz * f64::from(p.clkop_div)).abs() < 1e-9);
        assert_eq!(p.clkop_cphase, p.clkop_div - 1);
    }

    #[test]
    fn exact_multiples_of_the_oscillator_are_hit_exactly() {
        for want in [50.0, 75.0, 100.0, 125.0, 200.0] {
            let p = ecp5_pll(25.0, want).unwrap();
            in_range(&p);
            assert_eq!(p.out_mhz, want, "{p:?}");
        }
        // 100 MHz from 25: x4, the VCO at 600 MHz (CLKOP_DIV 6), the middle of its range
        let p = ecp5_pll(25.0, 100.0).unwrap();
        assert_eq!((p.clki_div, p.clkfb_div, p.clkop_div), (1, 4, 6));
    }

    #[test]
    fn other_rates_come_as_close_as_the_dividers_allow() {
        // From 25 MHz the PFD floor of 3.125 MHz allows CLKI_DIV 1..8, so the outputs are
        // 25 * k / d with d <= 8: the nearest such ratio wins.
        for (want, got, d) in [
            (33.0, 25.0 * 4.0 / 3.0, 3),
            (48.7, 50.0, 1),
            (66.6, 25.0 * 8.0 / 3.0, 3),
            (90.0, 90.0, 5),
            (111.1, 25.0 * 31.0 / 7.0, 7),
        ] {
            let p = ecp5_pll(25.0, want).unwrap();
            in_range(&p);
            assert!((p.out_mhz - got).abs() < 1e-9, "{want}: {p:?}");
            assert_eq!(p.clki_div, d, "{want}: {p:?}");
        }
        let p = ecp5_pll(48.0, 64.0).unwrap();
        in_range(&p);
        assert!((p.out_mhz - 64.0).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn rates_outside_the_pll_are_refused_with_the_range() {
        let e = ecp5_pll(25.0, 500.0).unwrap_err().to_string();
        assert!(e.contains("3.125 to 400 MHz"), "{e}");
        assert!(ecp5_pll(25.0, 1.0).is_err());
    }
}
