//! The signal handler itself: owner guard, unwinding, chaining, death.
//!
//! # Why `_Unwind_Backtrace` and not the `backtrace` crate
//!
//! The handler walks the stack with libgcc's `_Unwind_Backtrace` directly, the
//! same unwinder glibc's `backtrace()` uses, with no layer in between:
//! * libgcc_s is already loaded (every Rust program on linux-gnu links it for
//!   panics) and Rust binaries are linked `-z now`, so no lazy symbol binding
//!   or `dlopen` happens in the handler (glibc's `backtrace()` would `dlopen`
//!   libgcc_s on its first call);
//! * [`warm_up`] calls it once at install time, which runs libgcc's one-time
//!   initialisation (`pthread_once` for the register size table) outside the
//!   handler;
//! * with glibc ≥ 2.35 and GCC ≥ 12 (Debian 12 here), libgcc finds FDEs through
//!   `_dl_find_object`, which is documented as async-signal-safe and takes no
//!   lock (older combinations fall back to `dl_iterate_phdr`, which does). One
//!   residual risk remains in libgcc itself: objects registered at run time
//!   with `__register_frame_info` (JIT compilers) are looked up under libgcc's
//!   `object_mutex`, so a crash inside such a registration could deadlock the
//!   unwind; nothing in Minnow registers frames;
//! * it unwinds through the kernel's signal trampoline using its CFI and marks
//!   the interrupted frame (`_Unwind_GetIPInfo`'s `ip_before_insn`), so the
//!   faulting PC is reported exactly, not as a return address.
//!
//! The `backtrace` crate's `trace_unsynchronized` is a thin wrapper over the very
//! same call, but proving that it stays allocation- and lock-free across versions
//! is harder than calling the two libgcc functions ourselves; its `trace` takes a
//! lock. So `backtrace` is used only for panic reports (see `panic.rs`).
//!
//! If the unwinder cannot get through the trampoline (a corrupt stack, or a jump
//! to an unmapped address with no CFI), the report still shows the faulting PC
//! taken from the `ucontext` as the first real frame, and the return address on
//! top of the stack when the PC lies in no module (a call through a bad pointer).

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal};

use super::modules::{self, Published};
use super::{Config, CrashError, report, resolver};

/// The signals the handler catches.
pub(crate) const SIGNALS: [Signal; 5] = [
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGILL,
    Signal::SIGFPE,
    Signal::SIGABRT,
];

/// Everything the handler needs, fixed at install time.
pub(crate) struct State {
    pub(crate) fd: c_int,
    pub(crate) program: Box<[u8]>,
    pub(crate) version: Box<[u8]>,
    /// `/proc/self/mem`, opened at install for fault-proof copies (-1 if unavailable).
    pub(crate) mem_fd: c_int,
    /// Previous actions, index-aligned with [`SIGNALS`]; `None` = do not chain.
    pub(crate) previous: [Option<SigAction>; 5],
    /// The out-of-process resolver to start on the finished report.
    pub(crate) resolver: Option<&'static resolver::Prepared>,
}

pub(crate) static STATE: Published<State> = Published::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Kernel thread id of the thread writing the report (0: none).
static OWNER: AtomicI32 = AtomicI32::new(0);

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

// ---------------------------------------------------------------------------
// Handlers present before `main` (to recognise Rust's runtime handler).

/// `usize::MAX` until the constructor ran; else the SIGSEGV and SIGBUS handler
/// addresses as they were before Rust's runtime initialised.
static BEFORE_MAIN: [AtomicUsize; 2] = [AtomicUsize::new(usize::MAX), AtomicUsize::new(usize::MAX)];

extern "C" fn snapshot_before_main() {
    for (slot, sig) in BEFORE_MAIN.iter().zip([libc::SIGSEGV, libc::SIGBUS]) {
        if let Some(cur) = query_action(sig) {
            slot.store(cur.sa_sigaction, Ordering::Relaxed);
        }
    }
}

