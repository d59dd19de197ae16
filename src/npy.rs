//! `.npy` files for layer data and `--dump` output.
//!
//! Reads are parsed here, so that nothing in a file is taken on trust: the header is checked
//! (magic, version, a bounded Python-literal dict), the dtype must be an integer type with a
//! byte order (both orders are read), Fortran-order data is reordered to C order, and the
//! data must be exactly as long as the header promises — all before the data is allocated.
//! Writes go through `npyz` and are atomic: a temporary file in the same directory, then a
//! rename.

use std::io::{BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;
use thiserror::Error;

use crate::io_error::{IoError, io_err};

#[derive(Debug, Error)]
pub enum NpyError {
    #[error(transparent)]
    Io(#[from] IoError),
    /// Not an `.npy` file, or one whose header cannot be read.
    #[error("{path}: not a readable .npy file: {msg}")]
    Format { path: PathBuf, msg: String },
    #[error("{path}: dtype {dtype}: {problem}")]
    Dtype {
        path: PathBuf,
        /// As the header writes it, e.g. `'<f4'`.
        dtype: String,
        problem: String,
    },
    #[error(
        "{path}: holds {have} of the {want} bytes its header promises (shape {shape:?}, {dtype}): the file is truncated"
    )]
    Truncated {
        path: PathBuf,
        have: u64,
        want: u128,
        shape: Vec<u64>,
        dtype: String,
    },
    #[error(
        "{path}: holds {have} bytes after its header, more than the {want} its header promises (shape {shape:?}, {dtype}): the file is corrupt or holds more than one array"
    )]
    Trailing {
        path: PathBuf,
        have: u64,
        want: u128,
        shape: Vec<u64>,
        dtype: String,
    },
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
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err("cannot write", path))?;
    {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(BufWriter::new(tmp.as_file()))
            .begin_nd()
            .map_err(io_err("cannot write", path))?;
        w.extend(data.iter().copied())
            .map_err(io_err("cannot write", path))?;
        w.finish().map_err(io_err("cannot write", path))?;
    }
    // A temporary file is private; the result should read like any other output file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io_err("cannot write", path))?;
    }
    tmp.persist(path)
        .map_err(|e| io_err("cannot write", path)(e.error))?;
    Ok(())
}

pub fn write_i16(path: &Path, shape: &[u64], data: &[i16]) -> Result<(), NpyError> {
    write(path, shape, data)
}

pub fn write_i32(path: &Path, shape: &[u64], data: &[i32]) -> Result<(), NpyError> {
    write(path, shape, data)
}

/// An integer array read from a `.npy` file, widened to i64, in C (row-major) order whatever
/// the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntArray {
    pub shape: Vec<u64>,
    pub data: Vec<i64>,
}

/// Longest header accepted (numpy writes a few hundred bytes; version 2 allows 4 GiB).
const MAX_HEADER: u64 = 1 << 20;
/// Deepest nesting of tuples, lists and dicts accepted in a header.
const MAX_DEPTH: usize = 16;

/// An integer element type as a header's `descr` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IntType {
    bytes: usize,
    signed: bool,
    big_endian: bool,
}

impl IntType {
    fn name(self) -> String {
        let base = format!(
            "{}int{}",
            if self.signed { "" } else { "u" },
            self.bytes * 8
        );
        if self.big_endian && self.bytes > 1 {
            format!("{base}, big-endian")
        } else {
            base
        }
    }

    fn decode(self, b: &[u8]) -> i64 {
        let mut w = [0u8; 8];
        if self.big_endian {
            w[8 - self.bytes..].copy_from_slice(b);
            w.reverse();
        } else {
            w[..self.bytes].copy_from_slice(b);
        }
        let v = u64::from_le_bytes(w);
        if self.signed {
            // sign-extend from `bytes * 8` bits
            let shift = 64 - 8 * self.bytes as u32;
            ((v << shift) as i64) >> shift
        } else {
            v as i64
        }
    }
}

