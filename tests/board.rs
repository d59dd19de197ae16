//! `eyeriss-gen board` against the Verilator model of the board top serving its UART on a
//! pseudo-terminal (`sim --uart --pty`, [`VerilatorSim::serve_pty`]): the very bytes a board
//! would see, through the operating system's serial layer. Each test has a model of its own
//! (one build, shared); the board resets by a break at the start of every run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use eyeriss_gen::board::{Board, BoardBackend, BoardError, BoardOpts};
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::fpga::uart::{self, DEFAULT_BAUD, SIM_DIVISOR};
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::program::Counter;
use eyeriss_gen::run;
use eyeriss_gen::sim::verilator::{PtyServer, VerilatorSim};
use eyeriss_gen::sim::{RunOpts, SimError};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn small() -> ArchConfig {
    ArchConfig::load(&root().join("configs/small.toml")).expect("config loads")
}

fn sim() -> &'static VerilatorSim {
    static SIM: OnceLock<VerilatorSim> = OnceLock::new();
    SIM.get_or_init(|| {
        VerilatorSim::builder(&small())
            .uart(SIM_DIVISOR)
            .build()
            .expect("build")
    })
}

fn serve() -> PtyServer {
    sim().serve_pty().expect("pty server")
}

fn port(s: &PtyServer) -> String {
    s.path().to_str().expect("pty path").to_string()
}

fn open(s: &PtyServer, timeout: Duration) -> Board {
    Board::open(
        &port(s),
        BoardOpts {
            baud: DEFAULT_BAUD,
            timeout,
        },
    )
    .expect("open the pty")
}

fn layer(name: &str) -> ConvLayer {
    ConvLayer::load(&root().join("layers").join(name)).expect("layer loads")
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run eyeriss-gen")
}

/// Every layer in layers/ that maps onto 3 x 4: bit-exact on the board, and every counter,
/// the cycle counter included, equal to the in-process UART host's (`sim --uart`).
#[test]
fn every_layer_that_fits_matches_sim_uart_counter_for_counter() {
    let cfg = small();
    let server = serve();
    let board = BoardBackend::new(open(&server, Duration::from_secs(20)), &cfg);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("layers"))
        .expect("layers/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut ran = 0;
    for f in &files {
        let l = ConvLayer::load(f).expect("layer loads");
        if eyeriss_gen::mapper::plan(&cfg, &l).is_err() {
            eprintln!("{}: does not fit 3 x 4, skipped", l.name);
            continue;
        }
        let on_board = common::run_checked(&cfg, &board, &l, &RunOpts::default());
        let in_sim = common::run_checked(&cfg, sim(), &l, &RunOpts::default());
        assert_eq!(on_board.stats.backend, "board");
        assert_eq!(
            on_board.stats.counters, in_sim.stats.counters,
            "{}: the board's counters differ from sim --uart's",
            l.name
        );
        let (b, s) = (
            on_board.stats.link.as_ref().expect("board link"),
            in_sim.stats.link.as_ref().expect("sim link"),
        );
        assert_eq!(b.status, 0);
        assert_eq!(b.bytes_to_board, s.bytes_to_board, "{}", l.name);
        assert_eq!(b.bytes_from_board, s.bytes_from_board, "{}", l.name);
        eprintln!(
            "{}: {} cycles on both",
            l.name,
            on_board.stats.counters[Counter::Cycles]
        );
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} layers fit 3 x 4");
}

