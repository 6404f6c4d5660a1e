//! MySQL DDL that SQLite lacks: `ALTER TABLE` with several alterations
//! (`MODIFY`, `CHANGE`, `ALTER COLUMN … SET/DROP DEFAULT`, `ADD/DROP INDEX`,
//! `ADD/DROP PRIMARY KEY`, `FIRST`/`AFTER`, …), `CREATE TABLE … LIKE`,
//! `RENAME TABLE a TO b, c TO d`, `DROP INDEX i ON t` (error 1091 when
//! unknown) and `DROP TEMPORARY TABLE`.
//!
//! SQLite cannot change a column's type or constraints in place; such an
//! `ALTER TABLE` follows SQLite's documented rebuild procedure
//! (<https://sqlite.org/lang_altertable.html#otheralter>) inside one
//! savepoint: create the new table, copy the rows, drop the old table,
//! rename the new one, recreate the indexes. Either all of it happens or none.
//!
//! Index names: SQLite's index names are per database, MySQL's per table, so
//! an index `i` of table `t` is stored as `t_i` (as `CREATE TABLE` already
//! does for inline keys); lookups also accept the bare name.

use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::compat::{close_paren, kw, mysql_text, split_commas};
use super::{Outcome, rewrite};
use crate::error::{SqlError, code};
use crate::protocol::Cell;
use crate::session::Session;
use crate::status::Com;

/// A column of a table as SQLite stores it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    /// SQLite tokens after the name (type, constraints).
    def: Vec<Token>,
    /// Expression copying the old value (`None`: a new column, its default).
    src: Option<String>,
}

/// An index as SQLite stores it.
#[derive(Debug, Clone)]
struct Index {
    name: String,
    unique: bool,
    /// SQLite tokens from the column list's `(` to the end.
    rest: Vec<Token>,
}

/// A table definition parsed from `sqlite_master`.
#[derive(Debug, Clone)]
struct Table {
    /// SQLite schema (`main`, `temp`, `"db"`).
    schema: String,
    name: String,
    columns: Vec<Column>,
    /// Table constraints (SQLite tokens).
    constraints: Vec<Vec<Token>>,
    /// Tokens after the closing `)` (`WITHOUT ROWID`, `STRICT`).
    tail: Vec<Token>,
    indexes: Vec<Index>,
}

/// Where `ADD`/`MODIFY`/`CHANGE` puts a column.
#[derive(Debug, Clone, PartialEq)]
enum Pos {
    Keep,
    First,
    After(String),
}

/// MySQL's name of a UNIQUE table constraint: its `CONSTRAINT` name, else its first column.
fn unique_name(k: &[Token]) -> Option<&str> {
    if !has_kw(k, "UNIQUE") {
        return None;
    }
    if kw(k.first()?, "CONSTRAINT") {
        return k.get(1).and_then(word_value);
    }
    k.iter()
        .skip_while(|t| **t != Token::LParen)
        .find_map(word_value)
}

/// The MySQL key name of the UNIQUE constraint over `cols` in table SQL `sql`.
pub(super) fn unique_key_name(sql: &str, cols: &[String]) -> Option<String> {
    let t = sqlite_tokens(sql).ok()?;
    let open = t.iter().position(|x| *x == Token::LParen)?;
    let close = close_paren(&t, open)?;
    for part in split_commas(&t[open + 1..close]) {
        if part.first().is_some_and(is_constraint) && has_kw(part, "UNIQUE") {
            let lp = part.iter().position(|x| *x == Token::LParen)?;
            let kc: Vec<&str> = part[lp..].iter().filter_map(word_value).collect();
            if kc.len() == cols.len() && kc.iter().zip(cols).all(|(a, b)| a.eq_ignore_ascii_case(b))
            {
                return unique_name(part).map(str::to_string);
            }
        }
    }
    None
}

fn sqlite_tokens(sql: &str) -> Result<Vec<Token>, SqlError> {
    let toks = Tokenizer::new(&SQLiteDialect {}, sql)
        .tokenize()
        .map_err(|e| SqlError::internal(format!("stored schema: {e}")))?;
    Ok(toks
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
        .collect())
}

/// SQLite tokens back to SQLite text.
fn sqlite_text(toks: &[Token]) -> String {
    let mut s = String::new();
    let mut prev: Option<&Token> = None;
    for t in toks {
        let tight = matches!(t, Token::Period | Token::RParen | Token::Comma)
            || matches!(prev, Some(Token::Period | Token::LParen))
            || (matches!(t, Token::LParen) && matches!(prev, Some(Token::Word(_))));
        if !s.is_empty() && !tight {
            s.push(' ');
        }
        prev = Some(t);
        match t {
            Token::Word(w) if w.quote_style.is_some() => s.push_str(&ident(&w.value)),
            Token::SingleQuotedString(v) | Token::DoubleQuotedString(v) => {
                s.push_str(&rewrite::quote_str(v))
            }
            other => s.push_str(&other.to_string()),
        }
    }
    s
}

/// An SQLite quoted identifier.
use super::rewrite::quote_ident as ident;

fn word_value(t: &Token) -> Option<&str> {
    match t {
        Token::Word(w) => Some(&w.value),
        _ => None,
    }
}

fn is_constraint(first: &Token) -> bool {
    ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
        .iter()
        .any(|k| kw(first, k))
}

/// Replaces the column name `from` by `to` in a token list.
fn rename_in(toks: &mut [Token], from: &str, to: &str) {
    for t in toks.iter_mut() {
        if word_value(t).is_some_and(|v| v.eq_ignore_ascii_case(from)) {
            *t = Token::make_word(to, Some('"'));
        }
    }
}

fn mentions(toks: &[Token], col: &str) -> bool {
    toks.iter()
        .any(|t| word_value(t).is_some_and(|v| v.eq_ignore_ascii_case(col)))
}

fn has_kw(toks: &[Token], k: &str) -> bool {
    toks.iter().any(|t| kw(t, k))
}

fn bad_column(col: &str, table: &str) -> SqlError {
    SqlError::new(
        code::ER_BAD_FIELD_ERROR,
        format!("Unknown column '{col}' in '{table}'"),
    )
}

fn cant_drop(what: &str) -> SqlError {
    SqlError::new(
        code::ER_CANT_DROP_FIELD_OR_KEY,
        format!("Can't DROP '{what}'; check that column/key exists"),
    )
}

/// A MySQL column definition (name first) as SQLite tokens, through the
/// `CREATE TABLE` adaptation (`AUTO_INCREMENT`, `ENUM`, `COMMENT`, …).
fn sqlite_column(mysql: &[Token]) -> Result<Column, SqlError> {
    let text = format!("CREATE TABLE `x` ({})", mysql_text(mysql));
    let sql = rewrite::create_table(&rewrite::tokenize(&text)?)?;
    let t = sqlite_tokens(&sql)?;
    let open = t
        .iter()
        .position(|x| *x == Token::LParen)
        .ok_or_else(|| SqlError::parse(&mysql_text(mysql), "column definition expected"))?;
    let close = close_paren(&t, open)
        .ok_or_else(|| SqlError::parse(&mysql_text(mysql), "unbalanced parentheses"))?;
    let part = split_commas(&t[open + 1..close])
        .into_iter()
        .next()
        .unwrap_or(&[]);
    let name = part
        .first()
        .and_then(word_value)
        .ok_or_else(|| SqlError::parse(&mysql_text(mysql), "column name expected"))?;
    Ok(Column {
        name: name.to_string(),
        def: part[1..].to_vec(),
        src: None,
    })
}

/// `(a(10), b DESC)` MySQL key columns → SQLite `("a", "b" DESC)`.
fn key_columns(mysql: &[Token]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut j = 0;
    while j < mysql.len() {
        if j > 0
            && mysql[j] == Token::LParen
            && matches!(mysql[j - 1], Token::Word(_))
            && matches!(mysql.get(j + 1), Some(Token::Number(..)))
            && mysql.get(j + 2) == Some(&Token::RParen)
        {
            j += 3;
            continue;
        }
        out.push(mysql[j].clone());
        j += 1;
    }
    out
}

