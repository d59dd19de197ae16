//! Where the tool writes, and the one rule it writes by.
//!
//! Every verb that writes a directory (`generate`, `sim --dump`, `report`, `compare`, `fpga`)
//! builds the whole of it in a staging directory beside the target and renames it into place
//! only when every file is written, so a failed run leaves the old output as it was and never a
//! mix of old and new. The rule for what may be replaced:
//!
//! - a path that does not exist, or an empty directory: written;
//! - a directory that holds the marker file [`MARKER`], which the tool writes into every output
//!   directory: replaced whole, since everything in it is the tool's own;
//! - any other directory: refused, unless the user passes `--force`;
//! - a file, a symbolic link, the working directory or one of its ancestors: refused always.
//!
//! Temporary files and directories are registered here while they live, so that Ctrl-C (or
//! SIGTERM, SIGHUP) removes them before the process exits ([`install_signal_cleanup`]); an
//! interrupted swap puts the previous output back.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::io_error::{IoError, io_err};

/// One generated file, relative to the output directory.
#[derive(Debug, Clone, Serialize)]
pub struct OutFile {
    pub path: String,
    #[serde(skip)]
    pub contents: String,
    pub sha256: String,
}

impl OutFile {
    pub fn new(path: impl Into<String>, contents: String) -> OutFile {
        OutFile {
            path: path.into(),
            sha256: hex::encode(Sha256::digest(contents.as_bytes())),
            contents,
        }
    }
}

/// The file that marks a directory as the tool's output, safe to replace on the next run.
pub const MARKER: &str = ".eyeriss-gen";

const MARKER_TEXT: &str = "This directory was written by eyeriss-gen. The next run that writes here replaces it whole:\nkeep your own files elsewhere.\n";

#[derive(Debug, Error)]
pub enum OutputError {
    #[error(
        "{path} is a file, not a directory: name a new or empty directory for the output (nothing was written)"
    )]
    IsFile { path: PathBuf },
    #[error(
        "{path} is a symbolic link: name the directory itself, or a new one (nothing was written)"
    )]
    IsLink { path: PathBuf },
    #[error(
        "{path} holds files eyeriss-gen did not write (it has no {MARKER} marker): name a new or empty directory, or pass --force to replace it whole"
    )]
    NotOurs { path: PathBuf },
    #[error(
        "{path} is the working directory or holds it: name a directory below it for the output"
    )]
    HoldsCwd { path: PathBuf },
    #[error("{path} cannot be an output path: {why}")]
    BadPath { path: PathBuf, why: &'static str },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// What the signal handler must undo for one live temporary.
#[derive(Debug, Clone)]
enum Undo {
    /// Remove this file or directory.
    Remove(PathBuf),
    /// `out` was moved to `old` to make room for the new output: if `out` is missing, move it
    /// back; otherwise the new output is in place and `old` goes.
    Restore { old: PathBuf, out: PathBuf },
}

static LIVE: Mutex<Vec<(u64, Undo)>> = Mutex::new(Vec::new());
static NEXT_ID: Mutex<u64> = Mutex::new(0);

/// A registration of a temporary with the signal handler; dropping it unregisters.
#[derive(Debug)]
pub struct Tracked(u64);

impl Tracked {
    fn new(undo: Undo) -> Tracked {
        let id = {
            let mut n = NEXT_ID.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, undo));
        Tracked(id)
    }

    /// Have the signal handler remove `path` (a file or directory) while this lives.
    pub fn remove_on_signal(path: &Path) -> Tracked {
        Tracked::new(Undo::Remove(path.to_path_buf()))
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| *id != self.0);
    }
}

/// A fresh name `parent/<prefix><pid>-<n>` registered with the signal handler before anything
/// is created there, so that no signal can fall between the creation and the registration.
fn fresh_name(parent: &Path, prefix: &str) -> (PathBuf, Tracked) {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let p = parent.join(format!("{prefix}{}-{n}-{nanos:x}", std::process::id()));
    let t = Tracked::remove_on_signal(&p);
    (p, t)
}

