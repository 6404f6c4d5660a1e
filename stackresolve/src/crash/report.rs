//! Writing the report: one stack-buffered line, one `write(2)` per line, in the
//! layout of `shared/crash/REPORT.md`. Used from the signal handler, so nothing
//! here allocates or locks; strings that live in memory a crash may have
//! corrupted go through the fault-proof copy.

use std::ffi::{c_int, c_void};

use super::altstack::{KillStatus, ThreadContext, context_from_altstack};
use super::fmt::{LineBuf, si_code_text, signal_name};
use super::handler::{self, State, Unwound};
use super::modules::{self, Module, ModuleMap};
use super::resolver;

/// Most bytes of the query printed (REPORT.md: at most 1024).
const QUERY_MAX: usize = 1024;

/// Writes the line (plus newline) with one `write(2)`, retrying on EINTR and
/// short writes.
pub(crate) fn emit(fd: c_int, l: &mut LineBuf) {
    let line = l.finish();
    let mut done = 0;
    while done < line.len() {
        let rest = &line[done..];
        // SAFETY: `rest` is a valid readable buffer of the given length.
        let r = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if r > 0 {
            done += r as usize;
        } else if r < 0 && nix::errno::Errno::last() == nix::errno::Errno::EINTR {
            continue;
        } else {
            break;
        }
    }
    l.clear();
}

/// Writes the line into the resolver's pipe (when there is one; never blocks)
/// and then to the error log.
fn emit_tee(fd: c_int, tee: c_int, l: &mut LineBuf) {
    if tee >= 0 {
        let line = l.finish();
        // SAFETY: valid buffer; the pipe is non-blocking, a short or failed
        // write only truncates the resolver's copy.
        unsafe { libc::write(tee, line.as_ptr().cast(), line.len()) };
    }
    emit(fd, l);
}

/// Appends at most `max` bytes of `s` through the fault-proof copy, so a
/// corrupted (pointer, length) pair prints garbage or nothing instead of faulting.
pub(crate) fn push_foreign(l: &mut LineBuf, mem_fd: c_int, s: &[u8], max: usize) {
    let want = s.len().min(max);
    let spare = l.spare();
    let n = want.min(spare.len());
    let got = handler::safe_copy(mem_fd, s.as_ptr() as usize, &mut spare[..n]);
    let start = l.len();
    l.commit(got);
    l.sanitize_from(start);
}

fn now_seconds() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer; clock_gettime is async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec
}

/// Writes `<time> UTC - <program>: [Warning] <text>` to the error log (not
/// used from the handler).
pub(crate) fn log_warning(text: &str) {
    let Some(state) = handler::STATE.load() else {
        return;
    };
    let mut l = LineBuf::new();
    l.utc_time(now_seconds())
        .str(" UTC - ")
        .bytes(&state.program)
        .str(": [Warning] ")
        .str(text);
    emit(state.fd, &mut l);
}

/// `Server version: <program> <version> BuildID[sha1]=<hex>`.
fn server_version(l: &mut LineBuf, state: &State, map: Option<&ModuleMap>) {
    l.str("Server version: ");
    push_foreign(l, state.mem_fd, &state.program, 256);
    l.str(" ");
    push_foreign(l, state.mem_fd, &state.version, 256);
    if let Some(main) = map.and_then(|m| m.modules.first()) {
        l.str(" BuildID[sha1]=");
        push_build_id(l, main);
    }
}

pub(crate) fn push_build_id(l: &mut LineBuf, m: &Module) {
    for &b in m.build_id.iter().take(64) {
        if b < 16 {
            l.str("0");
        }
        l.hex(u64::from(b));
    }
}

/// One glibc `backtrace_symbols_fd` line for `pc`. `lookup` is the address used
/// to find the module and symbol: `pc` for the faulting frame, `pc - 1` for
/// return addresses (a call can be the last instruction of a function).
pub(crate) fn frame_line(
    l: &mut LineBuf,
    mem_fd: c_int,
    map: Option<&ModuleMap>,
    pc: usize,
    lookup: usize,
) {
    match map.and_then(|m| m.find(lookup)) {
        Some(m) => {
            push_foreign(l, mem_fd, &m.path, 4096);
            l.str("(");
            match m.symbol_for(lookup) {
                Some((name, off)) => {
                    let sym_off = off.wrapping_add(pc.wrapping_sub(lookup));
                    push_foreign(l, mem_fd, name, 512);
                    l.str("+0x").hex(sym_off as u64);
                }
                None => {
                    l.str("+0x").hex(pc.wrapping_sub(m.bias) as u64);
                }
            }
            l.str(")[0x").hex(pc as u64).str("]");
        }
        None => {
            l.str("[0x").hex(pc as u64).str("]");
        }
    }
}

