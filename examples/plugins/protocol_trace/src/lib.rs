//! `protocol_trace`: the server-side twin of MySQL's test trace plugin. For every
//! packet the server receives or sends it checks the protocol stage transition;
//! with `protocol_trace_debug=ON` it writes the stage, the event and a hex dump of
//! the packet to the error log; on an impossible transition it logs an error, or
//! aborts the server when `protocol_trace_crash=ON`. Connections already open when
//! the plugin is installed are followed from their next packet on.
//! Status variables: `protocol_trace_events`, `protocol_trace_bad_transitions`.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use minnow_plugin::abi::{MINNOW_VALUE_INT, stage};
use minnow_plugin::{
    DropConnection, Host, Plugin, ProtocolTracePlugin, TraceEvent, Value, event_name, stage_name,
    status_var, sysvar_bool,
};

/// True if the protocol may go from stage `from` to stage `to`.
pub fn transition_ok(from: Option<u32>, to: u32) -> bool {
    use stage::*;
    let Some(from) = from else {
        return to == CONNECTING;
    };
    if from == to || to == DISCONNECTED {
        return from != DISCONNECTED;
    }
    match from {
        CONNECTING => to == WAIT_FOR_INIT_PACKET,
        WAIT_FOR_INIT_PACKET => matches!(to, AUTHENTICATE | SSL_NEGOTIATION),
        SSL_NEGOTIATION => to == AUTHENTICATE,
        AUTHENTICATE => to == READY_FOR_COMMAND,
        // COM_FIELD_LIST is answered with field definitions only.
        READY_FOR_COMMAND => matches!(
            to,
            WAIT_FOR_PACKET
                | WAIT_FOR_RESULT
                | WAIT_FOR_FIELD_DEF
                | WAIT_FOR_PS_DESCRIPTION
                | FILE_REQUEST
                | FETCH_ROW
                | AUTHENTICATE
        ),
        WAIT_FOR_PACKET => to != CONNECTING,
        WAIT_FOR_RESULT => matches!(to, WAIT_FOR_FIELD_DEF | READY_FOR_COMMAND | FILE_REQUEST),
        WAIT_FOR_FIELD_DEF => matches!(to, WAIT_FOR_ROW | READY_FOR_COMMAND),
        WAIT_FOR_ROW => matches!(to, READY_FOR_COMMAND | WAIT_FOR_RESULT),
        FILE_REQUEST => to == WAIT_FOR_RESULT,
        WAIT_FOR_PS_DESCRIPTION => matches!(
            to,
            WAIT_FOR_PARAM_DEF | WAIT_FOR_COL_DEF | READY_FOR_COMMAND
        ),
        WAIT_FOR_PARAM_DEF => matches!(to, WAIT_FOR_COL_DEF | READY_FOR_COMMAND),
        WAIT_FOR_COL_DEF => to == READY_FOR_COMMAND,
        FETCH_ROW => to == READY_FOR_COMMAND,
        _ => false,
    }
}

/// Hex dump, 16 bytes a line, at most 256 bytes.
pub fn hex_dump(data: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in data.chunks(16).take(16).enumerate() {
        let _ = write!(s, "\n  {:04x}:", i * 16);
        for b in chunk {
            let _ = write!(s, " {b:02x}");
        }
    }
    if data.len() > 256 {
        let _ = write!(s, "\n  ... ({} bytes)", data.len());
    }
    s
}

/// The plugin.
pub struct ProtocolTrace {
    host: Host,
    debug: AtomicBool,
    crash: AtomicBool,
    stages: Mutex<HashMap<u64, u32>>,
    events: AtomicI64,
    bad: AtomicI64,
}

impl Plugin for ProtocolTrace {
    const NAME: &'static std::ffi::CStr = c"protocol_trace";
    const DESCRIPTION: &'static std::ffi::CStr =
        c"Checks protocol stage transitions and dumps packets";
    const STATUS_VARS: &'static [minnow_plugin::abi::StatusVarDecl] = &[
        status_var(c"events", MINNOW_VALUE_INT),
        status_var(c"bad_transitions", MINNOW_VALUE_INT),
    ];
    const SYSTEM_VARS: &'static [minnow_plugin::abi::SysVarDecl] = &[
        sysvar_bool(
            c"debug",
            c"Dump every stage, event and packet to the error log",
            false,
        ),
        sysvar_bool(
            c"crash",
            c"Abort the server on an impossible stage transition",
            false,
        ),
    ];

    fn init(host: Host) -> Result<Self, String> {
        let flag = |n: &str| host.sysvar(n).and_then(|v| v.as_bool()).unwrap_or(false);
        Ok(ProtocolTrace {
            host,
            debug: AtomicBool::new(flag("debug")),
            crash: AtomicBool::new(flag("crash")),
            stages: Mutex::new(HashMap::new()),
            events: AtomicI64::new(0),
            bad: AtomicI64::new(0),
        })
    }

    fn status(&self, index: usize) -> Value {
        match index {
            0 => Value::Int(self.events.load(Ordering::Relaxed)),
            1 => Value::Int(self.bad.load(Ordering::Relaxed)),
            _ => Value::Null,
        }
    }

    fn update_sysvar(&self, index: usize, value: &Value) {
        let b = value.as_bool().unwrap_or(false);
        match index {
            0 => self.debug.store(b, Ordering::Relaxed),
            _ => self.crash.store(b, Ordering::Relaxed),
        }
    }
}

