//! `resolve-stack addr2line`: a drop-in for binutils `addr2line` that prints
//! byte for byte what binutils 2.40 prints for the same options.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use std::cell::RefCell;
use std::collections::HashMap;

use crate::symbolize::{Context, Frame, Module, demangle, unmangled_language};

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
        Ok(mut c) => {
            c.set_binutils_compat(true);
            c
        }
        Err(e) => {
            let _ = writeln!(stderr, "resolve-stack: {e}");
            return 1;
        }
    };
    let width = if ctx.object().is_64() { 16 } else { 8 };
    let threads = match std::env::var("RESOLVE_STACK_THREADS") {
        Ok(v) => v.parse().unwrap_or(1),
        Err(_) => std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
    };
    let result = std::thread::scope(|s| {
        let pool = Pool::start(s, &module, opts, width, threads.max(1) - 1);
        if addrs.is_empty() {
            stream_stdin(&pool, &ctx, stdin, stdout)
        } else {
            let pcs: Vec<u64> = addrs
                .iter()
                .map(|a| parse_address(&ctx, a.as_bytes()))
                .collect();
            pool.resolve(&ctx, &pcs, stdout)
        }
    });
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

/// Persistent worker threads, each with its own [`Context`] on the shared
/// [`Module`], started on first need. A large batch is sorted by address and
/// cut into slices at compilation-unit boundaries, one per thread, so that
/// each unit is parsed by one thread only; small batches (and binaries with a
/// single unit) are answered on the calling thread.
struct Pool<'scope, 'env> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    module: &'scope Module,
    max_workers: usize,
    jobs: std::cell::RefCell<Vec<std::sync::mpsc::Sender<Job>>>,
    done_tx: std::sync::mpsc::Sender<Chunk>,
    done: std::sync::mpsc::Receiver<Chunk>,
    opts: Options,
    width: usize,
    batch: usize,
    naming: Naming,
}

/// A slice of a sorted batch: (input index, address).
type Job = Vec<(u32, u64)>;

/// Formatted answers of one slice: one buffer plus (input index, end offset);
/// answers that need the [`Naming`] state are left for the calling thread
/// (their input indices in `redo`).
struct Chunk {
    text: Vec<u8>,
    ends: Vec<(u32, u32)>,
    redo: Vec<u32>,
}

const PARALLEL_MIN: usize = 1024;
/// Default batch size: answers of a batch are buffered, so this bounds memory.
const BATCH_MAX: usize = 1 << 12;

