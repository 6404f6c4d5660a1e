//! Crash-log reader: recognises stack frames of many formats inside free text
//! (see `shared/crashlogs/FORMATS.md`). Every input line is kept; lines that
//! are not frames pass through untouched. Nothing here panics on any input.
//!
//! Entry point: [`parse`], giving a [`Report`] of [`Line`]s (each with the
//! [`Frame`]s found in it) and the Minnow report's module map.

/// The format a frame was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// glibc `backtrace_symbols`: `OBJ(SYM+0xOFF)[0xADDR]` and its variants,
    /// including a bare `[0xADDR]`.
    Glibc,
    /// MariaDB's already resolved `FILE:LINE(FUNC)[0xADDR]`.
    Resolved,
    /// FreeBSD libexecinfo: `0xADDR <SYM+0xOFF> at OBJ`.
    FreeBsd,
    /// Solaris `printstack`: `/OBJ:0xOFF` or `/OBJ:SYM+0xOFF`.
    Solaris,
    /// Windows `MODULE!FUNC()[FILE:LINE]`, optionally after a hex address.
    Windows,
    /// gdb-like `#N 0xADDR in FUNC (...) at FILE:LINE | from LIB`.
    Gdb,
    /// Sanitizer `#N 0xADDR in FUNC FILE:LINE` or `(MODULE+0xOFF)`.
    Sanitizer,
    /// Rust backtrace frame `N: 0xADDR - NAME` or `N: NAME`.
    Rust,
    /// Rust backtrace location line `at FILE:LINE:COL`.
    RustLocation,
    /// Go location line `FILE.go:LINE +0xOFF`.
    Go,
}

/// One recognised frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    /// The format.
    pub kind: Option<FrameKind>,
    /// Frame number, when the format has one.
    pub index: Option<u32>,
    /// Object / module path as printed.
    pub object: Option<String>,
    /// Symbol or function name as printed.
    pub symbol: Option<String>,
    /// Offset: from `symbol` if there is one, else from the object's base.
    pub offset: Option<u64>,
    /// Runtime address.
    pub address: Option<u64>,
    /// Source file, when already resolved.
    pub file: Option<String>,
    /// Source line, when already resolved.
    pub line: Option<u32>,
}

impl Frame {
    fn new(kind: FrameKind) -> Frame {
        Frame {
            kind: Some(kind),
            ..Frame::default()
        }
    }
}

/// One entry of a Minnow report's `Module map:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleMapEntry {
    /// Start of the mapping (the load base).
    pub start: u64,
    /// End of the mapping.
    pub end: u64,
    /// Path of the module.
    pub path: String,
    /// Its build-id, if printed.
    pub build_id: Option<Vec<u8>>,
}

/// One line of input with the frames found in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line exactly as it was (without its newline).
    pub text: String,
    /// Frames found (several when newlines were lost).
    pub frames: Vec<Frame>,
}

/// A parsed log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Every input line, in order.
    pub lines: Vec<Line>,
    /// The module map of a Minnow report, if any.
    pub modules: Vec<ModuleMapEntry>,
}

impl Report {
    /// All frames, in order.
    pub fn frames(&self) -> impl Iterator<Item = &Frame> {
        self.lines.iter().flat_map(|l| l.frames.iter())
    }
}

