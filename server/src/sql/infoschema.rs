//! information_schema: tables are registered in [`InfoSchemaRegistry`]
//! (plugins add theirs) and live in an in-memory database attached to each
//! session's SQLite connection as `information_schema`; a statement that
//! names one refills it first. Plain tables instead of virtual tables: SQLite
//! then plans WHERE/ORDER BY/JOIN itself and no `unsafe` vtab glue is needed;
//! the cost (a refill per statement that names the table) is paid only by
//! statements that read them.

use std::sync::Arc;

use mysql_common::constants::ColumnType;
use rusqlite::Connection;

use crate::hooks::{FillContext, InfoSchemaRegistry, InfoSchemaTable};
use crate::protocol::{Cell, ColDef};

fn col(name: &str, ty: ColumnType) -> ColDef {
    ColDef::new(name, ty)
}

fn decl(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::MYSQL_TYPE_LONGLONG | ColumnType::MYSQL_TYPE_LONG => "BIGINT",
        ColumnType::MYSQL_TYPE_DOUBLE => "DOUBLE",
        _ => "VARCHAR(1024)",
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// Registers PROCESSLIST, GLOBAL_STATUS, SESSION_STATUS, GLOBAL_VARIABLES, SESSION_VARIABLES.
pub fn register_builtin_tables(reg: &InfoSchemaRegistry) {
    use ColumnType::*;
    let s = MYSQL_TYPE_VAR_STRING;
    reg.register(InfoSchemaTable {
        name: "PROCESSLIST".into(),
        columns: vec![
            col("ID", MYSQL_TYPE_LONGLONG),
            col("USER", s),
            col("HOST", s),
            col("DB", s),
            col("COMMAND", s),
            col("TIME", MYSQL_TYPE_LONGLONG),
            col("STATE", s),
            col("INFO", s),
        ],
        fill: Arc::new(|ctx| processlist_rows(ctx, true)),
    });
    let pair = |name: &str| {
        vec![
            col(&format!("{name}_NAME"), s),
            col(&format!("{name}_VALUE"), s),
        ]
    };
    let to_rows = |v: Vec<(String, String)>| -> Vec<Vec<Cell>> {
        v.into_iter()
            .map(|(k, v)| vec![text(k.to_ascii_uppercase()), text(v)])
            .collect()
    };
    reg.register(InfoSchemaTable {
        name: "GLOBAL_STATUS".into(),
        columns: pair("VARIABLE"),
        fill: Arc::new(move |ctx| to_rows(ctx.shared.status.list(None))),
    });
    reg.register(InfoSchemaTable {
        name: "SESSION_STATUS".into(),
        columns: pair("VARIABLE"),
        fill: Arc::new(move |ctx| to_rows(ctx.shared.status.list(Some(ctx.session_status)))),
    });
    reg.register(InfoSchemaTable {
        name: "GLOBAL_VARIABLES".into(),
        columns: pair("VARIABLE"),
        fill: Arc::new(move |ctx| to_rows(ctx.shared.vars.list(None))),
    });
    reg.register(InfoSchemaTable {
        name: "SESSION_VARIABLES".into(),
        columns: pair("VARIABLE"),
        fill: Arc::new(move |ctx| to_rows(ctx.shared.vars.list(Some(ctx.session_vars)))),
    });
}

/// (schema, table name, type, create statement) of every table and view.
fn all_tables(ctx: &FillContext<'_>) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for db in ctx.shared.datadir.databases() {
        let Ok(c) = Connection::open_with_flags(
            ctx.shared.datadir.db_path(&db),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) else {
            continue;
        };
        let _ = c.busy_timeout(std::time::Duration::from_secs(2));
        let Ok(mut st) = c.prepare(
            "SELECT name, type, coalesce(sql, '') FROM sqlite_master \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ) else {
            continue;
        };
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        });
        if let Ok(rows) = rows {
            for (name, ty, sql) in rows.flatten() {
                out.push((db.clone(), name, ty, sql));
            }
        }
    }
    out
}

/// Columns of one table: (name, declared type, nullable, key, default, position).
fn table_columns(
    ctx: &FillContext<'_>,
    db: &str,
    table: &str,
) -> Vec<(String, String, bool, bool, Option<String>, i64)> {
    let Ok(c) = Connection::open_with_flags(
        ctx.shared.datadir.db_path(db),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return Vec::new();
    };
    let Ok(mut st) =
        c.prepare("SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")
    else {
        return Vec::new();
    };
    st.query_map([table], |r| {
        Ok((
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)? == 0,
            r.get::<_, i64>(5)? != 0,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, i64>(0)? + 1,
        ))
    })
    .map(|rows| rows.flatten().collect())
    .unwrap_or_default()
}