impl<'scope, 'env> Pool<'scope, 'env> {
    fn start(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        module: &'scope Module,
        opts: Options,
        width: usize,
        max_workers: usize,
    ) -> Self {
        let (done_tx, done) = std::sync::mpsc::channel::<Chunk>();
        Pool {
            scope,
            module,
            max_workers,
            jobs: std::cell::RefCell::new(Vec::new()),
            done_tx,
            done,
            opts,
            width,
            batch: std::env::var("RESOLVE_STACK_BATCH")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&b: &usize| b > 0)
                .unwrap_or(BATCH_MAX),
            naming: Naming::default(),
        }
    }

    /// Sends a job to worker `k`, starting workers up to `k` if needed.
    fn send(&self, k: usize, job: Job) -> bool {
        let mut jobs = self.jobs.borrow_mut();
        while jobs.len() <= k {
            let (tx, rx) = std::sync::mpsc::channel::<Job>();
            let done_tx = self.done_tx.clone();
            let (module, opts, width) = (self.module, self.opts, self.width);
            self.scope.spawn(move || {
                let ctx = module.context().map(|mut c| {
                    c.set_binutils_compat(true);
                    c
                });
                while let Ok(job) = rx.recv() {
                    let chunk = match &ctx {
                        Ok(c) => format_chunk(c, opts, width, &job),
                        Err(_) => {
                            let mut text = Vec::new();
                            let mut ends = Vec::with_capacity(job.len());
                            for &(i, pc) in &job {
                                format_unknown(opts, width, pc, &mut text);
                                ends.push((i, text.len() as u32));
                            }
                            Chunk {
                                text,
                                ends,
                                redo: Vec::new(),
                            }
                        }
                    };
                    if done_tx.send(chunk).is_err() {
                        return;
                    }
                }
            });
            jobs.push(tx);
        }
        jobs[k].send(job).is_ok()
    }

    /// Resolves a batch and writes the answers in input order.
    fn resolve(&self, ctx: &Context<'_>, pcs: &[u64], out: &mut dyn Write) -> io::Result<()> {
        for part in pcs.chunks(self.batch) {
            self.resolve_part(ctx, part, out)?;
        }
        Ok(())
    }

    /// Answers in input order on this thread, streaming the output.
    fn resolve_here(&self, ctx: &Context<'_>, pcs: &[u64], out: &mut dyn Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(4096);
        for &pc in pcs {
            format_one(ctx, self.opts, self.width, pc, &mut buf, Some(&self.naming));
            if buf.len() > 1 << 14 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)
    }

    fn resolve_part(&self, ctx: &Context<'_>, pcs: &[u64], out: &mut dyn Write) -> io::Result<()> {
        if pcs.len() < PARALLEL_MIN || self.max_workers == 0 {
            return self.resolve_here(ctx, pcs, out);
        }
        let mut order: Vec<(u32, u64)> = pcs
            .iter()
            .enumerate()
            .map(|(i, &pc)| (i as u32, pc))
            .collect();
        order.sort_unstable_by_key(|&(_, pc)| pc);
        let slices = split_by_unit(ctx, &order, self.max_workers + 1);
        if slices[1..].iter().all(|s| s.is_empty()) {
            // One unit (or no boundary): nothing to share, no need to buffer.
            return self.resolve_here(ctx, pcs, out);
        }
        let mine = slices[0];
        let mut sent = 0;
        for (k, slice) in slices[1..].iter().enumerate() {
            if !slice.is_empty() && self.send(k, slice.to_vec()) {
                sent += 1;
            }
        }
        let mut chunks = vec![format_chunk(ctx, self.opts, self.width, mine)];
        for _ in 0..sent {
            match self.done.recv() {
                Ok(c) => chunks.push(c),
                Err(_) => break,
            }
        }
        // Where each answer is: (chunk, start, end); REDO: formatted here,
        // in input order, with the naming state.
        const REDO: u32 = u32::MAX - 1;
        let mut place: Vec<(u32, u32, u32)> = vec![(u32::MAX, 0, 0); pcs.len()];
        for (ci, c) in chunks.iter().enumerate() {
            let mut start = 0u32;
            for &(i, end) in &c.ends {
                place[i as usize] = (ci as u32, start, end);
                start = end;
            }
            for &i in &c.redo {
                place[i as usize] = (REDO, 0, 0);
            }
        }
        let mut buf = Vec::with_capacity(1 << 16);
        for (k, &(ci, a, b)) in place.iter().enumerate() {
            if ci == REDO {
                format_one(
                    ctx,
                    self.opts,
                    self.width,
                    pcs[k],
                    &mut buf,
                    Some(&self.naming),
                );
            } else if ci == u32::MAX {
                format_unknown(self.opts, self.width, pcs[k], &mut buf);
            } else {
                buf.extend_from_slice(&chunks[ci as usize].text[a as usize..b as usize]);
            }
            if buf.len() > 1 << 14 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)
    }
}

/// Cuts sorted addresses into up to `n` slices of about equal size, each cut
/// moved to the nearest compilation-unit boundary (within half a slice) so
/// that no unit is parsed by two threads; where there is no such boundary
/// (one huge unit) the remaining addresses stay in the current slice.
fn split_by_unit<'a>(
    ctx: &Context<'_>,
    sorted: &'a [(u32, u64)],
    n: usize,
) -> Vec<&'a [(u32, u64)]> {
    let per = sorted.len().div_ceil(n.max(1));
    let slack = per / 2;
    let unit = |i: usize| ctx.unit_hint(sorted[i].1);
    // A boundary lies between two different known units (addresses outside
    // every unit do not separate anything).
    let boundary = |i: usize| {
        i == 0
            || i >= sorted.len()
            || matches!((unit(i - 1), unit(i)), (Some(a), Some(b)) if a != b)
    };
    let mut cuts = vec![0];
    for k in 1..n {
        let prev = cuts.last().copied().unwrap_or(0);
        let ideal = (k * per).min(sorted.len());
        // No boundary near the ideal cut: the rest stays with this slice.
        let mut best = sorted.len();
        for d in 0..=slack {
            if ideal + d <= sorted.len() && boundary(ideal + d) {
                best = ideal + d;
                break;
            }
            if d <= ideal && boundary(ideal - d) {
                best = ideal - d;
                break;
            }
        }
        cuts.push(best.max(prev));
    }
    cuts.push(sorted.len());
    cuts.windows(2).map(|w| &sorted[w[0]..w[1]]).collect()
}

