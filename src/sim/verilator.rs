//! Verilator backend: builds the generated design with the C++ host harness (`sim/harness.cpp`)
//! into a cached binary and runs host programs on it. The UART variant
//! ([`VerilatorBuilder::uart`]) builds the FPGA board top instead, with `sim/uart_harness.cpp`,
//! a host that reaches the design only through the UART pins.
//!
//! Builds go through the content-addressed cache of [`super::cache`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::cache::{BuildSpec, build_cached, cache_root};
use super::{LinkStats, RunOpts, RunResult, SimError, UartFaults, io_err};
use crate::config::ArchConfig;
use crate::emit::{self, OutFile};
use crate::fpga::{self, uart};

/// The C++ host harness, compiled into every simulation binary of `eyeriss_top`.
pub const HARNESS_SRC: &str = include_str!("../../sim/harness.cpp");
/// The UART host harness, compiled into simulation binaries of the board top.
pub const UART_HARNESS_SRC: &str = include_str!("../../sim/uart_harness.cpp");
/// Helpers the UART harness includes.
pub const HOST_IO_SRC: &str = include_str!("../../sim/host_io.h");
/// A simulation model of the ECP5 MULT18X18D (the subset `eyeriss_mult_pipe` uses), for
/// [`VerilatorBuilder::ecp5`].
pub const MULT18X18D_MODEL_SRC: &str = include_str!("../../sim/ecp5_mult18x18d.v");
/// The Verilator control file of every system build: how the PEs are compiled (shared code for
/// all instances), see the file for why.
pub const CONTROL_SRC: &str = include_str!("../../sim/eyeriss.vlt");

/// Flags for every build. `-j 2` bounds both Verilator and the C++ compile; `-O3` and the fast
/// X handling are Verilator's own optimizations. `--output-split-cfuncs` caps the size of each
/// generated C++ function: without it the 12 x 14 design has functions of 12,000 lines on
/// which GCC's alias analysis spends 6 minutes each (build 7m41s; with the cap, 40 s, and the
/// same simulation speed). `OPT_FAST` is the C++ optimization of the model's per-cycle code,
/// `-Os` in Debian's Verilator: right while the flattened 12 x 14 model's code overflowed the
/// caches, but with the PE's code shared (`sim/eyeriss.vlt`) `-O3` runs a 113,349-cycle
/// 12 x 14 layer in 0.97 s instead of 1.09 s (build 18.0 s against 17.7 s).
const VERILATOR_FLAGS: &[&str] = &[
    "--cc",
    "--exe",
    "--build",
    "-j",
    "2",
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "fast",
    "-Wno-fatal",
    "--output-split-cfuncs",
    "1000",
    "-MAKEFLAGS",
    "OPT_FAST=-O3",
];

/// Extra flags for a build that can write VCD traces (`RunOpts::vcd`).
const TRACE_FLAGS: &[&str] = &["--trace"];
/// What `constraints/toolchains/ecp5.toml` defines for synthesis besides SYNTHESIS.
const ECP5_DEFINES: &[&str] = &["-DEYERISS_ECP5"];

/// How long the pty model's clock waits for a host that holds credits before it runs on
/// (`--grace-ms`): far beyond a prompt host's reaction, even on a loaded machine, so that its
/// runs take exactly the cycles of the in-process host; a longer silence is a pause.
pub const PTY_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Exit codes of the harnesses (see `sim/harness.cpp`, `sim/uart_harness.cpp`).
const EXIT_TIMEOUT: i32 = 3;
const EXIT_LINK: i32 = 4;

/// Which top a model is built around, and with which harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimTop {
    /// `eyeriss_top`, its 64-bit streams driven directly by `sim/harness.cpp`.
    Core,
    /// `eyeriss_board_top` with `divisor` clocks per UART bit, driven through its UART pins
    /// by `sim/uart_harness.cpp`.
    Uart { divisor: u32 },
}

