//! What the tool may write, as a user meets it: every verb that writes a directory replaces only
//! a directory it wrote itself (the marker), refuses a user's directory without `--force`, a
//! file, a link and the working directory, leaves nothing behind when it fails or is
//! interrupted; `--vcd` refuses a path it could not write before the run; flags that cannot
//! be honoured fail with exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eyeriss_gen::output::MARKER;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn eyeriss_gen_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Names in `dir` (hidden ones too), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn cfg(name: &str) -> String {
    root().join("configs").join(name).display().to_string()
}

fn layer(name: &str) -> String {
    root().join("layers").join(name).display().to_string()
}

fn net(name: &str) -> String {
    root().join(name).display().to_string()
}

/// One verb's command line writing to `out`, each on something small.
fn verb_args(verb: &str, out: &str) -> Vec<String> {
    let v: Vec<String> = match verb {
        "generate" => vec!["generate", "--config", &cfg("small.toml"), "--out", out]
            .into_iter()
            .map(String::from)
            .collect(),
        "sim --dump" => vec![
            "sim".into(),
            "--config".into(),
            cfg("small.toml"),
            "--layer".into(),
            layer("tiny.toml"),
            "--backend".into(),
            "rust-hdl".into(),
            "--dump".into(),
            out.into(),
        ],
        "report" => vec![
            "report".into(),
            "--config".into(),
            cfg("small.toml"),
            "--network".into(),
            net("tests/fixtures/small_net.toml"),
            "--out".into(),
            out.into(),
        ],
        "compare" => vec![
            "compare".into(),
            "--network".into(),
            net("tests/fixtures/small_net.toml"),
            "--batches".into(),
            "1".into(),
            "--out".into(),
            out.into(),
        ],
        other => panic!("no such verb {other}"),
    };
    v
}

const VERBS: [&str; 4] = ["generate", "sim --dump", "report", "compare"];

fn run_verb(cwd: &Path, verb: &str, out: &str, extra: &[&str]) -> Output {
    let mut args = verb_args(verb, out);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    eyeriss_gen_in(cwd, &args)
}

#[test]
fn every_verb_replaces_only_its_own_output() {
    for verb in VERBS {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();

        // A new directory: written, with the marker.
        let o = run_verb(d, verb, "out", &[]);
        assert!(o.status.success(), "{verb}: {}", stderr(&o));
        assert!(d.join("out").join(MARKER).is_file(), "{verb}: marker");
        // Written by the tool: replaced whole (a file the user slipped in goes too), and
        // nothing but the output is left beside it.
        std::fs::write(d.join("out/extra.txt"), "x").unwrap();
        let o = run_verb(d, verb, "out", &[]);
        assert!(o.status.success(), "{verb}: {}", stderr(&o));
        assert!(!d.join("out/extra.txt").exists(), "{verb}: replaced whole");
        assert_eq!(listing(d), ["out"], "{verb}: nothing left beside");

        // A user's directory: refused, untouched, with --force as the hint; --force replaces it.
        std::fs::create_dir(d.join("mine")).unwrap();
        std::fs::write(d.join("mine/keep.v"), "module keep; endmodule\n").unwrap();
        let o = run_verb(d, verb, "mine", &[]);
        assert_eq!(o.status.code(), Some(2), "{verb}");
        let e = stderr(&o);
        assert!(
            e.contains("mine holds files eyeriss-gen did not write") && e.contains("--force"),
            "{verb}: {e}"
        );
        assert_eq!(listing(&d.join("mine")), ["keep.v"], "{verb}: untouched");
        let o = run_verb(d, verb, "mine", &["--force"]);
        assert!(o.status.success(), "{verb}: {}", stderr(&o));
        assert!(!d.join("mine/keep.v").exists() && d.join("mine").join(MARKER).is_file());

        // An empty directory is written.
        std::fs::create_dir(d.join("empty")).unwrap();
        let o = run_verb(d, verb, "empty", &[]);
        assert!(o.status.success(), "{verb}: {}", stderr(&o));

        // A file: refused before anything is renamed or written, even with --force.
        std::fs::write(d.join("afile"), "mine").unwrap();
        for extra in [&[][..], &["--force"][..]] {
            let o = run_verb(d, verb, "afile", extra);
            assert_eq!(o.status.code(), Some(2), "{verb}");
            assert!(
                stderr(&o).contains("afile is a file"),
                "{verb}: {}",
                stderr(&o)
            );
            assert_eq!(std::fs::read_to_string(d.join("afile")).unwrap(), "mine");
        }

        // A symbolic link, the working directory and its parent: refused.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("out"), d.join("link")).unwrap();
            let o = run_verb(d, verb, "link", &[]);
            assert!(
                stderr(&o).contains("is a symbolic link"),
                "{verb}: {}",
                stderr(&o)
            );
        }
        for cwd_like in [".", "..", "out/.."] {
            let o = run_verb(d, verb, cwd_like, &["--force"]);
            assert_eq!(o.status.code(), Some(2), "{verb} {cwd_like}");
            assert!(
                stderr(&o).contains("is the working directory or holds it"),
                "{verb} {cwd_like}: {}",
                stderr(&o)
            );
        }
        let mut want = vec!["afile", "empty", "mine", "out"];
        if cfg!(unix) {
            want.insert(2, "link");
        }
        assert_eq!(listing(d), want, "{verb}: no temporary left behind");
    }
}