/// A parsed header: what the data is and how it is laid out.
#[derive(Debug, Clone)]
struct Header {
    ty: IntType,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// The subset of Python literals an `.npy` header is written in.
#[derive(Debug, Clone, PartialEq)]
enum Py {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    /// A tuple or a list.
    Seq(Vec<Py>),
    Dict(Vec<(Py, Py)>),
}

impl std::fmt::Display for Py {
    /// As Python would write it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |f: &mut std::fmt::Formatter<'_>, items: &[Py]| {
            for (k, v) in items.iter().enumerate() {
                write!(f, "{}{v}", if k > 0 { ", " } else { "" })?;
            }
            Ok(())
        };
        match self {
            Py::Str(s) => write!(f, "'{}'", s.escape_default()),
            Py::Int(v) => write!(f, "{v}"),
            Py::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Py::None => write!(f, "None"),
            Py::Seq(items) => {
                write!(f, "(")?;
                list(f, items)?;
                write!(f, "{})", if items.len() == 1 { "," } else { "" })
            }
            Py::Dict(items) => {
                write!(f, "{{")?;
                for (k, (a, b)) in items.iter().enumerate() {
                    write!(f, "{}{a}: {b}", if k > 0 { ", " } else { "" })?;
                }
                write!(f, "}}")
            }
        }
    }
}

struct PyParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl PyParser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("header: {what} at byte {}", self.i))
    }

    /// "expected `what`", saying what is there instead.
    fn expected<T>(&mut self, what: &str) -> Result<T, String> {
        let found = match self.peek() {
            Some(c) if c.is_ascii_graphic() => format!("'{}'", c as char),
            Some(c) => format!("byte 0x{c:02x}"),
            None => "the end".into(),
        };
        self.err(&format!("expected {what}, found {found}"))
    }

    fn value(&mut self, depth: usize) -> Result<Py, String> {
        if depth > MAX_DEPTH {
            return self.err(&format!("nested more than {MAX_DEPTH} deep"));
        }
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i).copied() {
                        None => return self.err("unterminated string"),
                        Some(c) if c == q => break,
                        Some(b'\\') => {
                            self.i += 1;
                            match self.s.get(self.i) {
                                Some(&c) => out.push(c),
                                None => return self.err("unterminated string"),
                            }
                        }
                        Some(c) => out.push(c),
                    }
                    self.i += 1;
                }
                self.i += 1;
                String::from_utf8(out)
                    .map(Py::Str)
                    .or_else(|_| self.err("a string that is not UTF-8"))
            }
            Some(open @ (b'(' | b'[')) => {
                self.i += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                while !self.eat(close) {
                    items.push(self.value(depth + 1)?);
                    if !self.eat(b',') && self.peek() != Some(close) {
                        return self.expected(&format!("',' or '{}'", close as char));
                    }
                }
                Ok(Py::Seq(items))
            }
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b'}') {
                    let k = self.value(depth + 1)?;
                    if !self.eat(b':') {
                        return self.expected("':'");
                    }
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    if !self.eat(b',') && self.peek() != Some(b'}') {
                        return self.expected("',' or '}'");
                    }
                }
                Ok(Py::Dict(items))
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                let v = text
                    .parse::<i128>()
                    .or_else(|_| self.err(&format!("integer {text} cannot be read")))?;
                // Python 2 wrote long integers with an L suffix
                if matches!(self.s.get(self.i), Some(b'L' | b'l')) {
                    self.i += 1;
                }
                Ok(Py::Int(v))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(u8::is_ascii_alphanumeric) {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(Py::Bool(true)),
                    b"False" => Ok(Py::Bool(false)),
                    b"None" => Ok(Py::None),
                    w => {
                        self.i = start;
                        self.err(&format!("unexpected word '{}'", String::from_utf8_lossy(w)))
                    }
                }
            }
            Some(c) if c.is_ascii_graphic() => {
                self.err(&format!("unexpected character '{}'", c as char))
            }
            Some(c) => self.err(&format!("unexpected byte 0x{c:02x}")),
            None => self.err("unexpected end"),
        }
    }
}

