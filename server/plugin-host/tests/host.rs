//! Integration tests of the plugin host against real shared objects: the example
//! plugins (Rust cdylibs built with cargo, C libraries built with the system
//! compiler) and C fixtures, all really `dlopen`ed from a temporary plugin_dir.

mod races;
mod util;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use minnow_plugin_host::abi::{event, stage};
use minnow_plugin_host::{
    ConnectionEvent, ConnectionSubclass, GeneralEvent, GeneralSubclass, LoadOption, LoadRequest,
    PluginState, PluginType, Registry, SessionInfo, UdfArg, UdfArgType, UdfReturn,
    UninstallOutcome, Value,
};
use util::{Dbug, general, setup};

fn connection(subclass: ConnectionSubclass, conn: u64, ip: &str) -> ConnectionEvent<'_> {
    ConnectionEvent {
        subclass,
        status: 0,
        connection_id: conn,
        user: "",
        host: ip,
        ip,
        database: "",
    }
}

fn status(reg: &Registry, name: &str) -> Option<Value> {
    reg.status_variables()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

fn sysvar(reg: &Registry, name: &str) -> Option<Value> {
    reg.system_variables()
        .into_iter()
        .find(|v| v.name == name)
        .map(|v| v.value)
}

fn binding(reg: &Registry, plugin: &str, ext: &str) -> minnow_plugin_host::BindingRow {
    reg.bindings()
        .into_iter()
        .find(|b| b.plugin_name == plugin && b.extension_point == ext)
        .unwrap_or_else(|| panic!("no binding row for {plugin}/{ext}: {:?}", reg.bindings()))
}

#[test]
fn every_example_loads_inits_and_unloads() {
    let (dir, host, reg) = setup();
    *host.data_dir.lock().unwrap() = Some(dir.path().to_path_buf());
    let before = host
        .modules_changed
        .load(std::sync::atomic::Ordering::SeqCst);
    let mut all = Vec::new();
    for p in util::RUST_PLUGINS {
        let names = reg
            .install_soname(&format!("lib{p}.so"))
            .unwrap_or_else(|e| panic!("install {p}: {e}"));
        all.extend(names);
    }
    assert_eq!(
        all,
        [
            "audit_null",
            "conn_ip_filter",
            "daemon_heartbeat",
            "is_example",
            "protocol_trace",
            "crashme",
            "crashme_table",
            "auth_test_plugin",
            "validate_password_simple"
        ]
    );
    let c = reg
        .install("crashme_c", "libcrashme_c.so")
        .expect("install crashme_c");
    assert_eq!(c, vec!["crashme_c".to_string()]);
    let infos = reg.plugins();
    assert_eq!(infos.len(), 10);
    for i in &infos {
        assert_eq!(i.status, PluginState::Active, "{i:?}");
        assert_eq!(i.license, "GPL");
        assert_eq!(i.version, "1.0");
        assert_eq!(i.library_version, "1.1");
    }
    let ty = |n: &str| infos.iter().find(|i| i.name == n).map(|i| i.plugin_type);
    assert_eq!(ty("audit_null"), Some(PluginType::Audit));
    assert_eq!(ty("daemon_heartbeat"), Some(PluginType::Daemon));
    assert_eq!(ty("is_example"), Some(PluginType::InformationSchema));
    assert_eq!(ty("protocol_trace"), Some(PluginType::ProtocolTrace));
    assert_eq!(ty("crashme_c"), Some(PluginType::Audit));
    assert_eq!(ty("crashme_table"), Some(PluginType::InformationSchema));
    assert_eq!(ty("auth_test_plugin"), Some(PluginType::Authentication));
    assert_eq!(
        ty("validate_password_simple"),
        Some(PluginType::PasswordValidation)
    );
    assert!(
        host.log_contains("crashme_c: loaded"),
        "{:?}",
        host.log_lines()
    );
    assert!(
        host.modules_changed
            .load(std::sync::atomic::Ordering::SeqCst)
            >= before + 8
    );

    let lib = dir.path().join("libaudit_null.so");
    assert!(util::is_mapped(&lib));
    for i in &infos {
        assert_eq!(
            reg.uninstall(&i.name).expect("uninstall"),
            UninstallOutcome::Unloaded
        );
    }
    assert!(reg.plugins().is_empty());
    let own = host.ownership.lock().unwrap().clone();
    assert_eq!(own.len(), 20, "{own:?}");
    assert_eq!(own[0], "+audit_null libaudit_null.so");
    assert!(
        own.contains(&"+crashme_c libcrashme_c.so".to_string()),
        "{own:?}"
    );
    assert!(own.contains(&"-daemon_heartbeat".to_string()), "{own:?}");
    assert!(
        !util::is_mapped(&lib),
        "libaudit_null.so still mapped after its last plugin was uninstalled"
    );
    // Reload after unload.
    reg.install("audit_null", "libaudit_null.so")
        .expect("reinstall");
    assert_eq!(reg.state("audit_null"), Some(PluginState::Active));
}

#[test]
fn audit_dispatch_in_install_order_and_veto_stops_chain() {
    // crashme_c first: its veto stops the chain before audit_null.
    let (_d, _h, reg) = setup();
    reg.install("crashme_c", "libcrashme_c.so").unwrap();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    let mut s = reg.session(7);
    let err = s
        .audit_general(&general(
            GeneralSubclass::Starting,
            7,
            "SELECT 'crashme_c:veto'",
        ))
        .unwrap_err();
    assert_eq!(err.code(), 3164);
    assert!(err.to_string().contains("crashme_c"), "{err}");
    assert_eq!(
        status(&reg, "audit_null_general_starting"),
        Some(Value::Int(0))
    );
    // An ordinary statement reaches both.
    s.audit_general(&general(GeneralSubclass::Starting, 7, "SELECT 1"))
        .unwrap();
    assert_eq!(
        status(&reg, "audit_null_general_starting"),
        Some(Value::Int(1))
    );
    assert_eq!(status(&reg, "crashme_c_events"), Some(Value::Int(2)));
    // A veto returned at a non-vetoable subclass is ignored and the chain goes on.
    s.audit_general(&general(
        GeneralSubclass::Completed,
        7,
        "SELECT 'crashme_c:veto'",
    ))
    .unwrap();
    assert_eq!(
        status(&reg, "audit_null_general_completed"),
        Some(Value::Int(1))
    );
    drop(s);

    // audit_null first: it sees the vetoed statement before crashme_c refuses it.
    let (_d2, _h2, reg2) = setup();
    reg2.install("audit_null", "libaudit_null.so").unwrap();
    reg2.install("crashme_c", "libcrashme_c.so").unwrap();
    let mut s2 = reg2.session(8);
    assert_eq!(
        s2.audit_general(&general(
            GeneralSubclass::Starting,
            8,
            "SELECT 'crashme_c:veto'"
        ))
        .unwrap_err()
        .code(),
        3164
    );
    assert_eq!(
        status(&reg2, "audit_null_general_starting"),
        Some(Value::Int(1))
    );
    assert_eq!(binding(&reg2, "crashme_c", "AUDIT GENERAL").errors, 1);
}

#[test]
fn conn_ip_filter_vetoes_at_pre_auth_and_follows_its_allow_variable() {
    let (_d, host, reg) = setup();
    reg.set_startup_variables([("conn_ip_filter-allow".to_string(), "127.0.0.1".to_string())]);
    reg.install("conn_ip_filter", "libconn_ip_filter.so")
        .unwrap();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    assert_eq!(
        sysvar(&reg, "conn_ip_filter_allow"),
        Some(Value::Str("127.0.0.1".into()))
    );
    let mut s = reg.session(1);
    s.audit_connection(&connection(
        ConnectionSubclass::PreAuthenticate,
        1,
        "127.0.0.1",
    ))
    .unwrap();
    let err = s
        .audit_connection(&connection(
            ConnectionSubclass::PreAuthenticate,
            2,
            "10.1.2.3",
        ))
        .unwrap_err();
    assert_eq!(err.code(), 3164);
    assert!(err.to_string().contains("PRE_AUTHENTICATE"), "{err}");
    // Only pre-auth can veto: connect from the same address is observed.
    s.audit_connection(&connection(ConnectionSubclass::Connect, 2, "10.1.2.3"))
        .unwrap();
    assert!(host.log_contains("refused connection 2 from '10.1.2.3'"));
    assert_eq!(status(&reg, "conn_ip_filter_refused"), Some(Value::Int(1)));
    assert_eq!(status(&reg, "conn_ip_filter_accepted"), Some(Value::Int(1)));
    // audit_null was installed after: it never saw the refused pre-auth.
    assert_eq!(
        status(&reg, "audit_null_connection_pre_authenticate"),
        Some(Value::Int(1))
    );

    // SET GLOBAL through check/update.
    let bad = reg
        .set_system_variable("conn_ip_filter_allow", &Value::Str("not an address".into()))
        .unwrap_err();
    assert_eq!(bad.code(), 1231);
    reg.set_system_variable("CONN_IP_FILTER_ALLOW", &Value::Str("10.1.%".into()))
        .unwrap();
    assert_eq!(
        sysvar(&reg, "conn_ip_filter_allow"),
        Some(Value::Str("10.1.%".into()))
    );
    s.audit_connection(&connection(
        ConnectionSubclass::PreAuthenticate,
        3,
        "10.1.2.3",
    ))
    .unwrap();
    assert_eq!(
        s.audit_connection(&connection(
            ConnectionSubclass::PreAuthenticate,
            4,
            "127.0.0.1"
        ))
        .unwrap_err()
        .code(),
        3164
    );
    assert_eq!(
        reg.set_system_variable("conn_ip_filter_nope", &Value::Int(1))
            .unwrap_err()
            .code(),
        1193
    );
}

#[test]
fn audit_null_counts_every_class_and_subclass() {
    let (_d, _h, reg) = setup();
    reg.install_soname("libaudit_null.so").unwrap();
    let mut s = reg.session(5);
    for sub in [
        GeneralSubclass::Log,
        GeneralSubclass::Error,
        GeneralSubclass::Result,
        GeneralSubclass::Status,
        GeneralSubclass::Starting,
        GeneralSubclass::Completed,
        GeneralSubclass::Completed,
    ] {
        s.audit_general(&general(sub, 5, "SELECT 1")).unwrap();
    }
    for sub in [
        ConnectionSubclass::PreAuthenticate,
        ConnectionSubclass::Connect,
        ConnectionSubclass::ChangeUser,
        ConnectionSubclass::Disconnect,
    ] {
        s.audit_connection(&connection(sub, 5, "127.0.0.1"))
            .unwrap();
    }
    let expect = [
        ("audit_null_called", 11),
        ("audit_null_general_log", 1),
        ("audit_null_general_error", 1),
        ("audit_null_general_result", 1),
        ("audit_null_general_status", 1),
        ("audit_null_general_starting", 1),
        ("audit_null_general_completed", 2),
        ("audit_null_connection_pre_authenticate", 1),
        ("audit_null_connection_connect", 1),
        ("audit_null_connection_disconnect", 1),
        ("audit_null_connection_change_user", 1),
    ];
    for (n, v) in expect {
        assert_eq!(status(&reg, n), Some(Value::Int(v)), "{n}");
    }
}

#[test]
fn bindings_are_counted_per_plugin_extension_point_and_session() {
    let (_d, _h, reg) = setup();
    reg.install("conn_ip_filter", "libconn_ip_filter.so")
        .unwrap();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    let mut a = reg.session(100);
    let mut b = reg.session(200);
    a.audit_general(&general(GeneralSubclass::Starting, 100, "SELECT 1"))
        .unwrap();
    a.audit_general(&general(GeneralSubclass::Completed, 100, "SELECT 1"))
        .unwrap();
    b.audit_general(&general(GeneralSubclass::Starting, 200, "SELECT 2"))
        .unwrap();
    b.audit_connection(&connection(
        ConnectionSubclass::PreAuthenticate,
        200,
        "192.0.2.1",
    ))
    .unwrap_err();

    let g = binding(&reg, "audit_null", "AUDIT GENERAL");
    assert_eq!((g.calls, g.errors, g.bound_sessions), (3, 0, 2));
    assert!(g.max_time_us <= g.total_time_us);
    let f = binding(&reg, "conn_ip_filter", "AUDIT CONNECTION");
    assert_eq!((f.calls, f.errors, f.bound_sessions), (1, 1, 1));
    // conn_ip_filter vetoed: audit_null's connection point was never reached.
    let c = binding(&reg, "audit_null", "AUDIT CONNECTION");
    assert_eq!((c.calls, c.bound_sessions), (0, 0));

    let sb = reg.session_bindings();
    let ids: Vec<(u64, &str, &str)> = sb
        .iter()
        .map(|r| (r.session_id, r.plugin_name.as_str(), r.extension_point))
        .collect();
    assert_eq!(
        ids,
        vec![
            (100, "audit_null", "AUDIT GENERAL"),
            (200, "audit_null", "AUDIT GENERAL"),
            (200, "conn_ip_filter", "AUDIT CONNECTION"),
        ]
    );
    assert_eq!(a.bound_count(), 1);
    a.release();
    assert_eq!(a.bound_count(), 0);
    assert_eq!(
        binding(&reg, "audit_null", "AUDIT GENERAL").bound_sessions,
        1
    );
    drop(b);
    assert!(reg.session_bindings().is_empty());
    assert_eq!(binding(&reg, "audit_null", "AUDIT GENERAL").calls, 3);
}

#[test]
fn sessions_follow_install_and_uninstall_between_statements() {
    // A session reuses its view of the audit list between statements; it must still
    // see a plugin installed after its first event and must not keep an uninstalled
    // plugin's library mapped while it sits idle.
    let (dir, _host, reg) = setup();
    let mut s = reg.session(3);
    assert!(!s.wants_general());
    s.audit_general(&general(GeneralSubclass::Starting, 3, "SELECT 1"))
        .unwrap();
    assert_eq!(s.bound_count(), 0);
    reg.install("audit_null", "libaudit_null.so").unwrap();
    assert!(s.wants_general());
    s.audit_general(&general(GeneralSubclass::Starting, 3, "SELECT 1"))
        .unwrap();
    assert_eq!(
        status(&reg, "audit_null_general_starting"),
        Some(Value::Int(1))
    );
    s.release();
    // Installed after the session cached its list: the veto must reach it.
    reg.install("crashme_c", "libcrashme_c.so").unwrap();
    let err = s
        .audit_general(&general(
            GeneralSubclass::Starting,
            3,
            "SELECT 'crashme_c:veto'",
        ))
        .unwrap_err();
    assert_eq!(err.code(), 3164);
    assert_eq!(
        status(&reg, "audit_null_general_starting"),
        Some(Value::Int(2))
    );
    s.release();
    // Not busy: unloaded now, although `s` is alive and saw audit_null before.
    assert_eq!(
        reg.uninstall("audit_null").unwrap(),
        UninstallOutcome::Unloaded
    );
    assert!(
        !util::is_mapped(&dir.path().join("libaudit_null.so")),
        "an idle session keeps the uninstalled library mapped"
    );
    s.audit_general(&general(GeneralSubclass::Starting, 3, "SELECT 1"))
        .unwrap();
    assert_eq!(status(&reg, "crashme_c_events"), Some(Value::Int(2)));
    assert_eq!(status(&reg, "audit_null_general_starting"), None);
    s.release();
    assert_eq!(
        reg.uninstall("crashme_c").unwrap(),
        UninstallOutcome::Unloaded
    );
    assert!(!s.wants_general());
    s.audit_general(&general(GeneralSubclass::Starting, 3, "SELECT 1"))
        .unwrap();
    assert_eq!(s.bound_count(), 0);
}

#[test]
fn busy_uninstall_is_deferred_until_the_last_binding_goes() {
    let (dir, host, reg) = setup();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    let lib = dir.path().join("libaudit_null.so");
    let mut busy = reg.session(1);
    busy.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT SLEEP(10)"))
        .unwrap();

    let out = reg.uninstall("audit_null").unwrap();
    let UninstallOutcome::Deferred(w) = out else {
        panic!("expected a deferred uninstall, got {out:?}")
    };
    assert_eq!(w.code, 1620);
    assert_eq!(reg.state("audit_null"), Some(PluginState::Deleted));
    assert_eq!(reg.plugins()[0].status.as_str(), "DELETED");
    assert!(util::is_mapped(&lib));
    // Uninstalling again: it no longer exists for UNINSTALL, and can't be reinstalled yet.
    assert_eq!(reg.uninstall("audit_null").unwrap_err().code(), 1305);
    assert_eq!(
        reg.install("audit_null", "libaudit_null.so")
            .unwrap_err()
            .code(),
        1125
    );

    // The bound session keeps its binding (it never calls a DELETED plugin again),
    // new sessions don't bind it.
    let mut other = reg.session(2);
    other
        .audit_general(&general(GeneralSubclass::Starting, 2, "SELECT 1"))
        .unwrap();
    assert_eq!(other.bound_count(), 0);
    busy.audit_general(&general(GeneralSubclass::Completed, 1, "SELECT SLEEP(10)"))
        .unwrap();
    assert_eq!(binding(&reg, "audit_null", "AUDIT GENERAL").calls, 1);

    // The statement ends: release before waiting for the next command.
    busy.release();
    assert_eq!(reg.state("audit_null"), None);
    assert!(reg.plugins().is_empty());
    assert_eq!(
        *host.ownership.lock().unwrap(),
        vec!["+audit_null libaudit_null.so", "-audit_null"],
        "ownership must be dropped only when the last binding went"
    );
    assert!(
        !util::is_mapped(&lib),
        "library still mapped after the last binding went"
    );
    reg.install("audit_null", "libaudit_null.so").unwrap();
    assert!(!host.log_contains("deinit returned"));
}

#[test]
fn library_stays_open_while_another_of_its_plugins_remains() {
    let (dir, host, reg) = setup();
    let names = reg.install_soname("lifecycle.so").map(|_| ()).unwrap_err();
    // lc_no_install refuses INSTALL SONAME as a whole.
    assert_eq!(names.code(), 1721);
    reg.install("lc_first", "lifecycle.so")
        .expect("install lc_first");
    reg.install("lc_second", "lifecycle.so")
        .expect("install lc_second");
    let lib = dir.path().join("lifecycle.so");
    assert_eq!(
        reg.uninstall("lc_first").unwrap(),
        UninstallOutcome::Unloaded
    );
    assert!(
        util::is_mapped(&lib),
        "closed while lc_second still uses it"
    );
    assert!(host.log_contains("[lc_first] deinit lc_first"));
    assert_eq!(reg.uninstall_soname("lifecycle.so").unwrap().len(), 1);
    assert!(!util::is_mapped(&lib));
}

#[test]
fn validate_runs_for_all_before_any_init_and_failures_roll_back() {
    let (_d, host, reg) = setup();
    let reqs = vec![
        LoadRequest {
            name: Some("lc_first".into()),
            soname: "lifecycle.so".into(),
            option: LoadOption::On,
        },
        LoadRequest {
            name: Some("lc_second".into()),
            soname: "lifecycle.so".into(),
            option: LoadOption::On,
        },
        LoadRequest {
            name: Some("lc_no_install".into()),
            soname: "lifecycle.so".into(),
            option: LoadOption::On,
        },
    ];
    let loaded = reg.load_startup(&reqs).unwrap();
    assert_eq!(loaded, vec!["lc_first", "lc_second", "lc_no_install"]);
    let order: Vec<String> = host
        .log_lines()
        .into_iter()
        .filter(|l| l.contains(" lc_"))
        .collect();
    assert_eq!(
        order,
        vec![
            "[lc_first] validate lc_first",
            "[lc_second] validate lc_second",
            "[lc_no_install] validate lc_no_install",
            "[lc_first] init lc_first",
            "[lc_second] init lc_second",
            "[lc_no_install] init lc_no_install",
        ]
    );
    // Cross-plugin validation: needs audit_null.
    let e = reg
        .install("lc_needs_audit_null", "lifecycle.so")
        .unwrap_err();
    assert_eq!(e.code(), 1123);
    assert_eq!(reg.state("lc_needs_audit_null"), None);
    reg.install("audit_null", "libaudit_null.so").unwrap();
    reg.install("lc_needs_audit_null", "lifecycle.so").unwrap();
    // Init failure: error, nothing left registered.
    let e = reg.install("lc_init_fails", "lifecycle.so").unwrap_err();
    assert_eq!(e.code(), 1123);
    assert!(e.to_string().contains("lc_init_fails"), "{e}");
    assert_eq!(reg.state("lc_init_fails"), None);
    // Flags.
    assert_eq!(
        reg.install("lc_no_uninstall", "lifecycle.so").map(|_| ()),
        Ok(())
    );
    assert_eq!(reg.uninstall("lc_no_uninstall").unwrap_err().code(), 1703);
}

#[test]
fn startup_load_options() {
    let (_d, host, reg) = setup();
    let reqs = vec![
        LoadRequest {
            name: Some("audit_null".into()),
            soname: "libaudit_null.so".into(),
            option: LoadOption::ForcePlusPermanent,
        },
        LoadRequest {
            name: Some("is_example".into()),
            soname: "libis_example.so".into(),
            option: LoadOption::Off,
        },
        LoadRequest {
            name: Some("lc_init_fails".into()),
            soname: "lifecycle.so".into(),
            option: LoadOption::On,
        },
        LoadRequest {
            name: None,
            soname: "no_such_library.so".into(),
            option: LoadOption::On,
        },
    ];
    let loaded = reg.load_startup(&reqs).unwrap();
    assert_eq!(loaded, vec!["audit_null", "is_example"]);
    assert_eq!(reg.state("audit_null"), Some(PluginState::Active));
    assert_eq!(reg.state("is_example"), Some(PluginState::Inactive));
    assert_eq!(reg.state("lc_init_fails"), Some(PluginState::Disabled));
    assert!(host.log_contains("no_such_library.so"));
    assert_eq!(reg.uninstall("audit_null").unwrap_err().code(), 1702);
    assert_eq!(
        reg.plugins()
            .iter()
            .find(|p| p.name == "audit_null")
            .unwrap()
            .load_option
            .as_str(),
        "FORCE_PLUS_PERMANENT"
    );
    // An inactive table is not offered.
    assert!(reg.info_schema_tables().is_empty());
    assert_eq!(
        reg.session(1).fill_table("is_example").unwrap_err().code(),
        1524
    );
    // Uninstalling never-initialised plugins works (no deinit).
    assert_eq!(
        reg.uninstall("is_example").unwrap(),
        UninstallOutcome::Unloaded
    );
    assert_eq!(
        reg.uninstall("lc_init_fails").unwrap(),
        UninstallOutcome::Unloaded
    );

    // FORCE: a failing plugin fails the startup.
    let (_d2, _h2, reg2) = setup();
    let force = vec![LoadRequest {
        name: Some("lc_init_fails".into()),
        soname: "lifecycle.so".into(),
        option: LoadOption::Force,
    }];
    assert_eq!(reg2.load_startup(&force).unwrap_err().code(), 1123);
    assert!(reg2.plugins().is_empty());
}

#[test]
fn information_schema_table_fills_with_session_services() {
    let (_d, host, reg) = setup();
    *host.session.lock().unwrap() = Some(SessionInfo {
        connection_id: 42,
        user: "u".into(),
        host: "h".into(),
        query: "q".into(),
    });
    reg.install("is_example", "libis_example.so").unwrap();
    let tables = reg.info_schema_tables();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].0, "IS_EXAMPLE");
    let cols: Vec<&str> = tables[0].1.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["ID", "NAME", "SQUARE", "CONNECTION_ID"]);
    let mut s = reg.session(42);
    let (_, rows) = s.fill_table("IS_EXAMPLE").unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[2],
        vec![
            Value::Int(3),
            Value::Str("row 3".into()),
            Value::Real(9.0),
            Value::Int(42)
        ]
    );
    reg.set_system_variable("is_example_rows", &Value::Int(5))
        .unwrap();
    assert_eq!(s.fill_table("is_example").unwrap().1.len(), 5);
    assert_eq!(
        reg.set_system_variable("is_example_rows", &Value::Int(5000))
            .unwrap_err()
            .code(),
        1231
    );
    assert_eq!(status(&reg, "is_example_fills"), Some(Value::Int(2)));
    let d = host.dbug.lock().unwrap().clone();
    assert!(
        matches!(&d[..3], [Dbug::Enter(f, file, _), Dbug::Print(k, m), Dbug::Return(r)]
            if f == "is_example_fill" && file.ends_with("lib.rs") && k == "info" && m == "3 rows" && r == "is_example_fill"),
        "{d:?}"
    );
    assert_eq!(binding(&reg, "is_example", "TABLE").calls, 2);
    assert_eq!(s.fill_table("nope").unwrap_err().code(), 1305);
}