/// Create something new at a [`fresh_name`] with `make` (which must fail with AlreadyExists
/// on a name that is taken), trying again with the next name until one is free.
fn create_fresh(
    parent: &Path,
    prefix: &str,
    make: impl Fn(&Path) -> std::io::Result<()>,
) -> std::io::Result<(PathBuf, Tracked)> {
    loop {
        let (path, tracked) = fresh_name(parent, prefix);
        match make(&path) {
            Ok(()) => return Ok((path, tracked)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Whether `dir` is a directory holding the tool's marker file.
fn is_marked(dir: &Path) -> bool {
    fs::symlink_metadata(dir.join(MARKER)).is_ok_and(|m| m.is_file())
}

/// A temporary directory under `parent` that the signal handler knows of from before it
/// exists; removed on drop unless [`StagingDir::keep`] is called.
#[derive(Debug)]
pub struct StagingDir {
    path: PathBuf,
    tracked: Option<Tracked>,
}

impl StagingDir {
    pub fn new_in(parent: &Path, prefix: &str) -> std::io::Result<StagingDir> {
        let (path, tracked) = create_fresh(parent, prefix, |p| fs::create_dir(p))?;
        Ok(StagingDir {
            path,
            tracked: Some(tracked),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leave the directory where it is (it has become an output or a kept build).
    pub fn keep(mut self) -> PathBuf {
        self.tracked = None;
        std::mem::take(&mut self.path)
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if self.tracked.is_some() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn remove_any(p: &Path) {
    // The main thread may still be writing into it: try a few times.
    for _ in 0..5 {
        let r = match fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(p),
            Ok(_) => fs::remove_file(p),
            Err(_) => return,
        };
        if r.is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Undo every live temporary (the signal handler's work; also callable from tests).
pub fn cleanup_now() {
    let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for (_, undo) in live.into_iter().rev() {
        match undo {
            Undo::Remove(p) => remove_any(&p),
            Undo::Restore { old, out } => {
                if fs::symlink_metadata(&out).is_err() {
                    let _ = fs::rename(&old, &out);
                } else {
                    remove_any(&old);
                }
            }
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP: remove every live temporary, then exit with 130.
pub fn install_signal_cleanup() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        cleanup_now();
        // Not eprintln!: after SIGHUP the terminal may be gone, and a failed print would
        // panic this thread and leave the process running.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "interrupted: temporary files removed, earlier output left as it was"
        );
        std::process::exit(130);
    })
}

/// How an output directory stands before a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    None,
    /// An empty directory, one with the marker, or one the user let go with `--force`.
    Replaceable,
}

/// The absolute form of `out`, without resolving symbolic links in its last component.
fn absolute(out: &Path) -> Result<PathBuf, OutputError> {
    let abs = std::path::absolute(out).map_err(io_err("cannot resolve", out))?;
    // `a/..` and `.` name a directory by another name: resolve them through the parent.
    match abs.file_name() {
        Some(_) if !out.ends_with(".") => Ok(abs),
        _ => Ok(fs::canonicalize(&abs).map_err(io_err("cannot resolve", out))?),
    }
}

fn check(out: &Path, force: bool) -> Result<Existing, OutputError> {
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::None),
        Err(e) => return Err(io_err("cannot inspect", out)(e).into()),
    };
    let path = out.to_path_buf();
    if meta.file_type().is_symlink() {
        return Err(OutputError::IsLink { path });
    }
    if !meta.is_dir() {
        return Err(OutputError::IsFile { path });
    }
    if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize)
        && let Ok(canon) = fs::canonicalize(out)
        && cwd.starts_with(&canon)
    {
        return Err(OutputError::HoldsCwd { path });
    }
    let marked = is_marked(out);
    let empty = fs::read_dir(out)
        .map_err(io_err("cannot read", out))?
        .next()
        .is_none();
    if marked || empty || force {
        Ok(Existing::Replaceable)
    } else {
        Err(OutputError::NotOurs { path })
    }
}

/// Refuse `out` now, before any work, if the run could not replace it at the end.
pub fn check_dir(out: &Path, force: bool) -> Result<(), OutputError> {
    check(&absolute(out)?, force).map(|_| ())
}

/// An output directory being built: write into [`OutDir::path`], then [`OutDir::commit`].
/// Dropped without a commit, it removes what was written and leaves `out` as it was.
#[derive(Debug)]
pub struct OutDir {
    staging: StagingDir,
    out: PathBuf,
    parent: PathBuf,
    force: bool,
}

impl OutDir {
    /// Check that `out` may be written (see the module rule) and open a staging directory
    /// beside it; `--force` lets an unmarked directory be replaced.
    pub fn create(out: &Path, force: bool) -> Result<OutDir, OutputError> {
        let abs = absolute(out)?;
        let parent = abs
            .parent()
            .ok_or(OutputError::BadPath {
                path: out.to_path_buf(),
                why: "it has no parent directory to stage the output in",
            })?
            .to_path_buf();
        check(&abs, force)?;
        fs::create_dir_all(&parent).map_err(io_err("cannot create", &parent))?;
        let staging = StagingDir::new_in(&parent, ".eyeriss-gen-")
            .map_err(io_err("cannot create a staging directory in", &parent))?;
        Ok(OutDir {
            staging,
            out: abs,
            parent,
            force,
        })
    }

    /// The staging directory: the output's contents go here.
    pub fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Write `files` (paths relative to the output) into the staging directory.
    pub fn write_files(&self, files: &[OutFile]) -> Result<(), OutputError> {
        write_tree(self.path(), files)
    }

    /// The output directory, as an absolute path.
    pub fn target(&self) -> &Path {
        &self.out
    }

    /// Mark the output as the tool's and move it into place, replacing what the rule allows.
    pub fn commit(self) -> Result<(), OutputError> {
        let out = self.out.clone();
        self.commit_to(&out)
    }

    /// [`OutDir::commit`] to another directory beside the target (an unmarked one is refused
    /// without `--force`).
    pub fn commit_to(self, out: &Path) -> Result<(), OutputError> {
        let out = &absolute(out)?;
        let staged = self.staging.path().to_path_buf();
        let marker = staged.join(MARKER);
        fs::write(&marker, MARKER_TEXT).map_err(io_err("cannot write", &marker))?;
        // A temporary directory is private; the output should read like any other directory.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&staged, fs::Permissions::from_mode(0o755))
                .map_err(io_err("cannot set permissions on", &staged))?;
        }
        // Look again: something may have appeared at `out` during the run.
        match check(out, self.force)? {
            Existing::None => {
                fs::rename(&staged, out).map_err(io_err("cannot move the output to", out))?
            }
            Existing::Replaceable => {
                // A fresh empty directory to move the old output into, known to the signal
                // handler as one to restore from before the move.
                let (old, fresh) = fresh_name(&self.parent, ".eyeriss-gen-old-");
                let restore = Tracked::new(Undo::Restore {
                    old: old.clone(),
                    out: out.to_path_buf(),
                });
                drop(fresh);
                fs::create_dir(&old)
                    .map_err(io_err("cannot create a staging directory in", &self.parent))?;
                // Renaming a directory onto an empty one replaces it (POSIX rename).
                fs::rename(out, &old).map_err(|e| {
                    let _ = fs::remove_dir(&old);
                    io_err("cannot move aside", out)(e)
                })?;
                if let Err(e) = fs::rename(&staged, out) {
                    let _ = fs::rename(&old, out);
                    return Err(io_err("cannot move the output to", out)(e).into());
                }
                // The new output is in place: from now on `old` is only to be removed.
                let _tracked = Tracked::remove_on_signal(&old);
                drop(restore);
                fs::remove_dir_all(&old).map_err(io_err("cannot remove the old output", &old))?;
            }
        }
        // The staging directory is now the output: it must not be removed on drop.
        let _ = self.staging.keep();
        Ok(())
    }
}

/// Remove `dir` if it is the tool's output (it holds the marker); leave anything else alone.
pub fn remove_dir_if_ours(dir: &Path) -> Result<(), OutputError> {
    if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) && is_marked(dir) {
        fs::remove_dir_all(dir).map_err(io_err("cannot remove", dir))?;
    }
    Ok(())
}

/// Write `files` below `dir` (no staging: for a directory that is itself staged).
pub fn write_tree(dir: &Path, files: &[OutFile]) -> Result<(), OutputError> {
    for f in files {
        let p = safe_join(dir, &f.path)?;
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(io_err("cannot create", d))?;
        }
        fs::write(&p, &f.contents).map_err(io_err("cannot write", &p))?;
    }
    Ok(())
}

/// `dir/rel`, refusing a `rel` that could leave `dir` (absolute, `..`, a drive prefix).
pub fn safe_join(dir: &Path, rel: &str) -> Result<PathBuf, OutputError> {
    use std::path::Component;
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(OutputError::BadPath {
            path: p.to_path_buf(),
            why: "an output file's name must be a relative path without '..'",
        });
    }
    Ok(dir.join(p))
}

/// Write the whole directory `out` from `files`, atomically, under the module's rule.
pub fn write_dir(files: &[OutFile], out: &Path, force: bool) -> Result<(), OutputError> {
    let dir = OutDir::create(out, force)?;
    dir.write_files(files)?;
    dir.commit()
}

/// A single output file written under a temporary name beside it and renamed into place
/// (`--vcd FILE`): the path is checked when this is made, before the run.
#[derive(Debug)]
pub struct OutFileStaged {
    tmp: tempfile::TempPath,
    _tracked: Tracked,
    out: PathBuf,
}

impl OutFileStaged {
    /// Refuse a path that is a directory or whose directory is missing or not writable.
    pub fn create(out: &Path) -> Result<OutFileStaged, OutputError> {
        let path = out.to_path_buf();
        if out.as_os_str().is_empty() || out.file_name().is_none() || out.ends_with(".") {
            return Err(OutputError::BadPath {
                path,
                why: "name a file",
            });
        }
        match fs::symlink_metadata(out) {
            Ok(m) if m.is_dir() => {
                return Err(OutputError::BadPath {
                    path,
                    why: "it is a directory: name a file",
                });
            }
            _ => {}
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            return Err(OutputError::BadPath {
                path,
                why: "its directory does not exist",
            });
        }
        let (tmp, tracked) = create_fresh(parent, ".eyeriss-gen-", |p| {
            fs::File::create_new(p).map(drop)
        })
        .and_then(|(p, t)| Ok((tempfile::TempPath::try_from_path(p)?, t)))
        .map_err(io_err("cannot create a file in", parent))?;
        Ok(OutFileStaged {
            tmp,
            _tracked: tracked,
            out: path,
        })
    }

    /// Where the run writes the file.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Move the written file into place (with the permissions of an ordinary new file).
    pub fn commit(self) -> Result<(), OutputError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.tmp, fs::Permissions::from_mode(0o644))
                .map_err(io_err("cannot set permissions on", &self.tmp))?;
        }
        let out = self.out.clone();
        self.tmp
            .persist(&out)
            .map_err(|e| io_err("cannot move the output to", &out)(e.error).into())
    }
}
