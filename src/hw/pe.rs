//! `eyeriss_pe` (templates/pe.v.tera): the processing element. Three input FIFOs (`Fifo`
//! children, as the template instantiates `eyeriss_fifo`), the output queue written in place,
//! the filter, ifmap and psum spads, the issue -> multiply -> accumulate pipeline and the
//! one-bit counter events, register for register as in the template.

use rust_hdl::prelude::*;

use super::fifo::Fifo;
use super::{HwError, bv, bv128, check_param, clock_regs, clog2, mask, u};
use crate::config::ArchConfig;

const ST_WAIT: u64 = 0;
const ST_MAC: u64 = 1;
const ST_PIPE: u64 = 2;
const ST_OUT: u64 = 3;
const ST_SLIDE: u64 = 4;

/// The template's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeParams {
    pub data_w: u32,
    pub psum_w: u32,
    pub filt_depth: u32,
    pub ifmap_depth: u32,
    pub psum_depth: u32,
    pub fifo_depth: u32,
    pub filt_lanes: u32,
    pub ifmap_lanes: u32,
    pub psum_lanes: u32,
    pub idx_w: u32,
    pub filt_cnt_w: u32,
    pub ifmap_cnt_w: u32,
    /// `[fpga] mult_pipeline`: the multiply's operand and product registers (eyeriss_mult_pipe)
    /// between the spad reads and the accumulator, one stage more.
    pub mult_pipeline: bool,
    /// `[pe] max_pool`: the MAX mode's comparators; without them cfg_max is ignored.
    pub max_mode: bool,
}

impl PeParams {
    /// The parameters `eyeriss_top` gives its PEs for this config.
    pub fn from_config(cfg: &ArchConfig) -> PeParams {
        let glb_addr_w = super::glb_addr_w(cfg);
        let data_w = cfg.data.data_width;
        let filt_lanes = cfg.noc.filter_gin_width / data_w;
        let ifmap_lanes = cfg.noc.ifmap_gin_width / data_w;
        PeParams {
            data_w,
            psum_w: cfg.data.psum_width,
            filt_depth: cfg.pe.filter_spad,
            ifmap_depth: cfg.pe.ifmap_spad,
            psum_depth: cfg.pe.psum_spad,
            fifo_depth: cfg.pe.fifo_depth,
            filt_lanes,
            ifmap_lanes,
            psum_lanes: 64 / cfg.data.psum_width,
            idx_w: glb_addr_w.max(16),
            filt_cnt_w: clog2(filt_lanes as u64 + 1),
            ifmap_cnt_w: clog2(ifmap_lanes as u64 + 1),
            mult_pipeline: cfg.fpga.mult_pipeline,
            max_mode: cfg.pe.max_pool,
        }
    }
}

/// Widths the template derives from its parameters (its localparams).
#[derive(Clone, Debug, Default)]
struct Derived {
    fa_w: u32,
    ia_w: u32,
    pa_w: u32,
    pix_w: u32,
    fi_w: u32,
    ii_w: u32,
    lane_log2: u32,
    fdw: u32,
    idw: u32,
    oq_aw: u32,
    idepth: u64,
}

impl Derived {
    fn new(p: &PeParams) -> Derived {
        let at_least_1 = |d: u32| if d > 1 { clog2(d as u64) } else { 1 };
        Derived {
            fa_w: clog2(p.filt_depth as u64 + 1),
            ia_w: clog2(p.ifmap_depth as u64 + 1),
            pa_w: clog2(p.psum_depth as u64 + 1),
            pix_w: at_least_1(p.psum_depth),
            fi_w: at_least_1(p.filt_depth),
            ii_w: at_least_1(p.ifmap_depth),
            lane_log2: clog2(p.psum_lanes as u64),
            fdw: p.filt_lanes * p.data_w,
            idw: p.ifmap_lanes * p.data_w,
            oq_aw: clog2(p.fifo_depth as u64),
            idepth: p.ifmap_depth as u64,
        }
    }
}

