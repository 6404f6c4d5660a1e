//! `resolve-stack [options] [LOG…|-]`: annotates a crash log with source
//! locations.
//!
//! Every input line is printed unchanged; each frame that could be resolved is
//! followed by its resolution, indented by four spaces (innermost function
//! first, callers it was inlined into indented further):
//!
//! ```text
//! /opt/plugins/libauth.so(+0x118e)[0x7f2a6c32918e]
//!     crash_now at /src/auth/plugin.c:40
//!         inlined into depth1 at /src/auth/plugin.c:45
//! ```
//!
//! At the end, one `resolve-stack: module …` line per module says which file
//! was used (or why none was).
//!
//! With `--frames-only`, standard output holds only the frame lines (each
//! followed by its resolution, as above) and nothing else of the log; the
//! `resolve-stack: module …` lines are diagnostics then and go to standard
//! error, after standard output has been flushed (so where both go to one
//! file, as in the crash handler's error log, they still follow the frames).
//! This is what the crash handler runs on its own finished report, which is
//! already in the error log.
//!
//! Exit status: 0 success; 2 usage error; 3 unreadable input; 4 a module
//! needed by some frame was not found; 5 a module's build-id differs from the
//! report's (refused without `--force`). When both 4 and 5 apply, 5 wins.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use crate::parse::{Frame, FrameKind, ModuleMapEntry, Report, parse};
use crate::symbolize::object::Object as _;
use crate::symbolize::{Context, LoadOptions, Module, Probe, demangle, hex};

/// Exit status: input could not be read.
pub const EXIT_INPUT: i32 = 3;
/// Exit status: a module needed by a frame was not found.
pub const EXIT_MISSING_MODULE: i32 = 4;
/// Exit status: a module's build-id differs from the report's.
pub const EXIT_MISMATCH: i32 = 5;

/// Options of the annotate mode.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The main executable (for frames naming it or naming no object).
    pub exe: Option<PathBuf>,
    /// Directories searched for plugins by file name.
    pub plugin_dirs: Vec<PathBuf>,
    /// Further directories searched by file name.
    pub search_paths: Vec<PathBuf>,
    /// Use modules whose build-id differs from the report's.
    pub force: bool,
    /// JSON output instead of the annotated log.
    pub json: bool,
    /// Text output of the frame lines and their resolutions only; the module
    /// lines go to [`Annotated::modules`] instead of the text.
    pub frames_only: bool,
}

