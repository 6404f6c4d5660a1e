//! Behaviour tests of the engine, the settings API and the `tracing` layer.
//!
//! DBUG state is process-wide; nextest runs every test in its own process, and a mutex
//! serialises them under plain `cargo test`. Child-process tests re-run this test binary
//! with `DBUG_CHILD` set.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

use dbug::engine;
use dbug::{ParseErrorKind, SetError};

static LOCK: Mutex<()> = Mutex::new(());

fn guard() -> MutexGuard<'static, ()> {
    let g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    while engine::is_pushed() {
        engine::pop();
    }
    dbug::set_global("").expect("reset");
    g
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dbug-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join(name)
}

fn mask(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("Memory: ") {
        out.push_str(&rest[..i + 8]);
        rest = &rest[i + 8..];
        if let Some(j) = rest.find("  Bytes:") {
            out.push_str("0x#");
            rest = &rest[j..];
        }
    }
    out.push_str(rest);
    out
}

/// The standard program: main (level 1) calls a (level 2).
fn program() {
    let m = engine::enter("main", "src/main.c", 10);
    engine::print("info", 11, b"in main");
    let a = engine::enter("a", "/x/a.c", 20);
    engine::print("query", 21, b"SELECT 1");
    engine::dump("dump", 22, &[1, 2, 0xab]);
    engine::ret(a, 23);
    engine::ret(m, 12);
}

/// Runs `body` with session settings `control` plus output to a fresh file; returns the file.
fn trace_session(name: &str, control: &str, body: impl FnOnce()) -> String {
    let path = tmp(name);
    let sep = if control.is_empty() { "" } else { ":" };
    dbug::set_session(&format!("{control}{sep}o,{}", path.display())).expect("set_session");
    body();
    dbug::pop_session();
    mask(&std::fs::read_to_string(&path).expect("trace file"))
}

#[test]
fn flag_d_and_t() {
    let _g = guard();
    assert_eq!(
        trace_session("dt", "d:t", program),
        ">main\n| info: in main\n| >a\n| | query: SELECT 1\n| | dump: Memory: 0x#  Bytes: (3)\n\
         01 02 AB \n| <a\n<main\n"
    );
    assert_eq!(
        trace_session("d", "d", program),
        "main: info: in main\na: query: SELECT 1\na: dump: Memory: 0x#  Bytes: (3)\n01 02 AB \n"
    );
    assert_eq!(
        trace_session("dinfo", "d,info", program),
        "main: info: in main\n"
    );
    assert_eq!(
        trace_session("dexcl", "d:-d,info", program),
        "a: query: SELECT 1\na: dump: Memory: 0x#  Bytes: (3)\n01 02 AB \n"
    );
    assert_eq!(
        trace_session("t", "t", program),
        ">main\n| >a\n| <a\n<main\n"
    );
    assert_eq!(
        trace_session("t1", "d:t,1", program),
        ">main\n| info: in main\n<main\n"
    );
}

#[test]
fn flag_f_and_subtrees() {
    let _g = guard();
    assert_eq!(
        trace_session("fa", "d:t:f,a", program),
        "| >a\n| | query: SELECT 1\n| | dump: Memory: 0x#  Bytes: (3)\n01 02 AB \n| <a\n"
    );
    assert_eq!(
        trace_session("fmain", "d:t:-f,main", program),
        "| >a\n| | query: SELECT 1\n| | dump: Memory: 0x#  Bytes: (3)\n01 02 AB \n| <a\n"
    );
    assert_eq!(
        trace_session("fmainsub", "d:t:f,main/", program),
        ">main\n| info: in main\n| >a\n| | query: SELECT 1\n| | dump: Memory: 0x#  Bytes: (3)\n\
         01 02 AB \n| <a\n<main\n"
    );
    assert_eq!(trace_session("fexsub", "d:t:-f,main/", program), "");
}

