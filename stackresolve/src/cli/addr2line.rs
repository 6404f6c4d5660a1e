//! `resolve-stack addr2line`: a drop-in for binutils `addr2line` that prints
//! byte for byte what binutils 2.40 prints for the same options.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use crate::symbolize::{Context, Module, demangle};

/// Output options, named after the binutils flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `-a`: print the address first.
    pub addresses: bool,
    /// `-f`: print function names.
    pub functions: bool,
    /// `-i`: unwind inlined functions.
    pub inlines: bool,
    /// `-C`: demangle.
    pub demangle: bool,
    /// `-p`: human-readable single-line layout.
    pub pretty: bool,
    /// `-s`: strip directories from file names.
    pub basenames: bool,
}

fn command() -> Command {
    let flag = |id: &'static str, short: char, long: &'static str, help: &'static str| {
        Arg::new(id)
            .short(short)
            .long(long)
            .help(help)
            .action(ArgAction::SetTrue)
    };
    Command::new("resolve-stack addr2line")
        .about("Convert addresses into line number/file name pairs (binutils compatible)")
        .arg(flag("addresses", 'a', "addresses", "Show addresses"))
        .arg(flag("functions", 'f', "functions", "Show function names"))
        .arg(flag("inlines", 'i', "inlines", "Unwind inlined functions"))
        .arg(
            Arg::new("demangle")
                .short('C')
                .long("demangle")
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("auto")
                .help("Demangle function names"),
        )
        .arg(flag(
            "pretty",
            'p',
            "pretty-print",
            "Make the output easier to read for humans",
        ))
        .arg(flag("basenames", 's', "basenames", "Strip directory names"))
        .arg(
            Arg::new("exe")
                .short('e')
                .long("exe")
                .value_name("FILE")
                .default_value("a.out")
                .help("Set the input file name (default is a.out)"),
        )
        .arg(
            Arg::new("target")
                .short('b')
                .long("target")
                .value_name("BFDNAME")
                .help("Accepted and ignored"),
        )
        .arg(flag(
            "no-recurse-limit",
            'r',
            "no-recurse-limit",
            "Accepted and ignored",
        ))
        .arg(flag(
            "recurse-limit",
            'R',
            "recurse-limit",
            "Accepted and ignored",
        ))
        .arg(
            Arg::new("address")
                .num_args(0..)
                .allow_hyphen_values(false)
                .value_name("ADDR"),
        )
}

/// Runs the addr2line mode with `args` (without the program name and the
/// `addr2line` word); returns the exit status.
pub fn run(
    args: Vec<String>,
    stdin: &mut (dyn BufRead + Send),
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let matches = match command().no_binary_name(true).try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = write!(stderr, "{text}");
            } else {
                let _ = write!(stdout, "{text}");
            }
            return code;
        }
    };
    let opts = Options {
        addresses: matches.get_flag("addresses"),
        functions: matches.get_flag("functions"),
        inlines: matches.get_flag("inlines"),
        demangle: matches.get_one::<String>("demangle").is_some(),
        pretty: matches.get_flag("pretty"),
        basenames: matches.get_flag("basenames"),
    };
    let exe = PathBuf::from(
        matches
            .get_one::<String>("exe")
            .map_or("a.out", String::as_str),
    );
    let addrs: Vec<String> = matches
        .get_many::<String>("address")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    if !exe.exists() {
        let _ = writeln!(stderr, "resolve-stack: '{}': No such file", exe.display());
        return 1;
    }
    let module = match Module::open(&exe) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(stderr, "resolve-stack: {e}");
            return 1;
        }
    };
    let ctx = match module.context() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(stderr, "resolve-stack: {e}");
            return 1;
        }
    };
    let width = if ctx.object().is_64() { 16 } else { 8 };
    let result = if addrs.is_empty() {
        stream_stdin(&module, &ctx, opts, width, stdin, stdout)
    } else {
        let pcs: Vec<u64> = addrs
            .iter()
            .map(|a| parse_address(&ctx, a.as_bytes()))
            .collect();
        resolve_batch(&module, &ctx, opts, width, &pcs, stdout)
    };
    match result {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            let _ = writeln!(stderr, "resolve-stack: {e}");
            1
        }
    }
}

use object::Object;

