//! `eyeriss_rr_arb` (templates/rr_arb.v.tera): round-robin arbiter. `N` is the most requesters
//! the instance may have; the template's N is a run-time value.

use rust_hdl::prelude::*;

use super::{HwError, Model, Port, check_param, clock_edge, from_words, ones, settle, to_words};

#[derive(LogicBlock)]
pub struct RrArb<const N: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub req: Signal<In, Bits<N>>,
    pub advance: Signal<In, Bit>,
    pub gnt: Signal<Out, Bits<N>>,
    /// The requesters after the last grant.
    mask: DFF<Bits<N>>,
    _n: u32,
    _all: Bits<N>,
    _ports: Vec<Port>,
}

impl<const N: usize> RrArb<N> {
    /// The template's N.
    pub fn new(n: u32) -> Result<Self, HwError> {
        check_param("rr_arb", "N", n as u64, 1, N as u64)?;
        Ok(RrArb {
            clk: Default::default(),
            rst: Default::default(),
            req: Default::default(),
            advance: Default::default(),
            gnt: Default::default(),
            mask: Default::default(),
            _n: n,
            _all: ones(n),
            _ports: vec![
                Port::input("rst", 1),
                Port::input("req", n),
                Port::input("advance", 1),
                Port::output("gnt", n),
            ],
        })
    }
}

impl<const N: usize> Logic for RrArb<N> {
    fn update(&mut self) {
        self.mask.clock.next = self.clk.val();
        // Computed N bits wide and cut to the template's width: the carries and the shift out
        // of the top bit then give the same low bits as the narrower Verilog arithmetic.
        let req = self.req.val() & self._all;
        let mask = self.mask.q.val();
        let req_m = req & mask;
        let pick_m = req_m & (!req_m + 1u64);
        let pick_u = req & (!req + 1u64);
        let gnt = if req_m.any() { pick_m } else { pick_u };
        self.gnt.next = gnt;
        self.mask.d.next = if self.rst.val() {
            self._all
        } else if self.advance.val() && req.any() {
            !((gnt << 1u64) - 1u64) & self._all
        } else {
            mask
        };
    }
    fn connect(&mut self) {
        self.gnt.connect();
    }
}

impl<const N: usize> Model for RrArb<N> {
    fn block(&self) -> &'static str {
        "rr_arb"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![("N", self._n as u64)]
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
            1 => self.req.next = from_words::<N>(v) & self._all,
            2 => self.advance.next = v[0] & 1 != 0,
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        if port == 3 {
            to_words(self.gnt.val(), v);
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "rr_arb")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "rr_arb")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}