#[test]
fn prefix_flags_f_l_n_n_i() {
    let _g = guard();
    engine::register_thread(Some("T@7"));
    let body = || {
        let m = engine::enter("main", "src/main.c", 10);
        engine::print("info", 11, b"x");
        engine::ret(m, 12);
    };
    assert_eq!(
        trace_session("F", "d:t:F", body),
        "        main.c: >main\n        main.c: | info: x\n        main.c: <main\n"
    );
    assert_eq!(
        trace_session("L", "d:t:L", body),
        "   10: >main\n   11: | info: x\n   12: <main\n"
    );
    assert_eq!(
        trace_session("n", "d:t:n", body),
        "   1: >main\n   1: | info: x\n   1: <main\n"
    );
    let n = trace_session("N", "d:t:N", body);
    let counters: Vec<&str> = n.lines().map(|l| &l[..7]).collect();
    assert_eq!(n.lines().count(), 3);
    // The counter is per thread and counts every line, so it keeps increasing.
    assert!(counters.windows(2).all(|w| w[0] < w[1]), "{n}");
    assert_eq!(
        trace_session("i", "d:t:i", body),
        "T@7    : >main\nT@7    : | info: x\nT@7    : <main\n"
    );
    dbug::register_connection_thread(123);
    assert_eq!(
        trace_session("iconn", "d:i", body),
        "T@123  : main: info: x\n"
    );
}

#[test]
fn flags_p_and_cap_p() {
    let _g = guard();
    engine::set_process("prog");
    assert_eq!(
        trace_session("P", "d:P", program).lines().next(),
        Some("prog: main: info: in main")
    );
    assert_eq!(trace_session("p", "d:p,prog", program).lines().count(), 4);
    assert_eq!(trace_session("pother", "d:p,other", program), "");
}

#[test]
fn flag_t_timestamp() {
    let _g = guard();
    let out = trace_session("T", "d:T", program);
    let first = out.lines().next().expect("a line");
    // "HH:MM:SS.uuuuuu main: info: in main"
    let b = first.as_bytes();
    assert!(b.len() > 16, "{first}");
    assert!(
        b[2] == b':' && b[5] == b':' && b[8] == b'.' && b[15] == b' ',
        "{first}"
    );
    assert!(
        first[..15].bytes().filter(u8::is_ascii_digit).count() == 12,
        "{first}"
    );
    assert!(first.ends_with("main: info: in main"), "{first}");
}

#[test]
fn flag_r_shifts_indentation() {
    let _g = guard();
    let path = tmp("r");
    dbug::set_session(&format!("d:t:o,{}", path.display())).expect("set");
    let m = engine::enter("main", "m.c", 1);
    let a = engine::enter("a", "a.c", 2);
    engine::push(&dbug::ControlString::parse_lenient("+r"), None);
    let b = engine::enter("b", "b.c", 3);
    engine::print("info", 4, b"in b");
    engine::ret(b, 5);
    engine::pop();
    engine::ret(a, 6);
    engine::ret(m, 7);
    dbug::pop_session();
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        ">main\n| >a\n>b\n| info: in b\n<b\n| <a\n<main\n"
    );
}

#[test]
fn flag_s_sanity_hook() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let _g = guard();
    engine::set_sanity_hook(|| CALLS.fetch_add(1, Ordering::SeqCst) + 1 == 3);
    let out = trace_session("S", "d:t:S", || {
        program();
        assert!(!dbug::explain_session().contains(":S"));
    });
    // enter main, enter a, then the third call fails and clears S.
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
    assert!(out.starts_with(">main\n"), "{out}");
}

#[test]
fn flags_o_a_truncate_append_and_stdout_name() {
    let _g = guard();
    let path = tmp("oa");
    std::fs::write(&path, "old\n").expect("write");
    let body = || engine::print("info", 1, b"hello");
    dbug::set_session(&format!("d:a,{}", path.display())).expect("a");
    body();
    dbug::pop_session();
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        "old\n?func: info: hello\n"
    );
    dbug::set_session(&format!("d:o,{}", path.display())).expect("o");
    dbug::pop_session();
    assert_eq!(std::fs::read_to_string(&path).expect("file"), "");
    // explain shows the stream letters: lower case without flush.
    dbug::set_session(&format!("d:A,{}", path.display())).expect("A");
    assert_eq!(dbug::explain_session(), format!("d:A,{}", path.display()));
    dbug::set_session(&format!("+o,{}", path.display())).expect("o after A");
    assert_eq!(dbug::explain_session(), format!("d:O,{}", path.display()));
    dbug::pop_session();
    dbug::set_session(&format!("d:a,{}", path.display())).expect("a");
    assert_eq!(dbug::explain_session(), format!("d:a,{}", path.display()));
    dbug::pop_session();
}

