//! Races between sessions and the plugin lifecycle, against the real `race.so`
//! fixture (tests/fixtures/race.c): an audit plugin that records (or aborts on) any
//! call reaching it after or during its deinit, and a plugin whose init waits for the
//! test and then fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use minnow_plugin_host::{
    ConnectionEvent, ConnectionSubclass, GeneralSubclass, PluginState, PluginType, Registry,
    UninstallOutcome, Value,
};

use crate::util::{TempDir, TestHost, compile_fixture, general, is_mapped};

/// Waits until the session threads have run 8 more statements (`done`), uninstalls
/// `race_audit` and waits until it is gone (at once, or when its last binding goes);
/// true if the uninstall was deferred.
fn uninstall_after_progress(reg: &Registry, done: &AtomicU64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    let before = done.load(SeqCst);
    while done.load(SeqCst) < before + 8 {
        assert!(Instant::now() < deadline, "sessions made no progress");
        std::thread::yield_now();
    }
    let deferred = match reg.uninstall("race_audit").expect("uninstall race_audit") {
        UninstallOutcome::Unloaded => false,
        UninstallOutcome::Deferred(_) => true,
    };
    while reg.state("race_audit").is_some() {
        assert!(
            Instant::now() < deadline,
            "deferred uninstall never completed"
        );
        std::thread::yield_now();
    }
    deferred
}

/// A plugin_dir holding only the fixtures `names` (compiled from tests/fixtures).
fn fixture_dir(names: &[&str]) -> TempDir {
    let dir = TempDir::new("races");
    for n in names {
        compile_fixture(n, &dir.path().join(format!("{n}.so")));
    }
    dir
}

