//! DBUG differential replay tool: runs a `.dbr` script against the `dbug` engine
//! (see `../shared/dbug/REPLAY.md`).
//!
//! Usage: `dbug_replay SCRIPT`

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use dbug::ControlString;
use dbug::engine::{self, FrameToken};

#[derive(Debug)]
enum Op {
    Init(&'static str),
    Set(&'static str),
    Push(&'static str),
    Pop,
    Process(&'static str),
    Enter(&'static str, &'static str, u32),
    Return(u32),
    Unwind,
    Print(&'static str, u32, Vec<u8>),
    Dump(&'static str, u32, Vec<u8>),
    ExecuteIf(&'static str),
    Keyword(&'static str),
    Explain(Option<usize>),
    ExplainInitial(Option<usize>),
    IsPushed,
    FilePrint(&'static str),
    Flush,
    Echo(&'static str),
    Sanity(u64),
    SanityCalls,
    End,
    Off,
    On,
    Thread(Vec<Op>),
}

struct ParseError {
    line: usize,
    reason: String,
}

fn is_line(f: &str) -> Option<u32> {
    let b = f.as_bytes();
    if b.is_empty() || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) || b.len() > 10 {
        return None;
    }
    let v: u64 = f.parse().ok()?;
    if v > 2_147_483_647 {
        None
    } else {
        Some(v as u32)
    }
}

fn is_n(f: &str) -> Option<u64> {
    if f == "0" {
        return Some(0);
    }
    is_line(f).map(u64::from)
}

fn is_len(f: &str) -> Option<usize> {
    let v = is_line(f)?;
    if (5..=4096).contains(&v) {
        Some(v as usize)
    } else {
        None
    }
}

fn hex(f: &str) -> Option<Vec<u8>> {
    let b = f.as_bytes();
    if b.len() % 2 != 0 || !b.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    b.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
        .collect()
}

fn is_path(f: &str) -> bool {
    !f.is_empty() && f.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Phase 1: validates the whole script and builds the op tree.
fn parse(content: &'static [u8]) -> Result<Vec<Op>, ParseError> {
    let mut lines: Vec<&'static [u8]> = content.split(|&b| b == b'\n').collect();
    if content.ends_with(b"\n") {
        lines.pop();
    }
    // Stack of blocks: (ops, open frames, line of BEGIN).
    let mut blocks: Vec<(Vec<Op>, usize, usize)> = vec![(Vec::new(), 0, 0)];
    let mut other_seen = false;
    for (i, raw) in lines.iter().enumerate() {
        let lineno = i + 1;
        let fail = |reason: String| ParseError {
            line: lineno,
            reason,
        };
        if raw.contains(&0) {
            return Err(fail("NUL byte".into()));
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(fail("invalid UTF-8".into()));
        };
        if line.bytes().all(|c| c == b' ' || c == b'\t') || line.starts_with('#') {
            continue;
        }
        let f: Vec<&'static str> = line.split('\t').collect();
        let name = f[0];
        let counts: &[usize] = match name {
            "pre" => &[3],
            "predir" | "init" | "set" | "push" | "process" | "return" | "execute_if"
            | "keyword" | "fileprint" | "echo" | "sanity" | "thread" => &[2],
            "pop" | "unwind" | "is_pushed" | "flush" | "sanity_calls" | "end" | "off" | "on" => {
                &[1]
            }
            "enter" | "print" | "printx" | "dump" => &[4],
            "explain" | "explain_initial" => &[1, 2],
            _ => return Err(fail(format!("unknown op \"{name}\""))),
        };
        if !counts.contains(&f.len()) {
            return Err(fail(format!("wrong number of fields for \"{name}\"")));
        }
        let line_arg = |x: &str| is_line(x).ok_or_else(|| fail(format!("bad line number \"{x}\"")));
        let hex_arg = |x: &str| hex(x).ok_or_else(|| fail("bad hex data".into()));
        let op = match name {
            "pre" => {
                if !is_path(f[1]) {
                    return Err(fail(format!("bad path \"{}\"", f[1])));
                }
                hex_arg(f[2])?;
                None
            }
            "predir" => {
                if !is_path(f[1]) {
                    return Err(fail(format!("bad path \"{}\"", f[1])));
                }
                None
            }
            "init" => Some(Op::Init(f[1])),
            "set" => Some(Op::Set(f[1])),
            "push" => Some(Op::Push(f[1])),
            "pop" => Some(Op::Pop),
            "process" => Some(Op::Process(f[1])),
            "enter" => Some(Op::Enter(f[1], f[2], line_arg(f[3])?)),
            "return" => Some(Op::Return(line_arg(f[1])?)),
            "unwind" => Some(Op::Unwind),
            "print" => Some(Op::Print(f[1], line_arg(f[2])?, f[3].as_bytes().to_vec())),
            "printx" => {
                let l = line_arg(f[2])?;
                let h = hex_arg(f[3])?;
                if h.contains(&0) {
                    return Err(fail("NUL byte in message".into()));
                }
                Some(Op::Print(f[1], l, h))
            }
            "dump" => Some(Op::Dump(f[1], line_arg(f[2])?, hex_arg(f[3])?)),
            "execute_if" => Some(Op::ExecuteIf(f[1])),
            "keyword" => Some(Op::Keyword(f[1])),
            "explain" | "explain_initial" => {
                let len = match f.get(1) {
                    Some(x) => {
                        Some(is_len(x).ok_or_else(|| fail(format!("bad buffer length \"{x}\"")))?)
                    }
                    None => None,
                };
                Some(if name == "explain" {
                    Op::Explain(len)
                } else {
                    Op::ExplainInitial(len)
                })
            }
            "is_pushed" => Some(Op::IsPushed),
            "fileprint" => Some(Op::FilePrint(f[1])),
            "flush" => Some(Op::Flush),
            "echo" => Some(Op::Echo(f[1])),
            "sanity" => Some(Op::Sanity(
                is_n(f[1]).ok_or_else(|| fail(format!("bad number \"{}\"", f[1])))?,
            )),
            "sanity_calls" => Some(Op::SanityCalls),
            "end" => Some(Op::End),
            "off" => Some(Op::Off),
            "on" => Some(Op::On),
            "thread" => {
                if f[1] != "BEGIN" && f[1] != "END" {
                    return Err(fail(format!("bad thread argument \"{}\"", f[1])));
                }
                None
            }
            _ => None,
        };
        if name == "pre" || name == "predir" {
            if other_seen {
                return Err(fail("pre after other ops".into()));
            }
            continue;
        }
        other_seen = true;
        let Some(top) = blocks.last_mut() else {
            return Err(fail("internal error".into()));
        };
        match name {
            "enter" => top.1 += 1,
            "return" | "unwind" => {
                if top.1 == 0 {
                    return Err(fail(format!("{name} without open frame")));
                }
                top.1 -= 1;
            }
            "thread" if f[1] == "BEGIN" => {
                blocks.push((Vec::new(), 0, lineno));
                continue;
            }
            "thread" => {
                if blocks.len() < 2 {
                    return Err(fail("thread END without BEGIN".into()));
                }
                if let Some((ops, _, _)) = blocks.pop() {
                    if let Some(outer) = blocks.last_mut() {
                        outer.0.push(Op::Thread(ops));
                    }
                }
                continue;
            }
            _ => {}
        }
        if let (Some(op), Some(top)) = (op, blocks.last_mut()) {
            top.0.push(op);
        }
    }
    if blocks.len() > 1 {
        let line = blocks.last().map(|b| b.2).unwrap_or(0);
        return Err(ParseError {
            line,
            reason: "thread BEGIN without END".into(),
        });
    }
    Ok(blocks.pop().map(|b| b.0).unwrap_or_default())
}

static SANITY_CALLS: AtomicU64 = AtomicU64::new(0);
static SANITY_FAIL_AT: AtomicU64 = AtomicU64::new(0);

fn out(line: &[u8]) {
    let mut v = line.to_vec();
    v.push(b'\n');
    dbug::stdout_write_flush(&v);
}

fn explain_line(label: &str, len: Option<usize>, e: dbug::Explained) {
    let mut v = Vec::new();
    match len {
        Some(l) => v.extend_from_slice(format!("[{label} len={l}] \"").as_bytes()),
        None => v.extend_from_slice(format!("[{label}] \"").as_bytes()),
    }
    v.extend_from_slice(&e.text);
    v.extend_from_slice(format!("\" rc={}", u8::from(e.truncated)).as_bytes());
    out(&v);
}

/// Phase 2: runs a block of ops in the current thread.
fn run(ops: &'static [Op]) {
    let mut frames: Vec<FrameToken> = Vec::new();
    for op in ops {
        match op {
            Op::Init(s) => engine::set_initial(&ControlString::parse_lenient(s), None),
            Op::Set(s) => engine::set(&ControlString::parse_lenient(s), None),
            Op::Push(s) => engine::push(&ControlString::parse_lenient(s), None),
            Op::Pop => engine::pop(),
            Op::Process(s) => engine::set_process(s),
            Op::Enter(func, file, line) => frames.push(engine::enter(func, file, *line)),
            Op::Return(line) => {
                if let Some(t) = frames.pop() {
                    engine::ret(t, *line);
                }
            }
            Op::Unwind => {
                if let Some(t) = frames.pop() {
                    engine::unwind(t);
                }
            }
            Op::Print(kw, line, msg) => engine::print(kw, *line, msg),
            Op::Dump(kw, line, data) => engine::dump(kw, *line, data),
            Op::ExecuteIf(kw) => {
                let r = if engine::execute_if(kw) {
                    "fired"
                } else {
                    "no"
                };
                out(format!("[execute_if {kw}] {r}").as_bytes());
            }
            Op::Keyword(kw) => {
                out(format!("[keyword {kw}] {}", u8::from(engine::keyword(kw))).as_bytes());
            }
            Op::Explain(len) => explain_line("explain", *len, engine::explain(len.unwrap_or(1024))),
            Op::ExplainInitial(len) => explain_line(
                "explain_initial",
                *len,
                engine::explain_initial(len.unwrap_or(1024)),
            ),
            Op::IsPushed => {
                out(format!("[is_pushed] {}", u8::from(engine::is_pushed())).as_bytes());
            }
            Op::FilePrint(s) => {
                let mut v = s.as_bytes().to_vec();
                v.push(b'\n');
                engine::file_write(&v);
            }
            Op::Flush => engine::flush(),
            Op::Echo(s) => out(s.as_bytes()),
            Op::Sanity(n) => SANITY_FAIL_AT.store(*n, Ordering::SeqCst),
            Op::SanityCalls => {
                out(format!("[sanity_calls] {}", SANITY_CALLS.load(Ordering::SeqCst)).as_bytes());
            }
            Op::End => engine::end(),
            Op::Off => engine::off(),
            Op::On => engine::on(),
            Op::Thread(block) => {
                let block: &'static [Op] = block;
                let h = std::thread::spawn(move || {
                    engine::register_thread(None);
                    run(block);
                    engine::unregister_thread();
                });
                let _ = h.join();
            }
        }
    }
}

fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 {
        eprintln!("replay: usage: replay SCRIPT");
        return ExitCode::from(2);
    }
    let content = match std::fs::read(&args[1]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("replay: cannot read {}: {}", args[1], strerror(&e));
            return ExitCode::from(2);
        }
    };
    let content: &'static [u8] = Box::leak(content.into_boxed_slice());
    let ops = match parse(content) {
        Ok(ops) => ops,
        Err(e) => {
            eprintln!("replay: line {}: {}", e.line, e.reason);
            return ExitCode::from(2);
        }
    };
    let ops: &'static [Op] = Box::leak(ops.into_boxed_slice());
    // Start-up (REPLAY 3.1): main thread is T@1, sanity hook, DBUG initialised.
    engine::set_auto_register(false);
    engine::set_exact_frames(true);
    engine::register_thread(None);
    engine::set_sanity_hook(|| {
        let n = SANITY_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
        let at = SANITY_FAIL_AT.load(Ordering::SeqCst);
        at != 0 && at == n
    });
    engine::init();
    let _ = engine::is_pushed();
    run(ops);
    engine::end();
    dbug::flush_all();
    ExitCode::SUCCESS
}
