//! SQL surface through real clients against a real `minnowd` on 127.0.0.1:0:
//! SHOW TABLE STATUS / INDEX, MySQL functions and operators, information_schema
//! write rules, COM_DEBUG's plugin bindings, passwords (ALTER USER, SET PASSWORD).

mod util;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, Value};
use util::*;

// ------------------------------------------------ information_schema writes

#[test]
fn information_schema_writes_are_refused_from_any_database() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("CREATE DATABASE shop").await.expect("db");
        c.query_drop("USE shop").await.expect("use");
        c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
            .await
            .expect("table");
        // Another database is current: writes to information_schema.X are 1044.
        for sql in [
            "INSERT INTO information_schema.PROCESSLIST (ID) VALUES (1)",
            "UPDATE information_schema.GLOBAL_STATUS SET VARIABLE_VALUE = '0'",
            "DELETE FROM information_schema.PROCESSLIST",
            "CREATE TABLE information_schema.x (a INT)",
            "DROP TABLE information_schema.PROCESSLIST",
            "TRUNCATE TABLE information_schema.PROCESSLIST",
            "REPLACE INTO information_schema.PROCESSLIST (ID) VALUES (1)",
            "CREATE DATABASE information_schema",
            "DROP DATABASE IF EXISTS information_schema",
            "ALTER TABLE information_schema.PROCESSLIST ADD COLUMN a INT, ADD INDEX (a)",
        ] {
            let e = c.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), 1044, "{sql}: {e}");
            assert!(
                e.to_string().contains(
                    "Access denied for user 'root'@'localhost' to database 'information_schema'"
                ),
                "{sql}: {e}"
            );
        }
        // The prepared-statement protocol refuses it too.
        let e = c
            .exec_drop(
                "INSERT INTO information_schema.PROCESSLIST (ID) VALUES (?)",
                (5,),
            )
            .await
            .expect_err("prepared write");
        assert_eq!(code(&e), 1044, "{e}");
        // information_schema is current: other databases' tables are writable.
        c.query_drop("USE information_schema")
            .await
            .expect("use is");
        c.query_drop("INSERT INTO shop.t VALUES (1, 10), (2, 20)")
            .await
            .expect("insert elsewhere");
        c.query_drop("UPDATE shop.t SET v = v + 1 WHERE id = 2")
            .await
            .expect("update elsewhere");
        c.query_drop("DELETE FROM shop.t WHERE id = 1")
            .await
            .expect("delete elsewhere");
        c.query_drop("CREATE TABLE shop.t2 (a INT)")
            .await
            .expect("create elsewhere");
        c.query_drop("INSERT INTO shop.t2 SELECT v FROM shop.t")
            .await
            .expect("insert select elsewhere");
        let rows: Vec<(i64, i64)> = c.query("SELECT id, v FROM shop.t").await.expect("read");
        assert_eq!(rows, vec![(2, 21)]);
        let a: Option<i64> = c.query_first("SELECT a FROM shop.t2").await.expect("t2");
        assert_eq!(a, Some(21));
        c.query_drop("ALTER TABLE shop.t2 ADD COLUMN b INT, ADD INDEX (a)")
            .await
            .expect("alter elsewhere");
        c.query_drop("DROP TABLE shop.t2")
            .await
            .expect("drop elsewhere");
        // …while its own tables stay read-only, qualified or not.
        for sql in [
            "INSERT INTO PROCESSLIST (ID) VALUES (1)",
            "DELETE FROM information_schema.PROCESSLIST",
            "CREATE TABLE t3 (a INT)",
            "ALTER TABLE PROCESSLIST ADD INDEX (ID)",
        ] {
            let e = c.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), 1044, "{sql}: {e}");
        }
        c.disconnect().await.expect("disconnect");
    });
}

// ------------------------------------------------------------ example plugins

/// Builds the example plugins these tests use (same cargo, target dir and profile
/// as this test binary) once; returns the directory holding the `.so` files.
fn built_plugins() -> &'static Path {
    const NEEDED: [&str; 2] = ["audit_null", "auth_test"];
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let profile_dir = build_example_plugins(&NEEDED);
        let d = temp_dir("sql-plugins").join("plugin");
        std::fs::create_dir_all(&d).expect("plugin dir");
        for p in NEEDED {
            let f = format!("lib{p}.so");
            std::fs::copy(profile_dir.join(&f), d.join(&f)).expect("copy plugin");
        }
        d
    })
}

fn plugin_server() -> TestServer {
    let dir = built_plugins().to_path_buf();
    TestServer::start_with(move |c| c.plugin_dir = dir)
}

// ------------------------------------------------------- COM_DEBUG bindings

#[test]
fn admin_debug_dump_lists_plugin_bindings() {
    let s = plugin_server();
    let calls_before = rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("INSTALL SONAME 'libaudit_null.so'")
            .await
            .expect("install audit_null");
        for _ in 0..3 {
            c.query_drop("SELECT 1").await.expect("select");
        }
        let calls: Option<u64> = c
            .query_first(
                "SELECT CALLS FROM information_schema.PLUGIN_BINDINGS \
                 WHERE PLUGIN_NAME = 'audit_null' AND EXTENSION_POINT = 'AUDIT GENERAL'",
            )
            .await
            .expect("bindings");
        c.disconnect().await.expect("disconnect");
        calls.expect("audit_null has a GENERAL binding row")
    });
    assert!(calls_before >= 3, "{calls_before}");
    let Some(o) = s.admin(&["debug"]) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let log = s.error_log();
    let section = log
        .split("Plugin bindings:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no bindings section in the dump:\n{log}"));
    assert!(
        section
            .lines()
            .next()
            .is_some_and(|h| h.contains("Extension point")
                && h.contains("Calls")
                && h.contains("Errors")
                && h.contains("Bound_sessions")),
        "{section}"
    );
    let row = section
        .lines()
        .find(|l| l.trim_start().starts_with("audit_null ") && l.contains("AUDIT GENERAL"))
        .unwrap_or_else(|| panic!("no audit_null row:\n{section}"));
    let nums: Vec<u64> = row
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(nums.len(), 5, "{row}");
    assert!(
        nums[0] >= calls_before,
        "dump {row} vs table {calls_before}"
    );
    assert!(
        section
            .lines()
            .any(|l| l.trim_start().starts_with("audit_null ") && l.contains("AUDIT CONNECTION")),
        "{section}"
    );
    // The built-in authentication plugin is bound by every login.
    assert!(
        section.lines().any(|l| l.contains("mysql_native_password")),
        "{section}"
    );
}