impl SimTop {
    fn module(self) -> &'static str {
        match self {
            SimTop::Core => "eyeriss_top",
            SimTop::Uart { .. } => fpga::BOARD_TOP,
        }
    }

    /// The harness files written beside the Verilog; the first is compiled.
    fn harness(self) -> &'static [(&'static str, &'static str)] {
        match self {
            SimTop::Core => &[("harness.cpp", HARNESS_SRC), ("host_io.h", HOST_IO_SRC)],
            SimTop::Uart { .. } => &[
                ("uart_harness.cpp", UART_HARNESS_SRC),
                ("host_io.h", HOST_IO_SRC),
            ],
        }
    }
}

/// A built simulation model of one configuration.
#[derive(Debug)]
pub struct VerilatorSim {
    top: SimTop,
    files: Vec<OutFile>,
    cache: PathBuf,
    progress: bool,
    binary: PathBuf,
    /// The tracing variant, built the first time a run asks for a VCD.
    trace_binary: Mutex<Option<PathBuf>>,
    /// Verilog macros the build defines (`EYERISS_ECP5` for [`VerilatorBuilder::ecp5`]).
    defines: &'static [&'static str],
}

fn flags(top: SimTop, trace: bool) -> Vec<&'static str> {
    let mut f = VERILATOR_FLAGS.to_vec();
    f.extend_from_slice(&["--top-module", top.module()]);
    if trace {
        f.extend_from_slice(TRACE_FLAGS);
    }
    f
}

/// How to build a [`VerilatorSim`]: `VerilatorSim::builder(&cfg)`, then any of
/// [`uart`](VerilatorBuilder::uart), [`ecp5`](VerilatorBuilder::ecp5),
/// [`cache_dir`](VerilatorBuilder::cache_dir), [`progress`](VerilatorBuilder::progress), then
/// [`build`](VerilatorBuilder::build). By default: `eyeriss_top` driven by `sim/harness.cpp`,
/// the portable Verilog, the cache under [`cache_root`], no spinner.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until .build()"]
pub struct VerilatorBuilder<'a> {
    cfg: &'a ArchConfig,
    top: SimTop,
    ecp5: bool,
    cache: Option<PathBuf>,
    progress: bool,
}

impl VerilatorBuilder<'_> {
    /// Build the board top (`eyeriss_board_top`) with `divisor` clocks per UART bit instead
    /// of `eyeriss_top`, driven through its UART pins by `sim/uart_harness.cpp`.
    pub fn uart(mut self, divisor: u32) -> Self {
        self.top = SimTop::Uart { divisor };
        self
    }

    /// The design as the ECP5 flow synthesizes it: with `EYERISS_ECP5` defined, so that
    /// `eyeriss_mult_pipe` instantiates MULT18X18D blocks, which [`MULT18X18D_MODEL_SRC`]
    /// stands in for. Runs a layer through the DSP form of the multiply pipeline.
    pub fn ecp5(mut self) -> Self {
        self.ecp5 = true;
        self
    }

    /// Keep the build in `dir` instead of [`cache_root`].
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(dir.into());
        self
    }

    /// With `on`, a spinner shows the elapsed time while Verilator builds (here, and for the
    /// tracing variant a run with a VCD asks for).
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Generate the RTL, build it with its harness (or find the build in the cache) and
    /// return a handle.
    pub fn build(self) -> Result<VerilatorSim, SimError> {
        let cfg = self.cfg;
        let mut files = emit::render(cfg)?;
        if let SimTop::Uart { divisor } = self.top {
            files.extend(uart::render(cfg, &uart::TopParams::for_sim(divisor))?);
        }
        let defines: &'static [&'static str] = if self.ecp5 {
            files.push(OutFile::new(
                "sim/ecp5_mult18x18d.v",
                MULT18X18D_MODEL_SRC.to_string(),
            ));
            ECP5_DEFINES
        } else {
            &[]
        };
        let cache = self.cache.unwrap_or_else(cache_root);
        let binary = build_cached(
            &system_build(&files, self.top, &cfg.name, false, defines),
            &cache,
            self.progress,
        )?;
        Ok(VerilatorSim {
            top: self.top,
            files,
            cache,
            progress: self.progress,
            binary,
            trace_binary: Mutex::new(None),
            defines,
        })
    }
}

