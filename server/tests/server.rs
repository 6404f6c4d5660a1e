//! Integration tests: a real `minnowd` on 127.0.0.1:0 and real clients
//! (mariadb CLI, mariadb-admin, mariadb-slap, mysql_async, PyMySQL).

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, Row};
use util::*;

// ---------------------------------------------------------------- mariadb CLI

#[test]
fn mariadb_cli_batch_roundtrip() {
    let s = TestServer::start();
    let Some(o) = s.mariadb(
        &["--batch", "-e", "CREATE DATABASE shop; USE shop; \
           CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4; \
           INSERT INTO items (name) VALUES ('apple'), ('pear'); \
           SELECT id, name FROM `items` ORDER BY id; SELECT @@version_comment LIMIT 1;"],
        None,
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("id\tname\n1\tapple\n2\tpear\n"), "{out}");
    assert!(out.contains("Minnow Server"), "{out}");
    // -D db, statements from stdin, an error with MySQL's code and state.
    let o = s
        .mariadb(
            &["--batch", "-D", "shop"],
            Some("SELECT count(*) AS n FROM items;\nSELECT * FROM missing;\n"),
        )
        .expect("client");
    assert_eq!(stdout(&o), "n\n2\n");
    assert!(stderr(&o).contains("ERROR 1146 (42S02)"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Table 'shop.missing' doesn't exist"),
        "{}",
        stderr(&o)
    );
    // Unix socket.
    let sock = s.socket.display().to_string();
    let o = util::run_client(
        "mariadb",
        &[
            "-S",
            &sock,
            "-uroot",
            "--batch",
            "-e",
            "SELECT DATABASE(), 40+2",
        ],
        None,
    )
    .expect("client");
    assert_eq!(stdout(&o), "DATABASE()\t40+2\nNULL\t42\n", "{}", stderr(&o));
    // Unknown database.
    let o = s
        .mariadb(&["-D", "nope", "-e", "SELECT 1"], None)
        .expect("client");
    assert!(stderr(&o).contains("1049"), "{}", stderr(&o));
}

#[test]
fn mariadb_cli_errors_and_access() {
    let s = TestServer::start();
    let Some(o) = s.mariadb(&["-e", "SELEC 1"], None) else {
        return;
    };
    assert!(stderr(&o).contains("ERROR 1064 (42000)"), "{}", stderr(&o));
    let o = s
        .mariadb(&["-e", "SET GLOBAL nonexistent_var = 1"], None)
        .expect("client");
    assert!(stderr(&o).contains("ERROR 1193"), "{}", stderr(&o));
    let o = s
        .mariadb(&["-e", "SET SESSION wait_timeout = 0"], None)
        .expect("client");
    assert!(stderr(&o).contains("ERROR 1231"), "{}", stderr(&o));
    let port = s.port.to_string();
    let o = run_client(
        "mariadb",
        &[
            "-h127.0.0.1",
            "-P",
            &port,
            "-uroot",
            "-pwrong",
            "-e",
            "SELECT 1",
        ],
        None,
    )
    .expect("client");
    assert!(stderr(&o).contains("ERROR 1045"), "{}", stderr(&o));
    let o = run_client(
        "mariadb",
        &["-h127.0.0.1", "-P", &port, "-unobody", "-e", "SELECT 1"],
        None,
    )
    .expect("client");
    assert!(stderr(&o).contains("ERROR 1045"), "{}", stderr(&o));
    let deadline = Instant::now() + Duration::from_secs(5);
    while status_value(&s.shared, "Aborted_connects") < 2 {
        assert!(Instant::now() < deadline, "Aborted_connects not counted");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A user with a password, created through SQL.
    s.mariadb(
        &["-e", "CREATE USER 'app'@'%' IDENTIFIED BY 's3cret'"],
        None,
    )
    .expect("client");
    let o = run_client(
        "mariadb",
        &[
            "-h127.0.0.1",
            "-P",
            &port,
            "-uapp",
            "-ps3cret",
            "--batch",
            "-e",
            "SELECT CURRENT_USER()",
        ],
        None,
    )
    .expect("client");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("app@"), "{}", stdout(&o));
}

// ------------------------------------------------------------- mariadb-admin

#[test]
fn mariadb_admin_commands() {
    let s = TestServer::start();
    let Some(o) = s.admin(&["ping"]) else { return };
    assert!(stdout(&o).contains("is alive"), "{}", stdout(&o));
    let o = s.admin(&["status"]).expect("admin");
    assert!(stdout(&o).starts_with("Uptime: "), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("Queries per second avg"),
        "{}",
        stdout(&o)
    );
    let o = s.admin(&["processlist"]).expect("admin");
    assert!(
        stdout(&o).contains("| Id") && stdout(&o).contains("show processlist"),
        "{}",
        stdout(&o)
    );
    let o = s.admin(&["variables"]).expect("admin");
    assert!(
        stdout(&o).contains("| max_allowed_packet"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains(&format!("| port  {}", " ").replace("  ", ""))
            || stdout(&o).contains("| port"),
        "{}",
        stdout(&o)
    );
    let o = s.admin(&["extended-status"]).expect("admin");
    assert!(stdout(&o).contains("| Com_select"), "{}", stdout(&o));
    assert!(stdout(&o).contains("| Threads_connected"), "{}", stdout(&o));
    // kill: a sleeping connection disappears.
    let rt = rt();
    rt.block_on(async {
        let victim = connect(&s.url()).await;
        let id = victim.id();
        let o = s.admin(&["kill", &id.to_string()]).expect("admin");
        assert!(o.status.success(), "{}", stderr(&o));
        let deadline = Instant::now() + Duration::from_secs(5);
        while s.shared.threads.get(id).is_some() {
            assert!(Instant::now() < deadline, "killed connection still listed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(victim);
    });
    let o = s.admin(&["kill", "99999"]).expect("admin");
    assert!(
        stderr(&o).contains("Unknown thread id: 99999"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn mariadb_admin_shutdown_stops_server() {
    let mut s = TestServer::start();
    let Some(o) = s.admin(&["shutdown"]) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        s.wait_stopped(Duration::from_secs(10)),
        "server still running"
    );
    assert!(
        s.error_log().contains("Shutdown complete"),
        "{}",
        s.error_log()
    );
}

#[test]
fn mariadb_slap_select_1() {
    let s = TestServer::start();
    let port = s.port.to_string();
    // mariadb-slap only creates the schema when it also creates tables.
    let Some(_) = s.mariadb(&["-e", "CREATE DATABASE slap"], None) else {
        return;
    };
    let Some(o) = run_client(
        "mariadb-slap",
        &[
            "-h127.0.0.1",
            "-P",
            &port,
            "-uroot",
            "--protocol=TCP",
            "--concurrency=4",
            "--iterations=1",
            "--query=SELECT 1",
            "--number-of-queries=400",
            "--create-schema=slap",
        ],
        None,
    ) else {
        return;
    };
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Number of clients running queries: 4"),
        "{}",
        stdout(&o)
    );
    assert!(status_value(&s.shared, "Com_select") >= 400);
}

#[test]
fn mariadb_slap_auto_generated_mixed_load() {
    let s = TestServer::start();
    let port = s.port.to_string();
    // Its own schema and table (`id serial`), INSERT/SELECT mix, NUL-terminated statements.
    let Some(o) = run_client(
        "mariadb-slap",
        &[
            "-h127.0.0.1",
            "-P",
            &port,
            "-uroot",
            "--protocol=TCP",
            "--auto-generate-sql",
            "--auto-generate-sql-load-type=mixed",
            "--auto-generate-sql-add-autoincrement",
            "--concurrency=4",
            "--number-of-queries=200",
        ],
        None,
    ) else {
        return;
    };
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(status_value(&s.shared, "Com_insert") > 0);
    assert!(status_value(&s.shared, "Com_select") > 0);
}

// --------------------------------------------------------------- mysql_async

#[test]
fn mysql_async_text_and_prepared() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("CREATE DATABASE app").await.expect("create db");
        c.query_drop("USE app").await.expect("use");
        c.query_drop("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), score DOUBLE, data BLOB)").await.expect("create");
        c.exec_drop("INSERT INTO t (name, score, data) VALUES (?, ?, ?)", ("ann", 1.5f64, vec![0u8, 1, 2])).await.expect("insert");
        assert_eq!(c.last_insert_id(), Some(1));
        c.exec_drop("INSERT INTO t (name, score, data) VALUES (?, ?, ?)", ("bob", 2.0f64, Option::<Vec<u8>>::None)).await.expect("insert");
        assert_eq!(c.last_insert_id(), Some(2));
        let rows: Vec<(i64, String, f64, Option<Vec<u8>>)> =
            c.exec("SELECT id, name, score, data FROM t WHERE id >= ? ORDER BY id", (1,)).await.expect("select");
        assert_eq!(rows, vec![(1, "ann".into(), 1.5, Some(vec![0, 1, 2])), (2, "bob".into(), 2.0, None)]);
        let rows: Vec<(i64, String)> = c.query("SELECT id, name FROM app.t ORDER BY id DESC").await.expect("text");
        assert_eq!(rows, vec![(2, "bob".into()), (1, "ann".into())]);
        // Duplicate key.
        let e = c.query_drop("INSERT INTO t (id, name) VALUES (1, 'dup')").await.expect_err("dup");
        assert_eq!(code(&e), 1062);
        let e = c.exec_drop("SELECT * FROM nope WHERE id = ?", (1,)).await.expect_err("no table");
        assert_eq!(code(&e), 1146);
        // Session values the client reads.
        let (mp, wt): (u64, u64) = c.query_first("SELECT @@max_allowed_packet, @@wait_timeout").await.expect("q").expect("row");
        assert_eq!((mp, wt), (64 << 20, 28800));
        // Column types.
        let res: Vec<Row> = c.query("SELECT 1 AS i, 2.5 AS d, 'x' AS s, NULL AS n").await.expect("types");
        let cols = res[0].columns_ref();
        use mysql_async::consts::ColumnType as T;
        assert_eq!(cols[0].column_type(), T::MYSQL_TYPE_LONG);
        assert_eq!(cols[1].column_type(), T::MYSQL_TYPE_NEWDECIMAL);
        assert_eq!(cols[2].column_type(), T::MYSQL_TYPE_VAR_STRING);
        assert_eq!(cols[3].column_type(), T::MYSQL_TYPE_NULL);
        // Statement reuse and close.
        let st = c.prep("SELECT name FROM t WHERE id = ?").await.expect("prep");
        for (id, want) in [(1, "ann"), (2, "bob")] {
            let n: Option<String> = c.exec_first(&st, (id,)).await.expect("exec");
            assert_eq!(n.as_deref(), Some(want));
        }
        c.close(st).await.expect("close");
        // COM_RESET_CONNECTION and COM_CHANGE_USER.
        c.query_drop("SET @v = 5").await.expect("set");
        let v: Option<i64> = c.query_first("SELECT @v").await.expect("q").flatten();
        assert_eq!(v, Some(5));
        c.reset().await.expect("reset");
        let v: Option<Option<i64>> = c.query_first("SELECT @v").await.expect("q");
        assert_eq!(v, Some(None));
        c.change_user(Default::default()).await.expect("change user");
        c.ping().await.expect("ping");
        c.disconnect().await.expect("disconnect");
        // The Unix socket.
        let mut u = connect(&s.socket_url()).await;
        let host: String = u.query_first("SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()").await.expect("q").expect("row");
        assert_eq!(host, "localhost");
    });
}

#[test]
fn mysql_async_transactions_and_autocommit() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("CREATE DATABASE tx").await.expect("db");
        let mut c = connect(&s.url_db("tx")).await;
        let mut other = connect(&s.url_db("tx")).await;
        c.query_drop("CREATE TABLE a (x INT)")
            .await
            .expect("create");
        c.query_drop("BEGIN").await.expect("begin");
        c.query_drop("INSERT INTO a VALUES (1)")
            .await
            .expect("insert");
        c.query_drop("ROLLBACK").await.expect("rollback");
        c.query_drop("START TRANSACTION").await.expect("begin");
        c.query_drop("INSERT INTO a VALUES (2)")
            .await
            .expect("insert");
        c.query_drop("COMMIT").await.expect("commit");
        let v: Vec<i64> = other.query("SELECT x FROM a").await.expect("select");
        assert_eq!(v, vec![2]);
        c.query_drop("SET autocommit = 0")
            .await
            .expect("autocommit off");
        c.query_drop("INSERT INTO a VALUES (3)")
            .await
            .expect("insert");
        let n: i64 = other
            .query_first("SELECT count(*) FROM a")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(n, 1, "uncommitted row visible");
        c.query_drop("COMMIT").await.expect("commit");
        let n: i64 = other
            .query_first("SELECT count(*) FROM a")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(n, 2);
        let ac: i64 = c
            .query_first("SELECT @@autocommit")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(ac, 0);
    });
}

