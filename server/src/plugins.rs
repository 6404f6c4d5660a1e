//! The plugin host wired into the server (`minnow-plugin-host`): start-up loading
//! (`--plugin-load[-add]`, `--plugin-NAME=…`, `mysql.plugin`), `INSTALL`/`UNINSTALL`,
//! `SHOW PLUGINS`, `SHOW PLUGIN BINDINGS`, `FLUSH PLUGINS`, the information_schema
//! tables `PLUGINS`, `PLUGIN_BINDINGS`, `SESSION_PLUGIN_BINDINGS` and the tables
//! plugins provide, plugin status variables, and the [`HostServices`] the host calls
//! back (error log, DBUG keywords, session info, crash-handler module map).
//!
//! Statements are parsed by a small parser over sqlparser's tokens.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, Weak};

use minnow_plugin_host::{
    HostServices, LoadOption, LoadRequest, LogLevel, PluginError, Registry, SessionInfo, UdfReturn,
    UninstallOutcome,
};
use mysql_common::constants::ColumnType;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::error::{ServerError, SqlError};
use crate::hooks::InfoSchemaTable;
use crate::protocol::{Cell, ColDef, ResultSet};
use crate::server::Shared;
use crate::sql::Outcome;
use crate::threads::ThreadInfo;

/// Maps a host error to the error the client receives (code, SQLSTATE, message).
pub fn sql_error(e: &PluginError) -> SqlError {
    let mut state = [0u8; 5];
    let s = e.sqlstate().as_bytes();
    if s.len() == 5 {
        state.copy_from_slice(s);
    } else {
        state = *b"HY000";
    }
    SqlError {
        code: e.code(),
        state,
        message: e.to_string(),
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<ThreadInfo>>> = const { RefCell::new(None) };
    /// A plugin table fill that failed during the current statement (the fill
    /// callback cannot return an error; the statement fails with it afterwards).
    static FILL_ERROR: RefCell<Option<SqlError>> = const { RefCell::new(None) };
}

/// Marks the calling thread as serving connection `thd` (for
/// [`HostServices::session`]); cleared when the guard drops.
pub fn enter_connection(thd: &Arc<ThreadInfo>) -> ConnectionGuard {
    CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(thd)));
    ConnectionGuard(())
}

/// Clears the calling thread's connection on drop.
#[derive(Debug)]
pub struct ConnectionGuard(());

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }
}

/// The server side of the plugin host.
#[derive(Debug, Default)]
pub struct ServerHost {
    shared: OnceLock<Weak<Shared>>,
    datadir: PathBuf,
}

impl ServerHost {
    /// A host for a server with data directory `datadir`; [`ServerHost::attach`]
    /// gives it the server once built.
    pub fn new(datadir: PathBuf) -> Self {
        ServerHost {
            shared: OnceLock::new(),
            datadir,
        }
    }
    /// Connects the host to the server's state (kept weakly: the server owns the registry).
    pub fn attach(&self, shared: &Arc<Shared>) {
        let _ = self.shared.set(Arc::downgrade(shared));
    }
}

impl HostServices for ServerHost {
    fn error_log(&self, level: LogLevel, plugin: &str, message: &str) {
        // Messages that already name the plugin (the host's own, a Rust plugin's
        // panic report) are not prefixed a second time.
        let msg = if plugin.is_empty() || message.starts_with(&format!("Plugin '{plugin}'")) {
            message.to_string()
        } else {
            format!("Plugin '{plugin}': {message}")
        };
        match self.shared.get().and_then(Weak::upgrade) {
            Some(sh) => match level {
                LogLevel::Error => sh.errlog.error(&msg),
                LogLevel::Warning => sh.errlog.warn(&msg),
                LogLevel::Note => sh.errlog.note(&msg),
            },
            None => eprintln!("minnowd plugin host: {msg}"),
        }
    }
    fn dbug_keyword(&self, keyword: &str) -> bool {
        crate::debug::execute_if(keyword)
    }
    fn session(&self) -> Option<SessionInfo> {
        CURRENT.with(|c| {
            c.borrow().as_ref().map(|t| {
                let (user, query) = t
                    .snapshot()
                    .map(|st| (st.user, st.info.unwrap_or_default()))
                    .unwrap_or_default();
                SessionInfo {
                    connection_id: u64::from(t.id),
                    user,
                    host: t.host.clone(),
                    query,
                }
            })
        })
    }
    fn data_dir(&self) -> Option<PathBuf> {
        Some(self.datadir.clone())
    }
    fn modules_changed(&self) {
        stackresolve::crash::refresh_module_map();
    }
    fn plugin_loaded(&self, name: &str, library: &str, addr: usize) {
        if let Err(e) = stackresolve::crash::register_plugin_at(name, library, addr) {
            self.error_log(
                LogLevel::Warning,
                "",
                &format!("crash handler cannot map plugin '{name}' ({library}): {e}"),
            );
        }
    }
    fn plugin_unloaded(&self, name: &str) {
        stackresolve::crash::unregister_plugin(name);
    }
}

/// The client IP of a connection (`host` without the port; `127.0.0.1` for
/// loopback and socket clients shown as `localhost`).
pub fn peer_ip(thd: &ThreadInfo, host: &str) -> String {
    let h = thd.host.rsplit_once(':').map(|x| x.0).unwrap_or(&thd.host);
    if h == "localhost" || host == "localhost" {
        "127.0.0.1".to_string()
    } else {
        h.trim_start_matches('[').trim_end_matches(']').to_string()
    }
}

/// Delivers an observe-only connection event (its result is ignored: a plugin
/// that panics is already disabled and logged by the host).
pub fn connection_event(
    psess: &mut minnow_plugin_host::Session,
    subclass: minnow_plugin_host::ConnectionSubclass,
    status: i32,
    user: &str,
    host: &str,
    ip: &str,
) {
    // The host part of `host:port` (the last colon: an IPv6 peer is `[::1]:port`).
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let _ = psess.audit_connection(&minnow_plugin_host::ConnectionEvent {
        subclass,
        status,
        connection_id: psess.id(),
        user,
        host,
        ip,
        database: "",
    });
}

/// The general-class event of a statement of `sess` (subclass `Log`; the caller
/// gives each delivery its subclass, error and rows): built once per phase of the
/// statement, not once per subclass.
fn statement_event<'a>(
    thd: &'a ThreadInfo,
    user: &'a str,
    ip: &'a str,
    query: &'a str,
) -> minnow_plugin_host::GeneralEvent<'a> {
    minnow_plugin_host::GeneralEvent {
        subclass: minnow_plugin_host::GeneralSubclass::Log,
        error_code: 0,
        connection_id: u64::from(thd.id),
        rows: 0,
        user,
        host: thd.host.get(..thd.host_len).unwrap_or(&thd.host),
        ip,
        command: "Query",
        query,
    }
}

/// Around one statement: `Log` and `Starting` (may veto) before `run`; `Error`,
/// `Result`, `Status` and `Completed` after it. When no audit plugin takes the
/// general class nothing is built (one atomic load per phase).
pub fn audited(
    sess: &mut crate::session::Session,
    query: &str,
    run: impl FnOnce(&mut crate::session::Session) -> Result<Outcome, SqlError>,
) -> Result<Outcome, SqlError> {
    use minnow_plugin_host::GeneralSubclass as G;
    sync_functions(sess);
    // The statement's UDF call sites, described when a UDF first runs (nothing to
    // do, and nothing allocated, while no UDF exists).
    let _udf_sites = (!sess.udfs.is_empty())
        .then(|| crate::udf_sites::enter(query, &sess.udf_names, sess.sql.db.as_deref()));
    if sess.psess.wants_general() {
        let s = &mut *sess;
        let ev = statement_event(&s.thd, &s.account.user, &s.ip, query);
        s.psess
            .audit_general_seq(&ev, &[(G::Log, 0, 0), (G::Starting, 0, 0)])
            .map_err(|e| sql_error(&e))?;
    }
    FILL_ERROR.with(|f| f.borrow_mut().take());
    let mut r = run(sess);
    if let Some(e) = FILL_ERROR.with(|f| f.borrow_mut().take()) {
        if r.is_ok() {
            r = Err(e);
        }
    }
    if sess.psess.wants_general() {
        let (code, rows) = match &r {
            Ok(Outcome::Rows(rs)) => (0, rs.rows.len() as u64),
            Ok(Outcome::Ok { affected, .. }) => (0, *affected),
            Err(e) => (e.code, 0),
        };
        let s = &mut *sess;
        let ev = statement_event(&s.thd, &s.account.user, &s.ip, query);
        let code = i32::from(code);
        let first = if code != 0 {
            (G::Error, code, 0)
        } else {
            (G::Result, 0, rows)
        };
        let _ = s.psess.audit_general_seq(
            &ev,
            &[first, (G::Status, code, rows), (G::Completed, code, rows)],
        );
    }
    r
}

