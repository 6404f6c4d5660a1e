//! Table metadata statements in MySQL's shapes, built from SQLite's catalog:
//! `SHOW TABLE STATUS`, `SHOW INDEX|INDEXES|KEYS`, `SHOW [FULL] COLUMNS` /
//! `DESCRIBE` and `SHOW CREATE TABLE`.

use mysql_common::constants::ColumnType;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::rewrite::quote_ident as sqlite_ident;
use super::{Outcome, rewrite};
use crate::error::{SqlError, code};
use crate::protocol::{Cell, ColDef, ResultSet};
use crate::session::Session;

/// A column as MySQL describes it.
#[derive(Debug, Clone)]
struct ColumnMeta {
    name: String,
    /// MySQL spelling of the type (`int(11)`, `varchar(20)`).
    ty: String,
    not_null: bool,
    /// Position in the primary key (1-based), 0 if not in it.
    pk: i64,
    /// The default as an SQL literal (`'a'`, `0`, `CURRENT_TIMESTAMP`).
    default: Option<String>,
    auto_increment: bool,
}

/// An index as MySQL names it.
#[derive(Debug, Clone)]
struct IndexMeta {
    name: String,
    unique: bool,
    columns: Vec<String>,
}

/// What SQLite's catalog says about one table.
#[derive(Debug, Clone)]
struct TableMeta {
    columns: Vec<ColumnMeta>,
    /// PRIMARY first, then unique, then the others.
    indexes: Vec<IndexMeta>,
    /// The next AUTO_INCREMENT value, for tables with one.
    auto_increment: Option<i64>,
}

/// `SHOW … [LIKE 'pat' | WHERE expr]`.
#[derive(Debug, Clone)]
pub(crate) enum ShowFilter {
    Like(String),
    Where(Vec<TokenWithSpan>),
}

/// The statements this module answers.
#[derive(Debug, Clone)]
pub(crate) enum ShowMeta {
    /// `SHOW TABLE STATUS [{FROM|IN} db] [filter]`
    TableStatus {
        db: Option<String>,
        filter: Option<ShowFilter>,
    },
    /// `SHOW {INDEX|INDEXES|KEYS} {FROM|IN} t [{FROM|IN} db] [WHERE …]`
    Index {
        db: Option<String>,
        table: String,
        filter: Option<ShowFilter>,
    },
    /// `SHOW [FULL] {COLUMNS|FIELDS} {FROM|IN} t [{FROM|IN} db] [filter]`
    Columns {
        full: bool,
        db: Option<String>,
        table: String,
        filter: Option<ShowFilter>,
    },
}

fn is_kw(t: Option<&Token>, k: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
}

fn name_of(t: Option<&Token>) -> Option<String> {
    match t {
        Some(Token::Word(w)) => Some(w.value.clone()),
        _ => None,
    }
}

