//! Real crashes of a real child process (`examples/crashme.rs`) with the crash
//! handler installed. Each test checks one complete report in REPORT.md's
//! layout, the faulting function's frame (module + offset, resolved with
//! binutils `addr2line`), the context lines and the death by the original signal.

mod util;

use util::{
    Report, Run, addr2line_function, c_plugin, crashme, installed_crashme, readelf_build_id, run,
    run_exe, rust_plugin, scratch,
};

const SIGABRT: i32 = 6;
const SIGSEGV: i32 = 11;

/// Checks shared by every signal report: the version line's build-id, frame 0
/// (our handler) and frame 1 (the signal trampoline in libc).
fn check_common(r: &Report) {
    check_common_for(r, &crashme());
}

/// [`check_common`] for a report of the `crashme` at `exe`.
fn check_common_for(r: &Report, exe: &std::path::Path) {
    let exe = exe.display().to_string();
    let id = r.value("Server version: crashme 9.9.9-test BuildID[sha1]=");
    assert_eq!(id, readelf_build_id(&exe));
    let modules = r.modules();
    assert_eq!(
        modules[0].path, exe,
        "main executable first in the module map"
    );
    assert_eq!(modules[0].build_id.as_deref(), Some(id));

    let frames = r.frames();
    assert!(frames.len() >= 3, "{frames:?}");
    assert_eq!(frames[0].module, exe);
    let (_, f0) = r.function_at(0, true);
    assert!(
        f0.contains("on_fatal_signal"),
        "frame 0 is the handler, got {f0}"
    );
    assert!(
        frames[1].module.contains("libc.so"),
        "frame 1 is the trampoline: {:?}",
        frames[1]
    );
    let (libc, off) = r.module_offset(&frames[1]);
    let f1 = addr2line_function(&libc, off);
    assert!(
        f1.contains("restore_rt"),
        "frame 1 is the signal trampoline, got {f1}"
    );
}

fn check_main_thread_context(r: &Report) {
    assert_eq!(r.value("Thread pointer: "), "0x1234abcd");
    assert!(
        r.value("Query (0x").ends_with("): SELECT crash(1)? FROM t"),
        "{:?}",
        r.value("Query (")
    );
    assert_eq!(r.value("Connection ID (thread ID): "), "42");
    assert_eq!(r.value("Status: "), "KILL_QUERY");
}

