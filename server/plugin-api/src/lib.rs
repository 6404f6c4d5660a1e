//! `minnow-plugin`: the stable C ABI of Minnow server plugins and a safe Rust SDK.
//!
//! * [`abi`] — `#[repr(C)]` types and constants, mirrored by
//!   `include/minnow_plugin.h` (path: [`HEADER_PATH`]) for C plugins.
//! * The SDK — implement [`Plugin`] plus one type trait ([`AuditPlugin`],
//!   [`DaemonPlugin`], [`InfoSchemaPlugin`], [`AuthPlugin`],
//!   [`PasswordValidationPlugin`], [`ProtocolTracePlugin`]) and list the types in
//!   [`declare_plugins!`]. The macro exports the three symbols the host reads. A Rust
//!   plugin never writes `unsafe`: every call from the host goes through a
//!   trampoline in this crate that wraps the plugin's code in `catch_unwind`; a
//!   panic is logged through the host's error log and becomes
//!   [`abi::MINNOW_PLUGIN_PANICKED`], after which the host disables the plugin.
//! * [`BuiltinDecl`] — the same plugin types compiled into the server itself
//!   (registered with `minnow-plugin-host`'s `Registry::register_builtin`).
//! * [`Host`] — the services a plugin gets: error log, DBUG (`dbug_frame`,
//!   `dbug_print`, `dbug_execute_if`), session accessors, its system variables.
//!
//! ```no_run
//! struct Hello;
//! impl minnow_plugin::Plugin for Hello {
//!     const NAME: &'static std::ffi::CStr = c"hello";
//!     fn init(_host: minnow_plugin::Host) -> Result<Self, String> { Ok(Hello) }
//! }
//! impl minnow_plugin::DaemonPlugin for Hello {}
//! minnow_plugin::declare_plugins!(daemon Hello);
//! ```

#![deny(missing_docs)]

pub mod abi;
#[doc(hidden)]
pub mod glue;
mod host;

pub use host::{DbugFrame, Host, LogLevel};

use std::borrow::Cow;
use std::ffi::CStr;

/// Absolute path of the directory holding `minnow_plugin.h` (the `-I` of C plugins).
pub const HEADER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
/// Absolute path of the C header.
pub const HEADER_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include/minnow_plugin.h");

/// A typed value crossing the plugin boundary (system/status variables, table cells).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Integer.
    Int(i64),
    /// Real.
    Real(f64),
    /// Boolean.
    Bool(bool),
    /// String (UTF-8).
    Str(String),
    /// Bytes that are not valid UTF-8 (a binary UDF result); crosses the ABI as a
    /// string value.
    Bytes(Vec<u8>),
}

impl Value {
    /// The value in its ABI form (`MinnowValue`); a string or binary value's
    /// pointer borrows from `self`, so `self` must outlive every use of the result.
    pub fn to_abi(&self) -> abi::MinnowValue {
        let mut out = abi::MinnowValue {
            value_type: abi::MINNOW_VALUE_NULL,
            reserved: 0,
            int_val: 0,
            real_val: 0.0,
            str: std::ptr::null_mut(),
            str_len: 0,
        };
        match self {
            Value::Null => {}
            Value::Int(i) => {
                out.value_type = abi::MINNOW_VALUE_INT;
                out.int_val = *i;
            }
            Value::Bool(b) => {
                out.value_type = abi::MINNOW_VALUE_BOOL;
                out.int_val = i64::from(*b);
            }
            Value::Real(r) => {
                out.value_type = abi::MINNOW_VALUE_REAL;
                out.real_val = *r;
            }
            Value::Str(_) | Value::Bytes(_) => {
                let s = self.as_bytes().unwrap_or_default();
                out.value_type = abi::MINNOW_VALUE_STRING;
                out.str = s.as_ptr() as *mut std::ffi::c_char;
                out.str_len = s.len();
            }
        }
        out
    }
    /// The integer value (booleans as 0/1), if any.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
    /// The bytes of a string or binary value, if any.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s.as_bytes()),
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }
    /// The string value, if any.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The boolean value (non-zero integers are true), if any.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}

/// License of a plugin (`SHOW PLUGINS`' `License` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum License {
    /// Proprietary.
    Proprietary,
    /// GPL.
    Gpl,
    /// BSD.
    Bsd,
}

impl License {
    /// The ABI constant.
    pub const fn to_abi(self) -> u32 {
        match self {
            License::Proprietary => abi::MINNOW_LICENSE_PROPRIETARY,
            License::Gpl => abi::MINNOW_LICENSE_GPL,
            License::Bsd => abi::MINNOW_LICENSE_BSD,
        }
    }
}

