//! MySQL's default string comparison: `utf8mb4_general_ci` (case-insensitive,
//! trailing spaces ignored), registered on every SQLite connection under
//! MySQL's collation names and attached to the character columns of
//! `CREATE TABLE` unless they are binary (`BINARY`, `VARBINARY`, `BLOB`, a
//! `*_bin` collation or `CHARACTER SET binary`). `WHERE name = 'ALICE'` then
//! finds `alice`, `ORDER BY name` ignores case and a UNIQUE index on a text
//! column refuses `Alice` next to `alice`, as in MySQL.

use std::cmp::Ordering;

use rusqlite::Connection;
use sqlparser::tokenizer::Token;

/// The collation attached to character columns.
pub const DEFAULT: &str = "utf8mb4_general_ci";

/// Case-insensitive collations (all compare as `utf8mb4_general_ci`).
const CI: &[&str] = &[
    "utf8mb4_general_ci",
    "utf8mb3_general_ci",
    "utf8_general_ci",
    "utf8mb4_unicode_ci",
    "utf8mb4_0900_ai_ci",
    "latin1_swedish_ci",
];

/// Binary collations (byte order, trailing spaces ignored as MySQL's PAD SPACE).
const BIN: &[&str] = &["utf8mb4_bin", "utf8mb3_bin", "utf8_bin", "latin1_bin"];

/// The `general_ci` weight of a character: its simple uppercase.
#[inline]
fn weight(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Compares as `utf8mb4_general_ci`: case-insensitive, trailing spaces ignored.
pub fn general_ci(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_end_matches(' '), b.trim_end_matches(' '));
    if a.is_ascii() && b.is_ascii() {
        let (x, y) = (a.as_bytes(), b.as_bytes());
        for (p, q) in x.iter().zip(y) {
            match p.to_ascii_uppercase().cmp(&q.to_ascii_uppercase()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        return x.len().cmp(&y.len());
    }
    a.chars().map(weight).cmp(b.chars().map(weight))
}

/// Registers MySQL's collation names on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    for name in CI {
        conn.create_collation(*name, general_ci)?;
    }
    for name in BIN {
        conn.create_collation(*name, |a: &str, b: &str| {
            a.trim_end_matches(' ').cmp(b.trim_end_matches(' '))
        })?;
    }
    Ok(())
}

fn is_kw(t: &Token, k: &str) -> bool {
    matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(k))
}

/// The SQLite collation for a `CREATE TABLE` column of type `ty` with column
/// options `opts`: `None` for non-character and binary columns (they keep
/// SQLite's byte comparison).
pub fn for_column(ty: &[Token], opts: &[Token]) -> Option<&'static str> {
    let base = ty.first()?;
    let text = [
        "CHAR",
        "VARCHAR",
        "NCHAR",
        "NVARCHAR",
        "CHARACTER",
        "TEXT",
        "TINYTEXT",
        "MEDIUMTEXT",
        "LONGTEXT",
        "ENUM",
        "SET",
    ]
    .iter()
    .any(|k| is_kw(base, k));
    if !text {
        return None;
    }
    let name_after = |i: usize| -> Option<String> {
        opts[i + 1..]
            .iter()
            .find(|t| !matches!(t, Token::Whitespace(_) | Token::Eq))
            .and_then(|n| match n {
                Token::Word(w) => Some(w.value.to_ascii_lowercase()),
                Token::SingleQuotedString(s) => Some(s.to_ascii_lowercase()),
                _ => None,
            })
    };
    for (i, t) in opts.iter().enumerate() {
        if is_kw(t, "BINARY") {
            return None;
        }
        let names_one = is_kw(t, "COLLATE")
            || is_kw(t, "CHARSET")
            || (is_kw(t, "SET") && i > 0 && is_kw(&opts[i - 1], "CHARACTER"));
        if names_one && name_after(i).is_some_and(|v| v == "binary" || v.ends_with("_bin")) {
            return None;
        }
    }
    Some(DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_ci_order() {
        assert_eq!(general_ci("alice", "ALICE"), Ordering::Equal);
        assert_eq!(general_ci("alice ", "ALICE"), Ordering::Equal);
        assert_eq!(general_ci("Émile", "émile"), Ordering::Equal);
        assert_eq!(general_ci("a", "B"), Ordering::Less);
        assert_eq!(general_ci("b", "A"), Ordering::Greater);
        assert_eq!(general_ci("ab", "a"), Ordering::Greater);
    }

    fn toks(s: &str) -> Vec<Token> {
        sqlparser::tokenizer::Tokenizer::new(&sqlparser::dialect::MySqlDialect {}, s)
            .tokenize()
            .expect("tokens")
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_)))
            .collect()
    }

    #[test]
    fn which_columns() {
        let c = |ty: &str, opts: &str| for_column(&toks(ty), &toks(opts));
        assert_eq!(c("VARCHAR(10)", "NOT NULL"), Some(DEFAULT));
        assert_eq!(c("text", ""), Some(DEFAULT));
        assert_eq!(c("VARCHAR(10)", "COLLATE utf8mb4_bin"), None);
        assert_eq!(c("VARCHAR(10)", "CHARACTER SET binary"), None);
        assert_eq!(c("CHAR(3)", "BINARY"), None);
        assert_eq!(c("VARBINARY(10)", ""), None);
        assert_eq!(c("BLOB", ""), None);
        assert_eq!(c("INT", ""), None);
        assert_eq!(
            c(
                "VARCHAR(10)",
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ),
            Some(DEFAULT)
        );
    }
}
