//! `eyeriss_top` (templates/top.v.tera): the whole accelerator, the controller, GLB, three
//! stream engines with their GINs, the PE array with its local network, the GON with the drain
//! engine and the counters, wired as the template wires them, plus the template's own
//! registers: the row IDs of the four networks and every PE's column IDs and settings.
//!
//! The template keeps each configuration field in its own vector (`rid_filt`, `cid_ifmap`,
//! `pe_en`, ...). The model packs them per row and per PE so a 12 x 14 array has two registers
//! per PE rather than seven (rust-hdl values over 32 bits are bit vectors, and every register
//! costs a visit per settle pass); the bits are the template's, field for field:
//! - `rid[r]`: the row's filter, ifmap, psum and GON IDs at bits 0, 8, 16 and 24;
//! - `cid[n]`: PE n's filter, ifmap, psum and GON column IDs at bits 0, 8, 16 and 24, as
//!   `pec_data` carries them;
//! - `pec[n]`: PE n's `pe_en` (bit 0), `pe_psum_sel` (bits 1-2) and `pe_out_gon` (bit 3).
//!
//! The stream engines' row state is sized by the const parameter `R` (at least the config's
//! stream rows; [`TopSim`] picks it).

use std::collections::HashMap;

use rust_hdl::prelude::*;

use super::controller::{Controller, ControllerParams};
use super::counters::Counters;
use super::counters_row::CountersRow;
use super::drain::Drain;
use super::gin::Gin;
use super::glb::Glb;
use super::gon::Gon;
use super::gon_xbus::GonXbus;
use super::ln::Ln;
use super::pe::{Pe, PeParams};
use super::stream::{Engine, Stream, StreamParams};
use super::{AtRest, HwError, Model, Port, bv, glb_addr_w, many, mask, u};
use crate::config::ArchConfig;

/// GLB ports, highest priority first (the template's P_* localparams).
const P_DRAIN: usize = 0;
const P_LOAD: usize = 1;
const P_PSUM: usize = 2;
const P_IFMAP: usize = 3;
const P_FILT: usize = 4;
const P_STORE: usize = 5;
const NPORTS: u32 = 6;
/// Ports that write: the drain engine and LOAD.
const GLB_WE: u64 = (1 << P_DRAIN) | (1 << P_LOAD);
/// The template's SUM_W: per-row event sums.
const SUM_W: u32 = 16;
const WORD_W: u32 = 64;

/// Bit positions of the four networks' IDs in `rid` and `cid` (the `rid_net` codes x 8; for
/// `cid`, the field offsets in `pec_data`).
const NET_FILT: u32 = 0;
const NET_IFMAP: u32 = 8;
const NET_PSUM: u32 = 16;
const NET_GON: u32 = 24;
/// `pec_data` bits above the column IDs: enable, psum select (2 bits), output to GON.
const PEC_FLAGS_AT: u32 = 32;

/// The top's own inputs and registers.
macro_rules! top_own {
    ($m:ident, $s:ident $(, $arg:expr)*) => {
        $m!($s $(, $arg)*; clk, rst, in_valid, in_data, out_ready, rid, cid, pec)
    };
}

/// The top's outputs.
macro_rules! top_out {
    ($m:ident, $s:ident $(, $arg:expr)*) => {
        $m!($s $(, $arg)*; in_ready, out_valid, out_data)
    };
}

/// The instances, in the order a pass evaluates them (`update_all`; roughly the order data
/// flows in).
macro_rules! top_parts {
    ($m:ident, $s:ident $(, $arg:expr)*) => {
        $m!($s $(, $arg)*; u_ctrl, u_glb, u_filt_stream, u_ifmap_stream, u_psum_stream,
            u_filt_gin, u_ifmap_gin, u_psum_gin, u_pe, u_ln, u_gon_xbus, u_gon, u_drain,
            u_counters_row, u_counters)
    };
}

