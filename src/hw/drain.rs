//! `eyeriss_drain` (templates/drain.v.tera): the drain engine from the global output network
//! into the GLB. A word from the PE with GON IDs (y, x) and output index i is written to
//! base + {y, x} * stride + i, through a one-word write buffer.

use rust_hdl::prelude::*;

use super::{HwError, bv, check_param, mask, u};

super::model! {
    pub struct Drain: "drain", clocked;
    params(b) {
        W: 64,
        ADDR_W: b._addr_w,
        IDX_W: b._idx_w,
        ROW_ID_W: b._row_id_w,
        COL_ID_W: b._col_id_w,
    }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        cmd_valid: Signal<In, Bit> = 1,
        cmd_total: Signal<In, Bits<32>> = 32,
        cmd_base: Signal<In, Bits<32>> = 32,
        cmd_stride: Signal<In, Bits<32>> = 32,
        idle: Signal<Out, Bit> = 1,
        in_valid: Signal<In, Bit> = 1,
        in_ready: Signal<Out, Bit> = 1,
        in_data: Signal<In, Bits<64>> = 64,
        in_idx: Signal<In, Bits<32>> = b._idx_w,
        in_row_id: Signal<In, Bits<8>> = b._row_id_w,
        in_col_id: Signal<In, Bits<8>> = b._col_id_w,
        wr_req: Signal<Out, Bit> = 1,
        wr_addr: Signal<Out, Bits<32>> = b._addr_w,
        wr_data: Signal<Out, Bits<64>> = 64,
        wr_gnt: Signal<In, Bit> = 1,
    }
    state {
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
    }
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
            _addr_w: addr_w,
            _idx_w: idx_w,
            _row_id_w: row_id_w,
            _col_id_w: col_id_w,
            ..Default::default()
        }
        .with_ports())
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
        self.connect_ports();
    }
}
