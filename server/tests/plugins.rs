//! The plugin host wired into minnowd, end to end with a real client and the real
//! example plugins (built by this test with the same cargo, target dir and profile).

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};
use util::{TestServer, code, connect, rt, spawn_minnowd, temp_dir};

const RUST_PLUGINS: [&str; 7] = [
    "daemon_heartbeat",
    "protocol_trace",
    "audit_null",
    "conn_ip_filter",
    "is_example",
    "crashme",
    "auth_test",
];

/// Builds the example plugins once; returns the directory holding the `.so` files.
fn built_plugins() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| util::build_example_plugins(&RUST_PLUGINS))
}

/// A fresh plugin_dir with copies of the example plugins and a non-plugin file.
fn plugin_dir(tag: &str) -> PathBuf {
    let src = built_plugins();
    let d = temp_dir(tag).join("plugin");
    std::fs::create_dir_all(&d).expect("plugin dir");
    for p in RUST_PLUGINS {
        let f = format!("lib{p}.so");
        std::fs::copy(src.join(&f), d.join(&f)).expect("copy plugin");
    }
    std::fs::write(d.join("libjunk.so"), b"this is not an ELF file").expect("junk");
    d
}

async fn show_plugins(c: &mut Conn) -> Vec<(String, String, String, Option<String>, String)> {
    c.query("SHOW PLUGINS").await.expect("SHOW PLUGINS")
}

async fn status(c: &mut Conn, name: &str) -> i64 {
    let r: Option<(String, String)> = c
        .query_first(format!("SHOW STATUS LIKE '{name}'"))
        .await
        .expect("SHOW STATUS");
    r.unwrap_or_else(|| panic!("no status variable {name}"))
        .1
        .parse()
        .expect("number")
}

async fn calls(c: &mut Conn, plugin: &str, point: &str) -> i64 {
    let r: Option<i64> = c
        .exec_first(
            "SELECT CALLS FROM information_schema.PLUGIN_BINDINGS WHERE PLUGIN_NAME = ? AND EXTENSION_POINT = ?",
            (plugin, point),
        )
        .await
        .expect("PLUGIN_BINDINGS");
    r.unwrap_or_else(|| panic!("no binding row for {plugin}/{point}"))
}

#[test]
fn install_use_uninstall_reinstall_and_persist() {
    let pdir = plugin_dir("install");
    let p2 = pdir.clone();
    let mut srv = TestServer::start_with(move |c| c.plugin_dir = p2);
    let datadir = srv.shared.config.datadir.clone();
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        c.query_drop("INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'")
            .await
            .expect("install");
        let rows = show_plugins(&mut c).await;
        let row = rows
            .iter()
            .find(|r| r.0 == "audit_null")
            .expect("audit_null in SHOW PLUGINS");
        assert_eq!(row.1, "ACTIVE");
        assert_eq!(row.2, "AUDIT");
        assert_eq!(row.3.as_deref(), Some("libaudit_null.so"));
        assert_eq!(row.4, "GPL");
        let only: Vec<(String, String, String, Option<String>, String)> = c
            .query("SHOW PLUGINS SONAME 'libaudit_null.so'")
            .await
            .expect("SHOW PLUGINS SONAME");
        assert_eq!(only.len(), 1);
        // information_schema.PLUGINS has MariaDB's 13 columns.
        let n: Option<(String, String, String)> = c
            .query_first("SELECT PLUGIN_NAME, PLUGIN_STATUS, LOAD_OPTION FROM information_schema.PLUGINS WHERE PLUGIN_LIBRARY = 'libaudit_null.so'")
            .await
            .expect("IS.PLUGINS");
        assert_eq!(
            n,
            Some(("audit_null".into(), "ACTIVE".into(), "ON".into()))
        );
        // Counters move with statements.
        let before = status(&mut c, "audit_null_general_starting").await;
        let calls_before = calls(&mut c, "audit_null", "AUDIT GENERAL").await;
        for _ in 0..3 {
            c.query_drop("SELECT 1").await.expect("select");
        }
        let after = status(&mut c, "audit_null_general_starting").await;
        assert!(after >= before + 3, "starting {before} -> {after}");
        let calls_after = calls(&mut c, "audit_null", "AUDIT GENERAL").await;
        assert!(calls_after > calls_before, "calls {calls_before} -> {calls_after}");
        // Every call timed: TOTAL_TIME_US moves (the clock is read per call).
        c.query_drop("SET GLOBAL plugin_bindings_timing = 'EVERY'")
            .await
            .expect("timing");
        let t: Option<String> = c
            .query_first("SELECT @@plugin_bindings_timing")
            .await
            .expect("@@timing");
        assert_eq!(t.as_deref(), Some("EVERY"));
        let e = c
            .query_drop("SET GLOBAL plugin_bindings_timing = 'SOMETIMES'")
            .await
            .expect_err("bad value");
        assert_eq!(code(&e), 1231, "{e}");
        // A new connection is a connection-class event.
        let conn_before = status(&mut c, "audit_null_connection_connect").await;
        let c2 = connect(&srv.url()).await;
        c2.disconnect().await.expect("disconnect");
        assert!(status(&mut c, "audit_null_connection_connect").await > conn_before);
        let shown: Vec<(String, String, i64, i64, i64, i64, i64)> =
            c.query("SHOW PLUGIN BINDINGS").await.expect("SHOW PLUGIN BINDINGS");
        assert!(shown.iter().any(|r| r.0 == "audit_null" && r.1 == "AUDIT GENERAL"));
        // Errors.
        let e = c
            .query_drop("INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'")
            .await
            .expect_err("duplicate");
        assert_eq!(code(&e), 1125);
        c.query_drop("FLUSH PLUGINS audit_null").await.expect("flush");
        c.query_drop("UNINSTALL PLUGIN audit_null").await.expect("uninstall");
        assert!(!show_plugins(&mut c).await.iter().any(|r| r.0 == "audit_null"));
        let e = c
            .query_drop("UNINSTALL PLUGIN audit_null")
            .await
            .expect_err("not installed");
        assert_eq!(code(&e), 1305);
        // Reinstall every example library, then uninstall by library.
        for p in ["audit_null", "conn_ip_filter", "is_example", "crashme"] {
            c.query_drop(format!("INSTALL SONAME 'lib{p}.so'"))
                .await
                .unwrap_or_else(|e| panic!("INSTALL SONAME lib{p}.so: {e}"));
        }
        let rows: Vec<(i64, String, i64, i64)> = c
            .query("SELECT ID, NAME, SQUARE, CONNECTION_ID FROM information_schema.IS_EXAMPLE")
            .await
            .expect("IS_EXAMPLE");
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r.2 == r.0 * r.0));
        c.query_drop("UNINSTALL SONAME 'libis_example.so'")
            .await
            .expect("uninstall soname");
        let e = c
            .query_drop("SELECT * FROM information_schema.IS_EXAMPLE")
            .await
            .expect_err("table gone");
        assert_ne!(code(&e), 0);
        c.disconnect().await.expect("disconnect");
    });
    srv.stop();
    // Persistence: mysql.plugin brings them back.
    let p3 = pdir.clone();
    let srv2 = TestServer::start_with(move |c| {
        c.plugin_dir = p3;
        c.datadir = datadir;
    });
    rt().block_on(async {
        let mut c = connect(&srv2.url()).await;
        let names: Vec<String> = show_plugins(&mut c)
            .await
            .into_iter()
            .filter(|r| r.1 == "ACTIVE")
            .map(|r| r.0)
            .collect();
        assert!(names.contains(&"audit_null".to_string()), "{names:?}");
        assert!(names.contains(&"crashme".to_string()), "{names:?}");
        assert!(!names.contains(&"is_example".to_string()), "{names:?}");
        c.disconnect().await.expect("disconnect");
    });
}

