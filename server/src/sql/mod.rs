//! Statements: `mysql_execute_command` parses with sqlparser (MySQL
//! dialect), runs administrative statements itself and hands the rest to the
//! session's SQLite connection after [`rewrite`].

mod collation;
mod compat;
mod ddl;
mod functions;
pub mod infoschema;
pub mod keys;
mod maint;
pub mod rewrite;
mod show;
mod syntax;
pub mod types;
mod users;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_common::constants::ColumnType;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use sqlparser::ast::{self, Expr, ObjectName, ShowStatementFilter, Statement};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::debug as dbg;
use crate::error::{SqlError, code};
use crate::hooks::{AuditEvent, FillContext};
use crate::protocol::{Cell, ColDef, ResultSet};
use crate::server::{Shared, VERSION};
use crate::session::{Prepared, Session};
use crate::status::{Com, Counter};
use crate::threads::{KillLevel, ThreadInfo};
use crate::vars::{SetValue, VarValue};
use rewrite::Ref;
pub(crate) use syntax::restore_names;

/// What a statement produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// An OK packet.
    Ok {
        /// Affected rows.
        affected: u64,
        /// Last insert id.
        insert_id: u64,
        /// Info text.
        info: String,
    },
    /// A result set.
    Rows(ResultSet),
}

impl Outcome {
    /// OK with `affected` rows.
    pub fn ok(affected: u64) -> Self {
        Outcome::Ok {
            affected,
            insert_id: 0,
            info: String::new(),
        }
    }
}

/// A session's SQLite connection and database state.
#[derive(Debug)]
pub struct SqlConn {
    /// The connection; `main` is the current database (or memory).
    pub conn: Connection,
    /// Current database.
    pub db: Option<String>,
    attached: HashSet<String>,
    info_schema_created: bool,
    /// `@@autocommit` of the session.
    pub autocommit: bool,
    /// Last generated insert id.
    pub last_insert_id: i64,
    /// Statements seen before whose SQLite text does not depend on session
    /// state: the text goes straight to SQLite without parsing again.
    plans: HashMap<String, Rc<Plan>>,
    /// MySQL types of the computed columns of SELECTs seen before, by SQLite
    /// text, with the database they were typed in.
    type_hints: HashMap<String, TypeHints>,
    /// The `Shared::schema_generation` the caches above were made under.
    schema_generation: u64,
}

/// The current database when typed and the types of a query's columns.
type TypeHints = (Option<String>, Rc<[Option<types::MyType>]>);

/// A cached translation of a statement.
#[derive(Debug)]
struct Plan {
    sqlite: String,
    com: Com,
}

const PLAN_CACHE_CAPACITY: usize = 256;

impl SqlConn {
    /// Opens a connection with `db` as `main`.
    pub fn open(
        shared: &Shared,
        thd: &Arc<ThreadInfo>,
        db: Option<&str>,
    ) -> Result<SqlConn, SqlError> {
        let e = |e: rusqlite::Error| SqlError::from_sqlite(&e, db);
        let conn = match db {
            Some(d) => {
                let c = Connection::open_with_flags(
                    shared.datadir.db_path(d),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(e)?;
                c.pragma_update(None, "journal_mode", "WAL").map_err(e)?;
                c
            }
            None => Connection::open_in_memory().map_err(e)?,
        };
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(e)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(e)?;
        conn.set_prepared_statement_cache_capacity(64);
        // No string or blob larger than max_allowed_packet: it could not be sent, and
        // `SELECT zeroblob(1e9)` would otherwise allocate gigabytes.
        let max_packet = shared
            .vars
            .global("max_allowed_packet")
            .ok()
            .and_then(|v| v.show().parse::<i32>().ok())
            .unwrap_or(64 << 20);
        conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH, max_packet)
            .map_err(e)?;
        infoschema::attach(&conn).map_err(e)?;
        register_functions(&conn, thd).map_err(e)?;
        thd.set_interrupt(conn.get_interrupt_handle());
        Ok(SqlConn {
            conn,
            db: db.map(str::to_string),
            attached: HashSet::new(),
            info_schema_created: false,
            autocommit: true,
            last_insert_id: 0,
            plans: HashMap::new(),
            type_hints: HashMap::new(),
            schema_generation: 0,
        })
    }

    /// Makes SQLite re-read every attached database's schema if another
    /// connection changed it: reading `sqlite_master` checks the schema cookie
    /// (column metadata, used to type results, does not).
    fn reload_schemas(&self) {
        let names: Vec<String> = match self.conn.prepare("PRAGMA database_list") {
            Ok(mut st) => st
                .query_map([], |r| r.get::<_, String>(1))
                .map(|rows| rows.flatten().collect())
                .unwrap_or_default(),
            Err(_) => return,
        };
        for n in names {
            let q = format!(
                "SELECT 1 FROM \"{}\".sqlite_master LIMIT 1",
                n.replace('"', "\"\"")
            );
            let _ = self.conn.execute_batch(&q);
        }
    }

    fn remember_plan(&mut self, text: &str, sqlite: String, com: Com) {
        if self.plans.len() >= PLAN_CACHE_CAPACITY {
            self.plans.clear();
        }
        self.plans
            .insert(text.to_string(), Rc::new(Plan { sqlite, com }));
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// Rolls back an open transaction (disconnect, reset).
    pub fn rollback_open(&mut self) {
        if self.in_transaction() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn register_functions(conn: &Connection, thd: &Arc<ThreadInfo>) -> rusqlite::Result<()> {
    let det = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("minnow_v", 2, det, |ctx| {
        Ok(functions::owned(ctx.get_raw(0)))
    })?;
    let t = Arc::clone(thd);
    conn.create_scalar_function("sleep", 1, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let secs: f64 = ctx.get(0).unwrap_or(0.0);
        // `None`: longer than the clock counts (SLEEP(1e308)): until killed.
        let until = Duration::try_from_secs_f64(secs.max(0.0))
            .ok()
            .and_then(|d| Instant::now().checked_add(d));
        t.set(|s| s.state = "User sleep");
        while until.is_none_or(|u| Instant::now() < u) {
            if t.is_killed() {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERRUPT),
                    Some("interrupted".into()),
                ));
            }
            let left = until.map_or(Duration::MAX, |u| {
                u.saturating_duration_since(Instant::now())
            });
            std::thread::sleep(Duration::from_millis(5).min(left));
        }
        t.set(|s| s.state = "executing");
        Ok(0i64)
    })?;
    conn.create_scalar_function("if", 3, det, |ctx| {
        let i = if functions::truthy(ctx.get_raw(0)) {
            1
        } else {
            2
        };
        Ok(functions::owned(ctx.get_raw(i)))
    })?;
    functions::register(conn)?;
    types::register(conn)?;
    collation::register(conn)
}

/// MySQL type for an SQLite declared type.
fn decl_type(decl: &str) -> ColumnType {
    let d = decl.to_ascii_uppercase();
    if d.contains("INT") {
        ColumnType::MYSQL_TYPE_LONGLONG
    } else if d.contains("CHAR") || d.contains("TEXT") || d.contains("CLOB") || d.contains("ENUM") {
        ColumnType::MYSQL_TYPE_VAR_STRING
    } else if d.contains("BLOB") || d.contains("BINARY") {
        ColumnType::MYSQL_TYPE_BLOB
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        ColumnType::MYSQL_TYPE_DOUBLE
    } else if d.contains("DEC") || d.contains("NUMERIC") {
        ColumnType::MYSQL_TYPE_NEWDECIMAL
    } else if d.starts_with("DATETIME") || d.starts_with("TIMESTAMP") {
        ColumnType::MYSQL_TYPE_DATETIME
    } else if d.starts_with("DATE") {
        ColumnType::MYSQL_TYPE_DATE
    } else {
        ColumnType::MYSQL_TYPE_VAR_STRING
    }
}

fn infer_type(rows: &[Vec<Cell>], i: usize) -> ColumnType {
    let mut t = ColumnType::MYSQL_TYPE_NULL;
    for r in rows {
        t = match (&r[i], t) {
            (Cell::Null, t) => t,
            (Cell::Integer(_), ColumnType::MYSQL_TYPE_NULL | ColumnType::MYSQL_TYPE_LONGLONG) => {
                ColumnType::MYSQL_TYPE_LONGLONG
            }
            (
                Cell::Integer(_) | Cell::Real(_),
                ColumnType::MYSQL_TYPE_NULL
                | ColumnType::MYSQL_TYPE_LONGLONG
                | ColumnType::MYSQL_TYPE_DOUBLE,
            ) => ColumnType::MYSQL_TYPE_DOUBLE,
            (Cell::Blob(_), _) => return ColumnType::MYSQL_TYPE_BLOB,
            _ => ColumnType::MYSQL_TYPE_VAR_STRING,
        };
    }
    if t == ColumnType::MYSQL_TYPE_NULL && !rows.is_empty() {
        return ColumnType::MYSQL_TYPE_NULL;
    }
    if rows.is_empty() && t == ColumnType::MYSQL_TYPE_NULL {
        return ColumnType::MYSQL_TYPE_VAR_STRING;
    }
    t
}