/// Runs before `main` (and before Rust's runtime installs its own SIGSEGV/SIGBUS
/// handler): the `.init_array` entry of the object that contains `install`.
#[used]
#[unsafe(link_section = ".init_array")]
static SNAPSHOT_BEFORE_MAIN: extern "C" fn() = snapshot_before_main;

fn query_action(sig: c_int) -> Option<libc::sigaction> {
    let mut cur = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a query (null new action) into a valid, zeroed out-pointer.
    let rc = unsafe { libc::sigaction(sig, ptr::null(), cur.as_mut_ptr()) };
    // SAFETY: sigaction filled it on success; zeroed is valid anyway.
    (rc == 0).then(|| unsafe { cur.assume_init() })
}

/// Whether `prev` (the action found at install for `sig`) is the handler that
/// Rust's runtime installs before `main`. That handler turns a guard-page hit
/// into "has overflowed its stack" and `abort()`, which would replace the
/// original signal by SIGABRT after our report, so it is not chained. It is
/// recognised as: SIGSEGV/SIGBUS, default before `main`, now `SA_SIGINFO |
/// SA_ONSTACK`. A host that installs such a handler itself before calling
/// `install` is therefore not chained either: install first.
fn is_rust_runtime_handler(sig: Signal, prev: &SigAction) -> bool {
    let idx = match sig {
        Signal::SIGSEGV => 0,
        Signal::SIGBUS => 1,
        _ => return false,
    };
    std::hint::black_box(&SNAPSHOT_BEFORE_MAIN);
    let before = BEFORE_MAIN[idx].load(Ordering::Relaxed);
    let flags = SaFlags::SA_SIGINFO | SaFlags::SA_ONSTACK;
    before == libc::SIG_DFL
        && matches!(prev.handler(), SigHandler::SigAction(_))
        && prev.flags().contains(flags)
}

// ---------------------------------------------------------------------------
// Install, check, reinstall.

fn our_action() -> SigAction {
    SigAction::new(
        SigHandler::SigAction(on_fatal_signal),
        SaFlags::SA_SIGINFO | SaFlags::SA_ONSTACK,
        SigSet::empty(),
    )
}

/// The previous action to chain to, if it is a function. `at_install`: the
/// Rust runtime's handler can only be the one found by `install` (a handler
/// found by `reinstall` was put there later, by a plugin, and is chained).
fn chainable(sig: Signal, prev: SigAction, at_install: bool) -> Option<SigAction> {
    match prev.handler() {
        SigHandler::SigDfl | SigHandler::SigIgn => None,
        SigHandler::SigAction(f) if std::ptr::eq(f as *const (), on_fatal_signal as *const ()) => {
            None
        }
        _ if at_install && is_rust_runtime_handler(sig, &prev) => None,
        _ => Some(prev),
    }
}

