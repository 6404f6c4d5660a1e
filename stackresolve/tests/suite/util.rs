//! Shared helpers for the integration tests: temp dirs, compiling C, running tools.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "stackresolve-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TEMP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The project's `shared/` directory: `$MINNOW_SHARED`, else the first
/// ancestor of the crate holding `shared/crashlogs` (the repository's parent
/// in CI, where shared/ sits beside the clone).
pub fn shared_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("MINNOW_SHARED") {
        return PathBuf::from(p);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared"))
        .find(|p| p.join("crashlogs").is_dir())
        .unwrap_or_else(|| here.join("../../shared"))
}

/// Runs a command, panicking with its stderr if it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (is it installed?)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Compiles C sources with gcc and the given flags into `out`.
pub fn gcc(out: &Path, sources: &[PathBuf], flags: &[&str]) {
    let mut c = Command::new("gcc");
    c.args(flags).arg("-o").arg(out).args(sources);
    if let Some(dir) = out.parent() {
        c.current_dir(dir); // -gsplit-dwarf writes .dwo files here
    }
    run_ok(&mut c);
}

/// Runs `prog args` with `input` on stdin and returns (stdout, stderr, status code).
pub fn run_with_stdin(prog: &Path, args: &[String], input: &[u8]) -> (Vec<u8>, Vec<u8>, i32) {
    run_with_stdin_env(prog, args, input, &[])
}

/// Like [`run_with_stdin`] with extra environment variables.
pub fn run_with_stdin_env(
    prog: &Path,
    args: &[String],
    input: &[u8],
    env: &[(&str, &str)],
) -> (Vec<u8>, Vec<u8>, i32) {
    use std::io::Write;
    let mut child = Command::new(prog)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", prog.display()));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    (out.stdout, out.stderr, out.status.code().unwrap_or(-1))
}

pub fn resolve_stack() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_resolve-stack"))
}
