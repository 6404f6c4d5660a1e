//! The crash handler: a MySQL-style crash report written safely from a signal
//! handler, following every rule of `shared/crash/REPORT.md`.
//!
//! # Use from a host
//!
//! ```no_run
//! use stackresolve::crash::{self, Config, KillStatus};
//!
//! // First thing in main (unless --skip-stack-trace):
//! crash::install(Config {
//!     program: "minnowd".into(),
//!     version: "0.1.0".into(),
//!     ..Config::default()
//! })?;
//! crash::install_panic_hook();
//!
//! // After each dlopen/dlclose of a plugin:
//! crash::refresh_module_map();
//! if let Err(replaced) = crash::check_handlers() {
//!     eprintln!("{replaced}"); // the error log says which signals a plugin took over
//! }
//! // crash::register_plugin_at("audit_log", "libaudit.so", some_symbol_address)?;
//!
//! // Threads the host (or a plugin, through the host) starts:
//! let worker = crash::spawn_armed(std::thread::Builder::new(), || {
//!     crash::with_current(|ctx| {
//!         ctx.set_connection_id(7);
//!         ctx.set_query(b"SELECT 1");
//!         ctx.set_kill_status(KillStatus::NotKilled);
//!     });
//! })?;
//! # let _ = worker.join();
//! # Ok::<(), crash::CrashError>(())
//! ```
//!
//! # What happens on a crash
//!
//! The first crashing thread becomes the owner (an atomic thread id); any other
//! thread that crashes meanwhile waits, and the owner crashing again goes
//! straight to the default action. The owner writes the report to the
//! configured descriptor, one `write(2)` per line from stack buffers, using only
//! snapshots prepared beforehand (module map with build-ids and exported
//! symbols, plugin ranges, descriptors to flush), optionally starts a resolver
//! out of process on it ([`Resolver`]), calls the handler that was installed
//! before ours (if any) and dies by the original signal: a hardware fault
//! returns with the default action restored and faults again (so a core file
//! shows the real fault); anything else is re-raised with `tgkill`, with
//! `_exit(128 + N)` as the last resort.
//!
//! Threads must be armed ([`arm_current_thread`], [`spawn_armed`],
//! [`arm_current_thread_until_exit`]) for their stack overflows to be reported
//! and for the context lines (connection id, query, kill status) to appear.

#![allow(unsafe_code)]

mod altstack;
mod fmt;
mod handler;
mod modules;
mod panic;
mod report;
mod resolver;

use std::ops::Range;
use std::os::fd::RawFd;
use std::thread::{Builder, JoinHandle};

pub use altstack::{ALT_STACK_SIZE, AltStack, ArmGuard, KillStatus, ThreadContext, with_current};
pub use nix::sys::signal::Signal;
pub use panic::install_panic_hook;
pub use resolver::Resolver;

/// How the crash handler reports.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the report goes (the error log). Default: 2 (stderr).
    pub fd: RawFd,
    /// Program name in the report (`minnowd got signal 11`).
    pub program: String,
    /// Version printed after the program name on the `Server version:` line.
    pub version: String,
    /// Raise `RLIMIT_CORE` to its hard limit so that the death leaves a core file.
    pub core_file: bool,
    /// Start this resolver out of process on the finished report (REPORT.md
    /// rule 9); `None` for `--skip-resolve-on-crash`. See
    /// [`Resolver::beside_current_exe`].
    pub resolver: Option<Resolver>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fd: 2,
            program: "minnowd".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            core_file: false,
            resolver: None,
        }
    }
}

/// Errors of the crash-handler API.
#[derive(Debug)]
#[non_exhaustive]
pub enum CrashError {
    /// [`install`] was already called in this process.
    AlreadyInstalled,
    /// The operation needs [`install`] first.
    NotInstalled,
    /// The calling thread is already armed (keep using its guard).
    AlreadyArmed,
    /// No loaded module contains the given address.
    NoModule {
        /// The address looked up.
        addr: usize,
    },
    /// A system call failed.
    Os {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Spawning a thread failed.
    Spawn(std::io::Error),
}

impl CrashError {
    pub(crate) fn last_os(what: &'static str) -> Self {
        CrashError::Os {
            what,
            source: std::io::Error::last_os_error(),
        }
    }

