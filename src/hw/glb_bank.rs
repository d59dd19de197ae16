//! `eyeriss_glb_bank` (templates/glb_bank.v.tera): one single-port bank of the global buffer, a
//! write or a registered read per enabled cycle.

use rust_hdl::prelude::*;

use super::{HwError, bv, check_param, clog2, u};

super::model! {
    pub struct GlbBank: "glb_bank", clocked;
    params(b) { WORDS: b.words(), W: 64 }
    ports(b) {
        en: Signal<In, Bit> = 1,
        we: Signal<In, Bit> = 1,
        addr: Signal<In, Bits<16>> = clog2(b.words()),
        wdata: Signal<In, Bits<64>> = 64,
        rdata: Signal<Out, Bits<64>> = 64,
    }
    state {
        /// The template's `rdata` register (not reset).
        q: DFF<Bits<64>>,
        _mem: Vec<u64>,
    }
}

impl GlbBank {
    /// The template's WORDS (a power of two: the address has exactly its bits) and W (64).
    pub fn new(words: u32, w: u32) -> Result<Self, HwError> {
        check_param("glb_bank", "WORDS", words as u64, 2, 65536)?;
        check_param("glb_bank", "W", w as u64, 64, 64)?;
        if !words.is_power_of_two() {
            return Err(HwError::Param {
                block: "glb_bank",
                param: "WORDS",
                value: words as u64,
                limit: "must be a power of two".into(),
            });
        }
        Ok(GlbBank {
            _mem: vec![0; words as usize],
            ..Default::default()
        }
        .with_ports())
    }

    fn words(&self) -> u64 {
        self._mem.len() as u64
    }
}

impl Logic for GlbBank {
    fn update(&mut self) {
        self.q.clock.next = self.clk.val();
        self.rdata.next = self.q.q.val();
        let a = (u(self.addr.val()) & (self.words() - 1)) as usize;
        let (en, we) = (self.en.val(), self.we.val());
        if self.clk.pos_edge() && en && we {
            self._mem[a] = u(self.wdata.val());
        }
        self.q.d.next = if en && !we {
            bv(self._mem[a])
        } else {
            self.q.q.val()
        };
    }
    fn connect(&mut self) {
        self.connect_ports();
    }
}
