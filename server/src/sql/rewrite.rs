//! MySQL text → SQLite text, token by token (sqlparser's tokenizer).
//!
//! Backticks become double-quoted identifiers, double-quoted strings become
//! string literals, `@@vars`, `@uservars` and session functions
//! (`DATABASE()`, `CONNECTION_ID()`, …) become literal values wrapped in
//! `minnow_v(value, 'original text')` so the result column keeps MySQL's
//! name, and `CREATE TABLE` loses the MySQL-only parts (`AUTO_INCREMENT`,
//! `ENGINE=`, `KEY idx (…)`, …).

use std::borrow::Cow;

use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace, Word};

use crate::error::SqlError;
use crate::protocol::Cell;

/// The server version as versioned comments compare it (8.0.99).
const SERVER_VERSION_ID: u32 = 80099;

/// Removes MySQL versioned comments (`/*!50002 GLOBAL */` → ` GLOBAL `).
pub fn strip_versioned_comments(sql: &str) -> Cow<'_, str> {
    if !sql.contains("/*!") && !sql.contains("/*M!") {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        if let Some(q) = quote {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            if c == '\\' {
                if let Some(n) = rest.chars().next() {
                    out.push(n);
                    rest = &rest[n.len_utf8()..];
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        let skip = if rest.starts_with("/*!") {
            3
        } else if rest.starts_with("/*M!") {
            4
        } else {
            0
        };
        if skip > 0 {
            let after = &rest[skip..];
            let body = after.trim_start_matches(|c: char| c.is_ascii_digit());
            let version: u32 = after[..after.len() - body.len()].parse().unwrap_or(0);
            // `/*M!…*/` is MariaDB-only and `/*!NNNNN …*/` needs server version NNNNN:
            // for this server (MySQL 8.0.99) both are plain comments when they don't apply.
            let applies = skip == 3 && version <= SERVER_VERSION_ID;
            if let Some(end) = body.find("*/") {
                out.push(' ');
                if applies {
                    out.push_str(&body[..end]);
                    out.push(' ');
                }
                rest = &body[end + 2..];
                continue;
            }
            out.push_str(rest);
            break;
        }
        if c == '\'' || c == '"' || c == '`' {
            quote = Some(c);
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// Tokenizes MySQL text (1064 on a tokenizer error).
/// MySQL-only expression forms (`DIV`, `MOD`, `%`, `INTERVAL`, …) are rewritten
/// into calls SQLite runs ([`super::syntax::mysql_syntax`]).
pub fn tokenize(sql: &str) -> Result<Vec<TokenWithSpan>, SqlError> {
    Tokenizer::new(&MySqlDialect {}, sql)
        .tokenize_with_location()
        .map(super::syntax::mysql_syntax)
        .map_err(|e| SqlError::parse(sql, &e.to_string()))
}

/// What `/` becomes: MySQL's division is exact, SQLite's truncates integers.
/// Result-column names map it back to `/`.
pub const EXACT_DIV: &str = "* 1.0 /";

/// A reference to a variable or session value found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// `@@[scope.]name`: scope is `global`, `session` or empty.
    SysVar(String, String),
    /// `@name`
    UserVar(String),
    /// A session function with no arguments (`DATABASE`, `USER`, …), upper-case.
    Func(String),
}

/// The rewritten statement.
#[derive(Debug, Default)]
pub struct Rewritten {
    /// SQLite text.
    pub sql: String,
    /// (text in `sql`, MySQL column name) pairs for result-column names.
    pub names: Vec<(String, String)>,
    /// First parts of `a.b` names (possible database references).
    pub qualifiers: Vec<String>,
    /// information_schema tables referenced (upper-case).
    pub info_schema: Vec<String>,
    /// Number of `?` placeholders.
    pub placeholders: usize,
}

const SESSION_FUNCS: &[&str] = &[
    "DATABASE",
    "SCHEMA",
    "USER",
    "CURRENT_USER",
    "SESSION_USER",
    "SYSTEM_USER",
    "CONNECTION_ID",
    "VERSION",
    "LAST_INSERT_ID",
    "FOUND_ROWS",
    "ROW_COUNT",
];

/// Modifiers MySQL accepts right after SELECT, dropped for SQLite.
const SELECT_MODIFIERS: &[&str] = &[
    "SQL_NO_CACHE",
    "SQL_CACHE",
    "SQL_BUFFER_RESULT",
    "SQL_SMALL_RESULT",
    "SQL_BIG_RESULT",
    "HIGH_PRIORITY",
    "STRAIGHT_JOIN",
    "SQL_CALC_FOUND_ROWS",
];

/// Quotes a string as an SQLite literal.
pub fn quote_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('\'');
    for c in s.chars() {
        if c == '\'' {
            o.push('\'');
        }
        o.push(c);
    }
    o.push('\'');
    o
}

/// A cell as an SQLite literal.
pub fn literal(c: &Cell) -> String {
    match c {
        Cell::Null => "NULL".into(),
        Cell::Integer(i) => i.to_string(),
        Cell::Real(f) => format!("{f:?}"),
        Cell::Text(s) => quote_str(s),
        Cell::Blob(b) => {
            let mut s = String::from("X'");
            for x in b {
                s.push_str(&format!("{x:02X}"));
            }
            s.push('\'');
            s
        }
    }
}

/// `s` as a double-quoted SQLite identifier.
pub(super) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn word_text(w: &Word) -> String {
    match w.quote_style {
        Some(_) => quote_ident(&w.value),
        None => w.value.clone(),
    }
}

fn is_ws(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

fn next_non_ws(toks: &[TokenWithSpan], mut i: usize) -> Option<usize> {
    while i < toks.len() {
        if !is_ws(&toks[i].token) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Rewrites tokens into SQLite text. `resolve` gives the value of a
/// variable or session function.
pub fn to_sqlite(
    toks: &[TokenWithSpan],
    resolve: &mut dyn FnMut(&Ref) -> Result<Cell, SqlError>,
) -> Result<Rewritten, SqlError> {
    let mut out = Rewritten::default();
    let mut s = String::with_capacity(toks.len() * 6);
    let mut upsert = false;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i].token;
        match t {
            Token::Word(w) if w.quote_style.is_none() && w.value.starts_with("@@") => {
                let mut scope = String::new();
                let mut name = w.value[2..].to_string();
                let mut orig = w.value.clone();
                let lower = name.to_ascii_lowercase();
                if matches!(lower.as_str(), "global" | "session" | "local") {
                    if let (Some(Token::Period), Some(Token::Word(n))) = (
                        toks.get(i + 1).map(|t| &t.token),
                        toks.get(i + 2).map(|t| &t.token),
                    ) {
                        scope = if lower == "local" {
                            "session".into()
                        } else {
                            lower
                        };
                        orig = format!("{}.{}", w.value, n.value);
                        name = n.value.clone();
                        i += 2;
                    }
                }
                let v = resolve(&Ref::SysVar(scope, name))?;
                push_value(&mut s, &mut out, &v, &orig);
            }
            Token::Word(w)
                if w.quote_style.is_none() && w.value.starts_with('@') && w.value.len() > 1 =>
            {
                let v = resolve(&Ref::UserVar(w.value[1..].to_ascii_lowercase()))?;
                push_value(&mut s, &mut out, &v, &w.value);
            }
            Token::AtSign => {
                // `@name` tokenized as AtSign + Word, or `@'name'`.
                match toks.get(i + 1).map(|t| &t.token) {
                    Some(Token::Word(w)) => {
                        let v = resolve(&Ref::UserVar(w.value.to_ascii_lowercase()))?;
                        push_value(&mut s, &mut out, &v, &format!("@{}", w.value));
                        i += 1;
                    }
                    Some(Token::SingleQuotedString(n)) => {
                        let v = resolve(&Ref::UserVar(n.to_ascii_lowercase()))?;
                        push_value(&mut s, &mut out, &v, &format!("@'{n}'"));
                        i += 1;
                    }
                    _ => s.push('@'),
                }
            }
            Token::Word(w)
                if w.quote_style.is_none()
                    && SESSION_FUNCS
                        .iter()
                        .any(|f| w.value.eq_ignore_ascii_case(f)) =>
            {
                let lp = next_non_ws(toks, i + 1);
                let rp = lp.and_then(|j| next_non_ws(toks, j + 1));
                let prev_period = i > 0 && matches!(toks[i - 1].token, Token::Period);
                match (lp.map(|j| &toks[j].token), rp.map(|j| &toks[j].token)) {
                    (Some(Token::LParen), Some(Token::RParen)) if !prev_period => {
                        let v = resolve(&Ref::Func(w.value.to_ascii_uppercase()))?;
                        push_value(&mut s, &mut out, &v, &format!("{}()", w.value));
                        i = rp.unwrap_or(i);
                    }
                    _ => s.push_str(&word_text(w)),
                }
            }
            Token::Word(w) => {
                if let (Some(Token::Period), Some(Token::Word(n))) = (
                    toks.get(i + 1).map(|t| &t.token),
                    toks.get(i + 2).map(|t| &t.token),
                ) {
                    let prev_period = i > 0 && matches!(toks[i - 1].token, Token::Period);
                    if !prev_period {
                        if w.value.eq_ignore_ascii_case("information_schema") {
                            out.info_schema.push(n.value.to_ascii_uppercase());
                            s.push_str("information_schema");
                            i += 1;
                            continue;
                        }
                        out.qualifiers.push(w.value.clone());
                    }
                }
                if w.quote_style.is_none()
                    && SELECT_MODIFIERS
                        .iter()
                        .any(|m| w.value.eq_ignore_ascii_case(m))
                {
                    // SELECT SQL_NO_CACHE …: MySQL's hints; SQLite has none of them.
                    let prev = toks[..i].iter().rev().find(|t| !is_ws(&t.token));
                    if prev.is_some_and(|t| {
                        kw(&t.token, "SELECT") || SELECT_MODIFIERS.iter().any(|m| kw(&t.token, m))
                    }) {
                        i += 1;
                        continue;
                    }
                }
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("FROM") {
                    // FROM DUAL: SQLite has no DUAL table.
                    if let Some(k) = next_non_ws(toks, i + 1) {
                        if kw(&toks[k].token, "DUAL") {
                            i = k + 1;
                            continue;
                        }
                    }
                }
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("ON") {
                    // ON DUPLICATE KEY UPDATE → ON CONFLICT DO UPDATE SET
                    let k1 = next_non_ws(toks, i + 1);
                    let k2 = k1.and_then(|k| next_non_ws(toks, k + 1));
                    let k3 = k2.and_then(|k| next_non_ws(toks, k + 1));
                    if let (Some(a), Some(b), Some(c)) = (k1, k2, k3) {
                        if kw(&toks[a].token, "DUPLICATE")
                            && kw(&toks[b].token, "KEY")
                            && kw(&toks[c].token, "UPDATE")
                        {
                            s.push_str("ON CONFLICT DO UPDATE SET");
                            upsert = true;
                            i = c + 1;
                            continue;
                        }
                    }
                }
                if upsert && w.quote_style.is_none() && w.value.eq_ignore_ascii_case("VALUES") {
                    // VALUES(col) in the update list → excluded.col
                    let a = next_non_ws(toks, i + 1);
                    let b = a.and_then(|k| next_non_ws(toks, k + 1));
                    let c = b.and_then(|k| next_non_ws(toks, k + 1));
                    if let (Some(a), Some(b), Some(c)) = (a, b, c) {
                        if let (Token::LParen, Token::Word(col), Token::RParen) =
                            (&toks[a].token, &toks[b].token, &toks[c].token)
                        {
                            s.push_str("excluded.");
                            s.push_str(&word_text(col));
                            i = c + 1;
                            continue;
                        }
                    }
                }
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("IGNORE") {
                    // INSERT IGNORE → INSERT OR IGNORE
                    let prev = toks[..i].iter().rev().find(|t| !is_ws(&t.token));
                    if let Some(TokenWithSpan {
                        token: Token::Word(p),
                        ..
                    }) = prev
                    {
                        if p.value.eq_ignore_ascii_case("INSERT") {
                            s.push_str("OR IGNORE");
                            i += 1;
                            continue;
                        }
                    }
                }
                s.push_str(&word_text(w));
            }
            Token::DoubleQuotedString(v) | Token::SingleQuotedString(v) => {
                // MySQL concatenates adjacent literals: 'a' 'b' is 'ab'.
                let mut text = v.clone();
                let mut j = i + 1;
                while let Some(k) = next_non_ws(toks, j) {
                    match &toks[k].token {
                        Token::SingleQuotedString(n) | Token::DoubleQuotedString(n) => {
                            text.push_str(n);
                            i = k;
                            j = k + 1;
                        }
                        _ => break,
                    }
                }
                s.push_str(&quote_str(&text));
            }
            Token::Placeholder(p) => {
                out.placeholders += 1;
                s.push_str(p);
            }
            Token::Whitespace(Whitespace::SingleLineComment { .. })
            | Token::Whitespace(Whitespace::MultiLineComment(_)) => s.push(' '),
            Token::SemiColon => {
                // A trailing `;` is dropped; anything after it is an error.
                if toks[i + 1..].iter().any(|t| !is_ws(&t.token)) {
                    return Err(SqlError::parse(
                        &s,
                        "multiple statements in one query are not supported",
                    ));
                }
            }
            Token::EOF => {}
            // MySQL's `/` always divides exactly (7 / 2 = 3.5); SQLite's truncates integers.
            Token::Div => s.push_str(EXACT_DIV),
            other => s.push_str(&other.to_string()),
        }
        i += 1;
    }
    out.sql = s;
    Ok(out)
}

fn push_value(s: &mut String, out: &mut Rewritten, v: &Cell, orig: &str) {
    let text = format!("minnow_v({}, {})", literal(v), quote_str(orig));
    s.push_str(&text);
    out.names.push((text, orig.to_string()));
}

/// Replaces `db.` qualifiers naming the current database by `main.`
/// (the session's SQLite connection has the current database as `main`).
pub fn map_current_db(toks: &[TokenWithSpan], db: Option<&str>) -> Vec<TokenWithSpan> {
    let mut v = toks.to_vec();
    let Some(db) = db else { return v };
    if db.eq_ignore_ascii_case("information_schema") {
        // information_schema is attached under its own name, never as `main`.
        return v;
    }
    for i in 0..v.len() {
        let prev_period = i > 0 && matches!(v[i - 1].token, Token::Period);
        let next_period = matches!(v.get(i + 1).map(|t| &t.token), Some(Token::Period));
        if let Token::Word(w) = &v[i].token {
            if next_period && !prev_period && w.value == db {
                v[i].token = Token::make_word("main", None);
            }
        }
    }
    v
}

/// The table-level `CHECK` constraints of a stored `CREATE TABLE` text, as
/// MySQL text (`CHECK (a % 2 = 0)`, `CONSTRAINT c CHECK (…)`).
pub fn table_checks(sqlite_sql: &str) -> Vec<String> {
    let Ok(toks) = Tokenizer::new(&MySqlDialect {}, sqlite_sql).tokenize_with_location() else {
        return vec![];
    };
    let Some(open) = toks.iter().position(|t| t.token == Token::LParen) else {
        return vec![];
    };
    let Some(close) = matching_paren(&toks, open) else {
        return vec![];
    };
    let mut out = Vec::new();
    for (a, b) in split_top(&toks, open, close) {
        let sig = text_of(&toks[a..b]);
        let is_check = sig.first().is_some_and(|t| kw(t, "CHECK"))
            || (sig.first().is_some_and(|t| kw(t, "CONSTRAINT"))
                && sig.get(2).is_some_and(|t| kw(t, "CHECK")));
        if is_check {
            let raw: String = toks[a..b].iter().map(|t| t.token.to_string()).collect();
            out.push(super::syntax::restore_names(raw.trim()));
        }
    }
    out
}

/// Splits a parenthesised list at top-level commas: token index ranges.
fn split_top(toks: &[TokenWithSpan], open: usize, close: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = open + 1;
    for (j, t) in toks.iter().enumerate().take(close).skip(open + 1) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Comma if depth == 0 => {
                parts.push((start, j));
                start = j + 1;
            }
            _ => {}
        }
    }
    parts.push((start, close));
    parts
}

fn matching_paren(toks: &[TokenWithSpan], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, t) in toks.iter().enumerate().skip(open) {
        match t.token {
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

fn kw(t: &Token, k: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
}

/// Words after which `(` starts a column list, not type arguments.
fn is_constraint_word(t: Option<&Token>) -> bool {
    t.is_some_and(|t| {
        ["KEY", "UNIQUE", "CHECK", "ON", "REFERENCES", "INDEX"]
            .iter()
            .any(|k| kw(t, k))
    })
}

fn text_of(toks: &[TokenWithSpan]) -> Vec<Token> {
    toks.iter()
        .filter(|t| !is_ws(&t.token))
        .map(|t| t.token.clone())
        .collect()
}

fn render(toks: &[Token]) -> String {
    let mut s = String::new();
    let mut prev: Option<&Token> = None;
    for t in toks {
        let no_space = matches!(t, Token::RParen | Token::Comma | Token::Period)
            || matches!(prev, Some(Token::LParen | Token::Period))
            || (matches!(t, Token::LParen)
                && matches!(prev, Some(Token::Word(_)))
                && !is_constraint_word(prev));
        if !s.is_empty() && !no_space {
            s.push(' ');
        }
        prev = Some(t);
        match t {
            Token::Word(w) => s.push_str(&word_text(w)),
            Token::SingleQuotedString(v) | Token::DoubleQuotedString(v) => {
                s.push_str(&quote_str(v))
            }
            other => s.push_str(&other.to_string()),
        }
    }
    s
}

/// Rewrites `CREATE TABLE` for SQLite. Returns the statement plus any
/// `CREATE INDEX` statements for MySQL inline `KEY`/`INDEX` definitions.
pub fn create_table(toks: &[TokenWithSpan]) -> Result<String, SqlError> {
    let open = toks.iter().position(|t| t.token == Token::LParen);
    let Some(open) = open else {
        // CREATE TABLE … AS SELECT / LIKE: plain rewrite.
        return Ok(to_sqlite(toks, &mut |_| Ok(Cell::Null))?.sql);
    };
    let close =
        matching_paren(toks, open).ok_or_else(|| SqlError::parse("", "unbalanced parentheses"))?;
    let head = render(&text_of(&toks[..open]));
    // Table name: the last word before '(' (possibly qualified).
    let head_toks = text_of(&toks[..open]);
    let n = head_toks.len();
    let table_name = match (n.checked_sub(3).map(|i| &head_toks[i..]), head_toks.last()) {
        (Some([Token::Word(_), Token::Period, Token::Word(_)]), _) => render(&head_toks[n - 3..]),
        (_, Some(t @ Token::Word(_))) => render(std::slice::from_ref(t)),
        _ => return Err(SqlError::parse("", "CREATE TABLE: table name expected")),
    };
    let parts = split_top(toks, open, close);
    let mut auto_col: Option<String> = None;
    let mut defs: Vec<Vec<Token>> = Vec::new();
    let mut indexes = Vec::new();
    for (a, b) in parts {
        let p = text_of(&toks[a..b]);
        if p.is_empty() {
            continue;
        }
        let first = &p[0];
        let unique = kw(first, "UNIQUE");
        if unique
            || kw(first, "KEY")
            || kw(first, "INDEX")
            || kw(first, "FULLTEXT")
            || kw(first, "SPATIAL")
        {
            // [UNIQUE] KEY [name] (cols) → CREATE [UNIQUE] INDEX <table>_<name>
            // (SQLite's index names are per database, MySQL's per table).
            let lp = p
                .iter()
                .position(|t| *t == Token::LParen)
                .unwrap_or(p.len());
            let cols_toks = strip_key_lengths(&p[lp..]);
            // MySQL names an unnamed key after its first column.
            let first_col = cols_toks.iter().find_map(|t| match t {
                Token::Word(w) => Some(w.value.clone()),
                _ => None,
            });
            let name = p[1..lp]
                .iter()
                .filter(|t| !kw(t, "KEY") && !kw(t, "INDEX"))
                .find_map(|t| {
                    if let Token::Word(w) = t {
                        Some(w.value.clone())
                    } else {
                        None
                    }
                })
                .or(first_col)
                .unwrap_or_else(|| format!("idx{}", indexes.len() + 1));
            let cols = render(&cols_toks);
            let bare_table = table_name
                .rsplit('.')
                .next()
                .unwrap_or(&table_name)
                .trim_matches('"')
                .to_string();
            let schema = table_name
                .rsplit_once('.')
                .map(|x| format!("{}.", x.0))
                .unwrap_or_default();
            indexes.push(format!(
                "CREATE {}INDEX IF NOT EXISTS {schema}{} ON {} {cols}",
                if unique { "UNIQUE " } else { "" },
                quote_ident(&format!("{bare_table}_{name}")),
                quote_ident(&bare_table)
            ));
            continue;
        }
        if kw(first, "PRIMARY")
            || kw(first, "CONSTRAINT")
            || kw(first, "FOREIGN")
            || kw(first, "CHECK")
        {
            defs.push(p);
            continue;
        }
        // A column definition.
        // `SERIAL` is BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE.
        let is_auto = p
            .iter()
            .any(|t| kw(t, "AUTO_INCREMENT") || kw(t, "AUTOINCREMENT"))
            || p.get(1).is_some_and(|t| kw(t, "SERIAL"));
        let mut col = Vec::new();
        col.push(p[0].clone());
        let mut j = 1;
        // The type: a word, optional (…), optional modifiers.
        let mut ty = Vec::new();
        if j < p.len() {
            ty.push(p[j].clone());
            j += 1;
            if j < p.len() && p[j] == Token::LParen {
                let mut depth = 0;
                while j < p.len() {
                    let t = p[j].clone();
                    if t == Token::LParen {
                        depth += 1;
                    }
                    if t == Token::RParen {
                        depth -= 1;
                    }
                    ty.push(t);
                    j += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            while j < p.len()
                && (kw(&p[j], "UNSIGNED")
                    || kw(&p[j], "SIGNED")
                    || kw(&p[j], "ZEROFILL")
                    || kw(&p[j], "PRECISION")
                    || kw(&p[j], "VARYING"))
            {
                ty.push(p[j].clone());
                j += 1;
            }
        }
        let ty_is_enum = ty.first().is_some_and(|t| kw(t, "ENUM") || kw(t, "SET"));
        let collate = super::collation::for_column(&ty, &p[j..]).filter(|_| !is_auto);
        if is_auto {
            if let Token::Word(w) = &p[0] {
                auto_col = Some(w.value.clone());
            }
            col.push(Token::make_word("INTEGER", None));
            col.push(Token::make_keyword("PRIMARY"));
            col.push(Token::make_keyword("KEY"));
            col.push(Token::make_keyword("AUTOINCREMENT"));
        } else if ty_is_enum {
            col.push(Token::make_word("TEXT", None));
        } else {
            col.extend(ty);
        }
        if let Some(c) = collate {
            col.push(Token::make_keyword("COLLATE"));
            col.push(Token::make_word(c, None));
        }
        while j < p.len() {
            let t = &p[j];
            if kw(t, "AUTO_INCREMENT") || kw(t, "AUTOINCREMENT") {
                j += 1;
            } else if (is_auto && kw(t, "PRIMARY")) || kw(t, "COMMENT") {
                j += 2;
            } else if kw(t, "CHARACTER") {
                j += 3;
            } else if kw(t, "CHARSET") || kw(t, "COLLATE") {
                j += 2;
            } else if kw(t, "ON") && p.get(j + 1).is_some_and(|n| kw(n, "UPDATE")) {
                j += 3;
                if p.get(j) == Some(&Token::LParen) {
                    j += 2;
                }
            } else if kw(t, "KEY") && kw(&p[j - 1], "UNIQUE") {
                // `UNIQUE KEY` as a column option: SQLite spells it `UNIQUE`.
                j += 1;
            } else if kw(t, "KEY") && !kw(&p[j - 1], "PRIMARY") {
                // MySQL's `col INT KEY` means PRIMARY KEY.
                col.push(Token::make_keyword("PRIMARY"));
                col.push(t.clone());
                j += 1;
            } else {
                col.push(t.clone());
                j += 1;
            }
        }
        defs.push(col);
    }
    // Drop a separate PRIMARY KEY (auto_col): the column already is one.
    if let Some(a) = &auto_col {
        defs.retain(|d| {
            !(kw(&d[0], "PRIMARY")
                && d.iter().filter(|t| matches!(t, Token::Word(_))).count() == 3
                && d.iter()
                    .any(|t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(a))))
        });
    }
    // MySQL allows keys between columns; SQLite wants the columns first.
    let is_key = |d: &Vec<Token>| {
        ["PRIMARY", "CONSTRAINT", "FOREIGN", "CHECK", "UNIQUE"]
            .iter()
            .any(|k| kw(&d[0], k))
    };
    let (keys, cols): (Vec<_>, Vec<_>) = defs.into_iter().partition(is_key);
    let body: Vec<String> = cols.iter().chain(&keys).map(|d| render(d)).collect();
    let mut sql = format!("{head} ({})", body.join(", "));
    for ix in indexes {
        sql.push_str(";\n");
        sql.push_str(&ix);
    }
    Ok(sql)
}

/// `(a(10), b)` → `(a, b)`: SQLite has no prefix indexes.
fn strip_key_lengths(p: &[Token]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut j = 0;
    while j < p.len() {
        if j > 0
            && p[j] == Token::LParen
            && matches!(p[j - 1], Token::Word(_))
            && matches!(p.get(j + 1), Some(Token::Number(..)))
            && p.get(j + 2) == Some(&Token::RParen)
        {
            j += 3;
            continue;
        }
        if kw(&p[j], "ASC")
            || kw(&p[j], "DESC")
            || kw(&p[j], "USING")
            || kw(&p[j], "BTREE")
            || kw(&p[j], "HASH")
        {
            j += 1;
            continue;
        }
        out.push(p[j].clone());
        j += 1;
    }
    // Keep only up to the closing paren of the column list.
    if let Some(end) = out.iter().position(|t| *t == Token::RParen) {
        out.truncate(end + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(sql: &str) -> Rewritten {
        let t = tokenize(sql).expect("tokens");
        to_sqlite(&t, &mut |r| {
            Ok(match r {
                Ref::SysVar(_, n) if n == "version_comment" => Cell::Text("Minnow".into()),
                Ref::SysVar(..) => Cell::Integer(7),
                Ref::UserVar(_) => Cell::Null,
                Ref::Func(f) => Cell::Text(f.clone()),
            })
        })
        .expect("rewrite")
    }

    #[test]
    fn identifiers_strings_and_variables() {
        let r = rw("SELECT `a b`, \"str\", 'it''s' FROM `t` WHERE x = 'a\\'b'");
        assert_eq!(
            r.sql,
            "SELECT \"a b\", 'str', 'it''s' FROM \"t\" WHERE x = 'a''b'"
        );
        let r = rw("select @@version_comment limit 1");
        assert_eq!(
            r.sql,
            "select minnow_v('Minnow', '@@version_comment') limit 1"
        );
        assert_eq!(r.names[0].1, "@@version_comment");
        let r = rw("SELECT @@global.max_allowed_packet, DATABASE(), @x");
        assert!(
            r.sql.contains("minnow_v(7, '@@global.max_allowed_packet')"),
            "{}",
            r.sql
        );
        assert!(
            r.sql.contains("minnow_v('DATABASE', 'DATABASE()')"),
            "{}",
            r.sql
        );
        assert!(r.sql.contains("minnow_v(NULL, '@x')"), "{}", r.sql);
        let r = rw("select * from shop.items join information_schema.processlist p");
        assert_eq!(r.qualifiers, vec!["shop".to_string()]);
        assert_eq!(r.info_schema, vec!["PROCESSLIST".to_string()]);
        assert_eq!(rw("INSERT IGNORE INTO t VALUES (?, ?)").placeholders, 2);
        assert!(
            rw("INSERT IGNORE INTO t VALUES (1)")
                .sql
                .contains("INSERT OR IGNORE INTO")
        );
    }

    #[test]
    fn division_is_exact() {
        let c = rusqlite::Connection::open_in_memory().expect("db");
        for (expr, want) in [
            ("7 / 2", 3.5),
            ("1 + 7 / 2 * 2", 8.0),
            ("(1 + 2) / 4 / 2", 0.375),
            ("-9 / 2", -4.5),
        ] {
            let sql = rw(&format!("SELECT {expr}")).sql;
            let got: f64 = c.query_row(&sql, [], |r| r.get(0)).expect(&sql);
            assert_eq!(got, want, "{expr} → {sql}");
        }
    }

    #[test]
    fn mysql_only_syntax() {
        assert_eq!(rw("SELECT 'a' 'b' \"c\"").sql, "SELECT 'abc'");
        assert_eq!(rw("SELECT 1 FROM DUAL").sql.trim(), "SELECT 1");
        assert_eq!(
            rw("SELECT /*!40001 SQL_NO_CACHE */ a FROM t")
                .sql
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["SELECT", "a", "FROM", "t"]
        );
        let r = rw(
            "INSERT INTO t (id, c) VALUES (1, 'z') ON DUPLICATE KEY UPDATE c = VALUES(c), n = n + 1",
        );
        assert_eq!(
            r.sql,
            "INSERT INTO t (id, c) VALUES (1, 'z') ON CONFLICT DO UPDATE SET c = excluded.c, n = n + 1"
        );
        let c = rusqlite::Connection::open_in_memory().expect("db");
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT, n INT DEFAULT 0)")
            .expect("t");
        c.execute_batch(&r.sql).expect("first");
        c.execute_batch(&r.sql).expect("second");
        let n: i64 = c.query_row("SELECT n FROM t", [], |r| r.get(0)).expect("n");
        assert_eq!(n, 1);
    }

    #[test]
    fn checks_of_a_stored_table() {
        assert_eq!(
            table_checks(
                "CREATE TABLE t (a INT CHECK (a > 0), b INT, CHECK (minnow_mod(a, 2, 'a % 2') = 0), CONSTRAINT c CHECK (b < 9))"
            ),
            ["CHECK (a % 2 = 0)", "CONSTRAINT c CHECK (b < 9)"]
        );
        assert!(table_checks("CREATE TABLE t (a INT)").is_empty());
        assert!(table_checks("garbage ((").is_empty());
    }

    #[test]
    fn versioned_comments() {
        let s = strip_versioned_comments("SHOW /*!50002 GLOBAL */ STATUS");
        assert_eq!(
            s.split_whitespace().collect::<Vec<_>>(),
            ["SHOW", "GLOBAL", "STATUS"]
        );
        assert_eq!(
            strip_versioned_comments("SELECT '/*!1 x */'"),
            "SELECT '/*!1 x */'"
        );
        let s = strip_versioned_comments(
            "/*M!999999\\- enable the sandbox mode */ SELECT 1 /*!90000 , 2 */",
        );
        assert_eq!(s.split_whitespace().collect::<Vec<_>>(), ["SELECT", "1"]);
        let s = strip_versioned_comments("SELECT 'é\\é' /*!40101 , 'ü' */");
        assert_eq!(
            s.split_whitespace().collect::<Vec<_>>(),
            ["SELECT", "'é\\é'", ",", "'ü'"]
        );
    }

    #[test]
    fn create_table_mysql_to_sqlite() {
        let t = tokenize(
            "CREATE TABLE `t1` (`id` int(11) unsigned NOT NULL AUTO_INCREMENT, name varchar(64) CHARACTER SET utf8mb4 COMMENT 'n', \
             kind ENUM('a','b') DEFAULT 'a', PRIMARY KEY (`id`), KEY `by_name` (name(10)), UNIQUE KEY u (kind)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        )
        .expect("tokens");
        let sql = create_table(&t).expect("rewrite");
        let c = rusqlite::Connection::open_in_memory().expect("db");
        super::super::collation::register(&c).expect("collations");
        c.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.execute("INSERT INTO t1(name) VALUES ('x')", [])
            .expect("insert");
        let id: i64 = c
            .query_row("SELECT id FROM t1", [], |r| r.get(0))
            .expect("id");
        assert_eq!(id, 1);
        assert!(
            sql.contains("CREATE INDEX IF NOT EXISTS \"t1_by_name\""),
            "{sql}"
        );
        assert!(!sql.contains("ENGINE"), "{sql}");
        assert!(
            sql.contains("CREATE UNIQUE INDEX IF NOT EXISTS \"t1_u\" ON \"t1\" (kind)"),
            "{sql}"
        );
        // mariadb-slap's `id serial`.
        let t = tokenize("CREATE TABLE k (id INT PRIMARY KEY, u INT UNIQUE KEY)").expect("tokens");
        let sql = create_table(&t).expect("rewrite");
        assert!(sql.contains("id INT PRIMARY KEY,"), "{sql}");
        assert!(sql.contains("u INT UNIQUE)"), "{sql}");
        c.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let t = tokenize("CREATE TABLE k2 (v INT KEY)").expect("tokens");
        assert!(
            create_table(&t)
                .expect("rewrite")
                .contains("v INT PRIMARY KEY)")
        );
        let t = tokenize("CREATE TABLE `t2` (id serial,intcol1 INT(32) ,charcol1 VARCHAR(128))")
            .expect("tokens");
        let sql = create_table(&t).expect("rewrite");
        c.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.execute("INSERT INTO t2 VALUES (NULL, 1, 'a')", [])
            .expect("insert");
        let id: i64 = c
            .query_row("SELECT id FROM t2", [], |r| r.get(0))
            .expect("id");
        assert_eq!(id, 1);
    }
}
