//! Checks from a review of the plugin architecture against MySQL/MariaDB
//! behaviour, each through the real `mariadb` client against a real `minnowd`
//! (in-process, or as a child process where start-up options or a possible
//! abort are involved) with the real example plugins.

mod util;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use util::{TestServer, run_client, spawn_minnowd, stderr, stdout, temp_dir};

const PLUGINS: [&str; 5] = [
    "conn_ip_filter",
    "daemon_heartbeat",
    "protocol_trace",
    "auth_test",
    "is_example",
];

fn built_plugins() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| util::build_example_plugins(&PLUGINS))
}

/// A fresh plugin_dir with the example plugins and a file that is not a library.
fn plugin_dir(tag: &str) -> PathBuf {
    let src = built_plugins();
    let d = temp_dir(tag).join("plugin");
    std::fs::create_dir_all(&d).expect("plugin dir");
    for p in PLUGINS {
        let f = format!("lib{p}.so");
        std::fs::copy(src.join(&f), d.join(&f)).expect("copy plugin");
    }
    std::fs::write(d.join("libjunk.so"), b"x").expect("junk");
    d
}

/// Runs `sql` with the real client (batch mode, tab-separated, no headers).
fn client(port: u16, user: &str, password: Option<&str>, sql: &str) -> Option<Output> {
    let port = port.to_string();
    let pw = password.map(|p| format!("-p{p}"));
    let mut args = vec![
        "-h127.0.0.1",
        "-P",
        &port,
        "--protocol=TCP",
        "-u",
        user,
        "-N",
        "-B",
    ];
    if let Some(p) = &pw {
        args.push(p);
    }
    args.extend(["-e", sql]);
    run_client("mariadb", &args, None)
}

/// `sql` must succeed; returns its output.
fn ok(port: u16, sql: &str) -> Option<String> {
    let o = client(port, "root", None, sql)?;
    assert!(o.status.success(), "{sql}: {}", stderr(&o));
    Some(stdout(&o))
}

/// `sql` must fail; returns the client's error line.
fn fails(port: u16, sql: &str) -> Option<String> {
    let o = client(port, "root", None, sql)?;
    assert!(!o.status.success(), "{sql} succeeded: {}", stdout(&o));
    Some(stderr(&o))
}

fn server(tag: &str) -> TestServer {
    let pdir = plugin_dir(tag);
    TestServer::start_with(move |c| c.plugin_dir = pdir)
}

#[test]
fn error_messages_carry_the_errno_and_the_value_as_written() {
    let srv = server("msgs");
    let Some(e) = fails(srv.port, "INSTALL SONAME 'nonexist.so'") else {
        return;
    };
    // mysqld: "(errno: 2 ...)", not a constant 0, and no Rust "(os error 2)" suffix.
    assert!(e.contains("ERROR 1126"), "{e}");
    assert!(
        e.contains("(errno: 2 ") && e.contains("No such file or directory)"),
        "{e}"
    );
    assert!(!e.contains("os error"), "{e}");
    let e = fails(srv.port, "INSTALL SONAME 'libjunk.so'").expect("client");
    assert!(e.contains("ERROR 1126") && e.contains("libjunk.so"), "{e}");

    ok(srv.port, "INSTALL SONAME 'libconn_ip_filter.so'");
    // The plugin's check refuses: 1231 with the value as the client wrote it.
    let e = fails(srv.port, "SET GLOBAL conn_ip_filter_allow = 'bad host'").expect("client");
    assert!(
        e.contains("ERROR 1231")
            && e.contains(
                "Variable 'conn_ip_filter_allow' can't be set to the value of 'bad host'"
            ),
        "{e}"
    );
    assert!(!e.contains("Str("), "{e}");
    // ... and its reason is in the error log.
    assert!(
        srv.error_log()
            .contains("value refused for variable 'allow': invalid address pattern 'bad host'"),
        "{}",
        srv.error_log()
    );
    // A bare number is no address: refused instead of locking every client out.
    let e = fails(srv.port, "SET GLOBAL conn_ip_filter_allow = 5").expect("client");
    assert!(
        e.contains("ERROR 1231") && e.contains("value of '5'"),
        "{e}"
    );
    assert_eq!(
        ok(srv.port, "SELECT @@global.conn_ip_filter_allow").expect("client"),
        "127.0.0.1,::1\n"
    );
    // The server's own type check, same wording.
    ok(srv.port, "INSTALL SONAME 'libis_example.so'");
    let e = fails(srv.port, "SET GLOBAL is_example_rows = 'abc'").expect("client");
    assert!(
        e.contains("ERROR 1231") && e.contains("value of 'abc'"),
        "{e}"
    );
}

