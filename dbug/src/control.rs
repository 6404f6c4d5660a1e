//! DBUG control strings: lenient (C-compatible) and strict parsing.

use std::fmt;

/// Longest file name a control string may give to `o`/`O`/`a`/`A` (the C buffer is 512 bytes
/// including the terminator). The lenient parser truncates longer names, the strict one
/// rejects them.
pub const MAX_FILE_NAME: usize = 511;

/// The sign in front of a field's flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sign {
    /// No sign.
    None,
    /// `+`: behaves like no sign (a leading `+` makes the string relative).
    Plus,
    /// `-`: remove / clear / close, depending on the flag.
    Minus,
}

/// One parsed field of a control string, for a flag the engine knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Byte offset of the field in the original string.
    pub pos: usize,
    /// The sign.
    pub sign: Sign,
    /// The flag character (one of `d D f F i L n N o O a A p P r S t T`).
    pub flag: u8,
    /// The modifier text after the flag and its optional comma; empty means "no modifiers".
    pub modifier: String,
}

/// A parsed DBUG control string.
///
/// # Grammar
///
/// ```text
/// control  := ["-#"] [field (":" field)*]
/// field    := [sign] flag ["," modifier]
/// sign     := "+" | "-"
/// flag     := "d" | "D" | "f" | "F" | "i" | "L" | "n" | "N" | "o" | "O" | "a" | "A"
///           | "p" | "P" | "r" | "S" | "t" | "T"
/// ```
///
/// Fields are separated by `:`, except that a `:` followed by `\`, `/` or `:` does not split
/// (`::` keeps both colons literally), so `o,C:\x` and `f,mod::func` stay one field.
/// A string whose first character (after `-#`) is `+` or `-` is *relative*: it edits the
/// settings in place instead of replacing them. Modifiers per flag:
///
/// | flag | modifier |
/// |---|---|
/// | `d`, `f`, `p` | comma separated list of globs; a trailing `/` marks a subtree rule |
/// | `D`, `t` | a decimal number |
/// | `o`, `O`, `a`, `A` | a file name (the whole rest of the field, commas included); `-` or none = stdout |
/// | the others | none |
///
/// # Lenient parsing ([`ControlString::parse_lenient`])
///
/// Exactly the C library: parsing stops at the first empty field (so a leading `:` disables
/// the whole string), the comma after the flag is optional (`dinfo` = `d,info`), unknown
/// flags and their modifiers are ignored, numbers are read with `atoi`, a field that is only
/// a sign is ignored, and the text is cut at the first NUL byte. It never fails.
///
/// # Strict parsing ([`ControlString::parse_strict`])
///
/// Accepts a subset of what the lenient parser accepts, with the same meaning, and rejects
/// everything a typo is likely to produce. A string is *malformed* when it has:
///
/// * a NUL byte;
/// * an empty field (a leading, trailing or doubled-up `:` that splits);
/// * a field that is only a sign;
/// * an unknown flag character;
/// * a flag directly followed by text instead of `,` or the end of the field (`dinfo`,
///   `d::t`; write `d,info`);
/// * a `,` with nothing after it;
/// * a modifier on a flag that takes none (`F,x`, `-o,file`, `-t` is fine but `-D` and `-r`
///   are rejected because the sign would be ignored);
/// * an empty list element (`d,a,,b`, `d,a,`, a lone `/`);
/// * a `D`/`t` value that is not a plain decimal number (no sign, no spaces) or is larger
///   than 2147483647;
/// * a file name longer than [`MAX_FILE_NAME`] bytes.
///
/// Colons that do not split are allowed inside list elements and file names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlString {
    source: String,
    relative: bool,
    fields: Vec<Field>,
}