/// The command line: `board --json` prints what `sim --uart --json` prints, but for the
/// backend and the host's own figures; the table says MATCH.
#[test]
fn the_board_verb_prints_the_same_statistics_as_sim_uart() {
    let server = serve();
    let p = port(&server);
    let args = [
        "--config",
        "configs/small.toml",
        "--layer",
        "layers/kernel3x5.toml",
    ];
    let board = cli(&[&["board", "--port", &p, "--json"], &args[..]].concat());
    assert!(
        board.status.success(),
        "{}",
        String::from_utf8_lossy(&board.stderr)
    );
    let simu = cli(&[&["sim", "--uart", "--json"], &args[..]].concat());
    assert!(simu.status.success());
    let b: serde_json::Value = serde_json::from_slice(&board.stdout).expect("board JSON");
    let s: serde_json::Value = serde_json::from_slice(&simu.stdout).expect("sim JSON");
    assert_eq!(b["backend"], "board");
    assert_eq!(b["matches"], true);
    for key in [
        "counters",
        "cycles",
        "processing_cycles",
        "ofmap_sha256",
        "energy",
    ] {
        if s.get(key).is_some() {
            assert_eq!(b[key], s[key], "{key}");
        }
    }
    let table = cli(&[&["board", "--port", &p], &args[..]].concat());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("MATCH: ofmap is bit-exact"), "{text}");
    assert!(text.contains("(3 x 4 PEs, board)"), "{text}");
}

/// A host that pauses mid-program (for longer than the model waits for it) leaves the line
/// idle; the board waits and loses nothing.
#[test]
fn host_pauses_cost_cycles_and_nothing_else() {
    let cfg = small();
    let server = sim()
        .serve_pty_grace(Duration::from_millis(5))
        .expect("pty server");
    let board = BoardBackend::new(open(&server, Duration::from_secs(20)), &cfg);
    let l = layer("stride2_pad1.toml");
    let steady = common::run_checked(&cfg, &board, &l, &RunOpts::default());
    let paused = common::run_checked(
        &cfg,
        &board,
        &l,
        &RunOpts {
            stall_in: 5,
            seed: 3,
            ..RunOpts::default()
        },
    );
    let wait = |r: &run::LayerRun| r.stats.counters[Counter::HostInWaitCycles];
    assert!(
        wait(&paused) > wait(&steady) + 1000,
        "pauses: {} cycles waiting for the host, without: {}",
        wait(&paused),
        wait(&steady)
    );
    assert_eq!(
        paused.stats.counters[Counter::Macs],
        steady.stats.counters[Counter::Macs]
    );
}

/// A board left in the middle of a program (half a LOAD sent, its output unread) is reset by
/// the break of the next run, which then runs as on a fresh board.
#[test]
fn a_break_resets_a_board_left_mid_program() {
    let cfg = small();
    let server = serve();
    let l = layer("tiny.toml");
    let t = l.tensors(cfg.data.data_width).expect("tensors");
    let words = eyeriss_gen::compile::compile(&cfg, &l, &t)
        .expect("compiles")
        .words;
    let mut b = open(&server, Duration::from_secs(20));
    b.send_partial(&words, words.len() / 2)
        .expect("half a program");
    let board = BoardBackend::new(b, &cfg);
    let after = common::run_checked(&cfg, &board, &l, &RunOpts::default());
    let fresh = common::run_checked(&cfg, sim(), &l, &RunOpts::default());
    assert_eq!(after.stats.counters, fresh.stats.counters);
}