#[test]
fn builtin_plugin_is_force_and_cannot_be_deleted_1619() {
    let srv = server("builtin");
    let Some(rows) = ok(
        srv.port,
        "SELECT LOAD_OPTION, IFNULL(PLUGIN_LIBRARY, 'null'), IFNULL(PLUGIN_LIBRARY_VERSION, 'null') \
         FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'mysql_native_password'",
    ) else {
        return;
    };
    // As MariaDB (and MySQL) show their built-in mysql_native_password.
    assert_eq!(rows, "FORCE\tnull\tnull\n");
    let e = fails(srv.port, "UNINSTALL PLUGIN mysql_native_password").expect("client");
    assert!(
        e.contains("ERROR 1619") && e.contains("Built-in plugins cannot be deleted"),
        "{e}"
    );
    // A library plugin keeps its library version.
    ok(srv.port, "INSTALL SONAME 'libis_example.so'");
    let v = ok(
        srv.port,
        "SELECT PLUGIN_LIBRARY_VERSION IS NOT NULL FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'is_example'",
    )
    .expect("client");
    assert_eq!(v, "1\n");
}

#[test]
fn create_user_identified_via_as_and_by_password() {
    let srv = server("users");
    if ok(srv.port, "INSTALL SONAME 'libauth_test.so'").is_none() {
        return;
    }
    // MariaDB's VIA spelling used to create a password-less native account.
    let e = fails(
        srv.port,
        "CREATE USER 'v1'@'%' IDENTIFIED VIA auth_test_plugin USING PASSWORD('short')",
    )
    .expect("client");
    assert!(e.contains("ERROR 1819"), "{e}");
    ok(
        srv.port,
        "CREATE USER 'v1'@'%' IDENTIFIED VIA auth_test_plugin USING PASSWORD('longenough')",
    );
    assert_eq!(
        ok(
            srv.port,
            "SELECT plugin, authentication_string FROM mysql.user WHERE User = 'v1'"
        )
        .expect("client"),
        "auth_test_plugin\tlongenough\n"
    );
    let o = client(srv.port, "v1", Some("longenough"), "SELECT CURRENT_USER()").expect("client");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("v1@"), "{}", stdout(&o));
    let o = client(srv.port, "v1", None, "SELECT 1").expect("client");
    assert!(!o.status.success(), "login without the password");

    // An unknown authentication plugin is 1524, as in MariaDB and MySQL.
    let e = fails(srv.port, "CREATE USER 'v2'@'%' IDENTIFIED VIA nope").expect("client");
    assert!(
        e.contains("ERROR 1524") && e.contains("Plugin 'nope' is not loaded"),
        "{e}"
    );
    let e = fails(
        srv.port,
        "CREATE USER 'v2'@'%' IDENTIFIED WITH nope BY 'longenough'",
    )
    .expect("client");
    assert!(e.contains("ERROR 1524"), "{e}");

    // A stored string cannot pass a validation plugin.
    let e = fails(
        srv.port,
        "CREATE USER 'v3'@'%' IDENTIFIED WITH auth_test_plugin AS 'stored'",
    )
    .expect("client");
    assert!(e.contains("ERROR 1819"), "{e}");
    ok(srv.port, "UNINSTALL PLUGIN validate_password_simple");
    ok(
        srv.port,
        "CREATE USER 'v3'@'%' IDENTIFIED WITH auth_test_plugin AS 'stored'",
    );
    let o = client(srv.port, "v3", Some("stored"), "SELECT CURRENT_USER()").expect("client");
    assert!(o.status.success(), "{}", stderr(&o));

    // mysql_native_password with a hash: AS and BY PASSWORD, checked and upper-cased.
    let hash = "*F44365ADB7F932CB07CE858E9A674647F7C0C3D3"; // 'longuser123'
    let e = fails(
        srv.port,
        "CREATE USER 'v4'@'%' IDENTIFIED BY PASSWORD 'nothex'",
    )
    .expect("client");
    assert!(e.contains("ERROR 1827"), "{e}");
    ok(
        srv.port,
        &format!(
            "CREATE USER 'v4'@'%' IDENTIFIED BY PASSWORD '{}'",
            hash.to_ascii_lowercase()
        ),
    );
    ok(
        srv.port,
        &format!("CREATE USER 'v5'@'%' IDENTIFIED WITH mysql_native_password AS '{hash}'"),
    );
    for u in ["v4", "v5"] {
        let o = client(srv.port, u, Some("longuser123"), "SELECT CURRENT_USER()").expect("client");
        assert!(o.status.success(), "{u}: {}", stderr(&o));
    }
    // IF NOT EXISTS on an existing account: OK with MariaDB's note 1973.
    let o = client(
        srv.port,
        "root",
        None,
        &format!(
            "CREATE USER IF NOT EXISTS 'v5'@'%' IDENTIFIED BY PASSWORD '{hash}'; SHOW WARNINGS"
        ),
    )
    .expect("client");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1973\tCan't create user 'v5'@'%'; it already exists"),
        "{}",
        stdout(&o)
    );

    // An account whose plugin is gone: 1524 at login.
    ok(srv.port, "UNINSTALL SONAME 'libauth_test.so'");
    let o = client(srv.port, "v1", Some("longenough"), "SELECT 1").expect("client");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("1524"), "{}", stderr(&o));
}

