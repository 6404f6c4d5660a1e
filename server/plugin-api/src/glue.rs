//! Trampolines between the C ABI and the safe traits (used by [`crate::declare_plugins!`]).
//!
//! Every `extern "C"` function here wraps the plugin's code in `catch_unwind`, so no
//! panic ever unwinds into the host; a caught panic is written to the host's error
//! log and returned as [`MINNOW_PLUGIN_PANICKED`].
#![allow(unsafe_code)]

use std::any::Any;
use std::borrow::Cow;
use std::ffi::{c_char, c_int, c_uint, c_void};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::abi::*;
use crate::host::{Host, value_from_abi};
use crate::{
    AuditEvent, AuditPlugin, AuthPlugin, AuthRequest, ConnectionEvent, DaemonPlugin, GeneralEvent,
    InfoSchemaPlugin, PasswordValidationPlugin, Plugin, ProtocolTracePlugin, RowSink, Text,
    TraceEvent, Value,
};

/// The exported declaration array (`N` entries including the zero terminator).
#[repr(transparent)]
pub struct Declarations<const N: usize>(pub [PluginDecl; N]);

// SAFETY: the array is immutable static data; its raw pointers point to other
// immutable statics (names, descriptors) and are only read.
unsafe impl<const N: usize> Sync for Declarations<N> {}

/// The per-plugin state behind the host's `ctx` pointer.
struct Instance<T> {
    host: Host,
    plugin: T,
}

/// Associated consts holding each plugin type's descriptor and declaration.
pub struct Glue<T>(PhantomData<T>);

fn panic_message(payload: &(dyn Any + Send)) -> Cow<'_, str> {
    if let Some(s) = payload.downcast_ref::<&str>() {
        Cow::Borrowed(s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        Cow::Borrowed(s.as_str())
    } else {
        Cow::Borrowed("(non-string panic payload)")
    }
}

fn report_panic<T: Plugin>(host: Host, what: &str, payload: &(dyn Any + Send)) {
    let name = T::NAME.to_string_lossy();
    host.error(&format!(
        "Plugin '{name}' panicked in {what}: {}",
        panic_message(payload)
    ));
}

/// Runs `f` on the plugin behind `ctx`, catching panics.
///
/// # Safety
/// `ctx` must be a pointer produced by [`init`] for the same `T` and not yet passed to
/// [`deinit`].
unsafe fn with_plugin<T: Plugin>(
    ctx: *mut c_void,
    what: &str,
    f: impl FnOnce(&T) -> c_int,
) -> c_int {
    if ctx.is_null() {
        return -1;
    }
    // SAFETY: guaranteed by the caller: ctx came from Box::into_raw(Box<Instance<T>>)
    // in `init` and stays valid until `deinit`; only shared references are made.
    let inst = unsafe { &*(ctx as *const Instance<T>) };
    match catch_unwind(AssertUnwindSafe(|| f(&inst.plugin))) {
        Ok(rc) => rc,
        Err(payload) => {
            report_panic::<T>(inst.host, what, payload.as_ref());
            MINNOW_PLUGIN_PANICKED
        }
    }
}

