//! MySQL functions SQLite lacks (or spells differently), registered on every
//! session connection: date and time (`DATE_FORMAT`, `DATE_ADD`, `YEAR`, …),
//! strings (`CONCAT` with MySQL's NULL rule, `LPAD`, `SUBSTRING_INDEX`, …),
//! numbers (`FLOOR`, `POW`, `RAND`, …) and hashes (`MD5`, `SHA1`, `SHA2`).
//!
//! The server's time zone is UTC (`@@time_zone` is `SYSTEM` on a UTC host):
//! `NOW()`, `UNIX_TIMESTAMP()` and `FROM_UNIXTIME()` agree with each other.
//!
//! Functions whose MySQL syntax SQLite cannot parse (`a DIV b`, `INTERVAL`,
//! `EXTRACT(unit FROM d)`, `CURRENT_TIMESTAMP()`) are rewritten by
//! [`super::rewrite::mysql_syntax`] into the `minnow_*` functions here, whose last
//! argument is the original text (the result column's name).

mod more;

use std::sync::Mutex;

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use sha1::{Digest, Sha1};

type R = rusqlite::Result<Value>;

const DET: FunctionFlags = FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);
const NONDET: FunctionFlags = FunctionFlags::SQLITE_UTF8;

// ----------------------------------------------------------------- coercion

/// A number as MySQL reads it from any value (`'12abc'` is 12, `'x'` is 0).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

fn parse_num(s: &str) -> Num {
    let t = s.trim_start();
    let b = t.as_bytes();
    let mut end = 0;
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    let digits_start = end;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    let mut float = false;
    if end < b.len() && b[end] == b'.' {
        float = true;
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    if end > digits_start && end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut e = end + 1;
        if e < b.len() && (b[e] == b'-' || b[e] == b'+') {
            e += 1;
        }
        if e < b.len() && b[e].is_ascii_digit() {
            float = true;
            end = e;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
        }
    }
    let text = &t[..end];
    if !float {
        if let Ok(i) = text.parse::<i64>() {
            return Num::I(i);
        }
    }
    Num::F(text.parse::<f64>().unwrap_or(0.0))
}

