//! Boards, devices and toolchains as data: the TOML files under `constraints/`.
//!
//! The shipped files are compiled into the binary, so `--board icebreaker` works from any
//! directory; `--board path/to/my_board.toml` reads a board (and its `base` and pin file)
//! from disk instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::FpgaError;
use crate::io_error::io_err;
use crate::toml_file::{self, Chain, TomlError};

/// The files under `constraints/`, by their path there.
const BUILTIN: &[(&str, &str)] = &[
    (
        "devices.toml",
        include_str!("../../constraints/devices.toml"),
    ),
    (
        "toolchains/ice40.toml",
        include_str!("../../constraints/toolchains/ice40.toml"),
    ),
    (
        "toolchains/ecp5.toml",
        include_str!("../../constraints/toolchains/ecp5.toml"),
    ),
    (
        "toolchains/load.toml",
        include_str!("../../constraints/toolchains/load.toml"),
    ),
    (
        "icebreaker.toml",
        include_str!("../../constraints/icebreaker.toml"),
    ),
    (
        "icebreaker.pcf",
        include_str!("../../constraints/icebreaker.pcf"),
    ),
    (
        "hx8k_breakout.toml",
        include_str!("../../constraints/hx8k_breakout.toml"),
    ),
    (
        "hx8k_breakout.pcf",
        include_str!("../../constraints/hx8k_breakout.pcf"),
    ),
    ("ulx3s.toml", include_str!("../../constraints/ulx3s.toml")),
    (
        "ulx3s_25f.toml",
        include_str!("../../constraints/ulx3s_25f.toml"),
    ),
    (
        "ulx3s_45f.toml",
        include_str!("../../constraints/ulx3s_45f.toml"),
    ),
    ("ulx3s.lpf", include_str!("../../constraints/ulx3s.lpf")),
    (
        "orangecrab.toml",
        include_str!("../../constraints/orangecrab.toml"),
    ),
    (
        "orangecrab.lpf",
        include_str!("../../constraints/orangecrab.lpf"),
    ),
];

/// Names of the shipped boards.
pub fn builtin_boards() -> Vec<&'static str> {
    BUILTIN
        .iter()
        .filter_map(|(p, _)| p.strip_suffix(".toml"))
        .filter(|p| *p != "devices" && !p.starts_with("toolchains/"))
        .collect()
}

/// A shipped file's text by its path under `constraints/`.
pub fn builtin_text(path: &str) -> Option<&'static str> {
    builtin(path)
}

fn builtin(path: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ice40,
    Ecp5,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ice40 => "ice40",
            Family::Ecp5 => "ecp5",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockPin {
    pub pin: String,
    pub mhz: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPin {
    pub pin: String,
    pub active_low: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UartPins {
    pub rx: String,
    pub tx: String,
    /// Baud rate of the board top's UART (default [`super::uart::DEFAULT_BAUD`]).
    #[serde(default)]
    pub baud: Option<u32>,
}

/// The board's LEDs that the board top drives, in the order of what they show (see
/// `templates/fpga/board_leds.v.tera`: heartbeat, error, rx, tx, reset).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedPins {
    pub pins: Vec<String>,
    /// An LED lights when its pin is driven low.
    pub active_low: bool,
}

/// How the loader ([`super::load`]) writes a bitstream to the board: its arguments per
/// memory, `{bitstream}` standing for the file. A memory the board cannot be loaded into
/// through the loader is left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramArgs {
    /// Into the FPGA's configuration RAM: at once, lost at power-off.
    pub sram: Option<Vec<String>>,
    /// Into the board's configuration flash: kept, loaded at every power-up.
    pub flash: Option<Vec<String>>,
    /// What the board needs besides a USB cable for the loader to find it (shown when it
    /// finds none).
    pub hint: Option<String>,
}

/// A board: its FPGA and the pins the board top uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    pub name: String,
    pub description: String,
    pub family: Family,
    /// Key into `devices.toml` (also the nextpnr device flag, e.g. `--up5k`, `--85k`).
    pub device: String,
    pub package: String,
    /// Pin file (`.pcf` for iCE40, `.lpf` for ECP5), relative to the board file.
    pub pins: String,
    pub clock: ClockPin,
    /// The button that resets the design; without one the design resets at configuration.
    pub reset: Option<ResetPin>,
    pub uart: UartPins,
    /// LEDs for the board top to show its state on (port `led`).
    pub leds: Option<LedPins>,
    /// How to load a bitstream (`eyeriss-gen program`); without it the board cannot be
    /// programmed by the tool.
    pub program: Option<ProgramArgs>,
    /// The pin file's text.
    #[serde(skip)]
    pub pin_file: String,
}

