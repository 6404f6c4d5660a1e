//! Errors: the one place where failures become MySQL error codes.
//!
//! [`SqlError`] is what a client sees (code, SQLSTATE, message). Every other
//! error type in the server is mapped into it here, so the numbers clients
//! depend on (1064, 1146, 1062, …) are chosen in exactly one module.

use std::fmt;

/// MySQL error codes used by the server (names as in `mysqld_error.h`).
#[allow(missing_docs)]
pub mod code {
    pub const ER_CON_COUNT_ERROR: u16 = 1040;
    pub const ER_DBACCESS_DENIED_ERROR: u16 = 1044;
    pub const ER_ACCESS_DENIED_ERROR: u16 = 1045;
    pub const ER_NO_DB_ERROR: u16 = 1046;
    pub const ER_UNKNOWN_COM_ERROR: u16 = 1047;
    pub const ER_BAD_NULL_ERROR: u16 = 1048;
    pub const ER_BAD_DB_ERROR: u16 = 1049;
    pub const ER_TABLE_EXISTS_ERROR: u16 = 1050;
    pub const ER_BAD_FIELD_ERROR: u16 = 1054;
    pub const ER_DUP_ENTRY: u16 = 1062;
    pub const ER_PARSE_ERROR: u16 = 1064;
    pub const ER_EMPTY_QUERY: u16 = 1065;
    pub const ER_NET_PACKET_TOO_LARGE: u16 = 1153;
    pub const ER_WARN_ALLOWED_PACKET_OVERFLOWED: u16 = 1301;
    pub const ER_NO_SYSTEM_SCHEMA_ACCESS: u16 = 3552;
    pub const ER_NO_SYSTEM_TABLE_ACCESS: u16 = 3554;
    pub const ER_DB_CREATE_EXISTS: u16 = 1007;
    pub const ER_DB_DROP_EXISTS: u16 = 1008;
    pub const ER_NO_SUCH_THREAD: u16 = 1094;
    pub const ER_KILL_DENIED_ERROR: u16 = 1095;
    pub const ER_TABLE_NOT_EXISTS: u16 = 1146;
    pub const ER_NOT_ALLOWED_COMMAND: u16 = 1148;
    pub const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
    pub const ER_UNKNOWN_STMT_HANDLER: u16 = 1243;
    pub const ER_LOCAL_VARIABLE: u16 = 1228;
    pub const ER_GLOBAL_VARIABLE: u16 = 1229;
    pub const ER_NO_DEFAULT: u16 = 1230;
    pub const ER_WRONG_VALUE_FOR_VAR: u16 = 1231;
    pub const ER_WRONG_TYPE_FOR_VAR: u16 = 1232;
    pub const ER_INCORRECT_GLOBAL_LOCAL_VAR: u16 = 1238;
    pub const ER_SPECIFIC_ACCESS_DENIED_ERROR: u16 = 1227;
    pub const ER_UNSUPPORTED_PS: u16 = 1295;
    pub const ER_QUERY_INTERRUPTED: u16 = 1317;
    pub const ER_WRONG_ARGUMENTS: u16 = 1210;
    pub const ER_NOT_SUPPORTED_YET: u16 = 1235;
    pub const ER_DUP_FIELDNAME: u16 = 1060;
    pub const ER_DUP_KEYNAME: u16 = 1061;
    pub const ER_MULTIPLE_PRI_KEY: u16 = 1068;
    pub const ER_UNKNOWN_TABLE: u16 = 1109;
    pub const ER_WRONG_USAGE: u16 = 1221;
    pub const ER_BAD_TABLE_ERROR: u16 = 1051;
    pub const ER_CANT_REMOVE_ALL_FIELDS: u16 = 1090;
    pub const ER_KEY_COLUMN_DOES_NOT_EXIST: u16 = 1072;
    pub const ER_NONUNIQ_TABLE: u16 = 1066;
    pub const ER_CANNOT_USER: u16 = 1396;
    pub const ER_PASSWORD_NO_MATCH: u16 = 1133;
    pub const ER_NOT_VALID_PASSWORD: u16 = 1819;
    pub const ER_PASSWORD_FORMAT: u16 = 1827;
    pub const ER_NONEXISTING_GRANT: u16 = 1141;
    pub const ER_CANT_DROP_FIELD_OR_KEY: u16 = 1091;
    pub const ER_NO_REFERENCED_ROW_2: u16 = 1452;
    pub const ER_CHECK_CONSTRAINT_VIOLATED: u16 = 3819;
    pub const ER_SP_DOES_NOT_EXIST: u16 = 1305;
    pub const ER_MALFORMED_PACKET: u16 = 1835;
    pub const ER_SERVER_SHUTDOWN: u16 = 1053;
    pub const ER_UNKNOWN_ERROR: u16 = 1105;
    pub const ER_WRONG_DB_NAME: u16 = 1102;
    pub const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
    pub const ER_CANT_DO_THIS_DURING_AN_TRANSACTION: u16 = 1179;
}

