//! Everything that touches raw memory of a plugin library: `dlopen`/`dlsym`/`dlclose`,
//! the size-aware copy of declarations, calls through the plugin's function
//! pointers, the services table handed to plugins, and UDF calls.
//!
//! Invariant that makes the calls sound: every function pointer and every pointer
//! into the library's data lives in a [`PluginCode`] or [`UdfCode`] together with an
//! `Arc<Library>`; the library stays mapped while that value exists.
#![allow(unsafe_code)]

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_ulong, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use minnow_plugin::Value;
use minnow_plugin::abi::*;

use crate::error::PluginError;
use crate::services::{HostServices, LogLevel};

/// Longest plugin name accepted (MySQL's `NAME_CHAR_LEN`).
pub(crate) const MAX_PLUGIN_NAME: usize = 64;
/// Most declarations read from one library.
const MAX_DECLS: usize = 256;
/// Largest declaration size accepted from a library.
const MAX_DECL_SIZE: usize = 4096;

/// An I/O error's text without Rust's ` (os error N)` suffix (the errno is shown
/// on its own in the 1126 message).
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(n) => text
            .strip_suffix(&format!(" (os error {n})"))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    }
}

fn dlerror_string() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated thread-local string that is
    // valid until the next dl* call on this thread; we copy it immediately.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            "unknown dynamic loader error".to_string()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

/// An open shared object. `dlclose` runs when the last `Arc<Library>` goes.
pub(crate) struct Library {
    handle: *mut c_void,
    /// Library name as given to INSTALL.
    pub(crate) soname: String,
    /// Canonical path that was opened.
    pub(crate) path: PathBuf,
    keep_alive: Mutex<Vec<Arc<dyn Any + Send + Sync>>>,
    host: Arc<dyn HostServices>,
}

// SAFETY: the dl handle may be used from any thread (dlsym/dlclose are thread-safe);
// the other fields are Send + Sync.
unsafe impl Send for Library {}
// SAFETY: see above.
unsafe impl Sync for Library {}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("soname", &self.soname)
            .field("path", &self.path)
            .finish()
    }
}

impl Library {
    /// `dlopen(path, RTLD_NOW | RTLD_LOCAL)`.
    pub(crate) fn open(
        path: &Path,
        soname: &str,
        host: Arc<dyn HostServices>,
    ) -> Result<Library, PluginError> {
        use std::os::unix::ffi::OsStrExt;
        let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| PluginError::NoPaths {
            soname: soname.to_string(),
            reason: "NUL byte in path".into(),
        })?;
        // SAFETY: errno is this thread's; cleared so the value read below is dlopen's.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: c is a valid NUL-terminated path. Opening runs the library's
        // constructors; that is the point of loading a plugin.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            return Err(PluginError::CantOpenLibrary {
                soname: soname.to_string(),
                errno,
                reason: dlerror_string(),
            });
        }
        host.modules_changed();
        Ok(Library {
            handle,
            soname: soname.to_string(),
            path: path.to_path_buf(),
            keep_alive: Mutex::new(Vec::new()),
            host,
        })
    }

    /// Address of `name`, if exported.
    pub(crate) fn symbol(&self, name: &str) -> Option<*mut c_void> {
        let c = CString::new(name).ok()?;
        // SAFETY: handle is a live dlopen handle; c is NUL-terminated.
        let p = unsafe { libc::dlsym(self.handle, c.as_ptr()) };
        (!p.is_null()).then_some(p)
    }

    /// Keeps `v` alive until after `dlclose` (services tables plugins may still hold).
    pub(crate) fn keep(&self, v: Arc<dyn Any + Send + Sync>) {
        if let Ok(mut k) = self.keep_alive.lock() {
            k.push(v);
        }
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: handle came from dlopen and is closed exactly once, when no
        // PluginCode/UdfCode (the only holders of pointers into it) remains.
        unsafe { libc::dlclose(self.handle) };
        self.host.modules_changed();
    }
}

/// Validates `soname` and resolves it inside `plugin_dir` (error 1124 / 1126).
pub(crate) fn resolve_library_path(
    plugin_dir: &Path,
    soname: &str,
) -> Result<PathBuf, PluginError> {
    let refuse = |reason: &str| PluginError::NoPaths {
        soname: soname.to_string(),
        reason: reason.to_string(),
    };
    if soname.is_empty() {
        return Err(refuse("empty library name"));
    }
    if soname.len() > 255 {
        return Err(refuse("library name longer than 255 bytes"));
    }
    if soname.contains('/') || soname.contains('\\') {
        return Err(refuse("library name contains a path separator"));
    }
    if soname.contains("..") {
        return Err(refuse("library name contains '..'"));
    }
    if soname.contains('\0') {
        return Err(refuse("library name contains a NUL byte"));
    }
    let dir = plugin_dir
        .canonicalize()
        .map_err(|e| PluginError::CantOpenLibrary {
            soname: soname.to_string(),
            errno: e.raw_os_error().unwrap_or(0),
            reason: format!("plugin_dir {}: {}", plugin_dir.display(), io_reason(&e)),
        })?;
    let candidate = dir.join(soname);
    let real = candidate
        .canonicalize()
        .map_err(|e| PluginError::CantOpenLibrary {
            soname: soname.to_string(),
            errno: e.raw_os_error().unwrap_or(0),
            reason: format!("{}: {}", candidate.display(), io_reason(&e)),
        })?;
    if !real.starts_with(&dir) {
        return Err(refuse(&format!(
            "{} resolves to {}, outside plugin_dir",
            candidate.display(),
            real.display()
        )));
    }
    Ok(real)
}

/// A column of an information_schema table provided by a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// `MINNOW_IS_TYPE_*`.
    pub column_type: u32,
    /// Display length.
    pub length: u32,
}

/// A system variable declared by a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct SysVarDef {
    /// Name without the plugin prefix.
    pub name: String,
    /// Description.
    pub comment: String,
    /// `MINNOW_VALUE_*`.
    pub value_type: u32,
    /// `MINNOW_SYSVAR_*` flags.
    pub flags: u32,
    /// Minimum of an integer variable.
    pub min: i64,
    /// Maximum of an integer variable.
    pub max: i64,
    /// Default value.
    pub default: Value,
}

/// Type-specific part of a declaration (copied out of the library).
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Daemon,
    Audit {
        class_mask: u32,
        notify: Option<AuditNotifyFn>,
    },
    InfoSchema {
        columns: Vec<ColumnDef>,
        fill: Option<IsFillFn>,
    },
    Auth {
        client_plugin: String,
        desc: AuthDescriptor,
    },
    PasswordValidation {
        desc: PasswordValidationDescriptor,
    },
    ProtocolTrace {
        trace: Option<TraceEventFn>,
    },
}

/// A declaration copied out of a library (strings owned, function pointers raw).
#[derive(Debug, Clone)]
pub(crate) struct LoadedDecl {
    pub(crate) name: String,
    pub(crate) author: String,
    pub(crate) description: String,
    pub(crate) license: u32,
    pub(crate) version: u32,
    pub(crate) flags: u32,
    pub(crate) plugin_type: u32,
    pub(crate) type_version: u32,
    pub(crate) kind: Kind,
    pub(crate) raw: PluginDecl,
    pub(crate) status_vars: Vec<(String, u32)>,
    pub(crate) sysvars: Vec<SysVarDef>,
}