/// Parses the three SHOW forms; `Ok(None)` for any other statement.
pub(crate) fn parse(toks: &[TokenWithSpan]) -> Result<Option<ShowMeta>, SqlError> {
    let sig: Vec<&TokenWithSpan> = toks
        .iter()
        .filter(|t| {
            !matches!(
                t.token,
                Token::Whitespace(_) | Token::EOF | Token::SemiColon
            )
        })
        .collect();
    let tok = |i: usize| sig.get(i).map(|t| &t.token);
    if !is_kw(tok(0), "SHOW") {
        return Ok(None);
    }
    let bad = |what: &str| SqlError::parse("", what);
    let mut i = 1;
    let kind;
    let mut full = false;
    if is_kw(tok(1), "TABLE") && is_kw(tok(2), "STATUS") {
        kind = 0;
        i = 3;
    } else if ["INDEX", "INDEXES", "KEYS"]
        .iter()
        .any(|k| is_kw(tok(1), k))
    {
        kind = 1;
        i = 2;
    } else {
        if is_kw(tok(1), "FULL") {
            full = true;
            i = 2;
        }
        if !(is_kw(tok(i), "COLUMNS") || is_kw(tok(i), "FIELDS")) {
            return Ok(None);
        }
        kind = 2;
        i += 1;
    }
    let from = |i: usize| is_kw(tok(i), "FROM") || is_kw(tok(i), "IN");
    let mut table = None;
    let mut db = None;
    if kind != 0 {
        if !from(i) {
            return Err(bad("FROM table expected"));
        }
        let first = name_of(tok(i + 1)).ok_or_else(|| bad("table name expected"))?;
        i += 2;
        if matches!(tok(i), Some(Token::Period)) {
            db = Some(first);
            table = Some(name_of(tok(i + 1)).ok_or_else(|| bad("table name expected"))?);
            i += 2;
        } else {
            table = Some(first);
        }
    }
    if from(i) {
        db = Some(name_of(tok(i + 1)).ok_or_else(|| bad("database name expected"))?);
        i += 2;
    }
    let filter = if is_kw(tok(i), "LIKE") {
        match tok(i + 1) {
            Some(Token::SingleQuotedString(p) | Token::DoubleQuotedString(p)) => {
                i += 2;
                Some(ShowFilter::Like(p.clone()))
            }
            _ => return Err(bad("pattern expected after LIKE")),
        }
    } else if is_kw(tok(i), "WHERE") {
        let rest: Vec<TokenWithSpan> = sig[i + 1..].iter().map(|t| (*t).clone()).collect();
        if rest.is_empty() {
            return Err(bad("condition expected after WHERE"));
        }
        i = sig.len();
        Some(ShowFilter::Where(rest))
    } else {
        None
    };
    if i < sig.len() {
        return Err(SqlError::parse(
            &sig[i].token.to_string(),
            "unexpected text",
        ));
    }
    Ok(Some(match (kind, table) {
        (0, _) => ShowMeta::TableStatus { db, filter },
        (1, Some(table)) => ShowMeta::Index { db, table, filter },
        (_, Some(table)) => ShowMeta::Columns {
            full,
            db,
            table,
            filter,
        },
        _ => return Err(bad("table name expected")),
    }))
}

/// MySQL's spelling of a declared SQLite type.
fn mysql_type(decl: &str) -> String {
    // MySQL prints `decimal(10,2)`; the stored declaration may say `DECIMAL(10, 2)`.
    let mut d = decl.trim().to_ascii_lowercase();
    if !d.contains('\'') {
        d = d.replace(", ", ",");
    }
    let (base, rest) = match d.find(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
        Some(p) => (&d[..p], &d[p..]),
        None => (d.as_str(), ""),
    };
    let width = match base {
        "int" | "integer" => Some("int(11)"),
        "bigint" => Some("bigint(20)"),
        "smallint" => Some("smallint(6)"),
        "tinyint" => Some("tinyint(4)"),
        "mediumint" => Some("mediumint(9)"),
        _ => None,
    };
    match width {
        Some(w) if !rest.trim_start().starts_with('(') => format!("{w}{rest}"),
        _ if base == "integer" => format!("int{rest}"),
        _ if d.is_empty() => "text".into(),
        _ => d,
    }
}

fn is_text_type(ty: &str) -> bool {
    ["char", "text", "enum", "set", "clob"]
        .iter()
        .any(|k| ty.contains(k))
}

/// An SQL literal default as MySQL shows it in `DESCRIBE` (unquoted).
fn default_value(lit: &str) -> Cell {
    let l = lit.trim();
    if l.eq_ignore_ascii_case("NULL") {
        return Cell::Null;
    }
    if l.len() >= 2 && l.starts_with('\'') && l.ends_with('\'') {
        return Cell::Text(l[1..l.len() - 1].replace("''", "'"));
    }
    if l.eq_ignore_ascii_case("CURRENT_TIMESTAMP") {
        return Cell::Text("current_timestamp()".into());
    }
    Cell::Text(l.to_string())
}

fn quote_ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn cols(spec: &[(&str, ColumnType)]) -> Vec<ColDef> {
    spec.iter().map(|(n, t)| ColDef::new(*n, *t)).collect()
}

const S: ColumnType = ColumnType::MYSQL_TYPE_VAR_STRING;
const L: ColumnType = ColumnType::MYSQL_TYPE_LONGLONG;
const DT: ColumnType = ColumnType::MYSQL_TYPE_DATETIME;

impl Session {
    /// Runs a statement of this module.
    pub(crate) fn show_meta(&mut self, st: ShowMeta) -> Result<Outcome, SqlError> {
        match st {
            ShowMeta::TableStatus { db, filter } => self.show_table_status(db, filter),
            ShowMeta::Index { db, table, filter } => {
                let (schema, dbname) = self.meta_schema(db)?;
                let rs = self.show_index(&schema, &dbname, &table)?;
                Ok(Outcome::Rows(self.filter_result(rs, filter, "Key_name")?))
            }
            ShowMeta::Columns {
                full,
                db,
                table,
                filter,
            } => {
                let (schema, dbname) = self.meta_schema(db)?;
                let rs = self.describe_table(&schema, &dbname, &table, full)?;
                Ok(Outcome::Rows(self.filter_result(rs, filter, "Field")?))
            }
        }
    }

