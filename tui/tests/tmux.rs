//! End to end in a real terminal: `minnow-top` inside tmux against a private
//! MariaDB with a long `SELECT SLEEP` running; sort, filter, kill it from the
//! console, read the screen with `capture-pane`, quit, and check the terminal was
//! restored (canonical mode and echo back on).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{MariaDb, TempDir, run_in_background, wait_for_query, was_interrupted};

/// A tmux server of our own (`-L name`), killed on drop.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start(shell_dir: &TempDir) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            if std::env::var_os("CI").is_some() {
                panic!("tmux not found: CI must run the end-to-end test (apt-get install tmux)");
            }
            eprintln!("SKIP: tmux not found (apt-get install tmux)");
            return None;
        }
        // Unique per test: `cargo test` runs the tests of one binary as threads.
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = Tmux {
            name: format!("minnow-top-e2e-{}-{n}", std::process::id()),
        };
        let ok = Command::new("tmux")
            .args([
                "-L",
                &t.name,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "e2e",
            ])
            .args(["-x", "150", "-y", "32", "-c"])
            .arg(&shell_dir.0)
            .args(["sh"])
            .env("HOME", &shell_dir.0)
            .env("TERM", "xterm-256color")
            .status()
            .expect("run tmux");
        assert!(ok.success(), "tmux new-session failed");
        Some(t)
    }

    fn keys(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["-L", &self.name, "send-keys", "-t", "e2e"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(ok.success());
    }

    fn literal(&self, text: &str) {
        let ok = Command::new("tmux")
            .args(["-L", &self.name, "send-keys", "-t", "e2e", "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(ok.success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.name, "capture-pane", "-p", "-t", "e2e"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until the screen satisfies `pred`; panic with the screen otherwise.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.name, "kill-server"])
            .status();
    }
}

#[test]
fn tmux_sort_filter_kill_and_restore() {
    let home = TempDir::new("tmux-home");
    let Some(tmux) = Tmux::start(&home) else {
        return;
    };
    let Some(db) = MariaDb::start() else { return };
    let (id, sleeper) = run_in_background(&db, "SELECT SLEEP(120) AS minnow_tmux_probe");
    wait_for_query(&db, id, "minnow_tmux_probe");
    // Some idle connections for the filter to hide.
    let _idle: Vec<_> = (0..3).map(|_| db.client()).collect();

    let bin = PathBuf::from(env!("CARGO_BIN_EXE_minnow-top"));
    tmux.literal(&format!(
        "'{}' -h 127.0.0.1 -P {} -u root -i 0.5 --nocolor",
        bin.display(),
        db.port
    ));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the processlist with the sleeper", |s| {
        s.contains("minnow_tmux_probe") && s.contains("1 Processlist")
    });

    // Sort by Id (Time -> Command -> db -> Host -> User -> Id), then ascending.
    tmux.literal("<<<<<r");
    let s = tmux.wait_for("sort by Id ascending", |s| s.contains("sort: Id asc"));
    let ids: Vec<u64> = s
        .lines()
        .skip_while(|l| !l.contains("Id▲"))
        .skip(1)
        .filter_map(|l| {
            l.trim_start_matches('>')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(ids.len() >= 5, "{s}");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not ascending: {ids:?}\n{s}"
    );

    // Filter to the sleeper.
    tmux.literal("/minnow_tmux");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the filter", |s| {
        s.contains("filter: minnow_tmux") && s.contains("1 of ")
    });
    let row = s
        .lines()
        .find(|l| l.contains("minnow_tmux_probe") && l.starts_with('>'))
        .unwrap_or_else(|| panic!("sleeper not selected:\n{s}"));
    assert!(row[1..].trim_start().starts_with(&id.to_string()), "{row}");

    // Kill its query, with confirmation.
    tmux.literal("x");
    tmux.wait_for("the confirmation", |s| {
        s.contains(&format!("Kill query of thread {id}"))
    });
    tmux.literal("y");
    tmux.wait_for("the kill result", |s| {
        s.contains(&format!("KILL QUERY {id}: OK"))
    });
    let r = sleeper.join().expect("join");
    assert!(was_interrupted(&r), "{r:?}");
    tmux.wait_for("the sleeper gone", |s| {
        s.contains("no thread matches the filter")
    });

    // Quit: the shell gets a sane terminal back.
    tmux.literal("q");
    tmux.wait_for("the console to exit", |s| !s.contains("1 Processlist"));
    let stty = home.0.join("stty.txt");
    // The marker is computed by the shell, so the echoed command line cannot match it.
    tmux.literal(&format!(
        "stty -a > '{}'; echo STTY-$((40+2))",
        stty.display()
    ));
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the shell after quitting", |s| s.contains("STTY-42"));
    assert!(
        !s.contains("1 Processlist"),
        "alternate screen not left:\n{s}"
    );
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    let words: Vec<&str> = modes.split_whitespace().collect();
    assert!(words.contains(&"icanon"), "raw mode left on: {modes}");
    assert!(words.contains(&"echo"), "echo left off: {modes}");
}

