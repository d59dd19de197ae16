//! `eyeriss_controller` (templates/controller.v.tera): executes the host command stream of
//! docs/commands.md: configuration writes, host-to-GLB loads, GLB-to-host stores with ReLU,
//! STREAM and DRAIN hand-off, START, BARRIER, counter reads and markers. Responses leave through
//! an output FIFO (`Fifo` child).

use rust_hdl::prelude::*;

use super::fifo::Fifo;
use super::{HwError, bv, check_param, clock_regs, clog2, hold_regs, mask, u};

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerParams {
    pub addr_w: u32,
    pub psum_w: u32,
    pub max_rows: u32,
    pub ifmap_max_rows: u32,
    pub len_w: u32,
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
            len_w: super::stream_len_w(cfg),
            out_depth: 4,
        }
    }
}

super::model! {
    pub struct Controller: "controller", clocked;
    params(b) {
        ADDR_W: b._p.addr_w,
        PSUM_W: b._p.psum_w,
        MAX_ROWS: b._p.max_rows,
        IFMAP_MAX_ROWS: b._p.ifmap_max_rows,
        LEN_W: b._p.len_w,
        OUT_DEPTH: b._p.out_depth,
    }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        in_valid: Signal<In, Bit> = 1,
        in_ready: Signal<Out, Bit> = 1,
        in_data: Signal<In, Bits<64>> = 64,
        out_valid: Signal<Out, Bit> = 1,
        out_ready: Signal<In, Bit> = 1,
        out_data: Signal<Out, Bits<64>> = 64,
        cfg_p: Signal<Out, Bits<8>> = 8,
        cfg_q: Signal<Out, Bits<8>> = 8,
        cfg_s: Signal<Out, Bits<8>> = 8,
        cfg_f: Signal<Out, Bits<12>> = 12,
        cfg_u: Signal<Out, Bits<4>> = 4,
        cfg_shift: Signal<Out, Bits<6>> = 6,
        cfg_acc: Signal<Out, Bit> = 1,
        cfg_max: Signal<Out, Bit> = 1,
        rid_we: Signal<Out, Bit> = 1,
        rid_net: Signal<Out, Bits<2>> = 2,
        rid_row: Signal<Out, Bits<8>> = 8,
        rid_id: Signal<Out, Bits<8>> = 8,
        pec_we: Signal<Out, Bit> = 1,
        pec_row: Signal<Out, Bits<8>> = 8,
        pec_col: Signal<Out, Bits<8>> = 8,
        pec_data: Signal<Out, Bits<36>> = 36,
        st_tag_we: Signal<Out, Bits<3>> = 3,
        st_tag_idx: Signal<Out, Bits<8>> = 8,
        st_tag_data: Signal<Out, Bits<16>> = 16,
        st_cmd_valid: Signal<Out, Bits<3>> = 3,
        st_len: Signal<Out, Bits<32>> = 32,
        st_nrows: Signal<Out, Bits<8>> = 8,
        st_base: Signal<Out, Bits<32>> = 32,
        st_stride: Signal<Out, Bits<32>> = 32,
        st_idle: Signal<In, Bits<3>> = 3,
        dr_cmd_valid: Signal<Out, Bit> = 1,
        dr_total: Signal<Out, Bits<32>> = 32,
        dr_base: Signal<Out, Bits<32>> = 32,
        dr_stride: Signal<Out, Bits<32>> = 32,
        dr_idle: Signal<In, Bit> = 1,
        ld_req: Signal<Out, Bit> = 1,
        ld_addr: Signal<Out, Bits<32>> = b._p.addr_w,
        ld_data: Signal<Out, Bits<64>> = 64,
        ld_gnt: Signal<In, Bit> = 1,
        sr_req: Signal<Out, Bit> = 1,
        sr_addr: Signal<Out, Bits<32>> = b._p.addr_w,
        sr_gnt: Signal<In, Bit> = 1,
        sr_rvalid: Signal<In, Bit> = 1,
        sr_rdata: Signal<In, Bits<64>> = 64,
        pe_start: Signal<Out, Bit> = 1,
        cnt_clear: Signal<Out, Bit> = 1,
        cnt_sel: Signal<Out, Bits<5>> = 5,
        cnt_value: Signal<In, Bits<64>> = 64,
        host_in_wait: Signal<Out, Bit> = 1,
        host_out_wait: Signal<Out, Bit> = 1,
    }
    state {
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
        r_cfg_max: DFF<Bit>,
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
        // the configuration writes and the start, registered (the strobes are reset)
        r_rid_we: DFF<Bit>,
        r_rid_net: DFF<Bits<2>>,
        r_rid_row: DFF<Bits<8>>,
        r_rid_id: DFF<Bits<8>>,
        r_pec_we: DFF<Bit>,
        r_pec_row: DFF<Bits<8>>,
        r_pec_col: DFF<Bits<8>>,
        r_pec_data: DFF<Bits<36>>,
        r_pe_start: DFF<Bit>,
        _p: ControllerParams,
    }
}

