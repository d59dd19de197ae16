//! Layer files load, and every bad layer gives an error that names the field and the limit.

use std::path::{Path, PathBuf};

use eyeriss_gen::layer::{ConvLayer, check_name};
use eyeriss_gen::network::Network;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const OK: &str = r#"
name = "t"
in_channels = 4
out_channels = 6
height = 8
width = 8
kernel_size = 3
seed = 1
"#;

fn err(text: &str) -> String {
    ConvLayer::from_toml_str(text, &root().join("layers"))
        .expect_err("must be refused")
        .to_string()
}

fn with(extra: &str) -> String {
    // later keys win in our merge: replace lines instead
    let mut lines: Vec<String> = OK.lines().map(String::from).collect();
    for e in extra.lines().filter(|l| !l.trim().is_empty()) {
        let key = e.split('=').next().unwrap().trim();
        lines.retain(|l| l.split('=').next().unwrap().trim() != key);
        lines.push(e.to_string());
    }
    lines.join("\n")
}

#[test]
fn every_shipped_layer_loads_and_has_data() {
    let mut n = 0;
    for e in std::fs::read_dir(root().join("layers")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let l = ConvLayer::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let t = l
                .tensors(16)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert_eq!(
                t.ifmap.len() as u64,
                l.ifmap_shape().iter().product::<u64>()
            );
            n += 1;
        }
    }
    assert!(n >= 13);
}

#[test]
fn seeded_data_is_deterministic_and_has_its_zeros() {
    let l = ConvLayer::from_toml_str(
        &with("zero_fraction = 0.8\nheight = 40\nwidth = 40"),
        Path::new("."),
    )
    .unwrap();
    let a = l.tensors(16).unwrap();
    assert_eq!(a, l.tensors(16).unwrap());
    let zeros = a.ifmap.iter().filter(|&&x| x == 0).count() as f64 / a.ifmap.len() as f64;
    assert!((0.75..0.85).contains(&zeros), "{zeros}");
    let small = l.tensors(8).unwrap();
    assert!(small.weights.iter().all(|&w| (-128..=127).contains(&w)));
}

#[test]
fn malformed_toml() {
    assert!(err("name = \"x\"\nin_channels = ").contains("<string>"));
}

#[test]
fn unknown_field() {
    let e = err(&with("dilation = 2"));
    assert!(e.contains("unknown field `dilation`"), "{e}");
}

#[test]
fn groups_must_divide_channels() {
    let e = err(&with("groups = 4\nout_channels = 6"));
    assert!(
        e.contains("out_channels = 6: must be divisible by groups (4)"),
        "{e}"
    );
}

#[test]
fn kernel_larger_than_padded_input() {
    let e = err(&with("kernel_size = [11, 3]\npadding = 1"));
    assert!(
        e.contains("kernel_size[0] = 11: larger than height + 2*padding (10)"),
        "{e}"
    );
}

#[test]
fn zero_and_absurd_sizes() {
    assert!(err(&with("in_channels = 0")).contains("in_channels = 0: must be in 1..=65536"));
    assert!(err(&with("stride = 16")).contains("stride[0] = 16: must be in 1..=15"));
    assert!(err(&with("batch = 5000")).contains("batch = 5000: must be in 1..=1024"));
    assert!(err(&with("shift = 40")).contains("shift = 40: must be in 0..=31"));
    assert!(err(&with("zero_fraction = 1.0")).contains("zero_fraction = 1: must be in [0, 1)"));
}

