//! What each module of a design costs on an FPGA family (`eyeriss-gen synth`): the design is
//! synthesized unflattened, so every module is mapped once, and each module's own cells (not
//! its submodules') are counted from the netlist and multiplied by its instances. Variants of
//! one module with different parameters (the PE's three FIFOs) are added up under its name.
//!
//! Unflattened numbers are an upper bound of the flattened build's: flattening propagates
//! constants across module boundaries (a GLB port that never writes, an LN choice that is a
//! register) and merges logic the instances share. They say where the logic is, which is what
//! an area change needs before and after.

use std::collections::BTreeMap;
use std::fs;
use std::time::Instant;

use serde::Serialize;

use super::{Family, FpgaError, StepFailure, Toolchain, fill, run_step, tail};
use crate::config::ArchConfig;
use crate::emit;
use crate::io_error::io_err;

/// The resources counted, in table order, with the toolchain's cell lists they come from.
pub const RESOURCES: [&str; 6] = ["luts", "carry", "lutram", "ffs", "bram", "multipliers"];

/// One module's cost, over all its instances.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleCost {
    /// The Verilog module (`eyeriss_pe`).
    pub module: String,
    pub instances: u64,
    /// Resource name (see [`RESOURCES`]) to cells, summed over the instances.
    pub cells: BTreeMap<&'static str, u64>,
}

