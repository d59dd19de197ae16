//! What a config needs on an FPGA, estimated before running Yosys (which does not check
//! device limits; overuse would only show up minutes later in nextpnr).
//!
//! - Multipliers: one per PE (the MAC), plus the small products outside the MACs: on iCE40
//!   one for the `p*q*S` product of the PEs' parameter logic, which Yosys shares between PEs
//!   after flattening; on ECP5, where Yosys maps multiplies from 2 x 2 bits up to DSP blocks,
//!   five (the PEs' shared `p*q*S`, `S*q` and `U*q`, one in the controller, one in the drain
//!   engine; measured on `small` and `ecp5_small`). PEs that multiply in
//!   logic (`[fpga] logic_mult_pes`) need no DSP block but the LUTs of `eyeriss_mult_logic`,
//!   as measured on the module alone.
//! - Block RAM: each PE's filter spad and each GLB bank (`bank_words x 64`), each cut into the
//!   family's block shapes, and the board top's UART receive FIFO. The ifmap and psum spads
//!   and the FIFOs are read asynchronously, so they are flip-flops (iCE40 has no LUT RAM).
//! - Logic: flip-flops counted from the register bits the templates declare (and the board
//!   top's), LUT4s as 1.52 x flip-flops plus a fixed amount per PE. Calibrated on `synth_ice40`
//!   builds of `ice40_1x1` and `ice40_2x2` with the UART board top (see docs/fpga.md): within
//!   2.2% of both. iCE40 logic cells (what nextpnr runs out of) as LUT4s + 0.6 x flip-flops,
//!   calibrated on one HX8K build. ECP5 has its own fit ([`ecp5_logic`]): there the spads,
//!   output queues and stream rows are LUT RAM, whose LUT4 slots count against the device.

use serde::Serialize;

use super::board::{Device, Family};
use crate::config::ArchConfig;

/// LUT4s per flip-flop. Fitted on flattened `synth_ice40 -dsp` builds with the UART board
/// top and 24-bit counters: ice40_1x1 4,476 LUT4 and 3,152 flip-flops, ice40_2x2 7,512 and
/// 5,264 (Yosys 0.23). With the stream engines' counts at STREAM_LEN_W bits the logic per PE
/// beyond this ratio, which the fit had as a term of its own, is gone.
const LUTS_PER_FF: f64 = 1.46;
/// Share of the flip-flops that need a logic cell of their own on iCE40.
const LC_FFS_UNPAIRED: f64 = 0.6;
/// Flip-flops outside the PEs that do not scale with the array, GLB, stream rows or counter
/// width (controller, drain, GON registers): 1,916 measured with 48-bit counters.
const FIXED_FFS: u64 = 1916 - COUNTERS * 48;
/// Hardware counters of `host.counter_bits` each (eyeriss_counters).
const COUNTERS: u64 = 21;
/// Flip-flops of the board top: the UART bridge (233 in a synth_ice40 of the bridge alone:
/// mostly the 64-bit word being assembled and the 9-byte frame being sent), the break
/// counter and the reset registers.
pub const BOARD_TOP_FFS: u64 = 251;
/// ECP5 fit (see [`ecp5_cells`]), from flattened `synth_ecp5 -nowidelut` builds. LUT4 + 2 x
/// CCU2C: 10,960 at 1 x 1, 14,322 at 2 x 2 and 22,348 at 3 x 4 with 8 banks; 17,550 at 1 x 1
/// and 22,724 at 2 x 3 with 27 (the fit is within 2% of each).
const ECP5_BASE_LUTS: u64 = 7200;
const ECP5_BANK_LUTS: u64 = 341;
const ECP5_PE_LUTS: u64 = 1032;
/// Flip-flops: 2,994, 3,832 and 5,603 (8 banks); 3,011 and 4,208 (27 banks): the GLB banks
/// add none that the fit can see. The base is without the 21 counters.
const ECP5_BASE_FFS: u64 = 2755 - COUNTERS * 48;
const ECP5_PE_FFS: u64 = 245;
/// TRELLIS_DPR16X4: 270, 492 and 1,084 (8 banks); 274 and 644 (27 banks). The base is
/// without the stream engines' per-row counts (STREAM_LEN_W bits: 14 with 8 banks of 256
/// words, 17 with the chip's GLB), counted apart.
const ECP5_BASE_DPR: u64 = 164;
const ECP5_PE_DPR: u64 = 74;
pub const ECP5_SLOTS_PER_DPR: f64 = 7.3;
/// LUT4s of the board top (the UART bridge, 237 in a synthesis of the bridge alone).
pub const BOARD_TOP_LUTS: u64 = 260;
/// Flip-flops per GLB bank (arbitration and read-back registers).
const FFS_PER_BANK: u64 = 40;
/// Flip-flops of a PE besides its spads, FIFOs and datapath registers (control, counters).
const PE_CONTROL_FFS: u64 = 142;
/// Flip-flops the `[fpga] mult_pipeline` stage adds beyond its operands and product (valid,
/// zero and first flags, the psum index).
const MULT_PIPE_CONTROL_FFS: u64 = 8;
/// Operand widths of an ECP5 MULT18X18D and an iCE40 SB_MAC16; wider data keeps the
/// multiply pipeline's registers in the fabric.
const MULT18X18D_OPERAND_W: u64 = 18;
const SB_MAC16_OPERAND_W: u64 = 16;

