//! The real event loop on a `TestBackend`, driven by scripted keys, against a
//! private MariaDB: kill from the list, SET GLOBAL, the DBUG view, reconnect, and
//! the fixed number of statements per refresh.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use minnow_top::app::{App, ConnState, Event};
use minnow_top::error::Result;
use minnow_top::model::{Collector, Needs};
use minnow_top::options::View;
use minnow_top::term::{EventSource, Session, run_loop};
use minnow_top::ui::buffer_text;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use crate::util::{MariaDb, run_in_background, wait_for_query, was_interrupted};

enum Step {
    Key(Event),
    Wait(Duration),
}

/// Keys typed by a script; `q` when the script is over.
struct Script(VecDeque<Step>);

impl Script {
    fn new() -> Script {
        Script(VecDeque::new())
    }
    fn text(mut self, s: &str) -> Script {
        self.0.extend(s.chars().map(|c| Step::Key(Event::char(c))));
        self
    }
    fn key(mut self, k: KeyCode) -> Script {
        self.0.push_back(Step::Key(Event::code(k)));
        self
    }
    fn wait(mut self, ms: u64) -> Script {
        self.0.push_back(Step::Wait(Duration::from_millis(ms)));
        self
    }
}

impl EventSource for Script {
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>> {
        match self.0.pop_front() {
            Some(Step::Key(e)) => Ok(Some(e)),
            Some(Step::Wait(d)) => {
                std::thread::sleep(d.min(timeout.max(Duration::from_millis(1))));
                Ok(None)
            }
            None => Ok(Some(Event::char('q'))),
        }
    }
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(140, 30)).expect("test terminal")
}

fn screen(t: &Terminal<TestBackend>) -> String {
    buffer_text(t.backend().buffer())
}

fn run(t: &mut Terminal<TestBackend>, app: &mut App, s: &mut Session, script: Script) {
    let mut script = script;
    run_loop(t, app, s, &mut script).expect("console loop");
}

#[test]
fn kill_query_and_connection_from_the_processlist() {
    let Some(db) = MariaDb::start() else { return };
    let (id, sleeper) = run_in_background(&db, "SELECT SLEEP(60) AS minnow_kill_probe");
    wait_for_query(&db, id, "minnow_kill_probe");
    let started = Instant::now();

    let mut app = App::new(View::Processlist, Duration::from_secs(30), false);
    let mut session = Session::new(db.opts());
    let mut t = terminal();
    // Filter to the sleeper, ask to kill its query, answer no: nothing happens.
    run(
        &mut t,
        &mut app,
        &mut session,
        Script::new()
            .text("/minnow_kill")
            .key(KeyCode::Enter)
            .text("xn"),
    );
    let s = screen(&t);
    assert!(s.contains("1 of "), "{s}");
    assert!(s.contains("kill cancelled"), "{s}");
    assert!(!sleeper.is_finished());

    // Now yes.
    run(
        &mut t,
        &mut app,
        &mut session,
        Script::new().text("xy").wait(200),
    );
    let result = sleeper.join().expect("join");
    assert!(was_interrupted(&result), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(50));
    let s = screen(&t);
    assert!(s.contains(&format!("KILL QUERY {id}: OK")), "{s}");

    // Kill a whole connection with K.
    let (id2, sleeper2) = run_in_background(&db, "SELECT SLEEP(60) AS minnow_conn_probe");
    wait_for_query(&db, id2, "minnow_conn_probe");
    run(&mut t, &mut app, &mut session, {
        let mut s = Script::new().text("/");
        for _ in 0..20 {
            s = s.key(KeyCode::Backspace);
        }
        s.text("minnow_conn_probe")
            .key(KeyCode::Enter)
            .text("Ky")
            .wait(200)
    });
    let err = sleeper2
        .join()
        .expect("join")
        .expect_err("the connection was killed");
    assert!(
        err.is_connection_error() || err.server_code().is_some(),
        "{err}"
    );
    let s = screen(&t);
    assert!(s.contains(&format!("KILL CONNECTION {id2}: OK")), "{s}");
}

#[test]
fn set_global_from_the_variables_view_and_a_refusal() {
    let Some(db) = MariaDb::start() else { return };
    let mut app = App::new(View::Processlist, Duration::from_secs(30), false);
    let mut session = Session::new(db.opts());
    let mut t = terminal();
    run(
        &mut t,
        &mut app,
        &mut session,
        Script::new()
            .text("4/max_connections")
            .key(KeyCode::Enter)
            .wait(50),
    );
    // The filter also matches e.g. extra_max_connections: move to the exact name.
    let snap = app.snapshot.clone().expect("snapshot");
    let vars = snap.variables.get().expect("variables");
    let pos = app
        .variables
        .rows
        .iter()
        .position(|&i| vars.vars[i].0 == "max_connections")
        .expect("max_connections listed");
    let mut edit = Script::new().text("g").text(&"j".repeat(pos)).text("e");
    for _ in 0..10 {
        edit = edit.key(KeyCode::Backspace);
    }
    run(
        &mut t,
        &mut app,
        &mut session,
        edit.text("123").key(KeyCode::Enter).wait(100),
    );
    let v = db
        .client()
        .query("SELECT @@global.max_connections")
        .expect("select");
    assert_eq!(v.rows[0][0].as_deref(), Some("123"));
    let s = screen(&t);
    assert!(s.contains("SET GLOBAL max_connections = 123: OK"), "{s}");
    assert!(s.contains("max_connections") && s.contains("123"), "{s}");

    // A read-only variable: the server refuses, the console shows its error.
    let mut script = Script::new().text("/");
    for _ in 0..20 {
        script = script.key(KeyCode::Backspace);
    }
    run(
        &mut t,
        &mut app,
        &mut session,
        script
            .text("version_compile_os")
            .key(KeyCode::Enter)
            .text("ex")
            .key(KeyCode::Enter),
    );
    let m = app.message.clone().expect("a message");
    assert!(m.error, "{m:?}");
    assert!(
        m.text.contains("1238") && m.text.contains("read only"),
        "{m:?}"
    );
}