/// Bumped whenever the set of UDFs changes; sessions re-register their SQLite
/// functions when they see a new value.
static UDF_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn bump_udfs() {
    UDF_GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Registers the server's UDFs as SQLite functions on `sess`'s connection when
/// they changed since the last time (and removes dropped ones).
pub fn sync_functions(sess: &mut crate::session::Session) {
    let generation = UDF_GENERATION.load(std::sync::atomic::Ordering::SeqCst);
    if sess.udf_generation == generation {
        return;
    }
    sess.udf_generation = generation;
    let funcs = sess.shared.plugins.functions();
    let conn = &sess.sql.conn;
    for old in std::mem::take(&mut sess.udfs) {
        if !funcs.iter().any(|f| f.name.eq_ignore_ascii_case(&old)) {
            let _ = conn.remove_function(old.as_str(), -1);
        }
    }
    for f in funcs {
        let name = f.name.clone();
        let r = udf_sqlite::register(conn, &sess.shared.plugins, &name, f.aggregate);
        match r {
            Ok(()) => sess.udfs.push(name),
            Err(e) => sess
                .shared
                .errlog
                .warn(&format!("cannot register function {name} in SQLite: {e}")),
        }
    }
    sess.udf_names = sess.udfs.iter().map(|n| n.to_ascii_lowercase()).collect();
}

/// UDFs as SQLite functions with MySQL's lifecycle: one `UDF_INIT` per call site
/// (each `f(...)` written in the statement) and statement execution — `xxx_init`
/// before the first row, `xxx_deinit` when the statement ends; aggregates get
/// `xxx_clear` per group. rusqlite's function API hides the `sqlite3_context`,
/// which is what tells call sites apart (SQLite allocates one per call site of a
/// prepared statement), hence the raw registration here.
mod udf_sqlite {
    #![allow(unsafe_code)]

    use std::ffi::{CString, c_char, c_int, c_void};
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use minnow_plugin_host::{PluginError, Registry, UdfArg, UdfArgType, UdfCall, Value};
    use rusqlite::ffi;

    /// The statement-wide auxiliary-data slot holding the call sites. SQLite keeps
    /// data under a negative index for the prepared statement's execution, shared
    /// by all its functions, and destroys it when the statement is reset or
    /// finalised (after pending aggregates are finalised).
    const SITES_SLOT: c_int = -0x4d55_4446;

    /// What `sqlite3_create_function_v2` carries for one function.
    struct Func {
        reg: Registry,
        name: String,
    }

    /// One call site: its context and the call (initialised for the argument
    /// types of its first row; later rows are converted to them, as MySQL converts
    /// to the types it gave `xxx_init`).
    struct Site {
        ctx: usize,
        call: UdfCall,
        /// The constant arguments' values as the statement text has them, passed on
        /// every row as MySQL does (`1.50` stays `"1.50"` for a DECIMAL argument,
        /// where SQLite's value is the double 1.5).
        constants: Vec<Option<Value>>,
    }

    /// `values` with the constant arguments replaced by `constants`.
    fn with_constants<'v>(
        values: &'v [Value],
        constants: &[Option<Value>],
    ) -> std::borrow::Cow<'v, [Value]> {
        if constants.iter().all(Option::is_none) {
            return std::borrow::Cow::Borrowed(values);
        }
        let mut v = values.to_vec();
        for (slot, c) in v.iter_mut().zip(constants) {
            if let Some(c) = c {
                if same_constant(slot, c) {
                    *slot = c.clone();
                }
            }
        }
        std::borrow::Cow::Owned(v)
    }

    /// Whether SQLite's value `v` is the literal `c` of the statement text (a
    /// decimal literal is text there and a double in SQLite). A call site matched
    /// to the text by name and argument count may be another one (a view's, a
    /// trigger's): then its values are not the text's constants.
    fn same_constant(v: &Value, c: &Value) -> bool {
        match (v, c) {
            (Value::Null, Value::Null) => true,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Real(a), Value::Real(b)) => a == b,
            (Value::Real(a), Value::Str(t)) => t.parse::<f64>().is_ok_and(|b| b == *a),
            (Value::Int(a), Value::Str(t)) => t.parse::<i64>().is_ok_and(|b| b == *a),
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => false,
        }
    }

    /// The call sites of one statement execution (boxed: aggregate accumulators
    /// point at them).
    #[derive(Default)]
    #[allow(clippy::vec_box)] // the boxes must not move when the vector grows
    struct Sites(Vec<Box<Site>>);

    /// Registers `name` (an aggregate if `aggregate`) on `conn`.
    pub(super) fn register(
        conn: &rusqlite::Connection,
        reg: &Registry,
        name: &str,
        aggregate: bool,
    ) -> rusqlite::Result<()> {
        let cname = CString::new(name).map_err(|_| {
            rusqlite::Error::InvalidFunctionParameterType(0, rusqlite::types::Type::Text)
        })?;
        let app = Box::into_raw(Box::new(Func {
            reg: reg.clone(),
            name: name.to_string(),
        }));
        type XFunc =
            unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value);
        type XFinal = unsafe extern "C" fn(*mut ffi::sqlite3_context);
        let (func, step, fin): (Option<XFunc>, Option<XFunc>, Option<XFinal>) = if aggregate {
            (None, Some(x_step), Some(x_final))
        } else {
            (Some(x_func), None, None)
        };
        // SAFETY: `conn` is an open connection used by this thread only; the name is
        // a NUL-terminated string; `app` is a live `Func` that SQLite hands back to
        // the callbacks and frees with `destroy_func` (also when registration fails).
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                conn.handle(),
                cname.as_ptr(),
                -1,
                ffi::SQLITE_UTF8,
                app.cast(),
                func,
                step,
                fin,
                Some(destroy_func),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(rusqlite::Error::SqliteFailure(
                ffi::Error::new(rc),
                Some(format!("cannot register function {name}")),
            ));
        }
        Ok(())
    }

    unsafe extern "C" fn destroy_func(p: *mut c_void) {
        if !p.is_null() {
            // SAFETY: `p` is the `Box<Func>` leaked by `register`, freed once here.
            drop(unsafe { Box::from_raw(p.cast::<Func>()) });
        }
    }

    unsafe extern "C" fn destroy_sites(p: *mut c_void) {
        if !p.is_null() {
            // SAFETY: `p` is the `Box<Sites>` leaked by `sites`; SQLite calls this
            // once. Dropping the calls runs the functions' `deinit`.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                drop(unsafe { Box::from_raw(p.cast::<Sites>()) })
            }));
        }
    }

    /// The statement's call sites, created on first use. `None` if SQLite could
    /// not keep them (out of memory).
    ///
    /// SAFETY: `ctx` is the context of a running function call (not a finaliser's).
    unsafe fn sites<'a>(ctx: *mut ffi::sqlite3_context) -> Option<&'a mut Sites> {
        // SAFETY: per the contract, `ctx` belongs to a running statement.
        let p = unsafe { ffi::sqlite3_get_auxdata(ctx, SITES_SLOT) }.cast::<Sites>();
        if !p.is_null() {
            // SAFETY: only `Sites` are stored in this slot; the statement runs on this
            // thread and no other reference to them is live.
            return Some(unsafe { &mut *p });
        }
        let p = Box::into_raw(Box::<Sites>::default());
        // SAFETY: on failure SQLite frees `p` through `destroy_sites` at once, so it
        // is read back rather than trusted.
        unsafe { ffi::sqlite3_set_auxdata(ctx, SITES_SLOT, p.cast(), Some(destroy_sites)) };
        // SAFETY: as above.
        let back = unsafe { ffi::sqlite3_get_auxdata(ctx, SITES_SLOT) }.cast::<Sites>();
        // SAFETY: as above.
        (!back.is_null()).then(|| unsafe { &mut *back })
    }

    /// Converts the arguments.
    ///
    /// SAFETY: `argv` holds `argc` values of the running call.
    unsafe fn args_of(argc: c_int, argv: *mut *mut ffi::sqlite3_value) -> Vec<Value> {
        let n = usize::try_from(argc).unwrap_or(0);
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: `i < argc`.
            let v = unsafe { *argv.add(i) };
            // SAFETY: `v` is a protected value of this call; text/blob pointers stay
            // valid until the next conversion of `v`, and are copied at once.
            values.push(unsafe {
                match ffi::sqlite3_value_type(v) {
                    ffi::SQLITE_INTEGER => Value::Int(ffi::sqlite3_value_int64(v)),
                    ffi::SQLITE_FLOAT => Value::Real(ffi::sqlite3_value_double(v)),
                    ffi::SQLITE_TEXT => {
                        let p = ffi::sqlite3_value_text(v);
                        let len = usize::try_from(ffi::sqlite3_value_bytes(v)).unwrap_or(0);
                        if p.is_null() {
                            Value::Str(String::new())
                        } else {
                            Value::Str(
                                String::from_utf8_lossy(std::slice::from_raw_parts(p, len))
                                    .into_owned(),
                            )
                        }
                    }
                    ffi::SQLITE_BLOB => {
                        let p = ffi::sqlite3_value_blob(v).cast::<u8>();
                        let len = usize::try_from(ffi::sqlite3_value_bytes(v)).unwrap_or(0);
                        if p.is_null() {
                            Value::Bytes(Vec::new())
                        } else {
                            Value::Bytes(std::slice::from_raw_parts(p, len).to_vec())
                        }
                    }
                    _ => Value::Null,
                }
            });
        }
        values
    }

    /// Text of column `i` of the current row of `st` (empty for NULL).
    ///
    /// SAFETY: `st` is a statement positioned on a row with more than `i` columns.
    unsafe fn column_text(st: *mut ffi::sqlite3_stmt, i: c_int) -> String {
        // SAFETY: per the contract; the text is copied before the next step.
        unsafe {
            let p = ffi::sqlite3_column_text(st, i);
            let len = usize::try_from(ffi::sqlite3_column_bytes(st, i)).unwrap_or(0);
            if p.is_null() {
                String::new()
            } else {
                String::from_utf8_lossy(std::slice::from_raw_parts(p, len)).into_owned()
            }
        }
    }

    /// `(name, declared type)` of the columns of `schema.table` on connection `db`
    /// (empty if there is no such table or schema). Runs while the caller's
    /// statement is running, which SQLite allows for reads.
    ///
    /// SAFETY: `db` is the connection of the running call (this thread's).
    unsafe fn table_columns(
        db: *mut ffi::sqlite3,
        schema: &str,
        table: &str,
    ) -> Vec<(String, String)> {
        const SQL: &std::ffi::CStr = c"SELECT name, type FROM pragma_table_info(?1, ?2)";
        let mut st: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        let mut out = Vec::new();
        let (Ok(tlen), Ok(slen)) = (c_int::try_from(table.len()), c_int::try_from(schema.len()))
        else {
            return out;
        };
        // SAFETY: `db` is open; SQL is NUL-terminated; the bound texts are copied
        // (SQLITE_TRANSIENT); `st` is finalised on every path (finalising null is a
        // no-op).
        unsafe {
            if ffi::sqlite3_prepare_v2(db, SQL.as_ptr(), -1, &mut st, std::ptr::null_mut())
                == ffi::SQLITE_OK
                && ffi::sqlite3_bind_text(
                    st,
                    1,
                    table.as_ptr().cast::<c_char>(),
                    tlen,
                    ffi::SQLITE_TRANSIENT(),
                ) == ffi::SQLITE_OK
                && ffi::sqlite3_bind_text(
                    st,
                    2,
                    schema.as_ptr().cast::<c_char>(),
                    slen,
                    ffi::SQLITE_TRANSIENT(),
                ) == ffi::SQLITE_OK
            {
                while ffi::sqlite3_step(st) == ffi::SQLITE_ROW {
                    out.push((column_text(st, 0), column_text(st, 1)));
                }
            }
            ffi::sqlite3_finalize(st);
        }
        out
    }

    /// The `UDF_ARGS` description of a call of `f` with `values` (its first row): what
    /// the statement text tells ([`crate::udf_sites`]), else the types of `values`
    /// (STRING for NULL). The call site keeps these types for all its rows.
    ///
    /// SAFETY: `ctx` is the context of a running call or finaliser of `f`.
    unsafe fn call_args(ctx: *mut ffi::sqlite3_context, f: &Func, values: &[Value]) -> Vec<UdfArg> {
        // SAFETY: per the contract.
        let db = unsafe { ffi::sqlite3_context_db_handle(ctx) };
        // SAFETY: `db` is this call's connection.
        let mut lookup = |schema: &str, table: &str| unsafe { table_columns(db, schema, table) };
        // A call site whose constants are not this call's values is another one;
        // among the rest, those with the most constants equal to them fit best.
        let score = |args: &[crate::udf_sites::ArgSite]| {
            let mut n = 0;
            for (a, v) in args.iter().zip(values) {
                match &a.constant {
                    Some(c) if same_constant(v, c) => n += 1,
                    Some(_) => return None,
                    None => {}
                }
            }
            Some(n)
        };
        let sites = crate::udf_sites::for_call(&f.name, values.len(), &mut lookup, score);
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let site = sites.as_ref().and_then(|s| s.get(i));
                UdfArg {
                    arg_type: site.and_then(|s| s.arg_type).unwrap_or(match v {
                        Value::Int(_) | Value::Bool(_) => UdfArgType::Integer,
                        Value::Real(_) => UdfArgType::Real,
                        _ => UdfArgType::String,
                    }),
                    constant: site.and_then(|s| s.constant.clone()),
                    attribute: site.map(|s| s.attribute.clone()).unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Sets the call's result.
    ///
    /// SAFETY: `ctx` is the context of a running call or finaliser.
    unsafe fn set_result(ctx: *mut ffi::sqlite3_context, r: Result<Value, PluginError>) {
        // SAFETY: SQLITE_TRANSIENT makes SQLite copy the bytes before returning.
        unsafe {
            match r {
                Ok(Value::Null) => ffi::sqlite3_result_null(ctx),
                Ok(Value::Int(i)) => ffi::sqlite3_result_int64(ctx, i),
                Ok(Value::Bool(b)) => ffi::sqlite3_result_int64(ctx, i64::from(b)),
                Ok(Value::Real(r)) => ffi::sqlite3_result_double(ctx, r),
                Ok(Value::Str(s)) => ffi::sqlite3_result_text64(
                    ctx,
                    s.as_ptr().cast::<c_char>(),
                    s.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                    ffi::SQLITE_UTF8 as u8,
                ),
                Ok(Value::Bytes(b)) => ffi::sqlite3_result_blob64(
                    ctx,
                    b.as_ptr().cast::<c_void>(),
                    b.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                ),
                Err(e) => error(ctx, &super::sql_error(&e).message),
            }
        }
    }

    /// SAFETY: `ctx` is the context of a running call or finaliser.
    unsafe fn error(ctx: *mut ffi::sqlite3_context, msg: &str) {
        let len = c_int::try_from(msg.len()).unwrap_or(c_int::MAX);
        // SAFETY: SQLite copies the message.
        unsafe { ffi::sqlite3_result_error(ctx, msg.as_ptr().cast::<c_char>(), len) };
    }

    /// SAFETY: `ctx` is the context of a running call of a function registered by
    /// [`register`].
    unsafe fn func<'a>(ctx: *mut ffi::sqlite3_context) -> &'a Func {
        // SAFETY: the user data is the `Func` of this registration, alive until
        // `destroy_func`.
        unsafe { &*ffi::sqlite3_user_data(ctx).cast::<Func>() }
    }

    /// The call site of `ctx`, prepared (`init`) on first use.
    fn site<'a>(
        sites: &'a mut Sites,
        ctx: *mut ffi::sqlite3_context,
        f: &Func,
        args: impl FnOnce(*mut ffi::sqlite3_context) -> Vec<UdfArg>,
    ) -> Result<&'a mut Site, PluginError> {
        let key = ctx as usize;
        let i = match sites.0.iter().position(|s| s.ctx == key) {
            Some(i) => i,
            None => {
                let args = args(ctx);
                let call = f.reg.prepare_function(&f.name, &args)?;
                let constants = args.into_iter().map(|a| a.constant).collect();
                sites.0.push(Box::new(Site {
                    ctx: key,
                    call,
                    constants,
                }));
                sites.0.len() - 1
            }
        };
        Ok(&mut sites.0[i])
    }

    unsafe extern "C" fn x_func(
        ctx: *mut ffi::sqlite3_context,
        argc: c_int,
        argv: *mut *mut ffi::sqlite3_value,
    ) {
        let r = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: SQLite calls this with a live context and `argc` arguments.
            let (f, values) = unsafe { (func(ctx), args_of(argc, argv)) };
            // SAFETY: a running call's context.
            let args = |ctx| unsafe { call_args(ctx, f, &values) };
            // SAFETY: a running call's context.
            match unsafe { sites(ctx) } {
                Some(sites) => site(sites, ctx, f, args).and_then(|s| {
                    let row = with_constants(&values, &s.constants);
                    s.call.call(&row)
                }),
                // No room for the statement's state: a call of its own.
                None => {
                    let args = args(ctx);
                    let constants: Vec<Option<Value>> =
                        args.iter().map(|a| a.constant.clone()).collect();
                    f.reg
                        .prepare_function(&f.name, &args)
                        .and_then(|mut c| c.call(&with_constants(&values, &constants)))
                }
            }
        }));
        match r {
            // SAFETY: a running call's context.
            Ok(r) => unsafe { set_result(ctx, r) },
            // SAFETY: as above.
            Err(_) => unsafe { error(ctx, "internal error: a UDF call panicked") },
        }
    }

    /// Aggregate accumulator (per group and call site): the call site's address,
    /// null until the group's first row.
    type Acc = *mut Site;

    unsafe extern "C" fn x_step(
        ctx: *mut ffi::sqlite3_context,
        argc: c_int,
        argv: *mut *mut ffi::sqlite3_value,
    ) {
        let r = catch_unwind(AssertUnwindSafe(|| -> Result<(), PluginError> {
            // SAFETY: SQLite calls this with a live context and `argc` arguments;
            // the aggregate context is zeroed memory of the requested size.
            let (f, values, acc) = unsafe {
                (
                    func(ctx),
                    args_of(argc, argv),
                    ffi::sqlite3_aggregate_context(ctx, std::mem::size_of::<Acc>() as c_int)
                        .cast::<Acc>(),
                )
            };
            if acc.is_null() {
                return Err(PluginError::Usage {
                    message: "out of memory".into(),
                });
            }
            // SAFETY: `acc` points at this group's accumulator.
            let mut site_ptr = unsafe { *acc };
            if site_ptr.is_null() {
                // SAFETY: a running call's context.
                let sites = unsafe { sites(ctx) }.ok_or_else(|| PluginError::Usage {
                    message: "out of memory".into(),
                })?;
                // SAFETY: a running call's context.
                let s = site(sites, ctx, f, |ctx| unsafe { call_args(ctx, f, &values) })?;
                s.call.clear()?;
                site_ptr = std::ptr::from_mut(s);
                // SAFETY: as above.
                unsafe { *acc = site_ptr };
            }
            // SAFETY: the site lives in the statement's `Sites` (boxed, never moved)
            // until the statement ends, after its groups are finalised.
            let s = unsafe { &mut *site_ptr };
            let row = with_constants(&values, &s.constants);
            s.call.add(&row)
        }));
        match r {
            Ok(Ok(())) => {}
            // SAFETY: a running call's context.
            Ok(Err(e)) => unsafe { error(ctx, &super::sql_error(&e).message) },
            // SAFETY: as above.
            Err(_) => unsafe { error(ctx, "internal error: a UDF call panicked") },
        }
    }

    /// The result of an aggregate call site that saw no row, as MySQL computes it:
    /// `name_init` (which MySQL runs before reading rows), `name_clear`, `name()`,
    /// `name_deinit`. The finaliser does not say which call site it finalises, so the
    /// arguments are those of the statement's call sites of the function when they
    /// all have the same count ([`crate::udf_sites::arity`]), with the types the
    /// text tells and STRING where it does not; without that count there is
    /// nothing to call `name_init` with and the result is NULL.
    ///
    /// SAFETY: `ctx` is the finaliser's context of a function registered by
    /// [`register`].
    unsafe fn empty_result(ctx: *mut ffi::sqlite3_context) -> Result<Value, PluginError> {
        // SAFETY: per the contract (user data and connection are set for finalisers).
        let (f, db) = unsafe { (func(ctx), ffi::sqlite3_context_db_handle(ctx)) };
        // SAFETY: `db` is this call's connection.
        let mut lookup = |schema: &str, table: &str| unsafe { table_columns(db, schema, table) };
        let Some(n) = crate::udf_sites::arity(&f.name, &mut lookup) else {
            return Ok(Value::Null);
        };
        let sites =
            crate::udf_sites::for_call(&f.name, n, &mut lookup, |_| Some(0)).unwrap_or_default();
        let args: Vec<UdfArg> = (0..n)
            .map(|i| {
                let s = sites.get(i);
                UdfArg {
                    arg_type: s.and_then(|s| s.arg_type).unwrap_or(UdfArgType::String),
                    constant: s.and_then(|s| s.constant.clone()),
                    attribute: s.map(|s| s.attribute.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let mut call = f.reg.prepare_function(&f.name, &args)?;
        call.clear()?;
        // `name_deinit` when `call` drops here.
        call.result()
    }

    unsafe extern "C" fn x_final(ctx: *mut ffi::sqlite3_context) {
        // SAFETY: size 0 only looks the accumulator up (null: the group had no row).
        let acc = unsafe { ffi::sqlite3_aggregate_context(ctx, 0) }.cast::<Acc>();
        // SAFETY: `acc`, when not null, is this group's accumulator.
        let site_ptr = if acc.is_null() {
            std::ptr::null_mut()
        } else {
            unsafe { *acc }
        };
        if site_ptr.is_null() {
            // No row reached this group: the one row of an aggregate over empty
            // input without GROUP BY.
            // SAFETY: the finaliser's context.
            let r = catch_unwind(AssertUnwindSafe(|| unsafe { empty_result(ctx) }));
            match r {
                // SAFETY: the finaliser's context.
                Ok(r) => unsafe { set_result(ctx, r) },
                // SAFETY: as above.
                Err(_) => unsafe { error(ctx, "internal error: a UDF call panicked") },
            }
            return;
        }
        // SAFETY: see `x_step`: the site outlives its groups' finalisation.
        let r = catch_unwind(AssertUnwindSafe(|| unsafe { &mut *site_ptr }.call.result()));
        match r {
            // SAFETY: the finaliser's context.
            Ok(r) => unsafe { set_result(ctx, r) },
            // SAFETY: as above.
            Err(_) => unsafe { error(ctx, "internal error: a UDF call panicked") },
        }
    }
}

/// Creates `mysql.func` if missing.
fn ensure_func_table(sh: &Shared) -> Result<(), SqlError> {
    mysql_conn(sh)?
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS func(name TEXT NOT NULL PRIMARY KEY, ret INTEGER NOT NULL, dl TEXT NOT NULL, type TEXT NOT NULL);",
        )
        .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))
}

