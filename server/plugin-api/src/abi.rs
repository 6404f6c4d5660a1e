//! The stable C ABI shared by the host and every plugin library.
//!
//! Everything here is `#[repr(C)]` and mirrors `include/minnow_plugin.h` field by
//! field (a test compiles a C program against the header and compares every
//! `sizeof`/`offsetof`). No Rust-native type (`String`, `Vec`, `&str`, trait
//! objects) crosses the boundary: strings are `(pointer, length)` pairs or
//! NUL-terminated `const char *`, callbacks are nullable `extern "C"` function
//! pointers (`Option<unsafe extern "C" fn ...>`, which has the layout of a C
//! function pointer with `None` as `NULL`).
//!
//! # Exported symbols
//!
//! A plugin library exports three symbols (see [`SYM_INTERFACE_VERSION`],
//! [`SYM_SIZEOF_DECL`], [`SYM_DECLARATIONS`]): the interface version it was built
//! against (`major << 8 | minor`), `sizeof(struct minnow_plugin_decl)` as the
//! library sees it, and an array of declarations terminated by an all-zero entry.
//! The host refuses another major version and copies each declaration
//! size-aware: a library built against an older minor version (smaller struct)
//! gets the missing trailing fields zeroed, a newer one (larger struct) has its
//! extra fields ignored.

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

/// Interface version of this ABI: `major << 8 | minor`. 1.1 added `flush`.
pub const MINNOW_PLUGIN_INTERFACE_VERSION: u32 = 0x0101;
/// Mask of the major part of an interface version.
pub const MINNOW_VERSION_MAJOR_MASK: u32 = 0xff00;
/// Size of the declaration as it was in interface 1.0 (before `flush`).
pub const MINNOW_DECL_SIZE_V1_0: usize = std::mem::offset_of!(PluginDecl, flush);

/// Name of the exported `uint32_t` holding the library's interface version.
pub const SYM_INTERFACE_VERSION: &str = "_minnow_plugin_interface_version_";
/// Name of the exported `uint32_t` holding the library's `sizeof(struct minnow_plugin_decl)`.
pub const SYM_SIZEOF_DECL: &str = "_minnow_sizeof_struct_st_plugin_";
/// Name of the exported declaration array (terminated by an all-zero entry).
pub const SYM_DECLARATIONS: &str = "_minnow_plugin_declarations_";

/// Plugin type: daemon (init/deinit only).
pub const MINNOW_DAEMON_PLUGIN: u32 = 3;
/// Plugin type: `information_schema` table.
pub const MINNOW_INFORMATION_SCHEMA_PLUGIN: u32 = 4;
/// Plugin type: audit.
pub const MINNOW_AUDIT_PLUGIN: u32 = 5;
/// Plugin type: authentication.
pub const MINNOW_AUTHENTICATION_PLUGIN: u32 = 7;
/// Plugin type: password validation.
pub const MINNOW_PASSWORD_VALIDATION_PLUGIN: u32 = 8;
/// Plugin type: protocol trace.
pub const MINNOW_PROTOCOL_TRACE_PLUGIN: u32 = 12;

/// Interface version of [`DaemonDescriptor`].
pub const MINNOW_DAEMON_INTERFACE_VERSION: u32 = 0x0100;
/// Interface version of [`InfoSchemaDescriptor`].
pub const MINNOW_INFORMATION_SCHEMA_INTERFACE_VERSION: u32 = 0x0100;
/// Interface version of [`AuditDescriptor`].
pub const MINNOW_AUDIT_INTERFACE_VERSION: u32 = 0x0100;
/// Interface version of [`AuthDescriptor`].
pub const MINNOW_AUTHENTICATION_INTERFACE_VERSION: u32 = 0x0100;
/// Interface version of [`PasswordValidationDescriptor`].
pub const MINNOW_PASSWORD_VALIDATION_INTERFACE_VERSION: u32 = 0x0100;
/// Interface version of [`ProtocolTraceDescriptor`].
pub const MINNOW_PROTOCOL_TRACE_INTERFACE_VERSION: u32 = 0x0100;
/// Interface version of [`Services`].
pub const MINNOW_SERVICES_VERSION: u32 = 0x0100;

