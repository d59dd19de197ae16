//! `eyeriss_gon_xbus` (templates/gon_xbus.v.tera): one X-bus of the global output network.
//! Round-robin arbitration among the row's PEs that hold a word, and the X-bus register that
//! holds the winner with its column ID for the Y-bus.

use rust_hdl::prelude::*;

use super::rr_arb::RrArb;
use super::{HwError, check_param, many};

super::model! {
    pub struct GonXbus: "gon_xbus", clocked;
    params(b) { COLS: b._cols, W: 64, IDX_W: b._idx_w, COL_ID_W: b._col_id_w }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        pe_valid: Vec<Signal<In, Bit>> = b._cols,
        pe_ready: Vec<Signal<Out, Bit>> = b._cols,
        /// `pe_data[c*W +: W]`.
        pe_data: Vec<Signal<In, Bits<64>>> = b._cols * 64,
        /// `pe_idx[c*IDX_W +: IDX_W]`.
        pe_idx: Vec<Signal<In, Bits<32>>> = b._cols * b._idx_w,
        /// `col_ids[c*COL_ID_W +: COL_ID_W]`.
        col_ids: Vec<Signal<In, Bits<8>>> = b._cols * b._col_id_w,
        x_valid: Signal<Out, Bit> = 1,
        x_taken: Signal<In, Bit> = 1,
        x_data: Signal<Out, Bits<64>> = 64,
        x_idx: Signal<Out, Bits<32>> = b._idx_w,
        x_col: Signal<Out, Bits<8>> = b._col_id_w,
    }
    state {
        u_arb: RrArb<64>,
        r_valid: DFF<Bit>,
        r_data: DFF<Bits<64>>,
        r_idx: DFF<Bits<32>>,
        r_col: DFF<Bits<8>>,
        _cols: u32,
        _idx_w: u32,
        _col_id_w: u32,
    }
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
            pe_valid: many(n),
            pe_ready: many(n),
            pe_data: many(n),
            pe_idx: many(n),
            col_ids: many(n),
            u_arb: RrArb::new(cols)?,
            _cols: cols,
            _idx_w: idx_w,
            _col_id_w: col_id_w,
            ..Default::default()
        }
        .with_ports())
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
        self.connect_ports();
    }
}
