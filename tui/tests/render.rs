//! Every view rendered on `TestBackend` and compared with golden files.

use std::time::Duration;

use minnow_top::app::{App, Event};
use minnow_top::error::Error;
use minnow_top::model::{
    Avail, Binding, Header, Plugin, Plugins, ProcessRow, SessionBinding, Snapshot, Status,
    Variables,
};
use minnow_top::options::View;
use minnow_top::ui::buffer_text;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use crate::util::assert_golden;

fn proc(
    id: u64,
    user: &str,
    db: Option<&str>,
    cmd: &str,
    time: u64,
    state: &str,
    info: Option<&str>,
) -> ProcessRow {
    ProcessRow {
        id,
        user: user.into(),
        host: format!("10.1.2.{id}:{}", 40000 + id),
        db: db.map(str::to_string),
        command: cmd.into(),
        time,
        state: (!state.is_empty()).then(|| state.to_string()),
        info: info.map(str::to_string),
    }
}

fn processlist() -> Vec<ProcessRow> {
    vec![
        proc(
            1,
            "system user",
            None,
            "Daemon",
            9000,
            "InnoDB purge coordinator",
            None,
        ),
        proc(
            5,
            "root",
            None,
            "Query",
            0,
            "starting",
            Some("SHOW FULL PROCESSLIST"),
        ),
        proc(12, "app", Some("shop"), "Sleep", 31, "", None),
        proc(
            13,
            "app",
            Some("shop"),
            "Query",
            42,
            "User sleep",
            Some("SELECT SLEEP(100) /* report */"),
        ),
        proc(
            14,
            "report",
            Some("dw"),
            "Query",
            7,
            "Sending data",
            Some(
                "SELECT c.name, SUM(o.total)\nFROM customers c JOIN orders o ON o.customer_id = c.id\nWHERE o.created > NOW() - INTERVAL 7 DAY GROUP BY c.name ORDER BY 2 DESC",
            ),
        ),
        proc(20, "app", Some("shop"), "Sleep", 3, "", None),
    ]
}

fn status_pairs(i: u64) -> Vec<(String, String)> {
    let q = 1000 + i * i * 20 + i * 10;
    vec![
        ("Aborted_clients".into(), "0".into()),
        ("Bytes_received".into(), (50_000 + i * 4096).to_string()),
        ("Bytes_sent".into(), (90_000 + i * 10_000).to_string()),
        ("Com_select".into(), (q / 2).to_string()),
        ("Connections".into(), (40 + i).to_string()),
        (
            "Innodb_buffer_pool_load_status".into(),
            "Buffer pool(s) load completed".into(),
        ),
        ("Open_tables".into(), (30 + i % 3).to_string()),
        ("Queries".into(), (q + 5).to_string()),
        ("Questions".into(), q.to_string()),
        ("Threads_connected".into(), "6".into()),
        ("Threads_running".into(), "3".into()),
        ("Uptime".into(), (93_784 + i * 2).to_string()),
    ]
}

fn variables() -> Variables {
    Variables::from_pairs(vec![
        ("autocommit".into(), "ON".into()),
        (
            "debug".into(),
            "d,info,query:t,8:o,/tmp/minnowd.trace".into(),
        ),
        ("max_allowed_packet".into(), "16777216".into()),
        ("max_connections".into(), "151".into()),
        ("port".into(), "3306".into()),
        (
            "sql_mode".into(),
            "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION".into(),
        ),
        ("version".into(), "0.1.0-minnow".into()),
        ("wait_timeout".into(), "28800".into()),
    ])
}