/// Declaration flag: the plugin may only be loaded at startup (no `INSTALL PLUGIN`).
pub const MINNOW_PLUGIN_OPT_NO_INSTALL: u32 = 1;
/// Declaration flag: the plugin cannot be uninstalled at run time.
pub const MINNOW_PLUGIN_OPT_NO_UNINSTALL: u32 = 2;

/// License: proprietary.
pub const MINNOW_LICENSE_PROPRIETARY: u32 = 0;
/// License: GPL.
pub const MINNOW_LICENSE_GPL: u32 = 1;
/// License: BSD.
pub const MINNOW_LICENSE_BSD: u32 = 2;

/// Return code of any callback of a Rust plugin whose body panicked (the SDK caught
/// the panic). The host disables the plugin when it sees it.
pub const MINNOW_PLUGIN_PANICKED: c_int = -0x4d50;

/// Value type: SQL NULL.
pub const MINNOW_VALUE_NULL: u32 = 0;
/// Value type: signed 64-bit integer (`int_val`).
pub const MINNOW_VALUE_INT: u32 = 1;
/// Value type: double (`real_val`).
pub const MINNOW_VALUE_REAL: u32 = 2;
/// Value type: string (`str`, `str_len`).
pub const MINNOW_VALUE_STRING: u32 = 3;
/// Value type: boolean (`int_val` 0 or 1).
pub const MINNOW_VALUE_BOOL: u32 = 4;

/// Capacity of the buffer the host hands to `show_status` for string values.
pub const MINNOW_STATUS_STR_MAX: usize = 1024;

/// System variable flag: read-only (cannot be `SET GLOBAL`).
pub const MINNOW_SYSVAR_READONLY: u32 = 1;

/// A string passed by pointer and length (not necessarily NUL-terminated).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MinnowStr {
    /// First byte, or NULL for an absent string.
    pub str: *const c_char,
    /// Length in bytes.
    pub length: usize,
}

/// A typed value (status/system variable value, information_schema cell).
///
/// Host → plugin: `str` points to host memory valid during the call.
/// Plugin → host through `show_status`: `str` points to a host buffer of
/// `str_len` bytes ([`MINNOW_STATUS_STR_MAX`]); the plugin copies at most that many
/// bytes there and sets `str_len` to the number written.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MinnowValue {
    /// One of the `MINNOW_VALUE_*` constants.
    pub value_type: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// Integer or boolean value.
    pub int_val: i64,
    /// Real value.
    pub real_val: f64,
    /// String bytes.
    pub str: *mut c_char,
    /// String length (see the type docs for the `show_status` convention).
    pub str_len: usize,
}

/// Declaration of one status variable (shown as `pluginname_name`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct StatusVarDecl {
    /// NUL-terminated name without the plugin prefix.
    pub name: *const c_char,
    /// One of the `MINNOW_VALUE_*` constants.
    pub value_type: u32,
    /// Reserved, zero.
    pub reserved: u32,
}

/// Declaration of one system variable (shown as `pluginname_name`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SysVarDecl {
    /// NUL-terminated name without the plugin prefix.
    pub name: *const c_char,
    /// NUL-terminated description.
    pub comment: *const c_char,
    /// `MINNOW_VALUE_INT`, `MINNOW_VALUE_BOOL`, `MINNOW_VALUE_REAL` or `MINNOW_VALUE_STRING`.
    pub value_type: u32,
    /// `MINNOW_SYSVAR_*` flags.
    pub flags: u32,
    /// Default of an integer/boolean variable.
    pub def_int: i64,
    /// Minimum of an integer variable.
    pub min_int: i64,
    /// Maximum of an integer variable.
    pub max_int: i64,
    /// Default of a real variable.
    pub def_real: f64,
    /// NUL-terminated default of a string variable (NULL = empty).
    pub def_str: *const c_char,
}

