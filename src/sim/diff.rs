//! Differential testing of a block model against the template's Verilog in Verilator.
//!
//! A stimulus drives the rust-hdl model cycle by cycle (it sees the model's previous outputs,
//! so a source can react to ready); the inputs of every cycle are recorded and replayed into a
//! Verilator build of the same block with the same parameters, through a C++ harness generated
//! from the block's port list. Every output is compared on every cycle; the first difference is
//! reported as `block <name>: cycle N: signal <port>: verilator X, rust-hdl Y`.
//!
//! A stimulus standing for a neighbour that answers combinationally (the GLB grants a request in
//! the cycle it is made) may change inputs once more after seeing the cycle's outputs
//! ([`Stimulus::respond`]); the recorded inputs are the final ones.
//!
//! Each cycle: inputs applied with the clock low, combinational logic settled, outputs sampled,
//! then one rising clock edge. Both sides start from all-zero state (`--x-initial 0`: the
//! templates leave memories and some pipeline registers unreset), and stimuli begin with reset.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use thiserror::Error;

use super::SimError;
use super::cache::{BuildSpec, build_cached, cache_root};
use crate::config::ArchConfig;
use crate::emit::{self, OutFile};
use crate::hw::{Dir, HwError, Model, Port, mask};

#[derive(Debug, Error)]
pub enum DiffError {
    #[error(transparent)]
    Model(#[from] HwError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("cannot render the design: {0}")]
    Emit(#[from] emit::EmitError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("block {block}: the Verilator harness failed ({status}): {output}")]
    Harness {
        block: &'static str,
        status: String,
        output: String,
    },
    #[error("block {block}: template file rtl/eyeriss_{module}.v was not rendered")]
    MissingModule {
        block: &'static str,
        module: &'static str,
    },
    #[error(
        "block {block}: cycle {cycle}: signal {signal}: verilator {verilator}, rust-hdl {rust_hdl}"
    )]
    Mismatch {
        block: &'static str,
        cycle: u64,
        signal: &'static str,
        verilator: String,
        rust_hdl: String,
    },
}

use crate::io_error::{IoError, io_err};

/// Where each port's words sit in a cycle's flat input or output record.
#[derive(Clone, Debug)]
pub struct Layout {
    pub ports: Vec<Port>,
    /// Offset of each port in its direction's record.
    offset: Vec<usize>,
    pub in_words: usize,
    pub out_words: usize,
}

impl Layout {
    pub fn new(ports: &[Port]) -> Layout {
        let (mut i, mut o) = (0, 0);
        let offset = ports
            .iter()
            .map(|p| {
                let at = if p.dir == Dir::In { &mut i } else { &mut o };
                let off = *at;
                *at += p.words();
                off
            })
            .collect();
        Layout {
            ports: ports.to_vec(),
            offset,
            in_words: i,
            out_words: o,
        }
    }

    /// Index of the port called `name`.
    pub fn port(&self, name: &str) -> Option<usize> {
        self.ports.iter().position(|p| p.name == name)
    }
}

/// One cycle's port values, by port index (inputs written by the stimulus, outputs by the
/// model).
#[derive(Clone, Debug)]
pub struct Values {
    pub v: Vec<Vec<u64>>,
}

impl Values {
    fn new(layout: &Layout) -> Values {
        Values {
            v: layout.ports.iter().map(|p| vec![0; p.words()]).collect(),
        }
    }
    /// The value of a port of at most 64 bits.
    pub fn get(&self, port: usize) -> u64 {
        self.v[port][0]
    }
    pub fn set(&mut self, port: usize, value: u64) {
        self.v[port].iter_mut().for_each(|w| *w = 0);
        self.v[port][0] = value;
    }
}

/// Produces a block's inputs cycle by cycle.
pub trait Stimulus {
    /// Write the inputs of `cycle` into `io`, whose outputs are still those the model showed
    /// in the previous cycle (all zero before cycle 0).
    fn drive(&mut self, cycle: u64, io: &mut Values);
    /// Called once per cycle after the model settled on the inputs of `cycle`, with `io`
    /// holding that cycle's outputs. A neighbour that answers combinationally (the GLB grants a
    /// request in the cycle it is made) changes its inputs here and returns true; the model
    /// then settles again, and only the final inputs and outputs are recorded and replayed.
    fn respond(&mut self, _cycle: u64, _io: &mut Values) -> bool {
        false
    }
}