#[test]
fn system_variables_and_status() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        let port: u16 = c
            .query_first("SELECT @@port")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(port, s.port);
        let rows: Vec<(String, String)> = c
            .query("SHOW VARIABLES LIKE 'max_conn%'")
            .await
            .expect("show");
        assert_eq!(
            rows,
            vec![("max_connections".to_string(), "151".to_string())]
        );
        let rows: Vec<(String, String)> = c
            .query("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('port', 'version_comment')")
            .await
            .expect("show");
        assert_eq!(rows.len(), 2, "{rows:?}");
        c.query_drop("SET SESSION wait_timeout = 100")
            .await
            .expect("set");
        let (g, sv): (i64, i64) = c
            .query_first("SELECT @@global.wait_timeout, @@session.wait_timeout")
            .await
            .expect("q")
            .expect("row");
        assert_eq!((g, sv), (28800, 100));
        assert_eq!(
            code(&c.query_drop("SET GLOBAL port = 1").await.expect_err("ro")),
            1238
        );
        assert_eq!(
            code(
                &c.query_drop("SET max_connections = 10")
                    .await
                    .expect_err("global")
            ),
            1229
        );
        assert_eq!(
            code(
                &c.query_drop("SET GLOBAL max_connections = 0")
                    .await
                    .expect_err("range")
            ),
            1231
        );
        assert_eq!(
            code(
                &c.query_drop("SET autocommit = 'maybe'")
                    .await
                    .expect_err("bool")
            ),
            1231
        );
        assert_eq!(
            code(
                &c.query_drop("SELECT @@no_such_var")
                    .await
                    .expect_err("unknown")
            ),
            1193
        );
        // A session keeps the values it started with; new sessions see the new global.
        c.query_drop("SET GLOBAL net_read_timeout = 45")
            .await
            .expect("set global");
        let mine: i64 = c
            .query_first("SELECT @@net_read_timeout")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(mine, 30);
        let mut fresh = connect(&s.url()).await;
        let theirs: i64 = fresh
            .query_first("SELECT @@net_read_timeout")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(theirs, 45);
        c.query_drop("SET GLOBAL max_connections = 200")
            .await
            .expect("set global");
        let m: i64 = c
            .query_first("SELECT @@max_connections")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(m, 200);
        // Status: Com_select counts per session and globally.
        let before: Vec<(String, String)> = c
            .query("SHOW SESSION STATUS LIKE 'Com_select'")
            .await
            .expect("status");
        let b: u64 = before[0].1.parse().expect("n");
        c.query_drop("SELECT 1").await.expect("select");
        c.query_drop("SELECT 2").await.expect("select");
        let after: Vec<(String, String)> = c
            .query("SHOW STATUS LIKE 'Com_select'")
            .await
            .expect("status");
        assert_eq!(after[0].1.parse::<u64>().expect("n"), b + 2);
        let names: Vec<(String, String)> = c.query("SHOW GLOBAL STATUS").await.expect("status");
        for want in [
            "Uptime",
            "Connections",
            "Threads_connected",
            "Threads_running",
            "Threads_created",
            "Questions",
            "Queries",
            "Bytes_received",
            "Bytes_sent",
            "Aborted_connects",
            "Aborted_clients",
            "Max_used_connections",
        ] {
            assert!(names.iter().any(|(k, _)| k == want), "missing {want}");
        }
        let running: Vec<(String, String)> = c
            .query("SHOW GLOBAL STATUS WHERE Variable_name = 'Threads_running'")
            .await
            .expect("status");
        assert_eq!(running[0].1, "1");
        let q1: u64 = status_value(&s.shared, "Questions");
        c.query_drop("SELECT 3").await.expect("select");
        assert_eq!(status_value(&s.shared, "Questions"), q1 + 1);
        assert!(status_value(&s.shared, "Bytes_received") > 0);
    });
}

