//! DBUG-compatible tracer (MySQL/MariaDB `dbug`), byte-compatible in its output.
#![deny(missing_docs)]

mod control;
pub mod engine;
mod glob;
mod list;
mod stream;
mod sys;

pub use control::{ControlString, Field, MAX_FILE_NAME, ParseError, ParseErrorKind, Sign};
pub use engine::{Explained, FrameToken, OpenError};
pub use glob::fnmatch;
pub use stream::{flush_all, stdout_write_flush};
