//! Snapshots of the server's state, built from result tables, and the collector
//! that fetches them with a fixed number of statements per refresh.
//!
//! Every optional source is an [`Avail`]: a server that lacks a table or variable
//! (MariaDB, MySQL, an older `minnowd`) yields [`Avail::Missing`] with the reason,
//! which the views show in place.

use std::collections::HashMap;
use std::time::Instant;

use crate::client::{Client, Table};
use crate::error::{Error, Result};

/// A value that a server may or may not provide.
#[derive(Debug, Clone, PartialEq)]
pub enum Avail<T> {
    /// The server provided it.
    Yes(T),
    /// The server does not have it; the string says what is missing and why.
    Missing(String),
    /// Not fetched (the view that needs it has not been opened yet).
    NotFetched,
}

impl<T> Avail<T> {
    /// The value if available.
    pub fn get(&self) -> Option<&T> {
        match self {
            Avail::Yes(t) => Some(t),
            _ => None,
        }
    }

    /// The same availability without the value.
    pub fn as_unit(&self) -> Avail<()> {
        match self {
            Avail::Yes(_) => Avail::Yes(()),
            Avail::Missing(w) => Avail::Missing(w.clone()),
            Avail::NotFetched => Avail::NotFetched,
        }
    }
}

/// One row of `SHOW FULL PROCESSLIST`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessRow {
    /// Thread / connection id.
    pub id: u64,
    /// User.
    pub user: String,
    /// Client host (and port).
    pub host: String,
    /// Default database.
    pub db: Option<String>,
    /// Command (`Query`, `Sleep`, `Daemon`, ...).
    pub command: String,
    /// Seconds in the current state.
    pub time: u64,
    /// State.
    pub state: Option<String>,
    /// The statement text, in full.
    pub info: Option<String>,
}

impl ProcessRow {
    /// True for threads that do nothing (`Sleep`, or a daemon without a query).
    pub fn is_idle(&self) -> bool {
        self.command.eq_ignore_ascii_case("Sleep")
            || (self.info.is_none()
                && (self.command.eq_ignore_ascii_case("Daemon")
                    || self.command.eq_ignore_ascii_case("Binlog Dump")))
    }
}

fn cell(row: &[Option<String>], idx: Option<usize>) -> Option<String> {
    idx.and_then(|i| row.get(i).cloned().flatten())
}

/// Parse `SHOW FULL PROCESSLIST` (extra columns such as MariaDB's `Progress` are ignored).
pub fn parse_processlist(t: &Table) -> Vec<ProcessRow> {
    let (id, user, host, db, cmd, time, state, info) = (
        t.column("Id"),
        t.column("User"),
        t.column("Host"),
        t.column("db"),
        t.column("Command"),
        t.column("Time"),
        t.column("State"),
        t.column("Info"),
    );
    t.rows
        .iter()
        .map(|r| ProcessRow {
            id: cell(r, id).and_then(|s| s.parse().ok()).unwrap_or(0),
            user: cell(r, user).unwrap_or_default(),
            host: cell(r, host).unwrap_or_default(),
            db: cell(r, db),
            command: cell(r, cmd).unwrap_or_default(),
            time: cell(r, time)
                .and_then(|s| s.split('.').next().and_then(|n| n.parse().ok()))
                .unwrap_or(0),
            state: cell(r, state).filter(|s| !s.is_empty()),
            info: cell(r, info),
        })
        .collect()
}

