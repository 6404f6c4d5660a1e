//! The client layer: one synchronous MySQL connection (the `mysql` crate, no TLS),
//! text-protocol queries returned as string tables, and a query counter so that
//! tests can check that a refresh costs a fixed number of statements.

use std::time::Duration;

use mysql::prelude::Queryable;

use crate::error::{Error, Result};

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Host name or address (ignored when `socket` is set).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password, if any.
    pub password: Option<String>,
    /// Unix socket path; when set it is used instead of TCP.
    pub socket: Option<String>,
    /// Default database.
    pub database: Option<String>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Read/write timeout for statements (a hung server never freezes the console forever).
    pub io_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            host: "127.0.0.1".into(),
            port: 3306,
            user: "root".into(),
            password: None,
            socket: None,
            database: None,
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(30),
        }
    }
}

impl ConnectOptions {
    /// A human description of the endpoint: `host:port` or the socket path.
    pub fn target(&self) -> String {
        match &self.socket {
            Some(s) => format!("socket {s}"),
            None => format!("{}:{}", self.host, self.port),
        }
    }
}

/// A result set with every value rendered as text (`None` is SQL NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column names as the server sent them.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    /// Index of a column by case-insensitive name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
}

/// One open connection.
pub struct Client {
    conn: mysql::Conn,
    opts: ConnectOptions,
    queries: u64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.opts.target())
            .field("connection_id", &self.conn.connection_id())
            .field("queries", &self.queries)
            .finish()
    }
}

/// Map a driver error that happened while connecting.
fn connect_error(opts: &ConnectOptions, e: mysql::Error) -> Error {
    let target = opts.target();
    match e {
        mysql::Error::MySqlError(me) => match me.code {
            // ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR, ER_BAD_DB_ERROR,
            // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
            1045 | 1044 | 1049 | 1698 => Error::Auth {
                target,
                code: me.code,
                message: me.message,
            },
            _ => Error::Server {
                code: me.code,
                state: me.state,
                message: me.message,
            },
        },
        mysql::Error::IoError(io) => Error::Connect {
            target,
            reason: io.to_string(),
        },
        mysql::Error::DriverError(mysql::DriverError::CouldNotConnect(Some((_, desc, _)))) => {
            Error::Connect {
                target,
                reason: desc,
            }
        }
        other => Error::Connect {
            target,
            reason: other.to_string(),
        },
    }
}

/// Map a driver error that happened on an established connection.
fn query_error(e: mysql::Error) -> Error {
    match e {
        // ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED, CR_SERVER_GONE_ERROR, CR_SERVER_LOST:
        // the session is over, whatever the packet says.
        mysql::Error::MySqlError(me) if matches!(me.code, 1053 | 1927 | 2006 | 2013) => {
            Error::ConnectionLost(me.message)
        }
        mysql::Error::MySqlError(me) => Error::Server {
            code: me.code,
            state: me.state,
            message: me.message,
        },
        other => Error::ConnectionLost(other.to_string()),
    }
}