/// An error as the client receives it: a MySQL error code, SQLSTATE and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// MySQL error number.
    pub code: u16,
    /// Five-character SQLSTATE.
    pub state: [u8; 5],
    /// Human-readable message (MySQL wording where one exists).
    pub message: String,
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ERROR {} ({}): {}",
            self.code,
            String::from_utf8_lossy(&self.state),
            self.message
        )
    }
}

impl std::error::Error for SqlError {}

fn state_for(code: u16) -> [u8; 5] {
    use code::*;
    match code {
        ER_ACCESS_DENIED_ERROR | ER_SPECIFIC_ACCESS_DENIED_ERROR | ER_KILL_DENIED_ERROR => {
            *b"28000"
        }
        ER_NO_DB_ERROR | ER_BAD_DB_ERROR => *b"3D000",
        ER_DBACCESS_DENIED_ERROR => *b"42000",
        ER_BAD_NULL_ERROR | ER_DUP_ENTRY | ER_NO_REFERENCED_ROW_2 => *b"23000",
        ER_CANT_DROP_FIELD_OR_KEY | ER_SP_DOES_NOT_EXIST => *b"42000",
        ER_TABLE_EXISTS_ERROR => *b"42S01",
        ER_TABLE_NOT_EXISTS | ER_BAD_TABLE_ERROR | ER_UNKNOWN_TABLE => *b"42S02",
        ER_DUP_FIELDNAME => *b"42S21",
        ER_DUP_KEYNAME | ER_MULTIPLE_PRI_KEY | ER_NONUNIQ_TABLE => *b"42000",
        ER_KEY_COLUMN_DOES_NOT_EXIST | ER_CANT_REMOVE_ALL_FIELDS => *b"42000",
        ER_PARSE_ERROR | ER_EMPTY_QUERY => *b"42000",
        ER_BAD_FIELD_ERROR => *b"42S22",
        ER_QUERY_INTERRUPTED => *b"70100",
        ER_UNKNOWN_COM_ERROR | ER_CON_COUNT_ERROR => *b"08S01",
        ER_MALFORMED_PACKET | ER_NET_PACKET_TOO_LARGE => *b"08S01",
        ER_WRONG_VALUE_FOR_VAR | ER_WRONG_TYPE_FOR_VAR => *b"42000",
        ER_UNKNOWN_SYSTEM_VARIABLE => *b"HY000",
        _ => *b"HY000",
    }
}