fn pairs_result(names: (&str, &str), rows: Vec<(String, String)>) -> ResultSet {
    ResultSet {
        columns: vec![
            ColDef::new(names.0, ColumnType::MYSQL_TYPE_VAR_STRING),
            ColDef::new(names.1, ColumnType::MYSQL_TYPE_VAR_STRING),
        ],
        rows: rows
            .into_iter()
            .map(|(a, b)| vec![Cell::Text(a), Cell::Text(b)])
            .collect(),
    }
}

fn single_col(name: &str, vals: Vec<String>) -> ResultSet {
    ResultSet {
        columns: vec![ColDef::new(name, ColumnType::MYSQL_TYPE_VAR_STRING)],
        rows: vals.into_iter().map(|v| vec![Cell::Text(v)]).collect(),
    }
}

fn object_last(n: &ObjectName) -> String {
    n.0.last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_default()
}

/// The first word of a statement, upper-case.
fn words(toks: &[TokenWithSpan], n: usize) -> Vec<String> {
    toks.iter()
        .filter_map(|t| match &t.token {
            Token::Word(w) => Some(w.value.to_ascii_uppercase()),
            Token::Whitespace(_) => None,
            _ => Some(String::new()),
        })
        .take(n)
        .collect()
}

fn com_of(st: &Statement) -> Com {
    use ast::ObjectType;
    match st {
        Statement::Query(_) => Com::Select,
        Statement::Insert(i) if i.replace_into => Com::Replace,
        Statement::Insert(_) => Com::Insert,
        Statement::Update { .. } => Com::Update,
        Statement::Delete(_) => Com::Delete,
        Statement::CreateTable(_) => Com::CreateTable,
        Statement::AlterTable { .. } => Com::AlterTable,
        Statement::CreateIndex(_) => Com::CreateIndex,
        Statement::Drop {
            object_type: ObjectType::Table,
            ..
        } => Com::DropTable,
        Statement::Drop {
            object_type: ObjectType::Index,
            ..
        } => Com::DropIndex,
        Statement::Drop {
            object_type: ObjectType::Schema | ObjectType::Database,
            ..
        } => Com::DropDb,
        Statement::CreateDatabase { .. } | Statement::CreateSchema { .. } => Com::CreateDb,
        Statement::Use(_) => Com::ChangeDb,
        Statement::Set(_) => Com::SetOption,
        Statement::ShowVariables { .. } => Com::ShowVariables,
        Statement::ShowStatus { .. } => Com::ShowStatus,
        Statement::ShowProcessList { .. } => Com::ShowProcesslist,
        Statement::ShowDatabases { .. } | Statement::ShowSchemas { .. } => Com::ShowDatabases,
        Statement::ShowTables { .. } => Com::ShowTables,
        Statement::ShowColumns { .. } => Com::ShowFields,
        Statement::ShowCreate { .. } => Com::ShowCreateTable,
        Statement::Kill { .. } => Com::Kill,
        Statement::StartTransaction { .. } => Com::Begin,
        Statement::Commit { .. } => Com::Commit,
        Statement::Rollback { .. } => Com::Rollback,
        _ => Com::Other,
    }
}

fn like_to_sql(f: &Option<ShowStatementFilter>) -> Result<Option<String>, SqlError> {
    Ok(match f {
        None => None,
        Some(ShowStatementFilter::Like(p)) | Some(ShowStatementFilter::ILike(p)) => Some(format!(
            "WHERE c1 LIKE {} ESCAPE '\\'",
            rewrite::quote_str(p)
        )),
        Some(ShowStatementFilter::Where(e)) => Some(format!("WHERE {e}")),
        Some(ShowStatementFilter::NoKeyword(p)) => {
            Some(format!("WHERE c1 LIKE {}", rewrite::quote_str(p)))
        }
    })
}

impl Session {
    /// Runs one COM_QUERY statement.
    pub fn run_statement(&mut self, text: &str) -> Result<Outcome, SqlError> {
        let _frame = crate::debug::Scope::enter("mysql_execute_command");
        crate::debug::stmt_print!("query", "{text}");
        let sh = Arc::clone(&self.shared);
        sh.audit.notify(&AuditEvent::Starting {
            conn_id: self.thd.id,
            query: text,
        })?;
        if dbg::execute_if("crash_mysql_execute_command") {
            sh.errlog
                .error("crash_mysql_execute_command: crashing on purpose (DBUG fault injection)");
            std::process::abort();
        }
        // Diagnostics statements keep the previous statement's warnings.
        let head = text.trim_start().get(..13).unwrap_or("");
        if !head.eq_ignore_ascii_case("SHOW WARNINGS") {
            self.warnings.clear();
        }
        let r = crate::plugins::audited(self, text, |s| s.execute_text(text));
        let r = r.map_err(|e| self.explain_error(text, e));
        let err = r.as_ref().err().map(|e| e.code).unwrap_or(0);
        let _ = sh.audit.notify(&AuditEvent::Completed {
            conn_id: self.thd.id,
            query: text,
            error: err,
        });
        if r.is_err() && self.thd.is_killed() {
            self.thd.clear_query_kill();
            return Err(SqlError::interrupted());
        }
        r
    }

    /// Forgets cached plans and result types, here and (through the schema
    /// generation) in every other session: a DDL statement may have changed the
    /// tables they were made for (a cached SELECT would keep its old types).
    fn forget_cached(&mut self) {
        self.sql.plans.clear();
        self.sql.type_hints.clear();
        self.sql.schema_generation = self
            .shared
            .schema_generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
    }

    fn bump(&mut self, c: Com) {
        self.shared.status.add(&mut self.status, Counter::Com(c), 1);
    }

