//! The host command stream of docs/commands.md: one enum, its encoding into 64-bit words and
//! a decoder that refuses anything the hardware would not accept, naming the word index.

use thiserror::Error;

/// Networks as the command set numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Net {
    Filter = 0,
    Ifmap = 1,
    Psum = 2,
    Gon = 3,
}

impl Net {
    fn from_bits(b: u64) -> Net {
        match b & 3 {
            0 => Net::Filter,
            1 => Net::Ifmap,
            2 => Net::Psum,
            _ => Net::Gon,
        }
    }
}

/// Per-pass PE parameters (CFG_LAYER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerCfg {
    pub p: u32,
    pub q: u32,
    pub s: u32,
    pub f: u32,
    pub u: u32,
    pub shift: u32,
    pub acc: bool,
    /// MAX mode: the PE keeps the largest product of a column instead of the sum, and takes
    /// the larger of its own and the incoming psum (a max pool as a convolution).
    pub max: bool,
}

/// One PE's configuration (CFG_PE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeCfg {
    pub row: u32,
    pub col: u32,
    pub filt_id: u32,
    pub ifmap_id: u32,
    pub psum_id: u32,
    pub gon_id: u32,
    pub enable: bool,
    /// 0 zero, 1 psum GIN, 2 LN from the PE below.
    pub psum_sel: u32,
    pub out_gon: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Nop,
    CfgLayer(LayerCfg),
    CfgRowId {
        net: Net,
        row: u32,
        id: u32,
    },
    CfgPe(PeCfg),
    Load {
        addr: u32,
        words: Vec<u64>,
    },
    Store {
        addr: u32,
        count: u32,
        relu: bool,
    },
    /// Rows `base + i*stride` (element addresses) of `len` elements, row `i` tagged `tags[i]`
    /// as (row tag, column tag).
    Stream {
        net: Net,
        len: u32,
        base: u32,
        stride: u32,
        tags: Vec<(u32, u32)>,
    },
    Drain {
        total: u32,
        base: u32,
        stride: u32,
    },
    Start,
    Barrier,
    ReadCounters,
    ClearCounters,
    Mark(u64),
}

pub const OP_NOP: u64 = 0x00;
pub const OP_CFG_LAYER: u64 = 0x01;
pub const OP_CFG_ROW_ID: u64 = 0x02;
pub const OP_CFG_PE: u64 = 0x03;
pub const OP_LOAD: u64 = 0x04;
pub const OP_STORE: u64 = 0x05;
pub const OP_STREAM: u64 = 0x06;
pub const OP_DRAIN: u64 = 0x07;
pub const OP_START: u64 = 0x08;
pub const OP_BARRIER: u64 = 0x09;
pub const OP_READ_COUNTERS: u64 = 0x0A;
pub const OP_CLEAR_COUNTERS: u64 = 0x0B;
pub const OP_MARK: u64 = 0x0C;
/// The controller's answer to a command it cannot execute.
pub const OP_ERROR: u64 = 0xEE;

/// Number of words READ_COUNTERS sends after its header.
pub const NUM_COUNTERS: usize = 22;

/// Declares [`Counter`] from one list of (variant, name) in READ_COUNTERS order, so the
/// order, the names and the count cannot drift apart.
macro_rules! counters {
    ($($variant:ident => $name:literal,)*) => {
        /// The hardware counters, in READ_COUNTERS order (docs/commands.md). Code names a
        /// counter by this enum, so a misspelt counter is a compile error, not a silent zero.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Counter {
            $($variant,)*
        }

        impl Counter {
            /// Every counter, in READ_COUNTERS order.
            pub const ALL: [Counter; NUM_COUNTERS] = [$(Counter::$variant,)*];

            /// The counter's name in reports, JSON and docs.
            pub fn name(self) -> &'static str {
                match self {
                    $(Counter::$variant => $name,)*
                }
            }
        }
    };
}

