//! `eyeriss_gin` (templates/gin.v.tera): global input network, a Y-bus multicast controller per
//! row in front of that row's X-bus. Combinational; a word is taken only when every matching
//! PE is ready.

use rust_hdl::prelude::*;

use super::gin_xbus::GinXbus;
use super::mc::Mc;
use super::{
    HwError, Model, Port, bv, check_param, get_flags, mask, set_fields, set_flags, settle,
};

#[derive(LogicBlock)]
pub struct Gin {
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub row_tag: Signal<In, Bits<8>>,
    pub col_tag: Signal<In, Bits<8>>,
    /// `row_ids[r*ROW_ID_W +: ROW_ID_W]`.
    pub row_ids: Vec<Signal<In, Bits<8>>>,
    /// `col_ids[(r*COLS+c)*COL_ID_W +: COL_ID_W]`.
    pub col_ids: Vec<Signal<In, Bits<8>>>,
    pub pe_ready: Vec<Signal<In, Bit>>,
    pub pe_valid: Vec<Signal<Out, Bit>>,
    u_ymc: Vec<Mc>,
    u_xbus: Vec<GinXbus>,
    _rows: u32,
    _cols: u32,
    _row_id_w: u32,
    _col_id_w: u32,
    _ports: Vec<Port>,
}

impl Gin {
    /// The template's ROWS, COLS, ROW_ID_W and COL_ID_W.
    pub fn new(rows: u32, cols: u32, row_id_w: u32, col_id_w: u32) -> Result<Self, HwError> {
        check_param("gin", "ROWS", rows as u64, 1, 64)?;
        let u_ymc = (0..rows)
            .map(|_| Mc::new(row_id_w))
            .collect::<Result<Vec<_>, _>>()?;
        let u_xbus = (0..rows)
            .map(|_| GinXbus::new(cols, col_id_w))
            .collect::<Result<Vec<_>, _>>()?;
        let (nr, npe) = (rows as usize, (rows * cols) as usize);
        Ok(Gin {
            in_valid: Default::default(),
            in_ready: Default::default(),
            row_tag: Default::default(),
            col_tag: Default::default(),
            row_ids: (0..nr).map(|_| Default::default()).collect(),
            col_ids: (0..npe).map(|_| Default::default()).collect(),
            pe_ready: (0..npe).map(|_| Default::default()).collect(),
            pe_valid: (0..npe).map(|_| Default::default()).collect(),
            u_ymc,
            u_xbus,
            _rows: rows,
            _cols: cols,
            _row_id_w: row_id_w,
            _col_id_w: col_id_w,
            _ports: vec![
                Port::input("in_valid", 1),
                Port::output("in_ready", 1),
                Port::input("row_tag", row_id_w),
                Port::input("col_tag", col_id_w),
                Port::input("row_ids", rows * row_id_w).split(rows),
                Port::input("col_ids", rows * cols * col_id_w).split(rows * cols),
                Port::input("pe_ready", rows * cols).split(rows * cols),
                Port::output("pe_valid", rows * cols).split(rows * cols),
            ],
        })
    }
}

impl Logic for Gin {
    fn update(&mut self) {
        let cols = self._cols as usize;
        let mut in_ready = true;
        for (r, (ymc, xbus)) in self
            .u_ymc
            .iter_mut()
            .zip(self.u_xbus.iter_mut())
            .enumerate()
        {
            in_ready &= ymc.ready_ok.val();
            ymc.id.next = self.row_ids[r].val();
            ymc.tag.next = self.row_tag.val();
            ymc.out_ready.next = xbus.ready_ok.val();
            xbus.col_tag.next = self.col_tag.val();
            xbus.in_valid.next = ymc.out_valid.val();
            for c in 0..cols {
                let n = r * cols + c;
                xbus.col_ids[c].next = self.col_ids[n].val();
                xbus.pe_ready[c].next = self.pe_ready[n].val();
                self.pe_valid[n].next = xbus.pe_valid[c].val();
            }
        }
        // fire = in_valid & in_ready, from the Y-bus controllers' ready_ok of this pass.
        let fire = self.in_valid.val() & in_ready;
        for ymc in &mut self.u_ymc {
            ymc.in_valid.next = fire;
        }
        self.in_ready.next = in_ready;
    }
    fn connect(&mut self) {
        self.in_ready.connect();
        for v in &mut self.pe_valid {
            v.connect();
        }
    }
}

impl Model for Gin {
    fn block(&self) -> &'static str {
        "gin"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("ROWS", self._rows as u64),
            ("COLS", self._cols as u64),
            ("ROW_ID_W", self._row_id_w as u64),
            ("COL_ID_W", self._col_id_w as u64),
        ]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        false
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        match port {
            0 => self.in_valid.next = v[0] & 1 != 0,
            2 => self.row_tag.next = bv(v[0] & mask(self._row_id_w)),
            3 => self.col_tag.next = bv(v[0] & mask(self._col_id_w)),
            4 => set_fields(&mut self.row_ids, v, self._row_id_w),
            5 => set_fields(&mut self.col_ids, v, self._col_id_w),
            6 => set_flags(&mut self.pe_ready, v),
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        match port {
            1 => v[0] = self.in_ready.val() as u64,
            7 => get_flags(&self.pe_valid, v),
            _ => {}
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "gin")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        Ok(())
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for Gin {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(self, in_valid, row_tag, col_tag)
            && super::vec_settled(&self.row_ids)
            && super::vec_settled(&self.col_ids)
            && super::vec_settled(&self.pe_ready)
    }
}