/// # Safety
/// `p` must be NULL or a NUL-terminated string in mapped memory.
unsafe fn c_string(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Copies the declaration of a built-in plugin (compiled into this program).
pub(crate) fn read_builtin(b: &minnow_plugin::BuiltinDecl) -> Result<LoadedDecl, PluginError> {
    // BuiltinDecl can only be made by the SDK from a Rust plugin type: every pointer
    // in it points to 'static data of this program.
    convert_decl(b.decl(), "(built-in)")
}

/// Reads the three symbols of `lib` and copies its declarations size-aware.
pub(crate) fn read_declarations(lib: &Library) -> Result<Vec<LoadedDecl>, PluginError> {
    let soname = &lib.soname;
    let missing = |s: &str| PluginError::MissingSymbol {
        soname: soname.clone(),
        symbol: s.to_string(),
    };
    let bad = |r: String| PluginError::CantOpenLibrary {
        soname: soname.clone(),
        errno: 0,
        reason: r,
    };
    let ver_p = lib
        .symbol(SYM_INTERFACE_VERSION)
        .ok_or_else(|| missing(SYM_INTERFACE_VERSION))?;
    // SAFETY: the symbol is a `uint32_t` by the ABI; dlsym returned a non-null
    // address inside the mapped library. read_unaligned tolerates odd placement.
    let version = unsafe { std::ptr::read_unaligned(ver_p as *const u32) };
    if version & MINNOW_VERSION_MAJOR_MASK
        != MINNOW_PLUGIN_INTERFACE_VERSION & MINNOW_VERSION_MAJOR_MASK
    {
        return Err(bad(format!(
            "plugin interface version {}.{} is incompatible with the server's {}.{}",
            version >> 8,
            version & 0xff,
            MINNOW_PLUGIN_INTERFACE_VERSION >> 8,
            MINNOW_PLUGIN_INTERFACE_VERSION & 0xff
        )));
    }
    let size_p = lib
        .symbol(SYM_SIZEOF_DECL)
        .ok_or_else(|| missing(SYM_SIZEOF_DECL))?;
    // SAFETY: as above, a `uint32_t`.
    let size = unsafe { std::ptr::read_unaligned(size_p as *const u32) } as usize;
    if !(MINNOW_DECL_SIZE_V1_0..=MAX_DECL_SIZE).contains(&size) {
        return Err(bad(format!("declaration size {size} is out of range")));
    }
    let decls_p = lib
        .symbol(SYM_DECLARATIONS)
        .ok_or_else(|| missing(SYM_DECLARATIONS))? as *const u8;
    let copy = size.min(std::mem::size_of::<PluginDecl>());
    let mut out = Vec::new();
    for i in 0..MAX_DECLS {
        let mut d = PluginDecl::ZERO;
        // SAFETY: the library declares an array of `size`-byte entries terminated by an
        // all-zero one; entry i (i up to the terminator) is readable. We copy at most
        // size_of::<PluginDecl>() bytes into a zeroed PluginDecl, for which every bit
        // pattern copied from a well-formed C struct is valid (integers, raw pointers,
        // nullable function pointers).
        unsafe {
            std::ptr::copy_nonoverlapping(
                decls_p.add(i * size),
                &mut d as *mut PluginDecl as *mut u8,
                copy,
            );
        }
        if d.name.is_null() {
            return Ok(out);
        }
        out.push(convert_decl(&d, soname)?);
    }
    Err(bad(format!(
        "more than {MAX_DECLS} declarations (missing terminator?)"
    )))
}

fn convert_decl(d: &PluginDecl, soname: &str) -> Result<LoadedDecl, PluginError> {
    let bad = |r: String| PluginError::CantOpenLibrary {
        soname: soname.to_string(),
        errno: 0,
        reason: r,
    };
    // SAFETY: the declaration's string pointers point to NUL-terminated strings in the
    // mapped library (or are NULL).
    let (name, author, description) =
        unsafe { (c_string(d.name), c_string(d.author), c_string(d.descr)) };
    if name.is_empty()
        || name.len() > MAX_PLUGIN_NAME
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(bad(format!("invalid plugin name {name:?}")));
    }
    if d.info.is_null() {
        return Err(bad(format!("plugin '{name}' has no type descriptor")));
    }
    // SAFETY: the descriptor's first field is its `uint32_t` interface version.
    let type_version = unsafe { std::ptr::read_unaligned(d.info as *const u32) };
    let expect = match d.plugin_type {
        MINNOW_DAEMON_PLUGIN => MINNOW_DAEMON_INTERFACE_VERSION,
        MINNOW_AUDIT_PLUGIN => MINNOW_AUDIT_INTERFACE_VERSION,
        MINNOW_INFORMATION_SCHEMA_PLUGIN => MINNOW_INFORMATION_SCHEMA_INTERFACE_VERSION,
        MINNOW_AUTHENTICATION_PLUGIN => MINNOW_AUTHENTICATION_INTERFACE_VERSION,
        MINNOW_PASSWORD_VALIDATION_PLUGIN => MINNOW_PASSWORD_VALIDATION_INTERFACE_VERSION,
        MINNOW_PROTOCOL_TRACE_PLUGIN => MINNOW_PROTOCOL_TRACE_INTERFACE_VERSION,
        t => return Err(bad(format!("plugin '{name}' has unknown type {t}"))),
    };
    if type_version & MINNOW_VERSION_MAJOR_MASK != expect & MINNOW_VERSION_MAJOR_MASK {
        return Err(bad(format!(
            "plugin '{name}': type descriptor version {}.{} is incompatible with the server's {}.{}",
            type_version >> 8,
            type_version & 0xff,
            expect >> 8,
            expect & 0xff
        )));
    }
    // SAFETY: `info` points to the descriptor struct matching `plugin_type` (checked
    // above), in the mapped library; arrays have the declared counts; strings are
    // NUL-terminated.
    let kind = unsafe {
        match d.plugin_type {
            MINNOW_DAEMON_PLUGIN => Kind::Daemon,
            MINNOW_AUDIT_PLUGIN => {
                let a = std::ptr::read_unaligned(d.info as *const AuditDescriptor);
                Kind::Audit {
                    class_mask: a.class_mask,
                    notify: a.notify,
                }
            }
            MINNOW_INFORMATION_SCHEMA_PLUGIN => {
                let t = std::ptr::read_unaligned(d.info as *const InfoSchemaDescriptor);
                if t.columns.is_null() || t.column_count == 0 || t.column_count > 1024 {
                    return Err(bad(format!("plugin '{name}': invalid column list")));
                }
                let cols = std::slice::from_raw_parts(t.columns, t.column_count as usize);
                let columns = cols
                    .iter()
                    .map(|c| ColumnDef {
                        name: c_string(c.name),
                        column_type: c.column_type,
                        length: c.length,
                    })
                    .collect();
                Kind::InfoSchema {
                    columns,
                    fill: t.fill,
                }
            }
            MINNOW_AUTHENTICATION_PLUGIN => {
                let a = std::ptr::read_unaligned(d.info as *const AuthDescriptor);
                Kind::Auth {
                    client_plugin: c_string(a.client_plugin),
                    desc: a,
                }
            }
            MINNOW_PASSWORD_VALIDATION_PLUGIN => Kind::PasswordValidation {
                desc: std::ptr::read_unaligned(d.info as *const PasswordValidationDescriptor),
            },
            _ => {
                let t = std::ptr::read_unaligned(d.info as *const ProtocolTraceDescriptor);
                Kind::ProtocolTrace {
                    trace: t.trace_event,
                }
            }
        }
    };
    let mut status_vars = Vec::new();
    if d.status_var_count > 0 {
        if d.status_vars.is_null() || d.status_var_count > 1024 || d.show_status.is_none() {
            return Err(bad(format!("plugin '{name}': invalid status variables")));
        }
        // SAFETY: array of status_var_count entries in the library.
        let vars =
            unsafe { std::slice::from_raw_parts(d.status_vars, d.status_var_count as usize) };
        for v in vars {
            // SAFETY: NUL-terminated name in the library.
            status_vars.push((unsafe { c_string(v.name) }, v.value_type));
        }
    }
    let mut sysvars = Vec::new();
    if d.system_var_count > 0 {
        if d.system_vars.is_null() || d.system_var_count > 1024 {
            return Err(bad(format!("plugin '{name}': invalid system variables")));
        }
        // SAFETY: array of system_var_count entries in the library.
        let vars =
            unsafe { std::slice::from_raw_parts(d.system_vars, d.system_var_count as usize) };
        for v in vars {
            let default = match v.value_type {
                MINNOW_VALUE_INT => Value::Int(v.def_int),
                MINNOW_VALUE_BOOL => Value::Bool(v.def_int != 0),
                MINNOW_VALUE_REAL => Value::Real(v.def_real),
                // SAFETY: NUL-terminated default in the library (or NULL).
                MINNOW_VALUE_STRING => Value::Str(unsafe { c_string(v.def_str) }),
                t => {
                    return Err(bad(format!(
                        "plugin '{name}': system variable type {t} unknown"
                    )));
                }
            };
            sysvars.push(SysVarDef {
                // SAFETY: NUL-terminated strings in the library.
                name: unsafe { c_string(v.name) },
                // SAFETY: as above.
                comment: unsafe { c_string(v.comment) },
                value_type: v.value_type,
                flags: v.flags,
                min: v.min_int,
                max: v.max_int,
                default,
            });
        }
    }
    Ok(LoadedDecl {
        name,
        author,
        description,
        license: d.license,
        version: d.version,
        flags: d.flags,
        plugin_type: d.plugin_type,
        type_version,
        kind,
        raw: *d,
        status_vars,
        sysvars,
    })
}

