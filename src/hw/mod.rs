//! rust-hdl models of the generated blocks (issue 4): one file per template, `src/hw/<block>.rs`
//! beside `templates/<block>.v.tera`, with the template's ports (same names), the same registers
//! and the same cycle behaviour, so the two can be compared output for output on every cycle
//! (the differential harness, `src/sim/diff.rs`).
//!
//! How the models use rust-hdl, and why:
//! - Every block is a `#[derive(LogicBlock)]` struct declared through [`model!`](model) (its
//!   port list stated once; `src/hw/model.rs`): ports are `Signal<In|Out, _>`, registers are
//!   `DFF`s clocked by the block's `clk`, submodules are child blocks, and the whole tree is
//!   evaluated by rust-hdl's own settle-until-stable loop (`simulate`). Memories (spads, FIFO
//!   storage) are arrays held by the block and written on the clock edge, as rust-hdl's `RAM`
//!   widget holds its contents.
//! - Widths and depths come from the [`ArchConfig`](crate::config::ArchConfig) at run time, but a
//!   rust-hdl `Bits<N>` has a compile-time width. Each signal is therefore declared at the
//!   largest width the config validation allows, and each block masks its values to the runtime
//!   width the template would have. This is also why `update` is plain Rust rather than
//!   `#[hdl_gen]`: the HDL subset cannot index a runtime-sized memory by a register or hold the
//!   runtime masks in locals. The Verilog stays the templates' job (rust-hdl's own output makes
//!   one module per instance and always names the top `top`).
//! - Values are unsigned `Bits`; the PE's signed product is formed from the two's-complement
//!   bits by hand (rust-hdl's `Signed` simulates through a big integer).
//! - A Verilog vector of per-PE (or per-column) fields, such as `gin.pe_ready` or `gin.col_ids`,
//!   is a `Vec` of signals in the model, element `n` being the field at bit `n * field width`.
//!   [`Port::elems`] records the split, so the port still has the template's name and width.
//!
//! The models are driven directly (inputs, then [`Model::eval`], then [`Model::tick`]), not
//! through rust-hdl's threaded testbench, which tops out near 2k cycles/s.

pub mod controller;
pub mod counters;
pub mod counters_row;
pub mod drain;
pub mod fifo;
pub mod gin;
pub mod gin_xbus;
pub mod glb;
pub mod glb_bank;
pub mod gon;
pub mod gon_xbus;
pub mod ln;
pub mod mc;
pub mod model;
pub mod pe;
pub mod rr_arb;
pub mod stream;
pub mod top;

use rust_hdl::prelude::*;

pub use model::{AtRest, Dir, Model, Port};
pub(crate) use model::{MAX_SETTLE_PASSES, model};
pub use rust_hdl::prelude::AtomKind;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HwError {
    #[error(
        "block {block}: the model did not settle within {MAX_SETTLE_PASSES} evaluation passes (a combinational loop)"
    )]
    NoSettle { block: &'static str },
    #[error("block {block}: parameter {param} = {value}: {limit}")]
    Param {
        block: &'static str,
        param: &'static str,
        value: u64,
        limit: String,
    },
}

/// Every atom at the top level of a rust-hdl block, as (name, kind, bits); a `Vec` element
/// `name$i` is reported under `name`, once per element.
pub fn top_atoms(block: &dyn Block) -> Vec<(String, AtomKind, usize)> {
    struct P {
        depth: usize,
        atoms: Vec<(String, AtomKind, usize)>,
    }
    impl Probe for P {
        fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
            self.depth += 1;
        }
        fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
            self.depth -= 1;
        }
        fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
            if self.depth == 1 {
                let base = name.split('$').next().unwrap_or(name).to_string();
                self.atoms.push((base, signal.kind(), signal.bits()));
            }
        }
    }
    let mut p = P {
        depth: 0,
        atoms: Vec::new(),
    };
    block.accept("top", &mut p);
    p.atoms
}

/// `eyeriss_top`'s GLB_ADDR_W: word-address bits of the global buffer (at least one bank bit).
/// Bits of a STREAM row's length (the template's STREAM_LEN_W): every element of the GLB's
/// address space in the smallest element, and one more. The controller refuses longer rows.
pub fn stream_len_w(cfg: &crate::config::ArchConfig) -> u32 {
    glb_addr_w(cfg) + clog2(64 / cfg.data.data_width as u64) + 1
}

pub fn glb_addr_w(cfg: &crate::config::ArchConfig) -> u32 {
    clog2(cfg.glb.bank_words as u64)
        + if cfg.glb.banks > 1 {
            clog2(cfg.glb.banks as u64)
        } else {
            1
        }
}

/// Verilog's `$clog2`.
pub fn clog2(x: u64) -> u32 {
    if x <= 1 {
        0
    } else {
        64 - (x - 1).leading_zeros()
    }
}

/// The low `w` bits set.
pub(crate) fn mask(w: u32) -> u64 {
    if w >= 64 { u64::MAX } else { (1u64 << w) - 1 }
}

pub(crate) fn mask128(w: u32) -> u128 {
    if w >= 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    }
}

/// A value into `Bits<N>` (the high bits beyond N dropped).
pub(crate) fn bv<const N: usize>(v: u64) -> Bits<N> {
    Bits::from(v & mask(N as u32))
}