#[test]
fn information_schema_tables() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut a = connect(&s.url()).await;
        let mut b = connect(&s.url()).await;
        b.query_drop("SET SESSION wait_timeout = 77").await.expect("set");
        let rows: Vec<(u32, String)> = a
            .query("SELECT ID, COMMAND FROM information_schema.PROCESSLIST ORDER BY ID DESC")
            .await
            .expect("pl");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, b.id().max(a.id()));
        let v: String = b
            .query_first("SELECT VARIABLE_VALUE FROM information_schema.SESSION_VARIABLES WHERE VARIABLE_NAME = 'WAIT_TIMEOUT'")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(v, "77");
        let g: String = b
            .query_first("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'WAIT_TIMEOUT'")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(g, "28800");
        // JOIN of two tables.
        let n: i64 = a
            .query_first(
                "SELECT count(*) FROM information_schema.GLOBAL_STATUS g JOIN information_schema.SESSION_STATUS s \
                 ON g.VARIABLE_NAME = s.VARIABLE_NAME WHERE g.VARIABLE_NAME LIKE 'COM_%'",
            )
            .await
            .expect("join")
            .expect("row");
        assert!(n > 20, "{n}");
    });
}

#[test]
fn processlist_visibility_and_truncation() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut root = connect(&s.url()).await;
        root.query_drop("CREATE USER 'joe'@'%' IDENTIFIED BY 'pw'")
            .await
            .expect("user");
        let mut joe = connect(&format!(
            "mysql://joe:pw@127.0.0.1:{}?prefer_socket=false",
            s.port
        ))
        .await;
        let long = format!("SELECT SLEEP(2), '{}'", "x".repeat(150));
        let port = s.port;
        let h = tokio::spawn(async move {
            let mut busy = connect(&format!(
                "mysql://root@127.0.0.1:{port}?prefer_socket=false"
            ))
            .await;
            let _: Vec<Row> = busy.query(long).await.expect("sleep");
        });
        tokio::time::sleep(Duration::from_millis(400)).await;
        let rows: Vec<Row> = root.query("SHOW PROCESSLIST").await.expect("pl");
        assert_eq!(rows.len(), 3);
        let info: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.get::<Option<String>, _>(7).flatten())
            .collect();
        let sleeping = info
            .iter()
            .flatten()
            .find(|i| i.starts_with("SELECT SLEEP"))
            .expect("busy thread");
        assert_eq!(sleeping.chars().count(), 100);
        let full: Vec<Row> = root.query("SHOW FULL PROCESSLIST").await.expect("pl");
        assert!(full.iter().any(|r| {
            r.get::<Option<String>, _>(7)
                .flatten()
                .is_some_and(|i| i.len() > 150)
        }));
        let mine: Vec<Row> = joe.query("SHOW PROCESSLIST").await.expect("pl");
        assert_eq!(mine.len(), 1, "unprivileged user sees only own threads");
        // Privilege checks.
        assert_eq!(
            code(
                &joe.query_drop("SET GLOBAL debug = 'd'")
                    .await
                    .expect_err("priv")
            ),
            1227
        );
        assert_eq!(
            code(
                &joe.query_drop("SET GLOBAL wait_timeout = 5")
                    .await
                    .expect_err("priv")
            ),
            1227
        );
        assert_eq!(
            code(
                &joe.query_drop(format!("KILL {}", root.id()))
                    .await
                    .expect_err("priv")
            ),
            1095
        );
        h.await.expect("join");
    });
}