    fn execute_text(&mut self, text: &str) -> Result<Outcome, SqlError> {
        let generation = self
            .shared
            .schema_generation
            .load(std::sync::atomic::Ordering::Acquire);
        if generation != self.sql.schema_generation {
            self.sql.plans.clear();
            self.sql.type_hints.clear();
            self.sql.schema_generation = generation;
            self.sql.reload_schemas();
        }
        if let Some(plan) = self.sql.plans.get(text).cloned() {
            self.bump(plan.com);
            self.implicit_begin()?;
            return self.run_sqlite(
                &plan.sqlite,
                &[],
                &[],
                matches!(plan.com, Com::Insert | Com::Replace),
            );
        }
        let text = rewrite::strip_versioned_comments(text);
        let toks = rewrite::tokenize(&text)?;
        let w = words(&toks, 3);
        if w.is_empty() {
            return Err(SqlError::new(code::ER_EMPTY_QUERY, "Query was empty"));
        }
        if let Some(st) = crate::plugins::parse(&toks, &text)? {
            return crate::plugins::execute(self, st);
        }
        if w[0] == "SHOW" {
            if let Some(st) = show::parse(&toks)? {
                self.bump(match st {
                    show::ShowMeta::TableStatus { .. } => Com::ShowTableStatus,
                    show::ShowMeta::Index { .. } => Com::ShowKeys,
                    show::ShowMeta::Columns { .. } => Com::ShowFields,
                });
                return self.show_meta(st);
            }
        }
        if let Some(done) = compat::intercept(self, &toks, &text)? {
            return Ok(done);
        }
        // Forms sqlparser does not parse: our own small parsers over its tokens.
        match (w[0].as_str(), w.get(1).map(String::as_str)) {
            ("SHUTDOWN", _) => {
                self.bump(Com::Shutdown);
                self.shutdown_server()?;
                return Ok(Outcome::ok(0));
            }
            ("CREATE", Some("USER")) => {
                self.bump(Com::CreateUser);
                return self.create_user(&toks);
            }
            ("ALTER", Some("USER"))
            | ("SET", Some("PASSWORD"))
            | ("GRANT", _)
            | ("REVOKE", _)
            | ("SHOW", Some("GRANTS")) => {
                if let Some(st) = users::parse(&toks)? {
                    self.bump(match st {
                        users::UserStatement::AlterUser { .. } => Com::AlterUser,
                        users::UserStatement::SetPassword { .. } => Com::SetPassword,
                        users::UserStatement::Grant { .. } => Com::Grant,
                        users::UserStatement::Revoke { .. } => Com::Revoke,
                        users::UserStatement::ShowGrants(_) => Com::ShowGrants,
                    });
                    return self.user_statement(st);
                }
            }
            ("DROP", Some("USER")) => {
                self.bump(Com::DropUser);
                return self.drop_user(&toks);
            }
            ("SHOW", Some(w1 @ ("WARNINGS" | "ERRORS"))) => {
                self.bump(Com::ShowWarnings);
                let rows = if w1 == "WARNINGS" {
                    self.warnings
                        .iter()
                        .map(|(c, m)| {
                            vec![
                                Cell::Text("Warning".into()),
                                Cell::Integer(i64::from(*c)),
                                Cell::Text(m.clone()),
                            ]
                        })
                        .collect()
                } else {
                    vec![]
                };
                return Ok(Outcome::Rows(ResultSet {
                    columns: vec![
                        ColDef::new("Level", ColumnType::MYSQL_TYPE_VAR_STRING),
                        ColDef::new("Code", ColumnType::MYSQL_TYPE_LONGLONG),
                        ColDef::new("Message", ColumnType::MYSQL_TYPE_VAR_STRING),
                    ],
                    rows,
                }));
            }
            ("SHOW", Some("ENGINES")) => {
                return Ok(Outcome::Rows(pairs_result(
                    ("Engine", "Support"),
                    vec![("SQLite".into(), "DEFAULT".into())],
                )));
            }
            ("FLUSH", _) => {
                // FLUSH [LOCAL|NO_WRITE_TO_BINLOG] what[, …]: SQLite writes through and
                // keeps no caches to drop; the logs are reopened (for log rotation).
                if !self.account.super_priv {
                    return Err(SqlError::access_denied_priv("RELOAD"));
                }
                let all = words(&toks, 16);
                if all.iter().any(|w| w == "LOGS") {
                    self.shared.flush_logs().map_err(|e| {
                        SqlError::new(
                            crate::error::code::ER_UNKNOWN_ERROR,
                            format!("FLUSH LOGS: cannot reopen the general query log: {e}"),
                        )
                    })?;
                }
                return Ok(Outcome::ok(0));
            }
            // ALTER TABLE t DISABLE|ENABLE KEYS (mariadb-dump): SQLite keeps indexes current.
            ("ALTER", Some("TABLE"))
                if {
                    let all = words(&toks, 8);
                    all.len() >= 5
                        && matches!(all[all.len() - 2].as_str(), "DISABLE" | "ENABLE")
                        && all[all.len() - 1] == "KEYS"
                } =>
            {
                self.bump(Com::AlterTable);
                return Ok(Outcome::ok(0));
            }
            ("SHOW", Some("CREATE"))
                if matches!(w.get(2).map(String::as_str), Some("DATABASE" | "SCHEMA")) =>
            {
                // SHOW CREATE {DATABASE|SCHEMA} [IF NOT EXISTS] name
                let names: Vec<&sqlparser::tokenizer::Word> = toks
                    .iter()
                    .filter_map(|t| match &t.token {
                        Token::Word(w) => Some(w),
                        _ => None,
                    })
                    .skip(3)
                    .collect();
                let if_not_exists = names.len() == 4
                    && names[..3]
                        .iter()
                        .zip(["IF", "NOT", "EXISTS"])
                        .all(|(w, k)| w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
                let name = names
                    .get(if if_not_exists { 3 } else { 0 })
                    .map(|w| w.value.clone())
                    .filter(|_| names.len() == if if_not_exists { 4 } else { 1 })
                    .ok_or_else(|| SqlError::parse(&text, "database name expected"))?;
                let is = name.eq_ignore_ascii_case("information_schema");
                if !is && !self.shared.datadir.db_exists(&name) {
                    return Err(SqlError::bad_db(&name));
                }
                let name = if is {
                    "information_schema".to_string()
                } else {
                    name
                };
                return Ok(Outcome::Rows(pairs_result(
                    ("Database", "Create Database"),
                    vec![(
                        name.clone(),
                        format!(
                            "CREATE DATABASE {}`{name}` /*!40100 DEFAULT CHARACTER SET {} */",
                            if if_not_exists {
                                "/*!32312 IF NOT EXISTS*/ "
                            } else {
                                ""
                            },
                            if is { "utf8mb3" } else { "utf8mb4" }
                        ),
                    )],
                )));
            }
            ("DO", _) => {
                // DO expr: evaluate, discard the result.
                let rest = text.trim_start().get(2..).unwrap_or("");
                self.execute_text(&format!("SELECT {rest}"))?;
                return Ok(Outcome::ok(0));
            }
            _ => {}
        }
        let mut parser = Parser::new(&MySqlDialect {}).with_tokens_with_locations(toks.clone());
        let st = match parser.parse_statements() {
            Ok(mut v) if v.len() == 1 => v.remove(0),
            Ok(v) if v.is_empty() => {
                return Err(SqlError::new(code::ER_EMPTY_QUERY, "Query was empty"));
            }
            Ok(_) => {
                return Err(SqlError::parse(
                    &text,
                    "multiple statements in one query are not supported",
                ));
            }
            Err(e) => {
                let msg = e.to_string();
                let near = msg
                    .split("found: ")
                    .nth(1)
                    .unwrap_or("")
                    .split(" at Line")
                    .next()
                    .unwrap_or("");
                let near = text
                    .find(near)
                    .map(|i| &text[i..])
                    .filter(|_| !near.is_empty())
                    .unwrap_or("");
                return Err(SqlError::parse(near, &msg));
            }
        };
        let com = com_of(&st);
        self.bump(com);
        self.execute_statement(st, &toks, text.as_ref())
    }

    fn execute_statement(
        &mut self,
        st: Statement,
        toks: &[TokenWithSpan],
        text: &str,
    ) -> Result<Outcome, SqlError> {
        use ast::ObjectType;
        match st {
            Statement::Set(s) => self.exec_set(s),
            Statement::Use(u) => {
                let name = match u {
                    ast::Use::Object(n) | ast::Use::Database(n) | ast::Use::Schema(n) => {
                        object_last(&n)
                    }
                    other => return Err(SqlError::parse(&other.to_string(), "")),
                };
                self.use_db(&name)?;
                Ok(Outcome::Ok {
                    affected: 0,
                    insert_id: 0,
                    info: String::new(),
                })
            }
            Statement::CreateDatabase {
                db_name,
                if_not_exists,
                ..
            } => {
                let n = object_last(&db_name);
                self.deny_info_schema_db(&n)?;
                let created = self.shared.datadir.create_db(&n, if_not_exists)?;
                Ok(Outcome::ok(u64::from(created)))
            }
            Statement::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => {
                let n = match schema_name {
                    ast::SchemaName::Simple(n) => object_last(&n),
                    other => other.to_string(),
                };
                self.deny_info_schema_db(&n)?;
                let created = self.shared.datadir.create_db(&n, if_not_exists)?;
                Ok(Outcome::ok(u64::from(created)))
            }
            Statement::Drop {
                object_type: ObjectType::Schema | ObjectType::Database,
                if_exists,
                names,
                ..
            } => {
                let mut n = 0;
                for name in &names {
                    let name = object_last(name);
                    self.deny_info_schema_db(&name)?;
                    if name.eq_ignore_ascii_case("mysql") {
                        // The accounts, plugins and functions live there (MySQL 8: 3552).
                        return Err(SqlError::new(
                            crate::error::code::ER_NO_SYSTEM_SCHEMA_ACCESS,
                            "Access to system schema 'mysql' is rejected.",
                        ));
                    }
                }
                for name in names {
                    let name = object_last(&name);
                    if self.sql.attached.remove(&name) {
                        let _ = self
                            .sql
                            .conn
                            .execute_batch(&format!("DETACH DATABASE \"{name}\""));
                    }
                    if self.sql.db.as_deref() == Some(name.as_str()) {
                        self.sql.rollback_open();
                        let autocommit = self.sql.autocommit;
                        self.sql = SqlConn::open(&self.shared, &self.thd, None)?;
                        self.sql.autocommit = autocommit;
                        self.thd.set(|s| s.db = None);
                    }
                    if self.shared.datadir.drop_db(&name, if_exists)? {
                        n += 1;
                    }
                }
                Ok(Outcome::ok(n))
            }
            Statement::ShowDatabases { .. } | Statement::ShowSchemas { .. } => {
                let mut dbs = self.shared.datadir.databases();
                dbs.push("information_schema".into());
                dbs.sort();
                Ok(Outcome::Rows(single_col("Database", dbs)))
            }
            Statement::ShowTables { show_options, .. } => {
                let db = match show_options.show_in.and_then(|s| s.parent_name) {
                    Some(n) => Some(object_last(&n)),
                    None => self.sql.db.clone(),
                };
                let db = db.ok_or_else(SqlError::no_db)?;
                let schema = self.schema_for(&db)?;
                let like = match show_options.filter_position {
                    Some(ast::ShowStatementFilterPosition::Suffix(f))
                    | Some(ast::ShowStatementFilterPosition::Infix(f)) => Some(f),
                    None => None,
                };
                let filter = like_to_sql(&like)?.unwrap_or_default();
                let sql = format!(
                    "SELECT * FROM (SELECT name AS c1 FROM {schema}.sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%') {filter} ORDER BY 1"
                );
                let mut rs = self.query_rows(&sql, &[], &[])?;
                rs.columns[0].name = format!("Tables_in_{db}");
                Ok(Outcome::Rows(rs))
            }
            Statement::ShowVariables { filter, global, .. } => {
                let rows = self
                    .shared
                    .vars
                    .list(if global { None } else { Some(&self.vars) });
                self.show_pairs(rows, &filter)
            }
            Statement::ShowStatus { filter, global, .. } => {
                let rows = self
                    .shared
                    .status
                    .list(if global { None } else { Some(&self.status) });
                self.show_pairs(rows, &filter)
            }
            Statement::ShowProcessList { full } => {
                let ctx = self.fill_ctx();
                let rows = infoschema::processlist_rows(&ctx, full);
                let s = ColumnType::MYSQL_TYPE_VAR_STRING;
                let l = ColumnType::MYSQL_TYPE_LONGLONG;
                Ok(Outcome::Rows(ResultSet {
                    columns: [
                        ("Id", l),
                        ("User", s),
                        ("Host", s),
                        ("db", s),
                        ("Command", s),
                        ("Time", l),
                        ("State", s),
                        ("Info", s),
                    ]
                    .iter()
                    .map(|(n, t)| ColDef::new(*n, *t))
                    .collect(),
                    rows,
                }))
            }
            Statement::ExplainTable { table_name, .. } => {
                let (db, t) = split_object(&table_name)?;
                self.describe_name(db, &t)
            }
            Statement::ShowCreate {
                obj_type: ast::ShowCreateObject::Table,
                obj_name,
            } => {
                let (db, t) = split_object(&obj_name)?;
                self.show_create_table(db, &t)
            }
            Statement::Kill { modifier, id } => {
                let level = match modifier {
                    Some(ast::KillType::Query) => KillLevel::Query,
                    _ => KillLevel::Connection,
                };
                let id = u32::try_from(id).map_err(|_| no_thread(id))?;
                self.kill(id, level)?;
                Ok(Outcome::ok(0))
            }
            Statement::StartTransaction { .. } => {
                if self.sql.in_transaction() {
                    self.exec_batch("COMMIT")?;
                }
                self.exec_batch("BEGIN")?;
                Ok(Outcome::ok(0))
            }
            Statement::Commit { .. } => {
                if self.sql.in_transaction() {
                    self.exec_batch("COMMIT")?;
                }
                Ok(Outcome::ok(0))
            }
            Statement::Rollback { .. } => {
                if self.sql.in_transaction() {
                    self.exec_batch("ROLLBACK")?;
                }
                Ok(Outcome::ok(0))
            }
            Statement::CreateTable(ct) => {
                if ct.name.0.len() < 2 && self.sql.db.is_none() {
                    return Err(SqlError::no_db());
                }
                self.deny_info_schema_write(std::slice::from_ref(&ct.name))?;
                self.prepare_refs(toks)?;
                let mapped = rewrite::map_current_db(toks, self.sql.db.as_deref());
                let sql = rewrite::create_table(&mapped)?;
                crate::debug::stmt_print!("info", "sqlite: {sql}");
                self.implicit_commit()?;
                self.exec_batch(&sql)?;
                Ok(Outcome::ok(0))
            }
            st @ (Statement::Query(_)
            | Statement::Insert(_)
            | Statement::Update { .. }
            | Statement::Delete(_)) => {
                let com = com_of(&st);
                if !matches!(st, Statement::Query(_)) {
                    self.deny_info_schema_write(&write_targets(&st))?;
                }
                self.prepare_refs(toks)?;
                let rw = self.rewrite(toks)?;
                self.type_query(&st, &rw.sql);
                self.implicit_begin()?;
                let r = self.run_sqlite(
                    &rw.sql,
                    &[],
                    &rw.names,
                    matches!(com, Com::Insert | Com::Replace),
                );
                if r.is_ok()
                    && rw.names.is_empty()
                    && rw.info_schema.is_empty()
                    && rw.qualifiers.is_empty()
                    && !self.in_info_schema()
                {
                    self.sql.remember_plan(text, rw.sql, com);
                }
                r
            }
            st @ (Statement::Drop { .. }
            | Statement::AlterTable { .. }
            | Statement::CreateIndex(_)
            | Statement::CreateView { .. }) => {
                self.deny_info_schema_write(&write_targets(&st))?;
                self.prepare_refs(toks)?;
                self.forget_cached();
                let sql = self.rewrite(toks)?.sql;
                self.implicit_commit()?;
                self.exec_batch(&sql)?;
                Ok(Outcome::ok(0))
            }
            Statement::Truncate(t) => {
                let names: Vec<ObjectName> = t.table_names.iter().map(|x| x.name.clone()).collect();
                self.deny_info_schema_write(&names)?;
                let mut n = 0;
                for target in t.table_names {
                    let (schema, table) = self.split_name(&target.name)?;
                    let sql = format!("DELETE FROM {schema}.\"{}\"", table.replace('"', "\"\""));
                    n += match self.run_sqlite(&sql, &[], &[], false)? {
                        Outcome::Ok { affected, .. } => affected,
                        Outcome::Rows(_) => 0,
                    };
                }
                let _ = n;
                Ok(Outcome::ok(0))
            }
            // SQLite locks whole databases; table locks are accepted and have no effect.
            Statement::LockTables { .. } | Statement::UnlockTables => Ok(Outcome::ok(0)),
            Statement::ShowCharset(_) => Ok(Outcome::Rows(ResultSet {
                columns: ["Charset", "Description", "Default collation", "Maxlen"]
                    .iter()
                    .map(|n| ColDef::new(*n, ColumnType::MYSQL_TYPE_VAR_STRING))
                    .collect(),
                rows: [
                    ("binary", "Binary pseudo charset", "binary", 1),
                    ("latin1", "cp1252 West European", "latin1_swedish_ci", 1),
                    ("utf8mb3", "UTF-8 Unicode", "utf8mb3_general_ci", 3),
                    ("utf8mb4", "UTF-8 Unicode", "utf8mb4_general_ci", 4),
                ]
                .iter()
                .map(|(a, b, c, d)| {
                    vec![
                        Cell::Text((*a).into()),
                        Cell::Text((*b).into()),
                        Cell::Text((*c).into()),
                        Cell::Integer(*d),
                    ]
                })
                .collect(),
            })),
            st @ (Statement::Explain { .. } | Statement::Analyze { .. }) => {
                let _ = st;
                self.prepare_refs(toks)?;
                let rw = self.rewrite(toks)?;
                self.run_sqlite(&rw.sql, &[], &rw.names, false)
            }
            other => {
                let text = other.to_string();
                let what: String = text
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ");
                Err(SqlError::new(
                    code::ER_NOT_SUPPORTED_YET,
                    format!("This version of Minnow doesn't yet support '{what}'"),
                ))
            }
        }
    }

    fn fill_ctx(&self) -> FillContext<'_> {
        FillContext {
            shared: &self.shared,
            conn_id: self.thd.id,
            privileged: self.account.super_priv,
            user: &self.account.user,
            session_vars: &self.vars,
            session_status: &self.status,
        }
    }

