//! `eyeriss_drain` (templates/drain.v.tera): the drain engine from the global output network
//! into the GLB. A word from the PE with GON IDs (y, x) and output index i is written to
//! base + {y, x} * stride + i, through a one-word write buffer.

use rust_hdl::prelude::*;

use super::{HwError, Model, Port, bv, check_param, clock_edge, mask, settle, u};

#[derive(LogicBlock)]
pub struct Drain {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub cmd_valid: Signal<In, Bit>,
    pub cmd_total: Signal<In, Bits<32>>,
    pub cmd_base: Signal<In, Bits<32>>,
    pub cmd_stride: Signal<In, Bits<32>>,
    pub idle: Signal<Out, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_data: Signal<In, Bits<64>>,
    pub in_idx: Signal<In, Bits<32>>,
    pub in_row_id: Signal<In, Bits<8>>,
    pub in_col_id: Signal<In, Bits<8>>,
    pub wr_req: Signal<Out, Bit>,
    pub wr_addr: Signal<Out, Bits<32>>,
    pub wr_data: Signal<Out, Bits<64>>,
    pub wr_gnt: Signal<In, Bit>,
    /// Words still to accept.
    left: DFF<Bits<32>>,
    wv: DFF<Bit>,
    // not reset, as in the template:
    base: DFF<Bits<32>>,
    stride: DFF<Bits<32>>,
    waddr: DFF<Bits<32>>,
    wdata: DFF<Bits<64>>,
    _addr_w: u32,
    _idx_w: u32,
    _row_id_w: u32,
    _col_id_w: u32,
    _ports: Vec<Port>,
}

impl Drain {
    /// The template's W (64), ADDR_W, IDX_W, ROW_ID_W and COL_ID_W.
    pub fn new(
        w: u32,
        addr_w: u32,
        idx_w: u32,
        row_id_w: u32,
        col_id_w: u32,
    ) -> Result<Self, HwError> {
        let b = "drain";
        check_param(b, "W", w as u64, 64, 64)?;
        check_param(b, "ADDR_W", addr_w as u64, 1, 32)?;
        // the template adds in_idx[ADDR_W-1:0]
        check_param(b, "IDX_W", idx_w as u64, addr_w as u64, 32)?;
        check_param(b, "ROW_ID_W", row_id_w as u64, 1, 8)?;
        check_param(b, "COL_ID_W", col_id_w as u64, 1, 8)?;
        Ok(Drain {
            clk: Default::default(),
            rst: Default::default(),
            cmd_valid: Default::default(),
            cmd_total: Default::default(),
            cmd_base: Default::default(),
            cmd_stride: Default::default(),
            idle: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_data: Default::default(),
            in_idx: Default::default(),
            in_row_id: Default::default(),
            in_col_id: Default::default(),
            wr_req: Default::default(),
            wr_addr: Default::default(),
            wr_data: Default::default(),
            wr_gnt: Default::default(),
            left: Default::default(),
            wv: Default::default(),
            base: Default::default(),
            stride: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            _addr_w: addr_w,
            _idx_w: idx_w,
            _row_id_w: row_id_w,
            _col_id_w: col_id_w,
            _ports: vec![
                Port::input("rst", 1),
                Port::input("cmd_valid", 1),
                Port::input("cmd_total", 32),
                Port::input("cmd_base", 32),
                Port::input("cmd_stride", 32),
                Port::output("idle", 1),
                Port::input("in_valid", 1),
                Port::output("in_ready", 1),
                Port::input("in_data", 64),
                Port::input("in_idx", idx_w),
                Port::input("in_row_id", row_id_w),
                Port::input("in_col_id", col_id_w),
                Port::output("wr_req", 1),
                Port::output("wr_addr", addr_w),
                Port::output("wr_data", 64),
                Port::input("wr_gnt", 1),
            ],
        })
    }
}

impl Logic for Drain {
    fn update(&mut self) {
        let clk = self.clk.val();
        self.left.clock.next = clk;
        self.wv.clock.next = clk;
        self.base.clock.next = clk;
        self.stride.clock.next = clk;
        self.waddr.clock.next = clk;
        self.wdata.clock.next = clk;

        let aw = self._addr_w;
        let left = u(self.left.q.val());
        let wv = self.wv.q.val();
        let wr_gnt = self.wr_gnt.val();
        let chain = u(self.in_row_id.val()) << self._col_id_w | u(self.in_col_id.val());
        // only the low ADDR_W bits of the product and the index reach the address
        let offset = chain.wrapping_mul(u(self.stride.q.val()));
        let addr = (u(self.base.q.val()) + offset + u(self.in_idx.val())) & mask(aw);
        let in_ready = left != 0 && (!wv || wr_gnt);
        self.in_ready.next = in_ready;
        self.idle.next = left == 0 && !wv;
        self.wr_req.next = wv;
        self.wr_addr.next = self.waddr.q.val();
        self.wr_data.next = self.wdata.q.val();

        let take = self.in_valid.val() && in_ready;
        self.left.d.next = self.left.q.val();
        self.wv.d.next = wv;
        self.base.d.next = self.base.q.val();
        self.stride.d.next = self.stride.q.val();
        self.waddr.d.next = self.waddr.q.val();
        self.wdata.d.next = self.wdata.q.val();
        if self.rst.val() {
            self.left.d.next = bv(0);
            self.wv.d.next = false;
        } else {
            if self.cmd_valid.val() {
                self.left.d.next = self.cmd_total.val();
                self.base.d.next = bv(u(self.cmd_base.val()) & mask(aw));
                self.stride.d.next = bv(u(self.cmd_stride.val()) & mask(aw));
            } else if take {
                self.left.d.next = bv(left.wrapping_sub(1));
            }
            if take {
                self.wv.d.next = true;
                self.waddr.d.next = bv(addr);
                self.wdata.d.next = self.in_data.val();
            } else if wr_gnt {
                self.wv.d.next = false;
            }
        }
    }
    fn connect(&mut self) {
        self.idle.connect();
        self.in_ready.connect();
        self.wr_req.connect();
        self.wr_addr.connect();
        self.wr_data.connect();
    }
}

impl Model for Drain {
    fn block(&self) -> &'static str {
        "drain"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("W", 64),
            ("ADDR_W", self._addr_w as u64),
            ("IDX_W", self._idx_w as u64),
            ("ROW_ID_W", self._row_id_w as u64),
            ("COL_ID_W", self._col_id_w as u64),
        ]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        true
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        let bit = v[0] & 1 != 0;
        match port {
            0 => self.rst.next = bit,
            1 => self.cmd_valid.next = bit,
            2 => self.cmd_total.next = bv(v[0]),
            3 => self.cmd_base.next = bv(v[0]),
            4 => self.cmd_stride.next = bv(v[0]),
            6 => self.in_valid.next = bit,
            8 => self.in_data.next = bv(v[0]),
            9 => self.in_idx.next = bv(v[0]),
            10 => self.in_row_id.next = bv(v[0]),
            11 => self.in_col_id.next = bv(v[0]),
            15 => self.wr_gnt.next = bit,
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        v[0] = match port {
            5 => self.idle.val() as u64,
            7 => self.in_ready.val() as u64,
            12 => self.wr_req.val() as u64,
            13 => u(self.wr_addr.val()),
            14 => u(self.wr_data.val()),
            _ => return,
        };
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "drain")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "drain")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for Drain {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(
            self, clk, rst, cmd_valid, cmd_total, cmd_base, cmd_stride, in_valid, in_data, in_idx,
            in_row_id, in_col_id, wr_gnt
        )
    }
}