#[test]
fn kill_query_stops_sleep_and_long_sqlite_query() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut killer = connect(&s.url()).await;
        for sql in [
            "SELECT SLEEP(30)",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        ] {
            let mut victim = connect(&s.url()).await;
            let id = victim.id();
            let started = Instant::now();
            let h = tokio::spawn(async move {
                let r = victim.query_drop(sql).await;
                (r, victim)
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            killer.query_drop(format!("KILL QUERY {id}")).await.expect("kill query");
            let (r, mut victim) = h.await.expect("join");
            assert_eq!(code(&r.expect_err("interrupted")), 1317, "{sql}");
            assert!(started.elapsed() < Duration::from_secs(5), "{sql} took {:?}", started.elapsed());
            // The connection survives KILL QUERY.
            let one: i64 = victim.query_first("SELECT 1").await.expect("after kill").expect("row");
            assert_eq!(one, 1);
        }
        // KILL QUERY on an idle session does not break its next statement.
        let mut idle = connect(&s.url()).await;
        killer.query_drop(format!("KILL QUERY {}", idle.id())).await.expect("kill idle");
        let slept: i64 = idle.query_first("SELECT SLEEP(0.2)").await.expect("sleep after idle kill").expect("row");
        assert_eq!(slept, 0);
        // KILL CONNECTION closes the victim.
        let mut victim = connect(&s.url()).await;
        let id = victim.id();
        let h = tokio::spawn(async move { victim.query_drop("SELECT SLEEP(30)").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        killer.query_drop(format!("KILL {id}")).await.expect("kill");
        let r = tokio::time::timeout(Duration::from_secs(5), h).await.expect("prompt").expect("join");
        assert!(r.is_err());
        let deadline = Instant::now() + Duration::from_secs(5);
        while s.shared.threads.get(id).is_some() {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}

#[test]
fn debug_variable_validation_and_privilege() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("SET SESSION debug = 'd,info'")
            .await
            .expect("session debug");
        let d: String = c
            .query_first("SELECT @@debug")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(d, "d,info");
        c.query_drop("SET SESSION debug = '+d,query'")
            .await
            .expect("append");
        let d: String = c
            .query_first("SELECT @@session.debug")
            .await
            .expect("q")
            .expect("row");
        assert!(d.contains("query"), "{d}");
        let e = c
            .query_drop("SET SESSION debug = 'z,bad'")
            .await
            .expect_err("malformed");
        assert_eq!(code(&e), 1231);
        let d2: String = c
            .query_first("SELECT @@session.debug")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(d, d2, "a rejected string changed the state");
        let g: String = c
            .query_first("SELECT @@global.debug")
            .await
            .expect("q")
            .expect("row");
        let e = c
            .query_drop("SET GLOBAL debug = 'qq'")
            .await
            .expect_err("malformed");
        assert_eq!(code(&e), 1231);
        let g2: String = c
            .query_first("SELECT @@global.debug")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(g, g2);
    });
}

// ----------------------------------------------------------- protocol edges

fn raw_handshake(port: u16) -> TcpStream {
    let mut t = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    t.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut hdr = [0u8; 4];
    t.read_exact(&mut hdr).expect("greeting header");
    let len = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], 0]) as usize;
    let mut greeting = vec![0u8; len];
    t.read_exact(&mut greeting).expect("greeting");
    assert_eq!(greeting[0], 10, "protocol v10");
    t
}

#[test]
fn malformed_packets_close_cleanly_and_count() {
    let s = TestServer::start();
    let before = status_value(&s.shared, "Aborted_clients");
    // An authenticated session that then sends a packet with a wrong sequence id.
    rt().block_on(async {
        let c = connect(&s.url()).await;
        drop(c);
    });
    let mut t = raw_handshake(s.port);
    // Garbage instead of a handshake response: the server closes the connection.
    t.write_all(&[3, 0, 0, 1, 0xff, 0xff, 0xff]).expect("write");
    let mut buf = Vec::new();
    let _ = t.read_to_end(&mut buf);
    // A logged-in session receiving a bad COM_PROCESS_KILL (too short).
    let Some(_) = s.mariadb(&["-e", "SELECT 1"], None) else {
        return;
    };
    let after_cli = status_value(&s.shared, "Aborted_clients");
    assert!(after_cli >= before, "{after_cli} {before}");
    // The server still serves.
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        let one: i64 = c.query_first("SELECT 1").await.expect("q").expect("row");
        assert_eq!(one, 1);
    });
}

fn read_pkt(t: &mut TcpStream) -> Vec<u8> {
    let mut hdr = [0u8; 4];
    t.read_exact(&mut hdr).expect("header");
    let len = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], 0]) as usize;
    let mut b = vec![0u8; len];
    t.read_exact(&mut b).expect("payload");
    b
}

/// A raw TCP session logged in as root (no password), after the OK packet.
fn raw_login(port: u16) -> TcpStream {
    use mysql_common::constants::CapabilityFlags as C;
    let mut t = raw_handshake(port);
    let caps = (C::CLIENT_PROTOCOL_41
        | C::CLIENT_SECURE_CONNECTION
        | C::CLIENT_PLUGIN_AUTH
        | C::CLIENT_LONG_PASSWORD)
        .bits();
    let mut p = Vec::new();
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&(1u32 << 24).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0u8; 23]);
    p.extend_from_slice(b"root\0");
    p.push(0);
    p.extend_from_slice(b"mysql_native_password\0");
    let mut pkt = (p.len() as u32).to_le_bytes()[..3].to_vec();
    pkt.push(1);
    pkt.extend_from_slice(&p);
    t.write_all(&pkt).expect("response");
    assert_eq!(read_pkt(&mut t)[0], 0, "auth OK");
    t
}

#[test]
fn unknown_and_short_commands() {
    let s = TestServer::start();
    let mut t = raw_login(s.port);
    // COM_BINLOG_DUMP (0x12) is not supported: an error packet, connection stays.
    t.write_all(&[1, 0, 0, 0, 0x12]).expect("write");
    let e = read_pkt(&mut t);
    assert_eq!(e[0], 0xff);
    assert_eq!(u16::from_le_bytes([e[1], e[2]]), 1047);
    t.write_all(&[1, 0, 0, 0, 0x0e]).expect("ping");
    assert_eq!(read_pkt(&mut t)[0], 0, "ping OK after error");
    let before = status_value(&s.shared, "Aborted_clients");
    // COM_PROCESS_KILL with a 1-byte body: malformed → closed, counted.
    t.write_all(&[2, 0, 0, 0, 0x0c, 1]).expect("write");
    let mut rest = Vec::new();
    let n = t.read_to_end(&mut rest).unwrap_or(0);
    assert_eq!(
        n, 0,
        "server answered a malformed packet instead of closing"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while status_value(&s.shared, "Aborted_clients") <= before {
        assert!(Instant::now() < deadline, "Aborted_clients not incremented");
        std::thread::sleep(Duration::from_millis(10));
    }
}

// -------------------------------------------------------------------- PyMySQL

#[test]
fn pymysql_client() {
    let has = std::process::Command::new("python3")
        .args(["-c", "import pymysql"])
        .output();
    match has {
        Ok(o) if o.status.success() => {}
        _ => {
            eprintln!("SKIP: python3 with pymysql is not installed (pip install pymysql)");
            return;
        }
    }
    let s = TestServer::start();
    let script = format!(
        r#"
import pymysql
c = pymysql.connect(host="127.0.0.1", port={port}, user="root", password="")
cur = c.cursor()
cur.execute("CREATE DATABASE py")
cur.execute("USE py")
cur.execute("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))")
cur.executemany("INSERT INTO t (v) VALUES (%s)", [("a",), ("b'c",)])
c.commit()
cur.execute("SELECT id, v FROM t ORDER BY id")
print(cur.fetchall())
try:
    cur.execute("SELECT * FROM nope")
except pymysql.err.ProgrammingError as e:
    print("error", e.args[0])
c.close()
"#,
        port = s.port
    );
    let o = run_client("python3", &["-c", &script], None).expect("python");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "((1, 'a'), (2, \"b'c\"))\nerror 1146\n");
}