#[test]
fn segfault_in_main_binary() {
    let trace = scratch().join("main.trace");
    let out = run("main", &[], &[("CRASHME_TRACE", &trace)]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert_eq!(
        r.lines[1],
        "Signal SIGSEGV (Address not mapped to object) at address 0x10"
    );
    assert!(r.lines[0].ends_with(" UTC - crashme got signal 11 ;"));
    check_common(&r);
    let (module, func) = r.function_at(2, false);
    assert_eq!(module, crashme().display().to_string());
    assert_eq!(func, "crashme_segv_main");
    // The caller: `crashme::run`, or `crashme::main` in release builds where
    // `run` is inlined into it (and line tables attribute the call to `main`).
    let callers = r.chain_at(3, true);
    assert!(
        callers
            .iter()
            .any(|f| f == "crashme::run" || f == "crashme::main"),
        "caller frame: {callers:?}"
    );
    check_main_thread_context(&r);
    // The trace descriptor was fsynced and named, and what was written is there.
    assert_eq!(
        r.lines.last().map(String::as_str),
        Some(format!("DBUG trace flushed: {}", trace.display()).as_str())
    );
    assert_eq!(
        std::fs::read_to_string(&trace).expect("trace"),
        "T@1: >main\n"
    );
    assert!(!r.lines.iter().any(|l| l.starts_with("Plugin: ")));
}

#[test]
fn segfault_in_c_shared_object() {
    let lib = c_plugin();
    let out = run("c-so", &[&lib], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert_eq!(
        r.lines[1],
        "Signal SIGSEGV (Address not mapped to object) at address 0x0"
    );
    check_common(&r);
    let lib_path = lib.display().to_string();
    let frames = r.frames();
    // The C function is exported, so glibc's format names it.
    assert_eq!(frames[2].module, lib_path);
    let (sym, sym_off) = frames[2]
        .symbol
        .clone()
        .expect("exported symbol in the frame line");
    assert_eq!(sym, "crash_in_c");
    let (module, func) = r.function_at(2, false);
    assert_eq!(
        (module.as_str(), func.as_str()),
        (lib_path.as_str(), "crash_in_c")
    );
    // `crash_in_c+off` agrees with the module-relative offset: symbol value from nm.
    let (_, off) = r.module_offset(&frames[2]);
    assert_eq!(nm_dynamic_value(&lib_path, "crash_in_c") + sym_off, off);
    let m = r
        .modules()
        .into_iter()
        .find(|m| m.path == lib_path)
        .expect("library in module map");
    assert_eq!(
        m.build_id.as_deref(),
        Some(readelf_build_id(&lib_path).as_str())
    );
    assert!(
        r.has_line("Plugin: cplug (libcrashplug.so) owns the faulting address"),
        "{:#?}",
        r.lines
    );
    check_main_thread_context(&r);
}

fn nm_dynamic_value(lib: &str, name: &str) -> u64 {
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only", lib])
        .output()
        .expect("nm");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            let (v, _, n) = (it.next()?, it.next()?, it.next()?);
            (n == name)
                .then(|| u64::from_str_radix(v, 16).ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("{name} not in nm -D {lib}"))
}

#[test]
fn segfault_in_rust_cdylib() {
    let lib = rust_plugin();
    let out = run("rust-so", &[&lib], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    check_common(&r);
    let lib_path = lib.display().to_string();
    let (module, func) = r.function_at(2, false);
    assert_eq!(
        (module.as_str(), func.as_str()),
        (lib_path.as_str(), "crash_in_rust")
    );
    assert_eq!(
        r.frames()[2].symbol.as_ref().map(|s| s.0.as_str()),
        Some("crash_in_rust")
    );
    assert!(
        r.has_line("Plugin: rustplug (libcrashlib_rs.so) owns the faulting address"),
        "{:#?}",
        r.lines
    );
    check_main_thread_context(&r);
}

fn check_overflow(r: &Report) {
    check_common(r);
    let (module, func) = r.function_at(2, false);
    assert_eq!(module, crashme().display().to_string());
    assert_eq!(func, "crashme_recurse");
    // The recursion itself, as return addresses.
    let (_, caller) = r.function_at(3, true);
    assert_eq!(caller, "crashme_recurse");
}

#[test]
fn stack_overflow_on_main_thread() {
    let out = run("overflow-main", &[], &[]);
    // Death by SIGSEGV, not by the Rust runtime's "has overflowed its stack" abort.
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert!(r.lines[1].starts_with("Signal SIGSEGV ("), "{}", r.lines[1]);
    check_overflow(&r);
    check_main_thread_context(&r);
    assert!(!out.stderr.contains("has overflowed its stack"));
}

#[test]
fn stack_overflow_on_spawned_armed_thread() {
    let out = run("overflow-thread", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    check_overflow(&r);
    assert_eq!(r.value("Connection ID (thread ID): "), "77");
    assert_eq!(r.value("Status: "), "NOT_KILLED");
    assert_eq!(r.value("Query (0x0): "), "(null)");
    assert_eq!(
        r.value("stack_bottom = ").split(' ').nth(2),
        Some("0x200000")
    );
}

#[test]
fn abort_dies_by_sigabrt() {
    let out = run("abort", &[], &[]);
    assert_eq!(out.signal(), Some(SIGABRT), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert_eq!(
        r.lines[1],
        "Signal SIGABRT (Sent by tkill()) at address 0x0"
    );
    assert!(r.lines[0].ends_with(" got signal 6 ;"));
    check_common(&r);
    // The interrupted PC is inside libc (raise/pthread_kill); the caller that
    // aborted appears among the return addresses, with its module and offset.
    let frames = r.frames();
    assert!(frames[2].module.contains("libc.so"), "{:?}", frames[2]);
    let exe = crashme().display().to_string();
    let i = (3..frames.len())
        .find(|&i| frames[i].module == exe)
        .expect("a frame back in crashme");
    assert_eq!(r.function_at(i, true).1, "crashme_abort");
    assert!(
        frames[3..i]
            .iter()
            .any(|f| f.symbol.as_ref().is_some_and(|s| s.0 == "abort")),
        "{frames:?}"
    );
    check_main_thread_context(&r);
}

#[test]
fn two_threads_faulting_at_once_give_one_report() {
    for _ in 0..5 {
        let out = run("two-threads", &[], &[]);
        assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
        // `single` asserts exactly one header and one Status line.
        let r = Report::single(&out.stderr);
        assert_eq!(
            r.lines[1],
            "Signal SIGSEGV (Address not mapped to object) at address 0x20"
        );
        check_common(&r);
        assert_eq!(r.function_at(2, false).1, "crashme_segv_thread");
        let id = r.value("Connection ID (thread ID): ");
        assert!(id == "101" || id == "102", "{id}");
    }
}

#[test]
fn invalid_query_pointer_is_reported_not_followed() {
    let out = run("bad-query", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert!(
        r.has_line("Query (0x10): is an invalid pointer"),
        "{:#?}",
        r.lines
    );
    assert_eq!(r.value("Connection ID (thread ID): "), "42");
}

#[test]
fn chains_to_previous_siginfo_handler_then_dies_by_signal() {
    let out = run("chain-siginfo", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    check_common(&r);
    let status = out.stderr.find("Status: ").expect("status");
    let chained = out
        .stderr
        .find("previous SA_SIGINFO handler called for signal 11")
        .expect("previous handler ran");
    assert!(
        chained > status,
        "the previous handler runs after the report"
    );
}

#[test]
fn chains_to_previous_plain_handler_then_dies_by_signal() {
    let out = run("chain-plain", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    Report::single(&out.stderr);
    assert!(
        out.stderr
            .contains("previous plain handler called for signal 11"),
        "{}",
        out.stderr
    );
}

#[test]
fn replaced_handler_is_detected_and_reinstalled() {
    let out = run("replace", &[], &[]);
    assert!(out.status.success(), "stderr:\n{}", out.stderr);
    assert_eq!(
        out.stdout,
        "check: the crash handler was replaced by another handler for SIGSEGV\n\
         reinstalled: [SIGSEGV]\ncheck: ok\n"
    );
    // The error log says it too, with a timestamp.
    let warning = out.stderr.lines().next().expect("a warning line");
    assert!(
        warning.ends_with(" UTC - crashme: [Warning] the crash handler was replaced by another handler for SIGSEGV"),
        "{warning}"
    );
}

#[test]
fn core_file_option_raises_the_core_limit() {
    let out = run("core", &[], &[]);
    assert!(out.status.success(), "stderr:\n{}", out.stderr);
    let line = out
        .stdout
        .trim()
        .strip_prefix("core limit: ")
        .expect("limit line");
    let (cur, max) = line.split_once(' ').expect("two numbers");
    assert_eq!(cur, max, "soft limit raised to the hard limit");
}

#[test]
fn panic_hook_prints_glibc_frames_with_module_offsets() {
    let out = run("panic", &[], &[]);
    assert_eq!(out.status.code(), Some(101), "stderr:\n{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains(" UTC - crashme panicked in thread 'main' at "))
        .expect("panic header");
    assert!(
        lines[head].ends_with(": crashme panics on purpose"),
        "{}",
        lines[head]
    );
    let exe = crashme().display().to_string();
    assert_eq!(
        lines[head + 1],
        format!(
            "Server version: crashme 9.9.9-test BuildID[sha1]={}",
            readelf_build_id(&exe)
        )
    );
    let map = (head..lines.len())
        .find(|&i| lines[i] == "Module map:")
        .expect("module map");
    let end = (map..lines.len())
        .find(|&i| lines[i] == "End of panic report.")
        .expect("end line");
    let modules: Vec<util::ModuleLine> = lines[map + 1..end]
        .iter()
        .filter(|l| l.starts_with("0x"))
        .map(|l| {
            let (range, rest) = l.split_once(' ').expect("module line");
            let (s, e) = range.split_once('-').expect("range");
            util::ModuleLine {
                start: u64::from_str_radix(&s[2..], 16).expect("hex"),
                end: u64::from_str_radix(&e[2..], 16).expect("hex"),
                path: rest
                    .split(" BuildID[sha1]=")
                    .next()
                    .unwrap_or(rest)
                    .to_string(),
                build_id: None,
            }
        })
        .collect();
    let exe = crashme().display().to_string();
    let mut names = Vec::new();
    for l in &lines[head + 3..map] {
        let f = util::parse_frame(l).unwrap_or_else(|| panic!("not a glibc frame line: {l}"));
        if f.module != exe {
            continue;
        }
        let m = modules.iter().find(|m| m.path == exe).expect("exe in map");
        let off = f.pc - m.start;
        assert_eq!(f.offset, Some(off), "{l}");
        names.push(addr2line_function(&exe, off - 1));
    }
    assert!(names.iter().any(|n| n == "crashme_panic"), "{names:#?}");
}

#[test]
fn segfault_on_unarmed_thread_still_reports_on_runtime_altstack() {
    // A thread nobody armed gets only the Rust runtime's small alternate stack:
    // the handler must fit in it (no context, but a complete report).
    let out = run("unarmed-thread", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert_eq!(
        r.lines[1],
        "Signal SIGSEGV (Address not mapped to object) at address 0x30"
    );
    check_common(&r);
    assert_eq!(r.function_at(2, false).1, "crashme_segv_thread");
    assert_eq!(r.value("Thread pointer: "), "0x0");
    assert_eq!(r.value("stack_bottom = "), "0 thread_stack 0x0");
    assert_eq!(r.value("Connection ID (thread ID): "), "0");
    assert_eq!(r.value("Status: "), "NOT_KILLED");
}

#[test]
fn resolver_runs_out_of_process_on_the_finished_report() {
    let out = run("resolve", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    check_common(&r);
    // The resolver's output follows the complete report in the error log: it
    // read the report from its stdin and ran binutils addr2line on the frames.
    let tail: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("Status: "))
        .skip(1)
        .collect();
    assert_eq!(tail.len(), 4, "stderr:\n{}", out.stderr);
    assert_eq!(
        tail[..3],
        [
            "Resolved by resolve-stack:",
            "stackresolve::crash::handler::on_fatal_signal",
            "crashme_segv_main"
        ],
        "stderr:\n{}",
        out.stderr
    );
    // The caller: `crashme::run`, or `crashme::main` where `run` is inlined (release).
    assert!(
        tail[3] == "crashme::run" || tail[3] == "crashme::main",
        "{}",
        tail[3]
    );
}

/// The real `resolve-stack`, installed beside the crashing program and found
/// by `Resolver::beside_current_exe` (`--frames-only -`): after the report
/// (once) and `Resolved by resolve-stack:` come the report's frame lines again,
/// each with its function and file:line, then the module lines; never a
/// second copy of the report. The handler still allocates nothing.
#[test]
fn installed_resolve_stack_appends_the_resolved_frames_once() {
    let exe = installed_crashme();
    let lib = c_plugin();
    let out = run_exe(
        &exe,
        "resolve-installed",
        &[&lib],
        &[("CRASHME_FORBID_ALLOC", std::path::Path::new("1"))],
    );
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    assert!(
        !out.stderr.contains("ALLOCATION AFTER THE CRASH"),
        "{}",
        out.stderr
    );
    // Exactly one header and one Status line: the report is there once.
    let r = Report::single(&out.stderr);
    check_common_for(&r, &exe);
    let once = |needle: &str| out.stderr.matches(needle).count();
    for l in [
        "Module map:",
        "Trying to get some variables.",
        "Server version: ",
    ] {
        assert_eq!(once(l), 1, "{l:?} not exactly once:\n{}", out.stderr);
    }
    let all: Vec<&str> = out.stderr.lines().collect();
    let status = all
        .iter()
        .position(|l| l.starts_with("Status: "))
        .expect("Status");
    let tail = &all[status + 1..];
    assert_eq!(
        tail.first(),
        Some(&"Resolved by resolve-stack:"),
        "{}",
        out.stderr
    );
    let tail = &tail[1..];
    // The frame lines come back in the report's order, each followed by its
    // indented resolution; then the module lines, and nothing else.
    let report_frames: Vec<&str> = r
        .lines
        .iter()
        .map(String::as_str)
        .filter(|l| util::parse_frame(l).is_some() && !l.starts_with("0x"))
        .collect();
    let modules_at = tail
        .iter()
        .position(|l| l.starts_with("resolve-stack: module "))
        .unwrap_or_else(|| panic!("no module lines:\n{}", out.stderr));
    let frames_part = &tail[..modules_at];
    let echoed: Vec<&str> = frames_part
        .iter()
        .copied()
        .filter(|l| !l.starts_with("    "))
        .collect();
    assert_eq!(echoed, report_frames, "stderr:\n{}", out.stderr);
    assert!(
        tail[modules_at..]
            .iter()
            .all(|l| l.starts_with("resolve-stack: module ")),
        "stderr:\n{}",
        out.stderr
    );
    let lib_path = lib.display().to_string();
    assert!(
        tail.contains(
            &format!("resolve-stack: module {lib_path}: using {lib_path}, build-id matches")
                .as_str()
        ),
        "stderr:\n{}",
        out.stderr
    );
    // The faulting frame (the C plugin's, third in the report) resolves to
    // the crashing function and the line of the faulting store in crashplug.c.
    let fault_line = r.lines[9 + 2].as_str();
    assert!(
        fault_line.starts_with(&format!("{lib_path}(crash_in_c+0x")),
        "{fault_line}"
    );
    let at = frames_part
        .iter()
        .position(|l| *l == fault_line)
        .expect("faulting frame echoed");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crashplug.c");
    let line = std::fs::read_to_string(&src)
        .expect("fixture")
        .lines()
        .position(|l| l.contains("the faulting instruction"))
        .expect("marker")
        + 1;
    assert_eq!(
        frames_part.get(at + 1).copied(),
        Some(format!("    crash_in_c at {}:{line}", src.display()).as_str()),
        "stderr:\n{}",
        out.stderr
    );
    // Frame 0 (the handler, in the main executable) was resolved too.
    assert!(
        frames_part
            .get(1)
            .is_some_and(|l| l.starts_with("    ") && l.contains("on_fatal_signal")),
        "stderr:\n{}",
        out.stderr
    );
}

#[test]
fn hung_resolver_is_killed_and_the_process_still_dies_by_its_signal() {
    let start = std::time::Instant::now();
    let out = run("resolve-timeout", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    Report::single(&out.stderr);
    let tail: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("Status: "))
        .skip(1)
        .collect();
    assert_eq!(
        tail,
        [
            "Resolved by resolve-stack:",
            "resolve-stack (/bin/sh) timed out after 300 ms and was killed"
        ]
    );
}

/// SIGILL, SIGFPE and SIGBUS: the signal line, the faulting function and death
/// by that signal.
fn check_hardware_signal(mode: &str, sig: i32, line_start: &str, func: &str) -> Run {
    let out = run(mode, &[], &[]);
    assert_eq!(out.signal(), Some(sig), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert!(
        r.lines[0].ends_with(&format!(" got signal {sig} ;")),
        "{}",
        r.lines[0]
    );
    assert!(r.lines[1].starts_with(line_start), "{}", r.lines[1]);
    check_common(&r);
    assert_eq!(r.function_at(2, false).1, func);
    check_main_thread_context(&r);
    out
}

#[cfg(target_arch = "x86_64")]
#[test]
fn illegal_instruction_dies_by_sigill() {
    let out = check_hardware_signal(
        "sigill",
        4,
        "Signal SIGILL (Illegal operand) at address 0x",
        "crashme_sigill",
    );
    // For SIGILL the address is the instruction's: the faulting frame's PC.
    let r = Report::single(&out.stderr);
    let addr = r.lines[1].rsplit(' ').next().expect("address");
    assert_eq!(addr, format!("{:#x}", r.frames()[2].pc));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn integer_division_by_zero_dies_by_sigfpe() {
    check_hardware_signal(
        "sigfpe",
        8,
        "Signal SIGFPE (Integer divide by zero) at address 0x",
        "crashme_sigfpe",
    );
}

#[test]
fn read_past_end_of_mapped_file_dies_by_sigbus() {
    let out = check_hardware_signal(
        "sigbus",
        7,
        "Signal SIGBUS (Nonexistent physical address) at address 0x",
        "crashme_read",
    );
    let mapped = out.stdout.trim();
    let r = Report::single(&out.stderr);
    assert!(
        r.lines[1].ends_with(&format!(" at address {mapped}")),
        "{} vs {mapped}",
        r.lines[1]
    );
}

#[test]
fn panic_under_a_rust_plugin_frame_names_the_plugin_and_its_offset() {
    let lib = rust_plugin();
    let out = run("panic-in-plugin", &[&lib], &[]);
    assert!(out.status.success(), "stderr:\n{}", out.stderr);
    assert_eq!(out.stdout, "caught: true\n");
    let lines: Vec<&str> = out.stderr.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains(" UTC - crashme panicked in thread 'main' at "))
        .expect("panic header");
    assert!(lines[head].ends_with(": host callback panics under a plugin frame"));
    let map = (head..lines.len())
        .find(|&i| lines[i] == "Module map:")
        .expect("module map");
    let lib_path = lib.display().to_string();
    let module = lines[map..]
        .iter()
        .find(|l| l.contains(&format!(" {lib_path} BuildID[sha1]=")))
        .expect("plugin in the module map");
    let start = u64::from_str_radix(&module[2..module.find('-').expect("range")], 16).expect("hex");
    let frame = lines[head..map]
        .iter()
        .filter_map(|l| util::parse_frame(l))
        .find(|f| f.module == lib_path)
        .expect("a frame in the plugin");
    assert_eq!(
        frame.symbol.as_ref().map(|s| s.0.as_str()),
        Some("call_host_back")
    );
    assert_eq!(
        addr2line_function(&lib_path, frame.pc - start - 1),
        "call_host_back"
    );
    assert!(
        lines[map..]
            .contains(&"Plugin: rustplug (libcrashlib_rs.so) owns a frame of the panicking thread")
    );
}

#[test]
fn c_style_thread_armed_until_exit_reports_its_stack_overflow() {
    let out = run("overflow-pthread", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    check_overflow(&r);
    assert_eq!(r.value("Connection ID (thread ID): "), "88");
}

#[test]
fn arming_until_exit_is_idempotent_and_freed_at_thread_exit() {
    use stackresolve::crash;
    let maps = || {
        std::fs::read_to_string("/proc/self/maps")
            .expect("maps")
            .lines()
            .count()
    };
    let before = maps();
    for _ in 0..64 {
        std::thread::spawn(|| {
            crash::arm_current_thread_until_exit().expect("arm");
            crash::arm_current_thread_until_exit().expect("second call is a no-op");
            assert!(crash::set_connection_id(5), "thread is armed");
        })
        .join()
        .expect("thread");
    }
    // 64 leaked alternate stacks would add at least 64 mappings.
    assert!(
        maps() < before + 32,
        "alternate stacks not freed: {before} -> {}",
        maps()
    );
}

#[test]
fn handler_put_back_after_a_plugin_replaced_it_chains_to_the_plugin_handler() {
    let out = run("reinstall-chain", &[], &[]);
    assert_eq!(out.signal(), Some(SIGSEGV), "stderr:\n{}", out.stderr);
    let r = Report::single(&out.stderr);
    assert_eq!(r.function_at(2, false).1, "crashme_segv_main");
    let status = out.stderr.find("Status: ").expect("status");
    let chained = out
        .stderr
        .find("previous SA_SIGINFO handler called for signal 11")
        .expect("the plugin's handler ran");
    assert!(chained > status);
}

/// Rule 2: the handler allocates nothing. `crashme` counts every allocation made
/// after the moment it crashes (only the handler runs then), with and without
/// the out-of-process resolver, for a fault, a stack overflow and `abort()`.
#[test]
fn the_signal_handler_does_not_allocate() {
    let flag = std::path::Path::new("1");
    for (mode, sig) in [
        ("main", SIGSEGV),
        ("resolve", SIGSEGV),
        ("overflow-main", SIGSEGV),
        ("abort", SIGABRT),
    ] {
        let out = run(mode, &[], &[("CRASHME_FORBID_ALLOC", flag)]);
        assert_eq!(out.signal(), Some(sig), "{mode} stderr:\n{}", out.stderr);
        Report::single(&out.stderr);
        assert!(
            !out.stderr.contains("ALLOCATION AFTER THE CRASH"),
            "{mode}: the handler allocated:\n{}",
            out.stderr
        );
    }
    // The watch itself works: the panic hook (not a signal handler) allocates.
    let out = run("panic", &[], &[("CRASHME_FORBID_ALLOC", flag)]);
    assert_eq!(out.status.code(), Some(101));
    assert!(
        out.stderr.contains("ALLOCATION AFTER THE CRASH"),
        "{}",
        out.stderr
    );
}