// ------------------------------------------------------ table metadata SHOWs

fn names(r: &mysql_async::Row) -> Vec<String> {
    r.columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect()
}

fn s_at(r: &mysql_async::Row, col: &str) -> Option<String> {
    r.get_opt::<Option<String>, _>(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .unwrap_or_else(|e| panic!("{col}: {e}"))
}

fn i_at(r: &mysql_async::Row, col: &str) -> Option<i64> {
    r.get_opt::<Option<i64>, _>(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .unwrap_or_else(|e| panic!("{col}: {e}"))
}

#[test]
fn show_table_status_index_columns_and_create_table() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("CREATE DATABASE shop").await.expect("db");
        c.query_drop("USE shop").await.expect("use");
        c.query_drop(
            "CREATE TABLE items (id INT NOT NULL AUTO_INCREMENT, name VARCHAR(20) NOT NULL DEFAULT 'x', \
             price INT, PRIMARY KEY (id), KEY by_name (name, price), UNIQUE KEY u_price (price)) ENGINE=InnoDB",
        )
        .await
        .expect("items");
        c.query_drop("CREATE TABLE pairs (a INT, b VARCHAR(3), PRIMARY KEY (a, b))")
            .await
            .expect("pairs");
        c.query_drop("CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10")
            .await
            .expect("view");
        c.query_drop("INSERT INTO items (name, price) VALUES ('a', 1), ('b', 2), ('a', 3)")
            .await
            .expect("rows");

        // SHOW TABLE STATUS: MySQL's 18 columns, one row per table and view.
        let rows: Vec<mysql_async::Row> = c.query("SHOW TABLE STATUS").await.expect("status");
        assert_eq!(
            names(&rows[0]),
            [
                "Name", "Engine", "Version", "Row_format", "Rows", "Avg_row_length",
                "Data_length", "Max_data_length", "Index_length", "Data_free",
                "Auto_increment", "Create_time", "Update_time", "Check_time", "Collation",
                "Checksum", "Create_options", "Comment"
            ]
        );
        let by_name = |n: &str| {
            rows.iter()
                .find(|r| s_at(r, "Name").as_deref() == Some(n))
                .unwrap_or_else(|| panic!("no row {n}"))
                .clone()
        };
        let items = by_name("items");
        assert_eq!(i_at(&items, "Rows"), Some(3));
        assert_eq!(i_at(&items, "Auto_increment"), Some(4));
        assert!(i_at(&items, "Data_length").unwrap_or(0) > 0);
        assert!(i_at(&items, "Index_length").unwrap_or(0) > 0);
        assert_eq!(s_at(&items, "Engine").as_deref(), Some("SQLite"));
        assert_eq!(
            s_at(&items, "Collation").as_deref(),
            Some("utf8mb4_general_ci")
        );
        assert_eq!(i_at(&by_name("pairs"), "Rows"), Some(0));
        assert_eq!(i_at(&by_name("pairs"), "Auto_increment"), None);
        let view = by_name("cheap");
        assert_eq!(s_at(&view, "Comment").as_deref(), Some("VIEW"));
        assert_eq!(s_at(&view, "Engine"), None);
        // FROM db, LIKE and WHERE, from another database.
        c.query_drop("CREATE DATABASE other").await.expect("db2");
        c.query_drop("USE other").await.expect("use other");
        let n: Vec<String> = c
            .query_map("SHOW TABLE STATUS FROM shop LIKE 'pa%'", |r: mysql_async::Row| {
                s_at(&r, "Name").unwrap_or_default()
            })
            .await
            .expect("like");
        assert_eq!(n, ["pairs"]);
        let n: Vec<String> = c
            .query_map("SHOW TABLE STATUS IN shop WHERE `Rows` > 2", |r: mysql_async::Row| {
                s_at(&r, "Name").unwrap_or_default()
            })
            .await
            .expect("where");
        assert_eq!(n, ["items"]);
        let e = c
            .query_drop("SHOW TABLE STATUS FROM nosuch")
            .await
            .expect_err("bad db");
        assert_eq!(code(&e), 1049, "{e}");
        c.query_drop("USE shop").await.expect("use");

        // SHOW INDEX: PRIMARY, then unique, then the others, one row per column.
        let rows: Vec<mysql_async::Row> = c.query("SHOW INDEX FROM items").await.expect("index");
        assert_eq!(
            names(&rows[0]),
            [
                "Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name", "Collation",
                "Cardinality", "Sub_part", "Packed", "Null", "Index_type", "Comment",
                "Index_comment"
            ]
        );
        let got: Vec<(String, i64, String, i64, String, i64)> = rows
            .iter()
            .map(|r| {
                (
                    s_at(r, "Table").unwrap_or_default(),
                    i_at(r, "Non_unique").unwrap_or(-1),
                    s_at(r, "Key_name").unwrap_or_default(),
                    i_at(r, "Seq_in_index").unwrap_or(-1),
                    s_at(r, "Column_name").unwrap_or_default(),
                    i_at(r, "Cardinality").unwrap_or(-1),
                )
            })
            .collect();
        let row = |n: i64, k: &str, seq: i64, col: &str, card: i64| {
            ("items".to_string(), n, k.to_string(), seq, col.to_string(), card)
        };
        assert_eq!(
            got,
            [
                row(0, "PRIMARY", 1, "id", 3),
                row(0, "u_price", 1, "price", 3),
                row(1, "by_name", 1, "name", 2),
                row(1, "by_name", 2, "price", 3),
            ]
        );
        assert_eq!(s_at(&rows[3], "Null").as_deref(), Some("YES"));
        assert_eq!(s_at(&rows[0], "Index_type").as_deref(), Some("BTREE"));
        for sql in [
            "SHOW KEYS FROM pairs",
            "SHOW INDEXES IN pairs FROM shop",
            "SHOW INDEX FROM shop.pairs WHERE Key_name = 'PRIMARY'",
        ] {
            let cols: Vec<(String, String)> = c
                .query_map(sql, |r: mysql_async::Row| {
                    (
                        s_at(&r, "Key_name").unwrap_or_default(),
                        s_at(&r, "Column_name").unwrap_or_default(),
                    )
                })
                .await
                .expect(sql);
            assert_eq!(
                cols,
                [("PRIMARY".into(), "a".into()), ("PRIMARY".into(), "b".into())],
                "{sql}"
            );
        }
        let e = c
            .query_drop("SHOW INDEX FROM nosuch")
            .await
            .expect_err("no table");
        assert_eq!(code(&e), 1146, "{e}");
        // Index names are per table, as in MySQL; DROP INDEX … ON t finds them.
        c.query_drop("CREATE INDEX ix ON items (name(5))")
            .await
            .expect("create index");
        c.query_drop("CREATE INDEX ix ON pairs (b)")
            .await
            .expect("same name on another table");
        c.query_drop("DROP INDEX by_name ON items")
            .await
            .expect("drop inline key");
        let keys: Vec<String> = c
            .query_map("SHOW INDEX FROM items", |r: mysql_async::Row| {
                s_at(&r, "Key_name").unwrap_or_default()
            })
            .await
            .expect("index after");
        assert_eq!(keys, ["PRIMARY", "u_price", "ix"]);
        let e = c
            .query_drop("DROP INDEX by_name ON items")
            .await
            .expect_err("dropped twice");
        assert_eq!(code(&e), 1091, "{e}");
        c.query_drop("DROP INDEX ix ON pairs").await.expect("drop ix");
        c.query_drop("DROP INDEX ix ON items").await.expect("drop ix");
        c.query_drop("CREATE INDEX by_name ON items (name, price)")
            .await
            .expect("re-create by_name");

        // DESCRIBE / SHOW [FULL] COLUMNS.
        let d: Vec<(String, String, String, String, Option<String>, String)> = c
            .query("DESCRIBE items")
            .await
            .expect("describe");
        assert_eq!(
            d,
            [
                ("id".into(), "int(11)".into(), "NO".into(), "PRI".into(), None, "auto_increment".into()),
                ("name".into(), "varchar(20)".into(), "NO".into(), "MUL".into(), Some("x".into()), "".into()),
                ("price".into(), "int(11)".into(), "YES".into(), "UNI".into(), None, "".into()),
            ]
        );
        let rows: Vec<mysql_async::Row> = c
            .query("SHOW FULL COLUMNS FROM items LIKE 'n%'")
            .await
            .expect("full columns");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            names(&rows[0]),
            ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"]
        );
        assert_eq!(
            s_at(&rows[0], "Collation").as_deref(),
            Some("utf8mb4_general_ci")
        );
        let keys: Vec<String> = c
            .query_map("SHOW COLUMNS FROM pairs", |r: mysql_async::Row| {
                s_at(&r, "Key").unwrap_or_default()
            })
            .await
            .expect("columns");
        assert_eq!(keys, ["PRI", "PRI"]);

        // SHOW CREATE TABLE in MySQL's layout; it runs again unchanged.
        let (t, ddl): (String, String) = c
            .query_first("SHOW CREATE TABLE items")
            .await
            .expect("create")
            .expect("row");
        assert_eq!(t, "items");
        assert_eq!(
            ddl,
            "CREATE TABLE `items` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `name` varchar(20) NOT NULL DEFAULT 'x',\n  \
             `price` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `u_price` (`price`),\n  KEY `by_name` (`name`,`price`)\n\
             ) ENGINE=SQLite AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
        );
        c.query_drop("USE other").await.expect("use other");
        c.query_drop(&ddl).await.expect("re-create from SHOW CREATE TABLE");
        let (_, again): (String, String) = c
            .query_first("SHOW CREATE TABLE items")
            .await
            .expect("create again")
            .expect("row");
        // The table option AUTO_INCREMENT=4 sets the new table's counter, as in MySQL.
        assert_eq!(again, ddl);
        // Foreign keys and CHECK constraints survive the round trip too.
        c.query_drop(
            "CREATE TABLE shop.lines (id INT PRIMARY KEY, item INT NOT NULL, n INT, \
             FOREIGN KEY (item) REFERENCES items (id) ON DELETE CASCADE, CHECK (n % 2 = 0))",
        )
        .await
        .expect("child table");
        let (_, lines): (String, String) = c
            .query_first("SHOW CREATE TABLE shop.lines")
            .await
            .expect("create lines")
            .expect("row");
        assert!(
            lines.contains(
                "  CONSTRAINT `lines_ibfk_1` FOREIGN KEY (`item`) REFERENCES `items` (`id`) ON DELETE CASCADE,\n"
            ),
            "{lines}"
        );
        assert!(lines.contains("  CHECK (n % 2 = 0)\n"), "{lines}");
        c.query_drop(&lines).await.expect("re-create lines");
        let (_, again): (String, String) = c
            .query_first("SHOW CREATE TABLE lines")
            .await
            .expect("create lines again")
            .expect("row");
        assert_eq!(again, lines);
        // (An explicit id: this `items` continues at AUTO_INCREMENT=4.)
        c.query_drop("INSERT INTO items (id, name, price) VALUES (1, 'z', 5)")
            .await
            .expect("parent row");
        c.query_drop("INSERT INTO lines VALUES (1, 1, 2)")
            .await
            .expect("valid row");
        let e = c
            .query_drop("INSERT INTO lines VALUES (3, 99, 2)")
            .await
            .expect_err("foreign key");
        assert_eq!(code(&e), 1452, "{e}");
        let e = c
            .query_drop("INSERT INTO lines VALUES (2, 1, 3)")
            .await
            .expect_err("check");
        assert_eq!(code(&e), 3819, "{e}");
        let e = c
            .query_drop("SELECT no_such_function(1)")
            .await
            .expect_err("unknown function");
        assert_eq!(code(&e), 1305, "{e}");
        assert!(e.to_string().contains("FUNCTION other.no_such_function does not exist"), "{e}");
        let (_, pairs): (String, String) = c
            .query_first("SHOW CREATE TABLE shop.pairs")
            .await
            .expect("qualified")
            .expect("row");
        assert!(pairs.contains("  PRIMARY KEY (`a`,`b`)\n"), "{pairs}");
        let (db, create): (String, String) = c
            .query_first("SHOW CREATE DATABASE shop")
            .await
            .expect("create db")
            .expect("row");
        assert_eq!(db, "shop");
        assert!(create.starts_with("CREATE DATABASE `shop`"), "{create}");
        let (_, create): (String, String) = c
            .query_first("SHOW CREATE SCHEMA IF NOT EXISTS shop")
            .await
            .expect("create db if not exists")
            .expect("row");
        assert!(
            create.starts_with("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`"),
            "{create}"
        );
        let (db, _): (String, String) = c
            .query_first("SHOW CREATE DATABASE information_schema")
            .await
            .expect("create information_schema")
            .expect("row");
        assert_eq!(db, "information_schema");
        let e = c
            .query_drop("SHOW CREATE DATABASE nosuch")
            .await
            .expect_err("no db");
        assert_eq!(code(&e), 1049, "{e}");

        // ALTER TABLE with several operations and MySQL's index operations.
        c.query_drop(
            "ALTER TABLE shop.items ADD COLUMN qty INT DEFAULT 0, ADD INDEX by_qty (qty), DROP KEY u_price",
        )
        .await
        .expect("alter");
        let keys: Vec<String> = c
            .query_map("SHOW INDEX FROM shop.items", |r: mysql_async::Row| {
                s_at(&r, "Key_name").unwrap_or_default()
            })
            .await
            .expect("index after alter");
        assert_eq!(keys, ["PRIMARY", "by_name", "by_name", "by_qty"]);
        // All or nothing: a failing operation undoes the ones before it.
        let e = c
            .query_drop("ALTER TABLE shop.items ADD INDEX ok_ix (name), DROP INDEX nope")
            .await
            .expect_err("missing index");
        assert_eq!(code(&e), 1091, "{e}");
        let n: Option<i64> = c
            .query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE 0")
            .await
            .expect("still usable");
        assert_eq!(n, Some(0));
        let keys: Vec<String> = c
            .query_map("SHOW KEYS FROM shop.items", |r: mysql_async::Row| {
                s_at(&r, "Key_name").unwrap_or_default()
            })
            .await
            .expect("index after failed alter");
        assert_eq!(keys, ["PRIMARY", "by_name", "by_name", "by_qty"]);
        let qty: Vec<i64> = c.query("SELECT qty FROM shop.items").await.expect("qty");
        assert_eq!(qty, [0, 0, 0]);
        c.disconnect().await.expect("disconnect");
    });
    // The mariadb CLI's \G form of the same statement.
    let Some(o) = s.mariadb(&["-D", "shop", "-e", "SHOW INDEX FROM items\\G"], None) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Key_name: by_name"), "{out}");
    assert!(out.contains("Seq_in_index: 2"), "{out}");
}

