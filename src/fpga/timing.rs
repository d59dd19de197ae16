//! nextpnr's critical paths, told in the design's own terms: each path's start and end cell,
//! the generated module each sits in (from the `src` attribute Yosys keeps on the cell in the
//! netlist, `eyeriss_<module>.v:line`), and how much of its delay is logic and how much
//! routing. What a user needs to know which block to pipeline.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FpgaError;
use crate::io_error::io_err;

/// How many of nextpnr's critical paths the report keeps.
pub const PATHS_KEPT: usize = 5;

/// One register-to-register path as nextpnr timed it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CriticalPath {
    pub from_clock: String,
    pub to_clock: String,
    pub start_cell: String,
    pub end_cell: String,
    /// The generated module (`eyeriss_pe`, ...) of the start and end cells, or "?" where
    /// the netlist does not say.
    pub start_module: String,
    pub end_module: String,
    /// Cell delays (clock-to-out, LUTs, carry, setup) and net delays, in ns.
    pub logic_ns: f64,
    pub routing_ns: f64,
    pub total_ns: f64,
    /// Cells the path passes through (LUTs, carry cells, ...).
    pub logic_cells: u32,
}

#[derive(Deserialize)]
struct PnrReport {
    #[serde(default)]
    critical_paths: Vec<PnrPath>,
}

#[derive(Deserialize)]
struct PnrPath {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    path: Vec<PnrSegment>,
}

#[derive(Deserialize)]
struct PnrSegment {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    from: Option<PnrEnd>,
    #[serde(default)]
    to: Option<PnrEnd>,
    #[serde(default)]
    delay: f64,
}

#[derive(Deserialize)]
struct PnrEnd {
    #[serde(default)]
    cell: String,
}

/// The flattened netlist's nets, with the attributes that say where each was declared:
/// `hdlname` is its instance path ("u_top u_glb g_bank[0].u_bank mem_q"), `src` the file of
/// its declaration and those of the instantiations on that path.
#[derive(Deserialize)]
struct Netlist {
    #[serde(default)]
    modules: HashMap<String, NetModule>,
}

#[derive(Deserialize)]
struct NetModule {
    #[serde(default)]
    netnames: HashMap<String, NetName>,
}

#[derive(Deserialize)]
struct NetName {
    #[serde(default)]
    attributes: NetAttrs,
}

#[derive(Deserialize, Default)]
struct NetAttrs {
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    hdlname: Option<String>,
}

/// Instance scope (`u_top.u_glb.g_bank[0].u_bank`, as nextpnr's cell names spell it) ->
/// generated module. Flattening keeps the scope in every cell's name, but the cells Yosys
/// maps lose their source (it is then the techmap file), so the module of a scope comes
/// from the nets declared in it.
pub struct Modules(HashMap<String, String>);

impl Modules {
    /// Read the synthesized netlist (Yosys `write_json` / `synth_* -json`).
    pub fn from_netlist(path: &Path) -> Result<Modules, FpgaError> {
        let text = std::fs::read(path).map_err(io_err("cannot read", path))?;
        Self::from_netlist_bytes(&text).map_err(|msg| FpgaError::Report {
            what: path.display().to_string(),
            msg,
        })
    }

    pub fn from_netlist_bytes(text: &[u8]) -> Result<Modules, String> {
        let n: Netlist = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        // Per scope, as instance path components: the design files its nets name. They are
        // the scope's own module and the modules of its ancestors (where the instances on
        // the path are written), so a scope's module is the file its ancestors do not have.
        let mut files: HashMap<Vec<String>, BTreeSet<String>> = HashMap::new();
        for m in n.modules.into_values() {
            for (name, net) in m.netnames {
                let Some(src) = net.attributes.src.as_deref() else {
                    continue;
                };
                // without an instance path, only the top's own nets say where they are
                let mut path: Vec<String> = match net.attributes.hdlname.as_deref() {
                    Some(h) => h.split(' ').map(str::to_string).collect(),
                    None if !name.contains('.') => vec![name],
                    None => continue,
                };
                path.pop();
                files.entry(path).or_default().extend(design_modules(src));
            }
        }
        let mut scopes: Vec<(Vec<String>, BTreeSet<String>)> = files.into_iter().collect();
        scopes.sort_by_key(|(p, _)| p.len());
        let mut map: HashMap<String, String> = HashMap::new();
        let mut by_path: HashMap<Vec<String>, String> = HashMap::new();
        for (path, mut own) in scopes {
            for d in 0..path.len() {
                if let Some(m) = by_path.get(&path[..d]) {
                    own.remove(m);
                }
            }
            if own.len() == 1 {
                let m = own.into_iter().next().unwrap_or_default();
                map.insert(path.join("."), m.clone());
                by_path.insert(path, m);
            }
        }
        Ok(Modules(map))
    }