#[test]
fn daemon_heartbeat_writes_to_the_data_dir_and_stops_at_deinit() {
    let (dir, host, reg) = setup();
    let data = util::TempDir::new("data");
    *host.data_dir.lock().unwrap() = Some(data.path().to_path_buf());
    reg.set_startup_variables([("daemon_heartbeat_interval".to_string(), "1".to_string())]);
    reg.install("daemon_heartbeat", "libdaemon_heartbeat.so")
        .unwrap();
    let file = data.path().join("heartbeat.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let n = std::fs::read_to_string(&file)
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if n >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than 2 heartbeats in 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("heartbeat 1 "), "{text}");
    assert!(matches!(status(&reg, "daemon_heartbeat_beats"), Some(Value::Int(n)) if n >= 2));
    assert_eq!(binding(&reg, "daemon_heartbeat", "DAEMON").calls, 1);
    let changes = host
        .modules_changed
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        reg.uninstall("daemon_heartbeat").unwrap(),
        UninstallOutcome::Unloaded
    );
    // The host closed its handle (dlclose + module-map refresh). glibc itself keeps a
    // library mapped once a thread it started has registered TLS destructors (every
    // Rust thread does), so the mapping is not checked here.
    assert_eq!(
        host.modules_changed
            .load(std::sync::atomic::Ordering::SeqCst),
        changes + 1
    );
    let after = std::fs::read_to_string(&file).unwrap().lines().count();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().lines().count(),
        after,
        "thread still running after deinit"
    );
    drop(dir);
}