// ---------------------------------------------------------------------------
// Services handed to plugins.

/// What a services `handle` points to.
pub(crate) struct PluginHandle {
    pub(crate) plugin: String,
    pub(crate) host: Arc<dyn HostServices>,
    pub(crate) sysvar_names: Vec<String>,
    pub(crate) sysvars: Mutex<Vec<Value>>,
    pub(crate) plugin_exists: Box<dyn Fn(&str) -> bool + Send + Sync>,
}

/// A services table plus the handle it points to; both stay at fixed addresses.
pub(crate) struct ServicesBox {
    pub(crate) handle: Arc<PluginHandle>,
    table: Box<Services>,
}

// SAFETY: the table only holds a pointer to the (Sync) handle and function pointers.
unsafe impl Send for ServicesBox {}
// SAFETY: see above; the table is never mutated after construction.
unsafe impl Sync for ServicesBox {}

impl ServicesBox {
    pub(crate) fn new(handle: Arc<PluginHandle>) -> ServicesBox {
        let table = Box::new(Services {
            interface_version: MINNOW_SERVICES_VERSION,
            reserved: 0,
            handle: Arc::as_ptr(&handle) as *mut c_void,
            log_error: Some(svc_log_error),
            dbug_enter: Some(svc_dbug_enter),
            dbug_return: Some(svc_dbug_return),
            dbug_print: Some(svc_dbug_print),
            dbug_execute_if: Some(svc_dbug_execute_if),
            session_connection_id: Some(svc_connection_id),
            session_user: Some(svc_user),
            session_host: Some(svc_host),
            session_query: Some(svc_query),
            data_dir: Some(svc_data_dir),
            sysvar_get: Some(svc_sysvar_get),
            plugin_exists: Some(svc_plugin_exists),
        });
        ServicesBox { handle, table }
    }

    fn ptr(&self) -> *const Services {
        &*self.table
    }
}

/// # Safety
/// `h` must be the `handle` of a live [`ServicesBox`].
unsafe fn handle<'a>(h: *mut c_void) -> Option<&'a PluginHandle> {
    // SAFETY: guaranteed by the caller (the host keeps ServicesBox alive as long as
    // the library is mapped, via Library::keep).
    unsafe { (h as *const PluginHandle).as_ref() }
}

/// # Safety
/// `p` must be NULL or a NUL-terminated string valid during the call.
unsafe fn arg_str<'a>(p: *const c_char) -> std::borrow::Cow<'a, str> {
    if p.is_null() {
        std::borrow::Cow::Borrowed("")
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { CStr::from_ptr(p) }.to_string_lossy()
    }
}

/// # Safety
/// `p` must be NULL or point to `len` readable bytes.
unsafe fn arg_bytes<'a>(p: *const c_char, len: usize) -> std::borrow::Cow<'a, str> {
    if p.is_null() {
        return std::borrow::Cow::Borrowed("");
    }
    // SAFETY: guaranteed by the caller.
    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(p as *const u8, len) })
}

unsafe extern "C" fn svc_log_error(h: *mut c_void, level: u32, msg: *const c_char, len: usize) {
    // SAFETY: plugin passes its own handle and a (msg, len) buffer (ABI contract).
    let (Some(h), msg) = (unsafe { handle(h) }, unsafe { arg_bytes(msg, len) }) else {
        return;
    };
    let level = match level {
        0 => LogLevel::Error,
        1 => LogLevel::Warning,
        _ => LogLevel::Note,
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        h.host.error_log(level, &h.plugin, &msg)
    }));
}

unsafe extern "C" fn svc_dbug_enter(
    h: *mut c_void,
    func: *const c_char,
    file: *const c_char,
    line: u32,
) {
    // SAFETY: ABI contract: own handle, NUL-terminated strings.
    let Some(h) = (unsafe { handle(h) }) else {
        return;
    };
    // SAFETY: as above.
    let (func, file) = unsafe { (arg_str(func), arg_str(file)) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        h.host.dbug_enter(&func, &file, line)
    }));
}

unsafe extern "C" fn svc_dbug_return(
    h: *mut c_void,
    func: *const c_char,
    file: *const c_char,
    line: u32,
) {
    // SAFETY: ABI contract: own handle, NUL-terminated strings.
    let Some(h) = (unsafe { handle(h) }) else {
        return;
    };
    // SAFETY: as above.
    let (func, file) = unsafe { (arg_str(func), arg_str(file)) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        h.host.dbug_return(&func, &file, line)
    }));
}

unsafe extern "C" fn svc_dbug_print(
    h: *mut c_void,
    func: *const c_char,
    file: *const c_char,
    line: u32,
    keyword: *const c_char,
    msg: *const c_char,
    len: usize,
) {
    // SAFETY: ABI contract: own handle, NUL-terminated strings, (msg, len) buffer.
    let Some(h) = (unsafe { handle(h) }) else {
        return;
    };
    // SAFETY: as above.
    let (func, file, kw, msg) = unsafe {
        (
            arg_str(func),
            arg_str(file),
            arg_str(keyword),
            arg_bytes(msg, len),
        )
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        h.host.dbug_print(&func, &file, line, &kw, &msg)
    }));
}