/// Status variables that are levels, not counters: shown as is, never differenced.
pub const GAUGES: &[&str] = &[
    "Uptime",
    "Uptime_since_flush_status",
    "Threads_connected",
    "Threads_running",
    "Threads_cached",
    "Open_files",
    "Open_streams",
    "Open_tables",
    "Open_table_definitions",
    "Max_used_connections",
    "Max_used_connections_time",
    "Memory_used",
    "Memory_used_initial",
    "Prepared_stmt_count",
    "Slave_open_temp_tables",
    "Slaves_connected",
    "Slaves_running",
    "Key_blocks_not_flushed",
    "Key_blocks_unused",
    "Key_blocks_used",
    "Qcache_free_blocks",
    "Qcache_free_memory",
    "Qcache_queries_in_cache",
    "Qcache_total_blocks",
    "Innodb_buffer_pool_pages_data",
    "Innodb_buffer_pool_pages_dirty",
    "Innodb_buffer_pool_pages_free",
    "Innodb_buffer_pool_pages_misc",
    "Innodb_buffer_pool_pages_total",
    "Innodb_buffer_pool_pages_old",
    "Innodb_buffer_pool_pages_made_young",
    "Innodb_buffer_pool_bytes_data",
    "Innodb_buffer_pool_bytes_dirty",
    "Innodb_page_size",
    "Innodb_row_lock_current_waits",
    "Innodb_row_lock_time_avg",
    "Innodb_row_lock_time_max",
    "Innodb_history_list_length",
    "Innodb_num_open_files",
    "Innodb_mem_adaptive_hash",
    "Innodb_mem_dictionary",
    "Innodb_checkpoint_age",
    "Innodb_checkpoint_max_age",
    "Innodb_buffer_pool_resize_status",
    "Tc_log_max_pages_used",
    "Tc_log_page_size",
    "Rpl_semi_sync_master_clients",
    "Feature_check_constraint",
    "Ssl_session_cache_size",
    "Ssl_verify_depth",
    "Ssl_verify_mode",
    "Ssl_default_timeout",
    "Ssl_ctx_verify_depth",
    "Ssl_ctx_verify_mode",
    "Ssl_session_cache_mode",
];

/// True if the named status variable is a gauge (case-insensitive).
pub fn is_gauge(name: &str) -> bool {
    GAUGES.iter().any(|g| g.eq_ignore_ascii_case(name))
        || name.ends_with("_status")
        || name.ends_with("_current")
}

/// One status variable.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusVar {
    /// Name.
    pub name: String,
    /// Value as sent.
    pub value: String,
    /// The value as a number, if it is one.
    pub number: Option<f64>,
    /// True for gauges (see [`GAUGES`]).
    pub gauge: bool,
    /// Per-second rate for numeric counters, once two samples exist.
    pub rate: Option<f64>,
}

/// `SHOW GLOBAL STATUS` at one moment, with rates against the previous sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// Variables in server order.
    pub vars: Vec<StatusVar>,
    index: HashMap<String, usize>,
}

impl Status {
    /// Build from name/value pairs; `prev` and `elapsed_secs` give rates.
    pub fn from_pairs(
        pairs: Vec<(String, String)>,
        prev: Option<&Status>,
        elapsed_secs: f64,
    ) -> Status {
        let mut vars = Vec::with_capacity(pairs.len());
        let mut index = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            let number = value.trim().parse::<f64>().ok();
            let gauge = is_gauge(&name);
            let rate = match (number, prev, gauge) {
                (Some(now), Some(p), false) if elapsed_secs > 0.0 => p
                    .number(&name)
                    .filter(|before| now >= *before)
                    .map(|before| (now - before) / elapsed_secs),
                _ => None,
            };
            index.insert(name.to_ascii_lowercase(), vars.len());
            vars.push(StatusVar {
                name,
                value,
                number,
                gauge,
                rate,
            });
        }
        Status { vars, index }
    }

    /// Look a variable up by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&StatusVar> {
        self.index
            .get(&name.to_ascii_lowercase())
            .and_then(|i| self.vars.get(*i))
    }

    /// A variable's numeric value.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|v| v.number)
    }
}

/// `SHOW GLOBAL VARIABLES` at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Variables {
    /// Name/value pairs in server order.
    pub vars: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Variables {
    /// Build from name/value pairs.
    pub fn from_pairs(vars: Vec<(String, String)>) -> Variables {
        let index = vars
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.to_ascii_lowercase(), i))
            .collect();
        Variables { vars, index }
    }

    /// A variable's value by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.index
            .get(&name.to_ascii_lowercase())
            .and_then(|i| self.vars.get(*i))
            .map(|(_, v)| v.as_str())
    }

    /// The DBUG control variable: `debug` (MySQL, minnowd) or `debug_dbug` (MariaDB).
    pub fn debug_variable(&self) -> Option<(&'static str, &str)> {
        ["debug", "debug_dbug"]
            .into_iter()
            .find_map(|n| self.get(n).map(|v| (n, v)))
    }
}

