//! Extension points that plugins will attach to (the plugin issue builds on
//! these): audit events around connections and statements, and
//! `information_schema` tables.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::error::SqlError;
use crate::protocol::{Cell, ColDef};

/// An audit event, with MySQL's class/subclass names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent<'a> {
    /// Connection class, before authentication (may veto).
    PreAuth {
        /// Connection id.
        conn_id: u32,
        /// Peer host.
        host: &'a str,
    },
    /// Connection class, after successful (or failed, `error != 0`) authentication.
    Connect {
        /// Connection id.
        conn_id: u32,
        /// User name.
        user: &'a str,
        /// Peer host.
        host: &'a str,
        /// 0 or the error code sent to the client.
        error: u16,
    },
    /// Connection class, at disconnect.
    Disconnect {
        /// Connection id.
        conn_id: u32,
    },
    /// Connection class, after COM_CHANGE_USER.
    ChangeUser {
        /// Connection id.
        conn_id: u32,
        /// New user.
        user: &'a str,
    },
    /// General class, before a statement runs (may veto).
    Starting {
        /// Connection id.
        conn_id: u32,
        /// Statement text.
        query: &'a str,
    },
    /// General class, after a statement ran.
    Completed {
        /// Connection id.
        conn_id: u32,
        /// Statement text.
        query: &'a str,
        /// 0 or the error code.
        error: u16,
    },
}

impl AuditEvent<'_> {
    /// Whether an observer may refuse this event.
    pub fn can_veto(&self) -> bool {
        matches!(
            self,
            AuditEvent::PreAuth { .. } | AuditEvent::Starting { .. }
        )
    }
}

/// Something that observes audit events (an audit plugin).
pub trait AuditObserver: Send + Sync {
    /// Name, for error messages.
    fn name(&self) -> &str;
    /// Called for each event; an `Err` vetoes events that can be vetoed and is
    /// ignored for the others.
    fn notify(&self, ev: &AuditEvent<'_>) -> Result<(), SqlError>;
}

/// The registered audit observers, called in registration order.
#[derive(Default)]
pub struct AuditHub {
    any: AtomicBool,
    observers: RwLock<Vec<Arc<dyn AuditObserver>>>,
}

impl std::fmt::Debug for AuditHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditHub")
    }
}

impl AuditHub {
    /// Adds an observer at the end of the chain.
    pub fn add(&self, o: Arc<dyn AuditObserver>) {
        if let Ok(mut v) = self.observers.write() {
            v.push(o);
            self.any.store(true, Ordering::Release);
        }
    }
    /// Removes observers by name.
    pub fn remove(&self, name: &str) {
        if let Ok(mut v) = self.observers.write() {
            v.retain(|o| o.name() != name);
            self.any.store(!v.is_empty(), Ordering::Release);
        }
    }
    /// Delivers an event; the first veto stops the chain and is returned.
    #[inline]
    pub fn notify(&self, ev: &AuditEvent<'_>) -> Result<(), SqlError> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let list = match self.observers.read() {
            Ok(v) => v.clone(),
            Err(_) => return Ok(()),
        };
        for o in list {
            if let Err(e) = o.notify(ev) {
                if ev.can_veto() {
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// What an information_schema table's fill function sees.
#[derive(Debug)]
pub struct FillContext<'a> {
    /// The server.
    pub shared: &'a crate::server::Shared,
    /// The asking session's connection id.
    pub conn_id: u32,
    /// Whether the asking user holds the PROCESS/SUPER privilege.
    pub privileged: bool,
    /// The asking user.
    pub user: &'a str,
    /// The asking session's variables.
    pub session_vars: &'a crate::vars::SessionVars,
    /// The asking session's status counters.
    pub session_status: &'a crate::status::SessionStatus,
}

/// Fills a table: one row per call result entry.
pub type FillFn = Arc<dyn Fn(&FillContext<'_>) -> Vec<Vec<Cell>> + Send + Sync>;

/// An `information_schema` table.
#[derive(Clone)]
pub struct InfoSchemaTable {
    /// Upper-case table name.
    pub name: String,
    /// Columns; their types become the SQLite declared types.
    pub columns: Vec<ColDef>,
    /// Produces the rows.
    pub fill: FillFn,
}

impl std::fmt::Debug for InfoSchemaTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InfoSchemaTable({})", self.name)
    }
}

/// The registered information_schema tables.
#[derive(Debug, Default)]
pub struct InfoSchemaRegistry {
    tables: RwLock<Vec<InfoSchemaTable>>,
}

impl InfoSchemaRegistry {
    /// Adds (or replaces) a table.
    pub fn register(&self, t: InfoSchemaTable) {
        if let Ok(mut v) = self.tables.write() {
            v.retain(|x| !x.name.eq_ignore_ascii_case(&t.name));
            v.push(t);
        }
    }
    /// Removes a table.
    pub fn unregister(&self, name: &str) {
        if let Ok(mut v) = self.tables.write() {
            v.retain(|x| !x.name.eq_ignore_ascii_case(name));
        }
    }
    /// All tables.
    pub fn all(&self) -> Vec<InfoSchemaTable> {
        self.tables.read().map(|v| v.clone()).unwrap_or_default()
    }
}
