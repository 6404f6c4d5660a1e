//! Shared helpers for the crash tests: build the fixtures, run `crashme`, parse
//! the report, resolve frames with binutils `addr2line`.
#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Newest modification time of the files the example is built from.
fn newest_source() -> std::time::SystemTime {
    fn walk(dir: &Path, newest: &mut std::time::SystemTime) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, newest);
            } else if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(t);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    walk(&root.join("src"), &mut newest);
    walk(&root.join("examples"), &mut newest);
    newest
}

/// The `crashme` example next to this test binary (built by `cargo test` /
/// `nextest`); (re)built on demand if absent or older than its sources (a
/// filtered `cargo test --test crash` does not build examples).
pub fn crashme() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let path = profile_dir.join("examples").join("crashme");
        let stale = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_or(true, |t| t < newest_source());
        if stale {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = Command::new(cargo)
                .args(["build", "-p", "stackresolve", "--example", "crashme"])
                .status()
                .expect("run cargo build");
            assert!(st.success(), "building the crashme example failed");
        }
        assert!(path.exists(), "{} missing", path.display());
        path
    })
    .clone()
}

/// A scratch directory private to this test process (those of test processes
/// that no longer exist are removed first).
pub fn scratch() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = std::env::temp_dir();
        for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("stackresolve-crash-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let d = tmp.join(format!("stackresolve-crash-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    })
    .clone()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `libcrashplug.so`, built from `tests/fixtures/crashplug.c` with `gcc -g -O2`.
pub fn c_plugin() -> PathBuf {
    let out = scratch().join("libcrashplug.so");
    let st = Command::new("gcc")
        .args(["-g", "-O2", "-fPIC", "-shared", "-Wl,--build-id=sha1", "-o"])
        .arg(&out)
        .arg(fixture("crashplug.c"))
        .status()
        .expect("run gcc (apt install gcc)");
    assert!(st.success(), "gcc failed");
    out
}

/// `libcrashlib_rs.so`, built from `tests/fixtures/crashlib.rs` as a Rust cdylib.
pub fn rust_plugin() -> PathBuf {
    let out = scratch().join("libcrashlib_rs.so");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let st = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "cdylib",
            "-g",
            "-C",
            "opt-level=2",
        ])
        .arg("-o")
        .arg(&out)
        .arg(fixture("crashlib.rs"))
        .status()
        .expect("run rustc");
    assert!(st.success(), "rustc failed");
    out
}

/// What a `crashme` run produced.
pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The signal that killed the child.
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }
}

/// Runs `crashme MODE ARGS…` with `envs`, killing it after 60 s.
pub fn run(mode: &str, args: &[&Path], envs: &[(&str, &Path)]) -> Run {
    run_exe(&crashme(), mode, args, envs)
}

/// A copy of `crashme` in a scratch directory with `resolve-stack` (a
/// symbolic link to the one cargo built) beside it, as an installed server has.
pub fn installed_crashme() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = scratch().join("installed");
        std::fs::create_dir_all(&dir).expect("install dir");
        let exe = dir.join("crashme");
        let _ = std::fs::remove_file(&exe);
        std::fs::copy(crashme(), &exe).expect("copy crashme");
        let rs = dir.join("resolve-stack");
        let _ = std::fs::remove_file(&rs);
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_resolve-stack"), &rs)
            .expect("link resolve-stack");
        exe
    })
    .clone()
}

