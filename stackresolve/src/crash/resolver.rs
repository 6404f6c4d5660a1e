//! Rule 9: once the raw report is complete, start `resolve-stack` out of
//! process on it. The report was also written into a pipe while it was being
//! written (non-blocking: a full pipe only truncates the resolver's copy); the
//! child is created with the raw `clone` system call (no atfork handlers, no
//! locks), reads the report on stdin and writes to the error log; the handler
//! waits for it with a time limit and kills it when the limit passes. A
//! failure here loses nothing that was already written.

use std::ffi::{CString, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr;
use std::time::Duration;

use nix::sys::signal::SigSet;

use super::CrashError;
use super::fmt::LineBuf;
use super::report::{emit, push_foreign};

/// An out-of-process resolver started on the finished report.
#[derive(Clone, Debug)]
pub struct Resolver {
    /// The program (normally `resolve-stack` installed beside the server).
    pub program: PathBuf,
    /// Its arguments (the report arrives on its standard input).
    pub args: Vec<String>,
    /// How long the dying process waits for it before killing it.
    pub timeout: Duration,
}

impl Resolver {
    /// `resolve-stack --frames-only -` beside the running executable, if it
    /// is installed there (REPORT.md: on by default when it is). It reads the
    /// report on stdin, finds the modules through the report's `Module map:`
    /// (absolute paths and build-ids) and prints only the frame lines with
    /// their resolutions, then its `resolve-stack: module …` lines: the report
    /// itself is already in the error log above `Resolved by resolve-stack:`.
    pub fn beside_current_exe() -> Option<Resolver> {
        let exe = std::env::current_exe().ok()?;
        let program = exe.parent()?.join("resolve-stack");
        program.is_file().then(|| Resolver {
            program,
            args: vec!["--frames-only".into(), "-".into()],
            timeout: Duration::from_secs(30),
        })
    }
}

/// Everything `execve` needs, prepared at install time.
pub(crate) struct Prepared {
    path: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const c_char>,
    timeout_ms: u64,
}

fn cstring(bytes: &[u8], what: &'static str) -> Result<CString, CrashError> {
    CString::new(bytes).map_err(|_| CrashError::Os {
        what,
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "contains a NUL byte"),
    })
}

impl Prepared {
    pub(crate) fn new(r: &Resolver) -> Result<Prepared, CrashError> {
        let path = cstring(r.program.as_os_str().as_bytes(), "resolver program path")?;
        let mut argv = vec![path.clone()];
        for a in &r.args {
            argv.push(cstring(a.as_bytes(), "resolver argument")?);
        }
        let envp: Vec<CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                CString::new(kv).ok()
            })
            .collect();
        let argv_ptrs = argv
            .iter()
            .map(|c| c.as_ptr())
            .chain([ptr::null()])
            .collect();
        let envp_ptrs = envp
            .iter()
            .map(|c| c.as_ptr())
            .chain([ptr::null()])
            .collect();
        Ok(Prepared {
            path,
            _argv: argv,
            argv_ptrs,
            _envp: envp,
            envp_ptrs,
            timeout_ms: u64::try_from(r.timeout.as_millis()).unwrap_or(u64::MAX),
        })
    }
}

/// A non-blocking pipe for the copy of the report: (read end, write end).
pub(crate) fn report_pipe() -> (c_int, c_int) {
    let mut fds = [-1 as c_int; 2];
    // SAFETY: `fds` is a valid out-array of two ints; pipe2 is a system call.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return (-1, -1);
    }
    // SAFETY: fcntl on the descriptor just created.
    unsafe { libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK) };
    (fds[0], fds[1])
}

fn close(fd: c_int) {
    if fd >= 0 {
        // SAFETY: closing a descriptor this module created.
        unsafe { libc::close(fd) };
    }
}

/// Starts the resolver with `report_rd` as stdin and the error log as
/// stdout/stderr, waits up to the time limit. Async-signal-safe.
pub(crate) fn run(p: &Prepared, fd: c_int, mem_fd: c_int, report_rd: c_int, report_wr: c_int) {
    close(report_wr);
    let mut l = LineBuf::new();
    l.str("Resolved by resolve-stack:");
    emit(fd, &mut l);
    if report_rd < 0 {
        l.str("resolve-stack not started: no pipe");
        emit(fd, &mut l);
        return;
    }
    // SAFETY: the raw clone system call with only SIGCHLD behaves like fork
    // without running atfork handlers or taking glibc locks. The child runs only
    // system calls before execve.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0) };
    if pid == 0 {
        child(p, fd, report_rd);
    }
    close(report_rd);
    if pid < 0 {
        l.str("resolve-stack not started: clone failed");
        emit(fd, &mut l);
        return;
    }
    let pid = pid as libc::pid_t;
    let pause = libc::timespec {
        tv_sec: 0,
        tv_nsec: 10_000_000,
    };
    let mut status: c_int = 0;
    let mut waited = 0u64;
    loop {
        // SAFETY: waiting for our own child into a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if r < 0 {
            return; // ECHILD: SIGCHLD ignored by the host, the child was reaped.
        }
        if waited >= p.timeout_ms {
            // SAFETY: killing our child's process group and reaping the child.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            l.str("resolve-stack (");
            push_foreign(&mut l, mem_fd, p.path.as_bytes(), 1024);
            l.str(") timed out after ")
                .dec(p.timeout_ms)
                .str(" ms and was killed");
            emit(fd, &mut l);
            return;
        }
        // SAFETY: valid timespec, null remainder.
        unsafe { libc::nanosleep(&pause, ptr::null_mut()) };
        waited += 10;
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        l.str("resolve-stack (");
        push_foreign(&mut l, mem_fd, p.path.as_bytes(), 1024);
        if libc::WIFEXITED(status) {
            l.str(") failed with exit status ")
                .dec(libc::WEXITSTATUS(status) as u64);
        } else {
            l.str(") was killed by signal ")
                .dec(libc::WTERMSIG(status) as u64);
        }
        emit(fd, &mut l);
    }
}

fn child(p: &Prepared, fd: c_int, report_rd: c_int) -> ! {
    // The child inherits the handler's blocked signals; execve keeps the mask.
    let _ = SigSet::empty().thread_set_mask();
    // SAFETY: descriptor juggling and execve with NUL-terminated strings and
    // null-terminated pointer arrays prepared at install; `_exit` if it fails.
    unsafe {
        // Own process group, so a timeout kills whatever it started too.
        libc::setpgid(0, 0);
        libc::dup2(report_rd, 0);
        libc::dup2(fd, 1);
        libc::dup2(fd, 2);
        libc::execve(p.path.as_ptr(), p.argv_ptrs.as_ptr(), p.envp_ptrs.as_ptr());
        libc::_exit(127)
    }
}
