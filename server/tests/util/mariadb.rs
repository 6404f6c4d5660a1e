//! A private MariaDB server for comparison tests: own data directory from
//! `mariadb-install-db`, own socket and port, root without password; stopped and
//! its data removed on drop. Used by the server's tests and, through `#[path]`, by
//! the console's (`tui/tests/util.rs`): it needs nothing but std.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running private MariaDB.
pub struct MariaDb {
    child: Child,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Unix socket.
    pub socket: PathBuf,
    dir: PathBuf,
}

/// The first of `names` found in `PATH` or in `dirs`.
pub fn find_program(names: &[&str], dirs: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut all: Vec<PathBuf> = std::env::split_paths(&path).collect();
    all.extend(dirs.iter().map(PathBuf::from));
    all.iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Whether the tests run as root (mariadbd then needs `--user=root`).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The server answers with a handshake packet (protocol version 10).
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut b = [0u8; 5];
    s.read_exact(&mut b).is_ok() && b[4] == 10
}

fn wait_ready(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!(
                "mariadbd exited with {st}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        if answers(port) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "mariadbd did not answer within 60 s: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl MariaDb {
    /// Starts one in `dir`, or returns `None` (after saying why) when MariaDB
    /// is not installed; with `CI` set, a missing MariaDB is a failure.
    pub fn start(dir: &Path) -> Option<MariaDb> {
        let server = std::env::var_os("MARIADBD")
            .map(PathBuf::from)
            .or_else(|| find_program(&["mariadbd", "mysqld"], &["/usr/sbin", "/usr/libexec"]));
        let install = find_program(
            &["mariadb-install-db", "mysql_install_db"],
            &["/usr/bin", "/usr/sbin"],
        );
        let (Some(server), Some(install)) = (server, install) else {
            let msg = "mariadbd / mariadb-install-db not found (apt-get install mariadb-server)";
            assert!(
                std::env::var_os("CI").is_none(),
                "{msg}: CI must run the MariaDB comparison tests"
            );
            eprintln!("SKIP: {msg}");
            return None;
        };
        let data = dir.join("mdata");
        let tmp = dir.join("mtmp");
        std::fs::create_dir_all(&tmp).expect("create tmpdir");
        let out = Command::new(&install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .args(is_root().then_some("--user=root"))
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .output()
            .expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let log = dir.join("mariadb.err");
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&server)
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--socket={}", dir.join("m.sock").display()))
                .arg("--max-connections=200")
                .arg(format!("--port={port}"))
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--pid-file={}", dir.join("m.pid").display()))
                .arg(format!("--log-error={}", log.display()))
                .arg("--skip-log-bin")
                .arg("--innodb-buffer-pool-size=16M")
                .arg(format!("--tmpdir={}", tmp.display()))
                .env("TMPDIR", &tmp)
                .args(is_root().then_some("--user=root"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn mariadbd");
            match wait_ready(&mut child, port, &log) {
                Ok(()) => {
                    return Some(MariaDb {
                        child,
                        port,
                        socket: dir.join("m.sock"),
                        dir: dir.to_path_buf(),
                    });
                }
                Err(e) => last = e,
            }
        }
        panic!("{last}");
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(self.dir.join("mdata"));
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
