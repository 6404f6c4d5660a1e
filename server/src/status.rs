//! Status variables with MySQL's names and semantics.
//!
//! Counters that both a session and the server keep (Questions, Com_*,
//! Bytes_*) are indexed by [`Counter`]; the session keeps a plain array and
//! the server an atomic one. Plugins add variables through [`StatusRegistry`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// `Com_*` statement kinds, in the order of [`COM_NAMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Com {
    Select,
    Insert,
    Update,
    Delete,
    Replace,
    CreateTable,
    DropTable,
    AlterTable,
    CreateIndex,
    DropIndex,
    CreateDb,
    DropDb,
    ChangeDb,
    SetOption,
    ShowVariables,
    ShowStatus,
    ShowProcesslist,
    ShowDatabases,
    ShowTables,
    ShowFields,
    ShowCreateTable,
    ShowWarnings,
    ShowEngineStatus,
    Kill,
    Begin,
    Commit,
    Rollback,
    Shutdown,
    CreateUser,
    DropUser,
    StmtPrepare,
    StmtExecute,
    StmtClose,
    StmtReset,
    ShowKeys,
    ShowTableStatus,
    AlterUser,
    SetPassword,
    Grant,
    Revoke,
    ShowGrants,
    Other,
}

/// Names of the `Com_*` variables (without the prefix), indexed by [`Com`].
pub const COM_NAMES: &[&str] = &[
    "select",
    "insert",
    "update",
    "delete",
    "replace",
    "create_table",
    "drop_table",
    "alter_table",
    "create_index",
    "drop_index",
    "create_db",
    "drop_db",
    "change_db",
    "set_option",
    "show_variables",
    "show_status",
    "show_processlist",
    "show_databases",
    "show_tables",
    "show_fields",
    "show_create_table",
    "show_warnings",
    "show_engine_status",
    "kill",
    "begin",
    "commit",
    "rollback",
    "shutdown",
    "create_user",
    "drop_user",
    "stmt_prepare",
    "stmt_execute",
    "stmt_close",
    "stmt_reset",
    "show_keys",
    "show_table_status",
    "alter_user",
    "set_password",
    "grant",
    "revoke",
    "show_grants",
    "other",
];

const BASE: usize = 4;
/// Number of per-session counters.
pub const N_COUNTERS: usize = BASE + COM_NAMES.len();

/// Per-session counters kept by both the session and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `Questions`
    Questions,
    /// `Queries`
    Queries,
    /// `Bytes_received`
    BytesReceived,
    /// `Bytes_sent`
    BytesSent,
    /// `Com_<kind>`
    Com(Com),
}

impl Counter {
    fn index(self) -> usize {
        match self {
            Counter::Questions => 0,
            Counter::Queries => 1,
            Counter::BytesReceived => 2,
            Counter::BytesSent => 3,
            Counter::Com(c) => BASE + c as usize,
        }
    }
    fn name(i: usize) -> String {
        match i {
            0 => "Questions".into(),
            1 => "Queries".into(),
            2 => "Bytes_received".into(),
            3 => "Bytes_sent".into(),
            i => format!("Com_{}", COM_NAMES[i - BASE]),
        }
    }
}

/// A session's own counters.
#[derive(Debug, Clone)]
pub struct SessionStatus {
    counters: [u64; N_COUNTERS],
}

impl Default for SessionStatus {
    fn default() -> Self {
        SessionStatus {
            counters: [0; N_COUNTERS],
        }
    }
}

/// A provider of extra status variables (plugins): returns (name, value) pairs.
pub type StatusProvider = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// Extra status variables registered at run time.
#[derive(Default)]
pub struct StatusRegistry {
    providers: RwLock<Vec<(String, StatusProvider)>>,
}

impl std::fmt::Debug for StatusRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusRegistry")
    }
}

impl StatusRegistry {
    /// Adds a provider under an owner name (a plugin name), replacing one of the same owner.
    pub fn register(&self, owner: &str, p: StatusProvider) {
        if let Ok(mut v) = self.providers.write() {
            v.retain(|(o, _)| o != owner);
            v.push((owner.to_string(), p));
        }
    }
    /// Removes the providers of an owner.
    pub fn unregister(&self, owner: &str) {
        if let Ok(mut v) = self.providers.write() {
            v.retain(|(o, _)| o != owner);
        }
    }
    fn collect(&self) -> Vec<(String, String)> {
        self.providers
            .read()
            .map(|v| v.iter().flat_map(|(_, p)| p()).collect())
            .unwrap_or_default()
    }
}

