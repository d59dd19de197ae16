//! `eyeriss_counters_row` (templates/counters_row.v.tera): the first stage of the hardware
//! counters for one PE row, registering the row's per-PE event sums every cycle.

use rust_hdl::prelude::*;

use super::{HwError, Model, Port, bv, check_param, clock_edge, mask, settle, u};

/// The event inputs, in port order.
pub const EVENTS: [&str; 10] = [
    "ev_busy",
    "ev_mac",
    "ev_fwrite",
    "ev_iread",
    "ev_iwrite",
    "ev_pacc",
    "ev_pcol",
    "ev_pwrite",
    "ln_word",
    "pe_enabled",
];

/// The sum outputs, in port order.
pub const SUMS: [&str; 12] = [
    "n_busy",
    "n_mac",
    "n_zero",
    "n_fread",
    "n_fwrite",
    "n_iread",
    "n_iwrite",
    "n_pacc",
    "n_pcol",
    "n_pwrite",
    "n_ln",
    "n_enabled",
];

#[derive(LogicBlock)]
pub struct CountersRow {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub clear: Signal<In, Bit>,
    pub ev_busy: Signal<In, Bits<64>>,
    pub ev_mac: Signal<In, Bits<64>>,
    pub ev_fwrite: Signal<In, Bits<64>>,
    pub ev_iread: Signal<In, Bits<64>>,
    pub ev_iwrite: Signal<In, Bits<64>>,
    pub ev_pacc: Signal<In, Bits<64>>,
    pub ev_pcol: Signal<In, Bits<64>>,
    pub ev_pwrite: Signal<In, Bits<64>>,
    pub ln_word: Signal<In, Bits<64>>,
    pub pe_enabled: Signal<In, Bits<64>>,
    pub n_busy: Signal<Out, Bits<32>>,
    pub n_mac: Signal<Out, Bits<32>>,
    pub n_zero: Signal<Out, Bits<32>>,
    pub n_fread: Signal<Out, Bits<32>>,
    pub n_fwrite: Signal<Out, Bits<32>>,
    pub n_iread: Signal<Out, Bits<32>>,
    pub n_iwrite: Signal<Out, Bits<32>>,
    pub n_pacc: Signal<Out, Bits<32>>,
    pub n_pcol: Signal<Out, Bits<32>>,
    pub n_pwrite: Signal<Out, Bits<32>>,
    pub n_ln: Signal<Out, Bits<32>>,
    pub n_enabled: Signal<Out, Bits<32>>,
    /// The output registers, in [`SUMS`] order; all but `n_enabled` are reset and cleared.
    r: Vec<DFF<Bits<32>>>,
    _cols: u32,
    _sum_w: u32,
    _ports: Vec<Port>,
}

impl CountersRow {
    /// The template's COLS and SUM_W.
    pub fn new(cols: u32, sum_w: u32) -> Result<Self, HwError> {
        check_param("counters_row", "COLS", cols as u64, 1, 64)?;
        // a count of up to 64 ones takes 7 bits
        check_param("counters_row", "SUM_W", sum_w as u64, 7, 32)?;
        let mut ports = vec![Port::input("rst", 1), Port::input("clear", 1)];
        ports.extend(EVENTS.iter().map(|n| Port::input(n, cols)));
        ports.extend(SUMS.iter().map(|n| Port::output(n, sum_w)));
        Ok(CountersRow {
            clk: Default::default(),
            rst: Default::default(),
            clear: Default::default(),
            ev_busy: Default::default(),
            ev_mac: Default::default(),
            ev_fwrite: Default::default(),
            ev_iread: Default::default(),
            ev_iwrite: Default::default(),
            ev_pacc: Default::default(),
            ev_pcol: Default::default(),
            ev_pwrite: Default::default(),
            ln_word: Default::default(),
            pe_enabled: Default::default(),
            n_busy: Default::default(),
            n_mac: Default::default(),
            n_zero: Default::default(),
            n_fread: Default::default(),
            n_fwrite: Default::default(),
            n_iread: Default::default(),
            n_iwrite: Default::default(),
            n_pacc: Default::default(),
            n_pcol: Default::default(),
            n_pwrite: Default::default(),
            n_ln: Default::default(),
            n_enabled: Default::default(),
            r: (0..SUMS.len()).map(|_| Default::default()).collect(),
            _cols: cols,
            _sum_w: sum_w,
            _ports: ports,
        })
    }