fn num(v: ValueRef<'_>) -> Option<Num> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(Num::I(i)),
        ValueRef::Real(f) => Some(Num::F(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(parse_num(&String::from_utf8_lossy(t))),
    }
}

fn float_text(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(float_text(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// An owned copy of a value; text that is not UTF-8 stays bytes (rusqlite's own
/// conversion panics on it, and SQLite can make such text: `CAST(X'FF' AS TEXT)`).
pub(crate) fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_string()),
            Err(_) => Value::Blob(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// MySQL's truth of a value: a non-zero number (`'1abc'` is 1); NULL is false.
pub(crate) fn truthy(v: ValueRef<'_>) -> bool {
    num(v).is_some_and(|n| n.f() != 0.0)
}

fn arg_text(ctx: &Context<'_>, i: usize) -> Option<String> {
    text(ctx.get_raw(i))
}

fn arg_num(ctx: &Context<'_>, i: usize) -> Option<Num> {
    num(ctx.get_raw(i))
}

fn arg_int(ctx: &Context<'_>, i: usize) -> Option<i64> {
    arg_num(ctx, i).map(|n| match n {
        Num::I(i) => i,
        Num::F(f) => f.round() as i64,
    })
}

fn opt_text(s: Option<String>) -> Value {
    s.map(Value::Text).unwrap_or(Value::Null)
}

// ------------------------------------------------------------ date and time

/// A MySQL DATE / DATETIME / TIME value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateTime {
    y: i64,
    mo: i64,
    d: i64,
    h: i64,
    mi: i64,
    s: i64,
    us: i64,
    /// Whether the value had a time part.
    has_time: bool,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

impl DateTime {
    fn from_epoch_micros(t: i64) -> DateTime {
        let secs = t.div_euclid(1_000_000);
        let us = t.rem_euclid(1_000_000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, mo, d) = civil_from_days(days);
        DateTime {
            y,
            mo,
            d,
            h: rem / 3600,
            mi: rem % 3600 / 60,
            s: rem % 60,
            us,
            has_time: true,
        }
    }

    fn now() -> DateTime {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Self::from_epoch_micros(t)
    }

    fn days(&self) -> i64 {
        days_from_civil(self.y, self.mo, self.d)
    }

    fn epoch_micros(&self) -> i64 {
        (self.days() * 86_400 + self.h * 3600 + self.mi * 60 + self.s) * 1_000_000 + self.us
    }

    /// Parses `YYYY-MM-DD[( |T)HH:MM:SS[.ffffff]]`, `YYYYMMDD[HHMMSS]` and the
    /// like; `None` for anything that is not a valid date.
    pub(crate) fn parse(s: &str) -> Option<DateTime> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if s.bytes().all(|c| c.is_ascii_digit()) || (s.contains('.') && !s.contains('-')) {
            return Self::parse_number(s);
        }
        let (date, time) = match s.find([' ', 'T']) {
            Some(p) => (&s[..p], Some(s[p + 1..].trim())),
            None => (s, None),
        };
        let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
        if parts.len() != 3 {
            return None;
        }
        let mut y: i64 = parts[0].parse().ok()?;
        if parts[0].len() <= 2 {
            y += if y < 70 { 2000 } else { 1900 };
        }
        let mo: i64 = parts[1].parse().ok()?;
        let d: i64 = parts[2].parse().ok()?;
        let mut dt = DateTime {
            y,
            mo,
            d,
            h: 0,
            mi: 0,
            s: 0,
            us: 0,
            has_time: false,
        };
        if let Some(t) = time.filter(|t| !t.is_empty()) {
            let (h, mi, sec, us) = parse_hms(t)?;
            dt.h = h;
            dt.mi = mi;
            dt.s = sec;
            dt.us = us;
            dt.has_time = true;
        }
        dt.valid().then_some(dt)
    }

    fn parse_number(s: &str) -> Option<DateTime> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let us = frac_micros(frac)?;
        let n = int.len();
        let digits = |a: usize, b: usize| int.get(a..b).and_then(|x| x.parse::<i64>().ok());
        let (y, rest) = match n {
            8 | 14 => (digits(0, 4)?, 4),
            6 | 12 => {
                let y = digits(0, 2)?;
                (if y < 70 { 2000 + y } else { 1900 + y }, 2)
            }
            _ => return None,
        };
        let mut dt = DateTime {
            y,
            mo: digits(rest, rest + 2)?,
            d: digits(rest + 2, rest + 4)?,
            h: 0,
            mi: 0,
            s: 0,
            us,
            has_time: n > 8,
        };
        if n > 8 {
            dt.h = digits(rest + 4, rest + 6)?;
            dt.mi = digits(rest + 6, rest + 8)?;
            dt.s = digits(rest + 8, rest + 10)?;
        }
        dt.valid().then_some(dt)
    }

    fn valid(&self) -> bool {
        (1..=9999).contains(&self.y)
            && (1..=12).contains(&self.mo)
            && self.d >= 1
            && self.d <= days_in_month(self.y, self.mo)
            && (0..24).contains(&self.h)
            && (0..60).contains(&self.mi)
            && (0..60).contains(&self.s)
    }

    fn date_string(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.mo, self.d)
    }

    fn datetime_string(&self, fsp: usize) -> String {
        let mut s = format!(
            "{} {:02}:{:02}:{:02}",
            self.date_string(),
            self.h,
            self.mi,
            self.s
        );
        push_fraction(&mut s, self.us, fsp);
        s
    }

    /// 0 = Monday … 6 = Sunday.
    fn weekday(&self) -> i64 {
        (self.days() + 3).rem_euclid(7)
    }

    fn day_of_year(&self) -> i64 {
        self.days() - days_from_civil(self.y, 1, 1) + 1
    }
}

fn frac_micros(frac: &str) -> Option<i64> {
    if frac.is_empty() {
        return Some(0);
    }
    if !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut f: String = frac.chars().take(6).collect();
    while f.len() < 6 {
        f.push('0');
    }
    f.parse().ok()
}

fn push_fraction(s: &mut String, us: i64, fsp: usize) {
    if fsp > 0 {
        let f = format!("{:06}", us);
        s.push('.');
        s.push_str(&f[..fsp.min(6)]);
    }
}

/// `HH:MM[:SS[.ffffff]]` → parts (hours may exceed 23 for TIME values).
fn parse_hms(t: &str) -> Option<(i64, i64, i64, i64)> {
    let (main, frac) = t.split_once('.').unwrap_or((t, ""));
    let p: Vec<&str> = main.split(':').collect();
    if p.len() < 2 || p.len() > 3 {
        return None;
    }
    let h: i64 = p[0].trim().parse().ok()?;
    let mi: i64 = p[1].parse().ok()?;
    let s: i64 = match p.get(2) {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    Some((h, mi, s, frac_micros(frac)?))
}

/// A datetime argument (NULL and invalid dates give `None`).
fn arg_dt(ctx: &Context<'_>, i: usize) -> Option<DateTime> {
    match ctx.get_raw(i) {
        ValueRef::Integer(n) => DateTime::parse(&n.to_string()),
        v => DateTime::parse(&text(v)?),
    }
}

/// A time-of-day argument: a datetime's time, or a bare `HH:MM:SS`.
fn arg_time(ctx: &Context<'_>, i: usize) -> Option<(i64, i64, i64, i64)> {
    let s = arg_text(ctx, i)?;
    if let Some(dt) = DateTime::parse(&s) {
        if dt.has_time || !s.contains(':') {
            return Some((dt.h, dt.mi, dt.s, dt.us));
        }
    }
    parse_hms(s.trim())
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// MySQL's `DATE_FORMAT`.
pub(crate) fn date_format(dt: &DateTime, fmt: &str) -> String {
    let mut out = String::with_capacity(fmt.len() * 2);
    let mut chars = fmt.chars();
    let h12 = |h: i64| if h % 12 == 0 { 12 } else { h % 12 };
    let month = MONTHS[(dt.mo as usize).saturating_sub(1).min(11)];
    let day = DAYS[dt.weekday() as usize];
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(f) = chars.next() else {
            break;
        };
        let piece = match f {
            'a' => day[..3].to_string(),
            'b' => month[..3].to_string(),
            'c' => dt.mo.to_string(),
            'D' => {
                let suffix = match (dt.d % 10, dt.d % 100) {
                    (_, 11..=13) => "th",
                    (1, _) => "st",
                    (2, _) => "nd",
                    (3, _) => "rd",
                    _ => "th",
                };
                format!("{}{suffix}", dt.d)
            }
            'd' => format!("{:02}", dt.d),
            'e' => dt.d.to_string(),
            'f' => format!("{:06}", dt.us),
            'H' => format!("{:02}", dt.h),
            'h' | 'I' => format!("{:02}", h12(dt.h)),
            'i' => format!("{:02}", dt.mi),
            'j' => format!("{:03}", dt.day_of_year()),
            'k' => dt.h.to_string(),
            'l' => h12(dt.h).to_string(),
            'M' => month.to_string(),
            'm' => format!("{:02}", dt.mo),
            'p' => (if dt.h < 12 { "AM" } else { "PM" }).to_string(),
            'r' => format!(
                "{:02}:{:02}:{:02} {}",
                h12(dt.h),
                dt.mi,
                dt.s,
                if dt.h < 12 { "AM" } else { "PM" }
            ),
            'S' | 's' => format!("{:02}", dt.s),
            'T' => format!("{:02}:{:02}:{:02}", dt.h, dt.mi, dt.s),
            'U' => {
                let sunday0 = (dt.weekday() + 1) % 7;
                format!("{:02}", (dt.day_of_year() - 1 + 7 - sunday0) / 7)
            }
            'W' => day.to_string(),
            'w' => ((dt.weekday() + 1) % 7).to_string(),
            'Y' => format!("{:04}", dt.y),
            'y' => format!("{:02}", dt.y % 100),
            other => other.to_string(),
        };
        out.push_str(&piece);
    }
    out
}

/// Interval units and the fields a compound value (`'1 2:03'`) fills, right-aligned.
fn unit_fields(unit: &str) -> Option<&'static [&'static str]> {
    Some(match unit {
        "MICROSECOND" => &["us"],
        "SECOND" => &["s"],
        "MINUTE" => &["mi"],
        "HOUR" => &["h"],
        "DAY" => &["d"],
        "WEEK" => &["w"],
        "MONTH" => &["mo"],
        "QUARTER" => &["q"],
        "YEAR" => &["y"],
        "SECOND_MICROSECOND" => &["s", "us"],
        "MINUTE_MICROSECOND" => &["mi", "s", "us"],
        "MINUTE_SECOND" => &["mi", "s"],
        "HOUR_MICROSECOND" => &["h", "mi", "s", "us"],
        "HOUR_SECOND" => &["h", "mi", "s"],
        "HOUR_MINUTE" => &["h", "mi"],
        "DAY_MICROSECOND" => &["d", "h", "mi", "s", "us"],
        "DAY_SECOND" => &["d", "h", "mi", "s"],
        "DAY_MINUTE" => &["d", "h", "mi"],
        "DAY_HOUR" => &["d", "h"],
        "YEAR_MONTH" => &["y", "mo"],
        _ => return None,
    })
}

/// `DATE_ADD(dt, INTERVAL value unit)`; `sign` is -1 for DATE_SUB.
pub(crate) fn date_add(
    dt: &DateTime,
    value: ValueRef<'_>,
    unit: &str,
    sign: i64,
) -> Option<String> {
    let unit = unit.to_ascii_uppercase();
    let fields = unit_fields(&unit)?;
    let mut amounts: Vec<(&str, i64)> = Vec::new();
    let mut micro_from_fraction = 0;
    if fields.len() == 1 {
        let n = num(value)?;
        let (whole, frac) = match n {
            Num::I(i) => (i, 0),
            Num::F(f) if fields[0] == "s" => {
                (f.trunc() as i64, ((f - f.trunc()) * 1e6).round() as i64)
            }
            Num::F(f) => (f.round() as i64, 0),
        };
        amounts.push((fields[0], whole));
        micro_from_fraction = frac;
    } else {
        let s = text(value)?;
        let neg = s.trim_start().starts_with('-');
        let groups: Vec<i64> = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .filter_map(|g| g.parse().ok())
            .collect();
        if groups.len() > fields.len() {
            return None;
        }
        let skip = fields.len() - groups.len();
        for (f, g) in fields[skip..].iter().zip(groups) {
            amounts.push((f, if neg { -g } else { g }));
        }
    }
    // Amounts beyond the calendar's range give NULL (checked arithmetic, no overflow).
    let mut months: i64 = 0;
    let mut micros: i64 = micro_from_fraction;
    for (f, n) in amounts {
        let (scale, into_months) = match f {
            "y" => (12, true),
            "q" => (3, true),
            "mo" => (1, true),
            "w" => (7 * 86_400_000_000, false),
            "d" => (86_400_000_000, false),
            "h" => (3_600_000_000, false),
            "mi" => (60_000_000, false),
            "s" => (1_000_000, false),
            _ => (1, false),
        };
        let add = n.checked_mul(scale)?;
        if into_months {
            months = months.checked_add(add)?;
        } else {
            micros = micros.checked_add(add)?;
        }
    }
    let mut out = *dt;
    if months != 0 {
        let total = (dt.y * 12 + (dt.mo - 1)).checked_add(sign.checked_mul(months)?)?;
        out.y = total.div_euclid(12);
        out.mo = total.rem_euclid(12) + 1;
        if !(1..=9999).contains(&out.y) {
            return None;
        }
        out.d = dt.d.min(days_in_month(out.y, out.mo));
    }
    if micros != 0 {
        let keep = out.has_time;
        let t = out.epoch_micros().checked_add(sign.checked_mul(micros)?)?;
        out = DateTime::from_epoch_micros(t);
        out.has_time = keep;
    }
    if !out.valid() {
        return None;
    }
    let time_unit = fields.iter().any(|f| matches!(*f, "h" | "mi" | "s" | "us"));
    if !dt.has_time && !time_unit {
        Some(out.date_string())
    } else {
        let fsp = if out.us != 0 || unit.ends_with("MICROSECOND") {
            6
        } else {
            0
        };
        Some(out.datetime_string(fsp))
    }
}

fn extract(unit: &str, dt: &DateTime) -> Option<i64> {
    Some(match unit.to_ascii_uppercase().as_str() {
        "YEAR" => dt.y,
        "QUARTER" => (dt.mo - 1) / 3 + 1,
        "MONTH" => dt.mo,
        "DAY" => dt.d,
        "HOUR" => dt.h,
        "MINUTE" => dt.mi,
        "SECOND" => dt.s,
        "MICROSECOND" => dt.us,
        "YEAR_MONTH" => dt.y * 100 + dt.mo,
        "DAY_HOUR" => dt.d * 100 + dt.h,
        "DAY_MINUTE" => (dt.d * 100 + dt.h) * 100 + dt.mi,
        "DAY_SECOND" => ((dt.d * 100 + dt.h) * 100 + dt.mi) * 100 + dt.s,
        "HOUR_MINUTE" => dt.h * 100 + dt.mi,
        "HOUR_SECOND" => (dt.h * 100 + dt.mi) * 100 + dt.s,
        "MINUTE_SECOND" => dt.mi * 100 + dt.s,
        _ => return None,
    })
}

/// `TIMESTAMPDIFF(unit, a, b)`: whole units from `a` to `b`, truncated toward zero.
fn timestamp_diff(unit: &str, a: &DateTime, b: &DateTime) -> Option<i64> {
    let per = match unit {
        "MICROSECOND" => 1,
        "SECOND" => 1_000_000,
        "MINUTE" => 60_000_000,
        "HOUR" => 3_600_000_000,
        "DAY" => 86_400_000_000,
        "WEEK" => 7 * 86_400_000_000,
        "MONTH" | "QUARTER" | "YEAR" => {
            let mut months = (b.y * 12 + b.mo) - (a.y * 12 + a.mo);
            // Within the month: day, then time of day.
            let rest = |d: &DateTime| (d.d, d.h, d.mi, d.s, d.us);
            if months > 0 && rest(b) < rest(a) {
                months -= 1;
            } else if months < 0 && rest(b) > rest(a) {
                months += 1;
            }
            return Some(match unit {
                "MONTH" => months,
                "QUARTER" => months / 3,
                _ => months / 12,
            });
        }
        _ => return None,
    };
    Some((b.epoch_micros() - a.epoch_micros()) / per)
}

fn fsp_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<usize> {
    if ctx.len() <= i {
        return Ok(0);
    }
    match arg_int(ctx, i) {
        Some(n) if (0..=6).contains(&n) => Ok(n as usize),
        _ => Err(user_error(format!(
            "Too big precision specified for '{}'. Maximum is 6",
            arg_text(ctx, i).unwrap_or_default()
        ))),
    }
}

fn user_error(msg: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(msg.into())
}

// ------------------------------------------------------------------ strings

/// `SUBSTRING_INDEX(s, delim, count)`.
pub(crate) fn substring_index(s: &str, delim: &str, count: i64) -> String {
    if delim.is_empty() || count == 0 {
        return String::new();
    }
    if count > 0 {
        let mut idx = 0;
        for _ in 0..count {
            match s[idx..].find(delim) {
                Some(p) => idx += p + delim.len(),
                None => return s.to_string(),
            }
        }
        s[..idx - delim.len()].to_string()
    } else {
        let mut end = s.len();
        for _ in 0..count.unsigned_abs() {
            match s[..end].rfind(delim) {
                Some(p) => end = p,
                None => return s.to_string(),
            }
        }
        s[end + delim.len()..].to_string()
    }
}

/// `LPAD` / `RPAD`: pad (or cut) to `len` characters.
fn pad(s: &str, len: i64, with: &str, left: bool) -> Option<String> {
    if len < 0 {
        return None;
    }
    let len = len as usize;
    let n = s.chars().count();
    if n >= len {
        return Some(s.chars().take(len).collect());
    }
    if with.is_empty() {
        return None;
    }
    let fill: String = with.chars().cycle().take(len - n).collect();
    Some(if left {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    })
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// MD5 (RFC 1321).
pub(crate) fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut a0: u32 = 0x6745_2301;
    let mut b0: u32 = 0xefcd_ab89;
    let mut c0: u32 = 0x98ba_dcfe;
    let mut d0: u32 = 0x1032_5476;
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let mut m = [0u32; 16];
        for (i, w) in m.iter_mut().enumerate() {
            *w = u32::from_le_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ]);
        }
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, w) in [a0, b0, c0, d0].iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

