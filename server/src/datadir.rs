//! The data directory: one SQLite file per database (`<name>.db`) and the
//! user table in the `mysql` database.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use sha1::{Digest, Sha1};

use crate::error::{ServerError, SqlError, code};

/// The data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// User name.
    pub user: String,
    /// Host pattern (`localhost`, `%`, an address).
    pub host: String,
    /// `*HEX` of SHA1(SHA1(password)), or empty for no password.
    pub auth_string: String,
    /// Holds SUPER/PROCESS (sees every thread, may SET GLOBAL, KILL any).
    pub super_priv: bool,
}

/// MySQL's global privileges, in the order `SHOW GRANTS` lists them.
pub const GLOBAL_PRIVILEGES: [&str; 28] = [
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "SHUTDOWN",
    "PROCESS",
    "FILE",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "SHOW DATABASES",
    "SUPER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
    "TRIGGER",
    "CREATE TABLESPACE",
];

/// The stored privilege list of an account that has everything.
const ALL_GRANTS: &str = "ALL PRIVILEGES,GRANT OPTION";

/// `mysql_native_password`'s stored form of a password.
pub fn native_hash(password: &str) -> String {
    if password.is_empty() {
        return String::new();
    }
    let stage1 = Sha1::digest(password.as_bytes());
    let stage2 = Sha1::digest(stage1);
    let mut s = String::from("*");
    for b in stage2 {
        s.push_str(&format!("{b:02X}"));
    }
    s
}

/// Checks a `mysql_native_password` scramble against the stored hash.
pub fn native_verify(auth_string: &str, salt: &[u8], token: &[u8]) -> bool {
    if auth_string.is_empty() {
        return token.is_empty();
    }
    let hex = auth_string.trim_start_matches('*');
    if hex.len() != 40 || token.len() != 20 {
        return false;
    }
    let mut stage2 = [0u8; 20];
    for (i, b) in stage2.iter_mut().enumerate() {
        match u8::from_str_radix(&hex[2 * i..2 * i + 2], 16) {
            Ok(v) => *b = v,
            Err(_) => return false,
        }
    }
    let mut h = Sha1::new();
    h.update(salt);
    h.update(stage2);
    let mix = h.finalize();
    let stage1: Vec<u8> = token.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect();
    Sha1::digest(&stage1).as_slice() == stage2
}

/// Whether a database name is acceptable (1102 otherwise).
pub fn check_db_name(name: &str) -> Result<(), SqlError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-')
        && !name.eq_ignore_ascii_case("information_schema");
    if ok {
        Ok(())
    } else {
        Err(SqlError::new(
            code::ER_WRONG_DB_NAME,
            format!("Incorrect database name '{name}'"),
        ))
    }
}

