//! `eyeriss_mc` (templates/mc.v.tera): multicast controller. Combinational: passes a word on
//! when the tag matches the configured ID (the all-ones ID never matches) and holds the bus only
//! for a matching destination that is not ready.

use rust_hdl::prelude::*;

use super::{HwError, check_param, mask, u};

super::model! {
    pub struct Mc: "mc", combinational;
    params(b) { ID_W: b._id_w }
    ports(b) {
        id: Signal<In, Bits<8>> = b._id_w,
        tag: Signal<In, Bits<8>> = b._id_w,
        in_valid: Signal<In, Bit> = 1,
        out_valid: Signal<Out, Bit> = 1,
        out_ready: Signal<In, Bit> = 1,
        ready_ok: Signal<Out, Bit> = 1,
    }
    state {
        _id_w: u32,
    }
}

impl Mc {
    /// The template's ID_W (1..=8, the config's ID widths).
    pub fn new(id_w: u32) -> Result<Self, HwError> {
        check_param("mc", "ID_W", id_w as u64, 1, 8)?;
        Ok(Mc {
            _id_w: id_w,
            ..Default::default()
        }
        .with_ports())
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
        self.connect_ports();
    }
}
