//! DBUG wiring, in one module: `--debug`, `SET [GLOBAL|SESSION] debug`,
//! `SELECT @@debug`, per-connection thread names (`T@<id>`) and the
//! `tracing` subscriber that feeds the `dbug` engine.
//!
//! The per-statement path calls the DBUG engine directly: [`Scope`] frames
//! named like MySQL's functions (`do_command`, `dispatch_command`,
//! `mysql_execute_command`) and [`dbug::dbug_print!`] under `query`, `info`
//! and `error`, which formats nothing unless the keyword is enabled. Spans and
//! events of the `tracing` crate elsewhere (`handle_one_connection`, plugin
//! code) go through [`dbug::ThreadSubscriber`], with the same output as [`dbug::Layer`].
//! Fault injection uses [`dbug::dbug_execute_if!`] on the connection's own
//! thread, so `SET SESSION debug = 'd,crash_…'` affects one session only.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::SqlError;

/// The control string bare `--debug` uses (mysqld's default).
pub const DEFAULT_DEBUG: &str = "d:t:o,/tmp/minnowd.trace";

/// Checks a control string strictly; the error says what is wrong and where.
pub fn validate(s: &str) -> Result<(), String> {
    dbug::ControlString::parse_strict(s)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Installs [`dbug::ThreadSubscriber`] as the process-wide `tracing` subscriber
/// (registry-free: the registry's per-span bookkeeping measured about a quarter of
/// the server's instructions per `SELECT 1`; connection spans never leave their thread).
/// Returns `false` if a global subscriber was already set (then that one is kept).
pub fn install_tracing() -> bool {
    tracing::subscriber::set_global_default(dbug::ThreadSubscriber::new()).is_ok()
}

/// A `DBUG_ENTER` scope on the statement path, returned on drop (`DBUG_RETURN` at the
/// line of [`Scope::enter`]), also on early returns, `?` and unwinding.
///
/// The per-statement frames (`do_command`, `dispatch_command`,
/// `mysql_execute_command`) call the DBUG engine directly instead of going
/// through `tracing` spans: same `>name` / `<name` lines, but no span
/// bookkeeping, metadata lookup or field visiting per statement (issue 4:
/// `--debug=d,nothing` within 3 % of no `--debug`). The return never aborts
/// (unlike [`dbug::Frame`]): a session may change its DBUG settings while the
/// frame is open (`SET SESSION debug` is itself a statement). While the
/// thread's settings are [quiet](statement_path_quiet) the frame is not given
/// to the engine at all.
#[must_use = "the frame returns when the Scope is dropped"]
pub struct Scope {
    token: Option<dbug::FrameToken>,
    line: u32,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Scope {
    /// `DBUG_ENTER(func)` at the caller's file and line.
    #[inline]
    #[track_caller]
    pub fn enter(func: &'static str) -> Scope {
        let at = std::panic::Location::caller();
        let token = if statement_path_quiet() {
            None
        } else {
            Some(dbug::engine::enter(func, at.file(), at.line()))
        };
        Scope {
            token,
            line: at.line(),
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        if let Some(token) = self.token {
            dbug::engine::ret_unordered(token, self.line);
        }
    }
}

/// `DBUG_PRINT(keyword, format, args…)` on the statement path: nothing is
/// tested or formatted while the thread's settings are
/// [quiet](statement_path_quiet).
macro_rules! stmt_print {
    ($kw:expr, $($arg:tt)+) => {
        if !$crate::debug::statement_path_quiet() {
            dbug::dbug_print!($kw, $($arg)+);
        }
    };
}
pub(crate) use stmt_print;

/// The keywords the statement path prints under.
const STATEMENT_KEYWORDS: [&str; 3] = ["query", "info", "error"];

/// Bumped by every change of the global settings through [`set_global`].
static GLOBAL_GENERATION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// `(global generation, quiet)` of the calling thread's last evaluation;
    /// generation 0 = evaluate again (the session settings changed).
    static QUIET: Cell<(u64, bool)> = const { Cell::new((0, false)) };
}

/// True when the calling thread's DBUG settings cannot make the statement
/// path's frames and prints visible, so [`Scope`] and `stmt_print!` skip the
/// engine (DBUG off, or e.g. `d,nothing`).
///
/// Quiet means: DBUG is off, or the settings have only these fields: a `d`
/// list of plain names (letters, digits, `_`) none of which is `query`,
/// `info` or `error`, plus output (`o`, `O`, `a`, `A`) and line-prefix flags
/// (`i`, `P`, `T`). Then no frame line is printed (no `t`), nothing depends on
/// frames (no `f`, `p`, depth limit, `F`, `L`, `n`, `N`, `S`) and no statement
/// keyword passes; frames skipped this way stay invisible to DBUG, as the
/// engine's own untracked frames (see the `dbug` crate doc). Fault-injection
/// points ([`execute_if`]) always ask the engine.
///
/// The verdict is cached per thread and recomputed after [`set_global`],
/// [`set_session`] and [`reset_session`]; settings changed past this module
/// (straight through the `dbug` crate) are seen at the next of those calls.
#[inline]
pub fn statement_path_quiet() -> bool {
    let g = GLOBAL_GENERATION.load(Ordering::Relaxed);
    QUIET
        .try_with(|q| {
            let (seen, quiet) = q.get();
            if seen == g {
                quiet
            } else {
                let quiet = settings_quiet(&dbug::explain_session());
                q.set((g, quiet));
                quiet
            }
        })
        .unwrap_or(false)
}

fn invalidate_quiet() {
    let _ = QUIET.try_with(|q| q.set((0, false)));
}

/// See [`statement_path_quiet`]; `control` is the thread's effective control
/// string as `@@session.debug` shows it (`""` when DBUG is off).
fn settings_quiet(control: &str) -> bool {
    if control.is_empty() {
        return true;
    }
    let Ok(ctl) = dbug::ControlString::parse_strict(control) else {
        return false;
    };
    if ctl.is_relative() {
        return false;
    }
    let mut d_seen = false;
    for f in ctl.fields() {
        if f.sign != dbug::Sign::None {
            return false;
        }
        match f.flag {
            b'd' => {
                let plain = |e: &str| {
                    !e.is_empty() && e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                };
                if f.modifier.is_empty()
                    || !f
                        .modifier
                        .split(',')
                        .all(|e| plain(e) && !STATEMENT_KEYWORDS.contains(&e))
                {
                    return false;
                }
                d_seen = true;
            }
            b'o' | b'O' | b'a' | b'A' | b'i' | b'P' | b'T' => {}
            _ => return false,
        }
    }
    // Without `d` nothing prints, but with other fields set be conservative.
    d_seen || ctl.fields().is_empty()
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
    let r = apply(dbug::set_global(s), s);
    GLOBAL_GENERATION.fetch_add(1, Ordering::Relaxed);
    r?;
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
    let r = apply(dbug::set_session(s), s);
    invalidate_quiet();
    r?;
    Ok(dbug::explain_session())
}

/// `SET SESSION debug = DEFAULT` / session reset: the thread follows the global settings again.
pub fn reset_session() {
    dbug::pop_session();
    invalidate_quiet();
}

/// `@@global.debug`.
pub fn global() -> String {
    dbug::explain_global()
}

/// Names the calling thread `T@<id>` in traces.
pub fn connection_thread_start(id: u32) {
    dbug::register_connection_thread(u64::from(id));
    invalidate_quiet();
}

/// Forgets the calling thread's DBUG state.
pub fn connection_thread_end() {
    dbug::unregister_thread();
    invalidate_quiet();
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
    fn quiet_settings() {
        for quiet in ["", "d,nothing", "d,crash_x,other:o,/tmp/x:i:P:T", "d,a_1"] {
            assert!(settings_quiet(quiet), "{quiet:?} should be quiet");
        }
        for loud in [
            "d",
            "d:t",
            "t",
            "d,query",
            "d,nothing,info",
            "d,error",
            "d,q*",
            "d,nothing:f,do_command",
            "d,nothing:F",
            "d,nothing:L",
            "d,nothing:n",
            "d,nothing:N",
            "d,nothing:S",
            "d,nothing:p,x",
            "d,nothing:t,3",
            "+d,nothing",
            "not a control string",
        ] {
            assert!(!settings_quiet(loud), "{loud:?} should not be quiet");
        }
    }

    #[test]
    fn quiet_follows_session_changes() {
        std::thread::spawn(|| {
            set_session("d,nothing").expect("valid");
            assert!(statement_path_quiet());
            set_session("d:t:O,/dev/null").expect("valid");
            assert!(
                !statement_path_quiet(),
                "tracing switched on in the session"
            );
            set_session("d,nothing").expect("valid");
            assert!(statement_path_quiet());
            set_session("d,query").expect("valid");
            assert!(!statement_path_quiet(), "a statement keyword is listed");
            reset_session();
        })
        .join()
        .expect("session thread");
    }

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
