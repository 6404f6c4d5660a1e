//! More MySQL functions: regular expressions (`REGEXP`, `REGEXP_LIKE`,
//! `REGEXP_REPLACE`, `REGEXP_SUBSTR`, `REGEXP_INSTR`), number bases and bits
//! (`BIN`, `OCT`, `CONV`, `BIT_COUNT`), lists (`ELT`, `FIELD`), characters
//! (`ASCII`, `ORD`), encodings and checksums (`TO_BASE64`, `FROM_BASE64`,
//! `CRC32`, `COMPRESS`, `UNCOMPRESS`, `UNCOMPRESSED_LENGTH`), addresses
//! (`INET_ATON`, `INET_NTOA`), time arithmetic (`TIME_TO_SEC`, `SEC_TO_TIME`,
//! `MAKEDATE`, `PERIOD_ADD`, `PERIOD_DIFF`, `WEEK`, `STR_TO_DATE`), and the
//! introspection functions clients call (`CHARSET`, `COLLATION`,
//! `COERCIBILITY`, `BENCHMARK`, `JSON_UNQUOTE`).
//!
//! Regular expressions follow MySQL's default collation: case-insensitive
//! unless an argument is binary (a BLOB value) or the match type says `c`.

use std::cell::RefCell;
use std::io::{Read, Write};

use rusqlite::Connection;
use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};

use super::{
    DET, DateTime, NONDET, R, arg_dt, arg_int, arg_num, arg_text, civil_from_days, days_from_civil,
    opt_text, user_error,
};

/// The compiled pattern of the last call on this thread (a statement usually
/// matches one pattern against many rows).
struct Cached {
    pattern: String,
    flags: String,
    re: regex::Regex,
}

thread_local! {
    static LAST: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Runs `f` with the compiled `pattern` (MySQL match-type `flags`: `c` case
/// sensitive, `i` insensitive, `m` multi-line, `n` dot matches newline).
fn with_regex<T>(
    pattern: &str,
    flags: &str,
    binary: bool,
    f: impl FnOnce(&regex::Regex) -> T,
) -> rusqlite::Result<T> {
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        let key_flags = format!("{flags}{}", if binary { "b" } else { "" });
        let hit = last
            .as_ref()
            .is_some_and(|c| c.pattern == pattern && c.flags == key_flags);
        if !hit {
            let mut b = regex::RegexBuilder::new(pattern);
            b.case_insensitive(!binary);
            for c in flags.chars() {
                match c {
                    'c' => {
                        b.case_insensitive(false);
                    }
                    'i' => {
                        b.case_insensitive(true);
                    }
                    'm' => {
                        b.multi_line(true);
                    }
                    'n' => {
                        b.dot_matches_new_line(true);
                    }
                    'u' => {}
                    other => {
                        return Err(user_error(format!(
                            "Incorrect arguments to regexp: match type '{other}'"
                        )));
                    }
                }
            }
            b.size_limit(1 << 20);
            let re = b
                .build()
                .map_err(|e| user_error(format!("Got error '{e}' from regexp")))?;
            *last = Some(Cached {
                pattern: pattern.to_string(),
                flags: key_flags,
                re,
            });
        }
        match last.as_ref() {
            Some(c) => Ok(f(&c.re)),
            None => Err(user_error("regexp cache".into())),
        }
    })
}

fn is_blob(ctx: &Context<'_>, i: usize) -> bool {
    matches!(ctx.get_raw(i), ValueRef::Blob(_))
}

/// `(subject, pattern, match type)` of a `REGEXP_*` call whose pattern is argument
/// `p` and optional match type argument `m`; `None` if one is NULL.
fn regexp_args(
    ctx: &Context<'_>,
    s: usize,
    p: usize,
    m: Option<usize>,
) -> Option<(String, String, String, bool)> {
    let subject = arg_text(ctx, s)?;
    let pattern = arg_text(ctx, p)?;
    let flags = match m {
        Some(i) if i < ctx.len() => arg_text(ctx, i)?,
        _ => String::new(),
    };
    Some((subject, pattern, flags, is_blob(ctx, s) || is_blob(ctx, p)))
}

