//! `fnmatch(pattern, string, 0)` as glibc implements it in the C locale.
//!
//! Byte oriented (the C locale has `MB_CUR_MAX == 1`). Supported: `*`, `?`, bracket
//! expressions `[...]` with `!` or `^` negation, ranges (byte order), the character classes
//! `[:alpha:]` etc., `[=c=]` and `[.c.]` for single bytes, and backslash escapes. `/` and a
//! leading `.` are ordinary characters (no `FNM_PATHNAME`, no `FNM_PERIOD`). The quirks kept
//! from glibc: a trailing backslash never matches, an unterminated `[` is a literal `[`, but
//! an unterminated bracket whose member already matched fails the match.

/// Returns true when `name` matches the glob `pattern`.
pub fn fnmatch(pattern: &[u8], name: &[u8]) -> bool {
    fct(pattern, name)
}

fn at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

fn fct(pat: &[u8], s: &[u8]) -> bool {
    let mut p = 0usize;
    let mut n = 0usize;
    while p < pat.len() {
        let c = pat[p];
        p += 1;
        match c {
            b'?' => {
                if n == s.len() {
                    return false;
                }
                n += 1;
            }
            b'\\' => {
                let c2 = at(pat, p);
                if p >= pat.len() {
                    return false; // trailing backslash loses
                }
                p += 1;
                if n == s.len() || s[n] != c2 {
                    return false;
                }
                n += 1;
            }
            b'*' => {
                // Collapse a run of '*' and '?'.
                let mut c = at(pat, p);
                p += 1;
                while c == b'?' || c == b'*' {
                    if c == b'?' {
                        if n == s.len() {
                            return false;
                        }
                        n += 1;
                    }
                    c = at(pat, p);
                    p += 1;
                }
                if c == 0 {
                    return true; // wildcard(s) at the end
                }
                // `p` is one past `c`; retry the rest of the pattern (starting at `c`).
                let rest = &pat[p - 1..];
                if c == b'[' {
                    for start in n..s.len() {
                        if fct(rest, &s[start..]) {
                            return true;
                        }
                    }
                } else {
                    let lit = if c == b'\\' { at(pat, p) } else { c };
                    for start in n..s.len() {
                        if s[start] == lit && fct(rest, &s[start..]) {
                            return true;
                        }
                    }
                }
                return false;
            }
            b'[' => {
                if n == s.len() {
                    return false;
                }
                match bracket(pat, p, s[n]) {
                    Bracket::Match(np) => {
                        p = np;
                        n += 1;
                    }
                    Bracket::NoMatch => return false,
                    Bracket::Literal => {
                        // Unterminated: '[' is an ordinary character.
                        if s[n] != b'[' {
                            return false;
                        }
                        n += 1;
                    }
                }
            }
            _ => {
                if n == s.len() || s[n] != c {
                    return false;
                }
                n += 1;
            }
        }
    }
    n == s.len()
}

enum Bracket {
    /// Matched; the pattern continues at the index.
    Match(usize),
    NoMatch,
    /// Unterminated bracket: treat '[' literally.
    Literal,
}