fn value_text(v: &mysql::Value) -> Option<String> {
    use mysql::Value;
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// Quote a string as a SQL string literal (single quotes, backslash escapes).
pub fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// True if `name` is a plain identifier (letters, digits, `_`, `.`), safe to put in
/// `SET GLOBAL name = ...` without quoting.
pub fn is_plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

impl Client {
    /// Connect to the server.
    pub fn connect(opts: &ConnectOptions) -> Result<Client> {
        crate::trace::traced("Client::connect", || {
            dbug::dbug_print!("info", "target: {} user: {}", opts.target(), opts.user);
            let r = Client::connect_inner(opts);
            match &r {
                Ok(c) => dbug::dbug_print!("info", "connection id: {}", c.connection_id()),
                Err(e) => dbug::dbug_print!("error", "{e}"),
            }
            r
        })
    }

    fn connect_inner(opts: &ConnectOptions) -> Result<Client> {
        let mut b = mysql::OptsBuilder::new()
            .user(Some(opts.user.clone()))
            .pass(opts.password.clone())
            .db_name(opts.database.clone())
            .prefer_socket(false)
            .tcp_connect_timeout(Some(opts.connect_timeout))
            .read_timeout(Some(opts.io_timeout))
            .write_timeout(Some(opts.io_timeout));
        b = match &opts.socket {
            Some(sock) => b.socket(Some(sock.clone())),
            None => b
                .ip_or_hostname(Some(opts.host.clone()))
                .tcp_port(opts.port),
        };
        let conn = mysql::Conn::new(b).map_err(|e| connect_error(opts, e))?;
        Ok(Client {
            conn,
            opts: opts.clone(),
            queries: 0,
        })
    }

    /// The options this client was made with.
    pub fn options(&self) -> &ConnectOptions {
        &self.opts
    }

    /// The server's connection id for this session.
    pub fn connection_id(&self) -> u32 {
        self.conn.connection_id()
    }

    /// The server version string from the handshake.
    pub fn server_version(&self) -> String {
        let (a, b, c) = self.conn.server_version();
        format!("{a}.{b}.{c}")
    }

    /// How many statements this client has sent.
    pub fn queries_sent(&self) -> u64 {
        self.queries
    }

    /// Run a statement that returns rows; every value comes back as text.
    pub fn query(&mut self, sql: &str) -> Result<Table> {
        crate::trace::traced("Client::query", || {
            dbug::dbug_print!("query", "{sql}");
            let r = self.query_inner(sql);
            match &r {
                Ok(t) => dbug::dbug_print!("info", "{} rows", t.rows.len()),
                Err(e) => dbug::dbug_print!("error", "{e}"),
            }
            r
        })
    }

    fn query_inner(&mut self, sql: &str) -> Result<Table> {
        self.queries += 1;
        let mut result = self.conn.query_iter(sql).map_err(query_error)?;
        let mut table = Table::default();
        if let Some(set) = result.iter() {
            table.columns = set
                .columns()
                .as_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect();
            for row in set {
                let row = row.map_err(query_error)?;
                let vals: Vec<Option<String>> = (0..row.len())
                    .map(|i| row.as_ref(i).and_then(value_text))
                    .collect();
                table.rows.push(vals);
            }
        }
        Ok(table)
    }

    /// Run a statement and ignore any rows.
    pub fn execute(&mut self, sql: &str) -> Result<()> {
        crate::trace::traced("Client::execute", || {
            dbug::dbug_print!("query", "{sql}");
            self.queries += 1;
            let r = self.conn.query_drop(sql).map_err(query_error);
            if let Err(e) = &r {
                dbug::dbug_print!("error", "{e}");
            }
            r
        })
    }
}

/// Build `SET GLOBAL name = value`: numbers and `DEFAULT`/`ON`/`OFF` go in as they
/// are, anything else as a string literal; the name must be a plain identifier.
pub fn set_global_sql(name: &str, value: &str) -> Result<String> {
    if !is_plain_identifier(name) {
        return Err(Error::Usage(format!("not a variable name: {name:?}")));
    }
    let v = value.trim();
    let raw = v.parse::<f64>().is_ok()
        || ["DEFAULT", "ON", "OFF", "TRUE", "FALSE"]
            .iter()
            .any(|k| v.eq_ignore_ascii_case(k));
    Ok(if raw {
        format!("SET GLOBAL {name} = {v}")
    } else {
        format!("SET GLOBAL {name} = {}", quote_literal(value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_global_quotes_strings_but_not_numbers() {
        assert_eq!(
            set_global_sql("max_connections", "200").ok(),
            Some("SET GLOBAL max_connections = 200".to_string())
        );
        assert_eq!(
            set_global_sql("debug", "d,info:o,/tmp/it's").ok(),
            Some("SET GLOBAL debug = 'd,info:o,/tmp/it\\'s'".to_string())
        );
        assert_eq!(
            set_global_sql("sql_mode", "default").ok(),
            Some("SET GLOBAL sql_mode = default".to_string())
        );
        assert!(set_global_sql("x; DROP TABLE t", "1").is_err());
    }
}
