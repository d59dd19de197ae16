//! Shared by the integration tests that run layers on the hardware.

use eyeriss_gen::analysis;
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::layer::ConvLayer;
use eyeriss_gen::program::Counter;
use eyeriss_gen::run::{self, LayerRun};
use eyeriss_gen::sim::Backend;
use eyeriss_gen::sim::RunOpts;

/// Run `l` with its own data and assert what every run must show: the golden ofmap bit for bit,
/// MACs equal to the data's non-zero MACs, MACs plus zero-skips equal to the layer's MACs, and
/// one busy PE-cycle per MAC.
pub fn run_checked(cfg: &ArchConfig, sim: &dyn Backend, l: &ConvLayer, opts: &RunOpts) -> LayerRun {
    let t = l.tensors(cfg.data.data_width).expect("layer data");
    let r = run::run_layer(cfg, l, t, sim, opts)
        .unwrap_or_else(|e| panic!("{} on {}: {e}", l.name, cfg.name));
    let s = &r.stats;
    assert!(
        s.matches,
        "{} on {}: {} ofmap values differ, first {:?}\n{l:?}",
        l.name, cfg.name, s.mismatch_count, s.first_mismatches
    );
    assert_eq!(
        s.counters[Counter::Macs] + s.counters[Counter::ZeroSkippedMacs],
        l.macs(),
        "{}: MACs issued = the layer's MACs",
        l.name
    );
    assert_eq!(
        s.counters[Counter::Macs],
        s.nonzero_macs,
        "{}: MACs on non-zero ifmap values",
        l.name
    );
    assert_eq!(
        s.counters[Counter::BusyPeCycles],
        l.macs(),
        "{}: one busy cycle per MAC",
        l.name
    );
    // The analysis, which reads only the program, predicts every data-independent counter.
    let predicted = analysis::predict(cfg, &r.compiled.words).expect("program decodes");
    for (counter, want) in predicted.named() {
        let name = counter.name();
        assert_eq!(
            s.counters[counter], want,
            "{} on {}: counter {name}: hardware vs analysis",
            l.name, cfg.name
        );
    }
    r
}
