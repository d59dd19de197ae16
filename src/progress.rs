//! Progress bars for the long steps (indicatif), drawn on stderr. indicatif hides them when
//! stderr is not a terminal, so they never reach a pipe, a log or `--json` output on stdout.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// A bar over `len` items of a kind (`layers`, `searches`), under `multi`.
pub fn items(multi: &MultiProgress, len: u64, what: &str) -> ProgressBar {
    let bar = multi.add(ProgressBar::new(len));
    bar.set_style(style(&format!(
        "{{msg:>12}} [{{bar:30}}] {{pos}}/{{len}} {what} [{{elapsed}}]"
    )));
    // Drawn at once, not at its first step, so that a bar above a long first item shows.
    bar.tick();
    bar
}

/// A bar over the simulated cycles of a run, against the mapper's predicted total.
pub fn cycles(multi: &MultiProgress, predicted: u64, label: &str) -> ProgressBar {
    let bar = multi.add(ProgressBar::new(predicted.max(1)));
    bar.set_style(
        style("{msg:>12} [{bar:30}] {human_pos}/{human_len} cycles predicted, {rate}, eta {eta}")
            .with_key(
                "rate",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} cycles/s", s.per_sec());
                },
            ),
    );
    bar.set_message(label.to_string());
    bar
}

/// A bar over the mapper's search of one layer (its outer loop).
pub fn search(multi: &MultiProgress, label: &str) -> ProgressBar {
    let bar = multi.add(ProgressBar::new(1));
    bar.set_style(style("{msg:>12} [{bar:30}] mapping search [{elapsed}]"));
    bar.set_message(label.to_string());
    bar
}

/// Move `bar` to `pos`, stretching it when a run goes past its predicted length.
pub fn advance(bar: &ProgressBar, pos: u64) {
    if bar.length().is_some_and(|l| pos > l) {
        bar.set_length(pos);
    }
    bar.set_position(pos);
}