unsafe extern "C" fn svc_dbug_execute_if(h: *mut c_void, keyword: *const c_char) -> c_int {
    // SAFETY: ABI contract.
    let Some(h) = (unsafe { handle(h) }) else {
        return 0;
    };
    // SAFETY: NUL-terminated keyword.
    let kw = unsafe { arg_str(keyword) };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.host.dbug_keyword(&kw)))
        .unwrap_or(false) as c_int
}

unsafe extern "C" fn svc_connection_id(h: *mut c_void) -> u64 {
    // SAFETY: ABI contract.
    let Some(h) = (unsafe { handle(h) }) else {
        return 0;
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        h.host.session().map(|s| s.connection_id)
    }))
    .ok()
    .flatten()
    .unwrap_or(0)
}

/// Copies `s` into `(buf, cap)`; returns the full length (or `usize::MAX` for None).
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes.
unsafe fn copy_out(s: Option<String>, buf: *mut c_char, cap: usize) -> usize {
    let Some(s) = s else { return usize::MAX };
    let n = s.len().min(cap);
    if !buf.is_null() && n > 0 {
        // SAFETY: guaranteed by the caller; n <= cap.
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, n) };
    }
    s.len()
}

fn session_field(
    h: &PluginHandle,
    f: fn(crate::services::SessionInfo) -> String,
) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.host.session().map(f)))
        .ok()
        .flatten()
}

unsafe extern "C" fn svc_user(h: *mut c_void, buf: *mut c_char, cap: usize) -> usize {
    // SAFETY: ABI contract: own handle, (buf, cap) writable.
    unsafe {
        handle(h).map_or(usize::MAX, |h| {
            copy_out(session_field(h, |s| s.user), buf, cap)
        })
    }
}

unsafe extern "C" fn svc_host(h: *mut c_void, buf: *mut c_char, cap: usize) -> usize {
    // SAFETY: ABI contract: own handle, (buf, cap) writable.
    unsafe {
        handle(h).map_or(usize::MAX, |h| {
            copy_out(session_field(h, |s| s.host), buf, cap)
        })
    }
}

unsafe extern "C" fn svc_query(h: *mut c_void, buf: *mut c_char, cap: usize) -> usize {
    // SAFETY: ABI contract: own handle, (buf, cap) writable.
    unsafe {
        handle(h).map_or(usize::MAX, |h| {
            copy_out(session_field(h, |s| s.query), buf, cap)
        })
    }
}

unsafe extern "C" fn svc_data_dir(h: *mut c_void, buf: *mut c_char, cap: usize) -> usize {
    // SAFETY: ABI contract: own handle, (buf, cap) writable.
    unsafe {
        handle(h).map_or(usize::MAX, |h| {
            let d = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.host.data_dir()))
                .ok()
                .flatten();
            copy_out(d.map(|p| p.to_string_lossy().into_owned()), buf, cap)
        })
    }
}

thread_local! {
    static SYSVAR_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn svc_sysvar_get(
    h: *mut c_void,
    name: *const c_char,
    out: *mut MinnowValue,
) -> c_int {
    // SAFETY: ABI contract: own handle, NUL-terminated name, writable out.
    let (Some(h), Some(out)) = (unsafe { handle(h) }, unsafe { out.as_mut() }) else {
        return -1;
    };
    // SAFETY: as above.
    let name = unsafe { arg_str(name) };
    let Some(idx) = h
        .sysvar_names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(&name))
    else {
        return 1;
    };
    let Ok(vals) = h.sysvars.lock() else {
        return -1;
    };
    let v = vals.get(idx).cloned().unwrap_or(Value::Null);
    drop(vals);
    *out = MinnowValue {
        value_type: MINNOW_VALUE_NULL,
        reserved: 0,
        int_val: 0,
        real_val: 0.0,
        str: std::ptr::null_mut(),
        str_len: 0,
    };
    match v {
        Value::Null => {}
        Value::Int(i) => {
            out.value_type = MINNOW_VALUE_INT;
            out.int_val = i;
        }
        Value::Bool(b) => {
            out.value_type = MINNOW_VALUE_BOOL;
            out.int_val = i64::from(b);
        }
        Value::Real(r) => {
            out.value_type = MINNOW_VALUE_REAL;
            out.real_val = r;
        }
        Value::Str(_) | Value::Bytes(_) => {
            let s = v.as_bytes().unwrap_or_default();
            out.value_type = MINNOW_VALUE_STRING;
            SYSVAR_SCRATCH.with(|b| {
                let mut b = b.borrow_mut();
                b.clear();
                b.extend_from_slice(s);
                b.push(0);
                out.str = b.as_mut_ptr() as *mut c_char;
                out.str_len = s.len();
            });
        }
    }
    0
}

unsafe extern "C" fn svc_plugin_exists(h: *mut c_void, name: *const c_char) -> c_int {
    // SAFETY: ABI contract.
    let Some(h) = (unsafe { handle(h) }) else {
        return 0;
    };
    // SAFETY: NUL-terminated name.
    let name = unsafe { arg_str(name) };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (h.plugin_exists)(&name)))
        .unwrap_or(false) as c_int
}

// ---------------------------------------------------------------------------
// Calls into a plugin.

/// # Safety
/// A string value's `str` must be NULL or point to `str_len` readable bytes.
unsafe fn from_abi(v: &MinnowValue) -> Value {
    match v.value_type {
        MINNOW_VALUE_INT => Value::Int(v.int_val),
        MINNOW_VALUE_BOOL => Value::Bool(v.int_val != 0),
        MINNOW_VALUE_REAL => Value::Real(v.real_val),
        // SAFETY: guaranteed by the caller.
        MINNOW_VALUE_STRING => Value::Str(unsafe { arg_bytes(v.str, v.str_len) }.into_owned()),
        _ => Value::Null,
    }
}

/// An audit event in its C form, built once per event and handed to every plugin
/// in the chain (the strings it points to are borrowed from the host's event).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RawEvent<'a> {
    General(&'a AuditGeneralEvent),
    Connection(&'a AuditConnectionEvent),
}

/// The C form of a general-class event (borrows `e`'s strings).
pub(crate) fn general_c(e: &crate::GeneralEvent<'_>) -> AuditGeneralEvent {
    AuditGeneralEvent {
        event_subclass: e.subclass as u32,
        error_code: e.error_code,
        connection_id: e.connection_id,
        rows: e.rows,
        user: mstr(e.user),
        host: mstr(e.host),
        ip: mstr(e.ip),
        command: mstr(e.command),
        query: mstr(e.query),
    }
}

/// The C form of a connection-class event (borrows `e`'s strings).
pub(crate) fn connection_c(e: &crate::ConnectionEvent<'_>) -> AuditConnectionEvent {
    AuditConnectionEvent {
        event_subclass: e.subclass as u32,
        status: e.status,
        connection_id: e.connection_id,
        user: mstr(e.user),
        host: mstr(e.host),
        ip: mstr(e.ip),
        database: mstr(e.database),
    }
}

#[inline]
fn mstr(s: &str) -> MinnowStr {
    MinnowStr {
        str: s.as_ptr() as *const c_char,
        length: s.len(),
    }
}

/// The installed code of one plugin: its declaration and the library it lives in
/// (`None` for a built-in plugin compiled into the program).
pub(crate) struct PluginCode {
    pub(crate) decl: LoadedDecl,
    pub(crate) lib: Option<Arc<Library>>,
    services: Arc<ServicesBox>,
}

// SAFETY: raw pointers in `decl` point into the library, which is immutable code/data
// kept mapped by `lib`; calls are made from any thread by the ABI contract.
unsafe impl Send for PluginCode {}
// SAFETY: see above.
unsafe impl Sync for PluginCode {}

/// Handlers of the fatal signals, to detect a plugin that replaced them.
pub(crate) fn fatal_signal_handlers() -> [usize; 5] {
    let sigs = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGABRT,
    ];
    let mut out = [0usize; 5];
    for (o, s) in out.iter_mut().zip(sigs) {
        // SAFETY: sigaction with a NULL new action only reads the current handler into
        // a zeroed, properly sized struct.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(s, std::ptr::null(), &mut old) == 0 {
                *o = old.sa_sigaction;
            }
        }
    }
    out
}