// ------------------------------------------------------------- durability

#[test]
fn committed_data_survives_kill_9() {
    let dir = temp_dir("kill9");
    let data = dir.join("data");
    let log = dir.join("err.log");
    let mut srv = spawn_minnowd(&data, &log, &["--skip-stack-trace"]);
    let port = srv.port;
    rt().block_on(async {
        let url = format!("mysql://root@127.0.0.1:{port}");
        let mut c = connect(&url).await;
        c.query_drop("CREATE DATABASE d").await.expect("db");
        c.query_drop("CREATE TABLE d.t (x INT)")
            .await
            .expect("table");
        for i in 0..50 {
            c.exec_drop("INSERT INTO d.t VALUES (?)", (i,))
                .await
                .expect("insert");
        }
        c.query_drop("BEGIN").await.expect("begin");
        c.query_drop("INSERT INTO d.t VALUES (1000)")
            .await
            .expect("uncommitted");
        srv.child.kill().expect("kill -9");
        let _ = srv.child.wait();
    });
    let mut srv = spawn_minnowd(&data, &log, &["--skip-stack-trace"]);
    let port = srv.port;
    rt().block_on(async {
        let mut c = connect(&format!("mysql://root@127.0.0.1:{port}/d")).await;
        let (n, max): (i64, i64) = c
            .query_first("SELECT count(*), max(x) FROM t")
            .await
            .expect("q")
            .expect("row");
        assert_eq!((n, max), (50, 49));
    });
    // SIGTERM: clean shutdown.
    let _ = std::process::Command::new("kill")
        .arg(srv.child.id().to_string())
        .status();
    let st = srv.child.wait().expect("wait");
    assert!(st.success(), "{st:?}");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("Shutdown complete")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------ DBUG and crash

/// `d,nothing` (statement path quiet: frames and prints skip the engine), then a
/// session that switches tracing on sees the full statement path, and off again.
#[test]
fn session_trace_after_quiet_global_debug() {
    minnow_server::debug::install_tracing();
    let s = TestServer::start();
    let trace = s.dir.join("session-trace.txt");
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("SET GLOBAL debug = 'd,nothing'")
            .await
            .expect("set global debug");
        c.query_drop("SELECT 1")
            .await
            .expect("select under d,nothing");
        c.query_drop(format!("SET SESSION debug = 'd:t:O,{}'", trace.display()))
            .await
            .expect("set session debug");
        c.query_drop("SELECT 44").await.expect("select");
        let text = std::fs::read_to_string(&trace).expect("trace file");
        for want in [
            ">do_command",
            ">dispatch_command",
            ">mysql_execute_command",
            "<mysql_execute_command",
            "<dispatch_command",
            "query: SELECT 44",
        ] {
            assert!(text.contains(want), "missing {want} in:\n{text}");
        }
        assert!(
            !text.contains("SELECT 1\n"),
            "traced before it was on:\n{text}"
        );
        c.query_drop("SET SESSION debug = 'd,nothing'")
            .await
            .expect("quiet again");
        // `<do_command` of SELECT 44 comes after its reply was sent: look once the
        // connection thread has served the next command.
        let text = std::fs::read_to_string(&trace).expect("trace file");
        assert!(
            text.contains("<do_command"),
            "missing <do_command in:\n{text}"
        );
        let len = std::fs::metadata(&trace).expect("meta").len();
        c.query_drop("SELECT 45").await.expect("select");
        assert_eq!(
            std::fs::metadata(&trace).expect("meta").len(),
            len,
            "statement path still traced under d,nothing"
        );
    });
}

#[test]
fn set_global_debug_writes_trace_file() {
    minnow_server::debug::install_tracing();
    let s = TestServer::start();
    let trace = s.dir.join("trace.txt");
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop(format!("SET GLOBAL debug = 'd:t:O,{}'", trace.display()))
            .await
            .expect("set debug");
        let g: String = c
            .query_first("SELECT @@global.debug")
            .await
            .expect("q")
            .expect("row");
        assert!(g.contains("trace.txt"), "{g}");
        c.query_drop("SELECT 42").await.expect("select");
        let text = std::fs::read_to_string(&trace).expect("trace file");
        for want in [
            ">do_command",
            ">dispatch_command",
            ">mysql_execute_command",
            "<mysql_execute_command",
            "query: SELECT 42",
        ] {
            assert!(text.contains(want), "missing {want} in:\n{text}");
        }
        // A malformed string: 1231, and nothing changes.
        let e = c
            .query_drop("SET GLOBAL debug = 'd:t:O,/tmp/x:qq'")
            .await
            .expect_err("malformed");
        assert_eq!(code(&e), 1231);
        let g2: String = c
            .query_first("SELECT @@global.debug")
            .await
            .expect("q")
            .expect("row");
        assert_eq!(g, g2);
        c.query_drop("SET GLOBAL debug = ''").await.expect("off");
        let len = std::fs::metadata(&trace).expect("meta").len();
        c.query_drop("SELECT 43").await.expect("select");
        assert_eq!(
            std::fs::metadata(&trace).expect("meta").len(),
            len,
            "tracing still on"
        );
    });
}

