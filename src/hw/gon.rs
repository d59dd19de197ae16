//! `eyeriss_gon` (templates/gon.v.tera): the global output network's Y-bus. Round-robin
//! arbitration among the X-bus registers, and the output register that adds the row's ID.

use rust_hdl::prelude::*;

use super::rr_arb::RrArb;
use super::{HwError, check_param, many};

super::model! {
    pub struct Gon: "gon", clocked;
    params(b) {
        ROWS: b._rows,
        W: 64,
        IDX_W: b._idx_w,
        ROW_ID_W: b._row_id_w,
        COL_ID_W: b._col_id_w,
    }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        x_valid: Vec<Signal<In, Bit>> = b._rows,
        x_taken: Vec<Signal<Out, Bit>> = b._rows,
        /// `x_data[k*W +: W]`.
        x_data: Vec<Signal<In, Bits<64>>> = b._rows * 64,
        /// `x_idx[k*IDX_W +: IDX_W]`.
        x_idx: Vec<Signal<In, Bits<32>>> = b._rows * b._idx_w,
        /// `x_col[k*COL_ID_W +: COL_ID_W]`.
        x_col: Vec<Signal<In, Bits<8>>> = b._rows * b._col_id_w,
        /// `row_ids[k*ROW_ID_W +: ROW_ID_W]`.
        row_ids: Vec<Signal<In, Bits<8>>> = b._rows * b._row_id_w,
        out_valid: Signal<Out, Bit> = 1,
        out_ready: Signal<In, Bit> = 1,
        out_data: Signal<Out, Bits<64>> = 64,
        out_idx: Signal<Out, Bits<32>> = b._idx_w,
        out_row_id: Signal<Out, Bits<8>> = b._row_id_w,
        out_col_id: Signal<Out, Bits<8>> = b._col_id_w,
    }
    state {
        u_yarb: RrArb<64>,
        r_valid: DFF<Bit>,
        r_data: DFF<Bits<64>>,
        r_idx: DFF<Bits<32>>,
        r_row: DFF<Bits<8>>,
        r_col: DFF<Bits<8>>,
        _rows: u32,
        _idx_w: u32,
        _row_id_w: u32,
        _col_id_w: u32,
    }
}

impl Gon {
    /// The template's ROWS, W (64), IDX_W, ROW_ID_W and COL_ID_W.
    pub fn new(
        rows: u32,
        w: u32,
        idx_w: u32,
        row_id_w: u32,
        col_id_w: u32,
    ) -> Result<Self, HwError> {
        let b = "gon";
        check_param(b, "ROWS", rows as u64, 1, 64)?;
        check_param(b, "W", w as u64, 64, 64)?;
        check_param(b, "IDX_W", idx_w as u64, 1, 32)?;
        check_param(b, "ROW_ID_W", row_id_w as u64, 1, 8)?;
        check_param(b, "COL_ID_W", col_id_w as u64, 1, 8)?;
        let n = rows as usize;
        Ok(Gon {
            x_valid: many(n),
            x_taken: many(n),
            x_data: many(n),
            x_idx: many(n),
            x_col: many(n),
            row_ids: many(n),
            u_yarb: RrArb::new(rows)?,
            _rows: rows,
            _idx_w: idx_w,
            _row_id_w: row_id_w,
            _col_id_w: col_id_w,
            ..Default::default()
        }
        .with_ports())
    }
}

impl Logic for Gon {
    fn update(&mut self) {
        let clk = self.clk.val();
        self.u_yarb.clk.next = clk;
        self.r_valid.clock.next = clk;
        self.r_data.clock.next = clk;
        self.r_idx.clock.next = clk;
        self.r_row.clock.next = clk;
        self.r_col.clock.next = clk;
        self.u_yarb.rst.next = self.rst.val();

        let out_valid = self.r_valid.q.val();
        self.out_valid.next = out_valid;
        self.out_data.next = self.r_data.q.val();
        self.out_idx.next = self.r_idx.q.val();
        self.out_row_id.next = self.r_row.q.val();
        self.out_col_id.next = self.r_col.q.val();

        let yload = !out_valid | self.out_ready.val();
        let mut req = Bits::<64>::default();
        let mut any = false;
        for (k, v) in self.x_valid.iter().enumerate() {
            if v.val() {
                req = req.replace_bit(k, true);
                any = true;
            }
        }
        self.u_yarb.req.next = req;
        self.u_yarb.advance.next = yload;
        let gnt = self.u_yarb.gnt.val();
        // one-hot AND-OR multiplexer: the granted row's word, or zero
        let mut pick = None;
        for k in 0..self._rows as usize {
            let g = gnt.get_bit(k);
            self.x_taken[k].next = yload & g;
            if g && pick.is_none() {
                pick = Some(k);
            }
        }
        let hold = |s: &mut Self| {
            s.r_data.d.next = s.r_data.q.val();
            s.r_idx.d.next = s.r_idx.q.val();
            s.r_row.d.next = s.r_row.q.val();
            s.r_col.d.next = s.r_col.q.val();
        };
        if self.rst.val() {
            self.r_valid.d.next = false;
            hold(self);
        } else if yload {
            self.r_valid.d.next = any;
            match pick {
                Some(k) => {
                    self.r_data.d.next = self.x_data[k].val();
                    self.r_idx.d.next = self.x_idx[k].val();
                    self.r_row.d.next = self.row_ids[k].val();
                    self.r_col.d.next = self.x_col[k].val();
                }
                None => {
                    self.r_data.d.next = Bits::default();
                    self.r_idx.d.next = Bits::default();
                    self.r_row.d.next = Bits::default();
                    self.r_col.d.next = Bits::default();
                }
            }
        } else {
            self.r_valid.d.next = out_valid;
            hold(self);
        }
    }
    fn connect(&mut self) {
        self.connect_ports();
    }
}