/// Borrowed view of a `minnow_str`.
///
/// # Safety
/// `s.str` must be NULL or point to `s.length` readable bytes valid for `'a`.
unsafe fn str_of<'a>(s: MinnowStr) -> Cow<'a, str> {
    if s.str.is_null() {
        return Cow::Borrowed("");
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { std::slice::from_raw_parts(s.str as *const u8, s.length) };
    // Valid UTF-8 (the usual case) is borrowed after the fast check; only invalid
    // input pays for the lossy chunk walk.
    match std::str::from_utf8(bytes) {
        Ok(v) => Cow::Borrowed(v),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Borrowed, undecoded view of a `minnow_str` (audit events: the plugin decodes
/// only the strings it reads).
///
/// # Safety
/// `s.str` must be NULL or point to `s.length` readable bytes valid for `'a`.
#[inline]
unsafe fn text_of<'a>(s: MinnowStr) -> Text<'a> {
    // SAFETY: guaranteed by the caller.
    Text::new(unsafe { bytes_of(s.str as *const u8, s.length) })
}

/// # Safety
/// `p` must be NULL or point to `len` readable bytes valid for `'a`.
#[inline]
unsafe fn bytes_of<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if p.is_null() {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(p, len) }
}

unsafe extern "C" fn init<T: Plugin>(services: *const Services, ctx: *mut *mut c_void) -> c_int {
    if services.is_null() || ctx.is_null() {
        return -1;
    }
    // SAFETY: the host passes a services table valid until deinit (and beyond, while
    // the library is loaded).
    let host = unsafe { Host::from_raw(services) };
    match catch_unwind(AssertUnwindSafe(|| T::init(host))) {
        Ok(Ok(plugin)) => {
            let raw = Box::into_raw(Box::new(Instance { host, plugin }));
            // SAFETY: ctx is a valid out-pointer provided by the host (checked non-null).
            unsafe { *ctx = raw.cast() };
            0
        }
        Ok(Err(msg)) => {
            host.error(&format!(
                "Plugin '{}' init failed: {msg}",
                T::NAME.to_string_lossy()
            ));
            1
        }
        Err(payload) => {
            report_panic::<T>(host, "init", payload.as_ref());
            MINNOW_PLUGIN_PANICKED
        }
    }
}

unsafe extern "C" fn deinit<T: Plugin>(ctx: *mut c_void) -> c_int {
    if ctx.is_null() {
        return 0;
    }
    // SAFETY: ctx came from Box::into_raw in `init`; the host calls deinit once and
    // never uses ctx afterwards, so taking ownership back is sound.
    let inst = unsafe { Box::from_raw(ctx as *mut Instance<T>) };
    let host = inst.host;
    match catch_unwind(AssertUnwindSafe(move || drop(inst))) {
        Ok(()) => 0,
        Err(payload) => {
            report_panic::<T>(host, "deinit", payload.as_ref());
            MINNOW_PLUGIN_PANICKED
        }
    }
}

unsafe extern "C" fn validate<T: Plugin>(services: *const Services) -> c_int {
    if services.is_null() {
        return -1;
    }
    // SAFETY: the host passes a services table valid during the call.
    let host = unsafe { Host::from_raw(services) };
    match catch_unwind(AssertUnwindSafe(|| T::validate(host))) {
        Ok(Ok(())) => 0,
        Ok(Err(msg)) => {
            host.error(&format!(
                "Plugin '{}' validation failed: {msg}",
                T::NAME.to_string_lossy()
            ));
            1
        }
        Err(payload) => {
            report_panic::<T>(host, "validate", payload.as_ref());
            MINNOW_PLUGIN_PANICKED
        }
    }
}

unsafe extern "C" fn flush<T: Plugin>(ctx: *mut c_void) -> c_int {
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "flush", |p| match p.flush() {
            Ok(()) => 0,
            Err(_) => 1,
        })
    }
}

unsafe extern "C" fn show_status<T: Plugin>(
    ctx: *mut c_void,
    index: u32,
    out: *mut MinnowValue,
) -> c_int {
    if out.is_null() {
        return -1;
    }
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "show_status", |p| {
            let v = p.status(index as usize);
            // SAFETY: `out` is non-null and, per the ABI, its `str` points to a host
            // buffer of `str_len` writable bytes.
            let o = &mut *out;
            write_value_out(&v, o);
            0
        })
    }
}

/// Writes `v` into a host-provided `show_status` output value.
///
/// # Safety
/// `o.str` must be NULL or point to `o.str_len` writable bytes.
unsafe fn write_value_out(v: &Value, o: &mut MinnowValue) {
    match v {
        Value::Null => o.value_type = MINNOW_VALUE_NULL,
        Value::Int(i) => {
            o.value_type = MINNOW_VALUE_INT;
            o.int_val = *i;
        }
        Value::Bool(b) => {
            o.value_type = MINNOW_VALUE_BOOL;
            o.int_val = i64::from(*b);
        }
        Value::Real(r) => {
            o.value_type = MINNOW_VALUE_REAL;
            o.real_val = *r;
        }
        Value::Str(_) | Value::Bytes(_) => {
            let s = v.as_bytes().unwrap_or_default();
            o.value_type = MINNOW_VALUE_STRING;
            let n = if o.str.is_null() {
                0
            } else {
                s.len().min(o.str_len)
            };
            if n > 0 {
                // SAFETY: the caller guarantees `o.str_len` writable bytes at `o.str`;
                // n <= o.str_len and the source has at least n bytes.
                unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), o.str as *mut u8, n) };
            }
            o.str_len = n;
        }
    }
}

/// The declared name of `T`'s system variable `index` (empty if out of range).
fn sysvar_name<T: Plugin>(index: usize) -> Cow<'static, str> {
    match T::SYSTEM_VARS.get(index) {
        // SAFETY: declared names come from `&'static CStr`s (`sysvar_*` constructors).
        Some(d) if !d.name.is_null() => {
            unsafe { std::ffi::CStr::from_ptr(d.name) }.to_string_lossy()
        }
        _ => Cow::Borrowed(""),
    }
}

