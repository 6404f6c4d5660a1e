//! MySQL expression syntax SQLite cannot parse or means differently, rewritten
//! token by token before anything else looks at the statement:
//!
//! * `a DIV b`, `a MOD b`, `a % b` → `minnow_div(a, b, 'orig')` / `minnow_mod(…)`
//!   (MySQL's `%` keeps fractions: `7.5 % 2` is 1.5);
//! * `DATE_ADD|DATE_SUB|ADDDATE|SUBDATE(d, INTERVAL e unit)`, `d + INTERVAL e unit`,
//!   `d - INTERVAL e unit`, `INTERVAL e unit + d`, `TIMESTAMPADD(unit, e, d)` →
//!   `minnow_date_add(d, e, 'unit', ±1, 'orig')`;
//! * `TIMESTAMPDIFF(unit, a, b)` → `minnow_timestampdiff('unit', a, b, 'orig')`;
//! * `EXTRACT(unit FROM d)` → `minnow_extract('unit', d, 'orig')`;
//! * `CURRENT_TIMESTAMP[(n)]`, `LOCALTIME[STAMP]`, `CURRENT_DATE`, `CURRENT_TIME`
//!   (SQLite's own are UTC keywords without parentheses) → `minnow_now(n, 'orig')` …
//!
//! The last argument of every `minnow_*` call is the original text, which
//! [`restore_names`] puts back into result column names (`SELECT 7 DIV 2` has a
//! column named `7 DIV 2`, as in MySQL). Operands are found by precedence over
//! the tokens: a primary (literal, name, call, parenthesised group, `CASE … END`)
//! with its unary prefix, extended over same-precedence operators to the left.

use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

fn is_ws(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn kw(t: &Token, k: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
}

/// Words that end or start a clause: never an operand.
const NOT_OPERANDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "ON",
    "BY",
    "WHEN",
    "THEN",
    "ELSE",
    "HAVING",
    "VALUES",
    "VALUE",
    "SET",
    "AS",
    "JOIN",
    "DISTINCT",
    "ALL",
    "ANY",
    "SOME",
    "EXISTS",
    "RETURNING",
    "LIMIT",
    "OFFSET",
    "IS",
    "LIKE",
    "BETWEEN",
    "USING",
    "INTO",
    "IN",
    "DIV",
    "MOD",
    "INTERVAL",
    "ORDER",
    "GROUP",
    "UNION",
    "WITH",
    "REGEXP",
    "RLIKE",
    "ESCAPE",
    "DEFAULT",
    "ASC",
    "DESC",
    "UPDATE",
    "CASE",
    "END",
    "WINDOW",
    "OVER",
    "PARTITION",
];

fn is_operand_word(t: &Token) -> bool {
    match t {
        Token::Word(w) if w.quote_style.is_some() => true,
        Token::Word(w) => !NOT_OPERANDS.iter().any(|k| w.value.eq_ignore_ascii_case(k)),
        _ => false,
    }
}

/// Whether a token can end an operand (so a following `-` is binary).
fn ends_operand(t: &Token) -> bool {
    matches!(
        t,
        Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::HexStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::RParen
            | Token::Placeholder(_)
    ) || is_operand_word(t)
        || kw(t, "END")
}

const UNITS: &[&str] = &[
    "MICROSECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "SECOND_MICROSECOND",
    "MINUTE_MICROSECOND",
    "MINUTE_SECOND",
    "HOUR_MICROSECOND",
    "HOUR_SECOND",
    "HOUR_MINUTE",
    "DAY_MICROSECOND",
    "DAY_SECOND",
    "DAY_MINUTE",
    "DAY_HOUR",
    "YEAR_MONTH",
];

fn unit_of(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => {
            let u = w.value.to_ascii_uppercase();
            UNITS.contains(&u.as_str()).then_some(u)
        }
        _ => None,
    }
}

struct Toks {
    v: Vec<TokenWithSpan>,
}

impl Toks {
    fn tok(&self, i: usize) -> &Token {
        &self.v[i].token
    }

