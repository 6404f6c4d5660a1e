//! Shared test helpers: a private MariaDB server and golden-file comparison.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use minnow_top::client::{Client, ConnectOptions};

/// A private temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "minnow-top-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The private MariaDB of the server's tests (std only), shared through `#[path]`.
#[allow(dead_code)]
#[path = "../../server/tests/util/mariadb.rs"]
mod private_mariadb;

pub use private_mariadb::free_port;

/// A MariaDB server of our own: own data directory, socket and port; root without
/// password; stopped and deleted on drop.
pub struct MariaDb {
    /// Stopped on drop, before `_dir` goes.
    _server: private_mariadb::MariaDb,
    pub port: u16,
    pub socket: PathBuf,
    /// Removed after the server has stopped (fields drop in declaration order).
    _dir: TempDir,
}

impl MariaDb {
    /// Start one, or return `None` (after printing why) when MariaDB is not installed.
    /// With `CI` set, a missing MariaDB is a failure, not a skip.
    pub fn start() -> Option<MariaDb> {
        let dir = TempDir::new("mariadb");
        let server = private_mariadb::MariaDb::start(&dir.0)?;
        Some(MariaDb {
            port: server.port,
            socket: server.socket.clone(),
            _server: server,
            _dir: dir,
        })
    }

    /// Connection options for root.
    pub fn opts(&self) -> ConnectOptions {
        ConnectOptions {
            port: self.port,
            ..ConnectOptions::default()
        }
    }

    /// A new client connection.
    pub fn client(&self) -> Client {
        Client::connect(&self.opts()).expect("connect to the private MariaDB")
    }
}

/// Compare `actual` with the golden file `tests/snapshots/NAME.txt`;
/// `UPDATE_SNAPSHOTS=1` writes it instead.
pub fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir snapshots");
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "missing golden file {} ({e}); run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{name}: rendering differs from {}\n--- expected\n{expected}\n--- actual\n{actual}\n(run with UPDATE_SNAPSHOTS=1 to accept)",
            path.display()
        );
    }
}

/// Run a statement on its own connection in a thread (e.g. a long `SELECT SLEEP`);
/// the join handle yields the statement's result.
pub fn run_in_background(
    db: &MariaDb,
    sql: &'static str,
) -> (
    u32,
    std::thread::JoinHandle<Result<minnow_top::client::Table, minnow_top::Error>>,
) {
    let mut c = db.client();
    let id = c.connection_id();
    let h = std::thread::spawn(move || c.query(sql));
    (id, h)
}

/// True if a statement ended the way `KILL QUERY` ends `SLEEP()`: MariaDB answers
/// error 1317 (query interrupted), MySQL returns the row `1`.
pub fn was_interrupted(r: &Result<minnow_top::client::Table, minnow_top::Error>) -> bool {
    match r {
        Ok(t) => {
            t.rows
                .first()
                .and_then(|r| r.first())
                .cloned()
                .flatten()
                .as_deref()
                == Some("1")
        }
        Err(e) => e.server_code() == Some(1317),
    }
}

/// Wait until the processlist shows `id` running a statement containing `needle`.
pub fn wait_for_query(db: &MariaDb, id: u32, needle: &str) {
    let mut c = db.client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = c.query("SHOW FULL PROCESSLIST").expect("processlist");
        let (ci, ii) = (t.column("Id").expect("Id"), t.column("Info").expect("Info"));
        if t.rows.iter().any(|r| {
            r[ci].as_deref() == Some(id.to_string().as_str())
                && r[ii].as_deref().is_some_and(|i| i.contains(needle))
        }) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "thread {id} never ran {needle:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `minnowd` of our own (the workspace's server binary, next to `minnow-top` in
/// the target directory, or `$MINNOWD`), on a free port with a temporary data
/// directory; stopped on drop.
pub struct Minnowd {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Minnowd {
    /// Start one, or return `None` (after printing why) when the binary is not built.
    /// With `CI` set and the server crate in the workspace, a missing binary fails.
    pub fn start() -> Option<Minnowd> {
        Minnowd::start_with(&[])
    }

    /// [`Minnowd::start`] with extra command-line options (e.g. `--plugin-dir=…`).
    pub fn start_with(extra: &[String]) -> Option<Minnowd> {
        let bin = std::env::var_os("MINNOWD")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_BIN_EXE_minnow-top")).with_file_name("minnowd")
            });
        if !bin.is_file() {
            let server_in_workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../server/Cargo.toml")
                .is_file();
            let msg = format!(
                "minnowd not built at {} (build the workspace, or set MINNOWD)",
                bin.display()
            );
            if server_in_workspace && std::env::var_os("CI").is_some() {
                panic!("{msg}: CI must run the minnowd tests");
            }
            eprintln!("SKIP: {msg}");
            return None;
        }
        let dir = TempDir::new("minnowd");
        let mut last = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let log = dir.0.join("error.log");
            let mut child = Command::new(&bin)
                .arg(format!("--port={port}"))
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--datadir={}", dir.0.join("data").display()))
                .arg(format!("--socket={}", dir.0.join("sock").display()))
                .arg(format!("--log-error={}", log.display()))
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn minnowd");
            match wait_ready(&mut child, port, &log, "minnowd", Duration::from_secs(30)) {
                Ok(()) => {
                    return Some(Minnowd {
                        child,
                        port,
                        _dir: dir,
                    });
                }
                Err(e) => last = e,
            }
        }
        panic!("{last}");
    }

    /// Connection options for root.
    pub fn opts(&self) -> ConnectOptions {
        ConnectOptions {
            port: self.port,
            ..ConnectOptions::default()
        }
    }
}

impl Drop for Minnowd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until a freshly spawned server on `port` accepts a root connection. On failure
/// (the child exited, or no answer within `limit`: then it is killed) says why, with its
/// error log.
fn wait_ready(
    child: &mut std::process::Child,
    port: u16,
    log: &Path,
    name: &str,
    limit: Duration,
) -> Result<(), String> {
    let opts = ConnectOptions {
        port,
        ..ConnectOptions::default()
    };
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{name} exited with {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        if Client::connect(&opts).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{name} did not answer within {} s: {}",
                limit.as_secs(),
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
