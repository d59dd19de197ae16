//! `eyeriss_counters_row` (templates/counters_row.v.tera): the first stage of the hardware
//! counters for one PE row, registering the row's per-PE event sums every cycle.

use rust_hdl::prelude::*;

use super::{HwError, bv, check_param, many, mask, u};

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

super::model! {
    pub struct CountersRow: "counters_row", clocked;
    params(b) { COLS: b._cols, SUM_W: b._sum_w }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        clear: Signal<In, Bit> = 1,
        ev_busy: Signal<In, Bits<64>> = b._cols,
        ev_mac: Signal<In, Bits<64>> = b._cols,
        ev_fwrite: Signal<In, Bits<64>> = b._cols,
        ev_iread: Signal<In, Bits<64>> = b._cols,
        ev_iwrite: Signal<In, Bits<64>> = b._cols,
        ev_pacc: Signal<In, Bits<64>> = b._cols,
        ev_pcol: Signal<In, Bits<64>> = b._cols,
        ev_pwrite: Signal<In, Bits<64>> = b._cols,
        ln_word: Signal<In, Bits<64>> = b._cols,
        pe_enabled: Signal<In, Bits<64>> = b._cols,
        n_busy: Signal<Out, Bits<32>> = b._sum_w,
        n_mac: Signal<Out, Bits<32>> = b._sum_w,
        n_zero: Signal<Out, Bits<32>> = b._sum_w,
        n_fread: Signal<Out, Bits<32>> = b._sum_w,
        n_fwrite: Signal<Out, Bits<32>> = b._sum_w,
        n_iread: Signal<Out, Bits<32>> = b._sum_w,
        n_iwrite: Signal<Out, Bits<32>> = b._sum_w,
        n_pacc: Signal<Out, Bits<32>> = b._sum_w,
        n_pcol: Signal<Out, Bits<32>> = b._sum_w,
        n_pwrite: Signal<Out, Bits<32>> = b._sum_w,
        n_ln: Signal<Out, Bits<32>> = b._sum_w,
        n_enabled: Signal<Out, Bits<32>> = b._sum_w,
    }
    state {
        /// The output registers, in [`SUMS`] order; all but `n_enabled` are reset and cleared.
        r: Vec<DFF<Bits<32>>>,
        /// The events, registered before they are counted (all but pe_enabled).
        q: Vec<DFF<Bits<64>>>,
        _cols: u32,
        _sum_w: u32,
    }
}

impl CountersRow {
    /// The template's COLS and SUM_W.
    pub fn new(cols: u32, sum_w: u32) -> Result<Self, HwError> {
        check_param("counters_row", "COLS", cols as u64, 1, 64)?;
        // a count of up to 64 ones takes 7 bits
        check_param("counters_row", "SUM_W", sum_w as u64, 7, 32)?;
        Ok(CountersRow {
            r: many(SUMS.len()),
            q: many(9),
            _cols: cols,
            _sum_w: sum_w,
            ..Default::default()
        }
        .with_ports())
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
}

impl Logic for CountersRow {
    fn update(&mut self) {
        let clk = self.clk.val();
        for r in self.r.iter_mut() {
            r.clock.next = clk;
        }
        for q in self.q.iter_mut() {
            q.clock.next = clk;
        }
        let (cols, sw) = (self._cols, self._sum_w);
        let now: [u64; 10] = {
            let e = self.events();
            std::array::from_fn(|i| u(e[i].val()) & mask(cols))
        };
        let zero = self.rst.val() || self.clear.val();
        // the counts come from last cycle's events; pe_enabled is counted as it is
        let ev: [u64; 10] = std::array::from_fn(|i| match self.q.get(i) {
            Some(q) => u(q.q.val()),
            None => now[i],
        });
        for (q, v) in self.q.iter_mut().zip(now) {
            q.d.next = bv(if zero { 0 } else { v });
        }
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
        self.connect_ports();
    }
}
