//! `eyeriss_glb` (templates/glb.v.tera): the global buffer. BANKS single-port banks; a word
//! address picks its bank by the high bits, and each bank serves the lowest-numbered port that
//! asks for it. Read data returns the cycle after the grant.

use rust_hdl::prelude::*;

use super::glb_bank::GlbBank;
use super::{
    HwError, Model, Port, bv, check_param, clock_edge, clog2, mask, put_field, set_fields, settle,
    u,
};

/// Most ports the model holds (the template's NPORTS is 6 in `eyeriss_top`).
pub const MAX_PORTS: u32 = 16;

#[derive(LogicBlock)]
pub struct Glb {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub req: Signal<In, Bits<16>>,
    pub we: Signal<In, Bits<16>>,
    /// `addr[p*ADDR_W +: ADDR_W]`.
    pub addr: Vec<Signal<In, Bits<32>>>,
    /// `wdata[p*W +: W]`.
    pub wdata: Vec<Signal<In, Bits<64>>>,
    pub gnt: Signal<Out, Bits<16>>,
    pub rvalid: Signal<Out, Bits<16>>,
    /// `rdata[p*W +: W]`.
    pub rdata: Vec<Signal<Out, Bits<64>>>,
    u_bank: Vec<GlbBank>,
    rvalid_r: DFF<Bits<16>>,
    /// The bank each port read from last cycle (not reset).
    rbank: Vec<DFF<Bits<16>>>,
    _banks: u32,
    _bank_words: u32,
    _addr_w: u32,
    _ports: Vec<Port>,
}

impl Glb {
    /// The template's BANKS, BANK_WORDS, W (64), NPORTS and ADDR_W.
    pub fn new(
        banks: u32,
        bank_words: u32,
        w: u32,
        nports: u32,
        addr_w: u32,
    ) -> Result<Self, HwError> {
        let b = "glb";
        check_param(b, "BANKS", banks as u64, 1, 1024)?;
        check_param(b, "W", w as u64, 64, 64)?;
        check_param(b, "NPORTS", nports as u64, 1, MAX_PORTS as u64)?;
        let off_w = clog2(bank_words as u64);
        // the bank field has at least one bit, and the whole address fits the model's signals
        check_param(b, "ADDR_W", addr_w as u64, off_w as u64 + 1, 32)?;
        let u_bank = (0..banks)
            .map(|_| GlbBank::new(bank_words, w))
            .collect::<Result<Vec<_>, _>>()?;
        let n = nports as usize;
        Ok(Glb {
            clk: Default::default(),
            rst: Default::default(),
            req: Default::default(),
            we: Default::default(),
            addr: (0..n).map(|_| Default::default()).collect(),
            wdata: (0..n).map(|_| Default::default()).collect(),
            gnt: Default::default(),
            rvalid: Default::default(),
            rdata: (0..n).map(|_| Default::default()).collect(),
            u_bank,
            rvalid_r: Default::default(),
            rbank: (0..n).map(|_| Default::default()).collect(),
            _banks: banks,
            _bank_words: bank_words,
            _addr_w: addr_w,
            _ports: vec![
                Port::input("rst", 1),
                Port::input("req", nports),
                Port::input("we", nports),
                Port::input("addr", nports * addr_w).split(nports),
                Port::input("wdata", nports * 64).split(nports),
                Port::output("gnt", nports),
                Port::output("rvalid", nports),
                Port::output("rdata", nports * 64).split(nports),
            ],
        })
    }

    fn nports(&self) -> usize {
        self.addr.len()
    }
}

impl Logic for Glb {
    fn update(&mut self) {
        let clk = self.clk.val();
        self.rvalid_r.clock.next = clk;
        for r in &mut self.rbank {
            r.clock.next = clk;
        }
        let off_w = clog2(self._bank_words as u64);
        let bank_w = self._addr_w - off_w;
        let np = self.nports();
        let req = u(self.req.val()) & mask(np as u32);
        let we = u(self.we.val());
        let bank_of = |a: u64| (a >> off_w) & mask(bank_w);
        let addrs: [u64; MAX_PORTS as usize] =
            std::array::from_fn(|p| self.addr.get(p).map_or(0, |s| u(s.val())));

        let mut gnt = 0u64;
        for (b, bank) in self.u_bank.iter_mut().enumerate() {
            bank.clk.next = clk;
            // fixed priority: the lowest requesting port wins
            let pick = (0..np).find(|&p| req >> p & 1 != 0 && bank_of(addrs[p]) == b as u64);
            bank.en.next = pick.is_some();
            match pick {
                Some(p) => {
                    gnt |= 1 << p;
                    bank.we.next = we >> p & 1 != 0;
                    bank.addr.next = bv(addrs[p] & mask(off_w));
                    bank.wdata.next = self.wdata[p].val();
                }
                None => {
                    bank.we.next = false;
                    bank.addr.next = bv(0);
                    bank.wdata.next = Bits::default();
                }
            }
        }
        self.gnt.next = bv(gnt);
        self.rvalid.next = self.rvalid_r.q.val();
        self.rvalid_r.d.next = if self.rst.val() {
            bv(0)
        } else {
            bv(gnt & !we & mask(np as u32))
        };
        for ((rd, rb), a) in self.rdata.iter_mut().zip(&mut self.rbank).zip(addrs) {
            // a bank number past the last bank selects nothing: zero, as Verilator reads an
            // out-of-range part-select with --x-assign 0
            rd.next = self
                .u_bank
                .get(u(rb.q.val()) as usize)
                .map_or(Bits::default(), |bank| bank.rdata.val());
            rb.d.next = bv(bank_of(a));
        }
    }
    fn connect(&mut self) {
        self.gnt.connect();
        self.rvalid.connect();
        for s in &mut self.rdata {
            s.connect();
        }
    }
}

impl Model for Glb {
    fn block(&self) -> &'static str {
        "glb"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("BANKS", self._banks as u64),
            ("BANK_WORDS", self._bank_words as u64),
            ("W", 64),
            ("NPORTS", self.nports() as u64),
            ("ADDR_W", self._addr_w as u64),
        ]
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
            1 => self.req.next = bv(v[0]),
            2 => self.we.next = bv(v[0]),
            3 => set_fields(&mut self.addr, v, self._addr_w),
            4 => {
                for (p, s) in self.wdata.iter_mut().enumerate() {
                    s.next = bv(v[p]);
                }
            }
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        match port {
            5 => v[0] = u(self.gnt.val()),
            6 => v[0] = u(self.rvalid.val()),
            7 => {
                for (p, s) in self.rdata.iter().enumerate() {
                    put_field(v, p, 64, u(s.val()));
                }
            }
            _ => {}
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "glb")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "glb")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for Glb {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(self, clk, rst, req, we)
            && super::vec_settled(&self.addr)
            && super::vec_settled(&self.wdata)
    }
}
