//! `conn_ip_filter`: TiDB's connection-IP example as a Minnow audit plugin. At
//! pre-authenticate it refuses every client whose address does not match its
//! `allow` system variable (`conn_ip_filter_allow`): a comma-separated list of
//! addresses, prefixes ending in `%` (`192.168.%`) or `%` for everyone.
//! Status variables: `conn_ip_filter_accepted`, `conn_ip_filter_refused`.

#![forbid(unsafe_code)]

use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};

use minnow_plugin::abi::{
    MINNOW_AUDIT_CONNECTION_CLASSMASK, MINNOW_AUDIT_CONNECTION_PRE_AUTHENTICATE, MINNOW_VALUE_INT,
};
use minnow_plugin::{AuditEvent, AuditPlugin, Host, Plugin, Value, Veto, status_var, sysvar_str};

/// Parses an allow list; `Err` names the bad entry.
pub fn parse_allow(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (body, prefix) = match item.strip_suffix('%') {
            Some(b) => (b, true),
            None => (item, false),
        };
        // An exact entry must be an address (`5` or `10.1` would never match a
        // client and would silently lock everyone out); a prefix only its characters.
        let valid = if prefix {
            body.chars()
                .all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':')
        } else {
            body.parse::<std::net::IpAddr>().is_ok()
        };
        if !valid {
            return Err(format!("invalid address pattern '{item}'"));
        }
        out.push(item.to_string());
    }
    Ok(out)
}

/// True if `ip` matches one of the patterns.
pub fn allowed(patterns: &[String], ip: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('%') {
        Some(prefix) => ip.starts_with(prefix),
        None => p == ip,
    })
}

/// The plugin.
pub struct ConnIpFilter {
    host: Host,
    allow: RwLock<Vec<String>>,
    accepted: AtomicI64,
    refused: AtomicI64,
}

impl Plugin for ConnIpFilter {
    const NAME: &'static std::ffi::CStr = c"conn_ip_filter";
    const DESCRIPTION: &'static std::ffi::CStr =
        c"Refuses connections from addresses not in conn_ip_filter_allow";
    const STATUS_VARS: &'static [minnow_plugin::abi::StatusVarDecl] = &[
        status_var(c"accepted", MINNOW_VALUE_INT),
        status_var(c"refused", MINNOW_VALUE_INT),
    ];
    const SYSTEM_VARS: &'static [minnow_plugin::abi::SysVarDecl] = &[sysvar_str(
        c"allow",
        c"Comma-separated addresses or prefixes ending in % allowed to connect",
        c"127.0.0.1,::1",
    )];

    fn init(host: Host) -> Result<Self, String> {
        let list = host
            .sysvar("allow")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let allow = parse_allow(&list)?;
        Ok(ConnIpFilter {
            host,
            allow: RwLock::new(allow),
            accepted: AtomicI64::new(0),
            refused: AtomicI64::new(0),
        })
    }

    fn status(&self, index: usize) -> Value {
        match index {
            0 => Value::Int(self.accepted.load(Ordering::Relaxed)),
            1 => Value::Int(self.refused.load(Ordering::Relaxed)),
            _ => Value::Null,
        }
    }

    fn check_sysvar(&self, _index: usize, value: &Value) -> Result<(), String> {
        parse_allow(value.as_str().unwrap_or_default()).map(|_| ())
    }

    fn update_sysvar(&self, _index: usize, value: &Value) {
        if let Ok(list) = parse_allow(value.as_str().unwrap_or_default()) {
            *self.allow.write().unwrap_or_else(|p| p.into_inner()) = list;
        }
    }
}

impl AuditPlugin for ConnIpFilter {
    const CLASS_MASK: u32 = MINNOW_AUDIT_CONNECTION_CLASSMASK;

    fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto> {
        let AuditEvent::Connection(e) = event else {
            return Ok(());
        };
        if e.subclass() != MINNOW_AUDIT_CONNECTION_PRE_AUTHENTICATE {
            return Ok(());
        }
        let ok = allowed(
            &self.allow.read().unwrap_or_else(|p| p.into_inner()),
            &e.ip().to_str(),
        );
        if ok {
            self.accepted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            self.host.note(&format!(
                "conn_ip_filter: refused connection {} from '{}'",
                e.connection_id(),
                e.ip()
            ));
            Err(Veto)
        }
    }
}

minnow_plugin::declare_plugins!(audit ConnIpFilter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = parse_allow("127.0.0.1, 10.1.%").unwrap();
        assert!(allowed(&p, "127.0.0.1"));
        assert!(allowed(&p, "10.1.2.3"));
        assert!(!allowed(&p, "10.2.0.1"));
        assert!(!allowed(&p, "127.0.0.10"));
        assert!(allowed(&parse_allow("%").unwrap(), "8.8.8.8"));
        assert!(parse_allow("bad host").is_err());
        assert!(parse_allow("1.%.2").is_err());
        assert!(parse_allow("5").is_err());
        assert!(parse_allow("10.1").is_err());
        assert!(parse_allow("::1,fe80::%").is_ok());
    }
}