#[test]
fn every_view_renders_real_mariadb_data_and_says_what_is_missing() {
    let Some(db) = MariaDb::start() else { return };
    let mut app = App::new(View::Processlist, Duration::from_secs(30), false);
    let mut session = Session::new(db.opts());
    let mut t = terminal();
    run(&mut t, &mut app, &mut session, Script::new());
    let s = screen(&t);
    assert!(s.contains("MariaDB"), "{s}");
    assert!(s.contains("SHOW FULL PROCESSLIST"), "{s}");

    run(
        &mut t,
        &mut app,
        &mut session,
        Script::new().text("2").wait(50),
    );
    let s = screen(&t);
    assert!(
        s.contains("PLUGIN_BINDINGS (Minnow) not available on this server"),
        "{s}"
    );
    assert!(s.contains("mysql_native_password"), "{s}");

    run(
        &mut t,
        &mut app,
        &mut session,
        Script::new().text("3/uptime").key(KeyCode::Enter),
    );
    let s = screen(&t);
    assert!(s.contains("Uptime") && s.contains("(gauge)"), "{s}");

    run(
        &mut t,
        &mut app,
        &mut session,
        Script::new().text("5").wait(50).text("e"),
    );
    let s = screen(&t);
    let has_dbug = app
        .snapshot
        .as_ref()
        .and_then(|s| s.variables.get())
        .and_then(|v| v.debug_variable())
        .is_some();
    if has_dbug {
        assert!(s.contains("SET GLOBAL debug"), "{s}");
    } else {
        assert!(s.contains("DBUG is not available on this server"), "{s}");
        assert!(s.contains("no DBUG control variable"), "{s}");
    }
}

#[test]
fn connection_loss_is_shown_and_the_console_reconnects() {
    let Some(db) = MariaDb::start() else { return };
    let mut app = App::new(View::Processlist, Duration::from_secs(30), false);
    let mut session = Session::new(db.opts());
    let mut t = terminal();
    run(&mut t, &mut app, &mut session, Script::new());
    assert_eq!(app.conn, ConnState::Up);
    let ours = session.connection_id().expect("connected");
    db.client()
        .execute(&format!("KILL CONNECTION {ours}"))
        .expect("kill our session");

    run(&mut t, &mut app, &mut session, Script::new());
    assert!(matches!(app.conn, ConnState::Lost { .. }), "{:?}", app.conn);
    let s = screen(&t);
    assert!(s.contains("CONNECTION LOST"), "{s}");

    run(&mut t, &mut app, &mut session, Script::new());
    assert_eq!(app.conn, ConnState::Up);
    assert_ne!(session.connection_id(), Some(ours));
    assert!(screen(&t).contains("reconnected"));

    // Paused: no periodic refresh, but R still refreshes at once.
    let mut fast = App::new(View::Processlist, Duration::from_millis(100), false);
    let q0 = session.queries_sent();
    run(
        &mut t,
        &mut fast,
        &mut session,
        Script::new().text("p").wait(400),
    );
    let one = session.queries_sent() - q0; // the loop's first refresh only
    assert!(fast.paused);
    let q1 = session.queries_sent();
    run(
        &mut t,
        &mut fast,
        &mut session,
        Script::new().wait(300).text("R").wait(300),
    );
    assert_eq!(
        session.queries_sent() - q1,
        2 * one,
        "first refresh + R, nothing periodic"
    );
}

#[test]
fn statements_per_refresh_do_not_grow_with_the_processlist() {
    let Some(db) = MariaDb::start() else { return };
    let mut client = db.client();
    let mut collector = Collector::new();
    let cost = |client: &mut minnow_top::client::Client, collector: &mut Collector, needs| {
        let before = client.queries_sent();
        let snap = collector.collect(client, needs).expect("collect");
        (client.queries_sent() - before, snap.processlist.len())
    };
    let all = Needs {
        variables: true,
        plugins: true,
    };
    // Warm up (the first plugin refresh learns which Minnow tables are missing).
    cost(&mut client, &mut collector, all);
    let (small, n_small) = cost(&mut client, &mut collector, all);
    let (small_plain, _) = cost(&mut client, &mut collector, Needs::default());
    let extra: Vec<_> = (0..60).map(|_| db.client()).collect();
    let (large, n_large) = cost(&mut client, &mut collector, all);
    let (large_plain, _) = cost(&mut client, &mut collector, Needs::default());
    assert!(n_large >= n_small + 60, "{n_small} -> {n_large}");
    assert_eq!(small, large);
    assert_eq!(small_plain, large_plain);
    assert_eq!(small_plain, 2, "processlist + status");
    assert!(large <= 7, "{large}");
    drop(extra);
}