// ------------------------------------------------------------------ passwords

fn user_url(s: &TestServer, user: &str, pw: &str) -> Opts {
    Opts::from_url(&format!(
        "mysql://{user}:{pw}@127.0.0.1:{}?prefer_socket=false",
        s.port
    ))
    .expect("url")
}

async fn login(s: &TestServer, user: &str, pw: &str) -> Result<Conn, mysql_async::Error> {
    Conn::new(user_url(s, user, pw)).await
}

#[test]
fn alter_user_and_set_password_go_through_password_validation() {
    let s = plugin_server();
    rt().block_on(async {
        let mut root = connect(&s.url()).await;
        root.query_drop("CREATE USER 'bob'@'%' IDENTIFIED BY 'initial-pass'")
            .await
            .expect("create bob");
        root.query_drop("INSTALL SONAME 'libauth_test.so'")
            .await
            .expect("install the validation plugin");
        // The refusal CREATE USER gives is the one every other path gives.
        let create = root
            .query_drop("CREATE USER 'carol'@'%' IDENTIFIED WITH mysql_native_password BY 'short'")
            .await
            .expect_err("create with a weak password");
        assert_eq!(code(&create), 1819, "{create}");
        let create_msg = create.to_string();
        for sql in [
            "CREATE USER 'carol'@'%' IDENTIFIED BY 'short'",
            "ALTER USER 'bob'@'%' IDENTIFIED BY 'short'",
            "SET PASSWORD FOR 'bob'@'%' = PASSWORD('short')",
            "SET PASSWORD FOR bob = 'short'",
        ] {
            let e = root.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), 1819, "{sql}: {e}");
            assert_eq!(e.to_string(), create_msg, "{sql}");
        }
        // Refused passwords changed nothing.
        login(&s, "bob", "initial-pass")
            .await
            .expect("bob's old password still works")
            .disconnect()
            .await
            .expect("disconnect");
        let calls: Option<u64> = root
            .query_first(
                "SELECT CALLS FROM information_schema.PLUGIN_BINDINGS \
                 WHERE PLUGIN_NAME = 'validate_password_simple'",
            )
            .await
            .expect("bindings");
        assert!(calls.unwrap_or(0) >= 5, "{calls:?}");

        // Accepted: ALTER USER, then SET PASSWORD; each time only the new one works.
        root.query_drop("ALTER USER 'bob'@'%' IDENTIFIED BY 'second-pass'")
            .await
            .expect("alter user");
        let e = login(&s, "bob", "initial-pass")
            .await
            .expect_err("old password");
        assert_eq!(code(&e), 1045, "{e}");
        login(&s, "bob", "second-pass")
            .await
            .expect("new password")
            .disconnect()
            .await
            .expect("disconnect");
        root.query_drop("SET PASSWORD FOR 'bob'@'%' = PASSWORD('third-pass')")
            .await
            .expect("set password for");
        let mut bob = login(&s, "bob", "third-pass")
            .await
            .expect("third password");

        // A user changes their own password without privilege…
        let e = bob
            .query_drop("SET PASSWORD = PASSWORD('bob')")
            .await
            .expect_err("weak own password");
        assert_eq!(code(&e), 1819, "{e}");
        bob.query_drop("SET PASSWORD = PASSWORD('fourth-pass')")
            .await
            .expect("own password");
        bob.query_drop("ALTER USER CURRENT_USER() IDENTIFIED BY 'fifth-pass'")
            .await
            .expect("own password by ALTER USER");
        // …but not someone else's.
        let e = bob
            .query_drop("SET PASSWORD FOR 'root'@'localhost' = PASSWORD('takeover-pw')")
            .await
            .expect_err("other's password");
        assert_eq!(code(&e), 1044, "{e}");
        assert!(
            e.to_string()
                .contains("Access denied for user 'bob'@'%' to database 'mysql'"),
            "{e}"
        );
        let e = bob
            .query_drop("ALTER USER 'root'@'localhost' IDENTIFIED BY 'takeover-pw'")
            .await
            .expect_err("other's password by ALTER USER");
        assert_eq!(code(&e), 1227, "{e}");
        bob.disconnect().await.expect("disconnect");
        login(&s, "root", "")
            .await
            .expect("root still has no password")
            .disconnect()
            .await
            .expect("disconnect");
        login(&s, "bob", "fifth-pass")
            .await
            .expect("bob's own change")
            .disconnect()
            .await
            .expect("disconnect");

        // Unknown accounts.
        let e = root
            .query_drop("ALTER USER 'nobody'@'%' IDENTIFIED BY 'long-enough'")
            .await
            .expect_err("unknown");
        assert_eq!(code(&e), 1396, "{e}");
        root.query_drop("ALTER USER IF EXISTS 'nobody'@'%' IDENTIFIED BY 'long-enough'")
            .await
            .expect("if exists");
        let e = root
            .query_drop("SET PASSWORD FOR 'nobody'@'%' = PASSWORD('long-enough')")
            .await
            .expect_err("unknown");
        assert_eq!(code(&e), 1133, "{e}");

        // Accounts of another authentication plugin get that plugin's stored form.
        root.query_drop(
            "CREATE USER 'alice'@'%' IDENTIFIED WITH auth_test_plugin BY 'alice-pass1'",
        )
        .await
        .expect("alice");
        root.query_drop("ALTER USER 'alice'@'%' IDENTIFIED BY 'alice-pass2'")
            .await
            .expect("alter alice");
        root.query_drop("ALTER USER 'bob'@'%' IDENTIFIED WITH auth_test_plugin BY 'bob-clear-1'")
            .await
            .expect("bob changes plugin");
        let clear = |user: &str, pw: &str| {
            mysql_async::OptsBuilder::from_opts(user_url(&s, user, pw))
                .enable_cleartext_plugin(true)
        };
        for (user, pw) in [("alice", "alice-pass2"), ("bob", "bob-clear-1")] {
            Conn::new(clear(user, pw))
                .await
                .unwrap_or_else(|e| panic!("{user}: {e}"))
                .disconnect()
                .await
                .expect("disconnect");
        }
        let e = Conn::new(clear("alice", "alice-pass1"))
            .await
            .expect_err("old password");
        assert_eq!(code(&e), 1045, "{e}");
        root.query_drop("DROP USER 'alice'@'%'")
            .await
            .expect("drop alice");
        root.query_drop(
            "ALTER USER 'bob'@'%' IDENTIFIED WITH mysql_native_password BY 'fifth-pass'",
        )
        .await
        .expect("bob back to native");

        // A hash cannot be validated: refused while a validation plugin is active…
        let hash = minnow_server::datadir::native_hash("hashed-pass");
        let set_hash = format!("SET PASSWORD FOR 'bob'@'%' = '{hash}'");
        let e = root.query_drop(&set_hash).await.expect_err("hash, strict");
        assert_eq!(code(&e), 1819, "{e}");
        // …and stored as it is without one.
        root.query_drop("UNINSTALL SONAME 'libauth_test.so'")
            .await
            .expect("uninstall");
        root.query_drop(&set_hash).await.expect("hash");
        login(&s, "bob", "hashed-pass")
            .await
            .expect("hashed password")
            .disconnect()
            .await
            .expect("disconnect");
        let hash2 = minnow_server::datadir::native_hash("by-password");
        root.query_drop(format!(
            "ALTER USER 'bob'@'%' IDENTIFIED BY PASSWORD '{hash2}'"
        ))
        .await
        .expect("alter by password hash");
        login(&s, "bob", "by-password")
            .await
            .expect("hash from ALTER USER")
            .disconnect()
            .await
            .expect("disconnect");
        let e = root
            .query_drop("ALTER USER 'bob'@'%' IDENTIFIED BY PASSWORD 'not-a-hash'")
            .await
            .expect_err("bad hash");
        assert_eq!(code(&e), 1827, "{e}");
        // Without plugins, weak passwords are fine (no policy).
        root.query_drop("SET PASSWORD FOR bob = PASSWORD('x')")
            .await
            .expect("no policy");
        login(&s, "bob", "x")
            .await
            .expect("weak but allowed")
            .disconnect()
            .await
            .expect("disconnect");
        root.disconnect().await.expect("disconnect");
    });
}