    fn events(&mut self) -> [&mut Signal<In, Bits<64>>; 10] {
        [
            &mut self.ev_busy,
            &mut self.ev_mac,
            &mut self.ev_fwrite,
            &mut self.ev_iread,
            &mut self.ev_iwrite,
            &mut self.ev_pacc,
            &mut self.ev_pcol,
            &mut self.ev_pwrite,
            &mut self.ln_word,
            &mut self.pe_enabled,
        ]
    }

    fn sums(&self) -> [&Signal<Out, Bits<32>>; 12] {
        [
            &self.n_busy,
            &self.n_mac,
            &self.n_zero,
            &self.n_fread,
            &self.n_fwrite,
            &self.n_iread,
            &self.n_iwrite,
            &self.n_pacc,
            &self.n_pcol,
            &self.n_pwrite,
            &self.n_ln,
            &self.n_enabled,
        ]
    }
}

impl Logic for CountersRow {
    fn update(&mut self) {
        let clk = self.clk.val();
        for r in &mut self.r {
            r.clock.next = clk;
        }
        let (cols, sw) = (self._cols, self._sum_w);
        let ev: [u64; 10] = {
            let e = self.events();
            std::array::from_fn(|i| u(e[i].val()) & mask(cols))
        };
        let ones = |i: usize| ev[i].count_ones() as u64;
        let (busy, mac) = (ones(0), ones(1));
        // A zero-skipped MAC is a busy cycle without a MAC, and every MAC reads the filter
        // spad once.
        let next = [
            busy,
            mac,
            busy.wrapping_sub(mac) & mask(sw),
            mac,
            ones(2),
            ones(3),
            ones(4),
            ones(5),
            ones(6),
            ones(7),
            ones(8),
        ];
        let zero = self.rst.val() || self.clear.val();
        for (r, v) in self.r.iter_mut().zip(next) {
            r.d.next = bv(if zero { 0 } else { v });
        }
        self.r[11].d.next = bv(ones(9));
        let q: [Bits<32>; 12] = std::array::from_fn(|i| self.r[i].q.val());
        self.n_busy.next = q[0];
        self.n_mac.next = q[1];
        self.n_zero.next = q[2];
        self.n_fread.next = q[3];
        self.n_fwrite.next = q[4];
        self.n_iread.next = q[5];
        self.n_iwrite.next = q[6];
        self.n_pacc.next = q[7];
        self.n_pcol.next = q[8];
        self.n_pwrite.next = q[9];
        self.n_ln.next = q[10];
        self.n_enabled.next = q[11];
    }
    fn connect(&mut self) {
        self.n_busy.connect();
        self.n_mac.connect();
        self.n_zero.connect();
        self.n_fread.connect();
        self.n_fwrite.connect();
        self.n_iread.connect();
        self.n_iwrite.connect();
        self.n_pacc.connect();
        self.n_pcol.connect();
        self.n_pwrite.connect();
        self.n_ln.connect();
        self.n_enabled.connect();
    }
}

impl Model for CountersRow {
    fn block(&self) -> &'static str {
        "counters_row"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![("COLS", self._cols as u64), ("SUM_W", self._sum_w as u64)]
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
            1 => self.clear.next = v[0] & 1 != 0,
            p if p < 2 + EVENTS.len() => self.events()[p - 2].next = bv(v[0]),
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        if let Some(s) = port
            .checked_sub(2 + EVENTS.len())
            .and_then(|i| self.sums().get(i).copied())
        {
            v[0] = u(s.val());
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "counters_row")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "counters_row")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for CountersRow {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(
            self, clk, rst, clear, ev_busy, ev_mac, ev_fwrite, ev_iread, ev_iwrite, ev_pacc,
            ev_pcol, ev_pwrite, ln_word, pe_enabled
        )
    }
}
