//! VCD waveforms of the rust-hdl model under the names Verilator gives the same signals, so a
//! waveform of either backend opens the same way: the harness instance `top` with the top's
//! ports, then `eyeriss_top` and its instances (`u_ctrl`, `g_row[2].g_col[5].u_pe`, ...).
//!
//! rust-hdl's own VCD writer names the tree as the Rust structs are built; this one renames it:
//! - a register (`DFF`, whose `d`, `q` and `clock` rust-hdl would show as a scope) becomes one
//!   signal, its `q`, under the register's name, as the template's `reg`;
//! - a signal the model splits into elements (`pe_ready$0`, `pe_ready$1`, ...) is joined back
//!   into the template's vector (`pe_ready [11:0]`), element n at bit n x width;
//! - an instance in a generate loop (`u_pe$17` in a 3 x 4 array) gets the template's generate
//!   scopes (`g_row[1].g_col[1].u_pe`, see [`generate_scope`]).
//!
//! Memories (spads, FIFO storage, GLB banks) are not traced; Verilator leaves large arrays out
//! of its traces as well.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::hw::Port;
use rust_hdl::prelude::{Atom, Block, Probe};
use vcd::{IdCode, ReferenceIndex, TimescaleUnit, Value, VarType};

/// The harness's instance name for the model (`new Veyeriss_top(ctx, "top")`).
const HARNESS_SCOPE: &str = "top";
const TOP_MODULE: &str = "eyeriss_top";

/// The block tree as rust-hdl reports it.
#[derive(Default)]
struct Node {
    name: String,
    /// (name, atom id, bits)
    atoms: Vec<(String, usize, u32)>,
    kids: Vec<Node>,
}

impl Node {
    /// A DFF: the three atoms of rust-hdl's `DFF`, nothing else.
    fn register_q(&self) -> Option<(usize, u32)> {
        if !self.kids.is_empty() || self.atoms.len() != 3 {
            return None;
        }
        let mut names: Vec<&str> = self.atoms.iter().map(|a| a.0.as_str()).collect();
        names.sort_unstable();
        if names != ["clock", "d", "q"] {
            return None;
        }
        self.atoms
            .iter()
            .find(|a| a.0 == "q")
            .map(|&(_, id, bits)| (id, bits))
    }
}

struct TreeProbe {
    stack: Vec<Node>,
    root: Option<Node>,
}

impl Probe for TreeProbe {
    fn visit_start_scope(&mut self, name: &str, _node: &dyn Block) {
        self.stack.push(Node {
            name: name.to_string(),
            ..Node::default()
        });
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        if let Some(n) = self.stack.pop() {
            match self.stack.last_mut() {
                Some(parent) => parent.kids.push(n),
                None => self.root = Some(n),
            }
        }
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if let Some(n) = self.stack.last_mut() {
            n.atoms
                .push((name.to_string(), signal.id(), signal.bits() as u32));
        }
    }
}

/// `base$i` as (base, i).
fn split_index(name: &str) -> (&str, Option<usize>) {
    match name.split_once('$') {
        Some((b, i)) => (b, i.parse().ok()),
        None => (name, None),
    }
}

/// The template's generate scopes around element `i` of the instance vector `base`, given the
/// array's column count.
fn generate_scope(base: &str, i: usize, cols: usize) -> Vec<String> {
    match base {
        "u_pe" | "u_ln" => vec![
            format!("g_row[{}]", i / cols.max(1)),
            format!("g_col[{}]", i % cols.max(1)),
        ],
        "u_gon_xbus" | "u_counters_row" | "u_ymc" | "u_xbus" => vec![format!("g_row[{i}]")],
        "u_mc" => vec![format!("g_col[{i}]")],
        "u_bank" => vec![format!("g_bank[{i}]")],
        _ => vec![format!("g_{base}[{i}]")],
    }
}

/// One traced signal: its parts are (atom id, bit offset, bits kept: the low bits of the
/// atom's value that belong to the Verilog signal).
struct Var {
    name: String,
    width: u32,
    id: IdCode,
    parts: Vec<(usize, u32, u32)>,
}

#[derive(Default)]
struct Scope {
    name: String,
    vars: Vec<usize>,
    scopes: Vec<Scope>,
}

