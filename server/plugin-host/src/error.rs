//! Typed errors carrying the MySQL error code the server sends to the client.

use std::fmt;

/// An error of the plugin host. [`PluginError::code`] is the MySQL error number and
/// [`PluginError::sqlstate`] the SQLSTATE; `Display` is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// 1124: the library name has a path separator, `..`, is too long, or resolves
    /// outside `plugin_dir`.
    NoPaths {
        /// Library name as given.
        soname: String,
        /// Why it was refused.
        reason: String,
    },
    /// 1126: the library cannot be opened or is not a valid plugin library.
    CantOpenLibrary {
        /// Library name.
        soname: String,
        /// The OS error number (0 when the library opened but is not a valid plugin
        /// library, as MySQL reports it).
        errno: i32,
        /// The loader's (or validator's) reason.
        reason: String,
    },
    /// 1127: a required symbol (or a named plugin) is missing from the library.
    MissingSymbol {
        /// Library name.
        soname: String,
        /// Symbol or plugin name.
        symbol: String,
    },
    /// 1125: a plugin or function with this name already exists.
    Exists {
        /// The name.
        name: String,
    },
    /// 1305: no such plugin (`what` = `PLUGIN`) or function (`FUNCTION`).
    DoesNotExist {
        /// `PLUGIN` or `FUNCTION`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// 1702: the plugin was loaded FORCE_PLUS_PERMANENT.
    Permanent {
        /// Plugin name.
        name: String,
    },
    /// 1619: the plugin is compiled into the server.
    BuiltIn {
        /// Plugin name.
        name: String,
    },
    /// 1703: the plugin declares no-uninstall.
    NoUninstall {
        /// Plugin name.
        name: String,
    },
    /// 1721: the plugin declares no-install (startup only).
    NoInstall {
        /// Plugin name.
        name: String,
    },
    /// 1123: validate or init (of a plugin or a UDF) failed.
    InitFailed {
        /// Plugin or function name.
        name: String,
        /// Reason.
        reason: String,
    },
    /// 3164: an audit plugin vetoed the event.
    Vetoed {
        /// The plugin that refused.
        plugin: String,
        /// Event name (e.g. `MINNOW_AUDIT_CONNECTION_PRE_AUTHENTICATE`).
        event: &'static str,
        /// The plugin's return code.
        rc: i32,
    },
    /// 1105: a plugin panicked (it is now DISABLED).
    Panicked {
        /// Plugin name.
        plugin: String,
        /// The callback.
        during: &'static str,
    },
    /// 1524: the plugin exists but is not ACTIVE.
    NotLoaded {
        /// Plugin name.
        name: String,
    },
    /// 1193: unknown system variable.
    UnknownVariable {
        /// Variable name.
        name: String,
    },
    /// 1231: the value is not valid for the variable.
    WrongValue {
        /// Variable name.
        name: String,
        /// The value as text.
        value: String,
    },
    /// 1238: the variable is read-only.
    ReadOnly {
        /// Variable name.
        name: String,
    },
    /// 1819: a password validation plugin refused the password.
    PasswordRefused {
        /// The plugin that refused.
        plugin: String,
    },
    /// 1105: a plugin callback reported failure (fill, flush, trace, …).
    CallFailed {
        /// Plugin or function name.
        plugin: String,
        /// The callback.
        during: &'static str,
        /// Its return code or message.
        detail: String,
    },
    /// 1582/1583-style wrong UDF usage (argument count, aggregate misuse): 1105.
    Usage {
        /// Explanation.
        message: String,
    },
}

impl PluginError {
    /// The MySQL error number.
    pub fn code(&self) -> u16 {
        match self {
            PluginError::NoPaths { .. } => 1124,
            PluginError::CantOpenLibrary { .. } => 1126,
            PluginError::MissingSymbol { .. } => 1127,
            PluginError::Exists { .. } => 1125,
            PluginError::DoesNotExist { .. } => 1305,
            PluginError::Permanent { .. } => 1702,
            PluginError::BuiltIn { .. } => 1619,
            PluginError::NoUninstall { .. } => 1703,
            PluginError::NoInstall { .. } => 1721,
            PluginError::InitFailed { .. } => 1123,
            PluginError::Vetoed { .. } => 3164,
            PluginError::Panicked { .. } => 1105,
            PluginError::NotLoaded { .. } => 1524,
            PluginError::UnknownVariable { .. } => 1193,
            PluginError::WrongValue { .. } => 1231,
            PluginError::ReadOnly { .. } => 1238,
            PluginError::PasswordRefused { .. } => 1819,
            PluginError::CallFailed { .. } => 1105,
            PluginError::Usage { .. } => 1105,
        }
    }

    /// The SQLSTATE.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            PluginError::DoesNotExist { .. } | PluginError::WrongValue { .. } => "42000",
            _ => "HY000",
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::NoPaths { soname, reason } => {
                write!(
                    f,
                    "No paths allowed for shared library ('{soname}': {reason})"
                )
            }
            PluginError::CantOpenLibrary {
                soname,
                errno,
                reason,
            } => {
                write!(
                    f,
                    "Can't open shared library '{soname}' (errno: {errno} {reason})"
                )
            }
            PluginError::MissingSymbol { soname, symbol } => {
                write!(f, "Can't find symbol '{symbol}' in library '{soname}'")
            }
            PluginError::Exists { name } => write!(f, "Function '{name}' already exists"),
            PluginError::DoesNotExist { what, name } => write!(f, "{what} {name} does not exist"),
            PluginError::Permanent { name } => {
                write!(
                    f,
                    "Plugin '{name}' is force_plus_permanent and can not be unloaded"
                )
            }
            PluginError::BuiltIn { .. } => f.write_str("Built-in plugins cannot be deleted"),
            PluginError::NoUninstall { name } => write!(
                f,
                "Plugin '{name}' is marked as not dynamically uninstallable. You have to stop the server to uninstall it."
            ),
            PluginError::NoInstall { name } => write!(
                f,
                "Plugin '{name}' is marked as not dynamically installable. You have to stop the server to install it."
            ),
            PluginError::InitFailed { name, reason } => {
                write!(f, "Can't initialize function '{name}'; {reason}")
            }
            PluginError::Vetoed { plugin, event, rc } => {
                write!(
                    f,
                    "Aborted by Audit API ('{event}';{rc}) from plugin '{plugin}'."
                )
            }
            PluginError::Panicked { plugin, during } => {
                write!(
                    f,
                    "Plugin '{plugin}' panicked in {during} and has been disabled"
                )
            }
            PluginError::NotLoaded { name } => write!(f, "Plugin '{name}' is not loaded"),
            PluginError::UnknownVariable { name } => write!(f, "Unknown system variable '{name}'"),
            PluginError::WrongValue { name, value } => {
                write!(
                    f,
                    "Variable '{name}' can't be set to the value of '{value}'"
                )
            }
            PluginError::ReadOnly { name } => {
                write!(f, "Variable '{name}' is a read only variable")
            }
            PluginError::PasswordRefused { plugin } => write!(
                f,
                "Your password does not satisfy the current policy requirements (plugin '{plugin}')"
            ),
            PluginError::CallFailed {
                plugin,
                during,
                detail,
            } => {
                write!(f, "Plugin '{plugin}' failed in {during}: {detail}")
            }
            PluginError::Usage { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for PluginError {}

/// A warning produced by a successful operation (the server sends it with the OK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// MySQL warning number.
    pub code: u16,
    /// Message.
    pub message: String,
}