/// Compiles a C fixture of the plugin host's tests (`gcc -g`) into `dir`.
fn compile_fixture(name: &str, dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join(format!("plugin-host/tests/fixtures/{name}.c"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let o = Command::new(&cc)
        .args(["-shared", "-fPIC", "-g", "-std=c11", "-I"])
        .arg(root.join("plugin-api/include"))
        .arg("-o")
        .arg(dir.join(format!("lib{name}.so")))
        .arg(&src)
        .output()
        .expect("run the C compiler");
    assert!(
        o.status.success(),
        "compiling {name}.c failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn bad_libraries_are_refused_with_mysql_codes() {
    let pdir = plugin_dir("bad");
    compile_fixture("wrong_major", &pdir);
    compile_fixture("not_a_plugin", &pdir);
    let outside = pdir.parent().expect("parent").join("liboutside.so");
    std::fs::copy(pdir.join("libaudit_null.so"), &outside).expect("copy outside");
    std::os::unix::fs::symlink(&outside, pdir.join("libescape.so")).expect("symlink");
    let p2 = pdir.clone();
    let srv = TestServer::start_with(move |c| c.plugin_dir = p2);
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        for (sql, want) in [
            ("INSTALL PLUGIN x SONAME 'libjunk.so'", 1126),
            ("INSTALL SONAME 'libwrong_major.so'", 1126),
            ("INSTALL SONAME 'libnot_a_plugin.so'", 1127),
            ("INSTALL PLUGIN x SONAME 'libmissing.so'", 1126),
            ("INSTALL PLUGIN x SONAME '../liboutside.so'", 1124),
            ("INSTALL PLUGIN x SONAME 'libescape.so'", 1124),
            (
                "INSTALL PLUGIN no_such_plugin SONAME 'libaudit_null.so'",
                1127,
            ),
            ("UNINSTALL PLUGIN never_installed", 1305),
        ] {
            let e = c.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), want, "{sql}: {e}");
        }
        let e = c
            .query_drop("INSTALL PLUGIN x SONAME libjunk")
            .await
            .expect_err("syntax");
        assert_eq!(code(&e), 1064);
        // Nothing was persisted.
        let n: Option<i64> = c
            .query_first(
                "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_LIBRARY IS NOT NULL",
            )
            .await
            .expect("count");
        assert_eq!(n, Some(0));
        c.disconnect().await.expect("disconnect");
    });
}

#[test]
fn conn_ip_filter_refuses_a_connection() {
    let pdir = plugin_dir("ipf");
    let srv = TestServer::start_with(move |c| {
        c.plugin_dir = pdir;
        c.plugins.load = vec!["libconn_ip_filter.so".into()];
        c.plugins.variables = vec![("conn-ip-filter-allow".into(), "10.1.%".into())];
    });
    rt().block_on(async {
        let e = Conn::new(Opts::from_url(&srv.url()).expect("url"))
            .await
            .expect_err("refused");
        let text = e.to_string();
        assert_eq!(code(&e), 3164, "{text}");
        assert!(text.contains("conn_ip_filter"), "{text}");
    });
    assert!(srv.error_log().contains("refused by a plugin"));
}

#[test]
fn panicking_plugin_is_disabled_and_the_server_keeps_serving() {
    let pdir = plugin_dir("panic");
    let srv = TestServer::start_with(move |c| {
        c.plugin_dir = pdir;
        c.plugins.load = vec!["libcrashme.so".into()];
    });
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        let e = c
            .query_drop("SELECT 'crashme:panic'")
            .await
            .expect_err("panic fails the statement");
        assert_eq!(code(&e), 1105, "{e}");
        assert!(e.to_string().contains("crashme"), "{e}");
        let st: Vec<(String, String, String, Option<String>, String)> = show_plugins(&mut c).await;
        let row = st.iter().find(|r| r.0 == "crashme").expect("crashme row");
        assert_eq!(row.1, "DISABLED");
        let one: Option<i64> = c.query_first("SELECT 1").await.expect("still serving");
        assert_eq!(one, Some(1));
        // A panicking information_schema fill fails its statement and disables
        // only that plugin of the library.
        let e = c
            .query_drop("SELECT * FROM information_schema.CRASHME_TABLE")
            .await
            .expect_err("fill panics");
        assert_eq!(code(&e), 1105, "{e}");
        assert!(e.to_string().contains("crashme_table"), "{e}");
        let st = show_plugins(&mut c).await;
        let row = st.iter().find(|r| r.0 == "crashme_table").expect("row");
        assert_eq!(row.1, "DISABLED");
        c.disconnect().await.expect("disconnect");
    });
    let log = srv.error_log();
    assert!(
        log.lines()
            .any(|l| l.contains("[ERROR]") && l.contains("crashme")),
        "{log}"
    );
}

#[test]
fn busy_uninstall_is_deferred_until_the_binding_goes() {
    let pdir = plugin_dir("busy");
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    rt().block_on(async {
        let mut admin = connect(&srv.url()).await;
        admin
            .query_drop("INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'")
            .await
            .expect("install");
        let mut busy = connect(&srv.url()).await;
        let sleeper = async {
            busy.query_drop("SELECT SLEEP(1.5)").await.expect("sleep");
            busy
        };
        let uninstaller = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut c = connect(&srv.url()).await;
            let bound: Vec<(i64, String, String)> = c
                .query("SELECT SESSION_ID, PLUGIN_NAME, EXTENSION_POINT FROM information_schema.SESSION_PLUGIN_BINDINGS")
                .await
                .expect("session bindings");
            assert!(bound.iter().any(|b| b.1 == "audit_null"), "{bound:?}");
            c.query_drop("UNINSTALL PLUGIN audit_null").await.expect("uninstall");
            let warnings_count = c.get_warnings();
            let warnings: Vec<(String, i64, String)> =
                c.query("SHOW WARNINGS").await.expect("SHOW WARNINGS");
            let st: Option<(String, String)> = c
                .query_first("SELECT PLUGIN_NAME, PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'audit_null'")
                .await
                .expect("status");
            c.disconnect().await.expect("disconnect");
            (warnings_count, warnings, st)
        };
        let (busy, (count, warnings, st)) = tokio::join!(sleeper, uninstaller);
        assert_eq!(count, 1);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].1, 1620, "{warnings:?}");
        assert!(warnings[0].2.contains("audit_null"), "{warnings:?}");
        assert_eq!(st.map(|s| s.1), Some("DELETED".to_string()));
        busy.disconnect().await.expect("disconnect");
        // The binding went when the sleeper finished: the plugin is unloaded.
        let mut gone = false;
        for _ in 0..50 {
            let n: Option<i64> = admin
                .query_first("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'audit_null'")
                .await
                .expect("count");
            if n == Some(0) {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(gone, "audit_null still listed after its last binding went");
        admin.disconnect().await.expect("disconnect");
    });
}

