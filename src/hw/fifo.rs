//! `eyeriss_fifo` (templates/fifo.v.tera): synchronous FIFO with valid/ready on both sides.
//! `W` is the widest data the instance may carry; the template's WIDTH is a run-time value.

use rust_hdl::prelude::*;

use super::{
    HwError, Model, Port, bv, check_param, clock_edge, clog2, mask, put128, settle, u, word128,
};

#[derive(LogicBlock)]
pub struct Fifo<const W: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub in_data: Signal<In, Bits<W>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_data: Signal<Out, Bits<W>>,
    pub level: Signal<Out, Bits<8>>,
    rd_ptr: DFF<Bits<8>>,
    wr_ptr: DFF<Bits<8>>,
    count: DFF<Bits<8>>,
    _mem: Vec<Bits<W>>,
    _width: u32,
    _ports: Vec<Port>,
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
        let aw = clog2(depth as u64);
        Ok(Fifo {
            clk: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            in_data: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_data: Default::default(),
            level: Default::default(),
            rd_ptr: Default::default(),
            wr_ptr: Default::default(),
            count: Default::default(),
            _mem: vec![Bits::default(); depth as usize],
            _width: width,
            _ports: vec![
                Port::input("rst", 1),
                Port::input("in_valid", 1),
                Port::output("in_ready", 1),
                Port::input("in_data", width),
                Port::output("out_valid", 1),
                Port::input("out_ready", 1),
                Port::output("out_data", width),
                Port::output("level", aw + 1),
            ],
        })
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
        self.in_ready.connect();
        self.out_valid.connect();
        self.out_data.connect();
        self.level.connect();
    }
}

impl<const W: usize> Model for Fifo<W> {
    fn block(&self) -> &'static str {
        "fifo"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![("WIDTH", self._width as u64), ("DEPTH", self.depth())]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        true
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        let bit = v[0] & 1 != 0;
        match port {
            0 => self.rst.next = bit,
            1 => self.in_valid.next = bit,
            3 => self.in_data.next = super::bv128(word128(v)),
            5 => self.out_ready.next = bit,
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        match port {
            2 => v[0] = self.in_ready.val() as u64,
            4 => v[0] = self.out_valid.val() as u64,
            6 => put128(v, self.out_data.val().to_u128()),
            7 => v[0] = u(self.level.val()),
            _ => {}
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "fifo")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "fifo")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}
