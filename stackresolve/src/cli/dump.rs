//! `resolve-stack -s SYMFILE [-n DUMPFILE]` and
//! `resolve-stack resolve_stack_dump [-s SYMFILE] [-n DUMPFILE] [SYMFILE [DUMPFILE]]`
//! (also when the program is invoked as `resolve_stack_dump`): MySQL's
//! `resolve_stack_dump` (5.7 era, "Ver 1.5") behaviour, as described in
//! FORMATS.md §2.3.
//!
//! Positional files follow MySQL's `parse_args`: two name the symbol file
//! and the dump file (overriding `-s`/`-n`); one is the symbol file unless
//! `-s` was given, else the dump file unless `-n` was given, else a usage
//! error; none requires `-s`.
//!
//! The symbol file is `nm -n` output (any symbol type; lines without an
//! address or with address 0 are skipped) and must be sorted. Each dump line
//! holding `0x…` (after the first `[` if there is one, and white space) is
//! replaced by `0xADDR SYMBOL + DECIMAL_OFFSET`, or `0xADDR (?)` below the
//! first symbol; other lines are echoed unchanged. The dump is read from
//! stdin when `-n` is absent.

use std::io::{BufRead, Read, Write};

use clap::{Arg, Command};

fn command() -> Command {
    Command::new("resolve-stack")
        .about("Resolve a numeric stack dump against `nm -n` output (MySQL resolve_stack_dump compatible)")
        .arg(
            Arg::new("symbols-file")
                .short('s')
                .long("symbols-file")
                .value_name("SYMFILE")
                .help("Output of nm -n (or nm -n --demangle)"),
        )
        .arg(
            Arg::new("numeric-dump-file")
                .short('n')
                .long("numeric-dump-file")
                .value_name("DUMPFILE")
                .help("The numeric stack dump (stdin if absent)"),
        )
        .arg(
            Arg::new("files")
                .num_args(0..)
                .value_name("SYMFILE [DUMPFILE]")
                .help("MySQL's positional form: symbols file, then the dump file"),
        )
}

/// The symbol file and the dump file (`None`: stdin) chosen from the options
/// and the positional arguments exactly as MySQL's `parse_args` does; an
/// error message for a usage error.
pub fn choose_files(
    sym: Option<String>,
    dump: Option<String>,
    positional: &[String],
) -> Result<(String, Option<String>), String> {
    let (sym, dump) = match positional {
        [s, d] => (Some(s.clone()), Some(d.clone())),
        [one] if sym.is_none() => (Some(one.clone()), dump),
        [one] if dump.is_none() => (sym, Some(one.clone())),
        [_] => return Err("both -s and -n given, and one more file name".into()),
        [] => (sym, dump),
        _ => return Err("too many file names: at most SYMFILE and DUMPFILE".into()),
    };
    match sym {
        Some(s) => Ok((s, dump)),
        None => Err("no symbols file: give -s SYMFILE or SYMFILE (the output of nm -n)".into()),
    }
}

/// One symbol of the symbol file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sym {
    /// Its address.
    pub address: u64,
    /// Its name (the rest of the nm line).
    pub name: String,
}

/// Parses `nm -n` output. Errors when the table is not sorted.
pub fn parse_symbols(text: &str) -> Result<Vec<Sym>, String> {
    let mut syms: Vec<Sym> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let t = line.trim_start();
        let end = t.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(t.len());
        let Ok(address) = u64::from_str_radix(&t[..end], 16) else {
            continue;
        };
        if address == 0 {
            continue;
        }
        let rest = t[end..].trim_start();
        let mut chars = rest.chars();
        if chars.next().is_none() {
            continue;
        }
        let name = chars.as_str().trim_start().to_string();
        if let Some(last) = syms.last()
            && address < last.address
        {
            return Err(
                "sym table does not appear to be sorted, did you forget --numeric-sort arg to nm?"
                    .into(),
            );
        }
        syms.push(Sym { address, name });
    }
    Ok(syms)
}

