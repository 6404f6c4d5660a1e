//! Shared helpers: build the real example plugins, lay out a plugin_dir, and a
//! recording `HostServices`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use minnow_plugin_host::{HostServices, LogLevel, Registry, SessionInfo};

/// The Rust example cdylibs.
pub const RUST_PLUGINS: [&str; 7] = [
    "audit_null",
    "conn_ip_filter",
    "daemon_heartbeat",
    "is_example",
    "protocol_trace",
    "crashme",
    "auth_test",
];

/// C fixtures in tests/fixtures, compiled into every plugin dir.
pub const FIXTURES: [&str; 8] = [
    "not_a_plugin",
    "wrong_major",
    "missing_decls",
    "bad_descriptor",
    "old_minor",
    "new_minor",
    "lifecycle",
    "noop_audit",
];

/// Builds the Rust example plugins once per test process with the same cargo,
/// target dir and profile as this test binary; returns the directory holding them.
pub fn rust_plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        // <target>/<profile>/deps/<test binary>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary in <target>/<profile>/deps");
        let profile = profile_dir
            .file_name()
            .and_then(|s| s.to_str())
            .expect("profile dir name")
            .to_string();
        let target_dir = profile_dir.parent().expect("target dir");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--quiet")
            .arg("--target-dir")
            .arg(target_dir);
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        for p in RUST_PLUGINS {
            cmd.args(["-p", p]);
        }
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
        let out = cmd
            .output()
            .expect("run cargo build for the example plugins");
        assert!(
            out.status.success(),
            "building the example plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir.to_path_buf()
    })
}

/// Removes `<tmp>/<prefix><pid>-…` directories left by test processes that are gone
/// (a test that panicked or was killed never ran its clean-up).
fn sweep_dead_processes(prefix: &str) {
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
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        sweep_dead_processes(&format!("minnow-{tag}-"));
        let p = std::env::temp_dir().join(format!(
            "minnow-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn compile_fixture(name: &str, out: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.c"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let o = Command::new(&cc)
        .args([
            "-shared",
            "-fPIC",
            "-g",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-std=c11",
            "-I",
            minnow_plugin::HEADER_DIR,
            "-o",
        ])
        .arg(out)
        .arg(&src)
        .output()
        .expect("run the C compiler");
    assert!(
        o.status.success(),
        "compiling {name}.c failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A plugin_dir with copies of every example plugin and fixture.
pub fn plugin_dir() -> TempDir {
    let dir = TempDir::new("plugins");
    let built = rust_plugin_dir();
    for p in RUST_PLUGINS {
        let f = format!("lib{p}.so");
        std::fs::copy(built.join(&f), dir.path().join(&f))
            .unwrap_or_else(|e| panic!("copy {f}: {e}"));
    }
    std::fs::copy(udf_example::LIBRARY, dir.path().join(udf_example::SONAME))
        .expect("copy udf_example");
    std::fs::copy(crashme_c::LIBRARY, dir.path().join(crashme_c::SONAME)).expect("copy crashme_c");
    for f in FIXTURES {
        compile_fixture(f, &dir.path().join(format!("{f}.so")));
    }
    dir
}

/// One recorded DBUG call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dbug {
    Enter(String, String, u32),
    Return(String),
    Print(String, String),
}

/// A `HostServices` that records everything.
#[derive(Default)]
pub struct TestHost {
    pub log: Mutex<Vec<(LogLevel, String, String)>>,
    pub dbug: Mutex<Vec<Dbug>>,
    pub keywords: Mutex<Vec<String>>,
    pub session: Mutex<Option<SessionInfo>>,
    pub data_dir: Mutex<Option<PathBuf>>,
    pub modules_changed: AtomicUsize,
    /// `+name library` / `-name` events from plugin_loaded / plugin_unloaded.
    pub ownership: Mutex<Vec<String>>,
}

impl TestHost {
    pub fn log_lines(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(_, p, m)| format!("[{p}] {m}"))
            .collect()
    }
    pub fn log_contains(&self, needle: &str) -> bool {
        self.log_lines().iter().any(|l| l.contains(needle))
    }
}

impl HostServices for TestHost {
    fn error_log(&self, level: LogLevel, plugin: &str, message: &str) {
        self.log
            .lock()
            .unwrap()
            .push((level, plugin.to_string(), message.to_string()));
    }
    fn dbug_enter(&self, func: &str, file: &str, line: u32) {
        self.dbug
            .lock()
            .unwrap()
            .push(Dbug::Enter(func.into(), file.into(), line));
    }
    fn dbug_return(&self, func: &str, _file: &str, _line: u32) {
        self.dbug.lock().unwrap().push(Dbug::Return(func.into()));
    }
    fn dbug_print(&self, _func: &str, _file: &str, _line: u32, keyword: &str, message: &str) {
        self.dbug
            .lock()
            .unwrap()
            .push(Dbug::Print(keyword.into(), message.into()));
    }
    fn dbug_keyword(&self, keyword: &str) -> bool {
        self.keywords.lock().unwrap().iter().any(|k| k == keyword)
    }
    fn session(&self) -> Option<SessionInfo> {
        self.session.lock().unwrap().clone()
    }
    fn data_dir(&self) -> Option<PathBuf> {
        self.data_dir.lock().unwrap().clone()
    }
    fn modules_changed(&self) {
        self.modules_changed.fetch_add(1, Ordering::SeqCst);
    }
    fn plugin_loaded(&self, name: &str, library: &str, addr: usize) {
        // The address must lie inside that library's mapping.
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        let inside = maps.lines().any(|l| {
            let mut it = l.split_whitespace();
            let range = it.next().unwrap_or("");
            let path = it.nth(4).unwrap_or("");
            let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
            let (a, b) = (
                usize::from_str_radix(a, 16).unwrap_or(0),
                usize::from_str_radix(b, 16).unwrap_or(0),
            );
            path.ends_with(library) && (a..b).contains(&addr)
        });
        let tag = if inside {
            ""
        } else {
            " (address outside the library!)"
        };
        self.ownership
            .lock()
            .unwrap()
            .push(format!("+{name} {library}{tag}"));
    }
    fn plugin_unloaded(&self, name: &str) {
        self.ownership.lock().unwrap().push(format!("-{name}"));
    }
}

/// A registry over a fresh plugin dir.
pub fn setup() -> (TempDir, Arc<TestHost>, Registry) {
    let dir = plugin_dir();
    let host = Arc::new(TestHost::default());
    let reg = Registry::new(dir.path(), host.clone());
    (dir, host, reg)
}

/// True if `path` (a file in plugin_dir) is currently mapped into this process.
pub fn is_mapped(path: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    maps.lines().any(|l| l.ends_with(&*canon.to_string_lossy()))
}

/// A general-class event of connection `conn` for `query` (root@localhost).
pub fn general(
    subclass: minnow_plugin_host::GeneralSubclass,
    conn: u64,
    query: &str,
) -> minnow_plugin_host::GeneralEvent<'_> {
    minnow_plugin_host::GeneralEvent {
        subclass,
        error_code: 0,
        connection_id: conn,
        rows: 0,
        user: "root",
        host: "localhost",
        ip: "127.0.0.1",
        command: "Query",
        query,
    }
}
