//! `eyeriss_controller` (templates/controller.v.tera): executes the host command stream of
//! docs/commands.md: configuration writes, host-to-GLB loads, GLB-to-host stores with ReLU,
//! STREAM and DRAIN hand-off, START, BARRIER, counter reads and markers. Responses leave through
//! an output FIFO (`Fifo` child).

use rust_hdl::prelude::*;

use super::fifo::Fifo;
use super::{
    HwError, Model, Port, bv, check_param, clock_edge, clock_regs, clog2, hold_regs, mask, settle,
    u,
};

const OP_NOP: u64 = 0x00;
const OP_CFG_LAYER: u64 = 0x01;
const OP_CFG_ROW_ID: u64 = 0x02;
const OP_CFG_PE: u64 = 0x03;
const OP_LOAD: u64 = 0x04;
const OP_STORE: u64 = 0x05;
const OP_STREAM: u64 = 0x06;
const OP_DRAIN: u64 = 0x07;
const OP_START: u64 = 0x08;
const OP_BARRIER: u64 = 0x09;
const OP_READ_COUNTERS: u64 = 0x0A;
const OP_CLEAR_COUNTERS: u64 = 0x0B;
const OP_MARK: u64 = 0x0C;
const OP_ERROR: u64 = 0xEE;

const S_FETCH: u64 = 0;
const S_LOAD: u64 = 1;
const S_STORE_HDR: u64 = 2;
const S_STORE: u64 = 3;
const S_ST_WAIT: u64 = 4;
const S_ST_W1: u64 = 5;
const S_ST_TAGS: u64 = 6;
const S_DR_WAIT: u64 = 7;
const S_DR_W1: u64 = 8;
const S_BARRIER: u64 = 9;
const S_CNT_HDR: u64 = 10;
const S_CNT: u64 = 11;
const S_PUSH: u64 = 12;
const S_HALT: u64 = 13;

/// Words of a READ_COUNTERS answer.
const NCNT: u64 = 22;

/// The template's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerParams {
    pub addr_w: u32,
    pub psum_w: u32,
    pub max_rows: u32,
    pub ifmap_max_rows: u32,
    pub out_depth: u32,
}

impl ControllerParams {
    /// The parameters `eyeriss_top` gives its controller for this config.
    pub fn from_config(cfg: &crate::config::ArchConfig) -> ControllerParams {
        ControllerParams {
            addr_w: super::glb_addr_w(cfg),
            psum_w: cfg.data.psum_width,
            max_rows: cfg.noc.stream_rows,
            ifmap_max_rows: cfg.noc.ifmap_stream_rows,
            out_depth: 4,
        }
    }
}

