//! Loading a bitstream onto a board: `eyeriss-gen program` and `fpga --program`.
//!
//! The loader and how it says that nothing answered are data (`constraints/toolchains/
//! load.toml`); each board file's `[program]` table gives the loader's arguments per memory.
//! The loader's own output (several lines, a progress bar) is kept, and a failure becomes
//! one line that says what is wrong: no board, no permission, or the loader's last words.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Deserialize;

use super::{Board, FpgaError, fill, find_program};

/// The loader's program and its messages (`constraints/toolchains/load.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Loader {
    pub program: String,
    /// How to install it, for the error when it is missing.
    pub install: String,
    /// Text in its output that means no board answered.
    pub no_board: Vec<String>,
    /// Text that means a device is there but may not be opened by this user.
    pub no_access: Vec<String>,
}

impl Loader {
    pub fn load() -> Result<Loader, FpgaError> {
        let name = "toolchains/load.toml";
        let text = super::board::builtin_text(name).unwrap_or_default();
        Ok(crate::toml_file::parse(
            text,
            &Path::new("constraints").join(name),
        )?)
    }
}

/// Which memory of the board the bitstream goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    Sram,
    Flash,
}

impl Memory {
    pub fn as_str(self) -> &'static str {
        match self {
            Memory::Sram => "SRAM",
            Memory::Flash => "flash",
        }
    }
}

/// One load, ready to run or to print.
#[derive(Debug, Clone)]
pub struct LoadCommand {
    pub board: String,
    /// The board file's hint for when the loader finds no board.
    pub hint: Option<String>,
    pub memory: Memory,
    pub program: String,
    pub args: Vec<String>,
    pub bitstream: PathBuf,
}

impl LoadCommand {
    /// The command as a shell would take it.
    pub fn shell(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .map(shell_quote)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `s` quoted for a POSIX shell where it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=+,@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command that loads `bitstream` into `board`'s `memory` (`None`: its SRAM where the
/// loader reaches it, else its flash). Checks that the file is one this board's FPGA takes.
pub fn command(
    board: &Board,
    bitstream: &Path,
    memory: Option<Memory>,
) -> Result<LoadCommand, FpgaError> {
    let bad = |msg: String| FpgaError::Board {
        board: board.name.clone(),
        msg,
    };
    let p = board.program.as_ref().ok_or_else(|| {
        bad("its board file has no [program] table, so the tool does not know how to load it; add the loader's arguments (docs/board.md, \"Loading\")".into())
    })?;
    let (memory, args) = match (memory, &p.sram, &p.flash) {
        (None | Some(Memory::Sram), Some(a), _) => (Memory::Sram, a),
        (None | Some(Memory::Flash), _, Some(a)) => (Memory::Flash, a),
        (Some(Memory::Sram), None, _) => {
            return Err(bad(
                "the loader cannot write this board's SRAM (its [program] table gives `flash` only); drop --sram".into(),
            ));
        }
        (Some(Memory::Flash), _, None) => {
            return Err(bad(
                "the loader cannot write this board's flash (its [program] table gives `sram` only); drop --flash".into(),
            ));
        }
        (None, None, None) => return Err(bad("[program] names no memory".into())),
    };
    let ext = super::Toolchain::load(board.family)?.bitstream_ext;
    if bitstream.extension().and_then(|e| e.to_str()) != Some(ext.as_str()) {
        return Err(bad(format!(
            "{} is not a bitstream for it: an {} board takes a .{ext} file (as `eyeriss-gen fpga --board {}` writes)",
            bitstream.display(),
            board.family.as_str(),
            board.name
        )));
    }
    let loader = Loader::load()?;
    let mut vars = BTreeMap::new();
    vars.insert("bitstream", bitstream.display().to_string());
    let args = args
        .iter()
        .map(|a| fill(a, &vars))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LoadCommand {
        board: board.name.clone(),
        hint: p.hint.clone(),
        memory,
        program: loader.program,
        args,
        bitstream: bitstream.to_path_buf(),
    })
}

/// What a load did.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub seconds: f64,
    /// The loader's output, stdout then stderr.
    pub output: String,
}

/// Run `cmd`, with a spinner when `progress`. A failure is one line: no board, no access to
/// it, or the loader's last line of output.
pub fn run(cmd: &LoadCommand, progress: bool) -> Result<Loaded, FpgaError> {
    let loader = Loader::load()?;
    if !cmd.bitstream.is_file() {
        return Err(FpgaError::Board {
            board: cmd.board.clone(),
            msg: format!(
                "no bitstream {}: build it with `eyeriss-gen fpga --board {}` first",
                cmd.bitstream.display(),
                cmd.board
            ),
        });
    }
    if find_program(&cmd.program).is_none() {
        return Err(FpgaError::LoaderMissing {
            program: cmd.program.clone(),
            install: loader.install,
        });
    }
    let bar = super::spinner(
        &format!(
            "loading {} into the {}'s {} ({})",
            cmd.bitstream.display(),
            cmd.board,
            cmd.memory.as_str(),
            cmd.program
        ),
        progress,
    );
    let t = Instant::now();
    let out = Command::new(&cmd.program)
        .args(&cmd.args)
        .stdin(Stdio::null())
        .output();
    bar.finish_and_clear();
    let out = out.map_err(|source| FpgaError::Spawn {
        program: cmd.program.clone(),
        source,
    })?;
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        return Ok(Loaded {
            seconds: t.elapsed().as_secs_f64(),
            output,
        });
    }
    Err(failure(cmd, &loader, &out.status.to_string(), &output))
}

/// The one-line error for a load whose loader exited with `status` after printing `output`.
pub fn failure(cmd: &LoadCommand, loader: &Loader, status: &str, output: &str) -> FpgaError {
    // A progress bar redraws with carriage returns: a line's last state is what it says.
    let lines: Vec<&str> = output
        .lines()
        .filter_map(|l| l.rsplit('\r').map(str::trim).find(|s| !s.is_empty()))
        .collect();
    let find = |pats: &[String]| {
        lines
            .iter()
            .find(|l| pats.iter().any(|p| l.contains(p.as_str())))
            .map(|l| l.to_string())
    };
    let said = |l: Option<String>| {
        l.or_else(|| lines.last().map(|l| l.to_string()))
            .unwrap_or_else(|| "nothing".into())
    };
    if let Some(l) = find(&loader.no_access) {
        return FpgaError::LoadNoAccess {
            board: cmd.board.clone(),
            program: cmd.program.clone(),
            said: l,
        };
    }
    if let Some(l) = find(&loader.no_board) {
        return FpgaError::NoBoard {
            board: cmd.board.clone(),
            program: cmd.program.clone(),
            said: l,
            hint: cmd
                .hint
                .as_ref()
                .map_or_else(String::new, |h| format!(", {h}")),
        };
    }
    FpgaError::LoadFailed {
        board: cmd.board.clone(),
        program: cmd.program.clone(),
        status: status.to_string(),
        said: said(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_a_shell_would_split() {
        assert_eq!(shell_quote("fpga_out/a-b/x.bit"), "fpga_out/a-b/x.bit");
        assert_eq!(shell_quote("my dir/x.bit"), "'my dir/x.bit'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