impl Scope {
    fn child(&mut self, name: &str) -> &mut Scope {
        let k = match self.scopes.iter().position(|s| s.name == name) {
            Some(k) => k,
            None => {
                self.scopes.push(Scope {
                    name: name.to_string(),
                    ..Scope::default()
                });
                self.scopes.len() - 1
            }
        };
        &mut self.scopes[k]
    }
}

/// Writes a VCD of a rust-hdl block tree, sample by sample.
pub struct VcdWriter<W: Write> {
    vcd: vcd::Writer<W>,
    vars: Vec<Var>,
    /// atom id -> (var, bit offset)
    by_atom: HashMap<usize, (usize, u32, u32)>,
    cur: Vec<Vec<Value>>,
    last: Vec<Option<Vec<Value>>>,
    error: Option<io::Error>,
}

impl<W: Write> VcdWriter<W> {
    /// Write the header for `top` (the model of `eyeriss_top`, an array with `cols` columns).
    /// `ports` gives the Verilog ports of the top (key "") and of its instances (keyed by the
    /// Rust field name, `u_pe$3` for element 3), so that their signals get the Verilog widths
    /// rather than the model's wider signal types.
    pub fn new(
        w: W,
        top: &dyn Block,
        cols: usize,
        ports: &HashMap<String, Vec<Port>>,
    ) -> io::Result<VcdWriter<W>> {
        let mut probe = TreeProbe {
            stack: Vec::new(),
            root: None,
        };
        top.accept(TOP_MODULE, &mut probe);
        let root = probe.root.unwrap_or_default();
        let mut vars = Vec::new();
        let mut scope = Scope {
            name: TOP_MODULE.into(),
            ..Scope::default()
        };
        let own = ports.get("").map(Vec::as_slice);
        collect(&root, &mut scope, &mut vars, cols, own, Some(ports));
        // the harness scope shows the top's ports, as Verilator does
        let ports: Vec<usize> = root
            .atoms
            .iter()
            .filter_map(|(n, _, _)| vars.iter().position(|v: &Var| &v.name == n))
            .collect();

        let mut vcd = vcd::Writer::new(w);
        vcd.timescale(1, TimescaleUnit::PS)?;
        vcd.add_module(HARNESS_SCOPE)?;
        for &k in &ports {
            def(&mut vcd, &vars[k])?;
        }
        write_scope(&mut vcd, &scope, &vars)?;
        vcd.upscope()?;
        vcd.enddefinitions()?;

        let mut by_atom = HashMap::new();
        for (k, v) in vars.iter().enumerate() {
            for &(atom, off, keep) in &v.parts {
                by_atom.insert(atom, (k, off, keep));
            }
        }
        let cur = vars
            .iter()
            .map(|v| vec![Value::V0; v.width as usize])
            .collect();
        let last = vars.iter().map(|_| None).collect();
        Ok(VcdWriter {
            vcd,
            vars,
            by_atom,
            cur,
            last,
            error: None,
        })
    }

