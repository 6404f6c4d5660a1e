//! Crashes on demand with the crash handler installed; driven by `tests/crash.rs`.
//!
//! `crashme MODE [LIBRARY]`, the report goes to stderr. Modes: `main`,
//! `bad-query`, `c-so LIB`, `rust-so LIB`, `overflow-main`, `overflow-thread`,
//! `abort`, `two-threads`, `panic`, `chain-siginfo`, `chain-plain`, `replace`,
//! `resolve`, `resolve-timeout`, `resolve-installed LIB` (the C plugin's crash
//! with the real `resolve-stack` from [`crash::Resolver::beside_current_exe`],
//! which must be installed beside this executable).
//! With `CRASHME_TRACE=PATH` a trace file is opened and registered for flushing.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Barrier};

use stackresolve::crash::{self, Config, KillStatus};

static QUERY: &[u8] = b"SELECT crash(1)\x07 FROM t";

/// Set right before crashing when `CRASHME_FORBID_ALLOC` is set: from then on,
/// every allocation (which can only come from the signal handler) is reported.
static FORBID_ALLOC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct WatchingAllocator;

// SAFETY: forwards to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for WatchingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if FORBID_ALLOC.load(std::sync::atomic::Ordering::Relaxed) {
            let msg = b"ALLOCATION AFTER THE CRASH\n";
            // SAFETY: writing a static buffer to stderr.
            unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
        }
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: WatchingAllocator = WatchingAllocator;

fn forbid_alloc_if_asked() {
    if std::env::var_os("CRASHME_FORBID_ALLOC").is_some() {
        FORBID_ALLOC.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Writes to `addr`: a segfault in the main binary.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn crashme_segv_main(addr: usize) {
    let p = addr as *mut u32;
    // SAFETY: deliberately invalid: this is the crash under test.
    unsafe { *p = 0xdead };
}

/// Same, on another thread.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn crashme_segv_thread(addr: usize) {
    let p = addr as *mut u32;
    // SAFETY: deliberately invalid: this is the crash under test.
    unsafe { *p = 0xbeef };
}

/// Endless recursion with a 16 KiB frame. The only memory accesses are the
/// prologue's stack probes, one inline-asm store and the call itself, so the
/// faulting instruction is always in this function (no helper call in between).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn crashme_recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    let mut buf = std::mem::MaybeUninit::<[u64; 2048]>::uninit();
    let p = (&raw mut buf).cast::<u64>();
    #[cfg(target_arch = "x86_64")]
    // SAFETY: stores into our own stack buffer.
    unsafe {
        std::arch::asm!("mov qword ptr [{p}], {v}", p = in(reg) p, v = in(reg) depth);
    }
    #[cfg(not(target_arch = "x86_64"))]
    std::hint::black_box(p);
    crashme_recurse(depth + 1) + 1
}

/// Executes `ud2`: SIGILL.
#[cfg(target_arch = "x86_64")]
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn crashme_sigill() {
    // SAFETY: raises SIGILL on purpose; touches no memory.
    unsafe { std::arch::asm!("ud2") };
}

/// Divides by `d` with the `div` instruction (Rust's `/` checks for zero): SIGFPE.
#[cfg(target_arch = "x86_64")]
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn crashme_sigfpe(d: u32) -> u32 {
    let q: u32;
    // SAFETY: a plain division; with d == 0 the CPU raises #DE on purpose.
    unsafe {
        std::arch::asm!("div {d:e}", d = in(reg) d, inout("eax") 1u32 => q, inout("edx") 0u32 => _);
    }
    q
}

/// Reads one byte at `addr`.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn crashme_read(addr: usize) -> u8 {
    let p = addr as *const u8;
    // SAFETY: deliberately beyond the end of a mapped file: SIGBUS on purpose.
    unsafe { *p }
}

/// Called by the Rust plugin: a panic with a plugin frame below it.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C-unwind" fn crashme_host_callback() {
    std::hint::black_box(0);
    panic!("host callback panics under a plugin frame");
}

/// Maps one page of an empty file and returns its address: reading it is SIGBUS.
fn empty_file_mapping() -> Result<usize, Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("crashme-bus-{}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    // SAFETY: maps a file we own; the mapping outlives the process' useful life.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    let _ = std::fs::remove_file(&path);
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(p as usize)
}

/// Calls `abort()`.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn crashme_abort() {
    // SAFETY: abort has no preconditions.
    unsafe { libc::abort() };
}

/// Panics.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn crashme_panic() {
    std::hint::black_box(0);
    panic!("crashme panics on purpose");
}

extern "C" fn previous_siginfo(sig: c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    previous_says(b"previous SA_SIGINFO handler called for signal ", sig);
}

extern "C" fn previous_plain(sig: c_int) {
    previous_says(b"previous plain handler called for signal ", sig);
}