impl SqlError {
    /// An error with the SQLSTATE MySQL uses for `code`.
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        SqlError {
            code,
            state: state_for(code),
            message: message.into(),
        }
    }

    /// 1064: syntax error near `near`.
    pub fn parse(near: &str, detail: &str) -> Self {
        let near: String = near.chars().take(80).collect();
        let mut msg = format!(
            "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '{near}' at line 1"
        );
        if !detail.is_empty() {
            msg.push_str(" (");
            msg.push_str(detail);
            msg.push(')');
        }
        Self::new(code::ER_PARSE_ERROR, msg)
    }

    /// 1049: unknown database.
    pub fn bad_db(db: &str) -> Self {
        Self::new(code::ER_BAD_DB_ERROR, format!("Unknown database '{db}'"))
    }

    /// 1044: no access to a database (writes into `information_schema`).
    pub fn db_access_denied(user: &str, host: &str, db: &str) -> Self {
        Self::new(
            code::ER_DBACCESS_DENIED_ERROR,
            format!("Access denied for user '{user}'@'{host}' to database '{db}'"),
        )
    }

    /// 1046: no database selected.
    pub fn no_db() -> Self {
        Self::new(code::ER_NO_DB_ERROR, "No database selected")
    }

    /// 1193: unknown system variable.
    pub fn unknown_var(name: &str) -> Self {
        Self::new(
            code::ER_UNKNOWN_SYSTEM_VARIABLE,
            format!("Unknown system variable '{name}'"),
        )
    }

    /// 1231: a variable cannot take this value.
    pub fn wrong_value(name: &str, value: &str) -> Self {
        Self::new(
            code::ER_WRONG_VALUE_FOR_VAR,
            format!("Variable '{name}' can't be set to the value of '{value}'"),
        )
    }

    /// 1232: a value of the wrong type for a variable.
    pub fn wrong_type(name: &str) -> Self {
        Self::new(
            code::ER_WRONG_TYPE_FOR_VAR,
            format!("Incorrect argument type to variable '{name}'"),
        )
    }

    /// 1227: missing privilege.
    pub fn access_denied_priv(privilege: &str) -> Self {
        Self::new(
            code::ER_SPECIFIC_ACCESS_DENIED_ERROR,
            format!(
                "Access denied; you need (at least one of) the {privilege} privilege(s) for this operation"
            ),
        )
    }

    /// 1045: authentication failed.
    pub fn access_denied(user: &str, host: &str, using_password: bool) -> Self {
        Self::new(
            code::ER_ACCESS_DENIED_ERROR,
            format!(
                "Access denied for user '{user}'@'{host}' (using password: {})",
                if using_password { "YES" } else { "NO" }
            ),
        )
    }

    /// 1317: the statement was killed.
    pub fn interrupted() -> Self {
        Self::new(
            code::ER_QUERY_INTERRUPTED,
            "Query execution was interrupted",
        )
    }

    /// 1047: unknown command byte.
    pub fn unknown_command() -> Self {
        Self::new(code::ER_UNKNOWN_COM_ERROR, "Unknown command")
    }

    /// 1105: an internal failure described by `msg`.
    pub fn internal(msg: impl Into<String>) -> Self {
        Self::new(code::ER_UNKNOWN_ERROR, msg)
    }

    /// Maps an SQLite error to the MySQL error a client expects.
    /// `db` is the current database, used in "Table 'db.t' doesn't exist".
    pub fn from_sqlite(err: &rusqlite::Error, db: Option<&str>) -> Self {
        use rusqlite::ErrorCode;
        let msg = match err {
            rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
            rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
            other => other.to_string(),
        };
        let failure = match err {
            rusqlite::Error::SqliteFailure(e, _) => Some(e),
            rusqlite::Error::SqlInputError { error, .. } => Some(error),
            _ => None,
        };
        if let Some(e) = failure {
            match e.code {
                ErrorCode::OperationInterrupted => return Self::interrupted(),
                // A string or blob longer than SQLITE_LIMIT_LENGTH (max_allowed_packet).
                ErrorCode::TooBig => {
                    return Self::new(
                        code::ER_WARN_ALLOWED_PACKET_OVERFLOWED,
                        "Result of a string or blob function was larger than max_allowed_packet",
                    );
                }
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    return Self::new(
                        code::ER_LOCK_WAIT_TIMEOUT,
                        "Lock wait timeout exceeded; try restarting transaction",
                    );
                }
                ErrorCode::ConstraintViolation => {
                    if let Some(rest) = msg.strip_prefix("UNIQUE constraint failed: ") {
                        return Self::new(
                            code::ER_DUP_ENTRY,
                            format!("Duplicate entry for key '{rest}'"),
                        );
                    }
                    if msg.starts_with("FOREIGN KEY constraint failed") {
                        return Self::new(
                            code::ER_NO_REFERENCED_ROW_2,
                            "Cannot add or update a child row: a foreign key constraint fails",
                        );
                    }
                    if let Some(rest) = msg.strip_prefix("CHECK constraint failed: ") {
                        return Self::new(
                            code::ER_CHECK_CONSTRAINT_VIOLATED,
                            format!(
                                "Check constraint '{}' is violated.",
                                crate::sql::restore_names(rest)
                            ),
                        );
                    }
                    if let Some(rest) = msg.strip_prefix("NOT NULL constraint failed: ") {
                        let col = rest.rsplit('.').next().unwrap_or(rest);
                        return Self::new(
                            code::ER_BAD_NULL_ERROR,
                            format!("Column '{col}' cannot be null"),
                        );
                    }
                }
                _ => {}
            }
        }
        if let Some(t) = msg.strip_prefix("no such table: ") {
            // SQLite calls the current database `main`; MySQL names it.
            let full = if let (Some(rest), Some(d)) = (t.strip_prefix("main."), db) {
                format!("{d}.{rest}")
            } else if t.contains('.') {
                t.to_string()
            } else {
                format!("{}.{t}", db.unwrap_or(""))
            };
            return Self::new(
                code::ER_TABLE_NOT_EXISTS,
                format!("Table '{full}' doesn't exist"),
            );
        }
        if let Some(f) = msg.strip_prefix("no such function: ") {
            // An unknown function is looked up as a stored function of the current
            // database; without one, MySQL and MariaDB say 1046.
            return match db {
                Some(db) => Self::new(
                    code::ER_SP_DOES_NOT_EXIST,
                    format!("FUNCTION {db}.{f} does not exist"),
                ),
                None => Self::no_db(),
            };
        }
        if let Some(c) = msg.strip_prefix("no such column: ") {
            return Self::new(
                code::ER_BAD_FIELD_ERROR,
                format!("Unknown column '{c}' in 'field list'"),
            );
        }
        if let Some(rest) = msg.strip_prefix("table ") {
            if let Some(t) = rest.strip_suffix(" already exists") {
                let t = t.trim_matches('"');
                return Self::new(
                    code::ER_TABLE_EXISTS_ERROR,
                    format!("Table '{t}' already exists"),
                );
            }
        }
        if let Some(near) = msg
            .strip_prefix("near \"")
            .and_then(|r| r.strip_suffix("\": syntax error"))
        {
            return Self::parse(near, "");
        }
        if msg.contains("syntax error") || msg.contains("incomplete input") {
            return Self::parse("", &msg);
        }
        Self::internal(msg)
    }
}

