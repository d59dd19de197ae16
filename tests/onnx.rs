//! Trained networks from ONNX, end to end in Verilator: the shipped digits CNN on
//! `configs/small.toml` is bit-exact layer by layer and as accurate as the float model; the
//! ResNet-style graph runs bit-exactly on 3 x 4 and on the 12 x 14 chip, close to the float
//! model (tract); the import folds BatchNormalization, bias adds and Flatten the way the
//! array needs; bad models and inputs are refused naming the node, field or value, and
//! nothing is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::npy;
use eyeriss_gen::onnx::infer::{self, Inference, Placement};
use eyeriss_gen::onnx::{Op, import};
use eyeriss_gen::sim::verilator::VerilatorSim;
use eyeriss_gen::sim::{Backend, RunOpts};

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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn config(name: &str) -> ArchConfig {
    ArchConfig::load(&root().join("configs").join(name)).expect("config loads")
}

fn small_sim() -> &'static VerilatorSim {
    static SIM: OnceLock<VerilatorSim> = OnceLock::new();
    SIM.get_or_init(|| VerilatorSim::build(&config("small.toml"), false).expect("build"))
}

/// Run `model` on `input` with the library, as `infer` does.
fn run(cfg: &ArchConfig, sim: &dyn Backend, model: &str, input: &str) -> Inference {
    let model = root().join(model);
    let g = import::import(&model).expect("imports");
    let x = npy::read_f32(&root().join(input)).expect("input");
    let n = infer::check_input(&g, &x.shape, input).expect("input shape");
    infer::infer(
        cfg,
        &g,
        &model,
        &x.data,
        n,
        None,
        sim,
        &RunOpts::default(),
        |_| {},
    )
    .expect("runs")
}

/// The share of the second number in a line like "accuracy: hardware 97.33%, float model 97.00%".
fn percent_after(line: &str, key: &str) -> f64 {
    let at = line.find(key).unwrap_or_else(|| panic!("{key} in {line}")) + key.len();
    line[at..]
        .trim_start()
        .split('%')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_digits_cnn_matches_bit_for_bit_and_is_as_accurate_as_the_float_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = eyeriss_gen(&[
        "infer",
        "--config",
        "configs/small.toml",
        "--model",
        "models/digits/digits.onnx",
        "--input",
        "models/digits/test_images.npy",
        "--labels",
        "models/digits/test_labels.npy",
        "--out",
        out.to_str().unwrap(),
    ]);
    let so = text(&o.stdout);
    assert!(o.status.success(), "{so}\n{}", text(&o.stderr));
    assert!(so.contains("\nMATCH: every array layer"), "{so}");
    let line = so.lines().find(|l| l.starts_with("accuracy:")).expect(&so);
    let (hw, float) = (
        percent_after(line, "hardware"),
        percent_after(line, "float model"),
    );
    eprintln!("{line}");
    assert!((hw - float).abs() <= 1.0, "{line}");
    assert!(float > 90.0, "the shipped model is trained: {line}");
    // The float model's accuracy is the one train.py measured in PyTorch.
    let trained: f64 = std::fs::read_to_string(root().join("models/digits/float_accuracy.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        (float - trained).abs() < 0.01,
        "tract {float} vs PyTorch {trained}"
    );
    let y = npy::read_f32(&out.join("output.npy")).unwrap();
    let r = npy::read_f32(&out.join("reference.npy")).unwrap();
    assert_eq!(y.shape, [300, 10]);
    assert_eq!(r.shape, [300, 10]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["matches"], true);
    let placed: Vec<(&str, &str)> = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["op"].as_str().unwrap(), n["placement"].as_str().unwrap()))
        .collect();
    assert_eq!(
        placed.iter().filter(|(_, p)| *p == "array").count(),
        5,
        "two convs, two max pools (MAX mode) and the FC on the array: {placed:?}"
    );
    for n in report["nodes"].as_array().unwrap() {
        if n["placement"] == "array" {
            assert!(n["stats"]["cycles"].as_u64().unwrap() > 0);
            assert!(n["stats"]["energy"]["total"].as_f64().unwrap() > 0.0);
        }
    }
}

