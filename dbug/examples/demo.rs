//! Traces a small nested program with `dbug` and prints the trace file.
//!
//! ```text
//! cargo run --release -p dbug --example demo [CONTROL_STRING]
//! ```
//!
//! The default control string is `d:t:i:N:O,<tmpdir>/dbug-demo.trace` (debug output for all
//! keywords, call tracing, thread names, line numbers, flushed file output); the
//! `inject_fault` keyword can be added to see fault injection fire, for example
//! `d:t:i:N:O,/tmp/x.trace` → `d,inject_fault:t:i:N:O,/tmp/x.trace` makes `parse` fail.

use std::process::ExitCode;

use dbug::{dbug_dump, dbug_enter, dbug_evaluate_if, dbug_execute_if, dbug_print, dbug_return};

fn checksum(data: &[u8]) -> u32 {
    let frame = dbug_enter!("checksum");
    dbug_dump!("dump", data);
    let sum = data.iter().map(|&b| u32::from(b)).sum();
    dbug_print!("info", "sum: {}", sum);
    dbug_return!(frame, sum)
}

fn parse(query: &str) -> Result<Vec<&str>, String> {
    let frame = dbug_enter!("parse");
    dbug_print!("query", "{}", query);
    if dbug_evaluate_if!("inject_fault", true, false) {
        dbug_print!("error", "injected parse failure");
        dbug_return!(frame, Err("injected fault".to_string()));
    }
    let words: Vec<&str> = query.split_whitespace().collect();
    dbug_print!("info", "{} words", words.len());
    dbug_return!(frame, Ok(words))
}

fn execute(query: &str) -> u32 {
    let frame = dbug_enter!("execute");
    let result = match parse(query) {
        Ok(words) => {
            dbug_execute_if!("slow_execute", {
                dbug_print!("info", "pretending to be slow");
            });
            checksum(words.join(" ").as_bytes())
        }
        Err(e) => {
            dbug_print!("error", "parse failed: {}", e);
            0
        }
    };
    dbug_return!(frame, result)
}

fn run(control: &str) -> Result<(), String> {
    dbug::set_global(control).map_err(|e| format!("bad control string: {e}"))?;
    let frame = dbug_enter!("main");
    let r = execute("SELECT name FROM users WHERE id = 1");
    dbug_print!("info", "result: {}", r);
    frame.ret(line!());
    dbug::flush_all();
    Ok(())
}

fn main() -> ExitCode {
    let default_file = std::env::temp_dir().join("dbug-demo.trace");
    let control = match std::env::args().nth(1) {
        Some(c) => c,
        None => format!("d:t:i:N:O,{}", default_file.display()),
    };
    if let Err(e) = run(&control) {
        eprintln!("demo: {e}");
        return ExitCode::from(2);
    }
    println!("control string: {control}");
    println!("explain:        {}", dbug::explain_global());
    let file = control_file(&control);
    match file {
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                println!("trace file:     {path}\n");
                print!("{text}");
            }
            Err(e) => {
                eprintln!("demo: cannot read trace file {path}: {e}");
                return ExitCode::from(1);
            }
        },
        None => println!("(the trace went to stdout/stderr)"),
    }
    ExitCode::SUCCESS
}

/// The last `o/O/a/A` file name of a control string, if any (not `-`).
fn control_file(control: &str) -> Option<String> {
    let ctl = dbug::ControlString::parse_lenient(control);
    let f = ctl
        .fields()
        .iter()
        .rev()
        .find(|f| matches!(f.flag, b'o' | b'O' | b'a' | b'A'))?;
    if f.modifier.is_empty() || f.modifier == "-" || f.sign == dbug::Sign::Minus {
        None
    } else {
        Some(f.modifier.clone())
    }
}