/// Server-wide status.
#[derive(Debug)]
pub struct GlobalStatus {
    started: Instant,
    counters: Vec<AtomicU64>,
    /// `Connections`: connection attempts.
    pub connections: AtomicU64,
    /// `Threads_connected`
    pub threads_connected: AtomicU64,
    /// `Threads_running`
    pub threads_running: AtomicU64,
    /// `Threads_created`
    pub threads_created: AtomicU64,
    /// `Aborted_connects`
    pub aborted_connects: AtomicU64,
    /// `Aborted_clients`
    pub aborted_clients: AtomicU64,
    /// `Max_used_connections`
    pub max_used_connections: AtomicU64,
    /// Plugin-provided variables.
    pub extra: StatusRegistry,
}

impl Default for GlobalStatus {
    fn default() -> Self {
        GlobalStatus {
            started: Instant::now(),
            counters: (0..N_COUNTERS).map(|_| AtomicU64::new(0)).collect(),
            connections: AtomicU64::new(0),
            threads_connected: AtomicU64::new(0),
            threads_running: AtomicU64::new(0),
            threads_created: AtomicU64::new(0),
            aborted_connects: AtomicU64::new(0),
            aborted_clients: AtomicU64::new(0),
            max_used_connections: AtomicU64::new(0),
            extra: StatusRegistry::default(),
        }
    }
}

impl GlobalStatus {
    /// Seconds since start.
    pub fn uptime(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Adds `n` to a counter of the server and of one session.
    #[inline]
    pub fn add(&self, sess: &mut SessionStatus, c: Counter, n: u64) {
        let i = c.index();
        sess.counters[i] += n;
        self.counters[i].fetch_add(n, Ordering::Relaxed);
    }

    /// A global counter's value.
    pub fn get(&self, c: Counter) -> u64 {
        self.counters[c.index()].load(Ordering::Relaxed)
    }

    /// A new connection was accepted into a session.
    pub fn connected(&self) {
        let n = self.threads_connected.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_used_connections.fetch_max(n, Ordering::Relaxed);
    }

    /// All variables for `SHOW [GLOBAL|SESSION] STATUS`, sorted by name.
    /// With a session, its own counters replace the global ones.
    pub fn list(&self, sess: Option<&SessionStatus>) -> Vec<(String, String)> {
        let ld = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
        let mut v = vec![
            ("Uptime".to_string(), self.uptime().to_string()),
            ("Connections".into(), ld(&self.connections)),
            ("Threads_connected".into(), ld(&self.threads_connected)),
            ("Threads_running".into(), ld(&self.threads_running)),
            ("Threads_created".into(), ld(&self.threads_created)),
            ("Threads_cached".into(), "0".into()),
            ("Aborted_connects".into(), ld(&self.aborted_connects)),
            ("Aborted_clients".into(), ld(&self.aborted_clients)),
            (
                "Max_used_connections".into(),
                ld(&self.max_used_connections),
            ),
            ("Slow_queries".into(), "0".into()),
            ("Opened_tables".into(), "0".into()),
            ("Open_tables".into(), "0".into()),
            (
                "Uptime_since_flush_status".into(),
                self.uptime().to_string(),
            ),
        ];
        for i in 0..N_COUNTERS {
            let val = match sess {
                Some(s) => s.counters[i],
                None => self.counters[i].load(Ordering::Relaxed),
            };
            v.push((Counter::name(i), val.to_string()));
        }
        v.extend(self.extra.collect());
        v.sort_by_key(|a| a.0.to_ascii_lowercase());
        v
    }

    /// The line `COM_STATISTICS` returns (what `mariadb-admin status` prints).
    pub fn statistics_line(&self) -> String {
        let up = self.uptime();
        let q = self.get(Counter::Questions);
        let qps = if up == 0 {
            q as f64
        } else {
            q as f64 / up as f64
        };
        format!(
            "Uptime: {}  Threads: {}  Questions: {}  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: {:.3}",
            up,
            self.threads_connected.load(Ordering::Relaxed),
            q,
            qps
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_global_counters() {
        let g = GlobalStatus::default();
        let mut a = SessionStatus::default();
        let mut b = SessionStatus::default();
        g.add(&mut a, Counter::Com(Com::Select), 1);
        g.add(&mut b, Counter::Com(Com::Select), 2);
        let find = |l: &[(String, String)], n: &str| {
            l.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        };
        assert_eq!(find(&g.list(None), "Com_select").as_deref(), Some("3"));
        assert_eq!(find(&g.list(Some(&a)), "Com_select").as_deref(), Some("1"));
        g.extra
            .register("p", Arc::new(|| vec![("P_x".to_string(), "7".to_string())]));
        assert_eq!(find(&g.list(None), "P_x").as_deref(), Some("7"));
        assert!(g.statistics_line().starts_with("Uptime: "));
    }
}