/// The text of a column list `(…)` starting at `toks[open]`.
fn paren_list(toks: &[Token], open: usize) -> Result<Vec<Token>, SqlError> {
    let close = close_paren(toks, open)
        .ok_or_else(|| SqlError::parse(&mysql_text(toks), "column list expected"))?;
    Ok(key_columns(&toks[open..=close]))
}

impl Table {
    fn find(&self, col: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(col))
    }

    fn place(&mut self, c: Column, pos: &Pos, at: usize) -> Result<(), SqlError> {
        let i = match pos {
            Pos::Keep => at.min(self.columns.len()),
            Pos::First => 0,
            Pos::After(a) => self.find(a).ok_or_else(|| bad_column(a, &self.name))? + 1,
        };
        self.columns.insert(i, c);
        Ok(())
    }

    fn has_pk(&self) -> bool {
        self.columns.iter().any(|c| has_kw(&c.def, "PRIMARY"))
            || self.constraints.iter().any(|c| has_kw(c, "PRIMARY"))
    }

    /// `CREATE TABLE schema.name (…)`.
    fn create_sql(&self, name: &str) -> String {
        let mut parts: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{} {}", ident(&c.name), sqlite_text(&c.def)))
            .collect();
        parts.extend(self.constraints.iter().map(|c| sqlite_text(c)));
        format!(
            "CREATE TABLE {}.{} ({}) {}",
            self.schema,
            ident(name),
            parts.join(", "),
            sqlite_text(&self.tail)
        )
    }

    fn index_sql(&self, ix: &Index) -> String {
        format!(
            "CREATE {}INDEX {}.{} ON {} {}",
            if ix.unique { "UNIQUE " } else { "" },
            self.schema,
            ident(&ix.name),
            ident(&self.name),
            sqlite_text(&ix.rest)
        )
    }

    /// The SQLite name of MySQL index `name`.
    fn resolve_index(&self, name: &str) -> Option<usize> {
        let prefixed = format!("{}_{name}", self.name);
        let suffix = format!("_{name}");
        self.indexes
            .iter()
            .position(|i| i.name.eq_ignore_ascii_case(name))
            .or_else(|| {
                self.indexes
                    .iter()
                    .position(|i| i.name.eq_ignore_ascii_case(&prefixed))
            })
            .or_else(|| {
                let m: Vec<usize> = (0..self.indexes.len())
                    .filter(|&k| self.indexes[k].name.ends_with(&suffix))
                    .collect();
                (m.len() == 1).then(|| m[0])
            })
    }

    fn rename_column(&mut self, from: &str, to: &str) {
        for c in &mut self.constraints {
            rename_in(c, from, to);
        }
        for ix in &mut self.indexes {
            rename_in(&mut ix.rest, from, to);
        }
    }
}

/// One alteration of `ALTER TABLE`.
#[derive(Debug)]
enum Alter {
    AddColumn(Vec<Token>, Pos),
    /// (old name, new definition with its name, position)
    Change(String, Vec<Token>, Pos),
    DropColumn(String, bool),
    SetDefault(String, Option<Vec<Token>>),
    RenameColumn(String, String),
    RenameTable(Vec<Token>),
    AddIndex {
        unique: bool,
        name: Option<String>,
        cols: Vec<Token>,
        if_not_exists: bool,
    },
    AddConstraint(Vec<Token>),
    AddPrimary(Vec<Token>),
    DropIndex(String, bool),
    DropPrimary,
    DropConstraint(String),
    /// `AUTO_INCREMENT = n`: the next generated id.
    AutoIncrement(i64),
    Nothing,
}

fn take_pos(spec: &[Token]) -> (Vec<Token>, Pos) {
    let n = spec.len();
    if n >= 1 && kw(&spec[n - 1], "FIRST") {
        return (spec[..n - 1].to_vec(), Pos::First);
    }
    if n >= 2 && kw(&spec[n - 2], "AFTER") {
        if let Some(a) = word_value(&spec[n - 1]) {
            return (spec[..n - 2].to_vec(), Pos::After(a.to_string()));
        }
    }
    (spec.to_vec(), Pos::Keep)
}

fn skip(spec: &[Token], mut i: usize, words: &[&str]) -> usize {
    while spec.get(i).is_some_and(|t| words.iter().any(|k| kw(t, k))) {
        i += 1;
    }
    i
}

fn name_at(spec: &[Token], i: usize) -> Result<String, SqlError> {
    spec.get(i)
        .and_then(word_value)
        .map(str::to_string)
        .ok_or_else(|| SqlError::parse(&mysql_text(&spec[i.min(spec.len())..]), "name expected"))
}