/// Why a control string was rejected by [`ControlString::parse_strict`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The string contains a NUL byte.
    NulByte,
    /// A field is empty.
    EmptyField,
    /// A field is only a `+` or `-`.
    MissingFlag,
    /// Unknown flag character.
    UnknownFlag(char),
    /// The flag is followed by something other than `,` or the end of the field.
    ExpectedComma(char),
    /// A `,` follows the flag but no modifier follows it.
    EmptyModifier(char),
    /// The flag takes no modifier (or not with this sign).
    UnexpectedModifier(char),
    /// The flag cannot be negated with `-`.
    NegationNotAllowed(char),
    /// An empty element in a list.
    EmptyListElement(char),
    /// A numeric modifier that is not a number.
    NotANumber(char, String),
    /// A numeric modifier that is too large.
    NumberOutOfRange(char, String),
    /// A file name longer than [`MAX_FILE_NAME`].
    FileNameTooLong(usize),
}

/// A strict-parse error: the byte position in the string and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the problem in the control string.
    pub pos: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::NulByte => write!(f, "NUL byte"),
            ParseErrorKind::EmptyField => write!(f, "empty field"),
            ParseErrorKind::MissingFlag => write!(f, "missing flag after sign"),
            ParseErrorKind::UnknownFlag(c) => write!(f, "unknown flag '{c}'"),
            ParseErrorKind::ExpectedComma(c) => {
                write!(f, "expected ',' or ':' after flag '{c}'")
            }
            ParseErrorKind::EmptyModifier(c) => match c {
                'o' | 'O' | 'a' | 'A' => write!(f, "missing file name after '{c},'"),
                't' | 'D' => write!(f, "missing number after '{c},'"),
                _ => write!(f, "empty modifier after '{c},'"),
            },
            ParseErrorKind::UnexpectedModifier(c) => write!(f, "flag '{c}' takes no modifier"),
            ParseErrorKind::NegationNotAllowed(c) => write!(f, "flag '{c}' cannot be negated"),
            ParseErrorKind::EmptyListElement(c) => write!(f, "empty element in '{c}' list"),
            ParseErrorKind::NotANumber(c, v) => {
                write!(f, "non-numeric value \"{v}\" for flag '{c}'")
            }
            ParseErrorKind::NumberOutOfRange(c, v) => {
                write!(f, "value \"{v}\" for flag '{c}' is out of range")
            }
            ParseErrorKind::FileNameTooLong(n) => {
                write!(f, "file name too long ({n} bytes, at most {MAX_FILE_NAME})")
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at position {}: {}", self.pos, self.kind)
    }
}

impl std::error::Error for ParseError {}

const KNOWN: &[u8] = b"dDfFiLnNoOaApPrStT";

/// `DbugStrTok`: the end of the field starting at `i`.
fn field_end(s: &[u8], mut i: usize) -> usize {
    while i < s.len() {
        if s[i] != b':' {
            i += 1;
            continue;
        }
        match s.get(i + 1) {
            Some(b'\\') | Some(b'/') => i += 1,
            Some(b':') => i += 2,
            _ => break,
        }
    }
    i.min(s.len())
}

/// C `atoi` = `(int) strtol(s, NULL, 10)` on LP64.
pub(crate) fn atoi(s: &str) -> i32 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    let mut overflow = false;
    while i < b.len() && b[i].is_ascii_digit() {
        let d = i64::from(b[i] - b'0');
        if !overflow {
            match v.checked_mul(10).and_then(|x| {
                if neg {
                    x.checked_sub(d)
                } else {
                    x.checked_add(d)
                }
            }) {
                Some(x) => v = x,
                None => overflow = true,
            }
        }
        i += 1;
    }
    if overflow {
        v = if neg { i64::MIN } else { i64::MAX };
    }
    v as i32
}