fn wait_for(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn daemon_heartbeat_follows_a_new_file_at_once() {
    let srv = server("heartbeat");
    if ok(srv.port, "INSTALL SONAME 'libdaemon_heartbeat.so'").is_none() {
        return;
    }
    let data = srv.shared.config.datadir.clone();
    assert!(wait_for(Duration::from_secs(5), || data
        .join("heartbeat.log")
        .exists()));
    ok(
        srv.port,
        "SET GLOBAL daemon_heartbeat_interval = 1; SET GLOBAL daemon_heartbeat_file = 'other.log'",
    );
    assert_eq!(
        ok(srv.port, "SELECT @@daemon_heartbeat_file").expect("client"),
        "other.log\n"
    );
    // SHOW VARIABLES says other.log: the beats must go there.
    assert!(
        wait_for(Duration::from_secs(5), || std::fs::read_to_string(
            data.join("other.log")
        )
        .is_ok_and(|t| t.starts_with("heartbeat "))),
        "no beat in other.log"
    );
    let e = fails(srv.port, "SET GLOBAL daemon_heartbeat_file = ''").expect("client");
    assert!(e.contains("ERROR 1231"), "{e}");
}

/// `minnowd` as a child with `extra` options; `None` when the client is missing.
fn child(tag: &str, extra: &[&str]) -> (util::ChildServer, PathBuf, PathBuf) {
    let pdir = plugin_dir(tag);
    let root = pdir.parent().expect("parent").to_path_buf();
    let data = root.join("data");
    let log = root.join("minnowd.err");
    let mut args = vec![format!("--plugin_dir={}", pdir.display())];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    (spawn_minnowd(&data, &log, &refs), data, log)
}

#[test]
fn startup_options_in_mysqld_spellings() {
    // `_` and `-` mixed, --loose-, MariaDB's --NAME=OFF, --skip-plugin-NAME, bare --plugin-NAME.
    let (srv, _data, log) = child(
        "opts",
        &[
            "--plugin_load_add=libconn_ip_filter.so;libis_example.so",
            "--plugin-load-add=libdaemon_heartbeat.so",
            "--loose-plugin-load-add=libprotocol_trace.so",
            "--conn_ip-filter_allow=10.%,127.0.0.1",
            "--loose-is_example-rows=5",
            "--daemon_heartbeat=OFF",
            "--skip-plugin-protocol-trace",
            "--plugin-is-example",
            "--loose-no-such-option",
            "--log_error_verbosity=3",
        ],
    );
    let Some(rows) = ok(
        srv.port,
        "SELECT PLUGIN_NAME, PLUGIN_STATUS, LOAD_OPTION FROM information_schema.PLUGINS ORDER BY PLUGIN_NAME",
    ) else {
        return;
    };
    assert_eq!(
        rows,
        "conn_ip_filter\tACTIVE\tON\n\
         daemon_heartbeat\tINACTIVE\tOFF\n\
         is_example\tACTIVE\tON\n\
         mysql_native_password\tACTIVE\tFORCE\n\
         protocol_trace\tINACTIVE\tOFF\n"
    );
    assert_eq!(
        ok(
            srv.port,
            "SELECT @@conn_ip_filter_allow, @@is_example_rows, COUNT(*) FROM information_schema.IS_EXAMPLE"
        )
        .expect("client"),
        "10.%,127.0.0.1\t5\t5\n"
    );
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    // Only what no plugin declares is warned about.
    assert!(
        text.contains("unknown option '--log_error_verbosity'"),
        "{text}"
    );
    for claimed in [
        "conn_ip_filter_allow",
        "is_example_rows",
        "daemon_heartbeat'",
    ] {
        assert!(
            !text.contains(&format!("'--{claimed}")),
            "{claimed}: {text}"
        );
    }
}

#[test]
fn bad_load_option_value_names_the_accepted_values() {
    let pdir = plugin_dir("badopt");
    let root = pdir.parent().expect("parent");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_minnowd"))
        .arg(format!("--datadir={}", root.join("data").display()))
        .arg(format!("--plugin-dir={}", pdir.display()))
        .arg("--port=0")
        .arg("--socket=")
        .arg("--plugin-conn-ip-filter=MAYBE")
        .output()
        .expect("run minnowd");
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains("--plugin-conn-ip-filter=MAYBE")
            && e.contains("OFF, ON, FORCE or FORCE_PLUS_PERMANENT"),
        "{e}"
    );
}