impl<F: FnMut(u64, &mut Values)> Stimulus for F {
    fn drive(&mut self, cycle: u64, io: &mut Values) {
        self(cycle, io)
    }
}

/// Every cycle's inputs and outputs of one run, flat.
#[derive(Clone, Debug)]
pub struct Trace {
    pub layout: Layout,
    pub cycles: u64,
    pub inputs: Vec<u64>,
    pub outputs: Vec<u64>,
    /// Wall time spent in the model (setting inputs, settling, reading outputs, clocking;
    /// not the stimulus), for its speed.
    pub model_secs: f64,
}

impl Trace {
    /// Output `port` at `cycle`.
    pub fn output(&self, cycle: u64, port: usize) -> &[u64] {
        let l = &self.layout;
        let at = cycle as usize * l.out_words + l.offset[port];
        &self.outputs[at..at + l.ports[port].words()]
    }
    /// Cycles on which an output was non-zero (a one-bit output: high): to check a run did
    /// something.
    pub fn count_high(&self, port: usize) -> u64 {
        (0..self.cycles)
            .filter(|&c| self.output(c, port).iter().any(|&w| w != 0))
            .count() as u64
    }
}

/// Run the model for `cycles` cycles under `stim`, recording everything.
pub fn run_model(
    model: &mut dyn Model,
    stim: &mut dyn Stimulus,
    cycles: u64,
) -> Result<Trace, HwError> {
    run(model, stim, cycles, None)
}

/// [`run_model`], also writing a VCD of every signal of the rust-hdl block tree (rust-hdl's
/// own VCD writer; one time unit per half clock period).
pub fn run_model_vcd(
    model: &mut dyn Model,
    stim: &mut dyn Stimulus,
    cycles: u64,
    vcd: &Path,
) -> Result<Trace, DiffError> {
    let mut buf = Vec::new();
    let trace = run(model, stim, cycles, Some(&mut buf))?;
    fs::write(vcd, buf).map_err(io_err("cannot write", vcd))?;
    Ok(trace)
}

fn run(
    model: &mut dyn Model,
    stim: &mut dyn Stimulus,
    cycles: u64,
    vcd: Option<&mut Vec<u8>>,
) -> Result<Trace, HwError> {
    use rust_hdl::core::vcd_probe::{write_vcd_change, write_vcd_dump, write_vcd_header};
    let layout = Layout::new(model.ports());
    let mut io = Values::new(&layout);
    let mut inputs = Vec::with_capacity(cycles as usize * layout.in_words);
    let mut outputs = Vec::with_capacity(cycles as usize * layout.out_words);
    // Writing to memory cannot fail, so the VCD writer's own unwraps cannot fire.
    let mut probe = vcd.map(|w| write_vcd_dump(write_vcd_header(w, model.hdl()), model.hdl()));
    let mut model_time = std::time::Duration::ZERO;
    for cycle in 0..cycles {
        stim.drive(cycle, &mut io);
        let mut t0 = Instant::now();
        for pass in 0..2 {
            for (i, p) in layout.ports.iter().enumerate() {
                if p.dir == Dir::In {
                    let m = &mut io.v[i];
                    mask_words(m, p.width);
                    model.set(i, m);
                }
            }
            model.eval()?;
            for (i, p) in layout.ports.iter().enumerate() {
                if p.dir == Dir::Out {
                    let m = &mut io.v[i];
                    m.iter_mut().for_each(|w| *w = 0);
                    model.get(i, m);
                }
            }
            if pass == 1 {
                break;
            }
            model_time += t0.elapsed();
            let again = stim.respond(cycle, &mut io);
            t0 = Instant::now();
            if !again {
                break;
            }
        }
        for (i, p) in layout.ports.iter().enumerate() {
            let m = &mut io.v[i];
            if p.dir == Dir::In {
                mask_words(m, p.width);
                inputs.extend_from_slice(m);
            } else {
                outputs.extend_from_slice(m);
            }
        }
        if let Some(mut v) = probe.take() {
            let _ = v.timestamp(2 * cycle);
            probe = Some(write_vcd_change(v, model.hdl()));
        }
        if model.clocked() {
            model.tick()?;
            if let Some(mut v) = probe.take() {
                let _ = v.timestamp(2 * cycle + 1);
                probe = Some(write_vcd_change(v, model.hdl()));
            }
        }
        model_time += t0.elapsed();
    }
    Ok(Trace {
        layout,
        cycles,
        inputs,
        outputs,
        model_secs: model_time.as_secs_f64(),
    })
}

