//! A table's keys under their MySQL names, read from SQLite's catalog, and
//! the `information_schema` tables built on them, which GUI clients and ORMs
//! read: `STATISTICS` (one row per index column), `KEY_COLUMN_USAGE`
//! (primary, unique and foreign key columns), `TABLE_CONSTRAINTS` and
//! `REFERENTIAL_CONSTRAINTS`.
//!
//! Naming: the primary key is `PRIMARY`; an index stored as `t_i` (how
//! Minnow stores MySQL's per-table index names) is `i`; an unnamed UNIQUE
//! column constraint is named after its first column, as MySQL does; a named
//! `CONSTRAINT n UNIQUE` is `n`; foreign keys are `t_ibfk_N` as MySQL names
//! them when no name is given (SQLite keeps no foreign-key names).

use std::sync::Arc;

use mysql_common::constants::ColumnType;
use rusqlite::Connection;

use crate::hooks::{FillContext, InfoSchemaRegistry, InfoSchemaTable};
use crate::protocol::{Cell, ColDef};

/// One key of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// MySQL name (`PRIMARY`, the index name, …).
    pub name: String,
    /// Whether duplicates are refused.
    pub unique: bool,
    /// Key columns in order.
    pub columns: Vec<String>,
}

/// The keys of `table` in SQLite schema `schema` of connection `c`, primary first.
pub fn table_keys(c: &Connection, schema: &str, table: &str) -> rusqlite::Result<Vec<Key>> {
    let mut keys = Vec::new();
    let mut pk: Vec<(i64, String)> = c
        .prepare(&format!(
            "SELECT pk, name FROM {schema}.pragma_table_info(?1) WHERE pk > 0"
        ))?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    pk.sort();
    if !pk.is_empty() {
        keys.push(Key {
            name: "PRIMARY".into(),
            unique: true,
            columns: pk.into_iter().map(|p| p.1).collect(),
        });
    }
    let sql: String = c
        .query_row(
            &format!("SELECT coalesce(sql, '') FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"),
            [table],
            |r| r.get(0),
        )
        .unwrap_or_default();
    let list: Vec<(i64, String, bool, String)> = c
        .prepare(&format!(
            "SELECT seq, name, \"unique\", origin FROM {schema}.pragma_index_list(?1)"
        ))?
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut rest = Vec::new();
    for (_, ix, unique, origin) in list.into_iter().rev() {
        if origin == "pk" {
            continue;
        }
        let columns: Vec<String> = c
            .prepare(&format!(
                "SELECT name FROM {schema}.pragma_index_info(?1) ORDER BY seqno"
            ))?
            .query_map([&ix], |r| r.get::<_, Option<String>>(0))?
            .filter_map(|r| r.ok().flatten())
            .collect();
        let name = if origin == "u" {
            super::ddl::unique_key_name(&sql, &columns)
                .unwrap_or_else(|| columns.first().cloned().unwrap_or_default())
        } else {
            ix.strip_prefix(&format!("{table}_"))
                .map(str::to_string)
                .unwrap_or(ix)
        };
        rest.push(Key {
            name,
            unique,
            columns,
        });
    }
    keys.extend(rest);
    Ok(keys)
}

/// A foreign key of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    /// MySQL's generated name, `t_ibfk_N`.
    pub name: String,
    /// (column, referenced column) pairs.
    pub columns: Vec<(String, String)>,
    /// The referenced table.
    pub parent: String,
    /// `ON UPDATE` rule.
    pub on_update: String,
    /// `ON DELETE` rule.
    pub on_delete: String,
}

/// Foreign keys of `table`, in declaration order.
pub fn foreign_keys(c: &Connection, table: &str) -> rusqlite::Result<Vec<ForeignKey>> {
    type Row = (i64, String, String, Option<String>, String, String);
    let rows: Vec<Row> = c
        .prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )?
        .query_map([table], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<(i64, ForeignKey)> = Vec::new();
    // SQLite numbers foreign keys from the last one declared.
    let n = rows.iter().map(|r| r.0).max().unwrap_or(-1) + 1;
    for (id, parent, from, to, on_update, on_delete) in rows {
        let pair = (from.clone(), to.unwrap_or(from));
        match out.iter_mut().find(|x| x.0 == id) {
            Some(x) => x.1.columns.push(pair),
            None => out.push((
                id,
                ForeignKey {
                    name: format!("{table}_ibfk_{}", n - id),
                    columns: vec![pair],
                    parent,
                    on_update,
                    on_delete,
                },
            )),
        }
    }
    out.sort_by_key(|x| std::cmp::Reverse(x.0));
    Ok(out.into_iter().map(|x| x.1).collect())
}