#[test]
fn fault_injection_crashes_with_report() {
    let dir = temp_dir("crash");
    let data = dir.join("data");
    let log = dir.join("err.log");
    let trace = dir.join("minnowd.trace");
    let debug = format!("--debug=d:t:i:O,{}", trace.display());
    let mut srv = spawn_minnowd(&data, &log, &[&debug]);
    let port = srv.port;
    let id = rt().block_on(async {
        let mut c = connect(&format!("mysql://root@127.0.0.1:{port}")).await;
        let id = c.id();
        c.query_drop("SET SESSION debug = '+d,crash_mysql_execute_command'")
            .await
            .expect("set");
        let r = c.query_drop("SELECT 'boom' AS crash_me").await;
        assert!(r.is_err(), "server answered instead of crashing");
        id
    });
    let st = srv.child.wait().expect("wait");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(6), "{st:?}");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("minnowd got signal 6"), "{text}");
    assert!(text.contains("SELECT 'boom' AS crash_me"), "{text}");
    assert!(
        text.contains(&format!("Connection ID (thread ID): {id}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("DBUG trace flushed: {}", trace.display())),
        "{text}"
    );
    let t = std::fs::read_to_string(&trace).expect("trace");
    assert!(t.contains(">mysql_execute_command"), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with(&format!("T@{id}")) && l.contains(">mysql_execute_command")),
        "the crashing statement is not traced under T@{id}:\n{t}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------- more client/server edges

#[test]
fn mariadb_cli_interactive_session() {
    let s = TestServer::start();
    let Some(_) = s.mariadb(&["-e", "CREATE DATABASE shop; CREATE TABLE shop.items (id INT, name VARCHAR(10)); INSERT INTO shop.items VALUES (1, 'a'), (2, 'b')"], None) else {
        return;
    };
    // A pseudo-terminal makes the CLI interactive (with auto-rehash: SHOW TABLES + COM_FIELD_LIST).
    let cmd = format!(
        "mariadb -h127.0.0.1 -P{} -uroot --protocol=TCP -D shop",
        s.port
    );
    let Some(o) = run_client(
        "script",
        &["-qec", &cmd, "/dev/null"],
        Some("SELECT count(*) AS n FROM items;\nquit\n"),
    ) else {
        return;
    };
    let out = stdout(&o).replace('\r', "");
    assert!(out.contains("Welcome to the MariaDB monitor"), "{out}");
    assert!(out.contains("Server version: 8.0.99-Minnow"), "{out}");
    assert!(out.contains("| 2 |"), "{out}");
    assert!(out.contains("1 row in set"), "{out}");
    assert!(
        status_value(&s.shared, "Com_show_fields") >= 1,
        "auto-rehash sent no COM_FIELD_LIST"
    );
}

#[test]
fn general_log_and_admin_debug_dump() {
    let s = TestServer::start_with(|c| c.general_log = true);
    let Some(o) = s.mariadb(&["-e", "SELECT 'logged statement'"], None) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let log = std::fs::read_to_string(&s.shared.config.general_log_file).expect("general log");
    assert!(log.contains("Query\tSELECT 'logged statement'"), "{log}");
    let o = s.admin(&["debug"]).expect("admin");
    assert!(o.status.success(), "{}", stderr(&o));
    let err = s.error_log();
    assert!(err.contains("Running threads:"), "{err}");
    assert!(err.contains("Uptime: "), "{err}");
    assert!(err.contains("Memory/process: VmRSS:"), "{err}");
}

#[test]
fn max_connections_refuses_with_1040() {
    let s = TestServer::start_with(|c| c.max_connections = 1);
    rt().block_on(async {
        // max_connections + 1 are allowed (the extra one is for an administrator).
        // No switch to the Unix socket: one server connection per client.
        let url = s.url();
        let a = connect(&url).await;
        let b = connect(&url).await;
        let e = Conn::new(Opts::from_url(&url).expect("url"))
            .await
            .expect_err("too many");
        assert_eq!(code(&e), 1040);
        drop((a, b));
    });
}

#[test]
fn wait_timeout_closes_idle_sessions() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        let id = c.id();
        c.query_drop("SET SESSION wait_timeout = 1")
            .await
            .expect("set");
        let before = status_value(&s.shared, "Aborted_clients");
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.shared.threads.get(id).is_some() {
            assert!(Instant::now() < deadline, "idle session not closed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(status_value(&s.shared, "Aborted_clients") > before);
        assert!(c.query_drop("SELECT 1").await.is_err());
    });
}

// ------------------------------------------------ extension points (plugins)

struct Recorder {
    events: std::sync::Mutex<Vec<String>>,
    veto_query: &'static str,
}

impl minnow_server::hooks::AuditObserver for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn notify(
        &self,
        ev: &minnow_server::hooks::AuditEvent<'_>,
    ) -> Result<(), minnow_server::error::SqlError> {
        use minnow_server::hooks::AuditEvent as E;
        let line = match ev {
            E::PreAuth { .. } => "pre-auth".to_string(),
            E::Connect { user, error, .. } => format!("connect {user} {error}"),
            E::Disconnect { .. } => "disconnect".to_string(),
            E::ChangeUser { user, .. } => format!("change-user {user}"),
            E::Starting { query, .. } => format!("starting {query}"),
            E::Completed { query, error, .. } => format!("completed {query} {error}"),
        };
        self.events.lock().expect("lock").push(line);
        match ev {
            E::Starting { query, .. } if *query == self.veto_query => Err(
                minnow_server::error::SqlError::new(1045, "vetoed by recorder"),
            ),
            _ => Ok(()),
        }
    }
}

#[test]
fn audit_hooks_and_plugin_information_schema_table() {
    use minnow_server::hooks::InfoSchemaTable;
    use minnow_server::protocol::{Cell, ColDef};
    use mysql_common::constants::ColumnType;
    let s = TestServer::start();
    let rec = std::sync::Arc::new(Recorder {
        events: Default::default(),
        veto_query: "SELECT 'forbidden'",
    });
    s.shared.audit.add(rec.clone());
    s.shared.infoschema.register(InfoSchemaTable {
        name: "EXAMPLE".into(),
        columns: vec![
            ColDef::new("N", ColumnType::MYSQL_TYPE_LONGLONG),
            ColDef::new("NAME", ColumnType::MYSQL_TYPE_VAR_STRING),
        ],
        fill: std::sync::Arc::new(|ctx| {
            vec![
                vec![Cell::Integer(0), Cell::Text("one".into())],
                vec![
                    Cell::Integer(i64::from(ctx.conn_id)),
                    Cell::Text("me".into()),
                ],
            ]
        }),
    });
    s.shared.vars.register(
        minnow_server::vars::VarDef {
            name: "example_level".into(),
            scope: minnow_server::vars::Scope::Global,
            kind: minnow_server::vars::Kind::Int { min: 0, max: 9 },
            read_only: false,
            default: minnow_server::vars::VarValue::Int(3),
        },
        minnow_server::vars::VarValue::Int(3),
    );
    s.shared.status.extra.register(
        "example",
        std::sync::Arc::new(|| vec![("Example_calls".to_string(), "7".to_string())]),
    );
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        let e = c.query_drop("SELECT 'forbidden'").await.expect_err("veto");
        assert_eq!(code(&e), 1045);
        let rows: Vec<(i64, String)> = c.query("SELECT N, NAME FROM information_schema.EXAMPLE WHERE NAME = 'one'").await.expect("is");
        assert_eq!(rows, vec![(0, "one".to_string())]);
        let me: String = c
            .query_first(format!("SELECT NAME FROM information_schema.EXAMPLE e JOIN information_schema.PROCESSLIST p ON p.ID = e.N WHERE p.ID = {}", c.id()))
            .await
            .expect("join")
            .expect("row");
        assert_eq!(me, "me");
        c.query_drop("SET GLOBAL example_level = 5").await.expect("plugin var");
        assert_eq!(code(&c.query_drop("SET GLOBAL example_level = 10").await.expect_err("range")), 1231);
        let v: Vec<(String, String)> = c.query("SHOW STATUS LIKE 'Example%'").await.expect("status");
        assert_eq!(v, vec![("Example_calls".to_string(), "7".to_string())]);
        c.disconnect().await.expect("bye");
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ev = rec.events.lock().expect("lock").clone();
        if ev.last().map(String::as_str) == Some("disconnect") {
            assert_eq!(ev[0], "pre-auth");
            assert_eq!(ev[1], "connect root 0");
            assert!(
                ev.contains(&"starting SELECT 'forbidden'".to_string()),
                "{ev:?}"
            );
            assert!(
                !ev.iter()
                    .any(|e| e.starts_with("completed SELECT 'forbidden'")),
                "vetoed statement ran: {ev:?}"
            );
            assert!(
                ev.contains(&"completed SET GLOBAL example_level = 10 1231".to_string()),
                "{ev:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no disconnect event: {ev:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn prepared_protocol_for_admin_statements_and_long_data() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        // Minnow's own statements through COM_STMT_PREPARE/EXECUTE.
        let rows: Vec<(String, String)> = c
            .exec("SHOW VARIABLES LIKE 'port'", ())
            .await
            .expect("show via ps");
        assert_eq!(rows, vec![("port".to_string(), s.port.to_string())]);
        let e = c
            .exec_drop("SET SESSION wait_timeout = ?", (5,))
            .await
            .expect_err("params on admin statement");
        assert_eq!(code(&e), 1295);
        c.query_drop("CREATE DATABASE ps").await.expect("db");
        c.query_drop("CREATE TABLE ps.blobs (b BLOB)")
            .await
            .expect("table");
        let big = vec![7u8; 3 << 20];
        c.exec_drop("INSERT INTO ps.blobs VALUES (?)", (big.clone(),))
            .await
            .expect("big insert");
        let back: Vec<u8> = c
            .exec_first("SELECT b FROM ps.blobs", ())
            .await
            .expect("select")
            .expect("row");
        assert_eq!(back, big);
    });
}

