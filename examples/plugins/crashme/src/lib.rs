//! `crashme` (Rust half): an audit plugin that misbehaves on demand, for the crash
//! tests and the README's crash-and-resolve walkthrough. At the general *starting*
//! event it looks at the statement text and at the DBUG keywords:
//!
//! | statement contains      | or DBUG keyword          | effect                      |
//! |-------------------------|--------------------------|-----------------------------|
//! | `crashme:panic`         | `crashme_panic`          | panics (host disables it)   |
//! | `crashme:abort`         | `crashme_abort`          | `abort()` (SIGABRT)         |
//! | `crashme:stack`         | `crashme_stack_overflow` | unbounded recursion (SIGSEGV on the guard page) |
//!
//! Segfaults and division by zero need `unsafe`/C: they live in the C half
//! (`crashme_c`). Setting `crashme_panic_in_update` panics inside the sysvar update
//! callback. Status variable `crashme_events`.

#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicI64, Ordering};

use minnow_plugin::abi::{
    MINNOW_AUDIT_GENERAL_CLASSMASK, MINNOW_AUDIT_GENERAL_STARTING, MINNOW_IS_TYPE_INT,
    MINNOW_VALUE_INT,
};
use minnow_plugin::{
    AuditEvent, AuditPlugin, Host, InfoSchemaPlugin, Plugin, RowSink, Value, Veto, is_column,
    status_var, sysvar_bool,
};

/// The plugin.
pub struct Crashme {
    host: Host,
    events: AtomicI64,
}

/// Recurses until the stack overflows. `depth` and the buffer keep the optimiser
/// from turning the recursion into a loop.
#[inline(never)]
#[allow(unconditional_recursion)]
pub fn overflow(depth: u64) -> u64 {
    let buf = std::hint::black_box([depth as u8; 256]);
    overflow(depth + 1).wrapping_add(u64::from(buf[(depth % 256) as usize]))
}

impl Plugin for Crashme {
    const NAME: &'static std::ffi::CStr = c"crashme";
    const DESCRIPTION: &'static std::ffi::CStr = c"Panics, aborts or overflows its stack on demand";
    const STATUS_VARS: &'static [minnow_plugin::abi::StatusVarDecl] =
        &[status_var(c"events", MINNOW_VALUE_INT)];
    const SYSTEM_VARS: &'static [minnow_plugin::abi::SysVarDecl] = &[
        sysvar_bool(
            c"panic_in_update",
            c"Setting this variable panics in the update callback",
            false,
        ),
        sysvar_bool(
            c"panic_in_init",
            c"Panic in init (set it with --crashme-panic-in-init=ON)",
            false,
        ),
    ];

    fn init(host: Host) -> Result<Self, String> {
        if host.sysvar("panic_in_init").and_then(|v| v.as_bool()) == Some(true) {
            panic!("crashme: panic requested in init");
        }
        Ok(Crashme {
            host,
            events: AtomicI64::new(0),
        })
    }

    fn status(&self, _index: usize) -> Value {
        Value::Int(self.events.load(Ordering::Relaxed))
    }

    fn update_sysvar(&self, _index: usize, value: &Value) {
        if value.as_bool() == Some(true) {
            panic!("crashme: panic requested through crashme_panic_in_update");
        }
    }
}

impl AuditPlugin for Crashme {
    const CLASS_MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK;

    fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto> {
        let AuditEvent::General(e) = event else {
            return Ok(());
        };
        self.events.fetch_add(1, Ordering::Relaxed);
        if e.subclass() != MINNOW_AUDIT_GENERAL_STARTING {
            return Ok(());
        }
        let q = e.query();
        if q.contains("crashme:panic") || self.host.dbug_execute_if("crashme_panic") {
            panic!(
                "crashme: panic requested by connection {}",
                e.connection_id()
            );
        }
        if q.contains("crashme:abort") || self.host.dbug_execute_if("crashme_abort") {
            self.host.error("crashme: aborting on request");
            std::process::abort();
        }
        if q.contains("crashme:stack") || self.host.dbug_execute_if("crashme_stack_overflow") {
            let n = overflow(0);
            self.host.note(&format!("crashme: unreachable {n}"));
        }
        Ok(())
    }
}

/// A second plugin of the same library: an information_schema table
/// `CRASHME_TABLE` whose fill panics.
pub struct CrashmeTable;

impl Plugin for CrashmeTable {
    const NAME: &'static std::ffi::CStr = c"crashme_table";
    const DESCRIPTION: &'static std::ffi::CStr = c"An information_schema table whose fill panics";

    fn init(_host: Host) -> Result<Self, String> {
        Ok(CrashmeTable)
    }
}

impl InfoSchemaPlugin for CrashmeTable {
    const COLUMNS: &'static [minnow_plugin::abi::IsColumn] =
        &[is_column(c"X", MINNOW_IS_TYPE_INT, 11)];

    fn fill(&self, rows: &mut RowSink<'_>) -> Result<(), String> {
        rows.row(&[Value::Int(1)])?;
        panic!("crashme_table: panic requested in fill");
    }
}

minnow_plugin::declare_plugins!(audit Crashme, information_schema CrashmeTable);