fn mask_words(words: &mut [u64], width: u32) {
    for (k, w) in words.iter_mut().enumerate() {
        *w &= mask(width.saturating_sub(64 * k as u32));
    }
}

fn hex(words: &[u64]) -> String {
    let mut s = String::from("0x");
    for (k, w) in words.iter().rev().enumerate() {
        if k == 0 {
            s += &format!("{w:x}");
        } else {
            s += &format!("_{w:016x}");
        }
    }
    s
}

/// The first output that differs between a model trace and Verilator's outputs for the same
/// inputs.
pub fn compare(block: &'static str, trace: &Trace, verilator: &[u64]) -> Result<(), DiffError> {
    let l = &trace.layout;
    for cycle in 0..trace.cycles {
        for (i, p) in l.ports.iter().enumerate() {
            if p.dir != Dir::Out {
                continue;
            }
            let at = cycle as usize * l.out_words + l.offset[i];
            let ours = &trace.outputs[at..at + p.words()];
            let theirs = verilator.get(at..at + p.words()).unwrap_or_default();
            if ours != theirs {
                return Err(DiffError::Mismatch {
                    block,
                    cycle,
                    signal: p.name,
                    verilator: hex(theirs),
                    rust_hdl: hex(ours),
                });
            }
        }
    }
    Ok(())
}

/// The templates a block's Verilog needs (itself and its submodules).
pub fn modules(block: &str) -> &'static [&'static str] {
    match block {
        "fifo" => &["fifo"],
        "mc" => &["mc"],
        "rr_arb" => &["rr_arb"],
        "ln" => &["ln"],
        "pe" => &["fifo", "pe"],
        "gin_xbus" => &["mc", "gin_xbus"],
        "gin" => &["mc", "gin_xbus", "gin"],
        "gon_xbus" => &["rr_arb", "gon_xbus"],
        "gon" => &["rr_arb", "gon"],
        "glb_bank" => &["glb_bank"],
        "glb" => &["glb_bank", "glb"],
        "stream" => &["rr_arb", "stream"],
        "drain" => &["drain"],
        "counters_row" => &["counters_row"],
        "counters" => &["counters"],
        "controller" => &["fifo", "controller"],
        _ => &[],
    }
}