#[test]
fn flag_cap_o_flushes_each_line_before_returning() {
    let _g = guard();
    let path = tmp("O");
    dbug::set_global(&format!("d:t:O,{}", path.display())).expect("O");
    let m = engine::enter("main", "m.c", 1);
    assert_eq!(std::fs::read_to_string(&path).expect("file"), ">main\n");
    engine::ret(m, 2);
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        ">main\n<main\n"
    );
    // With `o` the lines stay buffered until a flush.
    let path2 = tmp("o-buffered");
    dbug::set_global(&format!("d:t:o,{}", path2.display())).expect("o");
    let m = engine::enter("main", "m.c", 1);
    engine::ret(m, 2);
    assert_eq!(std::fs::read_to_string(&path2).expect("file"), "");
    dbug::flush_all();
    assert_eq!(
        std::fs::read_to_string(&path2).expect("file"),
        ">main\n<main\n"
    );
    dbug::set_global("").expect("reset");
}

#[test]
fn flag_cap_d_delay_sleeps_only_with_flush() {
    let _g = guard();
    let path = tmp("D");
    dbug::set_session(&format!("d:D,10:O,{}", path.display())).expect("D");
    assert!(dbug::explain_session().starts_with("d:D,10:O,"));
    let t = std::time::Instant::now();
    engine::print("info", 1, b"slow");
    assert!(t.elapsed() >= std::time::Duration::from_millis(990));
    dbug::pop_session();
    dbug::set_session(&format!("d:D,10:o,{}", path.display())).expect("D o");
    let t = std::time::Instant::now();
    engine::print("info", 1, b"fast");
    assert!(t.elapsed() < std::time::Duration::from_millis(900));
    dbug::pop_session();
}

#[test]
fn execute_if_is_strict_and_print_is_glob() {
    let _g = guard();
    dbug::set_session("d,inj*").expect("set");
    assert!(engine::keyword("inject"));
    assert!(!engine::execute_if("inject"));
    dbug::set_session("d,inject").expect("set");
    assert!(engine::execute_if("inject"));
    assert!(dbug::dbug_evaluate_if!("inject"));
    let mut fired = false;
    dbug::dbug_execute_if!("inject", {
        fired = true;
    });
    assert!(fired);
    dbug::set_session("d").expect("set");
    assert!(engine::keyword("anything"));
    assert!(!engine::execute_if("anything"));
    dbug::pop_session();
    assert!(!engine::keyword("anything"));
}

#[test]
fn strict_api_rejects_malformed_strings_and_changes_nothing() {
    let _g = guard();
    dbug::set_global("d,keep").expect("valid");
    for (s, pos, kind) in [
        ("d:x", 2, ParseErrorKind::UnknownFlag('x')),
        ("dinfo", 1, ParseErrorKind::ExpectedComma('d')),
        (":d", 0, ParseErrorKind::EmptyField),
        ("d:t:", 4, ParseErrorKind::EmptyField),
        ("t,abc", 2, ParseErrorKind::NotANumber('t', "abc".into())),
        ("D,-1", 2, ParseErrorKind::NotANumber('D', "-1".into())),
        ("d:o,", 3, ParseErrorKind::EmptyModifier('o')),
        ("d,a,,b", 4, ParseErrorKind::EmptyListElement('d')),
        ("F,x", 1, ParseErrorKind::UnexpectedModifier('F')),
        ("-o,file", 2, ParseErrorKind::UnexpectedModifier('o')),
        ("d:+", 2, ParseErrorKind::MissingFlag),
    ] {
        match dbug::set_global(s) {
            Err(SetError::Parse(e)) => {
                assert_eq!((e.pos, &e.kind), (pos, &kind), "{s}");
                assert!(
                    e.to_string().starts_with(&format!("at position {pos}: ")),
                    "{e}"
                );
            }
            other => panic!("{s}: expected a parse error, got {other:?}"),
        }
        assert!(
            matches!(dbug::set_session(s), Err(SetError::Parse(_))),
            "{s}"
        );
    }
    assert_eq!(dbug::explain_global(), "d,keep");
    assert!(!engine::is_pushed());
}

