//! The plugin registry: install/uninstall, lifecycle, variables, bindings accounting.

use std::collections::{BTreeMap, HashMap};
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64,
    Ordering::{Relaxed, SeqCst},
};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use minnow_plugin::Value;
use minnow_plugin::abi::*;

use crate::error::{PluginError, Warning};
use crate::ffi::{
    self, ColumnDef, Kind, Library, PluginCode, PluginHandle, SysVarDef, UdfCode, UdfReturn,
};
use crate::options::{LoadOption, LoadRequest};
use crate::services::{HostServices, LogLevel};

/// Life-cycle state of a plugin (`SHOW PLUGINS`' `Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginState {
    /// Registered, not initialised (`--plugin-NAME=OFF`).
    Inactive = 0,
    /// Initialised and in use.
    Active = 1,
    /// Init failed, or the plugin panicked.
    Disabled = 2,
    /// Uninstalled while sessions still held it; unloaded when the last binding goes.
    Deleted = 3,
    /// Being deinitialised and unloaded.
    Deleting = 4,
}

impl PluginState {
    fn from_u8(v: u8) -> PluginState {
        match v {
            0 => PluginState::Inactive,
            1 => PluginState::Active,
            2 => PluginState::Disabled,
            3 => PluginState::Deleted,
            _ => PluginState::Deleting,
        }
    }

    /// The name as `SHOW PLUGINS` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginState::Inactive => "INACTIVE",
            PluginState::Active => "ACTIVE",
            PluginState::Disabled => "DISABLED",
            PluginState::Deleted => "DELETED",
            PluginState::Deleting => "DELETING",
        }
    }
}

/// Plugin type (`SHOW PLUGINS`' `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginType {
    /// Daemon.
    Daemon,
    /// information_schema table.
    InformationSchema,
    /// Audit.
    Audit,
    /// Authentication.
    Authentication,
    /// Password validation.
    PasswordValidation,
    /// Protocol trace.
    ProtocolTrace,
}

impl PluginType {
    fn from_abi(t: u32) -> PluginType {
        match t {
            MINNOW_DAEMON_PLUGIN => PluginType::Daemon,
            MINNOW_INFORMATION_SCHEMA_PLUGIN => PluginType::InformationSchema,
            MINNOW_AUDIT_PLUGIN => PluginType::Audit,
            MINNOW_AUTHENTICATION_PLUGIN => PluginType::Authentication,
            MINNOW_PASSWORD_VALIDATION_PLUGIN => PluginType::PasswordValidation,
            _ => PluginType::ProtocolTrace,
        }
    }

    /// The name as `SHOW PLUGINS` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginType::Daemon => "DAEMON",
            PluginType::InformationSchema => "INFORMATION SCHEMA",
            PluginType::Audit => "AUDIT",
            PluginType::Authentication => "AUTHENTICATION",
            PluginType::PasswordValidation => "PASSWORD VALIDATION",
            PluginType::ProtocolTrace => "PROTOCOL TRACE",
        }
    }
}

/// Extension points recorded in `PLUGIN_BINDINGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ExtPoint {
    General,
    Connection,
    Authentication,
    PasswordValidation,
    Table,
    Function,
    Daemon,
    ProtocolTrace,
}

impl ExtPoint {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ExtPoint::General => "AUDIT GENERAL",
            ExtPoint::Connection => "AUDIT CONNECTION",
            ExtPoint::Authentication => "AUTHENTICATION",
            ExtPoint::PasswordValidation => "PASSWORD VALIDATION",
            ExtPoint::Table => "TABLE",
            ExtPoint::Function => "FUNCTION",
            ExtPoint::Daemon => "DAEMON",
            ExtPoint::ProtocolTrace => "PROTOCOL TRACE",
        }
    }
}

/// A counter on a cache line of its own.
#[derive(Debug, Default)]
#[repr(align(64))]
struct PaddedCounter(AtomicU64);

/// Number of [`ShardedCounter`] shards (a power of two).
const SHARDS: usize = 8;

/// A counter split over cache lines by session: sessions running on different cores
/// count without moving one line between the cores on every change (an audit plugin
/// is called five times per statement by every session, and bound and released once).
/// Read by summing the shards.
#[derive(Debug, Default)]
pub(crate) struct ShardedCounter([PaddedCounter; SHARDS]);

impl ShardedCounter {
    fn shard(&self, session: u64) -> &AtomicU64 {
        &self.0[session as usize & (SHARDS - 1)].0
    }

    /// Adds one for session `session` (any number: it is reduced to a shard); returns
    /// that shard's count before.
    #[inline]
    pub(crate) fn bump(&self, session: u64) -> u64 {
        self.shard(session).fetch_add(1, Relaxed)
    }

    /// [`ShardedCounter::bump`] in the single total order of SeqCst operations (the
    /// binding protocol: see [`Shared::unbind`]).
    #[inline]
    pub(crate) fn bump_seqcst(&self, session: u64) {
        self.shard(session).fetch_add(1, SeqCst);
    }

    /// Takes one off session `session`'s shard (SeqCst).
    #[inline]
    pub(crate) fn drop_seqcst(&self, session: u64) {
        self.shard(session).fetch_sub(1, SeqCst);
    }

    /// The total over every shard (SeqCst loads; a session only takes off its own
    /// shard what it added there, so no shard goes below zero).
    pub(crate) fn total(&self) -> u64 {
        self.0.iter().map(|c| c.0.load(SeqCst)).sum()
    }
}

/// Call accounting of one (plugin, extension point).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) calls: ShardedCounter,
    pub(crate) errors: AtomicU64,
    pub(crate) total_ns: AtomicU64,
    pub(crate) max_ns: AtomicU64,
}

impl Stats {
    /// Adds the time of one sampled call standing for `weight` calls.
    pub(crate) fn add_time(&self, elapsed: Duration, weight: u64) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.total_ns.fetch_add(ns.saturating_mul(weight), Relaxed);
        self.max_ns.fetch_max(ns, Relaxed);
    }

    pub(crate) fn record(&self, elapsed: Duration, failed: bool) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.calls.bump(0);
        if failed {
            self.errors.fetch_add(1, SeqCst);
        }
        self.total_ns.fetch_add(ns, SeqCst);
        self.max_ns.fetch_max(ns, SeqCst);
    }
}

/// One installed plugin.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) code: PluginCode,
    pub(crate) plugin_type: PluginType,
    state: AtomicU8,
    pub(crate) ctx: AtomicPtr<c_void>,
    initialized: AtomicBool,
    pub(crate) load_option: LoadOption,
    /// Sessions bound to the plugin, by session shard.
    pub(crate) bindings: ShardedCounter,
    /// Calls made without a session binding (status, variables, flush) hold it for
    /// reading; deinit holds it for writing.
    pub(crate) life: RwLock<()>,
    pub(crate) stats: Vec<(ExtPoint, Stats)>,
}