    pub(crate) fn os(what: &'static str, errno: nix::errno::Errno) -> Self {
        CrashError::Os {
            what,
            source: std::io::Error::from_raw_os_error(errno as i32),
        }
    }
}

impl std::fmt::Display for CrashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrashError::AlreadyInstalled => f.write_str("the crash handler is already installed"),
            CrashError::NotInstalled => f.write_str("the crash handler is not installed"),
            CrashError::AlreadyArmed => {
                f.write_str("this thread already has the crash handler's alternate stack")
            }
            CrashError::NoModule { addr } => {
                write!(f, "no loaded module contains address {addr:#x}")
            }
            CrashError::Os { what, source } => write!(f, "{what} failed: {source}"),
            CrashError::Spawn(e) => write!(f, "cannot spawn thread: {e}"),
        }
    }
}

impl std::error::Error for CrashError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CrashError::Os { source, .. } | CrashError::Spawn(source) => Some(source),
            _ => None,
        }
    }
}

/// Our handler was replaced for these signals (by a plugin, typically).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlersReplaced {
    /// The signals whose action is no longer the crash handler.
    pub signals: Vec<Signal>,
}

impl std::fmt::Display for HandlersReplaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the crash handler was replaced by another handler for")?;
        for (i, s) in self.signals.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for HandlersReplaced {}

/// Installs the handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT: takes
/// the module map, opens `/proc/self/mem` for fault-proof copies, warms up the
/// unwinder, arms the calling thread (kept armed for the life of the process)
/// and saves the previous handlers for chaining. Call it once, early in `main`.
pub fn install(config: Config) -> Result<(), CrashError> {
    handler::install(config)
}

/// Re-takes the module map (paths, load biases, segments, build-ids, exported
/// symbols) and swaps it in atomically. Call after every `dlopen`/`dlclose`.
pub fn refresh_module_map() {
    modules::refresh();
}

/// Checks that our handler is still the action of every caught signal; call it
/// after each plugin load and log the error if one replaced it.
pub fn check_handlers() -> Result<(), HandlersReplaced> {
    let signals = handler::replaced();
    if signals.is_empty() {
        Ok(())
    } else {
        Err(HandlersReplaced { signals })
    }
}

/// [`check_handlers`], and when a handler was replaced also says so in the
/// error log: `<time> UTC - <program>: [Warning] the crash handler was replaced…`.
pub fn check_handlers_and_log() -> Result<(), HandlersReplaced> {
    let result = check_handlers();
    if let Err(e) = &result {
        report::log_warning(&e.to_string());
    }
    result
}

/// Puts the crash handler back where it was replaced; the replacing handler
/// becomes the one chained to. Returns the signals that were replaced.
pub fn reinstall_handlers() -> Result<Vec<Signal>, CrashError> {
    handler::reinstall()
}

/// Arms the calling thread: installs an alternate signal stack of at least
/// [`ALT_STACK_SIZE`] bytes and its [`ThreadContext`]. Keep the guard alive as
/// long as the thread runs (or call [`ArmGuard::keep`]).
pub fn arm_current_thread() -> Result<ArmGuard, CrashError> {
    AltStack::allocate()?.arm()
}

/// Arms the calling thread until it exits (for threads whose start routine the
/// host does not control, such as threads a C plugin creates: the plugin API
/// calls this first thing in the new thread). The alternate stack is freed by
/// a thread-local destructor at thread exit. Arming an armed thread is a no-op.
pub fn arm_current_thread_until_exit() -> Result<(), CrashError> {
    thread_local! {
        static UNTIL_EXIT: std::cell::RefCell<Option<ArmGuard>> = const { std::cell::RefCell::new(None) };
    }
    if with_current(|_| ()).is_some() {
        return Ok(());
    }
    let guard = arm_current_thread()?;
    UNTIL_EXIT
        .try_with(|slot| *slot.borrow_mut() = Some(guard))
        .map_err(|_| CrashError::Os {
            what: "thread-local storage (thread is exiting)",
            source: std::io::Error::other("thread-local storage destroyed"),
        })
}