/// An integer type from a dtype string such as `<i2`, or why it is not one.
fn int_type(descr: &str) -> Result<IntType, String> {
    let (order, rest) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (Some(c), &descr[1..]),
        _ => (None, descr),
    };
    let split = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let (kind, size) = rest.split_at(split);
    let bytes: Option<usize> = size.parse().ok();
    let not_int = |what: String| {
        Err(format!(
            "{what} is not an integer type: layer data must be int8, int16, int32 or int64 \
             (numpy: x.astype(np.int16))"
        ))
    };
    let bits = |b: Option<usize>| b.map_or("?".to_string(), |b| (b * 8).to_string());
    let signed = match (kind, bytes) {
        ("i", Some(1 | 2 | 4 | 8)) => true,
        ("u", Some(1 | 2 | 4)) => false,
        ("u", Some(8)) => {
            return Err(
                "uint64 values need not fit the int64 the data is read into: save as int64 or narrower"
                    .into(),
            );
        }
        ("i" | "u", _) => return Err(format!("an integer of {size} bytes is not a numpy type")),
        ("b", _) => return not_int("bool".into()),
        ("f", b) => return not_int(format!("float{}", bits(b))),
        ("c", b) => return not_int(format!("complex{}", bits(b))),
        ("S" | "a", _) => return not_int("a byte string".into()),
        ("U", _) => return not_int("a unicode string".into()),
        ("O", _) => return not_int("a Python object (pickled) array".into()),
        ("M", _) => return not_int("datetime64".into()),
        ("m", _) => return not_int("timedelta64".into()),
        ("V", _) => return not_int("a raw (void) type".into()),
        _ => return Err("is not a numpy type string".into()),
    };
    let bytes = bytes.unwrap_or(1);
    let big_endian = match (order, bytes) {
        (_, 1) => false,
        (Some('<'), _) => false,
        (Some('>'), _) => true,
        (Some('='), _) => {
            return Err(
                "byte order '=' (native) does not say which machine's order the file is in: save with '<' or '>'"
                    .into(),
            );
        }
        _ => {
            return Err(format!(
                "a {}-byte integer needs a byte order, '<' or '>'",
                bytes
            ));
        }
    };
    Ok(IntType {
        bytes,
        signed,
        big_endian,
    })
}

/// The header dict of an `.npy` file.
fn parse_header(path: &Path, text: &[u8]) -> Result<Header, NpyError> {
    let format = |msg: String| NpyError::Format {
        path: path.to_path_buf(),
        msg,
    };
    let mut p = PyParser { s: text, i: 0 };
    let dict = match p.value(0).map_err(format)? {
        Py::Dict(d) => d,
        other => return Err(format(format!("header: {other} is not a dict"))),
    };
    if p.peek().is_some() {
        return Err(format(format!(
            "header: unexpected text after the dict at byte {}",
            p.i
        )));
    }
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (k, v) in dict {
        let Py::Str(k) = k else {
            return Err(format(format!("header: key {k} is not a string")));
        };
        let slot = match k.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => return Err(format(format!("header: unknown key '{other}'"))),
        };
        if slot.replace(v).is_some() {
            return Err(format(format!("header: key '{k}' given twice")));
        }
    }
    let missing = |k: &str| format(format!("header: no '{k}'"));
    let fortran_order = match fortran.ok_or_else(|| missing("fortran_order"))? {
        Py::Bool(b) => b,
        other => {
            return Err(format(format!(
                "header: fortran_order {other} is not True or False"
            )));
        }
    };
    let shape = match shape.ok_or_else(|| missing("shape"))? {
        Py::Seq(dims) => dims
            .iter()
            .map(|d| match d {
                Py::Int(v) => u64::try_from(*v).ok(),
                _ => None,
            })
            .collect::<Option<Vec<u64>>>()
            .ok_or_else(|| {
                format(format!(
                    "header: shape {} is not a tuple of sizes",
                    Py::Seq(dims.clone())
                ))
            })?,
        other => {
            return Err(format(format!("header: shape {other} is not a tuple")));
        }
    };
    let ty = match descr.ok_or_else(|| missing("descr"))? {
        Py::Str(d) => int_type(&d).map_err(|problem| NpyError::Dtype {
            path: path.to_path_buf(),
            dtype: format!("'{d}'"),
            problem,
        })?,
        Py::Seq(_) => {
            return Err(NpyError::Dtype {
                path: path.to_path_buf(),
                dtype: "[...]".into(),
                problem: "a structured dtype (a list of fields) is not layer data: save a plain integer array".into(),
            });
        }
        other => {
            return Err(format(format!(
                "header: descr {other} is not a dtype string"
            )));
        }
    };
    Ok(Header {
        ty,
        fortran_order,
        shape,
    })
}