#[test]
fn failed_open_keeps_previous_stream_and_is_reported() {
    let _g = guard();
    let good = tmp("good");
    dbug::set_session(&format!("d:O,{}", good.display())).expect("good");
    match dbug::set_session("+o,/nonexistent-dir/x.trace") {
        Err(SetError::Open(v)) => {
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].name, "/nonexistent-dir/x.trace");
            assert_eq!(v[0].reason(), "No such file or directory");
        }
        other => panic!("expected an open error, got {other:?}"),
    }
    // explain shows the failed name (C behaviour) but output still goes to the old file.
    assert_eq!(dbug::explain_session(), "d:O,/nonexistent-dir/x.trace");
    engine::print("info", 1, b"still here");
    assert_eq!(
        std::fs::read_to_string(&good).expect("file"),
        "?func: info: still here\n"
    );
    dbug::pop_session();
}

#[test]
fn explain_uses_the_256_byte_rule() {
    let _g = guard();
    let kws: Vec<String> = (0..60).map(|i| format!("kw{i:03}")).collect();
    dbug::set_global(&format!("d,{}", kws.join(","))).expect("set");
    let e = dbug::explain_global();
    assert_eq!(e.len(), 255);
    assert!(e.ends_with("..."));
    assert!(e.starts_with("d,kw000,kw001"));
    let full = engine::explain_initial(4096);
    assert!(!full.truncated);
    assert_eq!(full.text.len(), 1 + 60 * 6);
}

#[test]
fn session_copies_of_global_lists_are_reversed() {
    let _g = guard();
    dbug::set_global("d,info,error").expect("global");
    dbug::set_session("+d,query").expect("session");
    assert_eq!(dbug::explain_session(), "d,error,info,query");
    assert_eq!(dbug::explain_global(), "d,info,error");
    dbug::pop_session();
    assert_eq!(dbug::explain_session(), "d,info,error");
}

#[test]
fn many_threads_one_file_no_torn_or_lost_lines() {
    let _g = guard();
    const THREADS: usize = 8;
    const LINES: usize = 2000;
    let path = tmp("concurrent");
    dbug::set_global(&format!("d:i:o,{}", path.display())).expect("set");
    let pad = "x".repeat(300);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let pad = &pad;
            s.spawn(move || {
                dbug::register_thread(Some(&format!("T@{}", 100 + t)));
                for n in 0..LINES {
                    let msg = format!("thread {t} line {n} {pad}");
                    engine::print("info", 1, msg.as_bytes());
                }
            });
        }
    });
    dbug::flush_all();
    let text = std::fs::read_to_string(&path).expect("file");
    let mut seen = vec![vec![false; LINES]; THREADS];
    let mut total = 0;
    for line in text.lines() {
        // "T@1xx  : ?func: info: thread T line N xxx..."
        let (name, rest) = line.split_at(9);
        let t = name[2..5].parse::<usize>().expect("thread name") - 100;
        assert_eq!(&name[5..], "  : ", "torn line: {line}");
        let rest = rest
            .strip_prefix("?func: info: thread ")
            .unwrap_or_else(|| panic!("torn line: {line}"));
        let mut parts = rest.splitn(4, ' ');
        let tt: usize = parts.next().and_then(|x| x.parse().ok()).expect("t");
        assert_eq!(parts.next(), Some("line"), "{line}");
        let n: usize = parts.next().and_then(|x| x.parse().ok()).expect("n");
        assert_eq!(parts.next(), Some(pad.as_str()), "torn line: {line}");
        assert_eq!(t, tt, "{line}");
        assert!(!seen[t][n], "duplicate line: {line}");
        seen[t][n] = true;
        total += 1;
    }
    assert_eq!(total, THREADS * LINES);
    assert!(seen.iter().all(|v| v.iter().all(|&b| b)));
    dbug::set_global("").expect("reset");
}

fn child_mode() -> Option<String> {
    std::env::var("DBUG_CHILD").ok()
}