fn ret_code(r: UdfReturn) -> i64 {
    match r {
        UdfReturn::String => 0,
        UdfReturn::Real => 1,
        UdfReturn::Integer => 2,
        UdfReturn::Decimal => 4,
    }
}

fn ret_of(code: i64) -> UdfReturn {
    match code {
        1 => UdfReturn::Real,
        2 => UdfReturn::Integer,
        4 => UdfReturn::Decimal,
        _ => UdfReturn::String,
    }
}

/// Start-up: every `mysql.func` row becomes a UDF again (failures logged, skipped).
fn load_functions(sh: &Shared) {
    if let Err(e) = ensure_func_table(sh) {
        sh.errlog
            .error(&format!("cannot create mysql.func: {}", e.message));
        return;
    }
    let rows = mysql_conn(sh).and_then(|c| {
        let mut st = c
            .prepare("SELECT name, ret, dl, type FROM func ORDER BY rowid")
            .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
        st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))
    });
    match rows {
        Ok(rows) => {
            for (name, ret, dl, ty) in rows {
                if let Err(e) =
                    sh.plugins
                        .create_function(&name, ret_of(ret), ty == "aggregate", &dl)
                {
                    sh.errlog
                        .error(&format!("Can't load function '{name}' from {dl}: {e}"));
                }
            }
            bump_udfs();
        }
        Err(e) => sh
            .errlog
            .error(&format!("cannot read mysql.func: {}", e.message)),
    }
}