unsafe extern "C" fn sysvar_check<T: Plugin>(
    ctx: *mut c_void,
    index: u32,
    value: *const MinnowValue,
) -> c_int {
    if value.is_null() {
        return -1;
    }
    // SAFETY: value is non-null and valid during the call (host contract).
    let v = unsafe { value_from_abi(&*value) };
    // SAFETY: ctx is the pointer from `init` (host contract).
    if ctx.is_null() {
        return -1;
    }
    // SAFETY: ctx is the pointer from `init` (host contract): a live
    // `Box<Instance<T>>` until `deinit`; only a shared reference is made.
    let host = unsafe { (*(ctx as *const Instance<T>)).host };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "sysvar_check", |p| {
            match p.check_sysvar(index as usize, &v) {
                Ok(()) => 0,
                Err(why) => {
                    // The client gets 1231 with the value; the reason goes to the log.
                    let name = sysvar_name::<T>(index as usize);
                    host.note(&format!("value refused for variable '{name}': {why}"));
                    1
                }
            }
        })
    }
}

unsafe extern "C" fn sysvar_update<T: Plugin>(
    ctx: *mut c_void,
    index: u32,
    value: *const MinnowValue,
) {
    if value.is_null() {
        return;
    }
    // SAFETY: value is non-null and valid during the call (host contract).
    let v = unsafe { value_from_abi(&*value) };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "sysvar_update", |p| {
            p.update_sysvar(index as usize, &v);
            0
        });
    }
}

unsafe extern "C" fn audit_notify<T: AuditPlugin>(
    ctx: *mut c_void,
    class: u32,
    event: *const c_void,
) -> c_int {
    if event.is_null() {
        return -1;
    }
    let ev = match class {
        // SAFETY: for the general class the host passes a valid AuditGeneralEvent
        // whose strings live during the call.
        MINNOW_AUDIT_GENERAL_CLASS => AuditEvent::General(unsafe {
            GeneralEvent::from_raw(&*(event as *const AuditGeneralEvent))
        }),
        // SAFETY: for the connection class the host passes a valid
        // AuditConnectionEvent whose strings live during the call.
        MINNOW_AUDIT_CONNECTION_CLASS => AuditEvent::Connection(unsafe {
            ConnectionEvent::from_raw(&*(event as *const AuditConnectionEvent))
        }),
        _ => return 0,
    };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "notify", |p| match p.notify(&ev) {
            Ok(()) => 0,
            Err(_) => 1,
        })
    }
}

unsafe extern "C" fn is_fill<T: InfoSchemaPlugin>(ctx: *mut c_void, sink: *const IsSink) -> c_int {
    if sink.is_null() {
        return -1;
    }
    // SAFETY: the host's sink is valid during the call.
    let sink = unsafe { &*sink };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "fill", |p| {
            let mut rows = RowSink {
                sink,
                failed: false,
            };
            match p.fill(&mut rows) {
                Ok(()) if !rows.failed => 0,
                _ => 1,
            }
        })
    }
}

impl RowSink<'_> {
    /// Adds one row (one value per column, in column order).
    pub fn row(&mut self, values: &[Value]) -> Result<(), String> {
        let (Some(store), Some(end_row)) = (self.sink.store, self.sink.end_row) else {
            self.failed = true;
            return Err("host sink has no callbacks".into());
        };
        for (i, v) in values.iter().enumerate() {
            let abi = v.to_abi();
            // SAFETY: store is the host's callback; `abi` (and the string it borrows
            // from `v`) is valid during the call; the host only reads it.
            let rc = unsafe { store(self.sink.host, i as u32, &abi) };
            if rc != 0 {
                self.failed = true;
                return Err(format!("host refused column {i}"));
            }
        }
        // SAFETY: host callback with its own opaque pointer.
        if unsafe { end_row(self.sink.host) } != 0 {
            self.failed = true;
            return Err("host refused the row".into());
        }
        Ok(())
    }
}

unsafe extern "C" fn auth_authenticate<T: AuthPlugin>(
    ctx: *mut c_void,
    info: *const AuthInfo,
) -> c_int {
    if info.is_null() {
        return -1;
    }
    // SAFETY: the host passes a valid AuthInfo whose buffers live during the call.
    let i = unsafe { &*info };
    // SAFETY: buffers valid during the call (host contract).
    let req = unsafe {
        AuthRequest {
            user: str_of(i.user),
            host: str_of(i.host),
            auth_string: bytes_of(i.auth_string.str as *const u8, i.auth_string.length),
            scramble: bytes_of(i.scramble, i.scramble_len),
            response: bytes_of(i.response, i.response_len),
        }
    };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "authenticate", |p| {
            if p.authenticate(&req) { 0 } else { 1 }
        })
    }
}

