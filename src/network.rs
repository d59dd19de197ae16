//! Networks: a list of layers in one TOML file. Top-level keys other than `name` are defaults
//! every `[[layer]]` inherits (typically `batch`, `seed`, `shift`, `relu`), so a network reads
//! like its paper table:
//!
//! ```toml
//! name = "alexnet"
//! batch = 4
//! seed = 1
//! [[layer]]
//! name = "conv1"
//! in_channels = 3
//! ...
//! ```
//!
//! Each layer gets its own seed (the network seed plus its index) so layers do not share data.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::toml_file::{self, TomlError};

use crate::layer::{ConvLayer, LayerError, NameError, check_name};

#[derive(Debug, Error)]
pub enum NetworkError {
    #[error(transparent)]
    File(#[from] TomlError),
    #[error("{path}: layer {index}: {source}")]
    Layer {
        path: PathBuf,
        index: usize,
        #[source]
        source: Box<LayerError>,
    },
    #[error("{path}: network {source}")]
    Name {
        path: PathBuf,
        #[source]
        source: NameError,
    },
    #[error("{path}: layers {first} and {second} are both named '{name}'; layer names must differ")]
    DuplicateLayer {
        path: PathBuf,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("network '{network}' has no layer named '{name}'; it has: {have}")]
    NoSuchLayer {
        network: String,
        name: String,
        have: String,
    },
}

#[derive(Debug, Clone)]
pub struct Network {
    pub name: String,
    pub layers: Vec<ConvLayer>,
}

impl Network {
    /// Read a network file; `.npy` paths in it are resolved against its directory.
    /// A network file, or a directory holding one as `network.toml` (what `import` writes).
    pub fn load(path: &Path) -> Result<Network, NetworkError> {
        let owned;
        let path = if path.is_dir() {
            owned = path.join("network.toml");
            owned.as_path()
        } else {
            path
        };
        let text = toml_file::read(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, path, dir)
    }

    /// Parse network TOML; `.npy` paths are resolved against `dir`.
    pub fn from_toml_str(text: &str, dir: &Path) -> Result<Network, NetworkError> {
        Self::parse(text, &dir.join("<string>"), dir)
    }

    fn parse(text: &str, path: &Path, dir: &Path) -> Result<Network, NetworkError> {
        let parse = |msg: String| NetworkError::File(TomlError::parse(path, msg));
        let mut top = toml_file::table(text, path)?;
        let name = match top.remove("name") {
            Some(toml::Value::String(s)) => s,
            Some(other) => {
                return Err(parse(format!(
                    "name = {other}: the network's name must be a string"
                )));
            }
            None => return Err(parse("`name` (a string) is required".into())),
        };
        check_name("name", &name).map_err(|source| NetworkError::Name {
            path: path.to_path_buf(),
            source,
        })?;
        let layers = match top.remove("layer") {
            Some(toml::Value::Array(a)) if !a.is_empty() => a,
            _ => return Err(parse("at least one [[layer]] is required".into())),
        };
        let mut out: Vec<ConvLayer> = Vec::with_capacity(layers.len());
        for (index, v) in layers.into_iter().enumerate() {
            let toml::Value::Table(own) = v else {
                return Err(parse(format!("layer {index} is not a table")));
            };
            let mut t = top.clone();
            if let Some(toml::Value::Integer(seed)) = t.get("seed").cloned() {
                // Layer k gets seed + k; a seed where that overflows is refused by the layer
                // (seeds are non-negative) rather than wrapped to another layer's data.
                let own_seed = i64::try_from(index)
                    .ok()
                    .and_then(|k| seed.checked_add(k))
                    .ok_or_else(|| {
                        parse(format!(
                            "seed = {seed}: layer {index} would get seed {seed} + {index}, past the largest seed {}",
                            i64::MAX
                        ))
                    })?;
                t.insert("seed".into(), toml::Value::Integer(own_seed));
            }
            t.extend(own);
            let l = ConvLayer::from_table(t, path, dir).map_err(|source| NetworkError::Layer {
                path: path.to_path_buf(),
                index,
                source: Box::new(source),
            })?;
            if let Some(first) = out.iter().position(|o| o.name == l.name) {
                return Err(NetworkError::DuplicateLayer {
                    path: path.to_path_buf(),
                    name: l.name,
                    first,
                    second: index,
                });
            }
            out.push(l);
        }
        Ok(Network { name, layers: out })
    }

    /// The layers named in `names` (comma-separated), or all of them for `None`.
    pub fn select(&self, names: Option<&str>) -> Result<Vec<ConvLayer>, NetworkError> {
        let Some(names) = names else {
            return Ok(self.layers.clone());
        };
        names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| {
                self.layers
                    .iter()
                    .find(|l| l.name == n)
                    .cloned()
                    .ok_or_else(|| NetworkError::NoSuchLayer {
                        network: self.name.clone(),
                        name: n.to_string(),
                        have: self
                            .layers
                            .iter()
                            .map(|l| l.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            })
            .collect()
    }
}