#[test]
fn seed_and_npy_both_or_neither() {
    let e = err(&with("ifmap = \"a.npy\"\nweights = \"b.npy\""));
    assert!(
        e.contains("give either `seed` or `ifmap` and `weights`, not both"),
        "{e}"
    );
    let text: String = OK
        .lines()
        .filter(|l| !l.starts_with("seed"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(err(&text).contains("give either `seed` (random data) or both `ifmap` and `weights`"));
}

fn npy_layer(ifmap: &str, weights: &str) -> ConvLayer {
    let text = format!(
        "name = \"n\"\nin_channels = 3\nout_channels = 4\nheight = 6\nwidth = 7\nkernel_size = 3\n\
         ifmap = \"{ifmap}\"\nweights = \"{weights}\"\n"
    );
    ConvLayer::from_toml_str(&text, &root().join("layers")).unwrap()
}

#[test]
fn npy_shape_mismatch_names_file_and_shapes() {
    // the weights file where the ifmap belongs
    let e = npy_layer("npy_example_weights.npy", "npy_example_weights.npy")
        .tensors(16)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("npy_example_weights.npy: shape [4, 3, 3, 3], expected [1, 3, 6, 7]"),
        "{e}"
    );
}

#[test]
fn npy_value_out_of_range_names_index_and_limit() {
    let e = npy_layer("npy_example_ifmap.npy", "npy_example_weights.npy")
        .tensors(8)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("npy_example_ifmap.npy: value")
            && e.contains("does not fit data.data_width = 8 bits (-128..=127)"),
        "{e}"
    );
}

#[test]
fn missing_npy_file() {
    let e = npy_layer("nope.npy", "npy_example_weights.npy")
        .tensors(16)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.npy"), "{e}");
}

/// A TOML basic string holding `s` (escapes what TOML needs escaped).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

const BAD_NAMES: [&str; 12] = [
    "",
    "..",
    ".",
    "../../victim",
    "a/b",
    "a\\b",
    "a b",
    "a\0b",
    "tab\there",
    ".hidden",
    "-dash-first",
    "caf\u{e9}",
];

#[test]
fn layer_names_are_names() {
    for bad in BAD_NAMES {
        let e = err(&with(&format!("name = {}", toml_str(bad))));
        assert!(
            e.contains("layer name = \"")
                && e.contains("a name holds only ASCII letters, digits, `_`, `-` and `.`"),
            "{bad:?} gave {e}"
        );
        // the value is shown escaped: nothing unprintable reaches the terminal
        assert!(!e.contains('\0') && !e.contains('\t'), "{e:?}");
    }
    let long = "a".repeat(65);
    let e = err(&with(&format!("name = \"{long}\"")));
    assert!(e.contains("has 65 characters"), "{e}");
    let e = err(&with("name = \"../../victim\""));
    assert!(
        e.contains("name = \"../../victim\": holds the character '/' (a path separator)"),
        "{e}"
    );
    let e = err(&with("name = \"..\""));
    assert!(e.contains("name = \"..\": starts with '.'"), "{e}");
    for good in ["conv1", "a.b-c_d", "1x1", "Conv_3.v2", &"z".repeat(64)] {
        ConvLayer::from_toml_str(&with(&format!("name = \"{good}\"")), Path::new("."))
            .unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn check_name_names_field_value_and_rule() {
    assert_eq!(check_name("--out", "run.1"), Ok(()));
    let e = check_name("--out", "a\0b").unwrap_err().to_string();
    assert!(
        e.starts_with("--out = \"a\\u0000b\": holds the character U+0000"),
        "{e}"
    );
    let e = check_name("name", "a\u{202e}b").unwrap_err().to_string();
    assert!(
        e.starts_with("name = \"a\\u202Eb\": holds the character U+202E"),
        "{e}"
    );
    assert!(e.ends_with("and has at most 64 characters"), "{e}");
    let e = check_name("name", "").unwrap_err().to_string();
    assert!(e.starts_with("name = \"\": is empty"), "{e}");
}

const NET: &str = r#"
name = "net"
seed = 5
[[layer]]
name = "a"
in_channels = 2
out_channels = 2
height = 6
width = 6
kernel_size = 3
[[layer]]
name = "b"
in_channels = 2
out_channels = 2
height = 4
width = 4
kernel_size = 3
[[layer]]
name = "c"
in_channels = 2
out_channels = 2
height = 2
width = 2
kernel_size = 1
"#;

fn net_err(text: &str) -> String {
    Network::from_toml_str(text, Path::new("."))
        .expect_err("network must be refused")
        .to_string()
}

#[test]
fn network_from_string_loads_with_per_layer_seeds() {
    let n = Network::from_toml_str(NET, Path::new(".")).unwrap();
    assert_eq!(n.name, "net");
    let seeds: Vec<_> = n.layers.iter().map(|l| l.data.clone()).collect();
    assert_eq!(
        seeds,
        [5, 6, 7].map(|seed| eyeriss_gen::layer::LayerData::Seed {
            seed,
            zero_fraction: 0.5
        })
    );
}

#[test]
fn network_names_are_names() {
    for bad in BAD_NAMES {
        let e = net_err(&NET.replace("name = \"net\"", &format!("name = {}", toml_str(bad))));
        assert!(
            e.contains("<string>: network name = \"") && e.contains("a name holds only"),
            "{bad:?} gave {e}"
        );
    }
    let e = net_err(&NET.replace("name = \"net\"", "name = 3"));
    assert!(
        e.contains("name = 3: the network's name must be a string"),
        "{e}"
    );
    // a layer of a network is held to the same rule, and the message says which layer
    let e = net_err(&NET.replace("name = \"b\"", "name = \"../b\""));
    assert!(
        e.contains("<string>: layer 1: layer name = \"../b\": holds the character '/'"),
        "{e}"
    );
}

#[test]
fn duplicate_layer_names_are_refused() {
    let e = net_err(&NET.replace("name = \"c\"", "name = \"a\""));
    assert!(
        e.contains("<string>: layers 0 and 2 are both named 'a'"),
        "{e}"
    );
}

#[test]
fn a_network_seed_that_would_overflow_is_refused() {
    let e = net_err(&NET.replace("seed = 5", &format!("seed = {}", i64::MAX)));
    assert!(
        e.contains("seed = 9223372036854775807: layer 1 would get seed"),
        "{e}"
    );
}

#[test]
fn every_shipped_network_loads_with_unique_layer_names() {
    let mut n = 0;
    for dir in ["networks", "tests/fixtures"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                let net = Network::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                check_name("name", &net.name).unwrap();
                let mut names: Vec<_> = net.layers.iter().map(|l| l.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), net.layers.len(), "{}", p.display());
                n += 1;
            }
        }
    }
    assert!(n >= 3);
}