fn pairs(t: &Table) -> Vec<(String, String)> {
    t.rows
        .iter()
        .filter_map(|r| {
            let name = r.first().cloned().flatten()?;
            let value = r.get(1).cloned().flatten().unwrap_or_default();
            Some((name, value))
        })
        .collect()
}

/// One plugin: `SHOW PLUGINS` joined with `information_schema.PLUGINS`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plugin {
    /// Name.
    pub name: String,
    /// `ACTIVE`, `DISABLED`, `DELETED`, ...
    pub status: String,
    /// Plugin type.
    pub kind: String,
    /// Shared library, `None` for built-ins.
    pub library: Option<String>,
    /// License.
    pub license: String,
    /// Version from `information_schema.PLUGINS`.
    pub version: Option<String>,
    /// Author from `information_schema.PLUGINS`.
    pub author: Option<String>,
    /// Description from `information_schema.PLUGINS`.
    pub description: Option<String>,
}

/// One row of Minnow's `information_schema.PLUGIN_BINDINGS`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Binding {
    /// Plugin name.
    pub plugin: String,
    /// Extension point (event class, auth, table, function, daemon).
    pub extension_point: String,
    /// Calls so far.
    pub calls: u64,
    /// Errors and vetoes so far.
    pub errors: u64,
    /// Total time spent in the plugin, microseconds.
    pub total_time_us: u64,
    /// Longest call, microseconds.
    pub max_time_us: u64,
    /// Sessions currently bound.
    pub bound_sessions: u64,
    /// Calls per second since the previous sample.
    pub calls_rate: Option<f64>,
    /// Mean time per call since the previous sample (or overall when no calls since), µs.
    pub time_per_call_us: Option<f64>,
}

/// One row of Minnow's `information_schema.SESSION_PLUGIN_BINDINGS`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionBinding {
    /// Connection id.
    pub session_id: u64,
    /// Plugin name.
    pub plugin: String,
    /// Extension point.
    pub extension_point: String,
}

/// Everything the plugins view shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Plugins {
    /// `SHOW PLUGINS` (with details merged in where available).
    pub plugins: Avail<Vec<Plugin>>,
    /// Whether `information_schema.PLUGINS` details were available.
    pub details: Avail<()>,
    /// Minnow's bindings table.
    pub bindings: Avail<Vec<Binding>>,
    /// Minnow's per-session bindings table.
    pub sessions: Avail<Vec<SessionBinding>>,
}

impl Default for Plugins {
    fn default() -> Self {
        Plugins {
            plugins: Avail::NotFetched,
            details: Avail::NotFetched,
            bindings: Avail::NotFetched,
            sessions: Avail::NotFetched,
        }
    }
}

fn num(s: Option<String>) -> u64 {
    s.and_then(|v| v.trim().parse::<f64>().ok())
        .map(|f| f.max(0.0) as u64)
        .unwrap_or(0)
}

/// Parse `SHOW PLUGINS`.
pub fn parse_show_plugins(t: &Table) -> Vec<Plugin> {
    let (n, s, ty, l, lic) = (
        t.column("Name"),
        t.column("Status"),
        t.column("Type"),
        t.column("Library"),
        t.column("License"),
    );
    t.rows
        .iter()
        .map(|r| Plugin {
            name: cell(r, n).unwrap_or_default(),
            status: cell(r, s).unwrap_or_default(),
            kind: cell(r, ty).unwrap_or_default(),
            library: cell(r, l).filter(|v| !v.eq_ignore_ascii_case("NULL")),
            license: cell(r, lic).unwrap_or_default(),
            ..Plugin::default()
        })
        .collect()
}