fn previous_says(text: &[u8], sig: c_int) {
    let mut line = [0u8; 80];
    let n = text.len().min(70);
    line[..n].copy_from_slice(&text[..n]);
    line[n] = b'0' + (sig / 10) as u8;
    line[n + 1] = b'0' + (sig % 10) as u8;
    line[n + 2] = b'\n';
    // SAFETY: writing our own stack buffer to stderr.
    unsafe { libc::write(2, line.as_ptr().cast(), n + 3) };
}

fn set_previous(handler: nix::sys::signal::SigHandler, flags: nix::sys::signal::SaFlags) {
    use nix::sys::signal::{SigAction, SigSet, Signal, sigaction};
    let act = SigAction::new(handler, flags, SigSet::empty());
    // SAFETY: the handlers above only call write(2).
    unsafe { sigaction(Signal::SIGSEGV, &act) }.expect("sigaction");
}

/// A real out-of-process resolver for the `resolve*` modes: a shell pipeline
/// that runs binutils `addr2line` on the first three frames of crashme.
fn resolver_for(mode: &str) -> Option<crash::Resolver> {
    let script = match mode {
        "resolve" => {
            "sed -n 's/^\\(.*crashme\\)(+\\(0x[0-9a-f]*\\))\\[.*$/\\1 \\2/p' | head -n 3 | \
             while read -r m o; do addr2line -f -C -e \"$m\" \"$o\" | head -n 1; done"
        }
        "resolve-timeout" => "sleep 30",
        "resolve-installed" => return crash::Resolver::beside_current_exe(),
        _ => return None,
    };
    Some(crash::Resolver {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        timeout: std::time::Duration::from_millis(if mode == "resolve" { 20_000 } else { 300 }),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("");
    if mode != "core" {
        // Test crashes must not litter the working directory with core files.
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: libc::RLIM_INFINITY,
        };
        let mut lim = none;
        // SAFETY: valid in/out pointers.
        unsafe {
            libc::getrlimit(libc::RLIMIT_CORE, &mut lim);
            lim.rlim_cur = 0;
            libc::setrlimit(libc::RLIMIT_CORE, &lim);
        }
    }
    let lib = args.get(2).cloned().unwrap_or_default();
    if let Err(e) = run(mode, &lib) {
        eprintln!("crashme: {e}");
        std::process::exit(2);
    }
    eprintln!("crashme: mode {mode:?} did not crash");
    std::process::exit(3);
}

fn run(mode: &str, lib: &str) -> Result<(), Box<dyn std::error::Error>> {
    use nix::sys::signal::{SaFlags, SigHandler};
    match mode {
        "chain-siginfo" => {
            set_previous(SigHandler::SigAction(previous_siginfo), SaFlags::SA_SIGINFO)
        }
        "chain-plain" => set_previous(SigHandler::Handler(previous_plain), SaFlags::empty()),
        _ => {}
    }
    let resolver = resolver_for(mode);
    if mode == "resolve-installed" && resolver.is_none() {
        return Err("no resolve-stack installed beside crashme".into());
    }
    crash::install(Config {
        fd: 2,
        program: "crashme".into(),
        version: "9.9.9-test".into(),
        core_file: mode == "core",
        resolver,
    })?;
    crash::install_panic_hook();
    crash::with_current(|c| {
        c.set_connection_id(42);
        c.set_query(QUERY);
        c.set_kill_status(KillStatus::KillQuery);
        c.set_thread_pointer(0x1234_abcd);
    })
    .ok_or("main thread not armed")?;
    let _trace = match std::env::var_os("CRASHME_TRACE") {
        Some(path) => {
            let mut f = std::fs::File::create(&path)?;
            writeln!(f, "T@1: >main")?;
            crash::add_flush_fd(f.as_raw_fd(), &path.to_string_lossy());
            Some(f)
        }
        None => None,
    };
    let bad = 0x10usize;
    match mode {
        "main" | "chain-siginfo" | "chain-plain" | "resolve" | "resolve-timeout" => {
            forbid_alloc_if_asked();
            crashme_segv_main(bad);
        }
        "bad-query" => {
            crash::with_current(|c| c.set_query_raw(0x10, 20));
            crashme_segv_main(bad);
        }
        "c-so" | "rust-so" | "resolve-installed" => {
            // SAFETY: loading our own test fixture, whose initialisers are trivial.
            let library = unsafe { libloading::Library::new(lib)? };
            crash::refresh_module_map();
            crash::check_handlers()?;
            let c = mode != "rust-so";
            let symbol = if c {
                &b"crash_in_c"[..]
            } else {
                &b"crash_in_rust"[..]
            };
            // SAFETY: both fixtures export `void f(int *)` / `fn(*mut u32)` under these names.
            let f: libloading::Symbol<'_, unsafe extern "C" fn(*mut u32)> =
                unsafe { library.get(symbol)? };
            let name = if c { "cplug" } else { "rustplug" };
            let file = std::path::Path::new(lib)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned());
            crash::register_plugin_at(name, &file.unwrap_or_default(), *f as usize)?;
            forbid_alloc_if_asked();
            // SAFETY: deliberately invalid pointer: this is the crash under test.
            unsafe { f(std::ptr::null_mut()) };
        }
        "overflow-main" => {
            forbid_alloc_if_asked();
            std::hint::black_box(crashme_recurse(0));
        }
        "overflow-thread" => {
            let t = crash::spawn_armed(std::thread::Builder::new().name("deep".into()), || {
                crash::set_connection_id(77);
                std::hint::black_box(crashme_recurse(0))
            })?;
            let _ = t.join();
        }
        "abort" => {
            forbid_alloc_if_asked();
            crashme_abort();
        }
        "overflow-pthread" => {
            // A thread started the way a C plugin starts one (raw pthread_create,
            // no Rust runtime altstack), armed from inside until it exits.
            extern "C" fn start(_: *mut libc::c_void) -> *mut libc::c_void {
                if crash::arm_current_thread_until_exit().is_err()
                    || crash::arm_current_thread_until_exit().is_err()
                {
                    return std::ptr::null_mut();
                }
                crash::set_connection_id(88);
                std::hint::black_box(crashme_recurse(0));
                std::ptr::null_mut()
            }
            let mut tid: libc::pthread_t = 0;
            // SAFETY: valid out-pointer, a C start routine, default attributes.
            let rc = unsafe {
                libc::pthread_create(&mut tid, std::ptr::null(), start, std::ptr::null_mut())
            };
            if rc != 0 {
                return Err(std::io::Error::from_raw_os_error(rc).into());
            }
            // SAFETY: joining the thread created above.
            unsafe { libc::pthread_join(tid, std::ptr::null_mut()) };
        }
        #[cfg(target_arch = "x86_64")]
        "sigill" => crashme_sigill(),
        #[cfg(target_arch = "x86_64")]
        "sigfpe" => {
            std::hint::black_box(crashme_sigfpe(std::hint::black_box(0)));
        }
        "sigbus" => {
            let addr = empty_file_mapping()?;
            println!("{addr:#x}");
            std::hint::black_box(crashme_read(addr));
        }
        "unarmed-thread" => {
            // A thread nobody armed (as a plugin might start): the handler runs
            // on whatever alternate stack the thread has (Rust's small one here).
            let t = std::thread::spawn(|| crashme_segv_thread(0x30));
            let _ = t.join();
        }
        "two-threads" => {
            let barrier = Arc::new(Barrier::new(2));
            let mut threads = Vec::new();
            for id in [101u64, 102] {
                let b = Arc::clone(&barrier);
                threads.push(crash::spawn_armed(
                    std::thread::Builder::new(),
                    move || {
                        crash::set_connection_id(id);
                        b.wait();
                        crashme_segv_thread(0x20);
                    },
                )?);
            }
            for t in threads {
                let _ = t.join();
            }
        }
        "panic" => {
            forbid_alloc_if_asked();
            crashme_panic();
        }
        "panic-in-plugin" => {
            // SAFETY: loading our own test fixture, whose initialisers are trivial.
            let library = unsafe { libloading::Library::new(lib)? };
            crash::refresh_module_map();
            type CallBack = unsafe extern "C-unwind" fn(extern "C-unwind" fn());
            // SAFETY: the fixture exports `call_host_back` with this signature.
            let f: libloading::Symbol<'_, CallBack> = unsafe { library.get(b"call_host_back")? };
            crash::register_plugin_at("rustplug", "libcrashlib_rs.so", *f as usize)?;
            let caught = std::panic::catch_unwind(|| {
                // SAFETY: a valid callback; its panic unwinds through the
                // plugin's C-unwind frame back to here.
                unsafe { f(crashme_host_callback) }
            });
            println!("caught: {}", caught.is_err());
            std::process::exit(0);
        }
        "reinstall-chain" => {
            // A plugin installs its own handler (flags like Rust's runtime
            // handler); the host puts ours back and chains to the plugin's.
            set_previous(
                SigHandler::SigAction(previous_siginfo),
                SaFlags::SA_SIGINFO | SaFlags::SA_ONSTACK,
            );
            crash::reinstall_handlers()?;
            crash::check_handlers()?;
            crashme_segv_main(bad);
        }
        "replace" => {
            set_previous(SigHandler::Handler(previous_plain), SaFlags::empty());
            match crash::check_handlers_and_log() {
                Ok(()) => println!("check: ok"),
                Err(e) => println!("check: {e}"),
            }
            let again = crash::reinstall_handlers()?;
            println!("reinstalled: {again:?}");
            match crash::check_handlers() {
                Ok(()) => println!("check: ok"),
                Err(e) => println!("check: {e}"),
            }
            std::process::exit(0);
        }
        "core" => {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: valid out-pointer.
            unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) };
            println!("core limit: {} {}", lim.rlim_cur, lim.rlim_max);
            std::process::exit(0);
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    }
    Ok(())
}