impl VerilatorSim {
    /// A builder for a model of `cfg`: see [`VerilatorBuilder`].
    pub fn builder(cfg: &ArchConfig) -> VerilatorBuilder<'_> {
        VerilatorBuilder {
            cfg,
            top: SimTop::Core,
            ecp5: false,
            cache: None,
            progress: false,
        }
    }

    /// The default model of `cfg` (`eyeriss_top`, the cache under [`cache_root`]): shorthand
    /// for `VerilatorSim::builder(cfg).progress(progress).build()`.
    pub fn build(cfg: &ArchConfig, progress: bool) -> Result<VerilatorSim, SimError> {
        Self::builder(cfg).progress(progress).build()
    }

    /// The simulation binary (`Vharness`, see `sim/harness.cpp` or `sim/uart_harness.cpp`
    /// for its options).
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    pub fn top(&self) -> SimTop {
        self.top
    }

    /// Cycles the UART alone needs to carry `in_words` program words and `out_words` output
    /// words (0 for the direct harness): 10 bits per byte, 8 bytes per input word, a 9-byte
    /// frame per output word and at worst a 2-byte credit frame per input word.
    pub fn link_cycles(&self, in_words: u64, out_words: u64) -> u64 {
        match self.top {
            SimTop::Core => 0,
            SimTop::Uart { divisor } => {
                (in_words * (80 + 20) + out_words * 90).saturating_mul(u64::from(divisor))
            }
        }
    }

    /// The backend's name in reports.
    pub fn backend_name(&self) -> &'static str {
        match self.top {
            SimTop::Core => "verilator",
            SimTop::Uart { .. } => "verilator-uart",
        }
    }

    /// Run `program` (which must end with a MARK word) and return every output word.
    pub fn run(&self, program: &[u64], opts: &RunOpts) -> Result<RunResult, SimError> {
        if program.is_empty() {
            return Err(SimError::EmptyProgram);
        }
        match self.top {
            SimTop::Uart { .. } if opts.stall_out != 0 => {
                return Err(SimError::Unsupported(
                    "stall_out needs the direct harness: a UART host cannot refuse bytes (the board holds its output instead)",
                ));
            }
            SimTop::Core if opts.uart != UartFaults::default() => {
                return Err(SimError::Unsupported(
                    "UART faults need a UART model (VerilatorSim::builder(..).uart(..))",
                ));
            }
            _ => {}
        }
        let binary = if opts.vcd.is_some() {
            self.trace_binary()?
        } else {
            self.binary.clone()
        };
        let dir =
            crate::output::StagingDir::new_in(&std::env::temp_dir(), "eyeriss-sim-").map_err(
                io_err("cannot create a run directory in", &std::env::temp_dir()),
            )?;
        let prog = dir.path().join("prog.bin");
        let out = dir.path().join("out.bin");
        let bytes: Vec<u8> = program.iter().flat_map(|w| w.to_le_bytes()).collect();
        fs::write(&prog, bytes).map_err(io_err("cannot write", &prog))?;

        let mut cmd = Command::new(&binary);
        cmd.arg("--program")
            .arg(&prog)
            .arg("--out")
            .arg(&out)
            .args(["--stall-in", &opts.stall_in.to_string()])
            .args(["--seed", &opts.seed.to_string()])
            .args(["--max-cycles", &opts.max_cycles.to_string()]);
        match self.top {
            SimTop::Core => {
                cmd.args(["--stall-out", &opts.stall_out.to_string()]);
            }
            SimTop::Uart { divisor } => {
                cmd.args(["--div", &divisor.to_string()]);
                if let Some(k) = opts.uart.bad_stop {
                    cmd.args(["--bad-stop", &k.to_string()]);
                }
                if opts.uart.ignore_credits {
                    cmd.arg("--ignore-credits");
                }
                if opts.uart.break_after_error {
                    cmd.arg("--break-after-error");
                }
            }
        }
        if let Some(vcd) = &opts.vcd {
            cmd.arg("--vcd").arg(vcd);
        }
        if opts.progress.is_some() {
            cmd.arg("--progress");
        }
        let res =
            run_reporting(cmd, opts.progress.as_ref()).map_err(io_err("cannot run", &binary))?;
        let stdout = String::from_utf8_lossy(&res.stdout);
        let output = format!("{}{}", stdout, String::from_utf8_lossy(&res.stderr))
            .trim()
            .to_string();
        let words = read_words(&out);
        let link = parse_link(&stdout);
        match res.status.code() {
            Some(0) => {
                let cycles = stdout
                    .lines()
                    .find_map(|l| l.strip_prefix("cycles="))
                    .and_then(|c| c.trim().parse().ok())
                    .ok_or_else(|| SimError::Run {
                        status: "no cycles= line".into(),
                        output: output.clone(),
                    })?;
                Ok(RunResult {
                    words: words.map_err(io_err("cannot read", &out))?,
                    cycles,
                    link,
                })
            }
            Some(EXIT_LINK) => Err(SimError::Link {
                detail: output,
                link: link.unwrap_or_default(),
                words: words.unwrap_or_default(),
            }),
            Some(EXIT_TIMEOUT) => Err(SimError::Timeout {
                max_cycles: opts.max_cycles,
                detail: output,
                words: words.unwrap_or_default(),
            }),
            _ => Err(SimError::Run {
                status: res.status.to_string(),
                output,
            }),
        }
    }

    /// Serve the board top's UART on a pseudo-terminal (the harness's `--pty` mode, see
    /// `sim/uart_harness.cpp`): a host program opens [`PtyServer::path`] as it would a board's
    /// USB-serial port. The model runs until the server is dropped.
    pub fn serve_pty(&self) -> Result<PtyServer, SimError> {
        self.serve_pty_grace(PTY_GRACE)
    }

    /// [`serve_pty`](Self::serve_pty), with the model's clock stopping for at most `grace`
    /// while it waits for a host that holds credits (see `sim/uart_harness.cpp`): a host
    /// silent for longer is pausing, and the design sees the line idle.
    pub fn serve_pty_grace(&self, grace: std::time::Duration) -> Result<PtyServer, SimError> {
        let SimTop::Uart { divisor } = self.top else {
            return Err(SimError::Unsupported(
                "a pty serves the board top: build with VerilatorSim::builder(..).uart(..)",
            ));
        };
        let mut child = Command::new(&self.binary)
            .args(["--pty", "--div", &divisor.to_string()])
            .args(["--baud", &uart::DEFAULT_BAUD.to_string()])
            .args([
                "--grace-ms",
                &grace.as_millis().clamp(1, 60_000).to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(io_err("cannot run", &self.binary))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            use std::io::BufRead;
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        match line.trim().strip_prefix("pty=") {
            Some(path) => Ok(PtyServer {
                path: PathBuf::from(path),
                child,
            }),
            None => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(SimError::Run {
                    status,
                    output: format!("the pty server did not name its pty (printed {line:?})"),
                })
            }
        }
    }

    fn trace_binary(&self) -> Result<PathBuf, SimError> {
        let mut slot = self.trace_binary.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = slot.as_ref() {
            return Ok(b.clone());
        }
        let name = self
            .files
            .iter()
            .find(|f| f.path.ends_with(".core"))
            .map(|f| f.path.trim_end_matches(".core").to_string())
            .unwrap_or_default();
        let b = build_cached(
            &system_build(&self.files, self.top, &name, true, self.defines),
            &self.cache,
            self.progress,
        )?;
        *slot = Some(b.clone());
        Ok(b)
    }
}