/// Re-runs this test binary as a child executing `test` with `DBUG_CHILD=mode`.
fn spawn_child(test: &str, mode: &str, file: &PathBuf) -> std::process::Child {
    Command::new(std::env::current_exe().expect("current exe"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("DBUG_CHILD", mode)
        .env("DBUG_CHILD_FILE", file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child")
}

#[test]
fn durability_line_survives_sigkill_with_cap_o() {
    if let Some(mode) = child_mode() {
        let file = std::env::var("DBUG_CHILD_FILE").expect("file");
        dbug::set_global(&format!("d:t:{mode},{file}")).expect("set");
        let f = engine::enter("main", "m.c", 1);
        engine::print("info", 2, b"the line before the kill");
        println!("READY");
        std::thread::sleep(std::time::Duration::from_secs(60));
        engine::ret(f, 3);
        return;
    }
    for (mode, expect_line) in [("O", true), ("A", true), ("o", false)] {
        let file = tmp(&format!("durable-{mode}"));
        let mut child = spawn_child("durability_line_survives_sigkill_with_cap_o", mode, &file);
        let stdout = child.stdout.take().expect("stdout");
        let mut ready = false;
        for line in BufReader::new(stdout).lines() {
            if line.expect("read").contains("READY") {
                ready = true;
                break;
            }
        }
        assert!(ready, "child never got ready");
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(!status.success());
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(
            text.contains("| info: the line before the kill\n"),
            expect_line,
            "mode {mode}: {text:?}"
        );
    }
}

#[test]
fn missing_return_aborts_even_without_debug_string() {
    if let Some(mode) = child_mode() {
        engine::set_exact_frames(mode == "exact");
        engine::set_process("child");
        let f = dbug::Frame::enter("leaky", "l.c", 1);
        drop(f);
        println!("SURVIVED");
        return;
    }
    let file = tmp("unused");
    let out = spawn_child(
        "missing_return_aborts_even_without_debug_string",
        "exact",
        &file,
    )
    .wait_with_output()
    .expect("wait");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc_sigabrt()), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "child: debugger aborting because missing DBUG_RETURN or DBUG_VOID_RETURN macro in \
             function \"leaky\"\n\n"
        ),
        "{err}"
    );
    // In the default (fast) mode, frames entered while nothing is enabled are not tracked.
    let out = spawn_child(
        "missing_return_aborts_even_without_debug_string",
        "fast",
        &file,
    )
    .wait_with_output()
    .expect("wait");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("SURVIVED"));
}

fn libc_sigabrt() -> i32 {
    6
}

#[test]
fn fast_mode_frames_entered_before_enabling_are_ignored() {
    let _g = guard();
    let path = tmp("fast");
    let outer = engine::enter("outer", "o.c", 1);
    assert!(outer.is_untracked());
    dbug::set_global(&format!("d:t:o,{}", path.display())).expect("set");
    let inner = engine::enter("inner", "i.c", 2);
    engine::ret(inner, 3);
    engine::ret(outer, 4);
    dbug::set_global("").expect("reset");
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        ">inner\n<inner\n"
    );
}

#[test]
fn macros_and_frame_guard() {
    let _g = guard();
    fn add(a: u32, b: u32) -> u32 {
        let frame = dbug::dbug_enter!("add");
        dbug::dbug_print!("info", "a: {} b: {}", a, b);
        dbug::dbug_dump!("dump", &[a as u8, b as u8]);
        dbug::dbug_return!(frame, a + b)
    }
    let out = trace_session("macros", "d:t", || assert_eq!(add(2, 3), 5));
    assert_eq!(
        out,
        ">add\n| info: a: 2 b: 3\n| dump: Memory: 0x#  Bytes: (2)\n02 03 \n<add\n"
    );
    assert_eq!(dbug::dbug_explain!(), "");
    assert_eq!(dbug::dbug_explain!(initial), "");
}

#[test]
fn tracing_layer_spans_and_events() {
    use tracing_subscriber::layer::SubscriberExt;
    let _g = guard();
    let layer = dbug::Layer::new();
    let handle = layer.handle();
    let path = tmp("layer");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        handle
            .set_session(&format!("d:t:o,{}", path.display()))
            .expect("session");
        let span = tracing::info_span!("handle_query");
        span.in_scope(|| {
            tracing::info!(keyword = "query", sql = "SELECT 1", "parsing");
            tracing::warn!("careful");
            tracing::debug_span!("inner").in_scope(|| tracing::error!(code = 7));
        });
        assert_eq!(
            handle.explain_session().expect("alive"),
            format!("d:o,{}:t", path.display())
        );
        handle.pop_session().expect("alive");
    });
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        ">handle_query\n| query: parsing sql=SELECT 1\n| warn: careful\n| >inner\n| | error: code=7\n\
         | <inner\n<handle_query\n"
    );
    drop(handle.clone());
}