fn bytes_arg(ctx: &Context<'_>, i: usize) -> Option<Vec<u8>> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(t.to_vec()),
        v => text(v).map(String::into_bytes),
    }
}

// ------------------------------------------------------------------ numbers

/// MySQL's `RAND(seed)` generator (`my_rnd`), so seeded sequences match MySQL's.
#[derive(Debug)]
pub(crate) struct MyRnd {
    seed1: u64,
    seed2: u64,
}

const RND_MAX: u64 = 0x3FFF_FFFF;

impl MyRnd {
    pub(crate) fn new(seed: i64) -> MyRnd {
        let s1 = (seed.wrapping_mul(0x10001).wrapping_add(55_555_555)) as u32 as u64;
        let s2 = (seed.wrapping_mul(0x1000_0001)) as u32 as u64;
        MyRnd {
            seed1: s1 % RND_MAX,
            seed2: s2 % RND_MAX,
        }
    }
    pub(crate) fn next(&mut self) -> f64 {
        self.seed1 = (self.seed1 * 3 + self.seed2) % RND_MAX;
        self.seed2 = (self.seed1 + self.seed2 + 33) % RND_MAX;
        self.seed1 as f64 / RND_MAX as f64
    }
}

fn round_to_int(f: f64) -> Value {
    if f.is_finite() && f.abs() < 9.2e18 {
        Value::Integer(f as i64)
    } else {
        Value::Real(f)
    }
}