#[test]
fn startup_force_failure_stops_the_server_and_crash_names_the_plugin() {
    let pdir = plugin_dir("crash");
    let root = pdir.parent().expect("root").to_path_buf();
    // FORCE with a library that is not a plugin: minnowd must exit 1.
    let out = Command::new(env!("CARGO_BIN_EXE_minnowd"))
        .arg(format!("--datadir={}", root.join("d1").display()))
        .arg("--port=0")
        .arg("--socket=")
        .arg(format!("--plugin-dir={}", pdir.display()))
        .arg("--plugin-load=x=libjunk.so")
        .arg("--plugin-x=FORCE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run minnowd");
    let mut child = util::ChildServer {
        child: out,
        port: 0,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "minnowd kept running although a FORCE plugin failed"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    drop(child);
    // crashme aborting inside a statement: the report names the plugin.
    let log = root.join("crash.log");
    let srv = spawn_minnowd(
        &root.join("d2"),
        &log,
        &[
            &format!("--plugin-dir={}", pdir.display()),
            "--plugin-load-add=libcrashme.so",
        ],
    );
    let url = format!("mysql://root@127.0.0.1:{}?prefer_socket=false", srv.port);
    rt().block_on(async {
        let mut c = connect(&url).await;
        assert!(c.query_drop("SELECT 'crashme:abort'").await.is_err());
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("Plugin:") && text.contains("libcrashme.so") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(text.contains("Plugin:"), "{text}");
    assert!(text.contains("crashme"), "{text}");
    assert!(text.contains("libcrashme.so"), "{text}");
}

#[test]
fn plugin_variables_show_set_and_go_away() {
    let pdir = plugin_dir("vars");
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        c.query_drop("INSTALL PLUGIN conn_ip_filter SONAME 'libconn_ip_filter.so'")
            .await
            .expect("install");
        let v: Option<(String, String)> = c
            .query_first("SHOW VARIABLES LIKE 'conn_ip_filter_allow'")
            .await
            .expect("show variables");
        let v = v.expect("conn_ip_filter_allow shown").1;
        assert!(v.contains("127.0.0.1"), "{v}");
        // The plugin reads the new value: new local connections are refused.
        c.query_drop("SET GLOBAL conn_ip_filter_allow = '10.1.%'")
            .await
            .expect("set global");
        let now: Option<String> = c
            .query_first("SELECT @@conn_ip_filter_allow")
            .await
            .expect("@@var");
        assert_eq!(now.as_deref(), Some("10.1.%"));
        let e = Conn::new(Opts::from_url(&srv.url()).expect("url"))
            .await
            .expect_err("refused after SET GLOBAL");
        assert_eq!(code(&e), 3164, "{e}");
        c.query_drop("SET GLOBAL conn_ip_filter_allow = '%'")
            .await
            .expect("set back");
        let c2 = connect(&srv.url()).await;
        c2.disconnect().await.expect("disconnect");
        let e = c
            .query_drop("SET conn_ip_filter_allow = '%'")
            .await
            .expect_err("global only");
        assert_ne!(code(&e), 0);
        c.query_drop("UNINSTALL PLUGIN conn_ip_filter")
            .await
            .expect("uninstall");
        let e = c
            .query_drop("SELECT @@conn_ip_filter_allow")
            .await
            .expect_err("variable gone");
        assert_eq!(code(&e), 1193, "{e}");
        c.disconnect().await.expect("disconnect");
    });
}

#[test]
fn udfs_from_udf_example_in_selects_and_persisted() {
    let pdir = plugin_dir("udf");
    std::fs::copy(udf_example::LIBRARY, pdir.join(udf_example::SONAME)).expect("copy udf");
    let p2 = pdir.clone();
    let mut srv = TestServer::start_with(move |c| c.plugin_dir = p2);
    let datadir = srv.shared.config.datadir.clone();
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        c.query_drop("CREATE FUNCTION reverse_string RETURNS STRING SONAME 'libudf_example.so'")
            .await
            .expect("create reverse_string");
        c.query_drop("CREATE FUNCTION myfunc_int RETURNS INTEGER SONAME 'libudf_example.so'")
            .await
            .expect("create myfunc_int");
        c.query_drop("CREATE AGGREGATE FUNCTION avgcost RETURNS REAL SONAME 'libudf_example.so'")
            .await
            .expect("create avgcost");
        let e = c
            .query_drop("CREATE FUNCTION reverse_string RETURNS STRING SONAME 'libudf_example.so'")
            .await
            .expect_err("exists");
        assert_eq!(code(&e), 1125, "{e}");
        let e = c
            .query_drop("CREATE FUNCTION no_such_udf RETURNS STRING SONAME 'libudf_example.so'")
            .await
            .expect_err("missing symbol");
        assert_eq!(code(&e), 1127, "{e}");
        let r: Option<String> = c
            .query_first("SELECT reverse_string('minnow')")
            .await
            .expect("reverse_string");
        assert_eq!(r.as_deref(), Some("wonnim"));
        // A second connection sees the functions too.
        let mut c2 = connect(&srv.url()).await;
        let n: Option<i64> = c2
            .query_first("SELECT myfunc_int('ab', 3)")
            .await
            .expect("myfunc_int");
        assert_eq!(n, Some(5));
        c2.query_drop("CREATE DATABASE u").await.expect("db");
        c2.query_drop("CREATE TABLE u.sales(qty INT, price DOUBLE)")
            .await
            .expect("table");
        c2.query_drop("INSERT INTO u.sales VALUES (1, 10.0), (3, 20.0)")
            .await
            .expect("rows");
        let avg: Option<f64> = c2
            .query_first("SELECT avgcost(qty, price) FROM u.sales")
            .await
            .expect("avgcost");
        let avg = avg.expect("value");
        assert!((avg - 17.5).abs() < 1e-9, "{avg}");
        // sequence(): init once per statement (state across rows), fresh per statement.
        c2.query_drop("CREATE FUNCTION sequence RETURNS INTEGER SONAME 'libudf_example.so'")
            .await
            .expect("create sequence");
        for _ in 0..2 {
            let seq: Vec<i64> = c2
                .query("SELECT sequence() FROM u.sales")
                .await
                .expect("sequence");
            assert_eq!(seq, vec![1, 2]);
        }
        let calls = calls(&mut c2, "reverse_string", "FUNCTION").await;
        assert!(calls >= 1, "{calls}");
        c2.disconnect().await.expect("disconnect");
        c.query_drop("DROP FUNCTION myfunc_int")
            .await
            .expect("drop");
        assert!(c.query_drop("SELECT myfunc_int(1)").await.is_err());
        let e = c
            .query_drop("DROP FUNCTION myfunc_int")
            .await
            .expect_err("gone");
        assert_eq!(code(&e), 1305, "{e}");
        c.query_drop("DROP FUNCTION IF EXISTS myfunc_int")
            .await
            .expect("if exists");
        c.disconnect().await.expect("disconnect");
    });
    srv.stop();
    let srv2 = TestServer::start_with(move |c| {
        c.plugin_dir = pdir;
        c.datadir = datadir;
    });
    rt().block_on(async {
        let mut c = connect(&srv2.url()).await;
        let r: Option<String> = c
            .query_first("SELECT reverse_string('abc')")
            .await
            .expect("reverse_string after restart");
        assert_eq!(r.as_deref(), Some("cba"));
        assert!(c.query_drop("SELECT myfunc_int(1)").await.is_err());
        c.disconnect().await.expect("disconnect");
    });
}

