//! DBUG wiring, in one module: `--debug`, `SET [GLOBAL|SESSION] debug`,
//! `SELECT @@debug`, per-connection thread names (`T@<id>`) and the
//! `tracing` subscriber that feeds the `dbug` engine.
//!
//! The statement path emits `tracing` spans named like MySQL's functions
//! (`handle_one_connection`, `do_command`, `dispatch_command`,
//! `mysql_execute_command`) and events with a `keyword` field; [`dbug::Layer`]
//! turns them into `>dispatch_command` / `<dispatch_command` and print lines.
//! Fault injection uses [`dbug::dbug_execute_if!`] on the connection's own
//! thread, so `SET SESSION debug = 'd,crash_…'` affects one session only.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::sync::Mutex;

use crate::error::SqlError;

/// The control string bare `--debug` uses (mysqld's default).
pub const DEFAULT_DEBUG: &str = "d:t:o,/tmp/minnowd.trace";

/// Checks a control string strictly; the error says what is wrong and where.
pub fn validate(s: &str) -> Result<(), String> {
    dbug::ControlString::parse_strict(s)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Installs a process-wide `tracing` subscriber with [`dbug::Layer`]. Returns
/// `false` if a global subscriber was already set (then that one is kept).
pub fn install_tracing() -> bool {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(dbug::Layer::new());
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

fn apply(r: Result<(), dbug::SetError>, s: &str) -> Result<(), SqlError> {
    match r {
        Ok(()) => Ok(()),
        Err(dbug::SetError::Parse(_)) => Err(SqlError::wrong_value("debug", s)),
        // Applied; the trace file could not be opened and output stays where it was (as in C).
        Err(dbug::SetError::Open(_)) => Ok(()),
    }
}

/// `--debug` / `SET GLOBAL debug`: strict; 1231 and no change on a malformed
/// string. Returns the new `@@global.debug`.
pub fn set_global(s: &str) -> Result<String, SqlError> {
    apply(dbug::set_global(s), s)?;
    let now = dbug::explain_global();
    track_trace_file(&now);
    Ok(now)
}

/// The trace file named by an `o`/`O`/`a`/`A` field of a control string.
fn trace_file(control: &str) -> Option<&str> {
    control.split(':').find_map(|f| {
        let f = f.trim_start_matches(['+', '-']);
        let (flag, rest) = f.split_at_checked(1)?;
        match flag {
            "o" | "O" | "a" | "A" => rest
                .strip_prefix(',')
                .filter(|p| *p != "-" && !p.is_empty()),
            _ => None,
        }
    })
}

static TRACE_FILE: Mutex<Option<(String, File)>> = Mutex::new(None);

/// Keeps a descriptor on the global trace file so the crash report can
/// `fsync` it ("DBUG trace flushed: <path>").
fn track_trace_file(control: &str) {
    let Ok(mut slot) = TRACE_FILE.lock() else {
        return;
    };
    let wanted = trace_file(control).map(str::to_string);
    if slot.as_ref().map(|(p, _)| p) == wanted.as_ref() {
        return;
    }
    if let Some((_, f)) = slot.take() {
        crate::crash::remove_flush_fd(f.as_raw_fd());
    }
    if let Some(path) = wanted {
        if let Ok(f) = OpenOptions::new().append(true).create(true).open(&path) {
            crate::crash::add_flush_fd(f.as_raw_fd(), &path);
            *slot = Some((path, f));
        }
    }
}

/// `SET SESSION debug` for the calling (connection) thread. Returns the new
/// `@@session.debug`.
pub fn set_session(s: &str) -> Result<String, SqlError> {
    apply(dbug::set_session(s), s)?;
    Ok(dbug::explain_session())
}

/// `SET SESSION debug = DEFAULT` / session reset: the thread follows the global settings again.
pub fn reset_session() {
    dbug::pop_session();
}

/// `@@global.debug`.
pub fn global() -> String {
    dbug::explain_global()
}

/// Names the calling thread `T@<id>` in traces.
pub fn connection_thread_start(id: u32) {
    dbug::register_connection_thread(u64::from(id));
}

/// Forgets the calling thread's DBUG state.
pub fn connection_thread_end() {
    dbug::unregister_thread();
}

/// Flushes buffered trace files (normal shutdown).
pub fn flush() {
    dbug::flush_all();
}

/// Whether fault-injection keyword `kw` is enabled for the calling thread
/// (`DBUG_EXECUTE_IF` semantics: listed explicitly).
pub fn execute_if(kw: &str) -> bool {
    dbug::dbug_evaluate_if!(kw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_validation() {
        assert!(validate("d:t:o,/tmp/x").is_ok());
        assert!(validate("+d,info").is_ok());
        assert!(validate("d,a,b:t,20").is_ok());
        assert!(validate("z,1").is_err());
        assert!(validate("t,abc").is_err());
        assert_eq!(trace_file("d:t:o,/tmp/x.trace"), Some("/tmp/x.trace"));
        assert_eq!(trace_file("d:O,/a/b:t"), Some("/a/b"));
        assert_eq!(trace_file("d:t"), None);
        assert_eq!(trace_file("d:o,-"), None);
    }
}
