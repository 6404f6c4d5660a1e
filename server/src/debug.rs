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

/// Installs [`DbugSubscriber`] as the process-wide `tracing` subscriber.
/// Returns `false` if a global subscriber was already set (then that one is kept).
pub fn install_tracing() -> bool {
    tracing::subscriber::set_global_default(DbugSubscriber::new()).is_ok()
}

/// A registry-free `tracing` subscriber that drives the DBUG engine, with the
/// same output as [`dbug::Layer`]: entering a span is `DBUG_ENTER(span name)`,
/// leaving it the matching return, an event is `DBUG_PRINT(keyword, message)`
/// (keyword: the `keyword` field, else the level in lower case).
///
/// Why not `tracing_subscriber::registry().with(dbug::Layer)`: the registry's
/// per-span bookkeeping (slab slots, extensions, reference counts) measured
/// about a quarter of the server's instructions per `SELECT 1`. Spans here
/// live in a small per-thread list, which suits a server whose spans are
/// created, entered and closed on the connection's own thread; a span entered
/// on another thread than the one that created it is not traced.
#[derive(Debug, Default)]
pub struct DbugSubscriber {
    _private: (),
}

struct OpenSpan {
    id: u64,
    meta: &'static tracing::Metadata<'static>,
    token: Option<dbug::FrameToken>,
    refs: usize,
}

static NEXT_THREAD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    static OPEN: std::cell::RefCell<Vec<OpenSpan>> = const { std::cell::RefCell::new(Vec::new()) };
    static NEXT_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn with_open<R>(f: impl FnOnce(&mut Vec<OpenSpan>) -> R) -> Option<R> {
    OPEN.try_with(|o| o.try_borrow_mut().ok().map(|mut v| f(&mut v)))
        .ok()
        .flatten()
}

impl DbugSubscriber {
    /// A subscriber using the process-wide DBUG settings.
    pub fn new() -> Self {
        dbug::engine::init();
        DbugSubscriber { _private: () }
    }
}

fn level_keyword(l: &tracing::Level) -> &'static str {
    match *l {
        tracing::Level::ERROR => "error",
        tracing::Level::WARN => "warn",
        tracing::Level::INFO => "info",
        tracing::Level::DEBUG => "debug",
        _ => "trace",
    }
}

/// Finds the `keyword` field without allocating (keywords are short).
#[derive(Default)]
struct KeywordVisitor {
    buf: [u8; 32],
    len: usize,
    found: bool,
}

impl KeywordVisitor {
    fn keyword(&self) -> Option<&str> {
        if self.found {
            std::str::from_utf8(&self.buf[..self.len]).ok()
        } else {
            None
        }
    }
}

impl tracing::field::Visit for KeywordVisitor {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "keyword" {
            let n = value.len().min(self.buf.len());
            self.buf[..n].copy_from_slice(&value.as_bytes()[..n]);
            self.len = n;
            self.found = true;
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "keyword" {
            let s = format!("{value:?}");
            self.record_str(field, s.trim_matches('"'));
        }
    }
}

#[derive(Default)]
struct MessageVisitor {
    message: String,
    rest: String,
}

impl tracing::field::Visit for MessageVisitor {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        use std::fmt::Write;
        match field.name() {
            "keyword" => {}
            "message" => self.message.push_str(value),
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        match field.name() {
            "keyword" => {}
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }
}

impl tracing::Subscriber for DbugSubscriber {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::always()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let id = NEXT_ID
            .try_with(|n| {
                if n.get() == 0 {
                    let t = NEXT_THREAD.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    n.set(t << 32);
                }
                n.set(n.get() + 1);
                n.get()
            })
            .unwrap_or(u64::MAX);
        let meta = attrs.metadata();
        with_open(|o| {
            o.push(OpenSpan {
                id,
                meta,
                token: None,
                refs: 1,
            })
        });
        tracing::span::Id::from_u64(id)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let meta = event.metadata();
        let mut kv = KeywordVisitor::default();
        event.record(&mut kv);
        let kw = kv.keyword().unwrap_or(level_keyword(meta.level()));
        if !dbug::engine::keyword(kw) {
            return;
        }
        let mut mv = MessageVisitor::default();
        event.record(&mut mv);
        let mut msg = mv.message;
        if msg.is_empty() {
            msg = mv.rest.trim_start().to_string();
        } else {
            msg.push_str(&mv.rest);
        }
        dbug::engine::print(kw, meta.line().unwrap_or(0), msg.as_bytes());
    }

    fn enter(&self, id: &tracing::span::Id) {
        let key = id.into_u64();
        let meta = with_open(|o| o.iter().rev().find(|s| s.id == key).map(|s| s.meta)).flatten();
        let Some(meta) = meta else { return };
        let token = dbug::engine::enter(
            meta.name(),
            meta.file().unwrap_or("?file"),
            meta.line().unwrap_or(0),
        );
        with_open(|o| {
            if let Some(s) = o.iter_mut().rev().find(|s| s.id == key) {
                s.token = Some(token);
            }
        });
    }

    fn exit(&self, id: &tracing::span::Id) {
        let key = id.into_u64();
        let found = with_open(|o| {
            o.iter_mut()
                .rev()
                .find(|s| s.id == key)
                .and_then(|s| s.token.take().map(|t| (t, s.meta.line().unwrap_or(0))))
        })
        .flatten();
        if let Some((token, line)) = found {
            dbug::engine::ret_unordered(token, line);
        }
    }

    fn clone_span(&self, id: &tracing::span::Id) -> tracing::span::Id {
        let key = id.into_u64();
        with_open(|o| {
            if let Some(s) = o.iter_mut().rev().find(|s| s.id == key) {
                s.refs += 1;
            }
        });
        id.clone()
    }

    fn try_close(&self, id: tracing::span::Id) -> bool {
        let key = id.into_u64();
        with_open(|o| {
            if let Some(pos) = o.iter().rposition(|s| s.id == key) {
                o[pos].refs -= 1;
                if o[pos].refs == 0 {
                    o.remove(pos);
                    return true;
                }
            }
            false
        })
        .unwrap_or(false)
    }
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
    fn subscriber_frees_closed_spans() {
        let open = || with_open(|o| o.len()).unwrap_or(usize::MAX);
        tracing::subscriber::with_default(DbugSubscriber::new(), || {
            let before = open();
            let a = tracing::info_span!("outer");
            let b = a.clone();
            {
                let _g = a.enter();
                let inner = tracing::info_span!("inner");
                let _g2 = inner.enter();
                tracing::debug!(keyword = "info", "x");
                assert_eq!(open(), before + 2);
            }
            drop(a);
            assert_eq!(open(), before + 1, "a clone keeps the span open");
            drop(b);
            assert_eq!(open(), before);
        });
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
