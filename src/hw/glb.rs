//! `eyeriss_glb` (templates/glb.v.tera): the global buffer. BANKS single-port banks; a word
//! address picks its bank by the high bits, and each bank serves the lowest-numbered port that
//! asks for it. Read data returns the cycle after the grant.

use rust_hdl::prelude::*;

use super::glb_bank::GlbBank;
use super::{HwError, bv, check_param, clog2, many, mask, u};

/// Most ports the model holds (the template's NPORTS is 6 in `eyeriss_top`).
pub const MAX_PORTS: u32 = 16;

super::model! {
    pub struct Glb: "glb", clocked;
    params(b) {
        BANKS: b._banks,
        BANK_WORDS: b._bank_words,
        W: 64,
        NPORTS: b.nports(),
        ADDR_W: b._addr_w,
    }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        req: Signal<In, Bits<16>> = b.nports() as u32,
        we: Signal<In, Bits<16>> = b.nports() as u32,
        /// `addr[p*ADDR_W +: ADDR_W]`.
        addr: Vec<Signal<In, Bits<32>>> = b.nports() as u32 * b._addr_w,
        /// `wdata[p*W +: W]`.
        wdata: Vec<Signal<In, Bits<64>>> = b.nports() as u32 * 64,
        gnt: Signal<Out, Bits<16>> = b.nports() as u32,
        rvalid: Signal<Out, Bits<16>> = b.nports() as u32,
        /// `rdata[p*W +: W]`.
        rdata: Vec<Signal<Out, Bits<64>>> = b.nports() as u32 * 64,
    }
    state {
        u_bank: Vec<GlbBank>,
        rvalid_r: DFF<Bits<16>>,
        /// The bank each port read from last cycle (not reset).
        rbank: Vec<DFF<Bits<16>>>,
        _banks: u32,
        _bank_words: u32,
        _addr_w: u32,
    }
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
            addr: many(n),
            wdata: many(n),
            rdata: many(n),
            u_bank,
            rbank: many(n),
            _banks: banks,
            _bank_words: bank_words,
            _addr_w: addr_w,
            ..Default::default()
        }
        .with_ports())
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
        self.connect_ports();
    }
}