fn minnow_plugins() -> Plugins {
    let plugin = |name: &str, kind: &str, lib: Option<&str>, desc: &str| Plugin {
        name: name.into(),
        status: "ACTIVE".into(),
        kind: kind.into(),
        library: lib.map(str::to_string),
        license: "GPL".into(),
        version: Some("1.0".into()),
        author: Some("Minnow".into()),
        description: Some(desc.into()),
    };
    let binding =
        |p: &str, e: &str, calls: u64, rate: f64, errors: u64, total: u64, bound: u64| Binding {
            plugin: p.into(),
            extension_point: e.into(),
            calls,
            errors,
            total_time_us: total,
            max_time_us: total / calls.max(1) * 3,
            bound_sessions: bound,
            calls_rate: Some(rate),
            time_per_call_us: (calls > 0).then(|| total as f64 / calls as f64),
        };
    Plugins {
        plugins: Avail::Yes(vec![
            plugin(
                "audit_null",
                "AUDIT",
                Some("libaudit_null.so"),
                "Counts audit events",
            ),
            plugin(
                "conn_ip_filter",
                "AUDIT",
                Some("libconn_ip_filter.so"),
                "Refuses connections by address",
            ),
            plugin(
                "mysql_native_password",
                "AUTHENTICATION",
                None,
                "Native MySQL authentication",
            ),
        ]),
        details: Avail::Yes(()),
        bindings: Avail::Yes(vec![
            binding("audit_null", "general", 5230, 41.5, 0, 10460, 2),
            binding("audit_null", "connection", 12, 0.5, 0, 60, 0),
            binding("conn_ip_filter", "connection", 44, 0.5, 3, 880, 0),
        ]),
        sessions: Avail::Yes(vec![
            SessionBinding {
                session_id: 13,
                plugin: "audit_null".into(),
                extension_point: "general".into(),
            },
            SessionBinding {
                session_id: 14,
                plugin: "audit_null".into(),
                extension_point: "general".into(),
            },
        ]),
    }
}

/// An app that has seen 12 refreshes of synthetic data (for rates and sparklines).
fn app(view: View, plugins: Plugins, vars: Avail<Variables>) -> App {
    let mut app = App::new(view, Duration::from_secs(2), false);
    let mut prev: Option<Status> = None;
    for i in 0..12 {
        let status = Status::from_pairs(status_pairs(i), prev.as_ref(), 2.0);
        let header = Header::from_status("127.0.0.1:3306".into(), "0.1.0-minnow".into(), &status);
        app.on_refresh(Ok(Snapshot {
            header,
            processlist: processlist(),
            status: status.clone(),
            variables: vars.clone(),
            plugins: plugins.clone(),
            elapsed_secs: if i == 0 { 0.0 } else { 2.0 },
            processlist_note: None,
            status_note: None,
        }));
        prev = Some(status);
    }
    app
}

fn minnow_app(view: View) -> App {
    app(view, minnow_plugins(), Avail::Yes(variables()))
}

fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(Event::char(c));
    }
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| f.render_widget(app, f.area())).expect("draw");
    buffer_text(t.backend().buffer())
}

#[test]
fn processlist_default_sorted_by_time() {
    let a = minnow_app(View::Processlist);
    assert_golden("processlist_default", &render(&a, 120, 16));
}

#[test]
fn processlist_idle_hidden_filtered_with_detail() {
    let mut a = minnow_app(View::Processlist);
    keys(&mut a, "i/db:");
    keys(&mut a, "dw");
    a.update(Event::code(KeyCode::Enter));
    a.update(Event::code(KeyCode::Enter)); // detail pane
    assert_golden("processlist_filtered_detail", &render(&a, 110, 20));
}

#[test]
fn processlist_sorted_by_user_reversed_with_kill_confirmation() {
    let mut a = minnow_app(View::Processlist);
    keys(&mut a, "<<<<r"); // Time -> Command -> db -> Host -> User, then ascending
    keys(&mut a, "gjx"); // top, then the second row: thread 13
    assert_golden("processlist_kill_confirm", &render(&a, 120, 14));
}

#[test]
fn plugins_with_minnow_bindings() {
    let a = minnow_app(View::Plugins);
    assert_golden("plugins_minnow", &render(&a, 110, 18));
}

