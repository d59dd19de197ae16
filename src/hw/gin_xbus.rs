//! `eyeriss_gin_xbus` (templates/gin_xbus.v.tera): one X-bus of a global input network, a
//! multicast controller per PE of the row. Combinational.

use rust_hdl::prelude::*;

use super::mc::Mc;
use super::{HwError, check_param, many};

super::model! {
    pub struct GinXbus: "gin_xbus", combinational;
    params(b) { COLS: b._cols, COL_ID_W: b._id_w }
    ports(b) {
        col_tag: Signal<In, Bits<8>> = b._id_w,
        /// `col_ids[c*COL_ID_W +: COL_ID_W]` of the template.
        col_ids: Vec<Signal<In, Bits<8>>> = b._cols * b._id_w,
        in_valid: Signal<In, Bit> = 1,
        pe_ready: Vec<Signal<In, Bit>> = b._cols,
        pe_valid: Vec<Signal<Out, Bit>> = b._cols,
        ready_ok: Signal<Out, Bit> = 1,
    }
    state {
        u_mc: Vec<Mc>,
        _cols: u32,
        _id_w: u32,
    }
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
            col_ids: many(n),
            pe_ready: many(n),
            pe_valid: many(n),
            u_mc,
            _cols: cols,
            _id_w: col_id_w,
            ..Default::default()
        }
        .with_ports())
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
        self.connect_ports();
    }
}