/// Builds `resolve-stack` (same target dir and profile) and returns its path.
fn resolve_stack() -> PathBuf {
    let dir = built_plugins();
    let profile = dir
        .file_name()
        .and_then(|s| s.to_str())
        .expect("profile")
        .to_string();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "stackresolve",
        "--bin",
        "resolve-stack",
    ])
    .arg("--target-dir")
    .arg(dir.parent().expect("target dir"))
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd.output().expect("cargo build resolve-stack");
    assert!(
        out.status.success(),
        "building resolve-stack failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("resolve-stack")
}

#[test]
fn c_plugin_segv_report_names_the_plugin_and_resolves_the_frame() {
    let pdir = plugin_dir("segv");
    std::fs::copy(crashme_c::LIBRARY, pdir.join("libcrashme_c.so")).expect("copy crashme_c");
    let root = pdir.parent().expect("root").to_path_buf();
    let log = root.join("segv.log");
    let srv = spawn_minnowd(
        &root.join("d"),
        &log,
        &[
            &format!("--plugin-dir={}", pdir.display()),
            "--plugin-load-add=crashme_c=libcrashme_c.so",
        ],
    );
    let url = format!("mysql://root@127.0.0.1:{}?prefer_socket=false", srv.port);
    rt().block_on(async {
        let mut c = connect(&url).await;
        let e = c
            .query_drop("SELECT 'crashme_c:veto'")
            .await
            .expect_err("vetoed");
        assert_eq!(code(&e), 3164, "{e}");
        assert!(c.query_drop("SELECT 'crashme_c:segv'").await.is_err());
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("owns the faulting address") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        text.contains("Plugin: crashme_c (libcrashme_c.so) owns the faulting address"),
        "{text}"
    );
    assert!(text.contains("SIGSEGV"), "{text}");
    drop(srv);
    let out = Command::new(resolve_stack())
        .arg(&log)
        .output()
        .expect("run resolve-stack");
    let resolved = String::from_utf8_lossy(&out.stdout);
    assert!(
        resolved.contains("crashme_segv_now") && resolved.contains("crashme_c.c"),
        "resolve-stack output:\n{resolved}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn authentication_plugins_and_create_user_identified_with() {
    let pdir = plugin_dir("auth");
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        let rows = show_plugins(&mut c).await;
        let native = rows
            .iter()
            .find(|r| r.0 == "mysql_native_password")
            .expect("built-in listed");
        assert_eq!(native.1, "ACTIVE");
        assert_eq!(native.2, "AUTHENTICATION");
        assert_eq!(native.3, None);
        let e = c
            .query_drop("UNINSTALL PLUGIN mysql_native_password")
            .await
            .expect_err("built-in");
        assert_eq!(code(&e), 1619, "{e}");
        assert!(calls(&mut c, "mysql_native_password", "AUTHENTICATION").await >= 1);
        c.query_drop("INSTALL SONAME 'libauth_test.so'")
            .await
            .expect("install auth_test");
        let e = c
            .query_drop("CREATE USER 'alice'@'%' IDENTIFIED WITH auth_test_plugin BY 'short'")
            .await
            .expect_err("password policy");
        assert_eq!(code(&e), 1819, "{e}");
        c.query_drop("CREATE USER 'alice'@'%' IDENTIFIED WITH auth_test_plugin BY 'secret123'")
            .await
            .expect("create user");
        let e = c
            .query_drop("CREATE USER 'bob'@'%' IDENTIFIED WITH no_such_auth BY 'secret123'")
            .await
            .expect_err("unknown plugin");
        assert_ne!(code(&e), 0);
        let opts = |pw: &str| {
            mysql_async::OptsBuilder::from_opts(
                Opts::from_url(&format!(
                    "mysql://alice:{pw}@127.0.0.1:{}?prefer_socket=false",
                    srv.port
                ))
                .expect("url"),
            )
            .enable_cleartext_plugin(true)
        };
        let mut a = Conn::new(opts("secret123")).await.expect("alice logs in");
        let who: Option<String> = a.query_first("SELECT CURRENT_USER()").await.expect("who");
        assert!(who.unwrap_or_default().starts_with("alice"));
        a.disconnect().await.expect("disconnect");
        let e = Conn::new(opts("wrong-password"))
            .await
            .expect_err("wrong password");
        assert_eq!(code(&e), 1045, "{e}");
        // COM_CHANGE_USER goes through the account's plugin too.
        let mut r = Conn::new(
            mysql_async::OptsBuilder::from_opts(Opts::from_url(&srv.url()).expect("url"))
                .enable_cleartext_plugin(true),
        )
        .await
        .expect("root");
        r.change_user(
            mysql_async::ChangeUserOpts::default()
                .with_user(Some("alice".into()))
                .with_pass(Some("secret123".into())),
        )
        .await
        .expect("change_user to alice");
        let who: Option<String> = r.query_first("SELECT CURRENT_USER()").await.expect("who");
        assert!(who.unwrap_or_default().starts_with("alice"));
        r.disconnect().await.expect("disconnect");
        assert!(status(&mut c, "auth_test_plugin_accepted").await >= 1);
        assert!(status(&mut c, "auth_test_plugin_refused").await >= 1);
        c.disconnect().await.expect("disconnect");
    });
}

#[test]
fn protocol_trace_sees_packets_in_valid_stage_order() {
    let pdir = plugin_dir("trace");
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        c.query_drop("INSTALL PLUGIN protocol_trace SONAME 'libprotocol_trace.so'")
            .await
            .expect("install");
        c.query_drop("SET GLOBAL protocol_trace_debug = ON")
            .await
            .expect("debug on");
        // The installing connection began before the plugin: its first traced
        // packet is mid-protocol, which the plugin may count as a bad transition.
        let bad_before = status(&mut c, "protocol_trace_bad_transitions").await;
        let before = status(&mut c, "protocol_trace_events").await;
        // A whole connection: greeting, handshake response, auth, commands, quit.
        let mut c2 = connect(&srv.url()).await;
        for _ in 0..3 {
            c2.query_drop("SELECT 1").await.expect("select");
        }
        c2.disconnect().await.expect("disconnect");
        let after = status(&mut c, "protocol_trace_events").await;
        assert!(after >= before + 7, "events {before} -> {after}");
        assert_eq!(
            status(&mut c, "protocol_trace_bad_transitions").await,
            bad_before,
            "a full connection's stages are in a valid order"
        );
        c.disconnect().await.expect("disconnect");
    });
    let log = srv.error_log();
    assert!(log.contains("protocol_trace"), "{log}");
}

