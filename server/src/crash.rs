//! Crash-handler wiring (`stackresolve::crash`): installed at start-up unless
//! `--skip-stack-trace`/`--gdb`; every connection thread is armed (its own
//! alternate signal stack) and keeps its connection id and current query in
//! the slot the crash report prints.

use stackresolve::crash as sc;

/// Installs the crash handler writing to `fd` (the error log). Returns whether it is active.
pub fn install(fd: i32, core_file: bool) -> Result<(), String> {
    sc::install(sc::Config {
        fd,
        program: "minnowd".into(),
        version: crate::server::VERSION.into(),
        core_file,
        resolver: sc::Resolver::beside_current_exe(),
    })
    .map_err(|e| e.to_string())
}

/// Keeps a connection thread armed while alive.
#[derive(Debug)]
pub struct ThreadArm(#[allow(dead_code)] Option<sc::ArmGuard>);

/// Arms the calling connection thread (a no-op without a handler) and records its id.
pub fn connection_thread_start(id: u32) -> ThreadArm {
    let guard = sc::arm_current_thread().ok();
    sc::set_connection_id(u64::from(id));
    ThreadArm(guard)
}

/// Records the statement this thread runs. The text must stay alive until
/// [`clear_query`]: only its address and length are stored.
pub fn set_query(query: &str) {
    sc::set_query(query.as_bytes());
}

/// Clears the statement slot.
pub fn clear_query() {
    sc::with_current(|c| c.clear_query());
}

/// Adds a descriptor (the DBUG trace file) that the crash report `fsync`s.
pub fn add_flush_fd(fd: i32, label: &str) {
    sc::add_flush_fd(fd, label);
}

/// Removes a descriptor added with [`add_flush_fd`].
pub fn remove_flush_fd(fd: i32) {
    sc::remove_flush_fd(fd);
}
