//! Every input the tool reads, fed random and mutated text and bytes: the config loader, the
//! layer and network loaders, the `.npy` reader and the program decoder never panic, and what
//! they refuse they refuse with an error that names the source (a file, a field, a word).
//!
//! Two kinds of input per loader: fully random ones, which mostly exercise the parsers' first
//! checks, and valid files with one part replaced by a random value (a field by a random TOML
//! value, a header field, a body, a word), which reach the deep checks. The whole file runs in
//! well under 30 s in release mode.

mod inputs;

use std::path::{Path, PathBuf};

use eyeriss_gen::config::{ArchConfig, NocCfg};
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::network::Network;
use eyeriss_gen::npy;
use eyeriss_gen::program::{self, Cmd, RowLimits};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn configs() -> PathBuf {
    root().join("configs")
}

// ---------------------------------------------------------------------------------------------
// Random TOML values

/// Integers where limits live, and anywhere else.
fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => prop::sample::select(vec![
            i64::MIN, -65537, -256, -2, -1, 0, 1, 2, 3, 4, 7, 8, 12, 14, 15, 16, 17, 24, 31, 32,
            33, 48, 63, 64, 65, 100, 255, 256, 1023, 1024, 1025, 4096, 16384, 16385, 65535,
            65536, 65537, 1 << 24, 1 << 28, (1 << 31) - 1, 1 << 31, (1 << 32) - 1, 1 << 32,
            1 << 40, i64::MAX - 1, i64::MAX,
        ]),
        1 => any::<i64>(),
        2 => -4i64..300,
    ]
}

/// Strings that mean something to the loaders, and random ones.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            ".",
            "..",
            "../../victim",
            "a/b",
            "x.npy",
            "eyeriss.toml",
            "small.toml",
            "nope.toml",
            "layers",
            "t",
            "conv1",
            "\0",
            "a b",
            "caf\u{e9}",
            "<i2",
        ])
        .prop_map(String::from),
        ".{0,12}",
        "[a-z_.]{1,10}",
    ]
}

fn leaf() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        4 => int().prop_map(toml::Value::Integer),
        1 => prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-0.0),
            Just(0.5),
            Just(1.0)
        ]
        .prop_map(toml::Value::Float),
        1 => any::<bool>().prop_map(toml::Value::Boolean),
        2 => string().prop_map(toml::Value::String),
    ]
}

/// A TOML value: a leaf, or arrays and tables of them a few levels deep.
fn value() -> impl Strategy<Value = toml::Value> {
    leaf().prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            3 => prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            1 => prop::collection::vec(("[a-z_]{1,6}", inner), 0..3)
                .prop_map(|kv| toml::Value::Table(kv.into_iter().collect())),
        ]
    })
}

/// What to do to one key of a table.
#[derive(Debug, Clone)]
enum Edit {
    Set(toml::Value),
    Remove,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        // mostly numbers near the limits, which pass the type checks and reach the others
        6 => int().prop_map(|i| Edit::Set(toml::Value::Integer(i))),
        4 => value().prop_map(Edit::Set),
        1 => Just(Edit::Remove),
    ]
}

fn apply(t: &mut toml::Table, key: &str, e: &Edit) {
    match e {
        Edit::Set(v) => {
            t.insert(key.to_string(), v.clone());
        }
        Edit::Remove => {
            t.remove(key);
        }
    }
}

fn text_of(t: &toml::Table) -> Option<String> {
    toml::to_string(t).ok()
}

/// Arbitrary text, weighted towards TOML-looking lines.
fn random_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        prop::collection::vec(
            prop_oneof![
                "\\[[a-z]{1,6}\\]",
                "\\[\\[layer\\]\\]",
                "[a-z_]{1,14} = [-0-9]{1,6}",
                "[a-z_]{1,14} = \"[a-z./]{0,8}\"",
                "[a-z_]{1,14} = \\[[0-9, ]{0,8}\\]",
                ".{0,20}",
            ],
            0..20
        )
        .prop_map(|lines| lines.join("\n")),
    ]
}

// ---------------------------------------------------------------------------------------------
// Configs

/// Every key of the chip config, by table ("" for the top level).
fn chip_table() -> toml::Table {
    std::fs::read_to_string(configs().join("eyeriss.toml"))
        .unwrap()
        .parse()
        .unwrap()
}