/// A value of up to 128 bits into `Bits<N>`, without rust-hdl's big-integer path.
pub(crate) fn bv128<const N: usize>(v: u128) -> Bits<N> {
    let v = v & mask128(N as u32);
    if N <= 64 {
        Bits::from(v as u64)
    } else {
        (Bits::<N>::from((v >> 64) as u64) << 64) | Bits::<N>::from(v as u64)
    }
}

pub(crate) fn u<const N: usize>(b: Bits<N>) -> u64 {
    b.to_u128() as u64
}

/// Bits `[i*w, i*w+w)` of a little-endian word vector (w <= 64).
pub(crate) fn field(words: &[u64], i: usize, w: u32) -> u64 {
    let lo = i * w as usize;
    let (wi, bi) = (lo / 64, lo % 64);
    let mut v = words.get(wi).copied().unwrap_or(0) >> bi;
    if bi != 0 && bi + w as usize > 64 {
        v |= words.get(wi + 1).copied().unwrap_or(0) << (64 - bi);
    }
    v & mask(w)
}

/// Store `v` as bits `[i*w, i*w+w)` of a zeroed little-endian word vector (w <= 64).
pub(crate) fn put_field(words: &mut [u64], i: usize, w: u32, v: u64) {
    let v = v & mask(w);
    let lo = i * w as usize;
    let (wi, bi) = (lo / 64, lo % 64);
    if let Some(x) = words.get_mut(wi) {
        *x |= v << bi;
    }
    if bi != 0
        && bi + w as usize > 64
        && let Some(x) = words.get_mut(wi + 1)
    {
        *x |= v >> (64 - bi);
    }
}

/// A value of up to 128 bits from words.
pub(crate) fn word128(words: &[u64]) -> u128 {
    words.first().copied().unwrap_or(0) as u128 | (words.get(1).copied().unwrap_or(0) as u128) << 64
}

/// A value of any width from words (bits beyond N dropped).
pub(crate) fn from_words<const N: usize>(w: &[u64]) -> Bits<N> {
    if N <= 128 {
        return bv128(word128(w));
    }
    let mut b = Bits::<N>::default();
    for i in 0..N {
        if w.get(i / 64).is_some_and(|x| (x >> (i % 64)) & 1 != 0) {
            b = b.replace_bit(i, true);
        }
    }
    b
}

/// A value of any width into zeroed words.
pub(crate) fn to_words<const N: usize>(b: Bits<N>, w: &mut [u64]) {
    if N <= 128 {
        let v = b.to_u128();
        for (i, x) in w.iter_mut().take(2).enumerate() {
            *x = (v >> (64 * i)) as u64;
        }
        return;
    }
    for i in 0..N {
        if b.get_bit(i)
            && let Some(x) = w.get_mut(i / 64)
        {
            *x |= 1 << (i % 64);
        }
    }
}

/// `n` default values (the signals of a split vector port, a vector of registers).
pub(crate) fn many<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

/// The low `n` bits of a `Bits<N>` set.
pub(crate) fn ones<const N: usize>(n: u32) -> Bits<N> {
    let words: Vec<u64> = (0..N.div_ceil(64))
        .map(|i| mask(n.saturating_sub(64 * i as u32)))
        .collect();
    from_words(&words)
}

/// Drive every listed register's clock from `$clk`.
macro_rules! clock_regs {
    ($s:ident, $clk:expr, $($r:ident),+ $(,)?) => {
        $( $s.$r.clock.next = $clk; )+
    };
}
pub(crate) use clock_regs;

/// Every listed register keeps its value (its `d` is its `q`).
macro_rules! hold_regs {
    ($s:ident, $($r:ident),+ $(,)?) => {
        $( $s.$r.d.next = $s.$r.q.val(); )+
    };
}
pub(crate) use hold_regs;

pub(crate) fn check_param(
    block: &'static str,
    param: &'static str,
    value: u64,
    lo: u64,
    hi: u64,
) -> Result<(), HwError> {
    if value < lo || value > hi {
        Err(HwError::Param {
            block,
            param,
            value,
            limit: format!("the model supports {lo}..={hi}"),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clog2_matches_verilog() {
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 224, 256, 257].map(clog2),
            [0, 0, 1, 2, 2, 3, 8, 8, 9]
        );
    }

    #[test]
    fn fields_cross_word_boundaries() {
        let mut w = [0u64; 2];
        put_field(&mut w, 12, 5, 0b10111); // bits 60..65
        assert_eq!(field(&w, 12, 5), 0b10111);
        assert_eq!(w, [0b0111 << 60, 0b1]);
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        let e = fifo::Fifo::<128>::new(8, 6).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("block fifo: parameter DEPTH = 6: must be a power of two")
        );
        let e = rr_arb::RrArb::<64>::new(65).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("block rr_arb: parameter N = 65: the model supports 1..=64")
        );
    }

    #[test]
    fn bits_round_trip_128() {
        let v = 0x1234_5678_9abc_def0_0fed_cba9_8765_4321u128;
        assert_eq!(bv128::<128>(v).to_u128(), v);
        assert_eq!(bv128::<69>(v).to_u128(), v & mask128(69));
    }
}