/// LUT4s of one `eyeriss_mult_logic` for `data_width`-bit data, from `synth_ecp5` and
/// `synth_ice40` of the module alone (Yosys 0.23, docs/fpga.md). On ECP5 (`-nowidelut`, as
/// the flow runs it) a CCU2C carry cell is counted as the two LUT4s it occupies: 4 bits
/// 24 LUT4 + 7 CCU2C, 8 bits 80 + 25, 16 bits 282 + 88. On iCE40 the SB_CARRY shares its logic cell with a LUT.
fn logic_mult_luts(family: Family, data_width: u32) -> u64 {
    match (family, data_width) {
        (Family::Ecp5, 4) => 24 + 2 * 7,
        (Family::Ecp5, 8) => 80 + 2 * 25,
        (Family::Ecp5, _) => 282 + 2 * 88,
        (Family::Ice40, 4) => 36,
        (Family::Ice40, 8) => 127,
        (Family::Ice40, _) => 454,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub rows: u32,
    pub cols: u32,
    pub multipliers: u64,
    pub bram: u64,
    pub spram: u64,
    /// iCE40: logic cells (LUT4 + flip-flop); ECP5: the larger of LUT4s and flip-flops.
    pub logic_cells: u64,
    pub luts: u64,
    pub ffs: u64,
    pub lutram_bits: u64,
}

/// A resource the design needs more of than the device has.
#[derive(Debug, Clone, Serialize)]
pub struct Shortfall {
    pub resource: &'static str,
    pub unit: &'static str,
    pub needed: u64,
    pub available: u64,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: needs {} {}, the device has {} ({} over, {:.0}%)",
            self.resource,
            self.needed,
            self.unit,
            self.available,
            self.needed - self.available,
            100.0 * self.needed as f64 / self.available.max(1) as f64
        )
    }
}

fn clog2(x: u64) -> u64 {
    let mut b = 0;
    while (1u64 << b) < x {
        b += 1;
    }
    b
}

/// Blocks of block RAM for a `depth x width` memory, in the cheapest block shape.
pub fn bram_blocks(family: Family, depth: u64, width: u64) -> u64 {
    let shapes: &[(u64, u64)] = match family {
        // SB_RAM40_4K: width x depth
        Family::Ice40 => &[(16, 256), (8, 512), (4, 1024), (2, 2048)],
        // DP16KD (512 x 36 uses both ports as one wide port)
        Family::Ecp5 => &[
            (36, 512),
            (18, 1024),
            (9, 2048),
            (4, 4096),
            (2, 8192),
            (1, 16384),
        ],
    };
    shapes
        .iter()
        .map(|&(w, d)| width.div_ceil(w) * depth.div_ceil(d))
        .min()
        .unwrap_or(0)
}

