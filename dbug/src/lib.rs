//! A reimplementation of the DBUG tracer as MySQL/MariaDB ship it, byte-compatible in its
//! output, with a [`tracing_subscriber::Layer`] adapter.
//!
//! # Map of the API
//!
//! * **Control strings**: [`ControlString::parse_strict`] (rejects malformed strings with the
//!   byte position and the problem; use it for `SET debug` and `--debug`) and
//!   [`ControlString::parse_lenient`] (exactly the C library). The grammar is documented on
//!   [`ControlString`].
//! * **Server-facing settings API** (what `SET [GLOBAL|SESSION] debug` maps to):
//!   [`set_global`] (`DBUG_SET_INITIAL`), [`set_session`] (`DBUG_SET` for the calling
//!   thread), [`pop_session`] (`DBUG_POP`, i.e. `SET SESSION debug=DEFAULT`),
//!   [`explain_global`] / [`explain_session`] (`@@global.debug` / `@@session.debug`, with
//!   MariaDB's 256-byte buffer rule). They parse strictly and return [`SetError`]: a parse
//!   error leaves everything unchanged; an [`OpenError`] means the settings were applied but a
//!   trace file could not be opened, so output stays on the previous stream (as in C).
//! * **Threads**: [`register_thread`] (name shown by the `i` flag; a server uses
//!   [`register_connection_thread`] for `T@<connection id>`), [`unregister_thread`]
//!   (`my_thread_end`). Threads that never register get `T@n` names on first use.
//! * **Instrumenting code**: [`Frame`] (a `DBUG_ENTER` guard; [`Frame::ret`] is
//!   `DBUG_RETURN`, dropping it un-returned is the missing-return abort), and the macros
//!   [`dbug_enter!`], [`dbug_return!`], [`dbug_print!`], [`dbug_dump!`], [`dbug_execute!`],
//!   [`dbug_execute_if!`], [`dbug_evaluate!`], [`dbug_evaluate_if!`], [`dbug_explain!`].
//! * **`tracing`**: [`Layer`] turns spans into enter/return lines and events into print lines;
//!   [`Layer::handle`] gives a [`Handle`] (holding a `Weak`) to change settings at run time.
//! * **The engine** ([`engine`]): every C entry point with explicit function, file and line
//!   (`enter`, `ret`, `unwind`, `print`, `dump`, `keyword`, `execute_if`, `push`, `set`,
//!   `pop`, `set_initial`, `explain`, `end`, `on`, `off`, ...). The replay tool and plugin
//!   hosts (C callers: all functions take plain strings and line numbers) use it directly.
//! * [`flush_all`]: flush buffered (`o`/`a`) trace files before a normal exit, as C's `exit()`.
//!
//! # Example
//!
//! ```
//! use dbug::{dbug_enter, dbug_print, dbug_return};
//!
//! fn add(a: i32, b: i32) -> i32 {
//!     let frame = dbug_enter!("add");
//!     dbug_print!("info", "a: {} b: {}", a, b);
//!     dbug_return!(frame, a + b)
//! }
//!
//! dbug::set_session("d:t:O,-").unwrap(); // trace this thread to stdout
//! assert_eq!(add(2, 3), 5);
//! dbug::pop_session();
//! ```
//!
//! # Differences from the C library
//!
//! * `dbug_print!` does not replicate the C quirk where DBUG calls inside the print's
//!   arguments steal the keyword and line of the outer print (SPEC 7.2): the outer line keeps
//!   its own keyword and line.
//! * Trace-file names longer than [`MAX_FILE_NAME`] bytes are truncated (lenient) or
//!   rejected (strict) instead of overflowing a buffer.
//! * Explain never takes a lock, so the C deadlock of SPEC 9.4 cannot happen.
//! * Unregistered threads take part automatically (see [`engine::set_auto_register`]).
//! * **Frame tracking** ([`engine::set_exact_frames`]). By default, while nothing is enabled
//!   anywhere (the global record has no `d`, `t`, `S` or `f` and no thread has session
//!   settings), `enter` does not track frames, so an enter/return pair costs about an atomic
//!   load. Frames entered then stay invisible to DBUG: when tracing is switched on while they
//!   are active, their returns print nothing, new frames count levels from there, and the
//!   missing-return abort does not apply to them. `set_exact_frames(true)` tracks every
//!   frame exactly as the C library does (the replay tool uses it).
//!
//! # Performance
//!
//! Per-thread state is thread-local; the enter/return fast path touches only `Cell`s and one
//! atomic (`cargo bench -p dbug`). Each output item is formatted into a per-thread buffer and
//! written with one call under its stream's mutex, so lines from different threads never
//! tear; with `O`/`A` that call is a single `write(2)`, done before the traced code goes on.
//!
//! Keyword tests ([`engine::keyword`], [`engine::execute_if`], the test of every print and of
//! [`Layer`] events) have a per-thread fast path: when the thread's top record has `d` off,
//! or has no depth limit, no `p` list and no `f` list, the decision of SPEC 6.1 is the
//! current frame's trace bit, and the keyword-list verdict is cached per keyword (up to 32
//! bytes, a few entries) under a generation that changes with every change of the record.
//! The results are those of the full test. The [`Layer`] tests an event's `keyword` field as
//! a `&str` (other values are formatted into a stack buffer) before formatting anything
//! else, keeps each entered span's line so that exiting needs no registry lookup, and
//! returns from the innermost frame through the same fast path as [`Frame::ret`].
//! `benches/callgrind.sh` counts the instructions DBUG adds to a server-like statement.
#![deny(missing_docs)]