/// Declares a status variable (const-constructible, for [`Plugin::STATUS_VARS`]).
pub const fn status_var(name: &'static CStr, value_type: u32) -> abi::StatusVarDecl {
    abi::StatusVarDecl {
        name: name.as_ptr(),
        value_type,
        reserved: 0,
    }
}

/// Declares an integer system variable with default and range.
pub const fn sysvar_int(
    name: &'static CStr,
    comment: &'static CStr,
    def: i64,
    min: i64,
    max: i64,
) -> abi::SysVarDecl {
    abi::SysVarDecl {
        name: name.as_ptr(),
        comment: comment.as_ptr(),
        value_type: abi::MINNOW_VALUE_INT,
        flags: 0,
        def_int: def,
        min_int: min,
        max_int: max,
        def_real: 0.0,
        def_str: std::ptr::null(),
    }
}

/// Declares a boolean system variable.
pub const fn sysvar_bool(
    name: &'static CStr,
    comment: &'static CStr,
    def: bool,
) -> abi::SysVarDecl {
    abi::SysVarDecl {
        name: name.as_ptr(),
        comment: comment.as_ptr(),
        value_type: abi::MINNOW_VALUE_BOOL,
        flags: 0,
        def_int: def as i64,
        min_int: 0,
        max_int: 1,
        def_real: 0.0,
        def_str: std::ptr::null(),
    }
}

/// Declares a string system variable.
pub const fn sysvar_str(
    name: &'static CStr,
    comment: &'static CStr,
    def: &'static CStr,
) -> abi::SysVarDecl {
    abi::SysVarDecl {
        name: name.as_ptr(),
        comment: comment.as_ptr(),
        value_type: abi::MINNOW_VALUE_STRING,
        flags: 0,
        def_int: 0,
        min_int: 0,
        max_int: 0,
        def_real: 0.0,
        def_str: def.as_ptr(),
    }
}

/// Declares an information_schema column.
pub const fn is_column(name: &'static CStr, column_type: u32, length: u32) -> abi::IsColumn {
    abi::IsColumn {
        name: name.as_ptr(),
        column_type,
        length,
    }
}

/// What every Rust plugin implements: metadata, lifecycle and variables.
///
/// The plugin value is created by [`Plugin::init`], shared by every thread the host
/// calls from (hence `Send + Sync`: use atomics or mutexes inside), and dropped at
/// deinit (put cleanup in `Drop`).
pub trait Plugin: Sized + Send + Sync + 'static {
    /// Plugin name.
    const NAME: &'static CStr;
    /// Author.
    const AUTHOR: &'static CStr = c"Minnow";
    /// Description.
    const DESCRIPTION: &'static CStr = c"";
    /// License.
    const LICENSE: License = License::Gpl;
    /// Version `major << 8 | minor`.
    const VERSION: u32 = 0x0100;
    /// `MINNOW_PLUGIN_OPT_*` flags.
    const FLAGS: u32 = 0;
    /// Status variables (indexes are the positions in this slice).
    const STATUS_VARS: &'static [abi::StatusVarDecl] = &[];
    /// System variables (indexes are the positions in this slice).
    const SYSTEM_VARS: &'static [abi::SysVarDecl] = &[];

    /// TiDB-style validation before any plugin is initialised.
    fn validate(_host: Host) -> Result<(), String> {
        Ok(())
    }
    /// Creates the plugin.
    fn init(host: Host) -> Result<Self, String>;
    /// `FLUSH PLUGINS`.
    fn flush(&self) -> Result<(), String> {
        Ok(())
    }
    /// Value of status variable number `index`.
    fn status(&self, _index: usize) -> Value {
        Value::Null
    }
    /// Checks a new value of system variable number `index`.
    fn check_sysvar(&self, _index: usize, _value: &Value) -> Result<(), String> {
        Ok(())
    }
    /// The host accepted a new value of system variable number `index`.
    fn update_sysvar(&self, _index: usize, _value: &Value) {}
}

/// A daemon plugin: init/deinit only (start threads in `init`, stop them in `Drop`).
pub trait DaemonPlugin: Plugin {}

