//! The generated Verilog is clean under `verilator --lint-only -Wall` and synthesizes in Yosys
//! without warnings, for several array sizes, and so does the FPGA board top with its UART
//! bridge; and the committed rtl_out/ is what `generate` writes today.

use std::path::{Path, PathBuf};
use std::process::Command;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;
use eyeriss_gen::fpga::{self, Board, uart};

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
    let files = emit::write(cfg, &out, false).expect("generate");
    files
        .iter()
        .filter(|f| f.path.ends_with(".v"))
        .map(|f| out.join(&f.path).to_string_lossy().into_owned())
        .collect()
}

/// The design plus the board top and UART modules for `p`, as `fpga` writes them.
fn generate_board(cfg: &ArchConfig, p: &uart::TopParams, dir: &Path) -> Vec<String> {
    let out = dir.join(&cfg.name);
    let mut files = emit::render(cfg).expect("render");
    files.extend(uart::render(cfg, p).expect("board top"));
    emit::write_files(&files, &out, false).expect("write");
    files
        .iter()
        .filter(|f| f.path.ends_with(".v"))
        .map(|f| out.join(&f.path).to_string_lossy().into_owned())
        .collect()
}

fn lint(cfg: &ArchConfig) {
    let dir = tempfile::tempdir().unwrap();
    let files = generate(cfg, dir.path());
    lint_files(&files, "eyeriss_top", &cfg.name);
}

/// The form the ECP5 flow synthesizes (EYERISS_ECP5 defined: MULT18X18D blocks in the
/// multiply pipeline), linted beside the primitive's simulation model.
fn lint_ecp5(cfg: &ArchConfig) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = generate(cfg, dir.path());
    let model = dir.path().join("ecp5_mult18x18d.v");
    std::fs::write(&model, eyeriss_gen::sim::verilator::MULT18X18D_MODEL_SRC).unwrap();
    files.push(model.to_string_lossy().into_owned());
    files.push("-DEYERISS_ECP5".into());
    lint_files(
        &files,
        "eyeriss_top",
        &format!("{} (EYERISS_ECP5)", cfg.name),
    );
}

fn lint_files(files: &[String], top: &str, name: &str) {
    let out = Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", top])
        .args(files)
        .output()
        .expect("verilator runs (apt-get install verilator)");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning"),
        "verilator -Wall on {name}:\n{text}"
    );
}

fn synth(cfg: &ArchConfig) {
    let dir = tempfile::tempdir().unwrap();
    let files = generate(cfg, dir.path());
    synth_files(&files, "eyeriss_top", &cfg.name, dir.path());
}

fn synth_files(files: &[String], top: &str, name: &str, dir: &Path) {
    let script = format!(
        "read_verilog {}; synth -top {top}; check -assert",
        files.join(" ")
    );
    let log = dir.join("yosys.log");
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
        "yosys on {name}: status {:?}\n{}\n{}",
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
fn lint_255_stream_rows() {
    // the most rows a STREAM command can name: 8-bit row indices and counts
    let mut cfg = sized(3, 4, true);
    cfg.noc.stream_rows = 255;
    cfg.noc.ifmap_stream_rows = 255;
    cfg.name = "rows255".into();
    cfg.validate().unwrap();
    lint(&cfg);
}

#[test]
fn lint_psums_wider_than_products() {
    // 8-bit data, 32-bit psums: the product is sign-extended before the shift
    let mut cfg = sized(3, 4, true);
    cfg.data.data_width = 8;
    cfg.data.psum_width = 32;
    cfg.name = "wide_psum".into();
    cfg.validate().unwrap();
    lint(&cfg);
}

/// `[fpga]` options: all of them (configs/ecp5_small.toml with shared filter spads), each
/// alone (shared spads on 3 x 3, an odd PE count), and all on 8-bit data with 32-bit psums
/// (the product is sign-extended after its register).
fn fpga_option_configs() -> Vec<ArchConfig> {
    let mut all = ArchConfig::load(&root().join("configs/ecp5_small.toml")).expect("config loads");
    all.fpga.shared_filter_spad = true;
    all.name = "all_fpga_options".into();
    let mut pipe_only = all.clone();
    pipe_only.fpga.logic_mult_pes = 0;
    pipe_only.fpga.shared_filter_spad = false;
    pipe_only.name = "pipe_only".into();
    let mut logic_only = all.clone();
    logic_only.fpga.mult_pipeline = false;
    logic_only.fpga.shared_filter_spad = false;
    logic_only.name = "logic_only".into();
    let mut shared_only = sized(3, 3, true);
    shared_only.fpga.shared_filter_spad = true;
    shared_only.name = "shared_only".into();
    let mut wide = all.clone();
    wide.data.data_width = 8;
    wide.data.psum_width = 32;
    wide.noc.ifmap_gin_width = 8;
    wide.fpga.logic_mult_pes = wide.pes();
    wide.name = "wide_fpga".into();
    let configs = vec![all, pipe_only, logic_only, shared_only, wide];
    for c in &configs {
        c.validate().expect("valid");
    }
    configs
}

#[test]
fn lint_fpga_options() {
    for cfg in fpga_option_configs() {
        lint(&cfg);
        if cfg.fpga.mult_pipeline {
            lint_ecp5(&cfg);
        }
    }
}

#[test]
fn synth_fpga_options() {
    synth(&fpga_option_configs()[0]);
}

/// The board tops of the FPGA flow and of `sim --uart`: with and without a button, active low
/// or high, the smallest divisor and a large one.
fn board_tops() -> Vec<uart::TopParams> {
    let icebreaker = Board::load("icebreaker").unwrap();
    let hx8k = Board::load("hx8k_breakout").unwrap();
    let orangecrab = Board::load("orangecrab").unwrap();
    // A board file without LEDs: the board top has no `led` port and no LED module.
    let no_leds = uart::TopParams {
        board: "icebreaker_no_leds".into(),
        leds: 0,
        ..uart::TopParams::for_board(&icebreaker, None)
    };
    // Every LED count: 5 (the sim top, active high), 2 (active low), 5, 3 (active low), none.
    vec![
        uart::TopParams::for_sim(uart::SIM_DIVISOR),
        uart::TopParams::for_board(&icebreaker, None),
        uart::TopParams::for_board(&hx8k, Some(3_000_000)),
        uart::TopParams::for_board(&orangecrab, None),
        no_leds,
    ]
}

#[test]
fn lint_board_tops() {
    for p in board_tops() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate_board(&sized(1, 1, true), &p, dir.path());
        lint_files(
            &files,
            fpga::BOARD_TOP,
            &format!("board top for {}", p.board),
        );
    }
}

#[test]
fn synth_board_top() {
    // eyeriss_top is synthesized by the tests above; a black box of it keeps this one fast.
    let p = uart::TopParams::for_board(&Board::load("icebreaker").unwrap(), None);
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<String> = generate_board(&sized(1, 1, true), &p, dir.path())
        .into_iter()
        .filter(|f| f.contains("eyeriss_board_") || f.contains("eyeriss_uart_"))
        .collect();
    let stub = dir.path().join("eyeriss_top_stub.v");
    std::fs::write(
        &stub,
        "(* blackbox *)\nmodule eyeriss_top (input wire clk, input wire rst,\n\
         input wire in_valid, output wire in_ready, input wire [63:0] in_data,\n\
         output wire out_valid, input wire out_ready, output wire [63:0] out_data);\n\
         endmodule\n",
    )
    .unwrap();
    files.push(stub.to_string_lossy().into_owned());
    synth_files(&files, fpga::BOARD_TOP, "board top", dir.path());
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
