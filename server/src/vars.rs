//! System variables: a registry of definitions (plugins add to it), global
//! values, and per-session overrides.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use crate::error::{SqlError, code};

/// Where a variable lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only `SET GLOBAL`.
    Global,
    /// Only per session.
    Session,
    /// A global default copied into each session.
    Both,
}

/// The type of a variable and its allowed values.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// ON/OFF, 1/0, TRUE/FALSE.
    Bool,
    /// An integer in `min..=max`.
    Int {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
    /// Free text.
    Str,
    /// One of the listed words (case-insensitive).
    Enum(&'static [&'static str]),
}

/// A variable's value.
#[derive(Debug, Clone, PartialEq)]
pub enum VarValue {
    /// A boolean (shown as ON/OFF, selected as 1/0).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
}

impl VarValue {
    /// The value as `SHOW VARIABLES` prints it.
    pub fn show(&self) -> String {
        match self {
            VarValue::Bool(b) => if *b { "ON" } else { "OFF" }.into(),
            VarValue::Int(i) => i.to_string(),
            VarValue::Str(s) => s.clone(),
        }
    }
    /// The value as a result cell (`SELECT @@x`).
    pub fn cell(&self) -> rusqlite::types::Value {
        match self {
            VarValue::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
            VarValue::Int(i) => rusqlite::types::Value::Integer(*i),
            VarValue::Str(s) => rusqlite::types::Value::Text(s.clone()),
        }
    }
}

/// A value given in `SET`, before checking.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// A number literal.
    Int(i64),
    /// A string literal or bare word.
    Str(String),
    /// `DEFAULT`.
    Default,
}

/// The definition of a system variable.
#[derive(Debug, Clone)]
pub struct VarDef {
    /// Lower-case name.
    pub name: String,
    /// Global, session or both.
    pub scope: Scope,
    /// Type and range.
    pub kind: Kind,
    /// Cannot be changed with SET.
    pub read_only: bool,
    /// Compiled-in default (for `SET x = DEFAULT`).
    pub default: VarValue,
}

impl VarDef {
    /// Checks and converts a `SET` value (1231/1232 on failure).
    pub fn check(&self, v: &SetValue) -> Result<VarValue, SqlError> {
        let shown = match v {
            SetValue::Int(i) => i.to_string(),
            SetValue::Str(s) => s.clone(),
            SetValue::Default => return Ok(self.default.clone()),
        };
        match (&self.kind, v) {
            (Kind::Bool, SetValue::Int(0)) => Ok(VarValue::Bool(false)),
            (Kind::Bool, SetValue::Int(1)) => Ok(VarValue::Bool(true)),
            (Kind::Bool, SetValue::Str(s)) => match s.to_ascii_uppercase().as_str() {
                "ON" | "TRUE" | "1" => Ok(VarValue::Bool(true)),
                "OFF" | "FALSE" | "0" => Ok(VarValue::Bool(false)),
                _ => Err(SqlError::wrong_value(&self.name, &shown)),
            },
            (Kind::Bool, SetValue::Int(_)) => Err(SqlError::wrong_value(&self.name, &shown)),
            (Kind::Int { min, max }, SetValue::Int(i)) => {
                if i < min || i > max {
                    Err(SqlError::wrong_value(&self.name, &shown))
                } else {
                    Ok(VarValue::Int(*i))
                }
            }
            (Kind::Int { .. }, SetValue::Str(_)) => Err(SqlError::wrong_type(&self.name)),
            (Kind::Str, SetValue::Str(s)) => Ok(VarValue::Str(s.clone())),
            (Kind::Str, SetValue::Int(i)) => Ok(VarValue::Str(i.to_string())),
            (Kind::Enum(words), v) => {
                let s = match v {
                    SetValue::Int(i) => usize::try_from(*i)
                        .ok()
                        .and_then(|i| words.get(i))
                        .map(|w| w.to_string())
                        .ok_or_else(|| SqlError::wrong_value(&self.name, &shown))?,
                    SetValue::Str(s) => s.clone(),
                    SetValue::Default => return Ok(self.default.clone()),
                };
                words
                    .iter()
                    .find(|w| w.eq_ignore_ascii_case(&s))
                    .map(|w| VarValue::Str(w.to_string()))
                    .ok_or_else(|| SqlError::wrong_value(&self.name, &shown))
            }
            (_, SetValue::Default) => Ok(self.default.clone()),
        }
    }
}

