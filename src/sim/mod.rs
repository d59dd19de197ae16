//! Simulation backends: the generated Verilog under Verilator, and the rust-hdl model of the
//! same hardware. Both run a host program with the same host behaviour (reset, stall draws,
//! stop rule), so they must give the same output words in the same cycles.

pub mod rusthdl;
pub mod vcd;
pub mod verilator;

use verilator::{RunOpts, RunResult, SimError};

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
