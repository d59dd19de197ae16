//! The generated Verilog is clean under `verilator --lint-only -Wall` and synthesizes in Yosys
//! without warnings, for several array sizes; and the committed rtl_out/ is what `generate`
//! writes today.

use std::path::{Path, PathBuf};
use std::process::Command;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The chip config with another array size (and optionally a smaller GLB).
fn sized(rows: u32, cols: u32, small_glb: bool) -> ArchConfig {
    let base = if small_glb {
        "configs/small.toml"
    } else {
        "configs/eyeriss.toml"
    };
    let mut cfg = ArchConfig::load(&root().join(base)).expect("config loads");
    cfg.array.rows = rows;
    cfg.array.cols = cols;
    cfg.name = format!("a{rows}x{cols}");
    cfg.validate().expect("sized config is valid");
    cfg
}

fn generate(cfg: &ArchConfig, dir: &Path) -> Vec<String> {
    let out = dir.join(&cfg.name);
    let files = emit::write(cfg, &out).expect("generate");
    files
        .iter()
        .filter(|f| f.path.ends_with(".v"))
        .map(|f| out.join(&f.path).to_string_lossy().into_owned())
        .collect()
}

fn lint(cfg: &ArchConfig) {
    let dir = tempfile::tempdir().unwrap();
    let files = generate(cfg, dir.path());
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", "eyeriss_top"])
        .args(&files)
        .output()
        .expect("verilator runs (apt-get install verilator)");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning"),
        "verilator -Wall on {}:\n{text}",
        cfg.name
    );
}

fn synth(cfg: &ArchConfig) {
    let dir = tempfile::tempdir().unwrap();
    let files = generate(cfg, dir.path());
    let script = format!(
        "read_verilog {}; synth -top eyeriss_top; check -assert",
        files.join(" ")
    );
    let log = dir.path().join("yosys.log");
    let out = Command::new("yosys")
        .args(["-q", "-l"])
        .arg(&log)
        .args(["-p", &script])
        .output()
        .expect("yosys runs (apt-get install yosys)");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("Warning")).collect();
    assert!(
        out.status.success() && warnings.is_empty(),
        "yosys on {}: status {:?}\n{}\n{}",
        cfg.name,
        out.status,
        warnings.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn lint_1x1() {
    lint(&sized(1, 1, true));
}

#[test]
fn lint_3x4() {
    lint(&sized(3, 4, true));
}

#[test]
fn lint_6x7() {
    lint(&sized(6, 7, true));
}

#[test]
fn lint_12x14() {
    lint(&sized(12, 14, false));
}

#[test]
fn lint_power_of_two_spads() {
    // fill counters are one bit wider than the spad index when the depth is a power of two
    let mut cfg = sized(3, 4, true);
    cfg.pe.filter_spad = 128;
    cfg.pe.ifmap_spad = 8;
    cfg.pe.psum_spad = 16;
    cfg.name = "pow2".into();
    cfg.validate().unwrap();
    lint(&cfg);
}

#[test]
fn synth_1x1() {
    synth(&sized(1, 1, true));
}

#[test]
fn synth_3x4() {
    synth(&sized(3, 4, true));
}

#[test]
fn synth_12x14() {
    synth(&sized(12, 14, false));
}

#[test]
fn generate_is_deterministic() {
    let cfg = sized(3, 4, true);
    let a = emit::render(&cfg).unwrap();
    let b = emit::render(&cfg).unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.path, y.path);
        assert_eq!(
            x.contents, y.contents,
            "{} differs between two renders",
            x.path
        );
    }
}

#[test]
fn committed_rtl_out_is_current() {
    let cfg = ArchConfig::load(&root().join("configs/eyeriss.toml")).unwrap();
    let files = emit::render(&cfg).unwrap();
    let dir = root().join("rtl_out/eyeriss");
    for f in &files {
        let committed = std::fs::read_to_string(dir.join(&f.path))
            .unwrap_or_else(|_| panic!("rtl_out/eyeriss/{} is missing: run `eyeriss-gen generate --config configs/eyeriss.toml`", f.path));
        assert!(
            committed == f.contents,
            "rtl_out/eyeriss/{} differs from what generate writes: run `eyeriss-gen generate --config configs/eyeriss.toml`",
            f.path
        );
    }
}