    fn show_pairs(
        &mut self,
        rows: Vec<(String, String)>,
        filter: &Option<ShowStatementFilter>,
    ) -> Result<Outcome, SqlError> {
        let Some(f) = filter else {
            return Ok(Outcome::Rows(pairs_result(
                ("Variable_name", "Value"),
                rows,
            )));
        };
        let e = |e: rusqlite::Error| SqlError::from_sqlite(&e, None);
        let c = &self.sql.conn;
        c.execute_batch("CREATE TEMP TABLE IF NOT EXISTS minnow_show(Variable_name TEXT, Value TEXT); DELETE FROM temp.minnow_show;")
            .map_err(e)?;
        {
            let mut ins = c
                .prepare_cached("INSERT INTO temp.minnow_show VALUES (?1, ?2)")
                .map_err(e)?;
            for (k, v) in &rows {
                ins.execute([k, v]).map_err(e)?;
            }
        }
        let cond = match f {
            ShowStatementFilter::Like(p)
            | ShowStatementFilter::ILike(p)
            | ShowStatementFilter::NoKeyword(p) => {
                format!("Variable_name LIKE {} ESCAPE '\\'", rewrite::quote_str(p))
            }
            ShowStatementFilter::Where(w) => {
                let toks = rewrite::tokenize(&w.to_string())?;
                self.rewrite(&toks)?.sql
            }
        };
        let rs = self.query_rows(
            &format!(
                "SELECT Variable_name, Value FROM temp.minnow_show WHERE {cond} ORDER BY rowid"
            ),
            &[],
            &[],
        )?;
        Ok(Outcome::Rows(rs))
    }

