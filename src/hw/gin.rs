//! `eyeriss_gin` (templates/gin.v.tera): global input network, a Y-bus multicast controller per
//! row in front of that row's X-bus. Combinational; a word is taken only when every matching
//! PE is ready.

use rust_hdl::prelude::*;

use super::gin_xbus::GinXbus;
use super::mc::Mc;
use super::{HwError, check_param, many};

super::model! {
    pub struct Gin: "gin", combinational;
    params(b) { ROWS: b._rows, COLS: b._cols, ROW_ID_W: b._row_id_w, COL_ID_W: b._col_id_w }
    ports(b) {
        in_valid: Signal<In, Bit> = 1,
        in_ready: Signal<Out, Bit> = 1,
        row_tag: Signal<In, Bits<8>> = b._row_id_w,
        col_tag: Signal<In, Bits<8>> = b._col_id_w,
        /// `row_ids[r*ROW_ID_W +: ROW_ID_W]`.
        row_ids: Vec<Signal<In, Bits<8>>> = b._rows * b._row_id_w,
        /// `col_ids[(r*COLS+c)*COL_ID_W +: COL_ID_W]`.
        col_ids: Vec<Signal<In, Bits<8>>> = b._rows * b._cols * b._col_id_w,
        pe_ready: Vec<Signal<In, Bit>> = b._rows * b._cols,
        pe_valid: Vec<Signal<Out, Bit>> = b._rows * b._cols,
    }
    state {
        u_ymc: Vec<Mc>,
        u_xbus: Vec<GinXbus>,
        _rows: u32,
        _cols: u32,
        _row_id_w: u32,
        _col_id_w: u32,
    }
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
            row_ids: many(nr),
            col_ids: many(npe),
            pe_ready: many(npe),
            pe_valid: many(npe),
            u_ymc,
            u_xbus,
            _rows: rows,
            _cols: cols,
            _row_id_w: row_id_w,
            _col_id_w: col_id_w,
            ..Default::default()
        }
        .with_ports())
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
        self.connect_ports();
    }
}