/// Lifecycle rounds of a stress test: `default`, or `MINNOW_RACE_ROUNDS` for a longer
/// soak (`MINNOW_RACE_ROUNDS=2000 cargo nextest run -p minnow-plugin-host races`).
fn rounds(default: usize) -> usize {
    std::env::var("MINNOW_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Waits (at most 10 s) for `path` to exist.
fn wait_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn touch(path: &Path) {
    std::fs::write(path, b"").unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
}

/// The `fault-*` markers race_audit left in `dir`.
fn faults(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.starts_with("fault-") || n.starts_with("timeout-"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Unblocks the fixture's waits when the test ends, pass or fail, so no thread stays
/// parked in a plugin callback.
struct Unblock(PathBuf);

impl Drop for Unblock {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.join("release_notify"), b"");
        let _ = std::fs::write(self.0.join("b_fail"), b"");
    }
}

/// `INSTALL SONAME 'race.so'` initialises race_audit (ACTIVE at once), then blocks
/// in race_init_fails' init. A concurrent INSTALL republishes the audit list with
/// race_audit in it, a session binds it and blocks inside its notify; then
/// race_init_fails' init fails. The install must fail with that error and remove the
/// batch, but race_audit's deinit must wait for the session: not while its notify
/// runs, not while the statement still holds the binding, only at release — and the
/// library is unloaded then. (Before the fix, the failed batch was deinitialised at
/// once, under the session's running notify.)
#[test]
fn failed_batch_deinits_a_plugin_a_session_bound_only_after_the_session_releases_it() {
    let plugins = fixture_dir(&["race", "noop_audit"]);
    let hs = TempDir::new("race-hs");
    let _unblock = Unblock(hs.path().to_path_buf());
    let host = Arc::new(TestHost::default());
    let reg = Registry::new(plugins.path(), host.clone());
    let dir = hs.path().to_string_lossy().into_owned();
    reg.set_startup_variables([
        ("race_audit_dir".to_string(), dir.clone()),
        ("race_init_fails_dir".to_string(), dir),
    ]);
    let lib = plugins.path().join("race.so");
    let at = |f: &str| hs.path().join(f);

    let installer = {
        let reg = reg.clone();
        std::thread::spawn(move || reg.install_soname("race.so"))
    };
    wait_file(&at("b_init_started"));
    assert_eq!(reg.state("race_audit"), Some(PluginState::Active));
    assert_eq!(reg.state("race_init_fails"), Some(PluginState::Inactive));
    // Another INSTALL meanwhile rebuilds the dispatch lists from the ACTIVE plugins:
    // race_audit is in them from now on.
    reg.install("noop_audit", "noop_audit.so")
        .expect("install noop_audit");

    let (ret_tx, ret_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let session = {
        let reg = reg.clone();
        std::thread::spawn(move || {
            let mut s = reg.session(42);
            let r = s.audit_general(&general(GeneralSubclass::Starting, 42, "race:block"));
            let _ = ret_tx.send(r.map_err(|e| e.to_string()));
            // The statement goes on (still bound) until the test says it is over.
            let _ = go_rx.recv();
            s.release();
        })
    };
    wait_file(&at("in_notify"));
    let bound = reg.session_bindings();
    assert!(
        bound
            .iter()
            .any(|b| b.session_id == 42 && b.plugin_name == "race_audit"),
        "the session should hold race_audit: {bound:?}"
    );

    touch(&at("b_fail"));
    let err = installer
        .join()
        .expect("installer thread")
        .expect_err("INSTALL SONAME must fail when race_init_fails' init fails");
    assert_eq!(err.code(), 1123, "{err}");
    assert!(err.to_string().contains("race_init_fails"), "{err}");
    // The failed batch left the registry at once...
    assert_eq!(reg.state("race_audit"), None);
    assert_eq!(reg.state("race_init_fails"), None);
    assert_eq!(reg.state("race_keep"), None);
    // ...but race_audit, bound by a session inside its notify, is not deinitialised.
    assert_eq!(
        faults(hs.path()),
        Vec::<String>::new(),
        "race_audit saw a lifecycle fault while a session was inside its notify"
    );
    assert!(
        !at("deinit").exists(),
        "race_audit was deinitialised while a session was inside its notify"
    );
    assert!(is_mapped(&lib), "race.so unloaded under a running notify");
    let own = host.ownership.lock().unwrap().clone();
    assert!(own.contains(&"-race_init_fails".to_string()), "{own:?}");
    assert!(!own.contains(&"-race_audit".to_string()), "{own:?}");

    // The notify returns; the statement still holds the binding.
    touch(&at("release_notify"));
    let r = ret_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the session's audit call returned");
    assert_eq!(r, Ok(()));
    assert!(
        !at("deinit").exists(),
        "race_audit was deinitialised while a session still held its binding"
    );
    assert_eq!(faults(hs.path()), Vec::<String>::new());

    // Release: the last binding goes, deinit runs now, and the library is closed.
    go_tx.send(()).expect("session thread alive");
    session.join().expect("session thread");
    assert!(at("deinit").exists(), "race_audit never deinitialised");
    assert_eq!(faults(hs.path()), Vec::<String>::new());
    let own = host.ownership.lock().unwrap().clone();
    assert!(own.contains(&"-race_audit".to_string()), "{own:?}");
    assert!(
        !is_mapped(&lib),
        "race.so still mapped after the failed batch's last binding went"
    );
    assert!(reg.session_bindings().is_empty());
    assert_eq!(reg.state("noop_audit"), Some(PluginState::Active));
}

/// The number of ACTIVE audit plugins a new statement must bind, from `SHOW PLUGINS`.
fn active_audit(reg: &Registry) -> usize {
    reg.plugins()
        .iter()
        .filter(|p| p.plugin_type == PluginType::Audit && p.status == PluginState::Active)
        .count()
}

/// Sessions run statements (single events, statement sequences, connection events,
/// `SHOW STATUS`) while race_audit is uninstalled (busy or not) and reinstalled over
/// and over, and another thread installs and uninstalls a second audit plugin at the
/// same moments. race_audit aborts the process on any call after or during its
/// deinit (NULL or dead context). After each round, with the lifecycle threads
/// quiet, a new statement must bind exactly the ACTIVE audit plugins: a dispatch list
/// published from an older registry state (two list rebuilds racing) loses one.
#[test]
fn sessions_never_reach_a_deinitialised_plugin_and_lists_follow_concurrent_installs() {
    const SESSIONS: u64 = 4;
    let rounds = rounds(80);
    let plugins = fixture_dir(&["race", "noop_audit"]);
    let reg = Registry::new(plugins.path(), Arc::new(TestHost::default()));
    // Some calls park inside notify, where an overlapping deinit is caught.
    reg.set_startup_variables([("race_audit_yield_every".to_string(), "8".to_string())]);
    reg.install("race_audit", "race.so")
        .expect("install race_audit");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for t in 0..SESSIONS {
        let (reg, stop, done) = (reg.clone(), stop.clone(), done.clone());
        let id = 1000 + t;
        threads.push(std::thread::spawn(move || {
            let mut s = reg.session(id);
            let mut n = 0u64;
            let conn = ConnectionEvent {
                subclass: ConnectionSubclass::Connect,
                status: 0,
                connection_id: id,
                user: "root",
                host: "localhost",
                ip: "127.0.0.1",
                database: "",
            };
            while !stop.load(SeqCst) {
                n += 1;
                let ev = general(GeneralSubclass::Starting, id, "SELECT 1");
                match n % 4 {
                    0 => {
                        s.audit_general_seq(
                            &ev,
                            &[
                                (GeneralSubclass::Starting, 0, 0),
                                (GeneralSubclass::Result, 0, 1),
                                (GeneralSubclass::Completed, 0, 1),
                            ],
                        )
                        .expect("statement sequence");
                    }
                    1 => {
                        s.audit_connection(&conn).expect("connection event");
                        s.audit_general(&ev).expect("starting");
                    }
                    2 => {
                        s.audit_general(&ev).expect("starting");
                        std::thread::yield_now();
                        s.audit_general(&general(GeneralSubclass::Completed, id, "SELECT 1"))
                            .expect("completed");
                    }
                    _ => {
                        s.audit_general(&ev).expect("starting");
                        if t == 0 {
                            // SHOW STATUS calls show_status outside any binding.
                            let _ = reg.status_variables();
                        }
                    }
                }
                s.release();
                done.fetch_add(1, SeqCst);
            }
        }));
    }
    // The other lifecycle thread: toggles noop_audit (install, or uninstall and wait
    // until it is gone) each time the main thread reinstalls race_audit, at the same
    // moment. Channels, not a barrier, so a failure there cannot hang the test.
    let (go_tx, go_rx) = mpsc::channel::<bool>();
    let (ack_tx, ack_rx) = mpsc::channel::<Result<(), String>>();
    let churn = {
        let reg = reg.clone();
        std::thread::spawn(move || {
            while let Ok(install) = go_rx.recv() {
                let r = if install {
                    reg.install("noop_audit", "noop_audit.so")
                        .map(|_| ())
                        .map_err(|e| format!("install noop_audit: {e}"))
                } else {
                    reg.uninstall("noop_audit")
                        .map(|_| ())
                        .map_err(|e| format!("uninstall noop_audit: {e}"))
                        .and_then(|()| {
                            let deadline = Instant::now() + Duration::from_secs(10);
                            while reg.state("noop_audit").is_some() {
                                if Instant::now() > deadline {
                                    return Err("noop_audit never went".to_string());
                                }
                                std::thread::yield_now();
                            }
                            Ok(())
                        })
                };
                if ack_tx.send(r).is_err() {
                    return;
                }
            }
        })
    };
    let mut deferred = 0;
    let mut checker = reg.session(1);
    for round in 0..rounds {
        deferred += usize::from(uninstall_after_progress(&reg, &done));
        go_tx.send(round % 2 == 0).expect("churn thread alive");
        reg.install("race_audit", "race.so")
            .expect("reinstall race_audit");
        ack_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("churn thread answered")
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        // Quiet lifecycle: the published audit list must match the registry.
        let want = active_audit(&reg);
        assert_eq!(want, 1 + usize::from(round % 2 == 0), "round {round}");
        checker
            .audit_general(&general(GeneralSubclass::Starting, 1, "SELECT 2"))
            .expect("checker statement");
        assert_eq!(
            checker.bound_count(),
            want,
            "round {round}: a new statement bound {} audit plugins, {want} are ACTIVE: {:?}",
            checker.bound_count(),
            reg.plugins()
        );
        checker.release();
    }
    drop(go_tx);
    churn.join().expect("churn thread");
    stop.store(true, SeqCst);
    for t in threads {
        t.join().expect("session thread");
    }
    assert_eq!(reg.state("race_audit"), Some(PluginState::Active));
    assert!(reg.session_bindings().is_empty());
    let calls = reg
        .status_variables()
        .into_iter()
        .find(|(n, _)| n == "race_audit_calls")
        .map(|(_, v)| v);
    assert!(
        matches!(calls, Some(Value::Int(n)) if n > 0),
        "race_audit_calls: {calls:?}"
    );
    eprintln!(
        "{} statements, {deferred} of {rounds} uninstalls deferred",
        done.load(SeqCst)
    );
}

/// Sessions run two-event statements and release after each while race_audit is
/// uninstalled and reinstalled over and over (no other lifecycle traffic, so the
/// sessions mostly sit in the host's bind/release paths). race_audit aborts the
/// process on any call after or during its deinit. Regression test: a session
/// releasing the last binding used to decide "last" from the count, then read the
/// state; in between, another session could bind the still-ACTIVE plugin and an
/// UNINSTALL mark it DELETED, and the first session deinitialised it under the
/// second one's notify (a NULL or freed context in the plugin).
#[test]
fn a_release_racing_a_new_binding_and_uninstall_never_deinits_under_the_new_binder() {
    let rounds = rounds(100);
    let plugins = fixture_dir(&["race"]);
    let reg = Registry::new(plugins.path(), Arc::new(TestHost::default()));
    // race_keep keeps race.so mapped: each reinstall is quick, so many cycles run.
    reg.install("race_keep", "race.so")
        .expect("install race_keep");
    reg.install("race_audit", "race.so")
        .expect("install race_audit");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for t in 0..4u64 {
        let (reg, stop, done) = (reg.clone(), stop.clone(), done.clone());
        threads.push(std::thread::spawn(move || {
            let id = 1000 + t;
            let mut s = reg.session(id);
            while !stop.load(SeqCst) {
                s.audit_general(&general(GeneralSubclass::Starting, id, "SELECT 1"))
                    .expect("starting");
                s.audit_general(&general(GeneralSubclass::Completed, id, "SELECT 1"))
                    .expect("completed");
                s.release();
                done.fetch_add(1, SeqCst);
            }
        }));
    }
    let mut deferred = 0;
    for _ in 0..rounds {
        deferred += usize::from(uninstall_after_progress(&reg, &done));
        reg.install("race_audit", "race.so")
            .expect("reinstall race_audit");
    }
    stop.store(true, SeqCst);
    for t in threads {
        t.join().expect("session thread");
    }
    assert_eq!(reg.state("race_audit"), Some(PluginState::Active));
    assert!(reg.session_bindings().is_empty());
    eprintln!(
        "{} statements, {deferred} of {rounds} uninstalls deferred",
        done.load(SeqCst)
    );
}
