//! What the statement text tells about its UDF call sites before any row is read —
//! the part of MySQL's `udf_handler::fix_fields` that does not need rows: for each
//! argument of each call site `name(arg, …)` of a UDF, its attribute (the argument's
//! text; the column name for a column), whether it is a constant and its value, and
//! its `Item_result` type when the text and the schema tell it:
//!
//! - literals: `12` INT, `1.5` DECIMAL, `1e3` REAL, `'x'` STRING, `NULL` STRING
//!   (a constant NULL), `TRUE`/`FALSE` INT — as in MySQL;
//! - a column (`c`, `t.c`, `db.t.c`): its declared type (`INT…` INT, `FLOAT`/`DOUBLE`/
//!   `REAL` REAL, `DECIMAL`/`NUMERIC` DECIMAL, anything else STRING), looked up among
//!   the tables the statement names; unknown when several of them have that column
//!   with different types;
//! - `+ - * / %` over operands of known numeric type: MySQL's arithmetic result type
//!   (REAL if any operand is REAL, else DECIMAL if any is DECIMAL or for `/`, else INT);
//! - anything else (other functions, `CASE`, `?` parameters, subqueries): unknown —
//!   the server then takes the type of the first row's value (see `plugins::udf_sqlite`).
//!
//! SQLite does not say which call site of a statement a `sqlite3_context` belongs to,
//! so the sites are matched to calls by function name and argument count, and among
//! several such call sites by how well their constants match the call's first row
//! (`plugins::udf_sqlite`); when that still leaves several, only what they have in
//! common is used ([`for_call`]).

use std::cell::RefCell;

use minnow_plugin_host::{UdfArgType, Value};
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// One argument of a call site.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArgSite {
    /// `UDF_ARGS::attributes[i]`.
    pub attribute: String,
    /// The argument's type, if the text tells it.
    pub arg_type: Option<UdfArgType>,
    /// The value of a constant argument (`Value::Null` for `NULL`).
    pub constant: Option<Value>,
}

/// One call site `name(args…)` of a UDF in the statement text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Site {
    /// Function name, lower case.
    pub name: String,
    /// Its arguments.
    pub args: Vec<ArgSite>,
}

/// Column lookup: `(schema, table)` → `(name, declared type)` of its columns
/// (empty if there is no such table).
pub(crate) type Lookup<'a> = &'a mut dyn FnMut(&str, &str) -> Vec<(String, String)>;

/// The statement this thread is executing, described on first use.
#[derive(Default)]
struct State {
    /// Text, UDF names (lower case) and current database, until described.
    pending: Option<(String, std::sync::Arc<[String]>, Option<String>)>,
    /// The call sites, once described.
    sites: Vec<Site>,
}

thread_local! {
    /// Set around each statement by `plugins::audited`; SQLite runs the UDF
    /// callbacks on the thread that runs the statement.
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Makes `query` (with the UDFs `udfs`, lower case, and current database `db`) the
/// current statement until the guard is dropped. It is described when a UDF call
/// first asks ([`for_call`], [`arity`]): by then SQLite has prepared the statement and
/// attached the databases it names.
///
/// A statement that names none of the UDFs (the usual case) costs a case-insensitive
/// scan of its text and no allocation.
pub(crate) fn enter(query: &str, udfs: &std::sync::Arc<[String]>, db: Option<&str>) -> Guard {
    let pending = udfs
        .iter()
        .any(|u| contains_ignore_ascii_case(query, u))
        .then(|| (query.to_string(), udfs.clone(), db.map(str::to_string)));
    let old = STATE.with(|s| {
        std::mem::replace(
            &mut *s.borrow_mut(),
            State {
                pending,
                sites: Vec::new(),
            },
        )
    });
    Guard { old: Some(old) }
}

/// Whether `hay` contains `needle` (lower case ASCII) in any ASCII case.
fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    !n.is_empty() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Restores the previous statement (nested statements) when dropped.
pub(crate) struct Guard {
    old: Option<State>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(old) = self.old.take() {
            STATE.with(|s| *s.borrow_mut() = old);
        }
    }
}

/// Runs `f` over the current statement's call sites, describing them first if
/// needed (with `lookup` for column types).
fn with_sites<R>(lookup: Lookup<'_>, f: impl FnOnce(&[Site]) -> R) -> R {
    let pending = STATE.with(|s| s.borrow_mut().pending.take());
    if let Some((query, udfs, db)) = pending {
        // Not under the borrow: `lookup` runs SQL.
        let sites = describe(&query, &udfs, db.as_deref(), lookup);
        STATE.with(|s| s.borrow_mut().sites = sites);
    }
    STATE.with(|s| f(&s.borrow().sites))
}