/// The built-in `mysql_native_password` authentication plugin (permanent).
#[derive(Debug)]
pub struct NativePassword;

impl minnow_plugin_host::sdk::Plugin for NativePassword {
    const NAME: &'static std::ffi::CStr = c"mysql_native_password";
    const DESCRIPTION: &'static std::ffi::CStr = c"Native MySQL authentication";
    fn init(_host: minnow_plugin_host::sdk::Host) -> Result<Self, String> {
        Ok(NativePassword)
    }
}

impl minnow_plugin_host::sdk::AuthPlugin for NativePassword {
    const CLIENT_PLUGIN: &'static std::ffi::CStr = c"mysql_native_password";
    fn authenticate(&self, request: &minnow_plugin_host::sdk::AuthRequest<'_>) -> bool {
        std::str::from_utf8(request.auth_string)
            .is_ok_and(|s| crate::datadir::native_verify(s, request.scramble, request.response))
    }
    fn generate_auth_string(&self, password: &[u8]) -> Result<Vec<u8>, String> {
        let pw = std::str::from_utf8(password).map_err(|_| "password is not UTF-8".to_string())?;
        Ok(crate::datadir::native_hash(pw).into_bytes())
    }
}

/// The authentication plugin of an account (`mysql.user.plugin`).
pub fn account_plugin(sh: &Shared, acc: &crate::datadir::Account) -> String {
    mysql_conn(sh)
        .ok()
        .and_then(|c| {
            c.query_row(
                "SELECT plugin FROM user WHERE User = ?1 AND Host = ?2",
                (&acc.user, &acc.host),
                |r| r.get::<_, String>(0),
            )
            .ok()
        })
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "mysql_native_password".to_string())
}

/// The client-side plugin an authentication plugin needs.
pub fn client_plugin(sh: &Shared, plugin: &str) -> Option<String> {
    sh.plugins
        .auth_plugins()
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(plugin))
        .map(|(_, c)| c)
}

/// Checks `response` for account `acc` through its authentication plugin.
pub fn authenticate_account(
    psess: &mut minnow_plugin_host::Session,
    acc: &crate::datadir::Account,
    plugin: &str,
    user: &str,
    host: &str,
    scramble: &[u8],
    response: &[u8],
) -> Result<bool, SqlError> {
    psess
        .authenticate(
            plugin,
            &minnow_plugin_host::AuthRequest {
                user,
                host,
                auth_string: acc.auth_string.as_bytes(),
                scramble,
                response,
            },
        )
        .map_err(|e| match e {
            // An account whose plugin was uninstalled: 1524, as in MySQL/MariaDB.
            PluginError::DoesNotExist { name, .. } => sql_error(&PluginError::NotLoaded { name }),
            e => sql_error(&e),
        })
}

/// Start-up plugin settings (from the command line).
#[derive(Debug, Clone, Default)]
pub struct PluginStartup {
    /// `--plugin-load` then each `--plugin-load-add`, in order.
    pub load: Vec<String>,
    /// `--plugin-NAME=OFF|ON|FORCE|FORCE_PLUS_PERMANENT`.
    pub options: Vec<(String, String)>,
    /// `--NAME-VARIABLE=value` not known to the server (plugin variables).
    pub variables: Vec<(String, String)>,
}

fn mysql_conn(sh: &Shared) -> Result<rusqlite::Connection, SqlError> {
    sh.datadir
        .connect_mysql()
        .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))
}

/// Creates `mysql.plugin` if missing.
pub fn ensure_tables(sh: &Shared) -> Result<(), SqlError> {
    mysql_conn(sh)?
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS plugin(name TEXT NOT NULL PRIMARY KEY, dl TEXT NOT NULL);",
        )
        .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))
}

fn plugin_rows(sh: &Shared) -> Result<Vec<(String, String)>, SqlError> {
    let c = mysql_conn(sh)?;
    let mut st = c
        .prepare("SELECT name, dl FROM plugin ORDER BY rowid")
        .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
    st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))
}

