//! `--batch` through the real binary, against a private MariaDB.

use std::process::{Command, Output};

use minnow_top::error::exit;

use crate::util::{
    MariaDb, TempDir, free_port, run_in_background, wait_for_query, was_interrupted,
};

fn top(args: &[&str]) -> Output {
    top_env(args, &[])
}

fn top_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    // An empty HOME so that no developer's config file leaks into the test.
    let home = TempDir::new("home");
    Command::new(env!("CARGO_BIN_EXE_minnow-top"))
        .args(args)
        .env("HOME", &home.0)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("MYSQL_PWD")
        .env_remove("MYSQL_DEBUG")
        .envs(env.iter().copied())
        .output()
        .expect("run minnow-top")
}

#[test]
fn debug_traces_the_client_through_dbug() {
    let dir = TempDir::new("trace");
    let trace = dir.0.join("top.trace");
    let port = free_port().to_string();
    let o = top(&[
        "-P",
        &port,
        "--batch",
        &format!("--debug=d:t:o,{}", trace.display()),
    ]);
    assert_eq!(
        o.status.code(),
        Some(exit::CONNECT as i32),
        "{}",
        stderr(&o)
    );
    let t = std::fs::read_to_string(&trace).expect("trace file written");
    assert!(t.starts_with(">run_batch\n| >Client::connect\n"), "{t}");
    assert!(
        t.contains(&format!("| | info: target: 127.0.0.1:{port} user: root\n")),
        "{t}"
    );
    assert!(t.contains("| | error: cannot connect to 127.0.0.1:"), "{t}");
    assert!(t.contains("| <Client::connect\n<run_batch\n"), "{t}");

    // MYSQL_DEBUG does the same when --debug is absent; keyword lists filter.
    let trace2 = dir.0.join("env.trace");
    let control = format!("d,error:o,{}", trace2.display());
    let o = top_env(&["-P", &port, "--batch"], &[("MYSQL_DEBUG", &control)]);
    assert_eq!(o.status.code(), Some(exit::CONNECT as i32));
    let t = std::fs::read_to_string(&trace2).expect("trace file written");
    // Without `t`, DBUG prefixes print lines with the function name.
    assert!(
        t.starts_with("Client::connect: error: cannot connect to"),
        "{t}"
    );
    assert!(
        !t.contains("info:") && !t.contains(">Client::connect"),
        "{t}"
    );
}