/// Parses a whole log.
pub fn parse(text: &str) -> Report {
    let mut report = Report::default();
    let raw: Vec<&str> = text.split('\n').collect();
    let n = if text.ends_with('\n') {
        raw.len() - 1
    } else {
        raw.len()
    };
    let mut i = 0;
    let mut in_module_map = false;
    while i < n {
        let text_line = raw[i];
        let peeled = peel(text_line);
        if peeled == "Module map:" {
            in_module_map = true;
        } else if in_module_map {
            match parse_module_entry(&peeled) {
                Some(m) => {
                    report.modules.push(m);
                    report.lines.push(Line {
                        text: text_line.to_string(),
                        frames: Vec::new(),
                    });
                    i += 1;
                    continue;
                }
                None => in_module_map = false,
            }
        }
        // Hard wrap (Solaris/Open MPI): "/path/obj:" + indented "sym+0xoff",
        // "/path/dir/" + "obj(+0xoff) [0x…]" or "obj:0xoff".
        if peeled.starts_with('/')
            && (peeled.ends_with(':') || peeled.ends_with('/'))
            && !peeled.contains(' ')
            && i + 1 < n
            && raw[i + 1].trim_start_matches(['>', ' ']).len() < raw[i + 1].len()
        {
            let next = peel(raw[i + 1]);
            if (peeled.ends_with(':') && is_sym_plus_off(&next))
                || (peeled.ends_with('/')
                    && !next.starts_with('/')
                    && (!next.contains(' ') || next.ends_with(']')))
            {
                let joined = format!("{peeled}{next}");
                let frames = parse_frames(&joined);
                if !frames.is_empty() {
                    report.lines.push(Line {
                        text: text_line.to_string(),
                        frames,
                    });
                    report.lines.push(Line {
                        text: raw[i + 1].to_string(),
                        frames: Vec::new(),
                    });
                    i += 2;
                    continue;
                }
            }
        }
        let mut frames = Vec::new();
        for piece in split_collapsed(&peeled) {
            frames.extend(parse_frames(piece));
        }
        report.lines.push(Line {
            text: text_line.to_string(),
            frames,
        });
        i += 1;
    }
    report
}