/// `Block` is written out (not derived) so a settle pass can pass over PEs and LNs that are at
/// rest; see [`Top::update_all`](Block::update_all).
#[derive(Default)]
pub struct Top<const R: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_data: Signal<In, Bits<64>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_data: Signal<Out, Bits<64>>,
    pub u_ctrl: Controller,
    pub u_glb: Glb,
    pub u_filt_stream: Stream<R>,
    pub u_filt_gin: Gin,
    pub u_ifmap_stream: Stream<R>,
    pub u_ifmap_gin: Gin,
    pub u_psum_stream: Stream<R>,
    pub u_psum_gin: Gin,
    /// PE n = r * COLS + c, as the template's `g_row[r].g_col[c].u_pe`.
    pub u_pe: Vec<Pe>,
    pub u_ln: Vec<Ln>,
    pub u_gon_xbus: Vec<GonXbus>,
    pub u_counters_row: Vec<CountersRow>,
    pub u_gon: Gon,
    pub u_drain: Drain,
    pub u_counters: Counters,
    rid: Vec<DFF<Bits<32>>>,
    cid: Vec<DFF<Bits<32>>>,
    pec: Vec<DFF<Bits<4>>>,
    /// Per instance, in `top_parts!` order (a vector's elements in turn): its last
    /// evaluation changed something.
    _busy: Vec<bool>,
    _rows: usize,
    _cols: usize,
    /// ID widths: row, then filter, ifmap, psum and GON column IDs.
    _row_id_w: u32,
    _col_id_w: [u32; 4],
    _ports: Vec<Port>,
}

impl<const R: usize> Top<R> {
    /// The model of `eyeriss_top` for `cfg`. Fails on a config the blocks' models do not cover
    /// (they name the block and parameter).
    pub fn new(cfg: &ArchConfig) -> Result<Self, HwError> {
        let rows = cfg.array.rows;
        let cols = cfg.array.cols;
        let npe = (rows * cols) as usize;
        let aw = glb_addr_w(cfg);
        let pe_p = PeParams::from_config(cfg);
        let noc = &cfg.noc;
        let row_id_w = noc.row_id_bits;
        let col_id_w = [
            noc.filter_col_id_bits,
            noc.ifmap_col_id_bits,
            noc.psum_col_id_bits,
            noc.gon_col_id_bits,
        ];
        let mut top = Top {
            u_ctrl: Controller::new(&ControllerParams::from_config(cfg))?,
            u_glb: Glb::new(cfg.glb.banks, cfg.glb.bank_words, WORD_W, NPORTS, aw)?,
            u_filt_stream: Stream::new(&StreamParams::from_config(cfg, Engine::Filter))?,
            u_filt_gin: Gin::new(rows, cols, row_id_w, col_id_w[0])?,
            u_ifmap_stream: Stream::new(&StreamParams::from_config(cfg, Engine::Ifmap))?,
            u_ifmap_gin: Gin::new(rows, cols, row_id_w, col_id_w[1])?,
            u_psum_stream: Stream::new(&StreamParams::from_config(cfg, Engine::Psum))?,
            u_psum_gin: Gin::new(rows, cols, row_id_w, col_id_w[2])?,
            u_pe: (0..npe).map(|_| Pe::new(&pe_p)).collect::<Result<_, _>>()?,
            u_ln: (0..npe)
                .map(|_| Ln::new(cfg.noc.ln_width))
                .collect::<Result<_, _>>()?,
            u_gon_xbus: (0..rows)
                .map(|_| GonXbus::new(cols, WORD_W, pe_p.idx_w, col_id_w[3]))
                .collect::<Result<_, _>>()?,
            u_counters_row: (0..rows)
                .map(|_| CountersRow::new(cols, SUM_W))
                .collect::<Result<_, _>>()?,
            u_gon: Gon::new(rows, WORD_W, pe_p.idx_w, row_id_w, col_id_w[3])?,
            u_drain: Drain::new(WORD_W, aw, pe_p.idx_w, row_id_w, col_id_w[3])?,
            u_counters: Counters::new(rows, SUM_W, cfg.host.counter_bits)?,
            rid: many(rows as usize),
            cid: many(npe),
            pec: many(npe),
            _rows: rows as usize,
            _cols: cols as usize,
            _row_id_w: row_id_w,
            _col_id_w: col_id_w,
            ..Default::default()
        }
        .with_ports();
        let mut parts = 0;
        macro_rules! count { ($s:ident; $($f:ident),+) => { $( parts += $s.$f.count(); )+ }; }
        top_parts!(count, top);
        // every instance is evaluated in the first pass
        top._busy = vec![true; parts];
        Ok(top)
    }