/// Character position (1-based) of byte offset `at` in `s`.
fn char_pos(s: &str, at: usize) -> i64 {
    s[..at].chars().count() as i64 + 1
}

/// Byte offset of 1-based character position `pos` (clamped to the end).
fn byte_at(s: &str, pos: i64) -> Option<usize> {
    if pos < 1 {
        return None;
    }
    let n = usize::try_from(pos - 1).ok()?;
    match s.char_indices().nth(n) {
        Some((b, _)) => Some(b),
        None if s.chars().count() == n => Some(s.len()),
        None => None,
    }
}

/// Argument `i` as an integer, `default` when the call has fewer arguments
/// (`None`: the argument is NULL).
fn int_or(ctx: &Context<'_>, i: usize, default: i64) -> Option<i64> {
    if ctx.len() > i {
        arg_int(ctx, i)
    } else {
        Some(default)
    }
}

/// Byte offset where a `REGEXP_*` search starts (1-based character position `pos`).
fn search_start(subject: &str, pos: i64) -> rusqlite::Result<usize> {
    byte_at(subject, pos)
        .ok_or_else(|| user_error("Index out of bounds in regular expression search".into()))
}

/// The `occurrence`-th match (1-based; 0 or less means the first).
fn nth_match<'h>(re: &regex::Regex, hay: &'h str, occurrence: i64) -> Option<regex::Match<'h>> {
    re.find_iter(hay)
        .nth(usize::try_from(occurrence.max(1) - 1).unwrap_or(usize::MAX))
}

fn in_range(ctx: &Context<'_>, min: usize, max: usize, name: &str) -> rusqlite::Result<()> {
    if ctx.len() < min || ctx.len() > max {
        return Err(user_error(format!(
            "Incorrect parameter count in the call to native function '{name}'"
        )));
    }
    Ok(())
}

fn base64_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4 + b.len() / 57);
    for (i, chunk) in b.chunks(3).enumerate() {
        // MySQL wraps TO_BASE64 output every 76 characters.
        if i > 0 && i % 19 == 0 {
            out.push('\n');
        }
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * k) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `CONV(n, from, to)`: bases 2–36 (a negative `to` gives a signed result).
fn conv(n: &str, from: i64, to: i64) -> Option<String> {
    let (from_abs, to_abs) = (from.unsigned_abs(), to.unsigned_abs());
    if !(2..=36).contains(&from_abs) || !(2..=36).contains(&to_abs) {
        return None;
    }
    let t = n.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let mut v: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(36).filter(|d| u64::from(*d) < from_abs) else {
            break; // MySQL stops at the first invalid digit
        };
        v = v.wrapping_mul(from_abs).wrapping_add(u64::from(d));
    }
    let (neg_out, mut v) = if neg {
        if to < 0 {
            (true, v)
        } else {
            (false, v.wrapping_neg())
        }
    } else {
        (false, v)
    };
    if v == 0 {
        return Some("0".into());
    }
    let mut out = Vec::new();
    while v > 0 {
        let d = (v % to_abs) as u32;
        out.push(char::from_digit(d, 36).unwrap_or('?').to_ascii_uppercase());
        v /= to_abs;
    }
    if neg_out {
        out.push('-');
    }
    Some(out.iter().rev().collect())
}

/// First day (days since the epoch) of week 1 of `year` for a WEEK() mode.
fn week1_start(year: i64, monday_first: bool, first_week_4days: bool) -> i64 {
    let jan1 = days_from_civil(year, 1, 1);
    // 0 = first day of the week.
    let wd = if monday_first {
        (jan1 + 3).rem_euclid(7)
    } else {
        (jan1 + 4).rem_euclid(7)
    };
    if first_week_4days {
        if wd <= 3 { jan1 - wd } else { jan1 + 7 - wd }
    } else if wd == 0 {
        jan1
    } else {
        jan1 + 7 - wd
    }
}

