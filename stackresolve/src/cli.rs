//! The `resolve-stack` program. `main` only calls [`run`].
//!
//! Modes, chosen by the first argument:
//!
//! * `resolve-stack addr2line [-a] [-f] [-i] [-C] [-p] [-s] -e FILE [ADDR…]`:
//!   binutils `addr2line` compatible ([`addr2line`]).
//! * `resolve-stack -s SYMFILE [-n DUMPFILE]`: MySQL `resolve_stack_dump`
//!   compatible ([`dump`]).
//! * `resolve-stack [options] [LOG…|-]`: annotate a crash log ([`resolve`]).

pub mod addr2line;
pub mod dump;
pub mod resolve;

use std::io::{BufRead, Write};

/// Runs `resolve-stack` with `args` (without the program name); returns the
/// process exit status.
pub fn run(
    args: Vec<String>,
    stdin: &mut (dyn BufRead + Send),
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    if args.first().map(String::as_str) == Some("addr2line") {
        return addr2line::run(args[1..].to_vec(), stdin, stdout, stderr);
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
