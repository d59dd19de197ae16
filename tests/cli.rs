//! The command line as a user meets it: `sim --dump` writes the documented files, `sim --uart`
//! runs through the board top, exit codes, and errors that name the problem.

use std::path::PathBuf;
use std::process::Command;

use eyeriss_gen::npy;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn eyeriss_gen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn sim_dump_writes_tensors_program_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("run");
    let out = eyeriss_gen(&[
        "sim",
        "--config",
        "configs/small.toml",
        "--layer",
        "layers/batch2_relu.toml",
        "--dump",
        dump.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("MATCH: ofmap is bit-exact"), "{text}");
    // batch 2, 3 -> 4 channels, 7 x 7 input, 3 x 3 kernel: 5 x 5 ofmap
    let i = npy::read_int(&dump.join("ifmap.npy")).unwrap();
    let w = npy::read_int(&dump.join("weights.npy")).unwrap();
    let o = npy::read_int(&dump.join("ofmap.npy")).unwrap();
    assert_eq!(i.shape, [2, 3, 7, 7]);
    assert_eq!(w.shape, [4, 3, 3, 3]);
    assert_eq!(o.shape, [2, 4, 5, 5]);
    assert!(o.data.iter().all(|&v| v >= 0), "ReLU");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dump.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["matches"], true);
    assert!(stats["cycles"].as_u64().unwrap() > 0);
    assert_eq!(
        stats["counters"]["busy_pe_cycles"].as_u64(),
        Some(2 * 4 * 25 * 27)
    );
    assert_eq!(stats["config_hash"].as_str().unwrap().len(), 16);
    let words = std::fs::metadata(dump.join("program.bin")).unwrap().len();
    assert_eq!(words % 8, 0);
    // the marker that lets the next run replace it, and nothing else left behind beside it
    assert!(dump.join(eyeriss_gen::output::MARKER).is_file());
    assert_eq!(std::fs::read_dir(&dump).unwrap().count(), 6);
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

/// Run `verb` on a layer file with `text` and expect exit code 2; returns stderr.
fn refused(verb: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("layer.toml");
    std::fs::write(&layer, text).unwrap();
    let out = eyeriss_gen(&[
        verb,
        "--config",
        "configs/small.toml",
        "--layer",
        layer.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_layer_that_cannot_run_is_refused_with_exit_2() {
    let err = refused(
        "map",
        "name = \"wide\"\nin_channels = 1\nout_channels = 1\nheight = 3\nwidth = 5000\nkernel_size = 3\nseed = 1\n",
    );
    assert!(
        err.contains("cannot run on config 'small'") && err.contains("exceeds 4095"),
        "{err}"
    );
}

#[test]
fn a_bad_layer_file_names_the_field() {
    let err = refused(
        "sim",
        "name = \"bad\"\nin_channels = 6\nout_channels = 4\nheight = 5\nwidth = 5\nkernel_size = 3\ngroups = 4\nseed = 1\n",
    );
    assert!(
        err.contains("in_channels = 6: must be divisible by groups (4)"),
        "{err}"
    );
}

#[test]
fn sim_uart_runs_a_layer_through_the_board_top() {
    let out = eyeriss_gen(&[
        "sim",
        "--config",
        "configs/small.toml",
        "--layer",
        "layers/tiny.toml",
        "--uart",
        "--json",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["backend"], "verilator-uart");
    assert_eq!(v["matches"], true);
    assert_eq!(v["link"]["status"], 0);
    assert_eq!(
        v["link"]["bytes_to_board"].as_u64(),
        v["program_words"].as_u64().map(|w| 8 * w)
    );

    // A UART host cannot refuse bytes: --stall-out makes no sense with --uart.
    let out = eyeriss_gen(&[
        "sim",
        "--config",
        "configs/small.toml",
        "--layer",
        "layers/tiny.toml",
        "--uart",
        "--stall-out",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--stall-out"));
}

/// `sim --backend rust-hdl` on a layer, with `--vcd`: the match line names the backend, the
/// waveform is written; errors name what is wrong, once: an unwritable waveform path, a
/// config the model does not cover, `--uart`.
#[test]
fn sim_on_the_rust_hdl_backend_writes_a_waveform() {
    let dir = tempfile::tempdir().unwrap();
    let vcd = dir.path().join("tiny.vcd");
    let sim = |extra: &[&str]| {
        let mut args = vec![
            "sim",
            "--config",
            "configs/small.toml",
            "--layer",
            "layers/tiny.toml",
            "--backend",
            "rust-hdl",
        ];
        args.extend_from_slice(extra);
        eyeriss_gen(&args)
    };
    let out = sim(&["--vcd", vcd.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("rust-hdl): MATCH"), "{stdout}");
    let wave = std::fs::read_to_string(&vcd).unwrap();
    assert!(wave.contains("$scope module eyeriss_top $end"));
    assert!(wave.contains("$var wire 1 ! clk $end"));

    let out = sim(&["--vcd", "/nonexistent-dir/x.vcd"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains(
            "/nonexistent-dir/x.vcd cannot be an output path: its directory does not exist"
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    let out = sim(&["--uart"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--uart needs --backend verilator"));

    let out = eyeriss_gen(&[
        "sim",
        "--config",
        "configs/ecp5_small.toml",
        "--layer",
        "layers/tiny.toml",
        "--backend",
        "rust-hdl",
    ]);
    // the rust-hdl model covers the ECP5 options (mult_pipeline, logic_mult_pes) too
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("rust-hdl): MATCH"), "{stdout}");
}