/// Merge `information_schema.PLUGINS` details into plugins from `SHOW PLUGINS`.
pub fn merge_plugin_details(plugins: &mut [Plugin], t: &Table) {
    let (n, v, a, d) = (
        t.column("PLUGIN_NAME"),
        t.column("PLUGIN_VERSION"),
        t.column("PLUGIN_AUTHOR"),
        t.column("PLUGIN_DESCRIPTION"),
    );
    let by_name: HashMap<String, &Vec<Option<String>>> = t
        .rows
        .iter()
        .filter_map(|r| cell(r, n).map(|name| (name.to_ascii_lowercase(), r)))
        .collect();
    for p in plugins {
        if let Some(r) = by_name.get(&p.name.to_ascii_lowercase()) {
            p.version = cell(r, v);
            p.author = cell(r, a);
            p.description = cell(r, d);
        }
    }
}

/// Parse `information_schema.PLUGIN_BINDINGS`, with rates against `prev`.
pub fn parse_bindings(t: &Table, prev: Option<&[Binding]>, elapsed_secs: f64) -> Vec<Binding> {
    let (p, e, c, err, tt, mt, bs) = (
        t.column("PLUGIN_NAME"),
        t.column("EXTENSION_POINT"),
        t.column("CALLS"),
        t.column("ERRORS"),
        t.column("TOTAL_TIME_US"),
        t.column("MAX_TIME_US"),
        t.column("BOUND_SESSIONS"),
    );
    t.rows
        .iter()
        .map(|r| {
            let mut b = Binding {
                plugin: cell(r, p).unwrap_or_default(),
                extension_point: cell(r, e).unwrap_or_default(),
                calls: num(cell(r, c)),
                errors: num(cell(r, err)),
                total_time_us: num(cell(r, tt)),
                max_time_us: num(cell(r, mt)),
                bound_sessions: num(cell(r, bs)),
                calls_rate: None,
                time_per_call_us: None,
            };
            let before = prev.and_then(|pv| {
                pv.iter()
                    .find(|o| o.plugin == b.plugin && o.extension_point == b.extension_point)
            });
            let (dc, dt) = match before {
                Some(o) if b.calls >= o.calls && b.total_time_us >= o.total_time_us => {
                    (b.calls - o.calls, b.total_time_us - o.total_time_us)
                }
                _ => (0, 0),
            };
            if before.is_some() && elapsed_secs > 0.0 {
                b.calls_rate = Some(dc as f64 / elapsed_secs);
            }
            b.time_per_call_us = if dc > 0 {
                Some(dt as f64 / dc as f64)
            } else if b.calls > 0 {
                Some(b.total_time_us as f64 / b.calls as f64)
            } else {
                None
            };
            b
        })
        .collect()
}

/// Parse `information_schema.SESSION_PLUGIN_BINDINGS`.
pub fn parse_session_bindings(t: &Table) -> Vec<SessionBinding> {
    let (s, p, e) = (
        t.column("SESSION_ID"),
        t.column("PLUGIN_NAME"),
        t.column("EXTENSION_POINT"),
    );
    t.rows
        .iter()
        .map(|r| SessionBinding {
            session_id: num(cell(r, s)),
            plugin: cell(r, p).unwrap_or_default(),
            extension_point: cell(r, e).unwrap_or_default(),
        })
        .collect()
}

/// The figures of the header line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    /// `host:port` or socket.
    pub target: String,
    /// `@@version` (or the handshake version).
    pub version: String,
    /// Uptime in seconds.
    pub uptime: Option<u64>,
    /// `Connections` (total since start).
    pub connections: Option<u64>,
    /// `Threads_connected`.
    pub threads_connected: Option<u64>,
    /// `Threads_running`.
    pub threads_running: Option<u64>,
    /// Questions per second since the previous sample.
    pub qps_now: Option<f64>,
    /// Questions per second since the server started.
    pub qps_avg: Option<f64>,
}