/// A running model of the board top serving its UART on a pseudo-terminal
/// ([`VerilatorSim::serve_pty`]). Dropping it stops the model.
#[derive(Debug)]
pub struct PtyServer {
    path: PathBuf,
    child: std::process::Child,
}

impl PtyServer {
    /// The pty's slave side: the "serial port" a host opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The harness's process id (to pause it with SIGSTOP, for instance).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait until the model ends: when the stdin it watches closes, i.e. never while this
    /// handle is alive; for a command line that serves until it is interrupted.
    pub fn wait(mut self) -> std::io::Result<std::process::ExitStatus> {
        // Child::wait closes the child's stdin first, which would end the harness at once.
        let _stdin = self.child.stdin.take();
        self.child.wait()
    }
}

impl Drop for PtyServer {
    fn drop(&mut self) {
        // Closing its stdin ends the harness; kill it too, in case it is stopped.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run the harness to its end like [`Command::output`], moving `bar` to every
/// `progress=<cycles>` line it prints on stderr (those lines are not kept in the output).
fn run_reporting(
    mut cmd: Command,
    bar: Option<&indicatif::ProgressBar>,
) -> std::io::Result<std::process::Output> {
    use std::io::{BufRead, Read};
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut err_pipe = std::io::BufReader::new(child.stderr.take().expect("stderr is piped"));
    let bar = bar.cloned();
    // stderr on a thread of its own, so that neither pipe can fill while the other is read.
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut line = String::new();
        while err_pipe.read_line(&mut line).unwrap_or(0) > 0 {
            match line
                .trim_end()
                .strip_prefix("progress=")
                .map(str::parse::<u64>)
            {
                Some(Ok(c)) => {
                    if let Some(b) = &bar {
                        crate::progress::advance(b, c);
                    }
                }
                _ => kept.extend_from_slice(line.as_bytes()),
            }
            line.clear();
        }
        kept
    });
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout)?;
    }
    let status = child.wait()?;
    let stderr = reader.join().unwrap_or_default();
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