/// Parses one comma-separated alteration.
fn parse_alter(spec: &[Token]) -> Result<Vec<Alter>, SqlError> {
    let near = || SqlError::parse(&mysql_text(spec), "");
    let Some(first) = spec.first() else {
        return Err(near());
    };
    let at = |i: usize, k: &str| spec.get(i).is_some_and(|t| kw(t, k));
    if kw(first, "ADD") {
        let mut i = 1;
        // ADD [CONSTRAINT [sym]] PRIMARY KEY | UNIQUE | FOREIGN KEY | CHECK
        let mut symbol = None;
        if at(i, "CONSTRAINT") {
            i += 1;
            if !at(i, "PRIMARY") && !at(i, "UNIQUE") && !at(i, "FOREIGN") && !at(i, "CHECK") {
                symbol = spec.get(i).and_then(word_value).map(str::to_string);
                i += 1;
            }
        }
        if at(i, "PRIMARY") && at(i + 1, "KEY") {
            let open = spec
                .iter()
                .position(|t| *t == Token::LParen)
                .ok_or_else(near)?;
            return Ok(vec![Alter::AddPrimary(paren_list(spec, open)?)]);
        }
        let unique = at(i, "UNIQUE");
        let index_word = ["INDEX", "KEY", "FULLTEXT", "SPATIAL"]
            .iter()
            .any(|k| at(i, k));
        if unique || index_word {
            i = skip(spec, i, &["UNIQUE", "FULLTEXT", "SPATIAL", "INDEX", "KEY"]);
            let mut if_not_exists = false;
            if at(i, "IF") {
                if_not_exists = true;
                i = skip(spec, i, &["IF", "NOT", "EXISTS"]);
            }
            // MySQL names a UNIQUE constraint's index after the constraint symbol.
            let mut name = symbol;
            if spec.get(i) != Some(&Token::LParen) && !at(i, "USING") {
                name = Some(name_at(spec, i)?);
                i += 1;
            }
            let open = spec[i..]
                .iter()
                .position(|t| *t == Token::LParen)
                .map(|k| k + i)
                .ok_or_else(near)?;
            return Ok(vec![Alter::AddIndex {
                unique,
                name,
                cols: paren_list(spec, open)?,
                if_not_exists,
            }]);
        }
        if at(i, "FOREIGN") || at(i, "CHECK") || at(1, "CONSTRAINT") {
            return Ok(vec![Alter::AddConstraint(spec[1..].to_vec())]);
        }
        // ADD [COLUMN] [IF NOT EXISTS] def | (def, def)
        i = skip(spec, i, &["COLUMN"]);
        if at(i, "IF") {
            i = skip(spec, i, &["IF", "NOT", "EXISTS"]);
        }
        if spec.get(i) == Some(&Token::LParen) {
            let close = close_paren(spec, i).ok_or_else(near)?;
            return Ok(split_commas(&spec[i + 1..close])
                .into_iter()
                .map(|d| Alter::AddColumn(d.to_vec(), Pos::Keep))
                .collect());
        }
        let (def, pos) = take_pos(&spec[i..]);
        return Ok(vec![Alter::AddColumn(def, pos)]);
    }
    if kw(first, "DROP") {
        // The name is the last word: nothing may follow it.
        let exact = |i: usize| {
            if i + 1 == spec.len() {
                Ok(())
            } else {
                Err(near())
            }
        };
        if at(1, "PRIMARY") && at(2, "KEY") {
            exact(2)?;
            return Ok(vec![Alter::DropPrimary]);
        }
        if at(1, "INDEX") || at(1, "KEY") {
            let mut i = 2;
            let if_exists = at(i, "IF");
            if if_exists {
                i += 2;
            }
            exact(i)?;
            return Ok(vec![Alter::DropIndex(name_at(spec, i)?, if_exists)]);
        }
        if at(1, "FOREIGN") || at(1, "CONSTRAINT") || at(1, "CHECK") {
            let i = skip(
                spec,
                1,
                &["FOREIGN", "KEY", "CONSTRAINT", "CHECK", "IF", "EXISTS"],
            );
            exact(i)?;
            return Ok(vec![Alter::DropConstraint(name_at(spec, i)?)]);
        }
        let mut i = skip(spec, 1, &["COLUMN"]);
        let if_exists = at(i, "IF");
        if if_exists {
            i += 2;
        }
        let end = skip(spec, i + 1, &["RESTRICT", "CASCADE"]);
        if end != spec.len() {
            return Err(near());
        }
        return Ok(vec![Alter::DropColumn(name_at(spec, i)?, if_exists)]);
    }
    if kw(first, "MODIFY") || kw(first, "CHANGE") {
        let mut i = skip(spec, 1, &["COLUMN"]);
        if at(i, "IF") {
            i += 2;
        }
        let old = name_at(spec, i)?;
        if kw(first, "CHANGE") {
            i += 1;
        }
        let (def, pos) = take_pos(&spec[i..]);
        return Ok(vec![Alter::Change(old, def, pos)]);
    }
    if kw(first, "ALTER") {
        let i = skip(spec, 1, &["COLUMN"]);
        let col = name_at(spec, i)?;
        if at(i + 1, "SET") && at(i + 2, "DEFAULT") {
            return Ok(vec![Alter::SetDefault(col, Some(spec[i + 3..].to_vec()))]);
        }
        if at(i + 1, "DROP") && at(i + 2, "DEFAULT") {
            return Ok(vec![Alter::SetDefault(col, None)]);
        }
        return Err(near());
    }
    if kw(first, "RENAME") {
        if at(1, "COLUMN") {
            if !at(3, "TO") || spec.len() != 5 {
                return Err(near());
            }
            return Ok(vec![Alter::RenameColumn(
                name_at(spec, 2)?,
                name_at(spec, 4)?,
            )]);
        }
        if at(1, "INDEX") || at(1, "KEY") {
            return Err(SqlError::new(
                code::ER_NOT_SUPPORTED_YET,
                "This version of Minnow doesn't yet support 'RENAME INDEX'",
            ));
        }
        let i = skip(spec, 1, &["TO", "AS"]);
        match table_name(spec, i) {
            Some((_, _, used)) if i + used == spec.len() => {}
            _ => return Err(near()),
        }
        return Ok(vec![Alter::RenameTable(spec[i..].to_vec())]);
    }
    // Table options and algorithm hints: nothing to do for SQLite.
    let ignored = [
        "ENGINE",
        "DEFAULT",
        "CHARSET",
        "CHARACTER",
        "COLLATE",
        "COMMENT",
        "AUTO_INCREMENT",
        "ROW_FORMAT",
        "CONVERT",
        "ALGORITHM",
        "LOCK",
        "FORCE",
        "KEY_BLOCK_SIZE",
        "STATS_PERSISTENT",
        "STATS_AUTO_RECALC",
        "STATS_SAMPLE_PAGES",
        "PACK_KEYS",
        "CHECKSUM",
        "DELAY_KEY_WRITE",
        "MAX_ROWS",
        "MIN_ROWS",
        "AVG_ROW_LENGTH",
        "ORDER",
    ];
    if ignored.iter().any(|k| kw(first, k)) {
        // Table options may follow each other without commas; AUTO_INCREMENT = n counts.
        for (k, t) in spec.iter().enumerate() {
            if kw(t, "AUTO_INCREMENT") {
                let v = if spec.get(k + 1) == Some(&Token::Eq) {
                    spec.get(k + 2)
                } else {
                    spec.get(k + 1)
                };
                match v {
                    Some(Token::Number(n, _)) => {
                        let n = n.parse::<i64>().map_err(|_| near())?;
                        return Ok(vec![Alter::AutoIncrement(n)]);
                    }
                    _ => return Err(near()),
                }
            }
        }
        return Ok(vec![Alter::Nothing]);
    }
    Err(near())
}

/// `[db.]name` at `t[i..]`: (database, table, tokens used).
fn table_name(t: &[Token], i: usize) -> Option<(Option<String>, String, usize)> {
    let a = word_value(t.get(i)?)?.to_string();
    if t.get(i + 1) == Some(&Token::Period) {
        let b = word_value(t.get(i + 2)?)?.to_string();
        return Some((Some(a), b, 3));
    }
    Some((None, a, 1))
}

