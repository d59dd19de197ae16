//! An I/O failure on a path, with what the tool was doing: one type for every module's `Io`
//! error, so each message reads "cannot write out/ofmap.npy: No space left on device".

use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
#[error("{what} {path}: {source}")]
pub struct IoError {
    /// What was being done, as the message starts: "cannot read", "cannot create".
    pub what: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// For `map_err`: an I/O error on `path` while doing `what`.
pub fn io_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> IoError + use<> {
    let path = path.to_path_buf();
    move |source| IoError { what, path, source }
}
