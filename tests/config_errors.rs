//! Configs load with `base` merging, and every bad input names the field it breaks.

use std::path::{Path, PathBuf};

use eyeriss_gen::config::ArchConfig;

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

#[test]
fn chip_and_small_load() {
    let chip = ArchConfig::load(&configs().join("eyeriss.toml")).unwrap();
    assert_eq!((chip.array.rows, chip.array.cols), (12, 14));
    assert_eq!(chip.glb_words() * 8, 108 * 1024);
    let small = ArchConfig::load(&configs().join("small.toml")).unwrap();
    assert_eq!((small.array.rows, small.array.cols), (3, 4));
    // inherited from the chip, not copied
    assert_eq!(small.pe.filter_spad, 224);
    assert_eq!(small.noc.ifmap_col_id_bits, 5);
    assert_ne!(chip.hash(), small.hash());
}

/// The small config with one override appended, parsed against the real base.
fn with(extra: &str) -> String {
    let err = ArchConfig::from_toml_str(
        &format!("base = \"eyeriss.toml\"\nname = \"t\"\n{extra}"),
        &configs(),
    )
    .expect_err("config should be refused");
    err.to_string()
}

#[test]
fn bad_inputs_name_the_field() {
    let cases = [
        ("[array]\nrows = 0", "array.rows"),
        ("[array]\nrows = 1000", "array.rows"),
        ("[array]\ncolz = 3", "colz"),
        ("[glb]\nbanks = 26", "glb.ifmap_psum_banks"),
        ("[glb]\nkib = 100", "glb.kib"),
        ("[glb]\nbank_words = 500", "glb.bank_words"),
        ("[data]\ndata_width = 12", "data.data_width"),
        ("[noc]\ngon_width = 32", "noc.gon_width"),
        ("[noc]\nifmap_gin_width = 24", "noc.ifmap_gin_width"),
        ("[pe]\nfifo_depth = 3", "pe.fifo_depth"),
        ("[host]\ncounter_bits = 16", "host.counter_bits"),
        ("[host]\ncounter_bits = 64", "host.counter_bits"),
        ("[array]\ncols = 16", "noc.psum_col_id_bits"),
        ("[array\nrows = 3", "expected"),
        ("[fpga]\nlogic_mult_pes = 169", "fpga.logic_mult_pes"),
        ("[fpga]\nlogic_mult_pes = -1", "logic_mult_pes"),
        ("[fpga]\nmult_pipeline = 2", "mult_pipeline"),
        ("[fpga]\nmult_pipe = true", "mult_pipe"),
    ];
    for (extra, field) in cases {
        let msg = with(extra);
        assert!(
            msg.contains(field),
            "`{extra}` gave `{msg}`, which does not name {field}"
        );
    }
    let msg = ArchConfig::from_toml_str("base = \"eyeriss.toml\"\nname = \"Bad-Name\"", &configs())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("name"), "{msg}");
}

#[test]
fn fpga_options_load_and_stay_out_of_the_chip_config() {
    let e = ArchConfig::load(&configs().join("ecp5_small.toml")).unwrap();
    assert!(e.fpga.mult_pipeline);
    assert_eq!(e.fpga.logic_mult_pes, 3);
    assert_eq!(e.pe_pipe_stages(), 3);
    assert_eq!(e.first_logic_mult_pe(), 9);
    let small = ArchConfig::load(&configs().join("small.toml")).unwrap();
    assert_eq!(small.pe_pipe_stages(), 2);
    assert_eq!(small.first_logic_mult_pe(), small.pes());
    // Off, the options are not serialized: hashes and manifests of older configs stand.
    let json = serde_json::to_string(&small).unwrap();
    assert!(!json.contains("fpga"), "{json}");
    let mut all = small.clone();
    all.fpga.logic_mult_pes = all.pes();
    all.validate().unwrap();
}

#[test]
fn missing_base_and_cycles() {
    let msg = ArchConfig::from_toml_str("base = \"nope.toml\"", &configs())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("nope.toml"), "{msg}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), "base = \"b.toml\"").unwrap();
    std::fs::write(dir.path().join("b.toml"), "base = \"a.toml\"").unwrap();
    let msg = ArchConfig::load(&dir.path().join("a.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("cycle"), "{msg}");
}
