//! The board top and its UART bridge: `eyeriss_board_top` carries eyeriss_top's host streams
//! over the board's UART (protocol in `docs/fpga.md`, "The board top").
//!
//! The same Verilog runs on a board (clock and baud from the board file or `--baud`) and in
//! Verilator behind `sim/uart_harness.cpp`, where only the divisor (clocks per bit) matters.

use crate::config::ArchConfig;
use crate::emit::OutFile;

use super::pll::{self, EcpPll};
use super::{Board, Family, FpgaError};

/// The baud rate when neither the board file nor `--baud` gives one: every board's clock
/// divides to it within 0.2%, and every USB-serial adapter and terminal program supports it.
pub const DEFAULT_BAUD: u32 = 115_200;
/// The receive FIFO: one iCE40 SB_RAM40_4K as 512 x 8 (one ECP5 DP16KD holds it too). The
/// host starts with `RX_FIFO_BYTES / 8` credits.
pub const RX_FIFO_BYTES: u32 = 512;
/// The receiver samples mid-bit after a two-flop synchronizer; below 4 clocks per bit the
/// sample point lands too close to the bit edges.
pub const MIN_DIVISOR: u32 = 4;
/// A UART tolerates about 4-5% of timing error in total, shared by both ends: each end may
/// take at most 2%.
pub const MAX_BAUD_ERROR: f64 = 0.02;

/// The divisor the simulation harness uses by default: fast enough that a small layer runs in
/// seconds, slow enough to exercise the mid-bit sampling.
pub const SIM_DIVISOR: u32 = 4;

/// Board-to-host frame tags (the byte before each frame's payload).
pub const TAG_STATUS: u8 = b'S';
pub const TAG_CREDIT: u8 = b'C';
pub const TAG_DATA: u8 = b'D';
/// The identity frame, sent once right after the hello: [`design_id`] as 8 bytes,
/// little-endian.
pub const TAG_IDENT: u8 = b'I';
/// Status bits.
pub const STATUS_FRAMING: u8 = 0x01;
pub const STATUS_OVERFLOW: u8 = 0x02;

/// What the board top's LEDs show, by bit of its `led` port (templates/fpga/board_leds.v.tera).
pub const LED_HEARTBEAT: u32 = 0;
pub const LED_ERROR: u32 = 1;
pub const LED_RX: u32 = 2;
pub const LED_TX: u32 = 3;
pub const LED_RESET: u32 = 4;
/// How many of those there are: a board file lists at most this many LED pins.
pub const LEDS_SHOWN: u32 = 5;

/// Templates in the order they are written; the board top first.
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "board_top",
        "eyeriss_board_top",
        include_str!("../../templates/fpga/board_top.v.tera"),
    ),
    (
        "board_leds",
        "eyeriss_board_leds",
        include_str!("../../templates/fpga/board_leds.v.tera"),
    ),
    (
        "uart_bridge",
        "eyeriss_uart_bridge",
        include_str!("../../templates/fpga/uart_bridge.v.tera"),
    ),
    (
        "uart_fifo",
        "eyeriss_uart_fifo",
        include_str!("../../templates/fpga/uart_fifo.v.tera"),
    ),
    (
        "uart_rx",
        "eyeriss_uart_rx",
        include_str!("../../templates/fpga/uart_rx.v.tera"),
    ),
    (
        "uart_tx",
        "eyeriss_uart_tx",
        include_str!("../../templates/fpga/uart_tx.v.tera"),
    ),
];

/// What a board top is rendered for.
#[derive(Debug, Clone)]
pub struct TopParams {
    /// Shown in the header comment.
    pub board: String,
    pub clk_hz: u64,
    pub baud: u32,
    /// A reset button exists (port `btn`), and whether it reads 0 when pressed.
    pub has_reset: bool,
    pub reset_active_low: bool,
    /// The PLL that makes `clk_hz` from the board's oscillator, when it is not the
    /// oscillator itself.
    pub pll: Option<EcpPll>,
    /// LEDs driven (port `led`, 0 for none; at most [`LEDS_SHOWN`]), and whether they light
    /// on a low pin.
    pub leds: u32,
    pub leds_active_low: bool,
}

impl TopParams {
    /// For `board` at `baud` (default: the board file's, else [`DEFAULT_BAUD`]), clocked
    /// by its oscillator.
    pub fn for_board(board: &Board, baud: Option<u32>) -> TopParams {
        TopParams {
            board: board.name.clone(),
            clk_hz: (board.clock.mhz * 1e6).round() as u64,
            baud: baud.or(board.uart.baud).unwrap_or(DEFAULT_BAUD),
            has_reset: board.reset.is_some(),
            reset_active_low: board.reset.as_ref().is_some_and(|r| r.active_low),
            pll: None,
            leds: board.leds.as_ref().map_or(0, |l| l.pins.len() as u32),
            leds_active_low: board.leds.as_ref().is_some_and(|l| l.active_low),
        }
    }