/// Failures of the server as a whole (start-up, data directory, listeners).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// An I/O failure with what was being done.
    #[error("{what}: {source}")]
    Io {
        /// What the server was doing.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data directory could not be opened or initialised.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The data directory.
        path: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// An invalid option value.
    #[error("invalid option: {0}")]
    Option(String),
}

impl ServerError {
    /// An I/O error while doing `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ServerError::Io {
            what: what.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_errors_map_to_mysql_codes() {
        let c = rusqlite::Connection::open_in_memory().expect("memory db");
        let e = c.execute("select * from nope", []).expect_err("no table");
        assert_eq!(SqlError::from_sqlite(&e, Some("d")).code, 1146);
        assert!(
            SqlError::from_sqlite(&e, Some("d"))
                .message
                .contains("'d.nope'")
        );
        c.execute_batch("create table t(a int primary key not null)")
            .expect("create");
        c.execute("insert into t values (1)", []).expect("insert");
        let e = c.execute("insert into t values (1)", []).expect_err("dup");
        assert_eq!(SqlError::from_sqlite(&e, None).code, 1062);
        let e = c
            .execute("insert into t values (NULL)", [])
            .expect_err("null");
        assert_eq!(SqlError::from_sqlite(&e, None).code, 1048);
        let e = c.execute("selec 1", []).expect_err("syntax");
        assert_eq!(SqlError::from_sqlite(&e, None).code, 1064);
        let e = c.execute("select zz from t", []).expect_err("column");
        assert_eq!(SqlError::from_sqlite(&e, None).code, 1054);
        assert_eq!(
            SqlError::from_sqlite(&e, None).message,
            "Unknown column 'zz' in 'field list'"
        );
    }
}