/// Register bits of one PE's input and output FIFOs.
fn pe_fifo_bits(cfg: &ArchConfig) -> u64 {
    let dw = cfg.data.data_width as u64;
    let filt_lanes = cfg.noc.filter_gin_width as u64 / dw;
    let ifmap_lanes = cfg.noc.ifmap_gin_width as u64 / dw;
    let glb_addr_w = clog2(cfg.glb.bank_words as u64) + clog2(cfg.glb.banks as u64).max(1);
    let idx_w = glb_addr_w.max(16);
    let widths = (cfg.noc.filter_gin_width as u64 + clog2(filt_lanes + 1))
        + (cfg.noc.ifmap_gin_width as u64 + clog2(ifmap_lanes + 1))
        + 64
        + (64 + idx_w);
    cfg.pe.fifo_depth as u64 * widths
}

/// Flip-flops the `[fpga] mult_pipeline` stage adds to a PE: its two operands and the raw
/// product, which replaces the shifted one, and the stage's flags.
fn pipe_ffs(cfg: &ArchConfig) -> u64 {
    if cfg.fpga.mult_pipeline {
        (4 * cfg.data.data_width as u64).saturating_sub(cfg.data.psum_width as u64)
            + MULT_PIPE_CONTROL_FFS
    } else {
        0
    }
}

/// Flip-flops that `[fpga] mult_pipeline` keeps inside the DSP blocks instead of the fabric:
/// each DSP PE's operand and product registers. On ECP5, `eyeriss_mult_pipe` under
/// EYERISS_ECP5 puts them in the MULT18X18D's own (measured: a PE synthesizes to 185
/// TRELLIS_FF against 249 without the define, 4 x 16 fewer); on iCE40, `synth_ice40 -dsp`
/// packs the portable form's registers into the SB_MAC16 (measured: `eyeriss_mult_pipe` alone
/// is one SB_MAC16 and 2 LUT4).
/// A device without DSP blocks (the HX8K) keeps them all in the fabric.
fn dsp_ffs(cfg: &ArchConfig, dev: &Device) -> u64 {
    let dw = cfg.data.data_width as u64;
    let operand_w = match dev.family {
        Family::Ecp5 => MULT18X18D_OPERAND_W,
        Family::Ice40 => SB_MAC16_OPERAND_W,
    };
    if cfg.fpga.mult_pipeline && dev.multipliers > 0 && dw <= operand_w {
        let dsp_pes = cfg.first_logic_mult_pe() as u64;
        4 * dw * dsp_pes
    } else {
        0
    }
}

/// Flip-flops of one PE that are not FIFO storage.
fn pe_reg_ffs(cfg: &ArchConfig) -> u64 {
    let dw = cfg.data.data_width as u64;
    cfg.pe.ifmap_spad as u64 * dw
        + cfg.pe.psum_spad as u64 * cfg.data.psum_width as u64
        + 4 * dw
        + pipe_ffs(cfg)
        + PE_CONTROL_FFS
}

/// Flip-flops outside the PE array.
fn fixed_ffs(cfg: &ArchConfig) -> u64 {
    let glb_addr_w = clog2(cfg.glb.bank_words as u64) + clog2(cfg.glb.banks as u64).max(1);
    // Each stream engine keeps per row: element address, elements left (STREAM_LEN_W), the
    // fetched word (64) and the tag (16).
    let len_w = crate::hw::stream_len_w(cfg) as u64;
    let row_bits = |elem_w: u32| glb_addr_w + clog2(64 / elem_w as u64) + len_w + 64 + 16;
    let (rows, ifmap_rows) = (cfg.noc.stream_rows as u64, cfg.noc.ifmap_stream_rows as u64);
    let streams = rows * (row_bits(cfg.data.data_width) + row_bits(cfg.data.psum_width))
        + ifmap_rows * row_bits(cfg.data.data_width);
    FIXED_FFS
        + COUNTERS * cfg.host.counter_bits as u64
        + BOARD_TOP_FFS
        + FFS_PER_BANK * cfg.glb.banks as u64
        + streams
}