impl Session {
    /// DDL forms handled here; `None` for the ordinary path.
    pub(super) fn ddl_intercept(
        &mut self,
        t: &[Token],
        w0: &str,
        w1: &str,
    ) -> Result<Option<Outcome>, SqlError> {
        match (w0, w1) {
            ("ALTER", "TABLE" | "ONLINE" | "IGNORE") => {
                let all: Vec<&Token> = t.iter().collect();
                let n = all.len();
                // DISABLE/ENABLE KEYS stays with the ordinary path.
                if n >= 2 && (kw(all[n - 2], "DISABLE") || kw(all[n - 2], "ENABLE")) {
                    return Ok(None);
                }
                self.bump(Com::AlterTable);
                let i = skip(t, 1, &["ONLINE", "IGNORE", "TABLE"]);
                let i = if t.get(i).is_some_and(|x| kw(x, "IF")) {
                    i + 2
                } else {
                    i
                };
                let (db, name, used) =
                    table_name(t, i).ok_or_else(|| SqlError::parse(&mysql_text(t), ""))?;
                self.deny_write_at(t, i)?;
                let mut alters = Vec::new();
                if i + used < t.len() {
                    for spec in split_commas(&t[i + used..]) {
                        alters.extend(parse_alter(spec)?);
                    }
                }
                self.alter_table(db.as_deref(), &name, alters).map(Some)
            }
            ("TRUNCATE", _) => self.truncate(t).map(Some),
            ("DROP", "TABLE" | "TABLES") => {
                self.bump(Com::DropTable);
                self.drop_tables(&t[2..]).map(Some)
            }
            ("CREATE", "INDEX" | "UNIQUE" | "FULLTEXT" | "SPATIAL") => {
                // CREATE [UNIQUE] INDEX i [USING …] ON t (cols) ≡ ALTER TABLE t ADD [UNIQUE] INDEX i (cols)
                self.bump(Com::CreateIndex);
                let unique = w1 == "UNIQUE";
                let mut i = skip(t, 1, &["UNIQUE", "FULLTEXT", "SPATIAL", "INDEX"]);
                let if_not_exists = t.get(i).is_some_and(|x| kw(x, "IF"));
                if if_not_exists {
                    i += 3;
                }
                let ix = name_at(t, i)?;
                let on = t[i..]
                    .iter()
                    .position(|x| kw(x, "ON"))
                    .map(|k| k + i)
                    .ok_or_else(|| SqlError::parse(&mysql_text(t), "ON expected"))?;
                let (db, name, used) =
                    table_name(t, on + 1).ok_or_else(|| SqlError::parse(&mysql_text(t), ""))?;
                self.deny_write_at(t, on + 1)?;
                let open = on + 1 + used;
                if t.get(open) != Some(&Token::LParen) {
                    return Err(SqlError::parse(
                        &mysql_text(&t[open.min(t.len())..]),
                        "column list expected",
                    ));
                }
                let cols = paren_list(t, open)?;
                self.alter_table(
                    db.as_deref(),
                    &name,
                    vec![Alter::AddIndex {
                        unique,
                        name: Some(ix),
                        cols,
                        if_not_exists,
                    }],
                )
                .map(Some)
            }
            ("DROP", "INDEX") => {
                // DROP INDEX i ON t ≡ ALTER TABLE t DROP INDEX i
                self.bump(Com::DropIndex);
                self.deny_write_at(t, 4)?;
                let ix = name_at(t, 2)?;
                if !t.get(3).is_some_and(|x| kw(x, "ON")) {
                    return Err(SqlError::parse(&mysql_text(t), "DROP INDEX needs ON table"));
                }
                let (db, name, used) =
                    table_name(t, 4).ok_or_else(|| SqlError::parse(&mysql_text(t), ""))?;
                // Only ALGORITHM / LOCK options may follow.
                let rest = &t[4 + used..];
                if rest
                    .first()
                    .is_some_and(|x| !kw(x, "ALGORITHM") && !kw(x, "LOCK"))
                {
                    return Err(SqlError::parse(&mysql_text(rest), ""));
                }
                self.alter_table(db.as_deref(), &name, vec![Alter::DropIndex(ix, false)])
                    .map(Some)
            }
            ("DROP", "TEMPORARY") => {
                self.bump(Com::DropTable);
                let mut i = skip(t, 1, &["TEMPORARY", "TABLE", "TABLES"]);
                let if_exists = t.get(i).is_some_and(|x| kw(x, "IF"));
                if if_exists {
                    i += 2;
                }
                let mut dropped = Vec::new();
                for part in split_commas(&t[i..]) {
                    let (_, name, _) = table_name(part, 0)
                        .ok_or_else(|| SqlError::parse(&mysql_text(part), "table name expected"))?;
                    let exists = !self
                        .query_rows(
                            "SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND name = ?1",
                            &[Cell::Text(name.clone())],
                            &[],
                        )?
                        .rows
                        .is_empty();
                    if !exists {
                        if if_exists {
                            self.warnings.push((
                                code::ER_BAD_TABLE_ERROR,
                                format!("Unknown table '{name}'"),
                            ));
                            continue;
                        }
                        return Err(SqlError::new(
                            code::ER_BAD_TABLE_ERROR,
                            format!("Unknown table '{name}'"),
                        ));
                    }
                    dropped.push(name);
                }
                for name in dropped {
                    // Temporary tables are not transactional in MySQL either.
                    self.exec_batch(&format!("DROP TABLE temp.{}", ident(&name)))?;
                }
                Ok(Some(Outcome::ok(0)))
            }
            ("RENAME", "TABLE" | "TABLES") => {
                self.bump(Com::Other);
                self.rename_tables(&t[2..]).map(Some)
            }
            ("CREATE", "TABLE" | "TEMPORARY") => {
                let mut i = skip(t, 1, &["TEMPORARY", "TABLE"]);
                let temporary = kw(&t[1], "TEMPORARY");
                let if_not_exists = t.get(i).is_some_and(|x| kw(x, "IF"));
                if if_not_exists {
                    i += 3;
                }
                let Some((db, name, used)) = table_name(t, i) else {
                    return Ok(None);
                };
                let mut j = i + used;
                if if_not_exists {
                    let schema = if temporary {
                        "temp".to_string()
                    } else {
                        self.table_schema(db.as_deref())?.0
                    };
                    if self.table_exists(&schema, &name)? {
                        // MySQL: a note, and nothing else happens.
                        self.bump(Com::CreateTable);
                        self.warnings.push((
                            code::ER_TABLE_EXISTS_ERROR,
                            format!("Table '{name}' already exists"),
                        ));
                        return Ok(Some(Outcome::ok(0)));
                    }
                }
                if t.get(j).is_some_and(|x| kw(x, "SELECT") || kw(x, "WITH")) {
                    // MySQL's `CREATE TABLE t SELECT …` is `… AS SELECT …`.
                    let text = format!("{} AS {}", mysql_text(&t[..j]), mysql_text(&t[j..]));
                    return self.execute_text(&text).map(Some);
                }
                let paren = t.get(j) == Some(&Token::LParen);
                if paren {
                    j += 1;
                }
                if !t.get(j).is_some_and(|x| kw(x, "LIKE")) {
                    // `CREATE TABLE t (…) … AUTO_INCREMENT=n` (mariadb-dump): create, then set the counter.
                    let Some(close) = paren.then(|| close_paren(t, j - 1)).flatten() else {
                        return Ok(None);
                    };
                    let Some(k) = (close + 1..t.len()).find(|&k| kw(&t[k], "AUTO_INCREMENT"))
                    else {
                        return Ok(None);
                    };
                    let v = if t.get(k + 1) == Some(&Token::Eq) {
                        k + 2
                    } else {
                        k + 1
                    };
                    let Some(Token::Number(n, _)) = t.get(v) else {
                        return Err(SqlError::parse(&mysql_text(&t[k..]), ""));
                    };
                    let n: i64 = n
                        .parse()
                        .map_err(|_| SqlError::parse(&mysql_text(&t[k..]), ""))?;
                    let mut rest = t[..k].to_vec();
                    rest.extend(t[v + 1..].iter().cloned());
                    let out = self.execute_text(&mysql_text(&rest))?;
                    let schema = if temporary {
                        "temp".to_string()
                    } else {
                        self.table_schema(db.as_deref())?.0
                    };
                    self.set_sequence_at_least(&schema, &name, n - 1)?;
                    return Ok(Some(out));
                }
                self.bump(Com::CreateTable);
                self.deny_write_at(t, i)?;
                let (sdb, sname, sused) = table_name(t, j + 1)
                    .ok_or_else(|| SqlError::parse(&mysql_text(&t[j..]), "table name expected"))?;
                let after = j + 1 + sused;
                let closed = if paren {
                    t.get(after) == Some(&Token::RParen) && t.len() == after + 1
                } else {
                    t.len() == after
                };
                if !closed {
                    return Err(SqlError::parse(&mysql_text(&t[after.min(t.len())..]), ""));
                }
                self.create_like(
                    (db.as_deref(), &name),
                    (sdb.as_deref(), &sname),
                    temporary,
                    if_not_exists,
                )
                .map(Some)
            }
            _ => Ok(None),
        }
    }

    fn table_exists(&mut self, schema: &str, name: &str) -> Result<bool, SqlError> {
        Ok(!self
            .query_rows(
                &format!("SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"),
                &[Cell::Text(name.to_string())],
                &[],
            )?
            .rows
            .is_empty())
    }

    /// `DROP TABLE [IF EXISTS] a[, b …] [RESTRICT | CASCADE]`: all or nothing;
    /// unknown tables are error 1051 (notes with IF EXISTS). A temporary
    /// table shadows the permanent one of the same name, as in MySQL.
    /// MySQL 8's error 3554 for DDL on the tables the server itself reads
    /// (`mysql.user`, `mysql.plugin`, `mysql.func`): dropping or reshaping them
    /// would lock every account out or lose the plugin list. DML stays allowed.
    fn deny_system_table_ddl(&self, db: Option<&str>, name: &str) -> Result<(), SqlError> {
        let db = db.or(self.sql.db.as_deref()).unwrap_or("");
        if db.eq_ignore_ascii_case("mysql")
            && ["user", "plugin", "func"]
                .iter()
                .any(|t| name.eq_ignore_ascii_case(t))
        {
            return Err(SqlError::new(
                code::ER_NO_SYSTEM_TABLE_ACCESS,
                format!(
                    "Access to system table 'mysql.{}' is rejected.",
                    name.to_ascii_lowercase()
                ),
            ));
        }
        Ok(())
    }