    /// Row IDs out of reset: all ones in every network's field (the all-ones ID never matches).
    fn rid_reset(&self) -> u64 {
        let ones = mask(self._row_id_w);
        [NET_FILT, NET_IFMAP, NET_PSUM, NET_GON]
            .iter()
            .fold(0, |acc, &at| acc | ones << at)
    }

    fn cid_reset(&self) -> u64 {
        [NET_FILT, NET_IFMAP, NET_PSUM, NET_GON]
            .iter()
            .zip(self._col_id_w)
            .fold(0, |acc, (&at, w)| acc | mask(w) << at)
    }

    /// The configuration registers' next values from the controller's write strobes.
    fn update_config(&mut self, clk: Clock, rst: bool) {
        let ctrl = &self.u_ctrl;
        let rid_we = ctrl.rid_we.val();
        let rid_row = u(ctrl.rid_row.val()) as usize;
        let rid_at = [NET_FILT, NET_IFMAP, NET_PSUM, NET_GON][u(ctrl.rid_net.val()) as usize];
        let rid_id = u(ctrl.rid_id.val()) & mask(self._row_id_w);
        let pec_we = ctrl.pec_we.val();
        let pec_n = u(ctrl.pec_row.val()) as usize * self._cols + u(ctrl.pec_col.val()) as usize;
        let pec_hit = pec_we
            && (u(ctrl.pec_row.val()) as usize) < self._rows
            && (u(ctrl.pec_col.val()) as usize) < self._cols;
        let pec_data = u(ctrl.pec_data.val());
        let rid_reset = self.rid_reset();
        let cid_reset = self.cid_reset();
        for (r, reg) in self.rid.iter_mut().enumerate() {
            reg.clock.next = clk;
            let q = u(reg.q.val());
            reg.d.next = bv(if rst {
                rid_reset
            } else if rid_we && rid_row == r {
                q & !(0xff << rid_at) | rid_id << rid_at
            } else {
                q
            });
        }
        for (n, (cid, pec)) in self.cid.iter_mut().zip(self.pec.iter_mut()).enumerate() {
            cid.clock.next = clk;
            pec.clock.next = clk;
            if rst {
                cid.d.next = bv(cid_reset);
                pec.d.next = bv(0);
            } else if pec_hit && n == pec_n {
                cid.d.next = bv(pec_data & cid_reset);
                pec.d.next = bv(pec_data >> PEC_FLAGS_AT);
            } else {
                cid.d.next = cid.q.val();
                pec.d.next = pec.q.val();
            }
        }
    }
}

/// Bit `i` of a value.
fn bit(v: u64, i: usize) -> bool {
    (v >> i) & 1 != 0
}

/// Evaluate `b` in this pass unless it is at rest (see [`AtRest`]); `busy` remembers whether
/// its last evaluation changed anything.
fn eval<B: AtRest>(b: &mut B, busy: &mut bool) {
    if *busy || !b.inputs_settled() {
        b.update_all();
        *busy = b.has_changed();
    }
}

/// [`eval`] for each of a vector of instances.
fn eval_all<B: AtRest>(v: &mut [B], busy: &mut [bool]) {
    for (b, busy) in v.iter_mut().zip(busy.iter_mut()) {
        eval(b, busy);
    }
}

/// [`eval`] or [`eval_all`] by the part's type.
trait Part {
    fn eval_part(&mut self, busy: &mut [bool]);
    fn count(&self) -> usize;
    /// An input has a new value waiting.
    fn pending(&self) -> bool;
    /// The part's ports under its name (a vector's element `i` as `name$i`, as rust-hdl
    /// names it).
    fn ports_into(&self, name: &str, m: &mut HashMap<String, Vec<Port>>);
}