/// Registers SCHEMATA, TABLES, COLUMNS and an empty FILES (what `mariadb-dump` and GUI clients read).
pub fn register_catalog_tables(reg: &InfoSchemaRegistry) {
    use ColumnType::*;
    let s = MYSQL_TYPE_VAR_STRING;
    let l = MYSQL_TYPE_LONGLONG;
    let cols = |v: &[(&str, ColumnType)]| v.iter().map(|(n, t)| col(n, *t)).collect::<Vec<_>>();
    reg.register(InfoSchemaTable {
        name: "SCHEMATA".into(),
        columns: cols(&[
            ("CATALOG_NAME", s),
            ("SCHEMA_NAME", s),
            ("DEFAULT_CHARACTER_SET_NAME", s),
            ("DEFAULT_COLLATION_NAME", s),
            ("SQL_PATH", s),
        ]),
        fill: Arc::new(|ctx| {
            let mut dbs = ctx.shared.datadir.databases();
            dbs.push("information_schema".into());
            dbs.sort();
            dbs.into_iter()
                .map(|d| {
                    vec![
                        text("def"),
                        text(d),
                        text("utf8mb4"),
                        text("utf8mb4_general_ci"),
                        Cell::Null,
                    ]
                })
                .collect()
        }),
    });
    reg.register(InfoSchemaTable {
        name: "TABLES".into(),
        columns: cols(&[
            ("TABLE_CATALOG", s),
            ("TABLE_SCHEMA", s),
            ("TABLE_NAME", s),
            ("TABLE_TYPE", s),
            ("ENGINE", s),
            ("VERSION", l),
            ("ROW_FORMAT", s),
            ("TABLE_ROWS", l),
            ("AUTO_INCREMENT", l),
            ("CREATE_TIME", s),
            ("TABLE_COLLATION", s),
            ("CREATE_OPTIONS", s),
            ("TABLE_COMMENT", s),
        ]),
        fill: Arc::new(|ctx| {
            all_tables(ctx)
                .into_iter()
                .map(|(db, name, ty, _)| {
                    let view = ty == "view";
                    vec![
                        text("def"),
                        text(db),
                        text(name),
                        text(if view { "VIEW" } else { "BASE TABLE" }),
                        if view { Cell::Null } else { text("SQLite") },
                        Cell::Integer(10),
                        text("Dynamic"),
                        Cell::Null,
                        Cell::Null,
                        Cell::Null,
                        text("utf8mb4_general_ci"),
                        text(""),
                        text(""),
                    ]
                })
                .collect()
        }),
    });
    reg.register(InfoSchemaTable {
        name: "COLUMNS".into(),
        columns: cols(&[
            ("TABLE_CATALOG", s),
            ("TABLE_SCHEMA", s),
            ("TABLE_NAME", s),
            ("COLUMN_NAME", s),
            ("ORDINAL_POSITION", l),
            ("COLUMN_DEFAULT", s),
            ("IS_NULLABLE", s),
            ("DATA_TYPE", s),
            ("COLUMN_TYPE", s),
            ("COLUMN_KEY", s),
            ("EXTRA", s),
            ("GENERATION_EXPRESSION", s),
        ]),
        fill: Arc::new(|ctx| {
            let mut rows = Vec::new();
            for (db, table, ty, _) in all_tables(ctx) {
                if ty != "table" {
                    continue;
                }
                for (name, decl, nullable, key, default, pos) in table_columns(ctx, &db, &table) {
                    let data_type = decl
                        .split(['(', ' '])
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    rows.push(vec![
                        text("def"),
                        text(db.clone()),
                        text(table.clone()),
                        text(name),
                        Cell::Integer(pos),
                        default.map(Cell::Text).unwrap_or(Cell::Null),
                        text(if nullable { "YES" } else { "NO" }),
                        text(data_type),
                        text(decl.to_ascii_lowercase()),
                        text(if key { "PRI" } else { "" }),
                        text(""),
                        Cell::Null,
                    ]);
                }
            }
            rows
        }),
    });
    reg.register(InfoSchemaTable {
        name: "FILES".into(),
        columns: cols(&[
            ("FILE_ID", l),
            ("FILE_NAME", s),
            ("FILE_TYPE", s),
            ("TABLESPACE_NAME", s),
            ("TABLE_SCHEMA", s),
            ("TABLE_NAME", s),
            ("LOGFILE_GROUP_NAME", s),
            ("TOTAL_EXTENTS", l),
            ("EXTENT_SIZE", l),
            ("INITIAL_SIZE", l),
            ("ENGINE", s),
            ("EXTRA", s),
        ]),
        fill: Arc::new(|_| Vec::new()),
    });
    reg.register(InfoSchemaTable {
        name: "TRIGGERS".into(),
        columns: cols(&[
            ("TRIGGER_SCHEMA", s),
            ("TRIGGER_NAME", s),
            ("EVENT_MANIPULATION", s),
            ("EVENT_OBJECT_SCHEMA", s),
            ("EVENT_OBJECT_TABLE", s),
            ("ACTION_STATEMENT", s),
            ("ACTION_TIMING", s),
        ]),
        fill: Arc::new(|_| Vec::new()),
    });
    reg.register(InfoSchemaTable {
        name: "PARTITIONS".into(),
        columns: cols(&[
            ("TABLE_SCHEMA", s),
            ("TABLE_NAME", s),
            ("PARTITION_NAME", s),
            ("SUBPARTITION_NAME", s),
            ("TABLESPACE_NAME", s),
        ]),
        fill: Arc::new(|_| Vec::new()),
    });
}