fn format_chunk(ctx: &Context<'_>, opts: Options, width: usize, job: &[(u32, u64)]) -> Chunk {
    let mut text = Vec::with_capacity(job.len() * 64);
    let mut ends = Vec::with_capacity(job.len());
    let mut redo = Vec::new();
    for &(i, pc) in job {
        if format_one(ctx, opts, width, pc, &mut text, None) {
            ends.push((i, text.len() as u32));
        } else {
            redo.push(i);
        }
    }
    Chunk { text, ends, redo }
}

/// Bytes asked for by one `read` of stdin: the default pipe capacity, so a
/// file or a full pipe gives batches of several thousand addresses.
const READ_CHUNK: usize = 1 << 16;

/// One input line (as binutils cuts it) to an address: plain hex is parsed
/// here, other text by [`parse_address`] (which may look symbols up).
fn line_address(ctx: &Context<'_>, line: &[u8]) -> u64 {
    let t = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    if line.get(t).is_some_and(u8::is_ascii_digit) {
        scan_vma(&line[t..])
    } else {
        parse_address(ctx, line)
    }
}

/// Reads stdin the way binutils does (`fgets` into a 100-byte buffer: longer
/// lines become several addresses) and answers in batches, on this thread:
/// each `read` returns what is available (up to [`READ_CHUNK`] bytes), every
/// complete line of it is resolved together, then the output is flushed. So
/// an interactive caller writing one address at a time gets its answer at
/// once (nothing waits for more input while a complete line is unanswered),
/// and a file or a busy pipe is resolved in large sorted batches. (No reader
/// thread: its stack and malloc arena cost more memory than they save time.)
fn stream_stdin(
    pool: &Pool<'_, '_>,
    ctx: &Context<'_>,
    stdin: &mut (dyn BufRead + Send),
    stdout: &mut dyn Write,
) -> io::Result<()> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut pending: Vec<u8> = Vec::with_capacity(100);
    let mut pcs: Vec<u64> = Vec::new();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        pcs.clear();
        if n == 0 {
            if !pending.is_empty() {
                pcs.push(line_address(ctx, &pending));
                pool.resolve(ctx, &pcs, stdout)?;
                stdout.flush()?;
            }
            return Ok(());
        }
        for &b in &buf[..n] {
            pending.push(b);
            if b == b'\n' || pending.len() == 99 {
                pcs.push(line_address(ctx, &pending));
                pending.clear();
            }
        }
        if !pcs.is_empty() {
            pool.resolve(ctx, &pcs, stdout)?;
            stdout.flush()?;
        }
    }
}

fn push_addr(opts: Options, width: usize, pc: u64, out: &mut Vec<u8>) {
    if opts.addresses {
        let _ = write!(out, "0x{pc:0width$x}");
        out.extend_from_slice(if opts.pretty { b": " } else { b"\n" });
    }
}

/// binutils cuts addresses to the ELF class's size (x86 does not
/// sign-extend): `0x7f6c280beaa8e3e7` is `0xeaa8e3e7` for a 32-bit object.
fn arch_mask(width: usize, pc: u64) -> u64 {
    if width == 8 { pc & 0xffff_ffff } else { pc }
}

fn format_unknown(opts: Options, width: usize, pc: u64, out: &mut Vec<u8>) {
    let pc = arch_mask(width, pc);
    push_addr(opts, width, pc, out);
    if opts.functions {
        out.extend_from_slice(if opts.pretty { b"?? " } else { b"??\n" });
    }
    out.extend_from_slice(b"??:0\n");
}

/// binutils' naming of functions whose DWARF name is not a linkage name: C++
/// and Rust functions without `DW_AT_linkage_name` (`extern "C"` functions,
/// `main`, templates instantiated with lambdas, functions in anonymous
/// namespaces). binutils (`_bfd_dwarf2_find_nearest_line`) prints, the first
/// time such a function is the innermost one of a lookup, the name of the
/// symbol-table function covering the address; if that symbol starts where
/// the function's first address range starts, the function is renamed to it
/// for every later lookup (also as the caller in inline chains), otherwise
/// later lookups print its DWARF name. This depends on the order of lookups,
/// so answers that involve such functions are formatted in input order on
/// one thread, with one `Naming`.
#[derive(Default)]
pub struct Naming {
    /// (unit offset, DIE offset) → the name binutils renamed the function
    /// to, or `None` when it keeps its DWARF name.
    funcs: RefCell<HashMap<(usize, u64), Option<String>>>,
}