pub fn estimate(cfg: &ArchConfig, dev: &Device) -> Estimate {
    let family = dev.family;
    let pes = cfg.pes() as u64;
    let dw = cfg.data.data_width as u64;
    // `[fpga] shared_filter_spad`: PEs 2k and 2k+1 share one memory of two power-of-two halves
    // (eyeriss_fspad_pair); an odd last PE has a pair module of its own.
    let filter_bram_total = if cfg.fpga.shared_filter_spad {
        let half = 1u64 << clog2(cfg.pe.filter_spad as u64).max(1);
        pes.div_ceil(2) * bram_blocks(family, 2 * half, dw)
    } else {
        pes * bram_blocks(family, cfg.pe.filter_spad as u64, dw)
    };
    let glb_bram = cfg.glb.banks as u64 * bram_blocks(family, cfg.glb.bank_words as u64, 64);
    let stream_bram = match family {
        Family::Ecp5 => ifmap_stream_bram(cfg),
        Family::Ice40 => 0,
    };
    // The board top's UART receive FIFO.
    let uart_bram = bram_blocks(family, u64::from(super::uart::RX_FIFO_BYTES), 8);
    let (ffs, lutram_bits, mut luts) = match family {
        Family::Ice40 => {
            let ffs =
                fixed_ffs(cfg) + pes * (pe_reg_ffs(cfg) + pe_fifo_bits(cfg)) - dsp_ffs(cfg, dev);
            let luts =
                (ffs as f64 * LUTS_PER_FF).round() as u64 + pes * max_mode_luts(cfg, Family::Ice40);
            (ffs, 0, luts)
        }
        Family::Ecp5 => ecp5_logic(cfg, dev),
    };
    let logic_pes = u64::from(cfg.fpga.logic_mult_pes).min(pes);
    luts += logic_pes * logic_mult_luts(family, cfg.data.data_width);
    let shared_products = match family {
        Family::Ice40 => 1,
        Family::Ecp5 => 5,
    };
    let mut multipliers = pes - logic_pes + shared_products;
    if dev.multipliers == 0 {
        // No DSP blocks (iCE40 HX): Yosys builds each remaining multiply from LUTs and carry
        // chains, about w x w LUT4s for a w x w multiply, plus about 64 for the parameter
        // product (measured: ice40_1x1 on the HX8K, 5,554 LUT4 against 5,451 estimated).
        let dw = cfg.data.data_width as u64;
        luts += (pes - logic_pes) * dw * dw + 64;
        multipliers = 0;
    }
    let logic_cells = match family {
        // An iCE40 logic cell is a LUT4 and a flip-flop; a flip-flop whose input is not the
        // output of a LUT of its own takes a cell with a pass-through LUT. Measured:
        // ice40_1x1 on the HX8K took 7,652 cells for 5,554 LUT4 and 3,501 flip-flops.
        Family::Ice40 => luts + (ffs as f64 * LC_FFS_UNPAIRED).round() as u64,
        Family::Ecp5 => luts.max(ffs),
    };
    Estimate {
        rows: cfg.array.rows,
        cols: cfg.array.cols,
        logic_cells,
        multipliers,
        bram: filter_bram_total + glb_bram + uart_bram + stream_bram,
        spram: 0,
        luts,
        ffs,
        lutram_bits,
    }
}

/// Rows beyond which Yosys puts the ifmap stream engine's head words and element counts in
/// block RAM: both are read at the registered send row, so each is a synchronous-read memory,
/// which at 64 rows costs less as DP16KD than as LUT RAM (measured: 64 rows in block RAM,
/// the 32-row filter and psum engines' in LUT RAM).
const STREAM_BRAM_ROWS: u32 = 32;

fn ifmap_stream_in_bram(cfg: &ArchConfig) -> bool {
    cfg.noc.ifmap_stream_rows > STREAM_BRAM_ROWS
}