/// Reads stdin the way binutils does (`fgets` into a 100-byte buffer: longer
/// lines become several addresses) on a reader thread, and answers in
/// batches: everything that has arrived is resolved together, then the output
/// is flushed, so an interactive caller writing one address at a time gets its
/// answer at once while a piped file is resolved in large sorted batches.
fn stream_stdin(
    module: &Module,
    ctx: &Context<'_>,
    opts: Options,
    width: usize,
    stdin: &mut (dyn BufRead + Send),
    stdout: &mut dyn Write,
) -> io::Result<()> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(64);
    std::thread::scope(|s| {
        let reader = s.spawn(move || -> io::Result<()> {
            let mut pending: Vec<u8> = Vec::with_capacity(100);
            loop {
                let buf = stdin.fill_buf()?;
                if buf.is_empty() {
                    if !pending.is_empty() {
                        let _ = tx.send(vec![pending]);
                    }
                    return Ok(());
                }
                let mut chunk = Vec::new();
                for &b in buf {
                    pending.push(b);
                    if b == b'\n' || pending.len() == 99 {
                        chunk.push(std::mem::replace(&mut pending, Vec::with_capacity(100)));
                    }
                }
                let n = buf.len();
                stdin.consume(n);
                if !chunk.is_empty() && tx.send(chunk).is_err() {
                    return Ok(());
                }
            }
        });
        let mut result = Ok(());
        while let Ok(first) = rx.recv() {
            let mut lines = first;
            while let Ok(more) = rx.try_recv() {
                lines.extend(more);
            }
            let pcs: Vec<u64> = lines.iter().map(|l| parse_address(ctx, l)).collect();
            if let Err(e) =
                resolve_batch(module, ctx, opts, width, &pcs, stdout).and_then(|()| stdout.flush())
            {
                result = Err(e);
                break;
            }
        }
        drop(rx);
        match reader.join() {
            Ok(r) => result.and(r),
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// Resolves a batch of addresses and writes the answers in input order. Large
/// batches are sorted and split between threads (each with its own context).
fn resolve_batch(
    module: &Module,
    ctx: &Context<'_>,
    opts: Options,
    width: usize,
    pcs: &[u64],
    out: &mut dyn Write,
) -> io::Result<()> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if pcs.len() < 2048 || threads < 2 {
        let mut buf = Vec::with_capacity(256);
        for &pc in pcs {
            buf.clear();
            format_one(ctx, opts, width, pc, &mut buf);
            out.write_all(&buf)?;
        }
        return Ok(());
    }
    let mut order: Vec<u32> = (0..pcs.len() as u32).collect();
    order.sort_unstable_by_key(|&i| pcs[i as usize]);
    let mut texts: Vec<Vec<u8>> = vec![Vec::new(); pcs.len()];
    let chunk = order.len().div_ceil(threads);
    let results: Vec<Vec<(u32, Vec<u8>)>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (t, part) in order.chunks(chunk).enumerate() {
            if t == 0 {
                continue;
            }
            handles.push(s.spawn(move || {
                let mut res = Vec::with_capacity(part.len());
                match module.context() {
                    Ok(c) => {
                        for &i in part {
                            let mut b = Vec::new();
                            format_one(&c, opts, width, pcs[i as usize], &mut b);
                            res.push((i, b));
                        }
                    }
                    Err(_) => {
                        for &i in part {
                            let mut b = Vec::new();
                            format_unknown(opts, width, pcs[i as usize], &mut b);
                            res.push((i, b));
                        }
                    }
                }
                res
            }));
        }
        let mut first = Vec::new();
        if let Some(part) = order.chunks(chunk).next() {
            for &i in part {
                let mut b = Vec::new();
                format_one(ctx, opts, width, pcs[i as usize], &mut b);
                first.push((i, b));
            }
        }
        let mut all = vec![first];
        for h in handles {
            match h.join() {
                Ok(r) => all.push(r),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        all
    });
    for part in results {
        for (i, b) in part {
            texts[i as usize] = b;
        }
    }
    for t in &texts {
        out.write_all(t)?;
    }
    Ok(())
}

fn push_addr(opts: Options, width: usize, pc: u64, out: &mut Vec<u8>) {
    if opts.addresses {
        let _ = write!(out, "0x{pc:0width$x}");
        out.extend_from_slice(if opts.pretty { b": " } else { b"\n" });
    }
}

fn format_unknown(opts: Options, width: usize, pc: u64, out: &mut Vec<u8>) {
    push_addr(opts, width, pc, out);
    if opts.functions {
        out.extend_from_slice(if opts.pretty { b"?? " } else { b"??\n" });
    }
    out.extend_from_slice(b"??:0\n");
}

/// Formats the answer for one address exactly as binutils `addr2line` does.
pub fn format_one(ctx: &Context<'_>, opts: Options, width: usize, pc: u64, out: &mut Vec<u8>) {
    let lookup = ctx.lookup(pc).unwrap_or_default();
    if !lookup.found() {
        format_unknown(opts, width, pc, out);
        return;
    }
    push_addr(opts, width, pc, out);
    // The innermost (function, file, line) as binutils' find_nearest_line gives it.
    let (first_fn, first_file, first_line): (Option<&str>, Option<&str>, u32) =
        match lookup.frames.first() {
            Some(f) => {
                let name = match &f.function {
                    Some(n) => Some(n.as_ref()),
                    None => lookup.symbol.as_ref().map(|s| s.name),
                };
                let file = f.file.or_else(|| {
                    if f.function.is_none() {
                        lookup.symbol.as_ref().and_then(|s| s.file)
                    } else {
                        None
                    }
                });
                (name, file, f.line)
            }
            None => match &lookup.symbol {
                Some(s) => (Some(s.name), s.file, 0),
                None => (None, None, 0),
            },
        };
    let disc = lookup.discriminator;
    let emit = |out: &mut Vec<u8>, name: Option<&str>, file: Option<&str>, line: u32| {
        if opts.functions {
            let name = name.filter(|n| !n.is_empty());
            match name {
                None => out.extend_from_slice(b"??"),
                Some(n) => {
                    if opts.demangle {
                        out.extend_from_slice(demangle::demangle_or_raw(n).as_bytes());
                    } else {
                        out.extend_from_slice(n.as_bytes());
                    }
                }
            }
            out.extend_from_slice(if opts.pretty { b" at " } else { b"\n" });
        }
        let file = file.map(|f| {
            if opts.basenames {
                f.rsplit('/').next().unwrap_or(f)
            } else {
                f
            }
        });
        out.extend_from_slice(file.unwrap_or("??").as_bytes());
        out.push(b':');
        if line != 0 {
            if disc != 0 {
                let _ = writeln!(out, "{line} (discriminator {disc})");
            } else {
                let _ = writeln!(out, "{line}");
            }
        } else {
            out.extend_from_slice(b"?\n");
        }
    };
    emit(out, first_fn, first_file, first_line);
    if opts.inlines && lookup.frames.first().is_some_and(|f| f.function.is_some()) {
        for f in lookup.frames.iter().skip(1) {
            if opts.pretty {
                out.extend_from_slice(b" (inlined by) ");
            }
            emit(out, f.function.as_deref(), f.file, f.line);
        }
    }
}

/// Parses an address as binutils 2.40 `addr2line` does: leading white space
/// is skipped; text starting with a digit is hexadecimal (optional `0x`, up to
/// the first non-hex character, saturating); otherwise text with a `+` is
/// `SYMBOL+OFFSET` (offset in C notation: decimal, `0x` hex or `0` octal, may
/// be negative; an unknown symbol gives 0 — an empty name matches the
/// linker's empty `STT_FILE` symbol, if any); text
/// starting with a hex letter is hexadecimal (`compute` is 0xc); anything
/// else is a symbol name (0 if unknown).
pub fn parse_address(ctx: &Context<'_>, s: &[u8]) -> u64 {
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let s = &s[i..];
    match s.first() {
        None => return 0,
        Some(c) if c.is_ascii_digit() => return scan_vma(s),
        _ => {}
    }
    let text = String::from_utf8_lossy(s);
    if let Some(p) = text.find('+') {
        let name = text[..p].trim_end();
        let off = strtol0(text[p + 1..].as_bytes());
        return match ctx.symbol_address_exact(name) {
            Some(a) => a.wrapping_add(off as u64),
            None => 0,
        };
    }
    if s[0].is_ascii_hexdigit() {
        return scan_vma(s);
    }
    ctx.symbol_address_exact(text.trim_end()).unwrap_or(0)
}

/// binutils' own `bfd_scan_vma` loop for base 16: optional `0x`, hex digits,
/// all ones on overflow, 0 when nothing parses.
pub fn scan_vma(s: &[u8]) -> u64 {
    let mut i = 0;
    if s.len() >= 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') {
        i = 2;
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(16) else {
            break;
        };
        match v.checked_mul(16).and_then(|x| x.checked_add(u64::from(d))) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if overflow { u64::MAX } else { v }
}

/// C `strtol(s, NULL, 0)` (wrapping instead of saturating).
fn strtol0(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut base = 10;
    if i + 1 < s.len()
        && s[i] == b'0'
        && (s[i + 1] == b'x' || s[i + 1] == b'X')
        && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        base = 16;
        i += 2;
    } else if i < s.len() && s[i] == b'0' {
        base = 8;
    }
    let mut v: i64 = 0;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(base) else {
            break;
        };
        v = v.wrapping_mul(i64::from(base)).wrapping_add(i64::from(d));
        i += 1;
    }
    if neg { v.wrapping_neg() } else { v }
}

#[cfg(test)]
mod tests {
    use super::scan_vma;

    #[test]
    fn scan_vma_like_strtoul() {
        assert_eq!(scan_vma(b"0x1234"), 0x1234);
        assert_eq!(scan_vma(b"1234\n"), 0x1234);
        assert_eq!(scan_vma(b"0X1aZ"), 0x1a);
        assert_eq!(scan_vma(b"foo"), 0xf);
        assert_eq!(scan_vma(b"zz"), 0);
        assert_eq!(scan_vma(b"0xg"), 0);
        assert_eq!(scan_vma(b"-1"), 0);
        assert_eq!(scan_vma(b"fffffffffffffffff"), u64::MAX);
        assert_eq!(scan_vma(b""), 0);
        assert_eq!(super::strtol0(b" -0x10"), -16);
        assert_eq!(super::strtol0(b"010"), 8);
        assert_eq!(super::strtol0(b"1f"), 1);
    }
}
