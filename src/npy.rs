//! `.npy` files for layer data and `--dump` output (via `npyz`). Writes are atomic: a
//! temporary file in the same directory, then a rename.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum NpyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: dtype {dtype} is not supported: use int8, int16 or int32")]
    Dtype { path: PathBuf, dtype: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> NpyError + '_ {
    move |source| NpyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
) -> Result<(), NpyError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(path))?;
    {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(BufWriter::new(tmp.as_file()))
            .begin_nd()
            .map_err(io(path))?;
        w.extend(data.iter().copied()).map_err(io(path))?;
        w.finish().map_err(io(path))?;
    }
    // A temporary file is private; the result should read like any other output file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io(path))?;
    }
    tmp.persist(path).map_err(|e| NpyError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

pub fn write_i16(path: &Path, shape: &[u64], data: &[i16]) -> Result<(), NpyError> {
    write(path, shape, data)
}

pub fn write_i32(path: &Path, shape: &[u64], data: &[i32]) -> Result<(), NpyError> {
    write(path, shape, data)
}

/// An integer array read from a `.npy` file, widened to i64.
pub struct IntArray {
    pub shape: Vec<u64>,
    pub data: Vec<i64>,
}

/// Read an int8, int16 or int32 `.npy` file (C order).
pub fn read_int(path: &Path) -> Result<IntArray, NpyError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(io(path))?;
    let shape = npy.shape().to_vec();
    let dtype = npy.dtype();
    let name = match &dtype {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => format!("{other:?}"),
    };
    let data: Vec<i64> = match name.trim_start_matches(['<', '|', '=']) {
        "i1" => npy
            .into_vec::<i8>()
            .map_err(io(path))?
            .into_iter()
            .map(i64::from)
            .collect(),
        "i2" => npy
            .into_vec::<i16>()
            .map_err(io(path))?
            .into_iter()
            .map(i64::from)
            .collect(),
        "i4" => npy
            .into_vec::<i32>()
            .map_err(io(path))?
            .into_iter()
            .map(i64::from)
            .collect(),
        _ => {
            return Err(NpyError::Dtype {
                path: path.to_path_buf(),
                dtype: name,
            });
        }
    };
    Ok(IntArray { shape, data })
}