#[test]
fn daemon_plugin_started_at_startup_with_its_variable() {
    let pdir = plugin_dir("daemon");
    let srv = TestServer::start_with(move |c| {
        c.plugin_dir = pdir;
        c.plugins.load = vec!["daemon_heartbeat=libdaemon_heartbeat.so".into()];
        c.plugins.variables = vec![("daemon-heartbeat-interval".into(), "1".into())];
    });
    let file = srv.shared.config.datadir.join("heartbeat.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.lines().filter(|l| l.starts_with("heartbeat")).count() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        text.lines().filter(|l| l.starts_with("heartbeat")).count() >= 2,
        "heartbeat.log: {text:?}"
    );
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        let v: Option<i64> = c
            .query_first("SELECT @@daemon_heartbeat_interval")
            .await
            .expect("variable");
        assert_eq!(v, Some(1));
        c.disconnect().await.expect("disconnect");
    });
}

async fn plugin_rows(c: &mut Conn) -> Vec<(String, String)> {
    c.query("SELECT name, dl FROM mysql.plugin ORDER BY name")
        .await
        .expect("mysql.plugin")
}

#[test]
fn uninstall_soname_is_all_or_nothing() {
    let pdir = plugin_dir("soname_atomic");
    let p2 = pdir.clone();
    let mut srv = TestServer::start_with(move |c| c.plugin_dir = p2);
    let datadir = srv.shared.config.datadir.clone();
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        c.query_drop("INSTALL SONAME 'libcrashme.so'")
            .await
            .expect("install soname");
        c.disconnect().await.expect("disconnect");
    });
    srv.stop();
    // The library's second plugin (in install order) becomes permanent: an
    // uninstall that went plugin by plugin would remove `crashme` before
    // refusing `crashme_table`.
    let p3 = pdir.clone();
    let srv2 = TestServer::start_with(move |c| {
        c.plugin_dir = p3;
        c.datadir = datadir;
        c.plugins.options = vec![("crashme_table".into(), "FORCE_PLUS_PERMANENT".into())];
    });
    rt().block_on(async {
        let mut c = connect(&srv2.url()).await;
        let order: Vec<String> = show_plugins(&mut c)
            .await
            .into_iter()
            .filter(|r| r.3.as_deref() == Some("libcrashme.so"))
            .map(|r| r.0)
            .collect();
        assert_eq!(order, ["crashme", "crashme_table"]);
        let rows_before = plugin_rows(&mut c).await;
        assert_eq!(
            rows_before,
            [
                ("crashme".to_string(), "libcrashme.so".to_string()),
                ("crashme_table".to_string(), "libcrashme.so".to_string())
            ]
        );
        let e = c
            .query_drop("UNINSTALL SONAME 'libcrashme.so'")
            .await
            .expect_err("a permanent plugin in the library");
        assert_eq!(code(&e), 1702, "{e}");
        assert!(e.to_string().contains("crashme_table"), "{e}");
        let states: Vec<(String, String)> = show_plugins(&mut c)
            .await
            .into_iter()
            .filter(|r| r.3.as_deref() == Some("libcrashme.so"))
            .map(|r| (r.0, r.1))
            .collect();
        assert_eq!(
            states,
            [
                ("crashme".to_string(), "ACTIVE".to_string()),
                ("crashme_table".to_string(), "ACTIVE".to_string())
            ],
            "nothing uninstalled"
        );
        assert_eq!(
            plugin_rows(&mut c).await,
            rows_before,
            "mysql.plugin intact"
        );
        // Both still work: the audit plugin counts, its variable is there.
        let v: Option<(String, String)> = c
            .query_first("SHOW VARIABLES LIKE 'crashme_panic_in_update'")
            .await
            .expect("show variables");
        assert!(v.is_some(), "crashme's variable still registered");
        let before = status(&mut c, "crashme_events").await;
        c.query_drop("SELECT 1").await.expect("select");
        assert!(status(&mut c, "crashme_events").await > before);
        // The plain plugin alone can still go; the permanent one cannot.
        c.query_drop("UNINSTALL PLUGIN crashme")
            .await
            .expect("uninstall crashme");
        let e = c
            .query_drop("UNINSTALL PLUGIN crashme_table")
            .await
            .expect_err("permanent");
        assert_eq!(code(&e), 1702, "{e}");
        assert_eq!(
            plugin_rows(&mut c).await,
            [("crashme_table".to_string(), "libcrashme.so".to_string())]
        );
        c.disconnect().await.expect("disconnect");
    });
}

/// Whether this process (the in-process test server) maps a file of `dir`
/// whose name ends with `lib`.
fn mapped(dir: &Path, lib: &str) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    let dir = dir.canonicalize().expect("canonical plugin dir");
    let want = dir.join(lib);
    let want = want.to_string_lossy();
    maps.lines().any(|l| l.ends_with(want.as_ref()))
}

/// `crashme`'s variables, status variables, information_schema tables and plugins.
type Shown = (
    Vec<(String, String)>,
    Vec<(String, String)>,
    Vec<String>,
    Vec<(String, String)>,
);

/// Asked on a new connection: a connection creates its information_schema tables
/// once, so an older one may still list a table of a plugin that went.
async fn shown(url: &str) -> Shown {
    let mut c = connect(url).await;
    let vars: Vec<(String, String)> = c
        .query("SHOW VARIABLES LIKE 'crashme%'")
        .await
        .expect("show variables");
    let status: Vec<(String, String)> = c
        .query("SHOW STATUS LIKE 'crashme%'")
        .await
        .expect("show status");
    // The registered information_schema tables (filling CRASHME_TABLE panics on
    // purpose, so it is never selected from).
    let tables: Vec<String> = c
        .query("SHOW TABLES FROM information_schema LIKE 'CRASHME%'")
        .await
        .expect("SHOW TABLES FROM information_schema");
    let plugins: Vec<(String, String)> = c
        .query("SELECT PLUGIN_NAME, PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_LIBRARY = 'libcrashme.so'")
        .await
        .expect("PLUGINS");
    c.disconnect().await.expect("disconnect");
    (vars, status, tables, plugins)
}