fn is_sym_plus_off(s: &str) -> bool {
    match s.rsplit_once("+0x") {
        Some((sym, off)) => {
            !sym.is_empty()
                && sym
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
                && is_hex(off)
        }
        None => false,
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex_u64(s: &str) -> Option<u64> {
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if !is_hex(s) || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn parse_module_entry(s: &str) -> Option<ModuleMapEntry> {
    let (range, rest) = s.split_once(' ')?;
    let (a, b) = range.split_once('-')?;
    let start = hex_u64(a.strip_prefix("0x")?)?;
    let end = hex_u64(b.strip_prefix("0x")?)?;
    let (path, build_id) = match rest.rsplit_once(" BuildID[sha1]=") {
        Some((p, id)) => (p, crate::symbolize::parse_hex(id.trim())),
        None => (rest, None),
    };
    if path.is_empty() {
        return None;
    }
    Some(ModuleMapEntry {
        start,
        end,
        path: path.to_string(),
        build_id,
    })
}

/// Removes the noise of FORMATS.md §0 around a line.
pub fn peel(line: &str) -> String {
    let mut s: String = if line.contains('&') {
        line.replace("&gt;", ">")
            .replace("&lt;", "<")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    } else {
        line.to_string()
    };
    let t = s.trim_end();
    if t.len() != s.len() {
        s.truncate(t.len());
    }
    let mut cur: &str = &s;
    loop {
        let before = cur.len();
        cur = cur.trim_start();
        // quote prefixes
        while let Some(r) = cur.strip_prefix('>') {
            cur = r.strip_prefix(' ').unwrap_or(r).trim_start();
        }
        // CI gutter
        for g in ["│ ", "| "] {
            if let Some(r) = cur.strip_prefix(g) {
                cur = r;
            }
        }
        // glued timestamp 2021:18:19:485_
        if cur.len() > 16 {
            let b = cur.as_bytes();
            if b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b':'
                && b[7] == b':'
                && b[10] == b':'
                && b[14] == b'_'
            {
                cur = &cur[15..];
            }
        }
        // syslog: "Mon DD HH:MM:SS host prog[pid]: "
        if let Some(r) = strip_syslog(cur) {
            cur = r;
        }
        // bracketed prefixes "[..] " unless the rest is itself a frame "[0x"
        while cur.starts_with('[') && !cur.starts_with("[0x") {
            let Some(close) = cur.find(']') else { break };
            let rest = cur[close + 1..].trim_start();
            if rest.is_empty() {
                break;
            }
            cur = rest;
        }
        if cur.len() == before {
            break;
        }
    }
    cur.to_string()
}

fn strip_syslog(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    if b.len() < 17 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_lowercase() || b[3] != b' ' {
        return None;
    }
    if !(b[4] == b' ' || b[4].is_ascii_digit()) || !b[5].is_ascii_digit() || b[6] != b' ' {
        return None;
    }
    if !(b[7].is_ascii_digit() && b[9] == b':' && b[12] == b':' && b[15] == b' ') {
        return None;
    }
    let rest = &s[16..];
    let (_host, rest) = rest.split_once(' ')?;
    let (_prog, rest) = rest.split_once(':')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// Splits a line whose newlines were lost after each `[0xHEX]`.
fn split_collapsed(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b']' && i + 1 < b.len() && b[i + 1] != b' ' {
            // does "[0xHEX]" end here?
            if let Some(open) = s[..i].rfind("[0x")
                && is_hex(&s[open + 3..i])
            {
                out.push(&s[start..=i]);
                start = i + 1;
            }
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Recognises the frames in one peeled piece of a line.
fn parse_frames(s: &str) -> Vec<Frame> {
    let mut s = s.trim();
    // "stack_bottom = … thread_stack 0xHEX" glued to the first frame (lost newlines)
    if let Some(p) = s.find("thread_stack 0x") {
        let rest = &s[p + 15..];
        let end = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        s = &rest[end..];
    }
    if s.is_empty() {
        return Vec::new();
    }
    let parsers: [fn(&str) -> Option<Frame>; 10] = [
        parse_resolved,
        parse_glibc,
        parse_freebsd,
        parse_solaris,
        parse_sanitizer,
        parse_gdb,
        parse_windows,
        parse_rust,
        parse_rust_location,
        parse_go,
    ];
    for p in parsers {
        if let Some(f) = p(s) {
            return vec![f];
        }
    }
    Vec::new()
}

/// `[0xADDR]` at the end: returns (rest before it, address).
fn trailing_addr(s: &str) -> Option<(&str, u64)> {
    let s = s.strip_suffix(']')?;
    let open = s.rfind('[')?;
    let addr = hex_u64(s[open + 1..].strip_prefix("0x")?)?;
    let rest = &s[..open];
    Some((rest.strip_suffix(' ').unwrap_or(rest), addr))
}

fn parse_resolved(s: &str) -> Option<Frame> {
    let (rest, addr) = trailing_addr(s)?;
    let rest = rest.strip_suffix(')')?;
    let open = matching_open(rest)?;
    let head = &rest[..open];
    let func = &rest[open + 1..];
    let (file, line) = head.rsplit_once(':')?;
    let line_no = if line == "?" {
        None
    } else if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) {
        line.parse().ok()
    } else {
        return None;
    };
    if file.contains(' ') && !file.starts_with('/') {
        return None;
    }
    let mut f = Frame::new(FrameKind::Resolved);
    f.address = Some(addr);
    f.file = (!file.is_empty() && file != "??").then(|| file.to_string());
    f.line = line_no;
    f.symbol = Some(func.to_string());
    Some(f)
}

/// Index of the `(` matching the end of `s` (which had its `)` removed).
fn matching_open(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth == 0 => return Some(i),
            '(' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn parse_glibc(s: &str) -> Option<Frame> {
    let (rest, addr) = trailing_addr(s)?;
    let mut f = Frame::new(FrameKind::Glibc);
    f.address = Some(addr);
    // (SYM+0xOFF) or (SYM+0xOFF  (missing ')')
    let body = rest.strip_suffix(')').unwrap_or(rest);
    let sign_pos = body.rfind("+0x").or_else(|| body.rfind("-0x"));
    if let Some(p) = sign_pos
        && is_hex(&body[p + 3..])
    {
        let head = &body[..p];
        // the wrapper's '(' : scan back with a depth counter
        if let Some(open) = matching_open(head) {
            let obj = &head[..open];
            let sym = &head[open + 1..];
            let off = hex_u64(&body[p + 3..])?;
            f.object = (!obj.trim().is_empty()).then(|| obj.trim_end().to_string());
            f.symbol = (!sym.is_empty()).then(|| sym.to_string());
            f.offset = Some(if body.as_bytes()[p] == b'-' {
                off.wrapping_neg()
            } else {
                off
            });
            return Some(f);
        }
    }
    if rest.contains('(') || rest.contains(')') {
        return None;
    }
    let obj = rest.trim();
    if obj.contains(' ') && !obj.starts_with('/') {
        return None;
    }
    f.object = (!obj.is_empty()).then(|| obj.to_string());
    Some(f)
}

fn parse_freebsd(s: &str) -> Option<Frame> {
    let (addr, rest) = s.split_once(' ')?;
    let addr = hex_u64(addr.strip_prefix("0x")?)?;
    let rest = rest.strip_prefix('<')?;
    let (inner, obj) = rest.rsplit_once("> at ")?;
    let (sym, off) = inner.rsplit_once("+0x")?;
    let mut f = Frame::new(FrameKind::FreeBsd);
    f.address = Some(addr);
    f.symbol = Some(sym.to_string());
    f.offset = hex_u64(off);
    f.object = Some(obj.to_string());
    Some(f)
}

fn parse_solaris(s: &str) -> Option<Frame> {
    if !s.starts_with('/') {
        return None;
    }
    let s = match s.find(" [ Signal ") {
        Some(p) if s.ends_with(")]") => &s[..p],
        _ => s,
    };
    let (obj, rest) = s.split_once(':')?;
    if obj.contains(char::is_whitespace) {
        return None;
    }
    let (sym, off) = rest.rsplit_once("0x")?;
    let sym = if sym.is_empty() {
        None
    } else {
        let sym = sym.strip_suffix('+')?;
        if sym.is_empty() || sym.contains(char::is_whitespace) {
            return None;
        }
        Some(sym.to_string())
    };
    let mut f = Frame::new(FrameKind::Solaris);
    f.object = Some(obj.to_string());
    f.symbol = sym;
    f.offset = Some(hex_u64(off)?);
    Some(f)
}

/// `#N` prefix: returns (number, rest).
fn frame_number(s: &str) -> Option<(u32, &str)> {
    let r = s.strip_prefix('#')?;
    let end = r.find(|c: char| !c.is_ascii_digit())?;
    if end == 0 {
        return None;
    }
    let n = r[..end].parse().ok()?;
    let rest = &r[end..];
    if !rest.starts_with(' ') {
        return None;
    }
    Some((n, rest.trim_start()))
}

fn parse_sanitizer(s: &str) -> Option<Frame> {
    let (n, rest) = frame_number(s)?;
    let (addr, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let addr = hex_u64(addr.strip_prefix("0x")?)?;
    let mut f = Frame::new(FrameKind::Sanitizer);
    f.index = Some(n);
    f.address = Some(addr);
    let rest = rest.strip_prefix("in ").unwrap_or(rest);
    // (MODULE+0xOFF) at the end
    if let Some(body) = rest.strip_suffix(')')
        && let Some(open) = body.rfind('(')
        && let Some((module, off)) = body[open + 1..].rsplit_once("+0x")
        && is_hex(off)
    {
        f.object = Some(module.to_string());
        f.offset = hex_u64(off);
        let func = body[..open].trim();
        f.symbol = (!func.is_empty()).then(|| func.to_string());
        return Some(f);
    }
    if rest.contains(" at ") || rest.contains(" from ") {
        return None; // gdb style
    }
    // FUNC FILE:LINE(:COL)?
    let (func, loc) = rest.rsplit_once(' ')?;
    let mut parts = loc.rsplitn(3, ':');
    let last = parts.next()?;
    let prev = parts.next()?;
    let (file, line) = if let Some(file) = parts.next() {
        if prev.bytes().all(|b| b.is_ascii_digit()) && last.bytes().all(|b| b.is_ascii_digit()) {
            (file, prev)
        } else {
            (&loc[..loc.len() - last.len() - 1], last)
        }
    } else {
        (prev, last)
    };
    f.line = Some(line.parse().ok()?);
    f.file = Some(file.to_string());
    f.symbol = Some(func.to_string());
    Some(f)
}

fn parse_gdb(s: &str) -> Option<Frame> {
    let (n, rest) = frame_number(s)?;
    let mut f = Frame::new(FrameKind::Gdb);
    f.index = Some(n);
    let mut rest = rest;
    // address, with or without 0x, followed by " in " (or systemd "0xADDR FUNC (MODULE)")
    if let Some((a, r)) = rest.split_once(' ') {
        let hexpart = a.strip_prefix("0x");
        if let Some(r2) = r.strip_prefix("in ") {
            if let Some(v) = hex_u64(hexpart.unwrap_or(a)) {
                f.address = Some(v);
                rest = r2;
            }
        } else if let Some(h) = hexpart
            && let Some(v) = hex_u64(h)
        {
            // systemd-coredump: "#N  0xADDR FUNC (MODULE)"
            f.address = Some(v);
            let r = r.trim_start();
            if let Some(body) = r.strip_suffix(')')
                && let Some(open) = body.rfind(" (")
            {
                f.symbol = Some(body[..open].to_string());
                f.object = Some(body[open + 2..].to_string());
                return Some(f);
            }
            return None;
        }
    }
    let (head, tail) = if let Some((h, t)) = rest.rsplit_once(" at ") {
        let (file, line) = t.rsplit_once(':')?;
        f.file = Some(file.to_string());
        f.line = line.parse().ok();
        (h, None)
    } else if let Some((h, lib)) = rest.rsplit_once(" from ") {
        (h, Some(lib))
    } else if let Some((h, lib)) = rest.rsplit_once(" in ") {
        (h, Some(lib))
    } else {
        (rest, None)
    };
    if let Some(lib) = tail {
        f.object = Some(lib.to_string());
    }
    let func = match head.find(" (") {
        Some(p) => &head[..p],
        None => head,
    };
    if func.is_empty() || func.contains(' ') || func.starts_with("0x") {
        return None;
    }
    f.symbol = (func != "??").then(|| func.to_string());
    Some(f)
}

fn parse_windows(s: &str) -> Option<Frame> {
    let mut f = Frame::new(FrameKind::Windows);
    let mut rest = s;
    if let Some((a, r)) = s.split_once(char::is_whitespace)
        && a.len() >= 8
        && is_hex(a)
    {
        f.address = hex_u64(a);
        rest = r.trim_start();
    }
    let (module, r) = rest.split_once('!')?;
    if module.is_empty() || module.contains(' ') {
        return None;
    }
    let (func, loc) = r.split_once("()")?;
    if func.is_empty() {
        return None;
    }
    f.object = Some(module.to_string());
    f.symbol = Some(func.to_string());
    if let Some(loc) = loc.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        let (file, line) = loc.rsplit_once(':')?;
        f.file = Some(file.to_string());
        f.line = line.parse().ok();
    } else if !loc.is_empty() {
        return None;
    }
    Some(f)
}

fn parse_rust(s: &str) -> Option<Frame> {
    let (n, rest) = s.split_once(':')?;
    if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.strip_prefix(' ')?.trim_start();
    let mut f = Frame::new(FrameKind::Rust);
    f.index = n.parse().ok();
    if let Some((a, name)) = rest.split_once(" - ")
        && let Some(h) = a.strip_prefix("0x")
        && let Some(v) = hex_u64(h)
    {
        f.address = Some(v);
        f.symbol = Some(name.to_string());
        return Some(f);
    }
    // Short form: a path-like name, no spaces outside <> and no trailing text.
    if rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut depth = 0i32;
    for c in rest.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ' ' if depth <= 0 => return None,
            _ => {}
        }
    }
    if !(rest.contains("::")
        || rest.starts_with('<')
        || rest.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return None;
    }
    f.symbol = Some(rest.to_string());
    Some(f)
}

fn parse_rust_location(s: &str) -> Option<Frame> {
    let loc = s.strip_prefix("at ")?;
    let mut parts = loc.rsplitn(3, ':');
    let a = parts.next()?;
    let b = parts.next()?;
    let (file, line) = match parts.next() {
        Some(file) if b.bytes().all(|c| c.is_ascii_digit()) => (file, b),
        _ => (&loc[..loc.len() - a.len() - 1], a),
    };
    let line: u32 = line.parse().ok()?;
    let mut f = Frame::new(FrameKind::RustLocation);
    f.file = Some(file.to_string());
    f.line = Some(line);
    Some(f)
}

fn parse_go(s: &str) -> Option<Frame> {
    let (loc, off) = s.rsplit_once(" +0x")?;
    let (file, line) = loc.rsplit_once(':')?;
    if !file.ends_with(".go") {
        return None;
    }
    let mut f = Frame::new(FrameKind::Go);
    f.file = Some(file.to_string());
    f.line = Some(line.parse().ok()?);
    f.offset = Some(hex_u64(off)?);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Frame {
        let r = parse(s);
        let frames: Vec<_> = r.frames().cloned().collect();
        assert_eq!(frames.len(), 1, "{s}: {frames:?}");
        frames[0].clone()
    }

    #[test]
    fn glibc_variants() {
        let f = one("/usr/sbin/mysqld(handle_fatal_signal+0x479)[0x55f48c268309]");
        assert_eq!(f.kind, Some(FrameKind::Glibc));
        assert_eq!(f.object.as_deref(), Some("/usr/sbin/mysqld"));
        assert_eq!(f.symbol.as_deref(), Some("handle_fatal_signal"));
        assert_eq!(f.offset, Some(0x479));
        assert_eq!(f.address, Some(0x55f48c268309));
        let f = one("./plugin.so(+0x118e)[0x7f00118e]  ");
        assert_eq!((f.symbol, f.offset), (None, Some(0x118e)));
        let f = one(
            "   > mysqld(my_print_stacktrace(unsigned char const*, unsigned long)+0x29) [0x1b6ab82]",
        );
        assert_eq!(
            f.symbol.as_deref(),
            Some("my_print_stacktrace(unsigned char const*, unsigned long)")
        );
        assert_eq!(f.object.as_deref(), Some("mysqld"));
        let f = one("mysqld(_Z16dispatch_command19enum_server_commandP3THDPcj+0xbb7[0x67fdf8]");
        assert_eq!(f.offset, Some(0xbb7));
        let f = one("/lib64/libpthread.so.0 [0x331500eb10]");
        assert_eq!(
            (f.object.as_deref(), f.symbol),
            (Some("/lib64/libpthread.so.0"), None)
        );
        let f = one("[0x12d400]");
        assert_eq!((f.object, f.address), (None, Some(0x12d400)));
        let r = parse(
            "stack_bottom = 0x41fd0110 thread_stack 0x40000mysqld(a+0x32)[0x9da402]mysqld(b+0x28a)[0x6648e9][0x1][0x2]",
        );
        assert_eq!(r.frames().count(), 4);
    }

    #[test]
    fn other_formats() {
        let f = one("sql/sql_parse.cc:4804(mysql_execute_command(THD*, bool))[0x55f5f779875d]");
        assert_eq!(f.kind, Some(FrameKind::Resolved));
        assert_eq!(
            (f.file.as_deref(), f.line),
            (Some("sql/sql_parse.cc"), Some(4804))
        );
        assert_eq!(
            one("??:0(raise)[0x7fcf63b89476]").kind,
            Some(FrameKind::Resolved)
        );
        let f = one("0x12fcbfc <my_print_stacktrace+0x3c> at /usr/local/libexec/mariadbd");
        assert_eq!((f.kind, f.offset), (Some(FrameKind::FreeBsd), Some(0x3c)));
        let f = one("> >> /lib/libc.so.1:0x58bd0 [ Signal 11 (SEGV)]");
        assert_eq!(
            (f.kind, f.offset),
            (Some(FrameKind::Solaris), Some(0x58bd0))
        );
        let f = one("/lib/libc.so.1:free+0x24");
        assert_eq!(f.symbol.as_deref(), Some("free"));
        let f = one("00000001400F1C2A    mysqld.exe!Item_func::fix_fields()[item_func.cc:181]");
        assert_eq!((f.kind, f.line), (Some(FrameKind::Windows), Some(181)));
        let f = one(
            "#1  0x00005587d9931f36 in os_event::wait (this=0x5588274b9ca0) at /b/os0event.cc:166",
        );
        assert_eq!(
            (f.kind, f.line, f.index),
            (Some(FrameKind::Gdb), Some(166), Some(1))
        );
        let f = one("#2  os_event::wait_low (reset_sig_count=1) at /b/os0event.cc:336");
        assert_eq!((f.kind, f.address), (Some(FrameKind::Gdb), None));
        let f = one("[17:14:57] [debug] #1 544c6cc9 in ?? () from plugins\\mysql.DLL");
        assert_eq!(
            (f.kind, f.address),
            (Some(FrameKind::Gdb), Some(0x544c6cc9))
        );
        let f = one("    #6 0x7fe760655d52 in clone (/lib/x86_64-linux-gnu/libc.so.6+0x117d52)");
        assert_eq!(
            (f.kind, f.offset),
            (Some(FrameKind::Sanitizer), Some(0x117d52))
        );
        let f = one("    #3 0x7fe760ab4430 in __nptl_deallocate_tsd nptl/pthread_create.c:303");
        assert_eq!((f.kind, f.line), (Some(FrameKind::Sanitizer), Some(303)));
        let f = one(
            "  27:     0x559e9fc1803b - core::ops::function::FnOnce::call_once::hb8826fbdd104c57f",
        );
        assert_eq!(
            (f.kind, f.address),
            (Some(FrameKind::Rust), Some(0x559e9fc1803b))
        );
        let f = one("   4: rust_for_ts_devs::split_examples::print_parsed_numbers");
        assert_eq!(f.kind, Some(FrameKind::Rust));
        let f = one("             at ./src/split_examples.rs:17:19");
        assert_eq!((f.kind, f.line), (Some(FrameKind::RustLocation), Some(17)));
    }

    #[test]
    fn module_map_and_plain_text() {
        let r = parse(
            "Module map:\n0x5555-0x6666 /usr/bin/minnowd BuildID[sha1]=abcd\n0x7000-0x8000 /p/x.so\nTrying to get some variables.\n",
        );
        assert_eq!(r.modules.len(), 2);
        assert_eq!(r.modules[0].build_id.as_deref(), Some(&[0xab, 0xcd][..]));
        assert_eq!(r.frames().count(), 0);
        assert_eq!(r.lines.len(), 4);
        for text in [
            "Hello world",
            "key_buffer_size=16777216",
            "Status: NOT_KILLED",
            "rank 0=tyr slot=0:0",
            "http://x:80/",
        ] {
            assert_eq!(parse(text).frames().count(), 0, "{text}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet: &[u8] = b"()[]<>+-:0x1fF /#!@ \t\n>|_.?a\xc3\xa9\xe2\x94\x82";
        for len in 0..400 {
            let mut v = Vec::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let s = String::from_utf8_lossy(&v);
            let r = parse(&s);
            assert_eq!(
                r.lines.len(),
                s.split('\n').count() - usize::from(s.ends_with('\n'))
            );
        }
    }
}
