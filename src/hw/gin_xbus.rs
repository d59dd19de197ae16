//! `eyeriss_gin_xbus` (templates/gin_xbus.v.tera): one X-bus of a global input network, a
//! multicast controller per PE of the row. Combinational.

use rust_hdl::prelude::*;

use super::mc::Mc;
use super::{
    HwError, Model, Port, bv, check_param, get_flags, mask, set_fields, set_flags, settle,
};

#[derive(LogicBlock)]
pub struct GinXbus {
    pub col_tag: Signal<In, Bits<8>>,
    /// `col_ids[c*COL_ID_W +: COL_ID_W]` of the template.
    pub col_ids: Vec<Signal<In, Bits<8>>>,
    pub in_valid: Signal<In, Bit>,
    pub pe_ready: Vec<Signal<In, Bit>>,
    pub pe_valid: Vec<Signal<Out, Bit>>,
    pub ready_ok: Signal<Out, Bit>,
    u_mc: Vec<Mc>,
    _cols: u32,
    _id_w: u32,
    _ports: Vec<Port>,
}

impl GinXbus {
    /// The template's COLS and COL_ID_W.
    pub fn new(cols: u32, col_id_w: u32) -> Result<Self, HwError> {
        check_param("gin_xbus", "COLS", cols as u64, 1, 64)?;
        let u_mc = (0..cols)
            .map(|_| Mc::new(col_id_w))
            .collect::<Result<Vec<_>, _>>()?;
        let n = cols as usize;
        Ok(GinXbus {
            col_tag: Default::default(),
            col_ids: (0..n).map(|_| Default::default()).collect(),
            in_valid: Default::default(),
            pe_ready: (0..n).map(|_| Default::default()).collect(),
            pe_valid: (0..n).map(|_| Default::default()).collect(),
            ready_ok: Default::default(),
            u_mc,
            _cols: cols,
            _id_w: col_id_w,
            _ports: vec![
                Port::input("col_tag", col_id_w),
                Port::input("col_ids", cols * col_id_w).split(cols),
                Port::input("in_valid", 1),
                Port::input("pe_ready", cols).split(cols),
                Port::output("pe_valid", cols).split(cols),
                Port::output("ready_ok", 1),
            ],
        })
    }
}

impl Logic for GinXbus {
    fn update(&mut self) {
        let mut ok = true;
        for (c, mc) in self.u_mc.iter_mut().enumerate() {
            mc.id.next = self.col_ids[c].val();
            mc.tag.next = self.col_tag.val();
            mc.in_valid.next = self.in_valid.val();
            mc.out_ready.next = self.pe_ready[c].val();
            self.pe_valid[c].next = mc.out_valid.val();
            ok &= mc.ready_ok.val();
        }
        self.ready_ok.next = ok;
    }
    fn connect(&mut self) {
        for v in &mut self.pe_valid {
            v.connect();
        }
        self.ready_ok.connect();
    }
}

impl Model for GinXbus {
    fn block(&self) -> &'static str {
        "gin_xbus"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![("COLS", self._cols as u64), ("COL_ID_W", self._id_w as u64)]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        false
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        match port {
            0 => self.col_tag.next = bv(v[0] & mask(self._id_w)),
            1 => set_fields(&mut self.col_ids, v, self._id_w),
            2 => self.in_valid.next = v[0] & 1 != 0,
            3 => set_flags(&mut self.pe_ready, v),
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        match port {
            4 => get_flags(&self.pe_valid, v),
            5 => v[0] = self.ready_ok.val() as u64,
            _ => {}
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "gin_xbus")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        Ok(())
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}