impl<B: AtRest + Model> Part for B {
    fn eval_part(&mut self, busy: &mut [bool]) {
        eval(self, &mut busy[0]);
    }
    fn count(&self) -> usize {
        1
    }
    fn pending(&self) -> bool {
        !self.inputs_settled()
    }
    fn ports_into(&self, name: &str, m: &mut HashMap<String, Vec<Port>>) {
        m.insert(name.to_string(), self.ports().to_vec());
    }
}

impl<B: AtRest + Model> Part for Vec<B> {
    fn eval_part(&mut self, busy: &mut [bool]) {
        eval_all(self, busy);
    }
    fn count(&self) -> usize {
        self.len()
    }
    fn pending(&self) -> bool {
        self.iter().any(|b| !b.inputs_settled())
    }
    fn ports_into(&self, name: &str, m: &mut HashMap<String, Vec<Port>>) {
        for (i, b) in self.iter().enumerate() {
            m.insert(format!("{name}${i}"), b.ports().to_vec());
        }
    }
}

impl<const R: usize> Block for Top<R> {
    fn connect_all(&mut self) {
        self.connect();
        macro_rules! go { ($s:ident; $($f:ident),+) => { $( $s.$f.connect_all(); )+ }; }
        top_own!(go, self);
        top_out!(go, self);
        top_parts!(go, self);
    }

    /// rust-hdl's pass (this block's `update`, then every part's `update_all`), except that an
    /// instance that changed nothing in its last evaluation and has no new input is passed
    /// over ([`AtRest`]): it would only write the values it already holds. Most instances are
    /// at rest in most passes of a settle (after the host changes its inputs, only the
    /// controller and the counters see it), and the PEs are most of the work.
    fn update_all(&mut self) {
        macro_rules! own { ($s:ident; $($f:ident),+) => { $( $s.$f.update_all(); )+ }; }
        top_own!(own, self);
        let mut at = 0;
        macro_rules! parts {
            ($s:ident; $($f:ident),+) => { $(
                let n = $s.$f.count();
                $s.$f.eval_part(&mut $s._busy[at..at + n]);
                at += n;
            )+ };
        }
        // Each instance's inputs are wired just before it is evaluated, from the outputs of
        // the instances evaluated before it in this pass: a value crosses an instance boundary
        // in one pass rather than two, and a settle takes fewer passes.
        self.wire_clocks();
        self.wire_ctrl();
        parts!(self; u_ctrl);
        self.wire_glb();
        parts!(self; u_glb);
        self.wire_streams();
        parts!(self; u_filt_stream, u_ifmap_stream, u_psum_stream);
        self.wire_gins();
        parts!(self; u_filt_gin, u_ifmap_gin, u_psum_gin);
        self.wire_array();
        parts!(self; u_pe, u_ln, u_gon_xbus);
        self.wire_gon();
        parts!(self; u_gon);
        self.wire_drain();
        parts!(self; u_drain, u_counters_row);
        self.wire_counters();
        parts!(self; u_counters);
        debug_assert_eq!(at, self._busy.len());
        // last, so a change the wiring made in this pass shows in `has_changed`
        top_out!(own, self);
    }

    /// Also true while an instance has an input the wiring changed after it was evaluated in
    /// this pass (a ready flowing back up a stream, say): the next pass must evaluate it.
    fn has_changed(&self) -> bool {
        macro_rules! go { ($s:ident; $($f:ident),+) => { false $( || $s.$f.has_changed() )+ }; }
        macro_rules! pending {
            ($s:ident; $($f:ident),+) => { false $( || $s.$f.pending() )+ };
        }
        top_own!(go, self)
            || top_out!(go, self)
            || self._busy.iter().any(|&b| b)
            || top_parts!(pending, self)
    }

    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_start_scope(name, self);
        macro_rules! go {
            ($s:ident, $p:expr; $($f:ident),+) => { $( $s.$f.accept(stringify!($f), $p); )+ };
        }
        top_own!(go, self, probe);
        top_out!(go, self, probe);
        top_parts!(go, self, probe);
        probe.visit_end_scope(name, self);
    }
}