impl Entry {
    pub(crate) fn state(&self) -> PluginState {
        PluginState::from_u8(self.state.load(SeqCst))
    }
    fn set_state(&self, s: PluginState) {
        self.state.store(s as u8, SeqCst);
    }
    fn cas_state(&self, from: PluginState, to: PluginState) -> bool {
        self.state
            .compare_exchange(from as u8, to as u8, SeqCst, SeqCst)
            .is_ok()
    }
    pub(crate) fn stats(&self, ext: ExtPoint) -> Option<&Stats> {
        self.stats.iter().find(|(e, _)| *e == ext).map(|(_, s)| s)
    }
    pub(crate) fn ctx(&self) -> *mut c_void {
        self.ctx.load(SeqCst)
    }
    pub(crate) fn audit_mask(&self) -> u32 {
        match &self.code.decl.kind {
            Kind::Audit { class_mask, .. } => *class_mask,
            _ => 0,
        }
    }
}

/// A UDF created with `CREATE [AGGREGATE] FUNCTION … SONAME`.
pub(crate) struct Udf {
    pub(crate) name: String,
    pub(crate) soname: String,
    pub(crate) ret: UdfReturn,
    pub(crate) aggregate: bool,
    pub(crate) code: Arc<UdfCode>,
    pub(crate) stats: Stats,
}

#[derive(Default)]
struct State {
    plugins: Vec<Arc<Entry>>,
    libraries: HashMap<PathBuf, Weak<Library>>,
    udfs: BTreeMap<String, Arc<Udf>>,
    startup_sysvars: HashMap<String, String>,
    load_options: HashMap<String, LoadOption>,
}

pub(crate) struct Shared {
    plugin_dir: PathBuf,
    pub(crate) host: Arc<dyn HostServices>,
    state: Mutex<State>,
    pub(crate) audit: RwLock<Arc<[Arc<Entry>]>>,
    pub(crate) trace: RwLock<Arc<[Arc<Entry>]>>,
    /// Whether `trace` is non-empty: the packet writer's one check per packet.
    trace_active: AtomicBool,
    /// Union of the class masks of the plugins in `audit`: an event whose class is not
    /// in it is skipped without taking any lock.
    pub(crate) audit_classes: AtomicU32,
    /// Bumped after every rebuild of `audit`; sessions keep a snapshot tagged with it.
    pub(crate) audit_gen: AtomicU64,
    /// Audit, trace and password-validation calls: 0 = not timed, n = 1 call in n.
    pub(crate) timing: AtomicU64,
    /// The binding slots of the live sessions (`SESSION_PLUGIN_BINDINGS`); locked
    /// only when a session starts or ends and by that table's readers.
    pub(crate) sessions: Mutex<Vec<Arc<crate::session::SessionSlot>>>,
}

/// A plugin a library declares (see [`Registry::library_plugins`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryPlugin {
    /// Declared name.
    pub name: String,
    /// Declared type.
    pub plugin_type: PluginType,
    /// `GPL`, `BSD` or `PROPRIETARY`.
    pub license: &'static str,
}

/// `SHOW PLUGINS` / `information_schema.PLUGINS` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// `PLUGIN_NAME`.
    pub name: String,
    /// `PLUGIN_VERSION` (`major.minor`).
    pub version: String,
    /// `PLUGIN_STATUS`.
    pub status: PluginState,
    /// `PLUGIN_TYPE`.
    pub plugin_type: PluginType,
    /// `PLUGIN_TYPE_VERSION` (`major.minor`).
    pub type_version: String,
    /// `PLUGIN_LIBRARY`.
    pub library: String,
    /// `PLUGIN_LIBRARY_VERSION` (`major.minor` of the plugin interface; empty for
    /// built-ins).
    pub library_version: String,
    /// `PLUGIN_AUTHOR`.
    pub author: String,
    /// `PLUGIN_DESCRIPTION`.
    pub description: String,
    /// `PLUGIN_LICENSE`.
    pub license: &'static str,
    /// `LOAD_OPTION`.
    pub load_option: LoadOption,
    /// `PLUGIN_MATURITY` (MariaDB).
    pub maturity: &'static str,
    /// `PLUGIN_AUTH_VERSION` (MariaDB).
    pub auth_version: String,
}

/// `information_schema.PLUGIN_BINDINGS` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRow {
    /// `PLUGIN_NAME` (plugin or UDF name).
    pub plugin_name: String,
    /// `EXTENSION_POINT`.
    pub extension_point: &'static str,
    /// `CALLS`.
    pub calls: u64,
    /// `ERRORS` (vetoes, failures, panics).
    pub errors: u64,
    /// `TOTAL_TIME_US`.
    pub total_time_us: u64,
    /// `MAX_TIME_US`.
    pub max_time_us: u64,
    /// `BOUND_SESSIONS`.
    pub bound_sessions: u64,
}

/// `information_schema.SESSION_PLUGIN_BINDINGS` row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionBindingRow {
    /// `SESSION_ID`.
    pub session_id: u64,
    /// `PLUGIN_NAME`.
    pub plugin_name: String,
    /// `EXTENSION_POINT`.
    pub extension_point: &'static str,
}

/// A plugin system variable (`SHOW VARIABLES`).
#[derive(Debug, Clone, PartialEq)]
pub struct SysVarInfo {
    /// `pluginname_varname`.
    pub name: String,
    /// Current value.
    pub value: Value,
    /// Declaration.
    pub def: SysVarDef,
}

/// A UDF (for `mysql.func` persistence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// Function name.
    pub name: String,
    /// Library.
    pub soname: String,
    /// Return type.
    pub ret: UdfReturn,
    /// Aggregate?
    pub aggregate: bool,
}

/// How plugin calls are timed (see [`Registry::set_call_timing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallTiming {
    /// Not timed: `TOTAL_TIME_US` and `MAX_TIME_US` stay 0.
    Off,
    /// Every call timed: exact totals.
    Every,
    /// One call in `n` per (plugin, extension point) is timed; `TOTAL_TIME_US` is
    /// that time × `n` (an estimate), `MAX_TIME_US` the largest sampled call.
    Sampled(u32),
}

impl Default for CallTiming {
    fn default() -> Self {
        CallTiming::Sampled(CallTiming::DEFAULT_SAMPLE)
    }
}

impl CallTiming {
    /// The default sampling rate: one call in 32 is timed. Reading the clock twice
    /// costs about as much as an audit plugin's whole call, so timing every eighth
    /// call (the first default) was ~8 % of audit_null's cost per statement; the
    /// estimate over thousands of calls is as good. `EVERY` gives exact times.
    pub const DEFAULT_SAMPLE: u32 = 32;

    fn every(self) -> u64 {
        match self {
            CallTiming::Off => 0,
            CallTiming::Every => 1,
            CallTiming::Sampled(n) => u64::from(n.max(1)),
        }
    }
}

/// Result of a successful `UNINSTALL PLUGIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UninstallOutcome {
    /// Deinitialised and unloaded now.
    Unloaded,
    /// Busy: state DELETED, unloaded when the last binding goes (warning 1620).
    Deferred(Warning),
}

fn version_string(v: u32) -> String {
    format!("{}.{}", v >> 8, v & 0xff)
}