/// `0x<start>-0x<end> <path> BuildID[sha1]=<hex>`.
pub(crate) fn module_line(l: &mut LineBuf, mem_fd: c_int, m: &Module) {
    l.str("0x")
        .hex(m.start as u64)
        .str("-0x")
        .hex(m.end as u64)
        .str(" ");
    push_foreign(l, mem_fd, &m.path, 4096);
    if !m.build_id.is_empty() {
        l.str(" BuildID[sha1]=");
        push_build_id(l, m);
    }
}

/// The plugin whose range contains the first of `pcs` that any plugin owns.
fn owning_plugin(pcs: impl Iterator<Item = usize>) -> Option<&'static modules::PluginEntry> {
    let plugins = modules::PLUGINS.load()?;
    for pc in pcs {
        if let Some(p) = plugins.iter().find(|p| pc >= p.start && pc < p.end) {
            return Some(p);
        }
    }
    None
}

pub(crate) fn plugin_line(l: &mut LineBuf, mem_fd: c_int, p: &modules::PluginEntry, what: &str) {
    l.str("Plugin: ");
    push_foreign(l, mem_fd, &p.name, 256);
    l.str(" (");
    push_foreign(l, mem_fd, &p.library, 1024);
    l.str(") ").str(what);
}

/// The frames to print, composed in place in the unwinder's array (the handler
/// may run on a small alternate stack that is not ours): handler, trampoline,
/// faulting PC, return addresses.
fn frames(
    mem_fd: c_int,
    uctx: *mut c_void,
    handler_addr: usize,
    map: Option<&ModuleMap>,
    raw: &mut Unwound,
) {
    let (pc, sp) = handler::pc_sp(uctx);
    handler::unwind(raw);
    let n = raw.n;
    // The interrupted frame: the one whose IP is the ucontext's PC, or the one
    // libgcc flagged as a signal frame.
    let k = raw.ips[..n]
        .iter()
        .position(|&ip| ip == pc && pc != 0)
        .or((raw.signal_frame < n).then_some(raw.signal_frame));
    match k {
        Some(k) if k >= 1 => {
            let handler_frame = if k >= 2 { raw.ips[k - 2] } else { handler_addr };
            let trampoline = raw.ips[k - 1];
            let insert_pc = pc != 0 && raw.ips[k] != pc;
            let dest = if insert_pc { 3 } else { 2 };
            raw.ips.copy_within(k..n, dest);
            raw.ips[0] = handler_frame;
            raw.ips[1] = trampoline;
            if insert_pc {
                raw.ips[2] = pc;
            }
            raw.n = n - k + dest;
        }
        _ => {
            raw.ips[0] = handler_addr;
            raw.ips[1] = handler::trampoline_from_frame(mem_fd, uctx);
            raw.ips[2] = pc;
            raw.n = 3;
            // A call through a bad pointer: the caller's return address is on top.
            if map.is_none_or(|m| m.find(pc).is_none()) {
                if let Some(ret) = handler::read_word(mem_fd, sp) {
                    if map.is_some_and(|m| m.find(ret.wrapping_sub(1)).is_some()) {
                        raw.ips[3] = ret;
                        raw.n = 4;
                    }
                }
            }
        }
    }
}

