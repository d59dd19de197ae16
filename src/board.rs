//! The host side of a board's UART: what `eyeriss-gen board` speaks to a board top over a
//! serial port (a USB-serial adapter, or the pty of `sim --uart --pty`).
//!
//! The protocol is the board top's (`templates/fpga/uart_bridge.v.tera`, docs/fpga.md): the
//! host sends program words, 8 bytes each, little-endian, never more than it holds credits for;
//! the board answers with frames (`'S'` status, `'I'` identity, `'C'` credits, `'D'` data).
//! Every run starts with a break, which resets the board; its hello and identity frame then
//! say which design it runs, before a word is sent.
//!
//! Nothing here waits for ever: every read has the port's timeout, and no byte from the board
//! for [`BoardOpts::timeout`] is an error that names the byte offset and what was awaited.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use serialport::{ClearBuffer, SerialPort};
use thiserror::Error;

use crate::fpga::uart::{
    STATUS_FRAMING, STATUS_OVERFLOW, TAG_CREDIT, TAG_DATA, TAG_IDENT, TAG_STATUS,
};
use crate::sim::LinkStats;

/// How long the host holds a break: far beyond the board top's 20 bit times at any baud rate
/// it supports, and long enough for a USB adapter, which sends breaks in whole milliseconds.
const BREAK_HOLD: Duration = Duration::from_millis(50);
/// How long one read waits before the host checks its deadline and its credits again.
const READ_SLICE: Duration = Duration::from_millis(20);
/// A host pause (`--stall-in`): longer than any buffering between host and board (a USB
/// adapter's latency timer is 16 ms at most; the pty model stops its clock for at most 500 ms
/// while it waits for the host, and tests give it less), so the board really sees the line go
/// quiet.
pub const PAUSE: Duration = Duration::from_millis(50);

/// Why a run on the board failed.
#[derive(Debug, Error)]
pub enum BoardError {
    #[error("cannot open the serial port {port}: {source}{hint}")]
    Open {
        port: String,
        source: serialport::Error,
        hint: &'static str,
    },
    #[error("serial port {port}: {what}: {source}")]
    Io {
        port: String,
        what: &'static str,
        source: std::io::Error,
    },
    #[error(
        "no byte from the board for {secs} s while waiting for {what} (at byte {offset} from the board, counted from its hello, with {sent} bytes sent); check that the bitstream is loaded, the port is the board's and --baud is the board top's"
    )]
    Timeout {
        secs: f64,
        what: String,
        offset: u64,
        sent: u64,
    },
    #[error(
        "byte {offset} from the board is 0x{byte:02x}, not a frame tag ('S', 'I', 'C' or 'D'): a byte was lost, or --baud differs from the board top's"
    )]
    Frame { offset: u64, byte: u8 },
    #[error(
        "the board reports {what} (status 0x{status:02x}) at byte {offset} from it, after {sent} bytes sent: {hint}"
    )]
    Status {
        status: u8,
        what: &'static str,
        hint: &'static str,
        offset: u64,
        sent: u64,
    },
    #[error(
        "the board reset during the run (a hello at byte {offset} from it): check its power and reset button"
    )]
    Reset { offset: u64 },
    #[error(
        "the board runs another design: its identity is {board:016x}, config '{config}' hashes to {expected:016x}; load the config's bitstream (eyeriss-gen fpga --config ... --program)"
    )]
    WrongDesign {
        board: u64,
        expected: u64,
        config: String,
    },
}

/// How to talk to a board.
#[derive(Debug, Clone)]
pub struct BoardOpts {
    pub baud: u32,
    /// No byte from the board for this long, while one is awaited, is an error.
    pub timeout: Duration,
}

/// What a run gave back.
#[derive(Debug, Clone)]
pub struct BoardRun {
    /// Every output word, the MARK echo included.
    pub words: Vec<u64>,
    pub link: LinkStats,
}

/// An open serial port to a board top.
pub struct Board {
    port: Box<dyn SerialPort>,
    name: String,
    opts: BoardOpts,
    /// Bytes read past the frame a caller waited for (the reset's identity frame), to be
    /// handed out by the next read.
    pending: Vec<u8>,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("port", &self.name)
            .field("opts", &self.opts)
            .finish()
    }
}

/// The frame reader: bytes from the board in, frames out, counting bytes since the last break.
#[derive(Default)]
struct Frames {
    tag: Option<u8>,
    payload: Vec<u8>,
    offset: u64,
}