impl DataDir {
    /// Opens (creating on first start) a data directory with its `mysql`
    /// database and a `root@localhost` account without password.
    pub fn open(root: &Path) -> Result<DataDir, ServerError> {
        std::fs::create_dir_all(root)
            .map_err(|e| ServerError::io(format!("creating {}", root.display()), e))?;
        let dd = DataDir {
            root: root.to_path_buf(),
        };
        let c = dd.connect_mysql().map_err(|source| ServerError::DataDir {
            path: root.display().to_string(),
            source,
        })?;
        let init = || -> rusqlite::Result<()> {
            c.execute_batch(
                "CREATE TABLE IF NOT EXISTS user(
                    Host TEXT NOT NULL, User TEXT NOT NULL,
                    authentication_string TEXT NOT NULL DEFAULT '',
                    plugin TEXT NOT NULL DEFAULT 'mysql_native_password',
                    Super_priv INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY(Host, User));",
            )?;
            // Global privileges (GRANT … ON *.*): a comma-separated list. Data
            // directories from before it existed: a SUPER account had everything.
            let has_privs: bool = c.query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('user') WHERE name = 'Privileges'",
                [],
                |r| r.get(0),
            )?;
            if !has_privs {
                c.execute_batch(&format!(
                    "ALTER TABLE user ADD COLUMN Privileges TEXT NOT NULL DEFAULT '';
                     UPDATE user SET Privileges = '{ALL_GRANTS}' WHERE Super_priv <> 0;"
                ))?;
            }
            let n: i64 = c.query_row("SELECT count(*) FROM user", [], |r| r.get(0))?;
            if n == 0 {
                c.execute(
                    "INSERT INTO user(Host, User, authentication_string, Super_priv, Privileges) VALUES('localhost','root','',1,?1)",
                    [ALL_GRANTS],
                )?;
            }
            Ok(())
        };
        init().map_err(|source| ServerError::DataDir {
            path: root.display().to_string(),
            source,
        })?;
        Ok(dd)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of database `name`.
    pub fn db_path(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.db"))
    }

    /// Whether database `name` exists.
    pub fn db_exists(&self, name: &str) -> bool {
        check_db_name(name).is_ok() && self.db_path(name).is_file()
    }

    /// Names of all databases, sorted.
    pub fn databases(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.root)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let n = e.file_name().into_string().ok()?;
                        let base = n.strip_suffix(".db")?.to_string();
                        check_db_name(&base).ok().map(|_| base)
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Creates a database file (1007 if it exists).
    pub fn create_db(&self, name: &str, if_not_exists: bool) -> Result<bool, SqlError> {
        check_db_name(name)?;
        if self.db_exists(name) {
            if if_not_exists {
                return Ok(false);
            }
            return Err(SqlError::new(
                code::ER_DB_CREATE_EXISTS,
                format!("Can't create database '{name}'; database exists"),
            ));
        }
        let c =
            Connection::open(self.db_path(name)).map_err(|e| SqlError::from_sqlite(&e, None))?;
        c.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        Ok(true)
    }

    /// Deletes a database file (1008 if missing).
    pub fn drop_db(&self, name: &str, if_exists: bool) -> Result<bool, SqlError> {
        if !self.db_exists(name) {
            if if_exists {
                return Ok(false);
            }
            return Err(SqlError::new(
                code::ER_DB_DROP_EXISTS,
                format!("Can't drop database '{name}'; database doesn't exist"),
            ));
        }
        if name == "mysql" {
            return Err(SqlError::access_denied_priv("SUPER"));
        }
        let p = self.db_path(name);
        for suffix in ["", "-wal", "-shm"] {
            let mut f = p.clone().into_os_string();
            f.push(suffix);
            let _ = std::fs::remove_file(f);
        }
        Ok(true)
    }

    /// A connection to the `mysql` database.
    pub fn connect_mysql(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open(self.db_path("mysql"))?;
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(c)
    }

    /// Finds the account matching `user` from `host` (`is_local`: Unix socket or loopback).
    pub fn find_account(&self, user: &str, host: &str, is_local: bool) -> Option<Account> {
        let c = self.connect_mysql().ok()?;
        let mut st = c
            .prepare("SELECT Host, authentication_string, Super_priv FROM user WHERE User = ?1")
            .ok()?;
        let rows = st
            .query_map(params![user], |r| {
                Ok(Account {
                    user: user.to_string(),
                    host: r.get(0)?,
                    auth_string: r.get(1)?,
                    super_priv: r.get::<_, i64>(2)? != 0,
                })
            })
            .ok()?;
        let mut best: Option<Account> = None;
        for a in rows.flatten() {
            let matches = a.host == "%"
                || a.host == host
                || (is_local && matches!(a.host.as_str(), "localhost" | "127.0.0.1" | "::1"));
            if matches && (best.is_none() || a.host != "%") {
                best = Some(a);
            }
        }
        best
    }

    /// `CREATE USER`.
    pub fn create_user(
        &self,
        user: &str,
        host: &str,
        password: &str,
        if_not_exists: bool,
    ) -> Result<(), SqlError> {
        let c = self
            .connect_mysql()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        let exists: Option<i64> = c
            .query_row(
                "SELECT 1 FROM user WHERE User=?1 AND Host=?2",
                params![user, host],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        if exists.is_some() {
            if if_not_exists {
                return Ok(());
            }
            return Err(SqlError::new(
                code::ER_CANNOT_USER,
                format!("Operation CREATE USER failed for '{user}'@'{host}'"),
            ));
        }
        c.execute(
            "INSERT INTO user(Host, User, authentication_string) VALUES(?1, ?2, ?3)",
            params![host, user, native_hash(password)],
        )
        .map_err(|e| SqlError::from_sqlite(&e, None))?;
        Ok(())
    }

    /// `(plugin, authentication_string)` of the account `user`@`host` (exact host).
    pub fn user_auth(&self, user: &str, host: &str) -> Result<Option<(String, String)>, SqlError> {
        let c = self
            .connect_mysql()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        c.query_row(
            "SELECT plugin, authentication_string FROM user WHERE User=?1 AND Host=?2",
            params![user, host],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| SqlError::from_sqlite(&e, None))
    }

    /// Stores a new authentication plugin and string for `user`@`host`.
    pub fn set_user_auth(
        &self,
        user: &str,
        host: &str,
        plugin: &str,
        auth: &str,
    ) -> Result<(), SqlError> {
        let c = self
            .connect_mysql()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        c.execute(
            "UPDATE user SET plugin = ?1, authentication_string = ?2 WHERE User = ?3 AND Host = ?4",
            params![plugin, auth, user, host],
        )
        .map_err(|e| SqlError::from_sqlite(&e, None))?;
        Ok(())
    }

    /// The global privileges of `user`@`host` (exact host): the privileges in
    /// [`GLOBAL_PRIVILEGES`] order and whether it holds GRANT OPTION; `None` if
    /// there is no such account.
    pub fn user_privileges(
        &self,
        user: &str,
        host: &str,
    ) -> Result<Option<(Vec<&'static str>, bool)>, SqlError> {
        let c = self
            .connect_mysql()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        let stored: Option<String> = c
            .query_row(
                "SELECT Privileges FROM user WHERE User=?1 AND Host=?2",
                params![user, host],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        Ok(stored.map(|s| {
            let items: Vec<&str> = s.split(',').map(str::trim).collect();
            let all = items.contains(&"ALL PRIVILEGES");
            let privs = GLOBAL_PRIVILEGES
                .iter()
                .copied()
                .filter(|p| all || items.contains(p))
                .collect();
            (privs, items.contains(&"GRANT OPTION"))
        }))
    }

    /// Stores the global privileges of `user`@`host`; `Super_priv` follows SUPER.
    pub fn set_user_privileges(
        &self,
        user: &str,
        host: &str,
        privs: &[&str],
        grant_option: bool,
    ) -> Result<(), SqlError> {
        let c = self
            .connect_mysql()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        let mut list: Vec<&str> = GLOBAL_PRIVILEGES
            .iter()
            .copied()
            .filter(|p| privs.contains(p))
            .collect();
        if list.len() == GLOBAL_PRIVILEGES.len() {
            list = vec!["ALL PRIVILEGES"];
        }
        if grant_option {
            list.push("GRANT OPTION");
        }
        c.execute(
            "UPDATE user SET Privileges = ?1, Super_priv = ?2 WHERE User = ?3 AND Host = ?4",
            params![list.join(","), privs.contains(&"SUPER"), user, host],
        )
        .map_err(|e| SqlError::from_sqlite(&e, None))?;
        Ok(())
    }

    /// `DROP USER`.
    pub fn drop_user(&self, user: &str, host: &str, if_exists: bool) -> Result<(), SqlError> {
        let c = self
            .connect_mysql()
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        let n = c
            .execute(
                "DELETE FROM user WHERE User=?1 AND Host=?2",
                params![user, host],
            )
            .map_err(|e| SqlError::from_sqlite(&e, None))?;
        if n == 0 && !if_exists {
            return Err(SqlError::new(
                code::ER_CANNOT_USER,
                format!("Operation DROP USER failed for '{user}'@'{host}'"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_password_roundtrip() {
        let salt = b"01234567890123456789";
        let stored = native_hash("secret");
        assert_eq!(stored.len(), 41);
        let token = mysql_common::scramble::scramble_native(salt, b"secret").expect("token");
        assert!(native_verify(&stored, salt, &token));
        let bad = mysql_common::scramble::scramble_native(salt, b"other").expect("token");
        assert!(!native_verify(&stored, salt, &bad));
        assert!(native_verify("", salt, &[]));
        assert!(!native_verify("", salt, &token));
    }

    #[test]
    fn old_user_tables_get_global_privileges() {
        let dir = std::env::temp_dir().join(format!("minnow-datadir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        {
            // The user table as data directories made before GRANT had it.
            let c = Connection::open(dir.join("mysql.db")).expect("mysql.db");
            c.execute_batch(
                "CREATE TABLE user(Host TEXT NOT NULL, User TEXT NOT NULL,
                    authentication_string TEXT NOT NULL DEFAULT '',
                    plugin TEXT NOT NULL DEFAULT 'mysql_native_password',
                    Super_priv INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(Host, User));
                 INSERT INTO user(Host, User, Super_priv) VALUES ('localhost', 'root', 1), ('%', 'app', 0);",
            )
            .expect("old schema");
        }
        let dd = DataDir::open(&dir).expect("open");
        let (root, opt) = dd
            .user_privileges("root", "localhost")
            .expect("query")
            .expect("root");
        assert_eq!(root.len(), GLOBAL_PRIVILEGES.len());
        assert!(opt);
        let (app, opt) = dd.user_privileges("app", "%").expect("query").expect("app");
        assert!(app.is_empty() && !opt);
        dd.set_user_privileges("app", "%", &["SUPER", "SELECT"], false)
            .expect("grant");
        assert!(
            dd.find_account("app", "10.0.0.1", false)
                .expect("app")
                .super_priv
        );
        assert_eq!(
            dd.user_privileges("app", "%").expect("query").map(|p| p.0),
            Some(vec!["SELECT", "SUPER"])
        );
        // Opening again changes nothing.
        let dd = DataDir::open(&dir).expect("reopen");
        assert_eq!(
            dd.user_privileges("app", "%").expect("query").map(|p| p.0),
            Some(vec!["SELECT", "SUPER"])
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn db_names() {
        assert!(check_db_name("shop_1").is_ok());
        assert_eq!(check_db_name("../x").unwrap_err().code, 1102);
        assert!(check_db_name("a/b").is_err());
        assert!(check_db_name("").is_err());
    }
}
