//! Inputs shared by the tests of the loaders and the decoder: a program that uses every
//! command, and `.npy` files built byte by byte.
#![allow(dead_code)] // each test crate uses a part

use eyeriss_gen::program::{Cmd, LayerCfg, Net, PeCfg};

/// A program with every command, each with fields away from zero.
pub fn sample_commands() -> Vec<Cmd> {
    vec![
        Cmd::ClearCounters,
        Cmd::CfgLayer(LayerCfg {
            p: 16,
            q: 4,
            s: 3,
            f: 13,
            u: 1,
            shift: 7,
            acc: true,
            max: false,
        }),
        Cmd::CfgRowId {
            net: Net::Ifmap,
            row: 11,
            id: 3,
        },
        Cmd::CfgPe(PeCfg {
            row: 11,
            col: 13,
            filt_id: 1,
            ifmap_id: 30,
            psum_id: 15,
            gon_id: 2,
            enable: true,
            psum_sel: 2,
            out_gon: false,
        }),
        Cmd::Load {
            addr: 1234,
            words: vec![1, 2, u64::MAX],
        },
        Cmd::Start,
        Cmd::Drain {
            total: 99,
            base: 0,
            stride: 33,
        },
        Cmd::Stream {
            net: Net::Psum,
            len: 40,
            base: 4,
            stride: 200,
            tags: vec![(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)],
        },
        Cmd::Barrier,
        Cmd::Store {
            addr: 7,
            count: 3,
            relu: true,
        },
        Cmd::ReadCounters,
        Cmd::Mark(0xABCDEF),
    ]
}

/// A version 1.0 `.npy` file with this header dict text (padded as numpy pads it) and body.
pub fn npy_raw(dict: &str, body: &[u8]) -> Vec<u8> {
    let mut dict = dict.to_string();
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len().min(65535) as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(body);
    out
}