#[derive(LogicBlock)]
pub struct Controller {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_data: Signal<In, Bits<64>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_data: Signal<Out, Bits<64>>,
    pub cfg_p: Signal<Out, Bits<8>>,
    pub cfg_q: Signal<Out, Bits<8>>,
    pub cfg_s: Signal<Out, Bits<8>>,
    pub cfg_f: Signal<Out, Bits<12>>,
    pub cfg_u: Signal<Out, Bits<4>>,
    pub cfg_shift: Signal<Out, Bits<6>>,
    pub cfg_acc: Signal<Out, Bit>,
    pub rid_we: Signal<Out, Bit>,
    pub rid_net: Signal<Out, Bits<2>>,
    pub rid_row: Signal<Out, Bits<8>>,
    pub rid_id: Signal<Out, Bits<8>>,
    pub pec_we: Signal<Out, Bit>,
    pub pec_row: Signal<Out, Bits<8>>,
    pub pec_col: Signal<Out, Bits<8>>,
    pub pec_data: Signal<Out, Bits<36>>,
    pub st_tag_we: Signal<Out, Bits<3>>,
    pub st_tag_idx: Signal<Out, Bits<8>>,
    pub st_tag_data: Signal<Out, Bits<16>>,
    pub st_cmd_valid: Signal<Out, Bits<3>>,
    pub st_len: Signal<Out, Bits<32>>,
    pub st_nrows: Signal<Out, Bits<8>>,
    pub st_base: Signal<Out, Bits<32>>,
    pub st_stride: Signal<Out, Bits<32>>,
    pub st_idle: Signal<In, Bits<3>>,
    pub dr_cmd_valid: Signal<Out, Bit>,
    pub dr_total: Signal<Out, Bits<32>>,
    pub dr_base: Signal<Out, Bits<32>>,
    pub dr_stride: Signal<Out, Bits<32>>,
    pub dr_idle: Signal<In, Bit>,
    pub ld_req: Signal<Out, Bit>,
    pub ld_addr: Signal<Out, Bits<32>>,
    pub ld_data: Signal<Out, Bits<64>>,
    pub ld_gnt: Signal<In, Bit>,
    pub sr_req: Signal<Out, Bit>,
    pub sr_addr: Signal<Out, Bits<32>>,
    pub sr_gnt: Signal<In, Bit>,
    pub sr_rvalid: Signal<In, Bit>,
    pub sr_rdata: Signal<In, Bits<64>>,
    pub pe_start: Signal<Out, Bit>,
    pub cnt_clear: Signal<Out, Bit>,
    pub cnt_sel: Signal<Out, Bits<5>>,
    pub cnt_value: Signal<In, Bits<64>>,
    pub host_in_wait: Signal<Out, Bit>,
    pub host_out_wait: Signal<Out, Bit>,
    u_out_fifo: Fifo<64>,
    // reset
    state: DFF<Bits<4>>,
    lv: DFF<Bit>,
    rd_inflight: DFF<Bit>,
    tag_have: DFF<Bit>,
    halt_after: DFF<Bit>,
    r_cfg_p: DFF<Bits<8>>,
    r_cfg_q: DFF<Bits<8>>,
    r_cfg_s: DFF<Bits<8>>,
    r_cfg_f: DFF<Bits<12>>,
    r_cfg_u: DFF<Bits<4>>,
    r_cfg_shift: DFF<Bits<6>>,
    r_cfg_acc: DFF<Bit>,
    // not reset, as in the template:
    net: DFF<Bits<2>>,
    count: DFF<Bits<24>>,
    addr: DFF<Bits<32>>,
    relu: DFF<Bit>,
    tag_i: DFF<Bits<8>>,
    tag_sub: DFF<Bits<2>>,
    tag_word: DFF<Bits<64>>,
    cnt_i: DFF<Bits<5>>,
    push_word: DFF<Bits<64>>,
    lw: DFF<Bits<64>>,
    la: DFF<Bits<32>>,
    r_st_len: DFF<Bits<32>>,
    r_st_nrows: DFF<Bits<8>>,
    r_st_base: DFF<Bits<32>>,
    r_st_stride: DFF<Bits<32>>,
    r_dr_total: DFF<Bits<32>>,
    _p: ControllerParams,
    _ports: Vec<Port>,
}

/// Every port as (name, width, is output), in the template's order.
fn port_list(p: &ControllerParams) -> Vec<(&'static str, u32, bool)> {
    let aw = p.addr_w;
    vec![
        ("rst", 1, false),
        ("in_valid", 1, false),
        ("in_ready", 1, true),
        ("in_data", 64, false),
        ("out_valid", 1, true),
        ("out_ready", 1, false),
        ("out_data", 64, true),
        ("cfg_p", 8, true),
        ("cfg_q", 8, true),
        ("cfg_s", 8, true),
        ("cfg_f", 12, true),
        ("cfg_u", 4, true),
        ("cfg_shift", 6, true),
        ("cfg_acc", 1, true),
        ("rid_we", 1, true),
        ("rid_net", 2, true),
        ("rid_row", 8, true),
        ("rid_id", 8, true),
        ("pec_we", 1, true),
        ("pec_row", 8, true),
        ("pec_col", 8, true),
        ("pec_data", 36, true),
        ("st_tag_we", 3, true),
        ("st_tag_idx", 8, true),
        ("st_tag_data", 16, true),
        ("st_cmd_valid", 3, true),
        ("st_len", 32, true),
        ("st_nrows", 8, true),
        ("st_base", 32, true),
        ("st_stride", 32, true),
        ("st_idle", 3, false),
        ("dr_cmd_valid", 1, true),
        ("dr_total", 32, true),
        ("dr_base", 32, true),
        ("dr_stride", 32, true),
        ("dr_idle", 1, false),
        ("ld_req", 1, true),
        ("ld_addr", aw, true),
        ("ld_data", 64, true),
        ("ld_gnt", 1, false),
        ("sr_req", 1, true),
        ("sr_addr", aw, true),
        ("sr_gnt", 1, false),
        ("sr_rvalid", 1, false),
        ("sr_rdata", 64, false),
        ("pe_start", 1, true),
        ("cnt_clear", 1, true),
        ("cnt_sel", 5, true),
        ("cnt_value", 64, false),
        ("host_in_wait", 1, true),
        ("host_out_wait", 1, true),
    ]
}