enum Frame {
    Status(u8),
    Ident(u64),
    Credit(u8),
    Data(u64),
}

impl Frames {
    /// What the bytes still expected belong to, for a timeout's message.
    fn inside(&self) -> String {
        match self.tag {
            None => String::new(),
            Some(t) => format!(
                ", inside a '{}' frame ({} of {} payload bytes)",
                t as char,
                self.payload.len(),
                payload_len(t)
            ),
        }
    }

    fn push(&mut self, b: u8) -> Result<Option<Frame>, BoardError> {
        let at = self.offset;
        self.offset += 1;
        let Some(tag) = self.tag else {
            if ![TAG_STATUS, TAG_IDENT, TAG_CREDIT, TAG_DATA].contains(&b) {
                return Err(BoardError::Frame {
                    offset: at,
                    byte: b,
                });
            }
            self.tag = Some(b);
            return Ok(None);
        };
        self.payload.push(b);
        if self.payload.len() < payload_len(tag) {
            return Ok(None);
        }
        self.tag = None;
        let word = || {
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.payload);
            u64::from_le_bytes(w)
        };
        let f = match tag {
            TAG_STATUS => Frame::Status(self.payload[0]),
            TAG_CREDIT => Frame::Credit(self.payload[0]),
            TAG_IDENT => Frame::Ident(word()),
            _ => Frame::Data(word()),
        };
        self.payload.clear();
        Ok(Some(f))
    }
}

/// What precedes the first byte of a run: the hello (`'S' 0`) and the identity frame (`'I'`
/// and 8 bytes). Offsets in errors count from the hello.
const HELLO_BYTES: u64 = 2;
const AFTER_RESET_BYTES: u64 = HELLO_BYTES + 1 + 8;

fn payload_len(tag: u8) -> usize {
    if tag == TAG_DATA || tag == TAG_IDENT {
        8
    } else {
        1
    }
}

fn status_error(status: u8, offset: u64, sent: u64) -> BoardError {
    let (what, hint) = if status == STATUS_FRAMING {
        (
            "a framing error",
            "a byte it received had a 0 stop bit; check that --baud is the board top's",
        )
    } else if status == STATUS_OVERFLOW {
        (
            "a receive overflow",
            "the host sent more words than its credits; this is a bug in the host",
        )
    } else if status == STATUS_FRAMING | STATUS_OVERFLOW {
        (
            "a framing error and a receive overflow",
            "check that --baud is the board top's",
        )
    } else {
        (
            "an unknown status",
            "its frames are out of step: it reset in the middle of one (a break, or bytes at a wrong --baud, which can look like one), or a byte was lost",
        )
    };
    BoardError::Status {
        status,
        what,
        hint,
        offset,
        sent,
    }
}

impl Board {
    /// Open `port` at `opts.baud`, 8N1, raw.
    pub fn open(port: &str, opts: BoardOpts) -> Result<Board, BoardError> {
        let p = serialport::new(port, opts.baud)
            .timeout(READ_SLICE)
            .open()
            .map_err(|source| BoardError::Open {
                port: port.to_string(),
                hint: match source.kind() {
                    serialport::ErrorKind::NoDevice => {
                        " (is the board plugged in? `ls /dev/ttyUSB* /dev/ttyACM*` lists the adapters)"
                    }
                    serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => {
                        " (add yourself to the group that owns it, e.g. `dialout`)"
                    }
                    _ => "",
                },
                source,
            })?;
        Ok(Board {
            port: p,
            name: port.to_string(),
            opts,
            pending: Vec::new(),
        })
    }