unsafe extern "C" fn auth_generate<T: AuthPlugin>(
    ctx: *mut c_void,
    password: *const c_char,
    password_len: usize,
    out: *mut c_char,
    out_len: *mut usize,
) -> c_int {
    if out.is_null() || out_len.is_null() {
        return -1;
    }
    // SAFETY: password buffer valid during the call (host contract).
    let pw = unsafe { bytes_of(password as *const u8, password_len) };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "generate_auth_string", |p| {
            match p.generate_auth_string(pw) {
                Ok(s) => {
                    // SAFETY: out_len is a valid in/out pointer; out has *out_len bytes.
                    let cap = *out_len;
                    if s.len() > cap {
                        return 1;
                    }
                    std::ptr::copy_nonoverlapping(s.as_ptr(), out as *mut u8, s.len());
                    *out_len = s.len();
                    0
                }
                Err(_) => 1,
            }
        })
    }
}

unsafe extern "C" fn pv_validate<T: PasswordValidationPlugin>(
    ctx: *mut c_void,
    pw: *const c_char,
    len: usize,
) -> c_int {
    // SAFETY: password buffer valid during the call (host contract).
    let pw = unsafe { bytes_of(pw as *const u8, len) };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(ctx, "validate_password", |p| {
            match p.validate_password(pw) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        })
    }
}

unsafe extern "C" fn pv_strength<T: PasswordValidationPlugin>(
    ctx: *mut c_void,
    pw: *const c_char,
    len: usize,
) -> c_uint {
    // SAFETY: password buffer valid during the call (host contract).
    let pw = unsafe { bytes_of(pw as *const u8, len) };
    // SAFETY: ctx is the pointer from `init` (host contract).
    let rc = unsafe {
        with_plugin::<T>(ctx, "password_strength", |p| {
            p.strength(pw).min(100) as c_int
        })
    };
    rc.max(0) as c_uint
}

unsafe extern "C" fn trace_event<T: ProtocolTracePlugin>(
    ctx: *mut c_void,
    connection_id: u64,
    stage: u32,
    event: u32,
    packet: *const u8,
    len: usize,
) -> c_int {
    // SAFETY: packet buffer valid during the call (host contract).
    let packet = unsafe { bytes_of(packet, len) };
    let ev = TraceEvent {
        connection_id,
        stage,
        event,
        packet,
    };
    // SAFETY: ctx is the pointer from `init` (host contract).
    unsafe {
        with_plugin::<T>(
            ctx,
            "trace_event",
            |p| if p.trace(&ev).is_ok() { 0 } else { 1 },
        )
    }
}

impl<T: Plugin> Glue<T> {
    const fn base(plugin_type: u32, info: *const c_void) -> PluginDecl {
        PluginDecl {
            plugin_type,
            flags: T::FLAGS,
            info,
            name: T::NAME.as_ptr(),
            author: T::AUTHOR.as_ptr(),
            descr: T::DESCRIPTION.as_ptr(),
            license: T::LICENSE.to_abi(),
            version: T::VERSION,
            init: Some(init::<T>),
            deinit: Some(deinit::<T>),
            validate: Some(validate::<T>),
            status_vars: T::STATUS_VARS.as_ptr(),
            status_var_count: T::STATUS_VARS.len() as u32,
            system_var_count: T::SYSTEM_VARS.len() as u32,
            show_status: Some(show_status::<T>),
            system_vars: T::SYSTEM_VARS.as_ptr(),
            sysvar_check: Some(sysvar_check::<T>),
            sysvar_update: Some(sysvar_update::<T>),
            flush: Some(flush::<T>),
        }
    }
}

impl<T: DaemonPlugin> Glue<T> {
    const DAEMON_INFO: &'static DaemonDescriptor = &DaemonDescriptor {
        interface_version: MINNOW_DAEMON_INTERFACE_VERSION,
    };
    /// Declaration of a daemon plugin.
    pub const DAEMON_DECL: PluginDecl = Self::base(
        MINNOW_DAEMON_PLUGIN,
        Self::DAEMON_INFO as *const DaemonDescriptor as *const c_void,
    );
}

impl<T: AuditPlugin> Glue<T> {
    const AUDIT_INFO: &'static AuditDescriptor = &AuditDescriptor {
        interface_version: MINNOW_AUDIT_INTERFACE_VERSION,
        class_mask: T::CLASS_MASK,
        notify: Some(audit_notify::<T>),
    };
    /// Declaration of an audit plugin.
    pub const AUDIT_DECL: PluginDecl = Self::base(
        MINNOW_AUDIT_PLUGIN,
        Self::AUDIT_INFO as *const AuditDescriptor as *const c_void,
    );
}