/// A board that runs another design is refused before a word is sent, naming both hashes.
#[test]
fn a_board_with_another_design_is_refused_with_both_hashes() {
    let server = serve();
    let other = ArchConfig::load(&root().join("configs/ecp5_small.toml")).expect("config");
    let out = cli(&[
        "board",
        "--port",
        &port(&server),
        "--config",
        "configs/ecp5_small.toml",
        "--layer",
        "layers/tiny.toml",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{:016x}", uart::design_id(&small()))),
        "{err}"
    );
    assert!(
        err.contains(&format!("{:016x}", uart::design_id(&other))),
        "{err}"
    );
    assert!(err.contains("another design"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// A model that stops answering (SIGSTOP) is a named timeout, not a hang.
#[test]
fn a_stopped_board_is_a_timeout_naming_what_was_awaited() {
    let cfg = small();
    let server = serve();
    let mut b = open(&server, Duration::from_millis(600));
    let pid = server.pid() as libc::pid_t;
    // SAFETY: signals our own child, which `server` owns and reaps.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let err = b.reset().expect_err("a stopped board cannot answer");
    assert!(
        matches!(&err, BoardError::Timeout { what, .. } if what.contains("hello")),
        "{err}"
    );
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    // It answers again once running: the same port, a run from a reset.
    let board = BoardBackend::new(b, &cfg);
    let l = layer("tiny.toml");
    let t = l.tensors(cfg.data.data_width).expect("tensors");
    match run::run_layer(&cfg, &l, t, &board, &RunOpts::default()) {
        Ok(r) => assert!(r.stats.matches),
        Err(e) => panic!("after SIGCONT: {e}"),
    }
}

/// The host at a baud rate the board top was not built for: the board frames garbage and
/// says so; the error points at --baud.
#[test]
fn a_wrong_baud_rate_is_a_framing_error_that_names_baud() {
    let cfg = small();
    let server = serve();
    let b = Board::open(
        &port(&server),
        BoardOpts {
            baud: 9600,
            timeout: Duration::from_secs(5),
        },
    )
    .expect("open");
    let board = BoardBackend::new(b, &cfg);
    let l = layer("tiny.toml");
    let t = l.tensors(cfg.data.data_width).expect("tensors");
    let err = run::run_layer(&cfg, &l, t, &board, &RunOpts::default())
        .map(|_| ())
        .expect_err("9600 baud against a 115200 board top");
    let msg = err.to_string();
    assert!(msg.contains("--baud"), "{msg}");
    assert!(
        matches!(err, run::RunError::Sim(SimError::Board { .. })),
        "{msg}"
    );
}

/// `sim --uart --pty` names its pty and serves until killed.
#[test]
fn sim_uart_pty_prints_its_pty_and_serves_board() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_eyeriss-gen"))
        .current_dir(root())
        .args(["sim", "--uart", "--pty", "--config", "configs/small.toml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    // Kept open to the end: eyeriss-gen prints more, and a closed pipe would end it.
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    stdout.read_line(&mut line).expect("a line");
    let path = line
        .split_whitespace()
        .find(|w| w.starts_with("/dev/"))
        .map(|w| w.trim_end_matches(':').to_string());
    let run = path.as_deref().map(|p| {
        cli(&[
            "board",
            "--port",
            p,
            "--config",
            "configs/small.toml",
            "--layer",
            "layers/tiny.toml",
        ])
    });
    let _ = child.kill();
    let _ = child.wait();
    drop(stdout);
    let path = path.unwrap_or_else(|| panic!("no pty path in {line:?}"));
    assert!(Path::new(&path).starts_with("/dev"));
    let run = run.expect("ran");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn board_model_runs_a_trained_network_over_the_serial_port_as_infer_does_in_verilator() {
    // Eight of the shipped digits: the link, not the array, sets the pace.
    let dir = tempfile::tempdir().unwrap();
    let x = eyeriss_gen::npy::read_f32(&root().join("models/digits/test_images.npy")).unwrap();
    let per = x.data.len() / x.shape[0] as usize;
    let input = dir.path().join("eight.npy");
    eyeriss_gen::npy::write_f32(&input, &[8, 1, 8, 8], &x.data[..8 * per]).unwrap();
    let s = serve();
    let out = dir.path().join("board");
    let o = cli(&[
        "board",
        "--port",
        &port(&s),
        "--config",
        "configs/small.toml",
        "--model",
        "models/digits/digits.onnx",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let so = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{so}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(so.contains("8 samples on 'small' (board)"), "{so}");
    assert!(so.contains("\nMATCH: every array layer"), "{so}");
    // The same answer as the in-process UART model gives, bit for bit.
    let model = root().join("models/digits/digits.onnx");
    let g = eyeriss_gen::onnx::import::import(&model).unwrap();
    let want = eyeriss_gen::onnx::infer::infer(
        &small(),
        &g,
        &model,
        &x.data[..8 * per],
        8,
        None,
        sim(),
        &RunOpts::default(),
        |_| {},
    )
    .unwrap();
    let got = eyeriss_gen::npy::read_f32(&out.join("output.npy")).unwrap();
    assert_eq!(got.data, want.output);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for (n, w) in report["nodes"].as_array().unwrap().iter().zip(&want.nodes) {
        if let Some(ws) = &w.stats {
            assert_eq!(
                n["stats"]["cycles"].as_u64(),
                Some(ws.cycles),
                "{}: the board's cycle counter equals sim --uart's",
                w.name
            );
        }
    }
}