#[test]
fn handle_reports_a_dropped_layer() {
    let _g = guard();
    let layer = dbug::Layer::new();
    let handle = layer.handle();
    assert!(handle.set_global("d").is_ok());
    assert!(matches!(
        handle.set_global("d:x"),
        Err(dbug::HandleError::Set(SetError::Parse(_)))
    ));
    drop(layer);
    assert_eq!(handle.set_global("d"), Err(dbug::HandleError::LayerGone));
    assert_eq!(handle.explain_global(), Err(dbug::HandleError::LayerGone));
}

/// Garbage in: no panic from either parser, nor from applying lenient results.
#[test]
fn garbage_control_strings_never_panic() {
    let _g = guard();
    let dir = tmp("garbage");
    std::fs::create_dir_all(&dir).expect("dir");
    let _ = std::env::set_current_dir(&dir);
    const ALPHA: &[u8] = b"dDfFiLnNoOaApPrStT+-#:,/\\*?[]!^0123456789x \xc3\xbc";
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHA[(next() % ALPHA.len() as u64) as usize])
            .collect();
        let s = String::from_utf8_lossy(&bytes).replace(['o', 'O', 'a', 'A'], "d");
        let lenient = dbug::ControlString::parse_lenient(&s);
        if let Ok(strict) = dbug::ControlString::parse_strict(&s) {
            assert_eq!(strict, lenient, "strict and lenient disagree on {s:?}");
        }
        engine::push(&lenient, None);
        let m = engine::enter("main", "m.c", 1);
        engine::print("info", 2, b"x");
        let _ = engine::keyword("info");
        engine::ret(m, 3);
        let _ = dbug::explain_session();
        engine::pop();
    }
}

/// More frames than the inline per-thread stack holds: the overflow path keeps names,
/// levels and trace bits right.
#[test]
fn deep_recursion_beyond_the_inline_frame_stack() {
    let _g = guard();
    fn recurse(n: u32, max: u32) {
        let f = engine::enter(if n % 2 == 0 { "even" } else { "odd" }, "r.c", n);
        if n == max {
            engine::print("info", n, b"bottom");
        } else {
            recurse(n + 1, max);
        }
        engine::ret(f, n);
    }
    let out = trace_session("deep", "d:n", || recurse(1, 150));
    assert_eq!(out, " 150: even: info: bottom\n");
    let out = trace_session("deep-t", "d:t:f,odd/:-f,even", || recurse(1, 100));
    let lines: Vec<&str> = out.lines().collect();
    // Every frame below the first `odd` is traced except the `even` ones: 50 enters, 50 returns.
    assert_eq!(lines.len(), 100, "{out}");
    assert_eq!(lines[0], ">odd");
    assert!(lines[49].starts_with(&"| ".repeat(98)), "{}", lines[49]);
    assert_eq!(lines.last().copied(), Some("<odd"));
}

#[test]
fn dynamic_names_for_plugin_hosts() {
    let _g = guard();
    let out = trace_session("dyn", "d:t:F", || {
        let func = String::from("plugin_init");
        let file = String::from("plugins/audit/audit.c");
        let t = engine::enter_dyn(&func, &file, 5);
        engine::print("info", 6, b"loaded");
        engine::ret(t, 7);
    });
    assert_eq!(
        out,
        "       audit.c: >plugin_init\n       audit.c: | info: loaded\n       audit.c: <plugin_init\n"
    );
}

/// A value that counts how often it is formatted.
struct Counted(&'static std::sync::atomic::AtomicUsize, &'static str);

impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        f.write_str(self.1)
    }
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

#[test]
fn layer_filtered_events_format_nothing_and_accepted_lines_are_unchanged() {
    use tracing_subscriber::layer::SubscriberExt;
    let _g = guard();
    let subscriber = tracing_subscriber::registry().with(dbug::Layer::new());
    filtered_events_case(tracing::Dispatch::new(subscriber), "layer-filter");
}

#[test]
fn thread_subscriber_filters_and_prints_events_like_the_layer() {
    let _g = guard();
    let subscriber = dbug::ThreadSubscriber::new();
    filtered_events_case(tracing::Dispatch::new(subscriber), "thread-sub-filter");
}

