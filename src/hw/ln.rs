//! `eyeriss_ln` (templates/ln.v.tera): the local network at one PE, choosing the PE's psum input
//! (none, psum GIN, or the PE below) and where its psum output goes (GON or the PE above).
//! Combinational.

use rust_hdl::prelude::*;

use super::{HwError, Model, Port, bv, check_param, from_words, settle, to_words, u};

const SEL_GIN: u64 = 1;
const SEL_LN: u64 = 2;

#[derive(LogicBlock)]
pub struct Ln {
    pub psum_sel: Signal<In, Bits<2>>,
    pub acc: Signal<In, Bit>,
    pub out_gon: Signal<In, Bit>,
    pub gin_valid: Signal<In, Bit>,
    pub gin_ready: Signal<Out, Bit>,
    pub gin_data: Signal<In, Bits<64>>,
    pub below_valid: Signal<In, Bit>,
    pub below_ready: Signal<Out, Bit>,
    pub below_data: Signal<In, Bits<64>>,
    pub pin_used: Signal<Out, Bit>,
    pub pin_valid: Signal<Out, Bit>,
    pub pin_ready: Signal<In, Bit>,
    pub pin_data: Signal<Out, Bits<64>>,
    pub pout_valid: Signal<In, Bit>,
    pub pout_ready: Signal<Out, Bit>,
    pub gon_valid: Signal<Out, Bit>,
    pub gon_ready: Signal<In, Bit>,
    pub up_valid: Signal<Out, Bit>,
    pub up_ready: Signal<In, Bit>,
    _ports: Vec<Port>,
}

impl Ln {
    /// The template's W (the config's `noc.ln_width`, 64).
    pub fn new(w: u32) -> Result<Self, HwError> {
        check_param("ln", "W", w as u64, 64, 64)?;
        let b = |n, w| Port::input(n, w);
        let o = |n, w| Port::output(n, w);
        Ok(Ln {
            psum_sel: Default::default(),
            acc: Default::default(),
            out_gon: Default::default(),
            gin_valid: Default::default(),
            gin_ready: Default::default(),
            gin_data: Default::default(),
            below_valid: Default::default(),
            below_ready: Default::default(),
            below_data: Default::default(),
            pin_used: Default::default(),
            pin_valid: Default::default(),
            pin_ready: Default::default(),
            pin_data: Default::default(),
            pout_valid: Default::default(),
            pout_ready: Default::default(),
            gon_valid: Default::default(),
            gon_ready: Default::default(),
            up_valid: Default::default(),
            up_ready: Default::default(),
            _ports: vec![
                b("psum_sel", 2),
                b("acc", 1),
                b("out_gon", 1),
                b("gin_valid", 1),
                o("gin_ready", 1),
                b("gin_data", w),
                b("below_valid", 1),
                o("below_ready", 1),
                b("below_data", w),
                o("pin_used", 1),
                o("pin_valid", 1),
                b("pin_ready", 1),
                o("pin_data", w),
                b("pout_valid", 1),
                o("pout_ready", 1),
                o("gon_valid", 1),
                b("gon_ready", 1),
                o("up_valid", 1),
                b("up_ready", 1),
            ],
        })
    }
}

impl super::AtRest for Ln {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(
            self,
            psum_sel,
            acc,
            out_gon,
            gin_valid,
            below_valid,
            pin_ready,
            pout_valid,
            gon_ready,
            up_ready,
            gin_data,
            below_data
        )
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
        self.pin_data.next = if from_gin {
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
        for s in [
            &mut self.gin_ready,
            &mut self.below_ready,
            &mut self.pin_used,
            &mut self.pin_valid,
            &mut self.pout_ready,
            &mut self.gon_valid,
            &mut self.up_valid,
        ] {
            s.connect();
        }
        self.pin_data.connect();
    }
}

impl Model for Ln {
    fn block(&self) -> &'static str {
        "ln"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![("W", 64)]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        false
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        let bit = v[0] & 1 != 0;
        match port {
            0 => self.psum_sel.next = bv(v[0]),
            1 => self.acc.next = bit,
            2 => self.out_gon.next = bit,
            3 => self.gin_valid.next = bit,
            5 => self.gin_data.next = from_words(v),
            6 => self.below_valid.next = bit,
            8 => self.below_data.next = from_words(v),
            11 => self.pin_ready.next = bit,
            13 => self.pout_valid.next = bit,
            16 => self.gon_ready.next = bit,
            18 => self.up_ready.next = bit,
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        let out = match port {
            4 => self.gin_ready.val(),
            7 => self.below_ready.val(),
            9 => self.pin_used.val(),
            10 => self.pin_valid.val(),
            12 => {
                to_words(self.pin_data.val(), v);
                return;
            }
            14 => self.pout_ready.val(),
            15 => self.gon_valid.val(),
            17 => self.up_valid.val(),
            _ => return,
        };
        v[0] = out as u64;
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "ln")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        Ok(())
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}