/// A string the host lends to a plugin for the duration of one call (an audit
/// event's user, host, query, …): a view of the host's bytes, decoded only when the
/// plugin asks. An audit plugin that looks only at the subclass or a counter pays
/// nothing for the strings it never reads.
///
/// The host sends UTF-8 in practice, but the ABI carries bytes: [`Text::to_str`]
/// replaces invalid sequences with U+FFFD, [`Text::as_str`] reports them,
/// [`Text::as_bytes`] gives the raw bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    /// A view of `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Text<'a> {
        Text(bytes)
    }
    /// The raw bytes (no decoding).
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
    /// Length in bytes.
    pub const fn len(&self) -> usize {
        self.0.len()
    }
    /// True if there are no bytes.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The text, borrowed if it is valid UTF-8, else with each invalid sequence
    /// replaced by U+FFFD.
    pub fn to_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.0)
    }
    /// The text if it is valid UTF-8.
    pub fn as_str(&self) -> Result<&'a str, std::str::Utf8Error> {
        std::str::from_utf8(self.0)
    }
    /// True if the text contains `needle` (compared as bytes: no decoding).
    pub fn contains(&self, needle: &str) -> bool {
        let n = needle.as_bytes();
        n.is_empty() || self.0.windows(n.len()).any(|w| w == n)
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Text<'a> {
        Text(s.as_bytes())
    }
}

impl<'a> From<&'a [u8]> for Text<'a> {
    fn from(b: &'a [u8]) -> Text<'a> {
        Text(b)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_str(), f)
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_str())
    }
}

/// A general-class audit event: a view of the host's C event, valid during the call.
/// Nothing is copied when the event is delivered: each accessor reads the host's
/// struct, and the strings are [`Text`] views, decoded only when read.
#[derive(Clone, Copy)]
pub struct GeneralEvent<'a> {
    /// The host's event; its strings are valid for `'a` (see [`GeneralEvent::from_raw`]).
    raw: &'a abi::AuditGeneralEvent,
}

impl<'a> GeneralEvent<'a> {
    /// `MINNOW_AUDIT_GENERAL_*`.
    pub fn subclass(&self) -> u32 {
        self.raw.event_subclass
    }
    /// Error code (0 = success).
    pub fn error_code(&self) -> i32 {
        self.raw.error_code
    }
    /// Connection id.
    pub fn connection_id(&self) -> u64 {
        self.raw.connection_id
    }
    /// Rows affected or sent.
    pub fn rows(&self) -> u64 {
        self.raw.rows
    }
}

impl std::fmt::Debug for GeneralEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneralEvent")
            .field("subclass", &self.subclass())
            .field("error_code", &self.error_code())
            .field("connection_id", &self.connection_id())
            .field("rows", &self.rows())
            .field("user", &self.user())
            .field("host", &self.host())
            .field("ip", &self.ip())
            .field("command", &self.command())
            .field("query", &self.query())
            .finish()
    }
}

/// A connection-class audit event: a view of the host's C event, valid during the
/// call. Nothing is copied when the event is delivered; the strings are [`Text`]
/// views, decoded only when read.
#[derive(Clone, Copy)]
pub struct ConnectionEvent<'a> {
    /// The host's event; its strings are valid for `'a` (see [`ConnectionEvent::from_raw`]).
    raw: &'a abi::AuditConnectionEvent,
}

impl<'a> ConnectionEvent<'a> {
    /// `MINNOW_AUDIT_CONNECTION_*`.
    pub fn subclass(&self) -> u32 {
        self.raw.event_subclass
    }
    /// Status (0 = success, else a MySQL error code).
    pub fn status(&self) -> i32 {
        self.raw.status
    }
    /// Connection id.
    pub fn connection_id(&self) -> u64 {
        self.raw.connection_id
    }
}

impl std::fmt::Debug for ConnectionEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionEvent")
            .field("subclass", &self.subclass())
            .field("status", &self.status())
            .field("connection_id", &self.connection_id())
            .field("user", &self.user())
            .field("host", &self.host())
            .field("ip", &self.ip())
            .field("database", &self.database())
            .finish()
    }
}

/// An audit event.
#[derive(Debug, Clone, Copy)]
pub enum AuditEvent<'a> {
    /// General class.
    General(GeneralEvent<'a>),
    /// Connection class.
    Connection(ConnectionEvent<'a>),
}

/// A refusal from an audit plugin (honoured at pre-authenticate and starting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Veto;

/// An audit plugin.
pub trait AuditPlugin: Plugin {
    /// `MINNOW_AUDIT_*_CLASSMASK` bits.
    const CLASS_MASK: u32;
    /// Called for each event of a class in the mask.
    fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto>;
}

/// Collects the rows of an information_schema table.
pub struct RowSink<'a> {
    pub(crate) sink: &'a abi::IsSink,
    pub(crate) failed: bool,
}