super::model! {
    pub struct Pe: "pe", clocked;
    params(b) {
        DATA_W: b._p.data_w,
        PSUM_W: b._p.psum_w,
        FILT_DEPTH: b._p.filt_depth,
        IFMAP_DEPTH: b._p.ifmap_depth,
        PSUM_DEPTH: b._p.psum_depth,
        FIFO_DEPTH: b._p.fifo_depth,
        FILT_LANES: b._p.filt_lanes,
        IFMAP_LANES: b._p.ifmap_lanes,
        PSUM_LANES: b._p.psum_lanes,
        IDX_W: b._p.idx_w,
        FILT_CNT_W: b._p.filt_cnt_w,
        IFMAP_CNT_W: b._p.ifmap_cnt_w,
    }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        start: Signal<In, Bit> = 1,
        cfg_p: Signal<In, Bits<8>> = 8,
        cfg_q: Signal<In, Bits<8>> = 8,
        cfg_s: Signal<In, Bits<8>> = 8,
        cfg_f: Signal<In, Bits<12>> = 12,
        cfg_u: Signal<In, Bits<4>> = 4,
        cfg_shift: Signal<In, Bits<6>> = 6,
        cfg_max: Signal<In, Bit> = 1,
        cfg_en: Signal<In, Bit> = 1,
        pin_used: Signal<In, Bit> = 1,
        filt_valid: Signal<In, Bit> = 1,
        filt_ready: Signal<Out, Bit> = 1,
        filt_data: Signal<In, Bits<64>> = b._k.fdw,
        filt_count: Signal<In, Bits<8>> = b._p.filt_cnt_w,
        ifm_valid: Signal<In, Bit> = 1,
        ifm_ready: Signal<Out, Bit> = 1,
        ifm_data: Signal<In, Bits<64>> = b._k.idw,
        ifm_count: Signal<In, Bits<8>> = b._p.ifmap_cnt_w,
        pin_valid: Signal<In, Bit> = 1,
        pin_ready: Signal<Out, Bit> = 1,
        pin_data: Signal<In, Bits<64>> = 64,
        pout_valid: Signal<Out, Bit> = 1,
        pout_ready: Signal<In, Bit> = 1,
        pout_data: Signal<Out, Bits<64>> = 64,
        pout_idx: Signal<Out, Bits<32>> = b._p.idx_w,
        ev_busy: Signal<Out, Bit> = 1,
        ev_mac: Signal<Out, Bit> = 1,
        ev_fwrite: Signal<Out, Bit> = 1,
        ev_iread: Signal<Out, Bit> = 1,
        ev_iwrite: Signal<Out, Bit> = 1,
        ev_pacc: Signal<Out, Bit> = 1,
        ev_pcol: Signal<Out, Bit> = 1,
        ev_pwrite: Signal<Out, Bit> = 1,
    }
    state {
        u_filt_fifo: Fifo<128>,
        u_ifmap_fifo: Fifo<128>,
        u_psum_in_fifo: Fifo<64>,
        // pass parameters, derived once
        f_total: DFF<Bits<16>>,
        sq: DFF<Bits<8>>,
        uq: DFF<Bits<8>>,
        wpc: DFF<Bits<8>>,
        // filter spad
        fspad_q: DFF<Bits<16>>,
        f_fill: DFF<Bits<16>>,
        f_lane: DFF<Bits<8>>,
        // ifmap spad
        i_head: DFF<Bits<8>>,
        i_wptr: DFF<Bits<8>>,
        i_count: DFF<Bits<8>>,
        i_drop: DFF<Bits<8>>,
        i_lane: DFF<Bits<8>>,
        state: DFF<Bits<3>>,
        // compute
        mi: DFF<Bits<8>>,
        xo: DFF<Bits<8>>,
        faddr: DFF<Bits<16>>,
        col: DFF<Bits<12>>,
        ok: DFF<Bits<8>>,
        out_idx: DFF<Bits<32>>,
        s1_valid: DFF<Bit>,
        s1_zero: DFF<Bit>,
        s1_first: DFF<Bit>,
        s1_x: DFF<Bits<16>>,
        s1_i: DFF<Bits<8>>,
        s2_valid: DFF<Bit>,
        s2_zero: DFF<Bit>,
        s2_first: DFF<Bit>,
        s2_add: DFF<Bits<32>>,
        s2_i: DFF<Bits<8>>,
        // with mult_pipeline: eyeriss_mult_pipe's operand and product registers, and the
        // accumulate stage behind them
        mp_a: DFF<Bits<16>>,
        mp_b: DFF<Bits<16>>,
        mp_p: DFF<Bits<32>>,
        s3_valid: DFF<Bit>,
        s3_zero: DFF<Bit>,
        s3_first: DFF<Bit>,
        s3_i: DFF<Bits<8>>,
        // output queue
        oq_rd: DFF<Bits<8>>,
        oq_wr: DFF<Bits<8>>,
        oq_count: DFF<Bits<8>>,
        // memories: fspad, ibuf, psum, oq_data
        _fspad: Vec<u64>,
        _ibuf: Vec<u64>,
        _psum: Vec<u64>,
        _oq_data: Vec<Bits<64>>,
        /// The filter and ifmap FIFO heads as integers, refreshed when they change.
        _ff_word: u128,
        _if_word: u128,
        _p: PeParams,
        _k: Derived,
    }
}