    /// As [`for_board`](Self::for_board), with the design clock at `freq_mhz`: above the
    /// oscillator of an ECP5 board, an EHXPLLL derives it (the nearest rate its dividers
    /// make); otherwise the design runs on the oscillator.
    pub fn for_board_at(
        board: &Board,
        baud: Option<u32>,
        freq_mhz: Option<f64>,
    ) -> Result<TopParams, FpgaError> {
        let mut p = Self::for_board(board, baud);
        if let Some(f) = freq_mhz
            && board.family == Family::Ecp5
            && f > board.clock.mhz
        {
            let pll = pll::ecp5_pll(board.clock.mhz, f)?;
            p.clk_hz = (pll.out_mhz * 1e6).round() as u64;
            p.pll = Some(pll);
        }
        Ok(p)
    }

    /// For the Verilator harness: an active-high button it drives, every LED (active high,
    /// for the harness to watch), and a clock of exactly `divisor` clocks per bit at
    /// [`DEFAULT_BAUD`].
    pub fn for_sim(divisor: u32) -> TopParams {
        TopParams {
            board: "verilator".into(),
            clk_hz: u64::from(divisor) * u64::from(DEFAULT_BAUD),
            baud: DEFAULT_BAUD,
            has_reset: true,
            reset_active_low: false,
            pll: None,
            leds: LEDS_SHOWN,
            leds_active_low: false,
        }
    }

    /// Clocks per bit, rounded as the Verilog rounds it, after checking that a UART at this
    /// clock and baud works.
    pub fn divisor(&self) -> Result<u32, FpgaError> {
        divisor(self.clk_hz, self.baud)
    }
}

/// `clk_hz / baud` rounded to the nearest integer, refused when it is below [`MIN_DIVISOR`],
/// misses the baud by more than [`MAX_BAUD_ERROR`], or does not fit the Verilog's 32-bit
/// integer arithmetic.
pub fn divisor(clk_hz: u64, baud: u32) -> Result<u32, FpgaError> {
    let bad = |why: String| FpgaError::Baud { baud, clk_hz, why };
    if baud == 0 {
        return Err(bad("the baud rate must be positive".into()));
    }
    if clk_hz + u64::from(baud) / 2 > i32::MAX as u64 {
        return Err(bad(
            "the clock is too fast for the board top's arithmetic".into()
        ));
    }
    let div = (clk_hz + u64::from(baud) / 2) / u64::from(baud);
    if div < u64::from(MIN_DIVISOR) {
        return Err(bad(format!(
            "{div} clocks per bit; the receiver needs at least {MIN_DIVISOR} (the fastest rate is about {} baud)",
            clk_hz / u64::from(MIN_DIVISOR)
        )));
    }
    let actual = clk_hz as f64 / div as f64;
    let err = (actual - f64::from(baud)).abs() / f64::from(baud);
    if err > MAX_BAUD_ERROR {
        return Err(bad(format!(
            "{div} clocks per bit give {actual:.0} baud, {:.1}% off (at most {:.0}% works); pick a rate near clk / n",
            100.0 * err,
            100.0 * MAX_BAUD_ERROR
        )));
    }
    Ok(div as u32)
}

/// The word a board top of `cfg` sends in its identity frame: the config hash
/// ([`ArchConfig::hash`], 16 hex digits) as a number, so that the host can check which design a
/// board runs.
pub fn design_id(cfg: &ArchConfig) -> u64 {
    // The hash is 16 hex digits by construction; a failure here would be a bug in `hash`.
    u64::from_str_radix(&cfg.hash(), 16).unwrap_or_default()
}

/// The board top and the UART modules it instantiates, as `rtl/<module>.v` files.
pub fn render(cfg: &ArchConfig, p: &TopParams) -> Result<Vec<OutFile>, FpgaError> {
    let div = p.divisor()?;
    let mut files = Vec::new();
    for (block, module, src) in TEMPLATES {
        if *block == "board_leds" && p.leds == 0 {
            continue;
        }
        let mut ctx = tera::Context::new();
        ctx.insert("board", &p.board);
        ctx.insert("clk_hz", &p.clk_hz);
        ctx.insert("baud", &p.baud);
        ctx.insert("div", &div);
        ctx.insert("fifo_bytes", &RX_FIFO_BYTES);
        ctx.insert("design_id", &format!("{:016x}", design_id(cfg)));
        ctx.insert("has_reset", &p.has_reset);
        ctx.insert("reset_active_low", &p.reset_active_low);
        ctx.insert("pll", &p.pll);
        ctx.insert("leds", &p.leds);
        ctx.insert("leds_active_low", &u32::from(p.leds_active_low));
        ctx.insert("osc_hz", &p.pll.map(|q| (q.in_mhz * 1e6).round() as u64));
        ctx.insert(
            "header",
            &format!(
                "Generated by eyeriss-gen {} from config '{}' (hash {}) for board '{}'. \
                 Edit templates/fpga/{block}.v.tera, not this file.",
                env!("CARGO_PKG_VERSION"),
                cfg.name,
                cfg.hash(),
                p.board
            ),
        );
        let text = tera::Tera::one_off(src, &ctx, false)
            .map_err(|e| FpgaError::Placeholder(format!("fpga/{block}.v.tera: {e:?}")))?;
        files.push(OutFile {
            path: format!("rtl/{module}.v"),
            sha256: String::new(),
            contents: text,
        });
    }
    Ok(files)
}