/// An integer `.npy` file whose header has been read and checked against the file's length:
/// look at [`shape`](IntFile::shape) before [`read`](IntFile::read) allocates the data.
pub struct IntFile<R> {
    path: PathBuf,
    reader: R,
    header: Header,
    data_len: u64,
}

/// Open an integer `.npy` file (int8..int64, uint8..uint32, either byte order, C or Fortran
/// order) and read its header.
pub fn open_int(path: &Path) -> Result<IntFile<std::io::BufReader<std::fs::File>>, NpyError> {
    let f = std::fs::File::open(path).map_err(io_err("cannot read", path))?;
    let meta = f.metadata().map_err(io_err("cannot read", path))?;
    // a directory, a device or a pipe has no length to check the header against
    if !meta.is_file() {
        return Err(NpyError::Io(io_err("cannot read", path)(
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
        )));
    }
    let len = meta.len();
    IntFile::new(path, std::io::BufReader::new(f), len)
}

/// Read an integer `.npy` file (see [`open_int`]); the data comes out in C order.
pub fn read_int(path: &Path) -> Result<IntArray, NpyError> {
    open_int(path)?.read()
}

/// [`read_int`] on the bytes of a file; `path` names them in errors.
pub fn parse_int(path: &Path, bytes: &[u8]) -> Result<IntArray, NpyError> {
    IntFile::new(path, std::io::Cursor::new(bytes), bytes.len() as u64)?.read()
}

impl<R: Read + Seek> IntFile<R> {
    /// Read the header from `reader`, which holds `len` bytes.
    fn new(path: &Path, mut reader: R, len: u64) -> Result<IntFile<R>, NpyError> {
        let format = |msg: String| NpyError::Format {
            path: path.to_path_buf(),
            msg,
        };
        let mut pre = [0u8; 12];
        let n = read_up_to(&mut reader, &mut pre).map_err(io_err("cannot read", path))?;
        if n < 8 || &pre[..6] != b"\x93NUMPY" {
            return Err(format(
                "it does not start with the .npy magic bytes \\x93NUMPY".into(),
            ));
        }
        let (hlen, at) = match pre[6] {
            1 if n >= 10 => (u64::from(u16::from_le_bytes([pre[8], pre[9]])), 10),
            2 | 3 if n >= 12 => (
                u64::from(u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]])),
                12,
            ),
            1..=3 => return Err(format("the file ends inside its preamble".into())),
            v => {
                return Err(format(format!(
                    "format version {v}.{} is not one of 1.0, 2.0, 3.0",
                    pre[7]
                )));
            }
        };
        if hlen > MAX_HEADER {
            return Err(format(format!(
                "its header would be {hlen} bytes long, more than the {MAX_HEADER} accepted"
            )));
        }
        if at + hlen > len {
            return Err(format(format!(
                "its header would be {hlen} bytes long, the file ends after {}",
                len.saturating_sub(at)
            )));
        }
        let mut text = vec![0u8; hlen as usize];
        reader
            .seek(SeekFrom::Start(at))
            .map_err(io_err("cannot read", path))?;
        reader
            .read_exact(&mut text)
            .map_err(io_err("cannot read", path))?;
        let header = parse_header(path, &text)?;
        // Every product of its sizes must fit 64 bits, even with a 0 among them: whoever
        // multiplies them out later (element counts, offsets) must not overflow.
        if header
            .shape
            .iter()
            .filter(|&&d| d > 0)
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .is_none()
        {
            return Err(format(format!(
                "shape {:?} has more elements than a 64-bit count holds",
                header.shape
            )));
        }
        let data_len = len - at - hlen;
        let f = IntFile {
            path: path.to_path_buf(),
            reader,
            header,
            data_len,
        };
        let want = f.promised();
        let (have, shape, dtype) = (data_len, f.header.shape.clone(), f.header.ty.name());
        let path = path.to_path_buf();
        if u128::from(have) < want {
            return Err(NpyError::Truncated {
                path,
                have,
                want,
                shape,
                dtype,
            });
        }
        if u128::from(have) > want {
            return Err(NpyError::Trailing {
                path,
                have,
                want,
                shape,
                dtype,
            });
        }
        Ok(f)
    }

    /// Data bytes the header promises.
    fn promised(&self) -> u128 {
        self.header
            .shape
            .iter()
            .fold(self.header.ty.bytes as u128, |n, &d| {
                n.saturating_mul(u128::from(d))
            })
    }

    /// The array's shape as its header gives it.
    pub fn shape(&self) -> &[u64] {
        &self.header.shape
    }

    /// Read the data (as many bytes as the file holds, checked when it was opened).
    pub fn read(mut self) -> Result<IntArray, NpyError> {
        let path = &self.path;
        let mut bytes = vec![
            0u8;
            usize::try_from(self.data_len).map_err(|_| NpyError::Format {
                path: path.clone(),
                msg: format!(
                    "{} bytes of data do not fit this machine's memory",
                    self.data_len
                ),
            })?
        ];
        self.reader
            .read_exact(&mut bytes)
            .map_err(io_err("cannot read", path))?;
        let ty = self.header.ty;
        let flat: Vec<i64> = bytes.chunks_exact(ty.bytes).map(|b| ty.decode(b)).collect();
        let shape = self.header.shape;
        let data = if self.header.fortran_order && shape.len() > 1 {
            fortran_to_c(&shape, &flat)
        } else {
            flat
        };
        Ok(IntArray { shape, data })
    }
}