/// Every register of the controller, handed to `$m` after the tokens given: one list for the
/// clocking and the hold, so that neither can miss a register.
macro_rules! controller_regs {
    ($m:ident, $($pre:tt)*) => {
        $m!($($pre)* state, lv, rd_inflight, tag_have, halt_after, r_cfg_p, r_cfg_q, r_cfg_s, r_cfg_f, r_cfg_u, r_cfg_shift, r_cfg_acc, net, count, addr, relu, tag_i, tag_sub, tag_word, cnt_i, push_word, lw, la, r_st_len, r_st_nrows, r_st_base, r_st_stride, r_dr_total)
    };
}

impl Controller {
    pub fn new(p: &ControllerParams) -> Result<Self, HwError> {
        let b = "controller";
        check_param(b, "ADDR_W", p.addr_w as u64, 1, 24)?;
        check_param(b, "PSUM_W", p.psum_w as u64, 1, 64)?;
        check_param(b, "MAX_ROWS", p.max_rows as u64, 1, 255)?;
        check_param(b, "IFMAP_MAX_ROWS", p.ifmap_max_rows as u64, 1, 255)?;
        let ports = port_list(p)
            .into_iter()
            .map(|(n, w, out)| {
                if out {
                    Port::output(n, w)
                } else {
                    Port::input(n, w)
                }
            })
            .collect();
        Ok(Controller {
            clk: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_data: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_data: Default::default(),
            cfg_p: Default::default(),
            cfg_q: Default::default(),
            cfg_s: Default::default(),
            cfg_f: Default::default(),
            cfg_u: Default::default(),
            cfg_shift: Default::default(),
            cfg_acc: Default::default(),
            rid_we: Default::default(),
            rid_net: Default::default(),
            rid_row: Default::default(),
            rid_id: Default::default(),
            pec_we: Default::default(),
            pec_row: Default::default(),
            pec_col: Default::default(),
            pec_data: Default::default(),
            st_tag_we: Default::default(),
            st_tag_idx: Default::default(),
            st_tag_data: Default::default(),
            st_cmd_valid: Default::default(),
            st_len: Default::default(),
            st_nrows: Default::default(),
            st_base: Default::default(),
            st_stride: Default::default(),
            st_idle: Default::default(),
            dr_cmd_valid: Default::default(),
            dr_total: Default::default(),
            dr_base: Default::default(),
            dr_stride: Default::default(),
            dr_idle: Default::default(),
            ld_req: Default::default(),
            ld_addr: Default::default(),
            ld_data: Default::default(),
            ld_gnt: Default::default(),
            sr_req: Default::default(),
            sr_addr: Default::default(),
            sr_gnt: Default::default(),
            sr_rvalid: Default::default(),
            sr_rdata: Default::default(),
            pe_start: Default::default(),
            cnt_clear: Default::default(),
            cnt_sel: Default::default(),
            cnt_value: Default::default(),
            host_in_wait: Default::default(),
            host_out_wait: Default::default(),
            u_out_fifo: Fifo::new(64, p.out_depth)?,
            state: Default::default(),
            lv: Default::default(),
            rd_inflight: Default::default(),
            tag_have: Default::default(),
            halt_after: Default::default(),
            r_cfg_p: Default::default(),
            r_cfg_q: Default::default(),
            r_cfg_s: Default::default(),
            r_cfg_f: Default::default(),
            r_cfg_u: Default::default(),
            r_cfg_shift: Default::default(),
            r_cfg_acc: Default::default(),
            net: Default::default(),
            count: Default::default(),
            addr: Default::default(),
            relu: Default::default(),
            tag_i: Default::default(),
            tag_sub: Default::default(),
            tag_word: Default::default(),
            cnt_i: Default::default(),
            push_word: Default::default(),
            lw: Default::default(),
            la: Default::default(),
            r_st_len: Default::default(),
            r_st_nrows: Default::default(),
            r_st_base: Default::default(),
            r_st_stride: Default::default(),
            r_dr_total: Default::default(),
            _p: p.clone(),
            _ports: ports,
        })
    }
}