fn command() -> Command {
    Command::new("resolve-stack")
        .about("Annotate crash-log frames with function, file and line")
        .arg(Arg::new("exe").long("exe").value_name("PATH").help("The main executable"))
        .arg(
            Arg::new("plugin-dir")
                .long("plugin-dir")
                .value_name("DIR")
                .action(ArgAction::Append)
                .help("Directory holding plugin libraries (repeatable)"),
        )
        .arg(
            Arg::new("search-path")
                .long("search-path")
                .value_name("DIR")
                .action(ArgAction::Append)
                .help("Directory searched for modules by file name (repeatable)"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Use modules whose build-id differs from the report's"),
        )
        .arg(
            Arg::new("frames-only")
                .long("frames-only")
                .action(ArgAction::SetTrue)
                .help(
                    "Print only the frame lines with their resolutions, not the rest of the log; \
                     the 'resolve-stack: module' lines go to stderr (after stdout is flushed)",
                ),
        )
        .arg(
            Arg::new("format")
                .long("format")
                .value_parser(["text", "json"])
                .default_value("text")
                .help("Output format"),
        )
        .arg(Arg::new("log").num_args(0..).value_name("LOG").help("Log files ('-' for stdin)"))
        .after_help(
            "Exit status: 0 ok, 2 usage, 3 unreadable input, 4 module not found, 5 build-id mismatch.\n\
             Other modes: `resolve-stack addr2line ...` (binutils compatible),\n\
             `resolve-stack -s SYMFILE [-n DUMPFILE]` (MySQL resolve_stack_dump compatible).",
        )
}

/// Runs the annotate mode.
pub fn run(
    args: Vec<String>,
    stdin: &mut (dyn BufRead + Send),
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let m = match command().no_binary_name(true).try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = write!(stderr, "{text}");
                return 2;
            }
            let _ = write!(stdout, "{text}");
            return 0;
        }
    };
    let many = |id: &str| -> Vec<PathBuf> {
        m.get_many::<String>(id)
            .map(|v| v.map(PathBuf::from).collect())
            .unwrap_or_default()
    };
    let opts = Options {
        exe: m.get_one::<String>("exe").map(PathBuf::from),
        plugin_dirs: many("plugin-dir"),
        search_paths: many("search-path"),
        force: m.get_flag("force"),
        json: m.get_one::<String>("format").map(String::as_str) == Some("json"),
        frames_only: m.get_flag("frames-only"),
    };
    if opts.json && opts.frames_only {
        let _ = writeln!(
            stderr,
            "resolve-stack: --frames-only applies to the text format, not --format json \
             (whose output holds only the frames already)"
        );
        return 2;
    }
    let logs: Vec<String> = m
        .get_many::<String>("log")
        .map(|v| v.cloned().collect())
        .unwrap_or_else(|| vec!["-".to_string()]);
    let mut text = String::new();
    for log in &logs {
        let mut buf = Vec::new();
        let r = if log == "-" {
            stdin.read_to_end(&mut buf)
        } else {
            std::fs::File::open(log).and_then(|mut f| f.read_to_end(&mut buf))
        };
        if let Err(e) = r {
            let _ = writeln!(stderr, "resolve-stack: cannot read {log}: {e}");
            return EXIT_INPUT;
        }
        text.push_str(&String::from_utf8_lossy(&buf));
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
    }
    let out = annotate(&text, &opts);
    let written = stdout
        .write_all(out.text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(stderr, "resolve-stack: {e}");
        return 1;
    }
    let _ = stderr.write_all(out.modules.as_bytes());
    out.status
}

/// The result of annotating a log.
#[derive(Clone, Debug)]
pub struct Annotated {
    /// The output text (annotated log, frames only, or JSON).
    pub text: String,
    /// The `resolve-stack: module …` lines when they are not part of `text`
    /// (with [`Options::frames_only`]); empty otherwise.
    pub modules: String,
    /// The exit status (0, [`EXIT_MISSING_MODULE`] or [`EXIT_MISMATCH`]).
    pub status: i32,
}

#[derive(Debug)]
enum ModuleState {
    Loaded { index: usize, note: String },
    Missing(String),
    Mismatch(String),
}

/// One resolved source frame.
#[derive(Clone, Debug)]
struct Resolved {
    function: String,
    file: String,
    line: u32,
}

struct Resolver<'o> {
    opts: &'o Options,
    map: Vec<ModuleMapEntry>,
    modules: Vec<Module>,
    states: Vec<(String, ModuleState)>,
}