/// Sign-extend the low `w` bits of `v`.
fn sext(v: u64, w: u32) -> i64 {
    ((v << (64 - w)) as i64) >> (64 - w)
}

impl Pe {
    pub fn new(p: &PeParams) -> Result<Self, HwError> {
        let b = "pe";
        check_param(b, "DATA_W", p.data_w as u64, 4, 16)?;
        check_param(b, "PSUM_W", p.psum_w as u64, 8, 32)?;
        check_param(b, "FILT_DEPTH", p.filt_depth as u64, 1, 4096)?;
        check_param(b, "IFMAP_DEPTH", p.ifmap_depth as u64, 1, 255)?;
        check_param(b, "PSUM_DEPTH", p.psum_depth as u64, 1, 255)?;
        check_param(b, "FIFO_DEPTH", p.fifo_depth as u64, 2, 64)?;
        check_param(b, "PSUM_LANES", (p.psum_lanes * p.psum_w) as u64, 64, 64)?;
        check_param(b, "FILT_LANES", (p.filt_lanes * p.data_w) as u64, 1, 64)?;
        check_param(b, "IFMAP_LANES", (p.ifmap_lanes * p.data_w) as u64, 1, 64)?;
        check_param(b, "IDX_W", p.idx_w as u64, 1, 32)?;
        check_param(b, "FILT_CNT_W", p.filt_cnt_w as u64, 1, 8)?;
        check_param(b, "IFMAP_CNT_W", p.ifmap_cnt_w as u64, 1, 8)?;
        let k = Derived::new(p);
        Ok(Pe {
            u_filt_fifo: Fifo::new(k.fdw + p.filt_cnt_w, p.fifo_depth)?,
            u_ifmap_fifo: Fifo::new(k.idw + p.ifmap_cnt_w, p.fifo_depth)?,
            u_psum_in_fifo: Fifo::new(64, p.fifo_depth)?,
            _fspad: vec![0; p.filt_depth as usize],
            _ibuf: vec![0; p.ifmap_depth as usize],
            _psum: vec![0; p.psum_depth as usize],
            _oq_data: vec![Bits::default(); p.fifo_depth as usize],
            _ff_word: 0,
            _if_word: 0,
            _p: p.clone(),
            _k: k,
            ..Default::default()
        }
        .with_ports())
    }

    pub fn params_of(&self) -> &PeParams {
        &self._p
    }
}