fn assert_close(r: &Inference, what: &str) {
    assert!(r.matches, "{what}: a layer differs from the golden model");
    for (k, c) in r.cosine.iter().enumerate() {
        assert!(*c >= 0.99, "{what}: sample {k} cosine {c}");
    }
    assert_eq!(r.top1, r.reference_top1, "{what}");
}

#[test]
fn the_resnet_style_graph_runs_bit_exactly_on_3x4_and_on_the_chip() {
    let model = "models/resnet_tiny/resnet_tiny.onnx";
    let input = "models/resnet_tiny/inputs.npy";
    let r = run(&config("small.toml"), small_sim(), model, input);
    assert_close(&r, "3 x 4");
    let place = |name: &str| {
        r.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .placement
    };
    // The residual adds on the host; the depthwise conv, the pool and the FC on the array.
    assert_eq!(place("b1_add"), Placement::Host);
    for on_array in ["stem_conv", "b2_proj", "dw_conv", "gap", "fc"] {
        assert_eq!(place(on_array), Placement::Array, "{on_array}");
    }
    eprintln!("3 x 4: {} cycles", r.cycles);

    let chip = config("eyeriss.toml");
    let sim = VerilatorSim::build(&chip, false).expect("build the 12 x 14 chip");
    let c = run(&chip, &sim, model, input);
    assert_close(&c, "12 x 14");
    // The same integer pipeline on either array: the same answer, bit for bit.
    assert_eq!(c.output, r.output);
    eprintln!("12 x 14: {} cycles", c.cycles);
}

#[test]
fn padded_max_pools_average_pools_reshape_and_matmul_with_a_bias_match_the_float_model() {
    let r = run(
        &config("small.toml"),
        small_sim(),
        "tests/fixtures/onnx/mixed.onnx",
        "tests/fixtures/onnx/x2x8x8.npy",
    );
    // No softmax: the cosine is over the logits themselves.
    assert_close(&r, "mixed");
    let ops: Vec<&str> = r.nodes.iter().map(|n| n.op).collect();
    assert_eq!(
        ops,
        ["conv", "relu", "max pool", "average pool", "fc"],
        "the Reshape folds into the FC, the bias Add into it"
    );
}

#[test]
fn the_import_folds_batch_norm_bias_and_flatten_into_the_array_layers() {
    let g = import::import(&root().join("models/digits/digits.onnx")).unwrap();
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    // ONNX names such as /conv1/Conv become plain names.
    assert_eq!(
        names,
        [
            "conv1_Conv",
            "Relu",
            "MaxPool",
            "conv2_Conv",
            "Relu_1",
            "MaxPool_1",
            "fc_Gemm"
        ]
    );
    let fc = g.nodes.last().unwrap();
    let Op::Conv(c) = &fc.op else { panic!() };
    assert!(c.fc);
    assert_eq!(
        c.kernel,
        (2, 2),
        "the FC's filter covers the 16 x 2 x 2 input"
    );
    assert_eq!(
        fc.inputs[0], g.nodes[5].output,
        "it reads the pool, not the Flatten"
    );

    let r = import::import(&root().join("models/resnet_tiny/resnet_tiny.onnx")).unwrap();
    assert!(
        r.nodes.iter().all(|n| n.onnx_name != "stem_bn"),
        "BatchNormalization is folded away"
    );
    let stem = &r.nodes[0];
    assert_eq!(stem.output, "stem_bn", "the Conv makes the BN's output");
    let Op::Conv(c) = &stem.op else { panic!() };
    assert!(c.bias.is_some(), "BN gives the bias-free stem conv a bias");
    assert_eq!((c.stride, c.padding), ((2, 2), (1, 1)));
}