/// Names of the signals in [`fatal_signal_handlers`] order.
pub(crate) const FATAL_SIGNAL_NAMES: [&str; 5] =
    ["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"];

impl PluginCode {
    /// Code of a plugin; its services table stays allocated as long as the library
    /// is mapped (plugins may keep a copy of the pointer in their threads), or
    /// forever for a built-in plugin.
    pub(crate) fn new(
        decl: LoadedDecl,
        lib: Option<Arc<Library>>,
        handle: Arc<PluginHandle>,
    ) -> PluginCode {
        let services = Arc::new(ServicesBox::new(handle));
        match &lib {
            Some(l) => l.keep(services.clone() as Arc<dyn Any + Send + Sync>),
            None => std::mem::forget(services.clone()),
        }
        PluginCode {
            decl,
            lib,
            services,
        }
    }

    /// An address inside the library (its plugin name string), for the crash handler.
    pub(crate) fn address(&self) -> usize {
        self.decl.raw.name as usize
    }

    /// Library file name (`None` for a built-in plugin).
    pub(crate) fn soname(&self) -> Option<&str> {
        self.lib.as_deref().map(|l| l.soname.as_str())
    }

    pub(crate) fn handle(&self) -> &PluginHandle {
        &self.services.handle
    }

    pub(crate) fn validate(&self) -> c_int {
        match self.decl.raw.validate {
            // SAFETY: library mapped (self.lib) or built in; services table valid (self.services).
            Some(f) => unsafe { f(self.services.ptr()) },
            None => 0,
        }
    }

    pub(crate) fn init(&self) -> Result<*mut c_void, c_int> {
        let Some(f) = self.decl.raw.init else {
            return Ok(std::ptr::null_mut());
        };
        let mut ctx: *mut c_void = std::ptr::null_mut();
        // SAFETY: library mapped; services table lives as long as the library (pinned
        // by the caller); ctx is a valid out-pointer.
        let rc = unsafe { f(self.services.ptr(), &mut ctx) };
        if rc == 0 { Ok(ctx) } else { Err(rc) }
    }

    pub(crate) fn deinit(&self, ctx: *mut c_void) -> c_int {
        match self.decl.raw.deinit {
            // SAFETY: library mapped; ctx is the value init produced, passed once.
            Some(f) => unsafe { f(ctx) },
            None => 0,
        }
    }

    pub(crate) fn flush(&self, ctx: *mut c_void) -> c_int {
        match self.decl.raw.flush {
            // SAFETY: library mapped; ctx from init, plugin not yet deinit'd (caller).
            Some(f) => unsafe { f(ctx) },
            None => 0,
        }
    }

    pub(crate) fn show_status(&self, ctx: *mut c_void, index: u32) -> Result<Value, c_int> {
        let Some(f) = self.decl.raw.show_status else {
            return Ok(Value::Null);
        };
        let mut buf = vec![0u8; MINNOW_STATUS_STR_MAX];
        let mut out = MinnowValue {
            value_type: MINNOW_VALUE_NULL,
            reserved: 0,
            int_val: 0,
            real_val: 0.0,
            str: buf.as_mut_ptr() as *mut c_char,
            str_len: buf.len(),
        };
        // SAFETY: library mapped; ctx from init; out.str points to str_len writable bytes.
        let rc = unsafe { f(ctx, index, &mut out) };
        if rc != 0 {
            return Err(rc);
        }
        if out.value_type == MINNOW_VALUE_STRING {
            let n = out.str_len.min(buf.len());
            return Ok(Value::Str(String::from_utf8_lossy(&buf[..n]).into_owned()));
        }
        // SAFETY: non-string values carry no pointer we read.
        Ok(unsafe { from_abi(&out) })
    }

    pub(crate) fn sysvar_check(&self, ctx: *mut c_void, index: u32, v: &Value) -> c_int {
        let Some(f) = self.decl.raw.sysvar_check else {
            return 0;
        };
        let a = v.to_abi();
        // SAFETY: library mapped; ctx from init; `a` borrows from `v`, valid during the call.
        unsafe { f(ctx, index, &a) }
    }

    pub(crate) fn sysvar_update(&self, ctx: *mut c_void, index: u32, v: &Value) {
        if let Some(f) = self.decl.raw.sysvar_update {
            let a = v.to_abi();
            // SAFETY: as in sysvar_check.
            unsafe { f(ctx, index, &a) }
        }
    }

    #[inline]
    pub(crate) fn notify(&self, ctx: *mut c_void, ev: RawEvent<'_>) -> c_int {
        let Kind::Audit {
            notify: Some(f), ..
        } = &self.decl.kind
        else {
            return 0;
        };
        let (class, event) = match ev {
            RawEvent::General(c) => (
                MINNOW_AUDIT_GENERAL_CLASS,
                c as *const AuditGeneralEvent as *const c_void,
            ),
            RawEvent::Connection(c) => (
                MINNOW_AUDIT_CONNECTION_CLASS,
                c as *const AuditConnectionEvent as *const c_void,
            ),
        };
        // SAFETY: library mapped (the entry holds it); ctx from init; the event
        // matches `class` and it and its strings (borrowed from the host's event by
        // the caller) are valid during the call.
        unsafe { f(ctx, class, event) }
    }

    pub(crate) fn fill(&self, ctx: *mut c_void) -> Result<Vec<Vec<Value>>, c_int> {
        let Kind::InfoSchema {
            columns,
            fill: Some(f),
        } = &self.decl.kind
        else {
            return Ok(Vec::new());
        };
        let mut state = FillState {
            ncols: columns.len(),
            row: vec![Value::Null; columns.len()],
            rows: Vec::new(),
        };
        let sink = IsSink {
            host: &mut state as *mut FillState as *mut c_void,
            store: Some(sink_store),
            end_row: Some(sink_end_row),
        };
        // SAFETY: library mapped; ctx from init; the sink and `state` outlive the call.
        let rc = unsafe { f(ctx, &sink) };
        if rc != 0 { Err(rc) } else { Ok(state.rows) }
    }

    pub(crate) fn authenticate(&self, ctx: *mut c_void, req: &crate::AuthRequest<'_>) -> c_int {
        let Kind::Auth { desc, .. } = &self.decl.kind else {
            return 1;
        };
        let Some(f) = desc.authenticate else { return 1 };
        let info = AuthInfo {
            user: mstr(req.user),
            host: mstr(req.host),
            auth_string: MinnowStr {
                str: req.auth_string.as_ptr() as *const c_char,
                length: req.auth_string.len(),
            },
            scramble: req.scramble.as_ptr(),
            scramble_len: req.scramble.len(),
            response: req.response.as_ptr(),
            response_len: req.response.len(),
        };
        // SAFETY: library mapped; ctx from init; info borrows from req during the call.
        unsafe { f(ctx, &info) }
    }

