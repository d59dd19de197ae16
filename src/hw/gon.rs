//! `eyeriss_gon` (templates/gon.v.tera): the global output network's Y-bus. Round-robin
//! arbitration among the X-bus registers, and the output register that adds the row's ID.

use rust_hdl::prelude::*;

use super::rr_arb::RrArb;
use super::{
    HwError, Model, Port, check_param, clock_edge, get_flags, mask, set_fields, set_flags,
    set_words, settle, to_words, u,
};

#[derive(LogicBlock)]
pub struct Gon {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub x_valid: Vec<Signal<In, Bit>>,
    pub x_taken: Vec<Signal<Out, Bit>>,
    /// `x_data[k*W +: W]`.
    pub x_data: Vec<Signal<In, Bits<64>>>,
    /// `x_idx[k*IDX_W +: IDX_W]`.
    pub x_idx: Vec<Signal<In, Bits<32>>>,
    /// `x_col[k*COL_ID_W +: COL_ID_W]`.
    pub x_col: Vec<Signal<In, Bits<8>>>,
    /// `row_ids[k*ROW_ID_W +: ROW_ID_W]`.
    pub row_ids: Vec<Signal<In, Bits<8>>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_data: Signal<Out, Bits<64>>,
    pub out_idx: Signal<Out, Bits<32>>,
    pub out_row_id: Signal<Out, Bits<8>>,
    pub out_col_id: Signal<Out, Bits<8>>,
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
    _ports: Vec<Port>,
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
            clk: Default::default(),
            rst: Default::default(),
            x_valid: (0..n).map(|_| Default::default()).collect(),
            x_taken: (0..n).map(|_| Default::default()).collect(),
            x_data: (0..n).map(|_| Default::default()).collect(),
            x_idx: (0..n).map(|_| Default::default()).collect(),
            x_col: (0..n).map(|_| Default::default()).collect(),
            row_ids: (0..n).map(|_| Default::default()).collect(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_data: Default::default(),
            out_idx: Default::default(),
            out_row_id: Default::default(),
            out_col_id: Default::default(),
            u_yarb: RrArb::new(rows)?,
            r_valid: Default::default(),
            r_data: Default::default(),
            r_idx: Default::default(),
            r_row: Default::default(),
            r_col: Default::default(),
            _rows: rows,
            _idx_w: idx_w,
            _row_id_w: row_id_w,
            _col_id_w: col_id_w,
            _ports: vec![
                Port::input("rst", 1),
                Port::input("x_valid", rows).split(rows),
                Port::output("x_taken", rows).split(rows),
                Port::input("x_data", rows * 64).split(rows),
                Port::input("x_idx", rows * idx_w).split(rows),
                Port::input("x_col", rows * col_id_w).split(rows),
                Port::input("row_ids", rows * row_id_w).split(rows),
                Port::output("out_valid", 1),
                Port::input("out_ready", 1),
                Port::output("out_data", 64),
                Port::output("out_idx", idx_w),
                Port::output("out_row_id", row_id_w),
                Port::output("out_col_id", col_id_w),
            ],
        })
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
        for s in &mut self.x_taken {
            s.connect();
        }
        self.out_valid.connect();
        self.out_data.connect();
        self.out_idx.connect();
        self.out_row_id.connect();
        self.out_col_id.connect();
    }
}

impl Model for Gon {
    fn block(&self) -> &'static str {
        "gon"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("ROWS", self._rows as u64),
            ("W", 64),
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
        match port {
            0 => self.rst.next = v[0] & 1 != 0,
            1 => set_flags(&mut self.x_valid, v),
            3 => set_words(&mut self.x_data, v),
            4 => set_fields(&mut self.x_idx, v, self._idx_w),
            5 => set_fields(&mut self.x_col, v, self._col_id_w),
            6 => set_fields(&mut self.row_ids, v, self._row_id_w),
            8 => self.out_ready.next = v[0] & 1 != 0,
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        match port {
            2 => get_flags(&self.x_taken, v),
            7 => v[0] = self.out_valid.val() as u64,
            9 => to_words(self.out_data.val(), v),
            10 => v[0] = u(self.out_idx.val()) & mask(self._idx_w),
            11 => v[0] = u(self.out_row_id.val()),
            12 => v[0] = u(self.out_col_id.val()),
            _ => {}
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "gon")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "gon")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for Gon {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(self, clk, rst, out_ready)
            && super::vec_settled(&self.x_valid)
            && super::vec_settled(&self.x_data)
            && super::vec_settled(&self.x_idx)
            && super::vec_settled(&self.x_col)
            && super::vec_settled(&self.row_ids)
    }
}