/// The UART harness's `link` line, if it printed one.
fn parse_link(stdout: &str) -> Option<LinkStats> {
    let line = stdout.lines().find_map(|l| l.strip_prefix("link "))?;
    let mut s = LinkStats::default();
    for kv in line.split_whitespace() {
        let (k, v) = kv.split_once('=')?;
        let num = match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok()?,
            None => v.parse().ok()?,
        };
        match k {
            "bytes_to_board" => s.bytes_to_board = num,
            "bytes_from_board" => s.bytes_from_board = num,
            "credit_frames" => s.credit_frames = num,
            "credits" => s.credits = num,
            "credit_wait_cycles" => s.credit_wait_cycles = num,
            "max_credits" => s.max_credits = num,
            "status" => s.status = u8::try_from(num).ok()?,
            "breaks" => s.breaks = num,
            "leds_seen" => {
                s.leds.get_or_insert_with(Default::default).seen = u8::try_from(num).ok()?
            }
            "leds_end" => {
                s.leds.get_or_insert_with(Default::default).at_end = u8::try_from(num).ok()?
            }
            _ => {}
        }
    }
    Some(s)
}

fn read_words(path: &Path) -> std::io::Result<Vec<u64>> {
    let bytes = fs::read(path)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8-byte chunk")))
        .collect())
}

fn system_build<'a>(
    files: &'a [OutFile],
    top: SimTop,
    name: &str,
    trace: bool,
    defines: &[&str],
) -> BuildSpec<'a> {
    BuildSpec {
        verilog: files.iter().filter(|f| f.path.ends_with(".v")).collect(),
        harness: top.harness().to_vec(),
        control: Some(CONTROL_SRC),
        flags: flags(top, trace)
            .iter()
            .chain(defines)
            .map(|f| f.to_string())
            .collect(),
        label: format!(
            "the Verilator model of '{name}'{}",
            if trace { " with tracing" } else { "" }
        ),
    }
}
