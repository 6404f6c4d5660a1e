//! SQL surface through real clients against a real `minnowd` on 127.0.0.1:0:
//! SHOW TABLE STATUS / INDEX, MySQL functions and operators, information_schema
//! write rules, COM_DEBUG's plugin bindings, passwords (ALTER USER, SET PASSWORD).

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};
use util::*;

async fn connect(url: &str) -> Conn {
    Conn::new(Opts::from_url(url).expect("url"))
        .await
        .expect("connect")
}

// ------------------------------------------------ information_schema writes

#[test]
fn information_schema_writes_are_refused_from_any_database() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("CREATE DATABASE shop").await.expect("db");
        c.query_drop("USE shop").await.expect("use");
        c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
            .await
            .expect("table");
        // Another database is current: writes to information_schema.X are 1044.
        for sql in [
            "INSERT INTO information_schema.PROCESSLIST (ID) VALUES (1)",
            "UPDATE information_schema.GLOBAL_STATUS SET VARIABLE_VALUE = '0'",
            "DELETE FROM information_schema.PROCESSLIST",
            "CREATE TABLE information_schema.x (a INT)",
            "DROP TABLE information_schema.PROCESSLIST",
            "TRUNCATE TABLE information_schema.PROCESSLIST",
        ] {
            let e = c.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), 1044, "{sql}: {e}");
            assert!(
                e.to_string().contains(
                    "Access denied for user 'root'@'localhost' to database 'information_schema'"
                ),
                "{sql}: {e}"
            );
        }
        // The prepared-statement protocol refuses it too.
        let e = c
            .exec_drop(
                "INSERT INTO information_schema.PROCESSLIST (ID) VALUES (?)",
                (5,),
            )
            .await
            .expect_err("prepared write");
        assert_eq!(code(&e), 1044, "{e}");
        // information_schema is current: other databases' tables are writable.
        c.query_drop("USE information_schema")
            .await
            .expect("use is");
        c.query_drop("INSERT INTO shop.t VALUES (1, 10), (2, 20)")
            .await
            .expect("insert elsewhere");
        c.query_drop("UPDATE shop.t SET v = v + 1 WHERE id = 2")
            .await
            .expect("update elsewhere");
        c.query_drop("DELETE FROM shop.t WHERE id = 1")
            .await
            .expect("delete elsewhere");
        c.query_drop("CREATE TABLE shop.t2 (a INT)")
            .await
            .expect("create elsewhere");
        c.query_drop("INSERT INTO shop.t2 SELECT v FROM shop.t")
            .await
            .expect("insert select elsewhere");
        let rows: Vec<(i64, i64)> = c.query("SELECT id, v FROM shop.t").await.expect("read");
        assert_eq!(rows, vec![(2, 21)]);
        let a: Option<i64> = c.query_first("SELECT a FROM shop.t2").await.expect("t2");
        assert_eq!(a, Some(21));
        c.query_drop("DROP TABLE shop.t2")
            .await
            .expect("drop elsewhere");
        // …while its own tables stay read-only, qualified or not.
        for sql in [
            "INSERT INTO PROCESSLIST (ID) VALUES (1)",
            "DELETE FROM information_schema.PROCESSLIST",
            "CREATE TABLE t3 (a INT)",
        ] {
            let e = c.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), 1044, "{sql}: {e}");
        }
        c.disconnect().await.expect("disconnect");
    });
}

// ------------------------------------------------------------ example plugins

/// Builds the example plugins these tests use (same cargo, target dir and profile
/// as this test binary) once; returns the directory holding the `.so` files.
fn built_plugins() -> &'static Path {
    const NEEDED: [&str; 2] = ["audit_null", "auth_test"];
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary in <target>/<profile>/deps")
            .to_path_buf();
        let profile = profile_dir
            .file_name()
            .and_then(|s| s.to_str())
            .expect("profile")
            .to_string();
        let target_dir = profile_dir.parent().expect("target dir");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--target-dir"])
            .arg(target_dir)
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
        for p in NEEDED {
            cmd.args(["-p", p]);
        }
        let out = cmd.output().expect("run cargo build");
        assert!(
            out.status.success(),
            "building the example plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d = temp_dir("sql-plugins").join("plugin");
        std::fs::create_dir_all(&d).expect("plugin dir");
        for p in NEEDED {
            let f = format!("lib{p}.so");
            std::fs::copy(profile_dir.join(&f), d.join(&f)).expect("copy plugin");
        }
        d
    })
}

fn plugin_server() -> TestServer {
    let dir = built_plugins().to_path_buf();
    TestServer::start_with(move |c| c.plugin_dir = dir)
}

// ------------------------------------------------------- COM_DEBUG bindings

#[test]
fn admin_debug_dump_lists_plugin_bindings() {
    let s = plugin_server();
    let calls_before = rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("INSTALL SONAME 'libaudit_null.so'")
            .await
            .expect("install audit_null");
        for _ in 0..3 {
            c.query_drop("SELECT 1").await.expect("select");
        }
        let calls: Option<u64> = c
            .query_first(
                "SELECT CALLS FROM information_schema.PLUGIN_BINDINGS \
                 WHERE PLUGIN_NAME = 'audit_null' AND EXTENSION_POINT = 'AUDIT GENERAL'",
            )
            .await
            .expect("bindings");
        c.disconnect().await.expect("disconnect");
        calls.expect("audit_null has a GENERAL binding row")
    });
    assert!(calls_before >= 3, "{calls_before}");
    let Some(o) = s.admin(&["debug"]) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let log = s.error_log();
    let section = log
        .split("Plugin bindings:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no bindings section in the dump:\n{log}"));
    assert!(
        section
            .lines()
            .next()
            .is_some_and(|h| h.contains("Extension point")
                && h.contains("Calls")
                && h.contains("Errors")
                && h.contains("Bound_sessions")),
        "{section}"
    );
    let row = section
        .lines()
        .find(|l| l.trim_start().starts_with("audit_null ") && l.contains("AUDIT GENERAL"))
        .unwrap_or_else(|| panic!("no audit_null row:\n{section}"));
    let nums: Vec<u64> = row
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(nums.len(), 5, "{row}");
    assert!(
        nums[0] >= calls_before,
        "dump {row} vs table {calls_before}"
    );
    assert!(
        section
            .lines()
            .any(|l| l.trim_start().starts_with("audit_null ") && l.contains("AUDIT CONNECTION")),
        "{section}"
    );
    // The built-in authentication plugin is bound by every login.
    assert!(
        section.lines().any(|l| l.contains("mysql_native_password")),
        "{section}"
    );
}