/// All system variables: definitions and global values.
#[derive(Debug, Default)]
pub struct SysVars {
    defs: RwLock<BTreeMap<String, VarDef>>,
    globals: RwLock<HashMap<String, VarValue>>,
}

/// Per-session overrides of session-scoped variables.
pub type SessionVars = HashMap<String, VarValue>;

impl SysVars {
    /// Registers a variable with its initial global value (plugins call this too).
    /// A second registration of the same name replaces the first.
    pub fn register(&self, def: VarDef, initial: VarValue) {
        let name = def.name.to_ascii_lowercase();
        if let Ok(mut g) = self.globals.write() {
            g.insert(name.clone(), initial);
        }
        if let Ok(mut d) = self.defs.write() {
            d.insert(name, def);
        }
    }

    /// Removes a variable (an uninstalled plugin's).
    pub fn unregister(&self, name: &str) {
        let name = name.to_ascii_lowercase();
        if let Ok(mut g) = self.globals.write() {
            g.remove(&name);
        }
        if let Ok(mut d) = self.defs.write() {
            d.remove(&name);
        }
    }

    /// The definition of `name`.
    pub fn def(&self, name: &str) -> Option<VarDef> {
        self.defs
            .read()
            .ok()
            .and_then(|d| d.get(&name.to_ascii_lowercase()).cloned())
    }

    /// The global value of `name` (1193 if unknown, 1238 if session-only).
    pub fn global(&self, name: &str) -> Result<VarValue, SqlError> {
        let def = self.def(name).ok_or_else(|| SqlError::unknown_var(name))?;
        if def.scope == Scope::Session {
            return Err(SqlError::new(
                code::ER_INCORRECT_GLOBAL_LOCAL_VAR,
                format!("Variable '{}' is a SESSION variable", def.name),
            ));
        }
        self.raw_global(&def.name)
            .ok_or_else(|| SqlError::unknown_var(name))
    }

    fn raw_global(&self, name: &str) -> Option<VarValue> {
        self.globals.read().ok().and_then(|g| g.get(name).cloned())
    }

    /// The session value of `name`: the session's own, else the global.
    pub fn session(&self, sess: &SessionVars, name: &str) -> Result<VarValue, SqlError> {
        let lname = name.to_ascii_lowercase();
        if let Some(v) = sess.get(&lname) {
            return Ok(v.clone());
        }
        self.raw_global(&lname)
            .ok_or_else(|| SqlError::unknown_var(name))
    }

    /// A new session's variables: the current global value of every
    /// session-scoped variable, as MySQL copies them at connect. `debug` is left
    /// out: a session follows the global DBUG settings until it sets its own.
    pub fn session_defaults(&self) -> SessionVars {
        let (Ok(defs), Ok(globals)) = (self.defs.read(), self.globals.read()) else {
            return SessionVars::new();
        };
        defs.values()
            .filter(|d| d.scope == Scope::Both && d.name != "debug")
            .filter_map(|d| globals.get(&d.name).map(|v| (d.name.clone(), v.clone())))
            .collect()
    }

    /// Sets the global value after type/range checks. The caller checks privilege.
    pub fn set_global(&self, name: &str, v: &SetValue) -> Result<VarValue, SqlError> {
        let def = self.def(name).ok_or_else(|| SqlError::unknown_var(name))?;
        if def.read_only {
            return Err(read_only(&def.name));
        }
        if def.scope == Scope::Session {
            return Err(SqlError::new(
                code::ER_LOCAL_VARIABLE,
                format!(
                    "Variable '{}' is a SESSION variable and can't be used with SET GLOBAL",
                    def.name
                ),
            ));
        }
        let val = def.check(v)?;
        if let Ok(mut g) = self.globals.write() {
            g.insert(def.name.clone(), val.clone());
        }
        Ok(val)
    }