/// Runs `EXE MODE ARGS…` (a `crashme`) with `envs`, killing it after 60 s.
pub fn run_exe(exe: &Path, mode: &str, args: &[&Path], envs: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(exe);
    cmd.arg(mode).args(args).stdin(Stdio::null());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env_remove("RUST_BACKTRACE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("spawn crashme");
    let pid = child.id();
    let start = Instant::now();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    while !waiter.is_finished() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("crashme {mode} hung for 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = waiter.join().expect("waiter").expect("wait");
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One glibc-format frame line.
#[derive(Debug, Clone)]
pub struct Frame {
    pub module: String,
    pub symbol: Option<(String, u64)>,
    pub offset: Option<u64>,
    pub pc: u64,
}

/// One `Module map:` line.
#[derive(Debug, Clone)]
pub struct ModuleLine {
    pub start: u64,
    pub end: u64,
    pub path: String,
    pub build_id: Option<String>,
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// Parses `path(sym+0xoff)[0xpc]`, `path(+0xoff)[0xpc]` or `[0xpc]`.
pub fn parse_frame(line: &str) -> Option<Frame> {
    let open = line.rfind('[')?;
    let pc = hex(line[open + 1..].strip_suffix(']')?)?;
    let head = &line[..open];
    if head.is_empty() {
        return Some(Frame {
            module: String::new(),
            symbol: None,
            offset: None,
            pc,
        });
    }
    let head = head.strip_suffix(')')?;
    let paren = head.rfind('(')?;
    let module = head[..paren].to_string();
    let inner = &head[paren + 1..];
    let plus = inner.rfind('+')?;
    let off = hex(&inner[plus + 1..])?;
    let (symbol, offset) = if plus == 0 {
        (None, Some(off))
    } else {
        (Some((inner[..plus].to_string(), off)), None)
    };
    Some(Frame {
        module,
        symbol,
        offset,
        pc,
    })
}

/// A crash report cut out of the child's stderr.
#[derive(Debug)]
pub struct Report {
    pub lines: Vec<String>,
}

impl Report {
    /// The report in `stderr`; asserts there is exactly one, and that it is
    /// complete (header through `Status:`).
    pub fn single(stderr: &str) -> Report {
        let all: Vec<&str> = stderr.lines().collect();
        let headers: Vec<usize> = (0..all.len())
            .filter(|&i| all[i].contains(" UTC - crashme got signal "))
            .collect();
        assert_eq!(
            headers.len(),
            1,
            "exactly one report header expected:\n{stderr}"
        );
        let statuses = all.iter().filter(|l| l.starts_with("Status: ")).count();
        assert_eq!(statuses, 1, "exactly one Status line expected:\n{stderr}");
        let start = headers[0];
        let status = (start..all.len())
            .find(|&i| all[i].starts_with("Status: "))
            .expect("Status after header");
        let mut end = status + 1;
        while end < all.len() && all[end].starts_with("DBUG trace flushed: ") {
            end += 1;
        }
        let lines: Vec<String> = all[start..end].iter().map(|s| s.to_string()).collect();
        let r = Report { lines };
        r.assert_layout();
        r
    }

    fn index_of(&self, prefix: &str) -> usize {
        self.lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| {
                panic!(
                    "no line starting with {prefix:?} in:\n{}",
                    self.lines.join("\n")
                )
            })
    }

    /// Checks the fixed lines of REPORT.md's layout, in order.
    fn assert_layout(&self) {
        let h = &self.lines[0];
        let b = h.as_bytes();
        assert!(
            b.len() > 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[19] == b'Z',
            "time: {h}"
        );
        assert!(h[20..].starts_with(" UTC - crashme got signal "), "{h}");
        assert!(h.ends_with(" ;"), "{h}");
        assert!(self.lines[1].starts_with("Signal SIG"), "{}", self.lines[1]);
        assert_eq!(
            self.lines[2],
            "Most likely, you have hit a bug, but this error can also be caused by malfunctioning hardware."
        );
        assert!(self.lines[3].starts_with("Server version: crashme 9.9.9-test BuildID[sha1]="));
        assert!(self.lines[4].starts_with("Thread pointer: 0x"));
        assert_eq!(
            self.lines[5],
            "Attempting backtrace. You can use the following information to find out"
        );
        assert_eq!(
            self.lines[6],
            "where crashme died. If you see no messages after this, something went"
        );
        assert_eq!(self.lines[7], "terribly wrong...");
        assert!(
            self.lines[8].starts_with("stack_bottom = "),
            "{}",
            self.lines[8]
        );
        let map = self.index_of("Module map:");
        let vars = self.index_of("Trying to get some variables.");
        assert!(map > 9 && vars > map);
        assert_eq!(
            self.lines[vars + 1],
            "Some pointers may be invalid and cause the dump to abort."
        );
        assert!(self.lines[vars + 2].starts_with("Query (0x"));
        assert!(self.lines[vars + 3].starts_with("Connection ID (thread ID): "));
        assert!(self.lines[vars + 4].starts_with("Status: "));
        for f in &self.lines[9..map] {
            assert!(parse_frame(f).is_some(), "not a glibc frame line: {f}");
        }
    }

    /// The value after `prefix` on the line that starts with it.
    pub fn value(&self, prefix: &str) -> &str {
        &self.lines[self.index_of(prefix)][prefix.len()..]
    }

    pub fn has_line(&self, line: &str) -> bool {
        self.lines.iter().any(|l| l == line)
    }

    pub fn frames(&self) -> Vec<Frame> {
        let map = self.index_of("Module map:");
        self.lines[9..map]
            .iter()
            .filter_map(|l| parse_frame(l))
            .collect()
    }

    pub fn modules(&self) -> Vec<ModuleLine> {
        let map = self.index_of("Module map:");
        let vars = self.index_of("Trying to get some variables.");
        self.lines[map + 1..vars]
            .iter()
            .filter(|l| l.starts_with("0x"))
            .map(|l| {
                let (range, rest) = l.split_once(' ').expect("module line");
                let (s, e) = range.split_once('-').expect("range");
                let (path, build_id) = match rest.split_once(" BuildID[sha1]=") {
                    Some((p, id)) => (p.to_string(), Some(id.to_string())),
                    None => (rest.to_string(), None),
                };
                ModuleLine {
                    start: hex(s).expect("start"),
                    end: hex(e).expect("end"),
                    path,
                    build_id,
                }
            })
            .collect()
    }

    /// (module path, offset for `addr2line -e module`) of frame `i`: the pc minus
    /// the module's load address from the module map, cross-checked with the
    /// `(+0xoff)` printed in the frame line.
    pub fn module_offset(&self, frame: &Frame) -> (String, u64) {
        let m = self
            .modules()
            .into_iter()
            .find(|m| m.path == frame.module)
            .unwrap_or_else(|| panic!("frame module {} not in the module map", frame.module));
        assert!(
            frame.pc >= m.start && frame.pc < m.end,
            "{frame:?} outside {m:?}"
        );
        let off = frame.pc - m.start;
        if let Some(printed) = frame.offset {
            assert_eq!(printed, off, "printed offset vs module map for {frame:?}");
        }
        (m.path, off)
    }

    /// The inline chain `addr2line -i` gives for frame `i` (innermost first).
    pub fn chain_at(&self, i: usize, is_return: bool) -> Vec<String> {
        let frames = self.frames();
        let f = &frames[i];
        let (module, off) = self.module_offset(f);
        addr2line_chain(&module, if is_return { off - 1 } else { off })
    }

    /// The function `addr2line` names for frame `i` (`is_return`: look up pc - 1).
    pub fn function_at(&self, i: usize, is_return: bool) -> (String, String) {
        let frames = self.frames();
        let f = frames
            .get(i)
            .unwrap_or_else(|| panic!("no frame {i} in:\n{}", self.lines.join("\n")));
        let (module, off) = self.module_offset(f);
        let off = if is_return { off - 1 } else { off };
        (module.clone(), addr2line_function(&module, off))
    }
}

/// `addr2line -f -i -C -e MODULE 0xOFF`: the name of the function that
/// physically contains the address (the outermost of the inline chain).
pub fn addr2line_function(module: &str, off: u64) -> String {
    addr2line_chain(module, off).pop().unwrap_or_default()
}

/// Every function of the inline chain at `off`, innermost first.
pub fn addr2line_chain(module: &str, off: u64) -> Vec<String> {
    let out = Command::new("addr2line")
        .args(["-f", "-i", "-C", "-e", module, &format!("{off:#x}")])
        .output()
        .expect("run addr2line (apt install binutils)");
    assert!(out.status.success(), "addr2line failed on {module}");
    let text = String::from_utf8_lossy(&out.stdout);
    // Lines alternate: function, file:line (innermost first).
    text.lines().step_by(2).map(str::to_string).collect()
}

/// The GNU build-id `readelf -n` reports for `path`.
pub fn readelf_build_id(path: &str) -> String {
    let out = Command::new("readelf")
        .args(["-n", path])
        .output()
        .expect("run readelf");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .unwrap_or_else(|| panic!("no build id in {path}"))
        .to_string()
}