#[test]
fn udf_scalar_and_aggregate_calls() {
    let (_d, _h, reg) = setup();
    let so = udf_example::SONAME;
    reg.create_function("reverse_string", UdfReturn::String, false, so)
        .unwrap();
    reg.create_function("myfunc_int", UdfReturn::Integer, false, so)
        .unwrap();
    reg.create_function("myfunc_double", UdfReturn::Real, false, so)
        .unwrap();
    reg.create_function("sequence", UdfReturn::Integer, false, so)
        .unwrap();
    reg.create_function("avgcost", UdfReturn::Real, true, so)
        .unwrap();
    assert_eq!(
        reg.create_function("reverse_string", UdfReturn::String, false, so)
            .unwrap_err()
            .code(),
        1125
    );
    assert_eq!(
        reg.create_function("no_such_fn", UdfReturn::Integer, false, so)
            .unwrap_err()
            .code(),
        1127
    );
    // An aggregate needs name_add/name_clear.
    assert_eq!(
        reg.create_function("myfunc_int", UdfReturn::Integer, true, so)
            .unwrap_err()
            .code(),
        1125
    );
    reg.drop_function("myfunc_double").unwrap();
    let e = reg
        .create_function("myfunc_double", UdfReturn::Real, true, so)
        .unwrap_err();
    assert_eq!(e.code(), 1127);
    assert!(e.to_string().contains("myfunc_double_clear"), "{e}");
    reg.create_function("myfunc_double", UdfReturn::Real, false, so)
        .unwrap();
    assert_eq!(reg.functions().len(), 5);

    let mut s = reg.session(9);
    let str_arg = |a: &str| UdfArg {
        arg_type: UdfArgType::String,
        constant: None,
        attribute: a.into(),
    };
    let int_arg = |a: &str| UdfArg {
        arg_type: UdfArgType::Integer,
        constant: None,
        attribute: a.into(),
    };
    let real_arg = |a: &str| UdfArg {
        arg_type: UdfArgType::Real,
        constant: None,
        attribute: a.into(),
    };

    let mut rev = s
        .prepare_function("REVERSE_STRING", &[str_arg("c")])
        .unwrap();
    assert_eq!(
        rev.call(&[Value::Str("hello".into())]).unwrap(),
        Value::Str("olleh".into())
    );
    let long: String = (0..1000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    assert_eq!(
        rev.call(&[Value::Str(long.clone())]).unwrap(),
        Value::Str(long.chars().rev().collect())
    );
    assert_eq!(rev.call(&[Value::Null]).unwrap(), Value::Null);
    // Binary in, binary out: bytes that are not UTF-8 come back unchanged.
    assert_eq!(
        rev.call(&[Value::Bytes(vec![0xff, 0x00, b'A'])]).unwrap(),
        Value::Bytes(vec![b'A', 0x00, 0xff])
    );
    assert_eq!(rev.call(&[]).unwrap_err().code(), 1105);
    drop(rev);
    let e = s
        .prepare_function("reverse_string", &[str_arg("a"), str_arg("b")])
        .unwrap_err();
    assert_eq!(e.code(), 1123);
    assert!(
        e.to_string().contains("requires one string argument"),
        "{e}"
    );

    let mut mi = s
        .prepare_function(
            "myfunc_int",
            &[str_arg("'ab'"), int_arg("5"), real_arg("2.5")],
        )
        .unwrap();
    assert_eq!(
        mi.call(&[Value::Str("ab".into()), Value::Int(5), Value::Real(2.5)])
            .unwrap(),
        Value::Int(9)
    );
    let mut md = s
        .prepare_function("myfunc_double", &[int_arg("x")])
        .unwrap();
    // init turned the argument into a string: 12 -> "12" -> ('1' + '2') / 2 = 49.5
    assert_eq!(md.call(&[Value::Int(12)]).unwrap(), Value::Real(49.5));
    let mut sq = s.prepare_function("sequence", &[]).unwrap();
    assert_eq!(sq.call(&[]).unwrap(), Value::Int(1));
    assert_eq!(sq.call(&[]).unwrap(), Value::Int(2));
    let mut sq2 = s.prepare_function("sequence", &[]).unwrap();
    assert_eq!(
        sq2.call(&[]).unwrap(),
        Value::Int(1),
        "each call site has its own state"
    );

    let mut avg = s
        .prepare_function("avgcost", &[int_arg("qty"), real_arg("price")])
        .unwrap();
    assert!(avg.is_aggregate());
    assert_eq!(
        avg.call(&[Value::Int(1), Value::Real(1.0)])
            .unwrap_err()
            .code(),
        1105
    );
    avg.clear().unwrap();
    avg.add(&[Value::Int(2), Value::Real(1.5)]).unwrap();
    avg.add(&[Value::Int(3), Value::Real(2.0)]).unwrap();
    assert_eq!(avg.result().unwrap(), Value::Real(1.8));
    avg.clear().unwrap();
    assert_eq!(avg.result().unwrap(), Value::Null, "empty group");
    let wrong = s
        .prepare_function("avgcost", &[real_arg("a"), real_arg("b")])
        .unwrap_err();
    assert!(
        wrong.to_string().contains("requires an INT and a REAL"),
        "{wrong}"
    );

    let b = binding(&reg, "reverse_string", "FUNCTION");
    assert_eq!((b.calls, b.errors, b.bound_sessions), (7, 2, 1));
    assert_eq!(reg.session_bindings().len(), 5);
    s.release();
    assert!(reg.session_bindings().is_empty());

    reg.drop_function("reverse_string").unwrap();
    let own = _h.ownership.lock().unwrap().clone();
    assert!(
        own.contains(&"+reverse_string libudf_example.so".to_string()),
        "{own:?}"
    );
    assert_eq!(own.last().map(String::as_str), Some("-reverse_string"));
    assert_eq!(
        reg.drop_function("reverse_string").unwrap_err().code(),
        1305
    );
    assert_eq!(
        s.prepare_function("reverse_string", &[str_arg("a")])
            .unwrap_err()
            .code(),
        1305
    );
    // Outside a session (e.g. from a SQLite function closure): no binding recorded.
    let mut unbound = reg.prepare_function("myfunc_int", &[int_arg("1")]).unwrap();
    assert_eq!(unbound.call(&[Value::Int(41)]).unwrap(), Value::Int(41));
    assert!(reg.session_bindings().is_empty());
    assert_eq!(binding(&reg, "myfunc_int", "FUNCTION").calls, 4);
    // A call site prepared before DROP FUNCTION keeps working (library stays open).
    assert_eq!(sq.call(&[]).unwrap(), Value::Int(3));
}

#[test]
fn panicking_rust_plugin_is_disabled_and_the_host_keeps_working() {
    let (_d, host, reg) = setup();
    reg.install("crashme", "libcrashme.so").unwrap();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    let mut s = reg.session(3);
    let err = s
        .audit_general(&general(
            GeneralSubclass::Starting,
            3,
            "SELECT 'crashme:panic'",
        ))
        .unwrap_err();
    assert_eq!(err.code(), 1105);
    assert!(err.to_string().contains("crashme"), "{err}");
    assert_eq!(reg.state("crashme"), Some(PluginState::Disabled));
    assert!(
        host.log_contains(
            "Plugin 'crashme' panicked in notify: crashme: panic requested by connection 3"
        ),
        "{:?}",
        host.log_lines()
    );
    assert!(host.log_contains("it has been disabled"));
    assert_eq!(binding(&reg, "crashme", "AUDIT GENERAL").errors, 1);
    // The server goes on: later events reach audit_null, crashme is skipped.
    s.release();
    s.audit_general(&general(
        GeneralSubclass::Starting,
        3,
        "SELECT 'crashme:panic'",
    ))
    .unwrap();
    assert_eq!(
        status(&reg, "audit_null_general_starting"),
        Some(Value::Int(1))
    );
    assert_eq!(binding(&reg, "crashme", "AUDIT GENERAL").calls, 1);
    // DBUG keyword trigger on a fresh plugin, and panics in a variable update.
    assert_eq!(
        reg.uninstall("crashme").unwrap(),
        UninstallOutcome::Unloaded
    );
    reg.install("crashme", "libcrashme.so").unwrap();
    host.keywords.lock().unwrap().push("crashme_panic".into());
    assert_eq!(
        s.audit_general(&general(GeneralSubclass::Starting, 3, "SELECT 1"))
            .unwrap_err()
            .code(),
        1105
    );
    host.keywords.lock().unwrap().clear();
    assert_eq!(reg.state("crashme"), Some(PluginState::Disabled));
    // The session still holds its binding: the uninstall is deferred, then completes.
    let out = reg.uninstall("crashme").unwrap();
    assert!(
        matches!(out, UninstallOutcome::Deferred(ref w) if w.code == 1620),
        "{out:?}"
    );
    s.release();
    assert_eq!(reg.state("crashme"), None);
}

#[test]
fn panic_in_init_fails_the_install_cleanly() {
    let (_d, host, reg) = setup();
    reg.set_startup_variables([("crashme_panic_in_init".to_string(), "ON".to_string())]);
    let e = reg.install("crashme", "libcrashme.so").unwrap_err();
    assert_eq!(e.code(), 1123);
    assert!(e.to_string().contains("panicked"), "{e}");
    assert!(
        host.log_contains("Plugin 'crashme' panicked in init: crashme: panic requested in init")
    );
    assert_eq!(reg.state("crashme"), None);
    // The host is fine and the library can be used again.
    reg.set_startup_variables([("crashme_panic_in_init".to_string(), "OFF".to_string())]);
    reg.install("crashme", "libcrashme.so").unwrap();
}

#[test]
fn rust_library_with_two_plugins_and_a_panicking_fill() {
    let (_d, host, reg) = setup();
    assert_eq!(
        reg.install_soname("libcrashme.so").unwrap(),
        vec!["crashme", "crashme_table"]
    );
    let mut s = reg.session(4);
    let e = s.fill_table("CRASHME_TABLE").unwrap_err();
    assert_eq!(e.code(), 1105);
    assert_eq!(reg.state("crashme_table"), Some(PluginState::Disabled));
    assert_eq!(reg.state("crashme"), Some(PluginState::Active));
    assert!(host.log_contains(
        "Plugin 'crashme_table' panicked in fill: crashme_table: panic requested in fill"
    ));
    assert_eq!(s.fill_table("CRASHME_TABLE").unwrap_err().code(), 1524);
    s.release();
    assert_eq!(reg.uninstall_soname("libcrashme.so").unwrap().len(), 2);
}

#[test]
fn panic_in_a_variable_update_is_caught() {
    let (_d, host, reg) = setup();
    reg.install("crashme", "libcrashme.so").unwrap();
    reg.set_system_variable("crashme_panic_in_update", &Value::Str("ON".into()))
        .unwrap();
    assert!(
        host.log_contains("panicked in sysvar_update"),
        "{:?}",
        host.log_lines()
    );
}

#[test]
fn protocol_trace_masks_authentication_and_flags_bad_transitions() {
    let (_d, host, reg) = setup();
    reg.set_startup_variables([("protocol_trace_debug".to_string(), "ON".to_string())]);
    reg.install("protocol_trace", "libprotocol_trace.so")
        .unwrap();
    let mut s = reg.session(11);
    s.protocol_trace(stage::CONNECTING, event::CONNECTING, b"")
        .unwrap();
    s.protocol_trace(
        stage::WAIT_FOR_INIT_PACKET,
        event::PACKET_SENT,
        b"\x0a8.0.0",
    )
    .unwrap();
    s.protocol_trace(stage::AUTHENTICATE, event::PACKET_RECEIVED, b"root\0secret")
        .unwrap();
    s.protocol_trace(
        stage::READY_FOR_COMMAND,
        event::PACKET_RECEIVED,
        b"\x03SELECT 1",
    )
    .unwrap();
    let log = host.log_lines().join("\n");
    assert!(
        log.contains("stage AUTHENTICATE event PACKET_RECEIVED (11 bytes)"),
        "{log}"
    );
    assert!(log.contains("2a 2a 2a 2a 2a 2a 2a 2a 2a 2a 2a"), "{log}");
    assert!(
        !log.contains("73 65 63 72 65 74"),
        "password bytes leaked to the trace:\n{log}"
    );
    assert!(log.contains("03 53 45 4c 45 43 54 20 31"), "{log}");
    assert_eq!(
        status(&reg, "protocol_trace_bad_transitions"),
        Some(Value::Int(0))
    );
    // READY_FOR_COMMAND -> WAIT_FOR_ROW is impossible.
    s.protocol_trace(stage::WAIT_FOR_ROW, event::PACKET_SENT, b"x")
        .unwrap();
    assert_eq!(
        status(&reg, "protocol_trace_bad_transitions"),
        Some(Value::Int(1))
    );
    assert!(host.log_contains(
        "impossible stage transition READY_FOR_COMMAND -> WAIT_FOR_ROW on connection 11"
    ));
    assert_eq!(status(&reg, "protocol_trace_events"), Some(Value::Int(5)));
    assert_eq!(binding(&reg, "protocol_trace", "PROTOCOL TRACE").calls, 5);
}

#[test]
fn c_plugin_uses_dbug_and_log_services() {
    let (_d, host, reg) = setup();
    reg.install("crashme_c", "libcrashme_c.so").unwrap();
    let mut s = reg.session(1);
    s.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 1"))
        .unwrap();
    let d = host.dbug.lock().unwrap().clone();
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(
        matches!(&d[0], Dbug::Enter(f, file, line) if f == "crashme_notify" && file.ends_with("crashme_c.c") && *line > 0)
    );
    assert_eq!(
        d[1],
        Dbug::Print("info".into(), "checking the statement".into())
    );
    assert_eq!(d[2], Dbug::Return("crashme_notify".into()));
}

#[test]
fn plugin_replacing_signal_handlers_is_reported() {
    let (_d, host, reg) = setup();
    reg.install("crashme_sighandler", "libcrashme_c.so")
        .unwrap();
    assert!(
        host.log_contains("Plugin 'crashme_sighandler' replaced the server's SIGSEGV handler"),
        "{:?}",
        host.log_lines()
    );
}

#[test]
fn older_and_newer_minor_interface_versions_both_load() {
    let (_d, _h, reg) = setup();
    let old = reg.install_soname("old_minor.so").unwrap();
    assert_eq!(old, vec!["old_minor_a", "old_minor_b"]);
    let new = reg.install_soname("new_minor.so").unwrap();
    assert_eq!(new, vec!["new_minor_a", "new_minor_b"]);
    let infos = reg.plugins();
    assert_eq!(
        infos
            .iter()
            .find(|p| p.name == "old_minor_b")
            .unwrap()
            .description,
        "second 1.0 plugin"
    );
    assert_eq!(
        infos
            .iter()
            .find(|p| p.name == "new_minor_b")
            .unwrap()
            .description,
        "second 1.2 plugin"
    );
    assert!(infos.iter().all(|p| p.status == PluginState::Active));
    // 1.1's flush: absent in the 1.0 library (zero-filled), present in the 1.2 one.
    reg.flush(None).unwrap();
    reg.flush(Some("new_minor_a")).unwrap();
    assert_eq!(status(&reg, "new_minor_a_flushes"), Some(Value::Int(2)));
    assert_eq!(reg.flush(Some("nope")).unwrap_err().code(), 1305);
}

#[test]
fn bad_libraries_are_refused_with_mysql_codes() {
    let (dir, _h, reg) = setup();
    let code = |r: Result<Vec<String>, minnow_plugin_host::PluginError>| r.unwrap_err().code();
    // Not a plugin: a shared object without our symbols.
    let e = reg.install_soname("not_a_plugin.so").unwrap_err();
    assert_eq!(e.code(), 1127);
    assert!(
        e.to_string().contains("_minnow_plugin_interface_version_"),
        "{e}"
    );
    // Not even a shared object: the loader's reason is in the message.
    std::fs::write(dir.path().join("garbage.so"), b"this is not an ELF file").unwrap();
    let e = reg.install_soname("garbage.so").unwrap_err();
    assert_eq!(e.code(), 1126);
    assert!(e.to_string().contains("garbage.so"), "{e}");
    assert!(
        e.to_string().to_lowercase().contains("elf") || e.to_string().contains("file too short"),
        "{e}"
    );
    let e = reg.install_soname("missing_file.so").unwrap_err();
    assert_eq!(e.code(), 1126);
    // Wrong major version, bad descriptor version, missing declarations.
    let e = reg.install_soname("wrong_major.so").unwrap_err();
    assert_eq!(e.code(), 1126);
    assert!(e.to_string().contains("2.0 is incompatible"), "{e}");
    let e = reg.install_soname("bad_descriptor.so").unwrap_err();
    assert_eq!(e.code(), 1126);
    assert!(e.to_string().contains("type descriptor version 2.0"), "{e}");
    assert_eq!(code(reg.install_soname("missing_decls.so")), 1127);
    // A plugin name the library doesn't declare.
    assert_eq!(code(reg.install("nope", "libaudit_null.so")), 1127);
    // Paths.
    assert_eq!(code(reg.install_soname("../libaudit_null.so")), 1124);
    assert_eq!(code(reg.install_soname("sub/libaudit_null.so")), 1124);
    assert_eq!(
        code(reg.install_soname(&dir.path().join("libaudit_null.so").to_string_lossy())),
        1124
    );
    assert_eq!(code(reg.install_soname(&"x".repeat(300))), 1124);
    assert_eq!(code(reg.install_soname("")), 1124);
    // Symlink escape vs a symlink that stays inside.
    let outside = util::TempDir::new("outside");
    std::fs::copy(
        dir.path().join("libaudit_null.so"),
        outside.path().join("libevil.so"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("libevil.so"),
        dir.path().join("libevil.so"),
    )
    .unwrap();
    let e = reg.install_soname("libevil.so").unwrap_err();
    assert_eq!(e.code(), 1124);
    assert!(e.to_string().contains("outside plugin_dir"), "{e}");
    std::os::unix::fs::symlink("libaudit_null.so", dir.path().join("libalias.so")).unwrap();
    reg.install_soname("libalias.so").unwrap();
    // Duplicates and unknown plugins.
    assert_eq!(code(reg.install("audit_null", "libaudit_null.so")), 1125);
    assert_eq!(reg.uninstall("nope").unwrap_err().code(), 1305);
    assert_eq!(reg.uninstall_soname("nope.so").unwrap_err().code(), 1305);
    // Nothing half-installed remains.
    assert_eq!(reg.plugins().len(), 1);
}

/// Runs a crash in a child process (this test binary, `--ignored` helper).
fn crash_child(mode: &str) -> std::process::ExitStatus {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "crash_child_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("MINNOW_CRASH_MODE", mode)
        .output()
        .expect("spawn child")
        .status
}

#[test]
#[ignore = "helper run in a child process by crashing_plugins_kill_the_process_with_the_right_signal"]
fn crash_child_helper() {
    let mode = std::env::var("MINNOW_CRASH_MODE").expect("only run by the parent test");
    let (_d, _h, reg) = setup();
    let mut s = reg.session(1);
    match mode.as_str() {
        // C UDFs.
        "segv" | "fpe" | "abort" => {
            let name = format!("crash_{mode}");
            reg.create_function(&name, UdfReturn::Integer, false, crashme_c::SONAME)
                .unwrap();
            let mut f = s.prepare_function(&name, &[]).unwrap();
            let _ = f.call(&[]);
        }
        // The C audit hook, triggered by the statement text.
        "hook_segv" => {
            reg.install("crashme_c", crashme_c::SONAME).unwrap();
            let _ = s.audit_general(&general(
                GeneralSubclass::Starting,
                1,
                "SELECT 'crashme_c:segv'",
            ));
        }
        // The Rust audit hook, triggered by a DBUG keyword.
        "rust_abort" => {
            reg.install("crashme", "libcrashme.so").unwrap();
            _h.keywords.lock().unwrap().push("crashme_abort".into());
            let _ = s.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 1"));
        }
        // protocol_trace with crash=ON on an impossible transition.
        "trace_abort" => {
            reg.set_startup_variables([("protocol_trace_crash".to_string(), "ON".to_string())]);
            reg.install("protocol_trace", "libprotocol_trace.so")
                .unwrap();
            // CONNECTING -> READY_FOR_COMMAND skips the handshake. (A connection
            // first seen past CONNECTING was open before the install: not judged.)
            let _ = s.protocol_trace(stage::CONNECTING, event::CONNECTING, b"");
            let _ = s.protocol_trace(stage::READY_FOR_COMMAND, event::PACKET_RECEIVED, b"x");
        }
        other => panic!("unknown crash mode {other}"),
    }
    unreachable!("crash mode {mode} returned");
}

#[test]
fn crashing_plugins_kill_the_process_with_the_right_signal() {
    util::rust_plugin_dir();
    for (mode, sig) in [
        ("segv", libc_sig::SIGSEGV),
        ("fpe", libc_sig::SIGFPE),
        ("abort", libc_sig::SIGABRT),
        ("hook_segv", libc_sig::SIGSEGV),
        ("rust_abort", libc_sig::SIGABRT),
        ("trace_abort", libc_sig::SIGABRT),
    ] {
        let st = crash_child(mode);
        assert_eq!(st.signal(), Some(sig), "mode {mode}: {st:?}");
    }
}

mod libc_sig {
    pub const SIGSEGV: i32 = 11;
    pub const SIGFPE: i32 = 8;
    pub const SIGABRT: i32 = 6;
}

#[test]
fn shutdown_deinits_everything() {
    let (_d, host, reg) = setup();
    reg.install("lc_first", "lifecycle.so").unwrap();
    reg.install("lc_second", "lifecycle.so").unwrap();
    let mut s = reg.session(1);
    reg.install("audit_null", "libaudit_null.so").unwrap();
    s.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 1"))
        .unwrap();
    reg.shutdown();
    assert!(reg.plugins().is_empty());
    let lines: Vec<String> = host
        .log_lines()
        .into_iter()
        .filter(|l| l.contains("deinit lc_"))
        .collect();
    assert_eq!(
        lines,
        vec!["[lc_second] deinit lc_second", "[lc_first] deinit lc_first"]
    );
    drop(s);
}

mod builtin {
    //! Built-in plugins written with the SDK inside this test program (as the server
    //! does for `mysql_native_password`), registered without a library.
    use minnow_plugin::{
        AuthPlugin, AuthRequest, Host, PasswordValidationPlugin, Plugin, sysvar_int,
    };

    pub struct PlainAuth;
    impl Plugin for PlainAuth {
        const NAME: &'static std::ffi::CStr = c"test_plain_password";
        fn init(_host: Host) -> Result<Self, String> {
            Ok(PlainAuth)
        }
    }
    impl AuthPlugin for PlainAuth {
        const CLIENT_PLUGIN: &'static std::ffi::CStr = c"mysql_clear_password";
        fn authenticate(&self, r: &AuthRequest<'_>) -> bool {
            !r.user.is_empty() && r.response == r.auth_string
        }
        fn generate_auth_string(&self, password: &[u8]) -> Result<Vec<u8>, String> {
            Ok(password.iter().rev().copied().collect())
        }
    }

    pub struct MinLength {
        host: Host,
        min: std::sync::atomic::AtomicI64,
    }
    impl Plugin for MinLength {
        const NAME: &'static std::ffi::CStr = c"test_min_length";
        const SYSTEM_VARS: &'static [minnow_plugin::abi::SysVarDecl] =
            &[sysvar_int(c"length", c"Minimum password length", 8, 0, 100)];
        fn init(host: Host) -> Result<Self, String> {
            let min = host.sysvar("length").and_then(|v| v.as_int()).unwrap_or(8);
            Ok(MinLength {
                host,
                min: min.into(),
            })
        }
        fn update_sysvar(&self, _index: usize, value: &minnow_plugin::Value) {
            if let Some(v) = value.as_int() {
                self.min.store(v, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
    impl PasswordValidationPlugin for MinLength {
        fn validate_password(&self, password: &[u8]) -> Result<(), String> {
            if self.host.user().is_some_and(|u| u.as_bytes() == password) {
                return Err("the password is the user name".into());
            }
            if (password.len() as i64) < self.min.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("too short".into());
            }
            Ok(())
        }
        fn strength(&self, password: &[u8]) -> u32 {
            (password.len() as u32 * 10).min(100)
        }
    }
}

#[test]
fn builtin_auth_and_password_validation_plugins() {
    let (_d, host, reg) = setup();
    *host.session.lock().unwrap() = Some(SessionInfo {
        connection_id: 1,
        user: "alice".into(),
        host: "localhost".into(),
        query: "CREATE USER".into(),
    });
    let auth = minnow_plugin::BuiltinDecl::authentication::<builtin::PlainAuth>();
    let pv = minnow_plugin::BuiltinDecl::password_validation::<builtin::MinLength>();
    assert_eq!(reg.register_builtin(&auth).unwrap(), "test_plain_password");
    assert_eq!(reg.register_builtin(&pv).unwrap(), "test_min_length");
    assert_eq!(reg.register_builtin(&pv).unwrap_err().code(), 1125);
    let infos = reg.plugins();
    assert_eq!(infos[0].plugin_type, PluginType::Authentication);
    assert_eq!(infos[0].library, "");
    assert_eq!(infos[1].plugin_type, PluginType::PasswordValidation);
    assert_eq!(
        reg.uninstall("test_plain_password").unwrap_err().code(),
        1619
    );
    assert_eq!(
        reg.auth_plugins(),
        vec![(
            "test_plain_password".to_string(),
            "mysql_clear_password".to_string()
        )]
    );

    let mut s = reg.session(1);
    let stored = s
        .generate_auth_string("test_plain_password", b"secret")
        .unwrap();
    assert_eq!(stored, b"terces");
    let req = |resp: &'static [u8]| minnow_plugin_host::AuthRequest {
        user: "alice",
        host: "localhost",
        auth_string: b"terces",
        scramble: b"01234567890123456789",
        response: resp,
    };
    assert!(
        s.authenticate("test_plain_password", &req(b"terces"))
            .unwrap()
    );
    assert!(
        !s.authenticate("test_plain_password", &req(b"wrong"))
            .unwrap()
    );
    assert_eq!(s.authenticate("nope", &req(b"x")).unwrap_err().code(), 1305);
    assert_eq!(
        binding(&reg, "test_plain_password", "AUTHENTICATION").calls,
        2
    );
    assert_eq!(
        binding(&reg, "test_plain_password", "AUTHENTICATION").errors,
        1
    );

    assert_eq!(s.validate_password(b"short").unwrap_err().code(), 1819);
    s.validate_password(b"long enough").unwrap();
    reg.set_system_variable("test_min_length_length", &Value::Int(3))
        .unwrap();
    s.validate_password(b"short").unwrap();
    // The session service: the plugin refuses the user's own name.
    let e = s.validate_password(b"alice").unwrap_err();
    assert!(e.to_string().contains("test_min_length"), "{e}");
    assert_eq!(s.password_strength(b"abcd"), Some(40));
    reg.shutdown();
}

#[test]
fn concurrent_sessions_survive_install_uninstall_cycles() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
    let (_d, _h, reg) = setup();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let done = std::sync::Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for t in 0..4u64 {
        let (reg, stop, done) = (reg.clone(), stop.clone(), done.clone());
        threads.push(std::thread::spawn(move || {
            let mut s = reg.session(1000 + t);
            while !stop.load(SeqCst) {
                s.audit_general(&general(GeneralSubclass::Starting, 1000 + t, "SELECT 1"))
                    .unwrap();
                s.audit_general(&general(GeneralSubclass::Completed, 1000 + t, "SELECT 1"))
                    .unwrap();
                s.release();
                done.fetch_add(1, SeqCst);
            }
        }));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut deferred = 0;
    for _ in 0..30 {
        // Let the sessions run some statements against this incarnation of the plugin.
        let before = done.load(SeqCst);
        while done.load(SeqCst) < before + 8 {
            assert!(
                std::time::Instant::now() < deadline,
                "sessions made no progress"
            );
            std::thread::yield_now();
        }
        match reg.uninstall("audit_null").unwrap() {
            UninstallOutcome::Unloaded => {}
            UninstallOutcome::Deferred(_) => deferred += 1,
        }
        // A deferred uninstall completes within one statement of each session.
        while reg.state("audit_null").is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "deferred uninstall never completed"
            );
            std::thread::yield_now();
        }
        reg.install("audit_null", "libaudit_null.so").unwrap();
    }
    stop.store(true, SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(reg.state("audit_null"), Some(PluginState::Active));
    assert!(reg.session_bindings().is_empty());
    eprintln!(
        "{} statements, {deferred} of 30 uninstalls deferred",
        done.load(SeqCst)
    );
}

#[test]
fn startup_applies_per_plugin_options_skips_duplicates_and_validates_across_the_batch() {
    let (dir, host, reg) = setup();
    reg.set_load_options([("crashme-sighandler".to_string(), LoadOption::Off)]);
    let on = |name: Option<&str>, soname: &str| LoadRequest {
        name: name.map(str::to_string),
        soname: soname.into(),
        option: LoadOption::On,
    };
    let reqs = vec![
        on(None, "libcrashme_c.so"),
        // Validation sees every plugin of the batch: audit_null comes later.
        on(Some("lc_needs_audit_null"), "lifecycle.so"),
        on(Some("audit_null"), "libaudit_null.so"),
        on(Some("audit_null"), "libaudit_null.so"),
    ];
    let loaded = reg.load_startup(&reqs).unwrap();
    assert_eq!(
        loaded,
        vec![
            "crashme_c",
            "crashme_sighandler",
            "lc_needs_audit_null",
            "audit_null"
        ]
    );
    assert_eq!(reg.state("crashme_sighandler"), Some(PluginState::Inactive));
    assert_eq!(reg.state("crashme_c"), Some(PluginState::Active));
    assert_eq!(reg.state("lc_needs_audit_null"), Some(PluginState::Active));
    assert!(host.log_contains("Plugin 'audit_null' is already installed; skipped"));
    // The OFF plugin never ran its init: the SIGSEGV handler was not replaced.
    assert!(!host.log_contains("Plugin 'crashme_sighandler' replaced"));

    let libs = reg.libraries();
    let c = libs
        .iter()
        .find(|(s, _, _)| s == "libcrashme_c.so")
        .expect("crashme_c library");
    assert_eq!(
        c.1,
        dir.path().canonicalize().unwrap().join("libcrashme_c.so")
    );
    assert_eq!(c.2, vec!["crashme_c", "crashme_sighandler"]);

    // Without audit_null, validation fails: that plugin is DISABLED, the rest load.
    let (_d2, host2, reg2) = setup();
    let loaded = reg2
        .load_startup(&[
            on(Some("lc_needs_audit_null"), "lifecycle.so"),
            on(Some("lc_first"), "lifecycle.so"),
        ])
        .unwrap();
    assert_eq!(loaded, vec!["lc_first"]);
    assert_eq!(
        reg2.state("lc_needs_audit_null"),
        Some(PluginState::Disabled)
    );
    assert!(host2.log_contains("Plugin 'lc_needs_audit_null' failed validation"));
}

#[test]
fn handles_can_move_between_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    fn send<T: Send>() {}
    send_sync::<Registry>();
    send::<minnow_plugin_host::Session>();
    send::<minnow_plugin_host::UdfCall>();
    // A session made on one thread is used and dropped on another.
    let (_d, _h, reg) = setup();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    let mut s = reg.session(1);
    s.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 1"))
        .unwrap();
    let t = std::thread::spawn(move || {
        s.audit_general(&general(GeneralSubclass::Completed, 1, "SELECT 1"))
            .unwrap();
        drop(s);
    });
    t.join().unwrap();
    assert!(reg.session_bindings().is_empty());
    assert_eq!(binding(&reg, "audit_null", "AUDIT GENERAL").calls, 2);
}

#[test]
fn dropping_the_last_registry_handle_deinits_plugins() {
    let (_d, host, reg) = setup();
    reg.install("lc_first", "lifecycle.so").unwrap();
    let s = reg.session(1);
    drop(reg);
    assert!(
        !host.log_contains("deinit lc_first"),
        "a live session keeps the registry"
    );
    drop(s);
    assert!(
        host.log_contains("[lc_first] deinit lc_first"),
        "{:?}",
        host.log_lines()
    );
}

#[test]
fn call_timing_can_be_turned_off_without_losing_counts() {
    let (_d, _h, reg) = setup();
    reg.install("noop_audit", "noop_audit.so").unwrap();
    reg.set_call_timing(minnow_plugin_host::CallTiming::Off);
    let mut s = reg.session(1);
    for _ in 0..100 {
        s.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 1"))
            .unwrap();
    }
    let b = binding(&reg, "noop_audit", "AUDIT GENERAL");
    assert_eq!(
        (b.calls, b.total_time_us, b.max_time_us, b.bound_sessions),
        (100, 0, 0, 1)
    );
    reg.set_call_timing(minnow_plugin_host::CallTiming::Every);
    let t = std::time::Instant::now();
    for _ in 0..2000 {
        s.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 1"))
            .unwrap();
    }
    let wall = t.elapsed().as_micros() as u64;
    let b = binding(&reg, "noop_audit", "AUDIT GENERAL");
    assert_eq!(b.calls, 2100);
    assert!(
        b.total_time_us <= wall,
        "time in plugin {} > wall {wall}",
        b.total_time_us
    );
    // Sampled: exact counts, a time estimate from 1 call in 4.
    reg.set_call_timing(minnow_plugin_host::CallTiming::Sampled(4));
    for _ in 0..400 {
        s.audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 1"))
            .unwrap();
    }
    let c = binding(&reg, "noop_audit", "AUDIT GENERAL");
    assert_eq!(c.calls, 2500);
    assert!(c.total_time_us >= b.total_time_us && c.max_time_us >= b.max_time_us);
}

#[test]
fn auth_test_example_authenticates_in_clear_text_and_validates_passwords() {
    let (_d, host, reg) = setup();
    *host.session.lock().unwrap() = Some(SessionInfo {
        connection_id: 3,
        user: "bob".into(),
        host: "localhost".into(),
        query: String::new(),
    });
    reg.install_soname("libauth_test.so").unwrap();
    assert_eq!(
        reg.auth_plugins(),
        vec![(
            "auth_test_plugin".to_string(),
            "mysql_clear_password".to_string()
        )]
    );
    let mut s = reg.session(3);
    let stored = s
        .generate_auth_string("auth_test_plugin", b"pa55word")
        .unwrap();
    let req = |resp: &'static [u8]| minnow_plugin_host::AuthRequest {
        user: "bob",
        host: "localhost",
        auth_string: b"pa55word",
        scramble: b"",
        response: resp,
    };
    assert_eq!(stored, b"pa55word");
    assert!(
        s.authenticate("auth_test_plugin", &req(b"pa55word\0"))
            .unwrap()
    );
    assert!(
        !s.authenticate("auth_test_plugin", &req(b"guess\0"))
            .unwrap()
    );
    assert_eq!(
        status(&reg, "auth_test_plugin_accepted"),
        Some(Value::Int(1))
    );
    assert_eq!(
        status(&reg, "auth_test_plugin_refused"),
        Some(Value::Int(1))
    );

    assert_eq!(s.validate_password(b"short").unwrap_err().code(), 1819);
    s.validate_password(b"long enough").unwrap();
    reg.set_system_variable("validate_password_simple_length", &Value::Str("2".into()))
        .unwrap();
    assert_eq!(
        sysvar(&reg, "validate_password_simple_length"),
        Some(Value::Int(2))
    );
    assert_eq!(s.validate_password(b"bob").unwrap_err().code(), 1819);
    s.validate_password(b"ok").unwrap();
    assert_eq!(s.password_strength(b"abc"), Some(30));
}

#[test]
fn read_only_variables_are_set_at_startup_only() {
    let (_d, _h, reg) = setup();
    reg.install("lc_first", "lifecycle.so").unwrap();
    assert_eq!(
        sysvar(&reg, "lc_first_mode"),
        Some(Value::Str("fixed".into()))
    );
    let v = reg
        .system_variables()
        .into_iter()
        .find(|v| v.name == "lc_first_mode")
        .unwrap();
    assert_eq!(v.def.comment, "read-only mode");
    let e = reg
        .set_system_variable("lc_first_mode", &Value::Str("other".into()))
        .unwrap_err();
    assert_eq!(e.code(), 1238);
    reg.uninstall("lc_first").unwrap();
    reg.set_startup_variables([("lc-first-mode".to_string(), "chosen".to_string())]);
    reg.install("lc_first", "lifecycle.so").unwrap();
    assert_eq!(
        sysvar(&reg, "lc_first_mode"),
        Some(Value::Str("chosen".into()))
    );
}

mod recorder {
    //! Two built-in audit plugins that log what they see (through the SDK's lazy
    //! [`minnow_plugin::Text`] views) into one shared list, to check the strings and
    //! the delivery order.
    use std::sync::Mutex;

    use minnow_plugin::abi::{MINNOW_AUDIT_CONNECTION_CLASSMASK, MINNOW_AUDIT_GENERAL_CLASSMASK};
    use minnow_plugin::{AuditEvent, AuditPlugin, Host, Plugin, Veto};

    pub static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record(who: &str, event: &AuditEvent<'_>) {
        let line = match event {
            AuditEvent::General(e) => format!(
                "{who} general {} err={} rows={} conn={} user={} host={} ip={} cmd={} query={}",
                e.subclass(),
                e.error_code(),
                e.rows(),
                e.connection_id(),
                e.user().to_str(),
                e.host().to_str(),
                e.ip().to_str(),
                e.command().as_str().unwrap_or("?"),
                e.query(),
            ),
            AuditEvent::Connection(e) => format!(
                "{who} connection {} status={} conn={} user={} host={} ip={} db={}",
                e.subclass(),
                e.status(),
                e.connection_id(),
                e.user().to_str(),
                e.host().to_str(),
                e.ip().to_str(),
                e.database().to_str(),
            ),
        };
        SEEN.lock().unwrap().push(line);
    }

    pub struct First;
    impl Plugin for First {
        const NAME: &'static std::ffi::CStr = c"test_recorder_first";
        fn init(_host: Host) -> Result<Self, String> {
            Ok(First)
        }
    }
    impl AuditPlugin for First {
        const CLASS_MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK | MINNOW_AUDIT_CONNECTION_CLASSMASK;
        fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto> {
            record("first", event);
            Ok(())
        }
    }

    pub struct Second;
    impl Plugin for Second {
        const NAME: &'static std::ffi::CStr = c"test_recorder_second";
        fn init(_host: Host) -> Result<Self, String> {
            Ok(Second)
        }
    }
    impl AuditPlugin for Second {
        const CLASS_MASK: u32 = MINNOW_AUDIT_GENERAL_CLASSMASK;
        fn notify(&self, event: &AuditEvent<'_>) -> Result<(), Veto> {
            record("second", event);
            Ok(())
        }
    }
}

#[test]
fn rust_audit_plugins_read_the_event_strings_lazily_and_in_order() {
    let (_d, _h, reg) = setup();
    reg.register_builtin(&minnow_plugin::BuiltinDecl::audit::<recorder::First>())
        .unwrap();
    reg.register_builtin(&minnow_plugin::BuiltinDecl::audit::<recorder::Second>())
        .unwrap();
    recorder::SEEN.lock().unwrap().clear();
    let mut s = reg.session(42);
    let ev = GeneralEvent {
        subclass: GeneralSubclass::Log,
        error_code: 0,
        connection_id: 42,
        rows: 0,
        user: "alice",
        host: "db.example",
        ip: "192.0.2.7",
        command: "Query",
        query: "SELECT 'ünïcode'",
    };
    s.audit_general_seq(
        &ev,
        &[
            (GeneralSubclass::Log, 0, 0),
            (GeneralSubclass::Starting, 0, 0),
        ],
    )
    .unwrap();
    s.audit_general_seq(
        &ev,
        &[
            (GeneralSubclass::Error, 1064, 0),
            (GeneralSubclass::Status, 1064, 0),
            (GeneralSubclass::Completed, 1064, 0),
        ],
    )
    .unwrap();
    s.audit_general(&GeneralEvent {
        subclass: GeneralSubclass::Result,
        rows: 3,
        ..ev
    })
    .unwrap();
    s.audit_connection(&ConnectionEvent {
        subclass: ConnectionSubclass::Connect,
        status: 0,
        connection_id: 42,
        user: "alice",
        host: "db.example",
        ip: "192.0.2.7",
        database: "test",
    })
    .unwrap();
    let seen = std::mem::take(&mut *recorder::SEEN.lock().unwrap());
    let g = |who: &str, sub: u32, err: i32, rows: u64| {
        format!(
            "{who} general {sub} err={err} rows={rows} conn=42 user=alice host=db.example \
             ip=192.0.2.7 cmd=Query query=SELECT 'ünïcode'"
        )
    };
    // Event-major order: each event reaches every plugin (install order) before the next.
    assert_eq!(
        seen,
        vec![
            g("first", 0, 0, 0),
            g("second", 0, 0, 0),
            g("first", 4, 0, 0),
            g("second", 4, 0, 0),
            g("first", 1, 1064, 0),
            g("second", 1, 1064, 0),
            g("first", 3, 1064, 0),
            g("second", 3, 1064, 0),
            g("first", 5, 1064, 0),
            g("second", 5, 1064, 0),
            g("first", 2, 0, 3),
            g("second", 2, 0, 3),
            "first connection 1 status=0 conn=42 user=alice host=db.example ip=192.0.2.7 db=test"
                .to_string(),
        ]
    );
    let b = binding(&reg, "test_recorder_first", "AUDIT GENERAL");
    assert_eq!((b.calls, b.errors, b.bound_sessions), (6, 0, 1));
    s.release();
    assert_eq!(
        binding(&reg, "test_recorder_first", "AUDIT GENERAL").bound_sessions,
        0
    );
}

#[test]
fn statement_sequences_keep_bindings_and_counts_right_over_many_statements() {
    const STATEMENTS: u64 = 500;
    let (_d, _h, reg) = setup();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    let mut a = reg.session(1);
    let mut b = reg.session(2);
    for i in 0..STATEMENTS {
        for (s, id) in [(&mut a, 1u64), (&mut b, 2)] {
            let ev = general(GeneralSubclass::Log, id, "SELECT 1");
            s.audit_general_seq(
                &ev,
                &[
                    (GeneralSubclass::Log, 0, 0),
                    (GeneralSubclass::Starting, 0, 0),
                ],
            )
            .unwrap();
            // Bound from the first event of the statement until release.
            assert_eq!(s.bound_count(), 1);
            s.audit_general_seq(
                &ev,
                &[
                    (GeneralSubclass::Result, 0, 1),
                    (GeneralSubclass::Status, 0, 1),
                    (GeneralSubclass::Completed, 0, 1),
                ],
            )
            .unwrap();
            assert_eq!(s.bound_count(), 1);
        }
        if i % 100 == 0 {
            let rows: Vec<(u64, String)> = reg
                .session_bindings()
                .into_iter()
                .map(|r| {
                    (
                        r.session_id,
                        format!("{}/{}", r.plugin_name, r.extension_point),
                    )
                })
                .collect();
            assert_eq!(
                rows,
                vec![
                    (1, "audit_null/AUDIT GENERAL".to_string()),
                    (2, "audit_null/AUDIT GENERAL".to_string()),
                ]
            );
            assert_eq!(
                binding(&reg, "audit_null", "AUDIT GENERAL").bound_sessions,
                2
            );
        }
        a.release();
        b.release();
        // Between statements nobody holds the plugin.
        assert_eq!((a.bound_count(), b.bound_count()), (0, 0));
        if i % 100 == 0 {
            assert!(reg.session_bindings().is_empty());
            assert_eq!(
                binding(&reg, "audit_null", "AUDIT GENERAL").bound_sessions,
                0
            );
        }
    }
    let g = binding(&reg, "audit_null", "AUDIT GENERAL");
    assert_eq!(
        (g.calls, g.errors, g.bound_sessions),
        (2 * 5 * STATEMENTS, 0, 0)
    );
    for sub in ["log", "starting", "result", "status", "completed"] {
        assert_eq!(
            status(&reg, &format!("audit_null_general_{sub}")),
            Some(Value::Int(2 * STATEMENTS as i64)),
            "{sub}"
        );
    }
    assert_eq!(
        status(&reg, "audit_null_general_error"),
        Some(Value::Int(0))
    );
    // Idle sessions do not hold the plugin: it unloads at once.
    assert_eq!(
        reg.uninstall("audit_null").unwrap(),
        UninstallOutcome::Unloaded
    );
}

#[test]
fn a_veto_in_a_statement_sequence_stops_it() {
    let (_d, _h, reg) = setup();
    reg.install("audit_null", "libaudit_null.so").unwrap();
    reg.install("crashme_c", "libcrashme_c.so").unwrap();
    let mut s = reg.session(9);
    let ev = general(GeneralSubclass::Log, 9, "SELECT 'crashme_c:veto'");
    let err = s
        .audit_general_seq(
            &ev,
            &[
                (GeneralSubclass::Log, 0, 0),
                (GeneralSubclass::Starting, 0, 0),
                (GeneralSubclass::Completed, 0, 0),
            ],
        )
        .unwrap_err();
    assert_eq!(err.code(), 3164, "{err}");
    // audit_null (installed first) saw Log and Starting; nobody saw Completed.
    for (sub, n) in [("log", 1), ("starting", 1), ("completed", 0)] {
        assert_eq!(
            status(&reg, &format!("audit_null_general_{sub}")),
            Some(Value::Int(n)),
            "{sub}"
        );
    }
    assert_eq!(binding(&reg, "crashme_c", "AUDIT GENERAL").errors, 1);
    // The Log subclass cannot veto: a sequence of observe-only events succeeds.
    s.audit_general_seq(&ev, &[(GeneralSubclass::Log, 0, 0)])
        .unwrap();
    s.release();
}