    /// `(schema, table)` for a possibly qualified name; attaches the database.
    fn split_name(&mut self, n: &ObjectName) -> Result<(String, String), SqlError> {
        let parts: Vec<String> =
            n.0.iter()
                .filter_map(|p| p.as_ident())
                .map(|i| i.value.clone())
                .collect();
        match parts.as_slice() {
            [t] => {
                if self.sql.db.is_none() {
                    return Err(SqlError::no_db());
                }
                Ok(("main".into(), t.clone()))
            }
            [d, t] => Ok((self.schema_for(d)?, t.clone())),
            _ => Err(SqlError::parse(&n.to_string(), "")),
        }
    }

    /// The SQLite schema name for database `db`, attaching it if needed.
    fn schema_for(&mut self, db: &str) -> Result<String, SqlError> {
        if db.eq_ignore_ascii_case("information_schema") {
            self.ensure_info_schema()?;
            return Ok("information_schema".into());
        }
        if self.sql.db.as_deref() == Some(db) {
            return Ok("main".into());
        }
        if !self.shared.datadir.db_exists(db) {
            return Err(SqlError::bad_db(db));
        }
        self.attach(db)?;
        Ok(format!("\"{db}\""))
    }

    fn attach(&mut self, db: &str) -> Result<(), SqlError> {
        if self.sql.attached.contains(db) {
            return Ok(());
        }
        let path = self.shared.datadir.db_path(db);
        self.sql
            .conn
            .execute(
                "ATTACH DATABASE ?1 AS ?2",
                rusqlite::params![path.to_string_lossy(), db],
            )
            .map_err(|e| SqlError::from_sqlite(&e, Some(db)))?;
        let _ = self.sql.conn.pragma_update(Some(db), "journal_mode", "WAL");
        self.sql.attached.insert(db.to_string());
        Ok(())
    }