impl Logic for Pe {
    fn update(&mut self) {
        let clk = self.clk.val();
        clock_regs!(
            self, clk, f_total, sq, uq, wpc, fspad_q, f_fill, f_lane, i_head, i_wptr, i_count,
            i_drop, i_lane, state, mi, xo, faddr, col, ok, out_idx, s1_valid, s1_zero, s1_first,
            s1_x, s1_i, s2_valid, s2_zero, s2_first, s2_add, s2_i, mp_a, mp_b, mp_p, s3_valid,
            s3_zero, s3_first, s3_i, oq_rd, oq_wr, oq_count
        );
        let p = &self._p;
        let k = &self._k;
        let rst = self.rst.val();
        let start = self.start.val();

        // ------------------------------------------------------------ input FIFOs
        for f in [&mut self.u_filt_fifo, &mut self.u_ifmap_fifo] {
            f.clk.next = clk;
            f.rst.next = rst;
        }
        self.u_psum_in_fifo.clk.next = clk;
        self.u_psum_in_fifo.rst.next = rst;
        // Wide values (over 32 bits) are arrays of bits in rust-hdl: they are converted only in
        // the pass after they change (a signal's `next` holds until it is written again).
        self.u_filt_fifo.in_valid.next = self.filt_valid.val();
        if self.filt_count.changed || self.filt_data.changed {
            self.u_filt_fifo.in_data.next = bv128(
                (u(self.filt_count.val()) as u128) << k.fdw | u(self.filt_data.val()) as u128,
            );
        }
        self.filt_ready.next = self.u_filt_fifo.in_ready.val();
        self.u_ifmap_fifo.in_valid.next = self.ifm_valid.val();
        if self.ifm_count.changed || self.ifm_data.changed {
            self.u_ifmap_fifo.in_data.next =
                bv128((u(self.ifm_count.val()) as u128) << k.idw | u(self.ifm_data.val()) as u128);
        }
        self.ifm_ready.next = self.u_ifmap_fifo.in_ready.val();
        self.u_psum_in_fifo.in_valid.next = self.pin_valid.val();
        self.u_psum_in_fifo.in_data.next = self.pin_data.val();
        self.pin_ready.next = self.u_psum_in_fifo.in_ready.val();
        let ff_valid = self.u_filt_fifo.out_valid.val();
        if self.u_filt_fifo.out_data.changed {
            self._ff_word = self.u_filt_fifo.out_data.val().to_u128();
        }
        let ff_word = self._ff_word;
        let if_valid = self.u_ifmap_fifo.out_valid.val();
        if self.u_ifmap_fifo.out_data.changed {
            self._if_word = self.u_ifmap_fifo.out_data.val().to_u128();
        }
        let if_word = self._if_word;
        let pf_valid = self.u_psum_in_fifo.out_valid.val();

        // ------------------------------------------------------------ configuration
        let cfg_p = u(self.cfg_p.val());
        let cfg_q = u(self.cfg_q.val());
        let cfg_s = u(self.cfg_s.val());
        let cfg_f = u(self.cfg_f.val());
        let cfg_u = u(self.cfg_u.val());
        let cfg_shift = u(self.cfg_shift.val()) as u32;
        let cfg_max = p.max_mode && self.cfg_max.val();
        let cfg_en = self.cfg_en.val();
        let pin_used = self.pin_used.val();
        // the template's 24-, 12- and 16-bit intermediate products, cut to the register widths
        self.f_total.d.next = bv((cfg_p * cfg_q * cfg_s) & mask(24) & mask(k.fa_w));
        self.sq.d.next = bv((cfg_s * cfg_q) & mask(12) & mask(k.ia_w));
        self.uq.d.next = bv((cfg_u * cfg_q) & mask(12) & mask(k.ia_w));
        let p_up = (cfg_p + p.psum_lanes as u64 - 1) & mask(16);
        self.wpc.d.next = bv((p_up >> k.lane_log2) & mask(k.pa_w));

        let f_total = u(self.f_total.q.val());
        let sq = u(self.sq.q.val());
        let uq = u(self.uq.q.val());
        let wpc = u(self.wpc.q.val());
        let fspad_q = u(self.fspad_q.q.val());
        let f_fill = u(self.f_fill.q.val());
        let f_lane = u(self.f_lane.q.val());
        let i_head = u(self.i_head.q.val());
        let i_wptr = u(self.i_wptr.q.val());
        let i_count = u(self.i_count.q.val());
        let i_drop = u(self.i_drop.q.val());
        let i_lane = u(self.i_lane.q.val());
        let state = u(self.state.q.val());
        let mi = u(self.mi.q.val());
        let xo = u(self.xo.q.val());
        let faddr = u(self.faddr.q.val());
        let col = u(self.col.q.val());
        let ok = u(self.ok.q.val());
        let out_idx = u(self.out_idx.q.val());
        let s1_valid = self.s1_valid.q.val();
        let s1_zero = self.s1_zero.q.val();
        let s1_x = u(self.s1_x.q.val());
        let s1_i = u(self.s1_i.q.val());
        let s2_valid = self.s2_valid.q.val();
        let s2_zero = self.s2_zero.q.val();
        let s2_first = self.s2_first.q.val();
        let s2_add = u(self.s2_add.q.val());
        let s2_i = u(self.s2_i.q.val());
        let s3_valid = self.s3_valid.q.val();
        let mp = p.mult_pipeline;
        let oq_rd = u(self.oq_rd.q.val());
        let oq_wr = u(self.oq_wr.q.val());
        let oq_count = u(self.oq_count.q.val());

        // ------------------------------------------------------------ output queue outputs
        let pout_valid = oq_count != 0;
        self.pout_valid.next = pout_valid;
        self.pout_data.next = self._oq_data[oq_rd as usize];
        // a word's index is counted where words leave (the template's out_idx)
        self.pout_idx.next = bv(out_idx);
        let of_ready = oq_count != p.fifo_depth as u64;
        let oq_pop = pout_valid & self.pout_ready.val();

        // ------------------------------------------------------------ filter spad
        let f_loaded = f_fill == f_total;
        let ff_count = (ff_word >> k.fdw) as u64 & mask(p.filt_cnt_w);
        let f_we = ff_valid & !f_loaded;
        let ff_data = ff_word as u64 & mask(k.fdw);
        let lane_shift = f_lane * p.data_w as u64;
        let ff_lane = if lane_shift >= k.fdw as u64 {
            0
        } else {
            ff_data >> lane_shift
        };
        let f_wdata = ff_lane & mask(p.data_w);
        let f_last_lane = (f_lane + 1) & mask(p.filt_cnt_w) == ff_count;
        let f_last_weight = (f_fill + 1) & mask(k.fa_w) == f_total;
        let ff_pop = f_we & (f_last_lane | f_last_weight);
        self.u_filt_fifo.out_ready.next = ff_pop;

        // ------------------------------------------------------------ ifmap spad
        let if_count = (if_word >> k.idw) as u64 & mask(p.ifmap_cnt_w);
        let i_take = if_valid & (state != ST_SLIDE) & ((i_drop != 0) | (i_count != k.idepth));
        let i_we = i_take & (i_drop == 0);
        let i_shift = i_lane * p.data_w as u64;
        let i_wdata = if i_shift >= 128 {
            0
        } else {
            (if_word >> i_shift) as u64 & mask(p.data_w)
        };
        let if_pop = i_take & ((i_lane + 1) & mask(p.ifmap_cnt_w) == if_count);
        self.u_ifmap_fifo.out_ready.next = if_pop;

        // ------------------------------------------------------------ compute
        let xsum = i_head + xo;
        let xwrap = if xsum >= k.idepth {
            xsum - k.idepth
        } else {
            xsum
        };
        let x_cur = self
            ._ibuf
            .get((xwrap & mask(k.ii_w)) as usize)
            .copied()
            .unwrap_or(0);
        // MAX mode compares zero operands too.
        let x_zero = !cfg_max && x_cur == 0;
        let mac_issue = state == ST_MAC;
        let mac_last = ((mi + 1) & 0xff == cfg_p) & ((xo + 1) & mask(k.ia_w) == sq);
        let can_start = cfg_en & (f_total != 0) & f_loaded & (i_count >= sq) & (i_drop == 0);

        // stage 2 input: the product of two DATA_W-bit two's-complement values, arithmetic
        // shift right, wrapped to PSUM_W bits (DESIGN.md). When PSUM_W > 2*DATA_W the template
        // selects bits beyond its 2*DATA_W-bit `shifted` (out of range in Verilog); Verilator
        // sign-extends there, as this does.
        let prod = sext(s1_x, p.data_w) * sext(fspad_q, p.data_w);
        let shifted = prod >> cfg_shift.min(63);
        let add = (shifted as u64) & mask(p.psum_w);
        // The accumulate stage: stage 2 (the shifted product registered), or with
        // mult_pipeline stage 3, whose product register is shifted on the way in.
        let pw = 2 * p.data_w;
        let (acc_valid, acc_first, acc_zero, acc_i, acc_add) = if mp {
            let mp_p = u(self.mp_p.q.val());
            (
                s3_valid,
                self.s3_first.q.val(),
                self.s3_zero.q.val(),
                u(self.s3_i.q.val()),
                ((sext(mp_p, pw) >> cfg_shift.min(63)) as u64) & mask(p.psum_w),
            )
        } else {
            (s2_valid, s2_first, s2_zero, s2_i, s2_add)
        };

        let out_go = (state == ST_OUT) & of_ready & (!pin_used | pf_valid);
        let out_last = (ok + 1) & mask(k.pa_w) == wpc;
        let obase = (ok << k.lane_log2) & mask(32);
        self.u_psum_in_fifo.out_ready.next = out_go & pin_used;

        let last_col = (col + 1) & mask(12) == cfg_f;
        let remove = if last_col { sq } else { uq };
        let removed = i_count.min(remove);
        let hsum = i_head + removed;
        let hnext = if hsum >= k.idepth {
            hsum - k.idepth
        } else {
            hsum
        };

        // ------------------------------------------------------------ output queue registers
        if rst {
            self.oq_rd.d.next = bv(0);
            self.oq_wr.d.next = bv(0);
            self.oq_count.d.next = bv(0);
        } else {
            let am = mask(k.oq_aw);
            self.oq_wr.d.next = bv(if out_go { (oq_wr + 1) & am } else { oq_wr });
            self.oq_rd.d.next = bv(if oq_pop { (oq_rd + 1) & am } else { oq_rd });
            let c = match (out_go, oq_pop) {
                (true, false) => oq_count + 1,
                (false, true) => oq_count - 1,
                _ => oq_count,
            };
            self.oq_count.d.next = bv(c & mask(k.oq_aw + 1));
        }

        // ------------------------------------------------------------ pass registers
        self.fspad_q.d.next = bv(if !f_we & mac_issue & !x_zero {
            self._fspad.get(faddr as usize).copied().unwrap_or(0)
        } else {
            fspad_q
        });
        // registers the pass reset leaves alone keep their value unless written below
        self.s1_zero.d.next = s1_zero;
        self.s1_first.d.next = self.s1_first.q.val();
        self.s1_x.d.next = bv(s1_x);
        self.s1_i.d.next = bv(s1_i);
        self.s2_zero.d.next = s2_zero;
        self.s2_first.d.next = s2_first;
        self.s2_add.d.next = bv(s2_add);
        self.s2_i.d.next = bv(s2_i);
        self.s3_zero.d.next = self.s3_zero.q.val();
        self.s3_first.d.next = self.s3_first.q.val();
        self.s3_i.d.next = self.s3_i.q.val();
        // eyeriss_mult_pipe's registers are data, never reset: loaded on their enables
        let (mp_a, mp_b) = (u(self.mp_a.q.val()), u(self.mp_b.q.val()));
        self.mp_a.d.next = bv(if s1_valid & !s1_zero { s1_x } else { mp_a });
        self.mp_b.d.next = bv(if s1_valid & !s1_zero { fspad_q } else { mp_b });
        self.mp_p.d.next = if s2_valid & !s2_zero {
            bv((sext(mp_a, p.data_w) * sext(mp_b, p.data_w)) as u64 & mask(pw))
        } else {
            self.mp_p.q.val()
        };
        if rst | start {
            for r in [
                &mut self.i_head,
                &mut self.i_wptr,
                &mut self.i_count,
                &mut self.i_drop,
                &mut self.i_lane,
                &mut self.mi,
                &mut self.xo,
                &mut self.ok,
                &mut self.f_lane,
            ] {
                r.d.next = bv(0);
            }
            self.f_fill.d.next = bv(0);
            self.state.d.next = bv(ST_WAIT);
            self.faddr.d.next = bv(0);
            self.col.d.next = bv(0);
            self.out_idx.d.next = bv(0);
            self.s1_valid.d.next = false;
            self.s2_valid.d.next = false;
            self.s3_valid.d.next = false;
        } else {
            self.f_fill.d.next = bv(if f_we {
                (f_fill + 1) & mask(k.fa_w)
            } else {
                f_fill
            });
            self.f_lane.d.next = bv(match (f_we, ff_pop) {
                (true, true) => 0,
                (true, false) => (f_lane + 1) & mask(p.filt_cnt_w),
                _ => f_lane,
            });
            self.i_lane.d.next = bv(match (i_take, if_pop) {
                (true, true) => 0,
                (true, false) => (i_lane + 1) & mask(p.ifmap_cnt_w),
                _ => i_lane,
            });
            let mut n_i_drop = i_drop;
            let mut n_i_wptr = i_wptr;
            if i_take {
                if i_drop != 0 {
                    n_i_drop = i_drop - 1;
                } else {
                    let w1 = (i_wptr + 1) & mask(k.ia_w);
                    n_i_wptr = if w1 == k.idepth { 0 } else { w1 };
                }
            }
            self.i_wptr.d.next = bv(n_i_wptr);

            self.s1_valid.d.next = mac_issue;
            self.s1_zero.d.next = x_zero;
            self.s1_first.d.next = xo == 0;
            self.s1_x.d.next = bv(x_cur);
            self.s1_i.d.next = bv(mi & mask(k.pix_w));
            self.s2_valid.d.next = s1_valid;
            self.s2_zero.d.next = s1_zero;
            self.s2_first.d.next = self.s1_first.q.val();
            if s1_valid & !s1_zero && !mp {
                self.s2_add.d.next = bv(add);
            }
            self.s2_i.d.next = bv(s1_i);
            self.s3_valid.d.next = s2_valid;
            self.s3_zero.d.next = s2_zero;
            self.s3_first.d.next = s2_first;
            self.s3_i.d.next = bv(s2_i);

            let mut n_state = state;
            let mut n_mi = mi;
            let mut n_xo = xo;
            let mut n_faddr = faddr;
            let mut n_col = col;
            let mut n_ok = ok;
            let mut n_out_idx = out_idx;
            let mut n_i_head = i_head;
            match state {
                ST_WAIT => {
                    if can_start {
                        n_state = ST_MAC;
                        n_mi = 0;
                        n_xo = 0;
                        n_faddr = 0;
                    }
                }
                ST_MAC => {
                    n_faddr = (faddr + 1) & mask(k.fi_w);
                    if (mi + 1) & 0xff == cfg_p {
                        n_mi = 0;
                        n_xo = (xo + 1) & mask(k.ia_w);
                    } else {
                        n_mi = (mi + 1) & 0xff;
                    }
                    if mac_last {
                        n_state = ST_PIPE;
                    }
                }
                ST_PIPE => {
                    if !(s1_valid || s2_valid || mp && s3_valid) {
                        n_state = ST_OUT;
                        n_ok = 0;
                    }
                }
                ST_OUT => {
                    if out_go {
                        n_ok = (ok + 1) & mask(k.pa_w);
                        if out_last {
                            n_state = ST_SLIDE;
                        }
                    }
                }
                ST_SLIDE => {
                    n_i_head = hnext & mask(k.ia_w);
                    n_i_drop = if last_col {
                        0
                    } else {
                        remove.wrapping_sub(removed) & mask(k.ia_w)
                    };
                    n_col = if last_col { 0 } else { (col + 1) & mask(12) };
                    n_state = ST_WAIT;
                }
                _ => n_state = ST_WAIT,
            }
            self.state.d.next = bv(n_state);
            self.mi.d.next = bv(n_mi);
            self.xo.d.next = bv(n_xo);
            self.faddr.d.next = bv(n_faddr);
            self.col.d.next = bv(n_col);
            self.ok.d.next = bv(n_ok);
            if oq_pop {
                n_out_idx = (out_idx + 1) & mask(p.idx_w);
            }
            self.out_idx.d.next = bv(n_out_idx);
            self.i_head.d.next = bv(n_i_head);
            self.i_drop.d.next = bv(n_i_drop);
            let slide_removed = if state == ST_SLIDE { removed } else { 0 };
            self.i_count.d.next =
                bv((i_count + i_we as u64).wrapping_sub(slide_removed) & mask(k.ia_w));
        }

        // ------------------------------------------------------------ events
        self.ev_busy.next = mac_issue;
        self.ev_mac.next = mac_issue & !x_zero;
        self.ev_fwrite.next = f_we & !rst & !start;
        self.ev_iread.next = mac_issue & (mi == 0);
        self.ev_iwrite.next = i_we & !rst & !start;
        self.ev_pacc.next = acc_valid & !acc_first & !acc_zero;
        self.ev_pcol.next = out_go & out_last;
        self.ev_pwrite.next = acc_valid & (acc_first | !acc_zero);

        // ------------------------------------------------------------ memories
        // Written last, so every register input above saw the memories as they were before
        // the edge, as the template's nonblocking assignments do.
        if self.clk.pos_edge() {
            if f_we {
                let a = (f_fill & mask(k.fi_w)) as usize;
                if let Some(m) = self._fspad.get_mut(a) {
                    *m = f_wdata;
                }
            }
            if i_we {
                let a = (i_wptr & mask(k.ii_w)) as usize;
                if let Some(m) = self._ibuf.get_mut(a) {
                    *m = i_wdata;
                }
            }
            if !(rst | start) && acc_valid {
                let a = acc_i as usize;
                let old = self._psum.get(a).copied().unwrap_or(0);
                let new = if acc_first {
                    Some(if acc_zero { 0 } else { acc_add })
                } else if !acc_zero {
                    Some(if cfg_max {
                        if sext(acc_add, p.psum_w) > sext(old, p.psum_w) {
                            acc_add
                        } else {
                            old
                        }
                    } else {
                        (old + acc_add) & mask(p.psum_w)
                    })
                } else {
                    None
                };
                if let (Some(v), Some(m)) = (new, self._psum.get_mut(a)) {
                    *m = v;
                }
            }
            if !rst && out_go {
                let pf_word = self.u_psum_in_fifo.out_data.val().to_u128() as u64;
                let mut word = 0u64;
                for l in 0..p.psum_lanes as u64 {
                    let pidx = ((obase & mask(k.pix_w)) + l) & mask(k.pix_w);
                    if obase + l < cfg_p {
                        let lw = p.psum_w as u64;
                        let pin = if pin_used {
                            (pf_word >> (l * lw)) & mask(p.psum_w)
                        } else {
                            0
                        };
                        let ps = self._psum.get(pidx as usize).copied().unwrap_or(0);
                        let v = if pin_used && cfg_max {
                            if sext(pin, p.psum_w) > sext(ps, p.psum_w) {
                                pin
                            } else {
                                ps
                            }
                        } else {
                            (ps + pin) & mask(p.psum_w)
                        };
                        word |= v << (l * lw);
                    }
                }
                self._oq_data[oq_wr as usize] = bv(word);
            }
        }
    }

    fn connect(&mut self) {
        self.connect_ports();
    }
}