    fn drop_tables(&mut self, t: &[Token]) -> Result<Outcome, SqlError> {
        let mut i = 0;
        let if_exists = t.first().is_some_and(|x| kw(x, "IF"));
        if if_exists {
            i = 2;
        }
        let mut list = &t[i.min(t.len())..];
        while list
            .last()
            .is_some_and(|x| kw(x, "RESTRICT") || kw(x, "CASCADE"))
        {
            list = &list[..list.len() - 1];
        }
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for part in split_commas(list) {
            let (db, name, _) = table_name(part, 0)
                .ok_or_else(|| SqlError::parse(&mysql_text(part), "table name expected"))?;
            self.deny_write_at(part, 0)?;
            self.deny_system_table_ddl(db.as_deref(), &name)?;
            let dbname = match &db {
                Some(d) => d.clone(),
                None => self.sql.db.clone().ok_or_else(SqlError::no_db)?,
            };
            let mut schemas = Vec::new();
            match &db {
                Some(d) if self.shared.datadir.db_exists(d) => schemas.push(self.schema_for(d)?),
                Some(_) => {}
                None => schemas.extend(["temp".to_string(), "main".to_string()]),
            }
            let mut hit = None;
            for sc in schemas {
                if self.table_exists(&sc, &name)? {
                    hit = Some(sc);
                    break;
                }
            }
            match hit {
                Some(sc) => found.push(format!("{sc}.{}", ident(&name))),
                None => missing.push(format!("{dbname}.{name}")),
            }
        }
        if !missing.is_empty() {
            if !if_exists {
                return Err(SqlError::new(
                    code::ER_BAD_TABLE_ERROR,
                    format!("Unknown table '{}'", missing.join(",")),
                ));
            }
            for m in missing {
                self.warnings
                    .push((code::ER_BAD_TABLE_ERROR, format!("Unknown table '{m}'")));
            }
        }
        if found.is_empty() {
            return Ok(Outcome::ok(0));
        }
        self.in_savepoint(|s| {
            for f in &found {
                s.exec_batch(&format!("DROP TABLE {f}"))?;
            }
            Ok(())
        })?;
        Ok(Outcome::ok(0))
    }

    /// The SQLite schema and the MySQL database name of `[db.]table`.
    fn table_schema(&mut self, db: Option<&str>) -> Result<(String, String), SqlError> {
        match db {
            Some(d) => Ok((self.schema_for(d)?, d.to_string())),
            None => {
                let d = self.sql.db.clone().ok_or_else(SqlError::no_db)?;
                Ok(("main".into(), d))
            }
        }
    }

    /// Reads a table's definition; a temporary table shadows the permanent one.
    fn load_table(&mut self, db: Option<&str>, name: &str) -> Result<Table, SqlError> {
        let (mut schema, dbname) = self.table_schema(db)?;
        let find = |s: &mut Session, schema: &str| {
            s.query_rows(
                &format!(
                    "SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"
                ),
                &[Cell::Text(name.to_string())],
                &[],
            )
        };
        let mut rs = ResultRows::default();
        if db.is_none() {
            rs.0 = find(self, "temp")?.rows;
            if !rs.0.is_empty() {
                schema = "temp".into();
            }
        }
        if rs.0.is_empty() {
            rs.0 = find(self, &schema)?.rows;
        }
        let Some(row) = rs.0.first() else {
            return Err(SqlError::new(
                code::ER_TABLE_NOT_EXISTS,
                format!("Table '{dbname}.{name}' doesn't exist"),
            ));
        };
        let real = super::compat::cell_text(&row[0]);
        let sql = super::compat::cell_text(&row[1]);
        let t = sqlite_tokens(&sql)?;
        let open = t
            .iter()
            .position(|x| *x == Token::LParen)
            .ok_or_else(|| SqlError::internal(format!("stored schema of {name}: {sql}")))?;
        let close = close_paren(&t, open)
            .ok_or_else(|| SqlError::internal(format!("stored schema of {name}: {sql}")))?;
        let mut columns = Vec::new();
        let mut constraints = Vec::new();
        for part in split_commas(&t[open + 1..close]) {
            let Some(first) = part.first() else { continue };
            if is_constraint(first) {
                constraints.push(part.to_vec());
            } else {
                let n = word_value(first).unwrap_or("").to_string();
                columns.push(Column {
                    src: Some(ident(&n)),
                    name: n,
                    def: part[1..].to_vec(),
                });
            }
        }
        let ix = self.query_rows(
            &format!(
                "SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY rowid"
            ),
            &[Cell::Text(real.clone())],
            &[],
        )?;
        let mut indexes = Vec::new();
        for r in &ix.rows {
            let it = sqlite_tokens(&super::compat::cell_text(&r[1]))?;
            let Some(lp) = it.iter().position(|x| *x == Token::LParen) else {
                continue;
            };
            indexes.push(Index {
                name: super::compat::cell_text(&r[0]),
                unique: it.get(1).is_some_and(|x| kw(x, "UNIQUE")),
                rest: it[lp..].to_vec(),
            });
        }
        Ok(Table {
            schema,
            name: real,
            columns,
            constraints,
            tail: t[close + 1..].to_vec(),
            indexes,
        })
    }

    /// Runs `f` inside a savepoint (after committing an open transaction, as DDL does).
    fn in_savepoint<T>(
        &mut self,
        f: impl FnOnce(&mut Session) -> Result<T, SqlError>,
    ) -> Result<T, SqlError> {
        self.implicit_commit()?;
        self.exec_batch("PRAGMA legacy_alter_table = ON; SAVEPOINT minnow_ddl")?;
        let r = f(self);
        let end = match &r {
            Ok(_) => self.exec_batch("RELEASE minnow_ddl"),
            Err(_) => self.exec_batch("ROLLBACK TO minnow_ddl; RELEASE minnow_ddl"),
        };
        let _ = self.exec_batch("PRAGMA legacy_alter_table = OFF");
        let v = r?;
        end?;
        Ok(v)
    }