/// Services the host hands to a plugin at validate and init time. Valid until the
/// plugin's deinit returns. `handle` identifies the plugin to the host and is the
/// first argument of every service.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Services {
    /// [`MINNOW_SERVICES_VERSION`].
    pub interface_version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// Opaque host handle of this plugin.
    pub handle: *mut c_void,
    /// Writes one line to the error log (`level`: 0 error, 1 warning, 2 note).
    pub log_error: Option<
        unsafe extern "C" fn(handle: *mut c_void, level: u32, msg: *const c_char, len: usize),
    >,
    /// DBUG_ENTER with explicit function, file and line.
    pub dbug_enter: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            func: *const c_char,
            file: *const c_char,
            line: u32,
        ),
    >,
    /// DBUG_RETURN/DBUG_VOID_RETURN with explicit function, file and line.
    pub dbug_return: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            func: *const c_char,
            file: *const c_char,
            line: u32,
        ),
    >,
    /// DBUG_PRINT(keyword, message) with explicit function, file and line.
    pub dbug_print: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            func: *const c_char,
            file: *const c_char,
            line: u32,
            keyword: *const c_char,
            msg: *const c_char,
            len: usize,
        ),
    >,
    /// DBUG_EXECUTE_IF(keyword): non-zero when the keyword is set in the debug control string.
    pub dbug_execute_if:
        Option<unsafe extern "C" fn(handle: *mut c_void, keyword: *const c_char) -> c_int>,
    /// Connection id of the session running on the calling thread, 0 if none.
    pub session_connection_id: Option<unsafe extern "C" fn(handle: *mut c_void) -> u64>,
    /// Copies the current session's user into `buf` (at most `cap` bytes); returns the
    /// full length, or `usize::MAX` when there is no session.
    pub session_user:
        Option<unsafe extern "C" fn(handle: *mut c_void, buf: *mut c_char, cap: usize) -> usize>,
    /// Same as `session_user` for the client host.
    pub session_host:
        Option<unsafe extern "C" fn(handle: *mut c_void, buf: *mut c_char, cap: usize) -> usize>,
    /// Same as `session_user` for the current query text.
    pub session_query:
        Option<unsafe extern "C" fn(handle: *mut c_void, buf: *mut c_char, cap: usize) -> usize>,
    /// Same as `session_user` for the server's data directory.
    pub data_dir:
        Option<unsafe extern "C" fn(handle: *mut c_void, buf: *mut c_char, cap: usize) -> usize>,
    /// Reads this plugin's system variable `name` (without prefix); strings point to
    /// host memory valid until the next call on this thread. Returns 0 on success.
    pub sysvar_get: Option<
        unsafe extern "C" fn(
            handle: *mut c_void,
            name: *const c_char,
            out: *mut MinnowValue,
        ) -> c_int,
    >,
    /// Non-zero if a plugin called `name` is installed (for validate).
    pub plugin_exists:
        Option<unsafe extern "C" fn(handle: *mut c_void, name: *const c_char) -> c_int>,
}

/// Init callback: receives the services and stores the plugin's context pointer.
/// Returns 0 on success.
pub type InitFn = unsafe extern "C" fn(services: *const Services, ctx: *mut *mut c_void) -> c_int;
/// Deinit callback. Returns 0 on success.
pub type DeinitFn = unsafe extern "C" fn(ctx: *mut c_void) -> c_int;
/// Validate callback (TiDB-style), run for every plugin before any init. 0 = valid.
pub type ValidateFn = unsafe extern "C" fn(services: *const Services) -> c_int;
/// Flush callback (`FLUSH PLUGINS`). 0 = success.
pub type FlushFn = unsafe extern "C" fn(ctx: *mut c_void) -> c_int;
/// Shows status variable number `index` into `out`. 0 = success.
pub type ShowStatusFn =
    unsafe extern "C" fn(ctx: *mut c_void, index: u32, out: *mut MinnowValue) -> c_int;
/// Checks a new value of system variable number `index`. 0 = accepted.
pub type SysVarCheckFn =
    unsafe extern "C" fn(ctx: *mut c_void, index: u32, value: *const MinnowValue) -> c_int;
/// Tells the plugin that system variable number `index` now has `value`.
pub type SysVarUpdateFn =
    unsafe extern "C" fn(ctx: *mut c_void, index: u32, value: *const MinnowValue);