impl<T: InfoSchemaPlugin> Glue<T> {
    const IS_INFO: &'static InfoSchemaDescriptor = &InfoSchemaDescriptor {
        interface_version: MINNOW_INFORMATION_SCHEMA_INTERFACE_VERSION,
        column_count: T::COLUMNS.len() as u32,
        columns: T::COLUMNS.as_ptr(),
        fill: Some(is_fill::<T>),
    };
    /// Declaration of an information_schema plugin.
    pub const IS_DECL: PluginDecl = Self::base(
        MINNOW_INFORMATION_SCHEMA_PLUGIN,
        Self::IS_INFO as *const InfoSchemaDescriptor as *const c_void,
    );
}

impl<T: AuthPlugin> Glue<T> {
    const AUTH_INFO: &'static AuthDescriptor = &AuthDescriptor {
        interface_version: MINNOW_AUTHENTICATION_INTERFACE_VERSION,
        reserved: 0,
        client_plugin: T::CLIENT_PLUGIN.as_ptr(),
        authenticate: Some(auth_authenticate::<T>),
        generate_auth_string: Some(auth_generate::<T>),
    };
    /// Declaration of an authentication plugin.
    pub const AUTH_DECL: PluginDecl = Self::base(
        MINNOW_AUTHENTICATION_PLUGIN,
        Self::AUTH_INFO as *const AuthDescriptor as *const c_void,
    );
}

impl<T: PasswordValidationPlugin> Glue<T> {
    const PV_INFO: &'static PasswordValidationDescriptor = &PasswordValidationDescriptor {
        interface_version: MINNOW_PASSWORD_VALIDATION_INTERFACE_VERSION,
        reserved: 0,
        validate_password: Some(pv_validate::<T>),
        password_strength: Some(pv_strength::<T>),
    };
    /// Declaration of a password validation plugin.
    pub const PV_DECL: PluginDecl = Self::base(
        MINNOW_PASSWORD_VALIDATION_PLUGIN,
        Self::PV_INFO as *const PasswordValidationDescriptor as *const c_void,
    );
}

impl<T: ProtocolTracePlugin> Glue<T> {
    const TRACE_INFO: &'static ProtocolTraceDescriptor = &ProtocolTraceDescriptor {
        interface_version: MINNOW_PROTOCOL_TRACE_INTERFACE_VERSION,
        reserved: 0,
        trace_event: Some(trace_event::<T>),
    };
    /// Declaration of a protocol trace plugin.
    pub const TRACE_DECL: PluginDecl = Self::base(
        MINNOW_PROTOCOL_TRACE_PLUGIN,
        Self::TRACE_INFO as *const ProtocolTraceDescriptor as *const c_void,
    );
}

/// The string accessors of an audit event view: each reads one `minnow_str` of the
/// host's struct as a [`Text`].
macro_rules! text_accessors {
    ($view:ident { $($(#[$doc:meta])* $field:ident),* $(,)? }) => {
        impl<'a> $view<'a> {
            $(
                $(#[$doc])*
                pub fn $field(&self) -> Text<'a> {
                    // SAFETY: the strings of the host's event are valid for 'a (the
                    // contract of `from_raw`, the only constructor).
                    unsafe { text_of(self.raw.$field) }
                }
            )*
        }
    };
}

impl<'a> GeneralEvent<'a> {
    /// A view of the host's event `raw`.
    ///
    /// # Safety
    /// Every string of `raw` must be NULL or point to `length` readable bytes that
    /// stay valid and unchanged for `'a` (the host guarantees this for the event it
    /// passes to `notify`, during the call).
    pub unsafe fn from_raw(raw: &'a AuditGeneralEvent) -> Self {
        GeneralEvent { raw }
    }
}

text_accessors!(GeneralEvent {
    /// User.
    user,
    /// Client host.
    host,
    /// Client IP address.
    ip,
    /// Command name (`Query`, …).
    command,
    /// Statement text.
    query,
});

impl<'a> ConnectionEvent<'a> {
    /// A view of the host's event `raw`.
    ///
    /// # Safety
    /// As for [`GeneralEvent::from_raw`].
    pub unsafe fn from_raw(raw: &'a AuditConnectionEvent) -> Self {
        ConnectionEvent { raw }
    }
}

text_accessors!(ConnectionEvent {
    /// User (empty at pre-authenticate).
    user,
    /// Client host.
    host,
    /// Client IP address.
    ip,
    /// Current database.
    database,
});
