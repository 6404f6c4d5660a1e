//! The DBUG engine: the global settings record, per-thread code state and settings stacks,
//! decisions and output. Independent of `tracing`.
//!
//! Every function here acts on the **calling thread** (its code state lives in a
//! thread-local), like the C library's `_db_*_` entry points. Function and file names are
//! `&'static str` (string literals, `tracing` metadata, or [`intern`]ed names).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock};

use crate::control::{ControlString, MAX_FILE_NAME, Sign, atoi};
use crate::list::{
    EXCLUDE, INCLUDE, List, MATCHED, NOT_MATCHED, SUBDIR, add_del, copy_reversed, in_list,
    list_flags, same_list,
};
use crate::stream::{Kind, Stream};
use crate::sys;

const DEBUG_ON: u32 = 1 << 1;
const FILE_ON: u32 = 1 << 2;
const LINE_ON: u32 = 1 << 3;
const DEPTH_ON: u32 = 1 << 4;
const PROCESS_ON: u32 = 1 << 5;
const NUMBER_ON: u32 = 1 << 6;
const PID_ON: u32 = 1 << 8;
const TIMESTAMP_ON: u32 = 1 << 9;
const FLUSH_ON_WRITE: u32 = 1 << 10;
const OPEN_APPEND: u32 = 1 << 11;
const SANITY_CHECK_ON: u32 = 1 << 12;
const TRACE_ON: u32 = 1 << 31;
const MAXDEPTH: u32 = 200;
const PRINTBUF: usize = 1024;

/// A failure to open a trace file named by an `o`/`O`/`a`/`A` field. The previous stream
/// stays in use (as in the C library); the record's file name is updated anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenError {
    /// The file name from the control string.
    pub name: String,
    /// The OS error number.
    pub errno: i32,
}

impl OpenError {
    /// The C library's `strerror` text for the error.
    pub fn reason(&self) -> String {
        sys::strerror(self.errno)
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "can't open debug output stream \"{}\": {}",
            self.name,
            self.reason()
        )
    }
}

impl std::error::Error for OpenError {}

/// The result of an explain call (SPEC 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The canonical control string, possibly cut to `capacity - 4` bytes plus `...`.
    pub text: Vec<u8>,
    /// True when the text was cut (the C return value 1).
    pub truncated: bool,
}

impl Explained {
    /// The text as a `String` (lossy for a cut in the middle of a UTF-8 character).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }
}

// ------------------------------------------------------------------------------------------
// Settings record

#[derive(Clone)]
pub(crate) struct Settings {
    flags: u32,
    maxdepth: u32,
    delay: u32,
    sub_level: u32,
    out: Option<Arc<Stream>>,
    name: String,
    functions: List,
    keywords: List,
    processes: List,
    /// Derived: enter/return need no decision (no trace, no sanity, no function list).
    quiet: bool,
    /// Derived: the trace bit of an outermost frame (no INCLUDE in the function list).
    default_bit: bool,
}

impl Settings {
    const fn uninit() -> Settings {
        Settings {
            flags: 0,
            maxdepth: 0,
            delay: 0,
            sub_level: 0,
            out: None,
            name: String::new(),
            functions: None,
            keywords: None,
            processes: None,
            quiet: true,
            default_bit: true,
        }
    }

    fn initial() -> Settings {
        let mut s = Settings::uninit();
        s.out = Some(Stream::stderr());
        s.flags = OPEN_APPEND;
        s
    }

    fn derive(&mut self) {
        self.quiet = self.flags & (TRACE_ON | SANITY_CHECK_ON) == 0 && self.functions.is_none();
        self.default_bit = list_flags(&self.functions) & INCLUDE == 0;
    }

    fn fflags(&self) -> u32 {
        if self.out.is_some() {
            list_flags(&self.functions)
        } else {
            TRACE_ON
        }
    }

    fn debugging(&self) -> bool {
        self.flags & DEBUG_ON != 0
    }

    fn tracing(&self) -> bool {
        self.flags & TRACE_ON != 0
    }
}

/// Everything the parser needs from the calling context.
struct ParseCtx<'a> {
    level: u32,
    process: &'a str,
    /// Collect open errors here instead of printing them (strict API).
    errors: Option<&'a mut Vec<OpenError>>,
}

fn release_stream(out: Option<Arc<Stream>>, process: &str) {
    if let Some(o) = out {
        if let Some(e) = o.release() {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            let msg = format!(
                "{}: can't close debug file: {}\n",
                process,
                sys::strerror(errno)
            );
            Stream::stderr().write(msg.as_bytes(), true);
        }
    }
}

fn truncate_name(name: &str) -> &str {
    if name.len() <= MAX_FILE_NAME {
        return name;
    }
    let mut i = MAX_FILE_NAME;
    while !name.is_char_boundary(i) {
        i -= 1;
    }
    &name[..i]
}

/// `Writable` of the C library: errno of the failing `access` call.
fn writable(name: &str) -> Result<(), i32> {
    if sys::access(name, false).is_ok() {
        return sys::access(name, true);
    }
    let dir = match name.rfind('/') {
        Some(i) => &name[..i],
        None => ".",
    };
    sys::access(dir, true)
}

fn open_file(rec: &mut Settings, name: &str, append: bool, ctx: &mut ParseCtx<'_>) {
    let name = truncate_name(name);
    rec.name = name.to_string();
    if name == "-" {
        release_stream(rec.out.take(), ctx.process);
        rec.out = Some(Stream::stdout());
        rec.flags |= FLUSH_ON_WRITE;
        rec.name.clear();
        return;
    }
    let res = writable(name).and_then(|()| {
        Stream::open(name, append).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
    });
    match res {
        Ok(s) => {
            release_stream(rec.out.take(), ctx.process);
            rec.out = Some(s);
        }
        Err(errno) => {
            let e = OpenError {
                name: name.to_string(),
                errno,
            };
            match ctx.errors.as_mut() {
                Some(v) => v.push(e),
                None => {
                    let msg = format!("{}: {}\n", ctx.process, e);
                    Stream::stderr().write(msg.as_bytes(), true);
                }
            }
        }
    }
}