/// One plugin declaration (`struct minnow_plugin_decl`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginDecl {
    /// One of the `MINNOW_*_PLUGIN` constants.
    pub plugin_type: u32,
    /// `MINNOW_PLUGIN_OPT_*` flags.
    pub flags: u32,
    /// Type-specific descriptor; its first field is a `u32` interface version.
    pub info: *const c_void,
    /// NUL-terminated plugin name (NULL terminates the declaration array).
    pub name: *const c_char,
    /// NUL-terminated author.
    pub author: *const c_char,
    /// NUL-terminated description.
    pub descr: *const c_char,
    /// `MINNOW_LICENSE_*`.
    pub license: u32,
    /// Plugin version `major << 8 | minor`.
    pub version: u32,
    /// Init callback (may be NULL).
    pub init: Option<InitFn>,
    /// Deinit callback (may be NULL).
    pub deinit: Option<DeinitFn>,
    /// Validate callback (may be NULL).
    pub validate: Option<ValidateFn>,
    /// Status variable declarations (`status_var_count` entries).
    pub status_vars: *const StatusVarDecl,
    /// Number of status variables.
    pub status_var_count: u32,
    /// Number of system variables.
    pub system_var_count: u32,
    /// Status variable getter (required when `status_var_count > 0`).
    pub show_status: Option<ShowStatusFn>,
    /// System variable declarations (`system_var_count` entries).
    pub system_vars: *const SysVarDecl,
    /// System variable check callback (may be NULL: every in-range value is accepted).
    pub sysvar_check: Option<SysVarCheckFn>,
    /// System variable update callback (may be NULL).
    pub sysvar_update: Option<SysVarUpdateFn>,
    /// Since 1.1: flush callback (may be NULL).
    pub flush: Option<FlushFn>,
}

impl PluginDecl {
    /// The all-zero terminator entry.
    pub const ZERO: PluginDecl = PluginDecl {
        plugin_type: 0,
        flags: 0,
        info: std::ptr::null(),
        name: std::ptr::null(),
        author: std::ptr::null(),
        descr: std::ptr::null(),
        license: 0,
        version: 0,
        init: None,
        deinit: None,
        validate: None,
        status_vars: std::ptr::null(),
        status_var_count: 0,
        system_var_count: 0,
        show_status: None,
        system_vars: std::ptr::null(),
        sysvar_check: None,
        sysvar_update: None,
        flush: None,
    };
}

/// Daemon descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DaemonDescriptor {
    /// [`MINNOW_DAEMON_INTERFACE_VERSION`].
    pub interface_version: u32,
}

/// Audit event class: general.
pub const MINNOW_AUDIT_GENERAL_CLASS: u32 = 0;
/// Audit event class: connection.
pub const MINNOW_AUDIT_CONNECTION_CLASS: u32 = 1;
/// Class mask bit of the general class.
pub const MINNOW_AUDIT_GENERAL_CLASSMASK: u32 = 1 << MINNOW_AUDIT_GENERAL_CLASS;
/// Class mask bit of the connection class.
pub const MINNOW_AUDIT_CONNECTION_CLASSMASK: u32 = 1 << MINNOW_AUDIT_CONNECTION_CLASS;

/// General subclass: a statement was written to the general log.
pub const MINNOW_AUDIT_GENERAL_LOG: u32 = 0;
/// General subclass: a statement failed.
pub const MINNOW_AUDIT_GENERAL_ERROR: u32 = 1;
/// General subclass: a result was sent.
pub const MINNOW_AUDIT_GENERAL_RESULT: u32 = 2;
/// General subclass: status after a statement.
pub const MINNOW_AUDIT_GENERAL_STATUS: u32 = 3;
/// General subclass: a statement is about to start (may veto).
pub const MINNOW_AUDIT_GENERAL_STARTING: u32 = 4;
/// General subclass: a statement completed.
pub const MINNOW_AUDIT_GENERAL_COMPLETED: u32 = 5;

/// Connection subclass: before authentication (may veto).
pub const MINNOW_AUDIT_CONNECTION_PRE_AUTHENTICATE: u32 = 0;
/// Connection subclass: connected (after authentication).
pub const MINNOW_AUDIT_CONNECTION_CONNECT: u32 = 1;
/// Connection subclass: disconnected.
pub const MINNOW_AUDIT_CONNECTION_DISCONNECT: u32 = 2;
/// Connection subclass: `COM_CHANGE_USER`.
pub const MINNOW_AUDIT_CONNECTION_CHANGE_USER: u32 = 3;

