//! `eyeriss_stream` (templates/stream.v.tera): a stream engine from the GLB to one global input
//! network. A command initialises up to MAX_ROWS rows (one per cycle); rows fetch their next
//! GLB word round robin and send beats round robin, passing over a row whose PEs are not ready.
//! `R` is the most rows the instance may have (`RrArb<R>` arbitrates them; 256 covers
//! `noc.stream_rows` up to 255); the template's MAX_ROWS is a run-time value.

use rust_hdl::prelude::*;

use super::rr_arb::RrArb;
use super::{HwError, bv, check_param, clog2, from_words, glb_addr_w, mask, to_words, u};
use crate::config::ArchConfig;

/// Which of `eyeriss_top`'s three stream engines.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Engine {
    Filter,
    Ifmap,
    Psum,
}

/// The template's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamParams {
    pub elem_w: u32,
    pub lanes: u32,
    pub cnt_w: u32,
    pub word_w: u32,
    pub addr_w: u32,
    pub len_w: u32,
    pub max_rows: u32,
    pub row_id_w: u32,
    pub col_id_w: u32,
}

impl StreamParams {
    /// The parameters `eyeriss_top` gives an engine for this config.
    pub fn from_config(cfg: &ArchConfig, engine: Engine) -> StreamParams {
        let (elem_w, lanes, max_rows, col_id_w) = match engine {
            Engine::Filter => (
                cfg.data.data_width,
                cfg.noc.filter_gin_width / cfg.data.data_width,
                cfg.noc.stream_rows,
                cfg.noc.filter_col_id_bits,
            ),
            Engine::Ifmap => (
                cfg.data.data_width,
                cfg.noc.ifmap_gin_width / cfg.data.data_width,
                cfg.noc.ifmap_stream_rows,
                cfg.noc.ifmap_col_id_bits,
            ),
            Engine::Psum => (
                cfg.data.psum_width,
                64 / cfg.data.psum_width,
                cfg.noc.stream_rows,
                cfg.noc.psum_col_id_bits,
            ),
        };
        StreamParams {
            elem_w,
            lanes,
            cnt_w: clog2(lanes as u64 + 1),
            word_w: 64,
            addr_w: glb_addr_w(cfg),
            len_w: super::stream_len_w(cfg),
            max_rows,
            row_id_w: cfg.noc.row_id_bits,
            col_id_w,
        }
    }
}

/// The template's localparams.
#[derive(Clone, Debug, Default)]
struct Derived {
    wl: u64,
    wl_log2: u32,
    ea_w: u32,
    rx_w: u32,
}

super::model! {
    pub struct Stream<R>: "stream", clocked;
    params(b) {
        ELEM_W: b._p.elem_w,
        LANES: b._p.lanes,
        CNT_W: b._p.cnt_w,
        WORD_W: b._p.word_w,
        ADDR_W: b._p.addr_w,
        LEN_W: b._p.len_w,
        MAX_ROWS: b._p.max_rows,
        ROW_ID_W: b._p.row_id_w,
        COL_ID_W: b._p.col_id_w,
    }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        tag_we: Signal<In, Bit> = 1,
        tag_idx: Signal<In, Bits<8>> = 8,
        tag_data: Signal<In, Bits<16>> = 16,
        cmd_valid: Signal<In, Bit> = 1,
        cmd_len: Signal<In, Bits<32>> = 32,
        cmd_nrows: Signal<In, Bits<8>> = 8,
        cmd_base: Signal<In, Bits<32>> = 32,
        cmd_stride: Signal<In, Bits<32>> = 32,
        idle: Signal<Out, Bit> = 1,
        rd_req: Signal<Out, Bit> = 1,
        rd_addr: Signal<Out, Bits<32>> = b._p.addr_w,
        rd_gnt: Signal<In, Bit> = 1,
        rd_valid: Signal<In, Bit> = 1,
        rd_data: Signal<In, Bits<64>> = 64,
        out_valid: Signal<Out, Bit> = 1,
        out_ready: Signal<In, Bit> = 1,
        out_data: Signal<Out, Bits<64>> = b._p.lanes * b._p.elem_w,
        out_count: Signal<Out, Bits<8>> = b._p.cnt_w,
        out_row_tag: Signal<Out, Bits<8>> = b._p.row_id_w,
        out_col_tag: Signal<Out, Bits<8>> = b._p.col_id_w,
    }
    state {
        u_fetch_arb: RrArb<R>,
        u_send_arb: RrArb<R>,
        live: DFF<Bits<R>>,
        hv: DFF<Bits<R>>,
        hp: DFF<Bits<R>>,
        initing: DFF<Bit>,
        pick_valid: DFF<Bit>,
        req_valid: DFF<Bit>,
        // not reset, as in the template:
        pick_row: DFF<Bits<8>>,
        req_row: DFF<Bits<8>>,
        req_addr: DFF<Bits<32>>,
        /// The row that presents a beat this cycle, picked last cycle.
        srow: DFF<Bits<8>>,
        init_i: DFF<Bits<8>>,
        nrows: DFF<Bits<8>>,
        init_ea: DFF<Bits<32>>,
        len: DFF<Bits<32>>,
        stride: DFF<Bits<32>>,
        fetch_row: DFF<Bits<8>>,
        /// The per-row memories (one write port each, read asynchronously).
        _ea: Vec<u64>,
        _rem: Vec<u64>,
        _head: Vec<u64>,
        _tags: Vec<u64>,
        _p: StreamParams,
        _d: Derived,
    }
}

