//! Startup options: `--plugin-load[-add]=name=lib.so;lib2.so` and
//! `--plugin-NAME=OFF|ON|FORCE|FORCE_PLUS_PERMANENT`.

use std::fmt;
use std::str::FromStr;

use crate::PluginError;

/// How a plugin is loaded at startup (`--plugin-NAME=…`; `LOAD_OPTION` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadOption {
    /// Registered but not initialised (state INACTIVE).
    Off,
    /// Initialised; a failure is logged and the server goes on.
    #[default]
    On,
    /// A failure stops the server.
    Force,
    /// Like FORCE, and the plugin cannot be uninstalled (error 1702).
    ForcePlusPermanent,
}

impl LoadOption {
    /// The name as MySQL prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            LoadOption::Off => "OFF",
            LoadOption::On => "ON",
            LoadOption::Force => "FORCE",
            LoadOption::ForcePlusPermanent => "FORCE_PLUS_PERMANENT",
        }
    }
}

impl fmt::Display for LoadOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LoadOption {
    type Err = PluginError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "OFF" | "0" | "FALSE" => Ok(LoadOption::Off),
            "ON" | "1" | "TRUE" => Ok(LoadOption::On),
            "FORCE" => Ok(LoadOption::Force),
            "FORCE_PLUS_PERMANENT" => Ok(LoadOption::ForcePlusPermanent),
            _ => Err(PluginError::WrongValue {
                name: "plugin load option".into(),
                value: s.to_string(),
            }),
        }
    }
}

/// One element of a `--plugin-load` list: a named plugin or a whole library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadRequest {
    /// Plugin name (`None`: every plugin of the library).
    pub name: Option<String>,
    /// Library file name inside `plugin_dir`.
    pub soname: String,
    /// Load option.
    pub option: LoadOption,
}

/// Parses `name=lib.so;lib2.so;other=lib3.so` (MySQL's `--plugin-load` syntax).
///
/// Empty elements are skipped; an element with an empty name or library is an error.
pub fn parse_plugin_load(spec: &str) -> Result<Vec<LoadRequest>, PluginError> {
    let mut out = Vec::new();
    for item in spec.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, soname) = match item.split_once('=') {
            Some((n, s)) => (Some(n.trim().to_string()), s.trim().to_string()),
            None => (None, item.to_string()),
        };
        if name.as_deref() == Some("") || soname.is_empty() {
            return Err(PluginError::WrongValue {
                name: "plugin_load".into(),
                value: item.to_string(),
            });
        }
        out.push(LoadRequest {
            name,
            soname,
            option: LoadOption::On,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_load_syntax() {
        let r = parse_plugin_load("audit_null=libaudit_null.so; libis_example.so;;").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name.as_deref(), Some("audit_null"));
        assert_eq!(r[0].soname, "libaudit_null.so");
        assert_eq!(r[1].name, None);
        assert_eq!(r[1].soname, "libis_example.so");
        assert!(parse_plugin_load("=lib.so").is_err());
        assert!(parse_plugin_load("x=").is_err());
    }

    #[test]
    fn load_option_names() {
        assert_eq!(
            "force_plus_permanent".parse::<LoadOption>().unwrap(),
            LoadOption::ForcePlusPermanent
        );
        assert_eq!("OFF".parse::<LoadOption>().unwrap(), LoadOption::Off);
        assert_eq!("on".parse::<LoadOption>().unwrap().to_string(), "ON");
        assert_eq!("maybe".parse::<LoadOption>().unwrap_err().code(), 1231);
    }
}