impl<const R: usize> Top<R> {
    /// Clock and reset to every instance, and the configuration registers' next values.
    fn wire_clocks(&mut self) {
        let clk = self.clk.val();
        let rst = self.rst.val();
        self.u_ctrl.clk.next = clk;
        self.u_ctrl.rst.next = rst;
        self.u_glb.clk.next = clk;
        self.u_glb.rst.next = rst;
        for s in [
            &mut self.u_filt_stream,
            &mut self.u_ifmap_stream,
            &mut self.u_psum_stream,
        ] {
            s.clk.next = clk;
            s.rst.next = rst;
        }
        for pe in &mut self.u_pe {
            pe.clk.next = clk;
            pe.rst.next = rst;
        }
        for x in &mut self.u_gon_xbus {
            x.clk.next = clk;
            x.rst.next = rst;
        }
        for cr in &mut self.u_counters_row {
            cr.clk.next = clk;
            cr.rst.next = rst;
        }
        self.u_gon.clk.next = clk;
        self.u_gon.rst.next = rst;
        self.u_drain.clk.next = clk;
        self.u_drain.rst.next = rst;
        self.u_counters.clk.next = clk;
        self.u_counters.rst.next = rst;
        self.update_config(clk, rst);
    }

    /// The controller's inputs, and the top's outputs from it.
    fn wire_ctrl(&mut self) {
        let gnt = u(self.u_glb.gnt.val());
        let rvalid = u(self.u_glb.rvalid.val());
        {
            let c = &mut self.u_ctrl;
            c.in_valid.next = self.in_valid.val();
            c.in_data.next = self.in_data.val();
            c.out_ready.next = self.out_ready.val();
            self.in_ready.next = c.in_ready.val();
            self.out_valid.next = c.out_valid.val();
            self.out_data.next = c.out_data.val();
            c.st_idle.next = bv(self.u_filt_stream.idle.val() as u64
                | (self.u_ifmap_stream.idle.val() as u64) << 1
                | (self.u_psum_stream.idle.val() as u64) << 2);
            c.dr_idle.next = self.u_drain.idle.val();
            c.ld_gnt.next = bit(gnt, P_LOAD);
            c.sr_gnt.next = bit(gnt, P_STORE);
            c.sr_rvalid.next = bit(rvalid, P_STORE);
            c.sr_rdata.next = self.u_glb.rdata[P_STORE].val();
            c.cnt_value.next = self.u_counters.value.val();
        }
    }

    /// The GLB ports, highest priority first.
    fn wire_glb(&mut self) {
        {
            let req = self.u_drain.wr_req.val() as u64
                | (self.u_ctrl.ld_req.val() as u64) << P_LOAD
                | (self.u_psum_stream.rd_req.val() as u64) << P_PSUM
                | (self.u_ifmap_stream.rd_req.val() as u64) << P_IFMAP
                | (self.u_filt_stream.rd_req.val() as u64) << P_FILT
                | (self.u_ctrl.sr_req.val() as u64) << P_STORE;
            let g = &mut self.u_glb;
            g.req.next = bv(req);
            g.we.next = bv(GLB_WE);
            g.addr[P_DRAIN].next = self.u_drain.wr_addr.val();
            g.addr[P_LOAD].next = self.u_ctrl.ld_addr.val();
            g.addr[P_PSUM].next = self.u_psum_stream.rd_addr.val();
            g.addr[P_IFMAP].next = self.u_ifmap_stream.rd_addr.val();
            g.addr[P_FILT].next = self.u_filt_stream.rd_addr.val();
            g.addr[P_STORE].next = self.u_ctrl.sr_addr.val();
            g.wdata[P_DRAIN].next = self.u_drain.wr_data.val();
            g.wdata[P_LOAD].next = self.u_ctrl.ld_data.val();
            for p in [P_PSUM, P_IFMAP, P_FILT, P_STORE] {
                g.wdata[p].next = Bits::default();
            }
        }
    }

