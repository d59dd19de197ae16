//! `eyeriss_gon_xbus` (templates/gon_xbus.v.tera): one X-bus of the global output network.
//! Round-robin arbitration among the row's PEs that hold a word, and the X-bus register that
//! holds the winner with its column ID for the Y-bus.

use rust_hdl::prelude::*;

use super::rr_arb::RrArb;
use super::{
    HwError, Model, Port, check_param, clock_edge, get_flags, mask, set_fields, set_flags,
    set_words, settle, to_words, u,
};

#[derive(LogicBlock)]
pub struct GonXbus {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub pe_valid: Vec<Signal<In, Bit>>,
    pub pe_ready: Vec<Signal<Out, Bit>>,
    /// `pe_data[c*W +: W]`.
    pub pe_data: Vec<Signal<In, Bits<64>>>,
    /// `pe_idx[c*IDX_W +: IDX_W]`.
    pub pe_idx: Vec<Signal<In, Bits<32>>>,
    /// `col_ids[c*COL_ID_W +: COL_ID_W]`.
    pub col_ids: Vec<Signal<In, Bits<8>>>,
    pub x_valid: Signal<Out, Bit>,
    pub x_taken: Signal<In, Bit>,
    pub x_data: Signal<Out, Bits<64>>,
    pub x_idx: Signal<Out, Bits<32>>,
    pub x_col: Signal<Out, Bits<8>>,
    u_arb: RrArb<64>,
    r_valid: DFF<Bit>,
    r_data: DFF<Bits<64>>,
    r_idx: DFF<Bits<32>>,
    r_col: DFF<Bits<8>>,
    _cols: u32,
    _idx_w: u32,
    _col_id_w: u32,
    _ports: Vec<Port>,
}

impl GonXbus {
    /// The template's COLS, W (64), IDX_W and COL_ID_W.
    pub fn new(cols: u32, w: u32, idx_w: u32, col_id_w: u32) -> Result<Self, HwError> {
        let b = "gon_xbus";
        check_param(b, "COLS", cols as u64, 1, 64)?;
        check_param(b, "W", w as u64, 64, 64)?;
        check_param(b, "IDX_W", idx_w as u64, 1, 32)?;
        check_param(b, "COL_ID_W", col_id_w as u64, 1, 8)?;
        let n = cols as usize;
        Ok(GonXbus {
            clk: Default::default(),
            rst: Default::default(),
            pe_valid: (0..n).map(|_| Default::default()).collect(),
            pe_ready: (0..n).map(|_| Default::default()).collect(),
            pe_data: (0..n).map(|_| Default::default()).collect(),
            pe_idx: (0..n).map(|_| Default::default()).collect(),
            col_ids: (0..n).map(|_| Default::default()).collect(),
            x_valid: Default::default(),
            x_taken: Default::default(),
            x_data: Default::default(),
            x_idx: Default::default(),
            x_col: Default::default(),
            u_arb: RrArb::new(cols)?,
            r_valid: Default::default(),
            r_data: Default::default(),
            r_idx: Default::default(),
            r_col: Default::default(),
            _cols: cols,
            _idx_w: idx_w,
            _col_id_w: col_id_w,
            _ports: vec![
                Port::input("rst", 1),
                Port::input("pe_valid", cols).split(cols),
                Port::output("pe_ready", cols).split(cols),
                Port::input("pe_data", cols * 64).split(cols),
                Port::input("pe_idx", cols * idx_w).split(cols),
                Port::input("col_ids", cols * col_id_w).split(cols),
                Port::output("x_valid", 1),
                Port::input("x_taken", 1),
                Port::output("x_data", 64),
                Port::output("x_idx", idx_w),
                Port::output("x_col", col_id_w),
            ],
        })
    }
}

impl Logic for GonXbus {
    fn update(&mut self) {
        let clk = self.clk.val();
        self.u_arb.clk.next = clk;
        self.r_valid.clock.next = clk;
        self.r_data.clock.next = clk;
        self.r_idx.clock.next = clk;
        self.r_col.clock.next = clk;
        self.u_arb.rst.next = self.rst.val();

        let x_valid = self.r_valid.q.val();
        self.x_valid.next = x_valid;
        self.x_data.next = self.r_data.q.val();
        self.x_idx.next = self.r_idx.q.val();
        self.x_col.next = self.r_col.q.val();

        let load = !x_valid | self.x_taken.val();
        let mut req = Bits::<64>::default();
        let mut any = false;
        for (c, v) in self.pe_valid.iter().enumerate() {
            if v.val() {
                req = req.replace_bit(c, true);
                any = true;
            }
        }
        self.u_arb.req.next = req;
        self.u_arb.advance.next = load;
        let gnt = self.u_arb.gnt.val();
        // one-hot AND-OR multiplexer: the granted PE's word, or zero
        let mut pick = None;
        for c in 0..self._cols as usize {
            let g = gnt.get_bit(c);
            self.pe_ready[c].next = load & g;
            if g && pick.is_none() {
                pick = Some(c);
            }
        }
        if self.rst.val() {
            self.r_valid.d.next = false;
            self.r_data.d.next = self.r_data.q.val();
            self.r_idx.d.next = self.r_idx.q.val();
            self.r_col.d.next = self.r_col.q.val();
        } else if load {
            self.r_valid.d.next = any;
            match pick {
                Some(c) => {
                    self.r_data.d.next = self.pe_data[c].val();
                    self.r_idx.d.next = self.pe_idx[c].val();
                    self.r_col.d.next = self.col_ids[c].val();
                }
                None => {
                    self.r_data.d.next = Bits::default();
                    self.r_idx.d.next = Bits::default();
                    self.r_col.d.next = Bits::default();
                }
            }
        } else {
            self.r_valid.d.next = x_valid;
            self.r_data.d.next = self.r_data.q.val();
            self.r_idx.d.next = self.r_idx.q.val();
            self.r_col.d.next = self.r_col.q.val();
        }
    }
    fn connect(&mut self) {
        for s in &mut self.pe_ready {
            s.connect();
        }
        self.x_valid.connect();
        self.x_data.connect();
        self.x_idx.connect();
        self.x_col.connect();
    }
}

impl Model for GonXbus {
    fn block(&self) -> &'static str {
        "gon_xbus"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("COLS", self._cols as u64),
            ("W", 64),
            ("IDX_W", self._idx_w as u64),
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
            1 => set_flags(&mut self.pe_valid, v),
            3 => set_words(&mut self.pe_data, v),
            4 => set_fields(&mut self.pe_idx, v, self._idx_w),
            5 => set_fields(&mut self.col_ids, v, self._col_id_w),
            7 => self.x_taken.next = v[0] & 1 != 0,
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        match port {
            2 => get_flags(&self.pe_ready, v),
            6 => v[0] = self.x_valid.val() as u64,
            8 => to_words(self.x_data.val(), v),
            9 => v[0] = u(self.x_idx.val()) & mask(self._idx_w),
            10 => v[0] = u(self.x_col.val()),
            _ => {}
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "gon_xbus")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "gon_xbus")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for GonXbus {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(self, clk, rst, x_taken)
            && super::vec_settled(&self.pe_valid)
            && super::vec_settled(&self.pe_data)
            && super::vec_settled(&self.pe_idx)
            && super::vec_settled(&self.col_ids)
    }
}