/// LUT4 positions MAX mode (`[pe] max_pool`) adds to a PE: five signed PSUM_W-bit
/// comparators and their muxes (the accumulator's and the output lanes'), measured on the
/// chip's PE alone with 16-bit psums, before and after the mode: `synth_ecp5 -nowidelut`
/// 568 -> 678 LUT4 and 97 -> 137 CCU2C (110 + 2 x 40 positions), `synth_ice40` 2,524 -> 2,796
/// SB_LUT4; scaled with the psum width. The fits above were made without it.
pub fn max_mode_luts(cfg: &ArchConfig, family: Family) -> u64 {
    if !cfg.pe.max_pool {
        return 0;
    }
    let per_16_bits = match family {
        Family::Ecp5 => 110 + 2 * 40,
        Family::Ice40 => 272,
    };
    per_16_bits * u64::from(cfg.data.psum_width) / 16
}

/// DP16KD of the ifmap stream engine's 64-bit head words (its counts, STREAM_LEN_W bits,
/// stay in LUT RAM: Yosys maps them there since they are 17 bits instead of 32).
fn ifmap_stream_bram(cfg: &ArchConfig) -> u64 {
    let rows = cfg.noc.ifmap_stream_rows as u64;
    if ifmap_stream_in_bram(cfg) {
        bram_blocks(Family::Ecp5, rows, 64)
    } else {
        0
    }
}

/// DPR16X4 of the three stream engines' per-row counts: 16 rows of 4 bits each.
fn stream_count_dpr(cfg: &ArchConfig) -> u64 {
    let rows = 2 * cfg.noc.stream_rows as u64 + cfg.noc.ifmap_stream_rows as u64;
    rows.div_ceil(16) * (crate::hw::stream_len_w(cfg) as u64).div_ceil(4)
}

/// ECP5 cells of the generated design without a board top, as a flattened `synth_ecp5`
/// counts them (what `eyeriss-gen synth --flat` prints).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Ecp5Cells {
    /// LUT4 plus two per CCU2C (a carry cell fills a slice's two LUT4 positions).
    pub logic: u64,
    pub ffs: u64,
    /// TRELLIS_DPR16X4: 16 x 4 bits of LUT RAM each.
    pub dpr: u64,
}

/// ECP5 cells fitted on flattened `synth_ecp5 -nowidelut` builds (Yosys 0.23, without the
/// board top) of arrays 1 x 1, 2 x 2 and 3 x 4 with `small`'s 8-bank GLB and 1 x 1 and 2 x 3
/// with the chip's 27 banks (docs/fpga.md, "ECP5 estimate"). On ECP5 the PEs' ifmap and psum
/// spads, their FIFOs and output queues and the stream engines' per-row state are LUT RAM,
/// so the flip-flops are few and the DPR16X4 many. The fit holds for 16-bit data and the
/// chip's spad, FIFO and stream-row sizes; other settings are not scaled. PEs multiplying in
/// logic add their multipliers' LUTs in [`estimate`].
pub fn ecp5_cells(cfg: &ArchConfig, dev: &Device) -> Ecp5Cells {
    let pes = cfg.pes() as u64;
    let banks = cfg.glb.banks as u64;
    Ecp5Cells {
        logic: ECP5_BASE_LUTS
            + ECP5_BANK_LUTS * banks
            + (ECP5_PE_LUTS + max_mode_luts(cfg, Family::Ecp5)) * pes,
        ffs: ECP5_BASE_FFS
            + COUNTERS * cfg.host.counter_bits as u64
            + (ECP5_PE_FFS + pipe_ffs(cfg)) * pes
            - dsp_ffs(cfg, dev),
        // the fit's base has the ifmap stream's head in block RAM
        dpr: ECP5_BASE_DPR
            + ECP5_PE_DPR * pes
            + stream_count_dpr(cfg)
            + if ifmap_stream_in_bram(cfg) {
                0
            } else {
                (cfg.noc.ifmap_stream_rows as u64).div_ceil(16) * 64 / 4
            },
    }
}

/// ECP5 flip-flops, LUT RAM bits and LUT4 slots of the design with the board top. After
/// place and route a DPR16X4 takes 7.3 LUT4 slots (TRELLIS_COMB) beyond the netlist's LUT4
/// and CCU2C: `ecp5_small` on the 85F took 33,154 for 18,348 LUT4, 2,966 CCU2C and 1,216
/// DPR16X4, and 35,817 for 21,009, 2,967 and 1,216 when synthesized with wide-LUT muxes.
fn ecp5_logic(cfg: &ArchConfig, dev: &Device) -> (u64, u64, u64) {
    let c = ecp5_cells(cfg, dev);
    let ffs = c.ffs + BOARD_TOP_FFS;
    let luts = c.logic + BOARD_TOP_LUTS + (c.dpr as f64 * ECP5_SLOTS_PER_DPR).round() as u64;
    (ffs, c.dpr * 64, luts)
}