    /// `(sqlite schema, database name)` of `db` or the current database.
    fn meta_schema(&mut self, db: Option<String>) -> Result<(String, String), SqlError> {
        let db = match db {
            Some(d) => d,
            None => self.sql.db.clone().ok_or_else(SqlError::no_db)?,
        };
        let schema = self.schema_for(&db)?;
        Ok((schema.trim_matches('"').to_string(), db))
    }

    fn table_meta(&mut self, schema: &str, db: &str, table: &str) -> Result<TableMeta, SqlError> {
        let e = |e: rusqlite::Error| SqlError::from_sqlite(&e, Some(db));
        let conn = &self.sql.conn;
        let sql: Option<String> = conn
            .query_row(
                &format!(
                    "SELECT sql FROM \"{}\".sqlite_master WHERE type IN ('table','view') AND name = ?1",
                    schema.replace('"', "\"\"")
                ),
                [table],
                |r| r.get(0),
            )
            .map_err(|err| match err {
                rusqlite::Error::QueryReturnedNoRows => SqlError::new(
                    code::ER_TABLE_NOT_EXISTS,
                    format!("Table '{db}.{table}' doesn't exist"),
                ),
                other => e(other),
            })?;
        let autoinc = sql
            .as_deref()
            .is_some_and(|s| s.to_ascii_uppercase().contains("AUTOINCREMENT"));
        let mut columns = Vec::new();
        {
            let mut st = conn
                .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1, ?2) ORDER BY cid")
                .map_err(e)?;
            let rows = st
                .query_map([table, schema], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })
                .map_err(e)?;
            for row in rows {
                let (name, decl, not_null, default, pk) = row.map_err(e)?;
                columns.push(ColumnMeta {
                    name,
                    auto_increment: autoinc && pk == 1 && decl.eq_ignore_ascii_case("INTEGER"),
                    ty: mysql_type(&decl),
                    not_null: not_null || pk > 0,
                    pk,
                    default,
                });
            }
        }
        let mut indexes = Vec::new();
        let mut pk: Vec<&ColumnMeta> = columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        if !pk.is_empty() {
            indexes.push(IndexMeta {
                name: "PRIMARY".into(),
                unique: true,
                columns: pk.iter().map(|c| c.name.clone()).collect(),
            });
        }
        let list: Vec<(String, bool, String)> = {
            let mut st = conn
                .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1, ?2) ORDER BY seq DESC")
                .map_err(e)?;
            st.query_map([table, schema], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(e)?
                .collect::<Result<_, _>>()
                .map_err(e)?
        };
        let mut others = Vec::new();
        for (ix, unique, origin) in list {
            if origin == "pk" {
                continue;
            }
            let mut st = conn
                .prepare("SELECT name FROM pragma_index_info(?1, ?2) ORDER BY seqno")
                .map_err(e)?;
            let cols: Vec<String> = st
                .query_map([ix.as_str(), schema], |r| r.get::<_, Option<String>>(0))
                .map_err(e)?
                .filter_map(|r| r.ok().flatten())
                .collect();
            // Inline MySQL keys become `<table>_<key>` (index names are per
            // database in SQLite); constraint indexes are named after their first
            // column, as MySQL names an unnamed key.
            let name = if ix.starts_with("sqlite_autoindex_") {
                cols.first().cloned().unwrap_or(ix)
            } else {
                ix.strip_prefix(&format!("{table}_"))
                    .map(str::to_string)
                    .unwrap_or(ix)
            };
            others.push(IndexMeta {
                name,
                unique,
                columns: cols,
            });
        }
        others.sort_by_key(|i| !i.unique);
        indexes.extend(others);
        let auto_increment = if autoinc {
            let seq: Option<i64> = conn
                .query_row(
                    &format!(
                        "SELECT seq FROM \"{}\".sqlite_sequence WHERE name = ?1",
                        schema.replace('"', "\"\"")
                    ),
                    [table],
                    |r| r.get(0),
                )
                .ok();
            Some(seq.unwrap_or(0) + 1)
        } else {
            None
        };
        Ok(TableMeta {
            columns,
            indexes,
            auto_increment,
        })
    }

    fn describe_table(
        &mut self,
        schema: &str,
        db: &str,
        table: &str,
        full: bool,
    ) -> Result<ResultSet, SqlError> {
        let m = self.table_meta(schema, db, table)?;
        let key_of = |col: &str| -> &str {
            if m.columns.iter().any(|c| c.name == col && c.pk > 0) {
                return "PRI";
            }
            for ix in &m.indexes {
                if ix.columns.first().map(String::as_str) == Some(col) {
                    return match (ix.name.as_str(), ix.unique && ix.columns.len() == 1) {
                        ("PRIMARY", _) => "PRI",
                        (_, true) => "UNI",
                        _ => "MUL",
                    };
                }
            }
            ""
        };
        let rows = m
            .columns
            .iter()
            .map(|c| {
                let mut r = vec![text(&c.name), text(&c.ty)];
                if full {
                    r.push(if is_text_type(&c.ty) {
                        text("utf8mb4_general_ci")
                    } else {
                        Cell::Null
                    });
                }
                r.push(text(if c.not_null { "NO" } else { "YES" }));
                r.push(text(key_of(&c.name)));
                r.push(
                    c.default
                        .as_deref()
                        .map(default_value)
                        .unwrap_or(Cell::Null),
                );
                r.push(text(if c.auto_increment {
                    "auto_increment"
                } else {
                    ""
                }));
                if full {
                    r.push(text("select,insert,update,references"));
                    r.push(text(""));
                }
                r
            })
            .collect();
        let columns = if full {
            cols(&[
                ("Field", S),
                ("Type", S),
                ("Collation", S),
                ("Null", S),
                ("Key", S),
                ("Default", S),
                ("Extra", S),
                ("Privileges", S),
                ("Comment", S),
            ])
        } else {
            cols(&[
                ("Field", S),
                ("Type", S),
                ("Null", S),
                ("Key", S),
                ("Default", S),
                ("Extra", S),
            ])
        };
        Ok(ResultSet { columns, rows })
    }

    /// `DESCRIBE t` / `EXPLAIN t` / `SHOW COLUMNS FROM t`.
    pub(crate) fn describe_name(
        &mut self,
        db: Option<String>,
        table: &str,
    ) -> Result<Outcome, SqlError> {
        let (schema, dbname) = self.meta_schema(db)?;
        Ok(Outcome::Rows(
            self.describe_table(&schema, &dbname, table, false)?,
        ))
    }

    fn show_index(&mut self, schema: &str, db: &str, table: &str) -> Result<ResultSet, SqlError> {
        let m = self.table_meta(schema, db, table)?;
        let rows_total = self.count_rows(schema, table)?;
        let mut rows = Vec::new();
        for ix in &m.indexes {
            for (seq, col) in ix.columns.iter().enumerate() {
                let cardinality = if ix.unique {
                    rows_total
                } else {
                    self.distinct_prefix(schema, table, &ix.columns[..=seq])?
                };
                let nullable = m
                    .columns
                    .iter()
                    .find(|c| &c.name == col)
                    .is_some_and(|c| !c.not_null);
                rows.push(vec![
                    text(table),
                    Cell::Integer(i64::from(!ix.unique)),
                    text(&ix.name),
                    Cell::Integer(seq as i64 + 1),
                    text(col),
                    text("A"),
                    Cell::Integer(cardinality),
                    Cell::Null,
                    Cell::Null,
                    text(if nullable { "YES" } else { "" }),
                    text("BTREE"),
                    text(""),
                    text(""),
                ]);
            }
        }
        Ok(ResultSet {
            columns: cols(&[
                ("Table", S),
                ("Non_unique", L),
                ("Key_name", S),
                ("Seq_in_index", L),
                ("Column_name", S),
                ("Collation", S),
                ("Cardinality", L),
                ("Sub_part", L),
                ("Packed", S),
                ("Null", S),
                ("Index_type", S),
                ("Comment", S),
                ("Index_comment", S),
            ]),
            rows,
        })
    }

    fn count_rows(&mut self, schema: &str, table: &str) -> Result<i64, SqlError> {
        let sql = format!(
            "SELECT COUNT(*) FROM {}.{}",
            sqlite_ident(schema),
            sqlite_ident(table)
        );
        self.sql
            .conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| SqlError::from_sqlite(&e, None))
    }

    fn distinct_prefix(
        &mut self,
        schema: &str,
        table: &str,
        columns: &[String],
    ) -> Result<i64, SqlError> {
        let list: Vec<String> = columns.iter().map(|c| sqlite_ident(c)).collect();
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT DISTINCT {} FROM {}.{})",
            list.join(", "),
            sqlite_ident(schema),
            sqlite_ident(table)
        );
        self.sql
            .conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| SqlError::from_sqlite(&e, None))
    }

    fn show_table_status(
        &mut self,
        db: Option<String>,
        filter: Option<ShowFilter>,
    ) -> Result<Outcome, SqlError> {
        let (schema, dbname) = self.meta_schema(db)?;
        let q = schema.replace('"', "\"\"");
        let tables: Vec<(String, String)> = {
            let mut st = self
                .sql
                .conn
                .prepare(&format!(
                    "SELECT name, type FROM \"{q}\".sqlite_master WHERE type IN ('table','view') \
                     AND name NOT LIKE 'sqlite_%' ORDER BY name"
                ))
                .map_err(|e| SqlError::from_sqlite(&e, Some(&dbname)))?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| SqlError::from_sqlite(&e, Some(&dbname)))?
                .collect::<Result<_, _>>()
                .map_err(|e| SqlError::from_sqlite(&e, Some(&dbname)))?
        };
        // Page counts per table and index, when SQLite has its dbstat table.
        let sizes = self.page_sizes(&schema);
        let mut rows = Vec::new();
        for (name, kind) in tables {
            if kind == "view" {
                let mut r = vec![text(&name)];
                r.extend(std::iter::repeat_n(Cell::Null, 16));
                r.push(text("VIEW"));
                rows.push(r);
                continue;
            }
            let m = self.table_meta(&schema, &dbname, &name)?;
            let n = self.count_rows(&schema, &name)?;
            let (data, index) = match &sizes {
                Some(map) => {
                    let data = map.get(&name).copied().unwrap_or(0);
                    let index = map
                        .iter()
                        .filter(|(k, _)| k.starts_with(&format!("{name}\u{0}")))
                        .map(|(_, v)| *v)
                        .sum::<i64>();
                    (data, index)
                }
                None => (0, 0),
            };
            rows.push(vec![
                text(&name),
                text("SQLite"),
                Cell::Integer(10),
                text("Dynamic"),
                Cell::Integer(n),
                Cell::Integer(if n > 0 { data / n } else { 0 }),
                Cell::Integer(data),
                Cell::Integer(0),
                Cell::Integer(index),
                Cell::Integer(0),
                m.auto_increment.map(Cell::Integer).unwrap_or(Cell::Null),
                Cell::Null,
                Cell::Null,
                Cell::Null,
                text("utf8mb4_general_ci"),
                Cell::Null,
                text(""),
                text(""),
            ]);
        }
        let rs = ResultSet {
            columns: cols(&[
                ("Name", S),
                ("Engine", S),
                ("Version", L),
                ("Row_format", S),
                ("Rows", L),
                ("Avg_row_length", L),
                ("Data_length", L),
                ("Max_data_length", L),
                ("Index_length", L),
                ("Data_free", L),
                ("Auto_increment", L),
                ("Create_time", DT),
                ("Update_time", DT),
                ("Check_time", DT),
                ("Collation", S),
                ("Checksum", L),
                ("Create_options", S),
                ("Comment", S),
            ]),
            rows,
        };
        Ok(Outcome::Rows(self.filter_result(rs, filter, "Name")?))
    }

    /// Bytes per table (key `name`) and per index (key `table\0index`) from
    /// SQLite's `dbstat` table; `None` when this SQLite lacks it.
    fn page_sizes(&mut self, schema: &str) -> Option<std::collections::HashMap<String, i64>> {
        let q = schema.replace('"', "\"\"");
        let mut st = self
            .sql
            .conn
            .prepare(&format!(
                "SELECT m.name, m.type, m.tbl_name, SUM(s.pgsize) FROM dbstat(?1) s \
                 JOIN \"{q}\".sqlite_master m ON m.name = s.name GROUP BY m.name"
            ))
            .ok()?;
        let rows = st
            .query_map([schema], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .ok()?;
        let mut map = std::collections::HashMap::new();
        for (name, kind, tbl, bytes) in rows.flatten() {
            let key = if kind == "index" {
                format!("{tbl}\u{0}{name}")
            } else {
                name
            };
            map.insert(key, bytes);
        }
        Some(map)
    }

    /// Applies `LIKE 'pat'` (on `like_col`) or `WHERE expr` to a result, in SQLite.
    fn filter_result(
        &mut self,
        rs: ResultSet,
        filter: Option<ShowFilter>,
        like_col: &str,
    ) -> Result<ResultSet, SqlError> {
        let Some(filter) = filter else {
            return Ok(rs);
        };
        let cond = match filter {
            ShowFilter::Like(p) => {
                format!("\"{like_col}\" LIKE {} ESCAPE '\\'", rewrite::quote_str(&p))
            }
            ShowFilter::Where(toks) => self.rewrite(&toks)?.sql,
        };
        let e = |e: rusqlite::Error| SqlError::from_sqlite(&e, None);
        let names: Vec<String> = rs.columns.iter().map(|c| sqlite_ident(&c.name)).collect();
        let c = &self.sql.conn;
        c.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.minnow_meta; CREATE TEMP TABLE minnow_meta({});",
            names.join(", ")
        ))
        .map_err(e)?;
        {
            let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
            let mut ins = c
                .prepare(&format!(
                    "INSERT INTO temp.minnow_meta VALUES ({})",
                    marks.join(", ")
                ))
                .map_err(e)?;
            for r in &rs.rows {
                ins.execute(rusqlite::params_from_iter(r.iter()))
                    .map_err(e)?;
            }
        }
        let out = self.query_rows(
            &format!("SELECT * FROM temp.minnow_meta WHERE {cond} ORDER BY rowid"),
            &[],
            &[],
        );
        let _ = self
            .sql
            .conn
            .execute_batch("DROP TABLE IF EXISTS temp.minnow_meta");
        let mut out = out?;
        out.columns = rs.columns;
        Ok(out)
    }

    /// `CONSTRAINT … FOREIGN KEY … REFERENCES …` lines, MySQL's layout and names.
    fn foreign_keys(
        &mut self,
        schema: &str,
        db: &str,
        table: &str,
    ) -> Result<Vec<String>, SqlError> {
        let e = |e: rusqlite::Error| SqlError::from_sqlite(&e, Some(db));
        let mut st = self
            .sql
            .conn
            .prepare(
                "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
                 FROM pragma_foreign_key_list(?1, ?2) ORDER BY id, seq",
            )
            .map_err(e)?;
        type Fk = (i64, String, String, Option<String>, String, String);
        let rows: Vec<Fk> = st
            .query_map([table, schema], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < rows.len() {
            let id = rows[i].0;
            let group: Vec<&Fk> = rows[i..].iter().take_while(|r| r.0 == id).collect();
            i += group.len();
            let from: Vec<String> = group.iter().map(|r| quote_ident(&r.2)).collect();
            let to: Vec<String> = group
                .iter()
                .filter_map(|r| r.3.as_deref().map(quote_ident))
                .collect();
            let first = group[0];
            let mut l = format!(
                "  CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}",
                quote_ident(&format!("{table}_ibfk_{}", out.len() + 1)),
                from.join(","),
                quote_ident(&first.1)
            );
            if to.len() == from.len() {
                l.push_str(&format!(" ({})", to.join(",")));
            }
            if first.5 != "NO ACTION" {
                l.push_str(&format!(" ON DELETE {}", first.5));
            }
            if first.4 != "NO ACTION" {
                l.push_str(&format!(" ON UPDATE {}", first.4));
            }
            out.push(l);
        }
        Ok(out)
    }

    /// `SHOW CREATE TABLE` in MySQL's layout, rebuilt from the catalog.
    pub(crate) fn show_create_table(
        &mut self,
        db: Option<String>,
        table: &str,
    ) -> Result<Outcome, SqlError> {
        let (schema, dbname) = self.meta_schema(db)?;
        let is_view: bool = self
            .sql
            .conn
            .query_row(
                &format!(
                    "SELECT type = 'view' FROM \"{}\".sqlite_master WHERE name = ?1",
                    schema.replace('"', "\"\"")
                ),
                [table],
                |r| r.get(0),
            )
            .unwrap_or(false);
        let m = self.table_meta(&schema, &dbname, table)?;
        if is_view {
            let sql: String = self
                .sql
                .conn
                .query_row(
                    &format!(
                        "SELECT sql FROM \"{}\".sqlite_master WHERE name = ?1",
                        schema.replace('"', "\"\"")
                    ),
                    [table],
                    |r| r.get(0),
                )
                .map_err(|e| SqlError::from_sqlite(&e, Some(&dbname)))?;
            return Ok(Outcome::Rows(ResultSet {
                columns: cols(&[
                    ("View", S),
                    ("Create View", S),
                    ("character_set_client", S),
                    ("collation_connection", S),
                ]),
                rows: vec![vec![
                    text(table),
                    text(sql),
                    text("utf8mb4"),
                    text("utf8mb4_general_ci"),
                ]],
            }));
        }
        let mut lines = Vec::new();
        for c in &m.columns {
            let mut l = format!("  {} {}", quote_ident(&c.name), c.ty);
            if c.not_null {
                l.push_str(" NOT NULL");
            }
            match &c.default {
                Some(d) => {
                    l.push_str(" DEFAULT ");
                    l.push_str(d);
                }
                None if !c.not_null => l.push_str(" DEFAULT NULL"),
                None => {}
            }
            if c.auto_increment {
                l.push_str(" AUTO_INCREMENT");
            }
            lines.push(l);
        }
        for ix in &m.indexes {
            let list: Vec<String> = ix.columns.iter().map(|c| quote_ident(c)).collect();
            let list = list.join(",");
            lines.push(match (ix.name.as_str(), ix.unique) {
                ("PRIMARY", _) => format!("  PRIMARY KEY ({list})"),
                (n, true) => format!("  UNIQUE KEY {} ({list})", quote_ident(n)),
                (n, false) => format!("  KEY {} ({list})", quote_ident(n)),
            });
        }
        lines.extend(self.foreign_keys(&schema, &dbname, table)?);
        let stored: Option<String> = self
            .sql
            .conn
            .query_row(
                &format!(
                    "SELECT sql FROM \"{}\".sqlite_master WHERE name = ?1",
                    schema.replace('"', "\"\"")
                ),
                [table],
                |r| r.get(0),
            )
            .ok();
        if let Some(sql) = stored {
            lines.extend(
                rewrite::table_checks(&sql)
                    .into_iter()
                    .map(|c| format!("  {c}")),
            );
        }
        let mut ddl = format!(
            "CREATE TABLE {} (\n{}\n) ENGINE=SQLite",
            quote_ident(table),
            lines.join(",\n")
        );
        if let Some(n) = m.auto_increment.filter(|n| *n > 1) {
            ddl.push_str(&format!(" AUTO_INCREMENT={n}"));
        }
        ddl.push_str(" DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci");
        Ok(Outcome::Rows(ResultSet {
            columns: cols(&[("Table", S), ("Create Table", S)]),
            rows: vec![vec![text(table), text(ddl)]],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_type_spelling() {
        assert_eq!(mysql_type("INTEGER"), "int(11)");
        assert_eq!(mysql_type("int unsigned"), "int(11) unsigned");
        assert_eq!(mysql_type("INT(32)"), "int(32)");
        assert_eq!(mysql_type("varchar(20)"), "varchar(20)");
        assert_eq!(mysql_type("DECIMAL(10, 2)"), "decimal(10,2)");
        assert_eq!(mysql_type("BIGINT"), "bigint(20)");
        assert_eq!(mysql_type(""), "text");
    }

    #[test]
    fn parses_show_forms() {
        let p = |s: &str| parse(&rewrite::tokenize(s).expect("tokens"));
        assert!(matches!(
            p("SHOW TABLE STATUS FROM shop LIKE 't%'"),
            Ok(Some(ShowMeta::TableStatus { db: Some(d), filter: Some(ShowFilter::Like(l)) })) if d == "shop" && l == "t%"
        ));
        assert!(matches!(
            p("SHOW KEYS IN shop.t WHERE Key_name = 'PRIMARY'"),
            Ok(Some(ShowMeta::Index { db: Some(d), table, filter: Some(ShowFilter::Where(_)) })) if d == "shop" && table == "t"
        ));
        assert!(matches!(
            p("SHOW FULL FIELDS FROM t IN shop"),
            Ok(Some(ShowMeta::Columns { full: true, db: Some(d), .. })) if d == "shop"
        ));
        assert!(matches!(p("SHOW TABLES"), Ok(None)));
        assert!(p("SHOW INDEX t").is_err());
        assert!(p("SHOW INDEX FROM t junk").is_err());
    }
}