pub(crate) fn install(config: Config) -> Result<(), CrashError> {
    // Prepared (allocated) now, used from the handler; lives for the process.
    let resolver = match &config.resolver {
        Some(r) => Some(&*Box::leak(Box::new(resolver::Prepared::new(r)?))),
        None => None,
    };
    if INSTALLED.swap(true, Ordering::AcqRel) {
        return Err(CrashError::AlreadyInstalled);
    }
    if config.core_file {
        raise_core_limit()?;
    }
    // SAFETY: opening a path with a NUL-terminated literal; the fd is kept for
    // the life of the process.
    let mem_fd =
        unsafe { libc::open(c"/proc/self/mem".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    modules::refresh();
    if modules::PLUGINS.load().is_none() {
        modules::PLUGINS.publish(Vec::new());
    }
    if modules::FLUSH.load().is_none() {
        modules::FLUSH.publish(Vec::new());
    }
    warm_up();
    match super::arm_current_thread() {
        Ok(guard) => guard.keep(),
        Err(CrashError::AlreadyArmed) => {}
        Err(e) => return Err(e),
    }
    let mut previous = [None; 5];
    for (slot, sig) in previous.iter_mut().zip(SIGNALS) {
        // SAFETY: installing a handler that only does async-signal-safe work
        // (see `on_fatal_signal`).
        let prev = unsafe { nix::sys::signal::sigaction(sig, &our_action()) }
            .map_err(|e| CrashError::os("sigaction", e))?;
        *slot = chainable(sig, prev, true);
    }
    STATE.publish(State {
        fd: config.fd,
        program: config.program.into_bytes().into_boxed_slice(),
        version: config.version.into_bytes().into_boxed_slice(),
        mem_fd,
        previous,
        resolver,
    });
    Ok(())
}

fn raise_core_limit() -> Result<(), CrashError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: valid out-pointer / in-pointer for get/setrlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_CORE, &mut lim) != 0 {
            return Err(CrashError::last_os("getrlimit(RLIMIT_CORE)"));
        }
        lim.rlim_cur = lim.rlim_max;
        if libc::setrlimit(libc::RLIMIT_CORE, &lim) != 0 {
            return Err(CrashError::last_os("setrlimit(RLIMIT_CORE)"));
        }
    }
    Ok(())
}

/// Signals whose action is no longer our handler (none before `install`).
pub(crate) fn replaced() -> Vec<Signal> {
    if STATE.load().is_none() {
        return Vec::new();
    }
    let ours = on_fatal_signal as *const () as usize;
    SIGNALS
        .into_iter()
        .filter(|&sig| query_action(sig as c_int).is_none_or(|a| a.sa_sigaction != ours))
        .collect()
}

/// Puts our handler back wherever it was replaced, chaining to the replacement.
pub(crate) fn reinstall() -> Result<Vec<Signal>, CrashError> {
    let state = STATE.load().ok_or(CrashError::NotInstalled)?;
    let gone = replaced();
    if gone.is_empty() {
        return Ok(gone);
    }
    let mut previous = state.previous;
    for (slot, sig) in previous.iter_mut().zip(SIGNALS) {
        if gone.contains(&sig) {
            // SAFETY: as in `install`.
            let prev = unsafe { nix::sys::signal::sigaction(sig, &our_action()) }
                .map_err(|e| CrashError::os("sigaction", e))?;
            *slot = chainable(sig, prev, false);
        }
    }
    STATE.publish(State {
        fd: state.fd,
        program: state.program.clone(),
        version: state.version.clone(),
        mem_fd: state.mem_fd,
        previous,
        resolver: state.resolver,
    });
    Ok(gone)
}

// ---------------------------------------------------------------------------
// Unwinding.

const URC_NO_REASON: c_int = 0;
const URC_END_OF_STACK: c_int = 5;

#[allow(non_camel_case_types)]
type _Unwind_Trace_Fn = extern "C" fn(ctx: *mut c_void, arg: *mut c_void) -> c_int;

unsafe extern "C" {
    fn _Unwind_Backtrace(trace: _Unwind_Trace_Fn, arg: *mut c_void) -> c_int;
    fn _Unwind_GetIPInfo(ctx: *mut c_void, ip_before_insn: *mut c_int) -> usize;
}

/// Most frames printed.
pub(crate) const MAX_FRAMES: usize = 100;

/// Raw unwinder output.
pub(crate) struct Unwound {
    /// Room for three more than the unwinder fills, for the frames the
    /// report composes in place.
    pub(crate) ips: [usize; MAX_FRAMES + 3],
    pub(crate) n: usize,
    /// Index of the first frame the unwinder marked as interrupted by a signal.
    pub(crate) signal_frame: usize,
}

