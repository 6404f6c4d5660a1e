//! Per-thread alternate signal stacks and the per-thread context slot.
//!
//! One `mmap` per armed thread holds, from low to high addresses: a
//! `PROT_NONE` guard page, the alternate stack itself, and one page holding the
//! thread's [`ThreadContext`]. The handler finds the context without touching
//! thread-local storage at all: `sigaltstack(NULL, &cur)` is a system call, and
//! the context sits right after `cur.ss_sp + cur.ss_size`, recognised by a magic
//! word read through the fault-proof copy (so a foreign alternate stack, such as
//! the one Rust's runtime installs, is never mistaken for ours).

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

use super::CrashError;

/// Size of the alternate stack (rule 1: at least 64 KiB).
pub const ALT_STACK_SIZE: usize = 64 * 1024;

pub(crate) const MAGIC: u64 = 0x4d49_4e4e_4f57_4352; // "MINNOWCR"

/// Kill status of the thread's statement, printed as the `Status:` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum KillStatus {
    /// Nobody asked to kill the statement.
    NotKilled = 0,
    /// `KILL QUERY` was issued.
    KillQuery = 1,
    /// `KILL CONNECTION` was issued.
    KillConnection = 2,
}

impl KillStatus {
    pub(crate) fn text(raw: u8) -> &'static str {
        match raw {
            1 => "KILL_QUERY",
            2 => "KILL_CONNECTION",
            _ => "NOT_KILLED",
        }
    }
}

/// What the host tells the crash handler about the statement a thread runs.
///
/// It lives in the armed thread's alternate-stack mapping, so it exists before
/// any crash and the handler reads it without thread-local storage. All fields
/// are atomics: setting them is cheap and never races with the handler.
#[repr(C)]
pub struct ThreadContext {
    magic: u64,
    connection_id: AtomicU64,
    query_ptr: AtomicUsize,
    query_len: AtomicUsize,
    kill: AtomicU8,
    thread_pointer: AtomicUsize,
    stack_top: AtomicUsize,
    stack_size: AtomicUsize,
}

impl ThreadContext {
    /// Sets the connection id printed as `Connection ID (thread ID): N`.
    pub fn set_connection_id(&self, id: u64) {
        self.connection_id.store(id, Ordering::Relaxed);
    }

    /// Remembers the statement text. Only the pointer and length are stored; the
    /// handler copies the bytes with a call that cannot fault, so a dangling
    /// pointer prints as invalid instead of killing the report. Call
    /// [`ThreadContext::clear_query`] when the statement ends.
    pub fn set_query(&self, query: &[u8]) {
        self.set_query_raw(query.as_ptr() as usize, query.len());
    }

    /// Like [`ThreadContext::set_query`] for a pointer owned by foreign code (a C plugin).
    pub fn set_query_raw(&self, ptr: usize, len: usize) {
        self.query_len.store(0, Ordering::Relaxed);
        self.query_ptr.store(ptr, Ordering::Relaxed);
        self.query_len.store(len, Ordering::Release);
    }

    /// Forgets the statement text.
    pub fn clear_query(&self) {
        self.set_query_raw(0, 0);
    }

    /// Sets the kill status.
    pub fn set_kill_status(&self, status: KillStatus) {
        self.kill.store(status as u8, Ordering::Relaxed);
    }

    /// Sets the value printed as `Thread pointer: 0x…` (the session object).
    pub fn set_thread_pointer(&self, ptr: usize) {
        self.thread_pointer.store(ptr, Ordering::Relaxed);
    }

    pub(crate) fn connection_id(&self) -> u64 {
        self.connection_id.load(Ordering::Relaxed)
    }
    pub(crate) fn query(&self) -> (usize, usize) {
        let len = self.query_len.load(Ordering::Acquire);
        (self.query_ptr.load(Ordering::Relaxed), len)
    }
    pub(crate) fn kill_raw(&self) -> u8 {
        self.kill.load(Ordering::Relaxed)
    }
    pub(crate) fn thread_pointer(&self) -> usize {
        self.thread_pointer.load(Ordering::Relaxed)
    }
    pub(crate) fn stack(&self) -> (usize, usize) {
        (
            self.stack_top.load(Ordering::Relaxed),
            self.stack_size.load(Ordering::Relaxed),
        )
    }
    pub(crate) fn magic_ok(&self) -> bool {
        self.magic == MAGIC
    }
}

