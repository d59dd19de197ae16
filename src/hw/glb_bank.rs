//! `eyeriss_glb_bank` (templates/glb_bank.v.tera): one single-port bank of the global buffer, a
//! write or a registered read per enabled cycle.

use rust_hdl::prelude::*;

use super::{HwError, Model, Port, bv, check_param, clock_edge, clog2, settle, u};

#[derive(LogicBlock)]
pub struct GlbBank {
    pub clk: Signal<In, Clock>,
    pub en: Signal<In, Bit>,
    pub we: Signal<In, Bit>,
    pub addr: Signal<In, Bits<16>>,
    pub wdata: Signal<In, Bits<64>>,
    pub rdata: Signal<Out, Bits<64>>,
    /// The template's `rdata` register (not reset).
    q: DFF<Bits<64>>,
    _mem: Vec<u64>,
    _ports: Vec<Port>,
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
            clk: Default::default(),
            en: Default::default(),
            we: Default::default(),
            addr: Default::default(),
            wdata: Default::default(),
            rdata: Default::default(),
            q: Default::default(),
            _mem: vec![0; words as usize],
            _ports: vec![
                Port::input("en", 1),
                Port::input("we", 1),
                Port::input("addr", clog2(words as u64)),
                Port::input("wdata", 64),
                Port::output("rdata", 64),
            ],
        })
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
        self.rdata.connect();
    }
}

impl Model for GlbBank {
    fn block(&self) -> &'static str {
        "glb_bank"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![("WORDS", self.words()), ("W", 64)]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        true
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        match port {
            0 => self.en.next = v[0] & 1 != 0,
            1 => self.we.next = v[0] & 1 != 0,
            2 => self.addr.next = bv(v[0]),
            3 => self.wdata.next = bv(v[0]),
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        if port == 4 {
            v[0] = u(self.rdata.val());
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "glb_bank")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "glb_bank")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}