fn license_str(l: u32) -> &'static str {
    match l {
        MINNOW_LICENSE_GPL => "GPL",
        MINNOW_LICENSE_BSD => "BSD",
        _ => "PROPRIETARY",
    }
}

fn ext_points(kind: &Kind) -> Vec<ExtPoint> {
    match kind {
        Kind::Daemon => vec![ExtPoint::Daemon],
        Kind::Audit { class_mask, .. } => {
            let mut v = Vec::new();
            if class_mask & MINNOW_AUDIT_GENERAL_CLASSMASK != 0 {
                v.push(ExtPoint::General);
            }
            if class_mask & MINNOW_AUDIT_CONNECTION_CLASSMASK != 0 {
                v.push(ExtPoint::Connection);
            }
            v
        }
        Kind::InfoSchema { .. } => vec![ExtPoint::Table],
        Kind::Auth { .. } => vec![ExtPoint::Authentication],
        Kind::PasswordValidation { .. } => vec![ExtPoint::PasswordValidation],
        Kind::ProtocolTrace { .. } => vec![ExtPoint::ProtocolTrace],
    }
}

/// A value as the client wrote it, for error messages (`'bad host'`, `'5'`, `'ON'`).
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::Int(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Bool(b) => if *b { "ON" } else { "OFF" }.to_string(),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Parses a textual value for a variable of type `t`.
fn parse_value(def: &SysVarDef, v: &Value, full: &str) -> Result<Value, PluginError> {
    let wrong = || PluginError::WrongValue {
        name: full.to_string(),
        value: value_text(v),
    };
    let out = match (def.value_type, v) {
        (MINNOW_VALUE_INT, Value::Int(i)) => Value::Int(*i),
        (MINNOW_VALUE_INT, Value::Str(s)) => Value::Int(s.trim().parse().map_err(|_| wrong())?),
        (MINNOW_VALUE_BOOL, Value::Bool(b)) => Value::Bool(*b),
        (MINNOW_VALUE_BOOL, Value::Int(i @ (0 | 1))) => Value::Bool(*i == 1),
        (MINNOW_VALUE_BOOL, Value::Str(s)) => match s.trim().to_ascii_uppercase().as_str() {
            "ON" | "1" | "TRUE" => Value::Bool(true),
            "OFF" | "0" | "FALSE" => Value::Bool(false),
            _ => return Err(wrong()),
        },
        (MINNOW_VALUE_REAL, Value::Real(r)) => Value::Real(*r),
        (MINNOW_VALUE_REAL, Value::Int(i)) => Value::Real(*i as f64),
        (MINNOW_VALUE_REAL, Value::Str(s)) => Value::Real(s.trim().parse().map_err(|_| wrong())?),
        (MINNOW_VALUE_STRING, Value::Str(s)) => Value::Str(s.clone()),
        (MINNOW_VALUE_STRING, Value::Int(i)) => Value::Str(i.to_string()),
        _ => return Err(wrong()),
    };
    if let Value::Int(i) = out {
        if i < def.min || i > def.max {
            return Err(PluginError::WrongValue {
                name: full.to_string(),
                value: i.to_string(),
            });
        }
    }
    Ok(out)
}

/// The plugin registry. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Registry {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("plugin_dir", &self.shared.plugin_dir)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A registry loading libraries from `plugin_dir`.
    pub fn new(plugin_dir: impl Into<PathBuf>, host: Arc<dyn HostServices>) -> Registry {
        Registry {
            shared: Arc::new(Shared {
                plugin_dir: plugin_dir.into(),
                host,
                state: Mutex::new(State::default()),
                audit: RwLock::new(Arc::from(Vec::new())),
                trace: RwLock::new(Arc::from(Vec::new())),
                trace_active: AtomicBool::new(false),
                audit_classes: AtomicU32::new(0),
                audit_gen: AtomicU64::new(0),
                timing: AtomicU64::new(CallTiming::default().every()),
                sessions: Mutex::new(Vec::new()),
            }),
        }
    }

    /// How audit, protocol-trace and password-validation calls are timed for
    /// `PLUGIN_BINDINGS` (default: [`CallTiming::Sampled`]`(8)`). Reading the clock
    /// twice per call is most of the host's per-event cost on some machines.
    /// `CALLS`, `ERRORS` and `BOUND_SESSIONS` are exact in every mode. Suggested
    /// server variable: `plugin_bindings_timing`.
    pub fn set_call_timing(&self, timing: CallTiming) {
        self.shared.timing.store(timing.every(), SeqCst);
    }

    /// The plugin directory.
    pub fn plugin_dir(&self) -> &Path {
        &self.shared.plugin_dir
    }

    /// Values from `--NAME-VARIABLE=value` options, keyed `pluginname_varname`
    /// (dashes are turned into underscores). Applied when the plugin is installed.
    pub fn set_startup_variables(&self, vars: impl IntoIterator<Item = (String, String)>) {
        let mut st = self.shared.lock();
        for (k, v) in vars {
            st.startup_sysvars
                .insert(k.replace('-', "_").to_ascii_lowercase(), v);
        }
    }

    /// `INSTALL PLUGIN name SONAME 'soname'`. Returns the installed plugin names.
    /// On error nothing stays installed (the server must not keep its `mysql.plugin` row).
    pub fn install(&self, name: &str, soname: &str) -> Result<Vec<String>, PluginError> {
        let req = LoadRequest {
            name: Some(name.to_string()),
            soname: soname.to_string(),
            option: LoadOption::On,
        };
        self.shared.install_batch(&[req], true)
    }

    /// True while some protocol trace plugin is ACTIVE: one atomic load, no lock, so
    /// a packet writer can skip tracing at no cost when none is installed.
    pub fn traces_protocol(&self) -> bool {
        self.shared.trace_active.load(Relaxed)
    }

    /// `INSTALL SONAME 'soname'`: every plugin the library declares.
    pub fn install_soname(&self, soname: &str) -> Result<Vec<String>, PluginError> {
        let req = LoadRequest {
            name: None,
            soname: soname.to_string(),
            option: LoadOption::On,
        };
        self.shared.install_batch(&[req], true)
    }

    /// Startup loading (`--plugin-load-add` entries, then the `mysql.plugin` rows):
    /// every plugin is validated before any is initialised. A plugin whose init fails
    /// is left DISABLED with an error-log line, unless loaded FORCE or
    /// FORCE_PLUS_PERMANENT, in which case the error is returned (the server must
    /// stop). Libraries that cannot be opened are logged and skipped (or returned for
    /// FORCE). Returns the names that ended up ACTIVE or INACTIVE.
    pub fn load_startup(&self, requests: &[LoadRequest]) -> Result<Vec<String>, PluginError> {
        let forced =
            |o: LoadOption| matches!(o, LoadOption::Force | LoadOption::ForcePlusPermanent);
        let log =
            |plugin: &str, msg: String| self.shared.host.error_log(LogLevel::Error, plugin, &msg);
        let mut batch: Vec<Arc<Entry>> = Vec::new();
        // Open each library separately so that one bad library doesn't stop the rest.
        for r in requests {
            match self.shared.prepare(r, false) {
                Ok(entries) => {
                    for e in entries {
                        // The same plugin from --plugin-load-add and mysql.plugin: keep the first.
                        if batch.iter().any(|b| b.name.eq_ignore_ascii_case(&e.name))
                            || self.state(&e.name).is_some()
                        {
                            self.shared.host.error_log(
                                LogLevel::Warning,
                                &e.name,
                                &format!("Plugin '{}' is already installed; skipped", e.name),
                            );
                            continue;
                        }
                        batch.push(e);
                    }
                }
                Err(e) => {
                    log("", format!("Couldn't load plugin from {}: {e}", r.soname));
                    if forced(r.option) {
                        self.shared.abort_batch(&batch);
                        return Err(e);
                    }
                }
            }
        }
        if let Err(e) = self.shared.register(&batch) {
            self.shared.abort_batch(&batch);
            return Err(e);
        }
        // Validate every plugin before initialising any.
        let mut valid = Vec::new();
        for (e, r) in batch.iter().zip(self.shared.validate_all(&batch)) {
            match r {
                Ok(()) => valid.push(e.clone()),
                Err(err) => {
                    log(
                        &e.name,
                        format!("Plugin '{}' failed validation: {err}", e.name),
                    );
                    if forced(e.load_option) {
                        self.shared.abort_batch(&batch);
                        return Err(err);
                    }
                    e.set_state(PluginState::Disabled);
                }
            }
        }
        let mut ok = Vec::new();
        for e in &valid {
            if e.load_option == LoadOption::Off {
                ok.push(e.name.clone());
                continue;
            }
            match self.shared.init_one(e) {
                Ok(()) => ok.push(e.name.clone()),
                Err(err) => {
                    log(
                        &e.name,
                        format!("Plugin '{}' init function returned error: {err}", e.name),
                    );
                    if forced(e.load_option) {
                        self.shared.abort_batch(&batch);
                        return Err(err);
                    }
                    e.set_state(PluginState::Disabled);
                }
            }
        }
        self.shared.rebuild_snapshots();
        Ok(ok)
    }

    /// `--plugin-NAME=OFF|ON|FORCE|FORCE_PLUS_PERMANENT` options, applied by
    /// [`Registry::load_startup`] to the plugins of those names (also to plugins
    /// loaded as part of a whole library).
    pub fn set_load_options(&self, options: impl IntoIterator<Item = (String, LoadOption)>) {
        let mut st = self.shared.lock();
        for (k, v) in options {
            st.load_options
                .insert(k.replace('-', "_").to_ascii_lowercase(), v);
        }
    }

    /// Open plugin libraries: (library name, canonical path, plugin names), for the
    /// crash handler's "which plugin owns this address" line.
    pub fn libraries(&self) -> Vec<(String, PathBuf, Vec<String>)> {
        let st = self.shared.lock();
        let mut out: Vec<(String, PathBuf, Vec<String>)> = Vec::new();
        for e in &st.plugins {
            let Some(lib) = e.code.lib.as_deref() else {
                continue;
            };
            match out.iter_mut().find(|(_, p, _)| *p == lib.path) {
                Some((_, _, names)) => names.push(e.name.clone()),
                None => out.push((lib.soname.clone(), lib.path.clone(), vec![e.name.clone()])),
            }
        }
        out
    }

    /// Registers and initialises a plugin compiled into the program (e.g. the
    /// server's `mysql_native_password`, written with the SDK and turned into a
    /// [`minnow_plugin::BuiltinDecl`]). Built-ins are loaded FORCE (their
    /// `LOAD_OPTION`, as in MySQL and MariaDB), show in `SHOW PLUGINS` with an empty
    /// library and cannot be uninstalled (1619).
    pub fn register_builtin(
        &self,
        decl: &minnow_plugin::BuiltinDecl,
    ) -> Result<String, PluginError> {
        let d = ffi::read_builtin(decl)?;
        let e = self.shared.make_entry(d, None, LoadOption::Force)?;
        let batch = [e];
        self.shared.register(&batch)?;
        for r in self.shared.validate_all(&batch) {
            if let Err(err) = r {
                self.shared.abort_batch(&batch);
                return Err(err);
            }
        }
        if let Err(err) = self.shared.init_one(&batch[0]) {
            self.shared.abort_batch(&batch);
            return Err(err);
        }
        self.shared.rebuild_snapshots();
        Ok(batch[0].name.clone())
    }

    /// `UNINSTALL PLUGIN name`.
    pub fn uninstall(&self, name: &str) -> Result<UninstallOutcome, PluginError> {
        let mut outs = self.uninstall_where(
            |e| e.name.eq_ignore_ascii_case(name),
            || PluginError::DoesNotExist {
                what: "PLUGIN",
                name: name.to_string(),
            },
        )?;
        Ok(outs.pop().map_or(UninstallOutcome::Unloaded, |(_, o)| o))
    }

    /// `UNINSTALL SONAME 'soname'`: every plugin of that library, atomically: if
    /// any of them cannot be uninstalled (permanent 1702, not uninstallable 1703)
    /// the error is returned and none is touched. Returns the outcome per plugin.
    pub fn uninstall_soname(
        &self,
        soname: &str,
    ) -> Result<Vec<(String, UninstallOutcome)>, PluginError> {
        self.uninstall_where(
            |e| e.code.soname() == Some(soname),
            || PluginError::DoesNotExist {
                what: "SONAME",
                name: soname.to_string(),
            },
        )
    }

    /// Uninstalls every live plugin `pick` selects, all or nothing: the checks of
    /// all of them and their move to DELETED happen under one registry lock, so no
    /// concurrent statement sees (or makes) a half-uninstalled library. Those
    /// without bindings are unloaded now; busy ones when their last binding goes.
    fn uninstall_where(
        &self,
        pick: impl Fn(&Entry) -> bool,
        missing: impl FnOnce() -> PluginError,
    ) -> Result<Vec<(String, UninstallOutcome)>, PluginError> {
        let entries: Vec<Arc<Entry>> = {
            let st = self.shared.lock();
            let chosen: Vec<Arc<Entry>> = st
                .plugins
                .iter()
                .filter(|e| {
                    !matches!(e.state(), PluginState::Deleted | PluginState::Deleting) && pick(e)
                })
                .cloned()
                .collect();
            if chosen.is_empty() {
                return Err(missing());
            }
            for e in &chosen {
                if e.code.lib.is_none() {
                    return Err(PluginError::BuiltIn {
                        name: e.name.clone(),
                    });
                }
                if e.load_option == LoadOption::ForcePlusPermanent {
                    return Err(PluginError::Permanent {
                        name: e.name.clone(),
                    });
                }
                if e.code.decl.flags & MINNOW_PLUGIN_OPT_NO_UNINSTALL != 0 {
                    return Err(PluginError::NoUninstall {
                        name: e.name.clone(),
                    });
                }
            }
            for e in &chosen {
                e.set_state(PluginState::Deleted);
            }
            chosen
        };
        self.shared.rebuild_snapshots();
        Ok(entries
            .into_iter()
            .map(|entry| {
                let out = if entry.bindings.total() == 0 {
                    self.shared.finalize(&entry);
                    UninstallOutcome::Unloaded
                } else {
                    UninstallOutcome::Deferred(Warning {
                        code: 1620,
                        message: format!(
                            "Plugin '{}' is busy and will be uninstalled when no session uses it",
                            entry.name
                        ),
                    })
                };
                (entry.name.clone(), out)
            })
            .collect())
    }

    /// `SHOW PLUGINS` / `information_schema.PLUGINS` rows in install order (filter on
    /// `library` for `SHOW PLUGINS SONAME 'x'`; built-ins have an empty library).
    pub fn plugins(&self) -> Vec<PluginInfo> {
        let st = self.shared.lock();
        st.plugins
            .iter()
            .map(|e| {
                let d = &e.code.decl;
                PluginInfo {
                    name: e.name.clone(),
                    version: version_string(d.version),
                    status: e.state(),
                    plugin_type: e.plugin_type,
                    type_version: version_string(d.type_version),
                    library: e.code.soname().unwrap_or_default().to_string(),
                    // Empty (NULL) for built-ins, as PLUGIN_LIBRARY.
                    library_version: if e.code.lib.is_some() {
                        version_string(MINNOW_PLUGIN_INTERFACE_VERSION)
                    } else {
                        String::new()
                    },
                    author: d.author.clone(),
                    description: d.description.clone(),
                    license: license_str(d.license),
                    load_option: e.load_option,
                    maturity: "Stable",
                    auth_version: version_string(d.version),
                }
            })
            .collect()
    }

    /// The plugins library `soname` declares, installed or not (`SHOW PLUGINS
    /// SONAME`, MariaDB's `NOT INSTALLED` rows): the library is opened from
    /// plugin_dir (running its constructors, as MariaDB does) and closed again
    /// unless installed plugins use it. Nothing is registered or initialised.
    pub fn library_plugins(&self, soname: &str) -> Result<Vec<LibraryPlugin>, PluginError> {
        let lib = self.shared.open_library(soname)?;
        let decls = ffi::read_declarations(&lib)?;
        Ok(decls
            .into_iter()
            .map(|d| LibraryPlugin {
                name: d.name,
                plugin_type: PluginType::from_abi(d.plugin_type),
                license: license_str(d.license),
            })
            .collect())
    }

    /// ACTIVE authentication plugins and the client-side plugin each asks for.
    pub fn auth_plugins(&self) -> Vec<(String, String)> {
        let st = self.shared.lock();
        st.plugins
            .iter()
            .filter(|e| e.state() == PluginState::Active)
            .filter_map(|e| match &e.code.decl.kind {
                Kind::Auth { client_plugin, .. } => Some((e.name.clone(), client_plugin.clone())),
                _ => None,
            })
            .collect()
    }

    /// The state of plugin `name`, if registered.
    pub fn state(&self, name: &str) -> Option<PluginState> {
        let st = self.shared.lock();
        st.plugins
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .map(|e| e.state())
    }

    /// Plugin status variables of ACTIVE plugins (`pluginname_varname`, value).
    pub fn status_variables(&self) -> Vec<(String, Value)> {
        let entries: Vec<Arc<Entry>> = self.shared.lock().plugins.clone();
        let mut out = Vec::new();
        for e in entries {
            let _life = e.life.read().unwrap_or_else(|p| p.into_inner());
            if e.state() != PluginState::Active {
                continue;
            }
            for (i, (n, _)) in e.code.decl.status_vars.iter().enumerate() {
                match e.code.show_status(e.ctx(), i as u32) {
                    Ok(v) => out.push((format!("{}_{}", e.name, n), v)),
                    Err(MINNOW_PLUGIN_PANICKED) => {
                        drop(_life);
                        self.shared.disable(&e, "show_status");
                        break;
                    }
                    Err(_) => {}
                }
            }
        }
        out
    }

    /// Plugin system variables (all registered plugins but DELETED ones).
    pub fn system_variables(&self) -> Vec<SysVarInfo> {
        let st = self.shared.lock();
        let mut out = Vec::new();
        for e in st
            .plugins
            .iter()
            .filter(|e| !matches!(e.state(), PluginState::Deleted | PluginState::Deleting))
        {
            let h = e.code.handle();
            let vals = h.sysvars.lock().unwrap_or_else(|p| p.into_inner());
            for (def, v) in e.code.decl.sysvars.iter().zip(vals.iter()) {
                out.push(SysVarInfo {
                    name: format!("{}_{}", e.name, def.name),
                    value: v.clone(),
                    def: def.clone(),
                });
            }
        }
        out
    }

    /// `SET GLOBAL pluginname_varname = value` through the plugin's check/update callbacks.
    pub fn set_system_variable(&self, full_name: &str, value: &Value) -> Result<(), PluginError> {
        let lower = full_name.to_ascii_lowercase();
        let (entry, idx) = {
            let st = self.shared.lock();
            let mut found = None;
            for e in st
                .plugins
                .iter()
                .filter(|e| !matches!(e.state(), PluginState::Deleted | PluginState::Deleting))
            {
                let prefix = format!("{}_", e.name.to_ascii_lowercase());
                let idx = lower.strip_prefix(&prefix).and_then(|rest| {
                    e.code
                        .decl
                        .sysvars
                        .iter()
                        .position(|d| d.name.eq_ignore_ascii_case(rest))
                });
                if let Some(i) = idx {
                    found = Some((e.clone(), i));
                    break;
                }
            }
            found.ok_or_else(|| PluginError::UnknownVariable {
                name: full_name.to_string(),
            })?
        };
        let def = &entry.code.decl.sysvars[idx];
        if def.flags & MINNOW_SYSVAR_READONLY != 0 {
            return Err(PluginError::ReadOnly {
                name: full_name.to_string(),
            });
        }
        let v = parse_value(def, value, full_name)?;
        let life = entry.life.read().unwrap_or_else(|p| p.into_inner());
        let active = entry.state() == PluginState::Active;
        if active {
            let rc = entry.code.sysvar_check(entry.ctx(), idx as u32, &v);
            if rc == MINNOW_PLUGIN_PANICKED {
                drop(life);
                self.shared.disable(&entry, "sysvar_check");
                return Err(PluginError::Panicked {
                    plugin: entry.name.clone(),
                    during: "sysvar_check",
                });
            }
            if rc != 0 {
                return Err(PluginError::WrongValue {
                    name: full_name.to_string(),
                    value: value_text(value),
                });
            }
        }
        {
            let mut vals = entry
                .code
                .handle()
                .sysvars
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(slot) = vals.get_mut(idx) {
                *slot = v.clone();
            }
        }
        if active {
            entry.code.sysvar_update(entry.ctx(), idx as u32, &v);
        }
        Ok(())
    }

    /// `FLUSH PLUGINS [name]`: runs the flush callbacks of ACTIVE plugins. A name
    /// that is not installed (or already uninstalled, even if still busy) is 1305.
    pub fn flush(&self, name: Option<&str>) -> Result<(), PluginError> {
        let entries: Vec<Arc<Entry>> = {
            let st = self.shared.lock();
            let v: Vec<_> = st
                .plugins
                .iter()
                .filter(|e| {
                    !matches!(e.state(), PluginState::Deleted | PluginState::Deleting)
                        && name.is_none_or(|n| e.name.eq_ignore_ascii_case(n))
                })
                .cloned()
                .collect();
            if let (Some(n), true) = (name, v.is_empty()) {
                return Err(PluginError::DoesNotExist {
                    what: "PLUGIN",
                    name: n.to_string(),
                });
            }
            v
        };
        for e in entries {
            let life = e.life.read().unwrap_or_else(|p| p.into_inner());
            if e.state() != PluginState::Active {
                continue;
            }
            let rc = e.code.flush(e.ctx());
            drop(life);
            if rc == MINNOW_PLUGIN_PANICKED {
                self.shared.disable(&e, "flush");
                return Err(PluginError::Panicked {
                    plugin: e.name.clone(),
                    during: "flush",
                });
            }
            if rc != 0 {
                return Err(PluginError::CallFailed {
                    plugin: e.name.clone(),
                    during: "flush",
                    detail: format!("returned {rc}"),
                });
            }
        }
        Ok(())
    }

    /// information_schema tables provided by ACTIVE plugins: (table name, columns).
    pub fn info_schema_tables(&self) -> Vec<(String, Vec<ColumnDef>)> {
        let st = self.shared.lock();
        st.plugins
            .iter()
            .filter(|e| e.state() == PluginState::Active)
            .filter_map(|e| match &e.code.decl.kind {
                Kind::InfoSchema { columns, .. } => {
                    Some((e.name.to_ascii_uppercase(), columns.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// `information_schema.PLUGIN_BINDINGS`. `BOUND_SESSIONS` is counted here from
    /// the bindings each session publishes in its slot (binding a plugin touches no
    /// counter shared between sessions).
    pub fn bindings(&self) -> Vec<BindingRow> {
        let slots = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        // Keyed by the address of the entry's (or UDF's) stats: one per row.
        let mut bound: HashMap<*const Stats, u64> = HashMap::new();
        for slot in &slots {
            let b = slot.lock();
            for (e, ext) in &b.plugins {
                if let Some(s) = e.stats(*ext) {
                    *bound.entry(s as *const Stats).or_default() += 1;
                }
            }
            for u in &b.udfs {
                *bound.entry(&u.stats as *const Stats).or_default() += 1;
            }
        }
        let st = self.shared.lock();
        let row = |name: &str, ext: ExtPoint, s: &Stats| BindingRow {
            plugin_name: name.to_string(),
            extension_point: ext.as_str(),
            calls: s.calls.total(),
            errors: s.errors.load(SeqCst),
            total_time_us: s.total_ns.load(SeqCst) / 1000,
            max_time_us: s.max_ns.load(SeqCst) / 1000,
            bound_sessions: bound.get(&(s as *const Stats)).copied().unwrap_or(0),
        };
        let mut out = Vec::new();
        for e in &st.plugins {
            for (ext, s) in &e.stats {
                out.push(row(&e.name, *ext, s));
            }
        }
        for u in st.udfs.values() {
            out.push(row(&u.name, ExtPoint::Function, &u.stats));
        }
        out
    }

    /// `information_schema.SESSION_PLUGIN_BINDINGS`, sorted by session.
    pub fn session_bindings(&self) -> Vec<SessionBindingRow> {
        let slots = self
            .shared
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = Vec::new();
        for slot in &slots {
            let b = slot.lock();
            for (e, ext) in &b.plugins {
                out.push(SessionBindingRow {
                    session_id: slot.id,
                    plugin_name: e.name.clone(),
                    extension_point: ext.as_str(),
                });
            }
            for u in &b.udfs {
                out.push(SessionBindingRow {
                    session_id: slot.id,
                    plugin_name: u.name.clone(),
                    extension_point: ExtPoint::Function.as_str(),
                });
            }
        }
        out.sort();
        out
    }

    /// `CREATE [AGGREGATE] FUNCTION name RETURNS … SONAME 'soname'`.
    pub fn create_function(
        &self,
        name: &str,
        ret: UdfReturn,
        aggregate: bool,
        soname: &str,
    ) -> Result<(), PluginError> {
        if name.is_empty()
            || name.len() > ffi::MAX_PLUGIN_NAME
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(PluginError::Usage {
                message: format!("Incorrect function name '{name}'"),
            });
        }
        let key = name.to_ascii_lowercase();
        if self.shared.lock().udfs.contains_key(&key) {
            return Err(PluginError::Exists {
                name: name.to_string(),
            });
        }
        let lib = self.shared.open_library(soname)?;
        let code = Arc::new(UdfCode::load(lib, name, ret, aggregate)?);
        let addr = code.address();
        {
            let mut st = self.shared.lock();
            if st.udfs.contains_key(&key) {
                return Err(PluginError::Exists {
                    name: name.to_string(),
                });
            }
            st.udfs.insert(
                key,
                Arc::new(Udf {
                    name: name.to_string(),
                    soname: soname.to_string(),
                    ret,
                    aggregate,
                    code,
                    stats: Stats::default(),
                }),
            );
        }
        self.shared.host.plugin_loaded(name, soname, addr);
        Ok(())
    }

    /// `DROP FUNCTION name`. Calls in progress finish; the library is closed after them.
    pub fn drop_function(&self, name: &str) -> Result<(), PluginError> {
        let removed = self.shared.lock().udfs.remove(&name.to_ascii_lowercase());
        let udf = removed.ok_or_else(|| PluginError::DoesNotExist {
            what: "FUNCTION",
            name: name.to_string(),
        })?;
        self.shared.host.plugin_unloaded(&udf.name);
        Ok(())
    }

    /// UDFs (for `mysql.func`).
    pub fn functions(&self) -> Vec<FunctionInfo> {
        let st = self.shared.lock();
        st.udfs
            .values()
            .map(|u| FunctionInfo {
                name: u.name.clone(),
                soname: u.soname.clone(),
                ret: u.ret,
                aggregate: u.aggregate,
            })
            .collect()
    }

    /// Whether a UDF called `name` exists (and is an aggregate).
    pub fn function(&self, name: &str) -> Option<FunctionInfo> {
        let st = self.shared.lock();
        st.udfs
            .get(&name.to_ascii_lowercase())
            .map(|u| FunctionInfo {
                name: u.name.clone(),
                soname: u.soname.clone(),
                ret: u.ret,
                aggregate: u.aggregate,
            })
    }

    /// Deinitialises and unloads every plugin (server shutdown), in reverse install
    /// order, whether or not sessions still hold bindings (stop the connection threads
    /// first: a call already running in a plugin is not waited for).
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }
}

impl Drop for Shared {
    /// The last `Registry` clone and the last `Session` are gone: deinitialise what is
    /// still loaded before the libraries are closed (a plugin thread running code of
    /// an unmapped library would crash the process).
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    fn shutdown(&self) {
        let entries: Vec<Arc<Entry>> = self.lock().plugins.iter().rev().cloned().collect();
        for e in entries {
            if e.state() == PluginState::Deleting {
                continue;
            }
            // Sessions still holding bindings skip non-ACTIVE plugins and their later
            // release finds the state DELETING, so deinit runs exactly once here.
            e.set_state(PluginState::Deleted);
            self.finalize(&e);
        }
        // Dropped outside the lock: closing a library calls HostServices hooks.
        let udfs = std::mem::take(&mut self.lock().udfs);
        drop(udfs);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn udf(&self, name: &str) -> Option<Arc<Udf>> {
        self.lock().udfs.get(&name.to_ascii_lowercase()).cloned()
    }

    /// Opens (or reuses) a library from plugin_dir.
    fn open_library(&self, soname: &str) -> Result<Arc<Library>, PluginError> {
        let path = ffi::resolve_library_path(&self.plugin_dir, soname)?;
        {
            let st = self.lock();
            if let Some(l) = st.libraries.get(&path).and_then(Weak::upgrade) {
                return Ok(l);
            }
        }
        let lib = Arc::new(Library::open(&path, soname, self.host.clone())?);
        let mut st = self.lock();
        st.libraries.retain(|_, w| w.strong_count() > 0);
        if let Some(l) = st.libraries.get(&path).and_then(Weak::upgrade) {
            return Ok(l);
        }
        st.libraries.insert(path, Arc::downgrade(&lib));
        Ok(lib)
    }

    /// Opens the library and builds (unregistered) entries for the request.
    fn prepare(
        self: &Arc<Self>,
        r: &LoadRequest,
        dynamic: bool,
    ) -> Result<Vec<Arc<Entry>>, PluginError> {
        let lib = self.open_library(&r.soname)?;
        let decls = ffi::read_declarations(&lib)?;
        let chosen: Vec<_> = match &r.name {
            Some(n) => {
                let d = decls
                    .into_iter()
                    .find(|d| d.name.eq_ignore_ascii_case(n))
                    .ok_or_else(|| PluginError::MissingSymbol {
                        soname: r.soname.clone(),
                        symbol: n.clone(),
                    })?;
                vec![d]
            }
            None => decls,
        };
        if chosen.is_empty() {
            return Err(PluginError::CantOpenLibrary {
                soname: r.soname.clone(),
                errno: 0,
                reason: "the library declares no plugin".into(),
            });
        }
        let mut out = Vec::new();
        for d in chosen {
            if dynamic && d.flags & MINNOW_PLUGIN_OPT_NO_INSTALL != 0 {
                return Err(PluginError::NoInstall { name: d.name });
            }
            let option = if dynamic {
                r.option
            } else {
                let st = self.lock();
                st.load_options
                    .get(&d.name.to_ascii_lowercase())
                    .copied()
                    .unwrap_or(r.option)
            };
            out.push(self.make_entry(d, Some(lib.clone()), option)?);
        }
        Ok(out)
    }

    /// Builds an (unregistered, INACTIVE) entry; system variables take their
    /// `--NAME-VARIABLE` startup value or the declared default.
    fn make_entry(
        self: &Arc<Self>,
        d: ffi::LoadedDecl,
        lib: Option<Arc<Library>>,
        option: LoadOption,
    ) -> Result<Arc<Entry>, PluginError> {
        let startup = self.lock().startup_sysvars.clone();
        let mut values = Vec::new();
        for def in &d.sysvars {
            let full = format!("{}_{}", d.name, def.name).to_ascii_lowercase();
            let v = match startup.get(&full) {
                Some(s) => parse_value(def, &Value::Str(s.clone()), &full)?,
                None => def.default.clone(),
            };
            values.push(v);
        }
        let weak = Arc::downgrade(self);
        let handle = Arc::new(PluginHandle {
            plugin: d.name.clone(),
            host: self.host.clone(),
            sysvar_names: d.sysvars.iter().map(|s| s.name.clone()).collect(),
            sysvars: Mutex::new(values),
            plugin_exists: Box::new(move |n: &str| {
                weak.upgrade().is_some_and(|s| {
                    s.lock().plugins.iter().any(|e| {
                        e.name.eq_ignore_ascii_case(n)
                            && !matches!(e.state(), PluginState::Deleted | PluginState::Deleting)
                    })
                })
            }),
        });
        let stats = ext_points(&d.kind)
            .into_iter()
            .map(|e| (e, Stats::default()))
            .collect();
        let plugin_type = PluginType::from_abi(d.plugin_type);
        let code = PluginCode::new(d, lib, handle);
        Ok(Arc::new(Entry {
            name: code.decl.name.clone(),
            code,
            plugin_type,
            state: AtomicU8::new(PluginState::Inactive as u8),
            ctx: AtomicPtr::new(std::ptr::null_mut()),
            initialized: AtomicBool::new(false),
            load_option: option,
            bindings: ShardedCounter::default(),
            life: RwLock::new(()),
            stats,
        }))
    }

    /// Adds entries to the registry (INACTIVE), refusing duplicates (1125).
    fn register(&self, batch: &[Arc<Entry>]) -> Result<(), PluginError> {
        let mut st = self.lock();
        for (i, e) in batch.iter().enumerate() {
            let dup_existing = st
                .plugins
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&e.name));
            let dup_batch = batch[..i]
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&e.name));
            if dup_existing || dup_batch {
                return Err(PluginError::Exists {
                    name: e.name.clone(),
                });
            }
        }
        st.plugins.extend(batch.iter().cloned());
        drop(st);
        for e in batch {
            if let Some(lib) = e.code.soname() {
                self.host.plugin_loaded(&e.name, lib, e.code.address());
            }
        }
        Ok(())
    }

    /// Removes a failed batch (deinit of the initialised ones, outside the lock).
    fn abort_batch(&self, batch: &[Arc<Entry>]) {
        {
            let mut st = self.lock();
            st.plugins
                .retain(|p| !batch.iter().any(|b| Arc::ptr_eq(p, b)));
        }
        self.rebuild_snapshots();
        for e in batch.iter().rev() {
            // A plugin of the batch that initialised was ACTIVE for a moment: a session
            // may have bound it and be calling it. Deinit through the binding count, as
            // UNINSTALL does: now if unbound, else when the last binding goes.
            e.set_state(PluginState::Deleted);
            if e.bindings.total() == 0 {
                self.finalize(e);
            }
        }
    }

    fn validate_all(&self, batch: &[Arc<Entry>]) -> Vec<Result<(), PluginError>> {
        batch
            .iter()
            .map(|e| {
                let rc = e.code.validate();
                if rc == 0 {
                    Ok(())
                } else {
                    Err(PluginError::InitFailed {
                        name: e.name.clone(),
                        reason: format!("validation failed ({rc})"),
                    })
                }
            })
            .collect()
    }

    /// Runs init (never under the registry lock) and marks the entry ACTIVE.
    fn init_one(&self, e: &Arc<Entry>) -> Result<(), PluginError> {
        let before = ffi::fatal_signal_handlers();
        let started = std::time::Instant::now();
        let res = e.code.init();
        let after = ffi::fatal_signal_handlers();
        for (i, (b, a)) in before.iter().zip(after.iter()).enumerate() {
            if b != a {
                self.host.error_log(
                    LogLevel::Error,
                    &e.name,
                    &format!(
                        "Plugin '{}' replaced the server's {} handler during init; crash reports may be lost",
                        e.name,
                        ffi::FATAL_SIGNAL_NAMES[i]
                    ),
                );
            }
        }
        match res {
            Ok(ctx) => {
                e.ctx.store(ctx, SeqCst);
                e.initialized.store(true, SeqCst);
                e.set_state(PluginState::Active);
                if let Some(s) = e.stats(ExtPoint::Daemon) {
                    s.record(started.elapsed(), false);
                }
                Ok(())
            }
            Err(rc) => {
                if let Some(s) = e.stats(ExtPoint::Daemon) {
                    s.record(started.elapsed(), true);
                }
                let reason = if rc == MINNOW_PLUGIN_PANICKED {
                    "Plugin initialization function panicked.".to_string()
                } else {
                    format!("Plugin initialization function failed ({rc}).")
                };
                Err(PluginError::InitFailed {
                    name: e.name.clone(),
                    reason,
                })
            }
        }
    }

    fn install_batch(
        self: &Arc<Self>,
        reqs: &[LoadRequest],
        dynamic: bool,
    ) -> Result<Vec<String>, PluginError> {
        let mut batch = Vec::new();
        for r in reqs {
            batch.extend(self.prepare(r, dynamic)?);
        }
        self.register(&batch)?;
        for r in self.validate_all(&batch) {
            if let Err(e) = r {
                self.abort_batch(&batch);
                return Err(e);
            }
        }
        for e in &batch {
            if let Err(err) = self.init_one(e) {
                self.host.error_log(
                    LogLevel::Error,
                    &e.name,
                    &format!("Plugin '{}' init function returned error: {err}", e.name),
                );
                self.abort_batch(&batch);
                return Err(err);
            }
        }
        self.rebuild_snapshots();
        Ok(batch.iter().map(|e| e.name.clone()).collect())
    }

    /// Rebuilds the dispatch lists (ACTIVE audit and trace plugins in install order).
    /// The lists are read from the registry and published under one hold of the
    /// registry lock: two rebuilds racing (an INSTALL and a deferred UNINSTALL's last
    /// release, say) must not publish an older registry state over a newer one, which
    /// would drop an ACTIVE plugin from dispatch (and keep an uninstalled one's
    /// library mapped) until the next rebuild. Every state change is followed by a
    /// rebuild that starts after it, so the last list published is current.
    pub(crate) fn rebuild_snapshots(&self) {
        let st = self.lock();
        let active = st
            .plugins
            .iter()
            .filter(|e| e.state() == PluginState::Active);
        let audit: Vec<Arc<Entry>> = active
            .clone()
            .filter(|e| e.plugin_type == PluginType::Audit)
            .cloned()
            .collect();
        let trace: Vec<Arc<Entry>> = active
            .filter(|e| e.plugin_type == PluginType::ProtocolTrace)
            .cloned()
            .collect();
        let classes = audit
            .iter()
            .fold(0u32, |m: u32, e: &Arc<Entry>| m | e.audit_mask());
        let old_audit = {
            let mut list = self.audit.write().unwrap_or_else(|p| p.into_inner());
            let old = std::mem::replace(&mut *list, Arc::from(audit));
            // Under the write lock, so the mask and generation move with the list.
            self.audit_classes.store(classes, SeqCst);
            self.audit_gen.fetch_add(1, SeqCst);
            old
        };
        let old_trace = {
            let mut list = self.trace.write().unwrap_or_else(|p| p.into_inner());
            self.trace_active.store(!trace.is_empty(), SeqCst);
            std::mem::replace(&mut *list, Arc::from(trace))
        };
        drop(st);
        // Outside every lock: the old lists may hold the last reference to an
        // uninstalled plugin, and closing its library calls HostServices hooks.
        drop((old_audit, old_trace));
    }

    /// Entries of a type, ACTIVE, in install order.
    pub(crate) fn active_of(&self, t: PluginType) -> Vec<Arc<Entry>> {
        let st = self.lock();
        st.plugins
            .iter()
            .filter(|e| e.plugin_type == t && e.state() == PluginState::Active)
            .cloned()
            .collect()
    }

    /// Entry by name (any state).
    pub(crate) fn entry(&self, name: &str) -> Option<Arc<Entry>> {
        let st = self.lock();
        st.plugins
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// A plugin panicked: mark it DISABLED and say so in the error log.
    pub(crate) fn disable(&self, e: &Arc<Entry>, during: &str) {
        if e.cas_state(PluginState::Active, PluginState::Disabled) {
            self.host.error_log(
                LogLevel::Error,
                &e.name,
                &format!(
                    "Plugin '{}' panicked in {during}; it has been disabled",
                    e.name
                ),
            );
            self.rebuild_snapshots();
        }
    }

    /// Drops session `session`'s binding of `e`; the last binding of a DELETED plugin
    /// finalizes it. The protocol: a binder adds to its shard, then reads the state
    /// (unbinding at once if it is not ACTIVE); UNINSTALL stores DELETED, then sums
    /// the shards; an unbinder takes from its shard, then reads the state and, if
    /// DELETED, sums the shards. All SeqCst: whichever of them comes last in the total
    /// order sees every other's change, so the last binding to go, or UNINSTALL
    /// itself when nothing is bound, finds the sum at zero ([`Shared::finalize`]
    /// runs once however many find it). The sum is taken after the state is seen
    /// DELETED, never from the count this release left: between the two another
    /// session may bind the still-ACTIVE plugin and an UNINSTALL see that binding
    /// and defer, and finalizing on the stale count would deinitialise the plugin
    /// under the new binder's running call (the race of
    /// `a_release_racing_a_new_binding_and_uninstall_never_deinits_under_the_new_binder`).
    pub(crate) fn unbind(&self, e: &Arc<Entry>, session: u64) {
        e.bindings.drop_seqcst(session);
        if e.state() == PluginState::Deleted && e.bindings.total() == 0 {
            self.finalize(e);
        }
    }

    /// DELETED → DELETING → deinit (outside the registry lock) → removed. The library
    /// is closed when its last plugin/UDF goes.
    pub(crate) fn finalize(&self, e: &Arc<Entry>) {
        if !e.cas_state(PluginState::Deleted, PluginState::Deleting) {
            return;
        }
        {
            let mut st = self.lock();
            st.plugins.retain(|p| !Arc::ptr_eq(p, e));
        }
        self.rebuild_snapshots();
        let _w = e.life.write().unwrap_or_else(|p| p.into_inner());
        if e.initialized.swap(false, SeqCst) {
            let rc = e.code.deinit(e.ctx.swap(std::ptr::null_mut(), SeqCst));
            if rc != 0 {
                self.host.error_log(
                    LogLevel::Warning,
                    &e.name,
                    &format!("Plugin '{}' deinit returned {rc}", e.name),
                );
            }
        }
        if e.code.lib.is_some() {
            self.host.plugin_unloaded(&e.name);
        }
    }
}
