//! Shared by the tests that synthesize generated modules in Yosys and read its cell counts.

use std::path::Path;
use std::process::Command;

/// Run `script` in Yosys (quiet) with `dir` as the working directory; panic with Yosys's
/// messages if it fails.
pub fn run(dir: &Path, script: &str) {
    let out = Command::new("yosys")
        .current_dir(dir)
        .args(["-q", "-p", script])
        .output()
        .expect("yosys runs (apt-get install yosys)");
    assert!(
        out.status.success(),
        "yosys -p {script:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many `cell`s a `stat` report lists (summed over the modules it reports).
pub fn count(stat: &str, cell: &str) -> u64 {
    stat.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            (it.next() == Some(cell)).then(|| it.next()?.parse::<u64>().ok())?
        })
        .sum()
}