impl Logic for Controller {
    fn update(&mut self) {
        let clk = self.clk.val();
        controller_regs!(clock_regs, self, clk,);
        self.u_out_fifo.clk.next = clk;
        let rst = self.rst.val();
        self.u_out_fifo.rst.next = rst;
        let p = &self._p;
        let aw = p.addr_w;

        let state = u(self.state.q.val());
        let in_valid = self.in_valid.val();
        let d = u(self.in_data.val());
        let op = d >> 56;
        let count = u(self.count.q.val());
        let addr = u(self.addr.q.val());
        let lv = self.lv.q.val();
        let ld_gnt = self.ld_gnt.val();
        let relu = self.relu.q.val();
        let tag_have = self.tag_have.q.val();
        let tag_i = u(self.tag_i.q.val());
        let tag_sub = u(self.tag_sub.q.val());
        let net = u(self.net.q.val());
        let cnt_i = u(self.cnt_i.q.val());
        let st_nrows = u(self.r_st_nrows.q.val());
        let sr_rvalid = self.sr_rvalid.val();

        // output FIFO and what is pushed into it
        let rdata = u(self.sr_rdata.val());
        let lanes = 64 / p.psum_w;
        let mut relu_data = rdata;
        for l in 0..lanes {
            let lo = l * p.psum_w;
            if relu && (rdata >> (lo + p.psum_w - 1)) & 1 != 0 {
                relu_data &= !(mask(p.psum_w) << lo);
            }
        }
        let push = if sr_rvalid {
            Some(relu_data)
        } else {
            match state {
                S_STORE_HDR => Some(OP_STORE << 56 | count),
                S_CNT_HDR => Some(OP_READ_COUNTERS << 56 | NCNT),
                S_CNT => Some(u(self.cnt_value.val())),
                S_PUSH => Some(u(self.push_word.q.val())),
                _ => None,
            }
        };
        self.u_out_fifo.in_valid.next = push.is_some();
        self.u_out_fifo.in_data.next = bv(push.unwrap_or(0));
        self.u_out_fifo.out_ready.next = self.out_ready.val();
        let out_valid = self.u_out_fifo.out_valid.val();
        self.out_valid.next = out_valid;
        self.out_data.next = self.u_out_fifo.out_data.val();
        let out_level = u(self.u_out_fifo.level.val());
        let pushed = push.is_some() && self.u_out_fifo.in_ready.val();

        // host input
        let st_tags_need = state == S_ST_TAGS && !tag_have;
        let load_take = state == S_LOAD && count != 0 && (!lv || ld_gnt);
        let in_ready =
            state == S_FETCH || load_take || state == S_ST_W1 || st_tags_need || state == S_DR_W1;
        self.in_ready.next = in_ready;
        self.host_in_wait.next = in_ready && !in_valid;
        self.host_out_wait.next = out_valid && !self.out_ready.val();
        let take = in_valid && in_ready;

        // configuration writes
        let fetch_take = take && state == S_FETCH;
        self.rid_we.next = fetch_take && op == OP_CFG_ROW_ID;
        self.rid_net.next = bv(d >> 48);
        self.rid_row.next = bv(d >> 8);
        self.rid_id.next = bv(d);
        self.pec_we.next = fetch_take && op == OP_CFG_PE;
        self.pec_row.next = bv(d >> 44);
        self.pec_col.next = bv(d >> 36);
        self.pec_data.next = bv(d);
        self.pe_start.next = fetch_take && op == OP_START;
        self.cnt_clear.next = fetch_take && op == OP_CLEAR_COUNTERS;
        self.cnt_sel.next = bv(cnt_i);

        // engines
        let tag_write = state == S_ST_TAGS && tag_have;
        let tags_done = tag_write && (tag_i + 1) & 0xff == st_nrows;
        let net_bit = (1u64 << net) & 7;
        self.st_tag_we.next = bv(if tag_write { net_bit } else { 0 });
        self.st_tag_idx.next = bv(tag_i);
        self.st_tag_data.next = bv(u(self.tag_word.q.val()) >> (tag_sub * 16));
        self.st_cmd_valid.next = bv(if tags_done { net_bit } else { 0 });
        self.dr_cmd_valid.next = take && state == S_DR_W1;
        self.dr_base.next = bv(d);
        self.dr_stride.next = bv(d >> 32);
        self.cfg_p.next = self.r_cfg_p.q.val();
        self.cfg_q.next = self.r_cfg_q.q.val();
        self.cfg_s.next = self.r_cfg_s.q.val();
        self.cfg_f.next = self.r_cfg_f.q.val();
        self.cfg_u.next = self.r_cfg_u.q.val();
        self.cfg_shift.next = self.r_cfg_shift.q.val();
        self.cfg_acc.next = self.r_cfg_acc.q.val();
        self.st_len.next = self.r_st_len.q.val();
        self.st_nrows.next = self.r_st_nrows.q.val();
        self.st_base.next = self.r_st_base.q.val();
        self.st_stride.next = self.r_st_stride.q.val();
        self.dr_total.next = self.r_dr_total.q.val();

        // GLB ports
        self.ld_req.next = lv;
        self.ld_addr.next = self.la.q.val();
        self.ld_data.next = self.lw.q.val();
        let ol_w = clog2(p.out_depth as u64) + 1;
        // a read is asked for only while the FIFO has room for it and the word in flight
        let sr_req = state == S_STORE
            && count != 0
            && (out_level & mask(ol_w)) + (sr_rvalid as u64) < p.out_depth as u64;
        self.sr_req.next = sr_req;
        self.sr_addr.next = bv(addr);
        let sr_gnt = self.sr_gnt.val();

        let stream_free = u(self.st_idle.val()) & net_bit != 0;
        let max_rows = if (d >> 48) & 3 == 1 {
            p.ifmap_max_rows
        } else {
            p.max_rows
        } as u64;

        controller_regs!(hold_regs, self,);
        if rst {
            self.state.d.next = bv(S_FETCH);
            self.lv.d.next = false;
            self.rd_inflight.d.next = false;
            self.tag_have.d.next = false;
            self.r_cfg_p.d.next = bv(0);
            self.r_cfg_q.d.next = bv(0);
            self.r_cfg_s.d.next = bv(0);
            self.r_cfg_f.d.next = bv(0);
            self.r_cfg_u.d.next = bv(0);
            self.r_cfg_shift.d.next = bv(0);
            self.r_cfg_acc.d.next = false;
            self.halt_after.d.next = false;
            return;
        }
        if ld_gnt {
            self.lv.d.next = false;
        }
        if load_take && in_valid {
            self.lv.d.next = true;
            self.lw.d.next = bv(d);
            self.la.d.next = bv(addr);
            self.addr.d.next = bv((addr + 1) & mask(aw));
            self.count.d.next = bv(count.wrapping_sub(1));
        }
        self.rd_inflight.d.next = sr_req && sr_gnt;
        let error = |s: &mut Self| {
            s.push_word.d.next = bv(OP_ERROR << 56 | d & mask(56));
            s.halt_after.d.next = true;
            s.state.d.next = bv(S_PUSH);
        };
        let go = |s: &mut Self, st: u64| s.state.d.next = bv(st);
        match state {
            S_FETCH => {
                if in_valid {
                    match op {
                        OP_NOP | OP_CFG_ROW_ID | OP_CFG_PE | OP_START | OP_CLEAR_COUNTERS => {}
                        OP_CFG_LAYER => {
                            self.r_cfg_p.d.next = bv(d);
                            self.r_cfg_q.d.next = bv(d >> 8);
                            self.r_cfg_s.d.next = bv(d >> 16);
                            self.r_cfg_f.d.next = bv(d >> 24);
                            self.r_cfg_u.d.next = bv(d >> 36);
                            self.r_cfg_shift.d.next = bv(d >> 40);
                            self.r_cfg_acc.d.next = (d >> 46) & 1 != 0;
                        }
                        OP_LOAD | OP_STORE => {
                            let n = (d >> 24) & mask(24);
                            self.addr.d.next = bv(d & mask(aw));
                            self.count.d.next = bv(n);
                            if op == OP_STORE {
                                self.relu.d.next = (d >> 48) & 1 != 0;
                                go(self, S_STORE_HDR);
                            } else if n != 0 {
                                go(self, S_LOAD);
                            }
                        }
                        OP_STREAM => {
                            let (nr, nt) = ((d >> 32) & 0xff, (d >> 48) & 3);
                            self.net.d.next = bv(nt);
                            self.r_st_nrows.d.next = bv(nr);
                            self.r_st_len.d.next = bv(d);
                            if nr == 0 || nr > max_rows || nt == 3 {
                                error(self);
                            } else {
                                go(self, S_ST_WAIT);
                            }
                        }
                        OP_DRAIN => {
                            self.r_dr_total.d.next = bv(d);
                            go(self, S_DR_WAIT);
                        }
                        OP_BARRIER => go(self, S_BARRIER),
                        OP_READ_COUNTERS => go(self, S_CNT_HDR),
                        OP_MARK => {
                            self.push_word.d.next = bv(d);
                            go(self, S_PUSH);
                        }
                        _ => error(self),
                    }
                }
            }
            S_LOAD => {
                if count == 0 && !lv {
                    go(self, S_FETCH);
                }
            }
            S_STORE_HDR => {
                if pushed {
                    go(self, S_STORE);
                }
            }
            S_STORE => {
                if sr_req && sr_gnt {
                    self.addr.d.next = bv((addr + 1) & mask(aw));
                    self.count.d.next = bv(count.wrapping_sub(1));
                }
                if count == 0 && !self.rd_inflight.q.val() && !sr_rvalid {
                    go(self, S_FETCH);
                }
            }
            S_ST_WAIT => {
                if stream_free {
                    go(self, S_ST_W1);
                }
            }
            S_ST_W1 => {
                if in_valid {
                    self.r_st_base.d.next = bv(d);
                    self.r_st_stride.d.next = bv(d >> 32);
                    self.tag_i.d.next = bv(0);
                    self.tag_sub.d.next = bv(0);
                    go(self, S_ST_TAGS);
                }
            }
            S_ST_TAGS => {
                if !tag_have {
                    if in_valid {
                        self.tag_word.d.next = bv(d);
                        self.tag_have.d.next = true;
                    }
                } else {
                    self.tag_i.d.next = bv(tag_i + 1);
                    self.tag_sub.d.next = bv(tag_sub + 1);
                    if tag_sub == 3 || tags_done {
                        self.tag_have.d.next = false;
                    }
                    if tags_done {
                        go(self, S_FETCH);
                    }
                }
            }
            S_DR_WAIT => {
                if self.dr_idle.val() {
                    go(self, S_DR_W1);
                }
            }
            S_DR_W1 => {
                if in_valid {
                    go(self, S_FETCH);
                }
            }
            S_BARRIER => {
                if u(self.st_idle.val()) == 7 && self.dr_idle.val() {
                    go(self, S_FETCH);
                }
            }
            S_CNT_HDR => {
                if pushed {
                    self.cnt_i.d.next = bv(0);
                    go(self, S_CNT);
                }
            }
            S_CNT => {
                if pushed {
                    self.cnt_i.d.next = bv(cnt_i + 1);
                    if (cnt_i + 1) & 0x1f == NCNT {
                        go(self, S_FETCH);
                    }
                }
            }
            S_PUSH => {
                if pushed {
                    let next = if self.halt_after.q.val() {
                        S_HALT
                    } else {
                        S_FETCH
                    };
                    go(self, next);
                }
            }
            S_HALT => {}
            _ => go(self, S_FETCH),
        }
    }
    fn connect(&mut self) {
        self.in_ready.connect();
        self.out_valid.connect();
        self.out_data.connect();
        self.cfg_p.connect();
        self.cfg_q.connect();
        self.cfg_s.connect();
        self.cfg_f.connect();
        self.cfg_u.connect();
        self.cfg_shift.connect();
        self.cfg_acc.connect();
        self.rid_we.connect();
        self.rid_net.connect();
        self.rid_row.connect();
        self.rid_id.connect();
        self.pec_we.connect();
        self.pec_row.connect();
        self.pec_col.connect();
        self.pec_data.connect();
        self.st_tag_we.connect();
        self.st_tag_idx.connect();
        self.st_tag_data.connect();
        self.st_cmd_valid.connect();
        self.st_len.connect();
        self.st_nrows.connect();
        self.st_base.connect();
        self.st_stride.connect();
        self.dr_cmd_valid.connect();
        self.dr_total.connect();
        self.dr_base.connect();
        self.dr_stride.connect();
        self.ld_req.connect();
        self.ld_addr.connect();
        self.ld_data.connect();
        self.sr_req.connect();
        self.sr_addr.connect();
        self.pe_start.connect();
        self.cnt_clear.connect();
        self.cnt_sel.connect();
        self.host_in_wait.connect();
        self.host_out_wait.connect();
    }
}