/// An information_schema table plugin (the table is named after the plugin).
pub trait InfoSchemaPlugin: Plugin {
    /// Columns.
    const COLUMNS: &'static [abi::IsColumn];
    /// Produces the rows.
    fn fill(&self, rows: &mut RowSink<'_>) -> Result<(), String>;
}

/// What an authentication plugin checks.
#[derive(Debug, Clone)]
pub struct AuthRequest<'a> {
    /// User.
    pub user: Cow<'a, str>,
    /// Host.
    pub host: Cow<'a, str>,
    /// Stored authentication string.
    pub auth_string: &'a [u8],
    /// Scramble.
    pub scramble: &'a [u8],
    /// Client response.
    pub response: &'a [u8],
}

/// An authentication plugin.
pub trait AuthPlugin: Plugin {
    /// Client-side plugin name.
    const CLIENT_PLUGIN: &'static CStr;
    /// True if the response is valid.
    fn authenticate(&self, request: &AuthRequest<'_>) -> bool;
    /// Stored authentication string for a password.
    fn generate_auth_string(&self, password: &[u8]) -> Result<Vec<u8>, String>;
}

/// A password validation plugin.
pub trait PasswordValidationPlugin: Plugin {
    /// Accepts or refuses a new password.
    fn validate_password(&self, password: &[u8]) -> Result<(), String>;
    /// Strength 0..=100.
    fn strength(&self, password: &[u8]) -> u32;
}

/// One protocol trace event.
#[derive(Debug, Clone, Copy)]
pub struct TraceEvent<'a> {
    /// Connection id.
    pub connection_id: u64,
    /// `abi::stage::*`.
    pub stage: u32,
    /// `abi::event::*`.
    pub event: u32,
    /// Packet payload (masked during authentication).
    pub packet: &'a [u8],
}

/// Returned by a protocol trace plugin to ask the host to drop the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropConnection;

/// A protocol trace plugin.
pub trait ProtocolTracePlugin: Plugin {
    /// Sees one event; `Err(DropConnection)` asks the host to drop the connection.
    fn trace(&self, event: &TraceEvent<'_>) -> Result<(), DropConnection>;
}

/// Name of a protocol stage.
pub fn stage_name(stage: u32) -> &'static str {
    const NAMES: [&str; abi::stage::COUNT as usize] = [
        "CONNECTING",
        "WAIT_FOR_INIT_PACKET",
        "AUTHENTICATE",
        "SSL_NEGOTIATION",
        "READY_FOR_COMMAND",
        "WAIT_FOR_PACKET",
        "WAIT_FOR_RESULT",
        "WAIT_FOR_FIELD_DEF",
        "WAIT_FOR_ROW",
        "FILE_REQUEST",
        "WAIT_FOR_PS_DESCRIPTION",
        "WAIT_FOR_PARAM_DEF",
        "WAIT_FOR_COL_DEF",
        "FETCH_ROW",
        "DISCONNECTED",
    ];
    NAMES
        .get(stage as usize)
        .copied()
        .unwrap_or("UNKNOWN_STAGE")
}

/// Name of a protocol trace event.
pub fn event_name(event: u32) -> &'static str {
    const NAMES: [&str; abi::event::COUNT as usize] = [
        "CONNECTING",
        "CONNECTED",
        "DISCONNECTED",
        "SEND_SSL_REQUEST",
        "SSL_CONNECT",
        "SSL_CONNECTED",
        "INIT_PACKET_RECEIVED",
        "AUTH_PLUGIN",
        "SEND_AUTH_RESPONSE",
        "SEND_AUTH_DATA",
        "AUTHENTICATED",
        "READ_PACKET",
        "PACKET_RECEIVED",
        "SEND_COMMAND",
        "PACKET_SENT",
        "ERROR",
    ];
    NAMES
        .get(event as usize)
        .copied()
        .unwrap_or("UNKNOWN_EVENT")
}

/// The declaration of a plugin compiled into the host program itself (e.g. the
/// server's built-in `mysql_native_password`), for `Registry::register_builtin` of
/// `minnow-plugin-host`. Only the constructors below make one, so every pointer in
/// it refers to `'static` data of the program.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinDecl {
    decl: &'static abi::PluginDecl,
}

