//! `eyeriss_fifo` (templates/fifo.v.tera): synchronous FIFO with valid/ready on both sides.
//! `W` is the widest data the instance may carry; the template's WIDTH is a run-time value.

use rust_hdl::prelude::*;

use super::{HwError, bv, check_param, clog2, mask, u};

super::model! {
    pub struct Fifo<W>: "fifo", clocked;
    params(b) { WIDTH: b._width, DEPTH: b.depth() }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        in_valid: Signal<In, Bit> = 1,
        in_ready: Signal<Out, Bit> = 1,
        in_data: Signal<In, Bits<W>> = b._width,
        out_valid: Signal<Out, Bit> = 1,
        out_ready: Signal<In, Bit> = 1,
        out_data: Signal<Out, Bits<W>> = b._width,
        level: Signal<Out, Bits<8>> = clog2(b.depth()) + 1,
    }
    state {
        rd_ptr: DFF<Bits<8>>,
        wr_ptr: DFF<Bits<8>>,
        count: DFF<Bits<8>>,
        _mem: Vec<Bits<W>>,
        _width: u32,
    }
}

impl<const W: usize> Fifo<W> {
    /// The template's WIDTH and DEPTH (a power of two: the pointers wrap by overflow).
    pub fn new(width: u32, depth: u32) -> Result<Self, HwError> {
        check_param("fifo", "WIDTH", width as u64, 1, W as u64)?;
        check_param("fifo", "DEPTH", depth as u64, 2, 64)?;
        if !depth.is_power_of_two() {
            return Err(HwError::Param {
                block: "fifo",
                param: "DEPTH",
                value: depth as u64,
                limit: "must be a power of two".into(),
            });
        }
        Ok(Fifo {
            _mem: vec![Bits::default(); depth as usize],
            _width: width,
            ..Default::default()
        }
        .with_ports())
    }

    fn depth(&self) -> u64 {
        self._mem.len() as u64
    }
}

impl<const W: usize> Logic for Fifo<W> {
    fn update(&mut self) {
        self.rd_ptr.clock.next = self.clk.val();
        self.wr_ptr.clock.next = self.clk.val();
        self.count.clock.next = self.clk.val();

        let depth = self.depth();
        let ptr_mask = depth - 1;
        let count = u(self.count.q.val());
        let rd = u(self.rd_ptr.q.val());
        let wr = u(self.wr_ptr.q.val());
        let in_ready = count != depth;
        let out_valid = count != 0;
        self.in_ready.next = in_ready;
        self.out_valid.next = out_valid;
        self.out_data.next = self._mem[rd as usize];
        self.level.next = self.count.q.val();

        let rst = self.rst.val();
        let push = self.in_valid.val() & in_ready;
        let pop = out_valid & self.out_ready.val();
        if self.clk.pos_edge() && !rst && push {
            self._mem[wr as usize] = self.in_data.val();
        }
        if rst {
            self.rd_ptr.d.next = bv(0);
            self.wr_ptr.d.next = bv(0);
            self.count.d.next = bv(0);
        } else {
            self.wr_ptr.d.next = bv(if push { (wr + 1) & ptr_mask } else { wr });
            self.rd_ptr.d.next = bv(if pop { (rd + 1) & ptr_mask } else { rd });
            let c = match (push, pop) {
                (true, false) => count + 1,
                (false, true) => count - 1,
                _ => count,
            };
            self.count.d.next = bv(c & mask(clog2(depth) + 1));
        }
    }

    fn connect(&mut self) {
        self.connect_ports();
    }
}