fn class_matches(name: &[u8], c: u8) -> Option<bool> {
    let r = match name {
        b"alnum" => c.is_ascii_alphanumeric(),
        b"alpha" => c.is_ascii_alphabetic(),
        b"blank" => c == b' ' || c == b'\t',
        b"cntrl" => c.is_ascii_control(),
        b"digit" => c.is_ascii_digit(),
        b"graph" => c.is_ascii_graphic(),
        b"lower" => c.is_ascii_lowercase(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        b"punct" => c.is_ascii_punctuation(),
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"upper" => c.is_ascii_uppercase(),
        b"xdigit" => c.is_ascii_hexdigit(),
        _ => return None,
    };
    Some(r)
}

const CHAR_CLASS_MAX_LENGTH: usize = 256;

/// Evaluates a bracket expression starting at `p0` (just after `[`) against byte `fc`,
/// following glibc's `fnmatch_loop.c` (patterns never contain NUL, so `at() == 0` is the end).
fn bracket(pat: &[u8], p0: usize, fc: u8) -> Bracket {
    let mut p = p0;
    let not = matches!(at(pat, p), b'!' | b'^');
    if not {
        p += 1;
    }
    let mut c = at(pat, p);
    p += 1;
    let matched = 'scan: loop {
        // `c` is the current member's first byte, `p` indexes the byte after it.
        let member: u8;
        if c == b'\\' {
            if at(pat, p) == 0 {
                return Bracket::NoMatch;
            }
            member = at(pat, p);
            p += 1;
        } else if c == b'[' && at(pat, p) == b':' {
            let startp = p;
            let mut name = Vec::new();
            let mut is_class = true;
            loop {
                if name.len() == CHAR_CLASS_MAX_LENGTH {
                    return Bracket::NoMatch;
                }
                p += 1;
                let cc = at(pat, p);
                if cc == b':' && at(pat, p + 1) == b']' {
                    p += 2;
                    break;
                }
                if !(b'a'..=b'y').contains(&cc) {
                    is_class = false;
                    break;
                }
                name.push(cc);
            }
            if is_class {
                match class_matches(&name, fc) {
                    None => return Bracket::NoMatch,
                    Some(true) => break 'scan true,
                    Some(false) => {}
                }
                c = at(pat, p);
                p += 1;
                if c == b']' {
                    break 'scan false;
                }
                continue;
            }
            p = startp;
            member = b'[';
        } else if c == 0 {
            return Bracket::Literal;
        } else if c == b'[' && at(pat, p) == b'=' {
            let e = at(pat, p + 1);
            if e != 0 && at(pat, p + 2) == b'=' && at(pat, p + 3) == b']' {
                p += 4;
                if fc == e {
                    break 'scan true;
                }
                c = at(pat, p);
                p += 1;
                if c == b']' {
                    break 'scan false;
                }
                continue;
            }
            member = b'[';
        } else {
            member = c;
        }
        // normal_bracket: `member` is an ordinary member, maybe the start of a range.
        let is_range = at(pat, p) == b'-' && at(pat, p + 1) != 0 && at(pat, p + 1) != b']';
        if !is_range && member == fc {
            break 'scan true;
        }
        let cold = member;
        c = at(pat, p);
        p += 1;
        if c == b'-' && at(pat, p) != b']' {
            let mut cend = at(pat, p);
            p += 1;
            if cend == b'\\' {
                cend = at(pat, p);
                p += 1;
            }
            if cend == 0 {
                return Bracket::NoMatch;
            }
            if cold <= fc && fc <= cend {
                break 'scan true;
            }
            c = at(pat, p);
            p += 1;
        }
        if c == b']' {
            break 'scan false;
        }
    };
    if !matched {
        return if not {
            Bracket::Match(p)
        } else {
            Bracket::NoMatch
        };
    }
    // Skip the rest of the [...] that already matched.
    loop {
        let c = at(pat, p);
        p += 1;
        if c == b']' {
            break;
        }
        if c == 0 {
            return Bracket::NoMatch;
        }
        if c == b'\\' {
            if at(pat, p) == 0 {
                return Bracket::NoMatch;
            }
            p += 1;
        } else if c == b'[' && at(pat, p) == b':' {
            let mut q = p;
            let mut count = 0;
            loop {
                q += 1;
                count += 1;
                if count == CHAR_CLASS_MAX_LENGTH {
                    return Bracket::NoMatch;
                }
                if at(pat, q) == b':' && at(pat, q + 1) == b']' {
                    p = q + 2;
                    break;
                }
                let cc = at(pat, q);
                if !(b'a'..=b'y').contains(&cc) {
                    break;
                }
            }
        }
    }
    if not {
        Bracket::NoMatch
    } else {
        Bracket::Match(p)
    }
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    fn m(p: &str, s: &str) -> bool {
        fnmatch(p.as_bytes(), s.as_bytes())
    }

    #[test]
    fn basics() {
        assert!(m("info", "info"));
        assert!(!m("info", "inf"));
        assert!(m("inf*", "info"));
        assert!(m("*", ""));
        assert!(m("i?fo", "info"));
        assert!(!m("i?fo", "ifo"));
        assert!(m("*o", "info"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("a/b", "a/b"));
        assert!(m("*", ".hidden"));
        assert!(m("*/*", "a/b"));
    }

    #[test]
    fn brackets() {
        assert!(m("[abc]x", "bx"));
        assert!(!m("[abc]x", "dx"));
        assert!(m("[!abc]x", "dx"));
        assert!(m("[^abc]x", "dx"));
        assert!(!m("[!abc]x", "ax"));
        assert!(m("[a-c]", "b"));
        assert!(!m("[a-c]", "d"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(m("[a-]", "-"));
        assert!(m("[[:digit:]]x", "7x"));
        assert!(!m("[[:digit:]]x", "ax"));
        assert!(!m("[[:bogus:]]", "a"));
        // unterminated bracket: literal '['
        assert!(m("[ab", "[ab"));
        assert!(!m("[ab", "a"));
        assert!(m("x[", "x["));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(!m(":\\x", ":\\x"));
        assert!(m(":\\x", ":x"));
        assert!(!m("abc\\", "abc\\"));
        assert!(!m("abc\\", "abc"));
        assert!(m("*\\?", "ab?"));
    }
}
