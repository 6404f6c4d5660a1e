//! [`Host`]: the safe view of the services table the host hands to a plugin.
#![allow(unsafe_code)]

use std::ffi::{CString, c_char, c_void};
use std::path::PathBuf;

use crate::Value;
use crate::abi::*;

/// Services of the host (error log, DBUG, session accessors, own system variables).
///
/// Cheap to copy; valid for the whole life of the plugin (the host keeps the table
/// alive while the library is loaded). Stop any thread that uses it in the plugin's
/// `Drop`.
#[derive(Clone, Copy, Debug)]
pub struct Host {
    svc: *const Services,
}

// SAFETY: the services table is immutable and every service is thread-safe by the
// ABI contract (the host implements them with its own synchronisation).
unsafe impl Send for Host {}
// SAFETY: see above.
unsafe impl Sync for Host {}

/// A DBUG frame: `DBUG_RETURN` runs when it is dropped (see [`Host::dbug_frame`]).
#[derive(Debug)]
pub struct DbugFrame {
    host: Host,
    func: &'static str,
    file: &'static str,
    line: u32,
}

impl DbugFrame {
    /// `DBUG_PRINT(keyword, (msg))` inside this frame.
    pub fn print(&self, keyword: &str, msg: &str) {
        self.host
            .dbug_print(self.func, self.file, self.line, keyword, msg);
    }
}

impl Drop for DbugFrame {
    fn drop(&mut self) {
        self.host.dbug_return(self.func, self.file, self.line);
    }
}

/// Severity of an error-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `[ERROR]`.
    Error = 0,
    /// `[Warning]`.
    Warning = 1,
    /// `[Note]`.
    Note = 2,
}