/// `DbugParse`: applies `ctl` to `rec`. Returns true if the function list may have changed
/// (absolute string or an `f` field).
fn parse_into(
    rec: &mut Settings,
    parent: Option<&Settings>,
    parent_is_global: bool,
    ctl: &ControlString,
    ctx: &mut ParseCtx<'_>,
) -> bool {
    let rel = ctl.is_relative();
    let mut f_used = false;
    if !rel || (rec.out.is_none() && parent.is_none()) {
        release_stream(rec.out.take(), ctx.process);
        rec.flags = 0;
        rec.delay = 0;
        rec.maxdepth = 0;
        rec.sub_level = 0;
        rec.out = Some(Stream::stderr());
        rec.functions = None;
        rec.keywords = None;
        rec.processes = None;
    } else if rec.out.is_none() {
        if let Some(p) = parent {
            rec.flags = p.flags;
            rec.delay = p.delay;
            rec.maxdepth = p.maxdepth;
            rec.sub_level = p.sub_level;
            rec.name = p.name.clone();
            if let Some(o) = &p.out {
                o.acquire();
            }
            rec.out = p.out.clone();
            if parent_is_global {
                rec.functions = copy_reversed(&p.functions);
                rec.keywords = copy_reversed(&p.keywords);
                rec.processes = copy_reversed(&p.processes);
            } else {
                rec.functions = p.functions.clone();
                rec.keywords = p.keywords.clone();
                rec.processes = p.processes.clone();
            }
        }
    }
    let shared = |mine: &List, which: fn(&Settings) -> &List| match parent {
        Some(p) => same_list(mine, which(p)),
        None => false,
    };
    for f in ctl.fields() {
        let m = f.modifier.as_str();
        let minus = f.sign == Sign::Minus;
        match f.flag {
            b'd' => {
                if minus && m.is_empty() {
                    rec.keywords = None;
                    rec.flags &= !DEBUG_ON;
                    continue;
                }
                if rel && shared(&rec.keywords, |s| &s.keywords) {
                    rec.keywords = copy_reversed(&rec.keywords);
                }
                if minus {
                    if rec.debugging() {
                        add_del(&mut rec.keywords, m, EXCLUDE);
                    }
                } else {
                    add_del(&mut rec.keywords, m, INCLUDE);
                    rec.flags |= DEBUG_ON;
                }
            }
            b'D' => rec.delay = atoi(m) as u32,
            b'f' | b'p' => {
                let list = if f.flag == b'f' {
                    f_used = true;
                    &mut rec.functions
                } else {
                    &mut rec.processes
                };
                if minus && m.is_empty() {
                    *list = None;
                    continue;
                }
                let which: fn(&Settings) -> &List = if f.flag == b'f' {
                    |s| &s.functions
                } else {
                    |s| &s.processes
                };
                if rel && shared(list, which) {
                    *list = copy_reversed(list);
                }
                add_del(list, m, if minus { EXCLUDE } else { INCLUDE });
            }
            b'F' | b'i' | b'L' | b'n' | b'N' | b'P' | b'T' | b'S' => {
                let bit = match f.flag {
                    b'F' => FILE_ON,
                    b'i' => PID_ON,
                    b'L' => LINE_ON,
                    b'n' => DEPTH_ON,
                    b'N' => NUMBER_ON,
                    b'P' => PROCESS_ON,
                    b'T' => TIMESTAMP_ON,
                    _ => SANITY_CHECK_ON,
                };
                if minus {
                    rec.flags &= !bit;
                } else {
                    rec.flags |= bit;
                }
            }
            b'o' | b'O' | b'a' | b'A' => {
                if matches!(f.flag, b'O' | b'A') {
                    rec.flags |= FLUSH_ON_WRITE;
                }
                if minus {
                    release_stream(rec.out.take(), ctx.process);
                    rec.out = Some(Stream::stderr());
                    rec.flags &= !FLUSH_ON_WRITE;
                    continue;
                }
                let append = matches!(f.flag, b'a' | b'A');
                if append {
                    rec.flags |= OPEN_APPEND;
                } else {
                    rec.flags &= !OPEN_APPEND;
                }
                let name = if m.is_empty() { "-" } else { m };
                open_file(rec, name, append, ctx);
            }
            b'r' => rec.sub_level = ctx.level,
            b't' => {
                if minus {
                    if m.is_empty() {
                        rec.maxdepth = 0;
                    } else {
                        rec.maxdepth = rec.maxdepth.wrapping_sub(atoi(m) as u32);
                    }
                } else if m.is_empty() {
                    rec.maxdepth = MAXDEPTH;
                } else {
                    rec.maxdepth = rec.maxdepth.wrapping_add(atoi(m) as u32);
                }
                if rec.maxdepth > 0 {
                    rec.flags |= TRACE_ON;
                } else {
                    rec.flags &= !TRACE_ON;
                }
            }
            _ => {}
        }
    }
    rec.derive();
    !rel || f_used
}

/// `FreeState`: releases the record's stream (lists are simply dropped).
fn free_record(rec: Settings, process: &str) {
    release_stream(rec.out, process);
}

// ------------------------------------------------------------------------------------------
// Explain

fn explain_record(s: &Settings) -> Vec<u8> {
    let mut out = String::new();
    let colon = |o: &mut String| {
        if !o.is_empty() {
            o.push(':');
        }
    };
    let list = |o: &mut String, c: char, l: &List| {
        let f = list_flags(l);
        colon(o);
        o.push(c);
        let elems = |o: &mut String, want: u32| {
            if let Some(v) = l {
                for e in v.iter().filter(|e| e.flags & want != 0) {
                    o.push(',');
                    o.push_str(&e.text);
                    if e.flags & SUBDIR != 0 {
                        o.push('/');
                    }
                }
            }
        };
        if f & INCLUDE != 0 {
            elems(o, INCLUDE);
        }
        if f & EXCLUDE != 0 {
            colon(o);
            o.push('-');
            o.push(c);
            elems(o, EXCLUDE);
        }
    };
    let boolf = |o: &mut String, c: char, on: bool| {
        if on {
            colon(o);
            o.push(c);
        }
    };
    if s.debugging() {
        list(&mut out, 'd', &s.keywords);
    }
    if s.delay != 0 {
        colon(&mut out);
        let _ = write!(out, "D,{}", s.delay);
    }
    if s.functions.is_some() {
        list(&mut out, 'f', &s.functions);
    }
    boolf(&mut out, 'F', s.flags & FILE_ON != 0);
    boolf(&mut out, 'i', s.flags & PID_ON != 0);
    boolf(&mut out, 'L', s.flags & LINE_ON != 0);
    boolf(&mut out, 'n', s.flags & DEPTH_ON != 0);
    boolf(&mut out, 'N', s.flags & NUMBER_ON != 0);
    let is_stderr = matches!(&s.out, Some(o) if o.kind() == Kind::Stderr);
    if !is_stderr {
        colon(&mut out);
        let mut c = if s.flags & OPEN_APPEND != 0 { 'A' } else { 'O' };
        if s.flags & FLUSH_ON_WRITE == 0 {
            c = c.to_ascii_lowercase();
        }
        out.push(c);
        if !s.name.is_empty() {
            out.push(',');
            out.push_str(&s.name);
        }
    }
    if s.processes.is_some() {
        list(&mut out, 'p', &s.processes);
    }
    boolf(&mut out, 'P', s.flags & PROCESS_ON != 0);
    boolf(&mut out, 'r', s.sub_level != 0);
    if s.tracing() {
        colon(&mut out);
        out.push('t');
        if s.maxdepth != MAXDEPTH {
            let _ = write!(out, ",{}", s.maxdepth);
        }
    }
    boolf(&mut out, 'T', s.flags & TIMESTAMP_ON != 0);
    boolf(&mut out, 'S', s.flags & SANITY_CHECK_ON != 0);
    out.into_bytes()
}

/// The buffer rule of SPEC 9.2 for a buffer of `capacity` bytes (at least 5).
fn apply_capacity(mut text: Vec<u8>, capacity: usize) -> Explained {
    let limit = capacity.max(5) - 4;
    if text.len() >= limit {
        text.truncate(limit);
        text.extend_from_slice(b"...");
        Explained {
            text,
            truncated: true,
        }
    } else {
        Explained {
            text,
            truncated: false,
        }
    }
}

// ------------------------------------------------------------------------------------------
// Global state

const ST_ON: u64 = 1;
const ST_INIT: u64 = 2;
const ST_INERT: u64 = 4;
const ST_GEN: u64 = 8;

/// bit 0: DBUG on (`_dbug_on_`); bit 1: initialised; bit 2: inert (fast frame mode and
/// nothing enabled anywhere: frames are not tracked); the rest: a generation counter bumped
/// by every change of the global record or of the switches.
static STATE: AtomicU64 = AtomicU64::new(ST_ON);