    /// Sets a session value after checks.
    pub fn set_session(
        &self,
        sess: &mut SessionVars,
        name: &str,
        v: &SetValue,
    ) -> Result<VarValue, SqlError> {
        let def = self.def(name).ok_or_else(|| SqlError::unknown_var(name))?;
        if def.read_only {
            return Err(read_only(&def.name));
        }
        if def.scope == Scope::Global {
            return Err(SqlError::new(
                code::ER_GLOBAL_VARIABLE,
                format!(
                    "Variable '{}' is a GLOBAL variable and should be set with SET GLOBAL",
                    def.name
                ),
            ));
        }
        let val = def.check(v)?;
        sess.insert(def.name.clone(), val.clone());
        Ok(val)
    }

    /// All variables visible in a scope, sorted by name, as (name, shown value).
    pub fn list(&self, sess: Option<&SessionVars>) -> Vec<(String, String)> {
        let defs = match self.defs.read() {
            Ok(d) => d,
            Err(_) => return Vec::new(),
        };
        let globals = match self.globals.read() {
            Ok(g) => g,
            Err(_) => return Vec::new(),
        };
        defs.values()
            .filter(|d| sess.is_some() || d.scope != Scope::Session)
            .filter_map(|d| {
                let v = sess
                    .and_then(|s| s.get(&d.name))
                    .or_else(|| globals.get(&d.name))?;
                Some((d.name.clone(), v.show()))
            })
            .collect()
    }
}

fn read_only(name: &str) -> SqlError {
    SqlError::new(
        code::ER_INCORRECT_GLOBAL_LOCAL_VAR,
        format!("Variable '{name}' is a read only variable"),
    )
}

/// Values that the server's built-in variables are initialised from.
#[derive(Debug, Clone)]
pub struct BuiltinValues {
    /// `version`
    pub version: String,
    /// `port`
    pub port: i64,
    /// `socket`
    pub socket: String,
    /// `datadir`
    pub datadir: String,
    /// `plugin_dir`
    pub plugin_dir: String,
    /// `max_connections`
    pub max_connections: i64,
    /// `debug`
    pub debug: String,
    /// `general_log`
    pub general_log: bool,
    /// `general_log_file`
    pub general_log_file: String,
    /// `log_error`
    pub log_error: String,
    /// `bind_address`
    pub bind_address: String,
}

