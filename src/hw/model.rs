//! What every block model shares: the [`Model`] interface the differential harness and the
//! rust-hdl backend drive, the port description, and `model!`, which states a block's port
//! list once and derives the rest from it.
//!
//! A block states each port once, in template order, with its signal type and its width for
//! this instance, then its other fields:
//!
//! ```ignore
//! super::model! {
//!     pub struct RrArb<N>: "rr_arb", clocked;
//!     params(b) { N: b._n }
//!     ports(b) {
//!         rst: Signal<In, Bit> = 1,
//!         req: Signal<In, Bits<N>> = b._n,
//!         advance: Signal<In, Bit> = 1,
//!         gnt: Signal<Out, Bits<N>> = b._n,
//!     }
//!     state { mask: DFF<Bits<N>>, _n: u32 }
//! }
//! ```
//!
//! and gets the `#[derive(LogicBlock, Default)]` struct (with `clk` first for a clocked block
//! and `_ports` last), `with_ports` (the constructor's last step: the [`Port`] list, each
//! port's direction and element count read from its field's type), `connect_ports` (its
//! outputs, for `Logic::connect`), the [`Model`] impl with `set`/`get` dispatched by port
//! index, `eval`/`tick`, and the [`AtRest`] impl over every input. A port's value crosses the
//! interface cut to its width, as a Verilog port would cut it. A block that needs a struct of
//! its own (the top, whose `Block` is written out) uses the second form, without `struct`,
//! `state` and types, and gets the impls alone.

use rust_hdl::prelude::*;

use super::{HwError, bv, bv128, field, mask, mask128, put_field, u, word128};

/// Settle passes before a model is declared to oscillate. A block settles in a handful of
/// passes (one per level of combinational logic between registers plus one to see no change).
pub(crate) const MAX_SETTLE_PASSES: usize = 200;

/// Direction of a port, seen from the block.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Dir {
    In,
    Out,
}

/// One port of a block as the template declares it (the clock `clk` is not listed: it is
/// driven by [`Model::tick`] and by the harness).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: &'static str,
    /// Width in bits, as in the rendered Verilog.
    pub width: u32,
    pub dir: Dir,
    /// 1 for a plain signal; n when the model holds the vector as n signals of `width / n` bits.
    pub elems: u32,
}

impl Port {
    /// The port `name` of `width` bits held in `wire`, which gives its direction and elements.
    pub(crate) fn of<W: Wire>(name: &'static str, width: u32, wire: &W) -> Port {
        Port {
            name,
            width,
            dir: W::DIR,
            elems: wire.elems(),
        }
    }
    /// 64-bit words of this port's value.
    pub fn words(&self) -> usize {
        self.width.div_ceil(64) as usize
    }
}