/// Payload of a general-class audit event.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AuditGeneralEvent {
    /// `MINNOW_AUDIT_GENERAL_*`.
    pub event_subclass: u32,
    /// Error code of the statement (0 = success).
    pub error_code: i32,
    /// Connection id.
    pub connection_id: u64,
    /// Rows affected or sent.
    pub rows: u64,
    /// User name.
    pub user: MinnowStr,
    /// Client host.
    pub host: MinnowStr,
    /// Client IP address.
    pub ip: MinnowStr,
    /// Command name (`Query`, `Quit`, …).
    pub command: MinnowStr,
    /// Statement text.
    pub query: MinnowStr,
}

/// Payload of a connection-class audit event.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AuditConnectionEvent {
    /// `MINNOW_AUDIT_CONNECTION_*`.
    pub event_subclass: u32,
    /// Status (0 = success, else a MySQL error code).
    pub status: i32,
    /// Connection id.
    pub connection_id: u64,
    /// User name (empty at pre-auth).
    pub user: MinnowStr,
    /// Client host.
    pub host: MinnowStr,
    /// Client IP address.
    pub ip: MinnowStr,
    /// Current database.
    pub database: MinnowStr,
}

/// Audit notify callback: `event` points to an [`AuditGeneralEvent`] or an
/// [`AuditConnectionEvent`] according to `event_class`. Non-zero vetoes
/// (honoured for pre-authenticate and starting only).
pub type AuditNotifyFn =
    unsafe extern "C" fn(ctx: *mut c_void, event_class: u32, event: *const c_void) -> c_int;

/// Audit descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AuditDescriptor {
    /// [`MINNOW_AUDIT_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// `MINNOW_AUDIT_*_CLASSMASK` bits of the classes the plugin wants.
    pub class_mask: u32,
    /// Event callback.
    pub notify: Option<AuditNotifyFn>,
}

/// Column type of an information_schema table: integer.
pub const MINNOW_IS_TYPE_INT: u32 = MINNOW_VALUE_INT;
/// Column type: real.
pub const MINNOW_IS_TYPE_REAL: u32 = MINNOW_VALUE_REAL;
/// Column type: string.
pub const MINNOW_IS_TYPE_STRING: u32 = MINNOW_VALUE_STRING;

/// One column of an information_schema table.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IsColumn {
    /// NUL-terminated column name.
    pub name: *const c_char,
    /// `MINNOW_IS_TYPE_*`.
    pub column_type: u32,
    /// Display length.
    pub length: u32,
}

/// Row sink the host hands to a fill callback.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IsSink {
    /// Opaque host state.
    pub host: *mut c_void,
    /// Stores `value` in column `column` of the current row. 0 = success.
    pub store: Option<
        unsafe extern "C" fn(host: *mut c_void, column: u32, value: *const MinnowValue) -> c_int,
    >,
    /// Ends the current row. 0 = success.
    pub end_row: Option<unsafe extern "C" fn(host: *mut c_void) -> c_int>,
}

/// Fill callback of an information_schema table. 0 = success.
pub type IsFillFn = unsafe extern "C" fn(ctx: *mut c_void, sink: *const IsSink) -> c_int;

/// Information_schema table descriptor (the table is named after the plugin).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct InfoSchemaDescriptor {
    /// [`MINNOW_INFORMATION_SCHEMA_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// Number of columns.
    pub column_count: u32,
    /// Columns.
    pub columns: *const IsColumn,
    /// Fill callback.
    pub fill: Option<IsFillFn>,
}

/// What an authentication plugin is asked to check.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AuthInfo {
    /// User name the client sent.
    pub user: MinnowStr,
    /// Client host.
    pub host: MinnowStr,
    /// Stored authentication string of the account.
    pub auth_string: MinnowStr,
    /// Scramble (salt) sent to the client.
    pub scramble: *const u8,
    /// Scramble length.
    pub scramble_len: usize,
    /// Client's authentication response.
    pub response: *const u8,
    /// Response length.
    pub response_len: usize,
}

/// Authentication descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AuthDescriptor {
    /// [`MINNOW_AUTHENTICATION_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// NUL-terminated name of the client-side plugin (e.g. `mysql_native_password`).
    pub client_plugin: *const c_char,
    /// Checks the response: 0 = authenticated.
    pub authenticate:
        Option<unsafe extern "C" fn(ctx: *mut c_void, info: *const AuthInfo) -> c_int>,
    /// Turns a password into the stored authentication string: writes at most
    /// `*out_len` bytes to `out`, sets `*out_len` to the length. 0 = success.
    pub generate_auth_string: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            password: *const c_char,
            password_len: usize,
            out: *mut c_char,
            out_len: *mut usize,
        ) -> c_int,
    >,
}