counters! {
    Cycles => "cycles",
    BusyPeCycles => "busy_pe_cycles",
    Macs => "macs",
    ZeroSkippedMacs => "zero_skipped_macs",
    FilterSpadReads => "filter_spad_reads",
    FilterSpadWrites => "filter_spad_writes",
    IfmapSpadReads => "ifmap_spad_reads",
    IfmapSpadWrites => "ifmap_spad_writes",
    PsumSpadReads => "psum_spad_reads",
    PsumSpadWrites => "psum_spad_writes",
    GlbReads => "glb_reads",
    GlbWrites => "glb_writes",
    FilterGinBeats => "filter_gin_beats",
    IfmapGinBeats => "ifmap_gin_beats",
    PsumGinBeats => "psum_gin_beats",
    GonWords => "gon_words",
    LnWords => "ln_words",
    HostWordsIn => "host_words_in",
    HostWordsOut => "host_words_out",
    HostInWaitCycles => "host_in_wait_cycles",
    HostOutWaitCycles => "host_out_wait_cycles",
    EnabledPes => "enabled_pes",
}

impl Counter {
    /// The counter of that name, if there is one.
    pub fn from_name(name: &str) -> Option<Counter> {
        Counter::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One value per hardware counter, indexed by [`Counter`]; serialized as an object from name
/// to value, in READ_COUNTERS order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters(pub [u64; NUM_COUNTERS]);

impl Counters {
    /// (counter, value) in READ_COUNTERS order.
    pub fn iter(&self) -> impl Iterator<Item = (Counter, u64)> + '_ {
        Counter::ALL.into_iter().zip(self.0.iter().copied())
    }
}

impl std::ops::Index<Counter> for Counters {
    type Output = u64;
    fn index(&self, c: Counter) -> &u64 {
        &self.0[c as usize]
    }
}

impl serde::Serialize for Counters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(NUM_COUNTERS))?;
        for (c, v) in self.iter() {
            m.serialize_entry(c.name(), &v)?;
        }
        m.end()
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProgramError {
    #[error("word {index}: unknown opcode 0x{op:02x}")]
    UnknownOpcode { index: usize, op: u64 },
    #[error("word {index}: reserved bits set in {cmd} (word 0x{word:016x})")]
    Reserved {
        index: usize,
        cmd: &'static str,
        word: u64,
    },
    #[error("word {index}: {cmd} needs {need} more words, the program ends after {have}")]
    Truncated {
        index: usize,
        cmd: &'static str,
        need: usize,
        have: usize,
    },
    #[error("word {index}: {cmd}: {field} = {value}: {limit}")]
    Field {
        index: usize,
        cmd: &'static str,
        field: &'static str,
        value: u64,
        limit: String,
    },
    #[error("a program file must be a whole number of 8-byte words, this one has {0} bytes")]
    Length(usize),
}

fn bits(w: u64, lo: u32, n: u32) -> u64 {
    (w >> lo) & ((1u64 << n) - 1)
}

fn head(op: u64, v: u64) -> u64 {
    (op << 56) | v
}

impl Cmd {
    /// Append this command's words.
    pub fn encode(&self, out: &mut Vec<u64>) {
        match self {
            Cmd::Nop => out.push(head(OP_NOP, 0)),
            Cmd::CfgLayer(l) => out.push(head(
                OP_CFG_LAYER,
                l.p as u64
                    | (l.q as u64) << 8
                    | (l.s as u64) << 16
                    | (l.f as u64) << 24
                    | (l.u as u64) << 36
                    | (l.shift as u64) << 40
                    | (l.acc as u64) << 46
                    | (l.max as u64) << 47,
            )),
            Cmd::CfgRowId { net, row, id } => out.push(head(
                OP_CFG_ROW_ID,
                *id as u64 | (*row as u64) << 8 | (*net as u64) << 48,
            )),
            Cmd::CfgPe(c) => out.push(head(
                OP_CFG_PE,
                c.filt_id as u64
                    | (c.ifmap_id as u64) << 8
                    | (c.psum_id as u64) << 16
                    | (c.gon_id as u64) << 24
                    | (c.enable as u64) << 32
                    | (c.psum_sel as u64) << 33
                    | (c.out_gon as u64) << 35
                    | (c.col as u64) << 36
                    | (c.row as u64) << 44,
            )),
            Cmd::Load { addr, words } => {
                out.push(head(OP_LOAD, *addr as u64 | (words.len() as u64) << 24));
                out.extend_from_slice(words);
            }
            Cmd::Store { addr, count, relu } => out.push(head(
                OP_STORE,
                *addr as u64 | (*count as u64) << 24 | (*relu as u64) << 48,
            )),
            Cmd::Stream {
                net,
                len,
                base,
                stride,
                tags,
            } => {
                out.push(head(
                    OP_STREAM,
                    *len as u64 | (tags.len() as u64) << 32 | (*net as u64) << 48,
                ));
                out.push(*base as u64 | (*stride as u64) << 32);
                for chunk in tags.chunks(4) {
                    let mut w = 0u64;
                    for (k, &(rt, ct)) in chunk.iter().enumerate() {
                        w |= ((rt as u64) << 8 | ct as u64) << (16 * k);
                    }
                    out.push(w);
                }
            }
            Cmd::Drain {
                total,
                base,
                stride,
            } => {
                out.push(head(OP_DRAIN, *total as u64));
                out.push(*base as u64 | (*stride as u64) << 32);
            }
            Cmd::Start => out.push(head(OP_START, 0)),
            Cmd::Barrier => out.push(head(OP_BARRIER, 0)),
            Cmd::ReadCounters => out.push(head(OP_READ_COUNTERS, 0)),
            Cmd::ClearCounters => out.push(head(OP_CLEAR_COUNTERS, 0)),
            Cmd::Mark(v) => out.push(head(OP_MARK, v & ((1 << 56) - 1))),
        }
    }

