//! The thread registry: one entry per connection, as `SHOW PROCESSLIST` shows
//! it, with the handles `KILL` needs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::protocol::Stream;

/// What `KILL` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillLevel {
    /// Stop the running statement.
    Query,
    /// Close the connection.
    Connection,
}

/// Processlist fields that change while a session runs.
#[derive(Debug, Clone)]
pub struct ProcState {
    /// Authenticated user ("unauthenticated user" before login).
    pub user: String,
    /// Current database.
    pub db: Option<String>,
    /// Command name (`Sleep`, `Query`, …).
    pub command: &'static str,
    /// When the command (or idle period) started.
    pub since: Instant,
    /// Stage (`executing`, `User sleep`, …).
    pub state: &'static str,
    /// Statement text.
    pub info: Option<String>,
}

/// One connection as other threads see it.
pub struct ThreadInfo {
    /// Connection id.
    pub id: u32,
    /// `host:port` or `localhost`.
    pub host: String,
    /// Length of the host part of `host` (before the `:port`), for audit events.
    pub host_len: usize,
    /// Mutable processlist fields.
    pub state: Mutex<ProcState>,
    killed_query: AtomicBool,
    killed_conn: AtomicBool,
    interrupt: Mutex<Option<rusqlite::InterruptHandle>>,
    stream: Mutex<Option<Stream>>,
}

impl std::fmt::Debug for ThreadInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ThreadInfo({}, {})", self.id, self.host)
    }
}

impl ThreadInfo {
    /// A new entry for a connection whose socket is `stream` (a clone).
    pub fn new(id: u32, host: String, stream: Option<Stream>) -> Self {
        ThreadInfo {
            id,
            // The last colon: an IPv6 peer is `[::1]:port`.
            host_len: host.rfind(':').unwrap_or(host.len()),
            host,
            state: Mutex::new(ProcState {
                user: "unauthenticated user".into(),
                db: None,
                command: "Connect",
                since: Instant::now(),
                state: "login",
                info: None,
            }),
            killed_query: AtomicBool::new(false),
            killed_conn: AtomicBool::new(false),
            interrupt: Mutex::new(None),
            stream: Mutex::new(stream),
        }
    }

    /// Updates the processlist fields.
    pub fn set(&self, f: impl FnOnce(&mut ProcState)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s)
        }
    }

    /// A copy of the processlist fields.
    pub fn snapshot(&self) -> Option<ProcState> {
        self.state.lock().ok().map(|s| s.clone())
    }

    /// Sets the SQLite handle used to interrupt a running statement.
    pub fn set_interrupt(&self, h: rusqlite::InterruptHandle) {
        if let Ok(mut i) = self.interrupt.lock() {
            *i = Some(h);
        }
    }

    /// Whether the running statement must stop.
    pub fn is_killed(&self) -> bool {
        self.killed_query.load(Ordering::Relaxed) || self.killed_conn.load(Ordering::Relaxed)
    }

    /// Whether the connection must close.
    pub fn is_conn_killed(&self) -> bool {
        self.killed_conn.load(Ordering::Relaxed)
    }

    /// Clears a `KILL QUERY` once the session has reported it.
    pub fn clear_query_kill(&self) {
        self.killed_query.store(false, Ordering::Relaxed);
    }

    /// Kills the statement (and with [`KillLevel::Connection`] the connection).
    pub fn kill(&self, level: KillLevel) {
        match level {
            KillLevel::Query => self.killed_query.store(true, Ordering::Relaxed),
            KillLevel::Connection => self.killed_conn.store(true, Ordering::Relaxed),
        }
        if let Ok(i) = self.interrupt.lock() {
            if let Some(h) = i.as_ref() {
                h.interrupt();
            }
        }
        if level == KillLevel::Connection {
            if let Ok(s) = self.stream.lock() {
                if let Some(s) = s.as_ref() {
                    s.shutdown();
                }
            }
        }
    }
}

/// All live connections.
#[derive(Debug, Default)]
pub struct Threads {
    next_id: AtomicU32,
    map: RwLock<BTreeMap<u32, Arc<ThreadInfo>>>,
}

impl Threads {
    /// The next connection id (starting at 1).
    pub fn next_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
    /// Adds an entry.
    pub fn add(&self, t: Arc<ThreadInfo>) {
        if let Ok(mut m) = self.map.write() {
            m.insert(t.id, t);
        }
    }
    /// Removes an entry.
    pub fn remove(&self, id: u32) {
        if let Ok(mut m) = self.map.write() {
            m.remove(&id);
        }
    }
    /// Looks an entry up.
    pub fn get(&self, id: u32) -> Option<Arc<ThreadInfo>> {
        self.map.read().ok().and_then(|m| m.get(&id).cloned())
    }
    /// All entries, by id.
    pub fn all(&self) -> Vec<Arc<ThreadInfo>> {
        self.map
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