    pub(crate) fn generate_auth_string(
        &self,
        ctx: *mut c_void,
        password: &[u8],
    ) -> Result<Vec<u8>, c_int> {
        let Kind::Auth { desc, .. } = &self.decl.kind else {
            return Err(1);
        };
        let Some(f) = desc.generate_auth_string else {
            return Err(1);
        };
        let mut out = vec![0u8; 4096];
        let mut len = out.len();
        // SAFETY: library mapped; ctx from init; password readable; out has len bytes.
        let rc = unsafe {
            f(
                ctx,
                password.as_ptr() as *const c_char,
                password.len(),
                out.as_mut_ptr() as *mut c_char,
                &mut len,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        out.truncate(len.min(4096));
        Ok(out)
    }

    pub(crate) fn validate_password(&self, ctx: *mut c_void, password: &[u8]) -> c_int {
        let Kind::PasswordValidation { desc } = &self.decl.kind else {
            return 0;
        };
        match desc.validate_password {
            // SAFETY: library mapped; ctx from init; password readable during the call.
            Some(f) => unsafe { f(ctx, password.as_ptr() as *const c_char, password.len()) },
            None => 0,
        }
    }

    pub(crate) fn password_strength(&self, ctx: *mut c_void, password: &[u8]) -> u32 {
        let Kind::PasswordValidation { desc } = &self.decl.kind else {
            return 0;
        };
        match desc.password_strength {
            // SAFETY: as in validate_password.
            Some(f) => unsafe { f(ctx, password.as_ptr() as *const c_char, password.len()) },
            None => 0,
        }
    }

    pub(crate) fn trace(
        &self,
        ctx: *mut c_void,
        conn: u64,
        stage: u32,
        event: u32,
        packet: &[u8],
    ) -> c_int {
        let Kind::ProtocolTrace { trace: Some(f) } = &self.decl.kind else {
            return 0;
        };
        // SAFETY: library mapped; ctx from init; packet readable during the call.
        unsafe { f(ctx, conn, stage, event, packet.as_ptr(), packet.len()) }
    }
}

struct FillState {
    ncols: usize,
    row: Vec<Value>,
    rows: Vec<Vec<Value>>,
}

unsafe extern "C" fn sink_store(
    host: *mut c_void,
    column: u32,
    value: *const MinnowValue,
) -> c_int {
    // SAFETY: `host` is the FillState we passed; value is valid during the call.
    let (Some(st), Some(v)) = (unsafe { (host as *mut FillState).as_mut() }, unsafe {
        value.as_ref()
    }) else {
        return -1;
    };
    if column as usize >= st.ncols {
        return 1;
    }
    // SAFETY: the plugin's string is valid during the call (ABI contract).
    st.row[column as usize] = unsafe { from_abi(v) };
    0
}

unsafe extern "C" fn sink_end_row(host: *mut c_void) -> c_int {
    // SAFETY: `host` is the FillState we passed.
    let Some(st) = (unsafe { (host as *mut FillState).as_mut() }) else {
        return -1;
    };
    if st.rows.len() >= 1_000_000 {
        return 1;
    }
    let row = std::mem::replace(&mut st.row, vec![Value::Null; st.ncols]);
    st.rows.push(row);
    0
}

// ---------------------------------------------------------------------------
// UDFs (MySQL's UDF ABI).

/// Return type of a UDF (`RETURNS …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdfReturn {
    /// `RETURNS STRING`.
    String,
    /// `RETURNS INTEGER`.
    Integer,
    /// `RETURNS REAL`.
    Real,
    /// `RETURNS DECIMAL` (the function returns a string, as in MySQL).
    Decimal,
}

/// The symbols of one UDF.
pub(crate) struct UdfCode {
    /// Keeps the library mapped while the function pointers below are used.
    _lib: Arc<Library>,
    main: *mut c_void,
    init: Option<UdfInitFn>,
    deinit: Option<UdfDeinitFn>,
    clear: Option<UdfClearFn>,
    add: Option<UdfAddFn>,
    ret: UdfReturn,
}

// SAFETY: function pointers into the library kept mapped by `lib`.
unsafe impl Send for UdfCode {}
// SAFETY: see above.
unsafe impl Sync for UdfCode {}

impl UdfCode {
    /// Looks up `name`, `name_init`, `name_deinit` (and `name_clear`, `name_add` for aggregates).
    pub(crate) fn load(
        lib: Arc<Library>,
        name: &str,
        ret: UdfReturn,
        aggregate: bool,
    ) -> Result<UdfCode, PluginError> {
        let missing = |s: String| PluginError::MissingSymbol {
            soname: lib.soname.clone(),
            symbol: s,
        };
        let main = lib.symbol(name).ok_or_else(|| missing(name.to_string()))?;
        let sym = |suffix: &str| lib.symbol(&format!("{name}_{suffix}"));
        // The symbols are functions with MySQL's UDF signatures by the UDF ABI; a data
        // pointer from dlsym has the size of a function pointer on every platform
        // with dlsym.
        let init = sym("init").map(|p| {
            // SAFETY: `name_init` has the UdfInitFn signature (see above).
            unsafe { std::mem::transmute::<*mut c_void, UdfInitFn>(p) }
        });
        let deinit = sym("deinit").map(|p| {
            // SAFETY: `name_deinit` has the UdfDeinitFn signature (see above).
            unsafe { std::mem::transmute::<*mut c_void, UdfDeinitFn>(p) }
        });
        let (clear, add) = if aggregate {
            let c = sym("clear").ok_or_else(|| missing(format!("{name}_clear")))?;
            let a = sym("add").ok_or_else(|| missing(format!("{name}_add")))?;
            // SAFETY: see above.
            unsafe {
                (
                    Some(std::mem::transmute::<*mut c_void, UdfClearFn>(c)),
                    Some(std::mem::transmute::<*mut c_void, UdfAddFn>(a)),
                )
            }
        } else {
            (None, None)
        };
        if init.is_none() && deinit.is_none() && !aggregate {
            // MySQL requires at least one of name_init/name_deinit unless
            // --allow-suspicious-udfs; keep the same rule.
            return Err(missing(format!("{name}_init")));
        }
        Ok(UdfCode {
            _lib: lib,
            main,
            init,
            deinit,
            clear,
            add,
            ret,
        })
    }
}

impl UdfCode {
    /// Address of the main function (inside the library), for the crash handler.
    pub(crate) fn address(&self) -> usize {
        self.main as usize
    }
}

/// One prepared invocation of a UDF (`xxx_init` done, `xxx_deinit` on drop).
pub(crate) struct UdfInstance {
    code: Arc<UdfCode>,
    init: Box<UDF_INIT>,
    arg_type: Vec<c_int>,
    args: Vec<*mut c_char>,
    lengths: Vec<c_ulong>,
    maybe_null: Vec<c_char>,
    attributes: Vec<*mut c_char>,
    attribute_lengths: Vec<c_ulong>,
    attr_store: Vec<CString>,
    values: Vec<Vec<u64>>,
    result_buf: Vec<u8>,
    udf_args: Box<UDF_ARGS>,
    initialized: bool,
}

// SAFETY: the raw pointers point into buffers owned by this struct or into the
// library (kept mapped via `code`); an instance is used by one thread at a time.
unsafe impl Send for UdfInstance {}

/// Text of a string/binary value (lossy), for numeric conversion.
fn text_of(v: &Value) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(v.as_bytes().unwrap_or_default())
}

