//! Offline symbolization of code addresses: DWARF (with inline frames) through
//! [`addr2line`]/[`gimli`]/[`object`], with a symbol-table fallback.
//!
//! Two layers, as in the `addr2line` crate:
//!
//! * [`Context`] works on an already parsed [`object::File`] and a section
//!   provider: no file access, no `unsafe`. It parses lazily (per compilation
//!   unit, inside `addr2line`) and caches every result, errors included.
//! * [`Module`] (in [`loader`]) owns the files: it memory-maps the object, finds
//!   the separate debug file (`/usr/lib/debug/.build-id/xx/yyyy.debug`, then
//!   `.gnu_debuglink` with its CRC checked), decompresses compressed debug
//!   sections once, and hands out contexts borrowing from itself. A `Module` is
//!   `Sync`, so several threads can each build their own [`Context`] on it.
//!
//! Addresses are link-time addresses of the module (for a shared object or a
//! PIE: the offset from its load base, as printed by glibc's `(+0x…)`). A
//! return address should be looked up at `pc - 1` ([`Probe::ReturnAddress`]),
//! the faulting frame as is ([`Probe::Exact`]).
//!
//! `gimli` and `object` are re-exported so that callers cannot mix versions.

pub use addr2line;
pub use gimli;
pub use object;

mod context;
pub mod demangle;
pub mod loader;

pub use context::{Context, Frame, Lookup, SymbolHit, unmangled_language};
pub use loader::{LoadOptions, Module};

use std::fmt;
use std::path::PathBuf;

/// How a frame's address must be probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The address of the faulting instruction: looked up as is.
    Exact(u64),
    /// A return address: looked up at `addr - 1` (the call instruction).
    ReturnAddress(u64),
}

impl Probe {
    /// The address actually looked up.
    pub fn lookup_address(self) -> u64 {
        match self {
            Probe::Exact(a) => a,
            Probe::ReturnAddress(a) => a.saturating_sub(1),
        }
    }
}

/// Errors of the symbolizer.
#[derive(Debug)]
pub enum Error {
    /// A file could not be opened or mapped.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not an object file this crate can read.
    Object {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: object::Error,
    },
    /// The DWARF data is malformed.
    Dwarf(gimli::Error),
    /// The object file has a build-id different from the expected one.
    BuildIdMismatch {
        /// The file.
        path: PathBuf,
        /// The build-id that was expected (hex).
        expected: String,
        /// The build-id the file has (hex), or `None` if it has none.
        found: Option<String>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::Object { path, source } => {
                write!(
                    f,
                    "{}: not a readable object file: {}",
                    path.display(),
                    source
                )
            }
            Error::Dwarf(e) => write!(f, "malformed DWARF: {e}"),
            Error::BuildIdMismatch {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: build-id {} does not match the expected {}",
                path.display(),
                found.as_deref().unwrap_or("(none)"),
                expected
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Object { source, .. } => Some(source),
            Error::Dwarf(e) => Some(e),
            Error::BuildIdMismatch { .. } => None,
        }
    }
}

impl From<gimli::Error> for Error {
    fn from(e: gimli::Error) -> Self {
        Error::Dwarf(e)
    }
}

/// Lower-case hexadecimal spelling of bytes (build-ids).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Parses a hexadecimal build-id spelling (case-insensitive); `None` if invalid.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
    }
    Some(out)
}