#[test]
fn plugins_on_a_server_without_bindings() {
    let mut p = minnow_plugins();
    p.bindings = Avail::Missing(
        "information_schema.PLUGIN_BINDINGS (Minnow) not available on this server (server error 1109 (42S02): Unknown table 'PLUGIN_BINDINGS' in information_schema)".into(),
    );
    p.sessions = Avail::Missing(
        "information_schema.SESSION_PLUGIN_BINDINGS (Minnow) not available on this server".into(),
    );
    let a = app(View::Plugins, p, Avail::Yes(variables()));
    assert_golden("plugins_mariadb", &render(&a, 110, 18));
}

#[test]
fn status_with_rates_and_sparkline() {
    let mut a = minnow_app(View::Status);
    keys(&mut a, "/");
    keys(&mut a, "quest");
    a.update(Event::code(KeyCode::Enter));
    assert_golden("status_sparkline", &render(&a, 100, 18));
}

#[test]
fn variables_filtered_and_editing() {
    let mut a = minnow_app(View::Variables);
    keys(&mut a, "/max");
    a.update(Event::code(KeyCode::Enter));
    keys(&mut a, "j");
    a.update(Event::code(KeyCode::Enter)); // edit max_connections
    a.update(Event::code(KeyCode::Backspace));
    keys(&mut a, "2");
    assert_golden("variables_edit", &render(&a, 100, 14));
}

#[test]
fn debug_view_with_a_refused_change() {
    let mut a = minnow_app(View::Debug);
    let cmd = minnow_top::app::Command::SetGlobal {
        name: "debug".into(),
        value: "d,info:Q".into(),
    };
    a.on_command_result(
        &cmd,
        Err(Error::Server {
            code: 1231,
            state: "42000".into(),
            message: "Variable 'debug' can't be set to the value of 'd,info:Q'".into(),
        }),
    );
    assert_golden("debug_minnow", &render(&a, 100, 20));
}

#[test]
fn debug_view_on_a_release_build() {
    let vars = Variables::from_pairs(vec![("version".into(), "10.11.6-MariaDB".into())]);
    let a = app(View::Debug, Plugins::default(), Avail::Yes(vars));
    assert_golden("debug_missing", &render(&a, 100, 10));
}

#[test]
fn help_overlay() {
    let mut a = minnow_app(View::Processlist);
    keys(&mut a, "?");
    assert_golden("help", &render(&a, 100, 24));
}

#[test]
fn connection_lost_banner_keeps_the_last_data() {
    let mut a = minnow_app(View::Processlist);
    a.on_refresh(Err(Error::ConnectionLost(
        "Connection refused (os error 111)".into(),
    )));
    a.on_refresh(Err(Error::ConnectionLost(
        "Connection refused (os error 111)".into(),
    )));
    keys(&mut a, "p");
    assert_golden("connection_lost", &render(&a, 120, 10));
}

#[test]
fn processlist_and_status_refused_by_the_server() {
    let mut a = minnow_app(View::Processlist);
    let mut snap = a.snapshot.clone().expect("snapshot");
    snap.processlist.clear();
    snap.processlist_note = Some(
        "SHOW FULL PROCESSLIST refused by the server (server error 1227 (42000): Access denied; you need the PROCESS privilege)".into(),
    );
    snap.status = Status::default();
    snap.header = Header::from_status("127.0.0.1:3306".into(), "0.1.0-minnow".into(), &snap.status);
    snap.status_note =
        Some("SHOW GLOBAL STATUS refused by the server (server error 1064 (42000): syntax)".into());
    a.on_refresh(Ok(snap));
    assert_golden("processlist_refused", &render(&a, 120, 8));
    a.update(Event::char('3'));
    assert_golden("status_refused", &render(&a, 120, 8));
}

#[test]
fn rendering_never_panics_on_tiny_terminals() {
    for view in View::ALL {
        let mut a = minnow_app(view);
        keys(&mut a, "d?");
        for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 8)] {
            let text = render(&a, w, h);
            assert_eq!(text.lines().count(), h as usize);
        }
    }
}