/// Events under `dispatch`: filtered ones format nothing; accepted lines are exact.
fn filtered_events_case(dispatch: tracing::Dispatch, name: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static FMT: AtomicUsize = AtomicUsize::new(0);
    FMT.store(0, Ordering::SeqCst);
    let long_kw = "k".repeat(100); // longer than the layer's stack buffer
    let path = tmp(name);
    tracing::dispatcher::with_default(&dispatch, || {
        dbug::set_session(&format!(
            "d,query,warn,dbg_kw,{long_kw}:t:L:o,{}",
            path.display()
        ))
        .expect("session");
        let span = tracing::info_span!("handle_query");
        let span_line = line!() - 1;
        span.in_scope(|| {
            // Filtered: neither the message nor any field may be formatted.
            tracing::info!(keyword = "info", v = ?Counted(&FMT, "x"), "m {}", Counted(&FMT, "y"));
            tracing::info!(v = ?Counted(&FMT, "x"), "m {}", Counted(&FMT, "y"));
            tracing::info!(keyword = ?"query", v = ?Counted(&FMT, "x"));
            tracing::info!(keyword = %Counted(&FMT, "zzz"), v = ?Counted(&FMT, "x"));
            assert_eq!(
                FMT.load(Ordering::SeqCst),
                1,
                "only the zzz keyword is formatted"
            );
            // Accepted: a &str keyword, the level keyword, a Display keyword (formatted
            // once), and a keyword longer than the stack buffer.
            tracing::info!(keyword = "query", sql = "SELECT 1", "parsing {}", 7);
            tracing::warn!(n = 3, "careful");
            tracing::info!(keyword = %Counted(&FMT, "dbg_kw"), v = ?Counted(&FMT, "x"));
            tracing::info!(keyword = long_kw.as_str(), "long");
        });
        dbug::pop_session();
        let l = |n: u32| format!("{n:>5}: ");
        let base = line!();
        assert_eq!(
            std::fs::read_to_string(&path).expect("file"),
            format!(
                "{sl}>handle_query\n\
                 {a}| query: parsing 7 sql=SELECT 1\n\
                 {b}| warn: careful n=3\n\
                 {c}| dbg_kw: v=x\n\
                 {d}| {long_kw}: long\n\
                 {sl}<handle_query\n",
                sl = l(span_line),
                a = l(base - 7),
                b = l(base - 6),
                c = l(base - 5),
                d = l(base - 4),
            )
        );
    });
    assert_eq!(
        FMT.load(Ordering::SeqCst),
        1 + 2,
        "the accepted event formats once each"
    );
}

#[test]
fn keyword_tests_use_the_current_frame_bit_after_the_function_list_is_dropped() {
    let _g = guard();
    let path = tmp("stale-bit");
    // `-f,hidden/` clears the bit of `hidden`; SET GLOBAL never recomputes frame bits
    // (SPEC 6.3), so after the list is dropped the frame keeps its cleared bit and every
    // keyword test inside it fails (INHERIT), while outside it the default bit passes.
    dbug::set_global(&format!("d,info,inject:-f,hidden/:o,{}", path.display())).expect("set");
    let h = engine::enter("hidden", "h.c", 1);
    dbug::set_global(&format!("d,info,inject:a,{}", path.display())).expect("set");
    assert!(!engine::keyword("info"));
    assert!(!engine::execute_if("inject"));
    engine::print("info", 2, b"inside");
    let inner = engine::enter("inner", "i.c", 3);
    assert!(!engine::keyword("info"), "the bit is inherited");
    engine::ret(inner, 4);
    engine::ret(h, 5);
    assert!(engine::keyword("info"));
    assert!(engine::execute_if("inject"));
    assert!(!engine::execute_if("inj*"));
    assert!(!engine::keyword("other"));
    engine::print("info", 6, b"outside");
    dbug::set_global("").expect("reset");
    dbug::flush_all();
    assert_eq!(
        std::fs::read_to_string(&path).expect("file"),
        "?func: info: outside\n"
    );
}

#[test]
fn layer_out_of_order_exits_drop_inner_frames_and_keep_span_lines() {
    use tracing_subscriber::layer::SubscriberExt;
    let _g = guard();
    let subscriber = tracing_subscriber::registry().with(dbug::Layer::new());
    out_of_order_case(tracing::Dispatch::new(subscriber), "layer-order");
}

#[test]
fn thread_subscriber_out_of_order_exits_match_the_layer() {
    let _g = guard();
    let subscriber = dbug::ThreadSubscriber::new();
    out_of_order_case(tracing::Dispatch::new(subscriber), "thread-sub-order");
}