/// Password validation descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PasswordValidationDescriptor {
    /// [`MINNOW_PASSWORD_VALIDATION_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// 0 = the password is acceptable.
    pub validate_password: Option<
        unsafe extern "C" fn(ctx: *mut c_void, password: *const c_char, len: usize) -> c_int,
    >,
    /// Strength 0..=100.
    pub password_strength: Option<
        unsafe extern "C" fn(ctx: *mut c_void, password: *const c_char, len: usize) -> c_uint,
    >,
}

/// Protocol stages (MySQL's `enum protocol_stage`).
pub mod stage {
    /// Connecting.
    pub const CONNECTING: u32 = 0;
    /// Waiting for the handshake (init) packet to be sent/received.
    pub const WAIT_FOR_INIT_PACKET: u32 = 1;
    /// Authenticating.
    pub const AUTHENTICATE: u32 = 2;
    /// SSL negotiation.
    pub const SSL_NEGOTIATION: u32 = 3;
    /// Ready for a command.
    pub const READY_FOR_COMMAND: u32 = 4;
    /// Waiting for a packet.
    pub const WAIT_FOR_PACKET: u32 = 5;
    /// Reading/writing a result.
    pub const WAIT_FOR_RESULT: u32 = 6;
    /// Field definitions.
    pub const WAIT_FOR_FIELD_DEF: u32 = 7;
    /// Rows.
    pub const WAIT_FOR_ROW: u32 = 8;
    /// LOAD DATA LOCAL file request.
    pub const FILE_REQUEST: u32 = 9;
    /// Prepared statement description.
    pub const WAIT_FOR_PS_DESCRIPTION: u32 = 10;
    /// Prepared statement parameter definitions.
    pub const WAIT_FOR_PARAM_DEF: u32 = 11;
    /// Prepared statement column definitions.
    pub const WAIT_FOR_COL_DEF: u32 = 12;
    /// Fetching a cursor row.
    pub const FETCH_ROW: u32 = 13;
    /// Disconnected.
    pub const DISCONNECTED: u32 = 14;
    /// Number of stages.
    pub const COUNT: u32 = 15;
}

/// Protocol trace events (MySQL's `enum trace_event`).
pub mod event {
    /// Connecting.
    pub const CONNECTING: u32 = 0;
    /// Connected.
    pub const CONNECTED: u32 = 1;
    /// Disconnected.
    pub const DISCONNECTED: u32 = 2;
    /// SSL request.
    pub const SEND_SSL_REQUEST: u32 = 3;
    /// SSL connect.
    pub const SSL_CONNECT: u32 = 4;
    /// SSL connected.
    pub const SSL_CONNECTED: u32 = 5;
    /// Handshake packet sent/received.
    pub const INIT_PACKET_RECEIVED: u32 = 6;
    /// Auth plugin chosen.
    pub const AUTH_PLUGIN: u32 = 7;
    /// Authentication response.
    pub const SEND_AUTH_RESPONSE: u32 = 8;
    /// Authentication data.
    pub const SEND_AUTH_DATA: u32 = 9;
    /// Authenticated.
    pub const AUTHENTICATED: u32 = 10;
    /// About to read a packet.
    pub const READ_PACKET: u32 = 11;
    /// A packet was received.
    pub const PACKET_RECEIVED: u32 = 12;
    /// A command was sent.
    pub const SEND_COMMAND: u32 = 13;
    /// A packet was sent.
    pub const PACKET_SENT: u32 = 14;
    /// An error.
    pub const ERROR: u32 = 15;
    /// Number of events.
    pub const COUNT: u32 = 16;
}

/// Protocol trace callback: `packet`/`len` are the payload (authentication packets
/// already masked by the host). Non-zero asks the host to drop the connection.
pub type TraceEventFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    connection_id: u64,
    stage: u32,
    event: u32,
    packet: *const u8,
    len: usize,
) -> c_int;