/// Run `infer` with `args` after the common ones; it must fail, leave `out` unwritten and say
/// all of `want` on one line.
fn refused(model: &str, input: &str, extra: &[&str], want: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![
        "infer",
        "--config",
        "configs/small.toml",
        "--model",
        model,
        "--input",
        input,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = eyeriss_gen(&args);
    let se = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{model}: {se}");
    for w in want {
        assert!(se.contains(w), "{model}: want {w:?} in {se}");
    }
    assert_eq!(se.trim_end().lines().count(), 1, "{se}");
    assert!(!out.exists(), "nothing written");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bad_models_and_inputs_are_refused_by_name() {
    let x = "tests/fixtures/onnx/x2x8x8.npy";
    refused("README.md", x, &[], &["README.md: not an ONNX model"]);
    refused(
        "tests/fixtures/onnx/sigmoid.onnx",
        x,
        &[],
        &[
            "node 'squash' (Sigmoid) is not supported",
            "supported: Conv",
        ],
    );
    refused(
        "tests/fixtures/onnx/bn_first.onnx",
        x,
        &[],
        &[
            "node 'bn_on_input' (BatchNormalization)",
            "only right after a Conv",
        ],
    );
    // A layer the array cannot run, named with the limit.
    refused(
        "tests/fixtures/onnx/stride16.onnx",
        "tests/fixtures/onnx/x2x8x16.npy",
        &[],
        &["layer 'conv_patchify'", "stride", "1..=15"],
    );
    // Inputs of the wrong shape or type.
    refused(
        "tests/fixtures/onnx/mixed.onnx",
        "tests/fixtures/onnx/x2x8x16.npy",
        &[],
        &["shape [1, 2, 8, 16]", "N x 2 x 8 x 8 float32"],
    );
    refused(
        "tests/fixtures/onnx/mixed.onnx",
        "models/digits/test_labels.npy",
        &[],
        &["dtype '<i8'", "not a float array"],
    );
    // Inputs a hundred times beyond the calibration's range overflow its scale.
    refused(
        "tests/fixtures/onnx/mixed.onnx",
        x,
        &["--calibrate", "tests/fixtures/onnx/x2x8x8_small.npy"],
        &["value 'x'", "at its calibrated scale 2^-20", "--calibrate"],
    );
    // Labels that do not fit the inputs.
    refused(
        "tests/fixtures/onnx/mixed.onnx",
        x,
        &["--labels", "models/digits/test_labels.npy"],
        &["test_labels.npy: shape [300]", "one label per input (3)"],
    );
}

#[test]
fn a_truncated_model_is_not_onnx() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(root().join("models/digits/digits.onnx")).unwrap();
    let cut = dir.path().join("cut.onnx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = import::import(Path::new(&cut)).unwrap_err().to_string();
    assert!(e.contains("not an ONNX model"), "{e}");
}

#[test]
fn import_writes_a_network_directory_that_map_report_sim_and_infer_read() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("rn");
    let net_s = net.to_str().unwrap();
    let o = eyeriss_gen(&[
        "import",
        "models/resnet_tiny/resnet_tiny.onnx",
        "--calibrate",
        "models/resnet_tiny/inputs.npy",
        "--out",
        net_s,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in [
        "network.toml",
        "graph.json",
        "model.onnx",
        "calibration.npy",
    ] {
        assert!(net.join(f).is_file(), "{f}");
    }
    let layers = eyeriss_gen::network::Network::load(&net).expect("--network DIR loads");
    assert_eq!(
        layers.layers.len(),
        10,
        "convs, the FC and both pools (the max pool reads a ReLU: MAX mode)"
    );
    let pool = layers
        .layers
        .iter()
        .find(|l| l.name == "stem_pool")
        .unwrap();
    assert!(pool.max_pool);
    for l in &layers.layers {
        assert!(
            net.join("weights")
                .join(format!("{}.npy", l.name))
                .is_file()
        );
        assert!(net.join("ifmaps").join(format!("{}.npy", l.name)).is_file());
    }
    // Deterministic: a second import writes the same bytes.
    let again = dir.path().join("rn2");
    let o = eyeriss_gen(&[
        "import",
        "models/resnet_tiny/resnet_tiny.onnx",
        "--calibrate",
        "models/resnet_tiny/inputs.npy",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    for f in [
        "network.toml",
        "graph.json",
        "weights/stem_conv.npy",
        "ifmaps/fc.npy",
    ] {
        assert_eq!(
            std::fs::read(net.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
    // sim runs its layers on their real inputs; report predicts the whole network.
    let o = eyeriss_gen(&[
        "sim",
        "--config",
        "configs/small.toml",
        "--network",
        net_s,
        "--layers",
        "stem_conv,gap",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).matches("MATCH").count(), 2);
    let rep = dir.path().join("report");
    let o = eyeriss_gen(&[
        "report",
        "--config",
        "configs/eyeriss.toml",
        "--network",
        net_s,
        "--out",
        rep.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rep.join("report.json")).unwrap()).unwrap();
    assert_eq!(r["layers"].as_array().map(Vec::len), Some(10));
    // map and compare read it too.
    let o = eyeriss_gen(&["map", "--config", "configs/small.toml", "--network", net_s]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("stem_pool"));
    let o = eyeriss_gen(&[
        "compare",
        "--network",
        net_s,
        "--batches",
        "1",
        "--out",
        dir.path().join("cmp").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(dir.path().join("cmp/compare.json").is_file());
    // infer on the directory uses its calibration.
    let o = eyeriss_gen(&[
        "infer",
        "--config",
        "configs/small.toml",
        "--model",
        net_s,
        "--input",
        "models/resnet_tiny/inputs.npy",
        "--out",
        dir.path().join("inf").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("\nMATCH"));
    // A refused import writes nothing.
    let bad = dir.path().join("bad");
    let o = eyeriss_gen(&[
        "import",
        "tests/fixtures/onnx/sigmoid.onnx",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!bad.exists());
}

#[test]
fn max_pools_run_in_max_mode_where_the_config_has_it_and_on_the_host_where_not() {
    let model = "models/digits/digits.onnx";
    let x = eyeriss_gen::npy::read_f32(&root().join("models/digits/test_images.npy")).unwrap();
    let per = x.data.len() / x.shape[0] as usize;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sixteen.npy");
    npy::write_f32(&input, &[16, 1, 8, 8], &x.data[..16 * per]).unwrap();
    let input = input.to_str().unwrap().to_string();
    let with = run(&config("small.toml"), small_sim(), model, &input);
    let cfg = config("ecp5_small.toml");
    assert!(!cfg.pe.max_pool);
    let sim = VerilatorSim::build(&cfg, false).expect("build");
    let without = run(&cfg, &sim, model, &input);
    let pools = |r: &Inference| -> Vec<Placement> {
        r.nodes
            .iter()
            .filter(|n| n.op == "max pool")
            .map(|n| n.placement)
            .collect()
    };
    assert_eq!(pools(&with), [Placement::Array, Placement::Array]);
    assert_eq!(pools(&without), [Placement::Host, Placement::Host]);
    assert!(with.matches && without.matches);
    assert_eq!(
        with.output, without.output,
        "the same integer pipeline either way"
    );
}

#[test]
fn the_rust_hdl_backend_runs_the_resnet_style_graph_cycle_for_cycle_as_verilator() {
    let cfg = config("small.toml");
    let model = "models/resnet_tiny/resnet_tiny.onnx";
    let input = "models/resnet_tiny/inputs.npy";
    let v = run(&cfg, small_sim(), model, input);
    let rh = eyeriss_gen::sim::rusthdl::RustHdlSim::new(&cfg).expect("rust-hdl model");
    let r = run(&cfg, &rh, model, input);
    assert!(r.matches);
    assert_eq!(r.output, v.output);
    for (a, b) in r.nodes.iter().zip(&v.nodes) {
        assert_eq!(
            a.stats.as_ref().map(|s| s.cycles),
            b.stats.as_ref().map(|s| s.cycles),
            "{}",
            a.name
        );
    }
}

#[test]
fn uneven_padding_is_the_arrays_even_part_plus_the_hosts_rest() {
    // pads = [0, 0, 1, 1]: nothing on top and left, one row and column at the bottom and right.
    let g = import::import(&root().join("tests/fixtures/onnx/asym_pad.onnx")).unwrap();
    let Op::Conv(c) = &g.nodes[0].op else {
        panic!()
    };
    assert_eq!((c.padding, c.host_pad), ((0, 0), [0, 0, 1, 1]));
    assert_eq!((g.nodes[0].shape.h, g.nodes[0].shape.w), (7, 7));
    // Close to the float model only if the padding went to the right sides.
    let r = run(
        &config("small.toml"),
        small_sim(),
        "tests/fixtures/onnx/asym_pad.onnx",
        "tests/fixtures/onnx/x2x8x8.npy",
    );
    assert_close(&r, "asym_pad");
}