    /// Whether `information_schema` is the current database.
    fn in_info_schema(&self) -> bool {
        self.sql
            .db
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("information_schema"))
    }

    /// 1044 for a write to a table of `information_schema`: a name qualified with
    /// it, or an unqualified name while it is the current database. Writes to other
    /// databases' tables (`db.t`) work from anywhere.
    fn deny_info_schema_write(&self, targets: &[ObjectName]) -> Result<(), SqlError> {
        let is_target = |n: &ObjectName| {
            let parts: Vec<&str> =
                n.0.iter()
                    .filter_map(|p| p.as_ident())
                    .map(|i| i.value.as_str())
                    .collect();
            match parts.as_slice() {
                [d, _] => d.eq_ignore_ascii_case("information_schema"),
                _ => self.in_info_schema(),
            }
        };
        if targets.iter().any(is_target) {
            return Err(SqlError::db_access_denied(
                &self.account.user,
                &self.account.host,
                "information_schema",
            ));
        }
        Ok(())
    }

    /// Runs an `ALTER TABLE` split into steps, all or nothing.
    /// 1044 for `CREATE|DROP DATABASE information_schema`, as in MySQL.
    fn deny_info_schema_db(&self, name: &str) -> Result<(), SqlError> {
        if name.eq_ignore_ascii_case("information_schema") {
            return Err(SqlError::db_access_denied(
                &self.account.user,
                &self.account.host,
                "information_schema",
            ));
        }
        Ok(())
    }

    /// Creates the `information_schema` tables on first use.
    fn ensure_info_schema(&mut self) -> Result<(), SqlError> {
        if !self.sql.info_schema_created {
            infoschema::create_all(&self.sql.conn, &self.shared.infoschema)
                .map_err(|e| SqlError::from_sqlite(&e, None))?;
            self.sql.info_schema_created = true;
        }
        Ok(())
    }

    /// Attaches databases named as qualifiers and refills information_schema tables.
    fn prepare_refs(&mut self, toks: &[TokenWithSpan]) -> Result<(), SqlError> {
        let mut quals = Vec::new();
        let mut is_tables = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if let Token::Word(w) = &t.token {
                let next_is_period =
                    matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::Period));
                let prev_is_period = i > 0 && matches!(toks[i - 1].token, Token::Period);
                if next_is_period && !prev_is_period && !w.value.starts_with('@') {
                    if w.value.eq_ignore_ascii_case("information_schema") {
                        if let Some(Token::Word(n)) = toks.get(i + 2).map(|t| &t.token) {
                            is_tables.push(n.value.to_ascii_uppercase());
                        }
                    } else {
                        quals.push(w.value.clone());
                    }
                } else if !next_is_period && !prev_is_period && self.in_info_schema() {
                    // `USE information_schema`: unqualified names resolve there
                    // (the session's `main` is an empty in-memory database).
                    let up = w.value.to_ascii_uppercase();
                    if self
                        .shared
                        .infoschema
                        .all()
                        .iter()
                        .any(|t| t.name.eq_ignore_ascii_case(&up))
                    {
                        is_tables.push(up);
                    }
                }
            }
        }
        for q in quals {
            if self.sql.db.as_deref() != Some(q.as_str())
                && !self.sql.attached.contains(&q)
                && self.shared.datadir.db_exists(&q)
            {
                self.attach(&q)?;
            }
        }
        if !is_tables.is_empty() {
            let shared = Arc::clone(&self.shared);
            let ctx = self.fill_ctx();
            infoschema::refill(&self.sql.conn, &shared.infoschema, &is_tables, &ctx)
                .map_err(|e| SqlError::from_sqlite(&e, None))?;
        }
        Ok(())
    }

    fn rewrite(&mut self, toks: &[TokenWithSpan]) -> Result<rewrite::Rewritten, SqlError> {
        let mapped = rewrite::map_current_db(toks, self.sql.db.as_deref());
        let toks = &mapped[..];
        let sh = Arc::clone(&self.shared);
        let vars = &self.vars;
        let user_vars = &self.user_vars;
        let db = self.sql.db.clone();
        let user = format!(
            "{}@{}",
            self.account.user,
            self.thd.host.split(':').next().unwrap_or("")
        );
        let id = self.thd.id;
        let last_id = self.sql.last_insert_id;
        let changes = self.sql.conn.changes() as i64;
        let rw = rewrite::to_sqlite(toks, &mut |r| {
            Ok(match r {
                Ref::SysVar(scope, name) => {
                    let v = if scope == "global" {
                        sh.vars.global(name)?
                    } else {
                        sh.vars.session(vars, name)?
                    };
                    v.cell()
                }
                Ref::UserVar(n) => user_vars.get(n).cloned().unwrap_or(Cell::Null),
                Ref::Func(f) => match f.as_str() {
                    "DATABASE" | "SCHEMA" => db.clone().map(Cell::Text).unwrap_or(Cell::Null),
                    "USER" | "CURRENT_USER" | "SESSION_USER" | "SYSTEM_USER" => {
                        Cell::Text(user.clone())
                    }
                    "CONNECTION_ID" => Cell::Integer(i64::from(id)),
                    "VERSION" => Cell::Text(VERSION.into()),
                    "LAST_INSERT_ID" => Cell::Integer(last_id),
                    "ROW_COUNT" => Cell::Integer(changes),
                    _ => Cell::Integer(0),
                },
            })
        })?;
        crate::debug::stmt_print!("info", "sqlite: {}", rw.sql);
        Ok(rw)
    }

    fn exec_batch(&mut self, sql: &str) -> Result<(), SqlError> {
        self.sql
            .conn
            .execute_batch(sql)
            .map_err(|e| SqlError::from_sqlite(&e, self.sql.db.as_deref()))
    }

    /// With autocommit off, the first statement opens a transaction.
    fn implicit_begin(&mut self) -> Result<(), SqlError> {
        if !self.sql.autocommit && !self.sql.in_transaction() {
            self.exec_batch("BEGIN")?;
        }
        Ok(())
    }

    /// DDL commits an open transaction first, as in MySQL.
    fn implicit_commit(&mut self) -> Result<(), SqlError> {
        if self.sql.in_transaction() {
            self.exec_batch("COMMIT")?;
        }
        Ok(())
    }

    fn query_rows(
        &mut self,
        sql: &str,
        params: &[Cell],
        names: &[(String, String)],
    ) -> Result<ResultSet, SqlError> {
        match self.run_sqlite(sql, params, names, false)? {
            Outcome::Rows(rs) => Ok(rs),
            Outcome::Ok { .. } => Ok(ResultSet::default()),
        }
    }

    /// Runs SQLite text with parameters; a statement with columns gives rows.
    fn run_sqlite(
        &mut self,
        sql: &str,
        params: &[Cell],
        names: &[(String, String)],
        is_insert: bool,
    ) -> Result<Outcome, SqlError> {
        let hints = self
            .sql
            .type_hints
            .get(sql)
            .filter(|h| h.0 == self.sql.db)
            .map(|h| Rc::clone(&h.1));
        self.run_sqlite_typed(
            sql,
            params,
            names,
            is_insert,
            hints.as_deref().unwrap_or(&[]),
        )
    }

    /// Types the computed columns of a SELECT and remembers them for its
    /// SQLite text (used by every later run of that text, prepared or not).
    fn type_query(&mut self, st: &Statement, sqlite: &str) {
        if !matches!(st, Statement::Query(_)) {
            return;
        }
        let h = types::Typer::new(&self.sql.conn, self.sql.db.as_deref()).statement(st);
        if h.iter().all(Option::is_none) {
            self.sql.type_hints.remove(sqlite);
            return;
        }
        if self.sql.type_hints.len() >= PLAN_CACHE_CAPACITY {
            self.sql.type_hints.clear();
        }
        self.sql
            .type_hints
            .insert(sqlite.to_string(), (self.sql.db.clone(), h.into()));
    }

    /// [`Session::run_sqlite`] with the MySQL types of computed result
    /// columns (`hints`, from [`types::Typer`]; may be shorter than the row).
    fn run_sqlite_typed(
        &mut self,
        sql: &str,
        params: &[Cell],
        names: &[(String, String)],
        is_insert: bool,
        hints: &[Option<types::MyType>],
    ) -> Result<Outcome, SqlError> {
        let db = self.sql.db.clone();
        let e = |e: rusqlite::Error| SqlError::from_sqlite(&e, db.as_deref());
        let conn = &self.sql.conn;
        let mut st = conn.prepare_cached(sql).map_err(e)?;
        let ncol = st.column_count();
        if ncol == 0 {
            let before = conn.last_insert_rowid();
            let n = st
                .execute(rusqlite::params_from_iter(params.iter()))
                .map_err(e)?;
            let after = conn.last_insert_rowid();
            let insert_id = if is_insert && after != before && n > 0 {
                after
            } else {
                0
            };
            if insert_id != 0 {
                self.sql.last_insert_id = insert_id;
            }
            return Ok(Outcome::Ok {
                affected: n as u64,
                insert_id: insert_id as u64,
                info: String::new(),
            });
        }
        let mut columns: Vec<ColDef> = Vec::with_capacity(ncol);
        let mut declared = Vec::with_capacity(ncol);
        for (i, c) in st.columns().iter().enumerate() {
            let mut name = c.name().to_string();
            for (from, to) in names {
                if name.contains(from.as_str()) {
                    name = name.replace(from.as_str(), to);
                }
            }
            if name.contains("minnow_") {
                name = syntax::restore_names(&name);
            }
            if name.contains(rewrite::EXACT_DIV) {
                name = name.replace(rewrite::EXACT_DIV, "/");
            }
            // A lone string literal is named by its value (`SELECT 'a'` → `a`);
            // `'a' = 'b'` is an expression and keeps its text.
            if name.len() >= 2
                && name.starts_with('\'')
                && name.ends_with('\'')
                && !name[1..name.len() - 1].replace("''", "").contains('\'')
            {
                name = name[1..name.len() - 1].replace("''", "'");
            }
            let typed = types::result_column(&st, i, c.decl_type(), hints.get(i));
            declared.push(
                typed
                    .is_none()
                    .then(|| c.decl_type().map(decl_type))
                    .flatten(),
            );
            columns.push(match typed {
                Some(t) => t.col_def(name),
                None => ColDef::new(name, ColumnType::MYSQL_TYPE_VAR_STRING),
            });
        }
        let mut rows = Vec::new();
        let mut q = st
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(e)?;
        while let Some(r) = q.next().map_err(e)? {
            let mut row = Vec::with_capacity(ncol);
            for i in 0..ncol {
                row.push(functions::owned(r.get_ref(i).map_err(e)?));
            }
            rows.push(row);
            if rows.len() % 256 == 0 && self.thd.is_killed() {
                return Err(SqlError::interrupted());
            }
        }
        for (i, c) in columns.iter_mut().enumerate() {
            if c.attrs.is_none() {
                c.ty = declared[i].unwrap_or_else(|| infer_type(&rows, i));
                if declared[i].is_none() && c.ty == ColumnType::MYSQL_TYPE_VAR_STRING {
                    c.attrs = Some(types::computed_string());
                }
            }
        }
        if types::needs_format(&columns) {
            types::format_values(&columns, &mut rows);
        }
        Ok(Outcome::Rows(ResultSet { columns, rows }))
    }

    fn eval_set_value(&mut self, e: &Expr) -> Result<SetValue, SqlError> {
        use ast::{UnaryOperator, Value};
        Ok(match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => match n.parse::<i64>() {
                    Ok(i) => SetValue::Int(i),
                    Err(_) => SetValue::Str(n.clone()),
                },
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                    SetValue::Str(s.clone())
                }
                Value::Boolean(b) => SetValue::Int(i64::from(*b)),
                Value::Null => SetValue::Str(String::new()),
                other => SetValue::Str(other.to_string()),
            },
            Expr::Identifier(i) if i.value.eq_ignore_ascii_case("DEFAULT") => SetValue::Default,
            Expr::Identifier(i) if i.quote_style.is_none() && !i.value.starts_with('@') => {
                SetValue::Str(i.value.clone())
            }
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => match self.eval_set_value(expr)? {
                SetValue::Int(i) => SetValue::Int(-i),
                other => other,
            },
            other => {
                let toks = rewrite::tokenize(&format!("SELECT {other}"))?;
                let rw = self.rewrite(&toks)?;
                let rs = self.query_rows(&rw.sql, &[], &[])?;
                match rs.rows.first().and_then(|r| r.first()) {
                    Some(Cell::Integer(i)) => SetValue::Int(*i),
                    Some(Cell::Real(f)) => SetValue::Str(f.to_string()),
                    Some(Cell::Text(s)) => SetValue::Str(s.clone()),
                    _ => SetValue::Str(String::new()),
                }
            }
        })
    }

    fn exec_set(&mut self, s: ast::Set) -> Result<Outcome, SqlError> {
        use ast::{ContextModifier, Set};
        let assignments: Vec<(Option<ContextModifier>, ObjectName, Expr)> = match s {
            Set::SingleAssignment {
                scope,
                variable,
                mut values,
                ..
            } => {
                if values.len() != 1 {
                    return Err(SqlError::parse(&variable.to_string(), "one value expected"));
                }
                vec![(scope, variable, values.remove(0))]
            }
            Set::MultipleAssignments { assignments } => assignments
                .into_iter()
                .map(|a| (a.scope, a.name, a.value))
                .collect(),
            Set::SetNames { charset_name, .. } => {
                let cs = SetValue::Str(charset_name.value.clone());
                for n in [
                    "character_set_client",
                    "character_set_connection",
                    "character_set_results",
                ] {
                    self.shared.vars.set_session(&mut self.vars, n, &cs)?;
                }
                return Ok(Outcome::ok(0));
            }
            Set::SetNamesDefault {} => return Ok(Outcome::ok(0)),
            Set::SetTransaction { .. } => return Ok(Outcome::ok(0)),
            other => {
                return Err(SqlError::new(
                    code::ER_NOT_SUPPORTED_YET,
                    format!("This version of Minnow doesn't yet support '{other}'"),
                ));
            }
        };
        for (scope, name, value) in assignments {
            let parts: Vec<String> = name
                .0
                .iter()
                .filter_map(|p| p.as_ident())
                .map(|i| i.value.clone())
                .collect();
            let (global, var) = match parts.as_slice() {
                [p, n] if p.eq_ignore_ascii_case("@@global") => (true, n.clone()),
                [p, n]
                    if p.eq_ignore_ascii_case("@@session") || p.eq_ignore_ascii_case("@@local") =>
                {
                    (false, n.clone())
                }
                [n] if n.starts_with("@@") => (false, n[2..].to_string()),
                [n] if n.starts_with('@') => {
                    let v = match self.eval_set_value(&value)? {
                        SetValue::Int(i) => Cell::Integer(i),
                        SetValue::Str(s) => Cell::Text(s),
                        SetValue::Default => Cell::Null,
                    };
                    self.user_vars.insert(n[1..].to_ascii_lowercase(), v);
                    continue;
                }
                [n] => (matches!(scope, Some(ContextModifier::Global)), n.clone()),
                _ => return Err(SqlError::unknown_var(&name.to_string())),
            };
            let v = self.eval_set_value(&value)?;
            self.set_variable(global, &var, &v)?;
        }
        Ok(Outcome::ok(0))
    }

    /// `SET [GLOBAL|SESSION] name = v` with privilege, type and range checks.
    pub fn set_variable(&mut self, global: bool, name: &str, v: &SetValue) -> Result<(), SqlError> {
        let lname = name.to_ascii_lowercase();
        if self.shared.vars.def(&lname).is_none() {
            return Err(SqlError::unknown_var(name));
        }
        if global && !self.account.super_priv {
            return Err(SqlError::access_denied_priv("SUPER"));
        }
        if lname == "debug" {
            let text = match v {
                SetValue::Str(s) => s.clone(),
                SetValue::Int(i) => i.to_string(),
                SetValue::Default => String::new(),
            };
            if !global && *v == SetValue::Default {
                dbg::reset_session();
                self.vars.remove("debug");
                return Ok(());
            }
            let new = if global {
                dbg::set_global(&text)?
            } else {
                dbg::set_session(&text)?
            };
            let nv = SetValue::Str(new);
            if global {
                self.shared.vars.set_global("debug", &nv)?;
            } else {
                self.shared.vars.set_session(&mut self.vars, "debug", &nv)?;
            }
            return Ok(());
        }
        if global && crate::plugins::set_global_variable(&self.shared, &lname, v)? {
            return Ok(());
        }
        let val = if global {
            self.shared.vars.set_global(&lname, v)?
        } else {
            self.shared.vars.set_session(&mut self.vars, &lname, v)?
        };
        match (lname.as_str(), &val) {
            ("autocommit", VarValue::Bool(on)) if !global => {
                self.sql.autocommit = *on;
                if *on {
                    self.implicit_commit()?;
                }
            }
            ("wait_timeout", VarValue::Int(_)) if !global => {
                self.wait_timeout = crate::session::timeout_of(Some(val.clone()));
            }
            ("general_log", VarValue::Bool(on)) => {
                self.shared
                    .set_general_log(*on)
                    .map_err(|e| SqlError::internal(format!("general log: {e}")))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `USE db` / COM_INIT_DB.
    pub fn use_db(&mut self, db: &str) -> Result<(), SqlError> {
        if self.sql.db.as_deref() == Some(db) {
            return Ok(());
        }
        let is = db.eq_ignore_ascii_case("information_schema");
        if !is && !self.shared.datadir.db_exists(db) {
            return Err(SqlError::bad_db(db));
        }
        if self.sql.in_transaction() {
            self.exec_batch("COMMIT")?;
        }
        let autocommit = self.sql.autocommit;
        let last = self.sql.last_insert_id;
        let temps = compat::save_temp_tables(&self.sql.conn)
            .map_err(|e| SqlError::from_sqlite(&e, self.sql.db.as_deref()))?;
        if is {
            // No file behind it: an in-memory `main`, information_schema attached.
            self.sql = SqlConn::open(&self.shared, &self.thd, None)?;
            self.sql.db = Some("information_schema".into());
            self.ensure_info_schema()?;
        } else {
            self.sql = SqlConn::open(&self.shared, &self.thd, Some(db))?;
        }
        self.sql.autocommit = autocommit;
        self.sql.last_insert_id = last;
        compat::restore_temp_tables(&self.sql.conn, temps)
            .map_err(|e| SqlError::from_sqlite(&e, Some(db)))?;
        let name = if is {
            "information_schema".to_string()
        } else {
            db.to_string()
        };
        self.thd.set(|s| s.db = Some(name));
        Ok(())
    }

    /// COM_FIELD_LIST.
    pub fn field_list(&mut self, table: &str) -> Result<Vec<ColDef>, SqlError> {
        let db = self.sql.db.clone().ok_or_else(SqlError::no_db)?;
        let rs = self.query_rows(
            "SELECT name, type FROM pragma_table_info(?1)",
            &[Cell::Text(table.to_string())],
            &[],
        )?;
        if rs.rows.is_empty() {
            return Err(SqlError::new(
                code::ER_TABLE_NOT_EXISTS,
                format!("Table '{db}.{table}' doesn't exist"),
            ));
        }
        Ok(rs
            .rows
            .iter()
            .map(|r| {
                let name = match &r[0] {
                    Cell::Text(s) => s.clone(),
                    _ => String::new(),
                };
                let t = match &r[1] {
                    Cell::Text(s) => types::from_decl(s),
                    _ => types::from_decl(""),
                };
                let mut c = t.col_def(name);
                c.table = table.to_string();
                c.schema = db.clone();
                c
            })
            .collect())
    }

    /// `KILL [QUERY|CONNECTION] id` / COM_PROCESS_KILL.
    pub fn kill(&mut self, id: u32, level: KillLevel) -> Result<(), SqlError> {
        let t = self
            .shared
            .threads
            .get(id)
            .ok_or_else(|| no_thread(u64::from(id)))?;
        let owner = t
            .snapshot()
            .map(|s| s.user == self.account.user)
            .unwrap_or(false);
        if !owner && !self.account.super_priv {
            return Err(SqlError::new(
                code::ER_KILL_DENIED_ERROR,
                format!("You are not owner of thread {id}"),
            ));
        }
        if id == self.thd.id {
            if level == KillLevel::Connection {
                self.quit = true;
            }
            return Ok(());
        }
        t.kill(level);
        Ok(())
    }

    /// `SHUTDOWN` / COM_SHUTDOWN.
    pub fn shutdown_server(&mut self) -> Result<(), SqlError> {
        if !self.account.super_priv {
            return Err(SqlError::access_denied_priv("SHUTDOWN"));
        }
        self.shared.errlog.note(&format!(
            "minnowd: shutdown requested by connection {}",
            self.thd.id
        ));
        // Triggered once the reply is flushed, so the requester gets its OK.
        self.shutdown_after_reply = true;
        Ok(())
    }

    /// COM_DEBUG: a state dump to the error log.
    pub fn debug_dump(&self) {
        let mut s = String::from("\nStatus information:\n\nCurrent dir: ");
        s.push_str(&self.shared.datadir.root().display().to_string());
        s.push_str("\nRunning threads:\n");
        for t in self.shared.threads.all() {
            if let Some(st) = t.snapshot() {
                s.push_str(&format!(
                    "  {:>5} {:<16} {:<20} {:<10} {:<12} {}\n",
                    t.id,
                    st.user,
                    t.host,
                    st.command,
                    st.db.unwrap_or_default(),
                    st.info.unwrap_or_default()
                ));
            }
        }
        s.push_str(&format!(
            "\nDatabases: {}\n",
            self.shared.datadir.databases().join(", ")
        ));
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        for key in ["VmRSS:", "VmHWM:", "Threads:"] {
            if let Some(l) = status.lines().find(|l| l.starts_with(key)) {
                s.push_str(&format!(
                    "Memory/process: {}\n",
                    l.split_whitespace().collect::<Vec<_>>().join(" ")
                ));
            }
        }
        s.push_str(&format!("{}\n", self.shared.status.statistics_line()));
        s.push_str(&plugin_bindings_dump(&self.shared.plugins));
        s.push('\n');
        self.shared.errlog.raw(&s);
    }

    fn create_user(&mut self, toks: &[TokenWithSpan]) -> Result<Outcome, SqlError> {
        if !self.account.super_priv {
            return Err(SqlError::access_denied_priv("CREATE USER"));
        }
        let (user, host, if_x, password) = parse_user_spec(toks)?;
        let password = password.unwrap_or_default();
        if !password.is_empty() && self.shared.datadir.user_auth(&user, &host)?.is_none() {
            self.validate_new_password(&password)?;
        }
        self.shared
            .datadir
            .create_user(&user, &host, &password, if_x)?;
        Ok(Outcome::ok(0))
    }

    fn drop_user(&mut self, toks: &[TokenWithSpan]) -> Result<Outcome, SqlError> {
        if !self.account.super_priv {
            return Err(SqlError::access_denied_priv("CREATE USER"));
        }
        let (user, host, if_x, _) = parse_user_spec(toks)?;
        self.shared.datadir.drop_user(&user, &host, if_x)?;
        Ok(Outcome::ok(0))
    }

    /// COM_STMT_PREPARE: returns the statement, its column definitions and parameter count.
    pub fn prepare_statement(
        &mut self,
        text: &str,
    ) -> Result<(Prepared, Vec<ColDef>, usize), SqlError> {
        let stripped = rewrite::strip_versioned_comments(text).into_owned();
        let stripped = compat::adapt_for_prepare(&stripped).unwrap_or(stripped);
        let toks = rewrite::tokenize(&stripped)?;
        let mut parser = Parser::new(&MySqlDialect {}).with_tokens_with_locations(toks.clone());
        let st = parser
            .parse_statement()
            .map_err(|e| SqlError::parse(&stripped, &e.to_string()))?;
        let to_sqlite = matches!(
            st,
            Statement::Query(_)
                | Statement::Insert(_)
                | Statement::Update { .. }
                | Statement::Delete(_)
        );
        let is_insert = matches!(st, Statement::Insert(_));
        if to_sqlite && !matches!(st, Statement::Query(_)) {
            self.deny_info_schema_write(&write_targets(&st))?;
        }
        if !to_sqlite {
            let n = toks
                .iter()
                .filter(|t| matches!(t.token, Token::Placeholder(_)))
                .count();
            if n > 0 {
                return Err(SqlError::new(
                    code::ER_UNSUPPORTED_PS,
                    "This command is not supported in the prepared statement protocol yet",
                ));
            }
            let p = Prepared {
                text: text.into(),
                sqlite: None,
                params: 0,
                types: vec![],
                long_data: vec![],
                is_insert,
            };
            return Ok((p, vec![], 0));
        }
        self.prepare_refs(&toks)?;
        let rw = self.rewrite(&toks)?;
        self.type_query(&st, &rw.sql);
        let hints = self.sql.type_hints.get(&rw.sql).map(|h| Rc::clone(&h.1));
        let db = self.sql.db.clone();
        let sq = self
            .sql
            .conn
            .prepare_cached(&rw.sql)
            .map_err(|e| SqlError::from_sqlite(&e, db.as_deref()))?;
        let params = sq.parameter_count();
        let cols = sq
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut name = c.name().to_string();
                for (from, to) in &rw.names {
                    name = name.replace(from.as_str(), to);
                }
                if name.contains("minnow_") {
                    name = syntax::restore_names(&name);
                }
                let hint = hints.as_ref().and_then(|h| h.get(i));
                match types::result_column(&sq, i, c.decl_type(), hint) {
                    Some(t) => t.col_def(name),
                    None => ColDef::new(name, ColumnType::MYSQL_TYPE_VAR_STRING),
                }
            })
            .collect();
        drop(sq);
        let p = Prepared {
            text: text.into(),
            sqlite: Some(rw.sql),
            params,
            types: vec![],
            long_data: vec![None; params],
            is_insert,
        };
        Ok((p, cols, params))
    }

    /// COM_STMT_EXECUTE with decoded parameters.
    pub fn run_prepared(
        &mut self,
        st: &Prepared,
        params: &[mysql_common::Value],
    ) -> Result<Outcome, SqlError> {
        let _frame = crate::debug::Scope::enter("mysql_execute_command");
        crate::debug::stmt_print!("query", "{}", st.text);
        let Some(sql) = &st.sqlite else {
            return self.run_statement(&st.text);
        };
        self.shared.audit.notify(&AuditEvent::Starting {
            conn_id: self.thd.id,
            query: &st.text,
        })?;
        let cells: Vec<Cell> = params.iter().map(to_cell).collect();
        let r = crate::plugins::audited(self, &st.text, |s| {
            // information_schema tables are refilled per execution, not only at prepare.
            if st.text.to_ascii_lowercase().contains("information_schema") {
                let toks = rewrite::tokenize(&st.text)?;
                s.prepare_refs(&toks)?;
            }
            s.implicit_begin()?;
            s.run_sqlite(sql, &cells, &[], st.is_insert)
        });
        let r = r.map_err(|e| self.explain_prepared_error(&st.text, &cells, e));
        let err = r.as_ref().err().map(|e| e.code).unwrap_or(0);
        let _ = self.shared.audit.notify(&AuditEvent::Completed {
            conn_id: self.thd.id,
            query: &st.text,
            error: err,
        });
        if r.is_err() && self.thd.is_killed() {
            self.thd.clear_query_kill();
            return Err(SqlError::interrupted());
        }
        r
    }
}