#[test]
fn int_or_pair_fields_name_the_field_and_the_forms() {
    const FORMS: &str =
        "expected an integer or a pair [vertical, horizontal] of non-negative integers";
    for (line, shown) in [
        ("padding = -1", "padding = -1"),
        ("kernel_size = [3]", "kernel_size = [3]"),
        ("kernel_size = \"3\"", "kernel_size = \"3\""),
        ("kernel_size = [3, 1.5]", "kernel_size = [3, 1.5]"),
        ("stride = [1, 2, 3]", "stride = [1, 2, 3]"),
        ("stride = [1, -2]", "stride = [1, -2]"),
        ("padding = true", "padding = true"),
    ] {
        let e = err(&with(line));
        assert!(
            e.contains(&format!("layer 't': {shown}: {FORMS}")),
            "`{line}` gave {e}"
        );
        assert!(!e.contains("untagged"), "{e}");
    }
    let e = err(&with("padding = 5000000000"));
    assert!(
        e.contains("padding = 5000000000: must be at most 255"),
        "{e}"
    );
    let e = err(&with("padding = [300, 1]"));
    assert!(e.contains("padding[0] = 300: must be in 0..=255"), "{e}");
    let l = ConvLayer::from_toml_str(&with("stride = [2, 1]\npadding = [0, 1]"), Path::new("."))
        .unwrap();
    assert_eq!((l.stride, l.padding), ((2, 1), (0, 1)));
}