mod control;
pub mod engine;
mod glob;
mod layer;
mod list;
mod stream;
mod subscriber;
mod sys;

use std::marker::PhantomData;

pub use control::{ControlString, Field, MAX_FILE_NAME, ParseError, ParseErrorKind, Sign};
pub use engine::{Explained, FrameToken, OpenError};
pub use glob::fnmatch;
pub use layer::{Handle, HandleError, Layer};
pub use stream::{flush_all, stdout_write_flush};
pub use subscriber::ThreadSubscriber;

/// MariaDB reads `@@debug` through a 256-byte buffer.
pub const EXPLAIN_CAPACITY: usize = 256;

/// Why a settings change was refused or only partly applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    /// The control string is malformed; nothing was changed.
    Parse(ParseError),
    /// The settings were applied, but these trace files could not be opened; output stays
    /// on the previous stream and explain shows the new name (C behaviour).
    Open(Vec<OpenError>),
}

impl std::fmt::Display for SetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetError::Parse(e) => write!(f, "malformed debug control string {e}"),
            SetError::Open(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SetError {}

impl From<ParseError> for SetError {
    fn from(e: ParseError) -> Self {
        SetError::Parse(e)
    }
}

fn apply_strict(
    s: &str,
    f: impl FnOnce(&ControlString, Option<&mut Vec<OpenError>>),
) -> Result<(), SetError> {
    let ctl = ControlString::parse_strict(s)?;
    let mut errors = Vec::new();
    f(&ctl, Some(&mut errors));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SetError::Open(errors))
    }
}

/// `SET GLOBAL debug = s` (`DBUG_SET_INITIAL`): strict parse, then edit the global record.
/// Threads without session settings see the change immediately.
pub fn set_global(s: &str) -> Result<(), SetError> {
    engine::init();
    apply_strict(s, engine::set_initial)
}

/// `SET SESSION debug = s` (`DBUG_SET`) for the calling thread: the thread gets its own
/// record (copied from the global one for a relative string) and stops following the global
/// record until [`pop_session`].
pub fn set_session(s: &str) -> Result<(), SetError> {
    apply_strict(s, engine::set)
}

/// `SET SESSION debug = DEFAULT` (`DBUG_POP`): drop the calling thread's record.
pub fn pop_session() {
    engine::pop();
}

/// `@@global.debug`: the global record in canonical form (256-byte buffer rule).
pub fn explain_global() -> String {
    engine::explain_initial(EXPLAIN_CAPACITY).to_string_lossy()
}

/// `@@session.debug`: the calling thread's current record in canonical form (256-byte
/// buffer rule); `""` when DBUG is off.
pub fn explain_session() -> String {
    engine::explain(EXPLAIN_CAPACITY).to_string_lossy()
}

/// Registers the calling thread under `name` (what the `i` flag prints), or under the next
/// `T@n` when `None`.
pub fn register_thread(name: Option<&str>) {
    engine::register_thread(name);
}

/// Registers the calling thread as the one serving connection `id`: its name is `T@<id>`.
pub fn register_connection_thread(id: u64) {
    engine::register_thread(Some(&format!("T@{id}")));
}

/// Unregisters the calling thread (`my_thread_end`: one pop, then its state is discarded).
pub fn unregister_thread() {
    engine::unregister_thread();
}

/// A `DBUG_ENTER` frame. End it with [`Frame::ret`] (`DBUG_RETURN`) or [`Frame::leave`]
/// (`DBUG_LEAVE`). Dropping it without either — an early `return`, `?`, or a panic unwinding
/// through it — is the C library's missing-return error: if DBUG is active and tracked the
/// frame, the process prints the diagnostic and aborts (SIGABRT). With
/// [`engine::set_exact_frames`]`(true)` that happens even with no debug string set, as in C;
/// by default frames entered while nothing is enabled are not tracked.
#[must_use = "a Frame must be ended with ret() or leave()"]
pub struct Frame {
    token: FrameToken,
    done: bool,
    _not_send: PhantomData<*const ()>,
}