#[test]
fn deferred_uninstall_drops_tables_and_variables_when_the_plugin_goes() {
    let pdir = plugin_dir("deferred");
    let p2 = pdir.clone();
    let srv = TestServer::start_with(move |c| c.plugin_dir = p2);
    rt().block_on(async {
        let mut admin = connect(&srv.url()).await;
        admin
            .query_drop("INSTALL SONAME 'libcrashme.so'")
            .await
            .expect("install");
        assert!(
            mapped(&pdir, "libcrashme.so"),
            "library mapped after INSTALL"
        );
        let (vars, status, tables, _) = shown(&srv.url()).await;
        assert_eq!(vars.len(), 2, "{vars:?}");
        assert_eq!(status.len(), 1, "{status:?}");
        assert_eq!(tables, ["CRASHME_TABLE"]);
        let mut busy = connect(&srv.url()).await;
        let sleeper = async {
            busy.query_drop("SELECT SLEEP(1.5)").await.expect("sleep");
            busy
        };
        let uninstaller = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut c = connect(&srv.url()).await;
            c.query_drop("UNINSTALL SONAME 'libcrashme.so'")
                .await
                .expect("uninstall");
            let warnings: Vec<(String, i64, String)> =
                c.query("SHOW WARNINGS").await.expect("SHOW WARNINGS");
            let during = shown(&srv.url()).await;
            let still_mapped = mapped(&pdir, "libcrashme.so");
            c.disconnect().await.expect("disconnect");
            (warnings, during, still_mapped)
        };
        let (busy, (warnings, during, still_mapped)) = tokio::join!(sleeper, uninstaller);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].1, 1620, "{warnings:?}");
        assert!(warnings[0].2.contains("'crashme'"), "{warnings:?}");
        // While busy: DELETED, not usable (its variables already hidden; the idle
        // crashme_table went at once), the library still mapped.
        assert_eq!(during.3, [("crashme".to_string(), "DELETED".to_string())]);
        assert!(
            during.0.is_empty(),
            "variables of a DELETED plugin: {:?}",
            during.0
        );
        assert!(
            during.1.is_empty(),
            "status of a DELETED plugin: {:?}",
            during.1
        );
        assert!(
            during.2.is_empty(),
            "table of an unloaded plugin: {:?}",
            during.2
        );
        assert!(still_mapped, "dlclose must wait for the busy plugin");
        busy.disconnect().await.expect("disconnect");
        // The last binding went with the sleeper's statement: everything is gone.
        let mut last = None;
        for _ in 0..50 {
            let now = shown(&srv.url()).await;
            let gone = now.0.is_empty()
                && now.1.is_empty()
                && now.2.is_empty()
                && now.3.is_empty()
                && !mapped(&pdir, "libcrashme.so");
            if gone {
                last = None;
                break;
            }
            last = Some(now);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(last.is_none(), "left behind after the unload: {last:?}");
        assert!(
            !show_plugins(&mut admin)
                .await
                .iter()
                .any(|r| r.0.starts_with("crashme"))
        );
        let e = admin
            .query_drop("SELECT @@crashme_panic_in_update")
            .await
            .expect_err("variable gone");
        assert_eq!(code(&e), 1193, "{e}");
        let e = admin
            .query_drop("SELECT * FROM information_schema.CRASHME_TABLE")
            .await
            .expect_err("table gone");
        assert_ne!(code(&e), 0);
        // The library can be installed again, with its table and variables back.
        admin
            .query_drop("INSTALL SONAME 'libcrashme.so'")
            .await
            .expect("reinstall");
        let (vars, status, tables, _) = shown(&srv.url()).await;
        assert_eq!((vars.len(), status.len(), tables.len()), (2, 1, 1));
        admin.disconnect().await.expect("disconnect");
    });
}

/// One packet as `protocol_trace` dumped it to the error log.
#[derive(Debug)]
struct TracedPacket {
    conn: u64,
    stage: String,
    event: String,
    len: usize,
    bytes: Vec<u8>,
}

/// Parses `protocol_trace: conn N stage S event E (L bytes)` lines and their hex dumps.
fn traced_packets(log: &str) -> Vec<TracedPacket> {
    let mut out: Vec<TracedPacket> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.split("protocol_trace: conn ").nth(1) {
            let w: Vec<&str> = rest.split_whitespace().collect();
            if w.len() >= 6 && w[1] == "stage" && w[3] == "event" {
                out.push(TracedPacket {
                    conn: w[0].parse().expect("connection id"),
                    stage: w[2].to_string(),
                    event: w[4].to_string(),
                    len: w[5].trim_start_matches('(').parse().expect("length"),
                    bytes: Vec::new(),
                });
            }
            continue;
        }
        let t = line.trim_start();
        let Some((off, hex)) = t.split_once(':') else {
            continue;
        };
        if line.starts_with("  ") && off.len() == 4 && u16::from_str_radix(off, 16).is_ok() {
            if let Some(p) = out.last_mut() {
                for b in hex.split_whitespace() {
                    p.bytes.push(u8::from_str_radix(b, 16).expect("hex byte"));
                }
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn protocol_trace_sees_result_sets_and_prepared_statements_and_masks_passwords() {
    const PASSWORD: &str = "Tr4ceSecretPw9";
    let pdir = plugin_dir("trace_rs");
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        // The user exists before tracing starts: CREATE USER's own text holds the
        // password, and a statement is not an authentication packet.
        c.query_drop("INSTALL SONAME 'libauth_test.so'")
            .await
            .expect("install auth_test");
        c.query_drop(format!(
            "CREATE USER 'alice'@'%' IDENTIFIED WITH auth_test_plugin BY '{PASSWORD}'"
        ))
        .await
        .expect("create user");
        c.query_drop("INSTALL PLUGIN protocol_trace SONAME 'libprotocol_trace.so'")
            .await
            .expect("install");
        c.query_drop("SET GLOBAL protocol_trace_debug = ON")
            .await
            .expect("debug on");
        let bad_before = status(&mut c, "protocol_trace_bad_transitions").await;
        // mysql_clear_password: the password crosses the wire in clear text.
        let alice = mysql_async::OptsBuilder::from_opts(
            Opts::from_url(&format!(
                "mysql://alice:{PASSWORD}@127.0.0.1:{}?prefer_socket=false",
                srv.port
            ))
            .expect("url"),
        )
        .enable_cleartext_plugin(true);
        let mut a = Conn::new(alice).await.expect("alice logs in");
        let alice_id = u64::from(a.id());
        let rows: Vec<(String, i64)> = a
            .query(
                "SELECT 'rowval_first' AS colname_abc, 1 AS n UNION ALL SELECT 'rowval_second', 2",
            )
            .await
            .expect("select");
        assert_eq!(rows.len(), 2);
        let e = a
            .query_drop("SELECT * FROM no_such_table_qq")
            .await
            .expect_err("error packet");
        assert_ne!(code(&e), 0);
        let p: Option<String> = a
            .exec_first("SELECT ? AS prepcol_zz", ("param_val_pp",))
            .await
            .expect("prepared");
        assert_eq!(p.as_deref(), Some("param_val_pp"));
        // COM_CHANGE_USER with the same clear-text password.
        a.change_user(
            mysql_async::ChangeUserOpts::default()
                .with_user(Some("alice".into()))
                .with_pass(Some(PASSWORD.into())),
        )
        .await
        .expect("change_user");
        a.query_drop("SELECT 1")
            .await
            .expect("select after change_user");
        a.disconnect().await.expect("disconnect");
        // Every stage of alice's connection came in a valid order.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !srv
            .error_log()
            .contains(&format!("conn {alice_id} stage DISCONNECTED"))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "no DISCONNECTED event"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            status(&mut c, "protocol_trace_bad_transitions").await,
            bad_before,
            "impossible stage transitions:\n{}",
            srv.error_log()
        );
        c.disconnect().await.expect("disconnect");
        let log = srv.error_log();
        assert!(!log.contains(PASSWORD), "password in the error log");
        let packets: Vec<TracedPacket> = traced_packets(&log)
            .into_iter()
            .filter(|p| p.conn == alice_id)
            .collect();
        let sent = |stage: &str, needle: &[u8]| {
            packets
                .iter()
                .any(|p| p.stage == stage && p.event == "PACKET_SENT" && contains(&p.bytes, needle))
        };
        // The result set: column count, column definitions, rows, EOFs.
        assert!(
            packets.iter().any(|p| p.stage == "WAIT_FOR_RESULT"
                && p.event == "PACKET_SENT"
                && p.bytes == [2]),
            "column count packet: {packets:#?}"
        );
        assert!(sent("WAIT_FOR_FIELD_DEF", b"colname_abc"), "{packets:#?}");
        assert!(
            sent("WAIT_FOR_FIELD_DEF", &[0xfe]),
            "EOF after the definitions"
        );
        assert!(sent("WAIT_FOR_ROW", b"rowval_first"), "{packets:#?}");
        assert!(sent("WAIT_FOR_ROW", b"rowval_second"), "{packets:#?}");
        // The error packet, the prepared statement's description and its result.
        assert!(sent("WAIT_FOR_RESULT", b"no_such_table_qq"), "{packets:#?}");
        assert!(
            packets
                .iter()
                .any(|p| p.stage == "WAIT_FOR_PS_DESCRIPTION" && p.bytes.starts_with(&[0])),
            "{packets:#?}"
        );
        assert!(
            packets.iter().any(|p| p.stage == "WAIT_FOR_PARAM_DEF"),
            "{packets:#?}"
        );
        assert!(sent("WAIT_FOR_COL_DEF", b"prepcol_zz"), "{packets:#?}");
        assert!(sent("WAIT_FOR_ROW", b"param_val_pp"), "{packets:#?}");
        // The commands, received.
        assert!(packets.iter().any(|p| p.stage == "READY_FOR_COMMAND"
            && p.event == "PACKET_RECEIVED"
            && contains(&p.bytes, b"rowval_first")));
        // Authentication packets were traced, masked: the handshake response and
        // the clear-text password after the switch; COM_CHANGE_USER (which carries
        // the clear-text password itself, the client already knowing the plugin)
        // is masked but for its command byte.
        let auth_in: Vec<&TracedPacket> = packets
            .iter()
            .filter(|p| p.stage == "AUTHENTICATE" && p.event == "PACKET_RECEIVED")
            .collect();
        assert!(auth_in.len() >= 2, "{auth_in:#?}");
        assert!(
            auth_in.iter().any(|p| p.len > PASSWORD.len()),
            "{auth_in:#?}"
        );
        for p in &auth_in {
            assert!(p.bytes.iter().all(|b| *b == b'*'), "unmasked: {p:?}");
        }
        let change_user: Vec<&TracedPacket> = packets
            .iter()
            .filter(|p| p.stage == "READY_FOR_COMMAND" && p.bytes.starts_with(&[0x11]))
            .collect();
        assert_eq!(change_user.len(), 1, "{packets:#?}");
        assert!(change_user[0].len > 10, "{change_user:?}");
        assert!(
            change_user[0].bytes[1..].iter().all(|b| *b == b'*'),
            "COM_CHANGE_USER unmasked: {change_user:?}"
        );
        for p in &packets {
            assert!(
                !contains(&p.bytes, PASSWORD.as_bytes()),
                "password in {p:?}"
            );
        }
        assert!(packets.iter().any(|p| p.stage == "DISCONNECTED"));
    });
}