extern "C" fn trace_one(ctx: *mut c_void, arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `&mut Unwound` passed to `_Unwind_Backtrace` below.
    let out = unsafe { &mut *arg.cast::<Unwound>() };
    let mut before: c_int = 0;
    // SAFETY: `ctx` is the live unwind context libgcc passes to this callback.
    let ip = unsafe { _Unwind_GetIPInfo(ctx, &mut before) };
    if ip == 0 || out.n >= MAX_FRAMES {
        return URC_END_OF_STACK;
    }
    if before != 0 && out.signal_frame == usize::MAX {
        out.signal_frame = out.n;
    }
    out.ips[out.n] = ip;
    out.n += 1;
    URC_NO_REASON
}

/// Walks the current stack (async-signal-safe once [`warm_up`] ran).
#[inline(never)]
pub(crate) fn unwind(out: &mut Unwound) {
    out.n = 0;
    out.signal_frame = usize::MAX;
    // SAFETY: `trace_one` matches libgcc's callback ABI and only writes into
    // `out`, which outlives the call.
    unsafe { _Unwind_Backtrace(trace_one, (out as *mut Unwound).cast()) };
}

/// One unwind outside the handler, so libgcc's lazy initialisation happens now.
fn warm_up() {
    let mut u = Unwound {
        ips: [0; MAX_FRAMES + 3],
        n: 0,
        signal_frame: usize::MAX,
    };
    unwind(&mut u);
    std::hint::black_box(&u);
}

// ---------------------------------------------------------------------------
// Fault-proof copies (rule 6).

/// Copies up to `dst.len()` bytes from address `src` without ever faulting:
/// `pread` on `/proc/self/mem`, else `process_vm_readv` on ourselves. Returns
/// the number of bytes copied (0 when `src` is not readable).
pub(crate) fn safe_copy(mem_fd: c_int, src: usize, dst: &mut [u8]) -> usize {
    if dst.is_empty() || src == 0 {
        return 0;
    }
    let Ok(off) = libc::off_t::try_from(src) else {
        return 0;
    };
    if mem_fd >= 0 {
        // SAFETY: `dst` is a valid writable buffer of the given length; the
        // kernel reports EIO/EFAULT for unreadable source addresses.
        let r = unsafe { libc::pread(mem_fd, dst.as_mut_ptr().cast(), dst.len(), off) };
        if r > 0 {
            return r as usize;
        }
    }
    let local = libc::iovec {
        iov_base: dst.as_mut_ptr().cast(),
        iov_len: dst.len(),
    };
    let remote = libc::iovec {
        iov_base: src as *mut c_void,
        iov_len: dst.len(),
    };
    // SAFETY: `local` describes our writable buffer; the kernel validates
    // `remote` and fails with EFAULT instead of faulting.
    let r = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    if r > 0 { r as usize } else { 0 }
}

// ---------------------------------------------------------------------------
// The handler.

/// The handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT. Everything it
/// calls is async-signal-safe: atomics, system calls, libgcc's unwinder (see the
/// module documentation) and formatting into stack buffers.
extern "C" fn on_fatal_signal(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    let tid = gettid();
    if let Err(owner) = OWNER.compare_exchange(0, tid, Ordering::AcqRel, Ordering::Acquire) {
        if owner != tid {
            // Another thread is writing the report and will kill the process.
            wait_for_owner();
        }
        // Same thread again (a fault inside the handler or the chained one):
        // straight to the default action.
        die(sig);
    }
    if let Some(state) = STATE.load() {
        let handler_addr = on_fatal_signal as *const () as usize;
        let (rd, wr) = report::write_signal_report(state, sig, info, uctx, handler_addr);
        if let Some(r) = state.resolver {
            resolver::run(r, state.fd, state.mem_fd, rd, wr);
        }
        chain(state, sig, info, uctx);
    }
    if is_hardware_fault(sig, info) {
        // Rule 7: a hardware fault simply returns and faults again, now with the
        // default action, so a core file records the real fault (not a re-raise).
        restore_default(sig);
        return;
    }
    die(sig);
}