impl Frame {
    /// `DBUG_ENTER(func)` at `file:line`.
    #[inline]
    pub fn enter(func: &'static str, file: &'static str, line: u32) -> Frame {
        Frame {
            token: engine::enter(func, file, line),
            done: false,
            _not_send: PhantomData,
        }
    }

    /// `DBUG_RETURN` / `DBUG_VOID_RETURN` at `line`: return processing now.
    #[inline]
    pub fn ret(mut self, line: u32) {
        self.done = true;
        engine::ret(self.token, line);
    }

    /// `DBUG_LEAVE` at `line`: return processing now; dropping the frame later does nothing.
    pub fn leave(&mut self, line: u32) {
        if !self.done {
            self.done = true;
            engine::ret(self.token, line);
        }
    }

    /// The engine token of this frame.
    pub fn token(&self) -> FrameToken {
        self.token
    }
}

impl Drop for Frame {
    #[inline]
    fn drop(&mut self) {
        if !self.done {
            engine::unwind(self.token);
        }
    }
}

/// `DBUG_ENTER(name)`: returns a [`Frame`] to end with [`dbug_return!`].
#[macro_export]
macro_rules! dbug_enter {
    ($name:expr) => {
        $crate::Frame::enter($name, ::core::file!(), ::core::line!())
    };
}

/// `DBUG_RETURN(value)` / `DBUG_VOID_RETURN`: evaluates `value`, then runs the return
/// processing of `frame` (cleanup flavour: calls inside `value` nest inside the function),
/// then returns `value` from the enclosing function.
#[macro_export]
macro_rules! dbug_return {
    ($frame:expr) => {{
        $frame.ret(::core::line!());
        return;
    }};
    ($frame:expr, $value:expr) => {{
        let __dbug_value = $value;
        $frame.ret(::core::line!());
        return __dbug_value;
    }};
}

/// `DBUG_PRINT(keyword, (format, args...))`: the arguments are evaluated only if the
/// keyword test passes.
#[macro_export]
macro_rules! dbug_print {
    ($kw:expr, $($arg:tt)+) => {{
        let __dbug_kw: &str = $kw;
        if $crate::engine::keyword(__dbug_kw) {
            $crate::engine::print_fmt(__dbug_kw, ::core::line!(), ::core::format_args!($($arg)+));
        }
    }};
}

/// `DBUG_DUMP(keyword, bytes)`: a hex dump of a byte slice.
#[macro_export]
macro_rules! dbug_dump {
    ($kw:expr, $data:expr) => {
        $crate::engine::dump($kw, ::core::line!(), $data)
    };
}

/// `DBUG_EXECUTE(keyword, code)`: runs `code` if the (non-strict) keyword test passes.
#[macro_export]
macro_rules! dbug_execute {
    ($kw:expr, $code:block) => {
        if $crate::engine::keyword($kw) $code
    };
}

/// `DBUG_EXECUTE_IF(keyword, code)`: fault injection; runs `code` only if `keyword` is
/// explicitly included (exact match).
#[macro_export]
macro_rules! dbug_execute_if {
    ($kw:expr, $code:block) => {
        if $crate::engine::execute_if($kw) $code
    };
}

/// `DBUG_EVALUATE(keyword, a, b)`: `a` if the non-strict keyword test passes, else `b`.
#[macro_export]
macro_rules! dbug_evaluate {
    ($kw:expr, $a:expr, $b:expr) => {
        if $crate::engine::keyword($kw) { $a } else { $b }
    };
}

/// `DBUG_EVALUATE_IF(keyword, a, b)` / `DBUG_IF(keyword)`: `a` if `keyword` is explicitly
/// included (exact match), else `b`. With one argument, a `bool`.
#[macro_export]
macro_rules! dbug_evaluate_if {
    ($kw:expr) => {
        $crate::engine::execute_if($kw)
    };
    ($kw:expr, $a:expr, $b:expr) => {
        if $crate::engine::execute_if($kw) {
            $a
        } else {
            $b
        }
    };
}

/// `DBUG_EXPLAIN`: the calling thread's settings as a control string (256-byte rule); with
/// `initial`, the global settings (`DBUG_EXPLAIN_INITIAL`).
#[macro_export]
macro_rules! dbug_explain {
    () => {
        $crate::explain_session()
    };
    (initial) => {
        $crate::explain_global()
    };
}