impl Header {
    /// Derive the header from a status sample.
    pub fn from_status(target: String, version: String, status: &Status) -> Header {
        let n = |k: &str| status.number(k).map(|f| f as u64);
        let uptime = n("Uptime");
        let questions = status.get("Questions").or_else(|| status.get("Queries"));
        Header {
            target,
            version,
            uptime,
            connections: n("Connections"),
            threads_connected: n("Threads_connected"),
            threads_running: n("Threads_running"),
            qps_now: questions.and_then(|q| q.rate),
            qps_avg: match (questions.and_then(|q| q.number), uptime) {
                (Some(q), Some(u)) if u > 0 => Some(q / u as f64),
                _ => None,
            },
        }
    }
}

/// Everything one refresh fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Header figures.
    pub header: Header,
    /// The processlist.
    pub processlist: Vec<ProcessRow>,
    /// Global status with rates.
    pub status: Status,
    /// Global variables (fetched when a view needs them, kept otherwise).
    pub variables: Avail<Variables>,
    /// Plugins (fetched while the plugins view is open).
    pub plugins: Plugins,
    /// Seconds between this sample and the previous one (0 for the first).
    pub elapsed_secs: f64,
    /// Why the processlist is empty, if the server refused `SHOW FULL PROCESSLIST`.
    pub processlist_note: Option<String>,
    /// Why the status is empty, if the server refused `SHOW GLOBAL STATUS`.
    pub status_note: Option<String>,
}

/// What one refresh must fetch besides processlist and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// `SHOW GLOBAL VARIABLES`.
    pub variables: bool,
    /// The plugin statements.
    pub plugins: bool,
}

/// Fetches snapshots. Keeps what it learnt about missing tables so that a
/// server without them is not asked again on the same connection.
#[derive(Debug, Default)]
pub struct Collector {
    prev: Option<(Instant, Snapshot)>,
    missing_details: Option<String>,
    missing_bindings: Option<String>,
    missing_sessions: Option<String>,
}

impl Collector {
    /// A collector with no history.
    pub fn new() -> Collector {
        Collector::default()
    }

    /// Forget what was learnt about the server (after a reconnect).
    pub fn reset_probes(&mut self) {
        self.missing_details = None;
        self.missing_bindings = None;
        self.missing_sessions = None;
    }

    /// The previous snapshot, if any.
    pub fn previous(&self) -> Option<&Snapshot> {
        self.prev.as_ref().map(|(_, s)| s)
    }

    fn optional(
        client: &mut Client,
        sql: &str,
        known_missing: &mut Option<String>,
        what: &str,
    ) -> Result<Avail<Table>> {
        if let Some(why) = known_missing {
            return Ok(Avail::Missing(why.clone()));
        }
        match client.query(sql) {
            Ok(t) => Ok(Avail::Yes(t)),
            // Any error packet means "not here" (unknown table, no privilege, a syntax
            // the server does not know); a broken connection is a real error.
            Err(e) if e.server_code().is_some() => {
                let why = format!("{what} not available on this server ({e})");
                *known_missing = Some(why.clone());
                Ok(Avail::Missing(why))
            }
            Err(e) => Err(e),
        }
    }

    /// Fetch one snapshot. Statements: `SHOW FULL PROCESSLIST`, `SHOW GLOBAL STATUS`,
    /// plus `SHOW GLOBAL VARIABLES` when needed (or never fetched), plus at most four
    /// plugin statements while `needs.plugins` — never more, whatever the number of threads.
    pub fn collect(&mut self, client: &mut Client, needs: Needs) -> Result<Snapshot> {
        crate::trace::traced("Collector::collect", || self.collect_inner(client, needs))
    }

