//! The panic hook: a panic in the server or in a Rust plugin prints its frames in
//! the same glibc format as the crash report (module-relative offsets that
//! `resolve-stack` and `addr2line` read) into the error log. Not a signal
//! context, so it may allocate; it uses the `backtrace` crate to walk the stack
//! and a fresh module map, and never resolves symbols in process.

use std::panic::PanicHookInfo;

use super::fmt::LineBuf;
use super::handler::STATE;
use super::modules::{self, ModuleMap};
use super::report::{emit, frame_line, module_line, plugin_line, push_build_id};

/// Installs a panic hook that writes a panic report to the crash handler's
/// error log (stderr before [`install`](super::install)), then calls the hook
/// that was installed before it.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        write_panic_report(info);
        previous(info);
    }));
}

fn write_panic_report(info: &PanicHookInfo<'_>) {
    let state = STATE.load();
    let fd = state.map_or(2, |s| s.fd);
    let mem = state.map_or(-1, |s| s.mem_fd);
    let program = state.map_or(&b"process"[..], |s| &s.program[..]);
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let thread = std::thread::current();
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();

    let mut l = LineBuf::new();
    l.utc_time(seconds)
        .str(" UTC - ")
        .bytes(program)
        .str(" panicked in thread '");
    l.str(thread.name().unwrap_or("<unnamed>"))
        .str("' at ")
        .str(&location)
        .str(": ");
    let start = l.len();
    l.str(message);
    l.sanitize_from(start);
    emit(fd, &mut l);
    let map = ModuleMap::take();
    if let Some(s) = state {
        l.str("Server version: ")
            .bytes(&s.program)
            .str(" ")
            .bytes(&s.version);
        if let Some(main) = map.modules.first().filter(|m| !m.build_id.is_empty()) {
            l.str(" BuildID[sha1]=");
            push_build_id(&mut l, main);
        }
        emit(fd, &mut l);
    }
    l.str("Attempting backtrace of the panicking thread:");
    emit(fd, &mut l);

    let mut pcs = Vec::new();
    backtrace::trace(|frame| {
        let ip = frame.ip() as usize;
        if ip != 0 {
            pcs.push(ip);
        }
        ip != 0 && pcs.len() < 200
    });
    for &pc in &pcs {
        // Every frame of a synchronous walk is a return address.
        frame_line(&mut l, mem, Some(&map), pc, pc.wrapping_sub(1));
        emit(fd, &mut l);
    }
    l.str("Module map:");
    emit(fd, &mut l);
    for m in &map.modules {
        module_line(&mut l, mem, m);
        emit(fd, &mut l);
    }
    if let Some(plugins) = modules::PLUGINS.load() {
        let owner = pcs
            .iter()
            .find_map(|&pc| plugins.iter().find(|p| pc > p.start && pc <= p.end));
        if let Some(p) = owner {
            plugin_line(&mut l, mem, p, "owns a frame of the panicking thread");
            emit(fd, &mut l);
        }
    }
    l.str("End of panic report.");
    emit(fd, &mut l);
}