/// Start-up: load options, variables, `--plugin-load[-add]` and `mysql.plugin`,
/// then register the tables and status variables. `Err` only for a plugin loaded
/// with FORCE/FORCE_PLUS_PERMANENT that failed (the server must not start).
pub fn startup(sh: &Arc<Shared>, cfg: &PluginStartup) -> Result<(), ServerError> {
    let reg = &sh.plugins;
    let mut opts = Vec::new();
    for (name, v) in &cfg.options {
        match v.parse::<LoadOption>() {
            Ok(o) => opts.push((name.replace('-', "_"), o)),
            Err(_) => {
                return Err(ServerError::Option(format!(
                    "--plugin-{name}={v}: the value must be OFF, ON, FORCE or FORCE_PLUS_PERMANENT"
                )));
            }
        }
    }
    // MariaDB's spelling `--NAME=OFF|ON|FORCE|FORCE_PLUS_PERMANENT`: an undeclared
    // option whose value is a load option may name a plugin (it only applies to a
    // plugin of exactly that name; `--plugin-NAME` wins).
    for (name, v) in &cfg.variables {
        let n = name.replace('-', "_");
        if let Ok(o) = v.parse::<LoadOption>() {
            if !opts.iter().any(|(k, _)| k.eq_ignore_ascii_case(&n)) {
                opts.push((n, o));
            }
        }
    }
    reg.set_load_options(opts.clone());
    reg.set_startup_variables(
        cfg.variables
            .iter()
            .map(|(k, v)| (k.replace('-', "_"), v.clone())),
    );
    let mut reqs: Vec<LoadRequest> = Vec::new();
    for spec in &cfg.load {
        let r = minnow_plugin_host::parse_plugin_load(spec)
            .map_err(|e| ServerError::Option(format!("--plugin-load '{spec}': {e}")))?;
        reqs.extend(r);
    }
    // A named request carries its --plugin-NAME option (FORCE must stop start-up
    // even when the library cannot be opened at all).
    for r in &mut reqs {
        if let Some(n) = &r.name {
            if let Some((_, o)) = opts.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)) {
                r.option = *o;
            }
        }
    }
    if let Err(e) = ensure_tables(sh) {
        sh.errlog
            .error(&format!("cannot create mysql.plugin: {}", e.message));
    }
    match plugin_rows(sh) {
        Ok(rows) => reqs.extend(rows.into_iter().map(|(name, dl)| LoadRequest {
            name: Some(name),
            soname: dl,
            option: LoadOption::On,
        })),
        Err(e) => sh
            .errlog
            .error(&format!("cannot read mysql.plugin: {}", e.message)),
    }
    register_tables(sh);
    sh.vars.register(
        crate::vars::VarDef {
            name: "plugin_bindings_timing".into(),
            scope: crate::vars::Scope::Global,
            kind: crate::vars::Kind::Enum(&["OFF", "EVERY", "SAMPLED"]),
            read_only: false,
            default: crate::vars::VarValue::Str("SAMPLED".into()),
        },
        crate::vars::VarValue::Str("SAMPLED".into()),
    );
    reg.register_builtin(&minnow_plugin_host::sdk::BuiltinDecl::authentication::<
        NativePassword,
    >())
    .map_err(|e| ServerError::Option(format!("built-in mysql_native_password: {e}")))?;
    let sh2 = Arc::downgrade(sh);
    sh.status.extra.register(
        "plugins",
        Arc::new(move || match sh2.upgrade() {
            Some(sh) => sh
                .plugins
                .status_variables()
                .into_iter()
                .map(|(k, v)| (k, value_text(&v)))
                .collect(),
            None => Vec::new(),
        }),
    );
    if !reqs.is_empty() {
        // As mysqld: the plugin's own line is logged by the host, then this.
        reg.load_startup(&reqs).map_err(|e| {
            sh.errlog.error(&format!(
                "Failed to initialize plugins: {e} (a plugin loaded with FORCE or FORCE_PLUS_PERMANENT failed)"
            ));
            sh.errlog.error("Aborting");
            ServerError::Option(format!("plugin loading failed: {e}"))
        })?;
    }
    load_functions(sh);
    after_load(sh);
    let known: Vec<String> = reg
        .system_variables()
        .into_iter()
        .map(|v| v.name.to_ascii_lowercase())
        .collect();
    for (k, v) in &cfg.variables {
        let k = k.replace('-', "_").to_ascii_lowercase();
        let names_a_plugin = v.parse::<LoadOption>().is_ok() && reg.state(&k).is_some();
        if !known.contains(&k) && !names_a_plugin {
            sh.errlog.warn(&format!(
                "unknown option '--{k}': no loaded plugin declares it"
            ));
        }
    }
    Ok(())
}

fn value_text(v: &minnow_plugin_host::Value) -> String {
    use minnow_plugin_host::Value;
    match v {
        Value::Null => String::new(),
        Value::Int(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Bool(b) => if *b { "ON" } else { "OFF" }.to_string(),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// After any load: register plugin-provided information_schema tables and check
/// the crash handler is still in place.
pub fn after_load(sh: &Arc<Shared>) {
    for (name, columns) in sh.plugins.info_schema_tables() {
        let cols = columns
            .iter()
            .map(|c| {
                let ty = match c.column_type {
                    minnow_plugin_host::abi::MINNOW_IS_TYPE_INT => ColumnType::MYSQL_TYPE_LONGLONG,
                    minnow_plugin_host::abi::MINNOW_IS_TYPE_REAL => ColumnType::MYSQL_TYPE_DOUBLE,
                    _ => ColumnType::MYSQL_TYPE_VAR_STRING,
                };
                ColDef::new(&c.name, ty)
            })
            .collect();
        let tname = name.clone();
        sh.infoschema.register(InfoSchemaTable {
            name: name.to_ascii_uppercase(),
            columns: cols,
            fill: Arc::new(move |ctx| {
                let mut psess = ctx.shared.plugins.session(u64::from(ctx.conn_id));
                match psess.fill_table(&tname) {
                    Ok((_, rows)) => rows
                        .into_iter()
                        .map(|r| r.iter().map(cell_of).collect())
                        .collect(),
                    Err(e) => {
                        ctx.shared
                            .errlog
                            .warn(&format!("filling information_schema.{tname}: {e}"));
                        FILL_ERROR.with(|f| *f.borrow_mut() = Some(sql_error(&e)));
                        Vec::new()
                    }
                }
            }),
        });
    }
    sync_variables(sh);
    let _ = stackresolve::crash::check_handlers_and_log();
}

fn var_value(v: &minnow_plugin_host::Value) -> crate::vars::VarValue {
    use crate::vars::VarValue;
    use minnow_plugin_host::Value;
    match v {
        Value::Int(i) => VarValue::Int(*i),
        Value::Bool(b) => VarValue::Bool(*b),
        other => VarValue::Str(value_text(other)),
    }
}

/// Plugin system variable names (lower case).
fn plugin_var_names(sh: &Shared) -> Vec<String> {
    sh.plugins
        .system_variables()
        .into_iter()
        .map(|v| v.name.to_ascii_lowercase())
        .collect()
}

/// Mirrors every plugin system variable into the server's `SysVars` (global scope)
/// so `SHOW VARIABLES` and `@@name` see the value the plugin reads.
pub fn sync_variables(sh: &Shared) {
    use crate::vars::{Kind, Scope, VarDef};
    use minnow_plugin_host::abi;
    for v in sh.plugins.system_variables() {
        let kind = match v.def.value_type {
            abi::MINNOW_VALUE_INT => Kind::Int {
                min: v.def.min,
                max: v.def.max,
            },
            abi::MINNOW_VALUE_BOOL => Kind::Bool,
            _ => Kind::Str,
        };
        sh.vars.register(
            VarDef {
                name: v.name.to_ascii_lowercase(),
                scope: Scope::Global,
                kind,
                read_only: v.def.flags & abi::MINNOW_SYSVAR_READONLY != 0,
                default: var_value(&v.def.default),
            },
            var_value(&v.value),
        );
    }
}

/// `SET GLOBAL name = v` for a plugin variable: the plugin's check and update run
/// first (their error is the statement's), then the server's copy follows.
/// `Ok(false)`: not a plugin variable.
pub fn set_global_variable(
    sh: &Shared,
    name: &str,
    v: &crate::vars::SetValue,
) -> Result<bool, SqlError> {
    use crate::vars::SetValue;
    use minnow_plugin_host::Value;
    if name.eq_ignore_ascii_case("plugin_bindings_timing") {
        let v = sh.vars.set_global("plugin_bindings_timing", v)?;
        sh.plugins.set_call_timing(match v.show().as_str() {
            "OFF" => minnow_plugin_host::CallTiming::Off,
            "EVERY" => minnow_plugin_host::CallTiming::Every,
            _ => minnow_plugin_host::CallTiming::default(),
        });
        return Ok(true);
    }
    let Some(info) = sh
        .plugins
        .system_variables()
        .into_iter()
        .find(|x| x.name.eq_ignore_ascii_case(name))
    else {
        return Ok(false);
    };
    let value = match v {
        SetValue::Int(i) => Value::Int(*i),
        SetValue::Str(s) => Value::Str(s.clone()),
        SetValue::Default => info.def.default.clone(),
    };
    sh.plugins
        .set_system_variable(&info.name, &value)
        .map_err(|e| sql_error(&e))?;
    sync_variables(sh);
    Ok(true)
}

fn cell_of(v: &minnow_plugin_host::Value) -> Cell {
    use minnow_plugin_host::Value;
    match v {
        Value::Null => Cell::Null,
        Value::Int(i) => Cell::Integer(*i),
        Value::Real(r) => Cell::Real(*r),
        Value::Bool(b) => Cell::Integer(i64::from(*b)),
        other => Cell::Text(value_text(other)),
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt_text(s: &str) -> Cell {
    if s.is_empty() { Cell::Null } else { text(s) }
}

fn columns(names: &[(&str, ColumnType)]) -> Vec<ColDef> {
    names.iter().map(|(n, t)| ColDef::new(*n, *t)).collect()
}

const S: ColumnType = ColumnType::MYSQL_TYPE_VAR_STRING;
const I: ColumnType = ColumnType::MYSQL_TYPE_LONGLONG;

fn plugins_columns() -> Vec<ColDef> {
    columns(&[
        ("PLUGIN_NAME", S),
        ("PLUGIN_VERSION", S),
        ("PLUGIN_STATUS", S),
        ("PLUGIN_TYPE", S),
        ("PLUGIN_TYPE_VERSION", S),
        ("PLUGIN_LIBRARY", S),
        ("PLUGIN_LIBRARY_VERSION", S),
        ("PLUGIN_AUTHOR", S),
        ("PLUGIN_DESCRIPTION", S),
        ("PLUGIN_LICENSE", S),
        ("LOAD_OPTION", S),
        ("PLUGIN_MATURITY", S),
        ("PLUGIN_AUTH_VERSION", S),
    ])
}

fn bindings_columns() -> Vec<ColDef> {
    columns(&[
        ("PLUGIN_NAME", S),
        ("EXTENSION_POINT", S),
        ("CALLS", I),
        ("ERRORS", I),
        ("TOTAL_TIME_US", I),
        ("MAX_TIME_US", I),
        ("BOUND_SESSIONS", I),
    ])
}

fn binding_rows(reg: &Registry) -> Vec<Vec<Cell>> {
    let n = |v: u64| Cell::Integer(i64::try_from(v).unwrap_or(i64::MAX));
    reg.bindings()
        .into_iter()
        .map(|b| {
            vec![
                text(b.plugin_name),
                text(b.extension_point),
                n(b.calls),
                n(b.errors),
                n(b.total_time_us),
                n(b.max_time_us),
                n(b.bound_sessions),
            ]
        })
        .collect()
}

/// Registers `PLUGINS`, `PLUGIN_BINDINGS` and `SESSION_PLUGIN_BINDINGS`.
pub fn register_tables(sh: &Shared) {
    sh.infoschema.register(InfoSchemaTable {
        name: "PLUGINS".into(),
        columns: plugins_columns(),
        fill: Arc::new(|ctx| {
            ctx.shared
                .plugins
                .plugins()
                .into_iter()
                .map(|p| {
                    vec![
                        text(p.name),
                        text(p.version),
                        text(p.status.as_str()),
                        text(p.plugin_type.as_str()),
                        text(p.type_version),
                        opt_text(&p.library),
                        opt_text(&p.library_version),
                        text(p.author),
                        text(p.description),
                        text(p.license),
                        text(p.load_option.as_str()),
                        text(p.maturity),
                        text(p.auth_version),
                    ]
                })
                .collect()
        }),
    });
    sh.infoschema.register(InfoSchemaTable {
        name: "PLUGIN_BINDINGS".into(),
        columns: bindings_columns(),
        fill: Arc::new(|ctx| binding_rows(&ctx.shared.plugins)),
    });
    sh.infoschema.register(InfoSchemaTable {
        name: "SESSION_PLUGIN_BINDINGS".into(),
        columns: columns(&[
            ("SESSION_ID", I),
            ("PLUGIN_NAME", S),
            ("EXTENSION_POINT", S),
        ]),
        fill: Arc::new(|ctx| {
            ctx.shared
                .plugins
                .session_bindings()
                .into_iter()
                .map(|b| {
                    vec![
                        Cell::Integer(i64::try_from(b.session_id).unwrap_or(i64::MAX)),
                        text(b.plugin_name),
                        text(b.extension_point),
                    ]
                })
                .collect()
        }),
    });
}

/// Significant tokens of a statement: words upper-cased, strings unquoted.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Other(String),
}

fn significant(toks: &[TokenWithSpan]) -> Vec<Tok> {
    toks.iter()
        .filter_map(|t| match &t.token {
            Token::Whitespace(_) => None,
            Token::Word(w) if w.quote_style.is_some() => Some(Tok::Str(w.value.clone())),
            Token::Word(w) => Some(Tok::Word(w.value.clone())),
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => {
                Some(Tok::Str(s.clone()))
            }
            Token::SemiColon => None,
            other => Some(Tok::Other(other.to_string())),
        })
        .collect()
}

/// A tiny cursor over the significant tokens.
struct Cursor<'a> {
    toks: Vec<Tok>,
    pos: usize,
    text: &'a str,
}

impl Cursor<'_> {
    fn keyword(&mut self, kw: &str) -> bool {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }
    fn err(&self, what: &str) -> SqlError {
        let near = match self.toks.get(self.pos) {
            Some(Tok::Word(w) | Tok::Str(w) | Tok::Other(w)) => w.clone(),
            None => String::new(),
        };
        let near = self
            .text
            .find(&near)
            .filter(|_| !near.is_empty())
            .map(|i| &self.text[i..])
            .unwrap_or("");
        SqlError::parse(near, what)
    }
    fn expect(&mut self, kw: &str) -> Result<(), SqlError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(self.err(&format!("{kw} expected")))
        }
    }
    fn ident(&mut self) -> Result<String, SqlError> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w) | Tok::Str(w)) => {
                self.pos += 1;
                Ok(w.clone())
            }
            _ => Err(self.err("name expected")),
        }
    }
    fn string(&mut self) -> Result<String, SqlError> {
        match self.toks.get(self.pos) {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(s.clone())
            }
            _ => Err(self.err("quoted library name expected")),
        }
    }
    fn punct(&mut self, p: &str) -> Result<(), SqlError> {
        match self.toks.get(self.pos) {
            Some(Tok::Other(o)) if o == p => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.err(&format!("'{p}' expected"))),
        }
    }
    fn end(&self) -> Result<(), SqlError> {
        if self.pos < self.toks.len() {
            Err(self.err("end of statement expected"))
        } else {
            Ok(())
        }
    }
}