fn cmp_values(a: ValueRef<'_>, b: ValueRef<'_>) -> std::cmp::Ordering {
    match (a, b) {
        (ValueRef::Integer(x), ValueRef::Integer(y)) => x.cmp(&y),
        (ValueRef::Integer(_) | ValueRef::Real(_), ValueRef::Integer(_) | ValueRef::Real(_)) => {
            let (x, y) = (num(a).map(Num::f), num(b).map(Num::f));
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
        }
        _ => text(a).cmp(&text(b)),
    }
}

fn greatest_least(ctx: &Context<'_>, greatest: bool) -> R {
    if ctx.is_empty() {
        return Err(user_error("wrong number of arguments".into()));
    }
    let mut best = ctx.get_raw(0);
    for i in 0..ctx.len() {
        let v = ctx.get_raw(i);
        if matches!(v, ValueRef::Null) {
            return Ok(Value::Null);
        }
        let c = cmp_values(v, best);
        if (greatest && c.is_gt()) || (!greatest && c.is_lt()) {
            best = v;
        }
    }
    Ok(owned(best))
}

/// MySQL's `a DIV b`: integer division truncating toward zero, NULL on 0.
fn int_div(a: Option<Num>, b: Option<Num>) -> Value {
    match (a, b) {
        (Some(Num::I(x)), Some(Num::I(y))) => {
            if y == 0 {
                Value::Null
            } else {
                Value::Integer(x.wrapping_div(y))
            }
        }
        (Some(x), Some(y)) => {
            let d = y.f();
            if d == 0.0 {
                Value::Null
            } else {
                round_to_int((x.f() / d).trunc())
            }
        }
        _ => Value::Null,
    }
}

/// MySQL's `a % b` / `MOD(a, b)`: the sign of `a`, fractions kept, NULL on 0.
fn modulo(a: Option<Num>, b: Option<Num>) -> Value {
    match (a, b) {
        (Some(Num::I(x)), Some(Num::I(y))) => {
            if y == 0 {
                Value::Null
            } else {
                Value::Integer(x.wrapping_rem(y))
            }
        }
        (Some(x), Some(y)) => {
            if y.f() == 0.0 {
                Value::Null
            } else {
                Value::Real(x.f() % y.f())
            }
        }
        _ => Value::Null,
    }
}

