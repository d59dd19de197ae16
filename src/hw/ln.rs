//! `eyeriss_ln` (templates/ln.v.tera): the local network at one PE, choosing the PE's psum input
//! (none, psum GIN, or the PE below) and where its psum output goes (GON or the PE above).
//! Combinational.

use rust_hdl::prelude::*;

use super::{HwError, check_param, u};

/// The template's W: the only width the model covers.
const LN_W: u32 = 64;

const SEL_GIN: u64 = 1;
const SEL_LN: u64 = 2;
/// The bit of psum_sel that only SEL_GIN has.
const SEL_DATA_GIN: u64 = 1;

super::model! {
    pub struct Ln: "ln", combinational;
    params(b) { W: LN_W }
    ports(b) {
        psum_sel: Signal<In, Bits<2>> = 2,
        acc: Signal<In, Bit> = 1,
        out_gon: Signal<In, Bit> = 1,
        gin_valid: Signal<In, Bit> = 1,
        gin_ready: Signal<Out, Bit> = 1,
        gin_data: Signal<In, Bits<64>> = LN_W,
        below_valid: Signal<In, Bit> = 1,
        below_ready: Signal<Out, Bit> = 1,
        below_data: Signal<In, Bits<64>> = LN_W,
        pin_used: Signal<Out, Bit> = 1,
        pin_valid: Signal<Out, Bit> = 1,
        pin_ready: Signal<In, Bit> = 1,
        pin_data: Signal<Out, Bits<64>> = LN_W,
        pout_valid: Signal<In, Bit> = 1,
        pout_ready: Signal<Out, Bit> = 1,
        gon_valid: Signal<Out, Bit> = 1,
        gon_ready: Signal<In, Bit> = 1,
        up_valid: Signal<Out, Bit> = 1,
        up_ready: Signal<In, Bit> = 1,
    }
    state {
    }
}

impl Ln {
    /// The template's W (the config's `noc.ln_width`, 64).
    pub fn new(w: u32) -> Result<Self, HwError> {
        check_param("ln", "W", w as u64, LN_W as u64, LN_W as u64)?;
        Ok(Ln {
            ..Default::default()
        }
        .with_ports())
    }
}

impl Logic for Ln {
    fn update(&mut self) {
        let sel = u(self.psum_sel.val());
        let from_gin = sel == SEL_GIN && self.acc.val();
        let from_ln = sel == SEL_LN;
        self.pin_used.next = from_gin | from_ln;
        self.pin_valid.next = if from_gin {
            self.gin_valid.val()
        } else {
            from_ln & self.below_valid.val()
        };
        // as the template: the data follows psum_sel's low bit alone (see there)
        self.pin_data.next = if sel & SEL_DATA_GIN != 0 {
            self.gin_data.val()
        } else {
            self.below_data.val()
        };
        self.gin_ready.next = from_gin & self.pin_ready.val();
        self.below_ready.next = from_ln & self.pin_ready.val();
        let out_gon = self.out_gon.val();
        self.gon_valid.next = out_gon & self.pout_valid.val();
        self.up_valid.next = !out_gon & self.pout_valid.val();
        self.pout_ready.next = if out_gon {
            self.gon_ready.val()
        } else {
            self.up_ready.val()
        };
    }
    fn connect(&mut self) {
        self.connect_ports();
    }
}
