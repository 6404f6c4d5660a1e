//! Shared helpers: a real server on 127.0.0.1:0 (in-process or as a child),
//! and runners for the real client programs.

#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use minnow_server::errlog::ErrorLog;
use minnow_server::server::Shared;
use minnow_server::{Config, Listeners, Server, Shutdown};

static N: AtomicU32 = AtomicU32::new(0);

/// A `mysql_async` connection to `url` (panics if the server refuses it).
pub async fn connect(url: &str) -> mysql_async::Conn {
    mysql_async::Conn::new(mysql_async::Opts::from_url(url).expect("url"))
        .await
        .expect("connect")
}

/// The value of global status variable `name` of the in-process server `sh`.
pub fn status_value(sh: &Shared, name: &str) -> u64 {
    sh.status
        .list(None)
        .into_iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("status {name}"))
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    sweep_dead_processes("minnow-test-");
    let d = std::env::temp_dir().join(format!(
        "minnow-test-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Removes `<tmp>/<prefix><pid>-…` directories left by test processes that are gone
/// (a test that panicked or was killed never ran its clean-up): once per process.
fn sweep_dead_processes(prefix: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
                continue;
            };
            let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
}

/// Builds the example plugin packages `names` with the same cargo, target dir and
/// profile as this test binary; returns the profile directory holding the `.so` files.
/// Callers keep the result in a `OnceLock` (one build per test process).
pub fn build_example_plugins(names: &[&str]) -> PathBuf {
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
    for p in names {
        cmd.args(["-p", p]);
    }
    let out = cmd.output().expect("run cargo build");
    assert!(
        out.status.success(),
        "building the example plugins failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    profile_dir
}

/// A server running in this process.
pub struct TestServer {
    pub port: u16,
    pub socket: PathBuf,
    pub dir: PathBuf,
    pub shared: Arc<Shared>,
    shutdown: Shutdown,
    handle: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    pub fn start_with(f: impl FnOnce(&mut Config)) -> TestServer {
        let dir = temp_dir("srv");
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind tcp");
        let port = tcp.local_addr().expect("addr").port();
        let socket = dir.join("s.sock");
        let unix = UnixListener::bind(&socket).expect("bind unix");
        let mut config = Config::new(dir.join("data"));
        config.port = port;
        config.socket = socket.display().to_string();
        f(&mut config);
        let log = std::fs::File::create(dir.join("error.log")).expect("log");
        let shutdown = Shutdown::new();
        let server =
            Server::new(config, ErrorLog::new(Box::new(log)), shutdown.clone()).expect("server");
        let shared = Arc::clone(server.shared());
        let s2 = socket.clone();
        let handle = std::thread::spawn(move || {
            server
                .serve(Listeners {
                    tcp: Some(tcp),
                    unix: Some((unix, s2)),
                })
                .expect("serve");
        });
        TestServer {
            port,
            socket,
            dir,
            shared,
            shutdown,
            handle: Some(handle),
        }
    }

    /// TCP only: mysql_async would otherwise reconnect over the Unix socket,
    /// which briefly shows two server connections per client.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}?prefer_socket=false", self.port)
    }

    pub fn url_db(&self, db: &str) -> String {
        format!(
            "mysql://root@127.0.0.1:{}/{db}?prefer_socket=false",
            self.port
        )
    }

    /// Over the Unix socket.
    pub fn socket_url(&self) -> String {
        format!("mysql://root@localhost/?socket={}", self.socket.display())
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// Stops the server and waits for it.
    pub fn stop(&mut self) {
        self.shutdown.trigger();
        if let Some(h) = self.handle.take() {
            h.join().expect("server thread");
        }
    }

    /// Waits until the server's serve loop has returned on its own.
    pub fn wait_stopped(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.handle.as_ref().is_some_and(|h| h.is_finished()) {
                if let Some(h) = self.handle.take() {
                    h.join().expect("server thread");
                }
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn mariadb(&self, args: &[&str], stdin: Option<&str>) -> Option<Output> {
        let port = self.port.to_string();
        let mut a = vec!["-h127.0.0.1", "-P", &port, "-uroot", "--protocol=TCP"];
        a.extend_from_slice(args);
        run_client("mariadb", &a, stdin)
    }

    pub fn admin(&self, args: &[&str]) -> Option<Output> {
        let port = self.port.to_string();
        let mut a = vec!["-h127.0.0.1", "-P", &port, "-uroot", "--protocol=TCP"];
        a.extend_from_slice(args);
        run_client("mariadb-admin", &a, None)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a client program; `None` (with a message) when it is not installed.
pub fn run_client(prog: &str, args: &[&str], stdin: Option<&str>) -> Option<Output> {
    use std::io::Write;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIP: {prog} is not installed");
            return None;
        }
        Err(e) => panic!("running {prog}: {e}"),
    };
    if let Some(mut i) = child.stdin.take() {
        if let Some(s) = stdin {
            i.write_all(s.as_bytes()).expect("stdin");
        }
    }
    Some(child.wait_with_output().expect("wait"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A current-thread tokio runtime for mysql_async.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Server error code of a mysql_async error.
pub fn code(e: &mysql_async::Error) -> u16 {
    match e {
        mysql_async::Error::Server(s) => s.code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// `minnowd` as a child process, killed when dropped.
pub struct ChildServer {
    pub child: std::process::Child,
    pub port: u16,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `minnowd` as a child; its TCP port is read from the error log.
pub fn spawn_minnowd(datadir: &Path, log: &Path, extra: &[&str]) -> ChildServer {
    let _ = std::fs::remove_file(log);
    let child = Command::new(env!("CARGO_BIN_EXE_minnowd"))
        .arg(format!("--datadir={}", datadir.display()))
        .arg("--port=0")
        .arg(format!(
            "--socket={}",
            datadir.with_extension("sock").display()
        ))
        .arg(format!("--log-error={}", log.display()))
        .args(extra)
        .spawn()
        .expect("spawn minnowd");
    let mut server = ChildServer { child, port: 0 };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(p) = text
            .split("ready for connections")
            .nth(1)
            .and_then(|t| t.split("port: ").nth(1))
        {
            server.port = p
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .expect("port in log");
            return server;
        }
        assert!(Instant::now() < deadline, "minnowd did not start:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