/// What the current statement's call sites of `name` with `argc` arguments that
/// fit a call best have in common, per argument: an attribute, type or constant is
/// kept only if every such call site has the same one. `score` rates a call site's
/// arguments against the call (`None`: not this call site); only the best-rated
/// ones count. `None` if no call site fits (or none was described).
pub(crate) fn for_call(
    name: &str,
    argc: usize,
    lookup: Lookup<'_>,
    score: impl Fn(&[ArgSite]) -> Option<usize>,
) -> Option<Vec<ArgSite>> {
    with_sites(lookup, |s| {
        let rated: Vec<(usize, &Site)> = s
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(name) && c.args.len() == argc)
            .filter_map(|c| score(&c.args).map(|r| (r, c)))
            .collect();
        let best = rated.iter().map(|(r, _)| *r).max()?;
        let mut it = rated.iter().filter(|(r, _)| *r == best).map(|(_, c)| c);
        let mut acc = it.next()?.args.clone();
        for c in it {
            for (a, b) in acc.iter_mut().zip(&c.args) {
                if a.attribute != b.attribute {
                    a.attribute.clear();
                }
                if a.arg_type != b.arg_type {
                    a.arg_type = None;
                }
                if a.constant != b.constant {
                    a.constant = None;
                }
            }
        }
        Some(acc)
    })
}

/// The argument count of the current statement's call sites of `name`, when they
/// all have the same one.
pub(crate) fn arity(name: &str, lookup: Lookup<'_>) -> Option<usize> {
    with_sites(lookup, |s| {
        let mut it = s
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.args.len());
        let n = it.next()?;
        it.all(|m| m == n).then_some(n)
    })
}

/// Declared column types of the tables a statement may read: `(table, columns)`
/// with `columns` as `(name, declared type)`.
type Tables = Vec<(String, Vec<(String, String)>)>;

/// The UDF call sites of `query` (MySQL text) for the functions `udfs` (lower
/// case). `lookup` reads the declared column types of the tables the statement
/// names (schema `main` is the current database `db`). Empty when the text names
/// no UDF or does not tokenize.
pub(crate) fn describe(
    query: &str,
    udfs: &[String],
    db: Option<&str>,
    lookup: Lookup<'_>,
) -> Vec<Site> {
    if udfs.is_empty() {
        return Vec::new();
    }
    let lower = query.to_ascii_lowercase();
    if !udfs.iter().any(|u| lower.contains(u.as_str())) {
        return Vec::new();
    }
    let Ok(toks) = Tokenizer::new(&MySqlDialect {}, query).tokenize() else {
        return Vec::new();
    };
    // Significant tokens (comments and spaces dropped) and, for attributes, the
    // original ones.
    let sig: Vec<usize> = (0..toks.len())
        .filter(|&i| !matches!(toks[i], Token::Whitespace(_) | Token::EOF))
        .collect();
    let mut tables: Option<Tables> = None;
    let mut sites = Vec::new();
    for (k, &i) in sig.iter().enumerate() {
        let Token::Word(w) = &toks[i] else { continue };
        if matches!(w.quote_style, Some(q) if q != '`') {
            continue;
        }
        let name = w.value.to_ascii_lowercase();
        if !udfs.contains(&name) {
            continue;
        }
        let prev_period = k > 0 && matches!(toks[sig[k - 1]], Token::Period);
        if prev_period || !matches!(sig.get(k + 1).map(|&j| &toks[j]), Some(Token::LParen)) {
            continue;
        }
        // The arguments: top-level comma-separated runs up to the matching `)`.
        let mut depth = 0usize;
        let mut args: Vec<Vec<usize>> = vec![Vec::new()];
        let mut closed = false;
        for &j in &sig[k + 2..] {
            match &toks[j] {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => {
                    closed = true;
                    break;
                }
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => {
                    args.push(Vec::new());
                    continue;
                }
                _ => {}
            }
            if let Some(a) = args.last_mut() {
                a.push(j);
            }
        }
        if !closed {
            continue;
        }
        if args.len() == 1 && args[0].is_empty() {
            args.clear();
        }
        let tables = tables.get_or_insert_with(|| statement_tables(&toks, &sig, db, lookup));
        let args = args
            .iter()
            .map(|a| describe_arg(&toks, a, tables))
            .collect();
        sites.push(Site { name, args });
    }
    sites
}