/// A plugin-management statement.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginStatement {
    /// `INSTALL PLUGIN name SONAME 'lib'`.
    Install(String, String),
    /// `INSTALL SONAME 'lib'`.
    InstallSoname(String),
    /// `UNINSTALL PLUGIN name`.
    Uninstall(String),
    /// `UNINSTALL SONAME 'lib'`.
    UninstallSoname(String),
    /// `SHOW PLUGINS [SONAME 'lib']`.
    Show(Option<String>),
    /// `SHOW PLUGINS SONAME LIKE 'pattern'` (MariaDB): every library of plugin_dir
    /// whose name matches.
    ShowLike(String),
    /// `SHOW PLUGIN BINDINGS`.
    ShowBindings,
    /// `FLUSH PLUGINS [name]`.
    Flush(Option<String>),
    /// `CREATE [AGGREGATE] FUNCTION name RETURNS type SONAME 'lib'`.
    CreateFunction {
        /// Function name.
        name: String,
        /// Return type.
        ret: UdfReturn,
        /// Aggregate?
        aggregate: bool,
        /// Library.
        soname: String,
    },
    /// `CREATE USER [IF NOT EXISTS] 'u'@'h' IDENTIFIED {WITH|VIA} plugin
    /// [BY 'pw' | USING PASSWORD('pw') | {AS|USING} 'auth_string']`, and
    /// `IDENTIFIED BY PASSWORD 'hash'` (plugin `mysql_native_password`).
    CreateUser {
        /// User.
        user: String,
        /// Host pattern.
        host: String,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// Authentication plugin.
        plugin: String,
        /// Password (validated, then turned into the stored string by the plugin).
        password: Option<String>,
        /// `AS 'auth_string'`: stored as given (already in the plugin's format).
        auth_string: Option<String>,
    },
    /// `DROP FUNCTION [IF EXISTS] name`.
    DropFunction {
        /// Function name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
}

