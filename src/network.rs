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

use crate::layer::{ConvLayer, LayerError};

#[derive(Debug, Error)]
pub enum NetworkError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {msg}")]
    Parse { path: PathBuf, msg: String },
    #[error("{path}: layer {index}: {source}")]
    Layer {
        path: PathBuf,
        index: usize,
        #[source]
        source: Box<LayerError>,
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
    pub fn load(path: &Path) -> Result<Network, NetworkError> {
        let parse = |msg: String| NetworkError::Parse {
            path: path.to_path_buf(),
            msg,
        };
        let text = std::fs::read_to_string(path).map_err(|source| NetworkError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut top: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| parse(e.to_string()))?;
        let name = match top.remove("name") {
            Some(toml::Value::String(s)) => s,
            _ => return Err(parse("`name` (a string) is required".into())),
        };
        let layers = match top.remove("layer") {
            Some(toml::Value::Array(a)) if !a.is_empty() => a,
            _ => return Err(parse("at least one [[layer]] is required".into())),
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut out = Vec::with_capacity(layers.len());
        for (index, v) in layers.into_iter().enumerate() {
            let toml::Value::Table(own) = v else {
                return Err(parse(format!("layer {index} is not a table")));
            };
            let mut t = top.clone();
            if let Some(toml::Value::Integer(seed)) = t.get("seed").cloned() {
                t.insert("seed".into(), toml::Value::Integer(seed + index as i64));
            }
            t.extend(own);
            let l = ConvLayer::from_table(t, path, dir).map_err(|source| NetworkError::Layer {
                path: path.to_path_buf(),
                index,
                source: Box::new(source),
            })?;
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
