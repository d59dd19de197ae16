//! How the tool reads its TOML inputs (configs, layers, networks, energy tables, boards): one
//! way to read a file, one error type for what can go wrong before a file's own fields are
//! checked, and the `base` chain that config and board presets share (a file names the file
//! it overrides; tables merge key by key, the overriding file's values win).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::io_error::{IoError, io_err};

#[derive(Debug, Error)]
pub enum TomlError {
    #[error(transparent)]
    Io(#[from] IoError),
    /// Not TOML, or not the shape the file kind has (`msg` is toml's, with line and column).
    #[error("{path}: {msg}")]
    Parse { path: PathBuf, msg: String },
    #[error("{path}: `base` chain includes {path} twice (base files form a cycle)")]
    BaseCycle { path: PathBuf },
}

impl TomlError {
    pub fn parse(path: &Path, msg: impl Into<String>) -> TomlError {
        TomlError::Parse {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }
}

/// A regular file's text. A directory or a device (`/dev/zero`) is refused rather than read
/// until memory runs out: input file names come from the command line and from other files.
pub fn read(path: &Path) -> Result<String, TomlError> {
    let meta = std::fs::metadata(path).map_err(io_err("cannot read", path))?;
    if !meta.is_file() {
        return Err(io_err("cannot read", path)(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
        .into());
    }
    Ok(std::fs::read_to_string(path).map_err(io_err("cannot read", path))?)
}

/// TOML text as a table; `path` names the source in errors.
pub fn table(text: &str, path: &Path) -> Result<toml::Table, TomlError> {
    text.parse()
        .map_err(|e: toml::de::Error| TomlError::parse(path, e.to_string()))
}

/// A table as the typed value of a file kind (unknown keys are the kind's `deny_unknown_fields`
/// business).
pub fn decode<T: DeserializeOwned>(table: toml::Table, path: &Path) -> Result<T, TomlError> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| TomlError::parse(path, e.to_string()))
}

/// TOML text straight to a typed value (messages keep toml's line and column).
pub fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, TomlError> {
    toml::from_str(text).map_err(|e| TomlError::parse(path, e.to_string()))
}

/// `over` merged onto `base`: sub-tables key by key, any other value replaced.
pub fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Resolve `table`'s `base` key, if any: `load` gives the named file's table (its own chain
/// resolved), and `table` is merged over it.
pub fn with_base(
    mut table: toml::Table,
    path: &Path,
    load: impl FnOnce(&str) -> Result<toml::Table, TomlError>,
) -> Result<toml::Table, TomlError> {
    match table.remove("base") {
        None => Ok(table),
        Some(toml::Value::String(b)) => {
            let mut merged = load(&b)?;
            merge(&mut merged, table);
            Ok(merged)
        }
        Some(other) => Err(TomlError::parse(
            path,
            format!("`base` must be a file name, not {}", other.type_str()),
        )),
    }
}

/// Guards a `base` chain against cycles: each file's key (a canonical path, a built-in name)
/// may appear once.
#[derive(Debug, Default)]
pub struct Chain(Vec<PathBuf>);

impl Chain {
    /// Enter `key` (shown as `path` in the error).
    pub fn enter(&mut self, key: PathBuf, path: &Path) -> Result<(), TomlError> {
        if self.0.contains(&key) {
            return Err(TomlError::BaseCycle {
                path: path.to_path_buf(),
            });
        }
        self.0.push(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_merges_tables_key_by_key() {
        let over = table("base = \"b.toml\"\nx = 1\n[t]\na = 2\n", Path::new("o")).unwrap();
        let t = with_base(over, Path::new("o"), |name| {
            assert_eq!(name, "b.toml");
            table("x = 0\ny = 5\n[t]\na = 1\nb = 3\n", Path::new("b"))
        })
        .unwrap();
        assert_eq!(
            t.to_string(),
            "x = 1\ny = 5\n\n[t]\na = 2\nb = 3\n",
            "over's values win, the rest of base stays"
        );
    }

    #[test]
    fn a_base_that_is_not_a_name_is_refused() {
        let t = table("base = 3\n", Path::new("c.toml")).unwrap();
        let e = with_base(t, Path::new("c.toml"), |_| unreachable!()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.toml: `base` must be a file name, not integer"
        );
    }

    #[test]
    fn a_cycle_is_named() {
        let mut c = Chain::default();
        c.enter("a".into(), Path::new("a.toml")).unwrap();
        c.enter("b".into(), Path::new("b.toml")).unwrap();
        let e = c.enter("a".into(), Path::new("x/a.toml")).unwrap_err();
        assert!(e.to_string().contains("x/a.toml twice"), "{e}");
    }

    #[test]
    fn directories_are_not_read() {
        let e = read(Path::new(".")).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