/// Bit sets of up to 256 rows.
type Rows = [u64; 4];

fn rows_of<const N: usize>(b: Bits<N>) -> Rows {
    let mut w = [0; 4];
    to_words(b, &mut w);
    w
}

fn has(s: &Rows, i: u64) -> bool {
    s.get((i / 64) as usize)
        .is_some_and(|w| w >> (i % 64) & 1 != 0)
}

fn put(s: &mut Rows, i: u64, v: bool) {
    let (w, b) = ((i / 64) as usize, i % 64);
    s[w] = s[w] & !(1 << b) | (v as u64) << b;
}

/// Index of the highest set row, or 0 (the template's `for` loop keeps the last match).
fn last_row(s: &Rows) -> u64 {
    (0..4)
        .rev()
        .find(|&w| s[w] != 0)
        .map_or(0, |w| 64 * w as u64 + 63 - s[w].leading_zeros() as u64)
}

impl<const R: usize> Stream<R> {
    pub fn new(p: &StreamParams) -> Result<Self, HwError> {
        let b = "stream";
        check_param(b, "WORD_W", p.word_w as u64, 64, 64)?;
        // at least two elements per word: the template slices lane bits [WL_LOG2-1:0]
        check_param(b, "ELEM_W", p.elem_w as u64, 1, 32)?;
        let wl = (p.word_w / p.elem_w) as u64;
        check_param(b, "LANES", p.lanes as u64, 1, wl)?;
        check_param(b, "CNT_W", p.cnt_w as u64, 1, 8)?;
        check_param(b, "ADDR_W", p.addr_w as u64, 1, 26)?;
        check_param(b, "MAX_ROWS", p.max_rows as u64, 1, (R as u64).min(255))?;
        check_param(b, "ROW_ID_W", p.row_id_w as u64, 1, 8)?;
        check_param(b, "COL_ID_W", p.col_id_w as u64, 1, 8)?;
        let wl_log2 = clog2(wl);
        // the template zero-extends a beat's count (WL_LOG2 + 1 bits) to LEN_W
        check_param(b, "LEN_W", p.len_w as u64, wl_log2 as u64 + 2, 31)?;
        let d = Derived {
            wl,
            wl_log2,
            ea_w: p.addr_w + wl_log2,
            rx_w: if p.max_rows > 1 {
                clog2(p.max_rows as u64)
            } else {
                1
            },
        };
        let n = p.max_rows as usize;
        Ok(Stream {
            u_fetch_arb: RrArb::new(p.max_rows)?,
            u_send_arb: RrArb::new(p.max_rows)?,
            _ea: vec![0; n],
            _rem: vec![0; n],
            _head: vec![0; n],
            _tags: vec![0; n],
            _d: d,
            _p: p.clone(),
            ..Default::default()
        }
        .with_ports())
    }

    pub fn params_of(&self) -> &StreamParams {
        &self._p
    }
}