// ------------------------------------------------ MySQL functions, operators

#[test]
fn mysql_functions_and_operators() {
    use mysql_async::consts::ColumnType as T;
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        // (expression, expected text of the value); NULL is "NULL".
        let cases: &[(&str, &str)] = &[
            ("7 DIV 2", "3"),
            ("-7 DIV 2", "-3"),
            ("7.9 DIV 2", "3"),
            ("7 DIV 0", "NULL"),
            ("1 + 2 * 7 DIV 2", "8"),
            ("7 MOD 3", "1"),
            ("-7 % 3", "-1"),
            ("7.5 % 2", "1.5"),
            ("5 % 0", "NULL"),
            ("MOD(10, 3)", "1"),
            ("7 / 2", "3.5000"),
            // Regular expressions (case-insensitive like utf8mb4_general_ci).
            ("'abc' REGEXP 'B'", "1"),
            ("'abc' REGEXP '^b'", "0"),
            ("REGEXP_LIKE('abc', 'B', 'c')", "0"),
            ("REGEXP_REPLACE('a1b22c', '[0-9]+', '#')", "a#b#c"),
            ("REGEXP_REPLACE('abcabc', 'b', 'X', 1, 2)", "abcaXc"),
            ("REGEXP_SUBSTR('abc 123 def 45', '[0-9]+', 1, 2)", "45"),
            ("REGEXP_INSTR('dog cat dog', 'dog', 1, 2)", "9"),
            // Bases, bits, lists, characters.
            ("BIN(5)", "101"),
            ("OCT(8)", "10"),
            ("CONV('ff', 16, 10)", "255"),
            ("CONV(-17, 10, -18)", "-H"),
            ("BIT_COUNT(7)", "3"),
            ("ELT(2, 'a', 'b')", "b"),
            ("ELT(3, 'a', 'b')", "NULL"),
            ("FIELD('B', 'a', 'b')", "2"),
            ("ASCII('A')", "65"),
            ("ORD('é')", "50089"),
            ("TO_BASE64('abc')", "YWJj"),
            ("FROM_BASE64('YWJj')", "abc"),
            ("CRC32('MySQL')", "3259397556"),
            ("UNCOMPRESS(COMPRESS('any string'))", "any string"),
            ("UNCOMPRESSED_LENGTH(COMPRESS(REPEAT('a', 30)))", "30"),
            ("INET_ATON('10.0.5.9')", "167773449"),
            ("INET_NTOA(167773449)", "10.0.5.9"),
            // Time arithmetic.
            ("TIME_TO_SEC('22:23:00')", "80580"),
            ("SEC_TO_TIME(2378)", "00:39:38"),
            ("MAKEDATE(2011, 32)", "2011-02-01"),
            ("PERIOD_DIFF(200802, 200703)", "11"),
            ("PERIOD_ADD(200801, 2)", "200803"),
            ("WEEK('2008-02-20')", "7"),
            ("WEEK('2008-02-20', 1)", "8"),
            ("STR_TO_DATE('01,5,2013', '%d,%m,%Y')", "2013-05-01"),
            ("STR_TO_DATE('May 1, 2013', '%M %d,%Y')", "2013-05-01"),
            ("STR_TO_DATE('a09:30:17', '%h:%i:%s')", "NULL"),
            ("CHARSET('abc')", "utf8mb4"),
            ("COLLATION('abc')", "utf8mb4_general_ci"),
            ("JSON_UNQUOTE('\"a b\"')", "a b"),
            (
                "DATE_FORMAT('2024-03-05 13:04:09', '%Y/%m/%d %H:%i:%s %W %M %j %D %p')",
                "2024/03/05 13:04:09 Tuesday March 065 5th PM",
            ),
            ("UNIX_TIMESTAMP('2024-01-01 00:00:00')", "1704067200"),
            ("FROM_UNIXTIME(1704067200)", "2024-01-01 00:00:00"),
            ("FROM_UNIXTIME(1704067200, '%Y-%m')", "2024-01"),
            ("DATE_ADD('2024-01-31', INTERVAL 1 MONTH)", "2024-02-29"),
            ("DATE_SUB('2024-01-01', INTERVAL 1 DAY)", "2023-12-31"),
            ("DATE_ADD('2024-01-01 10:00:00', INTERVAL '1:30' HOUR_MINUTE)", "2024-01-01 11:30:00"),
            ("ADDDATE('2024-02-28', 2)", "2024-03-01"),
            ("'2024-01-01' + INTERVAL 1 DAY", "2024-01-02"),
            ("'2024-01-01' - INTERVAL 1 SECOND", "2023-12-31 23:59:59"),
            ("DATEDIFF('2024-03-01', '2024-02-01')", "29"),
            ("YEAR('2024-03-05')", "2024"),
            ("MONTH('2024-03-05')", "3"),
            ("DAY('2024-03-05')", "5"),
            ("HOUR('13:04:09')", "13"),
            ("MINUTE('2024-01-01 13:04:09')", "4"),
            ("SECOND('13:04:09')", "9"),
            ("YEAR('2024-02-30')", "NULL"),
            ("EXTRACT(YEAR_MONTH FROM '2024-03-05')", "202403"),
            ("TIMESTAMPDIFF(MONTH, '2003-02-01', '2003-05-01')", "3"),
            ("CONCAT('a', NULL)", "NULL"),
            ("CONCAT('a', 1, 'b')", "a1b"),
            ("CONCAT_WS(',', 'a', NULL, 'b')", "a,b"),
            ("IF(1 > 0, 'y', 'n')", "y"),
            ("LCASE('AbC')", "abc"),
            ("UCASE('abc')", "ABC"),
            ("LEFT('hello', 2)", "he"),
            ("RIGHT('hello', 2)", "lo"),
            ("LOCATE('l', 'hello')", "3"),
            ("LOCATE('l', 'hello', 4)", "4"),
            ("INSTR('hello', 'l')", "3"),
            ("SUBSTRING_INDEX('a.b.c', '.', 2)", "a.b"),
            ("SUBSTRING_INDEX('a.b.c', '.', -2)", "b.c"),
            ("REPEAT('ab', 3)", "ababab"),
            ("REVERSE('abc')", "cba"),
            ("LPAD('5', 3, '0')", "005"),
            ("RPAD('5', 3, 'x')", "5xx"),
            ("LENGTH('héllo')", "6"),
            ("CHAR_LENGTH('héllo')", "5"),
            ("MD5('a')", "0cc175b9c0f1b6a831c399e269772661"),
            ("SHA1('a')", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"),
            (
                "SHA2('a', 256)",
                "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
            ),
            ("RAND(3)", "0.9057697559760601"),
            ("GREATEST(1, 5, 3)", "5"),
            ("LEAST(4, 2, 8)", "2"),
            ("GREATEST(1, NULL)", "NULL"),
            ("FLOOR(1.5)", "1"),
            ("FLOOR(-1.5)", "-2"),
            ("CEIL(1.2)", "2"),
            ("CEILING(-1.2)", "-1"),
            ("POW(2, 10)", "1024"),
            ("POWER(2, 0.5) > 1.41", "1"),
            ("FORMAT(1234567.891, 2)", "1,234,567.89"),
            ("VERSION() LIKE '8.0%'", "1"),
            ("DATABASE()", "NULL"),
        ];
        for (expr, want) in cases {
            let sql = format!("SELECT {expr}");
            let row: mysql_async::Row = c
                .query_first(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .expect("row");
            let got = match row.as_ref(0) {
                Some(Value::NULL) => "NULL".to_string(),
                Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            };
            assert_eq!(&got, want, "{sql}");
            // The result column is named after the expression, as in MySQL.
            assert_eq!(row.columns_ref()[0].name_str(), *expr, "{sql}");
        }
        // Column types: integers, doubles and strings where MySQL has them.
        let row: mysql_async::Row = c
            .query_first(
                "SELECT 7 DIV 2, 7.5 % 2, DATE_FORMAT('2024-03-05', '%Y'), CONCAT('a', 'b'), FLOOR(2.5)",
            )
            .await
            .expect("types")
            .expect("row");
        let types: Vec<T> = row.columns_ref().iter().map(|c| c.column_type()).collect();
        assert_eq!(
            types,
            [
                T::MYSQL_TYPE_LONGLONG,
                T::MYSQL_TYPE_DOUBLE,
                T::MYSQL_TYPE_VAR_STRING,
                T::MYSQL_TYPE_VAR_STRING,
                T::MYSQL_TYPE_LONGLONG
            ]
        );
        // The clock functions agree with each other and with the client's clock (UTC).
        let (now, unix, today): (String, i64, String) = c
            .query_first("SELECT NOW(), UNIX_TIMESTAMP(), CURRENT_DATE")
            .await
            .expect("clock")
            .expect("row");
        let local = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        assert!((unix - local).abs() < 5, "{unix} vs {local}");
        assert!(now.starts_with(&today), "{now} {today}");
        let back: Option<String> = c
            .query_first(format!("SELECT FROM_UNIXTIME({unix})"))
            .await
            .expect("from_unixtime");
        let back = back.unwrap_or_default();
        assert!(
            back[..16] == now[..16] || (unix % 60) < 2,
            "{back} vs {now}"
        );
        for sql in [
            "SELECT CURRENT_TIMESTAMP()",
            "SELECT SYSDATE()",
            "SELECT LOCALTIMESTAMP",
        ] {
            let v: Option<String> = c.query_first(sql).await.expect(sql);
            assert_eq!(v.map(|v| v.len()), Some(19), "{sql}");
        }
        let v: Option<String> = c.query_first("SELECT NOW(6)").await.expect("now(6)");
        assert_eq!(v.map(|v| v.len()), Some(26));
        let (id, user, db): (u64, String, String) = {
            c.query_drop("CREATE DATABASE f").await.expect("db");
            c.query_drop("USE f").await.expect("use");
            c.query_first("SELECT CONNECTION_ID(), USER(), DATABASE()")
                .await
                .expect("session funcs")
                .expect("row")
        };
        assert_eq!(id, u64::from(c.id()));
        assert!(user.starts_with("root@"), "{user}");
        assert_eq!(db, "f");

        // On table data, in WHERE, through the statement cache and prepared statements.
        c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, d DATETIME, n INT)")
            .await
            .expect("table");
        c.query_drop(
            "INSERT INTO t VALUES (1, '2024-01-31 10:00:00', 7), (2, '2024-02-29 23:59:59', -9)",
        )
        .await
        .expect("rows");
        let q = "SELECT id, n DIV 2, n % 4, DATE_FORMAT(d, '%d.%m.%Y'), d + INTERVAL 1 DAY \
                 FROM t WHERE d > '2024-02-02' - INTERVAL 1 DAY ORDER BY id";
        for _ in 0..2 {
            let rows: Vec<(i64, i64, i64, String, String)> = c.query(q).await.expect(q);
            assert_eq!(
                rows,
                [(
                    2,
                    -4,
                    -1,
                    "29.02.2024".to_string(),
                    "2024-03-01 23:59:59".to_string()
                )]
            );
        }
        let rows: Vec<(i64, i64)> = c
            .exec("SELECT id, n DIV ? FROM t WHERE YEAR(d) = ? ORDER BY id", (2, 2024))
            .await
            .expect("prepared");
        assert_eq!(rows, [(1, 3), (2, -4)]);
        c.query_drop("UPDATE t SET d = DATE_ADD(d, INTERVAL 1 YEAR) WHERE id = 1")
            .await
            .expect("update with interval");
        let d: Option<String> = c
            .query_first("SELECT d FROM t WHERE id = 1")
            .await
            .expect("read");
        assert_eq!(d.as_deref(), Some("2025-01-31 10:00:00"));
        // Column defaults keep working with the keyword forms.
        c.query_drop(
            "CREATE TABLE ev (id INT, at TIMESTAMP DEFAULT CURRENT_TIMESTAMP(), up DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)",
        )
        .await
        .expect("defaults");
        c.query_drop("INSERT INTO ev (id) VALUES (1)").await.expect("insert");
        let at: Option<String> = c.query_first("SELECT at FROM ev").await.expect("at");
        assert_eq!(at.map(|v| v.len()), Some(19));
        // A column named like an operator still works.
        c.query_drop("CREATE TABLE ops (`div` INT, `mod` INT)")
            .await
            .expect("ops");
        c.query_drop("INSERT INTO ops VALUES (9, 4)").await.expect("ops row");
        let v: Option<i64> = c
            .query_first("SELECT `div` MOD `mod` FROM ops")
            .await
            .expect("quoted names");
        assert_eq!(v, Some(1));
        // Text that is not UTF-8 comes back as bytes; IF takes MySQL's truth.
        let row: mysql_async::Row = c
            .query_first("SELECT CAST(X'FF00' AS TEXT), IF('1abc', 'y', 'n'), IF('0', 'y', 'n'), IF(NULL, 'y', 'n')")
            .await
            .expect("non-UTF-8 text")
            .expect("row");
        assert_eq!(row.as_ref(0), Some(&Value::Bytes(vec![0xff, 0])));
        assert_eq!(row.as_ref(1), Some(&Value::Bytes(b"y".to_vec())));
        assert_eq!(row.as_ref(2), Some(&Value::Bytes(b"n".to_vec())));
        assert_eq!(row.as_ref(3), Some(&Value::Bytes(b"n".to_vec())));
        // SLEEP of an absurd length waits until killed instead of failing the thread.
        let mut killer = connect(&s.url()).await;
        let victim = c.id();
        let kill = async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            killer
                .query_drop(format!("KILL QUERY {victim}"))
                .await
                .expect("kill");
        };
        let (slept, ()) = tokio::join!(c.query_drop("SELECT SLEEP(1e300)"), kill);
        let e = slept.expect_err("killed");
        assert_eq!(code(&e), 1317, "{e}");
        killer.disconnect().await.expect("disconnect");
        // Bad input is an error, not a crash.
        let e = c
            .query_drop("SELECT NOW(9)")
            .await
            .expect_err("precision");
        assert_ne!(code(&e), 0);
        let e = c
            .query_drop("SELECT DATE_ADD('2024-01-01', INTERVAL 1 FORTNIGHT)")
            .await
            .expect_err("unit");
        assert_ne!(code(&e), 0);
        c.disconnect().await.expect("disconnect");
    });
}