    /// The stream engines' commands, tags and GLB read ports.
    fn wire_streams(&mut self) {
        let gnt = u(self.u_glb.gnt.val());
        let rvalid = u(self.u_glb.rvalid.val());
        let tag_we = u(self.u_ctrl.st_tag_we.val());
        let cmd_valid = u(self.u_ctrl.st_cmd_valid.val());
        for (i, (s, port)) in [
            (&mut self.u_filt_stream, P_FILT),
            (&mut self.u_ifmap_stream, P_IFMAP),
            (&mut self.u_psum_stream, P_PSUM),
        ]
        .into_iter()
        .enumerate()
        {
            let c = &self.u_ctrl;
            s.tag_we.next = bit(tag_we, i);
            s.tag_idx.next = c.st_tag_idx.val();
            s.tag_data.next = c.st_tag_data.val();
            s.cmd_valid.next = bit(cmd_valid, i);
            s.cmd_len.next = c.st_len.val();
            s.cmd_nrows.next = c.st_nrows.val();
            s.cmd_base.next = c.st_base.val();
            s.cmd_stride.next = c.st_stride.val();
            s.rd_gnt.next = bit(gnt, port);
            s.rd_valid.next = bit(rvalid, port);
            s.rd_data.next = self.u_glb.rdata[port].val();
        }
    }

    /// Each GIN between its stream engine and the PEs, with the row and column IDs.
    fn wire_gins(&mut self) {
        let row_id_w = self._row_id_w;
        let cw = self._col_id_w;
        for (s, gin, at, w) in [
            (
                &mut self.u_filt_stream,
                &mut self.u_filt_gin,
                NET_FILT,
                cw[0],
            ),
            (
                &mut self.u_ifmap_stream,
                &mut self.u_ifmap_gin,
                NET_IFMAP,
                cw[1],
            ),
            (
                &mut self.u_psum_stream,
                &mut self.u_psum_gin,
                NET_PSUM,
                cw[2],
            ),
        ] {
            gin.in_valid.next = s.out_valid.val();
            s.out_ready.next = gin.in_ready.val();
            gin.row_tag.next = s.out_row_tag.val();
            gin.col_tag.next = s.out_col_tag.val();
            for (r, reg) in self.rid.iter().enumerate() {
                gin.row_ids[r].next = bv(u(reg.q.val()) >> at & mask(row_id_w));
            }
            for (n, reg) in self.cid.iter().enumerate() {
                gin.col_ids[n].next = bv(u(reg.q.val()) >> at & mask(w));
            }
        }
    }