    fn alter_table(
        &mut self,
        db: Option<&str>,
        name: &str,
        alters: Vec<Alter>,
    ) -> Result<Outcome, SqlError> {
        self.deny_system_table_ddl(db, name)?;
        let mut tb = self.load_table(db, name)?;
        let mut rebuild = false;
        let mut native: Vec<String> = Vec::new();
        let mut rename_to: Option<Vec<Token>> = None;
        let mut next_id: Option<i64> = None;
        let table = tb.name.clone();
        let on = |tb: &Table| format!("{}.{}", tb.schema, ident(&tb.name));
        for a in alters {
            match a {
                Alter::Nothing => {}
                Alter::AutoIncrement(n) => next_id = Some(n),
                Alter::AddColumn(def, pos) => {
                    let mut c = sqlite_column(&def)?;
                    if tb.find(&c.name).is_some() {
                        return Err(SqlError::new(
                            code::ER_DUP_FIELDNAME,
                            format!("Duplicate column name '{}'", c.name),
                        ));
                    }
                    let keyed = has_kw(&c.def, "PRIMARY") || has_kw(&c.def, "UNIQUE");
                    // MySQL fills a new NOT NULL column without a default with the
                    // type's implicit default; SQLite refuses to add such a column.
                    let fill = has_kw(&c.def, "NOT")
                        && !has_kw(&c.def, "DEFAULT")
                        && !has_kw(&c.def, "PRIMARY")
                        && !tb.columns.is_empty();
                    if fill {
                        let ty = c.def.first().map(|t| t.to_string()).unwrap_or_default();
                        c.src = Some(super::compat::implicit_default(&ty));
                    }
                    // SQLite's ADD COLUMN takes constant defaults only.
                    let nonconst =
                        c.def
                            .iter()
                            .position(|t| kw(t, "DEFAULT"))
                            .is_some_and(|d| {
                                !matches!(
                                    c.def.get(d + 1),
                                    Some(
                                        Token::SingleQuotedString(_)
                                            | Token::Number(..)
                                            | Token::Minus
                                            | Token::Plus
                                    )
                                ) && !c.def.get(d + 1).is_some_and(|t| {
                                    kw(t, "NULL") || kw(t, "TRUE") || kw(t, "FALSE")
                                })
                            });
                    if pos != Pos::Keep || keyed || fill || nonconst {
                        rebuild = true;
                    } else {
                        native.push(format!(
                            "ALTER TABLE {} ADD COLUMN {} {}",
                            on(&tb),
                            ident(&c.name),
                            sqlite_text(&c.def)
                        ));
                    }
                    let at = tb.columns.len();
                    tb.place(c, &pos, at)?;
                }
                Alter::Change(old, def, pos) => {
                    let i = tb.find(&old).ok_or_else(|| bad_column(&old, &table))?;
                    let oldc = tb.columns.remove(i);
                    let mut c = sqlite_column(&def)?;
                    if !c.name.eq_ignore_ascii_case(&oldc.name) && tb.find(&c.name).is_some() {
                        return Err(SqlError::new(
                            code::ER_DUP_FIELDNAME,
                            format!("Duplicate column name '{}'", c.name),
                        ));
                    }
                    c.src = oldc.src.clone();
                    // MySQL keeps keys on a modified column: carry inline ones over.
                    let new_pk = has_kw(&c.def, "PRIMARY");
                    if has_kw(&oldc.def, "PRIMARY") && !new_pk {
                        tb.constraints
                            .push(sqlite_tokens(&format!("PRIMARY KEY ({})", ident(&c.name)))?);
                    }
                    if new_pk {
                        tb.constraints
                            .retain(|k| !(has_kw(k, "PRIMARY") && mentions(k, &oldc.name)));
                    }
                    if has_kw(&oldc.def, "UNIQUE") && !has_kw(&c.def, "UNIQUE") {
                        tb.constraints
                            .push(sqlite_tokens(&format!("UNIQUE ({})", ident(&c.name)))?);
                    }
                    if c.name != oldc.name {
                        tb.rename_column(&oldc.name, &c.name);
                    }
                    tb.place(c, &pos, i)?;
                    rebuild = true;
                }
                Alter::DropColumn(col, if_exists) => {
                    let Some(i) = tb.find(&col) else {
                        if if_exists {
                            continue;
                        }
                        return Err(cant_drop(&col));
                    };
                    let c = tb.columns.remove(i);
                    tb.constraints.retain(|k| !mentions(k, &c.name));
                    tb.indexes.retain(|ix| !mentions(&ix.rest, &c.name));
                    if tb.columns.is_empty() {
                        return Err(SqlError::new(
                            code::ER_CANT_REMOVE_ALL_FIELDS,
                            "You can't delete all columns with ALTER TABLE; use DROP TABLE instead",
                        ));
                    }
                    rebuild = true;
                }
                Alter::SetDefault(col, v) => {
                    let i = tb.find(&col).ok_or_else(|| bad_column(&col, &table))?;
                    let def = &mut tb.columns[i].def;
                    if let Some(d) = def.iter().position(|t| kw(t, "DEFAULT")) {
                        let mut end = d + 2;
                        match def.get(d + 1) {
                            Some(Token::LParen) => {
                                end = close_paren(def, d + 1).map(|c| c + 1).unwrap_or(def.len())
                            }
                            Some(Token::Minus | Token::Plus) => end = d + 3,
                            _ => {}
                        }
                        def.drain(d..end.min(def.len()));
                    }
                    if let Some(v) = v {
                        def.push(Token::make_keyword("DEFAULT"));
                        let lit = sqlite_tokens(
                            &rewrite::to_sqlite(&rewrite::tokenize(&mysql_text(&v))?, &mut |_| {
                                Ok(Cell::Null)
                            })?
                            .sql,
                        )?;
                        if lit.len() == 1 || matches!(lit.first(), Some(Token::LParen)) {
                            def.extend(lit);
                        } else {
                            def.push(Token::LParen);
                            def.extend(lit);
                            def.push(Token::RParen);
                        }
                    }
                    rebuild = true;
                }
                Alter::RenameColumn(from, to) => {
                    let i = tb.find(&from).ok_or_else(|| bad_column(&from, &table))?;
                    if tb.find(&to).is_some() {
                        return Err(SqlError::new(
                            code::ER_DUP_FIELDNAME,
                            format!("Duplicate column name '{to}'"),
                        ));
                    }
                    native.push(format!(
                        "ALTER TABLE {} RENAME COLUMN {} TO {}",
                        on(&tb),
                        ident(&tb.columns[i].name),
                        ident(&to)
                    ));
                    let old = tb.columns[i].name.clone();
                    tb.columns[i].name = to.clone();
                    tb.rename_column(&old, &to);
                }
                Alter::RenameTable(to) => rename_to = Some(to),
                Alter::AddIndex {
                    unique,
                    name,
                    cols,
                    if_not_exists,
                } => {
                    let first_col = cols
                        .iter()
                        .find_map(word_value)
                        .unwrap_or("idx")
                        .to_string();
                    let name = name.unwrap_or(first_col);
                    if tb.resolve_index(&name).is_some() {
                        if if_not_exists {
                            continue;
                        }
                        return Err(SqlError::new(
                            code::ER_DUP_KEYNAME,
                            format!("Duplicate key name '{name}'"),
                        ));
                    }
                    let rest = sqlite_tokens(
                        &rewrite::to_sqlite(&rewrite::tokenize(&mysql_text(&cols))?, &mut |_| {
                            Ok(Cell::Null)
                        })?
                        .sql,
                    )?;
                    let rest: Vec<Token> = rest
                        .into_iter()
                        .filter(|t| !kw(t, "USING") && !kw(t, "BTREE") && !kw(t, "HASH"))
                        .collect();
                    for c in rest.iter().filter_map(word_value) {
                        if !["ASC", "DESC"].iter().any(|k| c.eq_ignore_ascii_case(k))
                            && tb.find(c).is_none()
                        {
                            return Err(SqlError::new(
                                code::ER_KEY_COLUMN_DOES_NOT_EXIST,
                                format!("Key column '{c}' doesn't exist in table"),
                            ));
                        }
                    }
                    let ix = Index {
                        name: format!("{table}_{name}"),
                        unique,
                        rest,
                    };
                    native.push(tb.index_sql(&ix));
                    tb.indexes.push(ix);
                }
                Alter::AddConstraint(mysql) => {
                    let c = sqlite_tokens(
                        &rewrite::to_sqlite(&rewrite::tokenize(&mysql_text(&mysql))?, &mut |_| {
                            Ok(Cell::Null)
                        })?
                        .sql,
                    )?;
                    tb.constraints.push(c);
                    rebuild = true;
                }
                Alter::AddPrimary(cols) => {
                    if tb.has_pk() {
                        return Err(SqlError::new(
                            code::ER_MULTIPLE_PRI_KEY,
                            "Multiple primary key defined",
                        ));
                    }
                    let mut k = vec![Token::make_keyword("PRIMARY"), Token::make_keyword("KEY")];
                    k.extend(sqlite_tokens(
                        &rewrite::to_sqlite(&rewrite::tokenize(&mysql_text(&cols))?, &mut |_| {
                            Ok(Cell::Null)
                        })?
                        .sql,
                    )?);
                    tb.constraints.push(k);
                    rebuild = true;
                }
                Alter::DropIndex(name, if_exists) => {
                    if let Some(i) = tb.resolve_index(&name) {
                        let ix = tb.indexes.remove(i);
                        native.push(format!("DROP INDEX {}.{}", tb.schema, ident(&ix.name)));
                        continue;
                    }
                    // A UNIQUE constraint: MySQL names it after its first column.
                    let before = tb.constraints.len();
                    tb.constraints
                        .retain(|k| unique_name(k).is_none_or(|n| !n.eq_ignore_ascii_case(&name)));
                    let mut dropped = tb.constraints.len() != before;
                    if !dropped {
                        if let Some(i) = tb.find(&name) {
                            let def = &mut tb.columns[i].def;
                            if let Some(u) = def.iter().position(|t| kw(t, "UNIQUE")) {
                                def.remove(u);
                                dropped = true;
                            }
                        }
                    }
                    if dropped {
                        rebuild = true;
                    } else if !if_exists {
                        return Err(cant_drop(&name));
                    }
                }
                Alter::DropPrimary => {
                    let before = tb.constraints.len();
                    tb.constraints.retain(|k| !has_kw(k, "PRIMARY"));
                    let mut dropped = before != tb.constraints.len();
                    for c in &mut tb.columns {
                        if let Some(p) = c.def.iter().position(|t| kw(t, "PRIMARY")) {
                            let mut end = p + 2;
                            while c.def.get(end).is_some_and(|t| {
                                kw(t, "ASC") || kw(t, "DESC") || kw(t, "AUTOINCREMENT")
                            }) {
                                end += 1;
                            }
                            c.def.drain(p..end.min(c.def.len()));
                            dropped = true;
                        }
                    }
                    if !dropped {
                        return Err(cant_drop("PRIMARY"));
                    }
                    rebuild = true;
                }
                Alter::DropConstraint(name) => {
                    let before = tb.constraints.len();
                    tb.constraints.retain(|k| {
                        !(k.first().is_some_and(|f| kw(f, "CONSTRAINT"))
                            && k.get(1)
                                .and_then(word_value)
                                .is_some_and(|n| n.eq_ignore_ascii_case(&name)))
                    });
                    if before == tb.constraints.len() {
                        return Err(cant_drop(&name));
                    }
                    rebuild = true;
                }
            }
        }
        let rename = match rename_to {
            Some(to) => {
                let (ndb, nname, _) = table_name(&to, 0)
                    .ok_or_else(|| SqlError::parse(&mysql_text(&to), "table name expected"))?;
                Some((ndb, nname))
            }
            None => None,
        };
        let dbname = self.table_schema(db)?.1;
        self.in_savepoint(|s| {
            // The AUTO_INCREMENT counter outlives a rebuild (ids of deleted rows stay used).
            let old_seq = s.sequence(&tb.schema, &tb.name)?;
            if rebuild {
                let tmp = format!("minnow_alter_{}", tb.name);
                s.exec_batch(&tb.create_sql(&tmp))?;
                let (dst, src): (Vec<String>, Vec<String>) = tb
                    .columns
                    .iter()
                    .filter_map(|c| c.src.as_ref().map(|x| (ident(&c.name), x.clone())))
                    .unzip();
                if !dst.is_empty() {
                    s.exec_batch(&format!(
                        "INSERT INTO {}.{} ({}) SELECT {} FROM {}.{}",
                        tb.schema,
                        ident(&tmp),
                        dst.join(", "),
                        src.join(", "),
                        tb.schema,
                        ident(&tb.name)
                    ))?;
                }
                s.exec_batch(&format!("DROP TABLE {}.{}", tb.schema, ident(&tb.name)))?;
                s.exec_batch(&format!(
                    "ALTER TABLE {}.{} RENAME TO {}",
                    tb.schema,
                    ident(&tmp),
                    ident(&tb.name)
                ))?;
                for ix in &tb.indexes {
                    s.exec_batch(&tb.index_sql(ix))?;
                }
            } else {
                for sql in &native {
                    s.exec_batch(sql)?;
                }
            }
            if let Some(seq) = old_seq {
                s.set_sequence_at_least(&tb.schema, &tb.name, seq)?;
            }
            if let Some(n) = next_id {
                s.set_sequence_at_least(&tb.schema, &tb.name, n - 1)?;
            }
            if let Some((ndb, nname)) = &rename {
                if ndb.as_deref().is_some_and(|d| d != dbname) {
                    return Err(cross_db_rename());
                }
                s.rename_one(&tb.schema, &dbname, &tb.name, nname)?;
            }
            Ok(())
        })?;
        Ok(Outcome::ok(0))
    }

