//! The program encoding round-trips, and the decoder refuses what the controller would
//! misread, naming the word.

mod inputs;

use eyeriss_gen::program::{self, Cmd, Net, ProgramError, RowLimits};

const LIMITS: RowLimits = RowLimits {
    rows: 32,
    ifmap_rows: 64,
    len_bits: 17,
};

#[test]
fn encode_decode_round_trip() {
    let cmds = inputs::sample_commands();
    let words = program::encode(&cmds);
    assert_eq!(program::decode(&words, LIMITS).unwrap(), cmds);
    let bytes = program::to_bytes(&words);
    assert_eq!(program::from_bytes(&bytes).unwrap(), words);
}

#[test]
fn unknown_opcode_names_the_word() {
    let mut words = program::encode(&inputs::sample_commands());
    words.insert(3, 0x42 << 56);
    assert_eq!(
        program::decode(&words, LIMITS),
        Err(ProgramError::UnknownOpcode { index: 3, op: 0x42 })
    );
}

#[test]
fn reserved_bits_are_refused() {
    let words = vec![0x08 << 56 | 1];
    let err = program::decode(&words, LIMITS).unwrap_err();
    assert!(
        matches!(
            err,
            ProgramError::Reserved {
                index: 0,
                cmd: "START",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn truncated_payload_is_refused() {
    let mut words = program::encode(&[Cmd::Load {
        addr: 0,
        words: vec![5; 10],
    }]);
    words.truncate(6);
    let err = program::decode(&words, LIMITS).unwrap_err();
    assert_eq!(
        err,
        ProgramError::Truncated {
            index: 0,
            cmd: "LOAD",
            need: 10,
            have: 5
        }
    );
    assert!(err.to_string().contains("word 0: LOAD needs 10 more words"));
}

#[test]
fn stream_rows_beyond_the_engine_are_refused() {
    let words = program::encode(&[Cmd::Stream {
        net: Net::Ifmap,
        len: 4,
        base: 0,
        stride: 4,
        tags: vec![(0, 0); 70],
    }]);
    let err = program::decode(&words, LIMITS).unwrap_err();
    assert!(
        err.to_string()
            .contains("nrows = 70: must be in 1..=64 (noc.ifmap_stream_rows)"),
        "{err}"
    );
}

#[test]
fn stream_rows_longer_than_the_glb_are_refused() {
    let stream = |len| {
        program::encode(&[Cmd::Stream {
            net: Net::Filter,
            len,
            base: 0,
            stride: 4,
            tags: vec![(0, 0); 2],
        }])
    };
    assert!(program::decode(&stream((1 << 17) - 1), LIMITS).is_ok());
    let err = program::decode(&stream(1 << 17), LIMITS).unwrap_err();
    assert!(
        err.to_string()
            .contains("len = 131072: must be below 131072 (2^17 elements"),
        "{err}"
    );
}

#[test]
fn a_program_file_of_partial_words_is_refused() {
    assert_eq!(program::from_bytes(&[0; 12]), Err(ProgramError::Length(12)));
}

/// The counters are named once (program::Counter) and docs/commands.md lists them in the
/// same READ_COUNTERS order under the same names.
#[test]
fn counters_are_named_once_and_documented_in_order() {
    use eyeriss_gen::program::{Counter, NUM_COUNTERS};
    assert_eq!(Counter::ALL.len(), NUM_COUNTERS);
    for (k, c) in Counter::ALL.into_iter().enumerate() {
        assert_eq!(c as usize, k, "{c:?}");
        assert_eq!(Counter::from_name(c.name()), Some(c));
    }
    assert_eq!(Counter::from_name("mac"), None);
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md"),
    )
    .unwrap();
    for (k, c) in Counter::ALL.into_iter().enumerate() {
        let row = format!("| {k} | `{}` |", c.name());
        assert!(doc.contains(&row), "docs/commands.md lacks the row {row}");
    }
}
