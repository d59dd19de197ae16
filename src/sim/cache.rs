//! The Verilator build cache, shared by the system simulator ([`super::verilator`]) and the
//! block differential tests ([`super::diff`]): one directory per build under the cache root
//! ([`cache_root`]), holding the simulation binary, the Verilog it was built from and the
//! build log.
//!
//! The key of a build is a SHA-256 over, in this order, each Verilog file's path and text, each
//! harness source, the Verilator control file (if any), the output of `verilator --version`
//! and every Verilator flag, each field written as a tag, its length as a little-endian u64
//! and its bytes, so that no two different builds can give the same byte stream. Any change
//! to a template, a harness, the control file, the tool or a flag therefore builds anew, and
//! an unchanged build is found again by every later run. Entries written by earlier versions
//! stay valid as long as this recipe does not change: changing it orphans every entry.
//!
//! A build is atomic so that a directory named by a key always holds a complete binary: it
//! runs in a staging directory (`.build-*`) inside the cache root and is renamed onto the
//! key's directory only once Verilator succeeded, so an interrupted build (Ctrl-C removes the
//! staging directory, a crash leaves only a `.build-*` directory) or a failed one (its log is
//! kept as `<key>-failed.log`) never leaves a half-built entry that a later run would take
//! for a good one. Builds of one key are serialized with a lock file (`<key>.lock`), since
//! tests and runs in parallel often want the same build: the one that waited finds the entry
//! in place and uses it instead of building it twice. The lock file goes once the entry is in
//! place (a failed build's stays, beside its log).

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{SimError, io_err};
use crate::emit::OutFile;

/// The Verilator control file's name in a build directory.
const CONTROL_FILE: &str = "eyeriss.vlt";
/// The simulation binary's name in a cache entry.
const BINARY: &str = "Vharness";
const BUILD_LOG: &str = "build.log";

/// The build cache root: `$EYERISS_SIM_CACHE`, else `$XDG_CACHE_HOME/eyeriss-gen/verilator`,
/// else `$HOME/.cache/eyeriss-gen/verilator`, else a directory under the system temp dir.
pub fn cache_root() -> PathBuf {
    let nonempty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty());
    if let Some(d) = nonempty("EYERISS_SIM_CACHE") {
        return PathBuf::from(d);
    }
    let base = nonempty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| nonempty("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("eyeriss-gen").join("verilator")
}

fn verilator_version() -> Result<String, SimError> {
    match Command::new("verilator").arg("--version").output() {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(_) => Err(SimError::VerilatorNotFound),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(SimError::VerilatorNotFound),
        Err(e) => Err(io_err("cannot run", Path::new("verilator"))(e).into()),
    }
}