/// The tables a data-changing statement writes to.
fn write_targets(st: &Statement) -> Vec<ObjectName> {
    use ast::{FromTable, TableFactor, TableObject};
    let rel = |t: &ast::TableWithJoins| match &t.relation {
        TableFactor::Table { name, .. } => Some(name.clone()),
        _ => None,
    };
    match st {
        Statement::Insert(i) => match &i.table {
            TableObject::TableName(n) => vec![n.clone()],
            _ => vec![],
        },
        Statement::Update(u) => rel(&u.table).into_iter().collect(),
        Statement::Delete(d) => {
            let from = match &d.from {
                FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
            };
            if d.tables.is_empty() {
                from.iter().filter_map(rel).collect()
            } else {
                d.tables.clone()
            }
        }
        Statement::Drop { names, .. } => names.clone(),
        Statement::AlterTable(a) => vec![a.name.clone()],
        Statement::CreateIndex(c) => vec![c.table_name.clone()],
        Statement::CreateView(v) => vec![v.name.clone()],
        Statement::CreateTable(c) => vec![c.name.clone()],
        _ => vec![],
    }
}

/// The plugin-bindings part of the COM_DEBUG dump: the rows of
/// `information_schema.PLUGIN_BINDINGS` and `SESSION_PLUGIN_BINDINGS`.
fn plugin_bindings_dump(reg: &minnow_plugin_host::Registry) -> String {
    let rows = reg.bindings();
    let mut s = String::from("\nPlugin bindings:\n");
    if rows.is_empty() {
        s.push_str("  (none)\n");
    } else {
        s.push_str(&format!(
            "  {:<24} {:<20} {:>10} {:>8} {:>14} {:>12} {:>14}\n",
            "Plugin",
            "Extension point",
            "Calls",
            "Errors",
            "Total_time_us",
            "Max_time_us",
            "Bound_sessions"
        ));
        for b in rows {
            s.push_str(&format!(
                "  {:<24} {:<20} {:>10} {:>8} {:>14} {:>12} {:>14}\n",
                b.plugin_name,
                b.extension_point,
                b.calls,
                b.errors,
                b.total_time_us,
                b.max_time_us,
                b.bound_sessions
            ));
        }
    }
    let sessions = reg.session_bindings();
    if !sessions.is_empty() {
        s.push_str("Sessions holding plugins:\n");
        for b in sessions {
            s.push_str(&format!(
                "  session {:<8} {:<24} {}\n",
                b.session_id, b.plugin_name, b.extension_point
            ));
        }
    }
    s
}