/// Protocol trace descriptor.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ProtocolTraceDescriptor {
    /// [`MINNOW_PROTOCOL_TRACE_INTERFACE_VERSION`].
    pub interface_version: u32,
    /// Reserved, zero.
    pub reserved: u32,
    /// Event callback.
    pub trace_event: Option<TraceEventFn>,
}

/// MySQL `enum Item_result`: string.
pub const STRING_RESULT: c_int = 0;
/// MySQL `enum Item_result`: real.
pub const REAL_RESULT: c_int = 1;
/// MySQL `enum Item_result`: integer.
pub const INT_RESULT: c_int = 2;
/// MySQL `enum Item_result`: row.
pub const ROW_RESULT: c_int = 3;
/// MySQL `enum Item_result`: decimal.
pub const DECIMAL_RESULT: c_int = 4;
/// Size of the `message` buffer handed to `xxx_init` (`MYSQL_ERRMSG_SIZE`).
pub const MYSQL_ERRMSG_SIZE: usize = 512;
/// Size of the `result` buffer handed to a string UDF.
pub const UDF_RESULT_BUFFER_SIZE: usize = 255;

/// MySQL's `UDF_ARGS`, byte for byte.
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct UDF_ARGS {
    /// Number of arguments.
    pub arg_count: c_uint,
    /// Type of each argument (`enum Item_result`).
    pub arg_type: *mut c_int,
    /// Value of each argument (NULL for SQL NULL or a non-constant at init).
    pub args: *mut *mut c_char,
    /// Length of each string argument.
    pub lengths: *mut c_ulong,
    /// Whether each argument may be NULL.
    pub maybe_null: *mut c_char,
    /// Attribute (expression text) of each argument.
    pub attributes: *mut *mut c_char,
    /// Length of each attribute.
    pub attribute_lengths: *mut c_ulong,
    /// Reserved.
    pub extension: *mut c_void,
}

/// MySQL's `UDF_INIT`, byte for byte.
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct UDF_INIT {
    /// The function may return NULL.
    pub maybe_null: bool,
    /// Decimals of a real result.
    pub decimals: c_uint,
    /// Maximum result length.
    pub max_length: c_ulong,
    /// Free pointer for the function's own state.
    pub ptr: *mut c_char,
    /// The function always returns the same value.
    pub const_item: bool,
    /// Reserved.
    pub extension: *mut c_void,
}

/// `my_bool xxx_init(UDF_INIT *, UDF_ARGS *, char *message)`: non-zero = failure.
pub type UdfInitFn = unsafe extern "C" fn(*mut UDF_INIT, *mut UDF_ARGS, *mut c_char) -> bool;
/// `void xxx_deinit(UDF_INIT *)`.
pub type UdfDeinitFn = unsafe extern "C" fn(*mut UDF_INIT);
/// String UDF: `char *xxx(UDF_INIT *, UDF_ARGS *, char *result, unsigned long *length, unsigned char *is_null, unsigned char *error)`.
pub type UdfStringFn = unsafe extern "C" fn(
    *mut UDF_INIT,
    *mut UDF_ARGS,
    *mut c_char,
    *mut c_ulong,
    *mut u8,
    *mut u8,
) -> *mut c_char;
/// Integer UDF: `long long xxx(UDF_INIT *, UDF_ARGS *, unsigned char *is_null, unsigned char *error)`.
pub type UdfIntFn = unsafe extern "C" fn(*mut UDF_INIT, *mut UDF_ARGS, *mut u8, *mut u8) -> i64;
/// Real UDF: `double xxx(UDF_INIT *, UDF_ARGS *, unsigned char *is_null, unsigned char *error)`.
pub type UdfRealFn = unsafe extern "C" fn(*mut UDF_INIT, *mut UDF_ARGS, *mut u8, *mut u8) -> f64;
/// Aggregate `void xxx_clear(UDF_INIT *, unsigned char *is_null, unsigned char *error)`.
pub type UdfClearFn = unsafe extern "C" fn(*mut UDF_INIT, *mut u8, *mut u8);
/// Aggregate `void xxx_add(UDF_INIT *, UDF_ARGS *, unsigned char *is_null, unsigned char *error)`.
pub type UdfAddFn = unsafe extern "C" fn(*mut UDF_INIT, *mut UDF_ARGS, *mut u8, *mut u8);
