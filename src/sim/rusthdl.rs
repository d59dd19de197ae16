//! rust-hdl backend: runs host programs on the rust-hdl model of `eyeriss_top`
//! ([`crate::hw::top::Top`]), driven directly (inputs, settle, clock) with exactly the host
//! behaviour of `sim/harness.cpp`: the same reset, the same per-cycle order of stall draws from
//! the same splitmix64 generator, the same stop rule. A program therefore takes the same
//! cycles on both backends, stalls included, and any difference is a difference between the
//! model and the Verilog.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::vcd::VcdWriter;
use super::{RunOpts, RunResult, SimError, UartFaults, io_err};
use crate::config::ArchConfig;
use crate::hw::top::Top;
use crate::hw::{HwError, Model};

/// Reset cycles before the first program word, as in the Verilator harness.
const RESET_CYCLES: u32 = 3;

/// The host side of [`Top`]: its ports' indices, looked up by the template's names.
struct HostPorts {
    rst: usize,
    in_valid: usize,
    in_ready: usize,
    in_data: usize,
    out_valid: usize,
    out_ready: usize,
    out_data: usize,
}

impl HostPorts {
    fn of(top: &dyn Model) -> Result<HostPorts, SimError> {
        let ix = |name: &str| {
            top.port_index(name)
                .ok_or_else(|| SimError::Model(format!("the top model has no port `{name}`")))
        };
        Ok(HostPorts {
            rst: ix("rst")?,
            in_valid: ix("in_valid")?,
            in_ready: ix("in_ready")?,
            in_data: ix("in_data")?,
            out_valid: ix("out_valid")?,
            out_ready: ix("out_ready")?,
            out_data: ix("out_data")?,
        })
    }
}

/// The host's stall draws: splitmix64, as `host_io::Rng` in `sim/host_io.h`.
#[derive(Clone, Debug)]
pub struct HostRng(u64);

impl HostRng {
    pub fn new(seed: u64) -> HostRng {
        HostRng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// True with probability pct / 100.
    pub fn chance(&mut self, pct: u32) -> bool {
        self.next_u64() % 100 < u64::from(pct)
    }
}

/// The rust-hdl model of one configuration.
#[derive(Debug, Clone)]
pub struct RustHdlSim {
    cfg: ArchConfig,
}

/// A fresh top model, with stream engines sized for the config's stream rows.
pub fn top_model(cfg: &ArchConfig) -> Result<Box<dyn Model>, HwError> {
    let rows = cfg.noc.stream_rows.max(cfg.noc.ifmap_stream_rows);
    Ok(if rows <= 64 {
        Box::new(Top::<64>::new(cfg)?)
    } else {
        Box::new(Top::<256>::new(cfg)?)
    })
}

/// Cycles between progress reports (the model runs about 1,000 to 10,000 cycles a second).
const PROGRESS_EVERY: u64 = 4096;

impl RustHdlSim {
    /// Check that the model covers `cfg` (each block's model refuses parameters beyond it,
    /// naming the block and parameter).
    pub fn new(cfg: &ArchConfig) -> Result<RustHdlSim, SimError> {
        top_model(cfg).map_err(model_err)?;
        Ok(RustHdlSim { cfg: cfg.clone() })
    }

    pub fn backend_name(&self) -> &'static str {
        "rust-hdl"
    }

    /// Run `program` (which must end with a MARK word) and return every output word.
    pub fn run(&self, program: &[u64], opts: &RunOpts) -> Result<RunResult, SimError> {
        let last = *program.last().ok_or(SimError::EmptyProgram)?;
        if opts.uart != UartFaults::default() {
            return Err(SimError::Unsupported(
                "UART faults need the Verilator UART model (sim --uart)",
            ));
        }
        let mut top = top_model(&self.cfg).map_err(model_err)?;
        let mut vcd_file = match &opts.vcd {
            Some(path) => Some((
                path,
                BufWriter::new(File::create(path).map_err(io_err("cannot create", path))?),
            )),
            None => None,
        };
        let mut vcd = match vcd_file.as_mut() {
            Some((path, f)) => Some(
                VcdWriter::new(
                    f,
                    top.hdl(),
                    self.cfg.array.cols as usize,
                    &top.instance_ports(),
                )
                .map_err(vcd_err(path))?,
            ),
            None => None,
        };
        let p = HostPorts::of(top.as_ref())?;
        let set = |top: &mut Box<dyn Model>, port: usize, v: u64| top.set(port, &[v]);
        let get = |top: &dyn Model, port: usize| {
            let mut v = [0u64];
            top.get(port, &mut v);
            v[0]
        };
        // VCD time: one unit per half clock period, as the Verilator harness counts it.
        let mut time = 0u64;
        let mut step = |top: &mut Box<dyn Model>,
                        vcd: &mut Option<VcdWriter<&mut BufWriter<File>>>,
                        clock: bool|
         -> Result<(), SimError> {
            if clock {
                top.tick().map_err(model_err)?;
            } else {
                top.eval().map_err(model_err)?;
            }
            if let Some(w) = vcd.as_mut() {
                w.sample(time, top.hdl());
            }
            time += 1;
            Ok(())
        };

        set(&mut top, p.rst, 1);
        set(&mut top, p.in_valid, 0);
        set(&mut top, p.in_data, 0);
        set(&mut top, p.out_ready, 0);
        for _ in 0..RESET_CYCLES {
            step(&mut top, &mut vcd, false)?;
            step(&mut top, &mut vcd, true)?;
        }
        set(&mut top, p.rst, 0);

        let mut rng = HostRng::new(opts.seed);
        let n = program.len();
        let mut consumed = 0usize;
        let mut words = Vec::new();
        let mut cycles = 0u64;
        let mut done = false;
        while cycles < opts.max_cycles {
            let stall_in = rng.chance(opts.stall_in);
            let stall_out = rng.chance(opts.stall_out);
            let in_valid = consumed < n && !stall_in;
            set(&mut top, p.in_valid, in_valid as u64);
            set(&mut top, p.in_data, program[consumed.min(n - 1)]);
            set(&mut top, p.out_ready, !stall_out as u64);
            step(&mut top, &mut vcd, false)?;
            let in_fire = in_valid && get(top.as_ref(), p.in_ready) != 0;
            let out_fire = get(top.as_ref(), p.out_valid) != 0 && !stall_out;
            let word = get(top.as_ref(), p.out_data);
            step(&mut top, &mut vcd, true)?;
            cycles += 1;
            if let Some(bar) = &opts.progress
                && cycles.is_multiple_of(PROGRESS_EVERY)
            {
                crate::progress::advance(bar, cycles);
            }
            if in_fire {
                consumed += 1;
            }
            if out_fire {
                words.push(word);
                if consumed == n && word == last {
                    done = true;
                    break;
                }
            }
        }
        if let Some(w) = vcd {
            let res = w.finish();
            if let Some((path, mut f)) = vcd_file {
                res.and_then(|()| f.flush()).map_err(vcd_err(path))?;
            }
        }
        if !done {
            return Err(SimError::Timeout {
                max_cycles: opts.max_cycles,
                detail: format!(
                    "{consumed} of {n} program words consumed, {} output words",
                    words.len()
                ),
                words,
            });
        }
        Ok(RunResult {
            words,
            cycles,
            link: None,
        })
    }
}

fn model_err(e: HwError) -> SimError {
    SimError::Model(e.to_string())
}

fn vcd_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + use<> {
    let f = io_err("cannot write", path);
    move |e| SimError::Io(f(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_rng_is_splitmix64() {
        // splitmix64 from seed 0: the reference sequence's first outputs
        let mut r = HostRng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }
}
