//! Layer files load, and every bad layer gives an error that names the field and the limit.

mod inputs;

use std::path::{Path, PathBuf};

use eyeriss_gen::layer::{ConvLayer, check_name};
use eyeriss_gen::network::Network;
use eyeriss_gen::npy;

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

/// The bytes of a version 1.0 `.npy` file with this header and body, as numpy lays it out.
fn npy_bytes(descr: &str, fortran: bool, shape: &str, body: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    inputs::npy_raw(
        &format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}"),
        body,
    )
}

fn write_npy(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn le16(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn npy_err(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write_npy(dir.path(), "x.npy", bytes);
    let e = npy::read_int(&p).expect_err("must be refused").to_string();
    // the same from memory, naming the same path
    assert_eq!(npy::parse_int(&p, bytes).unwrap_err().to_string(), e);
    e
}

#[test]
fn npy_fortran_order_comes_out_in_c_order() {
    let dir = tempfile::tempdir().unwrap();
    // [[0, 1, 2], [3, 4, 5]] stored column by column
    let p = write_npy(
        dir.path(),
        "f.npy",
        &npy_bytes("<i2", true, "(2, 3)", &le16(&[0, 3, 1, 4, 2, 5])),
    );
    let a = npy::read_int(&p).unwrap();
    assert_eq!((a.shape, a.data), (vec![2, 3], vec![0, 1, 2, 3, 4, 5]));

    // A layer's 4-d ifmap and weights, once in C order and once in Fortran order: the tensors
    // must be the same, and hold value(n, c, h, w) at the row-major index.
    let value = |i: [usize; 4]| (i[0] * 1000 + i[1] * 100 + i[2] * 10 + i[3]) as i16;
    let layout = |shape: [usize; 4], fortran: bool| {
        let mut v = Vec::new();
        let n: usize = shape.iter().product();
        for k in 0..n {
            // k is the file position; recover the index in the file's order
            let mut i = [0usize; 4];
            let mut rest = k;
            let dims: Vec<usize> = if fortran {
                (0..4).collect()
            } else {
                (0..4).rev().collect()
            };
            for d in dims {
                i[d] = rest % shape[d];
                rest /= shape[d];
            }
            v.push(value(i));
        }
        le16(&v)
    };
    for fortran in [false, true] {
        let tag = if fortran { "f" } else { "c" };
        let shape = |s: [usize; 4]| format!("({}, {}, {}, {})", s[0], s[1], s[2], s[3]);
        let (is, ws) = ([1, 3, 6, 7], [4, 3, 3, 3]);
        write_npy(
            dir.path(),
            &format!("i{tag}.npy"),
            &npy_bytes("<i2", fortran, &shape(is), &layout(is, fortran)),
        );
        write_npy(
            dir.path(),
            &format!("w{tag}.npy"),
            &npy_bytes("<i2", fortran, &shape(ws), &layout(ws, fortran)),
        );
        let text = format!(
            "name = \"n\"\nin_channels = 3\nout_channels = 4\nheight = 6\nwidth = 7\nkernel_size = 3\n\
             ifmap = \"i{tag}.npy\"\nweights = \"w{tag}.npy\"\n"
        );
        let t = ConvLayer::from_toml_str(&text, dir.path())
            .unwrap()
            .tensors(16)
            .unwrap();
        let mut k = 0;
        for c in 0..3 {
            for h in 0..6 {
                for w in 0..7 {
                    assert_eq!(t.ifmap[k], value([0, c, h, w]), "{tag} ifmap {k}");
                    k += 1;
                }
            }
        }
        assert_eq!(t.weights[27 + 2 * 9 + 3 + 2], value([1, 2, 1, 2]), "{tag}");
    }
}

#[test]
fn npy_big_endian_and_other_integer_types_are_read_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let read = |descr: &str, body: Vec<u8>, n: usize| {
        let p = write_npy(
            dir.path(),
            "t.npy",
            &npy_bytes(descr, false, &format!("({n},)"), &body),
        );
        npy::read_int(&p)
            .unwrap_or_else(|e| panic!("{descr}: {e}"))
            .data
    };
    let v16 = [1i16, -2, 300, i16::MIN, i16::MAX];
    let be16: Vec<u8> = v16.iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(read(">i2", be16, 5), v16.map(i64::from));
    let v32 = [70000i32, -70000, i32::MIN];
    let be32: Vec<u8> = v32.iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(read(">i4", be32, 3), v32.map(i64::from));
    assert_eq!(read("<i8", (-5i64).to_le_bytes().to_vec(), 1), [-5]);
    assert_eq!(read("|i1", vec![0xff, 0x7f], 2), [-1, 127]);
    assert_eq!(read("|u1", vec![0xff], 1), [255]);
    assert_eq!(read(">u2", vec![0xff, 0xfe], 1), [65534]);
    assert_eq!(
        read("<u4", u32::MAX.to_le_bytes().to_vec(), 1),
        [u32::MAX as i64]
    );
    // a 0-d array is one element
    let p = write_npy(
        dir.path(),
        "s.npy",
        &npy_bytes("<i2", false, "()", &le16(&[9])),
    );
    assert_eq!(
        npy::read_int(&p).unwrap(),
        npy::IntArray {
            shape: vec![],
            data: vec![9]
        }
    );
    // what the tool writes, it reads back
    let p = dir.path().join("rt.npy");
    npy::write_i16(&p, &[2, 2], &[1, -1, i16::MIN, 7]).unwrap();
    assert_eq!(npy::read_int(&p).unwrap().data, [1, -1, -32768, 7]);
}

#[test]
fn npy_dtypes_that_are_not_integers_are_refused_by_name() {
    for (descr, want) in [
        (
            "<f4",
            "dtype '<f4': float32 is not an integer type: layer data must be int8, int16, int32 or int64",
        ),
        ("<f8", "dtype '<f8': float64 is not an integer type"),
        (">f2", "float16 is not an integer type"),
        ("|b1", "dtype '|b1': bool is not an integer type"),
        ("<c8", "complex64 is not an integer type"),
        ("<U3", "a unicode string is not an integer type"),
        ("|S4", "a byte string is not an integer type"),
        (
            "|O",
            "a Python object (pickled) array is not an integer type",
        ),
        ("<M8[ns]", "datetime64 is not an integer type"),
        ("<u8", "dtype '<u8': uint64 values need not fit"),
        ("=i2", "dtype '=i2': byte order '=' (native) does not say"),
        (
            "|i2",
            "dtype '|i2': a 2-byte integer needs a byte order, '<' or '>'",
        ),
        ("i2", "a 2-byte integer needs a byte order"),
        ("<i3", "an integer of 3 bytes is not a numpy type"),
        ("<q9", "is not a numpy type string"),
    ] {
        let e = npy_err(&npy_bytes(descr, false, "(1,)", &[0; 8]));
        assert!(
            e.contains(&format!("x.npy: {want}")) || e.contains(want),
            "{descr}: {e}"
        );
    }
    let e = npy_err(&inputs::npy_raw(
        "{'descr': [('a', '<i2'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,), }",
        &[0; 6],
    ));
    assert!(
        e.contains("x.npy: dtype [...]: a structured dtype (a list of fields) is not layer data"),
        "{e}"
    );
}

#[test]
fn npy_truncated_or_overlong_data_names_what_the_header_promised() {
    let e = npy_err(&npy_bytes("<i2", false, "(2, 3, 4, 4)", &[0; 40]));
    assert!(
        e.ends_with(
            "x.npy: holds 40 of the 192 bytes its header promises (shape [2, 3, 4, 4], int16): \
             the file is truncated"
        ),
        "{e}"
    );
    let e = npy_err(&npy_bytes(">i4", false, "(3,)", &[0; 4]));
    assert!(
        e.contains("holds 4 of the 12 bytes its header promises (shape [3], int32, big-endian)"),
        "{e}"
    );
    let e = npy_err(&npy_bytes("<i2", false, "(2,)", &[0; 6]));
    assert!(
        e.contains("x.npy: holds 6 bytes after its header, more than the 4 its header promises"),
        "{e}"
    );
    // a header promising more than any file could hold is refused without allocating it
    let t = std::time::Instant::now();
    let e = npy_err(&npy_bytes(
        "<i8",
        false,
        "(1099511627776, 1099511627776, 1099511627776)",
        &[0; 8],
    ));
    assert!(t.elapsed().as_millis() < 500);
    assert!(
        e.contains("shape [1099511627776, 1099511627776, 1099511627776] has more elements than a 64-bit count holds"),
        "{e}"
    );
    let e = npy_err(&npy_bytes(
        "<i8",
        false,
        "(4294967296, 4294967295)",
        &[0; 8],
    ));
    assert!(
        e.contains("holds 8 of the 147573952555316674560 bytes"),
        "{e}"
    );
    // even an empty array: its other sizes are still multiplied out by whoever reads it
    let e = npy_err(&npy_bytes("<i2", false, "(4294967296, 0, 4294967296)", &[]));
    assert!(
        e.contains("has more elements than a 64-bit count holds"),
        "{e}"
    );
}

#[test]
fn npy_files_that_are_not_npy_say_why() {
    let ok = npy_bytes("<i2", false, "(1,)", &[0; 2]);
    let mut v9 = ok.clone();
    v9[6] = 9;
    let mut long_header = ok.clone();
    long_header[8..10].copy_from_slice(&60000u16.to_le_bytes());
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    for (bytes, want) in [
        (
            Vec::new(),
            "x.npy: not a readable .npy file: it does not start with the .npy magic bytes",
        ),
        (
            b"PK\x03\x04 a zip file".to_vec(),
            "does not start with the .npy magic bytes",
        ),
        (ok[..9].to_vec(), "the file ends inside its preamble"),
        (v9, "format version 9.0 is not one of 1.0, 2.0, 3.0"),
        (
            long_header,
            "its header would be 60000 bytes long, the file ends after",
        ),
        (
            inputs::npy_raw("(1, 2)", &[]),
            "header: (1, 2) is not a dict",
        ),
        (
            inputs::npy_raw("{'descr': '<i2', 'shape': (1,)}", &[0; 2]),
            "header: no 'fortran_order'",
        ),
        (
            inputs::npy_raw(
                "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                &[0; 2],
            ),
            "header: unknown key 'x'",
        ),
        (
            inputs::npy_raw(
                "{'descr': '<i2', 'descr': '<i2', 'fortran_order': False, 'shape': (1,)}",
                &[0; 2],
            ),
            "header: key 'descr' given twice",
        ),
        (
            npy_bytes("<i2", false, "(-1, 2)", &[]),
            "header: shape (-1, 2) is not a tuple of sizes",
        ),
        (
            npy_bytes("<i2", false, "(1.5,)", &[]),
            "expected ',' or ')', found '.'",
        ),
        (
            npy_bytes("<i2", false, "(.5,)", &[]),
            "unexpected character '.'",
        ),
        (
            npy_bytes("<i2", false, "7", &[]),
            "header: shape 7 is not a tuple",
        ),
        (
            inputs::npy_raw(
                "{'descr': '<i2', 'fortran_order': 0, 'shape': (1,)}",
                &[0; 2],
            ),
            "header: fortran_order 0 is not True or False",
        ),
        (
            inputs::npy_raw(
                "{'descr': '<i2', 'fortran_order': False, 'shape': (1,)",
                &[0; 2],
            ),
            "expected ',' or '}', found the end",
        ),
        (inputs::npy_raw(&deep, &[]), "nested more than 16 deep"),
        (
            inputs::npy_raw("{'descr': '<i2} garbage", &[]),
            "unterminated string",
        ),
    ] {
        let e = npy_err(&bytes);
        assert!(e.contains(want), "{want}: {e}");
    }
    // Python 2 wrote shapes as longs
    let dir = tempfile::tempdir().unwrap();
    let p = write_npy(
        dir.path(),
        "l.npy",
        &npy_bytes("<i2", false, "(1L, 2L)", &le16(&[3, 4])),
    );
    assert_eq!(npy::read_int(&p).unwrap().shape, [1, 2]);
}

#[test]
fn npy_of_the_wrong_shape_is_still_a_shape_error() {
    let dir = tempfile::tempdir().unwrap();
    // the right elements in the wrong rank, and a file whose data would not even be there
    write_npy(
        dir.path(),
        "i.npy",
        &npy_bytes("<i2", false, "(3, 6, 7)", &[0; 252]),
    );
    write_npy(
        dir.path(),
        "w.npy",
        &npy_bytes("<i2", false, "(4, 3, 3, 3)", &[0; 216]),
    );
    write_npy(
        dir.path(),
        "big.npy",
        &npy_bytes("<i2", false, "(1, 3, 600, 7)", &[0; 4]),
    );
    let layer = |ifmap: &str| {
        let text = format!(
            "name = \"n\"\nin_channels = 3\nout_channels = 4\nheight = 6\nwidth = 7\nkernel_size = 3\n\
             ifmap = \"{ifmap}\"\nweights = \"w.npy\"\n"
        );
        ConvLayer::from_toml_str(&text, dir.path())
            .unwrap()
            .tensors(16)
            .unwrap_err()
            .to_string()
    };
    let e = layer("i.npy");
    assert!(
        e.contains("i.npy: shape [3, 6, 7], expected [1, 3, 6, 7] (ifmap: N x C x H x W)"),
        "{e}"
    );
    let e = layer("big.npy");
    assert!(e.contains("big.npy: holds 4 of the 25200 bytes"), "{e}");
}