/// MySQL's `WEEK(date, mode)`.
fn week(dt: &DateTime, mode: i64) -> i64 {
    let mode = mode.rem_euclid(8);
    let monday_first = mode & 1 != 0;
    let range_1_53 = mode & 2 != 0;
    let first_week_4days = (mode & 4 != 0) ^ monday_first;
    let (y, days) = (dt.y, dt.days());
    let week_of = |year: i64| -> Option<i64> {
        let start = week1_start(year, monday_first, first_week_4days);
        (days >= start).then(|| (days - start) / 7 + 1)
    };
    match week_of(y) {
        None if range_1_53 => week_of(y - 1).unwrap_or(0),
        None => 0,
        // With 1..53 ranges the last days may belong to week 1 of next year.
        Some(53) if range_1_53 && days >= week1_start(y + 1, monday_first, first_week_4days) => 1,
        Some(w) => w,
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `STR_TO_DATE(s, format)`: the inverse of DATE_FORMAT for the common
/// specifiers; `None` (NULL) when `s` does not match.
fn str_to_date(s: &str, fmt: &str) -> Option<String> {
    let (mut y, mut mo, mut d) = (None::<i64>, None::<i64>, None::<i64>);
    let (mut h, mut mi, mut sec, mut us) = (None::<i64>, None::<i64>, None::<i64>, 0i64);
    let mut pm = None::<bool>;
    let mut src = s.trim_start();
    let mut f = fmt.chars().peekable();
    fn num(src: &mut &str, max: usize) -> Option<i64> {
        // Numbers may be preceded by spaces ('May 1, 2013' with '%M %d,%Y').
        *src = src.trim_start();
        let n = src
            .char_indices()
            .take(max)
            .take_while(|(_, c)| c.is_ascii_digit())
            .count();
        if n == 0 {
            return None;
        }
        let v = src[..n].parse().ok()?;
        *src = &src[n..];
        Some(v)
    }
    while let Some(c) = f.next() {
        if c != '%' {
            if c.is_whitespace() {
                src = src.trim_start();
                continue;
            }
            src = src.strip_prefix(c)?;
            continue;
        }
        match f.next()? {
            'Y' => y = Some(num(&mut src, 4)?),
            'y' => {
                let v = num(&mut src, 2)?;
                y = Some(if v < 70 { 2000 + v } else { 1900 + v });
            }
            'm' | 'c' => mo = Some(num(&mut src, 2)?),
            'd' | 'e' => d = Some(num(&mut src, 2)?),
            'H' | 'k' => h = Some(num(&mut src, 2)?),
            'h' | 'I' | 'l' => h = Some(num(&mut src, 2)?),
            'i' => mi = Some(num(&mut src, 2)?),
            's' | 'S' => sec = Some(num(&mut src, 2)?),
            'f' => {
                let before = src.len();
                let v = num(&mut src, 6)?;
                let digits = before - src.len();
                us = v * 10_i64.pow(6 - digits as u32);
            }
            'p' => {
                let low = src.get(..2)?.to_ascii_lowercase();
                pm = Some(match low.as_str() {
                    "am" => false,
                    "pm" => true,
                    _ => return None,
                });
                src = &src[2..];
            }
            'M' | 'b' => {
                let low = src.to_ascii_lowercase();
                let (i, len) = MONTHS.iter().enumerate().find_map(|(i, m)| {
                    if low.starts_with(m) {
                        Some((i, m.len()))
                    } else if low.starts_with(&m[..3]) {
                        Some((i, 3))
                    } else {
                        None
                    }
                })?;
                mo = Some(i as i64 + 1);
                src = &src[len..];
            }
            'T' => {
                h = Some(num(&mut src, 2)?);
                src = src.strip_prefix(':')?;
                mi = Some(num(&mut src, 2)?);
                src = src.strip_prefix(':')?;
                sec = Some(num(&mut src, 2)?);
            }
            'j' => {
                let doy = num(&mut src, 3)?;
                let year = y.unwrap_or(2000);
                let (yy, mm, dd) = civil_from_days(days_from_civil(year, 1, 1) + doy - 1);
                y = Some(yy);
                mo = Some(mm);
                d = Some(dd);
            }
            '%' => src = src.strip_prefix('%')?,
            _ => return None,
        }
    }
    if let (Some(p), Some(hh)) = (pm, h) {
        if !(1..=12).contains(&hh) {
            return None;
        }
        h = Some(hh % 12 + if p { 12 } else { 0 });
    }
    let has_date = y.is_some() || mo.is_some() || d.is_some();
    let has_time = h.is_some() || mi.is_some() || sec.is_some();
    let (yy, mm, dd) = (y.unwrap_or(0), mo.unwrap_or(0), d.unwrap_or(0));
    if has_date && (mm > 12 || dd > 31 || (mm >= 1 && dd > super::days_in_month(yy.max(1), mm))) {
        return None;
    }
    let (hh, mn, ss) = (h.unwrap_or(0), mi.unwrap_or(0), sec.unwrap_or(0));
    if hh > 23 || mn > 59 || ss > 59 {
        return None;
    }
    let frac = if us > 0 {
        format!(".{us:06}")
    } else {
        String::new()
    };
    Some(match (has_date, has_time) {
        (true, false) => format!("{yy:04}-{mm:02}-{dd:02}"),
        (false, true) => format!("{hh:02}:{mn:02}:{ss:02}{frac}"),
        _ => format!("{yy:04}-{mm:02}-{dd:02} {hh:02}:{mn:02}:{ss:02}{frac}"),
    })
}

fn inet_aton(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.trim().split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut v: i64 = 0;
    for (i, p) in parts.iter().enumerate() {
        let n: i64 = p.parse().ok().filter(|_| !p.is_empty() && p.len() <= 3)?;
        if n > 255 {
            return None;
        }
        // MySQL: short forms put the last part in the lowest byte ('127.1' is
        // 127.0.0.1).
        v |= if i + 1 == parts.len() {
            n
        } else {
            n << (8 * (3 - i))
        };
    }
    Some(v)
}

/// Registers the functions of this module.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // Regular expressions. SQLite turns `x REGEXP y` into regexp(y, x).
    conn.create_scalar_function("regexp", 2, DET, |ctx| -> R {
        let Some((subject, pattern, flags, bin)) = regexp_args(ctx, 1, 0, None) else {
            return Ok(Value::Null);
        };
        with_regex(&pattern, &flags, bin, |re| {
            Value::Integer(i64::from(re.is_match(&subject)))
        })
    })?;
    conn.create_scalar_function("regexp_like", -1, DET, |ctx| -> R {
        in_range(ctx, 2, 3, "REGEXP_LIKE")?;
        let Some((subject, pattern, flags, bin)) = regexp_args(ctx, 0, 1, Some(2)) else {
            return Ok(Value::Null);
        };
        with_regex(&pattern, &flags, bin, |re| {
            Value::Integer(i64::from(re.is_match(&subject)))
        })
    })?;
    conn.create_scalar_function("regexp_replace", -1, DET, |ctx| -> R {
        in_range(ctx, 3, 6, "REGEXP_REPLACE")?;
        let Some((subject, pattern, flags, bin)) = regexp_args(ctx, 0, 1, Some(5)) else {
            return Ok(Value::Null);
        };
        let Some(repl) = arg_text(ctx, 2) else {
            return Ok(Value::Null);
        };
        let (Some(pos), Some(occurrence)) = (int_or(ctx, 3, 1), int_or(ctx, 4, 0)) else {
            return Ok(Value::Null);
        };
        let start = search_start(&subject, pos)?;
        // MySQL's replacement refers to groups as \1 … \9 (and $1 in MySQL 8).
        let repl = repl.replace("$", "$$");
        let mut r = String::with_capacity(repl.len());
        let mut it = repl.chars().peekable();
        while let Some(c) = it.next() {
            match (c, it.peek()) {
                ('\\', Some(d)) if d.is_ascii_digit() => {
                    r.push_str(&format!("${{{d}}}"));
                    it.next();
                }
                ('\\', Some(&n)) => {
                    r.push(n);
                    it.next();
                }
                _ => r.push(c),
            }
        }
        with_regex(&pattern, &flags, bin, |re| {
            let (head, tail) = subject.split_at(start);
            let replaced = if occurrence <= 0 {
                re.replace_all(tail, r.as_str()).into_owned()
            } else {
                let mut out = String::new();
                let mut last = 0;
                for (i, caps) in re.captures_iter(tail).enumerate() {
                    if i as i64 + 1 == occurrence {
                        if let Some(m) = caps.get(0) {
                            out.push_str(&tail[last..m.start()]);
                            caps.expand(&r, &mut out);
                            last = m.end();
                        }
                        break;
                    }
                }
                out.push_str(&tail[last..]);
                out
            };
            Value::Text(format!("{head}{replaced}"))
        })
    })?;
    conn.create_scalar_function("regexp_substr", -1, DET, |ctx| -> R {
        in_range(ctx, 2, 5, "REGEXP_SUBSTR")?;
        let Some((subject, pattern, flags, bin)) = regexp_args(ctx, 0, 1, Some(4)) else {
            return Ok(Value::Null);
        };
        let (Some(pos), Some(occurrence)) = (int_or(ctx, 2, 1), int_or(ctx, 3, 1)) else {
            return Ok(Value::Null);
        };
        let start = search_start(&subject, pos)?;
        with_regex(&pattern, &flags, bin, |re| {
            nth_match(re, &subject[start..], occurrence)
                .map(|m| Value::Text(m.as_str().to_string()))
                .unwrap_or(Value::Null)
        })
    })?;
    conn.create_scalar_function("regexp_instr", -1, DET, |ctx| -> R {
        in_range(ctx, 2, 6, "REGEXP_INSTR")?;
        let Some((subject, pattern, flags, bin)) = regexp_args(ctx, 0, 1, Some(5)) else {
            return Ok(Value::Null);
        };
        let (Some(pos), Some(occurrence), Some(after)) =
            (int_or(ctx, 2, 1), int_or(ctx, 3, 1), int_or(ctx, 4, 0))
        else {
            return Ok(Value::Null);
        };
        let start = search_start(&subject, pos)?;
        with_regex(&pattern, &flags, bin, |re| {
            Value::Integer(
                nth_match(re, &subject[start..], occurrence)
                    .map(|m| {
                        char_pos(
                            &subject,
                            start + if after != 0 { m.end() } else { m.start() },
                        )
                    })
                    .unwrap_or(0),
            )
        })
    })?;

    // Numbers in other bases, bits.
    conn.create_scalar_function("bin", 1, DET, |ctx| -> R {
        Ok(opt_text(arg_text(ctx, 0).and_then(|n| conv(&n, 10, 2))))
    })?;
    conn.create_scalar_function("oct", 1, DET, |ctx| -> R {
        Ok(opt_text(arg_text(ctx, 0).and_then(|n| conv(&n, 10, 8))))
    })?;
    conn.create_scalar_function("conv", 3, DET, |ctx| -> R {
        let (Some(n), Some(from), Some(to)) = (arg_text(ctx, 0), arg_int(ctx, 1), arg_int(ctx, 2))
        else {
            return Ok(Value::Null);
        };
        Ok(opt_text(conv(&n, from, to)))
    })?;
    conn.create_scalar_function("bit_count", 1, DET, |ctx| -> R {
        Ok(match arg_int(ctx, 0) {
            Some(n) => Value::Integer(i64::from(n.count_ones())),
            None => Value::Null,
        })
    })?;

    // Lists.
    conn.create_scalar_function("elt", -1, DET, |ctx| -> R {
        in_range(ctx, 2, usize::MAX, "ELT")?;
        Ok(match arg_int(ctx, 0) {
            Some(n) if n >= 1 && (n as usize) < ctx.len() => opt_text(arg_text(ctx, n as usize)),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("field", -1, DET, |ctx| -> R {
        in_range(ctx, 2, usize::MAX, "FIELD")?;
        let Some(needle) = arg_text(ctx, 0) else {
            return Ok(Value::Integer(0));
        };
        let numeric = matches!(ctx.get_raw(0), ValueRef::Integer(_) | ValueRef::Real(_));
        for i in 1..ctx.len() {
            let hit = if numeric {
                arg_num(ctx, i).is_some_and(|n| Some(n.f()) == arg_num(ctx, 0).map(|m| m.f()))
            } else {
                arg_text(ctx, i).is_some_and(|s| s.to_lowercase() == needle.to_lowercase())
            };
            if hit {
                return Ok(Value::Integer(i as i64));
            }
        }
        Ok(Value::Integer(0))
    })?;

    // Characters.
    conn.create_scalar_function("ascii", 1, DET, |ctx| -> R {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Text(b) | ValueRef::Blob(b) => {
                Value::Integer(b.first().map(|c| i64::from(*c)).unwrap_or(0))
            }
            _ => Value::Integer(
                arg_text(ctx, 0)
                    .and_then(|s| s.bytes().next())
                    .map(i64::from)
                    .unwrap_or(0),
            ),
        })
    })?;
    conn.create_scalar_function("ord", 1, DET, |ctx| -> R {
        Ok(match arg_text(ctx, 0) {
            None => Value::Null,
            Some(s) => Value::Integer(match s.chars().next() {
                // MySQL: the bytes of the leftmost character as a big-endian number.
                Some(c) => {
                    let mut buf = [0u8; 4];
                    c.encode_utf8(&mut buf)
                        .bytes()
                        .fold(0i64, |acc, b| acc * 256 + i64::from(b))
                }
                None => 0,
            }),
        })
    })?;

    // Encodings, checksums, compression.
    conn.create_scalar_function("to_base64", 1, DET, |ctx| -> R {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Text(b) | ValueRef::Blob(b) => Value::Text(base64_encode(b)),
            _ => opt_text(arg_text(ctx, 0).map(|s| base64_encode(s.as_bytes()))),
        })
    })?;
    conn.create_scalar_function("from_base64", 1, DET, |ctx| -> R {
        Ok(match arg_text(ctx, 0).and_then(|s| base64_decode(&s)) {
            Some(b) => Value::Blob(b),
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("crc32", 1, DET, |ctx| -> R {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Text(b) | ValueRef::Blob(b) => Value::Integer(i64::from(crc32fast::hash(b))),
            _ => Value::Integer(i64::from(crc32fast::hash(
                arg_text(ctx, 0).unwrap_or_default().as_bytes(),
            ))),
        })
    })?;
    conn.create_scalar_function("compress", 1, DET, |ctx| -> R {
        let data: Vec<u8> = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(Value::Null),
            ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
            _ => arg_text(ctx, 0).unwrap_or_default().into_bytes(),
        };
        if data.is_empty() {
            return Ok(Value::Blob(Vec::new()));
        }
        // MySQL: 4-byte little-endian length, then a zlib stream.
        let mut out = (data.len() as u32).to_le_bytes().to_vec();
        let mut z = flate2::write::ZlibEncoder::new(&mut out, flate2::Compression::default());
        z.write_all(&data)
            .and_then(|_| z.finish().map(|_| ()))
            .map_err(|e| user_error(format!("COMPRESS: {e}")))?;
        Ok(Value::Blob(out))
    })?;
    conn.create_scalar_function("uncompress", 1, DET, |ctx| -> R {
        let data: Vec<u8> = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(Value::Null),
            ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
            _ => return Ok(Value::Null),
        };
        if data.is_empty() {
            return Ok(Value::Blob(Vec::new()));
        }
        let Some(len) = data
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return Ok(Value::Null);
        };
        let mut out = Vec::new();
        let limit = u64::from(len).min(64 << 20);
        let ok = flate2::read::ZlibDecoder::new(&data[4..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .is_ok();
        Ok(if ok && out.len() as u64 == u64::from(len) {
            Value::Blob(out)
        } else {
            Value::Null
        })
    })?;
    conn.create_scalar_function("uncompressed_length", 1, DET, |ctx| -> R {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Text(b) | ValueRef::Blob(b) => Value::Integer(match b.get(..4) {
                Some(l) => i64::from(u32::from_le_bytes([l[0], l[1], l[2], l[3]])),
                None => 0,
            }),
            _ => Value::Integer(0),
        })
    })?;

    // Addresses.
    conn.create_scalar_function("inet_aton", 1, DET, |ctx| -> R {
        Ok(match arg_text(ctx, 0).and_then(|s| inet_aton(&s)) {
            Some(v) => Value::Integer(v),
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("inet_ntoa", 1, DET, |ctx| -> R {
        Ok(match arg_int(ctx, 0) {
            Some(n) if (0..=0xffff_ffff).contains(&n) => Value::Text(format!(
                "{}.{}.{}.{}",
                n >> 24 & 255,
                n >> 16 & 255,
                n >> 8 & 255,
                n & 255
            )),
            _ => Value::Null,
        })
    })?;

    // Time arithmetic.
    conn.create_scalar_function("time_to_sec", 1, DET, |ctx| -> R {
        Ok(match super::arg_time(ctx, 0) {
            Some((h, m, s, _)) => Value::Integer(if h < 0 {
                h * 3600 - m * 60 - s
            } else {
                h * 3600 + m * 60 + s
            }),
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("sec_to_time", 1, DET, |ctx| -> R {
        Ok(match arg_int(ctx, 0) {
            Some(n) => {
                let clamped = n.clamp(-3_020_399, 3_020_399); // ±838:59:59
                let a = clamped.abs();
                Value::Text(format!(
                    "{}{:02}:{:02}:{:02}",
                    if clamped < 0 { "-" } else { "" },
                    a / 3600,
                    a % 3600 / 60,
                    a % 60
                ))
            }
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("makedate", 2, DET, |ctx| -> R {
        Ok(match (arg_int(ctx, 0), arg_int(ctx, 1)) {
            (Some(y), Some(doy)) if doy > 0 && (0..=9999).contains(&y) => {
                let y = if y < 70 {
                    y + 2000
                } else if y < 100 {
                    y + 1900
                } else {
                    y
                };
                let (yy, m, d) = civil_from_days(days_from_civil(y, 1, 1) + doy - 1);
                if yy > 9999 {
                    Value::Null
                } else {
                    Value::Text(format!("{yy:04}-{m:02}-{d:02}"))
                }
            }
            _ => Value::Null,
        })
    })?;
    let period_months = |p: i64| -> i64 {
        let (y, m) = (p / 100, p % 100);
        let y = if y < 70 {
            y + 2000
        } else if y < 100 {
            y + 1900
        } else {
            y
        };
        y * 12 + m - 1
    };
    conn.create_scalar_function("period_diff", 2, DET, move |ctx| -> R {
        Ok(match (arg_int(ctx, 0), arg_int(ctx, 1)) {
            (Some(a), Some(b)) => Value::Integer(period_months(a) - period_months(b)),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("period_add", 2, DET, move |ctx| -> R {
        Ok(match (arg_int(ctx, 0), arg_int(ctx, 1)) {
            (Some(p), Some(n)) => {
                let m = period_months(p) + n;
                Value::Integer(m.div_euclid(12) * 100 + m.rem_euclid(12) + 1)
            }
            _ => Value::Null,
        })
    })?;
    for n in [1, 2] {
        conn.create_scalar_function("week", n, DET, |ctx| -> R {
            let mode = if ctx.len() > 1 {
                arg_int(ctx, 1).unwrap_or(0)
            } else {
                0
            };
            Ok(match arg_dt(ctx, 0) {
                Some(dt) => Value::Integer(week(&dt, mode)),
                None => Value::Null,
            })
        })?;
    }
    conn.create_scalar_function("str_to_date", 2, DET, |ctx| -> R {
        Ok(match (arg_text(ctx, 0), arg_text(ctx, 1)) {
            (Some(s), Some(f)) => opt_text(str_to_date(&s, &f)),
            _ => Value::Null,
        })
    })?;

    // Introspection.
    conn.create_scalar_function("charset", 1, DET, |ctx| -> R {
        Ok(Value::Text(
            match ctx.get_raw(0) {
                ValueRef::Blob(_) | ValueRef::Integer(_) | ValueRef::Real(_) => "binary",
                ValueRef::Null => "binary",
                ValueRef::Text(_) => "utf8mb4",
            }
            .into(),
        ))
    })?;
    conn.create_scalar_function("collation", 1, DET, |ctx| -> R {
        Ok(Value::Text(
            match ctx.get_raw(0) {
                ValueRef::Text(_) => "utf8mb4_general_ci",
                _ => "binary",
            }
            .into(),
        ))
    })?;
    conn.create_scalar_function("coercibility", 1, DET, |ctx| -> R {
        Ok(Value::Integer(match ctx.get_raw(0) {
            ValueRef::Null => 6,
            ValueRef::Text(_) => 4,
            _ => 5,
        }))
    })?;
    conn.create_scalar_function("benchmark", 2, NONDET, |ctx| -> R {
        // The expression was evaluated once by SQLite already; MySQL returns 0.
        Ok(match arg_int(ctx, 0) {
            Some(n) if n >= 0 => Value::Integer(0),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("json_unquote", 1, DET, |ctx| -> R {
        let Some(s) = arg_text(ctx, 0) else {
            return Ok(Value::Null);
        };
        let t = s.trim();
        if !(t.len() >= 2 && t.starts_with('"') && t.ends_with('"')) {
            return Ok(Value::Text(s));
        }
        let mut out = String::with_capacity(t.len());
        let mut it = t[1..t.len() - 1].chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('u') => {
                    let hex: String = it.by_ref().take(4).collect();
                    let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    match ch {
                        Some(ch) => out.push(ch),
                        None => {
                            return Err(user_error(format!(
                                "Invalid JSON text in argument 1 to function json_unquote: \"{s}\""
                            )));
                        }
                    }
                }
                Some(other) => out.push(other),
                None => {}
            }
        }
        Ok(Value::Text(out))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_and_encodings() {
        assert_eq!(conv("ff", 16, 10).as_deref(), Some("255"));
        assert_eq!(conv("255", 10, 16).as_deref(), Some("FF"));
        assert_eq!(conv("-17", 10, -18).as_deref(), Some("-H"));
        assert_eq!(conv("-1", 10, 16).as_deref(), Some("FFFFFFFFFFFFFFFF"));
        assert_eq!(conv("5", 10, 2).as_deref(), Some("101"));
        assert_eq!(conv("12", 1, 10), None);
        assert_eq!(base64_encode(b"abc"), "YWJj");
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("Y*=="), None);
        let long = vec![b'x'; 100];
        let enc = base64_encode(&long);
        assert_eq!(enc.lines().next().map(str::len), Some(76));
        assert_eq!(base64_decode(&enc), Some(long));
    }

    #[test]
    fn addresses() {
        assert_eq!(inet_aton("10.0.5.9"), Some(167_773_449));
        assert_eq!(inet_aton("1.2.3.4"), Some(16_909_060));
        assert_eq!(inet_aton("127.1"), Some(2_130_706_433));
        assert_eq!(inet_aton("256.1.1.1"), None);
        assert_eq!(inet_aton("a.b"), None);
    }

    #[test]
    fn weeks_match_mysql() {
        let d = |s: &str| DateTime::parse(s).expect("date");
        // Values from MySQL 8.0's manual and server.
        assert_eq!(week(&d("2008-02-20"), 0), 7);
        assert_eq!(week(&d("2008-02-20"), 1), 8);
        assert_eq!(week(&d("2008-12-31"), 1), 53);
        assert_eq!(week(&d("2000-01-01"), 0), 0);
        assert_eq!(week(&d("2000-01-01"), 2), 52);
        assert_eq!(week(&d("2024-01-10"), 0), 1);
        assert_eq!(week(&d("2024-12-30"), 3), 1);
    }

    #[test]
    fn str_to_date_parses_common_formats() {
        let p = |s, f| str_to_date(s, f);
        assert_eq!(p("01/02/2024", "%m/%d/%Y").as_deref(), Some("2024-01-02"));
        assert_eq!(
            p("May 1, 2013 3:04:05 PM", "%M %d, %Y %h:%i:%s %p").as_deref(),
            Some("2013-05-01 15:04:05")
        );
        assert_eq!(p("10:11:12", "%H:%i:%s").as_deref(), Some("10:11:12"));
        assert_eq!(p("2024-02-30", "%Y-%m-%d"), None);
        assert_eq!(p("abc", "%Y"), None);
        assert_eq!(p("9", "%d.%m"), None);
    }
}