    /// PEs, LNs and the per-row event vectors for the row counters.
    fn wire_array(&mut self) {
        let (rows, cols) = (self._rows, self._cols);
        let cw = self._col_id_w;
        let cfg_acc = self.u_ctrl.cfg_acc.val();
        let ps_data = self.u_psum_stream.out_data.val();
        let fs_data = self.u_filt_stream.out_data.val();
        let fs_count = self.u_filt_stream.out_count.val();
        let is_data = self.u_ifmap_stream.out_data.val();
        let is_count = self.u_ifmap_stream.out_count.val();
        for r in 0..rows {
            let mut ev = [0u64; 9];
            let mut enabled = 0u64;
            for c in 0..cols {
                let n = r * cols + c;
                let flags = u(self.pec[n].q.val());
                let en = bit(flags, 0);
                // the LN of the PE below (its up port) and above (its below port)
                let (below_valid, below_data) = if r + 1 < rows {
                    (
                        self.u_ln[n + cols].up_valid.val(),
                        self.u_pe[n + cols].pout_data.val(),
                    )
                } else {
                    (false, Bits::default())
                };
                let up_ready = r > 0 && self.u_ln[n - cols].below_ready.val();
                let xbus = &mut self.u_gon_xbus[r];
                let (ln, pe) = (&mut self.u_ln[n], &mut self.u_pe[n]);

                ln.psum_sel.next = bv(flags >> 1 & 3);
                ln.acc.next = cfg_acc;
                ln.out_gon.next = bit(flags, 3);
                ln.gin_valid.next = self.u_psum_gin.pe_valid[n].val();
                self.u_psum_gin.pe_ready[n].next = ln.gin_ready.val();
                ln.gin_data.next = ps_data;
                ln.below_valid.next = below_valid;
                ln.below_data.next = below_data;
                ln.pin_ready.next = pe.pin_ready.val();
                ln.pout_valid.next = pe.pout_valid.val();
                ln.gon_ready.next = xbus.pe_ready[c].val();
                ln.up_ready.next = up_ready;

                let c8 = &self.u_ctrl;
                pe.start.next = c8.pe_start.val();
                pe.cfg_p.next = c8.cfg_p.val();
                pe.cfg_q.next = c8.cfg_q.val();
                pe.cfg_s.next = c8.cfg_s.val();
                pe.cfg_f.next = c8.cfg_f.val();
                pe.cfg_u.next = c8.cfg_u.val();
                pe.cfg_shift.next = c8.cfg_shift.val();
                pe.cfg_max.next = c8.cfg_max.val();
                pe.cfg_en.next = en;
                pe.pin_used.next = ln.pin_used.val();
                pe.filt_valid.next = self.u_filt_gin.pe_valid[n].val();
                self.u_filt_gin.pe_ready[n].next = pe.filt_ready.val();
                pe.filt_data.next = fs_data;
                pe.filt_count.next = fs_count;
                pe.ifm_valid.next = self.u_ifmap_gin.pe_valid[n].val();
                self.u_ifmap_gin.pe_ready[n].next = pe.ifm_ready.val();
                pe.ifm_data.next = is_data;
                pe.ifm_count.next = is_count;
                pe.pin_valid.next = ln.pin_valid.val();
                pe.pin_data.next = ln.pin_data.val();
                pe.pout_ready.next = ln.pout_ready.val();

                xbus.pe_valid[c].next = ln.gon_valid.val();
                xbus.pe_data[c].next = pe.pout_data.val();
                xbus.pe_idx[c].next = pe.pout_idx.val();
                xbus.col_ids[c].next = bv(u(self.cid[n].q.val()) >> NET_GON & mask(cw[3]));

                for (k, e) in [
                    pe.ev_busy.val(),
                    pe.ev_mac.val(),
                    pe.ev_fwrite.val(),
                    pe.ev_iread.val(),
                    pe.ev_iwrite.val(),
                    pe.ev_pacc.val(),
                    pe.ev_pcol.val(),
                    pe.ev_pwrite.val(),
                    below_valid & ln.below_ready.val(),
                ]
                .into_iter()
                .enumerate()
                {
                    ev[k] |= (e as u64) << c;
                }
                enabled |= (en as u64) << c;
            }
            let cr = &mut self.u_counters_row[r];
            cr.clear.next = self.u_ctrl.cnt_clear.val();
            cr.ev_busy.next = bv(ev[0]);
            cr.ev_mac.next = bv(ev[1]);
            cr.ev_fwrite.next = bv(ev[2]);
            cr.ev_iread.next = bv(ev[3]);
            cr.ev_iwrite.next = bv(ev[4]);
            cr.ev_pacc.next = bv(ev[5]);
            cr.ev_pcol.next = bv(ev[6]);
            cr.ev_pwrite.next = bv(ev[7]);
            cr.ln_word.next = bv(ev[8]);
            cr.pe_enabled.next = bv(enabled);
        }
    }

    /// The GON: each row's X-bus word and the GON row IDs.
    fn wire_gon(&mut self) {
        let row_id_w = self._row_id_w;
        for r in 0..self._rows {
            let xbus = &mut self.u_gon_xbus[r];
            xbus.x_taken.next = self.u_gon.x_taken[r].val();
            let g = &mut self.u_gon;
            g.x_valid[r].next = xbus.x_valid.val();
            g.x_data[r].next = xbus.x_data.val();
            g.x_idx[r].next = xbus.x_idx.val();
            g.x_col[r].next = xbus.x_col.val();
            g.row_ids[r].next = bv(u(self.rid[r].q.val()) >> NET_GON & mask(row_id_w));
        }
        self.u_gon.out_ready.next = self.u_drain.in_ready.val();
    }

