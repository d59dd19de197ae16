//! Simulation backends: the generated Verilog under Verilator, and the rust-hdl model of the
//! same hardware. Both run a host program with the same host behaviour (reset, stall draws,
//! stop rule), so they must give the same output words in the same cycles.
//!
//! The types every backend shares live here: how to run a program ([`RunOpts`], with the UART
//! host's [`UartFaults`]), what a run gives back ([`RunResult`], with the UART host's
//! [`LinkStats`]) and why it failed ([`SimError`]).

pub mod cache;
pub mod diff;
pub mod rusthdl;
pub mod vcd;
pub mod verilator;

use std::path::PathBuf;

use thiserror::Error;

/// Why a simulation could not build or run, on either backend.
#[derive(Debug, Error)]
pub enum SimError {
    #[error("verilator not found: install it with `apt-get install verilator`")]
    VerilatorNotFound,
    #[error("cannot render the design: {0}")]
    Emit(#[from] crate::emit::EmitError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("Verilator build failed ({status}); see the log {log}")]
    Build { status: String, log: PathBuf },
    #[error(
        "simulation hit max_cycles = {max_cycles}: {detail}; raise RunOpts::max_cycles or look for a deadlock"
    )]
    Timeout {
        max_cycles: u64,
        detail: String,
        words: Vec<u64>,
    },
    #[error("simulation failed ({status}): {output}")]
    Run { status: String, output: String },
    #[error("UART link error: {detail}")]
    Link {
        detail: String,
        link: LinkStats,
        words: Vec<u64>,
    },
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("cannot render the board top: {0}")]
    BoardTop(#[from] crate::fpga::FpgaError),
    /// The rust-hdl model failed ([`crate::hw::HwError`]: it did not settle, or a parameter is
    /// out of its range).
    #[error("rust-hdl model: {0}")]
    Model(String),
    #[error("empty program: it must end with a MARK word")]
    EmptyProgram,
    /// A run on a board over its serial port failed; `words` are the output words read
    /// before it did.
    #[error("{source}")]
    Board {
        source: crate::board::BoardError,
        words: Vec<u64>,
    },
}

/// How to run one program.
#[derive(Debug, Clone)]
pub struct RunOpts {
    /// Percent of cycles on which the host withholds its input word (0..=99).
    pub stall_in: u32,
    /// Percent of cycles on which the host refuses an output word (0..=99).
    pub stall_out: u32,
    /// Seed for the stall pattern; runs are deterministic for a seed.
    pub seed: u64,
    /// Give up after this many cycles after reset.
    pub max_cycles: u64,
    /// Write a VCD trace here (builds a tracing variant of the model on first use).
    pub vcd: Option<PathBuf>,
    /// Faults the UART host injects (UART models only).
    pub uart: UartFaults,
    /// Set to the simulated cycle count as the run goes (every 65,536 cycles on Verilator,
    /// 4,096 on rust-hdl); the caller gives it its length and style. `None`: no reports.
    pub progress: Option<indicatif::ProgressBar>,
}

/// Misbehaviour of the UART host, to test that the board reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UartFaults {
    /// Send this byte (counted from 0 over the run) with a 0 stop bit: a framing error.
    pub bad_stop: Option<u64>,
    /// Send words as fast as the line allows, ignoring the credit rule: an overflow.
    pub ignore_credits: bool,
    /// On a non-zero status, reset the board with a break and run the program again.
    pub break_after_error: bool,
}

/// What the UART host counted (the harness's `link` line).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkStats {
    pub bytes_to_board: u64,
    pub bytes_from_board: u64,
    pub credit_frames: u64,
    /// Credits the board granted in total (one per word).
    pub credits: u64,
    /// Cycles the host had a word to send but no credit.
    pub credit_wait_cycles: u64,
    /// The most credits the host held at once.
    pub max_credits: u64,
    /// OR of every non-zero status byte the board sent.
    pub status: u8,
    /// Breaks the host sent.
    pub breaks: u64,
    /// The board top's LEDs as the simulator saw them (a board's host cannot see them).
    #[serde(skip)]
    pub leds: Option<Leds>,
}

/// The board top's LEDs over a simulated run, one bit per LED in the order of
/// [`crate::fpga::uart::LED_HEARTBEAT`] and the rest, set for "on".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Leds {
    /// Every LED that was on at some cycle.
    pub seen: u8,
    /// The LEDs at the last cycle.
    pub at_end: u8,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            stall_in: 0,
            stall_out: 0,
            seed: 1,
            max_cycles: 2_000_000_000,
            vcd: None,
            uart: UartFaults::default(),
            progress: None,
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    /// Every word taken from the output stream, the final MARK echo included.
    pub words: Vec<u64>,
    /// Cycles from reset release to the cycle the MARK echo was taken.
    pub cycles: u64,
    /// The UART host's counts (UART models only).
    pub link: Option<LinkStats>,
}

/// A simulator that runs host programs on one configuration.
pub trait Backend {
    /// The backend's name in reports (`verilator`, `verilator-uart`, `rust-hdl`).
    fn name(&self) -> &'static str;
    /// Run `program` (which must end with a MARK word) and return every output word.
    fn run(&self, program: &[u64], opts: &RunOpts) -> Result<RunResult, SimError>;
    /// Cycles the host link alone needs for these word counts (0 unless the host talks
    /// through a UART).
    fn link_cycles(&self, _in_words: u64, _out_words: u64) -> u64 {
        0
    }
}

impl Backend for verilator::VerilatorSim {
    fn name(&self) -> &'static str {
        self.backend_name()
    }
    fn run(&self, program: &[u64], opts: &RunOpts) -> Result<RunResult, SimError> {
        verilator::VerilatorSim::run(self, program, opts)
    }
    fn link_cycles(&self, in_words: u64, out_words: u64) -> u64 {
        verilator::VerilatorSim::link_cycles(self, in_words, out_words)
    }
}

impl Backend for rusthdl::RustHdlSim {
    fn name(&self) -> &'static str {
        self.backend_name()
    }
    fn run(&self, program: &[u64], opts: &RunOpts) -> Result<RunResult, SimError> {
        rusthdl::RustHdlSim::run(self, program, opts)
    }
}

pub(crate) use crate::io_error::{IoError, io_err};
