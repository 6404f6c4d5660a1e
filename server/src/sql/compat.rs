//! MySQL statement forms that sqlparser or SQLite lack, adapted before the
//! ordinary path sees them: `INSERT … SET`, `INSERT IGNORE` with warnings,
//! `UPDATE/DELETE … ORDER BY … LIMIT`, multi-table `DELETE`, `SELECT … FOR
//! UPDATE` / `LOCK IN SHARE MODE` (accepted and ignored: SQLite serializes
//! writers, so every transaction already sees no concurrent writer), and the
//! DDL and table-maintenance statements of [`super::ddl`] and [`super::maint`].
//!
//! [`intercept`] runs on the tokens of every statement that missed the plan
//! cache; it returns `None` for statements it leaves to the ordinary path.

use mysql_common::constants::ColumnType;
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::{Outcome, rewrite};
use crate::error::{SqlError, code};
use crate::protocol::Cell;
use crate::session::Session;
use crate::status::Com;

/// Whether `t` is the unquoted keyword `k`.
pub(super) fn kw(t: &Token, k: &str) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
}

/// The significant tokens (no whitespace, no EOF, no trailing `;`).
pub(super) fn sig(toks: &[TokenWithSpan]) -> Vec<Token> {
    let mut v: Vec<Token> = toks
        .iter()
        .map(|t| t.token.clone())
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
        .collect();
    while v.last() == Some(&Token::SemiColon) {
        v.pop();
    }
    v
}