/// Processlist rows visible to the asking user. `full`: Info not truncated.
pub fn processlist_rows(ctx: &FillContext<'_>, full: bool) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for t in ctx.shared.threads.all() {
        let Some(st) = t.snapshot() else { continue };
        if !ctx.privileged && st.user != ctx.user {
            continue;
        }
        let info = st.info.map(|i| {
            if full {
                i
            } else {
                i.chars().take(100).collect()
            }
        });
        rows.push(vec![
            Cell::Integer(i64::from(t.id)),
            text(st.user),
            text(t.host.clone()),
            st.db.map(Cell::Text).unwrap_or(Cell::Null),
            text(st.command),
            Cell::Integer(st.since.elapsed().as_secs() as i64),
            text(st.state),
            info.map(Cell::Text).unwrap_or(Cell::Null),
        ]);
    }
    rows
}

/// Attaches the in-memory `information_schema` database (tables are created
/// when first used; ATTACH itself is not allowed inside a transaction).
pub fn attach(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("ATTACH DATABASE ':memory:' AS information_schema")
}

/// Creates every registered table (for `SHOW TABLES FROM information_schema`).
pub fn create_all(conn: &Connection, reg: &InfoSchemaRegistry) -> rusqlite::Result<()> {
    for t in reg.all() {
        create(conn, &t)?;
    }
    Ok(())
}

fn create(conn: &Connection, t: &InfoSchemaTable) -> rusqlite::Result<()> {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("\"{}\" {}", c.name, decl(c.ty)))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS information_schema.\"{}\" ({})",
        t.name,
        cols.join(", ")
    ))
}

/// Refills the named tables (unknown names are left to SQLite's error).
pub fn refill(
    conn: &Connection,
    reg: &InfoSchemaRegistry,
    names: &[String],
    ctx: &FillContext<'_>,
) -> rusqlite::Result<()> {
    let all = reg.all();
    // A table whose provider went away (UNINSTALL PLUGIN) must not linger.
    for n in names {
        if !all.iter().any(|t| t.name.eq_ignore_ascii_case(n)) {
            conn.execute_batch(&format!(
                "DROP TABLE IF EXISTS information_schema.\"{}\"",
                n.replace('"', "")
            ))?;
        }
    }
    for t in all {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&t.name)) {
            continue;
        }
        create(conn, &t)?;
        conn.execute_batch(&format!("DELETE FROM information_schema.\"{}\"", t.name))?;
        let placeholders: Vec<&str> = t.columns.iter().map(|_| "?").collect();
        let mut st = conn.prepare_cached(&format!(
            "INSERT INTO information_schema.\"{}\" VALUES ({})",
            t.name,
            placeholders.join(",")
        ))?;
        for row in (t.fill)(ctx) {
            st.execute(rusqlite::params_from_iter(row.iter()))?;
        }
    }
    Ok(())
}