/// SIGSEGV, SIGBUS, SIGILL or SIGFPE raised by the CPU (not sent by a process):
/// re-executing the instruction raises it again.
fn is_hardware_fault(sig: c_int, info: *mut libc::siginfo_t) -> bool {
    let hardware = matches!(
        sig,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE
    );
    // SAFETY: the kernel passes a valid siginfo_t to SA_SIGINFO handlers.
    hardware && !info.is_null() && unsafe { (*info).si_code } > 0
}

/// Default action for `sig`, and `sig` unblocked on this thread.
fn restore_default(sig: c_int) {
    if let Ok(signal) = Signal::try_from(sig) {
        let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // SAFETY: restoring the default action is always sound.
        let _ = unsafe { nix::sys::signal::sigaction(signal, &dfl) };
        let mut set = SigSet::empty();
        set.add(signal);
        let _ = set.thread_unblock();
    }
}

fn wait_for_owner() {
    let pause = libc::timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    };
    // At most 60 s: if the owner hangs, this thread's own death still ends the process.
    for _ in 0..1200 {
        // SAFETY: valid timespec, null remainder.
        unsafe { libc::nanosleep(&pause, ptr::null_mut()) };
    }
}

/// Calls the handler that was installed before ours, the way it asked to be
/// called. SIG_DFL and SIG_IGN are never called (they are not functions).
fn chain(state: &State, sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    let Some(idx) = SIGNALS.iter().position(|&s| s as c_int == sig) else {
        return;
    };
    let Some(prev) = state.previous[idx] else {
        return;
    };
    match prev.handler() {
        SigHandler::Handler(f) => f(sig),
        SigHandler::SigAction(f) => f(sig, info, uctx),
        SigHandler::SigDfl | SigHandler::SigIgn => {}
    }
}

/// Dies by `sig`: default action, unblock, re-raise on this thread; `_exit(128+N)`
/// if we are somehow still alive.
fn die(sig: c_int) -> ! {
    restore_default(sig);
    // SAFETY: plain system calls on our own process and thread; `_exit` does not return.
    unsafe {
        libc::syscall(libc::SYS_tgkill, libc::getpid(), gettid(), sig);
        libc::_exit(128 + sig)
    }
}

/// Faulting PC and stack pointer from the `ucontext`.
pub(crate) fn pc_sp(uctx: *mut c_void) -> (usize, usize) {
    if uctx.is_null() {
        return (0, 0);
    }
    // SAFETY: the kernel passes a valid ucontext_t to SA_SIGINFO handlers.
    let uc = unsafe { &*uctx.cast::<libc::ucontext_t>() };
    #[cfg(target_arch = "x86_64")]
    {
        (
            uc.uc_mcontext.gregs[libc::REG_RIP as usize] as usize,
            uc.uc_mcontext.gregs[libc::REG_RSP as usize] as usize,
        )
    }
    #[cfg(target_arch = "aarch64")]
    {
        (uc.uc_mcontext.pc as usize, uc.uc_mcontext.sp as usize)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = uc;
        (0, 0)
    }
}

/// The signal trampoline's address when the unwinder could not find it: on
/// x86-64 the kernel stores it as the handler's return address, in the word just
/// below the `ucontext` of the signal frame.
pub(crate) fn trampoline_from_frame(mem_fd: c_int, uctx: *mut c_void) -> usize {
    if cfg!(target_arch = "x86_64") && !uctx.is_null() {
        let mut word = [0u8; 8];
        if safe_copy(mem_fd, uctx as usize - 8, &mut word) == 8 {
            return usize::from_ne_bytes(word);
        }
    }
    0
}

/// Reads one word at `addr` without faulting.
pub(crate) fn read_word(mem_fd: c_int, addr: usize) -> Option<usize> {
    let mut word = [0u8; std::mem::size_of::<usize>()];
    (safe_copy(mem_fd, addr, &mut word) == word.len()).then(|| usize::from_ne_bytes(word))
}