/// A block model the differential tests can drive: ports by index in [`Model::ports`] order,
/// values as little-endian 64-bit words ([`Port::words`] of them).
pub trait Model {
    /// The template's name (`pe` for `templates/pe.v.tera`).
    fn block(&self) -> &'static str;
    /// Verilog parameters of the template instance this model stands for.
    fn params(&self) -> Vec<(&'static str, u64)>;
    fn ports(&self) -> &[Port];
    /// Whether the block has a `clk` input.
    fn clocked(&self) -> bool;
    /// Drive input `port` (an output is left alone), cut to the port's width.
    fn set(&mut self, port: usize, value: &[u64]);
    /// Read output `port` into zeroed words (for an input, the words are left as they are).
    fn get(&self, port: usize, value: &mut [u64]);
    /// Settle the combinational logic after inputs changed.
    fn eval(&mut self) -> Result<(), HwError>;
    /// One rising clock edge, then settle; the clock is low again before the next inputs.
    fn tick(&mut self) -> Result<(), HwError>;
    /// The rust-hdl block, for introspection and VCD.
    fn hdl(&self) -> &dyn Block;
    /// For a block with instances: its own ports (key "") and each instance's, keyed by the
    /// Rust field name as rust-hdl reports it (`u_pe$3` for element 3), for waveforms with
    /// the Verilog widths.
    fn instance_ports(&self) -> std::collections::HashMap<String, Vec<Port>> {
        std::collections::HashMap::from([(String::new(), self.ports().to_vec())])
    }
    /// The index of port `name` in [`Model::ports`].
    fn port_index(&self, name: &str) -> Option<usize> {
        self.ports().iter().position(|p| p.name == name)
    }
}

/// A block whose `update` reads only its inputs and its own state: once a pass changed
/// nothing in it and no input has a new value waiting, evaluating it again would repeat
/// itself, so a parent may pass over it (`top::Top` does, for speed).
pub trait AtRest: Block {
    /// No input has a new value waiting (`next` == `val`).
    fn inputs_settled(&self) -> bool;
}

/// A value a port carries: a bit or a bit vector, moved to and from little-endian words.
pub(crate) trait Value: Synth {
    /// The low `w` bits of `v`.
    fn load(v: &[u64], w: u32) -> Self;
    /// Into zeroed words, cut to `w` bits.
    fn store(self, w: u32, v: &mut [u64]);
    /// The low 64 bits.
    fn low(self) -> u64;
}

impl Value for Bit {
    fn load(v: &[u64], w: u32) -> Bit {
        w > 0 && v.first().is_some_and(|x| x & 1 != 0)
    }
    fn store(self, w: u32, v: &mut [u64]) {
        if let Some(x) = v.first_mut() {
            *x = (self && w > 0) as u64;
        }
    }
    fn low(self) -> u64 {
        self as u64
    }
}

impl<const N: usize> Value for Bits<N> {
    fn load(v: &[u64], w: u32) -> Bits<N> {
        if N <= 64 {
            bv(v.first().copied().unwrap_or(0) & mask(w))
        } else if N <= 128 {
            bv128(word128(v) & mask128(w))
        } else {
            let mut b = Bits::<N>::default();
            for i in 0..N.min(w as usize) {
                if v.get(i / 64).is_some_and(|x| (x >> (i % 64)) & 1 != 0) {
                    b = b.replace_bit(i, true);
                }
            }
            b
        }
    }
    fn store(self, w: u32, v: &mut [u64]) {
        if N <= 64 {
            if let Some(x) = v.first_mut() {
                *x = u(self) & mask(w);
            }
        } else if N <= 128 {
            let x = self.to_u128() & mask128(w);
            for (i, word) in v.iter_mut().take(2).enumerate() {
                *word = (x >> (64 * i)) as u64;
            }
        } else {
            for i in 0..N.min(w as usize) {
                if self.get_bit(i)
                    && let Some(x) = v.get_mut(i / 64)
                {
                    *x |= 1 << (i % 64);
                }
            }
        }
    }
    fn low(self) -> u64 {
        u(self)
    }
}

/// A port's signal as a block holds it: one signal, or a vector port split into one signal
/// per element (element `k` is bits `[k*w, k*w+w)` of the Verilog vector, `w` at most 64).
pub(crate) trait Wire {
    const DIR: Dir;
    fn elems(&self) -> u32 {
        1
    }
    /// Drive an input from the port's `w`-bit value (an output ignores it).
    fn load(&mut self, _w: u32, _v: &[u64]) {}
    /// An output's value into zeroed words (an input stores nothing).
    fn store(&self, _w: u32, _v: &mut [u64]) {}
    /// No new input value waits (an output is always settled).
    fn settled(&self) -> bool {
        true
    }
    /// Mark an output as driven by this block (rust-hdl's `Logic::connect`).
    fn drive(&mut self) {}
}

impl<T: Value> Wire for Signal<In, T> {
    const DIR: Dir = Dir::In;
    fn load(&mut self, w: u32, v: &[u64]) {
        self.next = T::load(v, w);
    }
    fn settled(&self) -> bool {
        self.next == self.val()
    }
}

impl<T: Value> Wire for Signal<Out, T> {
    const DIR: Dir = Dir::Out;
    fn store(&self, w: u32, v: &mut [u64]) {
        self.val().store(w, v);
    }
    fn drive(&mut self) {
        self.connect();
    }
}

/// The width of each of `n` elements of a `w`-bit port.
fn elem_width(w: u32, n: usize) -> u32 {
    if n == 0 { 0 } else { w / n as u32 }
}

impl<T: Value> Wire for Vec<Signal<In, T>> {
    const DIR: Dir = Dir::In;
    fn elems(&self) -> u32 {
        self.len() as u32
    }
    fn load(&mut self, w: u32, v: &[u64]) {
        let ew = elem_width(w, self.len());
        for (k, s) in self.iter_mut().enumerate() {
            s.next = T::load(&[field(v, k, ew)], ew);
        }
    }
    fn settled(&self) -> bool {
        self.iter().all(|s| s.next == s.val())
    }
}

impl<T: Value> Wire for Vec<Signal<Out, T>> {
    const DIR: Dir = Dir::Out;
    fn elems(&self) -> u32 {
        self.len() as u32
    }
    fn store(&self, w: u32, v: &mut [u64]) {
        let ew = elem_width(w, self.len());
        for (k, s) in self.iter().enumerate() {
            put_field(v, k, ew, s.val().low());
        }
    }
    fn drive(&mut self) {
        for s in self {
            s.connect();
        }
    }
}

pub(crate) fn settle<B: Block>(b: &mut B, block: &'static str) -> Result<(), HwError> {
    if simulate(b, MAX_SETTLE_PASSES) {
        Ok(())
    } else {
        Err(HwError::NoSettle { block })
    }
}

/// Rising edge on `clk`, settle, and take the clock low again (no block acts on the falling
/// edge, so the low level is settled together with the next cycle's inputs).
pub(crate) fn clock_edge<B: Block>(
    b: &mut B,
    clk: fn(&mut B) -> &mut Signal<In, Clock>,
    block: &'static str,
) -> Result<(), HwError> {
    clk(b).next = Clock { clk: true };
    settle(b, block)?;
    clk(b).next = Clock { clk: false };
    Ok(())
}

/// A block's port list, stated once in template order, and everything derived from it (see
/// the module comment). `clocked` blocks have a `clk` field that `tick` drives;
/// `combinational` ones have none. A block that needs more in its `Model` impl (the top's
/// instance ports) lists those items after `extra`.
macro_rules! model {
    (
        $(#[$m:meta])*
        $vis:vis struct $ty:ident $(<$g:ident>)? : $name:literal, $kind:ident;
        params($pb:ident) { $($param:ident : $pv:expr),* $(,)? }
        ports($b:ident) { $( $(#[$pm:meta])* $port:ident : $pt:ty = $w:expr ),+ $(,)? }
        state { $( $(#[$sm:meta])* $sf:ident : $st:ty ),* $(,)? }
    ) => {
        $crate::hw::model::model!(@struct $kind
            [$(#[$m])*] $vis $ty [$($g)?]
            [$( [$(#[$pm])*] $port : $pt ),+]
            [$( [$(#[$sm])*] $sf : $st ),*]
        );
        $crate::hw::model::model! {
            $ty $(<$g>)? : $name, $kind;
            params($pb) { $($param : $pv),* }
            ports($b) { $($port : $w),+ }
        }
    };
    (
        $ty:ident $(<$g:ident>)? : $name:literal, $kind:ident;
        params($pb:ident) { $($param:ident : $pv:expr),* $(,)? }
        ports($b:ident) { $($port:ident : $w:expr),+ $(,)? }
        $(extra { $($extra:item)* })?
    ) => {
        impl<$(const $g: usize)?> $ty<$($g)?> {
            /// The ports in template order, with this instance's widths.
            fn port_list(&self) -> Vec<$crate::hw::Port> {
                let $b = self;
                vec![$($crate::hw::Port::of(stringify!($port), ($w) as u32, &$b.$port)),+]
            }
            /// This instance with its port list filled in (the constructor's last step, once
            /// the fields the widths depend on are set).
            fn with_ports(mut self) -> Self {
                self._ports = self.port_list();
                self
            }
            /// Mark every output as driven (for `Logic::connect`).
            fn connect_ports(&mut self) {
                $( $crate::hw::model::Wire::drive(&mut self.$port); )+
            }
        }

        impl<$(const $g: usize)?> $crate::hw::Model for $ty<$($g)?> {
            fn block(&self) -> &'static str {
                $name
            }
            fn params(&self) -> Vec<(&'static str, u64)> {
                let $pb = self;
                let _ = $pb;
                vec![$((stringify!($param), ($pv) as u64)),*]
            }
            fn ports(&self) -> &[$crate::hw::Port] {
                &self._ports
            }
            fn clocked(&self) -> bool {
                $crate::hw::model::model!(@clocked $kind)
            }
            fn set(&mut self, port: usize, v: &[u64]) {
                #[allow(non_camel_case_types, dead_code)]
                enum At { $($port),+ }
                let Some(w) = self._ports.get(port).map(|p| p.width) else { return };
                $( if port == At::$port as usize {
                    return $crate::hw::model::Wire::load(&mut self.$port, w, v);
                } )+
            }
            fn get(&self, port: usize, v: &mut [u64]) {
                #[allow(non_camel_case_types, dead_code)]
                enum At { $($port),+ }
                let Some(w) = self._ports.get(port).map(|p| p.width) else { return };
                $( if port == At::$port as usize {
                    return $crate::hw::model::Wire::store(&self.$port, w, v);
                } )+
            }
            fn eval(&mut self) -> Result<(), $crate::hw::HwError> {
                $crate::hw::model::settle(self, $name)
            }
            fn tick(&mut self) -> Result<(), $crate::hw::HwError> {
                $crate::hw::model::model!(@tick $kind, self, $name)
            }
            fn hdl(&self) -> &dyn rust_hdl::prelude::Block {
                self
            }
            $($($extra)*)?
        }

        impl<$(const $g: usize)?> $crate::hw::AtRest for $ty<$($g)?> {
            fn inputs_settled(&self) -> bool {
                $crate::hw::model::model!(@clk_settled $kind, self)
                    $( && $crate::hw::model::Wire::settled(&self.$port) )+
            }
        }
    };
    (@struct clocked $($rest:tt)*) => {
        $crate::hw::model::model!(@emit [pub clk: Signal<In, Clock>,] $($rest)*);
    };
    (@struct combinational $($rest:tt)*) => {
        $crate::hw::model::model!(@emit [] $($rest)*);
    };
    (@emit [$($clk:tt)*] [$($m:tt)*] $vis:vis $ty:ident [$($g:ident)?]
        [$( [$($pm:tt)*] $port:ident : $pt:ty ),+]
        [$( [$($sm:tt)*] $sf:ident : $st:ty ),*]
    ) => {
        $($m)*
        #[derive(rust_hdl::prelude::LogicBlock, Default)]
        $vis struct $ty<$(const $g: usize)?> {
            $($clk)*
            $( $($pm)* pub $port: $pt, )+
            $( $($sm)* $sf: $st, )*
            _ports: Vec<$crate::hw::Port>,
        }
    };
    (@clocked clocked) => { true };
    (@clocked combinational) => { false };
    (@tick clocked, $s:ident, $name:literal) => {
        $crate::hw::model::clock_edge($s, |b| &mut b.clk, $name)
    };
    (@tick combinational, $s:ident, $name:literal) => {{
        let _ = $s;
        Ok(())
    }};
    (@clk_settled clocked, $s:ident) => { $s.clk.next == $s.clk.val() };
    (@clk_settled combinational, $s:ident) => { true };
}
pub(crate) use model;

#[cfg(test)]
mod tests {
    use super::super::gin::Gin;
    use super::super::rr_arb::RrArb;
    use super::*;

    #[test]
    fn port_list_reads_direction_and_elements_from_the_field_types() {
        let g = Gin::new(2, 3, 4, 5).expect("gin");
        let p: Vec<(&str, u32, Dir, u32)> = g
            .ports()
            .iter()
            .map(|p| (p.name, p.width, p.dir, p.elems))
            .collect();
        assert_eq!(
            p,
            [
                ("in_valid", 1, Dir::In, 1),
                ("in_ready", 1, Dir::Out, 1),
                ("row_tag", 4, Dir::In, 1),
                ("col_tag", 5, Dir::In, 1),
                ("row_ids", 8, Dir::In, 2),
                ("col_ids", 30, Dir::In, 6),
                ("pe_ready", 6, Dir::In, 6),
                ("pe_valid", 6, Dir::Out, 6),
            ]
        );
        assert!(!g.clocked());
        assert_eq!(g.port_index("col_ids"), Some(5));
    }

    #[test]
    fn values_are_cut_to_the_port_width_both_ways() {
        let mut a = RrArb::<64>::new(5).expect("rr_arb");
        let (rst, req, gnt) = (0, 1, 3);
        a.set(rst, &[1]);
        a.tick().expect("tick");
        a.set(rst, &[0]);
        // bits above the port's 5 are not the block's to see
        a.set(req, &[!0b11111 | 0b00100]);
        a.eval().expect("eval");
        let mut v = [0u64];
        a.get(gnt, &mut v);
        assert_eq!(v, [0b00100]);
        // reading an input leaves the words alone; an unknown index is ignored
        let mut w = [7u64];
        a.get(req, &mut w);
        assert_eq!(w, [7]);
        a.set(99, &[1]);
        assert!(a.inputs_settled());
        a.set(req, &[0b00010]);
        assert!(!a.inputs_settled());
    }

    #[test]
    fn split_vectors_round_trip_across_words() {
        let mut w: Vec<Signal<In, Bits<8>>> = super::super::many(12);
        // 12 fields of 6 bits: field 10 straddles the first word boundary
        let v = [0x0123_4567_89ab_cdefu64, 0x0fed];
        w.load(72, &v);
        for (k, s) in w.iter().enumerate() {
            assert_eq!(u(s.next), field(&v, k, 6), "field {k}");
        }
        assert_eq!(w.elems(), 12);
    }
}
