//! The `tracing` adapter: spans become enter/return lines, events become print lines.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Weak};

use tracing_core::field::{Field, Visit};
use tracing_core::span;
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::engine::{self, FrameToken};
use crate::{SetError, explain_global, explain_session, pop_session, set_global, set_session};

/// A [`tracing_subscriber::Layer`] that feeds the DBUG engine.
///
/// * Entering a span is `DBUG_ENTER(span name)` at the span's file and line; exiting it is
///   the matching return (out-of-order exits never abort: inner frames are dropped).
/// * An event is `DBUG_PRINT(keyword, message)` at the event's line. The keyword is the
///   event's `keyword` field if it has one, else its level in lower case (`error`, `warn`,
///   `info`, `debug`, `trace`). The message is the `message` field followed by the other
///   fields as ` name=value`. Fields are formatted only when the keyword test passes.
///
/// The settings are the process-wide DBUG settings (global record and per-thread records);
/// change them with the [`Handle`] or the crate-level functions.
pub struct Layer {
    shared: Arc<Shared>,
}

struct Shared;

/// A reload-style handle to the settings used by a [`Layer`]. It holds a `Weak`, so it never
/// keeps the layer (or its subscriber) alive; once the layer is gone every call returns
/// [`HandleError::LayerGone`].
#[derive(Clone)]
pub struct Handle {
    shared: Weak<Shared>,
}

/// Error of a [`Handle`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandleError {
    /// The layer was dropped.
    LayerGone,
    /// The settings change failed (see [`SetError`]).
    Set(SetError),
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::LayerGone => f.write_str("the dbug layer has been dropped"),
            HandleError::Set(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for HandleError {}

impl Default for Layer {
    fn default() -> Self {
        Layer::new()
    }
}

impl Layer {
    /// A layer using the current DBUG settings (initialising DBUG if needed).
    pub fn new() -> Layer {
        engine::init();
        Layer {
            shared: Arc::new(Shared),
        }
    }

    /// A layer, after `SET GLOBAL debug = control` (strict).
    pub fn with_control(control: &str) -> Result<Layer, SetError> {
        let l = Layer::new();
        set_global(control)?;
        Ok(l)
    }

    /// A handle for run-time changes.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: Arc::downgrade(&self.shared),
        }
    }
}

impl Handle {
    fn alive(&self) -> Result<(), HandleError> {
        self.shared
            .upgrade()
            .map(|_| ())
            .ok_or(HandleError::LayerGone)
    }

    /// [`crate::set_global`] (`SET GLOBAL debug`).
    pub fn set_global(&self, control: &str) -> Result<(), HandleError> {
        self.alive()?;
        set_global(control).map_err(HandleError::Set)
    }

    /// [`crate::set_session`] for the calling thread (`SET SESSION debug`).
    pub fn set_session(&self, control: &str) -> Result<(), HandleError> {
        self.alive()?;
        set_session(control).map_err(HandleError::Set)
    }

    /// [`crate::pop_session`] for the calling thread (`SET SESSION debug=DEFAULT`).
    pub fn pop_session(&self) -> Result<(), HandleError> {
        self.alive()?;
        pop_session();
        Ok(())
    }

    /// [`crate::explain_global`] (`@@global.debug`).
    pub fn explain_global(&self) -> Result<String, HandleError> {
        self.alive()?;
        Ok(explain_global())
    }

    /// [`crate::explain_session`] (`@@session.debug`) for the calling thread.
    pub fn explain_session(&self) -> Result<String, HandleError> {
        self.alive()?;
        Ok(explain_session())
    }
}

thread_local! {
    /// The spans this thread entered while DBUG was active: id, engine frame, span line
    /// (the line of the return, so `on_exit` needs no registry lookup).
    static SPANS: RefCell<Vec<(span::Id, FrameToken, u32)>> = const { RefCell::new(Vec::new()) };
}