#[test]
fn protocol_trace_installed_on_a_live_connection_does_not_abort() {
    // With protocol_trace_crash=ON an "impossible transition" aborts the server;
    // a connection open before the install is not one.
    let (mut srv, _data, log) = child("trace_live", &[]);
    let port = srv.port.to_string();
    let sql = "INSTALL SONAME 'libprotocol_trace.so'; \
               SET GLOBAL protocol_trace_crash = ON; SET GLOBAL protocol_trace_debug = ON; \
               SELECT 1; SELECT 2; SHOW STATUS LIKE 'protocol_trace_bad_transitions'";
    let Some(o) = run_client(
        "mariadb",
        &[
            "-h127.0.0.1",
            "-P",
            &port,
            "--protocol=TCP",
            "-uroot",
            "-N",
            "-B",
            "-e",
            sql,
        ],
        None,
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("protocol_trace_bad_transitions\t0"),
        "{}",
        stdout(&o)
    );
    assert!(srv.child.try_wait().expect("wait").is_none(), "server died");
    // New connections are still checked from CONNECTING on, and pass.
    let out = ok(srv.port, "SELECT 3").expect("client");
    assert_eq!(out, "3\n");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("impossible stage transition"), "{text}");
    assert!(text.contains("stage CONNECTING event CONNECTING"), "{text}");
}

#[test]
fn show_plugins_soname_lists_declared_plugins_and_like_patterns() {
    let srv = server("soname");
    // Not installed yet: MariaDB lists the library's plugins as NOT INSTALLED.
    let Some(rows) = ok(srv.port, "SHOW PLUGINS SONAME 'libauth_test.so'") else {
        return;
    };
    assert_eq!(
        rows,
        "auth_test_plugin\tNOT INSTALLED\tAUTHENTICATION\tlibauth_test.so\tGPL\n\
         validate_password_simple\tNOT INSTALLED\tPASSWORD VALIDATION\tlibauth_test.so\tGPL\n"
    );
    ok(
        srv.port,
        "INSTALL PLUGIN validate_password_simple SONAME 'libauth_test.so'",
    );
    assert_eq!(
        ok(srv.port, "SHOW PLUGINS SONAME 'libauth_test.so'").expect("client"),
        "validate_password_simple\tACTIVE\tPASSWORD VALIDATION\tlibauth_test.so\tGPL\n\
         auth_test_plugin\tNOT INSTALLED\tAUTHENTICATION\tlibauth_test.so\tGPL\n"
    );
    // Looking at a library installs nothing.
    assert_eq!(
        ok(
            srv.port,
            "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'auth_test_plugin'"
        )
        .expect("client"),
        "0\n"
    );
    // Unknown, unreadable or refused names show nothing (as MariaDB).
    for lib in ["nope.so", "libjunk.so", "../x.so"] {
        assert_eq!(
            ok(srv.port, &format!("SHOW PLUGINS SONAME '{lib}'")).expect("client"),
            "",
            "{lib}"
        );
    }
    // MariaDB's LIKE form: every matching library of plugin_dir.
    let rows = ok(srv.port, "SHOW PLUGINS SONAME LIKE 'lib%\\_filter.so'").expect("client");
    assert_eq!(
        rows,
        "conn_ip_filter\tNOT INSTALLED\tAUDIT\tlibconn_ip_filter.so\tGPL\n"
    );
    let rows = ok(srv.port, "SHOW PLUGINS SONAME LIKE '%'").expect("client");
    for name in PLUGINS {
        assert!(rows.contains(&format!("lib{name}.so")), "{name}: {rows}");
    }
}
