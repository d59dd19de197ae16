//! The counter model against counts worked out by hand on a small program, and on a
//! stride-wider-than-filter program where the ifmap spad writes are timing-dependent.

use std::path::PathBuf;

use eyeriss_gen::analysis::{self, Counts};
use eyeriss_gen::config::ArchConfig;
use eyeriss_gen::program::{self, Cmd, Counter, LayerCfg, Net, PeCfg};

fn small() -> ArchConfig {
    ArchConfig::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/small.toml")).unwrap()
}

/// One PE (0, 0): p = 1, q = 1, S = 3, F = 2, stride `u`; a 3-weight filter row at element 1
/// and one ifmap row of `(F-1)*u + 3` elements at element 4.
fn program(u: u32) -> Vec<u64> {
    let ones = |b: u32| (1 << b) - 1;
    let cmds = vec![
        Cmd::ClearCounters,
        Cmd::CfgLayer(LayerCfg {
            p: 1,
            q: 1,
            s: 3,
            f: 2,
            u,
            shift: 0,
            acc: false,
            max: false,
        }),
        Cmd::CfgRowId {
            net: Net::Filter,
            row: 0,
            id: 0,
        },
        Cmd::CfgRowId {
            net: Net::Ifmap,
            row: 0,
            id: 0,
        },
        Cmd::CfgPe(PeCfg {
            row: 0,
            col: 0,
            filt_id: 0,
            ifmap_id: 0,
            psum_id: ones(4),
            gon_id: 0,
            enable: true,
            psum_sel: 0,
            out_gon: true,
        }),
        Cmd::Load {
            addr: 0,
            words: vec![
                0x0003_0002_0001_0000,
                0x0004_0003_0002_0001,
                0x0007_0006_0005,
            ],
        },
        Cmd::Start,
        Cmd::Drain {
            total: 2,
            base: 64,
            stride: 2,
        },
        Cmd::Stream {
            net: Net::Filter,
            len: 3,
            base: 1,
            stride: 3,
            tags: vec![(0, 0)],
        },
        Cmd::Stream {
            net: Net::Ifmap,
            len: u + 3,
            base: 4,
            stride: 0,
            tags: vec![(0, 0)],
        },
        Cmd::Barrier,
        Cmd::Store {
            addr: 64,
            count: 2,
            relu: false,
        },
        Cmd::ReadCounters,
        Cmd::Mark(1),
    ];
    program::encode(&cmds)
}

#[test]
fn counts_by_hand() {
    let words = program(1);
    let c = analysis::predict(&small(), &words).unwrap();
    let want = Counts {
        // every word after CLEAR_COUNTERS up to READ_COUNTERS
        host_words_in: words.len() as u64 - 2,
        // LOAD 3 words + DRAIN 2 words
        glb_writes: 5,
        // filter elements 1..=3 lie in word 0; ifmap elements 4..=7 in word 1; STORE 2
        glb_reads: 4,
        // one beat carries the filter row (one word, up to 4 lanes); the 16-bit ifmap GIN
        // carries one element per beat
        filter_gin_beats: 1,
        ifmap_gin_beats: 4,
        psum_gin_beats: 0,
        gon_words: 2,
        ln_words: 0,
        filter_spad_writes: 3,
        ifmap_spad_writes: Some(4),
        // per output column S*q ifmap reads and p*q*S MAC cycles, F = 2 columns
        ifmap_spad_reads: 6,
        busy_pe_cycles: 6,
        enabled_pes: 1,
    };
    assert_eq!(c, want);
}

#[test]
fn stride_wider_than_the_filter_leaves_ifmap_writes_open() {
    let c = analysis::predict(&small(), &program(4)).unwrap();
    assert_eq!(c.ifmap_spad_writes, None);
    assert_eq!(c.ifmap_gin_beats, 7);
    assert!(
        !c.named()
            .iter()
            .any(|(n, _)| *n == Counter::IfmapSpadWrites)
    );
}

#[test]
fn energy_by_hand() {
    use eyeriss_gen::analysis::energy::{self, EnergyTable};
    let cfg = small();
    use Counter::*;
    let counter = |c: Counter| match c {
        HostWordsIn => 10,
        HostWordsOut => 2,
        GlbReads => 5,
        GlbWrites => 3,
        FilterGinBeats => 7,
        IfmapGinBeats => 11,
        PsumGinBeats => 1,
        GonWords => 2,
        LnWords => 4,
        FilterSpadReads | IfmapSpadReads | PsumSpadReads => 100,
        FilterSpadWrites | IfmapSpadWrites | PsumSpadWrites => 10,
        Macs => 90,
        _ => 0,
    };
    let a = energy::accesses(&cfg, counter);
    // 64-bit words are four 16-bit accesses; the filter GIN carries 4 lanes, the ifmap GIN 1,
    // psum words 4
    assert_eq!((a.dram, a.glb), (12 * 4, 8 * 4));
    assert_eq!(a.array, 7 * 4 + 11 + (1 + 2 + 4) * 4);
    assert_eq!((a.rf, a.mac), (330, 90));
    let e = energy::energy(a, &EnergyTable::isca());
    assert_eq!(
        e.total,
        48.0 * 200.0 + 32.0 * 6.0 + 67.0 * 2.0 + 330.0 + 90.0
    );
    assert_eq!(e.unit, "MAC");
}

#[test]
fn energy_table_errors_name_the_field() {
    use eyeriss_gen::analysis::energy::EnergyTable;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\nunit = \"pJ\"\ndram = -1\nglb = 1\narray = 1\nrf = 1\nmac = 1\n",
    )
    .unwrap();
    let e = EnergyTable::load(&bad).unwrap_err().to_string();
    assert!(e.contains("dram = -1: must be a finite number >= 0"), "{e}");
    std::fs::write(
        &bad,
        "name = \"x\"\nunit = \"pJ\"\ndram = 1\nglb = 1\narray = 1\nrf = 1\nmac = 1\nnoc = 3\n",
    )
    .unwrap();
    let e = EnergyTable::load(&bad).unwrap_err().to_string();
    assert!(e.contains("unknown field `noc`"), "{e}");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        EnergyTable::load(&root.join("energy/nn_dataflow_pj.toml"))
            .unwrap()
            .dram,
        460.0
    );
}