impl Resolver<'_> {
    fn basename(p: &str) -> &str {
        p.rsplit(['/', '\\']).next().unwrap_or(p)
    }

    fn map_entry_for(&self, object: Option<&str>, address: Option<u64>) -> Option<&ModuleMapEntry> {
        if let Some(obj) = object {
            if let Some(e) = self.map.iter().find(|e| e.path == obj) {
                return Some(e);
            }
            let b = Self::basename(obj);
            if let Some(e) = self.map.iter().find(|e| Self::basename(&e.path) == b) {
                return Some(e);
            }
            return None;
        }
        let a = address?;
        self.map.iter().find(|e| a >= e.start && a < e.end)
    }

    /// Finds (loading once) the module for an object name; returns its index.
    fn module(&mut self, key: &str, build_id: Option<&[u8]>) -> Option<usize> {
        if let Some((_, st)) = self.states.iter().find(|(k, _)| k == key) {
            return match st {
                ModuleState::Loaded { index, .. } => Some(*index),
                _ => None,
            };
        }
        let base = Self::basename(key).to_string();
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(exe) = &self.opts.exe
            && (key.is_empty() || Self::basename(&exe.to_string_lossy()) == base)
        {
            candidates.push(exe.clone());
        }
        for d in self
            .opts
            .plugin_dirs
            .iter()
            .chain(self.opts.search_paths.iter())
        {
            candidates.push(d.join(&base));
        }
        if !key.is_empty() {
            candidates.push(PathBuf::from(key));
        }
        let mut mismatch = None;
        let mut state = ModuleState::Missing(format!(
            "not found (looked in: {})",
            candidates
                .iter()
                .map(|c| c.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for c in &candidates {
            if !c.is_file() {
                continue;
            }
            let m = match Module::open_with(c, &LoadOptions::default()) {
                Ok(m) => m,
                Err(e) => {
                    state = ModuleState::Missing(format!("{e}"));
                    continue;
                }
            };
            let found_id = m.build_id().map(hex);
            let mut note = format!("using {}", c.display());
            if let Some(d) = m.debug_path() {
                let _ = write!(note, " (debug info from {})", d.display());
            }
            if let Some(want) = build_id {
                if m.build_id() != Some(want) {
                    let msg = format!(
                        "{} has build-id {}, the report says {}",
                        c.display(),
                        found_id.as_deref().unwrap_or("(none)"),
                        hex(want)
                    );
                    if !self.opts.force {
                        mismatch = Some(msg);
                        continue;
                    }
                    let _ = write!(note, "; FORCED although {msg}");
                } else {
                    note.push_str(", build-id matches");
                }
            }
            self.modules.push(m);
            let index = self.modules.len() - 1;
            self.states
                .push((key.to_string(), ModuleState::Loaded { index, note }));
            return Some(index);
        }
        if let Some(msg) = mismatch {
            state = ModuleState::Mismatch(format!("refused: {msg} (use --force to use it anyway)"));
        }
        self.states.push((key.to_string(), state));
        None
    }
}

/// Plan for one frame: which module and which address to look up.
struct Plan {
    line: usize,
    frame: usize,
    module: Option<usize>,
    probe: Option<Probe>,
    symbol_base: Option<(String, u64)>,
    exact: bool,
    problem: Option<String>,
}

fn is_trampoline(f: &Frame) -> bool {
    let obj = f.object.as_deref().unwrap_or("");
    let base = obj.rsplit('/').next().unwrap_or(obj);
    (base.starts_with("libpthread.so") || base.starts_with("libc.so"))
        && f.symbol
            .as_deref()
            .is_none_or(|s| s.contains("restore_rt") || s == "killpg")
}

/// Annotates a crash log (the library entry point of the annotate mode).
pub fn annotate(text: &str, opts: &Options) -> Annotated {
    let report: Report = parse(text);
    let mut r = Resolver {
        opts,
        map: report.modules.clone(),
        modules: Vec::new(),
        states: Vec::new(),
    };
    // Which frames are faulting frames (looked up as is): the frame right
    // after the signal trampoline; sanitizer/gdb frame #0.
    let mut plans: Vec<Plan> = Vec::new();
    let mut prev_trampoline = false;
    let mut seen_handler = false;
    // Position of a frame within its block of consecutive frame lines.
    let mut pos = 0usize;
    for (li, line) in report.lines.iter().enumerate() {
        if line.frames.is_empty() {
            pos = 0;
        }
        for (fi, f) in line.frames.iter().enumerate() {
            pos += 1;
            let kind = f.kind.unwrap_or(FrameKind::Glibc);
            if !matches!(
                kind,
                FrameKind::Glibc | FrameKind::Solaris | FrameKind::FreeBsd | FrameKind::Sanitizer
            ) {
                continue;
            }
            if f.symbol.as_deref().is_some_and(|s| {
                s.contains("handle_fatal_signal")
                    || s.contains("handle_segfault")
                    || s.contains("signal_handler")
            }) {
                seen_handler = true;
            }
            // Frame 0 is the handler, then the signal trampoline (its address
            // is the start of __restore_rt: looked up as is), then the
            // faulting instruction (as is); every other frame is a return
            // address.
            let trampoline = is_trampoline(f) && (seen_handler || pos <= 3);
            let exact = trampoline
                || prev_trampoline
                || (kind == FrameKind::Sanitizer && f.index == Some(0));
            prev_trampoline = trampoline;
            let mut plan = Plan {
                line: li,
                frame: fi,
                module: None,
                probe: None,
                symbol_base: None,
                exact,
                problem: None,
            };
            let entry = r.map_entry_for(f.object.as_deref(), f.address).cloned();
            let key = match (&f.object, &entry) {
                (_, Some(e)) => e.path.clone(),
                (Some(o), None) => o.clone(),
                (None, None) => String::new(),
            };
            if key.is_empty() && opts.exe.is_none() {
                continue; // a bare address with no module map and no --exe
            }
            let build_id = entry.as_ref().and_then(|e| e.build_id.clone());
            plan.module = r.module(&key, build_id.as_deref());
            let wrap = |a: u64| {
                if exact {
                    Probe::Exact(a)
                } else {
                    Probe::ReturnAddress(a)
                }
            };
            match (&f.symbol, f.offset, f.address) {
                (Some(sym), Some(off), _) if kind != FrameKind::Sanitizer => {
                    plan.symbol_base = Some((sym.clone(), off));
                }
                (_, Some(off), _) => plan.probe = Some(wrap(off)),
                (_, None, Some(a)) => match &entry {
                    Some(e) => plan.probe = Some(wrap(a.wrapping_sub(e.start))),
                    None => {
                        // Only a non-PIE executable is linked at its runtime address.
                        let is_exec = plan.module.is_some_and(|i| {
                            r.modules[i].context().is_ok_and(|c| {
                                c.object().kind()
                                    == crate::symbolize::object::ObjectKind::Executable
                            })
                        });
                        if is_exec {
                            plan.probe = Some(wrap(a));
                        } else {
                            plan.problem =
                                Some("runtime address without a module map entry".into());
                        }
                    }
                },
                _ => {}
            }
            plans.push(plan);
        }
    }
    // Resolve.
    let contexts: Vec<Option<Context<'_>>> = r.modules.iter().map(|m| m.context().ok()).collect();
    let mut results: HashMap<(usize, usize), Vec<Resolved>> = HashMap::new();
    for p in &plans {
        let Some(mi) = p.module else { continue };
        let Some(ctx) = contexts[mi].as_ref() else {
            continue;
        };
        let probe = match (&p.probe, &p.symbol_base) {
            (Some(pr), _) => Some(*pr),
            (None, Some((sym, off))) => ctx.symbol_address(sym).map(|base| {
                let a = base.wrapping_add(*off);
                if p.exact {
                    Probe::Exact(a)
                } else {
                    Probe::ReturnAddress(a)
                }
            }),
            _ => None,
        };
        let Some(probe) = probe else { continue };
        let Ok(l) = ctx.lookup(probe.lookup_address()) else {
            continue;
        };
        let mut frames = Vec::new();
        for (i, f) in l.frames.iter().enumerate() {
            let name = match &f.function {
                Some(n) => demangle::demangle_or_raw(n).into_owned(),
                None if i == 0 => l
                    .symbol
                    .as_ref()
                    .map(|s| demangle::demangle_or_raw(s.name).into_owned())
                    .unwrap_or_else(|| "??".into()),
                None => "??".into(),
            };
            frames.push(Resolved {
                function: name,
                file: f.file.as_deref().unwrap_or("??").to_string(),
                line: f.line,
            });
        }
        if frames.is_empty()
            && let Some(s) = &l.symbol
        {
            frames.push(Resolved {
                function: demangle::demangle_or_raw(s.name).into_owned(),
                file: "??".into(),
                line: 0,
            });
        }
        if !frames.is_empty() {
            results.insert((p.line, p.frame), frames);
        }
    }
    let mut status = 0;
    for (_, st) in &r.states {
        match st {
            ModuleState::Mismatch(_) => status = EXIT_MISMATCH,
            ModuleState::Missing(_) if status == 0 => status = EXIT_MISSING_MODULE,
            _ => {}
        }
    }
    let (text, modules) = if opts.json {
        (render_json(&report, &plans, &results, &r), String::new())
    } else {
        let (mut text, modules) = render_text(&report, &results, &r, opts.frames_only);
        if opts.frames_only {
            (text, modules)
        } else {
            text.push_str(&modules);
            (text, String::new())
        }
    };
    Annotated {
        text,
        modules,
        status,
    }
}

/// The annotated log (only the frame lines with `frames_only`) and the
/// module lines.
fn render_text(
    report: &Report,
    results: &HashMap<(usize, usize), Vec<Resolved>>,
    r: &Resolver<'_>,
    frames_only: bool,
) -> (String, String) {
    let mut out = String::new();
    for (li, line) in report.lines.iter().enumerate() {
        if frames_only && line.frames.is_empty() {
            continue;
        }
        out.push_str(&line.text);
        out.push('\n');
        for fi in 0..line.frames.len() {
            if let Some(frames) = results.get(&(li, fi)) {
                for (i, f) in frames.iter().enumerate() {
                    let loc = if f.line == 0 {
                        format!("{}:?", f.file)
                    } else {
                        format!("{}:{}", f.file, f.line)
                    };
                    if i == 0 {
                        let _ = writeln!(out, "    {} at {}", f.function, loc);
                    } else {
                        let _ = writeln!(out, "        inlined into {} at {}", f.function, loc);
                    }
                }
            }
        }
    }
    let mut modules = String::new();
    for (key, st) in &r.states {
        let name = if key.is_empty() {
            "(main executable)"
        } else {
            key
        };
        let msg = match st {
            ModuleState::Loaded { note, .. } => note.clone(),
            ModuleState::Missing(m) => format!("MISSING: {m}"),
            ModuleState::Mismatch(m) => format!("MISMATCH: {m}"),
        };
        let _ = writeln!(modules, "resolve-stack: module {name}: {msg}");
    }
    (out, modules)
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn render_json(
    report: &Report,
    plans: &[Plan],
    results: &HashMap<(usize, usize), Vec<Resolved>>,
    r: &Resolver<'_>,
) -> String {
    let opt_str = |s: Option<&str>| s.map_or("null".to_string(), json_str);
    let opt_hex = |v: Option<u64>| v.map_or("null".to_string(), |v| json_str(&format!("{v:#x}")));
    let mut out = String::from("{\"frames\":[");
    let mut first = true;
    for (li, line) in report.lines.iter().enumerate() {
        for (fi, f) in line.frames.iter().enumerate() {
            if !first {
                out.push(',');
            }
            first = false;
            let plan = plans.iter().find(|p| p.line == li && p.frame == fi);
            let _ = write!(
                out,
                "{{\"line\":{},\"text\":{},\"kind\":{},\"object\":{},\"symbol\":{},\"offset\":{},\"address\":{},\"lookup\":{},\"problem\":{},\"resolved\":[",
                li + 1,
                json_str(&line.text),
                json_str(&format!("{:?}", f.kind.unwrap_or(FrameKind::Glibc))),
                opt_str(f.object.as_deref()),
                opt_str(f.symbol.as_deref()),
                opt_hex(f.offset),
                opt_hex(f.address),
                opt_hex(plan.and_then(|p| p.probe).map(Probe::lookup_address)),
                opt_str(plan.and_then(|p| p.problem.as_deref())),
            );
            if let Some(frames) = results.get(&(li, fi)) {
                for (i, rf) in frames.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(
                        out,
                        "{{\"function\":{},\"file\":{},\"line\":{},\"inlined\":{}}}",
                        json_str(&rf.function),
                        json_str(&rf.file),
                        rf.line,
                        i > 0
                    );
                }
            }
            out.push_str("]}");
        }
    }
    out.push_str("],\"modules\":[");
    for (i, (key, st)) in r.states.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let (status, msg, path) = match st {
            ModuleState::Loaded { index, note } => (
                "ok",
                note.clone(),
                Some(r.modules[*index].path().display().to_string()),
            ),
            ModuleState::Missing(m) => ("missing", m.clone(), None),
            ModuleState::Mismatch(m) => ("mismatch", m.clone(), None),
        };
        let _ = write!(
            out,
            "{{\"name\":{},\"status\":{},\"path\":{},\"message\":{}}}",
            json_str(key),
            json_str(status),
            opt_str(path.as_deref()),
            json_str(&msg)
        );
    }
    out.push_str("]}\n");
    out
}
