//! Shared, reference-counted output streams (the C library's `sFILE`).
//!
//! A stream is stdout, stderr or a file. Records that share a stream hold the same
//! `Arc<Stream>`; the *logical* reference count (`used`) mirrors the C counter and decides
//! when a file is closed. Every item (a whole line, or a whole dump) is written with one call
//! under the stream's mutex, so lines from different threads never tear. A file stream keeps
//! a buffer (like stdio's block buffering) that is written out when it fills up, when the
//! record asks for a flush (`O`/`A`), at close and by [`flush_all`]; with a flush the line
//! reaches the file with a single `write(2)` before the traced code continues.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

const FILE_BUFFER: usize = 32 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Stdout,
    Stderr,
    File,
}

struct Inner {
    file: Option<File>,
    buf: Vec<u8>,
    used: usize,
    closed: bool,
}

/// An output stream.
pub(crate) struct Stream {
    kind: Kind,
    inner: Mutex<Inner>,
}

static STDOUT: LazyLock<Arc<Stream>> = LazyLock::new(|| Arc::new(Stream::new(Kind::Stdout, None)));
static STDERR: LazyLock<Arc<Stream>> = LazyLock::new(|| Arc::new(Stream::new(Kind::Stderr, None)));
static REGISTRY: Mutex<Vec<Arc<Stream>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Stream {
    fn new(kind: Kind, file: Option<File>) -> Stream {
        Stream {
            kind,
            inner: Mutex::new(Inner {
                file,
                buf: Vec::new(),
                used: 1,
                closed: false,
            }),
        }
    }

    pub(crate) fn stdout() -> Arc<Stream> {
        STDOUT.clone()
    }

    pub(crate) fn stderr() -> Arc<Stream> {
        STDERR.clone()
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// `fopen(name, append ? "a+" : "w")`; the new stream has a reference count of 1.
    pub(crate) fn open(name: &str, append: bool) -> io::Result<Arc<Stream>> {
        let mut o = OpenOptions::new();
        if append {
            o.read(true).append(true).create(true);
        } else {
            o.write(true).create(true).truncate(true);
        }
        let f = o.open(name)?;
        let s = Arc::new(Stream::new(Kind::File, Some(f)));
        lock(&REGISTRY).push(s.clone());
        Ok(s)
    }

    /// Writes one item; with `flush`, the item (and anything buffered) is written out now.
    pub(crate) fn write(&self, data: &[u8], flush: bool) {
        match self.kind {
            Kind::Stderr => {
                let mut e = io::stderr().lock();
                let _ = e.write_all(data);
            }
            Kind::Stdout => {
                let mut g = lock(&self.inner);
                g.buf.extend_from_slice(data);
                if flush {
                    write_stdout(&mut g.buf);
                }
            }
            Kind::File => {
                let mut g = lock(&self.inner);
                if g.closed {
                    return;
                }
                let inner = &mut *g;
                if flush && inner.buf.is_empty() {
                    if let Some(f) = inner.file.as_mut() {
                        let _ = f.write_all(data);
                    }
                    return;
                }
                inner.buf.extend_from_slice(data);
                if flush || inner.buf.len() >= FILE_BUFFER {
                    write_file(inner);
                }
            }
        }
    }

    /// `fflush`.
    pub(crate) fn flush(&self) {
        match self.kind {
            Kind::Stderr => {}
            Kind::Stdout => write_stdout(&mut lock(&self.inner).buf),
            Kind::File => {
                let mut g = lock(&self.inner);
                if !g.closed {
                    write_file(&mut g);
                }
            }
        }
    }

    /// Another record starts sharing the stream (`used++`).
    pub(crate) fn acquire(&self) {
        if self.kind == Kind::File {
            lock(&self.inner).used += 1;
        }
    }

    /// `DBUGCloseFile`: drop one reference; at zero the file is flushed and closed. Returns the
    /// close error, if closing failed.
    pub(crate) fn release(self: &Arc<Self>) -> Option<io::Error> {
        if self.kind != Kind::File {
            return None;
        }
        let (buf, file) = {
            let mut g = lock(&self.inner);
            g.used = g.used.saturating_sub(1);
            if g.used > 0 || g.closed {
                return None;
            }
            g.closed = true;
            (std::mem::take(&mut g.buf), g.file.take())
        };
        lock(&REGISTRY).retain(|s| !Arc::ptr_eq(s, self));
        let mut err = None;
        if let Some(mut f) = file {
            if !buf.is_empty() {
                if let Err(e) = f.write_all(&buf) {
                    err = Some(e);
                }
            }
        }
        err
    }
}

fn write_stdout(buf: &mut Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    let mut o = io::stdout().lock();
    let _ = o.write_all(buf);
    let _ = o.flush();
    buf.clear();
}

fn write_file(inner: &mut Inner) {
    if inner.buf.is_empty() {
        return;
    }
    if let Some(f) = inner.file.as_mut() {
        let _ = f.write_all(&inner.buf);
    }
    // Like stdio: the data is gone even when the write failed.
    inner.buf.clear();
}

/// Flushes every open stream (stdout and all trace files), as `exit()` does in C. Call it
/// before the process exits normally; buffered (`o`/`a`) trace data is otherwise lost.
pub fn flush_all() {
    let streams: Vec<Arc<Stream>> = lock(&REGISTRY).clone();
    for s in streams.iter().rev() {
        s.flush();
    }
    STDOUT.flush();
}

/// Writes `data` to the process's stdout through the same buffer DBUG uses for stdout
/// traces, and flushes it, so tool output and traces keep their order.
pub fn stdout_write_flush(data: &[u8]) {
    STDOUT.write(data, true);
}