    /// The module of a placed cell: that of the longest known scope its name starts with.
    /// Names nextpnr or ABC made up (`$nextpnr_...`, `$abc$...`) say nothing: "?".
    pub fn module_of(&self, cell: &str) -> String {
        if cell.starts_with('$') {
            return "?".into();
        }
        let mut end = cell.len();
        while let Some(i) = cell[..end].rfind('.') {
            if let Some(m) = self.0.get(&cell[..i]) {
                return m.clone();
            }
            end = i;
        }
        self.0.get("").cloned().unwrap_or_else(|| "?".into())
    }
}

/// The generated modules a `src` attribute names (`rtl/eyeriss_pe.v:234.5-240.8|...`): one
/// module a file, named as the file.
fn design_modules(src: &str) -> impl Iterator<Item = String> + '_ {
    src.split('|').filter_map(|s| {
        let file = s.split(':').next()?;
        let base = Path::new(file).file_name()?.to_str()?;
        let stem = base.strip_suffix(".v")?;
        stem.starts_with("eyeriss_").then(|| stem.to_string())
    })
}

/// The slowest paths of a nextpnr `--report` JSON (as parsed for its other entries), worst
/// first, attributed to modules.
pub fn critical_paths(
    report: &serde_json::Value,
    modules: &Modules,
) -> Result<Vec<CriticalPath>, String> {
    let r = PnrReport::deserialize(report).map_err(|e| e.to_string())?;
    let mut paths: Vec<CriticalPath> = r
        .critical_paths
        .into_iter()
        .filter(|p| !p.path.is_empty())
        .map(|p| {
            let start = p
                .path
                .first()
                .and_then(|s| s.from.as_ref())
                .map_or_else(String::new, |e| e.cell.clone());
            let end = p
                .path
                .last()
                .and_then(|s| s.to.as_ref().or(s.from.as_ref()))
                .map_or_else(String::new, |e| e.cell.clone());
            let (mut logic, mut routing, mut cells) = (0.0, 0.0, 0u32);
            for s in &p.path {
                if s.kind == "routing" {
                    routing += s.delay;
                } else {
                    logic += s.delay;
                    if s.kind == "logic" {
                        cells += 1;
                    }
                }
            }
            let round = |x: f64| (x * 1000.0).round() / 1000.0;
            CriticalPath {
                from_clock: p.from,
                to_clock: p.to,
                start_module: modules.module_of(&start),
                end_module: modules.module_of(&end),
                start_cell: start,
                end_cell: end,
                logic_ns: round(logic),
                routing_ns: round(routing),
                total_ns: round(logic + routing),
                logic_cells: cells,
            }
        })
        .collect();
    paths.sort_by(|a, b| b.total_ns.total_cmp(&a.total_ns));
    paths.truncate(PATHS_KEPT);
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Nets as flattening leaves them: the top's own, a stream engine's in the core, a GLB
    // bank's in a generate loop of the GLB, and one from a techmap file.
    const NETLIST: &str = r#"{"modules": {"eyeriss_board_top": {"netnames": {
        "rx_line": {"attributes": {"src": "rtl/eyeriss_board_top.v:40.10-40.17"}},
        "u_top.cmd": {"attributes": {"hdlname": "u_top cmd",
            "src": "rtl/eyeriss_board_top.v:62.1-66.2|rtl/eyeriss_top.v:30.5-30.9"}},
        "u_top.u_ifmap_stream.hv": {"attributes": {"hdlname": "u_top u_ifmap_stream hv",
            "src": "rtl/eyeriss_board_top.v:62.1-66.2|rtl/eyeriss_stream.v:61.5-61.7|rtl/eyeriss_top.v:199.7-209.6"}},
        "u_top.u_glb.g_bank[0].u_bank.q": {"attributes": {"hdlname": "u_top u_glb g_bank[0].u_bank q",
            "src": "rtl/eyeriss_glb.v:70.1-75.2|rtl/eyeriss_board_top.v:62.1-66.2|rtl/eyeriss_glb_bank.v:20.9-20.40|rtl/eyeriss_top.v:150.1-160.2"}},
        "u_top.u_glb.sel": {"attributes": {"hdlname": "u_top u_glb sel",
            "src": "rtl/eyeriss_board_top.v:62.1-66.2|rtl/eyeriss_glb.v:12.1-12.5|rtl/eyeriss_top.v:150.1-160.2"}},
        "u_top.x_SB_LUT4_O": {"attributes": {"src": "/usr/share/yosys/ice40/cells_map.v:6.21-6.22"}}
    }}}}"#;

    #[test]
    fn cells_are_attributed_to_the_module_of_their_scope() {
        let m = Modules::from_netlist_bytes(NETLIST.as_bytes()).unwrap();
        assert_eq!(
            m.module_of("u_top.u_ifmap_stream.hv_SB_DFFE_Q_3"),
            "eyeriss_stream"
        );
        assert_eq!(
            m.module_of("u_top.u_ifmap_stream.hv[3]_TRELLIS_FF_Q"),
            "eyeriss_stream"
        );
        // a memory's name has dots of its own; a generate scope's dots are the instance's
        assert_eq!(
            m.module_of("u_top.u_glb.g_bank[0].u_bank.mem.0.0"),
            "eyeriss_glb_bank"
        );
        assert_eq!(m.module_of("u_top.u_glb.sel_DFF_Q"), "eyeriss_glb");
        assert_eq!(m.module_of("u_top.fs_data_SB_LUT4_O_I0_LC"), "eyeriss_top");
        assert_eq!(m.module_of("por_SB_DFF_Q"), "eyeriss_board_top");
        assert_eq!(m.module_of("$nextpnr_ICESTORM_LC_59"), "?");
        assert_eq!(m.module_of("$abc$123$lut"), "?");
    }

    #[test]
    fn paths_are_summed_sorted_worst_first_and_cut_to_the_top_few() {
        let m = Modules::from_netlist_bytes(NETLIST.as_bytes()).unwrap();
        let seg = |kind: &str, from: &str, to: &str, d: f64| {
            format!(
                r#"{{"type": "{kind}", "from": {{"cell": "{from}", "port": "Q"}}, "to": {{"cell": "{to}", "port": "A"}}, "delay": {d}}}"#
            )
        };
        let path = |scale: f64| {
            format!(
                r#"{{"from": "clk", "to": "clk", "path": [{}, {}, {}, {}, {}]}}"#,
                seg(
                    "clk-to-q",
                    "u_top.u_glb.g_bank[0].u_bank.mem.0.0",
                    "u_top.u_glb.g_bank[0].u_bank.mem.0.0",
                    1.0 * scale
                ),
                seg(
                    "routing",
                    "u_top.u_glb.g_bank[0].u_bank.mem.0.0",
                    "$abc$123$lut",
                    2.5
                ),
                seg("logic", "$abc$123$lut", "$abc$123$lut", 0.25),
                seg(
                    "routing",
                    "$abc$123$lut",
                    "u_top.u_ifmap_stream.hv_TRELLIS_FF_Q",
                    1.5
                ),
                seg(
                    "setup",
                    "u_top.u_ifmap_stream.hv_TRELLIS_FF_Q",
                    "u_top.u_ifmap_stream.hv_TRELLIS_FF_Q",
                    0.125
                ),
            )
        };
        let mut all: Vec<String> = (1..=7).map(|i| path(i as f64)).collect();
        all.push(r#"{"from": "clk", "to": "clk", "path": []}"#.into());
        let report = format!(r#"{{"fmax": {{}}, "critical_paths": [{}]}}"#, all.join(","));
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        let paths = critical_paths(&report, &m).unwrap();
        assert_eq!(paths.len(), PATHS_KEPT);
        let worst = &paths[0];
        assert_eq!(worst.start_module, "eyeriss_glb_bank");
        assert_eq!(worst.end_module, "eyeriss_stream");
        assert_eq!(worst.routing_ns, 4.0);
        assert_eq!(worst.logic_ns, 7.0 + 0.25 + 0.125);
        assert_eq!(worst.total_ns, worst.logic_ns + worst.routing_ns);
        assert_eq!(worst.logic_cells, 1);
        assert!(paths.windows(2).all(|w| w[0].total_ns >= w[1].total_ns));
        // a critical path that is not an object
        let bad = serde_json::json!({"critical_paths": [1]});
        assert!(critical_paths(&bad, &m).is_err());
    }
}