    fn collect_inner(&mut self, client: &mut Client, needs: Needs) -> Result<Snapshot> {
        let now = Instant::now();
        let refused = |what: &str, e: &Error| format!("{what} refused by the server ({e})");
        let (processlist, processlist_note) = match client.query("SHOW FULL PROCESSLIST") {
            Ok(t) => (parse_processlist(&t), None),
            Err(e) if e.server_code().is_some() => {
                (Vec::new(), Some(refused("SHOW FULL PROCESSLIST", &e)))
            }
            Err(e) => return Err(e),
        };
        let (status_table, status_note) = match client.query("SHOW GLOBAL STATUS") {
            Ok(t) => (t, None),
            Err(e) if e.server_code().is_some() => {
                (Table::default(), Some(refused("SHOW GLOBAL STATUS", &e)))
            }
            Err(e) => return Err(e),
        };
        let elapsed = self
            .prev
            .as_ref()
            .map(|(t, _)| now.duration_since(*t).as_secs_f64())
            .unwrap_or(0.0);
        let prev = self.prev.as_ref().map(|(_, s)| s);
        let status = Status::from_pairs(pairs(&status_table), prev.map(|p| &p.status), elapsed);

        let variables = match prev.map(|p| &p.variables) {
            Some(Avail::Yes(v)) if !needs.variables => Avail::Yes(v.clone()),
            _ => match client.query("SHOW GLOBAL VARIABLES") {
                Ok(t) => Avail::Yes(Variables::from_pairs(pairs(&t))),
                Err(e) if e.server_code().is_some() => {
                    Avail::Missing(format!("SHOW GLOBAL VARIABLES refused by the server ({e})"))
                }
                Err(e) => return Err(e),
            },
        };

        let plugins = if needs.plugins {
            self.collect_plugins(client, elapsed)?
        } else {
            Plugins::default()
        };

        let version = variables
            .get()
            .and_then(|v| v.get("version").map(str::to_string))
            .unwrap_or_else(|| client.server_version());
        let header = Header::from_status(client.options().target(), version, &status);
        let snap = Snapshot {
            header,
            processlist,
            status,
            variables,
            plugins,
            elapsed_secs: elapsed,
            processlist_note,
            status_note,
        };
        self.prev = Some((now, snap.clone()));
        Ok(snap)
    }