/// Every resource the estimate exceeds on the device.
pub fn shortfalls(e: &Estimate, dev: &Device) -> Vec<Shortfall> {
    let mut out = Vec::new();
    let mut check = |resource, unit, needed: u64, available: u64| {
        if needed > available {
            out.push(Shortfall {
                resource,
                unit,
                needed,
                available,
            });
        }
    };
    let (mul, bram, lut, ff) = match dev.family {
        Family::Ice40 => ("SB_MAC16", "SB_RAM40_4K", "LUT4", "flip-flops"),
        Family::Ecp5 => ("MULT18X18D", "DP16KD", "LUT4", "flip-flops"),
    };
    check("multipliers", mul, e.multipliers, dev.multipliers);
    check("block RAM", bram, e.bram, dev.bram);
    if dev.family == Family::Ice40 {
        check(
            "logic cells",
            "LUT4 + flip-flop cells",
            e.logic_cells,
            dev.luts,
        );
    } else {
        check("logic (LUTs)", lut, e.luts, dev.luts);
        check("logic (flip-flops)", ff, e.ffs, dev.ffs);
    }
    check("LUT RAM", "bits", e.lutram_bits, dev.lutram_bits);
    out
}

/// The largest array (most PEs, then the squarest) no bigger than the config's that fits the
/// device with every other setting of the config unchanged.
pub fn largest_fit(cfg: &ArchConfig, dev: &Device) -> Option<(u32, u32)> {
    let mut best: Option<(u32, u32)> = None;
    for r in 1..=cfg.array.rows {
        for c in 1..=cfg.array.cols {
            let mut t = cfg.clone();
            t.array.rows = r;
            t.array.cols = c;
            // the last PEs multiply in logic, as many as the smaller array has
            t.fpga.logic_mult_pes = t.fpga.logic_mult_pes.min(r * c);
            if t.validate().is_err() || !shortfalls(&estimate(&t, dev), dev).is_empty() {
                continue;
            }
            let better = match best {
                None => true,
                Some((br, bc)) => {
                    r * c > br * bc || (r * c == br * bc && r.abs_diff(c) < br.abs_diff(bc))
                }
            };
            if better {
                best = Some((r, c));
            }
        }
    }
    best
}

/// Explain why the config does not fit, and what would.
pub fn refusal(cfg: &ArchConfig, dev: &Device, board: &str, short: &[Shortfall]) -> String {
    let mut msg = format!(
        "config '{}' ({} x {} PEs) does not fit the {} on board '{board}' (estimated before synthesis):",
        cfg.name, cfg.array.rows, cfg.array.cols, dev.name
    );
    for s in short {
        msg.push_str(&format!("\n  {s}"));
    }
    match largest_fit(cfg, dev) {
        Some((r, c)) => msg.push_str(&format!(
            "\nthe largest array that fits with this config's other settings is {r} x {c} \
             ({} PEs): set [array] rows = {r}, cols = {c}",
            r * c
        )),
        None => {
            let mut one = cfg.clone();
            one.array.rows = 1;
            one.array.cols = 1;
            one.fpga.logic_mult_pes = one.fpga.logic_mult_pes.min(1);
            let e = estimate(&one, dev);
            msg.push_str(&format!(
                "\nno array fits with this config's other settings: even 1 x 1 needs about {} LUT4 \
                 and {} flip-flops ({} logic cells), {} of the flip-flops outside the PE (controller, counters, GLB \
                 ports, stream engines with {} rows each); fewer GLB banks, fewer noc.stream_rows \
                 and a smaller data width shrink them (see docs/fpga.md)",
                e.luts,
                e.ffs,
                e.logic_cells,
                fixed_ffs(&one),
                cfg.noc.stream_rows
            ));
        }
    }
    msg
}