/// Parses a plugin statement; `Ok(None)` when the statement is not one.
pub fn parse(toks: &[TokenWithSpan], text: &str) -> Result<Option<PluginStatement>, SqlError> {
    let mut c = Cursor {
        toks: significant(toks),
        pos: 0,
        text,
    };
    let st = if c.keyword("INSTALL") {
        if c.keyword("PLUGIN") {
            let name = c.ident()?;
            c.expect("SONAME")?;
            PluginStatement::Install(name, c.string()?)
        } else if c.keyword("SONAME") {
            PluginStatement::InstallSoname(c.string()?)
        } else {
            return Err(c.err("PLUGIN or SONAME expected"));
        }
    } else if c.keyword("UNINSTALL") {
        if c.keyword("PLUGIN") {
            PluginStatement::Uninstall(c.ident()?)
        } else if c.keyword("SONAME") {
            PluginStatement::UninstallSoname(c.string()?)
        } else {
            return Err(c.err("PLUGIN or SONAME expected"));
        }
    } else if c.keyword("SHOW") {
        if c.keyword("PLUGINS") {
            if c.keyword("SONAME") {
                if c.keyword("LIKE") {
                    PluginStatement::ShowLike(c.string()?)
                } else {
                    PluginStatement::Show(Some(c.string()?))
                }
            } else {
                PluginStatement::Show(None)
            }
        } else if c.keyword("PLUGIN") {
            c.expect("BINDINGS")?;
            PluginStatement::ShowBindings
        } else {
            return Ok(None);
        }
    } else if c.keyword("CREATE") {
        if c.keyword("USER") {
            // Plain `IDENTIFIED BY 'pw'` (or none) is the server's own CREATE USER.
            let word = |t: Option<&Tok>, k: &str| matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k));
            let Some(at) = c.toks.iter().position(|t| word(Some(t), "IDENTIFIED")) else {
                return Ok(None);
            };
            let next = c.toks.get(at + 1);
            if !(word(next, "WITH")
                || word(next, "VIA")
                || (word(next, "BY") && word(c.toks.get(at + 2), "PASSWORD")))
            {
                return Ok(None);
            }
            let if_not_exists = if c.keyword("IF") {
                c.expect("NOT")?;
                c.expect("EXISTS")?;
                true
            } else {
                false
            };
            let user = c.ident()?;
            let host = if matches!(c.toks.get(c.pos), Some(Tok::Other(o)) if o == "@") {
                c.pos += 1;
                c.ident()?
            } else {
                "%".to_string()
            };
            c.expect("IDENTIFIED")?;
            let (mut password, mut auth_string) = (None, None);
            let plugin = if c.keyword("BY") {
                c.expect("PASSWORD")?;
                auth_string = Some(c.string()?);
                "mysql_native_password".to_string()
            } else {
                if !c.keyword("WITH") {
                    c.expect("VIA")?;
                }
                let plugin = c.ident()?;
                if c.keyword("BY") {
                    password = Some(c.string()?);
                } else if c.keyword("AS") || c.keyword("USING") {
                    if c.keyword("PASSWORD") {
                        c.punct("(")?;
                        password = Some(c.string()?);
                        c.punct(")")?;
                    } else {
                        auth_string = Some(c.string()?);
                    }
                }
                plugin
            };
            c.end()?;
            return Ok(Some(PluginStatement::CreateUser {
                user,
                host,
                if_not_exists,
                plugin,
                password,
                auth_string,
            }));
        }
        let aggregate = c.keyword("AGGREGATE");
        if !c.keyword("FUNCTION") {
            return Ok(None);
        }
        let name = c.ident()?;
        // CREATE FUNCTION f(...) is a stored function: not ours.
        if !aggregate
            && !matches!(c.toks.get(c.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("RETURNS"))
        {
            return Ok(None);
        }
        c.expect("RETURNS")?;
        let ret = if c.keyword("STRING") {
            UdfReturn::String
        } else if c.keyword("INTEGER") || c.keyword("INT") {
            UdfReturn::Integer
        } else if c.keyword("REAL") {
            UdfReturn::Real
        } else if c.keyword("DECIMAL") {
            UdfReturn::Decimal
        } else {
            return Err(c.err("STRING, INTEGER, REAL or DECIMAL expected"));
        };
        c.expect("SONAME")?;
        PluginStatement::CreateFunction {
            name,
            ret,
            aggregate,
            soname: c.string()?,
        }
    } else if c.keyword("DROP") {
        if !c.keyword("FUNCTION") {
            return Ok(None);
        }
        let if_exists = if c.keyword("IF") {
            c.expect("EXISTS")?;
            true
        } else {
            false
        };
        PluginStatement::DropFunction {
            name: c.ident()?,
            if_exists,
        }
    } else if c.keyword("FLUSH") {
        if !c.keyword("PLUGINS") {
            return Ok(None);
        }
        if c.pos < c.toks.len() {
            PluginStatement::Flush(Some(c.ident()?))
        } else {
            PluginStatement::Flush(None)
        }
    } else {
        return Ok(None);
    };
    c.end()?;
    Ok(Some(st))
}

/// MariaDB's note for `CREATE USER IF NOT EXISTS` of an existing account.
const ER_USER_CREATE_EXISTS: u16 = 1973;

/// `*` and 40 hex digits: `mysql_native_password`'s stored form (or empty).
fn is_native_hash(s: &str) -> bool {
    s.is_empty()
        || (s.len() == 41 && s.starts_with('*') && s[1..].chars().all(|c| c.is_ascii_hexdigit()))
}

fn require_super(sess: &crate::session::Session) -> Result<(), SqlError> {
    if sess.account.super_priv {
        Ok(())
    } else {
        Err(SqlError::access_denied_priv("SUPER"))
    }
}

/// Runs a plugin statement for `sess`.
pub fn execute(
    sess: &mut crate::session::Session,
    st: PluginStatement,
) -> Result<Outcome, SqlError> {
    let sh = Arc::clone(&sess.shared);
    let reg = &sh.plugins;
    match st {
        PluginStatement::Install(name, soname) => {
            require_super(sess)?;
            let names = reg.install(&name, &soname).map_err(|e| sql_error(&e))?;
            persist_install(&sh, &names, &soname)?;
            after_load(&sh);
            Ok(Outcome::ok(0))
        }
        PluginStatement::InstallSoname(soname) => {
            require_super(sess)?;
            let names = reg.install_soname(&soname).map_err(|e| sql_error(&e))?;
            persist_install(&sh, &names, &soname)?;
            after_load(&sh);
            Ok(Outcome::ok(0))
        }
        PluginStatement::Uninstall(name) => {
            require_super(sess)?;
            // This session's own bindings must not keep the plugin busy.
            sess.psess.release();
            let before = (plugin_tables(&sh), plugin_var_names(&sh));
            let out = reg.uninstall(&name).map_err(|e| sql_error(&e))?;
            delete_rows(&sh, std::slice::from_ref(&name))?;
            after_unload(&sh, &before);
            Ok(outcome_of(sess, &[out]))
        }
        PluginStatement::UninstallSoname(soname) => {
            require_super(sess)?;
            sess.psess.release();
            let before = (plugin_tables(&sh), plugin_var_names(&sh));
            let outs = reg.uninstall_soname(&soname).map_err(|e| sql_error(&e))?;
            let names: Vec<String> = outs.iter().map(|(n, _)| n.clone()).collect();
            delete_rows(&sh, &names)?;
            after_unload(&sh, &before);
            let outs: Vec<UninstallOutcome> = outs.into_iter().map(|(_, o)| o).collect();
            Ok(outcome_of(sess, &outs))
        }
        PluginStatement::Show(soname) => {
            let rows = match soname {
                None => reg.plugins().into_iter().map(show_row).collect(),
                Some(lib) => library_rows(reg, &lib),
            };
            Ok(show_plugins_result(rows))
        }
        PluginStatement::ShowLike(pattern) => {
            let mut libs: Vec<String> = std::fs::read_dir(reg.plugin_dir())
                .map(|it| {
                    it.flatten()
                        .filter_map(|e| e.file_name().into_string().ok())
                        .filter(|n| n.ends_with(".so") && like(n, &pattern))
                        .collect()
                })
                .unwrap_or_default();
            libs.sort();
            let rows = libs.iter().flat_map(|l| library_rows(reg, l)).collect();
            Ok(show_plugins_result(rows))
        }
        PluginStatement::ShowBindings => Ok(Outcome::Rows(ResultSet {
            columns: bindings_columns(),
            rows: binding_rows(reg),
        })),
        PluginStatement::Flush(name) => {
            require_super(sess)?;
            reg.flush(name.as_deref()).map_err(|e| sql_error(&e))?;
            Ok(Outcome::ok(0))
        }
        PluginStatement::CreateFunction {
            name,
            ret,
            aggregate,
            soname,
        } => {
            require_super(sess)?;
            reg.create_function(&name, ret, aggregate, &soname)
                .map_err(|e| sql_error(&e))?;
            let stored = ensure_func_table(&sh).and_then(|()| {
                mysql_conn(&sh)?
                    .execute(
                        "INSERT INTO func(name, ret, dl, type) VALUES(?1, ?2, ?3, ?4)",
                        (
                            &name,
                            ret_code(ret),
                            &soname,
                            if aggregate { "aggregate" } else { "function" },
                        ),
                    )
                    .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))
            });
            if let Err(e) = stored {
                let _ = reg.drop_function(&name);
                return Err(e);
            }
            bump_udfs();
            sync_functions(sess);
            Ok(Outcome::ok(0))
        }
        PluginStatement::CreateUser {
            user,
            host,
            if_not_exists,
            plugin,
            password,
            auth_string,
        } => {
            if !sess.account.super_priv {
                return Err(SqlError::access_denied_priv("CREATE USER"));
            }
            // MySQL/MariaDB: an authentication plugin that is not ACTIVE is 1524.
            if client_plugin(&sh, &plugin).is_none() {
                return Err(sql_error(&PluginError::NotLoaded { name: plugin }));
            }
            let exists = mysql_conn(&sh)?
                .query_row(
                    "SELECT COUNT(*) FROM user WHERE User = ?1 AND Host = ?2",
                    (&user, &host),
                    |r| r.get::<_, i64>(0),
                )
                .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
            if exists > 0 && if_not_exists {
                sess.warnings.push((
                    ER_USER_CREATE_EXISTS,
                    format!("Can't create user '{user}'@'{host}'; it already exists"),
                ));
                return Ok(Outcome::ok(0));
            }
            let auth = match auth_string {
                Some(a) => {
                    let native = plugin.eq_ignore_ascii_case("mysql_native_password");
                    if native && !is_native_hash(&a) {
                        return Err(SqlError::new(
                            crate::error::code::ER_PASSWORD_FORMAT,
                            "The password hash doesn't have the expected format.",
                        ));
                    }
                    // A stored string cannot be checked by a validation plugin: with
                    // one active it is refused, as ALTER USER … AS 'hash' is.
                    if !a.is_empty() {
                        if let Some(p) = reg.plugins().into_iter().find(|p| {
                            p.plugin_type == minnow_plugin_host::PluginType::PasswordValidation
                                && p.status == minnow_plugin_host::PluginState::Active
                        }) {
                            return Err(SqlError::new(
                                crate::error::code::ER_NOT_VALID_PASSWORD,
                                format!(
                                    "Your password does not satisfy the current policy requirements (plugin '{}': a stored authentication string cannot be validated)",
                                    p.name
                                ),
                            ));
                        }
                    }
                    if native { a.to_ascii_uppercase() } else { a }
                }
                None => {
                    let pw = password.unwrap_or_default();
                    if !pw.is_empty() {
                        sess.psess
                            .validate_password(pw.as_bytes())
                            .map_err(|e| sql_error(&e))?;
                    }
                    let auth = sess
                        .psess
                        .generate_auth_string(&plugin, pw.as_bytes())
                        .map_err(|e| sql_error(&e))?;
                    String::from_utf8(auth).map_err(|_| {
                        SqlError::internal(format!(
                            "plugin {plugin} made a non-UTF-8 authentication string"
                        ))
                    })?
                }
            };
            sh.datadir.create_user(&user, &host, "", if_not_exists)?;
            mysql_conn(&sh)?
                .execute(
                    "UPDATE user SET plugin = ?1, authentication_string = ?2 WHERE User = ?3 AND Host = ?4",
                    (&plugin, &auth, &user, &host),
                )
                .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
            Ok(Outcome::ok(0))
        }
        PluginStatement::DropFunction { name, if_exists } => {
            require_super(sess)?;
            match reg.drop_function(&name) {
                Ok(()) => {}
                Err(PluginError::DoesNotExist { .. }) if if_exists => return Ok(Outcome::ok(0)),
                Err(e) => return Err(sql_error(&e)),
            }
            mysql_conn(&sh)?
                .execute("DELETE FROM func WHERE name = ?1", [&name])
                .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
            bump_udfs();
            sync_functions(sess);
            Ok(Outcome::ok(0))
        }
    }
}