    /// The drain engine, between the GON and the GLB.
    fn wire_drain(&mut self) {
        let gnt = u(self.u_glb.gnt.val());
        {
            let (g, d, c) = (&self.u_gon, &mut self.u_drain, &self.u_ctrl);
            d.cmd_valid.next = c.dr_cmd_valid.val();
            d.cmd_total.next = c.dr_total.val();
            d.cmd_base.next = c.dr_base.val();
            d.cmd_stride.next = c.dr_stride.val();
            d.in_valid.next = g.out_valid.val();
            d.in_data.next = g.out_data.val();
            d.in_idx.next = g.out_idx.val();
            d.in_row_id.next = g.out_row_id.val();
            d.in_col_id.next = g.out_col_id.val();
            d.wr_gnt.next = bit(gnt, P_DRAIN);
        }
    }

    /// The counters: the rows' sums and the top-level events.
    fn wire_counters(&mut self) {
        let gnt = u(self.u_glb.gnt.val());
        {
            let rd = gnt & !GLB_WE;
            let wr = gnt & GLB_WE;
            let glb_reads = [P_PSUM, P_IFMAP, P_FILT, P_STORE]
                .iter()
                .filter(|&&p| bit(rd, p))
                .count() as u64;
            let glb_writes = [P_DRAIN, P_LOAD].iter().filter(|&&p| bit(wr, p)).count() as u64;
            let k = &mut self.u_counters;
            let c = &self.u_ctrl;
            k.clear.next = c.cnt_clear.val();
            for (r, cr) in self.u_counters_row.iter().enumerate() {
                k.row_busy[r].next = cr.n_busy.val();
                k.row_mac[r].next = cr.n_mac.val();
                k.row_zero[r].next = cr.n_zero.val();
                k.row_fread[r].next = cr.n_fread.val();
                k.row_fwrite[r].next = cr.n_fwrite.val();
                k.row_iread[r].next = cr.n_iread.val();
                k.row_iwrite[r].next = cr.n_iwrite.val();
                k.row_pacc[r].next = cr.n_pacc.val();
                k.row_pcol[r].next = cr.n_pcol.val();
                k.row_pwrite[r].next = cr.n_pwrite.val();
                k.row_ln[r].next = cr.n_ln.val();
                k.row_enabled[r].next = cr.n_enabled.val();
            }
            k.cfg_p.next = c.cfg_p.val();
            k.glb_reads.next = bv(glb_reads);
            k.glb_writes.next = bv(glb_writes);
            k.filt_beat.next = self.u_filt_stream.out_valid.val() & self.u_filt_gin.in_ready.val();
            k.ifmap_beat.next =
                self.u_ifmap_stream.out_valid.val() & self.u_ifmap_gin.in_ready.val();
            k.psum_beat.next = self.u_psum_stream.out_valid.val() & self.u_psum_gin.in_ready.val();
            k.gon_word.next = self.u_gon.out_valid.val() & self.u_drain.in_ready.val();
            k.host_in.next = self.in_valid.val() & c.in_ready.val();
            k.host_out.next = c.out_valid.val() & self.out_ready.val();
            k.host_in_wait.next = c.host_in_wait.val();
            k.host_out_wait.next = c.host_out_wait.val();
            k.sel.next = c.cnt_sel.val();
        }
    }
}

impl<const R: usize> Logic for Top<R> {
    /// The whole top's wiring at once, as a derived block would run it; `update_all`
    /// interleaves the same steps with the instances.
    fn update(&mut self) {
        self.wire_clocks();
        self.wire_ctrl();
        self.wire_glb();
        self.wire_streams();
        self.wire_gins();
        self.wire_array();
        self.wire_gon();
        self.wire_drain();
        self.wire_counters();
    }

    fn connect(&mut self) {
        self.connect_ports();
    }
}

super::model! {
    Top<R>: "top", clocked;
    // the top's parameters come from the rendered config, not from the harness
    params(b) {}
    ports(b) {
        rst: 1,
        in_valid: 1,
        in_ready: 1,
        in_data: WORD_W,
        out_valid: 1,
        out_ready: 1,
        out_data: WORD_W,
    }
    extra {
        fn instance_ports(&self) -> HashMap<String, Vec<Port>> {
            let mut m = HashMap::from([(String::new(), self._ports.clone())]);
            macro_rules! add {
                ($s:ident; $($f:ident),+) => { $( $s.$f.ports_into(stringify!($f), &mut m); )+ };
            }
            top_parts!(add, self);
            m
        }
    }
}