/// `FORMAT(n, d)`: `12,345.68`.
fn format_number(n: f64, d: i64) -> String {
    let d = d.clamp(0, 30) as usize;
    // MySQL rounds half away from zero; `{:.N}` alone would round half to even.
    let p = 10f64.powi(d as i32);
    let s = format!("{:.*}", d, (n.abs() * p).round() / p);
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if n < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

// ------------------------------------------------------------- registration

/// Registers the functions on a session connection.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    // Date and time.
    for name in ["now", "sysdate"] {
        for n in [0, 1] {
            conn.create_scalar_function(name, n, NONDET, |ctx| {
                let fsp = fsp_arg(ctx, 0)?;
                Ok(Value::Text(DateTime::now().datetime_string(fsp)))
            })?;
        }
    }
    conn.create_scalar_function("minnow_now", 2, NONDET, |ctx| {
        let fsp = fsp_arg(ctx, 0)?;
        Ok(Value::Text(DateTime::now().datetime_string(fsp)))
    })?;
    for n in [0, 1] {
        conn.create_scalar_function("utc_timestamp", n, NONDET, |ctx| {
            let fsp = fsp_arg(ctx, 0)?;
            Ok(Value::Text(DateTime::now().datetime_string(fsp)))
        })?;
        for name in ["curtime", "utc_time"] {
            conn.create_scalar_function(name, n, NONDET, |ctx| {
                let fsp = fsp_arg(ctx, 0)?;
                let t = DateTime::now();
                let mut s = format!("{:02}:{:02}:{:02}", t.h, t.mi, t.s);
                push_fraction(&mut s, t.us, fsp);
                Ok(Value::Text(s))
            })?;
        }
    }
    conn.create_scalar_function("minnow_curtime", 2, NONDET, |ctx| {
        let fsp = fsp_arg(ctx, 0)?;
        let t = DateTime::now();
        let mut s = format!("{:02}:{:02}:{:02}", t.h, t.mi, t.s);
        push_fraction(&mut s, t.us, fsp);
        Ok(Value::Text(s))
    })?;
    for (name, n) in [("curdate", 0), ("utc_date", 0), ("minnow_curdate", 1)] {
        conn.create_scalar_function(name, n, NONDET, |_| {
            Ok(Value::Text(DateTime::now().date_string()))
        })?;
    }
    conn.create_scalar_function("unix_timestamp", 0, NONDET, |_| {
        Ok(Value::Integer(
            DateTime::now().epoch_micros().div_euclid(1_000_000),
        ))
    })?;
    conn.create_scalar_function("unix_timestamp", 1, DET, |ctx| -> R {
        Ok(match arg_dt(ctx, 0) {
            Some(dt) if dt.us == 0 => Value::Integer(dt.epoch_micros() / 1_000_000),
            Some(dt) => Value::Real(dt.epoch_micros() as f64 / 1e6),
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("from_unixtime", -1, DET, |ctx| -> R {
        if ctx.is_empty() || ctx.len() > 2 {
            return Err(user_error("FROM_UNIXTIME takes 1 or 2 arguments".into()));
        }
        let Some(n) = arg_num(ctx, 0) else {
            return Ok(Value::Null);
        };
        let (micros, fsp) = match n {
            Num::I(i) => (i.checked_mul(1_000_000), 0),
            Num::F(f) => (Some((f * 1e6).round() as i64), 6),
        };
        let Some(m) = micros.filter(|m| *m >= 0) else {
            return Ok(Value::Null);
        };
        let dt = DateTime::from_epoch_micros(m);
        if !dt.valid() {
            return Ok(Value::Null);
        }
        if ctx.len() == 2 {
            return Ok(opt_text(arg_text(ctx, 1).map(|f| date_format(&dt, &f))));
        }
        Ok(Value::Text(dt.datetime_string(fsp)))
    })?;
    conn.create_scalar_function("date_format", 2, DET, |ctx| -> R {
        Ok(match (arg_dt(ctx, 0), arg_text(ctx, 1)) {
            (Some(dt), Some(f)) => Value::Text(date_format(&dt, &f)),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("datediff", 2, DET, |ctx| -> R {
        Ok(match (arg_dt(ctx, 0), arg_dt(ctx, 1)) {
            (Some(a), Some(b)) => Value::Integer(a.days() - b.days()),
            _ => Value::Null,
        })
    })?;
    type Part = fn(&DateTime) -> i64;
    let parts: [(&str, Part); 10] = [
        ("year", |d| d.y),
        ("month", |d| d.mo),
        ("day", |d| d.d),
        ("dayofmonth", |d| d.d),
        ("dayofweek", |d| (d.weekday() + 1) % 7 + 1),
        ("weekday", |d| d.weekday()),
        ("dayofyear", |d| d.day_of_year()),
        ("quarter", |d| (d.mo - 1) / 3 + 1),
        ("to_days", |d| d.days() + 719_528),
        ("microsecond", |d| d.us),
    ];
    for (name, f) in parts {
        conn.create_scalar_function(name, 1, DET, move |ctx| -> R {
            Ok(arg_dt(ctx, 0)
                .map(|d| Value::Integer(f(&d)))
                .unwrap_or(Value::Null))
        })?;
    }
    type TimePart = fn((i64, i64, i64, i64)) -> i64;
    let time_parts: [(&str, TimePart); 3] =
        [("hour", |t| t.0), ("minute", |t| t.1), ("second", |t| t.2)];
    for (name, f) in time_parts {
        conn.create_scalar_function(name, 1, DET, move |ctx| -> R {
            Ok(arg_time(ctx, 0)
                .map(|t| Value::Integer(f(t)))
                .unwrap_or(Value::Null))
        })?;
    }
    conn.create_scalar_function("dayname", 1, DET, |ctx| -> R {
        Ok(opt_text(
            arg_dt(ctx, 0).map(|d| DAYS[d.weekday() as usize].to_string()),
        ))
    })?;
    conn.create_scalar_function("monthname", 1, DET, |ctx| -> R {
        Ok(opt_text(
            arg_dt(ctx, 0).map(|d| MONTHS[(d.mo - 1) as usize].to_string()),
        ))
    })?;
    conn.create_scalar_function("last_day", 1, DET, |ctx| -> R {
        Ok(opt_text(arg_dt(ctx, 0).map(|mut d| {
            d.d = days_in_month(d.y, d.mo);
            d.date_string()
        })))
    })?;
    conn.create_scalar_function("minnow_date_add", 5, DET, |ctx| -> R {
        let Some(dt) = arg_dt(ctx, 0) else {
            return Ok(Value::Null);
        };
        let unit = arg_text(ctx, 2).unwrap_or_default();
        if unit_fields(&unit.to_ascii_uppercase()).is_none() {
            return Err(user_error(format!("unknown INTERVAL unit {unit}")));
        }
        let sign = arg_int(ctx, 3).unwrap_or(1);
        Ok(opt_text(date_add(&dt, ctx.get_raw(1), &unit, sign)))
    })?;
    for (name, sign) in [("adddate", 1), ("subdate", -1)] {
        conn.create_scalar_function(name, 2, DET, move |ctx| -> R {
            let Some(dt) = arg_dt(ctx, 0) else {
                return Ok(Value::Null);
            };
            Ok(opt_text(date_add(&dt, ctx.get_raw(1), "DAY", sign)))
        })?;
    }
    conn.create_scalar_function("minnow_timestampdiff", 4, DET, |ctx| -> R {
        let unit = arg_text(ctx, 0).unwrap_or_default().to_ascii_uppercase();
        let (Some(a), Some(b)) = (arg_dt(ctx, 1), arg_dt(ctx, 2)) else {
            return Ok(Value::Null);
        };
        Ok(timestamp_diff(&unit, &a, &b)
            .map(Value::Integer)
            .unwrap_or(Value::Null))
    })?;
    conn.create_scalar_function("minnow_extract", 3, DET, |ctx| -> R {
        let unit = arg_text(ctx, 0).unwrap_or_default();
        let dt = arg_dt(ctx, 1).or_else(|| {
            arg_time(ctx, 1).map(|(h, mi, s, us)| DateTime {
                y: 0,
                mo: 0,
                d: 0,
                h,
                mi,
                s,
                us,
                has_time: true,
            })
        });
        Ok(dt
            .and_then(|d| extract(&unit, &d))
            .map(Value::Integer)
            .unwrap_or(Value::Null))
    })?;

    // Strings.
    conn.create_scalar_function("concat", -1, DET, |ctx| -> R {
        let mut s = String::new();
        for i in 0..ctx.len() {
            match arg_text(ctx, i) {
                Some(t) => s.push_str(&t),
                None => return Ok(Value::Null),
            }
        }
        Ok(Value::Text(s))
    })?;
    conn.create_scalar_function("lcase", 1, DET, |ctx| -> R {
        Ok(opt_text(arg_text(ctx, 0).map(|s| s.to_lowercase())))
    })?;
    conn.create_scalar_function("ucase", 1, DET, |ctx| -> R {
        Ok(opt_text(arg_text(ctx, 0).map(|s| s.to_uppercase())))
    })?;
    conn.create_scalar_function("left", 2, DET, |ctx| -> R {
        Ok(match (arg_text(ctx, 0), arg_int(ctx, 1)) {
            (Some(s), Some(n)) => Value::Text(s.chars().take(n.max(0) as usize).collect()),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("right", 2, DET, |ctx| -> R {
        Ok(match (arg_text(ctx, 0), arg_int(ctx, 1)) {
            (Some(s), Some(n)) => {
                let len = s.chars().count();
                let skip = len.saturating_sub(n.max(0) as usize);
                Value::Text(s.chars().skip(skip).collect())
            }
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("locate", -1, DET, |ctx| -> R {
        if ctx.len() < 2 || ctx.len() > 3 {
            return Err(user_error("LOCATE takes 2 or 3 arguments".into()));
        }
        let (Some(needle), Some(hay)) = (arg_text(ctx, 0), arg_text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        let start = if ctx.len() == 3 {
            match arg_int(ctx, 2) {
                Some(p) if p >= 1 => p as usize,
                Some(_) => return Ok(Value::Integer(0)),
                None => return Ok(Value::Null),
            }
        } else {
            1
        };
        let lower_hay = hay.to_lowercase();
        let lower_needle = needle.to_lowercase();
        let chars: Vec<(usize, char)> = lower_hay.char_indices().collect();
        if start > chars.len() + 1 {
            return Ok(Value::Integer(0));
        }
        let from = chars.get(start - 1).map(|c| c.0).unwrap_or(lower_hay.len());
        Ok(Value::Integer(
            match lower_hay[from..].find(&lower_needle) {
                Some(p) => (lower_hay[..from + p].chars().count() + 1) as i64,
                None => 0,
            },
        ))
    })?;
    conn.create_scalar_function("substring_index", 3, DET, |ctx| -> R {
        Ok(
            match (arg_text(ctx, 0), arg_text(ctx, 1), arg_int(ctx, 2)) {
                (Some(s), Some(d), Some(n)) => Value::Text(substring_index(&s, &d, n)),
                _ => Value::Null,
            },
        )
    })?;
    conn.create_scalar_function("repeat", 2, DET, |ctx| -> R {
        Ok(match (arg_text(ctx, 0), arg_int(ctx, 1)) {
            (Some(s), Some(n)) => {
                let n = n.max(0) as usize;
                if s.len().saturating_mul(n) > 64 << 20 {
                    Value::Null
                } else {
                    Value::Text(s.repeat(n))
                }
            }
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("space", 1, DET, |ctx| -> R {
        Ok(match arg_int(ctx, 0) {
            Some(n) if n <= 64 << 20 => Value::Text(" ".repeat(n.max(0) as usize)),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("reverse", 1, DET, |ctx| -> R {
        Ok(opt_text(
            arg_text(ctx, 0).map(|s| s.chars().rev().collect()),
        ))
    })?;
    for (name, left) in [("lpad", true), ("rpad", false)] {
        conn.create_scalar_function(name, 3, DET, move |ctx| -> R {
            Ok(
                match (arg_text(ctx, 0), arg_int(ctx, 1), arg_text(ctx, 2)) {
                    (Some(s), Some(n), Some(w)) if n <= 64 << 20 => opt_text(pad(&s, n, &w, left)),
                    _ => Value::Null,
                },
            )
        })?;
    }
    conn.create_scalar_function("length", 1, DET, |ctx| -> R {
        Ok(bytes_arg(ctx, 0)
            .map(|b| Value::Integer(b.len() as i64))
            .unwrap_or(Value::Null))
    })?;
    for name in ["char_length", "character_length"] {
        conn.create_scalar_function(name, 1, DET, |ctx| -> R {
            Ok(arg_text(ctx, 0)
                .map(|s| Value::Integer(s.chars().count() as i64))
                .unwrap_or(Value::Null))
        })?;
    }
    conn.create_scalar_function("strcmp", 2, DET, |ctx| -> R {
        Ok(match (arg_text(ctx, 0), arg_text(ctx, 1)) {
            (Some(a), Some(b)) => Value::Integer(match a.to_lowercase().cmp(&b.to_lowercase()) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("find_in_set", 2, DET, |ctx| -> R {
        Ok(match (arg_text(ctx, 0), arg_text(ctx, 1)) {
            (Some(n), Some(list)) => Value::Integer(
                list.split(',')
                    .position(|x| x.eq_ignore_ascii_case(&n))
                    .map(|p| p as i64 + 1)
                    .unwrap_or(0),
            ),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("md5", 1, DET, |ctx| -> R {
        Ok(opt_text(bytes_arg(ctx, 0).map(|b| hex(&md5(&b)))))
    })?;
    for name in ["sha1", "sha"] {
        conn.create_scalar_function(name, 1, DET, |ctx| -> R {
            Ok(opt_text(bytes_arg(ctx, 0).map(|b| hex(&Sha1::digest(&b)))))
        })?;
    }
    conn.create_scalar_function("sha2", 2, DET, |ctx| -> R {
        use sha2::{Sha224, Sha256, Sha384, Sha512};
        let (Some(b), Some(bits)) = (bytes_arg(ctx, 0), arg_int(ctx, 1)) else {
            return Ok(Value::Null);
        };
        Ok(match bits {
            224 => Value::Text(hex(&Sha224::digest(&b))),
            0 | 256 => Value::Text(hex(&Sha256::digest(&b))),
            384 => Value::Text(hex(&Sha384::digest(&b))),
            512 => Value::Text(hex(&Sha512::digest(&b))),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("isnull", 1, DET, |ctx| -> R {
        Ok(Value::Integer(i64::from(matches!(
            ctx.get_raw(0),
            ValueRef::Null
        ))))
    })?;

    // Numbers.
    conn.create_scalar_function("minnow_div", 3, DET, |ctx| -> R {
        Ok(int_div(arg_num(ctx, 0), arg_num(ctx, 1)))
    })?;
    conn.create_scalar_function("minnow_mod", 3, DET, |ctx| -> R {
        Ok(modulo(arg_num(ctx, 0), arg_num(ctx, 1)))
    })?;
    conn.create_scalar_function("mod", 2, DET, |ctx| -> R {
        Ok(modulo(arg_num(ctx, 0), arg_num(ctx, 1)))
    })?;
    for (name, f) in [
        ("floor", f64::floor as fn(f64) -> f64),
        ("ceil", f64::ceil),
        ("ceiling", f64::ceil),
    ] {
        conn.create_scalar_function(name, 1, DET, move |ctx| -> R {
            Ok(match arg_num(ctx, 0) {
                Some(Num::I(i)) => Value::Integer(i),
                Some(Num::F(x)) => round_to_int(f(x)),
                None => Value::Null,
            })
        })?;
    }
    for name in ["pow", "power"] {
        conn.create_scalar_function(name, 2, DET, |ctx| -> R {
            Ok(match (arg_num(ctx, 0), arg_num(ctx, 1)) {
                (Some(a), Some(b)) => {
                    let r = a.f().powf(b.f());
                    if r.is_finite() {
                        Value::Real(r)
                    } else {
                        Value::Null
                    }
                }
                _ => Value::Null,
            })
        })?;
    }
    type Math = fn(f64) -> f64;
    let math: [(&str, Math); 10] = [
        ("sqrt", f64::sqrt),
        ("exp", f64::exp),
        ("ln", f64::ln),
        ("log2", f64::log2),
        ("log10", f64::log10),
        ("sin", f64::sin),
        ("cos", f64::cos),
        ("tan", f64::tan),
        ("radians", f64::to_radians),
        ("degrees", f64::to_degrees),
    ];
    for (name, f) in math {
        conn.create_scalar_function(name, 1, DET, move |ctx| -> R {
            Ok(match arg_num(ctx, 0).map(|n| f(n.f())) {
                Some(r) if r.is_finite() => Value::Real(r),
                _ => Value::Null,
            })
        })?;
    }
    conn.create_scalar_function("log", 1, DET, |ctx| -> R {
        Ok(match arg_num(ctx, 0).map(|n| n.f()) {
            Some(x) if x > 0.0 => Value::Real(x.ln()),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("log", 2, DET, |ctx| -> R {
        Ok(match (arg_num(ctx, 0), arg_num(ctx, 1)) {
            (Some(b), Some(x)) if b.f() > 0.0 && b.f() != 1.0 && x.f() > 0.0 => {
                Value::Real(x.f().ln() / b.f().ln())
            }
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("pi", 0, DET, |_| Ok(Value::Real(std::f64::consts::PI)))?;
    conn.create_scalar_function("sign", 1, DET, |ctx| -> R {
        Ok(arg_num(ctx, 0)
            .map(|n| Value::Integer(n.f().partial_cmp(&0.0).map(|o| o as i64).unwrap_or(0)))
            .unwrap_or(Value::Null))
    })?;
    conn.create_scalar_function("truncate", 2, DET, |ctx| -> R {
        Ok(match (arg_num(ctx, 0), arg_int(ctx, 1)) {
            (Some(Num::I(i)), Some(d)) if d >= 0 => Value::Integer(i),
            (Some(n), Some(d)) => {
                let p = 10f64.powi(d.clamp(-30, 30) as i32);
                let r = (n.f() * p).trunc() / p;
                if d <= 0 {
                    round_to_int(r)
                } else {
                    Value::Real(r)
                }
            }
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("format", 2, DET, |ctx| -> R {
        Ok(match (arg_num(ctx, 0), arg_int(ctx, 1)) {
            (Some(n), Some(d)) => Value::Text(format_number(n.f(), d)),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("greatest", -1, DET, |ctx| greatest_least(ctx, true))?;
    conn.create_scalar_function("least", -1, DET, |ctx| greatest_least(ctx, false))?;
    conn.create_scalar_function("rand", 0, NONDET, |_| {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_err(|e| user_error(format!("RAND: {e}")))?;
        Ok(Value::Real(
            (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        ))
    })?;
    conn.create_scalar_function("rand", 1, NONDET, |ctx| -> R {
        let seed = arg_int(ctx, 0).unwrap_or(0);
        // A constant seed keeps its generator for the whole statement, so the
        // rows get MySQL's sequence; a per-row seed restarts it each time.
        let state = match ctx.get_aux::<Mutex<MyRnd>>(0)? {
            Some(s) => s,
            None => ctx.set_aux(0, Mutex::new(MyRnd::new(seed)))?,
        };
        let v = state.lock().map(|mut r| r.next()).unwrap_or(0.0);
        Ok(Value::Real(v))
    })?;
    conn.create_scalar_function("uuid", 0, NONDET, |_| {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| user_error(format!("UUID: {e}")))?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex(&b);
        Ok(Value::Text(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )))
    })?;
    more::register(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(conn: &Connection, sql: &str) -> Value {
        conn.query_row(sql, [], |r| r.get::<_, Value>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every function, with hostile arguments: errors and NULLs are fine, a
    /// panic (rusqlite reports it as `UnwindingPanic`) is not.
    #[test]
    fn hostile_arguments_never_panic() {
        let c = Connection::open_in_memory().expect("db");
        register(&c).expect("register");
        let names: Vec<String> = c
            .prepare("SELECT DISTINCT name FROM pragma_function_list")
            .expect("list")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .filter_map(Result::ok)
            .collect();
        let ours = [
            "now",
            "sysdate",
            "utc_timestamp",
            "curtime",
            "curdate",
            "unix_timestamp",
            "from_unixtime",
            "date_format",
            "datediff",
            "year",
            "month",
            "day",
            "dayofweek",
            "weekday",
            "dayofyear",
            "quarter",
            "to_days",
            "hour",
            "minute",
            "second",
            "dayname",
            "monthname",
            "last_day",
            "minnow_date_add",
            "adddate",
            "subdate",
            "minnow_timestampdiff",
            "minnow_extract",
            "minnow_now",
            "minnow_curtime",
            "concat",
            "lcase",
            "ucase",
            "left",
            "right",
            "locate",
            "substring_index",
            "repeat",
            "space",
            "reverse",
            "lpad",
            "rpad",
            "length",
            "char_length",
            "strcmp",
            "find_in_set",
            "md5",
            "sha1",
            "sha2",
            "isnull",
            "minnow_div",
            "minnow_mod",
            "mod",
            "floor",
            "ceil",
            "pow",
            "sqrt",
            "log",
            "sign",
            "truncate",
            "format",
            "greatest",
            "least",
            "rand",
        ];
        for f in ours {
            assert!(names.iter().any(|n| n == f), "{f} not registered");
        }
        let args = [
            "NULL",
            "0",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "1e308",
            "-1e308",
            "''",
            "'x'",
            "'2024-13-45'",
            "'9999-12-31 23:59:59'",
            "'-1 2:3:4'",
            "'%'",
            "X'FF00'",
            "'é'",
        ];
        let mut n = 0;
        for f in ours {
            for arity in 0..=5 {
                for a in args {
                    let list = vec![a; arity].join(", ");
                    let sql = format!("SELECT {f}({list})");
                    n += 1;
                    if let Err(e) = c.query_row(&sql, [], |r| r.get_ref(0).map(owned)) {
                        // rusqlite turns a panic into an error with this text.
                        assert!(!e.to_string().contains("unwinding panic"), "{sql} panicked");
                    }
                }
            }
        }
        assert!(n > 1000);
        // Mixed arguments for the date arithmetic.
        for unit in ["'YEAR'", "'DAY_SECOND'", "'MICROSECOND'", "'x'"] {
            for v in args {
                for d in ["'2024-01-31'", "'9999-12-31 23:59:59'", "'0001-01-01'"] {
                    let sql = format!("SELECT minnow_date_add({d}, {v}, {unit}, -1, 'o')");
                    if let Err(e) = c.query_row(&sql, [], |r| r.get_ref(0).map(owned)) {
                        assert!(!e.to_string().contains("unwinding panic"), "{sql}");
                    }
                }
            }
        }
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(&md5(b"a")), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(
            hex(&md5(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        let long = vec![b'x'; 1000];
        assert_eq!(hex(&md5(&long)).len(), 32);
    }

    #[test]
    fn mysql_rand_sequence() {
        // MySQL: SELECT RAND(3) → 0.9057697559760601; RAND(0) → 0.15522042769493574.
        assert!((MyRnd::new(3).next() - 0.905_769_755_976_060_1).abs() < 1e-12);
        assert!((MyRnd::new(0).next() - 0.155_220_427_694_935_74).abs() < 1e-12);
    }

    #[test]
    fn dates() {
        let dt = DateTime::parse("2024-03-05 13:04:09").expect("dt");
        assert_eq!(
            date_format(
                &dt,
                "%Y/%m/%d %H:%i:%s %W %M %j %D %a %b %e %c %p %r %T %y %%"
            ),
            "2024/03/05 13:04:09 Tuesday March 065 5th Tue Mar 5 3 PM 01:04:09 PM 13:04:09 24 %"
        );
        assert_eq!(DateTime::parse("2024-02-30"), None);
        assert_eq!(DateTime::parse("20240305").map(|d| d.d), Some(5));
        let d = DateTime::parse("2024-01-31").expect("d");
        assert_eq!(
            date_add(&d, ValueRef::Integer(1), "MONTH", 1).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(
            date_add(&d, ValueRef::Integer(1), "DAY", -1).as_deref(),
            Some("2024-01-30")
        );
        assert_eq!(
            date_add(&d, ValueRef::Integer(90), "MINUTE", 1).as_deref(),
            Some("2024-01-31 01:30:00")
        );
        assert_eq!(
            date_add(&d, ValueRef::Text(b"1 2:3:4"), "DAY_SECOND", 1).as_deref(),
            Some("2024-02-01 02:03:04")
        );
        assert_eq!(
            date_add(&d, ValueRef::Text(b"1-2"), "YEAR_MONTH", 1).as_deref(),
            Some("2025-03-31")
        );
        assert_eq!(date_add(&d, ValueRef::Integer(1), "FORTNIGHT", 1), None);
        assert_eq!(date_add(&d, ValueRef::Integer(i64::MAX), "YEAR", 1), None);
        assert_eq!(date_add(&d, ValueRef::Integer(i64::MIN), "WEEK", -1), None);
        assert_eq!(date_add(&d, ValueRef::Integer(10_000), "YEAR", 1), None);
        assert_eq!(date_add(&d, ValueRef::Real(1e300), "DAY", 1), None);
    }

    #[test]
    fn strings_and_numbers() {
        assert_eq!(substring_index("a.b.c", ".", 2), "a.b");
        assert_eq!(substring_index("a.b.c", ".", -2), "b.c");
        assert_eq!(substring_index("a.b.c", ".", 9), "a.b.c");
        assert_eq!(pad("5", 3, "0", true).as_deref(), Some("005"));
        assert_eq!(pad("hello", 2, "x", false).as_deref(), Some("he"));
        assert_eq!(format_number(12345.678, 2), "12,345.68");
        assert_eq!(format_number(-1234.5, 0), "-1,235");
        assert_eq!(parse_num("12abc"), Num::I(12));
        assert_eq!(parse_num(" 1.5e2x"), Num::F(150.0));
        assert_eq!(
            int_div(Some(Num::I(-7)), Some(Num::I(2))),
            Value::Integer(-3)
        );
        assert_eq!(modulo(Some(Num::F(7.5)), Some(Num::I(2))), Value::Real(1.5));
        assert_eq!(modulo(Some(Num::I(5)), Some(Num::I(0))), Value::Null);
        let c = Connection::open_in_memory().expect("db");
        register(&c).expect("register");
        assert_eq!(q(&c, "SELECT concat('a', NULL)"), Value::Null);
        assert_eq!(
            q(&c, "SELECT concat('a', 1, 'b')"),
            Value::Text("a1b".into())
        );
        assert_eq!(q(&c, "SELECT length('héllo')"), Value::Integer(6));
        assert_eq!(q(&c, "SELECT char_length('héllo')"), Value::Integer(5));
        assert_eq!(q(&c, "SELECT locate('l', 'hello', 4)"), Value::Integer(4));
        assert_eq!(q(&c, "SELECT greatest(1, 5, 3)"), Value::Integer(5));
        assert_eq!(q(&c, "SELECT least('b', 'a')"), Value::Text("a".into()));
        assert_eq!(q(&c, "SELECT greatest(1, NULL)"), Value::Null);
        assert_eq!(q(&c, "SELECT floor(-1.5)"), Value::Integer(-2));
        assert_eq!(
            q(&c, "SELECT format(1234567.891, 2)"),
            Value::Text("1,234,567.89".into())
        );
        assert_eq!(
            q(&c, "SELECT sha2('abc', 256)"),
            Value::Text("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into())
        );
    }
}
