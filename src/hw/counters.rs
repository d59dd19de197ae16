//! `eyeriss_counters` (templates/counters.v.tera): the hardware counters READ_COUNTERS reads.
//! Adds the per-row sums across rows into 21 counters (order of docs/commands.md) and presents
//! counter `sel` on `value`; index 21 and up is the enabled-PE count.

use rust_hdl::prelude::*;

use super::{HwError, Model, Port, bv, check_param, clock_edge, field, mask, settle, u};

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

/// Every port as (name, kind): kind is the width for a scalar input, 0 for a per-row input.
const PORTS: [(&str, u32); 26] = [
    ("rst", 1),
    ("clear", 1),
    ("row_busy", 0),
    ("row_mac", 0),
    ("row_zero", 0),
    ("row_fread", 0),
    ("row_fwrite", 0),
    ("row_iread", 0),
    ("row_iwrite", 0),
    ("row_pacc", 0),
    ("row_pcol", 0),
    ("cfg_p", 8),
    ("row_pwrite", 0),
    ("glb_reads", 4),
    ("glb_writes", 4),
    ("filt_beat", 1),
    ("ifmap_beat", 1),
    ("psum_beat", 1),
    ("gon_word", 1),
    ("row_ln", 0),
    ("host_in", 1),
    ("host_out", 1),
    ("host_in_wait", 1),
    ("host_out_wait", 1),
    ("row_enabled", 0),
    ("sel", 5),
];

#[derive(LogicBlock)]
pub struct Counters {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub clear: Signal<In, Bit>,
    /// `row_busy[r*SUM_W +: SUM_W]`, and likewise for every per-row input.
    pub row_busy: Vec<Signal<In, Bits<32>>>,
    pub row_mac: Vec<Signal<In, Bits<32>>>,
    pub row_zero: Vec<Signal<In, Bits<32>>>,
    pub row_fread: Vec<Signal<In, Bits<32>>>,
    pub row_fwrite: Vec<Signal<In, Bits<32>>>,
    pub row_iread: Vec<Signal<In, Bits<32>>>,
    pub row_iwrite: Vec<Signal<In, Bits<32>>>,
    pub row_pacc: Vec<Signal<In, Bits<32>>>,
    pub row_pcol: Vec<Signal<In, Bits<32>>>,
    pub cfg_p: Signal<In, Bits<8>>,
    pub row_pwrite: Vec<Signal<In, Bits<32>>>,
    pub glb_reads: Signal<In, Bits<4>>,
    pub glb_writes: Signal<In, Bits<4>>,
    pub filt_beat: Signal<In, Bit>,
    pub ifmap_beat: Signal<In, Bit>,
    pub psum_beat: Signal<In, Bit>,
    pub gon_word: Signal<In, Bit>,
    pub row_ln: Vec<Signal<In, Bits<32>>>,
    pub host_in: Signal<In, Bit>,
    pub host_out: Signal<In, Bit>,
    pub host_in_wait: Signal<In, Bit>,
    pub host_out_wait: Signal<In, Bit>,
    pub row_enabled: Vec<Signal<In, Bits<32>>>,
    pub sel: Signal<In, Bits<5>>,
    pub value: Signal<Out, Bits<64>>,
    /// cfg_p a cycle late, like the row sums it scales (not reset).
    p_d: DFF<Bits<8>>,
    /// Registers, not a memory, as in the template: all are cleared at once.
    cnt: Vec<DFF<Bits<64>>>,
    _rows: u32,
    _sum_w: u32,
    _cnt_w: u32,
    _ports: Vec<Port>,
}

impl Counters {
    /// The template's ROWS, SUM_W and CNT_W.
    pub fn new(rows: u32, sum_w: u32, cnt_w: u32) -> Result<Self, HwError> {
        let b = "counters";
        check_param(b, "ROWS", rows as u64, 1, 64)?;
        check_param(b, "SUM_W", sum_w as u64, 4, 32)?;
        check_param(b, "CNT_W", cnt_w as u64, sum_w as u64, 64)?;
        let n = rows as usize;
        let rv = || (0..n).map(|_| Default::default()).collect();
        let mut ports: Vec<Port> = PORTS
            .iter()
            .map(|&(name, w)| {
                if w == 0 {
                    Port::input(name, rows * sum_w).split(rows)
                } else {
                    Port::input(name, w)
                }
            })
            .collect();
        ports.push(Port::output("value", 64));
        Ok(Counters {
            clk: Default::default(),
            rst: Default::default(),
            clear: Default::default(),
            row_busy: rv(),
            row_mac: rv(),
            row_zero: rv(),
            row_fread: rv(),
            row_fwrite: rv(),
            row_iread: rv(),
            row_iwrite: rv(),
            row_pacc: rv(),
            row_pcol: rv(),
            cfg_p: Default::default(),
            row_pwrite: rv(),
            glb_reads: Default::default(),
            glb_writes: Default::default(),
            filt_beat: Default::default(),
            ifmap_beat: Default::default(),
            psum_beat: Default::default(),
            gon_word: Default::default(),
            row_ln: rv(),
            host_in: Default::default(),
            host_out: Default::default(),
            host_in_wait: Default::default(),
            host_out_wait: Default::default(),
            row_enabled: rv(),
            sel: Default::default(),
            value: Default::default(),
            p_d: Default::default(),
            cnt: (0..N).map(|_| Default::default()).collect(),
            _rows: rows,
            _sum_w: sum_w,
            _cnt_w: cnt_w,
            _ports: ports,
        })
    }