/// Every base table of every database: (database, table, connection).
fn each_table(ctx: &FillContext<'_>, mut f: impl FnMut(&str, &str, &Connection)) {
    for db in ctx.shared.datadir.databases() {
        let Ok(c) = Connection::open_with_flags(
            ctx.shared.datadir.db_path(&db),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) else {
            continue;
        };
        let _ = c.busy_timeout(std::time::Duration::from_secs(2));
        let tables: Vec<String> = match c.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ) {
            Ok(mut st) => st
                .query_map([], |r| r.get(0))
                .map(|rows| rows.flatten().collect())
                .unwrap_or_default(),
            Err(_) => continue,
        };
        for t in tables {
            f(&db, &t, &c);
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// Registers `STATISTICS`, `KEY_COLUMN_USAGE`, `TABLE_CONSTRAINTS` and `REFERENTIAL_CONSTRAINTS`.
pub fn register_key_tables(reg: &InfoSchemaRegistry) {
    let s = ColumnType::MYSQL_TYPE_VAR_STRING;
    let l = ColumnType::MYSQL_TYPE_LONGLONG;
    let cols = |v: &[(&str, ColumnType)]| {
        v.iter()
            .map(|(n, t)| ColDef::new(*n, *t))
            .collect::<Vec<_>>()
    };
    reg.register(InfoSchemaTable {
        name: "STATISTICS".into(),
        columns: cols(&[
            ("TABLE_CATALOG", s),
            ("TABLE_SCHEMA", s),
            ("TABLE_NAME", s),
            ("NON_UNIQUE", l),
            ("INDEX_SCHEMA", s),
            ("INDEX_NAME", s),
            ("SEQ_IN_INDEX", l),
            ("COLUMN_NAME", s),
            ("COLLATION", s),
            ("CARDINALITY", l),
            ("SUB_PART", l),
            ("PACKED", s),
            ("NULLABLE", s),
            ("INDEX_TYPE", s),
            ("COMMENT", s),
            ("INDEX_COMMENT", s),
            ("IS_VISIBLE", s),
            ("EXPRESSION", s),
        ]),
        fill: Arc::new(|ctx| {
            let mut rows = Vec::new();
            each_table(ctx, |db, table, c| {
                let notnull: Vec<(String, bool)> = c
                    .prepare("SELECT name, \"notnull\" OR pk > 0 FROM pragma_table_info(?1)")
                    .and_then(|mut st| {
                        st.query_map([table], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?
                            .collect()
                    })
                    .unwrap_or_default();
                for k in table_keys(c, "main", table).unwrap_or_default() {
                    for (i, col) in k.columns.iter().enumerate() {
                        let nn = notnull.iter().any(|(n, x)| n == col && *x);
                        rows.push(vec![
                            text("def"),
                            text(db),
                            text(table),
                            Cell::Integer(i64::from(!k.unique)),
                            text(db),
                            text(k.name.clone()),
                            Cell::Integer(i as i64 + 1),
                            text(col.clone()),
                            text("A"),
                            Cell::Null,
                            Cell::Null,
                            Cell::Null,
                            text(if nn { "" } else { "YES" }),
                            text("BTREE"),
                            text(""),
                            text(""),
                            text("YES"),
                            Cell::Null,
                        ]);
                    }
                }
            });
            rows
        }),
    });
    reg.register(InfoSchemaTable {
        name: "KEY_COLUMN_USAGE".into(),
        columns: cols(&[
            ("CONSTRAINT_CATALOG", s),
            ("CONSTRAINT_SCHEMA", s),
            ("CONSTRAINT_NAME", s),
            ("TABLE_CATALOG", s),
            ("TABLE_SCHEMA", s),
            ("TABLE_NAME", s),
            ("COLUMN_NAME", s),
            ("ORDINAL_POSITION", l),
            ("POSITION_IN_UNIQUE_CONSTRAINT", l),
            ("REFERENCED_TABLE_SCHEMA", s),
            ("REFERENCED_TABLE_NAME", s),
            ("REFERENCED_COLUMN_NAME", s),
        ]),
        fill: Arc::new(|ctx| {
            let mut rows = Vec::new();
            each_table(ctx, |db, table, c| {
                let head = |name: &str, col: &str, pos: usize| {
                    vec![
                        text("def"),
                        text(db),
                        text(name),
                        text("def"),
                        text(db),
                        text(table),
                        text(col),
                        Cell::Integer(pos as i64 + 1),
                    ]
                };
                for k in table_keys(c, "main", table).unwrap_or_default() {
                    if !k.unique {
                        continue;
                    }
                    for (i, col) in k.columns.iter().enumerate() {
                        let mut r = head(&k.name, col, i);
                        r.extend([Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
                        rows.push(r);
                    }
                }
                for fk in foreign_keys(c, table).unwrap_or_default() {
                    for (i, (from, to)) in fk.columns.iter().enumerate() {
                        let mut r = head(&fk.name, from, i);
                        r.extend([
                            Cell::Integer(i as i64 + 1),
                            text(db),
                            text(fk.parent.clone()),
                            text(to.clone()),
                        ]);
                        rows.push(r);
                    }
                }
            });
            rows
        }),
    });
    reg.register(InfoSchemaTable {
        name: "TABLE_CONSTRAINTS".into(),
        columns: cols(&[
            ("CONSTRAINT_CATALOG", s),
            ("CONSTRAINT_SCHEMA", s),
            ("CONSTRAINT_NAME", s),
            ("TABLE_SCHEMA", s),
            ("TABLE_NAME", s),
            ("CONSTRAINT_TYPE", s),
            ("ENFORCED", s),
        ]),
        fill: Arc::new(|ctx| {
            let mut rows = Vec::new();
            each_table(ctx, |db, table, c| {
                let row = |name: &str, kind: &str| {
                    vec![
                        text("def"),
                        text(db),
                        text(name),
                        text(db),
                        text(table),
                        text(kind),
                        text("YES"),
                    ]
                };
                for k in table_keys(c, "main", table).unwrap_or_default() {
                    if k.name == "PRIMARY" {
                        rows.push(row("PRIMARY", "PRIMARY KEY"));
                    } else if k.unique {
                        rows.push(row(&k.name, "UNIQUE"));
                    }
                }
                for fk in foreign_keys(c, table).unwrap_or_default() {
                    rows.push(row(&fk.name, "FOREIGN KEY"));
                }
            });
            rows
        }),
    });
    reg.register(InfoSchemaTable {
        name: "REFERENTIAL_CONSTRAINTS".into(),
        columns: cols(&[
            ("CONSTRAINT_CATALOG", s),
            ("CONSTRAINT_SCHEMA", s),
            ("CONSTRAINT_NAME", s),
            ("UNIQUE_CONSTRAINT_CATALOG", s),
            ("UNIQUE_CONSTRAINT_SCHEMA", s),
            ("UNIQUE_CONSTRAINT_NAME", s),
            ("MATCH_OPTION", s),
            ("UPDATE_RULE", s),
            ("DELETE_RULE", s),
            ("TABLE_NAME", s),
            ("REFERENCED_TABLE_NAME", s),
        ]),
        fill: Arc::new(|ctx| {
            let mut rows = Vec::new();
            each_table(ctx, |db, table, c| {
                for fk in foreign_keys(c, table).unwrap_or_default() {
                    let referenced: Vec<&String> = fk.columns.iter().map(|p| &p.1).collect();
                    let unique = table_keys(c, "main", &fk.parent)
                        .unwrap_or_default()
                        .into_iter()
                        .find(|k| {
                            k.unique
                                && k.columns.len() == referenced.len()
                                && k.columns
                                    .iter()
                                    .zip(&referenced)
                                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
                        })
                        .map(|k| text(k.name))
                        .unwrap_or(Cell::Null);
                    rows.push(vec![
                        text("def"),
                        text(db),
                        text(fk.name.clone()),
                        text("def"),
                        text(db),
                        unique,
                        text("NONE"),
                        text(fk.on_update.clone()),
                        text(fk.on_delete.clone()),
                        text(table),
                        text(fk.parent.clone()),
                    ]);
                }
            });
            rows
        }),
    });
}