/// Fill `buf` as far as the reader goes; the count read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reorder column-major (Fortran, first index fastest) data of `shape` into row-major order.
fn fortran_to_c<T: Copy>(shape: &[u64], data: &[T]) -> Vec<T> {
    if data.is_empty() {
        return Vec::new();
    }
    // `data.len()` is the product of the shape, so every dimension and stride fits a usize.
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let mut stride = vec![1usize; dims.len()];
    for k in 1..dims.len() {
        stride[k] = stride[k - 1] * dims[k - 1];
    }
    let mut out = Vec::with_capacity(data.len());
    let mut idx = vec![0usize; dims.len()];
    let mut at = 0usize;
    for _ in 0..data.len() {
        out.push(data[at]);
        // the C-order odometer: the last index turns fastest
        for k in (0..dims.len()).rev() {
            idx[k] += 1;
            at += stride[k];
            if idx[k] < dims[k] {
                break;
            }
            at -= stride[k] * dims[k];
            idx[k] = 0;
        }
    }
    out
}

pub fn write_f32(path: &Path, shape: &[u64], data: &[f32]) -> Result<(), NpyError> {
    write(path, shape, data)
}

/// A float array (`<f4` or `<f8`, narrowed to f32) in C order: model inputs and outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatArray {
    pub shape: Vec<u64>,
    pub data: Vec<f32>,
}

/// Read a float `.npy` (little- or big-endian f32 or f64, C or Fortran order) with npyz,
/// refusing integer files and arrays larger than [`crate::layer::MAX_TENSOR_ELEMENTS`].
pub fn read_f32(path: &Path) -> Result<FloatArray, NpyError> {
    let bytes = std::fs::read(path).map_err(io_err("cannot read", path))?;
    let fmt = |msg: String| NpyError::Format {
        path: path.to_path_buf(),
        msg,
    };
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| fmt(e.to_string()))?;
    let shape = npy.shape().to_vec();
    let elements = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    if elements.is_none_or(|n| n > crate::layer::MAX_TENSOR_ELEMENTS) {
        return Err(fmt(format!(
            "shape {shape:?} has more than {} elements",
            crate::layer::MAX_TENSOR_ELEMENTS
        )));
    }
    let dtype = npy.dtype();
    let descr = match &dtype {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    let bad = |problem: &str| NpyError::Dtype {
        path: path.to_path_buf(),
        dtype: format!("'{descr}'"),
        problem: problem.into(),
    };
    let npyz::DType::Plain(t) = &dtype else {
        return Err(bad("a structured dtype: give a plain float32 array"));
    };
    let fortran = npy.order() == npyz::Order::Fortran;
    let mut data: Vec<f32> = match (t.type_char(), t.size_field()) {
        (npyz::TypeChar::Float, 4) => npy.into_vec::<f32>().map_err(|e| fmt(e.to_string()))?,
        (npyz::TypeChar::Float, 8) => npy
            .into_vec::<f64>()
            .map_err(|e| fmt(e.to_string()))?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        _ => {
            return Err(bad(
                "not a float array: give float32 values (as the model's input)",
            ));
        }
    };
    if fortran && shape.len() > 1 {
        data = fortran_to_c(&shape, &data);
    }
    Ok(FloatArray { shape, data })
}