/// Quotes `s` as a MySQL string literal.
pub(super) fn mysql_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('\'');
    for c in s.chars() {
        match c {
            '\'' => o.push_str("''"),
            '\\' => o.push_str("\\\\"),
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}

/// Quotes `s` as a MySQL identifier.
pub(super) fn mysql_ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// A cell as a MySQL literal.
pub(super) fn mysql_literal(c: &Cell) -> String {
    match c {
        Cell::Text(s) => mysql_str(s),
        other => rewrite::literal(other),
    }
}

/// Tokens back to MySQL text (no space around `.`, inside parentheses or before `,`).
pub(super) fn mysql_text(toks: &[Token]) -> String {
    let mut s = String::new();
    let mut prev: Option<&Token> = None;
    for t in toks {
        let tight = matches!(t, Token::Period | Token::RParen | Token::Comma)
            || matches!(prev, Some(Token::Period | Token::LParen | Token::AtSign))
            || (matches!(t, Token::LParen) && matches!(prev, Some(Token::Word(_))));
        if !s.is_empty() && !tight {
            s.push(' ');
        }
        prev = Some(t);
        match t {
            Token::Word(w) if w.quote_style.is_some() => s.push_str(&mysql_ident(&w.value)),
            Token::SingleQuotedString(v) | Token::DoubleQuotedString(v) => {
                s.push_str(&mysql_str(v))
            }
            other => s.push_str(&other.to_string()),
        }
    }
    s
}

/// Index of the first top-level (depth 0) token at or after `from` for which `f` holds.
pub(super) fn find_top(
    toks: &[Token],
    from: usize,
    f: impl Fn(&[Token], usize) -> bool,
) -> Option<usize> {
    let mut depth = 0i32;
    for i in from..toks.len() {
        match toks[i] {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if depth == 0 && f(toks, i) => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits `toks` at top-level commas.
pub(super) fn split_commas(toks: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Comma if depth == 0 => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[start..]);
    out
}

/// The index of the `)` matching the `(` at `open`.
pub(super) fn close_paren(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_seq(toks: &[Token], i: usize, words: &[&str]) -> bool {
    words
        .iter()
        .enumerate()
        .all(|(k, w)| toks.get(i + k).is_some_and(|t| kw(t, w)))
}

/// The text a prepared statement runs instead of `text` (`INSERT … SET`,
/// locking reads, `UPDATE/DELETE … LIMIT`), or `None` to keep it.
pub(super) fn adapt_for_prepare(text: &str) -> Option<String> {
    let mut t = sig(&rewrite::tokenize(text).ok()?);
    let first = t.first()?.clone();
    if kw(&first, "SELECT") || kw(&first, "WITH") || first == Token::LParen {
        return strip_locking(&t);
    }
    if !["INSERT", "REPLACE", "UPDATE", "DELETE"]
        .iter()
        .any(|k| kw(&first, k))
    {
        return None;
    }
    let normalized = normalize_dml(&t);
    let changed = normalized.is_some();
    if let Some(n) = normalized {
        t = n;
    }
    let adapted = if kw(&first, "UPDATE") {
        update_limit(&t).or_else(|| update_multi(&t).ok().flatten())
    } else if kw(&first, "DELETE") {
        match delete_rewrite(&t) {
            Ok(Some(DeletePlan::One(d))) => Some(d),
            _ => None,
        }
    } else {
        insert_set_to_values(&t).or_else(|| empty_values(&t).map(|n| mysql_text(&n)))
    };
    adapted.or_else(|| changed.then(|| mysql_text(&t)))
}

/// True for the common INSERT/REPLACE/SELECT that needs no adaptation, found
/// without copying tokens (these statements are the hot path).
fn plain_fast_path(toks: &[TokenWithSpan]) -> bool {
    let mut words = toks
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)));
    let Some(first) = words.next() else {
        return false;
    };
    let triggers: &[&str] = if kw(&first.token, "INSERT") || kw(&first.token, "REPLACE") {
        &[
            "SET",
            "IGNORE",
            "VALUE",
            "DEFAULT",
            "AS",
            "LOW_PRIORITY",
            "DELAYED",
            "HIGH_PRIORITY",
        ]
    } else if kw(&first.token, "SELECT") {
        &["FOR", "LOCK"]
    } else {
        return false;
    };
    let mut prev_lparen = false;
    for t in words {
        if prev_lparen && t.token == Token::RParen {
            return false;
        }
        prev_lparen = t.token == Token::LParen;
        if triggers.iter().any(|k| kw(&t.token, k)) {
            return false;
        }
    }
    true
}

/// Runs `text` intercepted forms; `None` leaves the statement to the ordinary path.
pub(super) fn intercept(
    s: &mut Session,
    toks: &[TokenWithSpan],
    text: &str,
) -> Result<Option<Outcome>, SqlError> {
    if plain_fast_path(toks) {
        return Ok(None);
    }
    let t = sig(toks);
    let Some(first) = t.first() else {
        return Ok(None);
    };
    let w0 = match first {
        Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
        Token::LParen => "(".to_string(),
        _ => return Ok(None),
    };
    let w1 = match t.get(1) {
        Some(Token::Word(w)) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
        _ => String::new(),
    };
    match (w0.as_str(), w1.as_str()) {
        ("INSERT" | "REPLACE" | "UPDATE" | "DELETE", _) => s.dml_intercept(t, &w0, text),
        ("SELECT" | "(" | "WITH", _) => match strip_locking(&t) {
            Some(plain) => s.compat_dml(text, &plain, Com::Select, true).map(Some),
            None => Ok(None),
        },
        ("ANALYZE" | "OPTIMIZE" | "CHECK" | "REPAIR", "TABLE" | "NO_WRITE_TO_BINLOG" | "LOCAL") => {
            s.table_maintenance(&t).map(Some)
        }
        ("CHECKSUM", "TABLE") => s.checksum_table(&t).map(Some),
        ("SHOW", "COLLATION") => s.show_collation(&t[2..]).map(Some),
        ("XA", _) => Err(not_supported("XA transactions")),
        _ => {
            if matches!(w0.as_str(), "ALTER" | "DROP" | "CREATE" | "RENAME") {
                // Plans and result types cached for SELECTs may name a table this
                // changes.
                s.forget_cached();
            }
            s.ddl_intercept(&t, &w0, &w1)
        }
    }
}

fn com_insert(w0: &str) -> Com {
    if w0 == "REPLACE" {
        Com::Replace
    } else {
        Com::Insert
    }
}

/// `INSERT [IGNORE] [INTO] t SET a = 1, b = 2 [ON DUPLICATE KEY UPDATE …]`
/// → `INSERT … INTO t (a, b) VALUES (1, 2) …`.
pub(super) fn insert_set_to_values(t: &[Token]) -> Option<String> {
    // SET must come right after the table name: INSERT [mods] [INTO] name[.name] SET
    if !t
        .first()
        .is_some_and(|x| kw(x, "INSERT") || kw(x, "REPLACE"))
    {
        return None;
    }
    let mut i = 1;
    while t.get(i).is_some_and(|x| {
        ["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"]
            .iter()
            .any(|k| kw(x, k))
    }) {
        i += 1;
    }
    if !matches!(t.get(i), Some(Token::Word(_))) {
        return None;
    }
    i += 1;
    if t.get(i) == Some(&Token::Period) {
        i += 2;
    }
    if !t.get(i).is_some_and(|x| kw(x, "SET")) {
        return None;
    }
    let set = i;
    let end = find_top(t, set + 1, |t, k| {
        is_seq(t, k, &["ON", "DUPLICATE", "KEY", "UPDATE"])
    })
    .unwrap_or(t.len());
    let mut cols = Vec::new();
    let mut vals = Vec::new();
    for a in split_commas(&t[set + 1..end]) {
        let eq = a.iter().position(|x| *x == Token::Eq)?;
        cols.push(mysql_text(&a[..eq]));
        vals.push(mysql_text(&a[eq + 1..]));
    }
    Some(format!(
        "{} ({}) VALUES ({}) {}",
        mysql_text(&t[..set]),
        cols.join(", "),
        vals.join(", "),
        mysql_text(&t[end..])
    ))
}

/// A column of a table: name, declared type, default expression.
#[derive(Debug, Clone)]
struct ColumnInfo {
    name: String,
    decl: String,
    default: Option<String>,
}

/// Token-level MySQL-isms of INSERT/REPLACE/UPDATE/DELETE: priority and
/// `QUICK` modifiers (meaningless for SQLite) go, `VALUE (…)` becomes
/// `VALUES (…)`, and the row alias of `VALUES (…) AS new ON DUPLICATE KEY
/// UPDATE c = new.c` becomes `VALUES(c)`.
fn normalize_dml(t: &[Token]) -> Option<Vec<Token>> {
    // Most statements need none of this: look before copying.
    let modifier = t.iter().skip(1).take(4).any(|x| {
        ["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "QUICK"]
            .iter()
            .any(|k| kw(x, k))
    });
    let value_or_alias = t.iter().any(|x| kw(x, "VALUE") || kw(x, "AS"));
    if !modifier && !value_or_alias {
        return None;
    }
    let mut out = t.to_vec();
    let mut changed = false;
    let mut i = 1;
    while i < out.len() && i < 5 {
        let x = &out[i];
        if ["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "QUICK"]
            .iter()
            .any(|k| kw(x, k))
        {
            out.remove(i);
            changed = true;
        } else if kw(x, "IGNORE") {
            i += 1;
        } else {
            break;
        }
    }
    let insert = kw(&out[0], "INSERT") || kw(&out[0], "REPLACE");
    if insert {
        if let Some(v) = find_top(&out, 1, |t, k| {
            kw(&t[k], "VALUE") && t.get(k + 1) == Some(&Token::LParen)
        }) {
            out[v] = Token::make_keyword("VALUES");
            changed = true;
        }
        let dup = find_top(&out, 1, |t, k| {
            is_seq(t, k, &["ON", "DUPLICATE", "KEY", "UPDATE"])
        });
        if let Some(d) = dup {
            if d >= 2 && kw(&out[d - 2], "AS") {
                if let Token::Word(alias) = out[d - 1].clone() {
                    let mut tail: Vec<Token> = Vec::new();
                    let rest = &out[d + 4..];
                    let mut k = 0;
                    while k < rest.len() {
                        match (&rest[k], rest.get(k + 1), rest.get(k + 2)) {
                            (Token::Word(a), Some(Token::Period), Some(c @ Token::Word(_)))
                                if a.value.eq_ignore_ascii_case(&alias.value) =>
                            {
                                tail.extend([
                                    Token::make_keyword("VALUES"),
                                    Token::LParen,
                                    c.clone(),
                                    Token::RParen,
                                ]);
                                k += 3;
                            }
                            (x, _, _) => {
                                tail.push(x.clone());
                                k += 1;
                            }
                        }
                    }
                    let mut n = out[..d - 2].to_vec();
                    n.extend(out[d..d + 4].iter().cloned());
                    n.extend(tail);
                    out = n;
                    changed = true;
                }
            }
        }
    }
    changed.then_some(out)
}

/// `INSERT INTO t [()] VALUES ()` → `INSERT INTO t DEFAULT VALUES`.
fn empty_values(t: &[Token]) -> Option<Vec<Token>> {
    let v = find_top(t, 1, |t, k| kw(&t[k], "VALUES"))?;
    if t.get(v + 1) != Some(&Token::LParen)
        || t.get(v + 2) != Some(&Token::RParen)
        || t.len() != v + 3
    {
        return None;
    }
    let mut head = v;
    if head >= 2 && t[head - 2] == Token::LParen && t[head - 1] == Token::RParen {
        head -= 2;
    }
    let mut out = t[..head].to_vec();
    out.push(Token::make_keyword("DEFAULT"));
    out.push(Token::make_keyword("VALUES"));
    Some(out)
}

/// `SELECT … FOR UPDATE [OF t] [NOWAIT | SKIP LOCKED]`, `… FOR SHARE`,
/// `… LOCK IN SHARE MODE` → the SELECT alone.
fn strip_locking(t: &[Token]) -> Option<String> {
    let at = find_top(t, 0, |t, k| {
        is_seq(t, k, &["FOR", "UPDATE"])
            || is_seq(t, k, &["FOR", "SHARE"])
            || is_seq(t, k, &["LOCK", "IN", "SHARE", "MODE"])
    })?;
    // The clause runs to the end, or to a following locking clause/`)`.
    let rest = &t[at..];
    let ok = rest.iter().all(|x| {
        matches!(x, Token::Word(_) | Token::Comma | Token::Period)
            && !["SELECT", "FROM", "WHERE", "UNION", "LIMIT", "ORDER"]
                .iter()
                .any(|k| kw(x, k))
    });
    if !ok {
        return None;
    }
    Some(mysql_text(&t[..at]))
}

/// The position just after `UPDATE [LOW_PRIORITY] [IGNORE]` / `DELETE [mods] FROM`.
fn skip_words(t: &[Token], mut i: usize, words: &[&str]) -> usize {
    while t.get(i).is_some_and(|x| words.iter().any(|k| kw(x, k))) {
        i += 1;
    }
    i
}

/// Top-level ORDER BY / LIMIT of a single-table UPDATE or DELETE → a rowid subquery.
fn order_limit_at(t: &[Token], from: usize) -> Option<usize> {
    find_top(t, from, |t, k| {
        is_seq(t, k, &["ORDER", "BY"]) || kw(&t[k], "LIMIT")
    })
}

/// `UPDATE t SET … [WHERE c] ORDER BY … LIMIT n` →
/// `UPDATE t SET … WHERE rowid IN (SELECT rowid FROM t [WHERE c] ORDER BY … LIMIT n)`.
fn update_limit(t: &[Token]) -> Option<String> {
    let start = skip_words(t, 1, &["LOW_PRIORITY", "IGNORE"]);
    let set = find_top(t, start, |t, k| kw(&t[k], "SET"))?;
    let table = &t[start..set];
    if table.iter().any(|x| kw(x, "JOIN") || *x == Token::Comma) {
        return None;
    }
    let tail = order_limit_at(t, set)?;
    let where_at = find_top(&t[..tail], set, |t, k| kw(&t[k], "WHERE"));
    let (assign_end, cond) = match where_at {
        Some(w) => (w, mysql_text(&t[w..tail])),
        None => (tail, String::new()),
    };
    Some(format!(
        "{} WHERE rowid IN (SELECT rowid FROM {} {cond} {})",
        mysql_text(&t[..assign_end]),
        mysql_text(table),
        mysql_text(&t[tail..])
    ))
}

fn not_supported(what: &str) -> SqlError {
    SqlError::new(
        code::ER_NOT_SUPPORTED_YET,
        format!("This version of Minnow doesn't yet support '{what}'"),
    )
}

/// `UPDATE a [AS x] JOIN b [AS y] ON c … SET x.col = e, … [WHERE w]` (or
/// `UPDATE a, b SET …`) → SQLite's `UPDATE a AS x SET col = e FROM b AS y
/// WHERE c AND (w)`. Inner joins only; the assigned columns must all belong
/// to one table.
fn update_multi(t: &[Token]) -> Result<Option<String>, SqlError> {
    let start = skip_words(t, 1, &["LOW_PRIORITY", "IGNORE"]);
    let Some(set) = find_top(t, start, |t, k| kw(&t[k], "SET")) else {
        return Ok(None);
    };
    let refs = &t[start..set];
    if !refs.iter().any(|x| kw(x, "JOIN") || *x == Token::Comma) {
        return Ok(None);
    }
    if refs
        .iter()
        .any(|x| kw(x, "LEFT") || kw(x, "RIGHT") || kw(x, "NATURAL") || kw(x, "USING"))
    {
        return update_outer(t, set, refs).map(Some);
    }
    // Segments: `name [AS alias] [ON cond]`, split at JOIN keywords and commas.
    let mut segs: Vec<Vec<Token>> = vec![Vec::new()];
    let mut depth = 0i32;
    for x in refs {
        match x {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        let joiner = depth == 0 && (*x == Token::Comma || kw(x, "JOIN") || kw(x, "STRAIGHT_JOIN"));
        if joiner {
            segs.push(Vec::new());
        } else if !(depth == 0 && (kw(x, "INNER") || kw(x, "CROSS"))) {
            if let Some(last) = segs.last_mut() {
                last.push(x.clone());
            }
        }
    }
    let mut tables = Vec::new();
    let mut conds = Vec::new();
    for seg in segs.iter().filter(|s| !s.is_empty()) {
        let on = seg.iter().position(|x| kw(x, "ON"));
        let head = &seg[..on.unwrap_or(seg.len())];
        let Some((name, alias)) = table_refs(head).into_iter().next() else {
            return Err(SqlError::parse(&mysql_text(seg), "table name expected"));
        };
        tables.push((mysql_text(head), name, alias));
        if let Some(o) = on {
            conds.push(format!("({})", mysql_text(&seg[o + 1..])));
        }
    }
    let where_at = find_top(t, set, |t, k| kw(&t[k], "WHERE"));
    let assigns_end = where_at.unwrap_or(t.len());
    if order_limit_at(t, set).is_some() {
        return Err(SqlError::new(
            code::ER_WRONG_USAGE,
            "Incorrect usage of UPDATE and ORDER BY",
        ));
    }
    let mut target: Option<String> = None;
    let mut assigns = Vec::new();
    for a in split_commas(&t[set + 1..assigns_end]) {
        let eq = a
            .iter()
            .position(|x| *x == Token::Eq)
            .ok_or_else(|| SqlError::parse(&mysql_text(a), "= expected"))?;
        let lhs = &a[..eq];
        let col = match lhs {
            [Token::Word(q), Token::Period, c @ Token::Word(_)] => {
                match &target {
                    Some(tg) if !tg.eq_ignore_ascii_case(&q.value) => {
                        return Err(not_supported("UPDATE of several tables in one statement"));
                    }
                    _ => target = Some(q.value.clone()),
                }
                c.clone()
            }
            [c @ Token::Word(_)] => c.clone(),
            _ => return Err(SqlError::parse(&mysql_text(lhs), "column expected")),
        };
        assigns.push(format!(
            "{} = {}",
            mysql_text(&[col]),
            mysql_text(&a[eq + 1..])
        ));
    }
    let target = match target {
        Some(tg) => tg,
        None => tables
            .first()
            .map(|x| x.2.clone())
            .ok_or_else(|| SqlError::parse("", "table expected"))?,
    };
    let Some(ti) = tables
        .iter()
        .position(|x| x.2.eq_ignore_ascii_case(&target))
    else {
        return Err(SqlError::new(
            code::ER_UNKNOWN_TABLE,
            format!("Unknown table '{target}' in MULTI UPDATE"),
        ));
    };
    let (thead, _, _) = tables.remove(ti);
    let others: Vec<String> = tables.into_iter().map(|x| x.0).collect();
    if let Some(w) = where_at {
        conds.push(format!("({})", mysql_text(&t[w + 1..])));
    }
    let cond = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    Ok(Some(format!(
        "UPDATE {thead} SET {} FROM {}{cond}",
        assigns.join(", "),
        others.join(", ")
    )))
}

/// The assignments of a multi-table UPDATE: (target qualifier if any, column, value text).
fn multi_assignments(a: &[Token]) -> Result<Vec<(Option<String>, Token, String)>, SqlError> {
    let mut out = Vec::new();
    for a in split_commas(a) {
        let eq = a
            .iter()
            .position(|x| *x == Token::Eq)
            .ok_or_else(|| SqlError::parse(&mysql_text(a), "= expected"))?;
        let (q, col) = match &a[..eq] {
            [Token::Word(q), Token::Period, c @ Token::Word(_)] => {
                (Some(q.value.clone()), c.clone())
            }
            [c @ Token::Word(_)] => (None, c.clone()),
            other => return Err(SqlError::parse(&mysql_text(other), "column expected")),
        };
        out.push((q, col, mysql_text(&a[eq + 1..])));
    }
    Ok(out)
}

/// A multi-table UPDATE with outer joins: each assigned value is a correlated
/// subquery over the whole join, and the rows to update are those the join
/// and WHERE select:
/// `UPDATE a AS minnow_outer SET c = (SELECT e FROM refs WHERE x.rowid =
/// minnow_outer.rowid AND (w) LIMIT 1) WHERE rowid IN (SELECT x.rowid FROM refs WHERE w)`.
fn update_outer(t: &[Token], set: usize, refs: &[Token]) -> Result<String, SqlError> {
    let where_at = find_top(t, set, |t, k| kw(&t[k], "WHERE"));
    if order_limit_at(t, set).is_some() {
        return Err(SqlError::new(
            code::ER_WRONG_USAGE,
            "Incorrect usage of UPDATE and ORDER BY",
        ));
    }
    let assigns = multi_assignments(&t[set + 1..where_at.unwrap_or(t.len())])?;
    let mut target: Option<String> = None;
    for (q, _, _) in &assigns {
        match (q, &target) {
            (Some(q), Some(tg)) if !tg.eq_ignore_ascii_case(q) => {
                return Err(not_supported("UPDATE of several tables in one statement"));
            }
            (Some(q), _) => target = Some(q.clone()),
            _ => {}
        }
    }
    let all = table_refs(refs);
    let (name, alias) = match &target {
        Some(tg) => all
            .iter()
            .find(|(_, a)| a.eq_ignore_ascii_case(tg))
            .cloned(),
        None => all.first().cloned(),
    }
    .ok_or_else(|| {
        SqlError::new(
            code::ER_UNKNOWN_TABLE,
            format!(
                "Unknown table '{}' in MULTI UPDATE",
                target.clone().unwrap_or_default()
            ),
        )
    })?;
    let refs = mysql_text(refs);
    let w = where_at.map(|w| mysql_text(&t[w + 1..]));
    let alias = mysql_ident(&alias);
    let also = w
        .as_ref()
        .map(|w| format!(" AND ({w})"))
        .unwrap_or_default();
    let sets: Vec<String> = assigns
        .iter()
        .map(|(_, col, v)| {
            format!(
                "{} = (SELECT {v} FROM {refs} WHERE {alias}.rowid = minnow_outer.rowid{also} LIMIT 1)",
                mysql_text(std::slice::from_ref(col))
            )
        })
        .collect();
    let filter = w.map(|w| format!(" WHERE {w}")).unwrap_or_default();
    Ok(format!(
        "UPDATE {} AS minnow_outer SET {} WHERE rowid IN (SELECT {alias}.rowid FROM {refs}{filter})",
        mysql_text(&name),
        sets.join(", ")
    ))
}

/// A table reference in a FROM list: (name tokens, alias).
fn table_refs(refs: &[Token]) -> Vec<(Vec<Token>, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut expect_table = true;
    let mut depth = 0i32;
    while i < refs.len() {
        match &refs[i] {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Comma if depth == 0 => expect_table = true,
            x if depth == 0 && kw(x, "JOIN") => expect_table = true,
            Token::Word(w) if depth == 0 && expect_table => {
                let mut name = vec![refs[i].clone()];
                let mut alias = w.value.clone();
                if refs.get(i + 1) == Some(&Token::Period) {
                    if let Some(n @ Token::Word(nw)) = refs.get(i + 2) {
                        name.push(Token::Period);
                        name.push(n.clone());
                        alias = nw.value.clone();
                        i += 2;
                    }
                }
                let mut j = i + 1;
                if refs.get(j).is_some_and(|x| kw(x, "AS")) {
                    j += 1;
                }
                if let Some(Token::Word(a)) = refs.get(j) {
                    let reserved = [
                        "ON",
                        "USING",
                        "JOIN",
                        "INNER",
                        "LEFT",
                        "RIGHT",
                        "CROSS",
                        "NATURAL",
                        "STRAIGHT_JOIN",
                        "WHERE",
                        "OUTER",
                    ];
                    if a.quote_style.is_some()
                        || !reserved.iter().any(|k| a.value.eq_ignore_ascii_case(k))
                    {
                        alias = a.value.clone();
                        i = j;
                    }
                }
                out.push((name, alias));
                expect_table = false;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// `DELETE FROM t [WHERE c] ORDER BY … LIMIT n` and the multi-table forms
/// `DELETE a FROM a JOIN b …` / `DELETE FROM a USING a JOIN b …` → a rowid subquery.
fn delete_rewrite(t: &[Token]) -> Result<Option<DeletePlan>, SqlError> {
    let start = skip_words(t, 1, &["LOW_PRIORITY", "QUICK", "IGNORE"]);
    let from = find_top(t, start, |t, k| kw(&t[k], "FROM"));
    let Some(from) = from else { return Ok(None) };
    let using = find_top(t, from, |t, k| kw(&t[k], "USING"));
    let (targets, refs_start) = if from > start {
        // DELETE a[, b] FROM refs
        (&t[start..from], from + 1)
    } else if let Some(u) = using {
        (&t[from + 1..u], u + 1)
    } else {
        // Single table.
        let Some(tail) = order_limit_at(t, from) else {
            return Ok(None);
        };
        let where_at = find_top(&t[..tail], from, |t, k| kw(&t[k], "WHERE"));
        let table_end = where_at.unwrap_or(tail);
        let table = mysql_text(&t[from + 1..table_end]);
        let cond = where_at
            .map(|w| mysql_text(&t[w..tail]))
            .unwrap_or_default();
        return Ok(Some(DeletePlan::One(format!(
            "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} {cond} {})",
            mysql_text(&t[tail..])
        ))));
    };
    let where_at = find_top(t, refs_start, |t, k| kw(&t[k], "WHERE"));
    let refs = &t[refs_start..where_at.unwrap_or(t.len())];
    let cond = where_at.map(|w| mysql_text(&t[w..])).unwrap_or_default();
    let all = table_refs(refs);
    let mut plans = Vec::new();
    for target in split_commas(targets) {
        // `a` or `a.*`
        let target = match target {
            [Token::Word(w)] | [Token::Word(w), Token::Period, Token::Mul] => w.value.clone(),
            other => return Err(SqlError::parse(&mysql_text(other), "a table name expected")),
        };
        let Some((name, alias)) = all.iter().find(|(_, a)| a.eq_ignore_ascii_case(&target)) else {
            return Err(SqlError::new(
                code::ER_UNKNOWN_TABLE,
                format!("Unknown table '{target}' in MULTI DELETE"),
            ));
        };
        plans.push((
            mysql_text(name),
            format!(
                "SELECT DISTINCT {}.rowid FROM {} {cond}",
                mysql_ident(alias),
                mysql_text(refs)
            ),
        ));
    }
    if plans.len() == 1 {
        let (name, select) = plans.remove(0);
        return Ok(Some(DeletePlan::One(format!(
            "DELETE FROM {name} WHERE rowid IN ({select})"
        ))));
    }
    Ok(Some(DeletePlan::Many(plans)))
}

/// How a DELETE runs on SQLite.
#[derive(Debug, PartialEq)]
enum DeletePlan {
    /// One DELETE statement (MySQL text).
    One(String),
    /// Several tables: (table, SELECT of the rowids to delete), all selected first.
    Many(Vec<(String, String)>),
}

/// `[db.]name` at `t[i..]` as an object name.
pub(super) fn object_at(t: &[Token], i: usize) -> Option<sqlparser::ast::ObjectName> {
    use sqlparser::ast::{Ident, ObjectName};
    let word = |k: usize| match t.get(k) {
        Some(Token::Word(w)) => Some(Ident::new(w.value.clone())),
        _ => None,
    };
    let a = word(i)?;
    if t.get(i + 1) == Some(&Token::Period) {
        return Some(ObjectName::from(vec![a, word(i + 2)?]));
    }
    Some(ObjectName::from(vec![a]))
}

impl Session {
    /// 1044 when the table named at `t[i..]` is in `information_schema`.
    pub(super) fn deny_write_at(&self, t: &[Token], i: usize) -> Result<(), SqlError> {
        match object_at(t, i) {
            Some(n) => self.deny_info_schema_write(&[n]),
            None => Ok(()),
        }
    }

    /// Runs `mysql` (the adapted text of `original`) on the ordinary DML path:
    /// counted as `com`, cached under the original text when that is safe.
    pub(super) fn compat_dml(
        &mut self,
        original: &str,
        mysql: &str,
        com: Com,
        cacheable: bool,
    ) -> Result<Outcome, SqlError> {
        self.bump(com);
        let toks = rewrite::tokenize(mysql)?;
        // The adapted text must be one the ordinary parser accepts.
        let mut parser = sqlparser::parser::Parser::new(&MySqlDialect {})
            .with_tokens_with_locations(toks.clone());
        let st = parser
            .parse_statement()
            .map_err(|e| SqlError::parse(original, &e.to_string()))?;
        if com != Com::Select {
            self.deny_info_schema_write(&super::write_targets(&st))?;
        }
        self.prepare_refs(&toks)?;
        let rw = self.rewrite(&toks)?;
        self.implicit_begin()?;
        let r = self.run_sqlite(
            &rw.sql,
            &[],
            &rw.names,
            matches!(com, Com::Insert | Com::Replace),
        );
        if r.is_ok()
            && cacheable
            && rw.names.is_empty()
            && rw.info_schema.is_empty()
            && rw.qualifiers.is_empty()
            && !self.in_info_schema()
        {
            self.sql.remember_plan(original, rw.sql, com);
        }
        r
    }

    /// `INSERT IGNORE`: rows that would duplicate a key are skipped, each with
    /// a 1062 warning (`SHOW WARNINGS`); the affected rows count the others.
    fn insert_ignore(&mut self, t: &[Token]) -> Result<Outcome, SqlError> {
        self.bump(Com::Insert);
        self.deny_write_at(
            t,
            skip_words(
                t,
                1,
                &["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"],
            ),
        )?;
        let Some(ig) = t.iter().position(|x| kw(x, "IGNORE")) else {
            return Err(SqlError::parse("", "IGNORE expected"));
        };
        let mut plain: Vec<Token> = t.to_vec();
        plain.remove(ig);
        if find_top(&plain, 0, |t, k| is_seq(t, k, &["ON", "DUPLICATE"])).is_some() {
            // With ON DUPLICATE KEY UPDATE no row is a duplicate any more.
            let text = mysql_text(&plain);
            return self.run_dml_text(&text, true);
        }
        let values = find_top(&plain, 1, |t, k| kw(&t[k], "VALUES") || kw(&t[k], "VALUE"));
        let select = find_top(&plain, 1, |t, k| kw(&t[k], "SELECT") || kw(&t[k], "WITH"));
        let (head_at, rows): (usize, Vec<Vec<String>>) = match (values, select) {
            (Some(v), _) => {
                let mut rows = Vec::new();
                for part in split_commas(&plain[v + 1..]) {
                    let inner = match part {
                        [Token::LParen, inner @ .., Token::RParen] => inner,
                        other => {
                            return Err(SqlError::parse(&mysql_text(other), "(values) expected"));
                        }
                    };
                    rows.push(split_commas(inner).into_iter().map(mysql_text).collect());
                }
                (v, rows)
            }
            (None, Some(sel)) => {
                let q = mysql_text(&plain[sel..]);
                let rs = match self.run_dml_text(&q, false)? {
                    Outcome::Rows(rs) => rs,
                    Outcome::Ok { .. } => Default::default(),
                };
                let rows = rs
                    .rows
                    .iter()
                    .map(|r| r.iter().map(mysql_literal).collect())
                    .collect();
                (sel, rows)
            }
            _ => return Err(SqlError::parse(&mysql_text(t), "VALUES or SELECT expected")),
        };
        let head = mysql_text(&plain[..head_at]);
        // The target's columns, for NULL → implicit default: (name, declared type).
        let columns = self.insert_columns(&plain[..head_at])?;
        self.implicit_begin()?;
        self.exec_batch("SAVEPOINT minnow_insert_ignore")?;
        let mut affected = 0;
        let mut first_id = 0;
        for mut row in rows {
            // Each NOT NULL violation replaces one value, so this ends.
            for _ in 0..=row.len() {
                let stmt = format!("{head} VALUES ({})", row.join(", "));
                match self.run_dml_text(&stmt, true) {
                    Ok(Outcome::Ok {
                        affected: n,
                        insert_id,
                        ..
                    }) => {
                        affected += n;
                        if first_id == 0 {
                            first_id = insert_id;
                        }
                    }
                    Ok(Outcome::Rows(_)) => {}
                    Err(e) if e.code == code::ER_DUP_ENTRY => {
                        let e = self.explain_error(&stmt, e);
                        self.warnings.push((e.code, e.message));
                    }
                    Err(e) if e.code == code::ER_BAD_NULL_ERROR => {
                        // MySQL stores the type's implicit default instead, with a warning.
                        let col = e
                            .message
                            .strip_prefix("Column '")
                            .and_then(|r| r.strip_suffix("' cannot be null"))
                            .unwrap_or("");
                        let at = columns
                            .iter()
                            .position(|c| c.name.eq_ignore_ascii_case(col))
                            .filter(|&k| {
                                k < row.len() && row[k] != implicit_default(&columns[k].decl)
                            });
                        let Some(k) = at else {
                            let _ = self.exec_batch(
                                "ROLLBACK TO minnow_insert_ignore; RELEASE minnow_insert_ignore",
                            );
                            return Err(e);
                        };
                        self.warnings.push((e.code, e.message));
                        row[k] = implicit_default(&columns[k].decl);
                        continue;
                    }
                    Err(e) => {
                        let _ = self.exec_batch(
                            "ROLLBACK TO minnow_insert_ignore; RELEASE minnow_insert_ignore",
                        );
                        return Err(e);
                    }
                }
                break;
            }
        }
        self.exec_batch("RELEASE minnow_insert_ignore")?;
        if first_id != 0 {
            self.sql.last_insert_id = first_id as i64;
        }
        Ok(Outcome::Ok {
            affected,
            insert_id: first_id,
            info: String::new(),
        })
    }

    /// `DELETE a, b FROM …`: every table's rows are chosen before any is deleted.
    fn delete_many(&mut self, plans: Vec<(String, String)>) -> Result<Outcome, SqlError> {
        self.bump(Com::Delete);
        for (name, _) in &plans {
            self.deny_write_at(&sig(&rewrite::tokenize(name)?), 0)?;
        }
        self.implicit_begin()?;
        self.exec_batch("SAVEPOINT minnow_delete_many")?;
        let r = (|| {
            for (k, (_, select)) in plans.iter().enumerate() {
                self.exec_batch(&format!("DROP TABLE IF EXISTS temp.minnow_delete_{k}"))?;
                self.run_dml_text(
                    &format!("CREATE TEMPORARY TABLE minnow_delete_{k} AS {select}"),
                    false,
                )?;
            }
            let mut affected = 0;
            for (k, (table, _)) in plans.iter().enumerate() {
                if let Outcome::Ok { affected: n, .. } = self.run_dml_text(
                    &format!(
                        "DELETE FROM {table} WHERE rowid IN (SELECT * FROM temp.minnow_delete_{k})"
                    ),
                    false,
                )? {
                    affected += n;
                }
                self.exec_batch(&format!("DROP TABLE temp.minnow_delete_{k}"))?;
            }
            Ok(affected)
        })();
        match r {
            Ok(n) => {
                self.exec_batch("RELEASE minnow_delete_many")?;
                Ok(Outcome::ok(n))
            }
            Err(e) => {
                let _ =
                    self.exec_batch("ROLLBACK TO minnow_delete_many; RELEASE minnow_delete_many");
                Err(e)
            }
        }
    }

    /// `UPDATE IGNORE t SET … [WHERE …] [ORDER BY …] [LIMIT n]`: row by row;
    /// a row whose new key values would duplicate another's keeps its old
    /// values, with a 1062 warning.
    fn update_ignore(&mut self, t: &[Token]) -> Result<Outcome, SqlError> {
        self.bump(Com::Update);
        self.deny_write_at(t, skip_words(t, 1, &["LOW_PRIORITY", "IGNORE"]))?;
        let plain: Vec<Token> = t.iter().filter(|x| !kw(x, "IGNORE")).cloned().collect();
        let start = skip_words(&plain, 1, &["LOW_PRIORITY"]);
        let Some(set) = find_top(&plain, start, |t, k| kw(&t[k], "SET")) else {
            return Err(SqlError::parse(&mysql_text(t), "SET expected"));
        };
        let table = mysql_text(&plain[start..set]);
        if plain[start..set]
            .iter()
            .any(|x| kw(x, "JOIN") || *x == Token::Comma)
        {
            return Err(not_supported("UPDATE IGNORE of several tables"));
        }
        let tail = order_limit_at(&plain, set).unwrap_or(plain.len());
        let where_at = find_top(&plain[..tail], set, |t, k| kw(&t[k], "WHERE"));
        let assigns = mysql_text(&plain[set + 1..where_at.unwrap_or(tail)]);
        let select = format!(
            "SELECT rowid FROM {table} {} {}",
            where_at
                .map(|w| mysql_text(&plain[w..tail]))
                .unwrap_or_default(),
            mysql_text(&plain[tail..])
        );
        let rowids: Vec<String> = match self.run_dml_text(&select, false)? {
            Outcome::Rows(rs) => rs.rows.iter().map(|r| cell_text(&r[0])).collect(),
            Outcome::Ok { .. } => Vec::new(),
        };
        self.implicit_begin()?;
        self.exec_batch("SAVEPOINT minnow_update_ignore")?;
        let mut affected = 0;
        for r in rowids {
            let stmt = format!("UPDATE {table} SET {assigns} WHERE rowid = {r}");
            match self.run_dml_text(&stmt, false) {
                Ok(Outcome::Ok { affected: n, .. }) => affected += n,
                Ok(Outcome::Rows(_)) => {}
                Err(e) if e.code == code::ER_DUP_ENTRY => {
                    let e = self.explain_error(&stmt, e);
                    self.warnings.push((e.code, e.message));
                }
                Err(e) => {
                    let _ = self.exec_batch(
                        "ROLLBACK TO minnow_update_ignore; RELEASE minnow_update_ignore",
                    );
                    return Err(e);
                }
            }
        }
        self.exec_batch("RELEASE minnow_update_ignore")?;
        Ok(Outcome::ok(affected))
    }

    /// The columns of `[db.]table` at `t[i..]`: (name, declared type, default
    /// expression), and the index after the name.
    fn columns_at(&mut self, t: &[Token], i: usize) -> Result<(Vec<ColumnInfo>, usize), SqlError> {
        let word = |t: Option<&Token>| match t {
            Some(Token::Word(w)) => Some(w.value.clone()),
            _ => None,
        };
        let Some(first) = word(t.get(i)) else {
            return Ok((Vec::new(), i));
        };
        let (schema, table, next) = if t.get(i + 1) == Some(&Token::Period) {
            let n = word(t.get(i + 2)).unwrap_or_default();
            (format!("{}.", self.schema_for(&first)?), n, i + 3)
        } else {
            (String::new(), first, i + 1)
        };
        let rs = self.query_rows(
            &format!(
                "SELECT name, type, dflt_value FROM {schema}pragma_table_info(?1) ORDER BY cid"
            ),
            &[Cell::Text(table)],
            &[],
        )?;
        let all = rs
            .rows
            .iter()
            .map(|r| ColumnInfo {
                name: cell_text(&r[0]),
                decl: cell_text(&r[1]),
                default: match &r[2] {
                    Cell::Null => None,
                    c => Some(cell_text(c)),
                },
            })
            .collect();
        Ok((all, next))
    }

    /// The columns an `INSERT [INTO] t [(cols)]` head fills.
    fn insert_columns(&mut self, head: &[Token]) -> Result<Vec<ColumnInfo>, SqlError> {
        let i = skip_words(
            head,
            1,
            &["LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "INTO"],
        );
        let (all, next) = self.columns_at(head, i)?;
        if head.get(next) != Some(&Token::LParen) {
            return Ok(all);
        }
        let close = close_paren(head, next).unwrap_or(head.len() - 1);
        Ok(split_commas(&head[next + 1..close])
            .into_iter()
            .map(|c| {
                let n = match c.last() {
                    Some(Token::Word(w)) => w.value.clone(),
                    _ => String::new(),
                };
                all.iter()
                    .find(|x| x.name.eq_ignore_ascii_case(&n))
                    .cloned()
                    .unwrap_or(ColumnInfo {
                        name: n,
                        decl: String::new(),
                        default: None,
                    })
            })
            .collect())
    }

    /// `DEFAULT` as a value (`VALUES (DEFAULT, …)`, `SET c = DEFAULT`) → the
    /// column's default expression; SQLite has no such value.
    fn fill_defaults(&mut self, t: &[Token]) -> Result<Option<Vec<Token>>, SqlError> {
        if !t.iter().any(|x| kw(x, "DEFAULT")) {
            return Ok(None);
        }
        let is_default = |v: &[Token]| matches!(v, [x] if kw(x, "DEFAULT"));
        let default_of = |cols: &[ColumnInfo], name: &str| -> Result<Vec<Token>, SqlError> {
            match cols
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
                .and_then(|c| c.default.clone())
            {
                Some(d) => Ok(sig(&rewrite::tokenize(&format!("({d})"))?)),
                None => Ok(vec![Token::make_keyword("NULL")]),
            }
        };
        if kw(&t[0], "INSERT") || kw(&t[0], "REPLACE") {
            let Some(v) = find_top(t, 1, |t, k| kw(&t[k], "VALUES")) else {
                return Ok(None);
            };
            let end = find_top(t, v, |t, k| is_seq(t, k, &["ON", "DUPLICATE"])).unwrap_or(t.len());
            let rows = split_commas(&t[v + 1..end]);
            if !rows.iter().any(|r| {
                matches!(r, [Token::LParen, inner @ .., Token::RParen]
                    if split_commas(inner).iter().any(|x| is_default(x)))
            }) {
                return Ok(None);
            }
            let cols = self.insert_columns(&t[..v])?;
            let mut out = t[..=v].to_vec();
            for (ri, r) in rows.iter().enumerate() {
                if ri > 0 {
                    out.push(Token::Comma);
                }
                let [Token::LParen, inner @ .., Token::RParen] = r else {
                    out.extend(r.iter().cloned());
                    continue;
                };
                out.push(Token::LParen);
                for (k, val) in split_commas(inner).into_iter().enumerate() {
                    if k > 0 {
                        out.push(Token::Comma);
                    }
                    if is_default(val) {
                        let name = cols.get(k).map(|c| c.name.clone()).unwrap_or_default();
                        out.extend(default_of(&cols, &name)?);
                    } else {
                        out.extend(val.iter().cloned());
                    }
                }
                out.push(Token::RParen);
            }
            out.extend(t[end..].iter().cloned());
            return Ok(Some(out));
        }
        if kw(&t[0], "UPDATE") {
            let start = skip_words(t, 1, &["LOW_PRIORITY", "IGNORE"]);
            let Some(set) = find_top(t, start, |t, k| kw(&t[k], "SET")) else {
                return Ok(None);
            };
            let end = find_top(t, set, |t, k| {
                kw(&t[k], "WHERE") || kw(&t[k], "LIMIT") || is_seq(t, k, &["ORDER", "BY"])
            })
            .unwrap_or(t.len());
            let assigns = split_commas(&t[set + 1..end]);
            if !assigns.iter().any(|a| {
                a.iter()
                    .position(|x| *x == Token::Eq)
                    .is_some_and(|e| is_default(&a[e + 1..]))
            }) {
                return Ok(None);
            }
            let (cols, _) = self.columns_at(t, start)?;
            let mut out = t[..=set].to_vec();
            for (k, a) in assigns.iter().enumerate() {
                if k > 0 {
                    out.push(Token::Comma);
                }
                match a.iter().position(|x| *x == Token::Eq) {
                    Some(e) if is_default(&a[e + 1..]) => {
                        let name = match a[..e].last() {
                            Some(Token::Word(w)) => w.value.clone(),
                            _ => String::new(),
                        };
                        out.extend(a[..=e].iter().cloned());
                        out.extend(default_of(&cols, &name)?);
                    }
                    _ => out.extend(a.iter().cloned()),
                }
            }
            out.extend(t[end..].iter().cloned());
            return Ok(Some(out));
        }
        Ok(None)
    }

    /// INSERT/REPLACE/UPDATE/DELETE forms SQLite or sqlparser lack.
    fn dml_intercept(
        &mut self,
        mut t: Vec<Token>,
        w0: &str,
        text: &str,
    ) -> Result<Option<Outcome>, SqlError> {
        let mut changed = false;
        let mut cacheable = true;
        if let Some(n) = normalize_dml(&t) {
            t = n;
            changed = true;
        }
        let com = match w0 {
            "INSERT" | "REPLACE" => {
                if let Some(v) = insert_set_to_values(&t) {
                    t = sig(&rewrite::tokenize(&v)?);
                    changed = true;
                }
                if let Some(n) = empty_values(&t) {
                    t = n;
                    changed = true;
                }
                if let Some(n) = self.fill_defaults(&t)? {
                    t = n;
                    changed = true;
                    // The text now holds the defaults of the day: not cached.
                    cacheable = false;
                }
                if w0 == "INSERT" && t.iter().take(3).any(|x| kw(x, "IGNORE")) {
                    return self.insert_ignore(&t).map(Some);
                }
                com_insert(w0)
            }
            "UPDATE" => {
                if let Some(n) = self.fill_defaults(&t)? {
                    t = n;
                    changed = true;
                    cacheable = false;
                }
                if t.iter().take(3).any(|x| kw(x, "IGNORE")) {
                    return self.update_ignore(&t).map(Some);
                }
                if let Some(u) = update_limit(&t)
                    .map(Ok)
                    .or_else(|| update_multi(&t).transpose())
                {
                    return self.compat_dml(text, &u?, Com::Update, cacheable).map(Some);
                }
                Com::Update
            }
            _ => {
                match delete_rewrite(&t)? {
                    Some(DeletePlan::One(d)) => {
                        return self.compat_dml(text, &d, Com::Delete, cacheable).map(Some);
                    }
                    Some(DeletePlan::Many(plans)) => return self.delete_many(plans).map(Some),
                    None => {}
                }
                Com::Delete
            }
        };
        if !changed {
            return Ok(None);
        }
        self.compat_dml(text, &mysql_text(&t), com, cacheable)
            .map(Some)
    }

    /// `SHOW COLLATION [LIKE 'p' | WHERE expr]`: the collations of the
    /// character sets `SHOW CHARACTER SET` lists.
    fn show_collation(&mut self, filter: &[Token]) -> Result<Outcome, SqlError> {
        self.bump(Com::Other);
        const ROWS: &[(&str, &str, i64, &str, i64, &str)] = &[
            ("binary", "binary", 63, "Yes", 1, "NO PAD"),
            ("latin1_swedish_ci", "latin1", 8, "Yes", 1, "PAD SPACE"),
            ("latin1_bin", "latin1", 47, "", 1, "PAD SPACE"),
            ("utf8mb3_general_ci", "utf8mb3", 33, "Yes", 1, "PAD SPACE"),
            ("utf8mb3_bin", "utf8mb3", 83, "", 1, "PAD SPACE"),
            ("utf8mb3_unicode_ci", "utf8mb3", 192, "", 8, "PAD SPACE"),
            ("utf8mb4_general_ci", "utf8mb4", 45, "Yes", 1, "PAD SPACE"),
            ("utf8mb4_bin", "utf8mb4", 46, "", 1, "PAD SPACE"),
            ("utf8mb4_unicode_ci", "utf8mb4", 224, "", 8, "PAD SPACE"),
            ("utf8mb4_0900_ai_ci", "utf8mb4", 255, "", 0, "NO PAD"),
        ];
        let values: Vec<String> = ROWS
            .iter()
            .map(|(c, cs, id, d, sl, pad)| {
                format!(
                    "({}, {}, {id}, {}, 'Yes', {sl}, {})",
                    rewrite::quote_str(c),
                    rewrite::quote_str(cs),
                    rewrite::quote_str(d),
                    rewrite::quote_str(pad)
                )
            })
            .collect();
        let cond = match filter {
            [] => String::new(),
            [
                like,
                Token::SingleQuotedString(p) | Token::DoubleQuotedString(p),
            ] if kw(like, "LIKE") => {
                format!(
                    "WHERE \"Collation\" LIKE {} ESCAPE '\\'",
                    rewrite::quote_str(p)
                )
            }
            [w, rest @ ..] if kw(w, "WHERE") => {
                let toks = rewrite::tokenize(&mysql_text(rest))?;
                format!("WHERE {}", self.rewrite(&toks)?.sql)
            }
            other => {
                return Err(SqlError::parse(
                    &mysql_text(other),
                    "LIKE or WHERE expected",
                ));
            }
        };
        let sql = format!(
            "WITH c(\"Collation\", \"Charset\", \"Id\", \"Default\", \"Compiled\", \"Sortlen\", \"Pad_attribute\") \
             AS (VALUES {}) SELECT * FROM c {cond} ORDER BY 1",
            values.join(", ")
        );
        let mut rs = self.query_rows(&sql, &[], &[])?;
        for (i, c) in rs.columns.iter_mut().enumerate() {
            c.ty = if i == 2 || i == 5 {
                ColumnType::MYSQL_TYPE_LONGLONG
            } else {
                ColumnType::MYSQL_TYPE_VAR_STRING
            };
        }
        Ok(Outcome::Rows(rs))
    }

    /// Tokenize, rewrite and run MySQL DML text (not counted, not cached).
    pub(super) fn run_dml_text(
        &mut self,
        text: &str,
        is_insert: bool,
    ) -> Result<Outcome, SqlError> {
        let toks = rewrite::tokenize(text)?;
        self.prepare_refs(&toks)?;
        let rw = self.rewrite(&toks)?;
        self.implicit_begin()?;
        self.run_sqlite(&rw.sql, &[], &rw.names, is_insert)
    }

    /// Adds MySQL's detail to an error of statement `text`: a duplicate key
    /// names the entry and the key as MySQL does
    /// (`Duplicate entry '1' for key 'PRIMARY'`).
    pub fn explain_error(&mut self, text: &str, e: SqlError) -> SqlError {
        if e.code != code::ER_DUP_ENTRY {
            return e;
        }
        let Some(cols) = e
            .message
            .strip_prefix("Duplicate entry for key '")
            .and_then(|r| r.strip_suffix('\''))
        else {
            return e;
        };
        let cols: Vec<(String, String)> = cols
            .split(", ")
            .filter_map(|c| c.split_once('.'))
            .map(|(t, c)| (t.to_string(), c.to_string()))
            .collect();
        let Some(table) = cols.first().map(|c| c.0.clone()) else {
            return e;
        };
        let cols: Vec<String> = cols.into_iter().map(|c| c.1).collect();
        match self.dup_detail(text, &table, &cols) {
            Ok(Some((value, key))) => SqlError::new(
                code::ER_DUP_ENTRY,
                match value {
                    Some(v) => format!("Duplicate entry '{v}' for key '{key}'"),
                    None => format!("Duplicate entry for key '{key}'"),
                },
            ),
            _ => e,
        }
    }

    /// [`Session::explain_error`] for a prepared statement: its `?` are the
    /// parameters' values.
    pub fn explain_prepared_error(&mut self, text: &str, params: &[Cell], e: SqlError) -> SqlError {
        if e.code != code::ER_DUP_ENTRY {
            return e;
        }
        let Ok(toks) = rewrite::tokenize(text) else {
            return e;
        };
        let mut n = 0;
        let mut out = Vec::new();
        for t in sig(&toks) {
            match t {
                Token::Placeholder(_) => {
                    let Some(p) = params.get(n) else { return e };
                    n += 1;
                    out.push(match p {
                        Cell::Null => Token::make_keyword("NULL"),
                        Cell::Integer(i) => Token::Number(i.to_string(), false),
                        Cell::Real(f) => Token::Number(format!("{f:?}"), false),
                        Cell::Text(s) => Token::SingleQuotedString(s.clone()),
                        Cell::Blob(b) => {
                            Token::SingleQuotedString(String::from_utf8_lossy(b).into_owned())
                        }
                    });
                }
                other => out.push(other),
            }
        }
        let inlined = mysql_text(&out);
        self.explain_error(&inlined, e)
    }

    /// (entry value if known, MySQL key name) for a unique violation on `table(cols)`.
    fn dup_detail(
        &mut self,
        text: &str,
        table: &str,
        cols: &[String],
    ) -> Result<Option<(Option<String>, String)>, SqlError> {
        let toks = rewrite::tokenize(text)?;
        let t = sig(&toks);
        let text = insert_set_to_values(&t).unwrap_or_else(|| mysql_text(&t));
        let st = sqlparser::parser::Parser::new(&MySqlDialect {})
            .try_with_sql(&text)
            .and_then(|mut p| p.parse_statement())
            .ok();
        // The schema of the statement's table; unqualified, a temporary table comes first.
        let temp = !self
            .query_rows(
                "SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND name = ?1",
                &[Cell::Text(table.to_string())],
                &[],
            )?
            .rows
            .is_empty();
        let unqualified = if temp { "temp" } else { "main" }.to_string();
        let schema = match &st {
            Some(sqlparser::ast::Statement::Insert(i)) => {
                let parts: Vec<String> = i
                    .table
                    .to_string()
                    .split('.')
                    .map(|p| p.trim_matches('`').to_string())
                    .collect();
                match parts.as_slice() {
                    [d, _] => self.schema_for(d)?,
                    _ => unqualified,
                }
            }
            _ => unqualified,
        };
        let Some(key) = self.key_name(&schema, table, cols)? else {
            return Ok(None);
        };
        let value = match &st {
            Some(sqlparser::ast::Statement::Insert(ins)) => {
                self.dup_value(&schema, table, cols, ins)?
            }
            Some(sqlparser::ast::Statement::Update(u)) => {
                self.dup_update_value(&schema, table, cols, u)?
            }
            _ => None,
        };
        Ok(Some((value, key)))
    }

    /// For a single-table UPDATE: the first matched row whose new key values
    /// are already held by another row, or repeat those of an earlier row.
    fn dup_update_value(
        &mut self,
        schema: &str,
        table: &str,
        cols: &[String],
        u: &sqlparser::ast::Update,
    ) -> Result<Option<String>, SqlError> {
        use sqlparser::ast::AssignmentTarget;
        if !u.table.joins.is_empty() || u.from.is_some() {
            return Ok(None);
        }
        let exprs: Vec<String> = cols
            .iter()
            .map(|c| {
                u.assignments
                    .iter()
                    .find(|a| match &a.target {
                        AssignmentTarget::ColumnName(n) => {
                            super::object_last(n).eq_ignore_ascii_case(c)
                        }
                        AssignmentTarget::Tuple(_) => false,
                    })
                    .map(|a| a.value.to_string())
                    .unwrap_or_else(|| mysql_ident(c))
            })
            .collect();
        let filter = u
            .selection
            .as_ref()
            .map(|w| format!(" WHERE {w}"))
            .unwrap_or_default();
        let q = format!(
            "SELECT {}, rowid FROM {}{filter} LIMIT 10000",
            exprs.join(", "),
            u.table.relation
        );
        let rows = match self.run_dml_text(&q, false) {
            Ok(Outcome::Rows(rs)) => rs.rows,
            _ => return Ok(None),
        };
        let mut cond: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(k, c)| format!("\"{}\" IS ?{}", c.replace('"', "\"\""), k + 1))
            .collect();
        cond.push(format!("rowid <> ?{}", cols.len() + 1));
        let probe = format!(
            "SELECT 1 FROM {schema}.\"{}\" WHERE {} LIMIT 1",
            table.replace('"', "\"\""),
            cond.join(" AND ")
        );
        let mut seen: Vec<Vec<String>> = Vec::new();
        for r in rows {
            let shown: Vec<String> = r[..cols.len()].iter().map(cell_text).collect();
            if !self.query_rows(&probe, &r, &[])?.rows.is_empty() || seen.contains(&shown) {
                return Ok(Some(shown.join("-")));
            }
            seen.push(shown);
        }
        Ok(None)
    }

    /// MySQL's name of the unique key over `cols` (`PRIMARY`, the index
    /// name, or for an inline `UNIQUE` its first column).
    fn key_name(
        &mut self,
        schema: &str,
        table: &str,
        cols: &[String],
    ) -> Result<Option<String>, SqlError> {
        let keys = super::keys::table_keys(&self.sql.conn, schema, table)
            .map_err(|e| SqlError::from_sqlite(&e, self.sql.db.as_deref()))?;
        Ok(keys
            .into_iter()
            .find(|k| {
                k.unique
                    && k.columns.len() == cols.len()
                    && k.columns
                        .iter()
                        .zip(cols)
                        .all(|(a, b)| a.eq_ignore_ascii_case(b))
            })
            .map(|k| k.name))
    }

    /// The first row of an `INSERT … VALUES` whose key values are already in
    /// the table or repeat an earlier row, as MySQL prints it (`a-b`).
    fn dup_value(
        &mut self,
        schema: &str,
        table: &str,
        cols: &[String],
        ins: &sqlparser::ast::Insert,
    ) -> Result<Option<String>, SqlError> {
        use sqlparser::ast::{Expr, SetExpr, Value};
        let Some(src) = &ins.source else {
            return Ok(None);
        };
        let SetExpr::Values(values) = src.body.as_ref() else {
            return Ok(None);
        };
        let names: Vec<String> = if ins.columns.is_empty() {
            let rs = self.query_rows(
                &format!("SELECT name FROM {schema}.pragma_table_info(?1) ORDER BY cid"),
                &[Cell::Text(table.to_string())],
                &[],
            )?;
            rs.rows.iter().map(|r| cell_text(&r[0])).collect()
        } else {
            ins.columns.iter().map(super::object_last).collect()
        };
        let pos: Option<Vec<usize>> = cols
            .iter()
            .map(|c| names.iter().position(|n| n.eq_ignore_ascii_case(c)))
            .collect();
        let Some(pos) = pos else { return Ok(None) };
        let cond: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(k, c)| format!("\"{}\" IS ?{}", c.replace('"', "\"\""), k + 1))
            .collect();
        let probe = format!(
            "SELECT 1 FROM {schema}.\"{}\" WHERE {} LIMIT 1",
            table.replace('"', "\"\""),
            cond.join(" AND ")
        );
        let mut seen: Vec<Vec<String>> = Vec::new();
        for row in &values.rows {
            let mut cells = Vec::new();
            for &p in &pos {
                let Some(e) = row.get(p) else { return Ok(None) };
                let c = match e {
                    Expr::Value(v) => match &v.value {
                        Value::Number(n, _) => n
                            .parse::<i64>()
                            .map(Cell::Integer)
                            .unwrap_or_else(|_| Cell::Text(n.clone())),
                        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                            Cell::Text(s.clone())
                        }
                        _ => return Ok(None),
                    },
                    _ => return Ok(None),
                };
                cells.push(c);
            }
            let shown: Vec<String> = cells.iter().map(cell_text).collect();
            let hit = !self.query_rows(&probe, &cells, &[])?.rows.is_empty();
            if hit || seen.contains(&shown) {
                return Ok(Some(shown.join("-")));
            }
            seen.push(shown);
        }
        Ok(None)
    }
}

/// A session's temporary tables, carried over when `USE` reopens its SQLite
/// connection (MySQL keeps them for the whole session).
#[derive(Debug, Default)]
pub(super) struct TempTables(Vec<TempTable>);

#[derive(Debug)]
struct TempTable {
    name: String,
    create: String,
    indexes: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

/// Reads the temporary tables of `conn` (Minnow's own `minnow_*` helpers excluded).
pub(super) fn save_temp_tables(conn: &rusqlite::Connection) -> rusqlite::Result<TempTables> {
    let tables: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM temp.sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'minnow\\_%' ESCAPE '\\'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (name, sql) in tables {
        let indexes = conn
            .prepare(
                "SELECT sql FROM temp.sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
            )?
            .query_map([&name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut st = conn.prepare(&format!(
            "SELECT * FROM temp.\"{}\"",
            name.replace('"', "\"\"")
        ))?;
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get_ref(i).map(Cell::from))
                    .collect::<rusqlite::Result<Vec<Cell>>>()
            })?
            .collect::<rusqlite::Result<_>>()?;
        let create = match sql.get(..12) {
            Some(h) if h.eq_ignore_ascii_case("CREATE TABLE") => {
                format!("CREATE TEMP TABLE{}", &sql[12..])
            }
            _ => sql,
        };
        out.push(TempTable {
            name,
            create,
            indexes,
            rows,
        });
    }
    Ok(TempTables(out))
}

/// Recreates saved temporary tables on a new connection.
pub(super) fn restore_temp_tables(
    conn: &rusqlite::Connection,
    saved: TempTables,
) -> rusqlite::Result<()> {
    for t in saved.0 {
        conn.execute_batch(&t.create)?;
        for ix in &t.indexes {
            conn.execute_batch(ix)?;
        }
        if let Some(first) = t.rows.first() {
            let marks: Vec<String> = (1..=first.len()).map(|i| format!("?{i}")).collect();
            let mut ins = conn.prepare(&format!(
                "INSERT INTO temp.\"{}\" VALUES ({})",
                t.name.replace('"', "\"\""),
                marks.join(", ")
            ))?;
            for r in &t.rows {
                ins.execute(rusqlite::params_from_iter(r.iter()))?;
            }
        }
    }
    Ok(())
}

/// MySQL's implicit default of a declared type (what `INSERT IGNORE` stores for NULL
/// in a NOT NULL column), as a MySQL literal.
pub(super) fn implicit_default(decl: &str) -> String {
    let d = decl.to_ascii_uppercase();
    if ["INT", "REAL", "FLOA", "DOUB", "DEC", "NUM", "BIT", "BOOL"]
        .iter()
        .any(|k| d.contains(k))
    {
        "0".into()
    } else if d.starts_with("DATETIME") || d.starts_with("TIMESTAMP") {
        "'0000-00-00 00:00:00'".into()
    } else if d.starts_with("DATE") {
        "'0000-00-00'".into()
    } else if d.starts_with("TIME") {
        "'00:00:00'".into()
    } else {
        "''".into()
    }
}

/// A cell's text as MySQL prints it.
pub(super) fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Null => "NULL".into(),
        Cell::Integer(i) => i.to_string(),
        Cell::Real(f) => f.to_string(),
        Cell::Text(s) => s.clone(),
        Cell::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// A result column of text.
pub(super) fn text_col(name: &str) -> crate::protocol::ColDef {
    crate::protocol::ColDef::new(name, ColumnType::MYSQL_TYPE_VAR_STRING)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig_of(s: &str) -> Vec<Token> {
        sig(&rewrite::tokenize(s).expect("tokens"))
    }

    #[test]
    fn insert_set_becomes_values() {
        let t = sig_of("INSERT INTO shop.t SET a = 1, `b` = 'x''y', c = f(1, 2)");
        assert_eq!(
            insert_set_to_values(&t).expect("rewritten").trim(),
            "INSERT INTO shop.t (a, `b`, c) VALUES (1, 'x''y', f(1, 2))"
        );
        assert!(insert_set_to_values(&sig_of("INSERT INTO t VALUES (1)")).is_none());
    }

    #[test]
    fn fast_path_only_for_plain_statements() {
        let fast = |q: &str| plain_fast_path(&rewrite::tokenize(q).expect("tokens"));
        assert!(fast("INSERT INTO t (a, b) VALUES (1, 'x'), (2, f(3))"));
        assert!(fast("SELECT a FROM t WHERE b = 'FOR UPDATE'"));
        for q in [
            "INSERT INTO t SET a = 1",
            "INSERT IGNORE INTO t VALUES (1)",
            "INSERT INTO t VALUE (1)",
            "INSERT INTO t () VALUES ()",
            "INSERT INTO t VALUES (DEFAULT)",
            "INSERT DELAYED INTO t VALUES (1)",
            "INSERT INTO t VALUES (1) AS n ON DUPLICATE KEY UPDATE a = n.a",
            "SELECT a FROM t FOR UPDATE",
            "SELECT a FROM t LOCK IN SHARE MODE",
            "UPDATE t SET a = 1",
        ] {
            assert!(!fast(q), "{q}");
        }
    }

    #[test]
    fn locking_clauses_are_dropped() {
        for q in [
            "SELECT * FROM t WHERE a = 1 FOR UPDATE",
            "SELECT * FROM t WHERE a = 1 LOCK IN SHARE MODE",
            "SELECT * FROM t WHERE a = 1 FOR SHARE NOWAIT",
            "SELECT * FROM t WHERE a = 1 FOR UPDATE OF t SKIP LOCKED",
        ] {
            assert_eq!(
                strip_locking(&sig_of(q)).as_deref(),
                Some("SELECT * FROM t WHERE a = 1"),
                "{q}"
            );
        }
        assert!(strip_locking(&sig_of("SELECT 'FOR UPDATE'")).is_none());
    }

    #[test]
    fn update_and_delete_with_limit() {
        assert_eq!(
            update_limit(&sig_of(
                "UPDATE t SET a = a + 1 WHERE b > 2 ORDER BY id DESC LIMIT 3"
            ))
            .expect("rewritten"),
            "UPDATE t SET a = a + 1 WHERE rowid IN (SELECT rowid FROM t WHERE b > 2 ORDER BY id DESC LIMIT 3)"
        );
        assert!(update_limit(&sig_of("UPDATE t SET a = 1 WHERE b = 2")).is_none());
        assert_eq!(
            delete_rewrite(&sig_of("DELETE FROM t LIMIT 2"))
                .expect("ok")
                .expect("rewritten"),
            DeletePlan::One("DELETE FROM t WHERE rowid IN (SELECT rowid FROM t  LIMIT 2)".into())
        );
        assert_eq!(
            delete_rewrite(&sig_of(
                "DELETE o FROM orders AS o JOIN items i ON i.id = o.item WHERE i.gone = 1"
            ))
            .expect("ok")
            .expect("rewritten"),
            DeletePlan::One("DELETE FROM orders WHERE rowid IN (SELECT DISTINCT `o`.rowid FROM orders AS o JOIN items i ON i.id = o.item WHERE i.gone = 1)".into())
        );
        assert!(
            delete_rewrite(&sig_of("DELETE FROM t WHERE a = 1"))
                .expect("ok")
                .is_none()
        );
    }
}