/// An FPGA's capacity (one entry of `devices.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub family: Family,
    pub name: String,
    pub synth_flags: String,
    pub luts: u64,
    pub ffs: u64,
    pub multipliers: u64,
    pub bram: u64,
    pub spram: u64,
    pub lutram_bits: u64,
}

/// One tool invocation of a flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    pub program: String,
    pub args: Vec<String>,
    /// Written to `build/<name>.ys` (placeholders filled in) before the step runs.
    pub script: Option<String>,
}

/// Netlist cell types counted as each resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cells {
    pub luts: Vec<String>,
    /// Carry-chain cells (a CCU2C fills two LUT4 positions of a slice).
    pub carry: Vec<String>,
    /// Distributed (LUT) RAM cells.
    pub lutram: Vec<String>,
    pub ffs: Vec<String>,
    pub multipliers: Vec<String>,
    pub bram: Vec<String>,
    pub spram: Vec<String>,
}

impl Cells {
    /// The per-module cost's resources ([`super::cost::RESOURCES`]) with their cell lists.
    pub fn groups(&self) -> [(&'static str, &[String]); 6] {
        [
            ("luts", &self.luts),
            ("carry", &self.carry),
            ("lutram", &self.lutram),
            ("ffs", &self.ffs),
            ("bram", &self.bram),
            ("multipliers", &self.multipliers),
        ]
    }
}

/// How `eyeriss-gen synth` synthesizes a design to cost it per module.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostStep {
    pub program: String,
    /// A Yosys script: `{sources}`, `{top}`, `{flatten}` (`-noflatten`, or empty for a
    /// flattened build) and `{netlist}` (the JSON netlist to write).
    pub script: String,
}

/// A family's flow: command-line templates for synthesis, place and route, packing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toolchain {
    pub family: Family,
    pub bitstream_ext: String,
    pub step: Vec<Step>,
    pub cells: Cells,
    /// Resources (`luts`, `ffs`, `bram`, `multipliers`, `spram`) as nextpnr counts them
    /// once placed: the name of the nextpnr utilization entry that replaces the netlist's
    /// count in the report. A placed LUT slot also holds LUT RAM and carry halves, which the
    /// netlist's LUT4 count leaves out.
    #[serde(default)]
    pub placed: std::collections::BTreeMap<String, String>,
    pub cost: CostStep,
}

/// Where a board's files come from.
enum Source {
    Builtin,
    Dir(PathBuf),
}

impl Source {
    /// The file's text and the name to show for it.
    fn read(&self, name: &str) -> Result<(String, PathBuf), TomlError> {
        match self {
            Source::Builtin => {
                let shown = Path::new("constraints").join(name);
                match builtin(name) {
                    Some(t) => Ok((t.to_string(), shown)),
                    None => Err(io_err("cannot read", &shown)(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file among the built-in constraints",
                    ))
                    .into()),
                }
            }
            Source::Dir(d) => {
                let p = d.join(name);
                Ok((toml_file::read(&p)?, p))
            }
        }
    }
}

fn board_table(
    src: &Source,
    file: &str,
    chain: &mut Chain,
) -> Result<(toml::Table, PathBuf), TomlError> {
    let (text, shown) = src.read(file)?;
    chain.enter(shown.clone(), &shown)?;
    let t = toml_file::table(&text, &shown)?;
    let t = toml_file::with_base(t, &shown, |b| Ok(board_table(src, b, chain)?.0))?;
    Ok((t, shown))
}

impl Board {
    /// A shipped board by name (`icebreaker`), or a board file on disk (`x/y.toml`).
    pub fn load(which: &str) -> Result<Board, FpgaError> {
        let as_path = Path::new(which);
        let (src, file) = if which.ends_with(".toml") || which.contains('/') {
            let dir = as_path.parent().unwrap_or(Path::new(".")).to_path_buf();
            let file = as_path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            (Source::Dir(dir), file)
        } else if builtin(&format!("{which}.toml")).is_some()
            && !which.starts_with("toolchains")
            && which != "devices"
        {
            (Source::Builtin, format!("{which}.toml"))
        } else {
            return Err(FpgaError::Board {
                board: which.to_string(),
                msg: format!(
                    "unknown board; the shipped boards are {}, or give a board file (.toml)",
                    builtin_boards().join(", ")
                ),
            });
        };
        let (table, shown) = board_table(&src, &file, &mut Chain::default())?;
        let mut board: Board = toml_file::decode(table, &shown)?;
        board.validate()?;
        board.pin_file = src.read(&board.pins)?.0;
        Ok(board)
    }