    fn row_input(&mut self, port: usize) -> Option<&mut Vec<Signal<In, Bits<32>>>> {
        Some(match PORTS.get(port)?.0 {
            "row_busy" => &mut self.row_busy,
            "row_mac" => &mut self.row_mac,
            "row_zero" => &mut self.row_zero,
            "row_fread" => &mut self.row_fread,
            "row_fwrite" => &mut self.row_fwrite,
            "row_iread" => &mut self.row_iread,
            "row_iwrite" => &mut self.row_iwrite,
            "row_pacc" => &mut self.row_pacc,
            "row_pcol" => &mut self.row_pcol,
            "row_pwrite" => &mut self.row_pwrite,
            "row_ln" => &mut self.row_ln,
            "row_enabled" => &mut self.row_enabled,
            _ => return None,
        })
    }
}

impl Logic for Counters {
    fn update(&mut self) {
        let clk = self.clk.val();
        self.p_d.clock.next = clk;
        for c in &mut self.cnt {
            c.clock.next = clk;
        }
        let sw = self._sum_w;
        let total =
            |v: &[Signal<In, Bits<32>>]| v.iter().fold(0u64, |a, s| a + u(s.val())) & mask(sw);
        // times p by shifts and adds, as the template does, which is n * p within SUM_W bits
        let times_p = total(&self.row_pcol).wrapping_mul(u(self.p_d.q.val())) & mask(sw);
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
            (total(&self.row_pacc) + times_p) & mask(sw),
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
        let zero = self.rst.val() || self.clear.val();
        let cw = self._cnt_w;
        for (c, i) in self.cnt.iter_mut().zip(inc) {
            c.d.next = if zero {
                bv(0)
            } else {
                bv(u(c.q.val()).wrapping_add(i) & mask(cw))
            };
        }
        let sel = u(self.sel.val()) as usize;
        self.value.next = match self.cnt.get(sel) {
            Some(c) => c.q.val(),
            None => bv(total(&self.row_enabled)),
        };
    }
    fn connect(&mut self) {
        self.value.connect();
    }
}

impl Model for Counters {
    fn block(&self) -> &'static str {
        "counters"
    }
    fn params(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("ROWS", self._rows as u64),
            ("SUM_W", self._sum_w as u64),
            ("CNT_W", self._cnt_w as u64),
        ]
    }
    fn ports(&self) -> &[Port] {
        &self._ports
    }
    fn clocked(&self) -> bool {
        true
    }
    fn set(&mut self, port: usize, v: &[u64]) {
        let sw = self._sum_w;
        if let Some(rows) = self.row_input(port) {
            for (r, s) in rows.iter_mut().enumerate() {
                s.next = bv(field(v, r, sw));
            }
            return;
        }
        let bit = v[0] & 1 != 0;
        match PORTS.get(port).map(|p| p.0) {
            Some("rst") => self.rst.next = bit,
            Some("clear") => self.clear.next = bit,
            Some("cfg_p") => self.cfg_p.next = bv(v[0]),
            Some("glb_reads") => self.glb_reads.next = bv(v[0]),
            Some("glb_writes") => self.glb_writes.next = bv(v[0]),
            Some("filt_beat") => self.filt_beat.next = bit,
            Some("ifmap_beat") => self.ifmap_beat.next = bit,
            Some("psum_beat") => self.psum_beat.next = bit,
            Some("gon_word") => self.gon_word.next = bit,
            Some("host_in") => self.host_in.next = bit,
            Some("host_out") => self.host_out.next = bit,
            Some("host_in_wait") => self.host_in_wait.next = bit,
            Some("host_out_wait") => self.host_out_wait.next = bit,
            Some("sel") => self.sel.next = bv(v[0]),
            _ => {}
        }
    }
    fn get(&self, port: usize, v: &mut [u64]) {
        if port == PORTS.len() {
            v[0] = u(self.value.val());
        }
    }
    fn eval(&mut self) -> Result<(), HwError> {
        settle(self, "counters")
    }
    fn tick(&mut self) -> Result<(), HwError> {
        clock_edge(self, |b| &mut b.clk, "counters")
    }
    fn hdl(&self) -> &dyn Block {
        self
    }
}

impl super::AtRest for Counters {
    fn inputs_settled(&self) -> bool {
        super::inputs_settled!(
            self,
            clk,
            rst,
            clear,
            cfg_p,
            glb_reads,
            glb_writes,
            filt_beat,
            ifmap_beat,
            psum_beat,
            gon_word,
            host_in,
            host_out,
            host_in_wait,
            host_out_wait,
            sel
        ) && super::vec_settled(&self.row_busy)
            && super::vec_settled(&self.row_mac)
            && super::vec_settled(&self.row_zero)
            && super::vec_settled(&self.row_fread)
            && super::vec_settled(&self.row_fwrite)
            && super::vec_settled(&self.row_iread)
            && super::vec_settled(&self.row_iwrite)
            && super::vec_settled(&self.row_pacc)
            && super::vec_settled(&self.row_pcol)
            && super::vec_settled(&self.row_pwrite)
            && super::vec_settled(&self.row_ln)
            && super::vec_settled(&self.row_enabled)
    }
}