/// Resolves one dump line (MySQL behaviour).
pub fn resolve_line(syms: &[Sym], line: &str) -> String {
    let start = line.find('[').map_or(0, |p| p + 1);
    let rest = line[start..].trim_start();
    let Some(hexpart) = rest.strip_prefix("0x") else {
        return line.to_string();
    };
    let end = hexpart
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(hexpart.len());
    let addr = u64::from_str_radix(&hexpart[..end], 16).unwrap_or(0);
    let i = syms.partition_point(|s| s.address <= addr);
    if i == 0 {
        return format!("{addr:#x} (?)");
    }
    let s = &syms[i - 1];
    let off = addr.wrapping_sub(s.address) as i32;
    format!("{addr:#x} {} + {off}", s.name)
}

/// Runs the dump mode.
pub fn run(
    args: Vec<String>,
    stdin: &mut (dyn BufRead + Send),
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let m = match command().no_binary_name(true).try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = write!(stderr, "{}", e.render());
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let positional: Vec<String> = m
        .get_many::<String>("files")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let (symfile, dumpfile) = match choose_files(
        m.get_one::<String>("symbols-file").cloned(),
        m.get_one::<String>("numeric-dump-file").cloned(),
        &positional,
    ) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(
                stderr,
                "resolve-stack: {e}\nUsage: resolve_stack_dump [-s SYMFILE] [-n DUMPFILE] [SYMFILE [DUMPFILE]]"
            );
            return 2;
        }
    };
    let symtext = match std::fs::read(&symfile) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            let _ = writeln!(
                stderr,
                "resolve-stack: cannot read symbols file {symfile}: {e}"
            );
            return super::resolve::EXIT_INPUT;
        }
    };
    let syms = match parse_symbols(&symtext) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(stderr, "resolve-stack: {e}");
            return 1;
        }
    };
    let mut dump = Vec::new();
    let r = match &dumpfile {
        Some(f) => std::fs::File::open(f).and_then(|mut fh| fh.read_to_end(&mut dump)),
        None => stdin.read_to_end(&mut dump),
    };
    if let Err(e) = r {
        let _ = writeln!(stderr, "resolve-stack: cannot read the numeric dump: {e}");
        return super::resolve::EXIT_INPUT;
    }
    let text = String::from_utf8_lossy(&dump);
    for line in text.lines() {
        if writeln!(stdout, "{}", resolve_line(&syms, line)).is_err() {
            return 0;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_behaviour() {
        let syms = parse_symbols(
            "                 U printf\n0000000000000000 a zero\n00000000009da3d0 T my_print_stacktrace\n00000000009da500 T foo(int, char const*)\n",
        )
        .expect("sorted");
        assert_eq!(syms.len(), 2);
        assert_eq!(
            resolve_line(&syms, "[0x9da402]"),
            "0x9da402 my_print_stacktrace + 50"
        );
        assert_eq!(
            resolve_line(&syms, "mysqld(x+0x1)[0x9da501] junk"),
            "0x9da501 foo(int, char const*) + 1"
        );
        assert_eq!(resolve_line(&syms, "0x10"), "0x10 (?)");
        assert_eq!(resolve_line(&syms, "no address here"), "no address here");
        assert_eq!(
            resolve_line(&syms, "0xffffffff"),
            format!(
                "0xffffffff foo(int, char const*) + {}",
                (0xffffffffu64 - 0x9da500) as i32
            )
        );
        assert!(parse_symbols("0000000000000010 T b\n0000000000000008 T a\n").is_err());
    }

    #[test]
    fn positional_files_like_mysql_parse_args() {
        let s = |v: &str| Some(v.to_string());
        let p = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(choose_files(None, None, &p(&["a"])), Ok(("a".into(), None)));
        assert_eq!(
            choose_files(None, None, &p(&["a", "b"])),
            Ok(("a".into(), s("b")))
        );
        // Two positionals override the options.
        assert_eq!(
            choose_files(s("x"), s("y"), &p(&["a", "b"])),
            Ok(("a".into(), s("b")))
        );
        assert_eq!(
            choose_files(s("x"), None, &p(&["b"])),
            Ok(("x".into(), s("b")))
        );
        assert_eq!(
            choose_files(None, s("y"), &p(&["a"])),
            Ok(("a".into(), s("y")))
        );
        assert!(choose_files(s("x"), s("y"), &p(&["a"])).is_err());
        assert!(choose_files(None, None, &p(&[])).is_err());
        assert!(choose_files(None, s("y"), &p(&[])).is_err());
        assert!(choose_files(None, None, &p(&["a", "b", "c"])).is_err());
        assert_eq!(choose_files(s("x"), None, &[]), Ok(("x".into(), None)));
    }
}