/// The longest prefix of `s` (after leading spaces) that reads as an integer
/// (`[+-]digits`), saturated to `i64`; 0 when there is none. MySQL's string to
/// integer conversion (`'12abc'` is 12, `'abc'` is 0, `'3.7'` is 3).
pub(crate) fn int_prefix(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
    }
    v
}

/// Length of the longest prefix of `t` that is a decimal number
/// (`[+-]digits[.digits]`, at least one digit), with `exponent` also
/// `e[+-]digits`; 0 when there is none.
fn number_prefix_len(t: &str, exponent: bool) -> usize {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        frac_digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if int_digits + frac_digits > 0 {
            i += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return 0;
    }
    if exponent && matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        j += usize::from(matches!(b.get(j), Some(b'+' | b'-')));
        let e = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if e > 0 {
            i = j + e;
        }
    }
    i
}

/// The longest prefix of `s` (after leading spaces) that reads as a floating-point
/// number; 0.0 when there is none (MySQL: `'2.5x'` is 2.5, `'x'` is 0).
pub(crate) fn real_prefix(s: &str) -> f64 {
    let t = s.trim_start();
    t[..number_prefix_len(t, true)].parse().unwrap_or(0.0)
}

/// The decimal text of `s` (its longest `[+-]digits[.digits]` prefix after leading
/// spaces); `"0"` when there is none.
pub(crate) fn decimal_prefix(s: &str) -> String {
    let t = s.trim_start();
    match number_prefix_len(t, false) {
        0 => "0".to_string(),
        n => t[..n].to_string(),
    }
}

/// A double as MySQL converts it to an integer: rounded to the nearest integer, ties
/// to even (`llrint`), saturated to `i64`.
fn real_to_int(r: f64) -> i64 {
    // `as` saturates (and maps NaN to 0).
    r.round_ties_even() as i64
}

/// The bytes `args->args[i]` points at for value `v` converted to `arg_type` (what
/// MySQL's `val_int`/`val_real`/`val_str`/`val_decimal` give): an 8-byte integer or
/// double for `INT_RESULT`/`REAL_RESULT`, text for `STRING_RESULT`/`DECIMAL_RESULT`.
/// `v` is not NULL (NULL is a null pointer).
fn coerce(v: &Value, arg_type: c_int) -> Vec<u8> {
    match arg_type {
        INT_RESULT => match v {
            Value::Int(x) => *x,
            Value::Bool(b) => i64::from(*b),
            Value::Real(r) => real_to_int(*r),
            Value::Str(_) | Value::Bytes(_) => int_prefix(&text_of(v)),
            Value::Null => 0,
        }
        .to_ne_bytes()
        .to_vec(),
        REAL_RESULT => match v {
            Value::Real(r) => *r,
            Value::Int(x) => *x as f64,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Str(_) | Value::Bytes(_) => real_prefix(&text_of(v)),
            Value::Null => 0.0,
        }
        .to_ne_bytes()
        .to_vec(),
        DECIMAL_RESULT => match v {
            Value::Str(_) | Value::Bytes(_) => decimal_prefix(&text_of(v)).into_bytes(),
            Value::Int(x) => x.to_string().into_bytes(),
            // Rust's `Display` of a double never uses an exponent: a decimal text.
            Value::Real(r) if r.is_finite() => r.to_string().into_bytes(),
            Value::Real(_) => b"0".to_vec(),
            Value::Bool(b) => i64::from(*b).to_string().into_bytes(),
            Value::Null => Vec::new(),
        },
        _ => match v {
            Value::Str(_) | Value::Bytes(_) => v.as_bytes().unwrap_or_default().to_vec(),
            Value::Int(x) => x.to_string().into_bytes(),
            Value::Real(r) => r.to_string().into_bytes(),
            Value::Bool(b) => i64::from(*b).to_string().into_bytes(),
            Value::Null => Vec::new(),
        },
    }
}

fn item_result(t: crate::UdfArgType) -> c_int {
    match t {
        crate::UdfArgType::Integer => INT_RESULT,
        crate::UdfArgType::Real => REAL_RESULT,
        crate::UdfArgType::Decimal => DECIMAL_RESULT,
        crate::UdfArgType::String => STRING_RESULT,
    }
}

impl UdfInstance {
    /// Runs `xxx_init` with the argument types of `sample` (constant arguments are
    /// passed with their values, as MySQL does for literals).
    pub(crate) fn prepare(
        code: Arc<UdfCode>,
        name: &str,
        sample: &[crate::UdfArg],
    ) -> Result<UdfInstance, PluginError> {
        let n = sample.len();
        let attr_store: Vec<CString> = sample
            .iter()
            .map(|a| CString::new(a.attribute.replace('\0', "")).unwrap_or_default())
            .collect();
        let mut me = UdfInstance {
            code,
            init: Box::new(UDF_INIT {
                maybe_null: true,
                decimals: 31,
                max_length: 0,
                ptr: std::ptr::null_mut(),
                const_item: false,
                extension: std::ptr::null_mut(),
            }),
            arg_type: sample.iter().map(|a| item_result(a.arg_type)).collect(),
            args: vec![std::ptr::null_mut(); n],
            lengths: vec![0; n],
            maybe_null: vec![1; n],
            attributes: Vec::new(),
            attribute_lengths: attr_store
                .iter()
                .map(|c| c.as_bytes().len() as c_ulong)
                .collect(),
            attr_store,
            values: vec![Vec::new(); n],
            result_buf: vec![0u8; UDF_RESULT_BUFFER_SIZE + 1],
            udf_args: Box::new(UDF_ARGS {
                arg_count: n as u32,
                arg_type: std::ptr::null_mut(),
                args: std::ptr::null_mut(),
                lengths: std::ptr::null_mut(),
                maybe_null: std::ptr::null_mut(),
                attributes: std::ptr::null_mut(),
                attribute_lengths: std::ptr::null_mut(),
                extension: std::ptr::null_mut(),
            }),
            initialized: false,
        };
        me.attributes = me
            .attr_store
            .iter()
            .map(|c| c.as_ptr() as *mut c_char)
            .collect();
        me.init.max_length = match me.code.ret {
            UdfReturn::Integer => 21,
            UdfReturn::Real | UdfReturn::Decimal => 17 + 31,
            UdfReturn::String => UDF_RESULT_BUFFER_SIZE as c_ulong,
        };
        // Constant arguments are visible at init time; others are NULL.
        let consts: Vec<Option<Value>> = sample.iter().map(|a| a.constant.clone()).collect();
        me.set_values(
            &consts
                .iter()
                .map(|c| c.clone().unwrap_or(Value::Null))
                .collect::<Vec<_>>(),
            Some(&consts),
        );
        if let Some(f) = me.code.init {
            let mut msg = vec![0u8; MYSQL_ERRMSG_SIZE];
            // SAFETY: library mapped via `code`; UDF_INIT/UDF_ARGS and their arrays are
            // owned by `me` and stay put (boxed/vec) during the call; msg has
            // MYSQL_ERRMSG_SIZE writable bytes as the ABI promises.
            let failed = unsafe {
                f(
                    &mut *me.init,
                    &mut *me.udf_args,
                    msg.as_mut_ptr() as *mut c_char,
                )
            };
            if failed {
                let end = msg.iter().position(|&b| b == 0).unwrap_or(msg.len());
                return Err(PluginError::InitFailed {
                    name: name.to_string(),
                    reason: String::from_utf8_lossy(&msg[..end]).into_owned(),
                });
            }
        }
        me.initialized = true;
        Ok(me)
    }