#[test]
fn random_command_packets_never_take_the_server_down() {
    let s = TestServer::start();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut t = raw_login(s.port);
    for i in 0..300 {
        let cmd = (next() % 0x22) as u8;
        if cmd == 0x01 || cmd == 0x08 {
            continue; // QUIT and SHUTDOWN end things on purpose
        }
        let len = (next() % 24) as usize;
        let mut payload = vec![cmd];
        payload.extend((0..len).map(|_| next() as u8));
        let mut pkt = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        pkt.push(0);
        pkt.extend_from_slice(&payload);
        if t.write_all(&pkt).is_err() {
            t = raw_login(s.port);
            continue;
        }
        // Drain whatever comes back (or the close) without blocking forever.
        t.set_read_timeout(Some(Duration::from_millis(if i % 50 == 0 {
            200
        } else {
            20
        })))
        .expect("timeout");
        let mut buf = [0u8; 4096];
        if let Ok(0) = t.read(&mut buf) {
            t = raw_login(s.port);
        }
    }
    // Still serving, and no session code panicked.
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        let one: i64 = c.query_first("SELECT 1").await.expect("q").expect("row");
        assert_eq!(one, 1);
    });
    assert!(!s.error_log().contains("panicked"), "{}", s.error_log());
}

#[test]
fn bad_options_fail_cleanly() {
    let dir = temp_dir("opts");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_minnowd"))
        .arg(format!("--datadir={}", dir.join("d").display()))
        .args(["--port=0", "--debug=zz"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("minnowd: [ERROR] invalid option: --debug='zz'"),
        "{err}"
    );
    assert!(!err.contains("ready for connections"), "{err}");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_minnowd"))
        .arg("--version")
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("minnowd 8.0.99-Minnow-"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mariadb_dump_and_restore_roundtrip() {
    let s = TestServer::start();
    let Some(o) = s.mariadb(
        &["-e", "CREATE DATABASE src; CREATE TABLE src.items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20), price DOUBLE); \
                 INSERT INTO src.items (name, price) VALUES ('tea', 2.5), ('it''s', NULL); CREATE DATABASE dst"],
        None,
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let port = s.port.to_string();
    let Some(dump) = run_client(
        "mariadb-dump",
        &[
            "-h127.0.0.1",
            "-P",
            &port,
            "-uroot",
            "--protocol=TCP",
            "src",
        ],
        None,
    ) else {
        return;
    };
    assert!(dump.status.success(), "{}", stderr(&dump));
    let sql = stdout(&dump);
    assert!(sql.contains("INSERT INTO `items` VALUES"), "{sql}");
    let o = s.mariadb(&["dst"], Some(&sql)).expect("restore");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = s
        .mariadb(
            &[
                "--batch",
                "-e",
                "SELECT id, name, price FROM dst.items ORDER BY id",
            ],
            None,
        )
        .expect("select");
    assert_eq!(stdout(&o), "id\tname\tprice\n1\ttea\t2.5\n2\tit's\tNULL\n");
    // information_schema catalog tables the dump used.
    let o = s
        .mariadb(&["--batch", "-e", "SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM information_schema.TABLES WHERE TABLE_NAME = 'items' ORDER BY 1"], None)
        .expect("tables");
    assert_eq!(
        stdout(&o),
        "TABLE_SCHEMA\tTABLE_NAME\tENGINE\ndst\titems\tSQLite\nsrc\titems\tSQLite\n"
    );
}

// ------------------------------------------------- USE information_schema

#[test]
fn use_information_schema_reads_and_refuses_writes() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        c.query_drop("USE information_schema").await.expect("USE");
        let db: Option<String> = c.query_first("SELECT DATABASE()").await.expect("db");
        assert_eq!(db.as_deref(), Some("information_schema"));
        // Unqualified names resolve to information_schema tables, refilled per query.
        let ids: Vec<u64> = c
            .query("SELECT ID FROM PROCESSLIST ORDER BY ID")
            .await
            .expect("processlist");
        assert!(ids.contains(&u64::from(c.id())), "{ids:?}");
        let c2 = connect(&s.url()).await;
        let ids2: Vec<u64> = c
            .query("SELECT ID FROM processlist ORDER BY ID")
            .await
            .expect("processlist again");
        assert!(ids2.contains(&u64::from(c2.id())), "{ids2:?}");
        let tables: Vec<String> = c.query("SHOW TABLES").await.expect("show tables");
        assert!(tables.iter().any(|t| t == "PROCESSLIST"), "{tables:?}");
        assert!(tables.iter().any(|t| t == "GLOBAL_STATUS"), "{tables:?}");
        // Writes there fail as in MySQL.
        for sql in [
            "CREATE TABLE t (a INT)",
            "INSERT INTO PROCESSLIST (ID) VALUES (1)",
            "DELETE FROM PROCESSLIST",
            "DROP TABLE PROCESSLIST",
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
        // Leaving it again works, and an unknown database is still 1049.
        let e = c.query_drop("USE nosuchdb").await.expect_err("bad db");
        assert_eq!(code(&e), 1049);
        c2.disconnect().await.expect("disconnect");
        c.disconnect().await.expect("disconnect");
        // COM_INIT_DB at connect time (mysql_async sends the db in the handshake).
        let mut c3 = connect(&s.url_db("information_schema")).await;
        let n: Option<u64> = c3
            .query_first("SELECT COUNT(*) FROM GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'")
            .await
            .expect("global_status");
        assert_eq!(n, Some(1));
        c3.disconnect().await.expect("disconnect");
    });
    // The mariadb CLI with -D information_schema (its COM_INIT_DB / handshake db).
    let Some(o) = s.mariadb(
        &[
            "--batch",
            "-D",
            "information_schema",
            "-e",
            "SELECT COUNT(*) > 0 AS ok FROM PROCESSLIST",
        ],
        None,
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ok\n1\n");
}

// ------------------------------------------------- CLIENT_MULTI_STATEMENTS

#[test]
fn multi_statements_run_in_order_and_stop_at_first_error() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = connect(&s.url()).await;
        // Both result sets, in order; `;` inside a string or comment does not split.
        let mut r = c
            .query_iter("SELECT 1 AS a; SELECT 'x;y' AS b /* c;d */ ; -- e;f\n SELECT 3 AS c;")
            .await
            .expect("multi");
        let mut sets: Vec<Vec<String>> = Vec::new();
        while !r.is_empty() {
            let rows: Vec<Row> = r.collect().await.expect("set");
            sets.push(
                rows.into_iter()
                    .map(|row| row.get::<String, _>(0).expect("col"))
                    .collect(),
            );
        }
        drop(r);
        assert_eq!(sets, vec![vec!["1"], vec!["x;y"], vec!["3"]]);
        // OK packets and result sets mixed; an error in the middle ends the batch.
        c.query_drop("CREATE DATABASE m; USE m; CREATE TABLE t (a INT)")
            .await
            .expect("ddl batch");
        let e = c
            .query_drop("INSERT INTO t VALUES (1); SELECT * FROM missing; INSERT INTO t VALUES (2)")
            .await
            .expect_err("error in the middle");
        assert_eq!(code(&e), 1146, "{e}");
        let got: Vec<i64> = c.query("SELECT a FROM t ORDER BY a").await.expect("rows");
        assert_eq!(got, vec![1], "the statement after the error must not run");
        // The connection is still in step after the error.
        let one: Option<i64> = c.query_first("SELECT 1").await.expect("after");
        assert_eq!(one, Some(1));
        c.disconnect().await.expect("disconnect");
    });
    // The mariadb CLI sends a DELIMITER-ed block as one COM_QUERY.
    let Some(o) = s.mariadb(
        &["--batch"],
        Some("DELIMITER //\nSELECT 1 AS a; SELECT 'p;q' AS b//\n"),
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "a\n1\nb\np;q\n");
}