#[test]
fn data_errors_say_what_was_given_and_what_is_needed() {
    let no_seed = |extra: &str| {
        let text: String = OK
            .lines()
            .filter(|l| !l.starts_with("seed"))
            .chain(extra.lines())
            .collect::<Vec<_>>()
            .join("\n");
        err(&text)
    };
    let cases = [
        (
            err(&with("ifmap = \"a.npy\"\nweights = \"b.npy\"")),
            "layer 't': seed = 1 and ifmap = \"a.npy\" and weights = \"b.npy\" are both given: \
             give either `seed` or `ifmap` and `weights`, not both",
        ),
        (
            err(&with("ifmap = \"a.npy\"")),
            "layer 't': seed = 1 and ifmap = \"a.npy\" are both given",
        ),
        (
            no_seed(""),
            "layer 't': no data is given: give either `seed` (random data) or both `ifmap` and \
             `weights` (.npy files)",
        ),
        (
            no_seed("ifmap = \"x.npy\""),
            "layer 't': ifmap = \"x.npy\" is given but `weights` is not: give either `seed`",
        ),
        (
            no_seed("weights = \"w.npy\""),
            "layer 't': weights = \"w.npy\" is given but `ifmap` is not",
        ),
    ];
    for (e, want) in cases {
        let e = e.to_string();
        assert!(e.contains(want), "{e}\nshould contain\n{want}");
        for leak in ["Some(", "None", "= given"] {
            assert!(!e.contains(leak), "{e}");
        }
    }
}

fn layer(fields: &str) -> Result<ConvLayer, String> {
    ConvLayer::from_toml_str(
        &format!("name = \"big\"\nseed = 1\n{fields}"),
        Path::new("."),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn tensors_too_large_to_build_are_refused_at_load() {
    let t = std::time::Instant::now();
    let e = layer(
        "in_channels = 65536\nout_channels = 65536\nheight = 16384\nwidth = 16384\nkernel_size = 3",
    )
    .unwrap_err();
    assert!(t.elapsed().as_millis() < 500, "{:?}", t.elapsed());
    assert_eq!(
        e,
        "layer 'big': the ifmap (N x C x H x W = 1 x 65536 x 16384 x 16384) has 17592186044416 \
         elements, more than the 268435456 (2^28) a tensor may have"
    );
    let e =
        layer("in_channels = 4096\nout_channels = 65536\nheight = 8\nwidth = 8\nkernel_size = 8")
            .unwrap_err();
    assert!(
        e.contains(
            "the weights (M x C/groups x R x S = 65536 x 4096 x 8 x 8) has 17179869184 elements"
        ),
        "{e}"
    );
    let e = layer(
        "in_channels = 1\nout_channels = 65536\nheight = 2048\nwidth = 2048\nkernel_size = 1",
    )
    .unwrap_err();
    assert!(
        e.contains("the ofmap (N x M x E x F = 1 x 65536 x 2048 x 2048) has 274877906944 elements"),
        "{e}"
    );
    // the largest of every field at once: the products need more than 64 bits of headroom
    let e = layer(
        "in_channels = 65536\nout_channels = 65536\nheight = 16384\nwidth = 16384\n\
         kernel_size = 1\npadding = 255\nbatch = 1024",
    )
    .unwrap_err();
    assert!(e.contains("the ifmap"), "{e}");
    // at the limit is allowed (validated only: building it would take 1 GiB)
    layer("in_channels = 1\nout_channels = 1\nheight = 16384\nwidth = 16384\nkernel_size = 1")
        .unwrap();
}

#[test]
fn tensors_of_a_layer_built_by_hand_are_held_to_the_same_limits() {
    let mut l = ConvLayer::from_toml_str(OK, Path::new(".")).unwrap();
    l.in_channels = 65536;
    l.height = 16384;
    l.width = 16384;
    let e = l.tensors(16).unwrap_err().to_string();
    assert!(e.contains("the ifmap"), "{e}");
    let l = ConvLayer::from_toml_str(OK, Path::new(".")).unwrap();
    for bits in [0, 1, 17, 32, 64] {
        let e = l.tensors(bits).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "data.data_width = {bits}: layer data must be in 2..=16 bits"
            )),
            "{e}"
        );
    }
    assert!(
        l.tensors(2)
            .unwrap()
            .weights
            .iter()
            .all(|&w| (-2..=1).contains(&w))
    );
}
