//! Robustness of the statement path: regression tests for what the `sql` fuzz
//! target (`server/fuzz/fuzz_targets/sql.rs`) found, and the safety net for a
//! panic that still slips through.

mod util;

use mysql_async::prelude::*;
use util::*;

/// A panic on one session thread closes that connection only: it is logged and
/// counted, the registry and counters are right again, other sessions keep
/// working and new connections are accepted.
#[test]
fn a_panicking_session_leaves_the_server_serving() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut bystander = connect(&s.url()).await;
        bystander
            .query_drop("SET @kept = 7")
            .await
            .expect("bystander");
        let mut victim = connect(&s.url()).await;
        let victim_id = victim.id();
        let aborted = status_value(&s.shared, "Aborted_clients");
        assert_eq!(status_value(&s.shared, "Threads_connected"), 2);
        victim
            .query_drop("SET SESSION debug = '+d,panic_dispatch_command'")
            .await
            .expect("set debug");
        let r = victim.query_drop("SELECT 1").await;
        assert!(r.is_err(), "the session answered instead of panicking");
        drop(victim);
        // The panicking thread unwinds, unregisters, and is counted once caught.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while s.shared.threads.get(victim_id).is_some()
            || status_value(&s.shared, "Aborted_clients") == aborted
        {
            assert!(
                std::time::Instant::now() < deadline,
                "victim still registered or not counted"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(status_value(&s.shared, "Threads_connected"), 1);
        assert_eq!(status_value(&s.shared, "Aborted_clients"), aborted + 1);
        let kept: i64 = bystander
            .query_first("SELECT @kept")
            .await
            .expect("bystander after the panic")
            .expect("row");
        assert_eq!(kept, 7);
        let mut fresh = connect(&s.url()).await;
        let one: i64 = fresh
            .query_first("SELECT 1")
            .await
            .expect("new connection")
            .expect("row");
        assert_eq!(one, 1);
        let n: Vec<(u64,)> = fresh
            .query("SELECT ID FROM information_schema.PROCESSLIST ORDER BY ID")
            .await
            .expect("processlist");
        assert!(n.iter().all(|(id,)| *id != u64::from(victim_id)), "{n:?}");
        assert_eq!(n.len(), 2, "{n:?}");
    });
    let log = s.error_log();
    assert!(
        log.contains("connection thread panicked: panic_dispatch_command"),
        "{log}"
    );
}

/// The processlist state of connection `id`, waiting up to 10 s for `want`.
fn wait_for_state(sh: &minnow_server::server::Shared, id: u32, want: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let state = sh
            .threads
            .get(id)
            .and_then(|t| t.snapshot())
            .map(|s| s.state);
        if state == Some(want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "connection {id} never reached state {want:?} (now {state:?})"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Found by the `sql` fuzz target: `SLEEP(1e308)` panicked converting the
/// seconds to a `Duration` (inside SQLite's callback). A sleep longer than the
/// clock can count now sleeps until `KILL QUERY`, as in MySQL.
#[test]
fn sleep_longer_than_the_clock_runs_until_killed() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        let id = c.id();
        for q in [
            "SELECT SLEEP(1e308)",
            "SELECT SLEEP(1e19)",
            "DO SLEEP(1e300)",
        ] {
            let shared = std::sync::Arc::clone(&s.shared);
            let url = s.url();
            let killer = std::thread::spawn(move || {
                wait_for_state(&shared, id, "User sleep");
                std::thread::sleep(std::time::Duration::from_millis(300));
                wait_for_state(&shared, id, "User sleep");
                rt().block_on(async {
                    let mut k = connect(&url).await;
                    k.query_drop(format!("KILL QUERY {id}"))
                        .await
                        .expect("kill query");
                });
            });
            let e = c.query_drop(q).await.expect_err("killed");
            killer.join().expect("killer");
            assert_eq!(code(&e), 1317, "{q}: {e}");
            let one: i64 = c
                .query_first("SELECT 1")
                .await
                .expect("usable after the kill")
                .expect("row");
            assert_eq!(one, 1);
        }
    });
    assert!(!s.error_log().contains("panicked"), "{}", s.error_log());
}