impl Model for Controller {
    fn block(&self) -> &'static str {
        "controller"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        let p = &self._p;
        vec![
            ("ADDR_W", p.addr_w as u64),
            ("PSUM_W", p.psum_w as u64),
            ("MAX_ROWS", p.max_rows as u64),
            ("IFMAP_MAX_ROWS", p.ifmap_max_rows as u64),
            ("OUT_DEPTH", p.out_depth as u64),
        ]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        true
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        let (x, bit) = (v[0], v[0] & 1 != 0);
        match self._ports.get(port).map(|p| p.name) {
            Some("rst") => self.rst.next = bit,
            Some("in_valid") => self.in_valid.next = bit,
            Some("in_data") => self.in_data.next = bv(x),
            Some("out_ready") => self.out_ready.next = bit,
            Some("st_idle") => self.st_idle.next = bv(x),
            Some("dr_idle") => self.dr_idle.next = bit,
            Some("ld_gnt") => self.ld_gnt.next = bit,
            Some("sr_gnt") => self.sr_gnt.next = bit,
            Some("sr_rvalid") => self.sr_rvalid.next = bit,
            Some("sr_rdata") => self.sr_rdata.next = bv(x),
            Some("cnt_value") => self.cnt_value.next = bv(x),
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        let b = |s: &Signal<Out, Bit>| s.val() as u64;
        v[0] = match self._ports.get(port).map(|p| p.name) {
            Some("in_ready") => b(&self.in_ready),
            Some("out_valid") => b(&self.out_valid),
            Some("out_data") => u(self.out_data.val()),
            Some("cfg_p") => u(self.cfg_p.val()),
            Some("cfg_q") => u(self.cfg_q.val()),
            Some("cfg_s") => u(self.cfg_s.val()),
            Some("cfg_f") => u(self.cfg_f.val()),
            Some("cfg_u") => u(self.cfg_u.val()),
            Some("cfg_shift") => u(self.cfg_shift.val()),
            Some("cfg_acc") => b(&self.cfg_acc),
            Some("rid_we") => b(&self.rid_we),
            Some("rid_net") => u(self.rid_net.val()),
            Some("rid_row") => u(self.rid_row.val()),
            Some("rid_id") => u(self.rid_id.val()),
            Some("pec_we") => b(&self.pec_we),
            Some("pec_row") => u(self.pec_row.val()),
            Some("pec_col") => u(self.pec_col.val()),
            Some("pec_data") => u(self.pec_data.val()),
            Some("st_tag_we") => u(self.st_tag_we.val()),
            Some("st_tag_idx") => u(self.st_tag_idx.val()),
            Some("st_tag_data") => u(self.st_tag_data.val()),
            Some("st_cmd_valid") => u(self.st_cmd_valid.val()),
            Some("st_len") => u(self.st_len.val()),
            Some("st_nrows") => u(self.st_nrows.val()),
            Some("st_base") => u(self.st_base.val()),
            Some("st_stride") => u(self.st_stride.val()),
            Some("dr_cmd_valid") => b(&self.dr_cmd_valid),
            Some("dr_total") => u(self.dr_total.val()),
            Some("dr_base") => u(self.dr_base.val()),
            Some("dr_stride") => u(self.dr_stride.val()),
            Some("ld_req") => b(&self.ld_req),
            Some("ld_addr") => u(self.ld_addr.val()),
            Some("ld_data") => u(self.ld_data.val()),
            Some("sr_req") => b(&self.sr_req),
            Some("sr_addr") => u(self.sr_addr.val()),
            Some("pe_start") => b(&self.pe_start),
            Some("cnt_clear") => b(&self.cnt_clear),
            Some("cnt_sel") => u(self.cnt_sel.val()),
            Some("host_in_wait") => b(&self.host_in_wait),
            Some("host_out_wait") => b(&self.host_out_wait),
            _ => return,
        };
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "controller")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "controller")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for Controller {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(
            self, clk, rst, in_valid, in_data, out_ready, st_idle, dr_idle, ld_gnt, sr_gnt,
            sr_rvalid, sr_rdata, cnt_value
        )
    }
}