/// Whether binutils treats the frame's function name as not a linkage name
/// (the `addr2line` crate prefers `DW_AT_linkage_name`, which is mangled
/// for C++ and Rust, so a name that is not mangled came from `DW_AT_name`).
fn non_linkage(f: &Frame<'_>) -> bool {
    let Some(n) = &f.function else {
        return false;
    };
    !(n.starts_with("_Z") || n.starts_with("_R") || f.language.is_some_and(unmangled_language))
}

/// Formats the answer for one address exactly as binutils `addr2line` does.
/// Answers that involve [`Naming`] state need `naming`; without it they are
/// left out (nothing is written) and `false` is returned.
pub fn format_one(
    ctx: &Context<'_>,
    opts: Options,
    width: usize,
    pc: u64,
    out: &mut Vec<u8>,
    naming: Option<&Naming>,
) -> bool {
    let pc = arch_mask(width, pc);
    let lookup = ctx.lookup(pc).unwrap_or_default();
    if !lookup.found() {
        format_unknown(opts, width, pc, out);
        return true;
    }
    // binutils' state for functions without a linkage name.
    let nl = |f: &Frame<'_>| non_linkage(f);
    let stateful = lookup.frames.first().is_some_and(nl)
        || (opts.inlines
            && lookup.frames.first().is_some_and(|f| f.function.is_some())
            && lookup.frames.iter().skip(1).any(nl));
    let mut names: Vec<Option<String>> = Vec::new();
    if stateful {
        let Some(naming) = naming else {
            return false;
        };
        names = vec![None; lookup.frames.len()];
        if let Some(unit) = ctx.unit_offset(pc) {
            let mut funcs = naming.funcs.borrow_mut();
            for (i, f) in lookup.frames.iter().enumerate() {
                if !nl(f) || (i > 0 && !opts.inlines) {
                    continue;
                }
                let Some(die) = f.die else { continue };
                match funcs.get(&(unit, die)) {
                    Some(renamed) => names[i] = renamed.clone(),
                    None if i == 0 => {
                        let renamed = match ctx.symbol(pc) {
                            Some(sym) => {
                                names[0] = Some(sym.name.to_string());
                                (ctx.function_low(pc, die) == Some(sym.address))
                                    .then(|| sym.name.to_string())
                            }
                            None => None,
                        };
                        funcs.insert((unit, die), renamed);
                    }
                    None => {}
                }
            }
        }
    }
    let name_of = |i: usize, f: &Frame<'_>| -> Option<String> {
        names
            .get(i)
            .cloned()
            .flatten()
            .or_else(|| f.function.as_deref().map(str::to_string))
    };
    push_addr(opts, width, pc, out);
    // The innermost (function, file, line) as binutils' find_nearest_line gives it.
    let (first_fn, first_file, first_line): (Option<String>, Option<&str>, u32) =
        match lookup.frames.first() {
            Some(f) => {
                let name = match name_of(0, f) {
                    Some(n) => Some(n),
                    None => lookup.symbol.as_ref().map(|s| s.name.to_string()),
                };
                let file = f.file.as_deref().or_else(|| {
                    if f.function.is_none() {
                        lookup.symbol.as_ref().and_then(|s| s.file)
                    } else {
                        None
                    }
                });
                (name, file, f.line)
            }
            None => match &lookup.symbol {
                Some(s) => (Some(s.name.to_string()), s.file, 0),
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
                        demangled(n, out);
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
    emit(out, first_fn.as_deref(), first_file, first_line);
    if opts.inlines && lookup.frames.first().is_some_and(|f| f.function.is_some()) {
        for (i, f) in lookup.frames.iter().enumerate().skip(1) {
            if opts.pretty {
                out.extend_from_slice(b" (inlined by) ");
            }
            emit(out, name_of(i, f).as_deref(), f.file.as_deref(), f.line);
        }
    }
    true
}

/// Appends the demangled `name` (not cached: in large batches most
/// addresses hit distinct functions, and a cache of long C++ names costs more
/// memory than the demangling costs time).
fn demangled(name: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(demangle::demangle_or_raw(name).as_bytes());
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
