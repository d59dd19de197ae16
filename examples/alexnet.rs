//! AlexNet CONV1-5 at batch 4 on the 12 x 14 chip config in Verilator, bit-exact against the
//! golden model, compared with the Eyeriss chip (JSSC 2017 Table V). Writes docs/alexnet.md.
//!
//! ```sh
//! cargo run --release --example alexnet                 # all five layers, writes docs/alexnet.md
//! cargo run --release --example alexnet -- conv3 conv5  # some layers, prints only
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use eyeriss_gen::analysis::chip;
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::network::Network;
use eyeriss_gen::program::Counter;
use eyeriss_gen::run;
use eyeriss_gen::sim::RunOpts;
use eyeriss_gen::sim::verilator::VerilatorSim;

/// What the counters say holds the layers back (kept with the code that measures it).
const HELD_BACK: &str = "What holds the layers back, from the counters above:\n\n\
- **Active PEs**: 154-156 of 168 on every layer but CONV2 (140), which alone caps utilization at \
  92-93%; measured utilization (busy PE-cycles / 168 x cycles) is 70-76%.\n\
- **Not-hidden host transfers**: every tile ends with a STORE over the 64-bit host link while \
  the array idles (host words out: about 8% of CONV1's cycles, 1.4-2.5% elsewhere), and the first \
  LOAD of a layer is not overlapped.\n\
- **Ramp-up per pass**: a pass's PEs start only when their filters (filter GIN, 4 weights a beat) \
  and a first window (the 16-bit ifmap GIN, one element a beat shared by every row of the step) \
  have arrived, and its last column drains up the chains before the BARRIER.\n\
- **The ifmap GIN**: one element per cycle for all rows of a step; busy 36-63% of all cycles, \
  so steps with many rows per PE-cycle of work (CONV1's stride 4, CONV3 and CONV5) run close \
  to its bandwidth in their first columns.\n\
- **Per output column**: p*q*S MAC cycles plus about 4 pipeline and ceil(p/4) output cycles.\n\n\
The levers, in order: overlap STOREs with the next tile (a second psum region), start a pass's \
filter stream while the previous pass drains (PE filter spads would need two banks), and a wider \
ifmap GIN (32 bits halves the step start-up).";

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let only: Vec<String> = std::env::args().skip(1).collect();
    let cfg = ArchConfig::load(&root.join("configs/eyeriss.toml"))?;
    let net = Network::load(&root.join("networks/alexnet.toml"))?;
    let sim = VerilatorSim::build(&cfg, true)?;
    let mut rows = Vec::new();
    for c in chip::ALEXNET {
        let (name, chip_cycles, chip_pes) = (c.name, c.cycles, c.active_pes);
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let l = net.select(Some(name))?.remove(0);
        let t = Instant::now();
        let tensors = l.tensors(cfg.data.data_width)?;
        let r = run::run_layer(&cfg, &l, tensors, &sim, &RunOpts::default())?;
        let s = r.stats;
        let wall = t.elapsed().as_secs_f64();
        eprintln!(
            "{name}: {} cycles ({} processing), {} active PEs, {}, {:.0} s",
            s.cycles,
            s.processing_cycles,
            s.plan.active_pes,
            if s.matches { "bit-exact" } else { "MISMATCH" },
            wall
        );
        anyhow::ensure!(
            s.matches,
            "{name}: {} ofmap values differ",
            s.mismatch_count
        );
        rows.push((name, chip_cycles, chip_pes, s, wall));
    }
    let mut md = String::new();
    writeln!(md, "# AlexNet CONV1-5 on the generated 12 x 14 design")?;
    writeln!(md)?;
    writeln!(
        md,
        "Measured with `cargo run --release --example alexnet` (Verilator, `configs/eyeriss.toml`, \
         `networks/alexnet.toml`: batch 4, 227 x 227, grouped CONV2/4/5). Every ofmap is bit-exact \
         against the golden model and the MAC counter equals the layer's MACs."
    )?;
    writeln!(md)?;
    writeln!(
        md,
        "- **cycles**: the hardware cycle counter from the program's first command to READ_COUNTERS."
    )?;
    writeln!(
        md,
        "- **processing**: cycles minus those the controller waited for a host input word (counter \
         `host_in_wait_cycles`). The simulated host never stalls, so the two are equal here. Host \
         transfers are included where the array cannot hide them: a pass's LOADs run during the \
         previous pass's steps when the mapping double-buffers (`map` column `buf` = 2), but the \
         layer's first LOAD and every tile's STORE are not overlapped (the chip's processing \
         latency assumes all DRAM traffic is hidden)."
    )?;
    writeln!(
        md,
        "- **chip**: the Eyeriss chip's processing latency at 200 MHz (JSSC 2017 Table V) in cycles."
    )?;
    writeln!(md, "- **ideal**: MACs / 168.")?;
    writeln!(md)?;
    writeln!(
        md,
        "| layer | MACs | active PEs (chip) | cycles | processing | chip | ideal | processing / chip | processing / ideal | predicted (error) | utilization |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|")?;
    let (mut tp, mut ti, mut tc) = (0u64, 0u64, 0u64);
    for (name, chip, chip_pes, s, _) in &rows {
        tp += s.processing_cycles;
        ti += s.plan.ideal_cycles;
        tc += chip;
        writeln!(
            md,
            "| {name} | {:.1} M | {} ({chip_pes}) | {} | {} | {chip} | {} | {:.2} | {:.2} | {} ({:+.1}%) | {:.1}% |",
            s.layer_macs as f64 / 1e6,
            s.plan.active_pes,
            s.cycles,
            s.processing_cycles,
            s.plan.ideal_cycles,
            s.processing_cycles as f64 / *chip as f64,
            s.processing_cycles as f64 / s.plan.ideal_cycles as f64,
            s.plan.predicted_cycles,
            100.0 * (s.plan.predicted_cycles as f64 - s.cycles as f64) / s.cycles as f64,
            100.0 * s.utilization
        )?;
    }
    if rows.len() == chip::ALEXNET.len() {
        writeln!(
            md,
            "| total | | | | {tp} | {tc} | {ti} | {:.2} | {:.2} | | |",
            tp as f64 / tc as f64,
            tp as f64 / ti as f64
        )?;
    }
    writeln!(md)?;
    writeln!(md, "Counters per layer (what holds each layer back):")?;
    writeln!(md)?;
    writeln!(
        md,
        "| layer | busy PE-cycles | zero-skipped | ifmap GIN beats (busy) | filter GIN beats | psum GIN beats | GON words | GLB reads | GLB writes | host words in (busy) | host words out (busy) | sim wall s |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|")?;
    for (name, _, _, s, wall) in &rows {
        let c = |k: Counter| s.counters[k];
        // share of the layer's cycles a one-word-per-cycle resource was busy
        let busy = |n: u64| 100.0 * n as f64 / s.cycles.max(1) as f64;
        writeln!(
            md,
            "| {name} | {} | {} | {} ({:.0}%) | {} | {} | {} | {} | {} | {} ({:.0}%) | {} ({:.0}%) | {wall:.0} |",
            c(Counter::BusyPeCycles),
            c(Counter::ZeroSkippedMacs),
            c(Counter::IfmapGinBeats),
            busy(c(Counter::IfmapGinBeats)),
            c(Counter::FilterGinBeats),
            c(Counter::PsumGinBeats),
            c(Counter::GonWords),
            c(Counter::GlbReads),
            c(Counter::GlbWrites),
            c(Counter::HostWordsIn),
            busy(c(Counter::HostWordsIn)),
            c(Counter::HostWordsOut),
            busy(c(Counter::HostWordsOut))
        )?;
    }
    writeln!(md)?;
    writeln!(md, "{}", HELD_BACK)?;
    print!("{md}");
    if only.is_empty() {
        std::fs::write(root.join("docs/alexnet.md"), &md)?;
        eprintln!("wrote docs/alexnet.md");
    }
    Ok(())
}