/// The cache key of a build: the Verilog, the harness, the tool version and the flags.
fn cache_key(
    files: &[&OutFile],
    harness: &[(&str, &str)],
    control: Option<&str>,
    version: &str,
    flags: &[String],
) -> String {
    let mut h = Sha256::new();
    let mut field = |tag: &str, bytes: &[u8]| {
        h.update(tag.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for f in files {
        field("file", f.path.as_bytes());
        field("text", f.contents.as_bytes());
    }
    for (_, src) in harness {
        field("harness", src.as_bytes());
    }
    if let Some(src) = control {
        field("control", src.as_bytes());
    }
    field("version", version.as_bytes());
    for flag in flags {
        field("flag", flag.as_bytes());
    }
    hex::encode(h.finalize())
}

/// One Verilator build: Verilog files, a C++ harness with `main`, and the flags. The system
/// simulator and the block differential tests ([`super::diff`]) share the cache through this.
pub(crate) struct BuildSpec<'a> {
    pub verilog: Vec<&'a OutFile>,
    /// (file name, source) of the C++ harness files; the first is compiled.
    pub harness: Vec<(&'a str, &'a str)>,
    /// A Verilator control file (`.vlt`), read before the Verilog.
    pub control: Option<&'a str>,
    pub flags: Vec<String>,
    /// What the progress spinner calls the build.
    pub label: String,
}

/// Return the binary for this build, building it into the cache if needed.
pub(crate) fn build_cached(
    spec: &BuildSpec,
    cache: &Path,
    progress: bool,
) -> Result<PathBuf, SimError> {
    let version = verilator_version()?;
    let key = cache_key(
        &spec.verilog,
        &spec.harness,
        spec.control,
        &version,
        &spec.flags,
    );
    let entry = cache.join(&key);
    let binary = entry.join(BINARY);
    // One build per key at a time; the loser of the race finds the entry in place. Once the
    // entry exists the lock file has done its work and is removed (also one an older version
    // left): nobody builds a key whose entry exists, and a run still waiting on the removed
    // file finds the entry when its lock is granted.
    let lock_path = cache.join(format!("{key}.lock"));
    let done = |binary: PathBuf| {
        let _ = fs::remove_file(&lock_path);
        Ok(binary)
    };
    if binary.is_file() {
        return done(binary);
    }
    fs::create_dir_all(cache).map_err(io_err("cannot create the cache directory", cache))?;
    let lock = fs::File::create(&lock_path).map_err(io_err("cannot create", &lock_path))?;
    lock.lock().map_err(io_err("cannot lock", &lock_path))?;
    if binary.is_file() {
        return done(binary);
    }

    let tmp = crate::output::StagingDir::new_in(cache, ".build-")
        .map_err(io_err("cannot create a build directory in", cache))?;
    for f in &spec.verilog {
        let p = tmp.path().join(&f.path);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).map_err(io_err("cannot create", d))?;
        }
        fs::write(&p, &f.contents).map_err(io_err("cannot write", &p))?;
    }
    for (name, src) in &spec.harness {
        let p = tmp.path().join(name);
        fs::write(&p, src).map_err(io_err("cannot write", &p))?;
    }
    if let Some(src) = spec.control {
        let p = tmp.path().join(CONTROL_FILE);
        fs::write(&p, src).map_err(io_err("cannot write", &p))?;
    }
    let log_path = tmp.path().join(BUILD_LOG);
    let log = fs::File::create(&log_path).map_err(io_err("cannot create", &log_path))?;
    let log_err = log.try_clone().map_err(io_err("cannot open", &log_path))?;

    let mut cmd = Command::new("verilator");
    cmd.current_dir(tmp.path())
        .args(&spec.flags)
        .args(["--Mdir", "obj_dir", "-o", BINARY])
        .args(spec.control.map(|_| CONTROL_FILE))
        .args(spec.verilog.iter().map(|f| f.path.as_str()))
        .arg(spec.harness[0].0)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);

    let spinner = progress.then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .expect("valid spinner template"),
        );
        pb.set_message(format!("building {}", spec.label));
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    });
    let status = cmd.status();
    if let Some(pb) = &spinner {
        pb.finish_and_clear();
    }
    let status = match status {
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(SimError::VerilatorNotFound),
        other => other.map_err(io_err("cannot run verilator in", tmp.path()))?,
    };
    if !status.success() {
        // Keep the log where the user can read it; the build directory goes away.
        let kept = cache.join(format!("{key}-failed.log"));
        fs::copy(&log_path, &kept).map_err(io_err("cannot keep the build log as", &kept))?;
        return Err(SimError::Build {
            status: status.to_string(),
            log: kept,
        });
    }

    // Keep the binary, the Verilog and the log; drop the object files.
    let built = tmp.path().join("obj_dir").join(BINARY);
    let staged = tmp.path().join(BINARY);
    fs::rename(&built, &staged).map_err(io_err("cannot move", &built))?;
    let objs = tmp.path().join("obj_dir");
    fs::remove_dir_all(&objs).map_err(io_err("cannot remove", &objs))?;
    let tmp = tmp.keep();
    if let Err(e) = fs::rename(&tmp, &entry) {
        // Another process (without the lock, e.g. an older version) put the entry in place.
        let _ = fs::remove_dir_all(&tmp);
        if !binary.is_file() {
            return Err(io_err("cannot move the build into", &entry)(e).into());
        }
    }
    done(binary)
}