    fn io(&self, what: &'static str) -> impl FnOnce(std::io::Error) -> BoardError + '_ {
        move |source| BoardError::Io {
            port: self.name.clone(),
            what,
            source,
        }
    }

    fn serial(&self, what: &'static str) -> impl FnOnce(serialport::Error) -> BoardError + '_ {
        move |e| BoardError::Io {
            port: self.name.clone(),
            what,
            source: e.into(),
        }
    }

    /// Reset the board with a break and read its hello and identity frame: the design it
    /// runs. Bytes before the hello (the tail of an earlier run) are skipped.
    pub fn reset(&mut self) -> Result<u64, BoardError> {
        // Flush at both ends of the break. The bytes the board sent before the break reset
        // it may still be on their way when it begins; the second flush, made while the
        // board is held in reset and silent, drops them, and its hello cannot be among them.
        // (The pty model of `sim --uart --pty` sees no break, only these flushes: the first
        // starts its break, and the second makes sure of it.)
        self.pending.clear();
        self.port
            .set_break()
            .map_err(self.serial("cannot send a break"))?;
        self.port
            .clear(ClearBuffer::All)
            .map_err(self.serial("cannot flush"))?;
        std::thread::sleep(BREAK_HOLD);
        self.port
            .clear(ClearBuffer::All)
            .map_err(self.serial("cannot flush"))?;
        self.port
            .clear_break()
            .map_err(self.serial("cannot end the break"))?;
        // Offsets count from the hello; bytes before it (the tail of an earlier run) are
        // skipped, as are the 'S' and 0 that end them.
        let mut last = [0u8; 2];
        let mut ident: Option<Frames> = None;
        let mut deadline = Instant::now() + self.opts.timeout;
        let mut buf = [0u8; 256];
        loop {
            let Some(n) = self.read_some(&mut buf, &mut deadline)? else {
                return Err(self.timeout("the board's hello after the break".into(), 0, 0));
            };
            for (k, &b) in buf[..n].iter().enumerate() {
                if let Some(f) = ident.as_mut() {
                    if let Some(Frame::Ident(id)) = f.push(b)? {
                        self.pending = buf[k + 1..n].to_vec();
                        return Ok(id);
                    }
                } else if last == [TAG_STATUS, 0] && b == TAG_IDENT {
                    ident = Some(Frames {
                        tag: Some(TAG_IDENT),
                        payload: Vec::new(),
                        offset: HELLO_BYTES + 1,
                    });
                } else {
                    last = [last[1], b];
                }
            }
        }
    }

    fn timeout(&self, what: String, offset: u64, sent: u64) -> BoardError {
        BoardError::Timeout {
            secs: self.opts.timeout.as_secs_f64(),
            what,
            offset,
            sent,
        }
    }

    /// Read what has arrived (at least one byte), waiting until `deadline` (which each byte
    /// moves on by the timeout); `None` when the deadline passed first.
    fn read_some(
        &mut self,
        buf: &mut [u8],
        deadline: &mut Instant,
    ) -> Result<Option<usize>, BoardError> {
        if !self.pending.is_empty() {
            let n = self.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(Some(n));
        }
        loop {
            match self.port.read(buf) {
                Ok(n) if n > 0 => {
                    *deadline = Instant::now() + self.opts.timeout;
                    return Ok(Some(n));
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io("cannot read")(e)),
            }
            if Instant::now() >= *deadline {
                return Ok(None);
            }
        }
    }

    /// Reset the board, check that it runs `expected` (`config` names it in the error), run
    /// `program` (ending with a MARK) and return every output word. With `stall_in` percent,
    /// the host pauses for [`PAUSE`] before that share of words (drawn from `seed`).
    pub fn run(
        &mut self,
        program: &[u64],
        expected: u64,
        config: &str,
        stall_in: u32,
        seed: u64,
    ) -> Result<BoardRun, (BoardError, Vec<u64>)> {
        let design = self.reset().map_err(|e| (e, Vec::new()))?;
        if design != expected {
            return Err((
                BoardError::WrongDesign {
                    board: design,
                    expected,
                    config: config.to_string(),
                },
                Vec::new(),
            ));
        }
        let mut words = Vec::new();
        let mut link = LinkStats {
            breaks: 1,
            ..LinkStats::default()
        };
        match self.exchange(program, stall_in, seed, &mut words, &mut link) {
            Ok(()) => Ok(BoardRun { words, link }),
            Err(e) => Err((e, words)),
        }
    }

    fn exchange(
        &mut self,
        program: &[u64],
        stall_in: u32,
        seed: u64,
        words: &mut Vec<u64>,
        link: &mut LinkStats,
    ) -> Result<(), BoardError> {
        let last = program.last().copied().unwrap_or_default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        // The hello and identity frame are behind us.
        let mut frames = Frames {
            offset: AFTER_RESET_BYTES,
            ..Frames::default()
        };
        link.bytes_from_board = AFTER_RESET_BYTES;
        let mut credits = 0u64;
        let mut next = 0usize;
        let mut deadline = Instant::now() + self.opts.timeout;
        let mut buf = [0u8; 1024];
        loop {
            // Every word the credits allow, in one write.
            let mut batch = Vec::new();
            while credits > 0 && next < program.len() {
                if stall_in > 0 && rng.random_range(0..100) < stall_in {
                    if !batch.is_empty() {
                        break;
                    }
                    std::thread::sleep(PAUSE);
                }
                batch.extend_from_slice(&program[next].to_le_bytes());
                credits -= 1;
                next += 1;
            }
            if !batch.is_empty() {
                self.port
                    .write_all(&batch)
                    .and_then(|()| self.port.flush())
                    .map_err(self.io("cannot write"))?;
                link.bytes_to_board += batch.len() as u64;
                deadline = Instant::now() + self.opts.timeout;
                if credits > 0 && next < program.len() {
                    continue;
                }
            }
            let Some(n) = self.read_some(&mut buf, &mut deadline)? else {
                let what = if next < program.len() && credits == 0 {
                    format!("credits for word {next} of {}", program.len())
                } else {
                    format!("output word {} (the MARK echo ends the run)", words.len())
                };
                let what = what + &frames.inside();
                return Err(self.timeout(what, frames.offset, link.bytes_to_board));
            };
            for &b in &buf[..n] {
                // Bytes after the MARK echo belong to no run (like the in-process host, count
                // only what the run read).
                link.bytes_from_board += 1;
                let at = frames.offset;
                match frames.push(b)? {
                    None => {}
                    Some(Frame::Credit(c)) => {
                        credits += u64::from(c);
                        link.credit_frames += 1;
                        link.credits += u64::from(c);
                        link.max_credits = link.max_credits.max(credits);
                    }
                    Some(Frame::Data(w)) => {
                        words.push(w);
                        if next == program.len() && w == last {
                            return Ok(());
                        }
                    }
                    Some(Frame::Status(0)) | Some(Frame::Ident(_)) => {
                        return Err(BoardError::Reset { offset: at });
                    }
                    Some(Frame::Status(s)) => {
                        link.status |= s;
                        return Err(status_error(s, at, link.bytes_to_board));
                    }
                }
            }
        }
    }

    /// Send the first `words` words of `program` with no regard for what comes back, and
    /// leave the board mid-run: for tests of the reset that starts every run.
    pub fn send_partial(&mut self, program: &[u64], words: usize) -> Result<(), BoardError> {
        let _ = self.reset()?;
        let bytes: Vec<u8> = program
            .iter()
            .take(words.min(crate::fpga::uart::RX_FIFO_BYTES as usize / 8))
            .flat_map(|w| w.to_le_bytes())
            .collect();
        self.port
            .write_all(&bytes)
            .and_then(|()| self.port.flush())
            .map_err(self.io("cannot write"))
    }
}

/// A board as a [`Backend`](crate::sim::Backend): `sim`'s layer runs, checks and statistics
/// on real hardware. Each run resets the board and checks its design first.
#[derive(Debug)]
pub struct BoardBackend {
    board: std::sync::Mutex<Board>,
    expected: u64,
    config: String,
}

impl BoardBackend {
    /// `board` must run the board top of `cfg`.
    pub fn new(board: Board, cfg: &crate::config::ArchConfig) -> BoardBackend {
        BoardBackend {
            board: std::sync::Mutex::new(board),
            expected: crate::fpga::uart::design_id(cfg),
            config: cfg.name.clone(),
        }
    }
}

impl crate::sim::Backend for BoardBackend {
    fn name(&self) -> &'static str {
        "board"
    }

    /// Runs `program` on the board; `opts.stall_in` is the share of words before which the
    /// host pauses (for [`PAUSE`]); the cycle limits do not apply (the timeout does). The
    /// result's `cycles` is 0: only the board's own cycle counter knows.
    fn run(
        &self,
        program: &[u64],
        opts: &crate::sim::RunOpts,
    ) -> Result<crate::sim::RunResult, crate::sim::SimError> {
        if program.is_empty() {
            return Err(crate::sim::SimError::EmptyProgram);
        }
        let mut b = self.board.lock().unwrap_or_else(|e| e.into_inner());
        match b.run(
            program,
            self.expected,
            &self.config,
            opts.stall_in,
            opts.seed,
        ) {
            Ok(r) => Ok(crate::sim::RunResult {
                words: r.words,
                cycles: 0,
                link: Some(r.link),
            }),
            Err((source, words)) => Err(crate::sim::SimError::Board { source, words }),
        }
    }
}