/// Registers the server's built-in variables.
pub fn register_builtins(v: &SysVars, b: &BuiltinValues) {
    use Kind::*;
    use Scope::*;
    let s = |x: &str| VarValue::Str(x.to_string());
    let int = |lo: i64, hi: i64| Int { min: lo, max: hi };
    let add = |name: &str, scope: Scope, kind: Kind, ro: bool, val: VarValue| {
        v.register(
            VarDef {
                name: name.into(),
                scope,
                kind,
                read_only: ro,
                default: val.clone(),
            },
            val,
        )
    };
    const CHARSETS: &[&str] = &["utf8mb4", "utf8", "utf8mb3", "latin1", "binary", "ascii"];
    add("version", Global, Str, true, s(&b.version));
    add(
        "version_comment",
        Global,
        Str,
        true,
        s("Minnow Server (GPL)"),
    );
    add(
        "version_compile_os",
        Global,
        Str,
        true,
        s(std::env::consts::OS),
    );
    add(
        "version_compile_machine",
        Global,
        Str,
        true,
        s(std::env::consts::ARCH),
    );
    add(
        "protocol_version",
        Global,
        int(0, 255),
        true,
        VarValue::Int(10),
    );
    add("port", Global, int(0, 65535), true, VarValue::Int(b.port));
    add("socket", Global, Str, true, s(&b.socket));
    add("bind_address", Global, Str, true, s(&b.bind_address));
    add("datadir", Global, Str, true, s(&b.datadir));
    add("basedir", Global, Str, true, s("/"));
    add("plugin_dir", Global, Str, true, s(&b.plugin_dir));
    add("log_error", Global, Str, true, s(&b.log_error));
    add("hostname", Global, Str, true, s("localhost"));
    add("license", Global, Str, true, s("GPL"));
    add(
        "max_connections",
        Global,
        int(1, 100_000),
        false,
        VarValue::Int(b.max_connections),
    );
    add(
        "max_allowed_packet",
        Both,
        int(1024, 1 << 30),
        false,
        VarValue::Int(64 << 20),
    );
    add(
        "net_buffer_length",
        Both,
        int(1024, 1 << 20),
        false,
        VarValue::Int(16384),
    );
    add(
        "wait_timeout",
        Both,
        int(1, 31_536_000),
        false,
        VarValue::Int(28800),
    );
    add(
        "interactive_timeout",
        Both,
        int(1, 31_536_000),
        false,
        VarValue::Int(28800),
    );
    add(
        "net_read_timeout",
        Both,
        int(1, 31_536_000),
        false,
        VarValue::Int(30),
    );
    add(
        "net_write_timeout",
        Both,
        int(1, 31_536_000),
        false,
        VarValue::Int(60),
    );
    add(
        "connect_timeout",
        Global,
        int(2, 31_536_000),
        false,
        VarValue::Int(10),
    );
    add("autocommit", Both, Bool, false, VarValue::Bool(true));
    for n in [
        "character_set_client",
        "character_set_connection",
        "character_set_results",
        "character_set_server",
        "character_set_database",
    ] {
        add(n, Both, Enum(CHARSETS), false, s("utf8mb4"));
    }
    add("character_set_system", Global, Str, true, s("utf8mb3"));
    for n in [
        "collation_connection",
        "collation_server",
        "collation_database",
    ] {
        add(n, Both, Str, false, s("utf8mb4_general_ci"));
    }
    add(
        "sql_mode",
        Both,
        Str,
        false,
        s("STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"),
    );
    add("time_zone", Both, Str, false, s("SYSTEM"));
    add("system_time_zone", Global, Str, true, s("UTC"));
    const ISOLATION: &[&str] = &[
        "READ-UNCOMMITTED",
        "READ-COMMITTED",
        "REPEATABLE-READ",
        "SERIALIZABLE",
    ];
    add(
        "transaction_isolation",
        Both,
        Enum(ISOLATION),
        false,
        s("SERIALIZABLE"),
    );
    add(
        "tx_isolation",
        Both,
        Enum(ISOLATION),
        false,
        s("SERIALIZABLE"),
    );
    add(
        "transaction_read_only",
        Both,
        Bool,
        false,
        VarValue::Bool(false),
    );
    add("tx_read_only", Both, Bool, false, VarValue::Bool(false));
    add(
        "lower_case_table_names",
        Global,
        int(0, 2),
        true,
        VarValue::Int(0),
    );
    add("sql_auto_is_null", Both, Bool, false, VarValue::Bool(false));
    add(
        "sql_quote_show_create",
        Both,
        Bool,
        false,
        VarValue::Bool(true),
    );
    add("sql_notes", Both, Bool, false, VarValue::Bool(true));
    add("unique_checks", Both, Bool, false, VarValue::Bool(true));
    add(
        "foreign_key_checks",
        Both,
        Bool,
        false,
        VarValue::Bool(true),
    );
    add("sql_log_bin", Both, Bool, false, VarValue::Bool(true));
    add("big_tables", Both, Bool, false, VarValue::Bool(false));
    add(
        "sql_select_limit",
        Both,
        int(0, i64::MAX),
        false,
        VarValue::Int(i64::MAX),
    );
    add("init_connect", Global, Str, false, s(""));
    add("have_ssl", Global, Str, true, s("DISABLED"));
    add(
        "performance_schema",
        Global,
        Bool,
        true,
        VarValue::Bool(false),
    );
    add(
        "query_cache_size",
        Global,
        int(0, i64::MAX),
        false,
        VarValue::Int(0),
    );
    add(
        "query_cache_type",
        Both,
        Enum(&["OFF", "ON", "DEMAND"]),
        false,
        s("OFF"),
    );
    add("default_storage_engine", Both, Str, false, s("SQLite"));
    add("storage_engine", Both, Str, false, s("SQLite"));
    add(
        "server_id",
        Global,
        int(0, u32::MAX as i64),
        false,
        VarValue::Int(1),
    );
    add(
        "auto_increment_increment",
        Both,
        int(1, 65535),
        false,
        VarValue::Int(1),
    );
    add(
        "auto_increment_offset",
        Both,
        int(1, 65535),
        false,
        VarValue::Int(1),
    );
    add(
        "thread_handling",
        Global,
        Str,
        true,
        s("one-thread-per-connection"),
    );
    add("skip_networking", Global, Bool, true, VarValue::Bool(false));
    add(
        "general_log",
        Global,
        Bool,
        false,
        VarValue::Bool(b.general_log),
    );
    add(
        "general_log_file",
        Global,
        Str,
        false,
        s(&b.general_log_file),
    );
    add("debug", Both, Str, false, s(&b.debug));
    add(
        "warning_count",
        Session,
        int(0, i64::MAX),
        true,
        VarValue::Int(0),
    );
    add(
        "error_count",
        Session,
        int(0, i64::MAX),
        true,
        VarValue::Int(0),
    );
    add(
        "last_insert_id",
        Session,
        int(0, i64::MAX),
        false,
        VarValue::Int(0),
    );
    add(
        "identity",
        Session,
        int(0, i64::MAX),
        false,
        VarValue::Int(0),
    );
    add(
        "timestamp",
        Session,
        int(0, i64::MAX),
        false,
        VarValue::Int(0),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> SysVars {
        let v = SysVars::default();
        register_builtins(
            &v,
            &BuiltinValues {
                version: "8".into(),
                port: 3306,
                socket: "/tmp/s".into(),
                datadir: "/d".into(),
                plugin_dir: "/p".into(),
                max_connections: 151,
                debug: String::new(),
                general_log: false,
                general_log_file: "g".into(),
                log_error: "".into(),
                bind_address: "127.0.0.1".into(),
            },
        );
        v
    }

    #[test]
    fn set_checks_type_range_scope() {
        let v = vars();
        let mut s = SessionVars::new();
        assert_eq!(
            v.set_session(&mut s, "nope", &SetValue::Int(1))
                .unwrap_err()
                .code,
            1193
        );
        assert_eq!(
            v.set_session(&mut s, "wait_timeout", &SetValue::Int(0))
                .unwrap_err()
                .code,
            1231
        );
        assert_eq!(
            v.set_session(&mut s, "wait_timeout", &SetValue::Str("x".into()))
                .unwrap_err()
                .code,
            1232
        );
        assert_eq!(
            v.set_session(&mut s, "max_connections", &SetValue::Int(5))
                .unwrap_err()
                .code,
            1229
        );
        assert_eq!(
            v.set_global("port", &SetValue::Int(5)).unwrap_err().code,
            1238
        );
        assert_eq!(
            v.set_global("last_insert_id", &SetValue::Int(5))
                .unwrap_err()
                .code,
            1228
        );
        v.set_session(&mut s, "autocommit", &SetValue::Str("off".into()))
            .expect("bool");
        assert_eq!(
            v.session(&s, "AUTOCOMMIT").expect("get"),
            VarValue::Bool(false)
        );
        assert_eq!(v.global("autocommit").expect("get"), VarValue::Bool(true));
        let snapshot = v.session_defaults();
        v.set_global("wait_timeout", &SetValue::Int(10))
            .expect("global");
        assert_eq!(
            v.session(&SessionVars::new(), "wait_timeout").expect("g"),
            VarValue::Int(10)
        );
        assert_eq!(
            v.session(&snapshot, "wait_timeout").expect("s"),
            VarValue::Int(28800)
        );
        assert!(!snapshot.contains_key("debug") && !snapshot.contains_key("port"));
        assert_eq!(
            v.set_session(
                &mut s,
                "transaction_isolation",
                &SetValue::Str("read-committed".into())
            )
            .expect("enum"),
            VarValue::Str("READ-COMMITTED".into())
        );
    }
}