const CONFIG_KEYS: &[(&str, &str)] = &[
    ("", "name"),
    ("", "base"),
    ("", "extra"),
    ("array", "rows"),
    ("array", "cols"),
    ("pe", "filter_spad"),
    ("pe", "ifmap_spad"),
    ("pe", "psum_spad"),
    ("pe", "fifo_depth"),
    ("data", "data_width"),
    ("data", "psum_width"),
    ("glb", "kib"),
    ("glb", "banks"),
    ("glb", "bank_words"),
    ("glb", "word_bits"),
    ("glb", "ifmap_psum_banks"),
    ("glb", "filter_banks"),
    ("noc", "filter_gin_width"),
    ("noc", "ifmap_gin_width"),
    ("noc", "psum_gin_width"),
    ("noc", "gon_width"),
    ("noc", "ln_width"),
    ("noc", "row_id_bits"),
    ("noc", "filter_col_id_bits"),
    ("noc", "ifmap_col_id_bits"),
    ("noc", "psum_col_id_bits"),
    ("noc", "gon_col_id_bits"),
    ("noc", "stream_rows"),
    ("noc", "ifmap_stream_rows"),
    ("noc", "typo_bits"),
    ("host", "width"),
    ("host", "counter_bits"),
    ("fpga", "mult_pipeline"),
    ("fpga", "logic_mult_pes"),
    ("fpga", "shared_filter_spad"),
    ("array", ""),
    ("fpga", ""),
    ("noc", ""),
];