/// Reads an ABI value.
///
/// # Safety
/// For a string value, `v.str` must be NULL or point to `v.str_len` readable bytes.
pub(crate) unsafe fn value_from_abi(v: &MinnowValue) -> Value {
    match v.value_type {
        MINNOW_VALUE_INT => Value::Int(v.int_val),
        MINNOW_VALUE_BOOL => Value::Bool(v.int_val != 0),
        MINNOW_VALUE_REAL => Value::Real(v.real_val),
        MINNOW_VALUE_STRING => {
            if v.str.is_null() {
                Value::Str(String::new())
            } else {
                // SAFETY: guaranteed by the caller.
                let b = unsafe { std::slice::from_raw_parts(v.str as *const u8, v.str_len) };
                Value::Str(String::from_utf8_lossy(b).into_owned())
            }
        }
        _ => Value::Null,
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

type StrFn = unsafe extern "C" fn(*mut c_void, *mut c_char, usize) -> usize;

impl Host {
    /// Wraps a services pointer.
    ///
    /// # Safety
    /// `svc` must point to a valid services table that outlives every copy of the
    /// returned `Host`.
    pub(crate) unsafe fn from_raw(svc: *const Services) -> Host {
        Host { svc }
    }

    fn services(&self) -> &Services {
        // SAFETY: from_raw's contract: the table is valid for the life of every Host.
        unsafe { &*self.svc }
    }

    /// Writes a line to the server's error log.
    pub fn log(&self, level: LogLevel, msg: &str) {
        let s = self.services();
        if let Some(f) = s.log_error {
            // SAFETY: host callback; msg is valid for msg.len() bytes during the call.
            unsafe {
                f(
                    s.handle,
                    level as u32,
                    msg.as_ptr() as *const c_char,
                    msg.len(),
                )
            }
        }
    }

    /// Error-log line at `[ERROR]` level.
    pub fn error(&self, msg: &str) {
        self.log(LogLevel::Error, msg);
    }

    /// Error-log line at `[Note]` level.
    pub fn note(&self, msg: &str) {
        self.log(LogLevel::Note, msg);
    }

    /// `DBUG_ENTER(func)` at `file:line`.
    pub fn dbug_enter(&self, func: &str, file: &str, line: u32) {
        let s = self.services();
        if let Some(f) = s.dbug_enter {
            let (func, file) = (cstring(func), cstring(file));
            // SAFETY: host callback with NUL-terminated strings valid during the call.
            unsafe { f(s.handle, func.as_ptr(), file.as_ptr(), line) }
        }
    }

    /// `DBUG_RETURN` of `func` at `file:line`.
    pub fn dbug_return(&self, func: &str, file: &str, line: u32) {
        let s = self.services();
        if let Some(f) = s.dbug_return {
            let (func, file) = (cstring(func), cstring(file));
            // SAFETY: host callback with NUL-terminated strings valid during the call.
            unsafe { f(s.handle, func.as_ptr(), file.as_ptr(), line) }
        }
    }

    /// `DBUG_ENTER` now and `DBUG_RETURN` when the returned guard is dropped:
    /// `let _f = host.dbug_frame("my_fill", file!(), line!());`
    pub fn dbug_frame(&self, func: &'static str, file: &'static str, line: u32) -> DbugFrame {
        self.dbug_enter(func, file, line);
        DbugFrame {
            host: *self,
            func,
            file,
            line,
        }
    }

    /// `DBUG_PRINT(keyword, (msg))` in `func` at `file:line`.
    pub fn dbug_print(&self, func: &str, file: &str, line: u32, keyword: &str, msg: &str) {
        let s = self.services();
        if let Some(f) = s.dbug_print {
            let (func, file, kw) = (cstring(func), cstring(file), cstring(keyword));
            // SAFETY: host callback; strings valid during the call.
            unsafe {
                f(
                    s.handle,
                    func.as_ptr(),
                    file.as_ptr(),
                    line,
                    kw.as_ptr(),
                    msg.as_ptr() as *const c_char,
                    msg.len(),
                )
            }
        }
    }

    /// `DBUG_EXECUTE_IF(keyword)`: true when the keyword is set.
    pub fn dbug_execute_if(&self, keyword: &str) -> bool {
        let s = self.services();
        match s.dbug_execute_if {
            Some(f) => {
                let kw = cstring(keyword);
                // SAFETY: host callback with a NUL-terminated string.
                unsafe { f(s.handle, kw.as_ptr()) != 0 }
            }
            None => false,
        }
    }

    /// Connection id of the session on this thread.
    pub fn connection_id(&self) -> Option<u64> {
        let s = self.services();
        let f = s.session_connection_id?;
        // SAFETY: host callback.
        let id = unsafe { f(s.handle) };
        (id != 0).then_some(id)
    }

    fn string_service(&self, f: Option<StrFn>) -> Option<String> {
        let f = f?;
        let handle = self.services().handle;
        let mut buf = vec![0u8; 256];
        loop {
            // SAFETY: host callback writing at most buf.len() bytes into buf.
            let n = unsafe { f(handle, buf.as_mut_ptr() as *mut c_char, buf.len()) };
            if n == usize::MAX {
                return None;
            }
            if n <= buf.len() {
                buf.truncate(n);
                return Some(String::from_utf8_lossy(&buf).into_owned());
            }
            if n > (64 << 20) {
                return None;
            }
            buf.resize(n, 0);
        }
    }

    /// User of the session on this thread.
    pub fn user(&self) -> Option<String> {
        self.string_service(self.services().session_user)
    }

    /// Client host of the session on this thread.
    pub fn client_host(&self) -> Option<String> {
        self.string_service(self.services().session_host)
    }

    /// Current query of the session on this thread.
    pub fn query(&self) -> Option<String> {
        self.string_service(self.services().session_query)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.string_service(self.services().data_dir)
            .map(PathBuf::from)
    }

    /// Current value of this plugin's system variable `name` (without prefix).
    pub fn sysvar(&self, name: &str) -> Option<Value> {
        let s = self.services();
        let f = s.sysvar_get?;
        let n = cstring(name);
        let mut out = Value::Null.to_abi();
        // SAFETY: host callback filling `out`; strings in it stay valid until the next
        // call on this thread, and we copy them right away.
        unsafe {
            if f(s.handle, n.as_ptr(), &mut out) != 0 {
                return None;
            }
            Some(value_from_abi(&out))
        }
    }

    /// True if a plugin called `name` is installed.
    pub fn plugin_exists(&self, name: &str) -> bool {
        let s = self.services();
        match s.plugin_exists {
            Some(f) => {
                let n = cstring(name);
                // SAFETY: host callback with a NUL-terminated string.
                unsafe { f(s.handle, n.as_ptr()) != 0 }
            }
            None => false,
        }
    }
}