#[test]
fn multi_statements_need_the_capability() {
    fn send(t: &mut TcpStream, body: &[u8]) {
        let mut pkt = (body.len() as u32).to_le_bytes()[..3].to_vec();
        pkt.push(0);
        pkt.extend_from_slice(body);
        t.write_all(&pkt).expect("write");
    }
    fn query(t: &mut TcpStream, q: &str) {
        let mut b = vec![0x03];
        b.extend_from_slice(q.as_bytes());
        send(t, &b);
    }
    /// One single-column text result set; the status flags of its final EOF.
    fn result_set(t: &mut TcpStream) -> (Vec<u8>, u16) {
        let head = read_pkt(t);
        assert_eq!(head, vec![1], "one column: {head:?}");
        let _coldef = read_pkt(t);
        assert_eq!(read_pkt(t)[0], 0xfe, "EOF after columns");
        let row = read_pkt(t);
        let eof = read_pkt(t);
        assert_eq!(eof[0], 0xfe, "EOF after rows: {eof:?}");
        (row[1..].to_vec(), u16::from_le_bytes([eof[3], eof[4]]))
    }
    const MORE: u16 = 0x0008;
    let s = TestServer::start();
    // raw_login does not set CLIENT_MULTI_STATEMENTS: one statement only (1064).
    let mut t = raw_login(s.port);
    query(&mut t, "SELECT 1; SELECT 2");
    let e = read_pkt(&mut t);
    assert_eq!(e[0], 0xff, "{e:?}");
    assert_eq!(u16::from_le_bytes([e[1], e[2]]), 1064);
    // COM_SET_OPTION(MYSQL_OPTION_MULTI_STATEMENTS_ON): answered with EOF.
    send(&mut t, &[0x1b, 0, 0]);
    assert_eq!(read_pkt(&mut t)[0], 0xfe);
    query(&mut t, "SELECT 1; SELECT 2");
    let (row, flags) = result_set(&mut t);
    assert_eq!(row, b"1");
    assert_ne!(flags & MORE, 0, "first result must say more results follow");
    let (row, flags) = result_set(&mut t);
    assert_eq!(row, b"2");
    assert_eq!(flags & MORE, 0, "last result must not say more results");
    // MYSQL_OPTION_MULTI_STATEMENTS_OFF: back to 1064.
    send(&mut t, &[0x1b, 1, 0]);
    assert_eq!(read_pkt(&mut t)[0], 0xfe);
    query(&mut t, "SELECT 1; SELECT 2");
    let e = read_pkt(&mut t);
    assert_eq!(u16::from_le_bytes([e[1], e[2]]), 1064, "{e:?}");
    // An unknown option is an error packet, the connection stays usable.
    send(&mut t, &[0x1b, 7, 0]);
    assert_eq!(read_pkt(&mut t)[0], 0xff);
    send(&mut t, &[0x0e]);
    assert_eq!(read_pkt(&mut t)[0], 0, "ping OK");
}

#[test]
fn refresh_and_flush_logs_reopen_the_general_log_and_need_reload() {
    let s = TestServer::start_with(|c| c.general_log = true);
    let Some(o) = s.mariadb(&["-e", "SELECT 'before rotation'"], None) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    // Rotate the log as logrotate does: rename, then FLUSH LOGS (COM_REFRESH via
    // mariadb-admin, and the statement).
    let log = s.shared.config.general_log_file.clone();
    let rotated = log.with_extension("log.1");
    std::fs::rename(&log, &rotated).expect("rotate");
    let o = s.admin(&["flush-logs"]).expect("admin");
    assert!(o.status.success(), "flush-logs: {}", stderr(&o));
    let o = s.admin(&["refresh"]).expect("admin");
    assert!(o.status.success(), "refresh: {}", stderr(&o));
    let o = s
        .mariadb(&["-e", "FLUSH LOGS; SELECT 'after rotation'"], None)
        .expect("mariadb");
    assert!(o.status.success(), "{}", stderr(&o));
    let new = std::fs::read_to_string(&log).expect("a new general log");
    assert!(new.contains("Query\tSELECT 'after rotation'"), "{new}");
    assert!(!new.contains("before rotation"), "{new}");
    let old = std::fs::read_to_string(&rotated).expect("rotated log");
    assert!(old.contains("Query\tSELECT 'before rotation'"), "{old}");

    // Without RELOAD (a plain account): FLUSH and COM_REFRESH are refused with 1227.
    let o = s
        .mariadb(&["-e", "CREATE USER 'plain'@'%' IDENTIFIED BY 'pw'"], None)
        .expect("mariadb");
    assert!(o.status.success(), "{}", stderr(&o));
    rt().block_on(async {
        let url = format!("mysql://plain:pw@127.0.0.1:{}", s.port);
        let mut c = connect(&url).await;
        let e = c.query_drop("FLUSH TABLES").await.expect_err("no RELOAD");
        assert_eq!(code(&e), 1227);
    });
    let port = s.port.to_string();
    let o = run_client(
        "mariadb-admin",
        &[
            "-h127.0.0.1",
            "-P",
            &port,
            "-uplain",
            "-ppw",
            "--protocol=TCP",
            "refresh",
        ],
        None,
    )
    .expect("admin");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("RELOAD"), "{}", stderr(&o));
}