#[test]
fn udf_state_is_per_call_site_and_statement() {
    let pdir = plugin_dir("udf_sites");
    std::fs::copy(udf_example::LIBRARY, pdir.join(udf_example::SONAME)).expect("copy udf");
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        for f in [
            "CREATE FUNCTION sequence RETURNS INTEGER SONAME 'libudf_example.so'",
            "CREATE AGGREGATE FUNCTION avgcost RETURNS REAL SONAME 'libudf_example.so'",
            "CREATE AGGREGATE FUNCTION clear_count RETURNS INTEGER SONAME 'libudf_example.so'",
            "CREATE DATABASE u",
            "CREATE TABLE u.t(g INT, qty INT, price DOUBLE)",
            "INSERT INTO u.t VALUES (1, 1, 10.0), (1, 3, 20.0), (2, 2, 5.0), (3, 4, 1.0), (3, 4, 3.0), (3, 2, 2.0)",
        ] {
            c.query_drop(f).await.unwrap_or_else(|e| panic!("{f}: {e}"));
        }
        // Two call sites of one scalar UDF: each counts on its own (MySQL gives
        // 1+start, 2+start, ... per site); the next statement starts again.
        for _ in 0..2 {
            let rows: Vec<(i64, i64, i64)> = c
                .query("SELECT sequence(qty), sequence(qty * 10), sequence() FROM u.t ORDER BY rowid LIMIT 3")
                .await
                .expect("sequence twice");
            assert_eq!(rows, [(2, 11, 1), (5, 32, 2), (5, 23, 3)]);
        }
        // A NULL argument is passed as NULL to the same UDF_INIT (no new init).
        let rows: Vec<i64> = c
            .query("SELECT sequence(CASE WHEN rowid % 2 = 0 THEN NULL ELSE qty END) FROM u.t ORDER BY rowid LIMIT 3")
            .await
            .expect("sequence with NULLs");
        assert_eq!(rows, [2, 2, 5]);
        // Prepared: each execution is a statement of its own.
        for _ in 0..2 {
            let rows: Vec<(i64, i64)> = c
                .exec("SELECT sequence(?), sequence(qty) FROM u.t ORDER BY rowid LIMIT 2", (100,))
                .await
                .expect("prepared sequence");
            assert_eq!(rows, [(101, 2), (102, 5)]);
        }
        // Aggregates: one UDF_INIT per call site for the whole statement, cleared
        // per group (1000 * groups so far + rows in the group).
        let rows: Vec<(i64, i64, i64)> = c
            .query("SELECT g, clear_count(qty), clear_count(price) FROM u.t GROUP BY g ORDER BY g")
            .await
            .expect("clear_count twice");
        assert_eq!(rows, [(1, 1002, 1002), (2, 2001, 2001), (3, 3003, 3003)]);
        // The same aggregate twice with different arguments.
        let rows: Vec<(i64, f64, f64)> = c
            .query("SELECT g, avgcost(qty, price), avgcost(qty * 2, price + 1.0) FROM u.t GROUP BY g ORDER BY g")
            .await
            .expect("avgcost twice");
        assert_eq!(rows.len(), 3);
        assert!((rows[0].1 - 17.5).abs() < 1e-9, "{rows:?}");
        assert!((rows[0].2 - 18.5).abs() < 1e-9, "{rows:?}");
        assert!((rows[1].1 - 5.0).abs() < 1e-9, "{rows:?}");
        assert!((rows[1].2 - 6.0).abs() < 1e-9, "{rows:?}");
        let whole: Option<(i64, i64)> = c
            .query_first("SELECT clear_count(qty), clear_count(NULL) FROM u.t")
            .await
            .expect("one group");
        assert_eq!(whole, Some((1006, 1000)));
        c.disconnect().await.expect("disconnect");
    });
}