    /// Record every signal of `top` at `time`; only changed values are written.
    pub fn sample(&mut self, time: u64, top: &dyn Block) {
        if self.error.is_some() {
            return;
        }
        struct Sampler<'a> {
            by_atom: &'a HashMap<usize, (usize, u32, u32)>,
            cur: &'a mut Vec<Vec<Value>>,
        }
        impl Probe for Sampler<'_> {
            fn visit_atom(&mut self, _name: &str, signal: &dyn Atom) {
                let Some(&(k, off, keep)) = self.by_atom.get(&signal.id()) else {
                    return;
                };
                let bits = &mut self.cur[k];
                let w = bits.len();
                let mut put = |lsb_index: usize, v: Value| {
                    // `bits` is MSB first, as VCD writes vectors
                    let at = off as usize + lsb_index;
                    if lsb_index < keep as usize && at < w {
                        bits[w - 1 - at] = v;
                    }
                };
                match signal.vcd() {
                    rust_hdl::core::synth::VCDValue::Single(v) => put(0, v),
                    rust_hdl::core::synth::VCDValue::Vector(vs) => {
                        let n = vs.len();
                        for (i, v) in vs.into_iter().enumerate() {
                            put(n - 1 - i, v);
                        }
                    }
                    _ => {}
                }
            }
        }
        top.accept(
            TOP_MODULE,
            &mut Sampler {
                by_atom: &self.by_atom,
                cur: &mut self.cur,
            },
        );
        if let Err(e) = self.write_changes(time) {
            self.error = Some(e);
        }
    }

    fn write_changes(&mut self, time: u64) -> io::Result<()> {
        self.vcd.timestamp(time)?;
        for (k, v) in self.vars.iter().enumerate() {
            if self.last[k].as_ref() == Some(&self.cur[k]) {
                continue;
            }
            if v.width == 1 {
                self.vcd.change_scalar(v.id, self.cur[k][0])?;
            } else {
                self.vcd.change_vector(v.id, &self.cur[k])?;
            }
            self.last[k] = Some(self.cur[k].clone());
        }
        Ok(())
    }

    /// The first write error of the run, if any (the caller flushes the writer it lent).
    pub fn finish(mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn def<W: Write>(vcd: &mut vcd::Writer<W>, v: &Var) -> io::Result<()> {
    let index = (v.width > 1).then(|| ReferenceIndex::Range(v.width - 1, 0));
    vcd.var_def(VarType::Wire, v.width, v.id, &v.name, index)
}

fn write_scope<W: Write>(vcd: &mut vcd::Writer<W>, s: &Scope, vars: &[Var]) -> io::Result<()> {
    vcd.add_module(&s.name)?;
    for &k in &s.vars {
        def(vcd, &vars[k])?;
    }
    for c in &s.scopes {
        write_scope(vcd, c, vars)?;
    }
    vcd.upscope()
}

/// Element index, atom id, bits.
type Elem = (usize, usize, u32);

/// Turn `node`'s atoms, registers and instances into `scope`'s vars and subscopes. `mine` are
/// the node's Verilog ports, if known; `kids` (at the top only) the ports of its instances by
/// Rust field name (see [`VcdWriter::new`]).
fn collect(
    node: &Node,
    scope: &mut Scope,
    vars: &mut Vec<Var>,
    cols: usize,
    mine: Option<&[Port]>,
    kids: Option<&HashMap<String, Vec<Port>>>,
) {
    let is_top = kids.is_some();
    // signals and registers by name; elements of a split vector share their base name
    let mut signals: Vec<(String, Vec<Elem>)> = Vec::new();
    let mut add = |name: &str, atom: usize, bits: u32| {
        let (base, i) = split_index(name);
        let elem = (i.unwrap_or(0), atom, bits);
        match signals.iter_mut().find(|(n, _)| n == base) {
            Some((_, parts)) => parts.push(elem),
            None => signals.push((base.to_string(), vec![elem])),
        }
    };
    for (name, atom, bits) in &node.atoms {
        add(name, *atom, *bits);
    }
    let mut blocks = Vec::new();
    for kid in &node.kids {
        match kid.register_q() {
            Some((atom, bits)) => add(&kid.name, atom, bits),
            None => blocks.push(kid),
        }
    }
    for (name, mut parts) in signals {
        parts.sort_unstable_by_key(|p| p.0);
        let n = parts.last().map_or(1, |p| p.0 + 1) as u32;
        // a Verilog port: its width, split evenly over the elements; otherwise the model's
        let (w, width) = match mine.and_then(|ps| ps.iter().find(|p| p.name == name)) {
            Some(p) => (p.width / p.elems.max(1), p.width),
            None => {
                let w = parts.iter().map(|p| p.2).max().unwrap_or(1);
                (w, w * n)
            }
        };
        let id = IdCode::from(vars.len() as u64);
        scope.vars.push(vars.len());
        vars.push(Var {
            name,
            width,
            id,
            parts: parts
                .iter()
                .map(|&(i, atom, bits)| (atom, i as u32 * w, bits.min(w)))
                .collect(),
        });
    }
    for kid in blocks {
        let (base, i) = split_index(&kid.name);
        let mut s = &mut *scope;
        if let Some(i) = i {
            let cols = if is_top { cols } else { 1 };
            for g in generate_scope(base, i, cols) {
                s = s.child(&g);
            }
        }
        let s = s.child(base);
        let ports = kids.and_then(|k| k.get(&kid.name)).map(Vec::as_slice);
        collect(kid, s, vars, cols, ports, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_scopes_follow_the_templates() {
        assert_eq!(generate_scope("u_pe", 17, 4), ["g_row[4]", "g_col[1]"]);
        assert_eq!(generate_scope("u_counters_row", 2, 4), ["g_row[2]"]);
        assert_eq!(generate_scope("u_mc", 3, 1), ["g_col[3]"]);
    }
}