    fn validate(&self) -> Result<(), FpgaError> {
        let bad = |msg: String| FpgaError::Board {
            board: self.name.clone(),
            msg,
        };
        // The name goes into output paths (fpga_out/<config>-<board>, the bitstream's name)
        // and the pin file is copied to DIR/board/<pins>: both must be plain names.
        for (field, v) in [("name", &self.name), ("pins", &self.pins)] {
            crate::layer::check_name(field, v).map_err(|e| bad(e.to_string()))?;
        }
        let want_ext = match self.family {
            Family::Ice40 => ".pcf",
            Family::Ecp5 => ".lpf",
        };
        if !self.pins.ends_with(want_ext) {
            return Err(bad(format!(
                "pins = {:?}: a {} board needs a {want_ext} pin file",
                self.pins,
                self.family.as_str()
            )));
        }
        if !(self.clock.mhz > 0.0 && self.clock.mhz < 1000.0) {
            return Err(bad(format!(
                "clock.mhz = {}: must be in (0, 1000)",
                self.clock.mhz
            )));
        }
        if let Some(l) = &self.leds {
            let most = super::uart::LEDS_SHOWN;
            if l.pins.is_empty() || l.pins.len() > most as usize {
                return Err(bad(format!(
                    "[leds] pins lists {} pins: the board top shows 1 to {most} things (heartbeat, error, rx, tx, reset, in that order); list that many, or leave the table out",
                    l.pins.len()
                )));
            }
        }
        if let Some(p) = &self.program {
            if p.sram.is_none() && p.flash.is_none() {
                return Err(bad(
                    "[program] gives neither `sram` nor `flash`: give the loader's arguments for at least one, or leave the table out".into(),
                ));
            }
            for (field, args) in [("sram", &p.sram), ("flash", &p.flash)] {
                if let Some(args) = args
                    && !args.iter().any(|a| a.contains("{bitstream}"))
                {
                    return Err(bad(format!(
                        "[program] {field} = {args:?} never names {{bitstream}}, the file to load"
                    )));
                }
            }
        }
        let dev = Device::load(&self.device)?;
        if dev.family != self.family {
            return Err(bad(format!(
                "device {:?} is an {} part, the board says family = {:?}",
                self.device,
                dev.family.as_str(),
                self.family.as_str()
            )));
        }
        Ok(())
    }

    /// Pins by the board top's port names (`led[i]` for each bit of `led`), as the board
    /// file gives them.
    pub fn port_pins(&self) -> BTreeMap<String, &str> {
        let mut m = BTreeMap::new();
        m.insert("clk".to_string(), self.clock.pin.as_str());
        m.insert("rx".to_string(), self.uart.rx.as_str());
        m.insert("tx".to_string(), self.uart.tx.as_str());
        if let Some(r) = &self.reset {
            m.insert("btn".to_string(), r.pin.as_str());
        }
        for (i, pin) in self.leds.iter().flat_map(|l| l.pins.iter()).enumerate() {
            m.insert(format!("led[{i}]"), pin.as_str());
        }
        m
    }

    /// Pins by port name as the pin file assigns them (`set_io` / `LOCATE COMP`).
    pub fn pin_file_pins(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for line in self.pin_file.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let words: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || c == ';')
                .filter(|w| !w.is_empty())
                .collect();
            match words.as_slice() {
                ["set_io", rest @ ..] => {
                    let rest: Vec<&&str> = rest.iter().filter(|w| !w.starts_with('-')).collect();
                    if let [port, pin, ..] = rest.as_slice() {
                        m.insert(port.to_string(), pin.to_string());
                    }
                }
                ["LOCATE", "COMP", port, "SITE", site, ..] => {
                    m.insert(port.trim_matches('"').into(), site.trim_matches('"').into());
                }
                _ => {}
            }
        }
        m
    }
}

impl Device {
    pub fn load(key: &str) -> Result<Device, FpgaError> {
        let text = builtin("devices.toml").unwrap_or_default();
        let mut all: BTreeMap<String, Device> =
            toml_file::parse(text, Path::new("constraints/devices.toml"))?;
        let keys: Vec<String> = all.keys().cloned().collect();
        all.remove(key).ok_or_else(|| FpgaError::Board {
            board: key.to_string(),
            msg: format!("unknown device; known: {}", keys.join(", ")),
        })
    }
}

impl Toolchain {
    pub fn load(family: Family) -> Result<Toolchain, FpgaError> {
        let name = format!("toolchains/{}.toml", family.as_str());
        let text = builtin(&name).unwrap_or_default();
        Ok(toml_file::parse(
            text,
            &Path::new("constraints").join(&name),
        )?)
    }
}