    /// The AUTOINCREMENT counter of a table (`None`: no counter).
    fn sequence(&mut self, schema: &str, table: &str) -> Result<Option<i64>, SqlError> {
        if !self.table_exists(schema, "sqlite_sequence")? {
            return Ok(None);
        }
        let rs = self.query_rows(
            &format!("SELECT seq FROM {schema}.sqlite_sequence WHERE name = ?1"),
            &[Cell::Text(table.to_string())],
            &[],
        )?;
        Ok(rs.rows.first().and_then(|r| match r[0] {
            Cell::Integer(i) => Some(i),
            _ => None,
        }))
    }

    /// Raises an AUTOINCREMENT table's counter to at least `seq` (never below
    /// the largest id, as InnoDB does); tables without one are left alone.
    fn set_sequence_at_least(
        &mut self,
        schema: &str,
        table: &str,
        seq: i64,
    ) -> Result<(), SqlError> {
        let auto = self
            .query_rows(
                &format!("SELECT sql LIKE '%AUTOINCREMENT%' FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"),
                &[Cell::Text(table.to_string())],
                &[],
            )?
            .rows
            .first()
            .is_some_and(|r| r[0] == Cell::Integer(1));
        if !auto {
            return Ok(());
        }
        let t = Cell::Text(table.to_string());
        let max = self.query_rows(
            &format!(
                "SELECT coalesce(max(rowid), 0) FROM {schema}.{}",
                ident(table)
            ),
            &[],
            &[],
        )?;
        let max = match max.rows.first().map(|r| &r[0]) {
            Some(Cell::Integer(i)) => *i,
            _ => 0,
        };
        let v = Cell::Integer(seq.max(max));
        let updated = self.run_sqlite(
            &format!("UPDATE {schema}.sqlite_sequence SET seq = ?2 WHERE name = ?1"),
            &[t.clone(), v.clone()],
            &[],
            false,
        )?;
        if matches!(updated, Outcome::Ok { affected: 0, .. }) {
            self.run_sqlite(
                &format!("INSERT INTO {schema}.sqlite_sequence (name, seq) VALUES (?1, ?2)"),
                &[t, v],
                &[],
                false,
            )?;
        }
        Ok(())
    }

    /// `TRUNCATE [TABLE] [db.]t`: empties the table and restarts AUTO_INCREMENT (DDL: commits first).
    fn truncate(&mut self, t: &[Token]) -> Result<Outcome, SqlError> {
        self.bump(Com::Other);
        let i = skip(t, 1, &["TABLE"]);
        self.deny_write_at(t, i)?;
        let (db, name, used) = table_name(t, i)
            .ok_or_else(|| SqlError::parse(&mysql_text(t), "table name expected"))?;
        if i + used != t.len() {
            return Err(SqlError::parse(&mysql_text(&t[i + used..]), ""));
        }
        self.deny_system_table_ddl(db.as_deref(), &name)?;
        let tb = self.load_table(db.as_deref(), &name)?;
        self.in_savepoint(|s| {
            s.exec_batch(&format!("DELETE FROM {}.{}", tb.schema, ident(&tb.name)))?;
            if s.sequence(&tb.schema, &tb.name)?.is_some() {
                s.run_sqlite(
                    &format!("DELETE FROM {}.sqlite_sequence WHERE name = ?1", tb.schema),
                    &[Cell::Text(tb.name.clone())],
                    &[],
                    false,
                )?;
            }
            Ok(())
        })?;
        Ok(Outcome::ok(0))
    }