/// The whole report for a fatal signal.
pub(crate) fn write_signal_report(
    state: &State,
    sig: c_int,
    info: *mut libc::siginfo_t,
    uctx: *mut c_void,
    handler_addr: usize,
) -> (c_int, c_int) {
    let fd = state.fd;
    let mem = state.mem_fd;
    let (rd, wr) = if state.resolver.is_some() {
        resolver::report_pipe()
    } else {
        (-1, -1)
    };
    let map = modules::MODULES.load();
    let mut l = LineBuf::new();
    let (code, addr) = if info.is_null() {
        (0, 0)
    } else {
        // SAFETY: the kernel passes a valid siginfo_t to SA_SIGINFO handlers.
        let si = unsafe { &*info };
        // SAFETY: si_addr is the union member for faults (si_code > 0); for
        // signals sent by a process it is not meaningful, so 0 is printed.
        let addr = if si.si_code > 0 {
            (unsafe { si.si_addr() }) as usize
        } else {
            0
        };
        (si.si_code, addr)
    };

    l.utc_time(now_seconds()).str(" UTC - ");
    push_foreign(&mut l, mem, &state.program, 256);
    l.str(" got signal ").dec(sig as u64).str(" ;");
    emit_tee(fd, wr, &mut l);
    l.str("Signal ")
        .str(signal_name(sig))
        .str(" (")
        .str(si_code_text(sig, code))
        .str(") at address 0x")
        .hex(addr as u64);
    emit_tee(fd, wr, &mut l);
    l.str("Most likely, you have hit a bug, but this error can also be caused by malfunctioning hardware.");
    emit_tee(fd, wr, &mut l);
    server_version(&mut l, state, map);
    emit_tee(fd, wr, &mut l);

    let ctx: Option<&ThreadContext> = context_from_altstack(mem);
    l.str("Thread pointer: 0x")
        .hex(ctx.map_or(0, |c| c.thread_pointer()) as u64);
    emit_tee(fd, wr, &mut l);
    l.str("Attempting backtrace. You can use the following information to find out");
    emit_tee(fd, wr, &mut l);
    l.str("where ");
    push_foreign(&mut l, mem, &state.program, 256);
    l.str(" died. If you see no messages after this, something went");
    emit_tee(fd, wr, &mut l);
    l.str("terribly wrong...");
    emit_tee(fd, wr, &mut l);
    let (top, size) = ctx.map_or((0, 0), |c| c.stack());
    l.str("stack_bottom = ")
        .hex(top as u64)
        .str(" thread_stack 0x")
        .hex(size as u64);
    emit_tee(fd, wr, &mut l);

    let mut frames = Unwound {
        ips: [0; handler::MAX_FRAMES + 3],
        n: 0,
        signal_frame: usize::MAX,
    };
    self::frames(mem, uctx, handler_addr, map, &mut frames);
    for (i, &pc) in frames.ips[..frames.n].iter().enumerate() {
        // Frames 0 and 1 (handler, trampoline) and 2 (the faulting PC) are
        // exact addresses; deeper ones are return addresses.
        let lookup = if i >= 3 { pc.wrapping_sub(1) } else { pc };
        frame_line(&mut l, mem, map, pc, lookup);
        emit_tee(fd, wr, &mut l);
    }

    l.str("Module map:");
    emit_tee(fd, wr, &mut l);
    if let Some(map) = map {
        for m in &map.modules {
            module_line(&mut l, mem, m);
            emit_tee(fd, wr, &mut l);
        }
    }
    let from_fault = frames.ips[..frames.n].iter().skip(2).copied();
    if let Some(p) = owning_plugin(from_fault) {
        plugin_line(&mut l, mem, p, "owns the faulting address");
        emit_tee(fd, wr, &mut l);
    }

    l.str("Trying to get some variables.");
    emit_tee(fd, wr, &mut l);
    l.str("Some pointers may be invalid and cause the dump to abort.");
    emit_tee(fd, wr, &mut l);
    let (qptr, qlen) = ctx.map_or((0, 0), |c| c.query());
    l.str("Query (0x").hex(qptr as u64).str("): ");
    if qptr == 0 {
        l.str("(null)");
    } else {
        let start = l.len();
        let want = qlen.min(QUERY_MAX);
        let spare = l.spare();
        let n = want.min(spare.len());
        let got = handler::safe_copy(mem, qptr, &mut spare[..n]);
        if got == 0 && want > 0 {
            l.str("is an invalid pointer");
        } else {
            l.commit(got);
            l.sanitize_from(start);
        }
    }
    emit_tee(fd, wr, &mut l);
    l.str("Connection ID (thread ID): ")
        .dec(ctx.map_or(0, |c| c.connection_id()));
    emit_tee(fd, wr, &mut l);
    l.str("Status: ")
        .str(KillStatus::text(ctx.map_or(0, |c| c.kill_raw())));
    emit_tee(fd, wr, &mut l);

    if let Some(list) = modules::FLUSH.load() {
        for f in list {
            // SAFETY: fsync on a descriptor number; a stale one fails with EBADF.
            unsafe { libc::fsync(f.fd) };
            l.str("DBUG trace flushed: ");
            push_foreign(&mut l, mem, &f.label, 4096);
            emit_tee(fd, wr, &mut l);
        }
    }
    // SAFETY: as above; EINVAL for pipes and terminals is harmless.
    unsafe { libc::fsync(fd) };
    (rd, wr)
}
