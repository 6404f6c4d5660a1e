//! `minnow-plugin-host`: loads Minnow plugins and runs their lifecycle, independent of
//! the server.
//!
//! * [`Registry`] — `INSTALL PLUGIN` / `INSTALL SONAME` ([`Registry::install`],
//!   [`Registry::install_soname`]), startup loading ([`Registry::load_startup`]),
//!   `UNINSTALL` ([`Registry::uninstall`], deferred while sessions hold bindings),
//!   `SHOW PLUGINS` ([`Registry::plugins`]), status and system variables,
//!   `FLUSH PLUGINS`, `information_schema` tables provided by plugins, UDFs
//!   (`CREATE [AGGREGATE] FUNCTION … SONAME`) and the bindings tables
//!   ([`Registry::bindings`], [`Registry::session_bindings`]).
//! * [`Session`] — one per connection: audit events, authentication, password
//!   validation, protocol trace, table fill and UDF preparation go through it; it
//!   binds each plugin on first use and [`Session::release`] drops the bindings
//!   (call it before waiting for the next command: MySQL's binding rule).
//! * [`HostServices`] — implemented by the server (error log, DBUG, session info).
//! * [`PluginError`] — typed errors carrying the MySQL error code.
//!
//! Loading is confined to `plugin_dir`; plugin init/deinit never run under the
//! registry lock; every plugin is validated before any is initialised.
//!
//! How the server wires it (startup, connection, statement, INSTALL/UNINSTALL):
//! `INTEGRATION.md` next to this crate's manifest. The SDK (for built-in plugins)
//! is re-exported as [`sdk`].

#![deny(missing_docs)]

mod error;
mod ffi;
mod options;
mod registry;
mod services;
mod session;

pub use error::{PluginError, Warning};
pub use ffi::{ColumnDef, SysVarDef, UdfReturn};
pub use minnow_plugin as sdk;
pub use minnow_plugin::Value;
pub use minnow_plugin::abi;
pub use options::{LoadOption, LoadRequest, parse_plugin_load};
pub use registry::{
    BindingRow, CallTiming, FunctionInfo, LibraryPlugin, PluginInfo, PluginState, PluginType,
    Registry, SessionBindingRow, SysVarInfo, UninstallOutcome,
};
pub use services::{HostServices, LogLevel, SessionInfo};
pub use session::{GeneralStep, Session, UdfCall};

/// Subclass of a general-class audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneralSubclass {
    /// Written to the general log.
    Log = 0,
    /// The statement failed.
    Error = 1,
    /// A result was sent.
    Result = 2,
    /// Status after the statement.
    Status = 3,
    /// Before the statement (may veto).
    Starting = 4,
    /// After the statement.
    Completed = 5,
}

/// Subclass of a connection-class audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionSubclass {
    /// Before authentication (may veto).
    PreAuthenticate = 0,
    /// Connected.
    Connect = 1,
    /// Disconnected.
    Disconnect = 2,
    /// `COM_CHANGE_USER`.
    ChangeUser = 3,
}

/// A general-class audit event.
#[derive(Debug, Clone, Copy)]
pub struct GeneralEvent<'a> {
    /// Subclass.
    pub subclass: GeneralSubclass,
    /// Error code (0 = success).
    pub error_code: i32,
    /// Connection id.
    pub connection_id: u64,
    /// Rows sent or affected.
    pub rows: u64,
    /// User.
    pub user: &'a str,
    /// Client host.
    pub host: &'a str,
    /// Client IP.
    pub ip: &'a str,
    /// Command name (`Query`, …).
    pub command: &'a str,
    /// Statement text.
    pub query: &'a str,
}

/// A connection-class audit event.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionEvent<'a> {
    /// Subclass.
    pub subclass: ConnectionSubclass,
    /// Status (0 = success, else the MySQL error code).
    pub status: i32,
    /// Connection id.
    pub connection_id: u64,
    /// User (empty at pre-authenticate).
    pub user: &'a str,
    /// Client host.
    pub host: &'a str,
    /// Client IP.
    pub ip: &'a str,
    /// Current database.
    pub database: &'a str,
}

/// What an authentication plugin checks.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// User name sent by the client.
    pub user: &'a str,
    /// Client host.
    pub host: &'a str,
    /// Stored authentication string of the account.
    pub auth_string: &'a [u8],
    /// Scramble sent to the client.
    pub scramble: &'a [u8],
    /// Client response.
    pub response: &'a [u8],
}

/// Declared type of a UDF argument (MySQL's `Item_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdfArgType {
    /// `STRING_RESULT`.
    String,
    /// `INT_RESULT`.
    Integer,
    /// `REAL_RESULT`.
    Real,
    /// `DECIMAL_RESULT` (passed as a string).
    Decimal,
}

/// One argument of a UDF call site, as known when the statement is prepared.
#[derive(Debug, Clone, PartialEq)]
pub struct UdfArg {
    /// Argument type.
    pub arg_type: UdfArgType,
    /// The value if the argument is a constant (MySQL passes constants to `xxx_init`).
    pub constant: Option<Value>,
    /// Expression text (`UDF_ARGS::attributes`).
    pub attribute: String,
}