struct Global {
    settings: Arc<Settings>,
}

static GLOBAL: LazyLock<Mutex<Global>> = LazyLock::new(|| {
    Mutex::new(Global {
        settings: Arc::new(Settings::initial()),
    })
});

/// Number of threads whose settings stack is not empty.
static PUSHED: AtomicUsize = AtomicUsize::new(0);
static EXACT_FRAMES: AtomicBool = AtomicBool::new(false);

static DB_PROCESS: Mutex<Option<Arc<str>>> = Mutex::new(None);
static THREAD_COUNTER: AtomicU32 = AtomicU32::new(0);
static INTERNED: LazyLock<Mutex<HashSet<&'static str>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

type SanityHook = Arc<dyn Fn() -> bool + Send + Sync>;
static SANITY: RwLock<Option<SanityHook>> = RwLock::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn bump(set: u64, clear: u64) {
    let mut cur = STATE.load(Ordering::Relaxed);
    loop {
        let new = ((cur | set) & !clear).wrapping_add(ST_GEN);
        match STATE.compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return,
            Err(x) => cur = x,
        }
    }
}

/// Sets the inert bit from the global record, the pushed-thread count and the frame mode.
fn update_inert_locked(g: &Global) {
    let st = STATE.load(Ordering::Acquire);
    let inert = !EXACT_FRAMES.load(Ordering::Relaxed)
        && st & ST_INIT != 0
        && PUSHED.load(Ordering::Acquire) == 0
        && g.settings.quiet
        && !g.settings.debugging();
    if inert != (st & ST_INERT != 0) {
        if inert {
            bump(ST_INERT, 0);
        } else {
            bump(0, ST_INERT);
        }
    }
}

fn update_inert() {
    update_inert_locked(&lock(&GLOBAL));
}

/// Chooses how frames are tracked (process-wide).
///
/// * `exact == false` (the default): while nothing is enabled anywhere (the global record
///   has no `d`, `t`, `S` or `f`, and no thread has its own record), `enter` does not track
///   the frame at all: an enter/return pair costs about as much as an atomic load. Such
///   frames are invisible to DBUG: if tracing is switched on while they are active, their
///   returns print nothing, the levels of new frames count from where tracing started, and
///   the missing-return check does not apply to them.
/// * `exact == true`: every frame of a registered thread is tracked, exactly as the C
///   library does (the missing-return abort fires even with no debug string set). The
///   replay tool uses this.
pub fn set_exact_frames(exact: bool) {
    EXACT_FRAMES.store(exact, Ordering::Relaxed);
    update_inert();
}

fn default_process() -> Arc<str> {
    lock(&DB_PROCESS)
        .clone()
        .unwrap_or_else(|| Arc::from("dbug"))
}

/// Returns a `&'static str` equal to `s`, allocating it once per distinct string.
pub fn intern(s: &str) -> &'static str {
    let mut set = lock(&INTERNED);
    if let Some(v) = set.get(s) {
        return v;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Installs the sanity hook called for the `S` flag on every passing enter and return. It
/// returns true to report a failure, which clears `S` in the thread's current record.
pub fn set_sanity_hook<F: Fn() -> bool + Send + Sync + 'static>(hook: F) {
    *SANITY.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
}

fn call_sanity() -> bool {
    let hook = SANITY.read().unwrap_or_else(|e| e.into_inner()).clone();
    match hook {
        Some(h) => h(),
        None => false,
    }
}

// ------------------------------------------------------------------------------------------
// Per-thread code state

#[derive(Clone, Copy)]
struct Frame {
    func: &'static str,
    file: &'static str,
    level: u32,
    trace: bool,
}

impl Frame {
    const EMPTY: Frame = Frame {
        func: "",
        file: "",
        level: 0,
        trace: false,
    };
}

const HOT_FRAMES: usize = 64;

/// The per-thread state the enter/return fast path needs, in plain `Cell`s (no `Drop`, no
/// borrow flag): the frame stack (the first [`HOT_FRAMES`] frames inline, deeper ones in
/// `OVERFLOW`), the nesting level, and a cache of the top record's `quiet` / `default_bit`
/// valid while `STATE == cached`.
struct Hot {
    cached: Cell<u64>,
    quiet: Cell<bool>,
    default_bit: Cell<bool>,
    level: Cell<u32>,
    depth: Cell<usize>,
    frames: [Cell<Frame>; HOT_FRAMES],
    /// How a keyword test of the top record can be decided (`KW_*`).
    kw_mode: Cell<u8>,
    /// Bumped whenever the top record (or the global snapshot) is re-read: keys `kw_cache`.
    kw_gen: Cell<u32>,
    kw_next: Cell<u8>,
    /// Cached keyword-list verdicts of the top record: `kw_key` packs the generation (bits
    /// 63..32, valid while equal to `kw_gen`), strict (bit 9), verdict (bit 8) and the
    /// keyword length (bits 7..0); `kw_text` holds the keyword.
    kw_key: [Cell<u64>; KW_CACHE],
    kw_text: [Cell<[u8; KW_MAX]>; KW_CACHE],
}

/// Keyword tests need the code state (`with_cs`).
const KW_SLOW: u8 = 0;
/// `d` is off in the top record: every keyword test fails.
const KW_NEVER: u8 = 1;
/// `d` on, no depth limit, no process list, no function list: the decision is the current
/// frame's trace bit (SPEC 6.1 INHERIT) and the rest is the keyword list, cached per keyword.
const KW_SIMPLE: u8 = 2;
const KW_CACHE: usize = 4;
const KW_MAX: usize = 32;

fn kw_key(generation: u32, strict: bool, len: usize) -> u64 {
    (u64::from(generation) << 32) | (u64::from(strict) << 9) | len as u64
}