/// One argument, from its significant tokens `idx` (indexes into `toks`).
fn describe_arg(toks: &[Token], idx: &[usize], tables: &Tables) -> ArgSite {
    let first = idx.first().copied().unwrap_or(0);
    let last = idx.last().copied().unwrap_or(0);
    let text: String = if idx.is_empty() {
        String::new()
    } else {
        toks[first..=last]
            .iter()
            .map(|t| match t {
                Token::Whitespace(Whitespace::SingleLineComment { .. })
                | Token::Whitespace(Whitespace::MultiLineComment(_)) => " ".to_string(),
                t => t.to_string(),
            })
            .collect::<String>()
            .trim()
            .to_string()
    };
    let sig: Vec<&Token> = idx.iter().map(|&i| &toks[i]).collect();
    if let Some((v, t, attr)) = literal(&sig) {
        return ArgSite {
            attribute: attr.unwrap_or(text),
            arg_type: Some(t),
            constant: Some(v),
        };
    }
    if let Some((qual, col)) = column_ref(&sig) {
        return ArgSite {
            attribute: col.to_string(),
            arg_type: column_type(tables, qual, col),
            constant: None,
        };
    }
    ArgSite {
        attribute: text,
        arg_type: arithmetic_type(&sig, tables),
        constant: None,
    }
}

/// A literal argument: its value, type and (for strings) attribute — MySQL names
/// a string literal by its value.
fn literal(sig: &[&Token]) -> Option<(Value, UdfArgType, Option<String>)> {
    match sig {
        [Token::Number(n, _)] => number(n, false),
        [Token::Minus, Token::Number(n, _)] => number(n, true),
        [Token::Plus, Token::Number(n, _)] => number(n, false),
        [Token::Word(w)] if w.quote_style.is_none() => {
            match w.value.to_ascii_uppercase().as_str() {
                "NULL" => Some((Value::Null, UdfArgType::String, None)),
                "TRUE" => Some((Value::Int(1), UdfArgType::Integer, None)),
                "FALSE" => Some((Value::Int(0), UdfArgType::Integer, None)),
                _ => None,
            }
        }
        parts if !parts.is_empty() => {
            // 'a' 'b' is 'ab' in MySQL.
            let mut s = String::new();
            for p in parts {
                match p {
                    Token::SingleQuotedString(v) | Token::DoubleQuotedString(v) => s.push_str(v),
                    _ => return None,
                }
            }
            Some((Value::Str(s.clone()), UdfArgType::String, Some(s)))
        }
        _ => None,
    }
}

/// A numeric literal's value and MySQL type.
fn number(n: &str, neg: bool) -> Option<(Value, UdfArgType, Option<String>)> {
    let text = if neg { format!("-{n}") } else { n.to_string() };
    if n.contains(['e', 'E']) {
        let r: f64 = text.parse().ok()?;
        Some((Value::Real(r), UdfArgType::Real, None))
    } else if n.contains('.') {
        Some((Value::Str(text), UdfArgType::Decimal, None))
    } else if let Ok(i) = text.parse::<i64>() {
        Some((Value::Int(i), UdfArgType::Integer, None))
    } else if n.bytes().all(|b| b.is_ascii_digit()) {
        // Beyond BIGINT: MySQL makes it a DECIMAL literal.
        Some((Value::Str(text), UdfArgType::Decimal, None))
    } else {
        None
    }
}

/// `c`, `t.c` or `db.t.c`: the table qualifier (if any) and the column.
fn column_ref<'a>(sig: &[&'a Token]) -> Option<(Option<&'a str>, &'a str)> {
    let word = |t: &'a Token| match t {
        Token::Word(w) if w.quote_style.is_none() || w.quote_style == Some('`') => {
            Some(w.value.as_str())
        }
        _ => None,
    };
    match sig {
        [c] => {
            let c = word(c)?;
            // Keyword-like literals are handled by `literal`; a bare word is a column.
            Some((None, c))
        }
        [t, Token::Period, c] => Some((Some(word(t)?), word(c)?)),
        [_, Token::Period, t, Token::Period, c] => Some((Some(word(t)?), word(c)?)),
        _ => None,
    }
}

/// MySQL's `Item_result` for a declared SQL type.
fn decl_result(decl: &str) -> Option<UdfArgType> {
    let d = decl.to_ascii_uppercase();
    if d.is_empty() {
        None
    } else if d.contains("INT") || d.starts_with("BIT") || d.starts_with("BOOL") || d == "YEAR" {
        Some(UdfArgType::Integer)
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        Some(UdfArgType::Real)
    } else if d.starts_with("DEC") || d.starts_with("NUMERIC") || d.starts_with("FIXED") {
        Some(UdfArgType::Decimal)
    } else {
        Some(UdfArgType::String)
    }
}

