//! A stand-alone `tracing` subscriber over the DBUG engine, for thread-per-connection
//! servers: spans live in a small per-thread list instead of a registry.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::metadata::LevelFilter;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Metadata, Subscriber};

use crate::engine::{self, FrameToken};

/// A [`tracing_core::Subscriber`] that feeds the DBUG engine with the same output as
/// [`crate::Layer`] (spans are `DBUG_ENTER`/return, events are `DBUG_PRINT` under their
/// `keyword` field or level), without `tracing_subscriber::Registry`.
///
/// Why not `tracing_subscriber::registry().with(dbug::Layer)` in a server: the registry's
/// per-span bookkeeping (slab slots, extensions, reference counts) measured about a quarter
/// of `minnowd`'s instructions per `SELECT 1`. Here spans live in a small per-thread list,
/// which suits a server whose spans are created, entered and closed on the connection's own
/// thread. Limitation: a span entered on another thread than the one that created it is not
/// traced (use the [`crate::Layer`] for such programs).
#[derive(Debug)]
pub struct ThreadSubscriber {
    _private: (),
}

impl Default for ThreadSubscriber {
    fn default() -> Self {
        ThreadSubscriber::new()
    }
}

impl ThreadSubscriber {
    /// A subscriber using the process-wide DBUG settings (initialising DBUG if needed).
    pub fn new() -> Self {
        engine::init();
        ThreadSubscriber { _private: () }
    }
}

struct OpenSpan {
    id: u64,
    meta: &'static Metadata<'static>,
    token: Option<FrameToken>,
    refs: usize,
}

/// Span ids are `thread number << 32 | per-thread counter`, so ids never collide
/// between threads and creating one takes no lock.
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static OPEN: RefCell<Vec<OpenSpan>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

fn with_open<R>(f: impl FnOnce(&mut Vec<OpenSpan>) -> R) -> Option<R> {
    OPEN.try_with(|o| o.try_borrow_mut().ok().map(|mut v| f(&mut v)))
        .ok()
        .flatten()
}

impl Subscriber for ThreadSubscriber {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = NEXT_ID
            .try_with(|n| {
                if n.get() == 0 {
                    let t = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
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
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        crate::layer::print_event(event);
    }

    fn enter(&self, id: &Id) {
        let key = id.into_u64();
        let meta = with_open(|o| o.iter().rev().find(|s| s.id == key).map(|s| s.meta)).flatten();
        let Some(meta) = meta else { return };
        let token = engine::enter(
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

    fn exit(&self, id: &Id) {
        let key = id.into_u64();
        let found = with_open(|o| {
            o.iter_mut()
                .rev()
                .find(|s| s.id == key)
                .and_then(|s| s.token.take().map(|t| (t, s.meta.line().unwrap_or(0))))
        })
        .flatten();
        if let Some((token, line)) = found {
            engine::ret_unordered(token, line);
        }
    }

    fn clone_span(&self, id: &Id) -> Id {
        let key = id.into_u64();
        with_open(|o| {
            if let Some(s) = o.iter_mut().rev().find(|s| s.id == key) {
                s.refs += 1;
            }
        });
        id.clone()
    }

    fn try_close(&self, id: Id) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_spans_are_freed_and_clones_keep_them_open() {
        let open = || with_open(|o| o.len()).unwrap_or(usize::MAX);
        let dispatch = tracing_core::Dispatch::new(ThreadSubscriber::new());
        tracing_core::dispatcher::with_default(&dispatch, || {
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
}
