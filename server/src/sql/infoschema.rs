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
