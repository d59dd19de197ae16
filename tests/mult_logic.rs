//! The logic multiplier of `[fpga] logic_mult_pes` (templates/mult_logic.v.tera), as
//! `generate` writes it, against Verilog's own `$signed(a) * $signed(b)` in Icarus: every
//! operand pair for 4- and 8-bit data, the corner operands and 200,000 random pairs for 16
//! bits. And Yosys must build it from logic: no DSP block on ECP5 or iCE40.

use std::path::{Path, PathBuf};
use std::process::Command;

mod yosys;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::emit;

/// The rendered multiplier for `data_width`-bit data, written to `dir`.
fn render(dir: &Path, data_width: u32) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cfg = ArchConfig::load(&root.join("configs/small.toml")).unwrap();
    cfg.data.data_width = data_width;
    cfg.noc.filter_gin_width = 64;
    cfg.noc.ifmap_gin_width = data_width;
    cfg.fpga.logic_mult_pes = 1;
    cfg.name = format!("ml{data_width}");
    cfg.validate().unwrap();
    let f = emit::render(&cfg)
        .unwrap()
        .into_iter()
        .find(|f| f.path == "rtl/eyeriss_mult_logic.v")
        .expect("the logic multiplier is generated when a PE uses it");
    let path = dir.join("eyeriss_mult_logic.v");
    std::fs::write(&path, f.contents).unwrap();
    path
}

/// Exhaustive up to 8 bits; above, the corners (each operand from {min, min+1, -1, 0, 1,
/// max}, every pairing) and then random pairs from a fixed seed.
const TESTBENCH: &str = r#"
`timescale 1ns/1ps
module tb;
    parameter W = 8;
    localparam [W-1:0] MIN = {1'b1, {(W-1){1'b0}}};
    reg  [W-1:0]   a, b;
    reg  [W-1:0]   corner [0:5];
    wire [2*W-1:0] p;
    wire signed [2*W-1:0] want = $signed(a) * $signed(b);
    eyeriss_mult_logic #(.DATA_W(W)) dut (.a(a), .b(b), .p(p));
    integer i, n, errors, seed;
    initial begin
        corner[0] = MIN; corner[1] = MIN + 1'b1; corner[2] = {W{1'b1}};
        corner[3] = {W{1'b0}}; corner[4] = {{(W-1){1'b0}}, 1'b1}; corner[5] = ~MIN;
        errors = 0;
        seed = 1;
        n = (W <= 8) ? (1 << (2 * W)) : 36 + 200000;
        for (i = 0; i < n; i = i + 1) begin
            if (W <= 8) begin
                a = i[W-1:0];
                b = i[2*W-1:W];
            end else if (i < 36) begin
                a = corner[i / 6];
                b = corner[i % 6];
            end else begin
                a = $random(seed);
                b = $random(seed);
            end
            #1;
            if (p !== want) begin
                errors = errors + 1;
                if (errors <= 5) $display("MISMATCH a=%h b=%h p=%h want=%h", a, b, p, want);
            end
        end
        $display("CHECKED %0d errors=%0d", n, errors);
        $finish;
    end
endmodule
"#;

#[test]
fn logic_multiplier_equals_signed_multiply() {
    for w in [4u32, 8, 16] {
        let dir = tempfile::tempdir().unwrap();
        let dut = render(dir.path(), w);
        let tb = dir.path().join("tb.v");
        std::fs::write(&tb, TESTBENCH).unwrap();
        let sim = dir.path().join("sim");
        let out = Command::new("iverilog")
            .args(["-g2005", "-P", &format!("tb.W={w}"), "-o"])
            .arg(&sim)
            .arg(&tb)
            .arg(&dut)
            .output()
            .expect("iverilog runs (apt-get install iverilog)");
        assert!(
            out.status.success(),
            "iverilog, {w} bits:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new("vvp").arg("-n").arg(&sim).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("CHECKED"))
            .unwrap_or_else(|| panic!("{w} bits: no result:\n{text}"));
        assert!(line.ends_with("errors=0"), "{w} bits: {text}");
    }
}

/// Cells of `synth_<family>` on the 16-bit multiplier alone, from Yosys' `stat`.
fn synth_cells(dir: &Path, dut: &Path, synth: &str) -> String {
    let stat = dir.join(format!("{synth}.txt"));
    let script = format!(
        "read_verilog {}; {synth} -top eyeriss_mult_logic; tee -q -o {} stat",
        dut.display(),
        stat.display()
    );
    yosys::run(dir, &script);
    std::fs::read_to_string(stat).unwrap()
}

#[test]
fn logic_multiplier_uses_no_dsp_block() {
    let dir = tempfile::tempdir().unwrap();
    let dut = render(dir.path(), 16);
    let ecp5 = synth_cells(dir.path(), &dut, "synth_ecp5");
    assert_eq!(yosys::count(&ecp5, "MULT18X18D"), 0, "{ecp5}");
    // docs/fpga.md: 313 LUT4 and 88 CCU2C with Yosys 0.23 (282 LUT4 under -nowidelut, as the
    // flow maps it); a regression to the shift-add array Yosys builds for `*` would be about
    // 1,600 LUT4.
    let luts = yosys::count(&ecp5, "LUT4");
    assert!((100..=450).contains(&luts), "ECP5 LUT4: {luts}\n{ecp5}");
    let ice40 = synth_cells(dir.path(), &dut, "synth_ice40");
    assert_eq!(yosys::count(&ice40, "SB_MAC16"), 0, "{ice40}");
    let luts = yosys::count(&ice40, "SB_LUT4");
    assert!((100..=650).contains(&luts), "iCE40 LUT4: {luts}\n{ice40}");
}