    fn collect_plugins(&mut self, client: &mut Client, elapsed: f64) -> Result<Plugins> {
        let mut out = Plugins::default();
        let mut list = match client.query("SHOW PLUGINS") {
            Ok(t) => Some(parse_show_plugins(&t)),
            Err(e) if e.server_code().is_some() => {
                out.plugins = Avail::Missing(format!("SHOW PLUGINS failed ({e})"));
                None
            }
            Err(e) => return Err(e),
        };
        match Self::optional(
            client,
            "SELECT * FROM information_schema.PLUGINS",
            &mut self.missing_details,
            "information_schema.PLUGINS",
        )? {
            Avail::Yes(t) => {
                if let Some(l) = list.as_mut() {
                    merge_plugin_details(l, &t);
                }
                out.details = Avail::Yes(());
            }
            Avail::Missing(w) => out.details = Avail::Missing(w),
            Avail::NotFetched => {}
        }
        if let Some(l) = list {
            out.plugins = Avail::Yes(l);
        }
        let prev_bindings = self
            .prev
            .as_ref()
            .and_then(|(_, s)| s.plugins.bindings.get())
            .map(|v| v.as_slice());
        out.bindings = match Self::optional(
            client,
            "SELECT * FROM information_schema.PLUGIN_BINDINGS",
            &mut self.missing_bindings,
            "information_schema.PLUGIN_BINDINGS (Minnow)",
        )? {
            Avail::Yes(t) => Avail::Yes(parse_bindings(&t, prev_bindings, elapsed)),
            Avail::Missing(w) => Avail::Missing(w),
            Avail::NotFetched => Avail::NotFetched,
        };
        out.sessions = match Self::optional(
            client,
            "SELECT * FROM information_schema.SESSION_PLUGIN_BINDINGS",
            &mut self.missing_sessions,
            "information_schema.SESSION_PLUGIN_BINDINGS (Minnow)",
        )? {
            Avail::Yes(t) => Avail::Yes(parse_session_bindings(&t)),
            Avail::Missing(w) => Avail::Missing(w),
            Avail::NotFetched => Avail::NotFetched,
        };
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cols: &[&str], rows: &[&[Option<&str>]]) -> Table {
        Table {
            columns: cols.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.map(str::to_string)).collect())
                .collect(),
        }
    }

    #[test]
    fn processlist_parses_mariadb_columns_and_ignores_extras() {
        let t = table(
            &[
                "Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress",
            ],
            &[&[
                Some("7"),
                Some("app"),
                Some("10.0.0.1:5000"),
                None,
                Some("Query"),
                Some("12"),
                Some("User sleep"),
                Some("SELECT SLEEP(100)"),
                Some("0.000"),
            ]],
        );
        let rows = parse_processlist(&t);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, 7);
        assert_eq!(rows[0].db, None);
        assert_eq!(rows[0].time, 12);
        assert_eq!(rows[0].info.as_deref(), Some("SELECT SLEEP(100)"));
        assert!(!rows[0].is_idle());
    }

    #[test]
    fn counters_get_rates_and_gauges_do_not() {
        let p = |q: &str, t: &str| {
            vec![
                ("Questions".to_string(), q.to_string()),
                ("Threads_connected".to_string(), t.to_string()),
                (
                    "Innodb_buffer_pool_load_status".to_string(),
                    "done".to_string(),
                ),
            ]
        };
        let first = Status::from_pairs(p("100", "5"), None, 0.0);
        assert_eq!(first.get("questions").and_then(|v| v.rate), None);
        let second = Status::from_pairs(p("160", "9"), Some(&first), 2.0);
        assert_eq!(second.get("Questions").and_then(|v| v.rate), Some(30.0));
        assert_eq!(second.get("Threads_connected").and_then(|v| v.rate), None);
        assert!(second.get("Threads_connected").is_some_and(|v| v.gauge));
        assert_eq!(
            second
                .get("Innodb_buffer_pool_load_status")
                .and_then(|v| v.rate),
            None
        );
        // A counter that went backwards (FLUSH STATUS) has no rate.
        let third = Status::from_pairs(p("10", "9"), Some(&second), 1.0);
        assert_eq!(third.get("Questions").and_then(|v| v.rate), None);
    }

    #[test]
    fn header_qps_now_and_average() {
        let a = Status::from_pairs(
            vec![
                ("Questions".into(), "1000".into()),
                ("Uptime".into(), "100".into()),
            ],
            None,
            0.0,
        );
        let b = Status::from_pairs(
            vec![
                ("Questions".into(), "1050".into()),
                ("Uptime".into(), "105".into()),
            ],
            Some(&a),
            5.0,
        );
        let h = Header::from_status("t".into(), "v".into(), &b);
        assert_eq!(h.qps_now, Some(10.0));
        assert_eq!(h.qps_avg, Some(10.0));
        assert_eq!(h.uptime, Some(105));
    }

    #[test]
    fn bindings_rates_and_time_per_call() {
        let cols = [
            "PLUGIN_NAME",
            "EXTENSION_POINT",
            "CALLS",
            "ERRORS",
            "TOTAL_TIME_US",
            "MAX_TIME_US",
            "BOUND_SESSIONS",
        ];
        let t1 = table(
            &cols,
            &[&[
                Some("audit_null"),
                Some("general"),
                Some("10"),
                Some("0"),
                Some("100"),
                Some("20"),
                Some("1"),
            ]],
        );
        let b1 = parse_bindings(&t1, None, 0.0);
        assert_eq!(b1[0].calls_rate, None);
        assert_eq!(b1[0].time_per_call_us, Some(10.0));
        let t2 = table(
            &cols,
            &[&[
                Some("audit_null"),
                Some("general"),
                Some("30"),
                Some("1"),
                Some("500"),
                Some("40"),
                Some("2"),
            ]],
        );
        let b2 = parse_bindings(&t2, Some(&b1), 2.0);
        assert_eq!(b2[0].calls_rate, Some(10.0));
        assert_eq!(b2[0].time_per_call_us, Some(20.0));
        assert_eq!(b2[0].bound_sessions, 2);
    }

    #[test]
    fn debug_variable_prefers_debug_then_debug_dbug() {
        let v = Variables::from_pairs(vec![("debug_dbug".into(), "d:t".into())]);
        assert_eq!(v.debug_variable(), Some(("debug_dbug", "d:t")));
        let none = Variables::from_pairs(vec![("version".into(), "1".into())]);
        assert_eq!(none.debug_variable(), None);
    }
}