#[test]
fn flush_unknown_plugin_and_failed_init_leave_no_trace() {
    let pdir = plugin_dir("initfail");
    let srv = TestServer::start_with(move |c| {
        c.plugin_dir = pdir;
        c.plugins.variables = vec![("crashme-panic-in-init".into(), "ON".into())];
    });
    rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        let e = c
            .query_drop("FLUSH PLUGINS no_such_plugin")
            .await
            .expect_err("unknown plugin");
        assert_eq!(code(&e), 1305, "{e}");
        c.query_drop("FLUSH PLUGINS").await.expect("flush all");
        let rows_before = plugin_rows(&mut c).await;
        for stmt in [
            "INSTALL PLUGIN crashme SONAME 'libcrashme.so'",
            "INSTALL SONAME 'libcrashme.so'",
        ] {
            let e = c.query_drop(stmt).await.expect_err("init panics");
            assert_eq!(code(&e), 1123, "{stmt}: {e}");
            assert!(
                !show_plugins(&mut c)
                    .await
                    .iter()
                    .any(|r| r.0.starts_with("crashme")),
                "{stmt}: left in SHOW PLUGINS"
            );
            let n: Option<i64> = c
                .query_first("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME LIKE 'crashme%'")
                .await
                .expect("IS.PLUGINS");
            assert_eq!(n, Some(0), "{stmt}");
            assert_eq!(plugin_rows(&mut c).await, rows_before, "{stmt}: mysql.plugin");
            let vars: Vec<(String, String)> = c
                .query("SHOW VARIABLES LIKE 'crashme%'")
                .await
                .expect("show variables");
            assert!(vars.is_empty(), "{stmt}: {vars:?}");
            let e = c
                .query_drop("FLUSH PLUGINS crashme")
                .await
                .expect_err("not installed");
            assert_eq!(code(&e), 1305, "{e}");
        }
        // A plugin uninstalled while busy (DELETED, not yet unloaded) is gone for
        // FLUSH too.
        c.query_drop("INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'")
            .await
            .expect("install");
        c.query_drop("FLUSH PLUGINS audit_null").await.expect("flush");
        let mut busy = connect(&srv.url()).await;
        let sleeper = async {
            busy.query_drop("SELECT SLEEP(1)").await.expect("sleep");
            busy
        };
        let flusher = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            c.query_drop("UNINSTALL PLUGIN audit_null")
                .await
                .expect("uninstall");
            let st: Option<String> = c
                .query_first("SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'audit_null'")
                .await
                .expect("status");
            let e = c
                .query_drop("FLUSH PLUGINS audit_null")
                .await
                .expect_err("uninstalled");
            (st, e)
        };
        let (busy, (st, e)) = tokio::join!(sleeper, flusher);
        assert_eq!(st.as_deref(), Some("DELETED"));
        assert_eq!(code(&e), 1305, "{e}");
        busy.disconnect().await.expect("disconnect");
        c.disconnect().await.expect("disconnect");
    });
    let log = srv.error_log();
    assert!(
        log.contains("Plugin 'crashme' init function returned error"),
        "{log}"
    );
}

#[test]
fn force_plugin_failing_init_aborts_startup_with_a_log_line() {
    let pdir = plugin_dir("forceinit");
    let root = pdir.parent().expect("root").to_path_buf();
    let log = root.join("error.log");
    let child = Command::new(env!("CARGO_BIN_EXE_minnowd"))
        .arg(format!("--datadir={}", root.join("d").display()))
        .arg("--port=0")
        .arg("--socket=")
        .arg(format!("--log-error={}", log.display()))
        .arg(format!("--plugin-dir={}", pdir.display()))
        .arg("--plugin-load-add=libcrashme.so")
        .arg("--plugin-crashme=FORCE")
        .arg("--crashme-panic-in-init=ON")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run minnowd");
    let mut child = util::ChildServer { child, port: 0 };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "minnowd kept running although a FORCE plugin failed its init"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    drop(child);
    let text = std::fs::read_to_string(&log).expect("error log");
    let init_line = text
        .lines()
        .find(|l| l.contains("Plugin 'crashme' init function returned error"))
        .unwrap_or_else(|| panic!("no init failure line:\n{text}"));
    assert!(init_line.contains("[ERROR]"), "{init_line}");
    assert!(
        text.lines()
            .any(|l| l.contains("[ERROR]") && l.contains("Failed to initialize plugins")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.contains("Aborting")), "{text}");
    assert!(!text.contains("ready for connections"), "{text}");
}

#[test]
fn audit_bindings_are_released_between_statements_and_calls_are_exact() {
    const STATEMENTS: i64 = 200;
    let pdir = plugin_dir("bindings");
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    rt().block_on(async {
        let mut b = connect(&srv.url()).await;
        b.query_drop("INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'")
            .await
            .expect("install");
        let mut a = connect(&srv.url()).await;
        let a_id: Option<i64> = a.query_first("SELECT CONNECTION_ID()").await.expect("id");
        let b_id: Option<i64> = b.query_first("SELECT CONNECTION_ID()").await.expect("id");
        let calls_sql = "SELECT CALLS, BOUND_SESSIONS FROM information_schema.PLUGIN_BINDINGS \
                         WHERE PLUGIN_NAME = 'audit_null' AND EXTENSION_POINT = 'AUDIT GENERAL'";
        let bound_sql = "SELECT SESSION_ID, PLUGIN_NAME, EXTENSION_POINT \
                         FROM information_schema.SESSION_PLUGIN_BINDINGS ORDER BY SESSION_ID";
        let (c0, _): (i64, i64) = b.query_first(calls_sql).await.expect("calls").expect("row");
        let mut extra_reads = 0;
        for i in 0..STATEMENTS {
            a.query_drop("SELECT 1").await.expect("select");
            if i % 50 == 0 {
                // `a` is idle: only `b`, which is running this very statement, is bound.
                // As in MySQL, a session releases its bindings right after sending the
                // last packet of its answer, so the client may see the answer a moment
                // before the release: allow that moment, not more.
                let want = vec![(
                    b_id.expect("id"),
                    "audit_null".to_string(),
                    "AUDIT GENERAL".to_string(),
                )];
                let deadline = std::time::Instant::now() + Duration::from_secs(2);
                let mut reads = 0;
                loop {
                    let rows: Vec<(i64, String, String)> =
                        b.query(bound_sql).await.expect("session bindings");
                    reads += 1;
                    if rows == want {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "connection {a_id:?} holds a binding while idle: {rows:?}"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                extra_reads += reads - 1;
            }
        }
        // `a` may still be releasing after its last answer (see above).
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let c1 = loop {
            let (c1, bound): (i64, i64) =
                b.query_first(calls_sql).await.expect("calls").expect("row");
            if bound == 1 {
                break c1;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only the asking session should be bound, {bound} are"
            );
            extra_reads += 1;
            std::thread::sleep(Duration::from_millis(1));
        };
        // 5 general events per statement of `a` (log, starting, result, status,
        // completed), plus b's statements: 3 after its first read, 4 SESSION_PLUGIN_BINDINGS
        // reads, 2 before the last read.
        // (+ 5 for each repeated read while `a` was still releasing)
        assert_eq!(c1 - c0, 5 * STATEMENTS + 3 + 4 * 5 + 2 + 5 * extra_reads);
        a.disconnect().await.expect("disconnect");
        b.disconnect().await.expect("disconnect");
    });
}
