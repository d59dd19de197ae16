//! `report` and `compare` as a user runs them: the files, their shapes, determinism, errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eyeriss_gen::analysis::chip;
use eyeriss_gen::network::Network;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn eyeriss_gen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn report(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "report",
        "--config",
        "configs/small.toml",
        "--network",
        "tests/fixtures/small_net.toml",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    eyeriss_gen(&args)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Looks like one SVG document with `bars` rectangles.
fn assert_svg(text: &str, bars: usize, what: &str) {
    assert!(text.starts_with("<svg "), "{what}");
    assert!(text.trim_end().ends_with("</svg>"), "{what}");
    assert_eq!(text.matches("<svg").count(), 1, "{what}");
    assert_eq!(
        text.matches("<rect ").count(),
        bars,
        "{what}: one <rect> per bar"
    );
    assert_eq!(
        text.matches("<rect ").count(),
        text.matches("</rect>").count(),
        "{what}: balanced"
    );
    assert_eq!(
        text.matches("<text").count(),
        text.matches("</text>").count(),
        "{what}: balanced"
    );
}

#[test]
fn report_writes_json_csv_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let text = ok(&report(&out, &[]));
    assert!(text.contains("conv_a") && text.contains("total"), "{text}");
    assert!(text.contains("no zero gating"), "{text}");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".eyeriss-gen",
            "cycles.svg",
            "energy.svg",
            "layers.csv",
            "pes.svg",
            "report.json"
        ]
    );
    // nothing left beside the output directory
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let j: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    let net = Network::load(&root().join("tests/fixtures/small_net.toml")).unwrap();
    assert_eq!(j["config"], "small");
    assert_eq!(j["config_hash"].as_str().unwrap().len(), 16);
    assert_eq!(j["network"], "smallnet");
    assert_eq!(j["table"]["name"], "isca2016");
    let layers = j["layers"].as_array().unwrap();
    assert_eq!(layers.len(), net.layers.len());
    let mut macs = 0;
    for (r, l) in layers.iter().zip(&net.layers) {
        assert_eq!(r["layer"], l.name.as_str());
        assert_eq!(r["macs"].as_u64(), Some(l.macs()));
        // no zero gating: one MAC per layer MAC, every busy PE-cycle a MAC
        assert_eq!(r["energy"]["accesses"]["mac"].as_u64(), Some(l.macs()));
        assert_eq!(r["counters"]["busy_pe_cycles"].as_u64(), Some(l.macs()));
        assert!(r["active_pes"].as_u64().unwrap() <= 12);
        assert!(r["predicted_cycles"].as_u64() >= r["ideal_cycles"].as_u64());
        assert!(r["chip_cycles"].is_null());
        let e = &r["energy"];
        let sum: f64 = ["dram", "glb", "array", "rf", "mac"]
            .iter()
            .map(|k| e[k].as_f64().unwrap())
            .sum();
        assert!((sum - e["total"].as_f64().unwrap()).abs() <= 1e-9 * sum);
        macs += l.macs();
    }
    assert_eq!(j["totals"]["macs"].as_u64(), Some(macs));

    let csv = read(&out.join("layers.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + net.layers.len());
    let cols = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == cols));

    let n = net.layers.len();
    // predicted and ideal per layer (the chip never ran these layers)
    assert_svg(&read(&out.join("cycles.svg")), 2 * n, "cycles.svg");
    assert_svg(&read(&out.join("pes.svg")), n, "pes.svg");
    // five levels per layer
    assert_svg(&read(&out.join("energy.svg")), 5 * n, "energy.svg");
}

#[test]
fn report_twice_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    ok(&report(&a, &["--energy", "energy/nn_dataflow_pj.toml"]));
    ok(&report(&b, &["--energy", "energy/nn_dataflow_pj.toml"]));
    // and a third time over the first: replaced whole
    ok(&report(&a, &["--energy", "energy/nn_dataflow_pj.toml"]));
    for f in [
        "report.json",
        "layers.csv",
        "cycles.svg",
        "pes.svg",
        "energy.svg",
    ] {
        assert_eq!(read(&a.join(f)), read(&b.join(f)), "{f}");
    }
    let j: serde_json::Value = serde_json::from_str(&read(&a.join("report.json"))).unwrap();
    assert_eq!(j["table"]["name"], "nn_dataflow");
    assert_eq!(j["table"]["unit"], "pJ");
}

#[test]
fn report_names_a_layer_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = report(&out, &["--layers", "conv_a,conv9"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no layer named 'conv9'") && err.contains("conv_a, conv_b, fc"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written on an error");
}

#[test]
fn report_selects_layers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    ok(&report(&out, &["--layers", "fc"]));
    let j: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(j["layers"].as_array().unwrap().len(), 1);
    assert_eq!(j["layers"][0]["layer"], "fc");
}

#[test]
fn the_chip_numbers_belong_to_alexnet_at_batch_4_only() {
    let net = Network::load(&root().join("networks/alexnet.toml")).unwrap();
    for (l, c) in net.layers.iter().zip(chip::ALEXNET) {
        assert_eq!(chip::measured(l), Some(c), "{}", l.name);
        let other = eyeriss_gen::layer::ConvLayer {
            batch: 16,
            ..l.clone()
        };
        assert_eq!(chip::measured(&other), None, "{}: batch 16", l.name);
    }
    assert_eq!(chip::measured(&net.layers[5]), None);
}

#[test]
fn compare_writes_json_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let args = [
        "compare",
        "--network",
        "tests/fixtures/small_net.toml",
        "--batches",
        "1,3",
        "--out",
        out.to_str().unwrap(),
    ];
    let text = ok(&eyeriss_gen(&args));
    assert!(text.contains("RS") && text.contains("NLR"), "{text}");
    let j: serde_json::Value = serde_json::from_str(&read(&out.join("compare.json"))).unwrap();
    // 2 classes x 2 batches x 6 dataflows
    let classes = j["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2 * 2 * 6);
    for c in classes.iter().filter(|c| c["dataflow"] == "RS") {
        assert_eq!(c["vs_rs"].as_f64(), Some(1.0));
    }
    // per batch, 6 bars of 5 levels
    assert_svg(
        &read(&out.join("compare_conv.svg")),
        2 * 6 * 5,
        "compare_conv.svg",
    );
    assert_svg(
        &read(&out.join("compare_fc.svg")),
        2 * 6 * 5,
        "compare_fc.svg",
    );
    let again = dir.path().join("d");
    let mut args2 = args;
    args2[6] = again.to_str().unwrap();
    ok(&eyeriss_gen(&args2));
    for f in ["compare.json", "compare_conv.svg", "compare_fc.svg"] {
        assert_eq!(read(&out.join(f)), read(&again.join(f)), "{f}");
    }
    let bad = eyeriss_gen(&["compare", "--batches", "0", "--out", out.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("batch sizes must be 1 or more"));
}