impl ControlString {
    /// Parses like the C library: never fails (see the type's documentation).
    pub fn parse_lenient(s: &str) -> ControlString {
        let s = match s.find('\0') {
            Some(i) => &s[..i],
            None => s,
        };
        let b = s.as_bytes();
        let mut i = if b.starts_with(b"-#") { 2 } else { 0 };
        let relative = matches!(b.get(i), Some(b'+') | Some(b'-'));
        let mut fields = Vec::new();
        loop {
            let end = field_end(b, i);
            if end == i {
                break;
            }
            let pos = i;
            let mut j = i;
            let sign = match b[j] {
                b'+' => {
                    j += 1;
                    Sign::Plus
                }
                b'-' => {
                    j += 1;
                    Sign::Minus
                }
                _ => Sign::None,
            };
            if j < end {
                let flag = b[j];
                j += 1;
                if j < end && b[j] == b',' {
                    j += 1;
                }
                if KNOWN.contains(&flag) {
                    fields.push(Field {
                        pos,
                        sign,
                        flag,
                        modifier: s[j..end].to_string(),
                    });
                }
            }
            if end >= b.len() {
                break;
            }
            i = end + 1;
        }
        ControlString {
            source: s.to_string(),
            relative,
            fields,
        }
    }

    /// Parses strictly: rejects malformed strings (see the type's documentation) with the
    /// byte position and the problem.
    pub fn parse_strict(s: &str) -> Result<ControlString, ParseError> {
        let err = |pos, kind| Err(ParseError { pos, kind });
        if let Some(p) = s.find('\0') {
            return err(p, ParseErrorKind::NulByte);
        }
        let b = s.as_bytes();
        let start = if b.starts_with(b"-#") { 2 } else { 0 };
        if start == b.len() {
            return Ok(ControlString::parse_lenient(s));
        }
        let mut i = start;
        loop {
            let end = field_end(b, i);
            if end == i {
                return err(i, ParseErrorKind::EmptyField);
            }
            check_field(s, i, end)?;
            if end >= b.len() {
                break;
            }
            i = end + 1;
        }
        Ok(ControlString::parse_lenient(s))
    }

    /// The text that was parsed (cut at a NUL byte by the lenient parser).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True for a relative string (first character `+` or `-` after `-#`).
    pub fn is_relative(&self) -> bool {
        self.relative
    }

    /// The fields with known flags, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
}

impl std::str::FromStr for ControlString {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ControlString::parse_strict(s)
    }
}