    /// Fills the argument arrays with `vals` (converted to the declared arg types).
    fn set_values(&mut self, vals: &[Value], only_consts: Option<&[Option<Value>]>) {
        for (i, v) in vals.iter().enumerate().take(self.args.len()) {
            let is_const = only_consts.is_none_or(|c| c.get(i).is_some_and(|x| x.is_some()));
            if !is_const || matches!(v, Value::Null) {
                self.args[i] = std::ptr::null_mut();
                self.lengths[i] = 0;
                continue;
            }
            let bytes = coerce(v, self.arg_type[i]);
            // 8-byte aligned storage (C code reads `*(long long *) args->args[i]`).
            let mut store = vec![0u64; bytes.len().div_ceil(8) + 1];
            let len = bytes.len();
            // SAFETY: `store` has at least len + 8 bytes; regions don't overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), store.as_mut_ptr() as *mut u8, len)
            };
            self.values[i] = store;
            self.args[i] = self.values[i].as_mut_ptr() as *mut c_char;
            self.lengths[i] = len as c_ulong;
        }
        let a = &mut *self.udf_args;
        a.arg_type = self.arg_type.as_mut_ptr();
        a.args = self.args.as_mut_ptr();
        a.lengths = self.lengths.as_mut_ptr();
        a.maybe_null = self.maybe_null.as_mut_ptr();
        a.attributes = self.attributes.as_mut_ptr();
        a.attribute_lengths = self.attribute_lengths.as_mut_ptr();
    }

    /// Calls the main function with `vals` (NULL when the UDF sets `is_null` or `error`).
    pub(crate) fn call(&mut self, vals: &[Value]) -> Result<Value, PluginError> {
        if vals.len() != self.args.len() {
            return Err(PluginError::Usage {
                message: format!(
                    "function expects {} arguments, got {}",
                    self.args.len(),
                    vals.len()
                ),
            });
        }
        self.set_values(vals, None);
        Ok(self.invoke())
    }

    /// Aggregate: the group's result (the main function after the adds).
    pub(crate) fn result(&mut self) -> Value {
        self.invoke()
    }

    fn invoke(&mut self) -> Value {
        let (mut is_null, mut error) = (0u8, 0u8);
        let v = match self.code.ret {
            UdfReturn::Integer => {
                // SAFETY: `main` is `long long name(UDF_INIT*, UDF_ARGS*, uchar*, uchar*)`
                // (declared RETURNS INTEGER); all pointers are to live owned buffers.
                let r = unsafe {
                    let f = std::mem::transmute::<*mut c_void, UdfIntFn>(self.code.main);
                    f(
                        &mut *self.init,
                        &mut *self.udf_args,
                        &mut is_null,
                        &mut error,
                    )
                };
                Value::Int(r)
            }
            UdfReturn::Real => {
                // SAFETY: as above with a double result (RETURNS REAL).
                let r = unsafe {
                    let f = std::mem::transmute::<*mut c_void, UdfRealFn>(self.code.main);
                    f(
                        &mut *self.init,
                        &mut *self.udf_args,
                        &mut is_null,
                        &mut error,
                    )
                };
                Value::Real(r)
            }
            UdfReturn::String | UdfReturn::Decimal => {
                let mut len: c_ulong = 0;
                // SAFETY: `char *name(UDF_INIT*, UDF_ARGS*, char *result, ulong *length,
                // uchar*, uchar*)`; result has UDF_RESULT_BUFFER_SIZE writable bytes. The
                // returned pointer is the result buffer or memory the UDF owns (e.g.
                // initid->ptr), valid until the next call; we copy `len` bytes now.
                let s = unsafe {
                    let f = std::mem::transmute::<*mut c_void, UdfStringFn>(self.code.main);
                    let p = f(
                        &mut *self.init,
                        &mut *self.udf_args,
                        self.result_buf.as_mut_ptr() as *mut c_char,
                        &mut len,
                        &mut is_null,
                        &mut error,
                    );
                    if p.is_null() {
                        None
                    } else {
                        Some(std::slice::from_raw_parts(p as *const u8, len as usize).to_vec())
                    }
                };
                match s {
                    Some(b) => match String::from_utf8(b) {
                        Ok(s) => Value::Str(s),
                        Err(e) => Value::Bytes(e.into_bytes()),
                    },
                    None => Value::Null,
                }
            }
        };
        if is_null != 0 || error != 0 {
            Value::Null
        } else {
            v
        }
    }

    /// Aggregate: `xxx_clear`.
    pub(crate) fn clear(&mut self) -> Result<(), PluginError> {
        let Some(f) = self.code.clear else {
            return Err(PluginError::Usage {
                message: "not an aggregate function".into(),
            });
        };
        let (mut is_null, mut error) = (0u8, 0u8);
        // SAFETY: `void name_clear(UDF_INIT*, uchar*, uchar*)`; owned buffers.
        unsafe { f(&mut *self.init, &mut is_null, &mut error) };
        Ok(())
    }

    /// Aggregate: `xxx_add` with one row's arguments.
    pub(crate) fn add(&mut self, vals: &[Value]) -> Result<(), PluginError> {
        let Some(f) = self.code.add else {
            return Err(PluginError::Usage {
                message: "not an aggregate function".into(),
            });
        };
        if vals.len() != self.args.len() {
            return Err(PluginError::Usage {
                message: format!(
                    "function expects {} arguments, got {}",
                    self.args.len(),
                    vals.len()
                ),
            });
        }
        self.set_values(vals, None);
        let (mut is_null, mut error) = (0u8, 0u8);
        // SAFETY: `void name_add(UDF_INIT*, UDF_ARGS*, uchar*, uchar*)`; owned buffers.
        unsafe {
            f(
                &mut *self.init,
                &mut *self.udf_args,
                &mut is_null,
                &mut error,
            )
        };
        Ok(())
    }
}

impl Drop for UdfInstance {
    fn drop(&mut self) {
        if !self.initialized {
            return;
        }
        if let Some(f) = self.code.deinit {
            // SAFETY: `void name_deinit(UDF_INIT*)`, called once after a successful init.
            unsafe { f(&mut *self.init) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_style_conversions() {
        assert_eq!(int_prefix(" 12abc"), 12);
        assert_eq!(int_prefix("-3.7"), -3);
        assert_eq!(int_prefix("abc"), 0);
        assert_eq!(int_prefix("99999999999999999999"), i64::MAX);
        assert_eq!(real_prefix("2.5e2x"), 250.0);
        assert_eq!(real_prefix(".5"), 0.5);
        assert_eq!(real_prefix("e5"), 0.0);
        assert_eq!(decimal_prefix("-3.5kg"), "-3.5");
        assert_eq!(decimal_prefix("kg"), "0");
        assert_eq!(real_to_int(2.5), 2);
        assert_eq!(real_to_int(3.5), 4);
        assert_eq!(real_to_int(-2.75), -3);
        assert_eq!(
            coerce(&Value::Real(1e20), DECIMAL_RESULT),
            b"100000000000000000000"
        );
        assert_eq!(
            coerce(&Value::Str("7x".into()), INT_RESULT),
            7i64.to_ne_bytes()
        );
    }
}