#[test]
fn a_failed_run_leaves_the_earlier_output_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = run_verb(d, "report", "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(d.join("out/report.json")).unwrap();
    // A layer that cannot run on the config: refused, and the earlier report is still there.
    std::fs::write(
        d.join("net.toml"),
        "name = \"wide\"\nseed = 1\n[[layer]]\nname = \"w\"\nin_channels = 1\nout_channels = 1\nheight = 3\nwidth = 5000\nkernel_size = 1\n",
    )
    .unwrap();
    let o = eyeriss_gen_in(
        d,
        &[
            "report",
            "--config",
            &cfg("small.toml"),
            "--network",
            "net.toml",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert_eq!(std::fs::read(d.join("out/report.json")).unwrap(), before);
    assert_eq!(listing(d), ["net.toml", "out"]);
}

#[test]
fn vcd_paths_are_refused_before_the_run_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for backend in ["verilator", "rust-hdl"] {
        let sim = |vcd: &str| {
            eyeriss_gen_in(
                d,
                &[
                    "sim",
                    "--config",
                    &cfg("small.toml"),
                    "--layer",
                    &layer("tiny.toml"),
                    "--backend",
                    backend,
                    "--vcd",
                    vcd,
                ],
            )
        };
        let o = sim("missing/x.vcd");
        assert_eq!(o.status.code(), Some(2), "{backend}");
        assert!(
            stderr(&o)
                .contains("missing/x.vcd cannot be an output path: its directory does not exist"),
            "{backend}: {}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty(), "{backend}: refused before the run");
        std::fs::create_dir_all(d.join("adir")).unwrap();
        let o = sim("adir");
        assert_eq!(o.status.code(), Some(2), "{backend}");
        assert!(stderr(&o).contains("it is a directory"), "{backend}");
        let o = sim("w.vcd");
        assert!(o.status.success(), "{backend}: {}", stderr(&o));
        let wave = std::fs::read_to_string(d.join("w.vcd")).unwrap();
        assert!(wave.contains("$enddefinitions"), "{backend}");
        assert_eq!(
            listing(d),
            ["adir", "w.vcd"],
            "{backend}: no temporary left"
        );
        std::fs::remove_file(d.join("w.vcd")).unwrap();
    }
}

#[test]
fn map_explain_exits_2_on_a_layer_that_cannot_run_and_json_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("net.toml"),
        "name = \"mixed\"\nseed = 1\n[[layer]]\nname = \"ok\"\nin_channels = 2\nout_channels = 2\nheight = 6\nwidth = 6\nkernel_size = 3\n[[layer]]\nname = \"wide\"\nin_channels = 1\nout_channels = 1\nheight = 3\nwidth = 5000\nkernel_size = 1\n",
    )
    .unwrap();
    let small = cfg("small.toml");
    let map = |extra: &[&str]| {
        let mut args = vec!["map", "--config", &small, "--network", "net.toml"];
        args.extend_from_slice(extra);
        eyeriss_gen_in(d, &args)
    };
    let o = map(&["--explain"]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.contains("wide: cannot run: "), "{out}");
    assert!(out.contains("ok: why not larger"), "{out}");
    assert!(
        stderr(&o).contains("1 of 2 layers cannot run"),
        "{}",
        stderr(&o)
    );

    let o = map(&["--explain", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON alone");
    let layers = v.as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["layer"], "ok");
    assert!(!layers[0]["why_not_larger"].as_array().unwrap().is_empty());
    assert!(
        layers[1]["cannot_run"]
            .as_str()
            .unwrap()
            .contains("ofmap width")
    );

    let o = map(&["--json", "--layers", "ok"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON alone");
    assert!(v[0].get("why_not_larger").is_none());
}

#[test]
fn the_map_table_has_a_header_for_every_column() {
    let o = eyeriss_gen_in(
        &root(),
        &[
            "map",
            "--config",
            "configs/small.toml",
            "--layer",
            "layers/tiny.toml",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines().skip(1);
    let header = lines.next().unwrap();
    let row = lines.next().unwrap();
    assert!(row.starts_with("tiny"), "{out}");
    assert_eq!(
        header.split_whitespace().count(),
        // "GLB words" is two words
        row.split_whitespace().count() + 1,
        "{out}"
    );
}

#[test]
fn layer_lists_must_name_layers() {
    for (list, want) in [
        ("", "--layers is empty"),
        (" , ", "--layers is empty"),
        ("conv1,,conv2", "has an empty name"),
        ("conv1,conv1", "names 'conv1' twice"),
    ] {
        let o = eyeriss_gen_in(
            &root(),
            &[
                "map",
                "--config",
                "configs/eyeriss.toml",
                "--network",
                "networks/alexnet.toml",
                "--layers",
                list,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{list:?}");
        assert!(stderr(&o).contains(want), "{list:?}: {}", stderr(&o));
    }
}

#[test]
fn degenerate_energy_tables_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            "name = \"z\"\nunit = \"pJ\"\ndram = 0\nglb = 0\narray = 0\nrf = 0\nmac = 0\n",
            "every cost is 0",
        ),
        (
            "name = \"z\"\nunit = \"\"\ndram = 1\nglb = 0\narray = 0\nrf = 0\nmac = 0\n",
            "unit = \"\"",
        ),
    ] {
        let t = dir.path().join("t.toml");
        std::fs::write(&t, text).unwrap();
        let o = eyeriss_gen_in(
            &root(),
            &[
                "compare",
                "--network",
                "tests/fixtures/small_net.toml",
                "--energy",
                t.to_str().unwrap(),
                "--out",
                dir.path().join("out").to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
        assert!(!dir.path().join("out").exists());
    }
}

/// Ctrl-C (or SIGTERM, or SIGHUP when the terminal goes) in the middle of a run: the staging
/// directory goes, the earlier output stays, the exit status is 130.
#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_temporary_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = run_verb(d, "sim --dump", "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(d.join("out/stats.json")).unwrap();
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // A layer the rust-hdl model takes several seconds over.
        let mut child = Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
            .current_dir(d)
            .args([
                "sim",
                "--config",
                &cfg("small.toml"),
                "--layer",
                &layer("chip_conv3x3.toml"),
                "--backend",
                "rust-hdl",
                "--dump",
                "out",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the staging directory exists, then interrupt.
        let staged = || listing(d).iter().any(|n| n.starts_with(".eyeriss-gen-"));
        let t = std::time::Instant::now();
        while !staged() {
            assert!(t.elapsed().as_secs() < 30, "no staging directory appeared");
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before it was interrupted"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // SAFETY: kill(2) on the child's pid, which is alive (try_wait said so).
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(130),
            "signal {signal}: {}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
        assert_eq!(listing(d), ["out"], "signal {signal}");
        assert_eq!(std::fs::read(d.join("out/stats.json")).unwrap(), before);
    }
}

#[test]
fn fpga_refuses_a_users_directory_before_any_tool_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/notes.txt"), "mine").unwrap();
    std::fs::write(d.join("afile"), "mine").unwrap();
    for (out, want) in [
        ("mine", "mine holds files eyeriss-gen did not write"),
        ("afile", "afile is a file"),
    ] {
        let o = eyeriss_gen_in(
            d,
            &[
                "fpga",
                "--config",
                &cfg("ice40_1x1.toml"),
                "--board",
                "hx8k_breakout",
                "--out",
                out,
            ],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
    }
    assert_eq!(listing(d), ["afile", "mine"]);
    assert_eq!(listing(&d.join("mine")), ["notes.txt"]);
}

/// The bar a run is given follows the simulated cycles on both backends (a 74,000-cycle
/// layer on Verilator, which reports every 65,536 cycles; a 5,900-cycle one on rust-hdl, every
/// 4,096), and the progress lines never reach the output the tool parses.
#[test]
fn runs_report_their_cycles_to_the_progress_bar() {
    use eyeriss_gen::config::ArchConfig;
    use eyeriss_gen::layer::ConvLayer;
    use eyeriss_gen::sim::Backend;
    use eyeriss_gen::sim::RunOpts;
    use eyeriss_gen::sim::rusthdl::RustHdlSim;
    use eyeriss_gen::sim::verilator::VerilatorSim;
    let cfg = ArchConfig::load(&root().join("configs/small.toml")).unwrap();
    let long = ConvLayer::from_toml_str(
        "name = \"long\"\nin_channels = 16\nout_channels = 32\nheight = 13\nwidth = 13\nkernel_size = 3\npadding = 1\nseed = 2\n",
        &root(),
    )
    .unwrap();
    let mid = ConvLayer::from_toml_str(
        "name = \"mid\"\nin_channels = 4\nout_channels = 8\nheight = 13\nwidth = 13\nkernel_size = 3\npadding = 1\nseed = 2\n",
        &root(),
    )
    .unwrap();
    let verilator = VerilatorSim::build(&cfg, false).unwrap();
    let rusthdl = RustHdlSim::new(&cfg).unwrap();
    let cases: [(&dyn Backend, &ConvLayer, u64); 2] =
        [(&verilator, &long, 65_536), (&rusthdl, &mid, 4_096)];
    for (sim, l, every) in cases {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_length(10);
        let opts = RunOpts {
            progress: Some(bar.clone()),
            ..RunOpts::default()
        };
        let r = eyeriss_gen::run::run_layer(
            &cfg,
            l,
            l.tensors(cfg.data.data_width).unwrap(),
            sim,
            &opts,
        )
        .unwrap();
        assert!(r.stats.matches, "{}", sim.name());
        let cycles = r.stats.harness_cycles;
        assert!(
            cycles > every,
            "{}: the layer must outlast one report",
            sim.name()
        );
        assert_eq!(bar.position(), cycles / every * every, "{}", sim.name());
        assert!(
            bar.length().unwrap() >= bar.position(),
            "stretched past the prediction"
        );
    }
}

#[test]
fn progress_stays_off_stdout_and_json_stays_json() {
    let o = eyeriss_gen_in(
        &root(),
        &[
            "sim",
            "--config",
            "configs/small.toml",
            "--network",
            "tests/fixtures/small_net.toml",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON alone");
    assert_eq!(v.as_array().unwrap().len(), 3);
    // stderr is not a terminal here: no bar is drawn on it either.
    assert!(!stderr(&o).contains("cycles predicted"), "{}", stderr(&o));
}

/// A board file's name becomes output paths and its pin file is copied into the output: both
/// must be plain names, refused before any file is read or written.
#[test]
fn board_files_name_no_paths() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shipped = std::fs::read_to_string(root().join("constraints/hx8k_breakout.toml")).unwrap();
    std::fs::copy(
        root().join("constraints/hx8k_breakout.pcf"),
        d.join("pins.pcf"),
    )
    .unwrap();
    let pins_line = shipped
        .lines()
        .find(|l| l.starts_with("pins"))
        .unwrap()
        .to_string();
    let name_line = shipped
        .lines()
        .find(|l| l.starts_with("name"))
        .unwrap()
        .to_string();
    for (name, pins, want) in [
        (
            "\"../../escape\"",
            "\"pins.pcf\"",
            "name = \"../../escape\"",
        ),
        ("\"mine\"", "\"../pins.pcf\"", "pins = \"../pins.pcf\""),
    ] {
        let text = shipped
            .replace(&name_line, &format!("name = {name}"))
            .replace(&pins_line, &format!("pins = {pins}"));
        std::fs::write(d.join("b.toml"), text).unwrap();
        let o = eyeriss_gen_in(
            d,
            &[
                "fpga",
                "--config",
                &cfg("ice40_1x1.toml"),
                "--board",
                "./b.toml",
            ],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
        assert!(stderr(&o).contains("path separator"), "{}", stderr(&o));
    }
    assert_eq!(listing(d), ["b.toml", "pins.pcf"]);
}

/// `compare` without `--network` runs AlexNet from any working directory.
#[test]
fn compare_defaults_to_alexnet_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = eyeriss_gen_in(
        dir.path(),
        &[
            "compare",
            "--batches",
            "1",
            "--layers",
            "conv1",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("'alexnet'"), "{}", stdout(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/compare.json")).unwrap())
            .unwrap();
    assert_eq!(v["network"], "alexnet");
}

/// The committed `rtl_out/eyeriss` is what `generate` makes of `configs/eyeriss.toml` now:
/// a template change without a regenerated `rtl_out` fails here, naming the stale file.
#[test]
fn committed_rtl_out_is_current() {
    let cfg = eyeriss_gen::config::ArchConfig::load(&root().join("configs/eyeriss.toml"))
        .expect("config loads");
    let dir = root().join("rtl_out").join(&cfg.name);
    let files = eyeriss_gen::emit::render(&cfg).expect("renders");
    for f in &files {
        let on_disk = std::fs::read_to_string(dir.join(&f.path)).unwrap_or_default();
        assert!(
            on_disk == f.contents,
            "rtl_out/{}/{} is stale: run `eyeriss-gen generate --config configs/eyeriss.toml`",
            cfg.name,
            f.path
        );
    }
}