impl fmt::Display for ControlString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn check_field(s: &str, start: usize, end: usize) -> Result<(), ParseError> {
    let b = s.as_bytes();
    let err = |pos, kind| Err(ParseError { pos, kind });
    let mut j = start;
    let sign = match b[j] {
        b'+' => Sign::Plus,
        b'-' => Sign::Minus,
        _ => Sign::None,
    };
    if sign != Sign::None {
        j += 1;
    }
    if j >= end {
        return err(start, ParseErrorKind::MissingFlag);
    }
    let flag_pos = j;
    let flag = match s[j..].chars().next() {
        Some(c) => c,
        None => return err(start, ParseErrorKind::MissingFlag),
    };
    if !flag.is_ascii() || !KNOWN.contains(&(flag as u8)) {
        return err(flag_pos, ParseErrorKind::UnknownFlag(flag));
    }
    j += 1;
    if j < end && b[j] != b',' {
        return err(j, ParseErrorKind::ExpectedComma(flag));
    }
    let has_comma = j < end;
    let mod_start = j + usize::from(has_comma);
    let modifier = &s[mod_start..end];
    if has_comma && modifier.is_empty() {
        return err(j, ParseErrorKind::EmptyModifier(flag));
    }
    if sign == Sign::Minus && matches!(flag, 'D' | 'r') {
        return err(start, ParseErrorKind::NegationNotAllowed(flag));
    }
    match flag {
        'd' | 'f' | 'p' => {
            let mut pos = mod_start;
            if has_comma {
                for el in modifier.split(',') {
                    let core = el.strip_suffix('/').unwrap_or(el);
                    if core.is_empty() {
                        return err(pos, ParseErrorKind::EmptyListElement(flag));
                    }
                    pos += el.len() + 1;
                }
            }
        }
        'D' | 't' => {
            if has_comma {
                if !modifier.bytes().all(|c| c.is_ascii_digit()) {
                    return err(
                        mod_start,
                        ParseErrorKind::NotANumber(flag, modifier.to_string()),
                    );
                }
                if modifier.parse::<i32>().is_err() {
                    return err(
                        mod_start,
                        ParseErrorKind::NumberOutOfRange(flag, modifier.to_string()),
                    );
                }
            }
        }
        'o' | 'O' | 'a' | 'A' => {
            if has_comma && sign == Sign::Minus {
                return err(j, ParseErrorKind::UnexpectedModifier(flag));
            }
            if modifier.len() > MAX_FILE_NAME {
                return err(mod_start, ParseErrorKind::FileNameTooLong(modifier.len()));
            }
        }
        _ => {
            if has_comma {
                return err(j, ParseErrorKind::UnexpectedModifier(flag));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(s: &str) -> Vec<(u8, String)> {
        ControlString::parse_lenient(s)
            .fields()
            .iter()
            .map(|f| (f.flag, f.modifier.clone()))
            .collect()
    }

    #[test]
    fn lenient_splitting() {
        assert_eq!(flags(":d:t"), vec![]);
        assert_eq!(flags("d:t:"), vec![(b'd', "".into()), (b't', "".into())]);
        assert_eq!(flags("d::t"), vec![(b'd', "::t".into())]);
        assert_eq!(
            flags("d,a:::t"),
            vec![(b'd', "a::".into()), (b't', "".into())]
        );
        assert_eq!(flags("dinfo"), vec![(b'd', "info".into())]);
        assert_eq!(flags("o,C:\\x"), vec![(b'o', "C:\\x".into())]);
        assert_eq!(flags("x,y:t3"), vec![(b't', "3".into())]);
        assert_eq!(flags("+:d"), vec![(b'd', "".into())]);
        assert_eq!(flags("-#d,a,b"), vec![(b'd', "a,b".into())]);
        assert!(ControlString::parse_lenient("-d,x").is_relative());
        assert!(!ControlString::parse_lenient("-#d").is_relative());
        assert_eq!(flags("d\0:t"), vec![(b'd', "".into())]);
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi("99999999999"), 1215752191);
        assert_eq!(atoi("4294967296"), 0);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(" -5x"), -5);
        assert_eq!(atoi("99999999999999999999999"), -1);
    }

    fn strict_err(s: &str) -> (usize, String) {
        let e = ControlString::parse_strict(s).expect_err(s);
        (e.pos, e.kind.to_string())
    }

    #[test]
    fn strict_accepts() {
        for s in [
            "",
            "-#",
            "d:t",
            "-#d,info:t,3",
            "+d,a,b/",
            "-d",
            "d:t:i:N:T:P:F:L:n:S:r",
            "o,/tmp/x.trace",
            "O",
            "o,-",
            "f,mod::func",
            "o,C:\\x",
            "-o",
            "-t,5",
            "D,10",
        ] {
            assert!(ControlString::parse_strict(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn strict_errors() {
        assert_eq!(strict_err(":d"), (0, "empty field".into()));
        assert_eq!(strict_err("d:t:"), (4, "empty field".into()));
        assert_eq!(strict_err("d:x"), (2, "unknown flag 'x'".into()));
        assert_eq!(
            strict_err("dinfo"),
            (1, "expected ',' or ':' after flag 'd'".into())
        );
        assert_eq!(
            strict_err("t,abc").1,
            "non-numeric value \"abc\" for flag 't'"
        );
        assert_eq!(strict_err("t,abc").0, 2);
        assert_eq!(strict_err("d:o,").1, "missing file name after 'o,'");
        assert_eq!(
            strict_err("d,a,,b"),
            (4, "empty element in 'd' list".into())
        );
        assert_eq!(strict_err("F,x"), (1, "flag 'F' takes no modifier".into()));
        assert_eq!(strict_err("d:+"), (2, "missing flag after sign".into()));
        assert_eq!(strict_err("-D,3"), (0, "flag 'D' cannot be negated".into()));
        assert!(strict_err("t,99999999999").1.contains("out of range"));
        assert_eq!(strict_err("d\0").0, 1);
    }
}