    fn next_sig(&self, mut i: usize) -> Option<usize> {
        while i < self.v.len() {
            if !is_ws(self.tok(i)) && self.tok(i) != &Token::EOF {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    fn prev_sig(&self, i: usize) -> Option<usize> {
        (0..i).rev().find(|&j| !is_ws(self.tok(j)))
    }

    fn close_of(&self, open: usize) -> Option<usize> {
        let mut depth = 0i32;
        for j in open..self.v.len() {
            match self.tok(j) {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn open_of(&self, close: usize) -> Option<usize> {
        let mut depth = 0i32;
        for j in (0..=close).rev() {
            match self.tok(j) {
                Token::RParen => depth += 1,
                Token::LParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// `CASE … END` forward from CASE: the index of END.
    fn end_of_case(&self, case: usize) -> Option<usize> {
        let mut depth = 0;
        for j in case..self.v.len() {
            if kw(self.tok(j), "CASE") {
                depth += 1;
            } else if kw(self.tok(j), "END") {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
        }
        None
    }

    fn case_of_end(&self, end: usize) -> Option<usize> {
        let mut depth = 0;
        for j in (0..=end).rev() {
            if kw(self.tok(j), "END") {
                depth += 1;
            } else if kw(self.tok(j), "CASE") {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
        }
        None
    }

    /// A primary starting at or after `i`: `(start, end exclusive)`.
    fn primary_fwd(&self, i: usize) -> Option<(usize, usize)> {
        let s = self.next_sig(i)?;
        let end = match self.tok(s) {
            Token::Minus | Token::Plus | Token::Tilde => {
                return Some((s, self.primary_fwd(s + 1)?.1));
            }
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::HexStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::Placeholder(_) => s + 1,
            Token::LParen => self.close_of(s)? + 1,
            Token::AtSign => self.next_sig(s + 1)? + 1,
            t if kw(t, "CASE") => self.end_of_case(s)? + 1,
            t if is_operand_word(t) => {
                let mut j = s + 1;
                while let Some(p) = self.next_sig(j) {
                    match (self.tok(p), self.next_sig(p + 1).map(|n| self.tok(n))) {
                        (Token::Period, Some(Token::Word(_))) => {
                            j = self.next_sig(p + 1).map(|n| n + 1).unwrap_or(j);
                        }
                        _ => break,
                    }
                }
                match self.next_sig(j) {
                    Some(p) if self.tok(p) == &Token::LParen => self.close_of(p)? + 1,
                    _ => j,
                }
            }
            _ => return None,
        };
        Some((s, end))
    }

    /// A primary ending at `e` (inclusive), with a unary prefix: its start.
    fn primary_back(&self, e: usize) -> Option<usize> {
        let mut s = match self.tok(e) {
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::HexStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::Placeholder(_) => e,
            Token::RParen => {
                let o = self.open_of(e)?;
                match self.prev_sig(o) {
                    Some(f) if is_operand_word(self.tok(f)) => f,
                    _ => o,
                }
            }
            t if kw(t, "END") => self.case_of_end(e)?,
            t if is_operand_word(t) => e,
            _ => return None,
        };
        // Qualified names (`db.t.c`), `@var`.
        while let Some(p) = self.prev_sig(s) {
            match self.tok(p) {
                Token::Period => match self.prev_sig(p) {
                    Some(w) if matches!(self.tok(w), Token::Word(_)) => s = w,
                    _ => break,
                },
                Token::AtSign => {
                    s = p;
                    break;
                }
                _ => break,
            }
        }
        // Unary minus / plus / tilde.
        while let Some(p) = self.prev_sig(s) {
            if !matches!(self.tok(p), Token::Minus | Token::Plus | Token::Tilde) {
                break;
            }
            match self.prev_sig(p) {
                Some(pp) if ends_operand(self.tok(pp)) => break,
                _ => s = p,
            }
        }
        Some(s)
    }

    /// The left operand of a binary operator at `op`, extended to the left over
    /// the operators `same` accepts (same or higher precedence).
    fn left_chain(&self, op: usize, same: &dyn Fn(&Token) -> bool) -> Option<usize> {
        let mut s = self.primary_back(self.prev_sig(op)?)?;
        while let Some(p) = self.prev_sig(s) {
            if !same(self.tok(p)) {
                break;
            }
            match self.prev_sig(p).and_then(|e| self.primary_back(e)) {
                Some(n) => s = n,
                None => break,
            }
        }
        Some(s)
    }

    fn text(&self, a: usize, b: usize) -> String {
        let raw: String = self.v[a..b]
            .iter()
            .map(|t| match &t.token {
                Token::Whitespace(_) => " ".to_string(),
                other => other.to_string(),
            })
            .collect();
        restore_names(raw.trim())
    }

    fn splice(&mut self, a: usize, b: usize, with: Vec<Token>) {
        self.v
            .splice(a..b, with.into_iter().map(TokenWithSpan::wrap));
    }

    /// Tokens `a..b` without leading and trailing whitespace.
    fn slice(&self, a: usize, b: usize) -> Vec<Token> {
        let mut v: Vec<Token> = self.v[a..b].iter().map(|t| t.token.clone()).collect();
        while v.last().is_some_and(is_ws) {
            v.pop();
        }
        let lead = v.iter().take_while(|t| is_ws(t)).count();
        v.drain(..lead);
        v
    }

    /// Top-level comma-separated arguments of the call whose `(` is at `open`.
    fn args(&self, open: usize, close: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut depth = 0;
        let mut start = open + 1;
        for j in open + 1..close {
            match self.tok(j) {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => {
                    out.push((start, j));
                    start = j + 1;
                }
                _ => {}
            }
        }
        out.push((start, close));
        out
    }

    /// `INTERVAL expr unit` starting at `i` (the INTERVAL word): the expression's
    /// range, the unit, and the index after the unit.
    fn interval_at(&self, i: usize) -> Option<((usize, usize), String, usize)> {
        if !kw(self.tok(i), "INTERVAL") {
            return None;
        }
        let (a, b) = self.primary_fwd(i + 1)?;
        let u = self.next_sig(b)?;
        let unit = unit_of(self.tok(u))?;
        Some(((a, b), unit, u + 1))
    }
}

fn word(s: &str) -> Token {
    Token::make_word(s, None)
}

fn space() -> Token {
    Token::Whitespace(Whitespace::Space)
}

/// `name(args…, 'orig')` as tokens.
fn call(name: &str, args: Vec<Vec<Token>>, orig: String) -> Vec<Token> {
    let mut v = vec![word(name), Token::LParen];
    for a in args {
        v.extend(a);
        v.push(Token::Comma);
        v.push(space());
    }
    v.push(Token::SingleQuotedString(orig));
    v.push(Token::RParen);
    v
}

fn is_mul_op(t: &Token) -> bool {
    matches!(t, Token::Mul | Token::Div | Token::Mod) || kw(t, "DIV") || kw(t, "MOD")
}

fn is_add_op(t: &Token) -> bool {
    is_mul_op(t) || matches!(t, Token::Plus | Token::Minus)
}

/// Rewrites the MySQL-only expression forms (see the module docs).
pub fn mysql_syntax(mut toks: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    literal_forms(&mut toks);
    // Fast path: nothing to do for most statements.
    let interesting = toks.iter().any(|t| match &t.token {
        Token::Mod => true,
        Token::Word(w) if w.quote_style.is_none() => {
            let v = w.value.as_bytes();
            // Cheap first-letter filter, then exact names.
            matches!(
                v.first(),
                Some(
                    b'd' | b'D'
                        | b'm'
                        | b'M'
                        | b'i'
                        | b'I'
                        | b'c'
                        | b'C'
                        | b'l'
                        | b'L'
                        | b'e'
                        | b'E'
                        | b'a'
                        | b'A'
                        | b's'
                        | b'S'
                        | b't'
                        | b'T'
                )
            ) && [
                "DIV",
                "MOD",
                "INTERVAL",
                "EXTRACT",
                "CURRENT_TIMESTAMP",
                "CURRENT_DATE",
                "CURRENT_TIME",
                "LOCALTIME",
                "LOCALTIMESTAMP",
                "DATE_ADD",
                "DATE_SUB",
                "ADDDATE",
                "SUBDATE",
                "TIMESTAMPADD",
                "TIMESTAMPDIFF",
            ]
            .iter()
            .any(|k| w.value.eq_ignore_ascii_case(k))
        }
        _ => false,
    });
    if !interesting {
        return toks;
    }
    let mut t = Toks { v: toks };
    let mut i = 0;
    // Each rewrite restarts at its own start, so nested forms are handled too;
    // the budget guards against a rewrite that would not make progress.
    let mut budget = t.v.len() * 4 + 16;
    while i < t.v.len() && budget > 0 {
        budget -= 1;
        if let Some(start) = rewrite_at(&mut t, i) {
            i = start;
            continue;
        }
        i += 1;
    }
    t.v
}

/// Charset introducers MySQL accepts before a string literal (`_utf8mb4'a'`).
const INTRODUCERS: &[&str] = &[
    "_utf8mb4", "_utf8", "_utf8mb3", "_latin1", "_binary", "_ascii", "_ucs2", "_utf16", "_utf32",
];

/// One-token MySQL forms: `x RLIKE p` → `x REGEXP p`; `N'…'` → `'…'`; a charset
/// introducer before a string is dropped (SQLite's text is UTF-8); the bit-value
/// literal `b'101'` → its number (MySQL's value in numeric context).
fn literal_forms(toks: &mut Vec<TokenWithSpan>) {
    let candidate = toks.iter().any(|t| match &t.token {
        Token::NationalStringLiteral(_) | Token::SingleQuotedByteStringLiteral(_) => true,
        Token::Word(w) if w.quote_style.is_none() => {
            w.value.starts_with('_') || w.value.eq_ignore_ascii_case("RLIKE")
        }
        _ => false,
    });
    if !candidate {
        return;
    }
    let mut i = 0;
    while i < toks.len() {
        let replace = match &toks[i].token {
            Token::NationalStringLiteral(s) => Some(Token::SingleQuotedString(s.clone())),
            Token::SingleQuotedByteStringLiteral(bits) => {
                let digits = bits.chars().filter(|c| !c.is_whitespace());
                let v = digits.clone().try_fold(0u64, |acc, c| match c {
                    '0' | '1' if acc >> 63 == 0 => Some(acc << 1 | u64::from(c == '1')),
                    _ => None,
                });
                // Not bits (or too long): keep it, SQLite reports the error.
                v.map(|v| Token::Number(v.to_string(), false))
            }
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("RLIKE") => {
                Some(word("REGEXP"))
            }
            Token::Word(w)
                if w.quote_style.is_none()
                    && INTRODUCERS.iter().any(|c| w.value.eq_ignore_ascii_case(c))
                    && matches!(
                        toks.get(i + 1).map(|t| &t.token),
                        Some(
                            Token::SingleQuotedString(_)
                                | Token::HexStringLiteral(_)
                                | Token::DoubleQuotedString(_)
                        )
                    ) =>
            {
                toks.remove(i);
                continue;
            }
            _ => None,
        };
        if let Some(t) = replace {
            toks[i].token = t;
        }
        i += 1;
    }
}

/// Tries every rewrite at token `i`; the start of the replacement if one applied.
fn rewrite_at(t: &mut Toks, i: usize) -> Option<usize> {
    let tok = t.tok(i).clone();
    // a DIV b, a MOD b, a % b
    if matches!(tok, Token::Mod) || kw(&tok, "DIV") || kw(&tok, "MOD") {
        let prev = t.prev_sig(i)?;
        if !ends_operand(t.tok(prev)) {
            return None; // MOD(a, b), a column named div, …
        }
        let a = t.left_chain(i, &is_mul_op)?;
        let (_, b) = t.primary_fwd(i + 1)?;
        let name = if kw(&tok, "DIV") {
            "minnow_div"
        } else {
            "minnow_mod"
        };
        let orig = t.text(a, b);
        let left = t.slice(a, i);
        let right = t.slice(i + 1, b);
        t.splice(a, b, call(name, vec![left, right], orig));
        return Some(a);
    }
    let Token::Word(w) = &tok else {
        return None;
    };
    if w.quote_style.is_some() {
        return None;
    }
    let up = w.value.to_ascii_uppercase();
    let prev_is_period = t.prev_sig(i).is_some_and(|p| t.tok(p) == &Token::Period);
    if prev_is_period {
        return None;
    }
    let open = t.next_sig(i + 1).filter(|&p| t.tok(p) == &Token::LParen);
    match up.as_str() {
        "DATE_ADD" | "DATE_SUB" | "ADDDATE" | "SUBDATE" => {
            let open = open?;
            let close = t.close_of(open)?;
            let args = t.args(open, close);
            let [(d0, d1), (x0, x1)] = args[..] else {
                return None;
            };
            let iv = t.next_sig(x0)?;
            let ((e0, e1), unit, after) = t.interval_at(iv)?;
            if t.next_sig(after).is_some_and(|n| n < x1) {
                return None;
            }
            let sign = if up.ends_with("SUB") { "-1" } else { "1" };
            let orig = t.text(i, close + 1);
            let args = vec![
                t.slice(d0, d1),
                t.slice(e0, e1),
                vec![Token::SingleQuotedString(unit)],
                vec![Token::Number(sign.into(), false)],
            ];
            t.splice(i, close + 1, call("minnow_date_add", args, orig));
            Some(i)
        }
        "TIMESTAMPADD" | "TIMESTAMPDIFF" => {
            let open = open?;
            let close = t.close_of(open)?;
            let args = t.args(open, close);
            let [(u0, _), (a0, a1), (b0, b1)] = args[..] else {
                return None;
            };
            let unit = unit_of(t.tok(t.next_sig(u0)?))?;
            let orig = t.text(i, close + 1);
            let rep = if up == "TIMESTAMPADD" {
                call(
                    "minnow_date_add",
                    vec![
                        t.slice(b0, b1),
                        t.slice(a0, a1),
                        vec![Token::SingleQuotedString(unit)],
                        vec![Token::Number("1".into(), false)],
                    ],
                    orig,
                )
            } else {
                call(
                    "minnow_timestampdiff",
                    vec![
                        vec![Token::SingleQuotedString(unit)],
                        t.slice(a0, a1),
                        t.slice(b0, b1),
                    ],
                    orig,
                )
            };
            t.splice(i, close + 1, rep);
            Some(i)
        }
        "EXTRACT" => {
            let open = open?;
            let close = t.close_of(open)?;
            let u = t.next_sig(open + 1)?;
            let unit = unit_of(t.tok(u))?;
            let from = t.next_sig(u + 1)?;
            if !kw(t.tok(from), "FROM") {
                return None;
            }
            let orig = t.text(i, close + 1);
            let args = vec![
                vec![Token::SingleQuotedString(unit)],
                t.slice(from + 1, close),
            ];
            t.splice(i, close + 1, call("minnow_extract", args, orig));
            Some(i)
        }
        "INTERVAL" => {
            let ((e0, e1), unit, after) = t.interval_at(i)?;
            let expr = t.slice(e0, e1);
            let unit_tok = vec![Token::SingleQuotedString(unit)];
            // d + INTERVAL …, d - INTERVAL …
            if let Some(op) = t.prev_sig(i) {
                if matches!(t.tok(op), Token::Plus | Token::Minus)
                    && t.prev_sig(op).is_some_and(|p| ends_operand(t.tok(p)))
                {
                    let a = t.left_chain(op, &is_add_op)?;
                    let sign = if t.tok(op) == &Token::Minus {
                        "-1"
                    } else {
                        "1"
                    };
                    let orig = t.text(a, after);
                    let args = vec![
                        t.slice(a, op),
                        expr,
                        unit_tok,
                        vec![Token::Number(sign.into(), false)],
                    ];
                    t.splice(a, after, call("minnow_date_add", args, orig));
                    return Some(a);
                }
            }
            // INTERVAL … + d
            let plus = t.next_sig(after)?;
            if t.tok(plus) != &Token::Plus {
                return None;
            }
            let (_, b) = t.primary_fwd(plus + 1)?;
            let orig = t.text(i, b);
            let args = vec![
                t.slice(plus + 1, b),
                expr,
                unit_tok,
                vec![Token::Number("1".into(), false)],
            ];
            t.splice(i, b, call("minnow_date_add", args, orig));
            Some(i)
        }
        "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME" => {
            let (end, fsp) = match open {
                Some(o) => {
                    let c = t.close_of(o)?;
                    let inner = t.slice(o + 1, c);
                    let inner: Vec<Token> = inner.into_iter().filter(|x| !is_ws(x)).collect();
                    (c + 1, inner)
                }
                None => (i + 1, vec![]),
            };
            // Column defaults keep SQLite's own keyword (without parentheses).
            let prev = t.prev_sig(i).map(|p| t.tok(p).clone());
            let in_ddl = prev.as_ref().is_some_and(|p| kw(p, "DEFAULT"))
                || (prev.as_ref().is_some_and(|p| kw(p, "UPDATE"))
                    && t.prev_sig(t.prev_sig(i)?)
                        .is_some_and(|pp| kw(t.tok(pp), "ON")));
            if in_ddl {
                if end == i + 1 {
                    return None;
                }
                let keyword = if up == "CURRENT_DATE" || up == "CURRENT_TIME" {
                    up.clone()
                } else {
                    "CURRENT_TIMESTAMP".into()
                };
                t.splice(i, end, vec![word(&keyword)]);
                return None;
            }
            let orig = t.text(i, end);
            let fsp = if fsp.is_empty() {
                vec![Token::Number("0".into(), false)]
            } else {
                fsp
            };
            let rep = match up.as_str() {
                "CURRENT_DATE" => call("minnow_curdate", vec![], orig),
                "CURRENT_TIME" => call("minnow_curtime", vec![fsp], orig),
                _ => call("minnow_now", vec![fsp], orig),
            };
            t.splice(i, end, rep);
            // The replacement starts with a word that matches nothing here.
            Some(i + 1)
        }
        _ => None,
    }
}

/// Puts the original text back into a result-column name: every
/// `minnow_x(…, 'orig')` becomes `orig`.
pub fn restore_names(name: &str) -> String {
    if !name.contains("minnow_") {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(p) = rest.find("minnow_") {
        let after = &rest[p..];
        let Some(open) = after.find('(') else {
            break;
        };
        if !after[7..open]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            out.push_str(&rest[..p + 7]);
            rest = &rest[p + 7..];
            continue;
        }
        // Find the matching ')' outside quotes, and the last top-level argument.
        let bytes = after.as_bytes();
        let mut depth = 0;
        let mut quote: Option<u8> = None;
        let mut last_arg = open + 1;
        let mut close = None;
        let mut j = open;
        while j < bytes.len() {
            let c = bytes[j];
            if let Some(q) = quote {
                if c == q {
                    if bytes.get(j + 1) == Some(&q) {
                        j += 1;
                    } else {
                        quote = None;
                    }
                }
            } else {
                match c {
                    b'\'' | b'"' => quote = Some(c),
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    b',' if depth == 1 => last_arg = j + 1,
                    _ => {}
                }
            }
            j += 1;
        }
        let Some(close) = close else {
            break;
        };
        let arg = after[last_arg..close].trim();
        if arg.len() >= 2 && arg.starts_with('\'') && arg.ends_with('\'') {
            out.push_str(&rest[..p]);
            out.push_str(&arg[1..arg.len() - 1].replace("''", "'"));
        } else {
            out.push_str(&rest[..p + close + 1]);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(sql: &str) -> String {
        let toks = super::super::rewrite::tokenize(sql).expect("tokens");
        let toks = mysql_syntax(toks);
        let r = super::super::rewrite::to_sqlite(&toks, &mut |_| Ok(crate::protocol::Cell::Null))
            .expect("rewrite");
        r.sql
    }

    #[test]
    fn operators_take_mysql_precedence() {
        assert_eq!(rw("SELECT 7 DIV 2"), "SELECT minnow_div(7, 2, '7 DIV 2')");
        assert_eq!(
            rw("SELECT -7 DIV 2 + 1"),
            "SELECT minnow_div(-7, 2, '-7 DIV 2') + 1"
        );
        assert_eq!(
            rw("SELECT 1 + 2 * 7 DIV 2"),
            "SELECT 1 + minnow_div(2 * 7, 2, '2 * 7 DIV 2')"
        );
        assert_eq!(
            rw("SELECT a.b % 3 FROM t a"),
            "SELECT minnow_mod(a.b, 3, 'a.b % 3') FROM t a"
        );
        assert_eq!(
            rw("SELECT 2 DIV (7 MOD 4)"),
            "SELECT minnow_div(2, (minnow_mod(7, 4, '7 MOD 4')), '2 DIV (7 MOD 4)')"
        );
        assert_eq!(rw("SELECT MOD(7, 2)"), "SELECT MOD(7, 2)");
        assert_eq!(rw("SELECT div FROM t"), "SELECT div FROM t");
        assert_eq!(
            rw("SELECT LENGTH(x) DIV 2 FROM t"),
            "SELECT minnow_div(LENGTH(x), 2, 'LENGTH(x) DIV 2') FROM t"
        );
        assert_eq!(rw("SHOW STATUS LIKE 'a%'"), "SHOW STATUS LIKE 'a%'");
    }

    #[test]
    fn intervals_and_date_keywords() {
        assert_eq!(
            rw("SELECT DATE_ADD('2024-01-31', INTERVAL 1 MONTH)"),
            "SELECT minnow_date_add('2024-01-31', 1, 'MONTH', 1, 'DATE_ADD(''2024-01-31'', INTERVAL 1 MONTH)')"
        );
        assert_eq!(
            rw("SELECT d - INTERVAL 2 DAY FROM t"),
            "SELECT minnow_date_add(d, 2, 'DAY', -1, 'd - INTERVAL 2 DAY') FROM t"
        );
        assert_eq!(
            rw("SELECT x > NOW() - INTERVAL 1 HOUR"),
            "SELECT x > minnow_date_add(NOW(), 1, 'HOUR', -1, 'NOW() - INTERVAL 1 HOUR')"
        );
        assert_eq!(
            rw("SELECT INTERVAL 1 DAY + '2024-01-01'"),
            "SELECT minnow_date_add('2024-01-01', 1, 'DAY', 1, 'INTERVAL 1 DAY + ''2024-01-01''')"
        );
        assert_eq!(
            rw("SELECT EXTRACT(YEAR FROM d)"),
            "SELECT minnow_extract('YEAR', d, 'EXTRACT(YEAR FROM d)')"
        );
        assert_eq!(
            rw("SELECT CURRENT_TIMESTAMP(3), current_date"),
            "SELECT minnow_now(3, 'CURRENT_TIMESTAMP(3)'), minnow_curdate('current_date')"
        );
        assert_eq!(
            rw(
                "CREATE TABLE t (ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP(), u DATETIME ON UPDATE CURRENT_TIMESTAMP)"
            ),
            "CREATE TABLE t (ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP, u DATETIME ON UPDATE CURRENT_TIMESTAMP)"
        );
    }

    /// Random sequences of the tokens the rewriter reacts to: it never panics,
    /// always terminates, and its output tokenizes again.
    #[test]
    fn random_token_soup_is_safe() {
        const WORDS: &[&str] = &[
            "DIV",
            "MOD",
            "%",
            "(",
            ")",
            ",",
            "INTERVAL",
            "1",
            "-2",
            "'x'",
            "DAY",
            "DAY_SECOND",
            "CASE",
            "WHEN",
            "THEN",
            "END",
            "-",
            "+",
            "*",
            "/",
            "DATE_ADD",
            "DATE_SUB",
            "ADDDATE",
            "CURRENT_TIMESTAMP",
            "CURRENT_DATE",
            "LOCALTIME",
            "EXTRACT",
            "FROM",
            "TIMESTAMPDIFF",
            "TIMESTAMPADD",
            "a",
            ".",
            "b",
            "SELECT",
            "DEFAULT",
            "ON",
            "UPDATE",
            "?",
            "@x",
            "@@y",
            "`q`",
            "NOW()",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as usize) % n
        };
        for _ in 0..20_000 {
            let len = 1 + next(14);
            let sql: Vec<&str> = (0..len).map(|_| WORDS[next(WORDS.len())]).collect();
            let sql = sql.join(" ");
            let Ok(toks) = super::super::rewrite::tokenize(&sql) else {
                continue;
            };
            let out = mysql_syntax(toks);
            let text: String = out.iter().map(|t| t.token.to_string()).collect();
            assert!(text.len() < sql.len() * 8 + 200, "{sql} → {text}");
            let _ = restore_names(&text);
        }
    }

    #[test]
    fn names_are_restored() {
        assert_eq!(restore_names("minnow_div(7, 2, '7 DIV 2')"), "7 DIV 2");
        assert_eq!(
            restore_names("minnow_div(2, (minnow_mod(7, 4, '7 MOD 4')), '2 DIV (7 MOD 4)') + 1"),
            "2 DIV (7 MOD 4) + 1"
        );
        assert_eq!(
            restore_names(
                "minnow_date_add('2024-01-31', 1, 'MONTH', 1, 'DATE_ADD(''2024-01-31'', INTERVAL 1 MONTH)')"
            ),
            "DATE_ADD('2024-01-31', INTERVAL 1 MONTH)"
        );
        assert_eq!(restore_names("plain"), "plain");
        assert_eq!(restore_names("minnow_broken("), "minnow_broken(");
    }
}