    /// Words of the host's answer to this command (0 for most).
    pub fn response_words(&self) -> usize {
        match self {
            Cmd::Store { count, .. } => 1 + *count as usize,
            Cmd::ReadCounters => 1 + NUM_COUNTERS,
            Cmd::Mark(_) => 1,
            _ => 0,
        }
    }
}

/// Encode a command list.
pub fn encode(cmds: &[Cmd]) -> Vec<u64> {
    let mut out = Vec::new();
    for c in cmds {
        c.encode(&mut out);
    }
    out
}

/// Rows a STREAM may name, per engine, and how long they may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLimits {
    /// Filter and psum engines (`noc.stream_rows`).
    pub rows: u32,
    /// The ifmap engine (`noc.ifmap_stream_rows`).
    pub ifmap_rows: u32,
    /// Bits of a row's length: the engines count up to every element of the GLB.
    pub len_bits: u32,
}

impl RowLimits {
    pub fn of(cfg: &crate::config::ArchConfig) -> RowLimits {
        RowLimits {
            rows: cfg.noc.stream_rows,
            ifmap_rows: cfg.noc.ifmap_stream_rows,
            len_bits: crate::hw::stream_len_w(cfg),
        }
    }
}

/// Decode words into commands, refusing what the controller would reject or misread.
pub fn decode(words: &[u64], limits: RowLimits) -> Result<Vec<Cmd>, ProgramError> {
    let mut cmds = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let op = w >> 56;
        let reserved = |cmd: &'static str, used: u64| -> Result<(), ProgramError> {
            if w & !used & ((1 << 56) - 1) != 0 {
                Err(ProgramError::Reserved {
                    index: i,
                    cmd,
                    word: w,
                })
            } else {
                Ok(())
            }
        };
        let need = |cmd: &'static str, n: usize| -> Result<(), ProgramError> {
            if i + n > words.len() {
                Err(ProgramError::Truncated {
                    index: i,
                    cmd,
                    need: n - 1,
                    have: words.len() - i - 1,
                })
            } else {
                Ok(())
            }
        };
        let mut len = 1;
        let cmd = match op {
            OP_NOP => {
                reserved("NOP", 0)?;
                Cmd::Nop
            }
            OP_CFG_LAYER => {
                reserved("CFG_LAYER", (1 << 48) - 1)?;
                Cmd::CfgLayer(LayerCfg {
                    p: bits(w, 0, 8) as u32,
                    q: bits(w, 8, 8) as u32,
                    s: bits(w, 16, 8) as u32,
                    f: bits(w, 24, 12) as u32,
                    u: bits(w, 36, 4) as u32,
                    shift: bits(w, 40, 6) as u32,
                    acc: bits(w, 46, 1) == 1,
                    max: bits(w, 47, 1) == 1,
                })
            }
            OP_CFG_ROW_ID => {
                reserved("CFG_ROW_ID", 0xffff | 3 << 48)?;
                Cmd::CfgRowId {
                    net: Net::from_bits(bits(w, 48, 2)),
                    row: bits(w, 8, 8) as u32,
                    id: bits(w, 0, 8) as u32,
                }
            }
            OP_CFG_PE => {
                reserved("CFG_PE", (1 << 52) - 1)?;
                Cmd::CfgPe(PeCfg {
                    filt_id: bits(w, 0, 8) as u32,
                    ifmap_id: bits(w, 8, 8) as u32,
                    psum_id: bits(w, 16, 8) as u32,
                    gon_id: bits(w, 24, 8) as u32,
                    enable: bits(w, 32, 1) == 1,
                    psum_sel: bits(w, 33, 2) as u32,
                    out_gon: bits(w, 35, 1) == 1,
                    col: bits(w, 36, 8) as u32,
                    row: bits(w, 44, 8) as u32,
                })
            }
            OP_LOAD => {
                reserved("LOAD", (1 << 48) - 1)?;
                let n = bits(w, 24, 24) as usize;
                need("LOAD", 1 + n)?;
                len += n;
                Cmd::Load {
                    addr: bits(w, 0, 24) as u32,
                    words: words[i + 1..i + 1 + n].to_vec(),
                }
            }
            OP_STORE => {
                reserved("STORE", (1 << 49) - 1)?;
                Cmd::Store {
                    addr: bits(w, 0, 24) as u32,
                    count: bits(w, 24, 24) as u32,
                    relu: bits(w, 48, 1) == 1,
                }
            }
            OP_STREAM => {
                reserved("STREAM", ((1 << 40) - 1) | (3 << 48))?;
                let nrows = bits(w, 32, 8) as u32;
                let net = Net::from_bits(bits(w, 48, 2));
                let (max_rows, field) = if net == Net::Ifmap {
                    (limits.ifmap_rows, "noc.ifmap_stream_rows")
                } else {
                    (limits.rows, "noc.stream_rows")
                };
                if nrows == 0 || nrows > max_rows {
                    return Err(ProgramError::Field {
                        index: i,
                        cmd: "STREAM",
                        field: "nrows",
                        value: nrows as u64,
                        limit: format!("must be in 1..={max_rows} ({field})"),
                    });
                }
                let row_len = bits(w, 0, 32);
                if row_len >> limits.len_bits != 0 {
                    return Err(ProgramError::Field {
                        index: i,
                        cmd: "STREAM",
                        field: "len",
                        value: row_len,
                        limit: format!(
                            "must be below {} (2^{} elements: more than the GLB holds)",
                            1u64 << limits.len_bits,
                            limits.len_bits
                        ),
                    });
                }
                if net == Net::Gon {
                    return Err(ProgramError::Field {
                        index: i,
                        cmd: "STREAM",
                        field: "network",
                        value: 3,
                        limit: "must be 0 (filter), 1 (ifmap) or 2 (psum)".into(),
                    });
                }
                let ntag = nrows.div_ceil(4) as usize;
                need("STREAM", 2 + ntag)?;
                len += 1 + ntag;
                let w1 = words[i + 1];
                let tags = (0..nrows as usize)
                    .map(|k| {
                        let t = words[i + 2 + k / 4] >> (16 * (k % 4));
                        (bits(t, 8, 8) as u32, bits(t, 0, 8) as u32)
                    })
                    .collect();
                Cmd::Stream {
                    net,
                    len: bits(w, 0, 32) as u32,
                    base: bits(w1, 0, 32) as u32,
                    stride: bits(w1, 32, 32) as u32,
                    tags,
                }
            }
            OP_DRAIN => {
                reserved("DRAIN", (1 << 32) - 1)?;
                need("DRAIN", 2)?;
                len += 1;
                let w1 = words[i + 1];
                Cmd::Drain {
                    total: bits(w, 0, 32) as u32,
                    base: bits(w1, 0, 32) as u32,
                    stride: bits(w1, 32, 32) as u32,
                }
            }
            OP_START => {
                reserved("START", 0)?;
                Cmd::Start
            }
            OP_BARRIER => {
                reserved("BARRIER", 0)?;
                Cmd::Barrier
            }
            OP_READ_COUNTERS => {
                reserved("READ_COUNTERS", 0)?;
                Cmd::ReadCounters
            }
            OP_CLEAR_COUNTERS => {
                reserved("CLEAR_COUNTERS", 0)?;
                Cmd::ClearCounters
            }
            OP_MARK => Cmd::Mark(w & ((1 << 56) - 1)),
            _ => return Err(ProgramError::UnknownOpcode { index: i, op }),
        };
        cmds.push(cmd);
        i += len;
    }
    Ok(cmds)
}

/// Little-endian bytes of a program (the `.bin` format).
pub fn to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Words from a `.bin` program file.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<u64>, ProgramError> {
    if !bytes.len().is_multiple_of(8) {
        return Err(ProgramError::Length(bytes.len()));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8-byte chunk")))
        .collect())
}
