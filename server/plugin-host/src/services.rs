//! [`HostServices`]: what the server supplies to the plugin host (error log, DBUG,
//! session information). The host crate has no dependency on the server.

use std::path::PathBuf;

/// Severity of an error-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `[ERROR]`.
    Error,
    /// `[Warning]`.
    Warning,
    /// `[Note]`.
    Note,
}

/// The session running on the calling thread, as plugins see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// Connection id.
    pub connection_id: u64,
    /// User name.
    pub user: String,
    /// Client host.
    pub host: String,
    /// Current statement text.
    pub query: String,
}

/// Implemented by the server. Every method may be called from any thread, including
/// from inside a plugin callback; implementations must not call back into the
/// registry while holding their own locks.
pub trait HostServices: Send + Sync + 'static {
    /// Writes a line to the error log on behalf of `plugin` (empty for the host itself).
    fn error_log(&self, level: LogLevel, plugin: &str, message: &str);
    /// DBUG_ENTER from a plugin.
    fn dbug_enter(&self, _func: &str, _file: &str, _line: u32) {}
    /// DBUG_RETURN from a plugin.
    fn dbug_return(&self, _func: &str, _file: &str, _line: u32) {}
    /// DBUG_PRINT from a plugin.
    fn dbug_print(&self, _func: &str, _file: &str, _line: u32, _keyword: &str, _message: &str) {}
    /// DBUG_EXECUTE_IF: true when `keyword` is set in the current debug control string.
    fn dbug_keyword(&self, _keyword: &str) -> bool {
        false
    }
    /// The session on the calling thread, if any.
    fn session(&self) -> Option<SessionInfo> {
        None
    }
    /// The data directory.
    fn data_dir(&self) -> Option<PathBuf> {
        None
    }
    /// A library was loaded (`dlopen`) or unloaded (`dlclose`): refresh the crash
    /// handler's module map (`stackresolve::crash::refresh_module_map`).
    fn modules_changed(&self) {}
    /// Plugin or UDF `name` from `library` is about to be initialised; `addr` lies
    /// inside the library's mapping (for `stackresolve::crash::register_plugin_at`,
    /// so that a crash, even in init, names the plugin). Not called for built-ins.
    fn plugin_loaded(&self, _name: &str, _library: &str, _addr: usize) {}
    /// Plugin or UDF `name` is gone (deinit done; its library may be closed next):
    /// `stackresolve::crash::unregister_plugin`.
    fn plugin_unloaded(&self, _name: &str) {}
}
