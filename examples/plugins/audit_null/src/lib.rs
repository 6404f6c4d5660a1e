//! `audit_null`: counts every audit event class and subclass in status variables,
//! like MySQL's NULL_AUDIT plugin. Status variables (`SHOW STATUS LIKE 'audit_null%'`):
//! `audit_null_called`, one per general subclass and one per connection subclass.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicI64, Ordering};

use minnow_plugin::abi::{
    MINNOW_AUDIT_CONNECTION_CLASSMASK, MINNOW_AUDIT_GENERAL_CLASSMASK, MINNOW_VALUE_INT,
};
use minnow_plugin::{AuditEvent, AuditPlugin, Host, Plugin, Value, Veto, status_var};

/// Number of counters: `called`, six general subclasses, four connection subclasses.
const COUNTERS: usize = 11;

/// The plugin: one atomic counter per status variable.
pub struct AuditNull {
    counters: [AtomicI64; COUNTERS],
}

impl Plugin for AuditNull {
    const NAME: &'static std::ffi::CStr = c"audit_null";
    const DESCRIPTION: &'static std::ffi::CStr = c"Counts audit events by class and subclass";
    const STATUS_VARS: &'static [minnow_plugin::abi::StatusVarDecl] = &[
        status_var(c"called", MINNOW_VALUE_INT),
        status_var(c"general_log", MINNOW_VALUE_INT),
        status_var(c"general_error", MINNOW_VALUE_INT),
        status_var(c"general_result", MINNOW_VALUE_INT),
        status_var(c"general_status", MINNOW_VALUE_INT),
        status_var(c"general_starting", MINNOW_VALUE_INT),
        status_var(c"general_completed", MINNOW_VALUE_INT),
        status_var(c"connection_pre_authenticate", MINNOW_VALUE_INT),
        status_var(c"connection_connect", MINNOW_VALUE_INT),
        status_var(c"connection_disconnect", MINNOW_VALUE_INT),
        status_var(c"connection_change_user", MINNOW_VALUE_INT),
    ];

    fn init(_host: Host) -> Result<Self, String> {
        Ok(AuditNull {
            counters: std::array::from_fn(|_| AtomicI64::new(0)),
        })
    }

    fn status(&self, index: usize) -> Value {
        match self.counters.get(index) {
            Some(c) => Value::Int(c.load(Ordering::Relaxed)),
            None => Value::Null,
        }
    }
}

impl AuditPlugin for AuditNull {
    const CLASS_MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK | MINNOW_AUDIT_CONNECTION_CLASSMASK;

    fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto> {
        self.counters[0].fetch_add(1, Ordering::Relaxed);
        let slot = match event {
            AuditEvent::General(e) => 1 + e.subclass as usize,
            AuditEvent::Connection(e) => 7 + e.subclass as usize,
        };
        let first_after = match event {
            AuditEvent::General(_) => 7,
            AuditEvent::Connection(_) => COUNTERS,
        };
        if slot < first_after {
            self.counters[slot].fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

minnow_plugin::declare_plugins!(audit AuditNull);
