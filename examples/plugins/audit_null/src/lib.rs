//! `audit_null`: counts every audit event class and subclass in status variables,
//! like MySQL's NULL_AUDIT plugin. Status variables (`SHOW STATUS LIKE 'audit_null%'`):
//! `audit_null_called`, one per general subclass and one per connection subclass.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicI64, Ordering};

use minnow_plugin::abi::{
    MINNOW_AUDIT_CONNECTION_CLASSMASK, MINNOW_AUDIT_GENERAL_CLASSMASK, MINNOW_VALUE_INT,
};
use minnow_plugin::{AuditEvent, AuditPlugin, Host, Plugin, Value, Veto, status_var};

/// Number of status variables: `called`, six general subclasses, four connection
/// subclasses.
const COUNTERS: usize = 11;
/// Number of counter slots of a stripe: one per subclass (`called` is their sum) and
/// one for events of an unknown subclass (counted in `called` only).
const SLOTS: usize = COUNTERS;
/// Slot of events whose subclass this plugin does not know.
const OTHER: usize = 0;
/// Number of stripes: connections are spread over them by id, so concurrent
/// sessions on different cores seldom write the same cache line.
const STRIPES: usize = 16;

/// One stripe of counters, alone on its cache lines (128 bytes: adjacent-line
/// prefetch pairs 64-byte lines on x86).
#[repr(align(128))]
struct Stripe([AtomicI64; SLOTS]);

/// The plugin: per-stripe counters, summed when a status variable is read (MySQL's
/// NULL_AUDIT keeps plain counters; these stay exact under concurrency and each
/// event costs one uncontended atomic add).
pub struct AuditNull {
    stripes: [Stripe; STRIPES],
}

impl AuditNull {
    fn sum(&self, slot: usize) -> i64 {
        self.stripes
            .iter()
            .map(|s| s.0[slot].load(Ordering::Relaxed))
            .sum()
    }
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
            stripes: std::array::from_fn(|_| Stripe(std::array::from_fn(|_| AtomicI64::new(0)))),
        })
    }

    fn status(&self, index: usize) -> Value {
        match index {
            // `called`: every event, whatever its subclass.
            0 => Value::Int((0..SLOTS).map(|slot| self.sum(slot)).sum()),
            i if i < COUNTERS => Value::Int(self.sum(i)),
            _ => Value::Null,
        }
    }
}

impl AuditPlugin for AuditNull {
    const CLASS_MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK | MINNOW_AUDIT_CONNECTION_CLASSMASK;

    fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto> {
        // Slot 1 + subclass for the general class, 7 + subclass for the connection
        // class; an unknown subclass counts in `called` only.
        let (conn, slot) = match event {
            AuditEvent::General(e) => (e.connection_id, (e.subclass < 6).then(|| 1 + e.subclass)),
            AuditEvent::Connection(e) => {
                (e.connection_id, (e.subclass < 4).then(|| 7 + e.subclass))
            }
        };
        let stripe = &self.stripes[conn as usize % STRIPES];
        stripe.0[slot.map_or(OTHER, |s| s as usize)].fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

minnow_plugin::declare_plugins!(audit AuditNull);