impl ModuleCost {
    /// Cells of `resource` per instance (rounded).
    pub fn per_instance(&self, resource: &str) -> u64 {
        let n = self.cells.get(resource).copied().unwrap_or(0);
        (n as f64 / self.instances.max(1) as f64).round() as u64
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub config: String,
    pub config_hash: String,
    pub family: &'static str,
    /// Largest first, by LUTs.
    pub modules: Vec<ModuleCost>,
    pub total: BTreeMap<&'static str, u64>,
    pub yosys_seconds: f64,
    /// Synthesized flattened: every cell is the top's, so `modules` is the top alone.
    pub flat: bool,
}

/// Synthesize `cfg`'s design for `family` and count its cells: unflattened, each module's own
/// cells times its instances; `flat`, the whole design as the `fpga` verb maps it.
pub fn module_costs(
    cfg: &ArchConfig,
    family: Family,
    flat: bool,
    progress: bool,
) -> Result<CostReport, FpgaError> {
    let chain = Toolchain::load(family)?;
    let files = emit::render(cfg)?;
    let tmp = crate::output::StagingDir::new_in(&std::env::temp_dir(), "eyeriss-synth-").map_err(
        io_err("cannot create a work directory in", &std::env::temp_dir()),
    )?;
    let dir = tmp.path();
    let mut sources = Vec::new();
    for f in files.iter().filter(|f| f.path.ends_with(".v")) {
        let p = dir.join(&f.path);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(io_err("cannot create", d))?;
        }
        fs::write(&p, &f.contents).map_err(io_err("cannot write", &p))?;
        sources.push(f.path.clone());
    }
    let vars = BTreeMap::from([
        ("sources", sources.join(" ")),
        ("top", "eyeriss_top".to_string()),
        ("netlist", "netlist.json".to_string()),
        ("flatten", if flat { "" } else { "-noflatten" }.to_string()),
    ]);
    let script = dir.join("cost.ys");
    fs::write(&script, fill(&chain.cost.script, &vars)?)
        .map_err(io_err("cannot write", &script))?;
    let log = dir.join("yosys.log");
    let t = Instant::now();
    let (status, _peak) = match run_step(
        &chain.cost.program,
        &["-s".to_string(), "cost.ys".to_string()],
        dir,
        &log,
        &format!(
            "synthesizing '{}' {}",
            cfg.name,
            if flat { "flattened" } else { "per module" }
        ),
        progress,
    ) {
        Err(FpgaError::Spawn { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(FpgaError::ToolMissing {
                tool: chain.cost.program.clone(),
                family: family.as_str(),
                hint: "apt-get install yosys",
            });
        }
        other => other?,
    };
    let yosys_seconds = (t.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    if !status.success() {
        let kept = tmp.keep();
        return Err(FpgaError::StepFailed(Box::new(StepFailure {
            step: "synth (per module)".into(),
            program: chain.cost.program.clone(),
            status: status.to_string(),
            log: kept.join("yosys.log"),
            tail: tail(&kept.join("yosys.log"), 20),
            kept,
        })));
    }
    let netlist = dir.join("netlist.json");
    let text = fs::read_to_string(&netlist).map_err(io_err("cannot read", &netlist))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| FpgaError::Report {
        what: "Yosys netlist".into(),
        msg: e.to_string(),
    })?;
    let mut report = costs_of(&json, &chain, "eyeriss_top")?;
    report.config = cfg.name.clone();
    report.config_hash = cfg.hash();
    report.family = family.as_str();
    report.yosys_seconds = yosys_seconds;
    report.flat = flat;
    Ok(report)
}

/// Each module's cost from a Yosys JSON netlist whose top is `top`.
pub fn costs_of(
    netlist: &serde_json::Value,
    chain: &Toolchain,
    top: &str,
) -> Result<CostReport, FpgaError> {
    let bad = |msg: String| FpgaError::Report {
        what: "Yosys netlist".into(),
        msg,
    };
    let modules = netlist
        .get("modules")
        .and_then(|m| m.as_object())
        .ok_or_else(|| bad("no modules".into()))?;
    // cell type counts of each netlist module (a parameterized variant is a module of its own)
    // (cell library modules, LUT4 and the like, are blackboxes: cells, not modules, here)
    let own: BTreeMap<&str, BTreeMap<&str, u64>> = modules
        .iter()
        .filter(|(_, m)| {
            let attr = |a: &str| m.pointer(&format!("/attributes/{a}")).is_some();
            !attr("blackbox") && !attr("whitebox")
        })
        .map(|(name, m)| {
            let mut by_type = BTreeMap::new();
            for c in m
                .get("cells")
                .and_then(|c| c.as_object())
                .into_iter()
                .flat_map(|c| c.values())
            {
                if let Some(t) = c.get("type").and_then(|t| t.as_str()) {
                    *by_type.entry(t).or_insert(0u64) += 1;
                }
            }
            (name.as_str(), by_type)
        })
        .collect();
    let top_name = modules
        .keys()
        .find(|k| base_name(k) == top)
        .ok_or_else(|| bad(format!("no module {top}")))?;
    // instances of each variant, from the top down (each variant's count is final once every
    // module above it is done: walk in an order where parents come first)
    let mut count: BTreeMap<&str, u64> = BTreeMap::from([(top_name.as_str(), 1)]);
    let mut order = vec![top_name.as_str()];
    let mut i = 0;
    while i < order.len() {
        let m = order[i];
        for t in own[m].keys() {
            if own.contains_key(t) && !order.contains(t) {
                order.push(t);
            }
        }
        i += 1;
    }
    // a child may be reached before all its parents: sum the counts in a second pass over a
    // topological order (parents strictly before children)
    let order = topo(&order, &own);
    for m in &order {
        let n = count.get(m).copied().unwrap_or(0);
        for (t, k) in &own[m] {
            if own.contains_key(t) {
                *count.entry(t).or_insert(0) += n * k;
            }
        }
    }
    let mut by_module: BTreeMap<String, ModuleCost> = BTreeMap::new();
    for m in &order {
        let n = count.get(m).copied().unwrap_or(0);
        let name = base_name(m).to_string();
        let entry = by_module.entry(name.clone()).or_insert_with(|| ModuleCost {
            module: name,
            instances: 0,
            cells: RESOURCES.iter().map(|r| (*r, 0)).collect(),
        });
        entry.instances += n;
        for (resource, patterns) in chain.cells.groups() {
            let c: u64 = own[m]
                .iter()
                .filter(|(t, _)| matches(t, patterns))
                .map(|(_, k)| k)
                .sum();
            *entry.cells.entry(resource).or_insert(0) += c * n;
        }
    }
    let mut modules: Vec<ModuleCost> = by_module.into_values().collect();
    modules.sort_by(|a, b| {
        b.cells["luts"]
            .cmp(&a.cells["luts"])
            .then(a.module.cmp(&b.module))
    });
    let mut total: BTreeMap<&'static str, u64> = RESOURCES.iter().map(|r| (*r, 0)).collect();
    for m in &modules {
        for (r, n) in &m.cells {
            *total.entry(r).or_insert(0) += n;
        }
    }
    Ok(CostReport {
        config: String::new(),
        config_hash: String::new(),
        family: "",
        modules,
        total,
        yosys_seconds: 0.0,
        flat: false,
    })
}

/// Parents before children among `mods` (each module's children are the cell types that are
/// modules).
fn topo<'a>(mods: &[&'a str], own: &BTreeMap<&'a str, BTreeMap<&'a str, u64>>) -> Vec<&'a str> {
    let mut parents: BTreeMap<&str, usize> = mods.iter().map(|m| (*m, 0)).collect();
    for m in mods {
        for t in own[m].keys() {
            if let Some(p) = parents.get_mut(t) {
                *p += 1;
            }
        }
    }
    let mut ready: Vec<&str> = mods.iter().copied().filter(|m| parents[m] == 0).collect();
    let mut out = Vec::new();
    while let Some(m) = ready.pop() {
        out.push(m);
        for t in own[m].keys() {
            if let Some(p) = parents.get_mut(t) {
                *p -= 1;
                if *p == 0 {
                    ready.push(t);
                }
            }
        }
    }
    out
}

