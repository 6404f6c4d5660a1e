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
/// Counter of events whose subclass this plugin does not know: the status variable
/// `called` is the sum of every counter, so each event costs one atomic add.
const OTHER: usize = 0;

/// Number of counter sets (a power of two).
const SHARDS: usize = 8;

/// One set of counters, on cache lines of its own.
#[repr(align(64))]
struct Shard([AtomicI64; COUNTERS]);

/// The plugin: one counter per subclass (plus [`OTHER`]), summed for `called`.
/// The counters are kept in [`SHARDS`] sets chosen by connection id and summed when
/// read: sessions running on different cores then count their events on different
/// cache lines instead of moving one line between the cores on every event.
pub struct AuditNull {
    shards: [Shard; SHARDS],
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
            shards: std::array::from_fn(|_| Shard(std::array::from_fn(|_| AtomicI64::new(0)))),
        })
    }

    fn status(&self, index: usize) -> Value {
        let load = |i: usize| -> i64 {
            self.shards
                .iter()
                .map(|s| s.0[i].load(Ordering::Relaxed))
                .sum()
        };
        match index {
            // `called`: every event, whatever its subclass.
            0 => Value::Int((0..COUNTERS).map(load).sum()),
            i if i < COUNTERS => Value::Int(load(i)),
            _ => Value::Null,
        }
    }
}

impl AuditPlugin for AuditNull {
    const CLASS_MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK | MINNOW_AUDIT_CONNECTION_CLASSMASK;

    fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto> {
        // Counter 1 + subclass for the general class, 7 + subclass for the connection
        // class; an unknown subclass counts in `called` only.
        let (conn, slot) = match *event {
            AuditEvent::General(ref e) => (
                e.connection_id(),
                if e.subclass() < 6 {
                    1 + e.subclass() as usize
                } else {
                    OTHER
                },
            ),
            AuditEvent::Connection(ref e) => (
                e.connection_id(),
                if e.subclass() < 4 {
                    7 + e.subclass() as usize
                } else {
                    OTHER
                },
            ),
        };
        self.shards[conn as usize & (SHARDS - 1)].0[slot].fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

minnow_plugin::declare_plugins!(audit AuditNull);