fn level_keyword(l: &Level) -> &'static str {
    match *l {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// A `fmt::Write` into a stack buffer that spills to a `String` only when the text does not
/// fit, so formatting a short keyword allocates nothing.
struct SmallText {
    buf: [u8; 64],
    len: usize,
    spill: Option<String>,
}

impl SmallText {
    fn new() -> SmallText {
        SmallText {
            buf: [0; 64],
            len: 0,
            spill: None,
        }
    }

    fn as_str(&self) -> &str {
        match &self.spill {
            Some(s) => s,
            // Only whole `&str` pieces are ever copied in, so this is valid UTF-8.
            None => std::str::from_utf8(&self.buf[..self.len]).unwrap_or(""),
        }
    }
}

impl fmt::Write for SmallText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(spill) = &mut self.spill {
            spill.push_str(s);
        } else if self.len + s.len() <= self.buf.len() {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut spill = String::with_capacity(self.len + s.len());
            spill.push_str(self.as_str());
            spill.push_str(s);
            self.spill = Some(spill);
        }
        Ok(())
    }
}

/// Runs the DBUG keyword test on the event's `keyword` field as it is recorded, without
/// copying it (a `&str` value) or with a stack buffer (any other value, formatted with
/// `Debug` once). The text is kept only for an accepted keyword.
#[derive(Default)]
struct KeywordCheck {
    accepted: Option<bool>,
    text: Option<String>,
}

impl KeywordCheck {
    fn check(&mut self, kw: &str) {
        let ok = engine::keyword(kw);
        self.accepted = Some(ok);
        self.text = ok.then(|| kw.to_string());
    }
}

impl Visit for KeywordCheck {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "keyword" {
            self.check(value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "keyword" {
            let mut t = SmallText::new();
            let _ = write!(t, "{value:?}");
            self.check(t.as_str());
        }
    }
}

struct MessageVisitor {
    message: String,
    rest: String,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "keyword" => {}
            "message" => self.message.push_str(value),
            name => {
                let _ = write!(self.rest, " {name}={value}");
            }
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
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

impl<S> tracing_subscriber::Layer<S> for Layer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if !engine::is_active() {
            return; // the frame would be untracked (or DBUG is off)
        }
        let Some(meta) = ctx.metadata(id) else {
            return;
        };
        let line = meta.line().unwrap_or(0);
        let token = engine::enter(meta.name(), meta.file().unwrap_or("?file"), line);
        let _ = SPANS.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                s.push((id.clone(), token, line));
            }
        });
    }

    fn on_exit(&self, id: &span::Id, _ctx: Context<'_, S>) {
        let found = SPANS
            .try_with(|s| {
                let mut s = s.try_borrow_mut().ok()?;
                let pos = s.iter().rposition(|(sid, _, _)| sid == id)?;
                let (_, token, line) = s[pos];
                s.truncate(pos);
                Some((token, line))
            })
            .ok()
            .flatten();
        if let Some((token, line)) = found {
            engine::ret_unordered(token, line);
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        print_event(event);
    }
}

/// `DBUG_PRINT` for a `tracing` event (see [`Layer`] for the keyword and message rules);
/// shared by [`Layer`] and [`crate::ThreadSubscriber`].
pub(crate) fn print_event(event: &Event<'_>) {
    if !engine::is_active() {
        return; // no keyword can pass
    }
    let meta = event.metadata();
    let level_kw = level_keyword(meta.level());
    // The keyword test comes first, on the keyword as a `&str`: nothing is formatted
    // (and nothing allocated) for a filtered event.
    let mut kc = KeywordCheck::default();
    if meta.fields().field("keyword").is_some() {
        event.record(&mut kc);
    }
    let accepted = match kc.accepted {
        Some(ok) => ok,
        None => engine::keyword(level_kw),
    };
    if !accepted {
        return;
    }
    let kw: &str = kc.text.as_deref().unwrap_or(level_kw);
    let mut mv = MessageVisitor {
        message: String::new(),
        rest: String::new(),
    };
    event.record(&mut mv);
    let mut msg = mv.message;
    if msg.is_empty() {
        msg = mv.rest.trim_start().to_string();
    } else {
        msg.push_str(&mv.rest);
    }
    engine::print(kw, meta.line().unwrap_or(0), msg.as_bytes());
}
