//! Table maintenance: `ANALYZE | CHECK | OPTIMIZE | REPAIR TABLE t [, …]`
//! and `CHECKSUM TABLE`, with MySQL's result sets (`Table, Op, Msg_type,
//! Msg_text`), backed by SQLite's `ANALYZE`, `PRAGMA integrity_check`,
//! `VACUUM` and `REINDEX`.

use mysql_common::constants::ColumnType;
use sqlparser::tokenizer::Token;

use super::compat::{cell_text, kw, split_commas, text_col};
use super::{Outcome, rewrite};
use crate::error::SqlError;
use crate::protocol::{Cell, ColDef, ResultSet};
use crate::session::Session;
use crate::status::Com;

use super::rewrite::quote_ident as ident;

/// `t` or `db.t` at the start of `part`.
fn name_of(part: &[Token]) -> Option<(Option<String>, String)> {
    let w = |t: &Token| match t {
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    };
    let a = w(part.first()?)?;
    if part.get(1) == Some(&Token::Period) {
        return Some((Some(a), w(part.get(2)?)?));
    }
    Some((None, a))
}

impl Session {
    /// The SQLite schema holding `[db.]t` (a temporary table first) and the
    /// MySQL database name; `None` when the table does not exist.
    fn maint_locate(
        &mut self,
        db: Option<&str>,
        t: &str,
    ) -> Result<(Option<String>, String), SqlError> {
        let dbname = match db {
            Some(d) => d.to_string(),
            None => self.sql.db.clone().ok_or_else(SqlError::no_db)?,
        };
        let mut candidates = Vec::new();
        match db {
            Some(d) => {
                if !self.shared.datadir.db_exists(d) {
                    return Ok((None, dbname));
                }
                candidates.push(self.schema_for(d)?);
            }
            None => {
                candidates.push("temp".to_string());
                candidates.push("main".to_string());
            }
        }
        for schema in candidates {
            let rs = self.query_rows(
                &format!("SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"),
                &[Cell::Text(t.to_string())],
                &[],
            )?;
            if !rs.rows.is_empty() {
                return Ok((Some(schema), dbname));
            }
        }
        Ok((None, dbname))
    }

    /// `ANALYZE | CHECK | OPTIMIZE | REPAIR [NO_WRITE_TO_BINLOG | LOCAL] TABLE t [, …] [options]`.
    pub(super) fn table_maintenance(&mut self, t: &[Token]) -> Result<Outcome, SqlError> {
        self.bump(Com::Other);
        let op = match &t[0] {
            Token::Word(w) => w.value.to_ascii_lowercase(),
            _ => return Err(SqlError::parse("", "statement expected")),
        };
        let Some(at) = t.iter().position(|x| kw(x, "TABLE")) else {
            return Err(SqlError::parse(&op, "TABLE expected"));
        };
        self.implicit_commit()?;
        let mut rows = Vec::new();
        for part in split_commas(&t[at + 1..]) {
            let (db, name) = name_of(part).ok_or_else(|| {
                SqlError::parse(&super::compat::mysql_text(part), "table name expected")
            })?;
            let (schema, dbname) = self.maint_locate(db.as_deref(), &name)?;
            let full = format!("{dbname}.{name}");
            let row = |kind: &str, msg: &str| {
                vec![
                    Cell::Text(full.clone()),
                    Cell::Text(op.clone()),
                    Cell::Text(kind.to_string()),
                    Cell::Text(msg.to_string()),
                ]
            };
            let Some(schema) = schema else {
                rows.push(row("Error", &format!("Table '{full}' doesn't exist")));
                rows.push(row("status", "Operation failed"));
                continue;
            };
            let target = format!("{schema}.{}", ident(&name));
            let problems = match op.as_str() {
                "analyze" => {
                    self.exec_batch(&format!("ANALYZE {target}"))?;
                    vec![]
                }
                "optimize" => {
                    if schema != "temp" {
                        self.exec_batch(&format!("VACUUM {schema}"))?;
                    }
                    self.exec_batch(&format!("ANALYZE {target}"))?;
                    vec![]
                }
                "repair" => {
                    self.exec_batch(&format!("REINDEX {target}"))?;
                    self.integrity(&schema, &name)?
                }
                _ => self.integrity(&schema, &name)?,
            };
            if problems.is_empty() {
                rows.push(row("status", "OK"));
            } else {
                for p in &problems {
                    rows.push(row("error", p));
                }
                rows.push(row("error", "Corrupt"));
            }
        }
        Ok(Outcome::Rows(ResultSet {
            columns: ["Table", "Op", "Msg_type", "Msg_text"]
                .iter()
                .map(|n| text_col(n))
                .collect(),
            rows,
        }))
    }

    /// `PRAGMA integrity_check` of one table: the problems found.
    fn integrity(&mut self, schema: &str, name: &str) -> Result<Vec<String>, SqlError> {
        let rs = self.query_rows(
            &format!(
                "PRAGMA {schema}.integrity_check({})",
                rewrite::quote_str(name)
            ),
            &[],
            &[],
        )?;
        Ok(rs
            .rows
            .iter()
            .map(|r| cell_text(&r[0]))
            .filter(|m| m != "ok")
            .collect())
    }

    /// `CHECKSUM TABLE t [, …] [QUICK | EXTENDED]`: a checksum of the rows'
    /// contents (FNV-1a over the values in rowid order; MySQL's own checksum
    /// is a different function, so the numbers differ from MySQL's), NULL for
    /// a missing table as in MySQL.
    pub(super) fn checksum_table(&mut self, t: &[Token]) -> Result<Outcome, SqlError> {
        self.bump(Com::Other);
        let mut rows = Vec::new();
        for part in split_commas(&t[2..]) {
            let (db, name) = name_of(part).ok_or_else(|| {
                SqlError::parse(&super::compat::mysql_text(part), "table name expected")
            })?;
            let (schema, dbname) = self.maint_locate(db.as_deref(), &name)?;
            let sum = match schema {
                None => {
                    self.warnings.push((
                        crate::error::code::ER_TABLE_NOT_EXISTS,
                        format!("Table '{dbname}.{name}' doesn't exist"),
                    ));
                    Cell::Null
                }
                Some(schema) => {
                    let rs = self.query_rows(
                        &format!("SELECT * FROM {schema}.{} ORDER BY rowid", ident(&name)),
                        &[],
                        &[],
                    )?;
                    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                    for r in &rs.rows {
                        for c in r {
                            let bytes = match c {
                                Cell::Blob(b) => b.clone(),
                                other => cell_text(other).into_bytes(),
                            };
                            for b in bytes.iter().chain(std::iter::once(&0xffu8)) {
                                h ^= u64::from(*b);
                                h = h.wrapping_mul(0x0100_0000_01b3);
                            }
                        }
                    }
                    Cell::Integer((h & 0xffff_ffff) as i64)
                }
            };
            rows.push(vec![Cell::Text(format!("{dbname}.{name}")), sum]);
        }
        Ok(Outcome::Rows(ResultSet {
            columns: vec![
                text_col("Table"),
                ColDef::new("Checksum", ColumnType::MYSQL_TYPE_LONGLONG),
            ],
            rows,
        }))
    }
}