impl ProtocolTracePlugin for ProtocolTrace {
    fn trace(&self, ev: &TraceEvent<'_>) -> Result<(), DropConnection> {
        self.events.fetch_add(1, Ordering::Relaxed);
        let prev = {
            let mut stages = self.stages.lock().unwrap_or_else(|p| p.into_inner());
            let prev = stages.get(&ev.connection_id).copied();
            if ev.stage == stage::DISCONNECTED {
                stages.remove(&ev.connection_id);
            } else {
                stages.insert(ev.connection_id, ev.stage);
            }
            prev
        };
        if self.debug.load(Ordering::Relaxed) {
            self.host.note(&format!(
                "protocol_trace: conn {} stage {} event {} ({} bytes){}",
                ev.connection_id,
                stage_name(ev.stage),
                event_name(ev.event),
                ev.packet.len(),
                hex_dump(ev.packet)
            ));
        }
        // A connection first seen past CONNECTING was open before the plugin was
        // installed: its history is unknown, so its first stage cannot be judged.
        let joined = prev.is_none() && ev.stage != stage::CONNECTING;
        if !joined && !transition_ok(prev, ev.stage) {
            self.bad.fetch_add(1, Ordering::Relaxed);
            let msg = format!(
                "protocol_trace: impossible stage transition {} -> {} on connection {}",
                prev.map_or("(none)", stage_name),
                stage_name(ev.stage),
                ev.connection_id
            );
            self.host.error(&msg);
            if self.crash.load(Ordering::Relaxed) {
                std::process::abort();
            }
        }
        Ok(())
    }
}

minnow_plugin::declare_plugins!(protocol_trace ProtocolTrace);

#[cfg(test)]
mod tests {
    use super::*;
    use minnow_plugin::abi::stage::*;

    #[test]
    fn transitions() {
        assert!(transition_ok(None, CONNECTING));
        assert!(!transition_ok(None, READY_FOR_COMMAND));
        assert!(transition_ok(Some(CONNECTING), WAIT_FOR_INIT_PACKET));
        assert!(transition_ok(Some(AUTHENTICATE), READY_FOR_COMMAND));
        assert!(!transition_ok(Some(CONNECTING), READY_FOR_COMMAND));
        assert!(!transition_ok(Some(DISCONNECTED), DISCONNECTED));
        assert!(transition_ok(Some(WAIT_FOR_ROW), DISCONNECTED));
        // A result set, then the next command.
        for (a, b) in [
            (READY_FOR_COMMAND, WAIT_FOR_RESULT),
            (WAIT_FOR_RESULT, WAIT_FOR_FIELD_DEF),
            (WAIT_FOR_FIELD_DEF, WAIT_FOR_ROW),
            (WAIT_FOR_ROW, READY_FOR_COMMAND),
            (READY_FOR_COMMAND, WAIT_FOR_PS_DESCRIPTION),
            (WAIT_FOR_PS_DESCRIPTION, WAIT_FOR_PARAM_DEF),
            (WAIT_FOR_PARAM_DEF, WAIT_FOR_COL_DEF),
            (WAIT_FOR_COL_DEF, READY_FOR_COMMAND),
            (READY_FOR_COMMAND, WAIT_FOR_FIELD_DEF),
            (WAIT_FOR_FIELD_DEF, READY_FOR_COMMAND),
            (READY_FOR_COMMAND, AUTHENTICATE),
        ] {
            assert!(transition_ok(Some(a), b), "{a} -> {b}");
        }
        assert!(!transition_ok(Some(WAIT_FOR_ROW), WAIT_FOR_FIELD_DEF));
    }

    #[test]
    fn dump() {
        assert_eq!(hex_dump(&[1, 0xab]), "\n  0000: 01 ab");
    }
}
