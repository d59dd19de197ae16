//! `eyeriss_counters` (templates/counters.v.tera): the hardware counters READ_COUNTERS reads.
//! Adds the per-row sums across rows into 21 counters (order of docs/commands.md) and presents
//! counter `sel` on `value`; index 21 and up is the enabled-PE count.

use rust_hdl::prelude::*;

use super::{HwError, bv, check_param, many, mask, u};

/// Counters proper.
const N: usize = 21;

/// The per-row inputs (`ROWS*SUM_W` bits each), in the order they appear among the ports.
pub const ROW_INPUTS: [&str; 12] = [
    "row_busy",
    "row_mac",
    "row_zero",
    "row_fread",
    "row_fwrite",
    "row_iread",
    "row_iwrite",
    "row_pacc",
    "row_pcol",
    "row_pwrite",
    "row_ln",
    "row_enabled",
];

super::model! {
    pub struct Counters: "counters", clocked;
    params(b) { ROWS: b._rows, SUM_W: b._sum_w, CNT_W: b._cnt_w }
    ports(b) {
        rst: Signal<In, Bit> = 1,
        clear: Signal<In, Bit> = 1,
        /// `row_busy[r*SUM_W +: SUM_W]`, and likewise for every per-row input.
        row_busy: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_mac: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_zero: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_fread: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_fwrite: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_iread: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_iwrite: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_pacc: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        row_pcol: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        cfg_p: Signal<In, Bits<8>> = 8,
        row_pwrite: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        glb_reads: Signal<In, Bits<4>> = 4,
        glb_writes: Signal<In, Bits<4>> = 4,
        filt_beat: Signal<In, Bit> = 1,
        ifmap_beat: Signal<In, Bit> = 1,
        psum_beat: Signal<In, Bit> = 1,
        gon_word: Signal<In, Bit> = 1,
        row_ln: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        host_in: Signal<In, Bit> = 1,
        host_out: Signal<In, Bit> = 1,
        host_in_wait: Signal<In, Bit> = 1,
        host_out_wait: Signal<In, Bit> = 1,
        row_enabled: Vec<Signal<In, Bits<32>>> = b._rows * b._sum_w,
        sel: Signal<In, Bits<5>> = 5,
        value: Signal<Out, Bits<64>> = 64,
    }
    state {
        /// cfg_p a cycle late (not reset).
        p_d: DFF<Bits<8>>,
        /// p three cycles late, beside the registered psum-read row totals it scales.
        p_d2: DFF<Bits<8>>,
        p_dd: DFF<Bits<8>>,
        pacc_q: DFF<Bits<32>>,
        pcol_q: DFF<Bits<32>>,
        /// Registers, not a memory, as in the template: all are cleared at once.
        cnt: Vec<DFF<Bits<64>>>,
        /// Each counter's increment, registered before it is added.
        inc_q: Vec<DFF<Bits<32>>>,
        _rows: u32,
        _sum_w: u32,
        _cnt_w: u32,
    }
}

impl Counters {
    /// The template's ROWS, SUM_W and CNT_W.
    pub fn new(rows: u32, sum_w: u32, cnt_w: u32) -> Result<Self, HwError> {
        let b = "counters";
        check_param(b, "ROWS", rows as u64, 1, 64)?;
        check_param(b, "SUM_W", sum_w as u64, 4, 32)?;
        check_param(b, "CNT_W", cnt_w as u64, sum_w as u64, 64)?;
        let n = rows as usize;
        Ok(Counters {
            row_busy: many(n),
            row_mac: many(n),
            row_zero: many(n),
            row_fread: many(n),
            row_fwrite: many(n),
            row_iread: many(n),
            row_iwrite: many(n),
            row_pacc: many(n),
            row_pcol: many(n),
            row_pwrite: many(n),
            row_ln: many(n),
            row_enabled: many(n),
            cnt: many(N),
            inc_q: many(N),
            _rows: rows,
            _sum_w: sum_w,
            _cnt_w: cnt_w,
            ..Default::default()
        }
        .with_ports())
    }
}

impl Logic for Counters {
    fn update(&mut self) {
        let clk = self.clk.val();
        self.p_d.clock.next = clk;
        self.p_d2.clock.next = clk;
        self.p_dd.clock.next = clk;
        self.pacc_q.clock.next = clk;
        self.pcol_q.clock.next = clk;
        for c in self.cnt.iter_mut() {
            c.clock.next = clk;
        }
        for c in self.inc_q.iter_mut() {
            c.clock.next = clk;
        }
        let sw = self._sum_w;
        let total =
            |v: &[Signal<In, Bits<32>>]| v.iter().fold(0u64, |a, s| a + u(s.val())) & mask(sw);
        // times p by shifts and adds, as the template does, which is n * p within SUM_W bits
        let times_p = u(self.pcol_q.q.val()).wrapping_mul(u(self.p_dd.q.val())) & mask(sw);
        let bit = |s: &Signal<In, Bit>| s.val() as u64;
        let inc: [u64; N] = [
            1,
            total(&self.row_busy),
            total(&self.row_mac),
            total(&self.row_zero),
            total(&self.row_fread),
            total(&self.row_fwrite),
            total(&self.row_iread),
            total(&self.row_iwrite),
            (u(self.pacc_q.q.val()) + times_p) & mask(sw),
            total(&self.row_pwrite),
            u(self.glb_reads.val()),
            u(self.glb_writes.val()),
            bit(&self.filt_beat),
            bit(&self.ifmap_beat),
            bit(&self.psum_beat),
            bit(&self.gon_word),
            total(&self.row_ln),
            bit(&self.host_in),
            bit(&self.host_out),
            bit(&self.host_in_wait),
            bit(&self.host_out_wait),
        ];
        self.p_d.d.next = self.cfg_p.val();
        self.p_d2.d.next = self.p_d.q.val();
        self.p_dd.d.next = self.p_d2.q.val();
        let zero = self.rst.val() || self.clear.val();
        let stage = |v: u64| if zero { bv(0) } else { bv(v) };
        self.pacc_q.d.next = stage(total(&self.row_pacc));
        self.pcol_q.d.next = stage(total(&self.row_pcol));
        let cw = self._cnt_w;
        for ((c, q), i) in self.cnt.iter_mut().zip(self.inc_q.iter_mut()).zip(inc) {
            let pending = u(q.q.val());
            c.d.next = if zero {
                bv(0)
            } else {
                bv(u(c.q.val()).wrapping_add(pending) & mask(cw))
            };
            q.d.next = if zero { bv(0) } else { bv(i) };
        }
        // the count as it would be without the increment stage
        let sel = u(self.sel.val()) as usize;
        self.value.next = match self.cnt.get(sel).zip(self.inc_q.get(sel)) {
            Some((c, q)) => bv(u(c.q.val()).wrapping_add(u(q.q.val())) & mask(cw)),
            None => bv(total(&self.row_enabled)),
        };
    }
    fn connect(&mut self) {
        self.connect_ports();
    }
}