/// Spawns a thread that is armed before `f` runs. The alternate stack is
/// allocated here, so an allocation failure is reported to the caller.
pub fn spawn_armed<F, T>(builder: Builder, f: F) -> Result<JoinHandle<T>, CrashError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let stack = AltStack::allocate()?;
    builder
        .spawn(move || {
            // `arm` can only fail for an invalid stack description, which
            // `allocate` never produces; the thread then runs unarmed.
            let _guard = stack.arm().ok();
            f()
        })
        .map_err(CrashError::Spawn)
}

/// Records that plugin `name`, loaded from `library`, owns `range`; a crash
/// whose faulting PC (or the first such return address) falls in it names the
/// plugin in the report.
pub fn register_plugin(name: &str, library: &str, range: Range<usize>) {
    let mut list = modules::PLUGINS_MASTER
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    list.push(modules::PluginEntry {
        name: name.as_bytes().into(),
        library: library.as_bytes().into(),
        start: range.start,
        end: range.end,
    });
    modules::PLUGINS.publish(list.clone());
}

/// Registers every segment of the loaded module that contains `addr` (for
/// example the address of a symbol found with `dlsym`) as owned by plugin `name`.
pub fn register_plugin_at(name: &str, library: &str, addr: usize) -> Result<(), CrashError> {
    let map = match modules::MODULES.load().filter(|m| m.find(addr).is_some()) {
        Some(m) => m,
        None => {
            modules::refresh();
            modules::MODULES
                .load()
                .ok_or(CrashError::NoModule { addr })?
        }
    };
    let module = map.find(addr).ok_or(CrashError::NoModule { addr })?;
    let ranges: Vec<_> = module.ranges.to_vec();
    for (s, e) in ranges {
        register_plugin(name, library, s..e);
    }
    Ok(())
}

/// Forgets every range registered for plugin `name` (call before `dlclose`).
pub fn unregister_plugin(name: &str) {
    let mut list = modules::PLUGINS_MASTER
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    list.retain(|p| &*p.name != name.as_bytes());
    modules::PLUGINS.publish(list.clone());
}

/// Adds a descriptor (the DBUG trace file) to `fsync` before the report ends;
/// the report then says `DBUG trace flushed: <label>`. Data still buffered in
/// user space cannot be flushed from a signal handler: write the trace
/// unbuffered (or flush each line) when crash safety matters.
pub fn add_flush_fd(fd: RawFd, label: &str) {
    let mut list = modules::FLUSH_MASTER
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    list.retain(|f| f.fd != fd);
    list.push(modules::FlushEntry {
        fd,
        label: label.as_bytes().into(),
    });
    modules::FLUSH.publish(list.clone());
}

/// Removes a descriptor added with [`add_flush_fd`] (call before closing it).
pub fn remove_flush_fd(fd: RawFd) {
    let mut list = modules::FLUSH_MASTER
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    list.retain(|f| f.fd != fd);
    modules::FLUSH.publish(list.clone());
}

/// Sets the current thread's connection id; `false` if the thread is not armed.
pub fn set_connection_id(id: u64) -> bool {
    with_current(|c| c.set_connection_id(id)).is_some()
}

/// Sets the current thread's query (pointer and length only, see
/// [`ThreadContext::set_query`]); `false` if the thread is not armed.
pub fn set_query(query: &[u8]) -> bool {
    with_current(|c| c.set_query(query)).is_some()
}

/// Sets the current thread's kill status; `false` if the thread is not armed.
pub fn set_kill_status(status: KillStatus) -> bool {
    with_current(|c| c.set_kill_status(status)).is_some()
}