/// The declared type of column `col` (of table `qual` if that names one of the
/// statement's tables, else of any of them): `None` if no table has it or tables
/// disagree.
fn column_type(tables: &Tables, qual: Option<&str>, col: &str) -> Option<UdfArgType> {
    let qualified: Vec<&(String, Vec<(String, String)>)> = match qual {
        Some(q) => tables
            .iter()
            .filter(|(t, _)| t.eq_ignore_ascii_case(q))
            .collect(),
        None => Vec::new(),
    };
    let pool: Vec<&(String, Vec<(String, String)>)> = if qualified.is_empty() {
        tables.iter().collect()
    } else {
        qualified
    };
    let mut found: Option<Option<UdfArgType>> = None;
    for (_, cols) in pool {
        for (name, decl) in cols {
            if name.eq_ignore_ascii_case(col) {
                let t = decl_result(decl);
                match found {
                    None => found = Some(t),
                    Some(f) if f != t => return None,
                    Some(_) => {}
                }
            }
        }
    }
    found.flatten()
}

/// MySQL's result type of `+ - * / %` (and `DIV`) over literals and columns of
/// known numeric types; `None` for anything else.
fn arithmetic_type(sig: &[&Token], tables: &Tables) -> Option<UdfArgType> {
    let mut types = Vec::new();
    let mut divides = false;
    let mut k = 0;
    while k < sig.len() {
        match sig[k] {
            Token::LParen | Token::RParen | Token::Plus | Token::Minus | Token::Mul => {}
            Token::Div => divides = true,
            Token::Mod => {}
            Token::Number(n, _) => types.push(number(n, false)?.1),
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("DIV") => {
                // Integer division: INT whatever the operands.
                return Some(UdfArgType::Integer);
            }
            Token::Word(_) => {
                // A column, possibly qualified.
                let mut end = k + 1;
                while end + 1 < sig.len()
                    && matches!(sig[end], Token::Period)
                    && matches!(sig[end + 1], Token::Word(_))
                {
                    end += 2;
                }
                let (qual, col) = column_ref(&sig[k..end])?;
                types.push(column_type(tables, qual, col)?);
                k = end;
                continue;
            }
            _ => return None,
        }
        k += 1;
    }
    if types.is_empty() || types.contains(&UdfArgType::String) {
        return None;
    }
    Some(if types.contains(&UdfArgType::Real) {
        UdfArgType::Real
    } else if divides || types.contains(&UdfArgType::Decimal) {
        UdfArgType::Decimal
    } else {
        UdfArgType::Integer
    })
}

