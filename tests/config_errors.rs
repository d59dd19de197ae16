//! Configs load with `base` merging, and every bad input names the field it breaks.

use std::path::{Path, PathBuf};

use eyeriss_gen::config::{ArchConfig, IdBits, NocCfg};
use eyeriss_gen::network::Network;

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
        (
            "[glb]\nifmap_psum_banks = 4294967295\nfilter_banks = 1",
            "glb.ifmap_psum_banks",
        ),
        ("[glb]\nkib = 100", "glb.kib"),
        ("[glb]\nbank_words = 500", "glb.bank_words"),
        ("[data]\ndata_width = 12", "data.data_width"),
        ("[noc]\ngon_width = 32", "noc.gon_width"),
        ("[noc]\nifmap_gin_width = 24", "noc.ifmap_gin_width"),
        ("[pe]\nfifo_depth = 3", "pe.fifo_depth"),
        ("[host]\ncounter_bits = 16", "host.counter_bits"),
        ("[host]\ncounter_bits = 64", "host.counter_bits"),
        (
            "[array]\ncols = 16\n[noc]\npsum_col_id_bits = 4",
            "noc.psum_col_id_bits",
        ),
        (
            "[array]\ncols = 16\n[noc]\ngon_col_id_bits = 4",
            "noc.gon_col_id_bits",
        ),
        ("[noc]\nrow_id_bits = 0", "noc.row_id_bits"),
        ("[noc]\nifmap_col_id_bits = 9", "noc.ifmap_col_id_bits"),
        ("[noc]\nfilter_col_id_bits = -1", "filter_col_id_bits"),
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
    // a base that is not a file is refused, not read until memory runs out
    for base in [".", "/dev/zero"] {
        let msg = ArchConfig::from_toml_str(&format!("base = \"{base}\""), &configs())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(base) && msg.contains("not a regular file"),
            "{msg}"
        );
    }
}

fn ids(row: u32, filter_col: u32, ifmap_col: u32, psum_col: u32, gon_col: u32) -> IdBits {
    IdBits {
        row,
        filter_col,
        ifmap_col,
        psum_col,
        gon_col,
    }
}

#[test]
fn id_widths_left_out_are_derived_from_the_array() {
    // the chip's own widths, now derived (configs/eyeriss.toml no longer states them)
    assert_eq!(NocCfg::derived_id_bits(12, 14), ids(4, 4, 5, 4, 4));
    let chip = ArchConfig::load(&configs().join("eyeriss.toml")).unwrap();
    assert_eq!(chip.noc.id_bits(), ids(4, 4, 5, 4, 4));
    // 2 x 2 derives 2 bits everywhere; ice40_2x2 keeps its ifmap IDs one bit wider
    assert_eq!(NocCfg::derived_id_bits(2, 2), ids(2, 2, 2, 2, 2));
    let ice = ArchConfig::load(&configs().join("ice40_2x2.toml")).unwrap();
    assert_eq!(ice.noc.id_bits(), ids(2, 2, 3, 2, 2));
    assert_eq!(NocCfg::derived_id_bits(1, 1), ids(1, 1, 1, 1, 1));
    assert_eq!(NocCfg::derived_id_bits(64, 64), ids(7, 7, 7, 7, 7));
    assert_eq!(NocCfg::derived_id_bits(15, 15), ids(4, 4, 5, 4, 4));
    assert_eq!(NocCfg::derived_id_bits(16, 16), ids(5, 5, 5, 5, 5));
    // an explicit width wins over the derived one, the rest are still derived
    let c = ArchConfig::from_toml_str(
        "base = \"eyeriss.toml\"\nname = \"t\"\n[noc]\nifmap_col_id_bits = 7",
        &configs(),
    )
    .unwrap();
    assert_eq!(c.noc.id_bits(), ids(4, 4, 7, 4, 4));
}

#[test]
fn presets_that_change_only_the_array_just_work() {
    let alexnet =
        Network::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/alexnet.toml"))
            .unwrap();
    for (rows, cols, want) in [(16, 16, ids(5, 5, 5, 5, 5)), (32, 8, ids(6, 4, 6, 4, 4))] {
        let cfg = ArchConfig::from_toml_str(
            &format!(
                "base = \"eyeriss.toml\"\nname = \"a{rows}x{cols}\"\n[array]\nrows = {rows}\ncols = {cols}\n"
            ),
            &configs(),
        )
        .unwrap_or_else(|e| panic!("{rows} x {cols}: {e}"));
        assert_eq!(cfg.noc.id_bits(), want, "{rows} x {cols}");
        for l in &alexnet.layers {
            eyeriss_gen::mapper::plan(&cfg, l)
                .unwrap_or_else(|e| panic!("{rows} x {cols}, {}: {e}", l.name));
        }
    }
}

#[test]
fn shipped_configs_resolve_to_what_they_always_did() {
    // hashes of the resolved configs before the ID widths could be left out (manifest.json);
    // ecp5_small and the iCE40 configs changed once since, when they turned MAX mode off
    // ([pe] max_pool = false)
    for (name, hash) in [
        ("eyeriss", "079d649c9264c51f"),
        ("small", "fba37d4ce43f4790"),
        ("ecp5_small", "f6161e4a837292f7"),
        ("ice40_2x2", "f077fa2112d024a9"),
        ("ice40_1x1", "c05f5b524b398e41"),
    ] {
        let c = ArchConfig::load(&configs().join(format!("{name}.toml"))).unwrap();
        assert_eq!(c.hash(), hash, "{name}: {:?}", c.noc.id_bits());
    }
}
