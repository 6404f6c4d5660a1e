//! Self-tracing through the `dbug` crate, like every MySQL client:
//! `--debug[=control string]` (`-#`) or the `MYSQL_DEBUG` environment variable.
//! A bare `--debug` uses [`DEFAULT_CONTROL`]. The string is parsed strictly, so a
//! typo is an error instead of silently tracing something else.
//!
//! Keywords used: `info` (targets, sizes), `query` (each statement sent), `error`
//! (failures), `event` (key presses and commands of the console).

use crate::error::{Error, Result};

/// What a bare `--debug` traces: functions and all keywords, to a file.
pub const DEFAULT_CONTROL: &str = "d:t:o,/tmp/minnow-top.trace";

/// Install the control string as the global DBUG state.
pub fn init(control: &str) -> Result<()> {
    dbug::set_global(control).map_err(|e| Error::Usage(format!("--debug: {e}")))
}

/// Flush trace files (call before exiting).
pub fn finish() {
    dbug::flush_all();
}

/// Run `f` inside a DBUG frame named `name` (`>name` ... `<name` in the trace).
/// The frame is always returned, whatever `f` returns, so early exits with `?`
/// inside `f` are fine.
#[track_caller]
pub fn traced<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let loc = std::panic::Location::caller();
    let frame = dbug::Frame::enter(name, loc.file(), loc.line());
    let r = f();
    frame.ret(loc.line());
    r
}
