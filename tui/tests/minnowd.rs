//! Against Minnow's own server: batch mode for every view, and the DBUG view
//! setting the global control string through the real event loop (accepted and
//! refused). The plugins view reads minnowd's real PLUGINS / PLUGIN_BINDINGS tables.

use std::process::Command;
use std::time::Duration;

use minnow_top::app::App;
use minnow_top::options::View;
use minnow_top::term::{EventSource, Session, run_loop};
use minnow_top::ui::buffer_text;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use crate::util::{Minnowd, TempDir};

#[test]
fn minnowd_batch_every_view() {
    let Some(server) = Minnowd::start() else {
        return;
    };
    let port = server.port.to_string();
    for view in ["processlist", "plugins", "status", "variables", "debug"] {
        let o = Command::new(env!("CARGO_BIN_EXE_minnow-top"))
            .args(["-P", &port, "--batch", "--view", view])
            .env_remove("MYSQL_DEBUG")
            .output()
            .expect("run minnow-top");
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{view}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        match view {
            "processlist" => assert!(out.contains("SHOW FULL PROCESSLIST"), "{out}"),
            "status" => assert!(out.contains("\nUptime "), "{out}"),
            "variables" => assert!(out.contains("\nversion "), "{out}"),
            "debug" => assert!(
                out.lines()
                    .any(|l| l.split_whitespace().next() == Some("debug")),
                "{out}"
            ),
            _ => {
                // minnowd has every plugin table: the built-in authentication
                // plugin is listed with its binding row, and nothing is missing.
                let native = out
                    .lines()
                    .find(|l| l.starts_with("mysql_native_password "))
                    .unwrap_or_else(|| panic!("no mysql_native_password row: {out}"));
                assert!(native.contains("ACTIVE"), "{native}");
                assert!(native.contains("AUTHENTICATION"), "{native}");
                assert!(!out.contains("not available"), "{out}");
            }
        }
    }
}

struct Keys(Vec<ratatui::crossterm::event::KeyEvent>);

impl EventSource for Keys {
    fn next(&mut self, _t: Duration) -> minnow_top::Result<Option<minnow_top::app::Event>> {
        Ok(Some(if self.0.is_empty() {
            minnow_top::app::Event::char('q')
        } else {
            minnow_top::app::Event::Key(self.0.remove(0))
        }))
    }
}

fn keys(text: &str, backspaces: usize) -> Keys {
    use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
    let mut v = vec![KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE)];
    v.extend((0..backspaces).map(|_| KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
    v.extend(
        text.chars()
            .map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
    v.push(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    Keys(v)
}

#[test]
fn minnowd_debug_view_sets_the_global_control_string() {
    let Some(server) = Minnowd::start() else {
        return;
    };
    let dir = TempDir::new("minnowd-trace");
    let trace = dir.0.join("server.trace");
    let mut app = App::new(View::Debug, Duration::from_secs(30), false);
    let mut session = Session::new(server.opts());
    let mut t = Terminal::new(TestBackend::new(140, 24)).expect("terminal");

    let wanted = format!("d,info:o,{}", trace.display());
    run_loop(&mut t, &mut app, &mut session, &mut keys(&wanted, 200)).expect("loop");
    let screen = buffer_text(t.backend().buffer());
    assert!(
        screen.contains(&format!("SET GLOBAL debug = {wanted}: OK")),
        "{screen}"
    );
    let now = app
        .snapshot
        .as_ref()
        .and_then(|s| s.variables.get())
        .and_then(|v| v.debug_variable())
        .map(|(_, v)| v.to_string())
        .expect("debug variable");
    assert!(
        now.contains("d,info") && now.contains(&trace.display().to_string()),
        "{now}"
    );
    assert!(
        screen.contains("print lines for keywords: info"),
        "{screen}"
    );

    // A malformed string: the server refuses (1231) and keeps the old value.
    run_loop(&mut t, &mut app, &mut session, &mut keys("d,info:Q", 200)).expect("loop");
    let screen = buffer_text(t.backend().buffer());
    assert!(screen.contains("refused by the server"), "{screen}");
    assert!(screen.contains("1231"), "{screen}");
    let after = app
        .snapshot
        .as_ref()
        .and_then(|s| s.variables.get())
        .and_then(|v| v.debug_variable())
        .map(|(_, v)| v.to_string());
    assert_eq!(after.as_deref(), Some(now.as_str()));
}

/// The plugins view with a real example plugin: `audit_null` installed through SQL shows
/// its library, both audit extension points and a growing call count; uninstalled, its row
/// goes.
#[test]
fn minnowd_plugins_view_shows_an_installed_audit_plugin_and_its_bindings() {
    let Some(lib) = built_plugin("libaudit_null.so") else {
        return;
    };
    let dir = TempDir::new("minnowd-plugins");
    let plugin_dir = dir.0.join("plugin");
    std::fs::create_dir_all(&plugin_dir).expect("plugin dir");
    std::fs::copy(&lib, plugin_dir.join("libaudit_null.so")).expect("copy plugin");
    let Some(server) = Minnowd::start_with(&[format!("--plugin-dir={}", plugin_dir.display())])
    else {
        return;
    };
    let mut c = minnow_top::client::Client::connect(&server.opts()).expect("connect");
    c.query("INSTALL PLUGIN audit_null SONAME 'libaudit_null.so'")
        .expect("install");
    for _ in 0..5 {
        c.query("SELECT 1").expect("select");
    }
    let plugins_view = || {
        let o = Command::new(env!("CARGO_BIN_EXE_minnow-top"))
            .args([
                "-P",
                &server.port.to_string(),
                "--batch",
                "--view",
                "plugins",
            ])
            .env_remove("MYSQL_DEBUG")
            .output()
            .expect("run minnow-top");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let out = plugins_view();
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let row = out
        .lines()
        .find(|l| l.starts_with("audit_null "))
        .unwrap_or_else(|| panic!("no audit_null row: {out}"));
    for want in [
        "ACTIVE",
        "AUDIT",
        "libaudit_null.so",
        "AUDIT GENERAL",
        "AUDIT CONNECTION",
    ] {
        assert!(row.contains(want), "{want} missing in {row}");
    }
    // Calls: the column after the (space-containing) extension points; the five SELECTs
    // alone deliver several general events each.
    let calls_at = header
        .iter()
        .position(|h| *h == "Calls")
        .expect("Calls column");
    let from_end = header.len() - calls_at;
    let fields: Vec<&str> = row.split_whitespace().collect();
    let calls: u64 = fields[fields.len() - from_end]
        .parse()
        .unwrap_or_else(|e| panic!("calls in {row}: {e}"));
    assert!(calls >= 10, "{row}");

    c.query("UNINSTALL PLUGIN audit_null").expect("uninstall");
    let out = plugins_view();
    assert!(!out.lines().any(|l| l.starts_with("audit_null ")), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("mysql_native_password ")),
        "{out}"
    );
}

/// A cdylib example plugin built next to this test's binary, or `None` (after printing
/// why) outside CI; in CI a missing library fails.
fn built_plugin(name: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_minnow-top")).with_file_name(name);
    if path.is_file() {
        return Some(path);
    }
    let msg = format!("{} not built (build the workspace)", path.display());
    if std::env::var_os("CI").is_some() {
        panic!("{msg}: CI must run the plugin view test");
    }
    eprintln!("SKIP: {msg}");
    None
}