impl<const R: usize> Logic for Stream<R> {
    fn update(&mut self) {
        let clk = self.clk.val();
        self.u_fetch_arb.clk.next = clk;
        self.u_send_arb.clk.next = clk;
        self.live.clock.next = clk;
        self.hv.clock.next = clk;
        self.hp.clock.next = clk;
        self.initing.clock.next = clk;
        self.init_i.clock.next = clk;
        self.nrows.clock.next = clk;
        self.init_ea.clock.next = clk;
        self.len.clock.next = clk;
        self.stride.clock.next = clk;
        self.fetch_row.clock.next = clk;
        self.pick_valid.clock.next = clk;
        self.req_valid.clock.next = clk;
        self.pick_row.clock.next = clk;
        self.req_row.clock.next = clk;
        self.req_addr.clock.next = clk;
        self.srow.clock.next = clk;
        let rst = self.rst.val();
        self.u_fetch_arb.rst.next = rst;
        self.u_send_arb.rst.next = rst;

        let (p, d) = (&self._p, &self._d);
        let max_rows = p.max_rows as u64;
        let live = rows_of(self.live.q.val());
        let hv = rows_of(self.hv.q.val());
        let hp = rows_of(self.hp.q.val());
        let initing = self.initing.q.val();
        let any = |s: &Rows| s.iter().any(|&w| w != 0);
        self.idle.next = !initing && !any(&live) && !any(&hp);

        // fetch: a pick stage (the arbiter's row) and a request stage (its word address)
        // (fetching starts during a command's initialisation, as in the template)
        let need: Rows = std::array::from_fn(|w| live[w] & !hv[w] & !hp[w]);
        let rd_gnt = self.rd_gnt.val();
        let pick_valid = self.pick_valid.q.val();
        let req_valid = self.req_valid.q.val();
        let req_load = !req_valid || rd_gnt;
        let pick_load = !pick_valid || req_load;
        self.u_fetch_arb.req.next = from_words(&need);
        self.u_fetch_arb.advance.next = pick_load;
        let fgnt = rows_of(self.u_fetch_arb.gnt.val());
        let frow = last_row(&fgnt);
        self.rd_req.next = req_valid;
        self.rd_addr.next = self.req_addr.q.val();
        let pick_row = u(self.pick_row.q.val());
        if rst {
            self.pick_valid.d.next = false;
            self.req_valid.d.next = false;
        } else {
            self.pick_valid.d.next = if pick_load { any(&need) } else { pick_valid };
            self.req_valid.d.next = if req_load { pick_valid } else { req_valid };
        }
        // the stages' rows and address hold during a reset, as in the template
        let pick_hold = rst || !pick_load;
        self.pick_row.d.next = if pick_hold {
            self.pick_row.q.val()
        } else {
            bv(frow)
        };
        let req_hold = rst || !req_load;
        self.req_row.d.next = if req_hold {
            self.req_row.q.val()
        } else {
            self.pick_row.q.val()
        };
        self.req_addr.d.next = if req_hold {
            self.req_addr.q.val()
        } else {
            let ea = self._ea.get(pick_row as usize).copied().unwrap_or(0);
            bv(ea >> d.wl_log2 & mask(p.addr_w))
        };

        // send
        let mut ready_rows = hv;
        let fr = u(self.fetch_row.q.val());
        if self.rd_valid.val() && fr < max_rows {
            put(&mut ready_rows, fr, true);
        }
        self.u_send_arb.req.next = from_words(&ready_rows);
        self.u_send_arb.advance.next = !initing;
        self.srow.d.next = if rst {
            bv(0)
        } else {
            bv(last_row(&rows_of(self.u_send_arb.gnt.val())))
        };
        let srow = u(self.srow.q.val());
        let nw = d.wl_log2 + 1;
        let s_ea = self._ea[srow as usize];
        let lane0 = s_ea & mask(d.wl_log2);
        let in_word = d.wl.wrapping_sub(lane0) & mask(nw);
        let lanes_n = p.lanes as u64 & mask(nw);
        let n_a = in_word.min(lanes_n);
        let s_rem = self._rem[srow as usize];
        let n = if s_rem < n_a { s_rem & mask(nw) } else { n_a };
        let shifted = self._head[srow as usize] >> (lane0 * p.elem_w as u64);
        let out_valid = !initing && srow < max_rows && has(&hv, srow);
        let send = out_valid && self.out_ready.val();
        let last_beat = s_rem == n;
        let word_done = (lane0 + n) & mask(nw) == d.wl & mask(nw) || last_beat;
        self.out_valid.next = out_valid;
        self.out_data.next = bv(shifted & mask(p.lanes * p.elem_w));
        self.out_count.next = bv(n & mask(p.cnt_w));
        let tag = self._tags[srow as usize];
        self.out_row_tag.next = bv(tag >> 8 & mask(p.row_id_w));
        self.out_col_tag.next = bv(tag & mask(p.col_id_w));

        // memories: a row's address and count are written by a command's initialisation or by
        // a beat (never both, as the controller starts commands only on an idle engine)
        let cmd_valid = self.cmd_valid.val();
        let init_i = u(self.init_i.q.val());
        let init_wr = !rst && !cmd_valid && initing;
        let row_we = init_wr || (!rst && send);
        let row_wa = if init_wr { init_i } else { srow };
        let ea_wd = if init_wr {
            u(self.init_ea.q.val())
        } else {
            (s_ea + n) & mask(d.ea_w)
        };
        let rem_wd = if init_wr {
            u(self.len.q.val())
        } else {
            s_rem.wrapping_sub(n) & mask(p.len_w)
        };
        if self.clk.pos_edge() {
            let ti = u(self.tag_idx.val()) & mask(d.rx_w);
            if self.tag_we.val() && ti < max_rows {
                self._tags[ti as usize] = u(self.tag_data.val());
            }
            let fr = u(self.fetch_row.q.val());
            if self.rd_valid.val() && fr < max_rows {
                self._head[fr as usize] = u(self.rd_data.val());
            }
            if row_we && row_wa < max_rows {
                self._ea[row_wa as usize] = ea_wd;
                self._rem[row_wa as usize] = rem_wd;
            }
        }

        // registers
        self.fetch_row.d.next = if rd_gnt {
            self.req_row.q.val()
        } else {
            self.fetch_row.q.val()
        };
        let (mut live_n, mut hv_n, mut hp_n) = (live, hv, hp);
        let mut initing_n = initing;
        self.init_i.d.next = self.init_i.q.val();
        self.nrows.d.next = self.nrows.q.val();
        self.init_ea.d.next = self.init_ea.q.val();
        self.len.d.next = self.len.q.val();
        self.stride.d.next = self.stride.q.val();
        if rst {
            live_n = [0; 4];
            hv_n = [0; 4];
            hp_n = [0; 4];
            initing_n = false;
        } else {
            if cmd_valid {
                initing_n = true;
                self.init_i.d.next = bv(0);
                self.nrows.d.next = self.cmd_nrows.val();
                self.init_ea.d.next = bv(u(self.cmd_base.val()) & mask(d.ea_w));
                self.len.d.next = bv(u(self.cmd_len.val()) & mask(p.len_w));
                self.stride.d.next = self.cmd_stride.val();
            } else if initing {
                if init_i < max_rows {
                    put(&mut live_n, init_i, u(self.len.q.val()) != 0);
                }
                let ea = u(self.init_ea.q.val()) + u(self.stride.q.val());
                self.init_ea.d.next = bv(ea & mask(d.ea_w));
                self.init_i.d.next = bv((init_i + 1) & mask(d.rx_w));
                if init_i + 1 == u(self.nrows.q.val()) & mask(d.rx_w + 1) {
                    initing_n = false;
                }
            }
            if pick_load {
                for (h, g) in hp_n.iter_mut().zip(fgnt) {
                    *h |= g;
                }
            }
            let fr = u(self.fetch_row.q.val());
            if self.rd_valid.val() && fr < max_rows {
                put(&mut hp_n, fr, false);
                put(&mut hv_n, fr, true);
            }
            if send {
                if word_done {
                    put(&mut hv_n, srow, false);
                }
                if last_beat {
                    put(&mut live_n, srow, false);
                }
            }
        }
        self.live.d.next = from_words(&live_n);
        self.hv.d.next = from_words(&hv_n);
        self.hp.d.next = from_words(&hp_n);
        self.initing.d.next = initing_n;
    }
    fn connect(&mut self) {
        self.connect_ports();
    }
}