/// Every register of the controller, handed to `$m` after the tokens given: one list for the
/// clocking and the hold, so that neither can miss a register.
macro_rules! controller_regs {
    ($m:ident, $($pre:tt)*) => {
        $m!($($pre)* state, lv, rd_inflight, tag_have, halt_after, r_cfg_p, r_cfg_q, r_cfg_s, r_cfg_f, r_cfg_u, r_cfg_shift, r_cfg_acc, r_cfg_max, net, count, addr, relu, tag_i, tag_sub, tag_word, cnt_i, push_word, lw, la, r_st_len, r_st_nrows, r_st_base, r_st_stride, r_dr_total, r_rid_we, r_rid_net, r_rid_row, r_rid_id, r_pec_we, r_pec_row, r_pec_col, r_pec_data, r_pe_start)
    };
}

impl Controller {
    pub fn new(p: &ControllerParams) -> Result<Self, HwError> {
        let b = "controller";
        check_param(b, "ADDR_W", p.addr_w as u64, 1, 24)?;
        check_param(b, "PSUM_W", p.psum_w as u64, 1, 64)?;
        check_param(b, "MAX_ROWS", p.max_rows as u64, 1, 255)?;
        check_param(b, "IFMAP_MAX_ROWS", p.ifmap_max_rows as u64, 1, 255)?;
        check_param(b, "LEN_W", p.len_w as u64, 2, 31)?;
        Ok(Controller {
            u_out_fifo: Fifo::new(64, p.out_depth)?,
            _p: p.clone(),
            ..Default::default()
        }
        .with_ports())
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
        self.rid_we.next = self.r_rid_we.q.val();
        self.rid_net.next = self.r_rid_net.q.val();
        self.rid_row.next = self.r_rid_row.q.val();
        self.rid_id.next = self.r_rid_id.q.val();
        self.pec_we.next = self.r_pec_we.q.val();
        self.pec_row.next = self.r_pec_row.q.val();
        self.pec_col.next = self.r_pec_col.q.val();
        self.pec_data.next = self.r_pec_data.q.val();
        self.pe_start.next = self.r_pe_start.q.val();
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
        self.cfg_max.next = self.r_cfg_max.q.val();
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
        self.r_rid_we.d.next = !rst && fetch_take && op == OP_CFG_ROW_ID;
        self.r_pec_we.d.next = !rst && fetch_take && op == OP_CFG_PE;
        self.r_pe_start.d.next = !rst && fetch_take && op == OP_START;
        self.r_rid_net.d.next = bv(d >> 48);
        self.r_rid_row.d.next = bv(d >> 8);
        self.r_rid_id.d.next = bv(d);
        self.r_pec_row.d.next = bv(d >> 44);
        self.r_pec_col.d.next = bv(d >> 36);
        self.r_pec_data.d.next = bv(d);
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
            self.r_cfg_max.d.next = false;
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
                            self.r_cfg_max.d.next = (d >> 47) & 1 != 0;
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
                            let len_over = (d & mask(32)) >> p.len_w != 0;
                            if nr == 0 || nr > max_rows || nt == 3 || len_over {
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
        self.connect_ports();
    }
}