thread_local! {
    // Const-initialised and without a destructor: access never allocates and
    // registers nothing. Only host-side setters use it, never the handler.
    static CURRENT: Cell<*const ThreadContext> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with the current thread's context; `None` when the thread is not armed.
pub fn with_current<R>(f: impl FnOnce(&ThreadContext) -> R) -> Option<R> {
    let p = CURRENT.with(Cell::get);
    // SAFETY: CURRENT is set by `AltStack::arm` to the context inside the
    // mapping owned by this thread's `ArmGuard` (at most one per thread: `arm`
    // refuses a second), and reset to null before that mapping is unmapped in
    // `ArmGuard::drop`, on this same thread.
    unsafe { p.as_ref() }.map(f)
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}

fn stack_size() -> usize {
    // SAFETY: getauxval has no preconditions; 0 means "not provided".
    let min = unsafe { libc::getauxval(libc::AT_MINSIGSTKSZ) } as usize;
    ALT_STACK_SIZE
        .max(min.saturating_mul(4))
        .next_multiple_of(page_size())
}

/// A mapped but not yet installed alternate stack (so a spawning thread can
/// allocate it and report failure before the new thread starts).
#[derive(Debug)]
pub struct AltStack {
    base: *mut u8,
    len: usize,
    stack: *mut u8,
    stack_len: usize,
}

// SAFETY: the mapping is owned exclusively by this value; nothing else refers to
// it until `arm` installs it on the thread that calls `arm`.
unsafe impl Send for AltStack {}

impl AltStack {
    /// Maps a guard page, a stack of at least [`ALT_STACK_SIZE`] and the context page.
    pub fn allocate() -> Result<AltStack, CrashError> {
        let page = page_size();
        let stack_len = stack_size();
        let len = page + stack_len + page;
        // SAFETY: anonymous private mapping, no address hint; the result is checked.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(CrashError::last_os("mmap of the alternate signal stack"));
        }
        let base = base.cast::<u8>();
        // SAFETY: the first page belongs to the mapping just created.
        if unsafe { libc::mprotect(base.cast(), page, libc::PROT_NONE) } != 0 {
            let err = CrashError::last_os("mprotect of the alternate stack's guard page");
            // SAFETY: unmapping the mapping created above, not used elsewhere.
            unsafe { libc::munmap(base.cast(), len) };
            return Err(err);
        }
        // SAFETY: page < len, so the result is inside the mapping.
        let stack = unsafe { base.add(page) };
        let alt = AltStack {
            base,
            len,
            stack,
            stack_len,
        };
        // SAFETY: the context page is inside the mapping, page aligned (so aligned
        // for ThreadContext), writable and zeroed; all-zero is a valid ThreadContext
        // except for the magic, written here before anyone can read it.
        unsafe { ptr::addr_of_mut!((*alt.context_ptr()).magic).write(MAGIC) };
        Ok(alt)
    }

    fn context_ptr(&self) -> *mut ThreadContext {
        // SAFETY: stack + stack_len is the start of the last page of the mapping.
        unsafe { self.stack.add(self.stack_len) }.cast()
    }

    /// Installs the stack on the calling thread, records the thread's stack
    /// bounds and makes its [`ThreadContext`] current.
    pub fn arm(self) -> Result<ArmGuard, CrashError> {
        if CURRENT.with(|c| !c.get().is_null()) {
            return Err(CrashError::AlreadyArmed);
        }
        let new = libc::stack_t {
            ss_sp: self.stack.cast(),
            ss_flags: 0,
            ss_size: self.stack_len,
        };
        let mut previous = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: 0,
            ss_size: 0,
        };
        // SAFETY: `new` describes memory owned by `self` that stays mapped until
        // the guard restores `previous`; `previous` is a valid out-pointer.
        if unsafe { libc::sigaltstack(&new, &mut previous) } != 0 {
            return Err(CrashError::last_os("sigaltstack"));
        }
        // SAFETY: the context page is ours, initialised in `allocate`.
        let ctx = unsafe { &*self.context_ptr() };
        if let Some((top, size)) = current_stack_bounds() {
            ctx.stack_top.store(top, Ordering::Relaxed);
            ctx.stack_size.store(size, Ordering::Relaxed);
        }
        CURRENT.with(|c| c.set(ctx));
        Ok(ArmGuard {
            stack: self,
            previous,
            _not_send: PhantomData,
        })
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: the mapping was created in `allocate` and is no longer installed
        // (an armed stack is owned by an `ArmGuard`, which uninstalls it first).
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// (highest address, size) of the calling thread's stack.
fn current_stack_bounds() -> Option<(usize, usize)> {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: pthread_getattr_np initialises `attr` on success; we destroy it after use.
    unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return None;
        }
        let mut addr: *mut libc::c_void = ptr::null_mut();
        let mut size = 0usize;
        let rc = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        (rc == 0).then(|| (addr as usize + size, size))
    }
}