/// Not a test on its own: the child process of `tmux_panic_restores_the_terminal`,
/// which runs this test binary inside tmux with `MINNOW_TOP_PANIC_CHILD=1`.
#[test]
#[ignore = "run as a child by tmux_panic_restores_the_terminal"]
fn panic_child() {
    if std::env::var_os("MINNOW_TOP_PANIC_CHILD").is_none() {
        return;
    }
    minnow_top::term::install_panic_hook();
    let _guard = minnow_top::term::TerminalGuard::enter().expect("enter the terminal");
    print!("INSIDE-THE-CONSOLE");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::thread::sleep(Duration::from_millis(500));
    panic!("deliberate panic to test terminal restoration");
}

#[test]
fn tmux_panic_restores_the_terminal() {
    let home = TempDir::new("tmux-panic");
    let Some(tmux) = Tmux::start(&home) else {
        return;
    };
    let exe = std::env::current_exe().expect("test binary path");
    let stty = home.0.join("stty.txt");
    tmux.literal(&format!(
        "MINNOW_TOP_PANIC_CHILD=1 '{}' --exact tmux::panic_child --ignored --nocapture --test-threads=1; stty -a > '{}'; echo STTY-$((40+2))",
        exe.display(),
        stty.display()
    ));
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the shell after the panic", |s| s.contains("STTY-42"));
    // The panic hook restored the screen before the message was printed, so the
    // message is on the normal screen and the console's output is gone with the
    // alternate screen.
    assert!(
        s.contains("deliberate panic to test terminal restoration"),
        "{s}"
    );
    assert!(!s.contains("INSIDE-THE-CONSOLE"), "{s}");
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    let words: Vec<&str> = modes.split_whitespace().collect();
    assert!(
        words.contains(&"icanon"),
        "raw mode left on after a panic: {modes}"
    );
    assert!(
        words.contains(&"echo"),
        "echo left off after a panic: {modes}"
    );
}

#[test]
fn tmux_bare_p_asks_for_the_password_without_echo() {
    let home = TempDir::new("tmux-pw");
    let Some(tmux) = Tmux::start(&home) else {
        return;
    };
    let Some(db) = MariaDb::start() else { return };
    db.client()
        .execute("CREATE USER 'watcher'@'localhost' IDENTIFIED BY 'sekret-pw'")
        .expect("create user");
    db.client()
        .execute("GRANT PROCESS ON *.* TO 'watcher'@'localhost'")
        .expect("grant");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_minnow-top"));
    tmux.literal(&format!(
        "'{}' -P {} -u watcher -p --batch --view processlist; echo EXIT-$((40+2))-$?",
        bin.display(),
        db.port
    ));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the password prompt", |s| s.contains("Enter password:"));
    tmux.literal("sekret-pw");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the batch output", |s| s.contains("EXIT-42-"));
    assert!(s.contains("EXIT-42-0"), "{s}");
    assert!(s.contains("Id  User"), "{s}");
    assert!(s.contains("watcher"), "{s}");
    assert!(!s.contains("sekret-pw"), "the password was echoed:\n{s}");
}
