//! The `resolve-stack` program. `main` only calls [`run`].
//!
//! Modes, chosen by the first argument:
//!
//! * `resolve-stack addr2line [-a] [-f] [-i] [-C] [-p] [-s] -e FILE [ADDR…]`:
//!   binutils `addr2line` compatible ([`addr2line`]).
//! * `resolve-stack -s SYMFILE [-n DUMPFILE]`, or
//!   `resolve-stack resolve_stack_dump [options] SYMFILE [DUMPFILE]` (the
//!   word is implied when the program is invoked as `resolve_stack_dump`,
//!   see [`mode_args`]): MySQL `resolve_stack_dump` compatible ([`dump`]).
//! * `resolve-stack [options] [LOG…|-]`: annotate a crash log ([`resolve`]).

pub mod addr2line;
pub mod dump;
pub mod resolve;

use std::io::{BufRead, Write};

/// The mode word of the `resolve_stack_dump` compatibility mode.
pub const DUMP_WORD: &str = "resolve_stack_dump";

/// The arguments [`run`] gets for a process started as `argv0` with `args`:
/// a program named `resolve_stack_dump` (a symlink or copy of
/// `resolve-stack`) runs the `resolve_stack_dump` mode, with MySQL's
/// positional `SYMFILE [DUMPFILE]` form.
pub fn mode_args(argv0: &str, mut args: Vec<String>) -> Vec<String> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    if name == DUMP_WORD {
        args.insert(0, DUMP_WORD.to_string());
    }
    args
}

/// Runs `resolve-stack` with `args` (without the program name); returns the
/// process exit status.
pub fn run(
    args: Vec<String>,
    stdin: &mut (dyn BufRead + Send),
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    match args.first().map(String::as_str) {
        Some("addr2line") => return addr2line::run(args[1..].to_vec(), stdin, stdout, stderr),
        Some(DUMP_WORD) => return dump::run(args[1..].to_vec(), stdin, stdout, stderr),
        _ => {}
    }
    let dump_mode = args.iter().any(|a| {
        a == "-n"
            || a.starts_with("--symbols-file")
            || a.starts_with("--numeric-dump-file")
            || (a.starts_with("-s") && !a.starts_with("--"))
    });
    if dump_mode {
        return dump::run(args, stdin, stdout, stderr);
    }
    resolve::run(args, stdin, stdout, stderr)
}