/// Keeps the calling thread armed; dropping it restores the previous alternate
/// stack (if ours is still installed) and frees the memory.
#[derive(Debug)]
pub struct ArmGuard {
    stack: AltStack,
    previous: libc::stack_t,
    // The guard must be dropped on the thread it armed.
    _not_send: PhantomData<*const ()>,
}

impl ArmGuard {
    /// This thread's context slot.
    pub fn context(&self) -> &ThreadContext {
        // SAFETY: the context page lives as long as `self.stack`.
        unsafe { &*self.stack.context_ptr() }
    }

    /// Keeps the thread armed until it exits, leaking the mapping (for threads
    /// that never return control to the code that armed them).
    pub fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for ArmGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(ptr::null()));
        let mut cur = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: 0,
            ss_size: 0,
        };
        // SAFETY: querying the current alternate stack into a valid out-pointer.
        let ok = unsafe { libc::sigaltstack(ptr::null(), &mut cur) } == 0;
        if ok && cur.ss_sp == self.stack.stack.cast() {
            let restore = if self.previous.ss_sp.is_null() {
                libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                }
            } else {
                self.previous
            };
            // SAFETY: restoring what was installed before us (memory owned by
            // whoever installed it), or disabling the alternate stack.
            if unsafe { libc::sigaltstack(&restore, ptr::null_mut()) } != 0 {
                // Still installed (only possible while running on it): keep the
                // memory mapped rather than leave a dangling alternate stack.
                // `munmap` of length 0 fails and unmaps nothing.
                self.stack.len = 0;
            }
        }
    }
}

/// The context of the thread the handler runs on, found through its installed
/// alternate stack (no thread-local access). Async-signal-safe.
pub(crate) fn context_from_altstack(mem_fd: i32) -> Option<&'static ThreadContext> {
    let mut cur = libc::stack_t {
        ss_sp: ptr::null_mut(),
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: querying the current alternate stack into a valid out-pointer.
    if unsafe { libc::sigaltstack(ptr::null(), &mut cur) } != 0 || cur.ss_sp.is_null() {
        return None;
    }
    let at = (cur.ss_sp as usize).checked_add(cur.ss_size)?;
    if at % std::mem::align_of::<ThreadContext>() != 0 {
        return None;
    }
    let mut magic = [0u8; 8];
    if super::handler::safe_copy(mem_fd, at, &mut magic) != 8 || u64::from_ne_bytes(magic) != MAGIC
    {
        return None;
    }
    // SAFETY: the magic word proves `at` is the context page of one of our
    // mappings (readable, aligned, initialised); it is installed on this thread,
    // so its guard cannot unmap it while the handler runs here.
    let ctx = unsafe { &*(at as *const ThreadContext) };
    ctx.magic_ok().then_some(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current_altstack() -> libc::stack_t {
        let mut cur = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: 0,
            ss_size: 0,
        };
        // SAFETY: query into a valid out-pointer.
        assert_eq!(unsafe { libc::sigaltstack(ptr::null(), &mut cur) }, 0);
        cur
    }

    #[test]
    fn arming_installs_a_large_stack_with_a_findable_context() {
        std::thread::spawn(|| {
            let before = current_altstack();
            assert!(with_current(|_| ()).is_none());
            let guard = AltStack::allocate().expect("allocate").arm().expect("arm");
            let cur = current_altstack();
            assert!(cur.ss_size >= ALT_STACK_SIZE);
            assert_eq!(cur.ss_flags & libc::SS_DISABLE, 0);
            guard.context().set_connection_id(9);
            assert_eq!(with_current(|c| c.connection_id()), Some(9));
            // What the handler does: no thread-local, only sigaltstack + magic.
            let found = context_from_altstack(-1).expect("context found through the altstack");
            assert_eq!(found.connection_id(), 9);
            let (top, size) = found.stack();
            assert!(size > 0 && top > size);
            assert!(matches!(
                AltStack::allocate().expect("allocate").arm(),
                Err(CrashError::AlreadyArmed)
            ));
            drop(guard);
            let after = current_altstack();
            assert_eq!((after.ss_sp, after.ss_size), (before.ss_sp, before.ss_size));
            assert!(with_current(|_| ()).is_none());
            assert!(context_from_altstack(-1).is_none());
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn query_pointer_and_kill_status_round_trip() {
        let guard = AltStack::allocate().expect("allocate").arm().expect("arm");
        let q = b"SELECT 1";
        guard.context().set_query(q);
        guard.context().set_kill_status(KillStatus::KillConnection);
        assert_eq!(guard.context().query(), (q.as_ptr() as usize, q.len()));
        assert_eq!(
            KillStatus::text(guard.context().kill_raw()),
            "KILL_CONNECTION"
        );
        guard.context().clear_query();
        assert_eq!(guard.context().query(), (0, 0));
    }
}