thread_local! {
    static HOT: Hot = const {
        Hot {
            cached: Cell::new(u64::MAX),
            quiet: Cell::new(true),
            default_bit: Cell::new(true),
            level: Cell::new(0),
            depth: Cell::new(0),
            frames: [const { Cell::new(Frame::EMPTY) }; HOT_FRAMES],
            kw_mode: Cell::new(KW_SLOW),
            kw_gen: Cell::new(1),
            kw_next: Cell::new(0),
            kw_key: [const { Cell::new(0) }; KW_CACHE],
            kw_text: [const { Cell::new([0; KW_MAX]) }; KW_CACHE],
        }
    };
    static OVERFLOW: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

fn hot<R>(f: impl FnOnce(&Hot) -> R) -> Option<R> {
    HOT.try_with(f).ok()
}

fn fs_len() -> usize {
    hot(|h| h.depth.get()).unwrap_or(0)
}

fn fs_get(i: usize) -> Option<Frame> {
    hot(|h| {
        if i >= h.depth.get() {
            None
        } else if i < HOT_FRAMES {
            Some(h.frames[i].get())
        } else {
            OVERFLOW
                .try_with(|o| o.borrow().get(i - HOT_FRAMES).copied())
                .ok()
                .flatten()
        }
    })
    .flatten()
}

fn fs_set(i: usize, f: Frame) {
    let _ = hot(|h| {
        if i < HOT_FRAMES {
            h.frames[i].set(f);
        } else {
            let _ = OVERFLOW.try_with(|o| {
                if let Some(slot) = o.borrow_mut().get_mut(i - HOT_FRAMES) {
                    *slot = f;
                }
            });
        }
    });
}

#[inline]
fn fs_last() -> Option<Frame> {
    let inline = hot(|h| match h.depth.get() {
        0 => Ok(None),
        d if d <= HOT_FRAMES => Ok(Some(h.frames[d - 1].get())),
        d => Err(d),
    })?;
    match inline {
        Ok(f) => f,
        Err(d) => fs_get(d - 1),
    }
}

fn fs_push(f: Frame) -> usize {
    hot(|h| {
        let d = h.depth.get();
        if d < HOT_FRAMES {
            h.frames[d].set(f);
        } else {
            let _ = OVERFLOW.try_with(|o| {
                let mut o = o.borrow_mut();
                o.truncate(d - HOT_FRAMES);
                o.push(f);
            });
        }
        h.depth.set(d + 1);
        d
    })
    .unwrap_or(usize::MAX)
}

fn fs_pop() -> Option<Frame> {
    let n = fs_len();
    if n == 0 {
        return None;
    }
    let f = fs_get(n - 1);
    let _ = hot(|h| h.depth.set(n - 1));
    f
}

fn set_last_trace(trace: bool) {
    let n = fs_len();
    if let Some(mut f) = n.checked_sub(1).and_then(fs_get) {
        f.trace = trace;
        fs_set(n - 1, f);
    }
}

fn level() -> u32 {
    hot(|h| h.level.get()).unwrap_or(0)
}

fn set_level(l: u32) {
    let _ = hot(|h| h.level.set(l));
}

/// Identifies a frame opened by [`enter`]; pass it to [`ret`] or [`unwind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameToken(u32);

impl FrameToken {
    const INACTIVE: FrameToken = FrameToken(u32::MAX);
    const UNTRACKED: FrameToken = FrameToken(u32::MAX - 1);

    /// True if the frame was entered while DBUG was inert (see [`set_exact_frames`]): its
    /// return and unwind do nothing.
    pub fn is_untracked(self) -> bool {
        self == FrameToken::UNTRACKED
    }

    /// True if DBUG did not see the frame (it was entered while DBUG was off, or in an
    /// unregistered thread).
    pub fn is_inactive(self) -> bool {
        self == FrameToken::INACTIVE
    }
}

struct CodeState {
    process: Arc<str>,
    thread_name: Arc<str>,
    lineno: i32,
    stack: Vec<Settings>,
    global: Arc<Settings>,
    buf: Vec<u8>,
}

impl Drop for CodeState {
    fn drop(&mut self) {
        if !self.stack.is_empty() {
            PUSHED.fetch_sub(1, Ordering::AcqRel);
            update_inert();
        }
    }
}

struct ThreadState {
    name: Option<Arc<str>>,
    cs: Option<CodeState>,
}

thread_local! {
    static TS: RefCell<ThreadState> = const {
        RefCell::new(ThreadState { name: None, cs: None })
    };
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decision {
    Do,
    Dont,
    Enable,
    Disable,
}

impl Decision {
    fn passes(self) -> bool {
        matches!(self, Decision::Do | Decision::Enable)
    }
}

fn do_trace(s: &Settings, level: u32, func: &str, process: &str, bit: bool) -> Decision {
    if !(s.maxdepth == 0 || level <= s.maxdepth) {
        return Decision::Dont;
    }
    if in_list(&s.processes, process, false) & (MATCHED | INCLUDE) == 0 {
        return Decision::Dont;
    }
    match in_list(&s.functions, func, false) {
        x if x == INCLUDE | SUBDIR => Decision::Enable,
        INCLUDE => Decision::Do,
        x if x == MATCHED | SUBDIR || x == NOT_MATCHED | SUBDIR || x == MATCHED => {
            if bit {
                Decision::Do
            } else {
                Decision::Dont
            }
        }
        x if x == EXCLUDE | SUBDIR => Decision::Disable,
        _ => Decision::Dont,
    }
}

fn push_padded_right(buf: &mut Vec<u8>, s: &[u8], width: usize) {
    buf.extend_from_slice(s);
    for _ in s.len()..width {
        buf.push(b' ');
    }
}

fn push_padded_left(buf: &mut Vec<u8>, s: &[u8], width: usize) {
    for _ in s.len()..width {
        buf.push(b' ');
    }
    buf.extend_from_slice(s);
}

fn push_num(buf: &mut Vec<u8>, v: i64, width: usize) {
    let mut tmp = [0u8; 24];
    let mut i = tmp.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        tmp[i] = b'-';
    }
    push_padded_left(buf, &tmp[i..], width);
}

fn push_indent(buf: &mut Vec<u8>, s: &Settings, level: u32) {
    let n = i64::from(level) - 1 - i64::from(s.sub_level);
    for _ in 0..n.max(0) {
        buf.extend_from_slice(b"| ");
    }
}

fn basename(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

impl CodeState {
    fn new(name: Arc<str>) -> CodeState {
        CodeState {
            process: default_process(),
            thread_name: name,
            lineno: 0,
            stack: Vec::new(),
            global: Arc::new(Settings::uninit()),
            buf: Vec::with_capacity(256),
        }
    }

    /// Re-reads the cached fields of the top record; call after any change of the stack,
    /// of the top record or of the global snapshot.
    fn retop(&mut self) {
        let t = self.stack.last().unwrap_or(&self.global);
        let _ = hot(|h| {
            h.quiet.set(t.quiet);
            h.kw_mode.set(if !t.debugging() {
                KW_NEVER
            } else if t.maxdepth == 0 && t.processes.is_none() && t.functions.is_none() {
                KW_SIMPLE
            } else {
                KW_SLOW
            });
            // Never 0, so an EMPTY entry is never valid.
            h.kw_gen.set(h.kw_gen.get().wrapping_add(1).max(1));
            h.default_bit.set(t.default_bit);
        });
    }

    /// Keeps the pushed-thread count right after the stack may have gone empty / non-empty.
    fn stack_changed(&mut self, was_empty: bool) {
        self.retop();
        let empty = self.stack.is_empty();
        if was_empty != empty {
            if empty {
                PUSHED.fetch_sub(1, Ordering::AcqRel);
            } else {
                PUSHED.fetch_add(1, Ordering::AcqRel);
            }
            update_inert();
        }
    }

    #[inline]
    fn top(&self) -> &Settings {
        self.stack.last().unwrap_or(&self.global)
    }

    fn func(&self) -> &'static str {
        fs_last().map(|f| f.func).unwrap_or("?func")
    }

    fn cur_bit(&self) -> bool {
        match fs_last() {
            Some(f) => f.trace,
            None => self.top().default_bit,
        }
    }

    fn decide(&self) -> Decision {
        let top = self.top();
        let last = fs_last();
        let (func, bit) = match last {
            Some(f) => (f.func, f.trace),
            None => ("?func", top.default_bit),
        };
        do_trace(top, level(), func, &self.process, bit)
    }

    /// Whether the decision for the current function at the current level passes (SPEC
    /// 6.1). Without a depth limit, process list and function list, the decision is the
    /// INHERIT case whatever the function and level are: the current frame's trace bit (the
    /// default bit outside any frame), read without walking any list.
    #[inline]
    fn decision_passes(&self) -> bool {
        let top = self.top();
        if top.maxdepth == 0 && top.processes.is_none() && top.functions.is_none() {
            return self.cur_bit();
        }
        self.decide().passes()
    }

    /// Clears `S` in the current top record (which may be the global one).
    fn clear_sanity(&mut self) {
        if let Some(top) = self.stack.last_mut() {
            top.flags &= !SANITY_CHECK_ON;
            top.derive();
            self.retop();
            return;
        }
        let mut g = lock(&GLOBAL);
        let s = Arc::make_mut(&mut g.settings);
        s.flags &= !SANITY_CHECK_ON;
        s.derive();
        bump(0, 0);
        update_inert_locked(&g);
        self.global = g.settings.clone();
        let st = STATE.load(Ordering::Acquire);
        let _ = hot(|h| h.cached.set(st));
        self.retop();
    }

    fn sanity(&mut self) {
        if self.top().flags & SANITY_CHECK_ON != 0 && call_sanity() {
            self.clear_sanity();
        }
    }

    fn prefix(&mut self, line: u32) {
        self.lineno = self.lineno.wrapping_add(1);
        let s = self.stack.last().unwrap_or(&self.global);
        let flags = s.flags;
        let buf = &mut self.buf;
        buf.clear();
        if flags & (PID_ON | NUMBER_ON | TIMESTAMP_ON | PROCESS_ON | FILE_ON | LINE_ON | DEPTH_ON)
            == 0
        {
            return;
        }
        if flags & PID_ON != 0 {
            push_padded_right(buf, self.thread_name.as_bytes(), 7);
            buf.extend_from_slice(b": ");
        }
        if flags & NUMBER_ON != 0 {
            push_num(buf, i64::from(self.lineno), 5);
            buf.extend_from_slice(b": ");
        }
        if flags & TIMESTAMP_ON != 0 {
            let (h, m, sec, us) = sys::local_time_of_day();
            let _ = std::io::Write::write_fmt(buf, format_args!("{h:02}:{m:02}:{sec:02}.{us:06} "));
        }
        if flags & PROCESS_ON != 0 {
            buf.extend_from_slice(self.process.as_bytes());
            buf.extend_from_slice(b": ");
        }
        if flags & FILE_ON != 0 {
            let f = fs_last().map(|f| f.file).unwrap_or("?file");
            push_padded_left(buf, basename(f).as_bytes(), 14);
            buf.extend_from_slice(b": ");
        }
        if flags & LINE_ON != 0 {
            push_num(buf, i64::from(line as i32), 5);
            buf.extend_from_slice(b": ");
        }
        if flags & DEPTH_ON != 0 {
            push_num(buf, i64::from(level() as i32), 4);
            buf.extend_from_slice(b": ");
        }
    }

    /// Writes the line buffer to the current stream, then `DbugFlush`.
    fn emit(&mut self) {
        let s = self.stack.last().unwrap_or(&self.global);
        let flush = s.flags & FLUSH_ON_WRITE != 0;
        if let Some(o) = &s.out {
            o.write(&self.buf, flush);
        }
        if flush && s.delay != 0 {
            std::thread::sleep(std::time::Duration::from_secs(u64::from(s.delay / 10)));
        }
    }

    fn trace_line(&mut self, line: u32, mark: u8) {
        self.prefix(line);
        let s = self.stack.last().unwrap_or(&self.global);
        push_indent(&mut self.buf, s, level());
        self.buf.push(mark);
        let func = self.func();
        self.buf.extend_from_slice(func.as_bytes());
        self.buf.push(b'\n');
        self.emit();
    }

    #[inline]
    fn enter(&mut self, func: &'static str, file: &'static str, line: u32) -> FrameToken {
        let top = self.top();
        let trace = match fs_last() {
            Some(f) => f.trace,
            None => top.default_bit,
        };
        let quiet = top.quiet;
        let l = level().wrapping_add(1);
        set_level(l);
        let token = FrameToken(fs_push(Frame {
            func,
            file,
            level: l,
            trace,
        }) as u32);
        if !quiet {
            self.enter_slow(line);
        }
        token
    }

    #[cold]
    fn enter_slow(&mut self, line: u32) {
        let d = self.decide();
        let tracing = self.top().tracing();
        match d {
            Decision::Enable => {
                set_last_trace(true);
                if tracing {
                    self.sanity();
                    if self.top().tracing() {
                        self.trace_line(line, b'>');
                    }
                }
            }
            Decision::Do => {
                self.sanity();
                if self.top().tracing() {
                    self.trace_line(line, b'>');
                }
            }
            Decision::Disable => {
                set_last_trace(false);
            }
            Decision::Dont => {}
        }
    }

    fn abort_missing_return(&mut self) -> ! {
        let mut why = format!(
            "missing DBUG_RETURN or DBUG_VOID_RETURN macro in function \"{}\"\n",
            self.func()
        )
        .into_bytes();
        why.truncate(511);
        let mut msg = Vec::new();
        msg.extend_from_slice(self.process.as_bytes());
        msg.extend_from_slice(b": debugger aborting because ");
        msg.extend_from_slice(&why);
        msg.push(b'\n');
        Stream::stderr().write(&msg, true);
        let top = self.top();
        if top.debugging() {
            if let Some(o) = &top.out {
                o.flush();
            }
        }
        std::process::abort();
    }

    #[inline]
    fn ret(&mut self, token: FrameToken, line: u32) {
        let idx = token.0 as usize;
        if token.is_inactive() || idx + 1 != fs_len() {
            self.abort_missing_return();
        }
        if !self.top().quiet {
            self.ret_slow(line);
        }
        if let Some(f) = fs_pop() {
            set_level(f.level.saturating_sub(1));
        }
    }

    #[cold]
    fn ret_slow(&mut self, line: u32) {
        if self.decide().passes() {
            self.sanity();
            if self.top().tracing() {
                self.trace_line(line, b'<');
            }
        }
    }

    #[inline]
    fn keyword(&self, kw: &str, strict: bool) -> bool {
        let top = self.top();
        if !top.debugging() || !self.decision_passes() {
            return false;
        }
        let want = if strict { INCLUDE } else { INCLUDE | MATCHED };
        in_list(&top.keywords, kw, strict) & want != 0
    }

    fn print(&mut self, kw: &str, line: u32, msg: &[u8]) {
        if !self.keyword(kw, false) {
            return;
        }
        self.prefix(line);
        let s = self.stack.last().unwrap_or(&self.global);
        if s.tracing() {
            push_indent(&mut self.buf, s, level().wrapping_add(1));
        } else {
            let func = fs_last().map(|f| f.func).unwrap_or("?func");
            self.buf.extend_from_slice(func.as_bytes());
            self.buf.extend_from_slice(b": ");
        }
        self.buf.extend_from_slice(kw.as_bytes());
        self.buf.extend_from_slice(b": ");
        self.buf
            .extend_from_slice(&msg[..msg.len().min(PRINTBUF - 1)]);
        self.buf.push(b'\n');
        self.emit();
    }

    fn dump(&mut self, kw: &str, line: u32, data: &[u8]) {
        if !self.keyword(kw, false) {
            return;
        }
        self.prefix(line);
        let s = self.stack.last().unwrap_or(&self.global);
        if s.tracing() {
            push_indent(&mut self.buf, s, level().wrapping_add(1));
        } else {
            let func = fs_last().map(|f| f.func).unwrap_or("?func");
            self.buf.extend_from_slice(func.as_bytes());
            self.buf.extend_from_slice(b": ");
        }
        self.buf.extend_from_slice(kw.as_bytes());
        let _ = std::io::Write::write_fmt(
            &mut self.buf,
            format_args!(": Memory: {:p}  Bytes: ({})\n", data.as_ptr(), data.len()),
        );
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut pos = 0;
        for &b in data {
            pos += 3;
            if pos >= 80 {
                self.buf.push(b'\n');
                pos = 3;
            }
            self.buf.push(HEX[usize::from(b >> 4)]);
            self.buf.push(HEX[usize::from(b & 15)]);
            self.buf.push(b' ');
        }
        self.buf.push(b'\n');
        self.emit();
    }

    /// `FixTraceFlags`.
    fn fix_trace_flags(&mut self, old: u32) {
        let n = fs_len();
        if n == 0 {
            return;
        }
        let new = self.top().fflags();
        let recompute = if new & SUBDIR != 0 {
            true
        } else if old & SUBDIR == 0 && (new ^ old) & INCLUDE == 0 {
            false
        } else {
            let traceon = fs_last().map(|f| f.trace).unwrap_or(false);
            if (0..n).any(|i| fs_get(i).is_some_and(|f| f.trace != traceon)) {
                true
            } else {
                traceon != (new & INCLUDE == 0)
            }
        };
        if !recompute {
            return;
        }
        let top = self.stack.last().unwrap_or(&self.global);
        let default = list_flags(&top.functions) & INCLUDE == 0;
        let mut parent = default;
        for i in 0..n {
            let Some(mut f) = fs_get(i) else {
                break;
            };
            let mut bit = parent;
            // The decision's INHERIT case uses the innermost frame, but only ENABLE and
            // DISABLE matter here.
            match do_trace(top, f.level, f.func, &self.process, bit) {
                Decision::Enable => bit = true,
                Decision::Disable => bit = false,
                _ => {}
            }
            f.trace = bit;
            fs_set(i, f);
            parent = bit;
        }
    }

    fn ctx(&self) -> (u32, Arc<str>) {
        (level(), self.process.clone())
    }

    fn parse_top(&mut self, ctl: &ControlString, errors: Option<&mut Vec<OpenError>>) -> bool {
        let (level, process) = self.ctx();
        let mut ctx = ParseCtx {
            level,
            process: &process,
            errors,
        };
        let n = self.stack.len();
        let global = self.global.clone();
        let (below, top) = self.stack.split_at_mut(n - 1);
        let (parent, parent_is_global): (&Settings, bool) = match below.last() {
            Some(p) => (p, false),
            None => (&global, true),
        };
        parse_into(&mut top[0], Some(parent), parent_is_global, ctl, &mut ctx)
    }

    fn push(&mut self, ctl: &ControlString, errors: Option<&mut Vec<OpenError>>) {
        let old = self.top().fflags();
        let was_empty = self.stack.is_empty();
        self.stack.push(Settings::uninit());
        let fix = self.parse_top(ctl, errors);
        self.stack_changed(was_empty);
        if fix {
            self.fix_trace_flags(old);
        }
    }

    fn set(&mut self, ctl: &ControlString, errors: Option<&mut Vec<OpenError>>) {
        let old = self.top().fflags();
        let was_empty = self.stack.is_empty();
        if was_empty {
            self.stack.push(Settings::uninit());
        }
        let fix = self.parse_top(ctl, errors);
        self.stack_changed(was_empty);
        if fix {
            self.fix_trace_flags(old);
        }
    }

    fn pop(&mut self) {
        if self.stack.is_empty() {
            return;
        }
        let old = self.top().fflags();
        if let Some(rec) = self.stack.pop() {
            free_record(rec, &self.process);
        }
        self.stack_changed(false);
        self.fix_trace_flags(old);
    }

    fn clear_stack(&mut self) {
        let was_empty = self.stack.is_empty();
        while let Some(rec) = self.stack.pop() {
            free_record(rec, &self.process);
        }
        self.stack_changed(was_empty);
    }
}

/// `code_state()`: the calling thread's code state, or `None` if DBUG is off or the thread
/// is not registered (threads are registered automatically unless [`set_auto_register`]
/// turned that off).
#[inline]
fn code_state(ts: &mut ThreadState) -> Option<&mut CodeState> {
    let st = STATE.load(Ordering::Acquire);
    if st & ST_ON == 0 {
        return None;
    }
    if ts.cs.is_none() {
        create_code_state(ts)?;
    }
    let cs = ts.cs.as_mut()?;
    if hot(|h| h.cached.get()) != Some(st) {
        refresh(cs);
    }
    Some(cs)
}

static AUTO_REGISTER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether threads that never called [`register_thread`] take part (default: true, each gets
/// the next `T@n` name on first use). With `false`, unregistered threads behave as in the C
/// library: every call is a no-op.
pub fn set_auto_register(on: bool) {
    AUTO_REGISTER.store(on, Ordering::Relaxed);
}

#[cold]
fn create_code_state(ts: &mut ThreadState) -> Option<()> {
    if ts.name.is_none() {
        if !AUTO_REGISTER.load(Ordering::Relaxed) {
            return None;
        }
        ts.name = Some(next_thread_name());
    }
    let name = ts.name.clone()?;
    ts.cs = Some(CodeState::new(name));
    Some(())
}

fn next_thread_name() -> Arc<str> {
    let n = THREAD_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    Arc::from(format!("T@{n}"))
}

#[cold]
fn refresh(cs: &mut CodeState) {
    let mut g = lock(&GLOBAL);
    init_locked(&mut g);
    cs.global = g.settings.clone();
    let st = STATE.load(Ordering::Acquire);
    let _ = hot(|h| h.cached.set(st));
    drop(g);
    cs.retop();
}

fn init_locked(g: &mut Global) {
    if STATE.load(Ordering::Acquire) & ST_INIT == 0 {
        g.settings = Arc::new(Settings::initial());
        bump(ST_INIT, 0);
        update_inert_locked(g);
    }
}

/// Initialises DBUG now if it is not yet (or no longer, after [`end`]) initialised. The C
/// library initialises lazily on the first call that needs a thread's state and then
/// **resets the global record**, which silently drops an earlier [`set_initial`]; call this
/// first to avoid that (MariaDB's `my_init()` does the equivalent).
pub fn init() {
    if is_on() {
        init_locked(&mut lock(&GLOBAL));
    }
}

fn with_cs<R>(default: R, f: impl FnOnce(&mut CodeState) -> R) -> R {
    TS.try_with(|ts| {
        let Ok(mut ts) = ts.try_borrow_mut() else {
            return None;
        };
        code_state(&mut ts).map(f)
    })
    .ok()
    .flatten()
    .unwrap_or(default)
}

// ------------------------------------------------------------------------------------------
// Public entry points (calling thread)

/// Registers the calling thread (MariaDB `my_thread_init`) under `name`, or under the next
/// `T@n` name when `None`. The name is what the `i` flag prints; a server can use
/// `T@<connection id>`. Re-registering renames the thread.
pub fn register_thread(name: Option<&str>) {
    let name: Arc<str> = match name {
        Some(n) => Arc::from(n),
        None => next_thread_name(),
    };
    let _ = TS.try_with(|ts| {
        if let Ok(mut ts) = ts.try_borrow_mut() {
            if let Some(cs) = ts.cs.as_mut() {
                cs.thread_name = name.clone();
            }
            ts.name = Some(name);
        }
    });
}

/// MariaDB `my_thread_end`: one [`pop`], then the thread's code state is discarded (deeper
/// pushed records are not freed and their files stay open until [`crate::flush_all`] /
/// process exit), and the thread is unregistered.
pub fn unregister_thread() {
    pop();
    let _ = TS.try_with(|ts| {
        if let Ok(mut ts) = ts.try_borrow_mut() {
            ts.cs = None;
            ts.name = None;
        }
    });
    let _ = hot(|h| {
        h.cached.set(u64::MAX);
        h.depth.set(0);
        h.level.set(0);
    });
    let _ = OVERFLOW.try_with(|o| o.borrow_mut().clear());
}

/// The calling thread's name for the `i` flag, if registered.
pub fn thread_name() -> Option<String> {
    TS.try_with(|ts| {
        ts.try_borrow()
            .ok()
            .and_then(|t| t.name.as_ref().map(|n| n.to_string()))
    })
    .ok()
    .flatten()
}

/// `DBUG_ENTER(func)` at `file:line`. Returns the token for [`ret`] / [`unwind`].
#[inline]
pub fn enter(func: &'static str, file: &'static str, line: u32) -> FrameToken {
    let st = STATE.load(Ordering::Relaxed);
    if st & (ST_ON | ST_INERT) != ST_ON {
        return if st & ST_ON == 0 {
            FrameToken::INACTIVE
        } else {
            FrameToken::UNTRACKED
        };
    }
    enter_tracked(st, func, file, line)
}

#[inline]
fn enter_tracked(st: u64, func: &'static str, file: &'static str, line: u32) -> FrameToken {
    let fast = HOT.try_with(|h| {
        let d = h.depth.get();
        if h.cached.get() != st || !h.quiet.get() || d >= HOT_FRAMES {
            return None;
        }
        let trace = if d == 0 {
            h.default_bit.get()
        } else {
            h.frames[d - 1].get().trace
        };
        let l = h.level.get().wrapping_add(1);
        h.level.set(l);
        h.frames[d].set(Frame {
            func,
            file,
            level: l,
            trace,
        });
        h.depth.set(d + 1);
        Some(FrameToken(d as u32))
    });
    match fast {
        Ok(Some(t)) => t,
        Ok(None) => enter_via_code_state(func, file, line),
        Err(_) => FrameToken::UNTRACKED,
    }
}

#[cold]
#[inline(never)]
fn enter_via_code_state(func: &'static str, file: &'static str, line: u32) -> FrameToken {
    TS.try_with(|ts| match ts.try_borrow_mut() {
        Ok(mut ts) => enter_cold(&mut ts, func, file, line),
        Err(_) => FrameToken::UNTRACKED,
    })
    .unwrap_or(FrameToken::UNTRACKED)
}

#[cold]
fn enter_cold(
    ts: &mut ThreadState,
    func: &'static str,
    file: &'static str,
    line: u32,
) -> FrameToken {
    match code_state(ts) {
        Some(cs) => cs.enter(func, file, line),
        None => FrameToken::INACTIVE,
    }
}

/// [`enter`] for names that are not `&'static` (for example from a C plugin): the names are
/// [`intern`]ed, which costs a hash lookup under a mutex.
pub fn enter_dyn(func: &str, file: &str, line: u32) -> FrameToken {
    if !is_active() && STATE.load(Ordering::Relaxed) & ST_ON != 0 {
        return FrameToken::UNTRACKED;
    }
    enter(intern(func), intern(file), line)
}

/// `DBUG_RETURN` at `line` followed by leaving the frame's scope: return processing. If the
/// frame is not the innermost one (or DBUG never saw it) while DBUG is active, this is the
/// missing-return abort (SIGABRT).
#[inline]
pub fn ret(token: FrameToken, line: u32) {
    if token.is_untracked() {
        return;
    }
    ret_tracked(token, line);
}

#[inline]
fn ret_tracked(token: FrameToken, line: u32) {
    let st = STATE.load(Ordering::Relaxed);
    if st & ST_ON == 0 {
        return;
    }
    let fast = HOT.try_with(|h| {
        let d = h.depth.get();
        let idx = token.0 as usize;
        if h.cached.get() != st || !h.quiet.get() || idx + 1 != d || idx >= HOT_FRAMES {
            return false;
        }
        h.level.set(h.frames[idx].get().level.saturating_sub(1));
        h.depth.set(idx);
        true
    });
    if fast != Ok(true) {
        ret_via_code_state(token, line);
    }
}

#[cold]
#[inline(never)]
fn ret_via_code_state(token: FrameToken, line: u32) {
    let _ = TS.try_with(|ts| {
        if let Ok(mut ts) = ts.try_borrow_mut() {
            ret_cold(&mut ts, token, line);
        }
    });
}

#[cold]
fn ret_cold(ts: &mut ThreadState, token: FrameToken, line: u32) {
    if let Some(cs) = code_state(ts) {
        cs.ret(token, line);
    }
}

/// Return processing for `token` that never aborts (for adapters such as the `tracing`
/// layer, whose exits may come out of order): frames opened after `token` and not yet
/// returned are dropped silently first. Does nothing if DBUG never saw the frame or it is
/// already gone.
pub fn ret_unordered(token: FrameToken, line: u32) {
    if token.is_inactive() || token.is_untracked() || STATE.load(Ordering::Relaxed) & ST_ON == 0 {
        return;
    }
    if token.0 as usize + 1 == fs_len() {
        // The innermost frame: an ordinary return (nothing to drop, cannot abort), which
        // has the `Cell` fast path.
        ret_tracked(token, line);
        return;
    }
    with_cs((), |cs| {
        let idx = token.0 as usize;
        if idx >= fs_len() {
            return;
        }
        while fs_len() > idx + 1 {
            if let Some(f) = fs_pop() {
                set_level(f.level.saturating_sub(1));
            }
        }
        cs.ret(token, line);
    });
}

/// The frame leaves its scope without a return macro. If DBUG is active and saw the frame,
/// this is the missing-return abort (SIGABRT); otherwise nothing happens.
pub fn unwind(token: FrameToken) {
    if token.is_inactive() || token.is_untracked() {
        return;
    }
    with_cs((), |cs| cs.abort_missing_return());
}

/// Non-strict keyword test (`DBUG_EXECUTE`, `DBUG_EVALUATE`; the test of `DBUG_PRINT`).
#[inline]
pub fn keyword(kw: &str) -> bool {
    let st = STATE.load(Ordering::Relaxed);
    if st & (ST_ON | ST_INERT) != ST_ON {
        return false;
    }
    keyword_test(st, kw, false)
}

/// Strict keyword test (`DBUG_EXECUTE_IF`, `DBUG_EVALUATE_IF`, `DBUG_IF`): the keyword must
/// be explicitly included, matched exactly.
#[inline]
pub fn execute_if(kw: &str) -> bool {
    let st = STATE.load(Ordering::Relaxed);
    if st & (ST_ON | ST_INERT) != ST_ON {
        return false;
    }
    keyword_test(st, kw, true)
}

enum KwFast {
    Verdict(bool),
    /// `KW_SIMPLE`, the decision passes, the keyword is not cached: test the list and
    /// cache the verdict under this generation.
    Miss(u32),
    Slow,
}

/// `_db_keyword_` (SPEC 6.4) with a per-thread fast path that needs neither the code state
/// nor a list walk in the common cases (see `KW_SIMPLE`); identical results.
#[inline]
fn keyword_test(st: u64, kw: &str, strict: bool) -> bool {
    let fast = HOT.try_with(|h| {
        if h.cached.get() != st {
            return KwFast::Slow;
        }
        match h.kw_mode.get() {
            KW_NEVER => return KwFast::Verdict(false),
            KW_SIMPLE => {}
            _ => return KwFast::Slow,
        }
        let d = h.depth.get();
        let bit = match d {
            0 => h.default_bit.get(),
            d if d <= HOT_FRAMES => h.frames[d - 1].get().trace,
            _ => return KwFast::Slow,
        };
        if !bit {
            return KwFast::Verdict(false);
        }
        let generation = h.kw_gen.get();
        let b = kw.as_bytes();
        if b.len() > KW_MAX {
            return KwFast::Slow;
        }
        let key = kw_key(generation, strict, b.len());
        for i in 0..KW_CACHE {
            let k = h.kw_key[i].get();
            if k & !(1 << 8) == key && h.kw_text[i].get()[..b.len()] == *b {
                return KwFast::Verdict(k & (1 << 8) != 0);
            }
        }
        KwFast::Miss(generation)
    });
    match fast {
        Ok(KwFast::Verdict(v)) => v,
        Ok(KwFast::Miss(generation)) => keyword_miss(kw, strict, generation),
        Ok(KwFast::Slow) => with_cs(false, |cs| cs.keyword(kw, strict)),
        Err(_) => false,
    }
}

#[cold]
#[inline(never)]
fn keyword_miss(kw: &str, strict: bool, generation: u32) -> bool {
    let verdict = with_cs(false, |cs| cs.keyword(kw, strict));
    let _ = hot(|h| {
        // Still the record the miss was computed for (no refresh in between)?
        if h.kw_gen.get() != generation || kw.len() > KW_MAX {
            return;
        }
        let mut text = [0u8; KW_MAX];
        text[..kw.len()].copy_from_slice(kw.as_bytes());
        let i = usize::from(h.kw_next.get()) % KW_CACHE;
        h.kw_next.set(((i + 1) % KW_CACHE) as u8);
        h.kw_text[i].set(text);
        h.kw_key[i].set(kw_key(generation, strict, kw.len()) | (u64::from(verdict) << 8));
    });
    verdict
}

/// `DBUG_PRINT(kw, ("%s", msg))` at `line`: keyword test, then the print line (the message
/// is cut to 1023 bytes).
pub fn print(kw: &str, line: u32, msg: &[u8]) {
    if STATE.load(Ordering::Relaxed) & (ST_ON | ST_INERT) != ST_ON {
        return;
    }
    with_cs((), |cs| cs.print(kw, line, msg));
}

/// Like [`print()`], formatting `args` only if the keyword test passes.
pub fn print_fmt(kw: &str, line: u32, args: std::fmt::Arguments<'_>) {
    if !keyword(kw) {
        return;
    }
    let msg = match args.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(args.to_string()),
    };
    print(kw, line, msg.as_bytes());
}

/// `DBUG_DUMP(kw, data, len)` at `line`.
pub fn dump(kw: &str, line: u32, data: &[u8]) {
    if STATE.load(Ordering::Relaxed) & (ST_ON | ST_INERT) != ST_ON {
        return;
    }
    with_cs((), |cs| cs.dump(kw, line, data));
}

/// `DBUG_PUSH(s)`; with `errors`, failed opens are collected instead of printed.
pub fn push(ctl: &ControlString, errors: Option<&mut Vec<OpenError>>) {
    with_cs((), |cs| cs.push(ctl, errors));
}

/// `DBUG_SET(s)`: edits the thread's own record (pushing one first if the thread still uses
/// the global record).
pub fn set(ctl: &ControlString, errors: Option<&mut Vec<OpenError>>) {
    with_cs((), |cs| cs.set(ctl, errors));
}

/// `DBUG_POP()`.
pub fn pop() {
    with_cs((), |cs| cs.pop());
}

/// `DBUG_SET_INITIAL(s)`: parses into the global record. Works even while DBUG is off.
pub fn set_initial(ctl: &ControlString, errors: Option<&mut Vec<OpenError>>) {
    let process = default_process();
    let mut g = lock(&GLOBAL);
    let mut rec = (*g.settings).clone();
    let mut ctx = ParseCtx {
        level: 0,
        process: &process,
        errors,
    };
    parse_into(&mut rec, None, false, ctl, &mut ctx);
    g.settings = Arc::new(rec);
    bump(0, 0);
    update_inert_locked(&g);
}

/// `DBUG_EXPLAIN(buf, capacity)` of the calling thread's current record. `""` when inactive.
pub fn explain(capacity: usize) -> Explained {
    match with_cs(None, |cs| Some(explain_record(cs.top()))) {
        Some(text) => apply_capacity(text, capacity),
        None => Explained {
            text: Vec::new(),
            truncated: false,
        },
    }
}

/// `DBUG_EXPLAIN_INITIAL(buf, capacity)`: the global record. Works even while DBUG is off.
pub fn explain_initial(capacity: usize) -> Explained {
    let text = explain_record(&lock(&GLOBAL).settings);
    apply_capacity(text, capacity)
}

/// `_db_is_pushed_()`: true if the thread has its own record.
pub fn is_pushed() -> bool {
    with_cs(false, |cs| !cs.stack.is_empty())
}

/// `DBUG_PROCESS(name)`: names the thread's process (`P` flag, `p` lists). The first name
/// given in the process becomes the default for threads created later.
pub fn set_process(name: &str) {
    let name: Arc<str> = Arc::from(name);
    {
        let mut d = lock(&DB_PROCESS);
        if d.is_none() {
            *d = Some(name.clone());
        }
    }
    with_cs((), |cs| cs.process = name);
}

/// Writes raw bytes to `DBUG_FILE` (the thread's current stream) without flushing. Returns
/// false when DBUG is inactive (`DBUG_FILE` is NULL).
pub fn file_write(data: &[u8]) -> bool {
    with_cs(false, |cs| {
        if let Some(o) = &cs.top().out {
            o.write(data, false);
        }
        true
    })
}

/// `_db_flush_()` (what `DBUG_ASSERT` does): flush the current stream if `d` is on.
pub fn flush() {
    with_cs((), |cs| {
        let top = cs.top();
        if top.debugging() {
            if let Some(o) = &top.out {
                o.flush();
            }
        }
    });
}

/// `DBUG_END()`: frees the calling thread's pushed records, resets and closes the global
/// record, then switches DBUG off until [`on`].
pub fn end() {
    bump(ST_ON, 0);
    let process = with_cs(None, |cs| {
        cs.clear_stack();
        Some(cs.process.clone())
    });
    let process = process.unwrap_or_else(|| Arc::from("(null)"));
    {
        let mut g = lock(&GLOBAL);
        let mut rec = (*g.settings).clone();
        release_stream(rec.out.take(), &process);
        rec.functions = None;
        rec.keywords = None;
        rec.processes = None;
        rec.derive();
        g.settings = Arc::new(rec);
    }
    bump(0, ST_ON | ST_INIT);
}

/// `DEBUGGER_OFF`: every thread behaves as unregistered until [`on`].
pub fn off() {
    bump(0, ST_ON);
}

/// `DEBUGGER_ON`.
pub fn on() {
    bump(ST_ON, 0);
}

/// True when an `enter` now would be seen by DBUG (it is on and not inert, see
/// [`set_exact_frames`]). Adapters use it to skip work early.
#[inline]
pub fn is_active() -> bool {
    STATE.load(Ordering::Relaxed) & (ST_ON | ST_INERT) == ST_ON
}

/// True while DBUG is switched on.
pub fn is_on() -> bool {
    STATE.load(Ordering::Relaxed) & ST_ON != 0
}
