//! Bar charts as SVG text, formatted by hand so that the same numbers always give the same
//! bytes (fixed decimals, no timestamps, no dependence on fonts being installed).
//!
//! Every bar segment is exactly one `<rect>`; the legend uses `<path>` swatches so that a
//! reader (or a test) can count bars by counting rectangles.

use std::fmt::Write as _;

/// One series of the legend: every segment with this index has this colour.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
}

/// One bar: segments stacked bottom-up, each `(series index, value)`.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub segs: Vec<(usize, f64)>,
}

/// Bars drawn side by side over one category label.
#[derive(Debug, Clone)]
pub struct Group {
    pub label: String,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub groups: Vec<Group>,
    /// A dashed horizontal reference line (value, label), e.g. the array's PE count.
    pub hline: Option<(f64, String)>,
}

/// Colours that stay apart for colour-blind readers (Okabe-Ito).
pub const PALETTE: [&str; 7] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round axis maximum at or above `max`, and its tick step: 1, 2 or 5 times a power of ten.
fn axis(max: f64) -> (f64, f64) {
    if !(max.is_finite() && max > 0.0) {
        return (1.0, 0.25);
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|k| k * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    ((max / step).ceil() * step, step)
}

/// A tick label: plain below 10 000, engineering notation (k, M, G) above.
fn tick(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{suffix}")
}

impl Chart {
    pub fn to_svg(&self) -> String {
        let bar_w = 18.0;
        let gap = 26.0;
        let (left, right, top, bottom) = (78.0, 170.0, 44.0, 70.0);
        let plot_h = 300.0;
        let bars: usize = self.groups.iter().map(|g| g.bars.len().max(1)).sum();
        let plot_w = (bars as f64 * bar_w + self.groups.len() as f64 * gap).max(200.0);
        let (w, h) = (left + plot_w + right, top + plot_h + bottom);
        let max = self
            .groups
            .iter()
            .flat_map(|g| &g.bars)
            .map(|b| b.segs.iter().map(|s| s.1.max(0.0)).sum::<f64>())
            .chain(self.hline.iter().map(|h| h.0))
            .fold(0.0, f64::max);
        let (ymax, step) = axis(max);
        let y = |v: f64| top + plot_h - plot_h * v / ymax;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
             viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"sans-serif\" font-size=\"11\">"
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{}</text>",
            left + plot_w / 2.0,
            esc(&self.title)
        );
        // y axis, grid and ticks
        let mut v = 0.0;
        while v <= ymax * (1.0 + 1e-9) {
            let _ = writeln!(
                s,
                "<path d=\"M{left:.1} {:.1}H{:.1}\" stroke=\"#dddddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                y(v),
                left + plot_w,
                left - 6.0,
                y(v) + 4.0,
                tick(v)
            );
            v += step;
        }
        let _ = writeln!(
            s,
            "<path d=\"M{left:.1} {top:.1}V{:.1}H{:.1}\" stroke=\"#000000\" fill=\"none\"/>",
            top + plot_h,
            left + plot_w
        );
        let _ = writeln!(
            s,
            "<text transform=\"translate(16 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            top + plot_h / 2.0,
            esc(&self.y_label)
        );
        // bars; with several bars in some group, every group label sits below the bar labels
        let label_y = if self.groups.iter().any(|g| g.bars.len() > 1) {
            56.0
        } else {
            16.0
        };
        let mut x = left + gap / 2.0;
        for g in &self.groups {
            let gx = x;
            for b in &g.bars {
                let mut base = 0.0;
                for &(k, val) in &b.segs {
                    let val = val.max(0.0);
                    let color = self.series.get(k).map_or("#777777", |s| s.color);
                    let _ = writeln!(
                        s,
                        "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}: {}</title></rect>",
                        y(base + val),
                        y(base) - y(base + val),
                        esc(&format!("{} {}", g.label, b.label).replace("  ", " ")),
                        tick(val)
                    );
                    base += val;
                }
                if g.bars.len() > 1 && !b.label.is_empty() {
                    let _ = writeln!(
                        s,
                        "<text transform=\"translate({:.1} {:.1}) rotate(-90)\" text-anchor=\"end\" font-size=\"9\">{}</text>",
                        x + bar_w / 2.0 + 3.0,
                        top + plot_h + 4.0,
                        esc(&b.label)
                    );
                }
                x += bar_w;
            }
            if g.bars.is_empty() {
                x += bar_w;
            }
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                (gx + x) / 2.0,
                top + plot_h + label_y,
                esc(&g.label)
            );
            x += gap;
        }
        if let Some((v, label)) = &self.hline {
            let _ = writeln!(
                s,
                "<path d=\"M{left:.1} {:.1}H{:.1}\" stroke=\"#000000\" stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                y(*v),
                left + plot_w,
                left + plot_w + 6.0,
                y(*v) + 4.0,
                esc(label)
            );
        }
        // legend
        for (k, se) in self.series.iter().enumerate() {
            let ly = top + 10.0 + 18.0 * k as f64;
            let lx = left + plot_w + 12.0;
            let _ = writeln!(
                s,
                "<path d=\"M{lx:.1} {:.1}h12v12h-12z\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                ly - 10.0,
                se.color,
                lx + 18.0,
                ly,
                esc(&se.name)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_is_round_and_covers() {
        assert_eq!(axis(7.3), (8.0, 2.0));
        assert_eq!(axis(168.0), (200.0, 50.0));
        assert_eq!(axis(0.0), (1.0, 0.25));
        assert_eq!(tick(3_300_000.0), "3.3M");
        assert_eq!(tick(12.5), "12.5");
    }
}