/// `$paramod$<hash>\eyeriss_fifo` and `$paramod\eyeriss_mc\ID_W=...` are `eyeriss_fifo` and
/// `eyeriss_mc`.
fn base_name(module: &str) -> &str {
    match module.strip_prefix("$paramod") {
        Some(rest) => rest.split('\\').nth(1).unwrap_or(rest),
        None => module.trim_start_matches('\\'),
    }
}

fn matches(cell: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => cell.starts_with(prefix),
        None => cell == p,
    })
}

impl CostReport {
    /// The table `eyeriss-gen synth` prints.
    pub fn table(&self) -> String {
        let mut s = if self.flat {
            format!(
                "'{}' ({}) synthesized flattened for {} in {:.1} s (the whole design, as the fpga verb's synth step maps it, without a board top)\n",
                self.config, self.config_hash, self.family, self.yosys_seconds
            )
        } else {
            format!(
                "'{}' ({}) per module, synthesized unflattened for {} in {:.1} s (each module's own cells, times its instances)\n",
                self.config, self.config_hash, self.family, self.yosys_seconds
            )
        };
        s.push_str(&format!(
            "{:<22} {:>6} {:>9} {:>7} {:>7} {:>8} {:>5} {:>5} {:>10}\n",
            "module", "inst", "LUTs", "carry", "LUT RAM", "FFs", "BRAM", "DSP", "LUTs/inst"
        ));
        let row = |name: &str, inst: String, c: &BTreeMap<&str, u64>, per: String| {
            format!(
                "{:<22} {:>6} {:>9} {:>7} {:>7} {:>8} {:>5} {:>5} {:>10}\n",
                name,
                inst,
                c["luts"],
                c["carry"],
                c["lutram"],
                c["ffs"],
                c["bram"],
                c["multipliers"],
                per
            )
        };
        for m in &self.modules {
            s.push_str(&row(
                &m.module,
                m.instances.to_string(),
                &m.cells,
                m.per_instance("luts").to_string(),
            ));
        }
        s.push_str(&row("total", String::new(), &self.total, String::new()));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_add_up_under_their_module_and_instances_multiply_down() {
        let chain = Toolchain::load(Family::Ecp5).unwrap();
        // top: 2 x mid_a + 1 x mid_b; mid_a: 3 x leaf (variant 1); mid_b: 1 x leaf (variant 2)
        let cell = |t: &str| serde_json::json!({ "type": t });
        let netlist = serde_json::json!({ "modules": {
            "eyeriss_top": { "cells": {
                "a0": cell("$paramod$11\\mid"), "a1": cell("$paramod$11\\mid"),
                "b": cell("$paramod$22\\mid"), "l": cell("LUT4") } },
            "$paramod$11\\mid": { "cells": {
                "x0": cell("$paramod\\leaf\\W=1"), "x1": cell("$paramod\\leaf\\W=1"),
                "x2": cell("$paramod\\leaf\\W=1"), "f": cell("TRELLIS_FF") } },
            "$paramod$22\\mid": { "cells": { "y": cell("$paramod\\leaf\\W=2") } },
            "$paramod\\leaf\\W=1": { "cells": { "l0": cell("LUT4"), "c": cell("CCU2C") } },
            "LUT4": { "attributes": { "blackbox": "1" }, "cells": {} },
            "$paramod\\leaf\\W=2": { "cells": {
                "l0": cell("LUT4"), "l1": cell("LUT4"), "m": cell("MULT18X18D") } },
        }});
        let r = costs_of(&netlist, &chain, "eyeriss_top").unwrap();
        let get = |m: &str| r.modules.iter().find(|x| x.module == m).unwrap();
        assert_eq!(get("mid").instances, 3);
        assert_eq!(
            get("mid").cells["ffs"],
            2,
            "2 instances of the variant with a FF"
        );
        assert_eq!(get("leaf").instances, 7, "2 x 3 + 1 x 1");
        assert_eq!(get("leaf").cells["luts"], 6 + 2);
        assert_eq!(get("leaf").cells["carry"], 6);
        assert_eq!(get("leaf").cells["multipliers"], 1);
        assert_eq!(r.total["luts"], 1 + 8);
        assert_eq!(r.modules[0].module, "leaf", "largest first");
    }

    #[test]
    fn base_names() {
        assert_eq!(
            base_name("$paramod$5c96\\eyeriss_gin_xbus"),
            "eyeriss_gin_xbus"
        );
        assert_eq!(
            base_name("$paramod\\eyeriss_mc\\ID_W=s32'0100"),
            "eyeriss_mc"
        );
        assert_eq!(base_name("eyeriss_top"), "eyeriss_top");
        assert_eq!(base_name("\\eyeriss_top"), "eyeriss_top");
    }
}