/// Out-of-order span exits under `dispatch` drop inner frames and keep span lines.
fn out_of_order_case(dispatch: tracing::Dispatch, name: &str) {
    let path = tmp(name);
    tracing::dispatcher::with_default(&dispatch, || {
        dbug::set_session(&format!("d,nothing:t:L:o,{}", path.display())).expect("session");
        let a = tracing::info_span!("a");
        let a_line = line!() - 1;
        let b = tracing::info_span!("b");
        let b_line = line!() - 1;
        let ea = a.enter();
        let eb = b.enter();
        let frame = dbug::dbug_enter!("guarded");
        drop(ea); // out of order: b and the guard frame are dropped silently
        drop(eb);
        std::mem::forget(frame);
        let again = a.enter();
        drop(again);
        dbug::pop_session();
        assert_eq!(
            std::fs::read_to_string(&path).expect("file"),
            format!(
                "{a_line:>5}: >a\n{b_line:>5}: | >b\n{fl:>5}: | | >guarded\n{a_line:>5}: <a\n\
                 {a_line:>5}: >a\n{a_line:>5}: <a\n",
                fl = b_line + 4
            )
        );
    });
}

#[test]
fn repeated_keyword_tests_follow_every_settings_change() {
    let _g = guard();
    let long = "x".repeat(40); // longer than the per-thread verdict cache keeps
    for _ in 0..3 {
        assert!(!engine::keyword("info"));
        assert!(!engine::execute_if("inject"));
    }
    dbug::set_global("d").expect("set");
    for _ in 0..3 {
        assert!(
            engine::keyword("inject"),
            "d with an empty list prints everything"
        );
        assert!(!engine::execute_if("inject"), "but fires no EXECUTE_IF");
    }
    dbug::set_global("d,inj*").expect("set");
    for _ in 0..3 {
        assert!(engine::keyword("inject"));
        assert!(!engine::execute_if("inject"), "strict tests are exact");
        assert!(engine::execute_if("inj*"));
    }
    dbug::set_session(&format!("d,inject,{long}")).expect("session");
    for _ in 0..3 {
        assert!(engine::execute_if("inject"));
        assert!(engine::keyword(&long));
        assert!(engine::execute_if(&long));
        assert!(!engine::execute_if("inj*"));
    }
    dbug::set_session("-d,inject").expect("session");
    assert!(!engine::execute_if("inject"));
    assert!(!engine::keyword("inject"));
    assert!(engine::keyword(&long));
    engine::push(&dbug::ControlString::parse_lenient("d,other"), None);
    assert!(!engine::keyword(&long));
    assert!(engine::keyword("other"));
    engine::pop();
    assert!(engine::keyword(&long));
    assert!(!engine::keyword("other"));
    dbug::pop_session();
    assert!(engine::execute_if("inj*"), "the global record again");
    // A function list makes the test depend on the current function.
    dbug::set_global("d,info:f,main").expect("set");
    assert!(!engine::keyword("info"));
    let m = engine::enter("main", "m.c", 1);
    assert!(engine::keyword("info"));
    let o = engine::enter("other", "o.c", 2);
    assert!(!engine::keyword("info"));
    engine::ret(o, 3);
    engine::ret(m, 4);
    // Depth limit: `t,1` suppresses keyword output below depth 1.
    dbug::set_global("d,info:t,1").expect("set");
    let a = engine::enter("a", "a.c", 1);
    assert!(engine::keyword("info"));
    let b = engine::enter("b", "b.c", 2);
    assert!(!engine::keyword("info"));
    engine::ret(b, 3);
    engine::ret(a, 4);
    dbug::set_global("").expect("reset");
    assert!(!engine::keyword("info"));
    // Other threads see the global change, each with its own cache.
    dbug::set_global("d,info").expect("set");
    let t = std::thread::spawn(|| (engine::keyword("info"), engine::keyword("x")));
    assert_eq!(t.join().expect("thread"), (true, false));
    dbug::set_global("d,x").expect("set");
    let t = std::thread::spawn(|| (engine::keyword("info"), engine::keyword("x")));
    assert_eq!(t.join().expect("thread"), (false, true));
    assert!(!engine::keyword("info"));
    dbug::set_global("").expect("reset");
}
