//! `eyeriss_mc` (templates/mc.v.tera): multicast controller. Combinational: passes a word on
//! when the tag matches the configured ID (the all-ones ID never matches) and holds the bus only
//! for a matching destination that is not ready.

use rust_hdl::prelude::*;

use super::{HwError, Model, Port, check_param, mask, settle, u};

#[derive(LogicBlock)]
pub struct Mc {
    pub id: Signal<In, Bits<8>>,
    pub tag: Signal<In, Bits<8>>,
    pub in_valid: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub ready_ok: Signal<Out, Bit>,
    _id_w: u32,
    _ports: Vec<Port>,
}

impl Mc {
    /// The template's ID_W (1..=8, the config's ID widths).
    pub fn new(id_w: u32) -> Result<Self, HwError> {
        check_param("mc", "ID_W", id_w as u64, 1, 8)?;
        Ok(Mc {
            id: Default::default(),
            tag: Default::default(),
            in_valid: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            ready_ok: Default::default(),
            _id_w: id_w,
            _ports: vec![
                Port::input("id", id_w),
                Port::input("tag", id_w),
                Port::input("in_valid", 1),
                Port::output("out_valid", 1),
                Port::input("out_ready", 1),
                Port::output("ready_ok", 1),
            ],
        })
    }
}

impl Logic for Mc {
    fn update(&mut self) {
        let id = u(self.id.val());
        let matched = id == u(self.tag.val()) && id != mask(self._id_w);
        self.out_valid.next = self.in_valid.val() & matched;
        self.ready_ok.next = !matched | self.out_ready.val();
    }
    fn connect(&mut self) {
        self.out_valid.connect();
        self.ready_ok.connect();
    }
}

impl Model for Mc {
    fn block(&self) -> &'static str {
        "mc"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![("ID_W", self._id_w as u64)]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        false
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        match port {
            0 => self.id.next = super::bv(v[0] & mask(self._id_w)),
            1 => self.tag.next = super::bv(v[0] & mask(self._id_w)),
            2 => self.in_valid.next = v[0] & 1 != 0,
            4 => self.out_ready.next = v[0] & 1 != 0,
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        match port {
            3 => v[0] = self.out_valid.val() as u64,
            5 => v[0] = self.ready_ok.val() as u64,
            _ => {}
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "mc")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        Ok(())
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}