/// Load config text; an error must name a field, a key or the source.
fn check_config(text: &str) {
    match ArchConfig::from_toml_str(text, &configs()) {
        Ok(cfg) => {
            // what loads is valid, and hashes
            cfg.validate().unwrap();
            assert_eq!(cfg.hash().len(), 16);
        }
        Err(e) => {
            let msg = e.to_string();
            // a base that cannot be read is named by its path
            let named = msg.contains("<string>")
                || msg.starts_with("cannot read ")
                || CONFIG_KEYS
                    .iter()
                    .any(|(_, k)| !k.is_empty() && msg.contains(k));
            assert!(named, "an error that names nothing: {msg}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn config_random_text_never_panics(text in random_text()) {
        check_config(&text);
    }

    #[test]
    fn config_with_one_field_replaced_never_panics(
        edits in prop::collection::vec((prop::sample::select(CONFIG_KEYS), edit()), 1..3),
        based in any::<bool>(),
    ) {
        // the chip's table, or a preset over it (exercises the base merge)
        let mut t = if based {
            let mut t = toml::Table::new();
            t.insert("base".into(), toml::Value::String("eyeriss.toml".into()));
            t.insert("name".into(), toml::Value::String("preset".into()));
            t
        } else {
            chip_table()
        };
        for ((table, key), e) in &edits {
            if table.is_empty() {
                apply(&mut t, key, e);
            } else if key.is_empty() {
                apply(&mut t, table, e);
            } else {
                let sub = t
                    .entry(table.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(sub) = sub {
                    apply(sub, key, e);
                }
            }
        }
        if let Some(text) = text_of(&t) {
            check_config(&text);
        }
    }

    /// Any array size the config allows gets ID widths that pass validation and fit it.
    #[test]
    fn every_array_size_loads_with_derived_id_widths(rows in 1u32..=64, cols in 1u32..=64) {
        let text = format!(
            "base = \"eyeriss.toml\"\nname = \"a\"\n[array]\nrows = {rows}\ncols = {cols}\n"
        );
        let cfg = ArchConfig::from_toml_str(&text, &configs()).unwrap();
        let b = cfg.noc.id_bits();
        prop_assert_eq!(b, NocCfg::derived_id_bits(rows, cols));
        prop_assert!((1u32 << b.row) > rows);
        prop_assert!((1u32 << b.filter_col) > cols);
        prop_assert!((1u32 << b.ifmap_col) > rows + cols - 1);
        // the smallest that does: one bit fewer would not
        prop_assert!(b.row == 1 || (1u32 << (b.row - 1)) <= rows);
        prop_assert!(b.ifmap_col == 1 || (1u32 << (b.ifmap_col - 1)) < rows + cols);
    }
}

// ---------------------------------------------------------------------------------------------
// Layers and networks

const LAYER_KEYS: &[&str] = &[
    "name",
    "in_channels",
    "out_channels",
    "height",
    "width",
    "kernel_size",
    "stride",
    "padding",
    "groups",
    "batch",
    "shift",
    "relu",
    "seed",
    "zero_fraction",
    "ifmap",
    "weights",
    "dilation",
];

fn ok_layer() -> toml::Table {
    r#"
name = "t"
in_channels = 4
out_channels = 6
height = 8
width = 8
kernel_size = 3
stride = 1
padding = 1
groups = 2
batch = 2
shift = 4
relu = true
seed = 1
"#
    .parse()
    .unwrap()
}

/// A loaded layer must be usable: its shapes, MACs and (when small) its data.
fn check_loaded_layer(l: &ConvLayer) {
    l.validate().unwrap();
    let _ = l.macs();
    let elems = |s: [u64; 4]| s.iter().product::<u64>();
    let (ni, nw) = (elems(l.ifmap_shape()), elems(l.weights_shape()));
    assert!(ni <= 1 << 28 && nw <= 1 << 28 && elems(l.ofmap_shape()) <= 1 << 28);
    if ni + nw <= 20_000 {
        match l.tensors(16) {
            Ok(t) => {
                assert_eq!(t.ifmap.len() as u64, ni);
                assert_eq!(t.weights.len() as u64, nw);
            }
            // .npy data that is not there is named
            Err(e) => assert!(e.to_string().contains(".npy"), "{e}"),
        }
    }
}

fn layer_error_is_named(msg: &str) -> bool {
    msg.starts_with("layer ")
        || msg.contains("<string>")
        || msg.contains(".npy")
        || LAYER_KEYS.iter().any(|k| msg.contains(k))
}

fn check_layer(text: &str, dir: &Path) {
    match ConvLayer::from_toml_str(text, dir) {
        Ok(l) => check_loaded_layer(&l),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                layer_error_is_named(&msg),
                "an error that names nothing: {msg}"
            );
        }
    }
}

fn check_network(text: &str, dir: &Path) {
    match Network::from_toml_str(text, dir) {
        Ok(n) => {
            assert!(!n.layers.is_empty());
            for l in &n.layers {
                check_loaded_layer(l);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains("<string>") || msg.starts_with("network "),
                "an error that names nothing: {msg}"
            );
        }
    }
}

/// Small sizes, mostly in range (to reach the checks between fields), or anything.
fn size() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        12 => (1i64..9).prop_map(toml::Value::Integer),
        2 => (0i64..20).prop_map(toml::Value::Integer),
        2 => ((1i64..9), (0i64..9)).prop_map(|(a, b)| toml::Value::Array(vec![
            toml::Value::Integer(a),
            toml::Value::Integer(b)
        ])),
        1 => int().prop_map(toml::Value::Integer),
        1 => value(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn layer_random_text_never_panics(text in random_text()) {
        check_layer(&text, Path::new("."));
    }

    #[test]
    fn layer_with_fields_replaced_never_panics(
        edits in prop::collection::vec((prop::sample::select(LAYER_KEYS), edit()), 1..4),
    ) {
        let mut t = ok_layer();
        for (k, e) in &edits {
            apply(&mut t, k, e);
        }
        if let Some(text) = text_of(&t) {
            check_layer(&text, &root().join("layers"));
        }
    }

    /// Every size field near its limits at once: the checks between fields (groups, kernel
    /// against padded input, tensor sizes) see every combination.
    #[test]
    fn layer_with_sizes_replaced_never_panics(
        sizes in prop::collection::vec(size(), 9),
        data in prop_oneof![
            Just(0u8), Just(1), Just(2), Just(3)
        ],
        one_group in any::<bool>(),
    ) {
        let mut t = ok_layer();
        for (k, v) in [
            "in_channels", "out_channels", "height", "width", "kernel_size", "stride", "padding",
            "groups", "batch",
        ]
        .iter()
        .zip(sizes)
        {
            t.insert(k.to_string(), v);
        }
        if one_group {
            t.insert("groups".into(), toml::Value::Integer(1));
        }
        // seeded, or the example .npy files (which fit only some shapes), or half of them
        match data {
            1 | 2 => {
                t.remove("seed");
                t.insert("ifmap".into(), toml::Value::String("npy_example_ifmap.npy".into()));
                if data == 1 {
                    t.insert(
                        "weights".into(),
                        toml::Value::String("npy_example_weights.npy".into()),
                    );
                }
            }
            3 => {
                t.insert("zero_fraction".into(), toml::Value::Float(0.25));
            }
            _ => {}
        }
        if let Some(text) = text_of(&t) {
            check_layer(&text, &root().join("layers"));
        }
    }

    #[test]
    fn network_random_text_never_panics(text in random_text()) {
        check_network(&text, Path::new("."));
    }

    #[test]
    fn network_with_fields_replaced_never_panics(
        top in prop::collection::vec((prop::sample::select(LAYER_KEYS), edit()), 0..3),
        per_layer in prop::collection::vec(
            (0usize..3, prop::sample::select(LAYER_KEYS), edit()), 0..4),
        name in prop_oneof![Just(toml::Value::String("net".into())), value()],
        layers in prop_oneof![Just(None), value().prop_map(Some)],
    ) {
        let text = std::fs::read_to_string(root().join("tests/fixtures/small_net.toml")).unwrap();
        let mut t: toml::Table = text.parse().unwrap();
        t.insert("name".into(), name);
        for (k, e) in &top {
            apply(&mut t, k, e);
        }
        if let Some(toml::Value::Array(ls)) = t.get_mut("layer") {
            for (i, k, e) in &per_layer {
                if let Some(toml::Value::Table(l)) = ls.get_mut(*i) {
                    apply(l, k, e);
                }
            }
        }
        if let Some(v) = layers {
            t.insert("layer".into(), v);
        }
        if let Some(text) = text_of(&t) {
            check_network(&text, &root().join("layers"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// .npy files

/// Read bytes as an `.npy` file; what is refused names the file, what is read is whole.
fn check_npy(bytes: &[u8]) -> Option<npy::IntArray> {
    let path = Path::new("fuzz.npy");
    match npy::parse_int(path, bytes) {
        Ok(a) => {
            let n = a.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
            assert_eq!(n, Some(a.data.len() as u64), "{:?}", a.shape);
            Some(a)
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.npy: "), "{msg}");
            None
        }
    }
}

/// The element types the reader takes: (descr, bytes, signed, big-endian).
const INT_TYPES: &[(&str, usize, bool, bool)] = &[
    ("|i1", 1, true, false),
    ("<i1", 1, true, false),
    ("|u1", 1, false, false),
    ("<i2", 2, true, false),
    (">i2", 2, true, true),
    ("<u2", 2, false, false),
    (">u2", 2, false, true),
    ("<i4", 4, true, false),
    (">i4", 4, true, true),
    ("<u4", 4, false, false),
    ("<i8", 8, true, false),
    (">i8", 8, true, true),
];

/// The value a reader must find in `b` (an independent decoding).
fn reference(b: &[u8], signed: bool, big: bool) -> i64 {
    let mut v: u64 = 0;
    let bytes: Vec<u8> = if big {
        b.to_vec()
    } else {
        b.iter().rev().copied().collect()
    };
    for &x in &bytes {
        v = v << 8 | u64::from(x);
    }
    let bits = 8 * b.len() as u32;
    if signed && bits < 64 && v >> (bits - 1) & 1 == 1 {
        (v | !((1u64 << bits) - 1)) as i64
    } else {
        v as i64
    }
}

fn dims() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(
        prop_oneof![
            8 => 0u64..5,
            1 => prop::sample::select(vec![7u64, 1 << 32, 1 << 63, u64::MAX]),
        ],
        0..5,
    )
}

fn shape_text(d: &[u64]) -> String {
    match d {
        [x] => format!("({x},)"),
        _ => format!(
            "({})",
            d.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn npy_random_bytes_never_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            prop::collection::vec(any::<u8>(), 0..200).prop_map(|rest| {
                let mut b = b"\x93NUMPY".to_vec();
                b.extend(rest);
                b
            }),
        ],
    ) {
        check_npy(&bytes);
    }

    /// A valid header of any shape and order with a body of the right or a wrong length:
    /// read exactly when the length is right, and then every element is where C order puts it.
    #[test]
    fn npy_valid_headers_with_any_body_are_read_right_or_refused(
        ty in prop::sample::select(INT_TYPES),
        fortran in any::<bool>(),
        shape in dims(),
        body in prop::collection::vec(any::<u8>(), 0..600),
        exact in any::<bool>(),
    ) {
        let (descr, size, signed, big) = ty;
        // the reader's rule: the sizes other than 0 multiply out in 64 bits
        let fits = shape
            .iter()
            .filter(|&&d| d > 0)
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .is_some();
        let n = shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .filter(|_| fits);
        let mut body = body;
        let want = n.and_then(|n| n.checked_mul(size as u64)).filter(|&b| b <= 100_000);
        if let (true, Some(want)) = (exact, want) {
            body.resize(want as usize, 0x5a);
        }
        let order = if fortran { "True" } else { "False" };
        let dict = format!(
            "{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {}, }}",
            shape_text(&shape)
        );
        let got = check_npy(&inputs::npy_raw(&dict, &body));
        if want == Some(body.len() as u64) {
            let a = got.expect("a well-formed file must be read");
            prop_assert_eq!(&a.shape, &shape);
            // element k of C order at its multi-index, in the file's order
            let d: Vec<usize> = shape.iter().map(|&x| x as usize).collect();
            for (k, &v) in a.data.iter().enumerate() {
                let mut idx = vec![0usize; d.len()];
                let mut rest = k;
                for j in (0..d.len()).rev() {
                    idx[j] = rest % d[j];
                    rest /= d[j];
                }
                let mut at = 0usize;
                if fortran {
                    for j in (0..d.len()).rev() {
                        at = at * d[j] + idx[j];
                    }
                } else {
                    for j in 0..d.len() {
                        at = at * d[j] + idx[j];
                    }
                }
                let b = &body[at * size..(at + 1) * size];
                prop_assert_eq!(v, reference(b, signed, big));
            }
        } else {
            prop_assert!(got.is_none(), "a body of the wrong length was read");
        }
    }

    /// Headers with one part replaced by something else.
    #[test]
    fn npy_mutated_headers_never_panic(
        descr in prop_oneof![
            prop::sample::select(vec![
                "'<i2'", "'>i2'", "'<f4'", "'|b1'", "'=i2'", "'|i2'", "'<i3'", "''", "'<'",
                "'<<i2'", "'i'", "'<U2'", "'|O'", "[('a', '<i2')]", "[]", "3", "None", "'\\''",
                "'<i99999999999999999999'", "'\u{e9}'",
            ])
            .prop_map(String::from),
            "'.{0,6}'",
        ],
        fortran in prop::sample::select(vec!["True", "False", "1", "None", "'x'", "(True,)"]),
        shape in prop_oneof![
            dims().prop_map(|d| shape_text(&d)),
            prop::sample::select(vec![
                "()", "[]", "(-1,)", "(1.5,)", "(2L, 3L)", "(1, (2,))", "5", "None",
                "(99999999999999999999999999999999999999999,)", "((((((((((((((((((1))))))))))))))))))",
            ])
            .prop_map(String::from),
        ],
        extra in prop_oneof![
            Just(String::new()),
            Just("'extra': 1, ".to_string()),
            Just("'shape': (1,), ".to_string()),
            "[ -~]{0,10}",
        ],
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let dict = format!(
            "{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, {extra}}}"
        );
        check_npy(&inputs::npy_raw(&dict, &body));
    }

    /// A valid file with a few bytes anywhere changed, cut short or extended.
    #[test]
    fn npy_valid_files_with_bytes_changed_never_panic(
        ty in prop::sample::select(INT_TYPES),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
        tail in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let body = vec![1u8; 2 * 3 * 4 * ty.1];
        let mut b = inputs::npy_raw(
            &format!("{{'descr': '{}', 'fortran_order': False, 'shape': (2, 3, 4), }}", ty.0),
            &body,
        );
        for (at, byte) in &flips {
            let i = at.index(b.len());
            b[i] = *byte;
        }
        if let Some(c) = cut {
            b.truncate(c.index(b.len() + 1));
        }
        b.extend(&tail);
        check_npy(&b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A layer's .npy data, valid or with a byte changed, cut or in another order: the layer
    /// reads it whole or names the file.
    #[test]
    fn layer_npy_data_fuzzed_never_panics(
        ty in prop::sample::select(INT_TYPES),
        fortran in any::<bool>(),
        ishape in prop_oneof![
            4 => Just("(1, 2, 4, 4)".to_string()),
            1 => dims().prop_map(|d| shape_text(&d)),
        ],
        fill in any::<u8>(),
        flip in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
        cut in prop::option::of(0usize..8),
        bits in prop::sample::select(vec![4u32, 8, 16]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let order = if fortran { "True" } else { "False" };
        let mut ifmap = inputs::npy_raw(
            &format!("{{'descr': '{}', 'fortran_order': {order}, 'shape': {ishape}, }}", ty.0),
            &vec![fill; 32 * ty.1],
        );
        if let Some((at, b)) = flip {
            let i = at.index(ifmap.len());
            ifmap[i] = b;
        }
        if let Some(c) = cut {
            ifmap.truncate(ifmap.len().saturating_sub(c));
        }
        std::fs::write(dir.path().join("i.npy"), &ifmap).unwrap();
        npy::write_i16(&dir.path().join("w.npy"), &[3, 2, 2, 2], &[1; 24]).unwrap();
        let text = "name = \"n\"\nin_channels = 2\nout_channels = 3\nheight = 4\nwidth = 4\n\
                    kernel_size = 2\nifmap = \"i.npy\"\nweights = \"w.npy\"\n";
        let l = ConvLayer::from_toml_str(text, dir.path()).unwrap();
        match l.tensors(bits) {
            Ok(t) => prop_assert_eq!(t.ifmap.len(), 32),
            Err(e) => prop_assert!(e.to_string().contains("i.npy"), "{}", e),
        }
    }
}

/// A file on disk that is not a regular file is refused, not read forever.
#[test]
fn npy_that_is_not_a_regular_file_is_refused() {
    let e = npy::read_int(Path::new("/dev/zero"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot read /dev/zero: "), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let e = npy::read_int(dir.path()).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Programs

const LIMITS: RowLimits = RowLimits {
    rows: 32,
    ifmap_rows: 64,
    len_bits: 17,
};

fn sample_program() -> Vec<u64> {
    program::encode(&inputs::sample_commands())
}

/// Decode words; a refusal names a word of the program, and what decodes re-encodes to
/// words that decode to the same commands.
fn check_program(words: &[u64]) {
    match program::decode(words, LIMITS) {
        Ok(cmds) => {
            let again = program::encode(&cmds);
            assert_eq!(program::decode(&again, LIMITS).unwrap(), cmds);
            let answers: usize = cmds.iter().map(Cmd::response_words).sum();
            assert!(answers <= cmds.len() * (1 << 24));
        }
        Err(e) => {
            let msg = e.to_string();
            let index: usize = msg
                .strip_prefix("word ")
                .and_then(|m| m.split(':').next())
                .and_then(|i| i.parse().ok())
                .unwrap_or_else(|| panic!("an error that names no word: {msg}"));
            assert!(index < words.len(), "{msg}");
        }
    }
}

/// Words whose opcode is mostly a real one, so the decoder's field checks are reached.
fn word() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => any::<u64>(),
        3 => (0u64..=0x0D, any::<u64>(), 0u32..57).prop_map(|(op, low, keep)| {
            // a real opcode over a random payload, often with the high payload bits clear
            let mask = if keep == 56 { (1u64 << 56) - 1 } else { (1u64 << keep) - 1 };
            op << 56 | (low & mask)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn program_random_words_never_panic(words in prop::collection::vec(word(), 0..40)) {
        check_program(&words);
    }

    #[test]
    fn program_with_words_changed_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), word(), 0u32..64), 1..4),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let mut w = sample_program();
        for (at, new, bit) in &edits {
            let i = at.index(w.len());
            // either one bit flipped or the word replaced
            w[i] = if bit % 2 == 0 { w[i] ^ (1 << bit) } else { *new };
        }
        if let Some(c) = cut {
            w.truncate(c.index(w.len() + 1));
        }
        check_program(&w);
    }

    #[test]
    fn program_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        match program::from_bytes(&bytes) {
            Ok(words) => {
                prop_assert_eq!(words.len() * 8, bytes.len());
                check_program(&words);
            }
            Err(e) => prop_assert!(e.to_string().contains(&bytes.len().to_string())),
        }
    }
}