// ---------------------------------------------------------- GRANT and REVOKE

async fn grants(c: &mut Conn, sql: &str) -> (String, Vec<String>) {
    let rows: Vec<mysql_async::Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let name = rows
        .first()
        .map(|r| r.columns_ref()[0].name_str().into_owned())
        .unwrap_or_default();
    let lines = rows
        .into_iter()
        .map(mysql_async::from_row::<String>)
        .collect();
    (name, lines)
}

#[test]
fn grant_revoke_and_show_grants_for_global_privileges() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut root = connect(&s.url()).await;
        let (col, g) = grants(&mut root, "SHOW GRANTS").await;
        assert_eq!(col, "Grants for root@localhost");
        assert_eq!(
            g,
            ["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"]
        );
        root.query_drop("CREATE USER 'bob'@'%' IDENTIFIED BY 'bob-pass'")
            .await
            .expect("create bob");
        let (col, g) = grants(&mut root, "SHOW GRANTS FOR 'bob'@'%'").await;
        assert_eq!(col, "Grants for bob@%");
        assert_eq!(g, ["GRANT USAGE ON *.* TO `bob`@`%`"]);
        root.query_drop("GRANT PROCESS, select ON *.* TO bob")
            .await
            .expect("grant");
        let (_, g) = grants(&mut root, "SHOW GRANTS FOR bob").await;
        assert_eq!(g, ["GRANT SELECT, PROCESS ON *.* TO `bob`@`%`"]);

        // Without SUPER bob can't SET GLOBAL, grant, or read others' grants.
        let mut bob = login(&s, "bob", "bob-pass").await.expect("bob");
        let (_, g) = grants(&mut bob, "SHOW GRANTS FOR CURRENT_USER()").await;
        assert_eq!(g, ["GRANT SELECT, PROCESS ON *.* TO `bob`@`%`"]);
        let e = bob
            .query_drop("SET GLOBAL wait_timeout = 100")
            .await
            .expect_err("no SUPER");
        assert_eq!(code(&e), 1227, "{e}");
        let e = bob
            .query_drop("GRANT SUPER ON *.* TO bob")
            .await
            .expect_err("no grant option");
        assert_eq!(code(&e), 1227, "{e}");
        let e = bob
            .query_drop("SHOW GRANTS FOR 'root'@'localhost'")
            .await
            .expect_err("others' grants");
        assert_eq!(code(&e), 1044, "{e}");
        bob.disconnect().await.expect("disconnect");

        // SUPER is what the server enforces: granted, a new session of bob has it.
        root.query_drop("GRANT SUPER ON *.* TO 'bob'@'%' WITH GRANT OPTION")
            .await
            .expect("grant super");
        let (_, g) = grants(&mut root, "SHOW GRANTS FOR bob").await;
        assert_eq!(
            g,
            ["GRANT SELECT, PROCESS, SUPER ON *.* TO `bob`@`%` WITH GRANT OPTION"]
        );
        let mut bob = login(&s, "bob", "bob-pass").await.expect("bob again");
        bob.query_drop("SET GLOBAL wait_timeout = 28800")
            .await
            .expect("SUPER now");
        bob.disconnect().await.expect("disconnect");
        root.query_drop("REVOKE SUPER, GRANT OPTION ON *.* FROM bob")
            .await
            .expect("revoke");
        let mut bob = login(&s, "bob", "bob-pass").await.expect("bob third");
        let e = bob
            .query_drop("SET GLOBAL wait_timeout = 100")
            .await
            .expect_err("SUPER revoked");
        assert_eq!(code(&e), 1227, "{e}");
        bob.disconnect().await.expect("disconnect");

        root.query_drop("GRANT ALL PRIVILEGES ON *.* TO bob")
            .await
            .expect("grant all");
        let (_, g) = grants(&mut root, "SHOW GRANTS FOR bob").await;
        assert_eq!(g, ["GRANT ALL PRIVILEGES ON *.* TO `bob`@`%`"]);
        root.query_drop("REVOKE ALL PRIVILEGES, GRANT OPTION FROM bob")
            .await
            .expect("revoke all");
        let (_, g) = grants(&mut root, "SHOW GRANTS FOR bob").await;
        assert_eq!(g, ["GRANT USAGE ON *.* TO `bob`@`%`"]);

        // What is not supported says so; unknown accounts and privileges are errors.
        for (sql, want) in [
            ("GRANT SELECT ON shop.* TO bob", 1235),
            ("GRANT SELECT ON *.* TO nobody", 1133),
            ("REVOKE SELECT ON *.* FROM nobody", 1141),
            ("SHOW GRANTS FOR nobody", 1141),
            ("GRANT FLY ON *.* TO bob", 1064),
        ] {
            let e = root.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), want, "{sql}: {e}");
        }
        root.disconnect().await.expect("disconnect");
    });
    // The mariadb CLI prints SHOW GRANTS as MySQL does.
    let Some(o) = s.mariadb(&["--batch", "-e", "SHOW GRANTS FOR bob"], None) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Grants for bob@%\nGRANT USAGE ON *.* TO `bob`@`%`\n"
    );
}