/// Verilator flags of a block build. Zero initial values match the model's zeroed state;
/// `--x-assign 0` makes the value of an out-of-range read deterministic (zero), as the model
/// assumes.
fn block_flags(model: &dyn Model) -> Vec<String> {
    let mut f: Vec<String> = [
        "--cc",
        "--exe",
        "--build",
        "-j",
        "2",
        "--x-assign",
        "0",
        "--x-initial",
        "0",
        "-Wno-fatal",
        "--prefix",
        "Vdut",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    f.push("--top-module".into());
    f.push(emit::module_name(model.block()));
    for (name, v) in model.params() {
        f.push(format!("-G{name}={v}"));
    }
    f
}

/// 32-bit words of a port wider than 64 bits (Verilator holds it as a `VlWide` array).
fn c_words32(width: u32) -> usize {
    width.div_ceil(32) as usize
}

/// The C++ harness for a block: reads every cycle's inputs from a file of little-endian u64
/// words (the [`Layout`] record), writes every cycle's outputs likewise.
pub fn harness_cpp(model: &dyn Model) -> String {
    let l = Layout::new(model.ports());
    let mut set = String::new();
    let mut get = String::new();
    for (i, p) in l.ports.iter().enumerate() {
        let off = l.offset[i];
        let n = p.name;
        match (p.dir, p.width > 64) {
            (Dir::In, false) => {
                set += &format!("        top->{n} = w[{off}] & {:#x}ULL;\n", mask(p.width));
            }
            (Dir::Out, false) => {
                get += &format!("        o[{off}] = (uint64_t)top->{n};\n");
            }
            (Dir::In, true) => {
                for k in 0..c_words32(p.width) {
                    let m = mask(p.width.saturating_sub(32 * k as u32).min(32));
                    set += &format!(
                        "        top->{n}[{k}] = (uint32_t)(w[{}] >> {}) & {m:#x}U;\n",
                        off + k / 2,
                        32 * (k % 2)
                    );
                }
            }
            (Dir::Out, true) => {
                for k in 0..c_words32(p.width) {
                    get += &format!(
                        "        o[{}] |= (uint64_t)top->{n}[{k}] << {};\n",
                        off + k / 2,
                        32 * (k % 2)
                    );
                }
            }
        }
    }
    let (clk0, clk_edge) = if model.clocked() {
        (
            "    top->clk = 0;\n",
            "        top->clk = 1;\n        top->eval();\n        top->clk = 0;\n",
        )
    } else {
        ("", "")
    };
    format!(
        r#"// Differential-test harness for eyeriss_{block}, generated by eyeriss-gen (src/sim/diff.rs).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>
#include "Vdut.h"
#include "verilated.h"

static const size_t IN_WORDS = {in_words};
static const size_t OUT_WORDS = {out_words};

int main(int argc, char** argv) {{
    if (argc != 3) {{
        std::fprintf(stderr, "usage: %s INPUTS OUTPUTS\n", argv[0]);
        return 2;
    }}
    std::FILE* fi = std::fopen(argv[1], "rb");
    if (!fi) {{ std::perror(argv[1]); return 2; }}
    std::vector<uint64_t> in;
    uint64_t buf[4096];
    size_t got;
    while ((got = std::fread(buf, 8, 4096, fi)) > 0) in.insert(in.end(), buf, buf + got);
    std::fclose(fi);
    const size_t cycles = IN_WORDS ? in.size() / IN_WORDS : 0;
    std::vector<uint64_t> out(cycles * OUT_WORDS, 0);
    std::unique_ptr<VerilatedContext> ctx{{new VerilatedContext}};
    std::unique_ptr<Vdut> top{{new Vdut{{ctx.get()}}}};
{clk0}    for (size_t t = 0; t < cycles; t++) {{
        const uint64_t* w = &in[t * IN_WORDS];
{set}        top->eval();
        uint64_t* o = &out[t * OUT_WORDS];
{get}{clk_edge}    }}
    top->final();
    std::FILE* fo = std::fopen(argv[2], "wb");
    if (!fo) {{ std::perror(argv[2]); return 2; }}
    if (std::fwrite(out.data(), 8, out.size(), fo) != out.size()) {{ std::perror(argv[2]); return 2; }}
    std::fclose(fo);
    return 0;
}}
"#,
        block = model.block(),
        in_words = l.in_words,
        out_words = l.out_words,
    )
}

/// A Verilator build of one block with the parameters of a model.
#[derive(Debug)]
pub struct VerilatorBlock {
    block: &'static str,
    binary: PathBuf,
}

impl VerilatorBlock {
    /// Render `cfg`'s Verilog and build the model's block from it (cached like the system
    /// simulator, under [`cache_root`]).
    pub fn build(cfg: &ArchConfig, model: &dyn Model) -> Result<VerilatorBlock, DiffError> {
        let cache = &cache_root();
        let block = model.block();
        let files = emit::render(cfg)?;
        let verilog = select(&files, block)?;
        let harness = harness_cpp(model);
        let spec = BuildSpec {
            verilog,
            harness: vec![("harness.cpp", &harness)],
            // one block alone: nothing to share between instances
            control: None,
            flags: block_flags(model),
            label: format!("the Verilator diff harness of eyeriss_{block}"),
        };
        let binary = build_cached(&spec, cache, false)?;
        Ok(VerilatorBlock { block, binary })
    }

    /// Outputs of every cycle for the recorded inputs of `trace`.
    pub fn run(&self, trace: &Trace) -> Result<Vec<u64>, DiffError> {
        let dir = tempfile::Builder::new()
            .prefix("eyeriss-diff-")
            .tempdir()
            .map_err(io_err(
                "cannot create a run directory in",
                &std::env::temp_dir(),
            ))?;
        let inp = dir.path().join("in.bin");
        let out = dir.path().join("out.bin");
        let bytes: Vec<u8> = trace.inputs.iter().flat_map(|w| w.to_le_bytes()).collect();
        fs::write(&inp, bytes).map_err(io_err("cannot write", &inp))?;
        let res = Command::new(&self.binary)
            .arg(&inp)
            .arg(&out)
            .stdin(Stdio::null())
            .output()
            .map_err(io_err("cannot run", &self.binary))?;
        if !res.status.success() {
            return Err(DiffError::Harness {
                block: self.block,
                status: res.status.to_string(),
                output: String::from_utf8_lossy(&res.stderr).trim().to_string(),
            });
        }
        let bytes = fs::read(&out).map_err(io_err("cannot read", &out))?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
}

fn select<'a>(files: &'a [OutFile], block: &'static str) -> Result<Vec<&'a OutFile>, DiffError> {
    let mods = modules(block);
    if mods.is_empty() {
        return Err(DiffError::MissingModule {
            block,
            module: block,
        });
    }
    let mut out: Vec<&OutFile> = mods
        .iter()
        .map(|m| {
            let path = format!("rtl/{}.v", emit::module_name(m));
            files
                .iter()
                .find(|f| f.path == path)
                .ok_or(DiffError::MissingModule { block, module: m })
        })
        .collect::<Result<_, _>>()?;
    // modules a block instantiates only under some `[fpga]` options, where the config has them
    for m in optional_modules(block) {
        let path = format!("rtl/{}.v", emit::module_name(m));
        out.extend(files.iter().find(|f| f.path == path));
    }
    Ok(out)
}

/// The modules a block instantiates under some `[fpga]` options only (the PE's multiply
/// pipeline and logic multiplier), taken into its build when the config renders them.
fn optional_modules(block: &str) -> &'static [&'static str] {
    match block {
        "pe" => &["mult_logic", "mult_pipe"],
        _ => &[],
    }
}

/// What a differential run compared.
#[derive(Clone, Debug)]
pub struct DiffReport {
    pub block: &'static str,
    pub cycles: u64,
    pub outputs_compared: u64,
    pub model_cycles_per_sec: f64,
    pub trace: Trace,
}

/// Drive `model` with `stim` for `cycles` cycles, replay the inputs into `verilog`, and compare
/// every output on every cycle.
pub fn diff(
    model: &mut dyn Model,
    verilog: &VerilatorBlock,
    stim: &mut dyn Stimulus,
    cycles: u64,
) -> Result<DiffReport, DiffError> {
    let block = model.block();
    let trace = run_model(model, stim, cycles)?;
    let theirs = verilog.run(&trace)?;
    if theirs.len() != trace.outputs.len() {
        return Err(DiffError::Harness {
            block,
            status: "short output".into(),
            output: format!(
                "{} output words for {} cycles, expected {}",
                theirs.len(),
                trace.cycles,
                trace.outputs.len()
            ),
        });
    }
    compare(block, &trace, &theirs)?;
    let outs = trace
        .layout
        .ports
        .iter()
        .filter(|p| p.dir == Dir::Out)
        .count() as u64;
    Ok(DiffReport {
        block,
        cycles,
        outputs_compared: outs * cycles,
        model_cycles_per_sec: cycles as f64 / trace.model_secs.max(1e-9),
        trace,
    })
}

/// A model with one output bit flipped from a given cycle on: a deliberately wrong model, to
/// show that the comparison fails and names the block, cycle and signal.
pub struct FlipBit<M: Model> {
    pub inner: M,
    pub port: usize,
    pub bit: u32,
    pub from_cycle: u64,
    evals: u64,
    ticks: u64,
}

impl<M: Model> FlipBit<M> {
    pub fn new(inner: M, port: usize, bit: u32, from_cycle: u64) -> Self {
        FlipBit {
            inner,
            port,
            bit,
            from_cycle,
            evals: 0,
            ticks: 0,
        }
    }
}

impl<M: Model> Model for FlipBit<M> {
    fn block(&self) -> &'static str {
        self.inner.block()
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        self.inner.params()
    }
    fn ports(&self) -> &[Port] {
        self.inner.ports()
    }
    fn clocked(&self) -> bool {
        self.inner.clocked()
    }
    fn set(&mut self, port: usize, value: &[u64]) {
        self.inner.set(port, value)
    }
    fn get(&self, port: usize, value: &mut [u64]) {
        self.inner.get(port, value);
        // A clocked block has been clocked once per earlier cycle; a combinational one is
        // evaluated once per cycle by a stimulus that does not respond.
        let cycle = if self.inner.clocked() {
            self.ticks
        } else {
            self.evals.saturating_sub(1)
        };
        if port == self.port
            && cycle >= self.from_cycle
            && let Some(w) = value.get_mut(self.bit as usize / 64)
        {
            *w ^= 1 << (self.bit % 64);
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        self.evals += 1;
        self.inner.eval()
    }
    fn tick(&mut self) -> Result<(), HwError> {
        self.ticks += 1;
        self.inner.tick()
    }
    fn hdl(&self) -> &dyn rust_hdl::prelude::Block {
        self.inner.hdl()
    }
}