impl BuiltinDecl {
    /// The declaration.
    pub fn decl(&self) -> &'static abi::PluginDecl {
        self.decl
    }

    fn leak(d: abi::PluginDecl) -> BuiltinDecl {
        BuiltinDecl {
            decl: Box::leak(Box::new(d)),
        }
    }

    /// A built-in audit plugin.
    pub fn audit<T: AuditPlugin>() -> BuiltinDecl {
        Self::leak(glue::Glue::<T>::AUDIT_DECL)
    }
    /// A built-in daemon plugin.
    pub fn daemon<T: DaemonPlugin>() -> BuiltinDecl {
        Self::leak(glue::Glue::<T>::DAEMON_DECL)
    }
    /// A built-in information_schema table.
    pub fn information_schema<T: InfoSchemaPlugin>() -> BuiltinDecl {
        Self::leak(glue::Glue::<T>::IS_DECL)
    }
    /// A built-in authentication plugin.
    pub fn authentication<T: AuthPlugin>() -> BuiltinDecl {
        Self::leak(glue::Glue::<T>::AUTH_DECL)
    }
    /// A built-in password validation plugin.
    pub fn password_validation<T: PasswordValidationPlugin>() -> BuiltinDecl {
        Self::leak(glue::Glue::<T>::PV_DECL)
    }
    /// A built-in protocol trace plugin.
    pub fn protocol_trace<T: ProtocolTracePlugin>() -> BuiltinDecl {
        Self::leak(glue::Glue::<T>::TRACE_DECL)
    }
}

/// Exports the three plugin symbols for the listed plugin types.
///
/// Each entry is `kind Type` with kind one of `audit`, `daemon`,
/// `information_schema`, `authentication`, `password_validation`,
/// `protocol_trace`; `Type` implements [`Plugin`] and the matching type trait.
#[macro_export]
macro_rules! declare_plugins {
    ($($kind:ident $ty:ty),+ $(,)?) => {
        #[allow(non_upper_case_globals)]
        #[unsafe(no_mangle)]
        #[used]
        pub static _minnow_plugin_interface_version_: u32 =
            $crate::abi::MINNOW_PLUGIN_INTERFACE_VERSION;
        #[allow(non_upper_case_globals)]
        #[unsafe(no_mangle)]
        #[used]
        pub static _minnow_sizeof_struct_st_plugin_: u32 =
            ::core::mem::size_of::<$crate::abi::PluginDecl>() as u32;
        #[allow(non_upper_case_globals)]
        #[unsafe(no_mangle)]
        #[used]
        pub static _minnow_plugin_declarations_:
            $crate::glue::Declarations<{ [$(stringify!($ty)),+].len() + 1 }> =
            $crate::glue::Declarations([
                $( $crate::declare_plugins!(@decl $kind $ty), )+
                $crate::abi::PluginDecl::ZERO,
            ]);
    };
    (@decl audit $ty:ty) => { $crate::glue::Glue::<$ty>::AUDIT_DECL };
    (@decl daemon $ty:ty) => { $crate::glue::Glue::<$ty>::DAEMON_DECL };
    (@decl information_schema $ty:ty) => { $crate::glue::Glue::<$ty>::IS_DECL };
    (@decl authentication $ty:ty) => { $crate::glue::Glue::<$ty>::AUTH_DECL };
    (@decl password_validation $ty:ty) => { $crate::glue::Glue::<$ty>::PV_DECL };
    (@decl protocol_trace $ty:ty) => { $crate::glue::Glue::<$ty>::TRACE_DECL };
}

#[cfg(test)]
mod tests {
    use super::Text;
    use std::borrow::Cow;

    #[test]
    fn text_decodes_valid_utf8_without_copying() {
        let t = Text::from("SELECT 'é'");
        assert!(matches!(t.to_str(), Cow::Borrowed("SELECT 'é'")));
        assert_eq!(t.as_str(), Ok("SELECT 'é'"));
        assert_eq!(t.len(), 11);
        assert!(!t.is_empty());
        assert!(t == "SELECT 'é'");
        assert!(t.contains("'é'"));
        assert!(t.contains(""));
        assert!(!t.contains("INSERT"));
        assert_eq!(t.to_string(), "SELECT 'é'");
        assert_eq!(format!("{t:?}"), "\"SELECT 'é'\"");
        assert!(Text::default().is_empty());
        assert_eq!(Text::default().to_str(), "");
    }

    #[test]
    fn text_with_invalid_utf8_is_replaced_or_reported() {
        let bytes: &[u8] = b"ab\xffcd\xc3";
        let t = Text::from(bytes);
        assert_eq!(t.as_bytes(), bytes);
        assert_eq!(t.to_str(), "ab\u{fffd}cd\u{fffd}");
        assert!(matches!(t.to_str(), Cow::Owned(_)));
        let e = t.as_str().unwrap_err();
        assert_eq!(e.valid_up_to(), 2);
        assert!(t.contains("cd"));
        assert!(t != "abcd");
        assert_eq!(t.to_string(), "ab\u{fffd}cd\u{fffd}");
    }
}