/// `(database, table)` of a possibly qualified name.
fn split_object(n: &ObjectName) -> Result<(Option<String>, String), SqlError> {
    let parts: Vec<String> =
        n.0.iter()
            .filter_map(|p| p.as_ident())
            .map(|i| i.value.clone())
            .collect();
    match parts.as_slice() {
        [t] => Ok((None, t.clone())),
        [d, t] => Ok((Some(d.clone()), t.clone())),
        _ => Err(SqlError::parse(&n.to_string(), "table name expected")),
    }
}

fn no_thread(id: u64) -> SqlError {
    SqlError::new(code::ER_NO_SUCH_THREAD, format!("Unknown thread id: {id}"))
}

fn to_cell(v: &mysql_common::Value) -> Cell {
    use mysql_common::Value as V;
    match v {
        V::NULL => Cell::Null,
        V::Bytes(b) => match String::from_utf8(b.clone()) {
            Ok(s) => Cell::Text(s),
            Err(_) => Cell::Blob(b.clone()),
        },
        V::Int(i) => Cell::Integer(*i),
        V::UInt(u) => i64::try_from(*u)
            .map(Cell::Integer)
            .unwrap_or(Cell::Real(*u as f64)),
        V::Float(f) => Cell::Real(f64::from(*f)),
        V::Double(f) => Cell::Real(*f),
        V::Date(y, m, d, h, mi, s, us) => {
            if *us > 0 {
                Cell::Text(format!(
                    "{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}"
                ))
            } else {
                Cell::Text(format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
            }
        }
        V::Time(neg, d, h, m, s, _) => {
            let hours = d * 24 + u32::from(*h);
            Cell::Text(format!(
                "{}{hours:02}:{m:02}:{s:02}",
                if *neg { "-" } else { "" }
            ))
        }
    }
}

/// `CREATE|DROP USER [IF [NOT] EXISTS] 'u'[@'h'] [IDENTIFIED BY 'pw']`.
fn parse_user_spec(
    toks: &[TokenWithSpan],
) -> Result<(String, String, bool, Option<String>), SqlError> {
    let t: Vec<&Token> = toks
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let bad = || SqlError::parse("", "expected 'user'@'host'");
    let mut i = 2;
    let mut if_x = false;
    let is_kw = |t: &Token, k: &str| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(k));
    if t.get(i).is_some_and(|x| is_kw(x, "IF")) {
        if_x = true;
        i += 1;
        while t
            .get(i)
            .is_some_and(|x| is_kw(x, "NOT") || is_kw(x, "EXISTS"))
        {
            i += 1;
        }
    }
    let name = |t: &Token| match t {
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Some(s.clone()),
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    };
    let user = t.get(i).and_then(|x| name(x)).ok_or_else(bad)?;
    i += 1;
    let mut host = "%".to_string();
    if let Some(Token::AtSign) = t.get(i) {
        host = t.get(i + 1).and_then(|x| name(x)).ok_or_else(bad)?;
        i += 2;
    } else if let Some(Token::Word(w)) = t.get(i) {
        if let Some(h) = w.value.strip_prefix('@') {
            host = h.to_string();
            i += 1;
        }
    }
    let mut password = None;
    if t.get(i).is_some_and(|x| is_kw(x, "IDENTIFIED"))
        && t.get(i + 1).is_some_and(|x| is_kw(x, "BY"))
    {
        password = t.get(i + 2).and_then(|x| name(x));
        if password.is_none() {
            return Err(bad());
        }
    }
    Ok((user, host, if_x, password))
}