#[test]
fn mysql_literal_forms_and_rlike() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        // Without a current database an unknown function is 1046, as in MySQL.
        let e = c
            .query_drop("SELECT no_such_function(1)")
            .await
            .expect_err("no db");
        assert_eq!(code(&e), 1046, "{e}");
        let row: (i64, String, String, i64, i64, i64) = c
            .query_first(
                "SELECT 'abc' RLIKE 'B', N'national', _utf8mb4'introduced', b'101', b'1' + 1, \
                 'x' NOT RLIKE 'y'",
            )
            .await
            .expect("query")
            .expect("row");
        assert_eq!(row, (1, "national".into(), "introduced".into(), 5, 2, 1));
        c.query_drop("CREATE DATABASE lf").await.expect("db");
        c.query_drop("CREATE TABLE lf.t (name VARCHAR(20), flags INT)")
            .await
            .expect("table");
        c.query_drop("INSERT INTO lf.t VALUES (_utf8mb4'Ann', b'11'), (N'bob', b'0')")
            .await
            .expect("insert");
        let names: Vec<String> = c
            .query("SELECT name FROM lf.t WHERE name RLIKE '^a' AND flags = b'11'")
            .await
            .expect("select");
        assert_eq!(names, vec!["Ann".to_string()]);
    });
}