/// The tables (and views) the statement's words name — every `name` and `db.name`
/// that is one, a superset of its FROM lists — with their declared column types.
fn statement_tables(toks: &[Token], sig: &[usize], db: Option<&str>, lookup: Lookup<'_>) -> Tables {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for (k, &i) in sig.iter().enumerate() {
        let Token::Word(w) = &toks[i] else { continue };
        let prev_period = k > 0 && matches!(toks[sig[k - 1]], Token::Period);
        let (schema, table) = if prev_period {
            let Some(Token::Word(s)) = k.checked_sub(2).map(|p| &toks[sig[p]]) else {
                continue;
            };
            let schema = if db.is_some_and(|d| d == s.value) {
                "main".to_string()
            } else {
                s.value.clone()
            };
            (schema, w.value.clone())
        } else {
            ("main".to_string(), w.value.clone())
        };
        let key = (schema.to_ascii_lowercase(), table.to_ascii_lowercase());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let cols = lookup(&schema, &table);
        if !cols.is_empty() {
            out.push((table, cols));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> rusqlite::Connection {
        let c = rusqlite::Connection::open_in_memory().expect("memory db");
        c.execute_batch(
            "CREATE TABLE t(qty INT, price DOUBLE, d DECIMAL(10,2), s VARCHAR(10), dt DATETIME);
             CREATE TABLE u(qty VARCHAR(5), z BIGINT);",
        )
        .expect("schema");
        c
    }

    /// `describe` with the columns of `c`.
    fn describe_in(c: &rusqlite::Connection, query: &str) -> Vec<Site> {
        let mut lookup = |schema: &str, table: &str| -> Vec<(String, String)> {
            let Ok(mut st) = c.prepare("SELECT name, type FROM pragma_table_info(?1, ?2)") else {
                return Vec::new();
            };
            st.query_map([table, schema], |r| Ok((r.get(0)?, r.get(1)?)))
                .map(|rows| rows.filter_map(Result::ok).collect())
                .unwrap_or_default()
        };
        describe(query, &udfs(), None, &mut lookup)
    }

    fn udfs() -> Vec<String> {
        vec!["f".to_string(), "g".to_string()]
    }

    #[test]
    fn literals_columns_and_expressions() {
        let c = conn();
        let s = describe_in(
            &c,
            "SELECT f(12, -1.50, 2e0, 'ab' 'c', NULL, TRUE, price, t.d, s, dt, z, qty * 2 + price, d / 2, `s`) FROM t",
        );
        assert_eq!(s.len(), 1);
        let a = &s[0].args;
        let ty: Vec<Option<UdfArgType>> = a.iter().map(|x| x.arg_type).collect();
        use UdfArgType::*;
        assert_eq!(
            ty,
            [
                Some(Integer),
                Some(Decimal),
                Some(Real),
                Some(String),
                Some(String),
                Some(Integer),
                Some(Real),
                Some(Decimal),
                Some(String),
                Some(String),
                None, // z is only in u, which the statement does not name
                Some(Real),
                Some(Decimal),
                Some(String),
            ]
        );
        assert_eq!(a[0].constant, Some(Value::Int(12)));
        assert_eq!(a[1].constant, Some(Value::Str("-1.50".into())));
        assert_eq!(a[3].constant, Some(Value::Str("abc".into())));
        assert_eq!(a[3].attribute, "abc");
        assert_eq!(a[4].constant, Some(Value::Null));
        assert_eq!(a[6].constant, None);
        assert_eq!(a[7].attribute, "d");
        assert_eq!(a[11].attribute, "qty * 2 + price");
        assert_eq!(a[1].attribute, "-1.50");
    }

    #[test]
    fn ambiguous_columns_and_call_sites() {
        let c = conn();
        // qty is INT in t and VARCHAR in u: unknown unless qualified.
        let s = describe_in(&c, "SELECT f(qty), f(t.qty), g(u.qty), f() FROM t JOIN u");
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].args[0].arg_type, None);
        assert_eq!(s[1].args[0].arg_type, Some(UdfArgType::Integer));
        assert_eq!(s[2].args[0].arg_type, Some(UdfArgType::String));
        assert!(s[3].args.is_empty());
        let _g = enter(
            "SELECT f(qty), f(t.qty), g(u.qty), f() FROM t JOIN u",
            &std::sync::Arc::from(udfs()),
            None,
        );
        let mut lookup = |schema: &str, table: &str| -> Vec<(String, String)> {
            let Ok(mut st) = c.prepare("SELECT name, type FROM pragma_table_info(?1, ?2)") else {
                return Vec::new();
            };
            st.query_map([table, schema], |r| Ok((r.get(0)?, r.get(1)?)))
                .map(|rows| rows.filter_map(Result::ok).collect())
                .unwrap_or_default()
        };
        let one = for_call("f", 1, &mut lookup, |_| Some(0)).expect("f/1");
        assert_eq!(one[0].attribute, "qty");
        assert_eq!(one[0].arg_type, None);
        assert_eq!(
            for_call("G", 1, &mut lookup, |_| Some(0)).expect("g/1")[0].arg_type,
            Some(UdfArgType::String)
        );
        assert!(for_call("f", 2, &mut lookup, |_| Some(0)).is_none());
        // A score picks among call sites: here the qualified one.
        let t = for_call("f", 1, &mut lookup, |a| {
            (a[0].arg_type == Some(UdfArgType::Integer)).then_some(1)
        });
        assert_eq!(t.expect("f/1")[0].attribute, "qty");
        assert!(for_call("f", 1, &mut lookup, |_| None).is_none());
        assert_eq!(arity("g", &mut lookup), Some(1));
        assert_eq!(arity("f", &mut lookup), None);
    }

    #[test]
    fn not_calls() {
        let c = conn();
        assert!(describe_in(&c, "SELECT f FROM t").is_empty());
        assert!(describe_in(&c, "SELECT x.f(1) FROM t").is_empty());
        assert!(describe_in(&c, "SELECT 'f(1)'").is_empty());
        assert!(describe_in(&c, "SELECT f(1").is_empty());
        assert!(describe_in(&c, "SELECT h(1)").is_empty());
    }
}