    /// Renames one table and the indexes named after it (`old_i` → `new_i`).
    fn rename_one(
        &mut self,
        schema: &str,
        dbname: &str,
        old: &str,
        new: &str,
    ) -> Result<(), SqlError> {
        let exists = !self
            .query_rows(
                &format!("SELECT 1 FROM {schema}.sqlite_master WHERE name = ?1"),
                &[Cell::Text(new.to_string())],
                &[],
            )?
            .rows
            .is_empty();
        if exists {
            return Err(SqlError::new(
                code::ER_TABLE_EXISTS_ERROR,
                format!("Table '{new}' already exists"),
            ));
        }
        let db = (schema != "main" && schema != "temp").then_some(dbname);
        let tb = self.load_table(db, old)?;
        self.exec_batch(&format!(
            "ALTER TABLE {schema}.{} RENAME TO {}",
            ident(&tb.name),
            ident(new)
        ))?;
        let prefix = format!("{}_", tb.name);
        for ix in &tb.indexes {
            if let Some(rest) = ix.name.strip_prefix(&prefix) {
                let moved = Index {
                    name: format!("{new}_{rest}"),
                    unique: ix.unique,
                    rest: ix.rest.clone(),
                };
                self.exec_batch(&format!("DROP INDEX {schema}.{}", ident(&ix.name)))?;
                let t2 = Table {
                    name: new.to_string(),
                    ..tb.clone()
                };
                self.exec_batch(&t2.index_sql(&moved))?;
            }
        }
        Ok(())
    }

    /// `RENAME TABLE a TO b [, c TO d]`, all or nothing.
    fn rename_tables(&mut self, t: &[Token]) -> Result<Outcome, SqlError> {
        let mut pairs = Vec::new();
        for part in split_commas(t) {
            let (adb, a, used) = table_name(part, 0)
                .ok_or_else(|| SqlError::parse(&mysql_text(part), "table name expected"))?;
            if !part.get(used).is_some_and(|x| kw(x, "TO")) {
                return Err(SqlError::parse(&mysql_text(&part[used..]), "TO expected"));
            }
            let (bdb, b, bused) = table_name(part, used + 1)
                .ok_or_else(|| SqlError::parse(&mysql_text(part), "table name expected"))?;
            if used + 1 + bused != part.len() {
                return Err(SqlError::parse(&mysql_text(&part[used + 1 + bused..]), ""));
            }
            self.deny_write_at(part, 0)?;
            self.deny_write_at(part, used + 1)?;
            self.deny_system_table_ddl(adb.as_deref(), &a)?;
            self.deny_system_table_ddl(bdb.as_deref(), &b)?;
            pairs.push((adb, a, bdb, b));
        }
        self.in_savepoint(|s| {
            for (adb, a, bdb, b) in &pairs {
                let (schema, dbname) = s.table_schema(adb.as_deref())?;
                let target = match bdb {
                    Some(d) => d.clone(),
                    None => s.sql.db.clone().ok_or_else(SqlError::no_db)?,
                };
                if target != dbname {
                    return Err(cross_db_rename());
                }
                let tb = s.load_table(adb.as_deref(), a)?;
                s.rename_one(&tb.schema, &dbname, &tb.name, b)?;
                let _ = schema;
            }
            Ok(())
        })?;
        Ok(Outcome::ok(0))
    }

    /// `CREATE [TEMPORARY] TABLE [IF NOT EXISTS] new LIKE old`: columns, keys, indexes.
    fn create_like(
        &mut self,
        (db, name): (Option<&str>, &str),
        (sdb, sname): (Option<&str>, &str),
        temporary: bool,
        if_not_exists: bool,
    ) -> Result<Outcome, SqlError> {
        let src = self.load_table(sdb, sname)?;
        let schema = if temporary {
            "temp".to_string()
        } else {
            self.table_schema(db)?.0
        };
        let exists = !self
            .query_rows(
                &format!("SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"),
                &[Cell::Text(name.to_string())],
                &[],
            )?
            .rows
            .is_empty();
        if exists {
            let e = SqlError::new(
                code::ER_TABLE_EXISTS_ERROR,
                format!("Table '{name}' already exists"),
            );
            if if_not_exists {
                self.warnings.push((e.code, e.message));
                return Ok(Outcome::ok(0));
            }
            return Err(e);
        }
        let prefix = format!("{}_", src.name);
        let mut dst = Table {
            schema,
            name: name.to_string(),
            ..src.clone()
        };
        dst.indexes = src
            .indexes
            .iter()
            .map(|ix| Index {
                name: format!(
                    "{name}_{}",
                    ix.name.strip_prefix(&prefix).unwrap_or(&ix.name)
                ),
                unique: ix.unique,
                rest: ix.rest.clone(),
            })
            .collect();
        self.in_savepoint(|s| {
            s.exec_batch(&dst.create_sql(name))?;
            for ix in &dst.indexes {
                s.exec_batch(&dst.index_sql(ix))?;
            }
            Ok(())
        })?;
        Ok(Outcome::ok(0))
    }
}

#[derive(Default)]
struct ResultRows(Vec<Vec<Cell>>);

fn cross_db_rename() -> SqlError {
    SqlError::new(
        code::ER_NOT_SUPPORTED_YET,
        "This version of Minnow doesn't yet support 'RENAME TABLE across databases'",
    )
}

#[cfg(test)]
mod tests {
    use super::super::compat::sig;
    use super::*;

    fn toks(s: &str) -> Vec<Token> {
        sig(&rewrite::tokenize(s).expect("tokens"))
    }

    #[test]
    fn alter_specs_parse() {
        let t = toks("MODIFY COLUMN b VARCHAR(20) NOT NULL AFTER a");
        match parse_alter(&t).expect("parsed").as_slice() {
            [Alter::Change(old, def, Pos::After(a))] => {
                assert_eq!(old, "b");
                assert_eq!(a, "a");
                assert_eq!(mysql_text(def), "b VARCHAR(20) NOT NULL");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_alter(&toks("ADD UNIQUE KEY u_name (name(10))")).expect("parsed").as_slice(),
            [Alter::AddIndex { unique: true, name: Some(n), .. }] if n == "u_name"
        ));
        assert!(matches!(
            parse_alter(&toks("ADD CONSTRAINT uc UNIQUE (c)")).expect("parsed").as_slice(),
            [Alter::AddIndex { unique: true, name: Some(n), .. }] if n == "uc"
        ));
        assert!(matches!(
            parse_alter(&toks("ALTER COLUMN c DROP DEFAULT")).expect("parsed").as_slice(),
            [Alter::SetDefault(c, None)] if c == "c"
        ));
        assert!(matches!(
            parse_alter(&toks("ENGINE = InnoDB"))
                .expect("parsed")
                .as_slice(),
            [Alter::Nothing]
        ));
        for bad in [
            "FROBNICATE x",
            "RENAME COLUMN a",
            "RENAME COLUMN a TO",
            "RENAME TO x y",
            "RENAME",
            "DROP COLUMN a b",
            "DROP INDEX i j",
            "DROP PRIMARY KEY x",
        ] {
            assert_eq!(
                parse_alter(&toks(bad)).expect_err(bad).code,
                code::ER_PARSE_ERROR,
                "{bad}"
            );
        }
    }

    #[test]
    fn column_definitions_become_sqlite() {
        let c = sqlite_column(&toks(
            "`n` INT(11) UNSIGNED NOT NULL DEFAULT '0' COMMENT 'x'",
        ))
        .expect("column");
        assert_eq!(c.name, "n");
        assert_eq!(sqlite_text(&c.def), "INT(11) UNSIGNED NOT NULL DEFAULT '0'");
    }
}
