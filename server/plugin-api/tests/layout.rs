//! Compiles a C program against `include/minnow_plugin.h` with the system C compiler
//! and checks that every struct has the same size and field offsets as the Rust
//! definitions in `minnow_plugin::abi`, and that the constants agree.

use std::mem::{offset_of, size_of};
use std::process::Command;

use minnow_plugin::abi::*;

struct Check {
    c_type: &'static str,
    size: usize,
    fields: Vec<(&'static str, usize)>,
}

macro_rules! layout {
    ($rust:ty, $c:literal, [$($f:ident),* $(,)?]) => {
        Check { c_type: $c, size: size_of::<$rust>(), fields: vec![$((stringify!($f), offset_of!($rust, $f))),*] }
    };
}

fn checks() -> Vec<Check> {
    vec![
        layout!(MinnowStr, "minnow_str", [str, length]),
        layout!(
            MinnowValue,
            "minnow_value",
            [value_type, reserved, int_val, real_val, str, str_len]
        ),
        layout!(
            StatusVarDecl,
            "minnow_status_var",
            [name, value_type, reserved]
        ),
        layout!(
            SysVarDecl,
            "minnow_sysvar",
            [
                name, comment, value_type, flags, def_int, min_int, max_int, def_real, def_str
            ]
        ),
        layout!(
            Services,
            "minnow_services",
            [
                interface_version,
                reserved,
                handle,
                log_error,
                dbug_enter,
                dbug_return,
                dbug_print,
                dbug_execute_if,
                session_connection_id,
                session_user,
                session_host,
                session_query,
                data_dir,
                sysvar_get,
                plugin_exists
            ]
        ),
        layout!(
            PluginDecl,
            "struct minnow_plugin_decl",
            [
                plugin_type,
                flags,
                info,
                name,
                author,
                descr,
                license,
                version,
                init,
                deinit,
                validate,
                status_vars,
                status_var_count,
                system_var_count,
                show_status,
                system_vars,
                sysvar_check,
                sysvar_update,
                flush
            ]
        ),
        layout!(
            DaemonDescriptor,
            "struct minnow_daemon",
            [interface_version]
        ),
        layout!(
            AuditGeneralEvent,
            "struct minnow_audit_general_event",
            [
                event_subclass,
                error_code,
                connection_id,
                rows,
                user,
                host,
                ip,
                command,
                query
            ]
        ),
        layout!(
            AuditConnectionEvent,
            "struct minnow_audit_connection_event",
            [
                event_subclass,
                status,
                connection_id,
                user,
                host,
                ip,
                database
            ]
        ),
        layout!(
            AuditDescriptor,
            "struct minnow_audit",
            [interface_version, class_mask, notify]
        ),
        layout!(IsColumn, "minnow_is_column", [name, column_type, length]),
        layout!(IsSink, "minnow_is_sink", [host, store, end_row]),
        layout!(
            InfoSchemaDescriptor,
            "struct minnow_information_schema",
            [interface_version, column_count, columns, fill]
        ),
        layout!(
            AuthInfo,
            "minnow_auth_info",
            [
                user,
                host,
                auth_string,
                scramble,
                scramble_len,
                response,
                response_len
            ]
        ),
        layout!(
            AuthDescriptor,
            "struct minnow_authentication",
            [
                interface_version,
                reserved,
                client_plugin,
                authenticate,
                generate_auth_string
            ]
        ),
        layout!(
            PasswordValidationDescriptor,
            "struct minnow_password_validation",
            [
                interface_version,
                reserved,
                validate_password,
                password_strength
            ]
        ),
        layout!(
            ProtocolTraceDescriptor,
            "struct minnow_protocol_trace",
            [interface_version, reserved, trace_event]
        ),
        layout!(
            UDF_ARGS,
            "UDF_ARGS",
            [
                arg_count,
                arg_type,
                args,
                lengths,
                maybe_null,
                attributes,
                attribute_lengths,
                extension
            ]
        ),
        layout!(
            UDF_INIT,
            "UDF_INIT",
            [maybe_null, decimals, max_length, ptr, const_item, extension]
        ),
    ]
}

fn constants() -> Vec<(&'static str, i64)> {
    vec![
        (
            "MINNOW_PLUGIN_INTERFACE_VERSION",
            MINNOW_PLUGIN_INTERFACE_VERSION.into(),
        ),
        ("MINNOW_DAEMON_PLUGIN", MINNOW_DAEMON_PLUGIN.into()),
        (
            "MINNOW_INFORMATION_SCHEMA_PLUGIN",
            MINNOW_INFORMATION_SCHEMA_PLUGIN.into(),
        ),
        ("MINNOW_AUDIT_PLUGIN", MINNOW_AUDIT_PLUGIN.into()),
        (
            "MINNOW_AUTHENTICATION_PLUGIN",
            MINNOW_AUTHENTICATION_PLUGIN.into(),
        ),
        (
            "MINNOW_PASSWORD_VALIDATION_PLUGIN",
            MINNOW_PASSWORD_VALIDATION_PLUGIN.into(),
        ),
        (
            "MINNOW_PROTOCOL_TRACE_PLUGIN",
            MINNOW_PROTOCOL_TRACE_PLUGIN.into(),
        ),
        (
            "MINNOW_AUDIT_INTERFACE_VERSION",
            MINNOW_AUDIT_INTERFACE_VERSION.into(),
        ),
        ("MINNOW_PLUGIN_PANICKED", MINNOW_PLUGIN_PANICKED.into()),
        ("MINNOW_STATUS_STR_MAX", MINNOW_STATUS_STR_MAX as i64),
        (
            "MINNOW_AUDIT_GENERAL_STARTING",
            MINNOW_AUDIT_GENERAL_STARTING.into(),
        ),
        (
            "MINNOW_AUDIT_GENERAL_COMPLETED",
            MINNOW_AUDIT_GENERAL_COMPLETED.into(),
        ),
        (
            "MINNOW_AUDIT_CONNECTION_CHANGE_USER",
            MINNOW_AUDIT_CONNECTION_CHANGE_USER.into(),
        ),
        ("MINNOW_STAGE_CONNECTING", stage::CONNECTING.into()),
        (
            "MINNOW_STAGE_WAIT_FOR_INIT_PACKET",
            stage::WAIT_FOR_INIT_PACKET.into(),
        ),
        ("MINNOW_STAGE_AUTHENTICATE", stage::AUTHENTICATE.into()),
        (
            "MINNOW_STAGE_SSL_NEGOTIATION",
            stage::SSL_NEGOTIATION.into(),
        ),
        (
            "MINNOW_STAGE_READY_FOR_COMMAND",
            stage::READY_FOR_COMMAND.into(),
        ),
        (
            "MINNOW_STAGE_WAIT_FOR_PACKET",
            stage::WAIT_FOR_PACKET.into(),
        ),
        (
            "MINNOW_STAGE_WAIT_FOR_RESULT",
            stage::WAIT_FOR_RESULT.into(),
        ),
        (
            "MINNOW_STAGE_WAIT_FOR_FIELD_DEF",
            stage::WAIT_FOR_FIELD_DEF.into(),
        ),
        ("MINNOW_STAGE_WAIT_FOR_ROW", stage::WAIT_FOR_ROW.into()),
        ("MINNOW_STAGE_FILE_REQUEST", stage::FILE_REQUEST.into()),
        (
            "MINNOW_STAGE_WAIT_FOR_PS_DESCRIPTION",
            stage::WAIT_FOR_PS_DESCRIPTION.into(),
        ),
        (
            "MINNOW_STAGE_WAIT_FOR_PARAM_DEF",
            stage::WAIT_FOR_PARAM_DEF.into(),
        ),
        (
            "MINNOW_STAGE_WAIT_FOR_COL_DEF",
            stage::WAIT_FOR_COL_DEF.into(),
        ),
        ("MINNOW_STAGE_FETCH_ROW", stage::FETCH_ROW.into()),
        ("MINNOW_STAGE_DISCONNECTED", stage::DISCONNECTED.into()),
        ("MINNOW_TRACE_CONNECTING", event::CONNECTING.into()),
        ("MINNOW_TRACE_CONNECTED", event::CONNECTED.into()),
        ("MINNOW_TRACE_DISCONNECTED", event::DISCONNECTED.into()),
        (
            "MINNOW_TRACE_SEND_SSL_REQUEST",
            event::SEND_SSL_REQUEST.into(),
        ),
        ("MINNOW_TRACE_SSL_CONNECT", event::SSL_CONNECT.into()),
        ("MINNOW_TRACE_SSL_CONNECTED", event::SSL_CONNECTED.into()),
        (
            "MINNOW_TRACE_INIT_PACKET_RECEIVED",
            event::INIT_PACKET_RECEIVED.into(),
        ),
        ("MINNOW_TRACE_AUTH_PLUGIN", event::AUTH_PLUGIN.into()),
        (
            "MINNOW_TRACE_SEND_AUTH_RESPONSE",
            event::SEND_AUTH_RESPONSE.into(),
        ),
        ("MINNOW_TRACE_SEND_AUTH_DATA", event::SEND_AUTH_DATA.into()),
        ("MINNOW_TRACE_AUTHENTICATED", event::AUTHENTICATED.into()),
        ("MINNOW_TRACE_READ_PACKET", event::READ_PACKET.into()),
        (
            "MINNOW_TRACE_PACKET_RECEIVED",
            event::PACKET_RECEIVED.into(),
        ),
        ("MINNOW_TRACE_SEND_COMMAND", event::SEND_COMMAND.into()),
        ("MINNOW_TRACE_PACKET_SENT", event::PACKET_SENT.into()),
        ("MINNOW_TRACE_ERROR", event::ERROR.into()),
        ("DECIMAL_RESULT", DECIMAL_RESULT.into()),
        ("MYSQL_ERRMSG_SIZE", MYSQL_ERRMSG_SIZE as i64),
    ]
}

#[test]
fn header_matches_rust_layout() {
    let checks = checks();
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"minnow_plugin.h\"\nint main(void) {\n",
    );
    let mut expected = String::new();
    for k in &checks {
        c.push_str(&format!(
            "  printf(\"size %s %zu\\n\", \"{0}\", sizeof({0}));\n",
            k.c_type
        ));
        expected.push_str(&format!("size {} {}\n", k.c_type, k.size));
        for (f, off) in &k.fields {
            c.push_str(&format!(
                "  printf(\"offset %s.%s %zu\\n\", \"{0}\", \"{1}\", offsetof({0}, {1}));\n",
                k.c_type, f
            ));
            expected.push_str(&format!("offset {}.{} {}\n", k.c_type, f, off));
        }
    }
    for (name, v) in constants() {
        c.push_str(&format!(
            "  printf(\"const %s %lld\\n\", \"{name}\", (long long)({name}));\n"
        ));
        expected.push_str(&format!("const {name} {v}\n"));
    }
    c.push_str("  return 0;\n}\n");

    let dir = std::env::temp_dir().join(format!("minnow-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c).expect("write C source");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-I",
            minnow_plugin::HEADER_DIR,
            "-o",
        ])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("run the C compiler");
    assert!(
        out.status.success(),
        "C compile failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("run the layout program");
    assert!(run.status.success());
    let got = String::from_utf8(run.stdout).expect("utf8");
    let _ = std::fs::remove_dir_all(&dir);
    for (g, e) in got.lines().zip(expected.lines()) {
        assert_eq!(g, e, "C and Rust disagree");
    }
    assert_eq!(got.lines().count(), expected.lines().count());
}

#[test]
fn decl_size_of_interface_1_0_excludes_flush() {
    assert_eq!(
        MINNOW_DECL_SIZE_V1_0 + size_of::<usize>(),
        size_of::<PluginDecl>()
    );
}
