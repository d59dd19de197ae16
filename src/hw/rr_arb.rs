//! `eyeriss_rr_arb` (templates/rr_arb.v.tera): round-robin arbiter. `N` is the most requesters
//! the instance may have; the template's N is a run-time value.

use rust_hdl::prelude::*;

use super::{HwError, check_param, ones};

super::model! {
    pub struct RrArb<N>: "rr_arb", clocked;
    params(b) { N: b._n }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        req: Signal<In, Bits<N>> = b._n,
        advance: Signal<In, Bit> = 1,
        gnt: Signal<Out, Bits<N>> = b._n,
    }
    state {
        /// The requesters after the last grant.
        mask: DFF<Bits<N>>,
        _n: u32,
        _all: Bits<N>,
    }
}

impl<const N: usize> RrArb<N> {
    /// The template's N.
    pub fn new(n: u32) -> Result<Self, HwError> {
        check_param("rr_arb", "N", n as u64, 1, N as u64)?;
        Ok(RrArb {
            _n: n,
            _all: ones(n),
            ..Default::default()
        }
        .with_ports())
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
        self.connect_ports();
    }
}