#[test]
fn malformed_debug_string_is_a_usage_error() {
    let o = top(&["--batch", "--debug=d,info:Q"]);
    assert_eq!(o.status.code(), Some(exit::USAGE as i32), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("--debug") && e.contains("position") && e.contains('Q'),
        "{e}"
    );
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn refused_connection_exits_3_with_a_clear_message() {
    let port = free_port().to_string();
    let o = top(&["-P", &port, "--batch"]);
    assert_eq!(
        o.status.code(),
        Some(exit::CONNECT as i32),
        "{}",
        stderr(&o)
    );
    let e = stderr(&o);
    assert!(e.contains("cannot connect to 127.0.0.1:"), "{e}");
    assert!(e.contains("refused"), "{e}");
    assert!(o.stdout.is_empty());
}

#[test]
fn missing_socket_exits_3() {
    let dir = TempDir::new("nosock");
    let sock = dir.0.join("nothing.sock");
    let o = top(&["-S", &sock.to_string_lossy(), "--batch"]);
    assert_eq!(
        o.status.code(),
        Some(exit::CONNECT as i32),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("nothing.sock"), "{}", stderr(&o));
}

#[test]
fn broken_config_file_exits_5_naming_the_file() {
    let dir = TempDir::new("cfg");
    let cfg = dir.0.join("config.toml");
    std::fs::write(&cfg, "port = \"not a number\"\n").expect("write config");
    let o = top(&["--config", &cfg.to_string_lossy(), "--batch"]);
    assert_eq!(o.status.code(), Some(exit::CONFIG as i32), "{}", stderr(&o));
    assert!(stderr(&o).contains("config.toml"), "{}", stderr(&o));
}

#[test]
fn bad_credentials_exit_4() {
    let Some(db) = MariaDb::start() else { return };
    let port = db.port.to_string();
    let o = top(&["-P", &port, "-u", "root", "-pwrong", "--batch"]);
    assert_eq!(o.status.code(), Some(exit::AUTH as i32), "{}", stderr(&o));
    assert!(stderr(&o).contains("Access denied"), "{}", stderr(&o));
    let o = top(&["-P", &port, "-u", "nobody", "--batch"]);
    assert_eq!(o.status.code(), Some(exit::AUTH as i32), "{}", stderr(&o));
}

#[test]
fn batch_processlist_shows_a_running_query_over_tcp_and_socket() {
    let Some(db) = MariaDb::start() else { return };
    let (id, handle) = run_in_background(&db, "SELECT SLEEP(60) AS minnow_batch_probe");
    wait_for_query(&db, id, "minnow_batch_probe");
    let port = db.port.to_string();
    let o = top(&["-P", &port, "--batch", "--view", "processlist"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let header = out.lines().next().unwrap_or_default();
    for col in [
        "Id", "User", "Host", "db", "Command", "Time", "State", "Info",
    ] {
        assert!(header.contains(col), "header {header:?} lacks {col}");
    }
    let line = out
        .lines()
        .find(|l| l.contains("minnow_batch_probe"))
        .unwrap_or_else(|| panic!("no sleeping query in:\n{out}"));
    assert!(line.starts_with(&format!("{id} ")), "{line}");
    assert!(line.contains("Query"), "{line}");

    // TSV over the Unix socket: exactly 8 tab-separated fields per row.
    let sock = db.socket.to_string_lossy().into_owned();
    let o = top(&["-S", &sock, "--batch", "--tsv", "--view", "processlist"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().all(|l| l.split('\t').count() == 8), "{out}");
    assert!(out.contains(&format!("{id}\troot\t")), "{out}");

    db.client()
        .execute(&format!("KILL QUERY {id}"))
        .expect("kill the sleeper");
    let r = handle.join().expect("join");
    assert!(was_interrupted(&r), "{r:?}");
}

#[test]
fn batch_views_degrade_gracefully_on_mariadb() {
    let Some(db) = MariaDb::start() else { return };
    let port = db.port.to_string();

    // Plugins: SHOW PLUGINS and information_schema.PLUGINS work; Minnow's tables do not exist.
    let o = top(&["-P", &port, "--batch", "--view", "plugins"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("# information_schema.PLUGIN_BINDINGS (Minnow) not available"),
        "{out}"
    );
    assert!(
        out.contains("# information_schema.SESSION_PLUGIN_BINDINGS (Minnow) not available"),
        "{out}"
    );
    let native = out
        .lines()
        .find(|l| l.starts_with("mysql_native_password "))
        .unwrap_or_else(|| panic!("no mysql_native_password in:\n{out}"));
    assert!(
        native.contains("ACTIVE") && native.contains("AUTHENTICATION"),
        "{native}"
    );
    assert!(
        native.contains("1.0"),
        "version from information_schema.PLUGINS: {native}"
    );

    // The same in TSV: notes go to stderr, stdout stays parseable.
    let o = top(&["-P", &port, "--batch", "--tsv", "--view", "plugins"]);
    assert!(
        stderr(&o).contains("PLUGIN_BINDINGS (Minnow) not available"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains('#'));

    // Debug: a release MariaDB has neither @@debug nor @@debug_dbug.
    let has_dbug = db
        .client()
        .query("SHOW GLOBAL VARIABLES LIKE 'debug_dbug'")
        .expect("show variables")
        .rows
        .len()
        == 1;
    let o = top(&["-P", &port, "--batch", "--view", "debug"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    if has_dbug {
        assert!(stdout(&o).contains("debug_dbug"), "{}", stdout(&o));
    } else {
        assert!(
            stdout(&o).contains("debug: not available on this server"),
            "{}",
            stdout(&o)
        );
    }

    // Status: counters get an average rate, gauges none (averages need Uptime >= 1).
    let mut c = db.client();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while c
        .query("SHOW GLOBAL STATUS LIKE 'Uptime'")
        .expect("uptime")
        .rows[0][1]
        .as_deref()
        == Some("0")
    {
        assert!(std::time::Instant::now() < deadline, "Uptime stuck at 0");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let o = top(&["-P", &port, "--batch", "--tsv", "--view", "status"]);
    let out = stdout(&o);
    assert_eq!(
        out.lines().next(),
        Some("Variable_name\tValue\tAvg_per_sec")
    );
    let field = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{name}\t")))
            .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no {name} in status"))
    };
    assert!(field("Questions")[2].parse::<f64>().is_ok());
    assert_eq!(field("Threads_connected")[2], "");
    assert!(field("Uptime")[1].parse::<u64>().is_ok());

    // Variables: the version MariaDB reports; every statement shows in the trace.
    let dir = TempDir::new("trace");
    let trace = dir.0.join("q.trace");
    let o = top(&[
        "-P",
        &port,
        "--batch",
        "--view",
        "variables",
        &format!("-#d,query:o,{}", trace.display()),
    ]);
    let t = std::fs::read_to_string(&trace).expect("trace file");
    assert_eq!(
        t,
        "Client::query: query: SHOW FULL PROCESSLIST\n\
         Client::query: query: SHOW GLOBAL STATUS\n\
         Client::query: query: SHOW GLOBAL VARIABLES\n"
    );
    let version_line = stdout(&o)
        .lines()
        .find(|l| l.starts_with("version "))
        .map(str::to_string)
        .expect("version variable");
    assert!(version_line.contains("MariaDB"), "{version_line}");
}

#[test]
fn batch_reads_defaults_from_the_config_file() {
    let Some(db) = MariaDb::start() else { return };
    let dir = TempDir::new("cfg");
    let cfg = dir.0.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "host = \"127.0.0.1\"\nport = {}\nuser = \"root\"\nview = \"variables\"\n",
            db.port
        ),
    )
    .expect("write config");
    let o = top(&["--config", &cfg.to_string_lossy(), "--batch"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("Variable_name"), "{}", stdout(&o));
    assert!(stdout(&o).contains("max_connections"), "{}", stdout(&o));

    // Without --batch and without a terminal: a clear error and exit code 6.
    // `setsid` detaches from any controlling terminal (crossterm would open /dev/tty).
    let home = TempDir::new("home");
    let o = Command::new("setsid")
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_minnow-top"))
        .args(["--config", &cfg.to_string_lossy()])
        .env("HOME", &home.0)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run setsid minnow-top");
    assert_eq!(
        o.status.code(),
        Some(exit::TERMINAL as i32),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("use --batch"), "{}", stderr(&o));
}