fn show_row(p: minnow_plugin_host::PluginInfo) -> Vec<Cell> {
    vec![
        text(p.name),
        text(p.status.as_str()),
        text(p.plugin_type.as_str()),
        opt_text(&p.library),
        text(p.license),
    ]
}

fn show_plugins_result(rows: Vec<Vec<Cell>>) -> Outcome {
    Outcome::Rows(ResultSet {
        columns: columns(&[
            ("Name", S),
            ("Status", S),
            ("Type", S),
            ("Library", S),
            ("License", S),
        ]),
        rows,
    })
}

/// `SHOW PLUGINS SONAME 'lib'` as MariaDB: the installed plugins of the library,
/// then the ones it declares that are not installed (`NOT INSTALLED`). A library
/// that cannot be opened or read shows nothing.
fn library_rows(reg: &Registry, lib: &str) -> Vec<Vec<Cell>> {
    let installed: Vec<_> = reg
        .plugins()
        .into_iter()
        .filter(|p| p.library == lib)
        .collect();
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let declared = reg.library_plugins(lib).unwrap_or_default();
    for p in &installed {
        rows.push(show_row(p.clone()));
    }
    for d in declared {
        let live = installed.iter().any(|p| {
            p.name.eq_ignore_ascii_case(&d.name)
                && p.status != minnow_plugin_host::PluginState::Deleted
        });
        if !live {
            rows.push(vec![
                text(d.name),
                text("NOT INSTALLED"),
                text(d.plugin_type.as_str()),
                text(lib),
                text(d.license),
            ]);
        }
    }
    rows
}

/// SQL `LIKE` (`%`, `_`, `\` escapes), ASCII case-insensitive.
fn like(s: &str, pattern: &str) -> bool {
    fn go(s: &[u8], p: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'%', rest)) => (0..=s.len()).any(|i| go(&s[i..], rest)),
            Some((b'_', rest)) => !s.is_empty() && go(&s[1..], rest),
            Some((b'\\', rest)) if !rest.is_empty() => {
                s.first() == rest.first() && go(&s[1..], &rest[1..])
            }
            Some((c, rest)) => {
                s.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && go(&s[1..], rest)
            }
        }
    }
    go(s.as_bytes(), pattern.as_bytes())
}

fn plugin_tables(sh: &Shared) -> Vec<String> {
    sh.plugins
        .info_schema_tables()
        .into_iter()
        .map(|(n, _)| n.to_ascii_uppercase())
        .collect()
}

/// Drops the information_schema tables and system variables of plugins that are gone.
fn after_unload(sh: &Arc<Shared>, before: &(Vec<String>, Vec<String>)) {
    let live = plugin_tables(sh);
    for t in &before.0 {
        if !live.contains(t) {
            sh.infoschema.unregister(t);
        }
    }
    let live = plugin_var_names(sh);
    for v in &before.1 {
        if !live.contains(v) {
            sh.vars.unregister(v);
        }
    }
}

/// OK for an uninstall; deferred unloads become warnings (1620) of the statement.
fn outcome_of(sess: &mut crate::session::Session, outs: &[UninstallOutcome]) -> Outcome {
    for o in outs {
        if let UninstallOutcome::Deferred(w) = o {
            sess.warnings.push((w.code, w.message.clone()));
        }
    }
    Outcome::ok(0)
}

fn persist_install(sh: &Arc<Shared>, names: &[String], soname: &str) -> Result<(), SqlError> {
    let r = (|| -> Result<(), SqlError> {
        let mut c = mysql_conn(sh)?;
        ensure_tables(sh)?;
        let tx = c
            .transaction()
            .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
        for n in names {
            tx.execute(
                "INSERT OR REPLACE INTO plugin(name, dl) VALUES(?1, ?2)",
                (n, soname),
            )
            .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
        }
        tx.commit()
            .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))
    })();
    if let Err(e) = &r {
        // Not persisted: undo the install so memory and mysql.plugin agree.
        for n in names {
            let _ = sh.plugins.uninstall(n);
        }
        sh.errlog.error(&format!(
            "INSTALL of {} rolled back: cannot write mysql.plugin: {}",
            names.join(","),
            e.message
        ));
    }
    r
}

fn delete_rows(sh: &Shared, names: &[String]) -> Result<(), SqlError> {
    let c = mysql_conn(sh)?;
    for n in names {
        c.execute("DELETE FROM plugin WHERE name = ?1", [n])
            .map_err(|e| SqlError::from_sqlite(&e, Some("mysql")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Option<PluginStatement>, SqlError> {
        let toks = crate::sql::rewrite::tokenize(s).expect("tokenize");
        parse(&toks, s)
    }

    #[test]
    fn parses_the_plugin_statements() {
        assert_eq!(
            p("INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'").ok(),
            Some(Some(PluginStatement::Install(
                "audit_null".into(),
                "libaudit_null.so".into()
            )))
        );
        assert_eq!(
            p("install soname \"libx.so\";").ok(),
            Some(Some(PluginStatement::InstallSoname("libx.so".into())))
        );
        assert_eq!(
            p("UNINSTALL PLUGIN `a`").ok(),
            Some(Some(PluginStatement::Uninstall("a".into())))
        );
        assert_eq!(
            p("SHOW PLUGINS SONAME 'l.so'").ok(),
            Some(Some(PluginStatement::Show(Some("l.so".into()))))
        );
        assert_eq!(
            p("SHOW PLUGINS SONAME LIKE 'lib%'").ok(),
            Some(Some(PluginStatement::ShowLike("lib%".into())))
        );
        assert!(like("libaudit_null.so", "lib%"));
        assert!(like("libaudit_null.so", "LIBAUDIT\\_null.so"));
        assert!(!like("libauditXnull.so", "libaudit\\_null.so"));
        assert!(like("libx.so", "lib_.so"));
        assert!(!like("libxy.so", "lib_.so"));
        assert!(!like("disks.so", "lib%"));
        assert_eq!(
            p("show plugin bindings").ok(),
            Some(Some(PluginStatement::ShowBindings))
        );
        assert_eq!(
            p("FLUSH PLUGINS audit_null").ok(),
            Some(Some(PluginStatement::Flush(Some("audit_null".into()))))
        );
        assert_eq!(p("FLUSH TABLES").ok(), Some(None));
        assert_eq!(p("SELECT 1").ok(), Some(None));
        let e = p("INSTALL PLUGIN x SONAME libx").expect_err("error");
        assert_eq!(e.code, crate::error::code::ER_PARSE_ERROR);
        assert!(p("INSTALL PLUGIN x SONAME 'a' extra").is_err());
        assert!(p("UNINSTALL x").is_err());
        assert_eq!(
            p("CREATE USER IF NOT EXISTS 'u'@'%' IDENTIFIED WITH auth_test_plugin BY 'pw'").ok(),
            Some(Some(PluginStatement::CreateUser {
                user: "u".into(),
                host: "%".into(),
                if_not_exists: true,
                plugin: "auth_test_plugin".into(),
                password: Some("pw".into()),
                auth_string: None,
            }))
        );
        assert_eq!(
            p("CREATE USER bob IDENTIFIED WITH auth_test_plugin").ok(),
            Some(Some(PluginStatement::CreateUser {
                user: "bob".into(),
                host: "%".into(),
                if_not_exists: false,
                plugin: "auth_test_plugin".into(),
                password: None,
                auth_string: None,
            }))
        );
        assert_eq!(
            p("CREATE USER v IDENTIFIED VIA auth_test_plugin USING PASSWORD('pw')").ok(),
            Some(Some(PluginStatement::CreateUser {
                user: "v".into(),
                host: "%".into(),
                if_not_exists: false,
                plugin: "auth_test_plugin".into(),
                password: Some("pw".into()),
                auth_string: None,
            }))
        );
        assert_eq!(
            p("CREATE USER v IDENTIFIED BY PASSWORD '*AB'").ok(),
            Some(Some(PluginStatement::CreateUser {
                user: "v".into(),
                host: "%".into(),
                if_not_exists: false,
                plugin: "mysql_native_password".into(),
                password: None,
                auth_string: Some("*AB".into()),
            }))
        );
        assert!(p("CREATE USER v IDENTIFIED VIA x USING PASSWORD 'pw'").is_err());
        // Without WITH it is the server's own CREATE USER.
        assert_eq!(p("CREATE USER 'u'@'%' IDENTIFIED BY 'x'").ok(), Some(None));
    }
}
