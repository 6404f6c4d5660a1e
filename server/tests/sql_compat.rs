//! MySQL statement compatibility against a real `minnowd` on 127.0.0.1:0,
//! through real clients (mysql_async, the mariadb CLI): INSERT … SET,
//! INSERT IGNORE, UPDATE/DELETE … ORDER BY … LIMIT, locking reads,
//! CREATE TABLE … LIKE, RENAME TABLE, ALTER TABLE rebuilds, table
//! maintenance, error texts, temporary tables.

mod util;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};
use util::*;

/// A server with database `shop` and a connection to it.
async fn shop(s: &TestServer) -> Conn {
    let mut c = connect(&s.url()).await;
    c.query_drop("CREATE DATABASE shop").await.expect("db");
    drop(c);
    connect(&s.url_db("shop")).await
}

async fn ids(c: &mut Conn, sql: &str) -> Vec<i64> {
    c.query(sql).await.expect(sql)
}

#[test]
fn insert_set_select_and_ignore() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(10))")
            .await
            .expect("create");
        c.query_drop("INSERT INTO t SET id = 1, a = 10, b = 'it''s'")
            .await
            .expect("insert set");
        assert_eq!(c.affected_rows(), 1);
        let r: Option<(i64, String)> = c
            .query_first("SELECT a, b FROM t WHERE id = 1")
            .await
            .expect("q");
        assert_eq!(r, Some((10, "it's".to_string())));
        c.query_drop("INSERT INTO t (id, a, b) SELECT id + 10, a * 2, b FROM t")
            .await
            .expect("insert select");
        assert_eq!(ids(&mut c, "SELECT a FROM t ORDER BY id").await, [10, 20]);
        // INSERT IGNORE: the duplicate becomes a warning, the other row goes in.
        c.query_drop("INSERT IGNORE INTO t VALUES (1, 5, 'dup'), (2, 7, 'new')")
            .await
            .expect("insert ignore");
        assert_eq!(c.affected_rows(), 1);
        assert_eq!(c.get_warnings(), 1);
        let w: Vec<(String, u16, String)> = c.query("SHOW WARNINGS").await.expect("warnings");
        assert_eq!(
            w,
            [(
                "Warning".to_string(),
                1062,
                "Duplicate entry '1' for key 'PRIMARY'".to_string()
            )]
        );
        assert_eq!(
            ids(&mut c, "SELECT a FROM t ORDER BY id").await,
            [10, 7, 20]
        );
        // INSERT IGNORE … SELECT.
        c.query_drop("INSERT IGNORE INTO t SELECT id + 1, 0, 'sel' FROM t WHERE id IN (1, 11)")
            .await
            .expect("ignore select");
        assert_eq!(c.affected_rows(), 1);
        assert_eq!(c.get_warnings(), 1);
        // Without IGNORE the error is MySQL's, and nothing changes.
        let e = c
            .query_drop("INSERT INTO t SET id = 2, a = 0")
            .await
            .expect_err("duplicate");
        assert_eq!(code(&e), 1062);
        assert!(
            e.to_string()
                .contains("Duplicate entry '2' for key 'PRIMARY'"),
            "{e}"
        );
    });
}

#[test]
fn duplicate_key_messages_name_the_key() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop(
            "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, sku VARCHAR(8), \
             a INT, b INT, UNIQUE KEY u_sku (sku), email VARCHAR(20) UNIQUE)",
        )
        .await
        .expect("create");
        c.query_drop("CREATE UNIQUE INDEX ab ON items (a, b)")
            .await
            .expect("index");
        c.query_drop("INSERT INTO items (sku, a, b, email) VALUES ('x1', 1, 2, 'e@x')")
            .await
            .expect("insert");
        for (sql, want) in [
            (
                "INSERT INTO items (id, sku) VALUES (1, 'x2')",
                "Duplicate entry '1' for key 'PRIMARY'",
            ),
            (
                "INSERT INTO items (sku) VALUES ('x3'), ('x1')",
                "Duplicate entry 'x1' for key 'u_sku'",
            ),
            (
                "INSERT INTO items (sku, email) VALUES ('x4', 'e@x')",
                "Duplicate entry 'e@x' for key 'email'",
            ),
            (
                "INSERT INTO items (sku, a, b) VALUES ('x5', 1, 2)",
                "Duplicate entry '1-2' for key 'ab'",
            ),
        ] {
            let e = c.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), 1062, "{sql}");
            assert!(e.to_string().contains(want), "{sql}: {e}");
        }
    });
}

#[test]
fn update_delete_order_by_limit_and_multi_table_delete() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, n INT)")
            .await
            .expect("create");
        c.query_drop("INSERT INTO t VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)")
            .await
            .expect("insert");
        c.query_drop("UPDATE t SET n = n + 1 WHERE id > 1 ORDER BY id DESC LIMIT 2")
            .await
            .expect("update limit");
        assert_eq!(c.affected_rows(), 2);
        assert_eq!(
            ids(&mut c, "SELECT n FROM t ORDER BY id").await,
            [0, 0, 0, 1, 1]
        );
        c.query_drop("UPDATE t SET n = 9 LIMIT 1")
            .await
            .expect("update limit only");
        assert_eq!(c.affected_rows(), 1);
        c.query_drop("DELETE FROM t ORDER BY id DESC LIMIT 1")
            .await
            .expect("delete limit");
        assert_eq!(c.affected_rows(), 1);
        assert_eq!(
            ids(&mut c, "SELECT id FROM t ORDER BY id").await,
            [1, 2, 3, 4]
        );
        c.query_drop("DELETE FROM t WHERE n = 0 ORDER BY id LIMIT 2")
            .await
            .expect("delete where limit");
        assert_eq!(ids(&mut c, "SELECT id FROM t ORDER BY id").await, [1, 4]);
        // DELETE a FROM a JOIN b.
        c.query_drop("CREATE TABLE gone (id INT)")
            .await
            .expect("create");
        c.query_drop("INSERT INTO gone VALUES (4)")
            .await
            .expect("insert");
        c.query_drop("DELETE t FROM t JOIN gone g ON g.id = t.id")
            .await
            .expect("multi delete");
        assert_eq!(c.affected_rows(), 1);
        assert_eq!(ids(&mut c, "SELECT id FROM t").await, [1]);
        // UPDATE a JOIN b … SET, and the comma form; the target may come second.
        c.query_drop("CREATE TABLE price (id INT, p INT)")
            .await
            .expect("create");
        c.query_drop("INSERT INTO price VALUES (1, 50), (4, 70)")
            .await
            .expect("insert");
        c.query_drop("INSERT INTO t VALUES (4, 0)")
            .await
            .expect("insert");
        c.query_drop(
            "UPDATE t AS x INNER JOIN price AS y ON y.id = x.id SET x.n = y.p + 1 WHERE y.p > 60",
        )
        .await
        .expect("multi update");
        assert_eq!(c.affected_rows(), 1);
        assert_eq!(ids(&mut c, "SELECT n FROM t ORDER BY id").await, [9, 71]);
        c.query_drop("UPDATE price, t SET t.n = price.p WHERE price.id = t.id")
            .await
            .expect("comma update");
        assert_eq!(ids(&mut c, "SELECT n FROM t ORDER BY id").await, [50, 70]);
        c.query_drop("UPDATE price JOIN t ON t.id = price.id SET price.p = t.n * 2")
            .await
            .expect("second table as target");
        assert_eq!(
            ids(&mut c, "SELECT p FROM price ORDER BY id").await,
            [100, 140]
        );
        // With an outer join: unmatched rows take NULLs from the other side.
        c.query_drop("CREATE TABLE flag (id INT PRIMARY KEY, priced INT)").await.expect("create");
        c.query_drop("INSERT INTO flag VALUES (1, NULL), (4, NULL), (9, NULL)").await.expect("insert");
        c.query_drop(
            "UPDATE flag f LEFT JOIN price p ON p.id = f.id SET f.priced = (p.p IS NOT NULL) WHERE f.id < 9",
        )
        .await
        .expect("left join update");
        assert_eq!(c.affected_rows(), 2);
        let v: Vec<(i64, Option<i64>)> = c.query("SELECT id, priced FROM flag ORDER BY id").await.expect("q");
        assert_eq!(v, [(1, Some(1)), (4, Some(1)), (9, None)]);
        c.query_drop("DELETE FROM price WHERE id = 4").await.expect("delete");
        c.query_drop("UPDATE flag LEFT JOIN price ON price.id = flag.id SET priced = price.p")
            .await
            .expect("left join update, unqualified target");
        let v: Vec<(i64, Option<i64>)> = c.query("SELECT id, priced FROM flag ORDER BY id").await.expect("q");
        assert_eq!(v, [(1, Some(100)), (4, None), (9, None)]);
        let e = c
            .query_drop("UPDATE t JOIN price ON price.id = t.id SET t.n = 1, price.p = 1")
            .await
            .expect_err("two targets");
        assert_eq!(code(&e), 1235);
        c.query_drop("DELETE FROM t WHERE id = 4")
            .await
            .expect("delete");
        // Several tables at once: rows chosen first, then deleted from each.
        c.query_drop("CREATE TABLE l (id INT, r INT)")
            .await
            .expect("create");
        c.query_drop("CREATE TABLE r (id INT)")
            .await
            .expect("create");
        c.query_drop("INSERT INTO l VALUES (1, 10), (2, 20), (3, 30)")
            .await
            .expect("insert");
        c.query_drop("INSERT INTO r VALUES (10), (20), (99)")
            .await
            .expect("insert");
        c.query_drop("DELETE l, r FROM l JOIN r ON r.id = l.r WHERE l.id <= 2")
            .await
            .expect("two-table delete");
        assert_eq!(c.affected_rows(), 4);
        assert_eq!(ids(&mut c, "SELECT id FROM l").await, [3]);
        assert_eq!(ids(&mut c, "SELECT id FROM r").await, [99]);
        let e = c
            .query_drop("DELETE x FROM t JOIN gone ON gone.id = t.id")
            .await
            .expect_err("unknown target");
        assert_eq!(code(&e), 1109);
    });
}

#[test]
fn locking_reads_are_accepted() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
            .await
            .expect("create");
        c.query_drop("INSERT INTO t VALUES (1), (2)")
            .await
            .expect("insert");
        c.query_drop("BEGIN").await.expect("begin");
        for q in [
            "SELECT id FROM t WHERE id = 2 FOR UPDATE",
            "SELECT id FROM t WHERE id = 2 LOCK IN SHARE MODE",
            "SELECT id FROM t WHERE id = 2 FOR SHARE",
            "SELECT id FROM t WHERE id = 2 FOR UPDATE NOWAIT",
        ] {
            assert_eq!(ids(&mut c, q).await, [2], "{q}");
        }
        c.query_drop("COMMIT").await.expect("commit");
        // Prepared, too.
        let v: Vec<i64> = c
            .exec("SELECT id FROM t WHERE id = ? FOR UPDATE", (1,))
            .await
            .expect("prepared");
        assert_eq!(v, [1]);
    });
}

#[test]
fn create_like_rename_and_create_as_select() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop(
            "CREATE TABLE t1 (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, \
             KEY by_name (name), UNIQUE KEY u (name))",
        )
        .await
        .expect("create");
        c.query_drop("INSERT INTO t1 (name) VALUES ('a'), ('b')")
            .await
            .expect("insert");
        c.query_drop("CREATE TABLE t2 LIKE t1").await.expect("like");
        let n: Option<i64> = c
            .query_first("SELECT count(*) FROM t2")
            .await
            .expect("count");
        assert_eq!(n, Some(0));
        // The copy has the keys: auto-increment, NOT NULL, the unique key.
        c.query_drop("INSERT INTO t2 (name) VALUES ('z')")
            .await
            .expect("insert");
        assert_eq!(c.last_insert_id(), Some(1));
        assert_eq!(
            code(
                &c.query_drop("INSERT INTO t2 (name) VALUES (NULL)")
                    .await
                    .expect_err("null")
            ),
            1048
        );
        let e = c
            .query_drop("INSERT INTO t2 (name) VALUES ('z')")
            .await
            .expect_err("dup");
        assert!(e.to_string().contains("for key 'u'"), "{e}");
        c.query_drop("DROP INDEX by_name ON t2")
            .await
            .expect("the copied index exists");
        assert_eq!(
            code(
                &c.query_drop("CREATE TABLE t2 LIKE t1")
                    .await
                    .expect_err("exists")
            ),
            1050
        );
        c.query_drop("CREATE TABLE IF NOT EXISTS t2 LIKE t1")
            .await
            .expect("if not exists");
        assert_eq!(
            code(
                &c.query_drop("CREATE TABLE t3 LIKE nope")
                    .await
                    .expect_err("no source")
            ),
            1146
        );
        // CREATE TABLE … AS SELECT.
        c.query_drop("CREATE TABLE t3 AS SELECT id, name FROM t1 WHERE id > 1")
            .await
            .expect("as select");
        let v: Vec<(i64, String)> = c.query("SELECT id, name FROM t3").await.expect("q");
        assert_eq!(v, [(2, "b".to_string())]);
        // RENAME TABLE, several at once; ALTER TABLE … RENAME.
        c.query_drop("RENAME TABLE t1 TO a1, t3 TO a3")
            .await
            .expect("rename");
        let tables: Vec<String> = c.query("SHOW TABLES").await.expect("tables");
        assert_eq!(tables, ["a1", "a3", "t2"]);
        c.query_drop("DROP INDEX by_name ON a1")
            .await
            .expect("index followed the rename");
        c.query_drop("ALTER TABLE a3 RENAME TO b3")
            .await
            .expect("alter rename");
        c.query_drop("ALTER TABLE b3 RENAME c3")
            .await
            .expect("alter rename");
        let n: Option<i64> = c
            .query_first("SELECT count(*) FROM c3")
            .await
            .expect("count");
        assert_eq!(n, Some(1));
        // All or nothing: the second pair fails, the first is undone.
        let e = c
            .query_drop("RENAME TABLE a1 TO z1, nope TO z2")
            .await
            .expect_err("missing");
        assert_eq!(code(&e), 1146);
        let tables: Vec<String> = c.query("SHOW TABLES").await.expect("tables");
        assert_eq!(tables, ["a1", "c3", "t2"]);
        let e = c
            .query_drop("RENAME TABLE a1 TO t2")
            .await
            .expect_err("exists");
        assert_eq!(code(&e), 1050);
    });
}

#[test]
fn alter_table_rebuilds_keep_data_and_keys() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop(
            "CREATE TABLE p (id INT AUTO_INCREMENT PRIMARY KEY, qty VARCHAR(10), note TEXT, KEY by_qty (qty))",
        )
        .await
        .expect("create");
        c.query_drop("INSERT INTO p (qty, note) VALUES ('5', 'x'), ('7', NULL)")
            .await
            .expect("insert");
        // Several alterations in one statement, one rebuild.
        c.query_drop(
            "ALTER TABLE p MODIFY COLUMN qty INT NOT NULL DEFAULT 0, \
             CHANGE note remark VARCHAR(50), ADD COLUMN added INT DEFAULT 3 FIRST, \
             ADD INDEX by_remark (remark), ENGINE=InnoDB",
        )
        .await
        .expect("alter");
        let cols: Vec<String> = c
            .query("SELECT name FROM pragma_table_info('p') ORDER BY cid")
            .await
            .expect("cols");
        assert_eq!(cols, ["added", "id", "qty", "remark"]);
        let ty: Option<String> = c
            .query_first("SELECT type FROM pragma_table_info('p') WHERE name = 'qty'")
            .await
            .expect("type");
        assert_eq!(ty.as_deref(), Some("INT"));
        let v: Vec<(i64, i64, i64, Option<String>)> = c
            .query("SELECT added, id, qty, remark FROM p ORDER BY id")
            .await
            .expect("rows");
        assert_eq!(v, [(3, 1, 5, Some("x".into())), (3, 2, 7, None)]);
        // The stored value has the new type: qty is an integer now.
        let t: Option<String> = c.query_first("SELECT typeof(qty) FROM p LIMIT 1").await.expect("typeof");
        assert_eq!(t.as_deref(), Some("integer"));
        // Keys survive: auto-increment primary key, NOT NULL, old and new indexes.
        c.query_drop("INSERT INTO p (qty) VALUES (1)").await.expect("insert");
        assert_eq!(c.last_insert_id(), Some(3));
        let e = c.query_drop("INSERT INTO p (id, qty) VALUES (1, 1)").await.expect_err("dup");
        assert!(e.to_string().contains("for key 'PRIMARY'"), "{e}");
        assert_eq!(code(&c.query_drop("INSERT INTO p (qty) VALUES (NULL)").await.expect_err("null")), 1048);
        // A view over the table survives a rebuild.
        c.query_drop("CREATE VIEW pv AS SELECT id, qty FROM p").await.expect("view");
        c.query_drop("ALTER TABLE p MODIFY qty BIGINT NOT NULL").await.expect("rebuild under a view");
        assert_eq!(ids(&mut c, "SELECT qty FROM pv ORDER BY id").await, [5, 7, 1]);
        // Defaults.
        c.query_drop("ALTER TABLE p ALTER COLUMN added SET DEFAULT 42, ALTER qty DROP DEFAULT")
            .await
            .expect("defaults");
        c.query_drop("INSERT INTO p (id, qty) VALUES (10, 1)").await.expect("insert");
        let a: Option<i64> = c.query_first("SELECT added FROM p WHERE id = 10").await.expect("q");
        assert_eq!(a, Some(42));
        // Indexes by MySQL name, then unknown ones.
        c.query_drop("ALTER TABLE p DROP INDEX by_qty, DROP INDEX by_remark")
            .await
            .expect("drop indexes");
        let e = c.query_drop("ALTER TABLE p DROP INDEX by_qty").await.expect_err("gone");
        assert_eq!(code(&e), 1091);
        // ADD UNIQUE / PRIMARY KEY.
        c.query_drop("CREATE TABLE k (a INT, b INT)").await.expect("create");
        c.query_drop("INSERT INTO k VALUES (1, 1), (2, 1)").await.expect("insert");
        c.query_drop("ALTER TABLE k ADD PRIMARY KEY (a), ADD UNIQUE KEY ub (b, a)")
            .await
            .expect("keys");
        let e = c.query_drop("INSERT INTO k VALUES (1, 5)").await.expect_err("pk");
        assert!(e.to_string().contains("Duplicate entry '1' for key 'PRIMARY'"), "{e}");
        let e = c.query_drop("ALTER TABLE k ADD PRIMARY KEY (b)").await.expect_err("two pks");
        assert_eq!(code(&e), 1068);
        let e = c.query_drop("ALTER TABLE k ADD INDEX ub (a)").await.expect_err("dup name");
        assert_eq!(code(&e), 1061);
        // Errors leave the table as it was (one savepoint).
        let e = c
            .query_drop("ALTER TABLE k DROP COLUMN b, MODIFY nope INT")
            .await
            .expect_err("unknown column");
        assert_eq!(code(&e), 1054);
        let n: Option<i64> = c.query_first("SELECT count(*) FROM pragma_table_info('k')").await.expect("q");
        assert_eq!(n, Some(2));
        c.query_drop("ALTER TABLE k DROP COLUMN b").await.expect("drop column");
        // A NOT NULL column without a default: existing rows get the implicit default.
        c.query_drop("ALTER TABLE k ADD COLUMN z VARCHAR(5) NOT NULL, ADD COLUMN y INT NOT NULL")
            .await
            .expect("not null columns");
        let v: Vec<(i64, String, i64)> = c.query("SELECT a, z, y FROM k ORDER BY a").await.expect("q");
        assert_eq!(v, [(1, String::new(), 0), (2, String::new(), 0)]);
        c.query_drop("ALTER TABLE k DROP COLUMN z, DROP COLUMN y").await.expect("drop");
        let e = c.query_drop("ALTER TABLE k DROP COLUMN b").await.expect_err("gone");
        assert_eq!(code(&e), 1091);
        let e = c.query_drop("ALTER TABLE k ADD COLUMN a INT").await.expect_err("dup column");
        assert_eq!(code(&e), 1060);
        let e = c.query_drop("ALTER TABLE nope ADD COLUMN a INT").await.expect_err("no table");
        assert_eq!(code(&e), 1146);
        assert!(e.to_string().contains("'shop.nope'"), "{e}");
        // ALTER TABLE in another database, by qualified name.
        c.query_drop("CREATE DATABASE other").await.expect("db");
        c.query_drop("CREATE TABLE other.o (x INT)").await.expect("create");
        c.query_drop("INSERT INTO other.o VALUES (1)").await.expect("insert");
        c.query_drop("ALTER TABLE other.o MODIFY x VARCHAR(5), ADD y INT DEFAULT 2")
            .await
            .expect("alter other");
        let v: Option<(String, i64)> = c.query_first("SELECT x, y FROM other.o").await.expect("q");
        assert_eq!(v, Some(("1".to_string(), 2)));
    });
}

#[test]
fn index_errors_name_the_database() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop("CREATE TABLE t (c INT)")
            .await
            .expect("create");
        let e = c
            .query_drop("CREATE INDEX i ON t2 (c)")
            .await
            .expect_err("no table");
        assert_eq!(code(&e), 1146);
        assert!(
            e.to_string().contains("Table 'shop.t2' doesn't exist"),
            "{e}"
        );
        let e = c
            .query_drop("DROP INDEX i ON t")
            .await
            .expect_err("no index");
        assert_eq!(code(&e), 1091);
        assert!(
            e.to_string()
                .contains("Can't DROP 'i'; check that column/key exists"),
            "{e}"
        );
        c.query_drop("CREATE INDEX i ON t (c)")
            .await
            .expect("index");
        c.query_drop("DROP INDEX i ON t").await.expect("drop");
    });
}

#[test]
fn table_maintenance_result_sets() {
    let s = TestServer::start();
    let Some(o) = s.mariadb(
        &[
            "--batch",
            "-e",
            "CREATE DATABASE shop; USE shop; CREATE TABLE t (id INT PRIMARY KEY, v TEXT); \
             INSERT INTO t VALUES (1, 'a'); CHECK TABLE t, nope; ANALYZE TABLE t; \
             OPTIMIZE TABLE t; REPAIR TABLE shop.t; CHECKSUM TABLE t;",
        ],
        None,
    ) else {
        return;
    };
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "Table\tOp\tMsg_type\tMsg_text\nshop.t\tcheck\tstatus\tOK\n\
             shop.nope\tcheck\tError\tTable 'shop.nope' doesn't exist\n\
             shop.nope\tcheck\tstatus\tOperation failed\n"
        ),
        "{out}"
    );
    for op in ["analyze", "optimize", "repair"] {
        assert!(
            out.contains(&format!("shop.t\t{op}\tstatus\tOK\n")),
            "{out}"
        );
    }
    assert!(out.contains("Table\tChecksum\nshop.t\t"), "{out}");
}

#[test]
fn temporary_tables_are_private_to_the_session() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut a = shop(&s).await;
        let mut b = connect(&s.url_db("shop")).await;
        a.query_drop("CREATE TABLE t (x INT)")
            .await
            .expect("create");
        a.query_drop("INSERT INTO t VALUES (1)")
            .await
            .expect("insert");
        // A temporary table shadows the permanent one, for its session only.
        a.query_drop("CREATE TEMPORARY TABLE t (x INT)")
            .await
            .expect("temp");
        a.query_drop("INSERT INTO t VALUES (2), (3)")
            .await
            .expect("insert");
        assert_eq!(ids(&mut a, "SELECT x FROM t ORDER BY x").await, [2, 3]);
        assert_eq!(ids(&mut b, "SELECT x FROM t").await, [1]);
        a.query_drop("CREATE TEMPORARY TABLE tmp (y INT)")
            .await
            .expect("temp");
        let e = b
            .query_drop("SELECT * FROM tmp")
            .await
            .expect_err("invisible");
        assert_eq!(code(&e), 1146);
        let tables: Vec<String> = a.query("SHOW TABLES").await.expect("tables");
        assert_eq!(tables, ["t"]);
        a.query_drop("CREATE TEMPORARY TABLE tk (id INT PRIMARY KEY)")
            .await
            .expect("temp");
        a.query_drop("INSERT INTO tk VALUES (7)")
            .await
            .expect("insert");
        let e = a
            .query_drop("INSERT INTO tk VALUES (7)")
            .await
            .expect_err("dup");
        assert!(
            e.to_string()
                .contains("Duplicate entry '7' for key 'PRIMARY'"),
            "{e}"
        );
        // DROP TEMPORARY TABLE drops only temporary tables.
        a.query_drop("DROP TEMPORARY TABLE t")
            .await
            .expect("drop temp");
        assert_eq!(ids(&mut a, "SELECT x FROM t").await, [1]);
        let e = a
            .query_drop("DROP TEMPORARY TABLE t")
            .await
            .expect_err("not temporary");
        assert_eq!(code(&e), 1051);
        a.query_drop("DROP TEMPORARY TABLE IF EXISTS t")
            .await
            .expect("if exists");
        // Gone at disconnect.
        a.disconnect().await.expect("disconnect");
        let mut a = connect(&s.url_db("shop")).await;
        let e = a.query_drop("SELECT * FROM tmp").await.expect_err("gone");
        assert_eq!(code(&e), 1146);
    });
}

#[test]
fn information_schema_keys_collations_and_xa() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop(
            "CREATE TABLE p (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(20) UNIQUE, \
             a INT, b INT NOT NULL, KEY ab (a, b), CONSTRAINT uq UNIQUE (b))",
        )
        .await
        .expect("create");
        c.query_drop("CREATE TABLE c (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES p(id))")
            .await
            .expect("create");
        c.query_drop("ALTER TABLE c ADD INDEX by_pid (pid)").await.expect("index");
        type Stat = (String, i64, String, i64, String, String);
        let v: Vec<Stat> = c
            .query(
                "SELECT TABLE_NAME, NON_UNIQUE, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NULLABLE \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'shop' \
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            )
            .await
            .expect("statistics");
        let row = |t: &str, nu: i64, i: &str, seq: i64, col: &str, null: &str| {
            (t.to_string(), nu, i.to_string(), seq, col.to_string(), null.to_string())
        };
        assert_eq!(
            v,
            [
                row("c", 0, "PRIMARY", 1, "id", ""),
                row("c", 1, "by_pid", 1, "pid", "YES"),
                row("p", 0, "PRIMARY", 1, "id", ""),
                row("p", 1, "ab", 1, "a", "YES"),
                row("p", 1, "ab", 2, "b", ""),
                row("p", 0, "email", 1, "email", "YES"),
                row("p", 0, "uq", 1, "b", ""),
            ]
        );
        type Kcu = (String, String, String, Option<String>, Option<String>);
        let v: Vec<Kcu> = c
            .query(
                "SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
                 FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'shop' \
                 ORDER BY TABLE_NAME, CONSTRAINT_NAME",
            )
            .await
            .expect("key_column_usage");
        let k = |n: &str, t: &str, col: &str, rt: Option<&str>, rc: Option<&str>| {
            (n.to_string(), t.to_string(), col.to_string(), rt.map(str::to_string), rc.map(str::to_string))
        };
        assert_eq!(
            v,
            [
                k("PRIMARY", "c", "id", None, None),
                k("c_ibfk_1", "c", "pid", Some("p"), Some("id")),
                k("PRIMARY", "p", "id", None, None),
                k("email", "p", "email", None, None),
                k("uq", "p", "b", None, None),
            ]
        );
        type Tc = (String, String, String);
        let v: Vec<Tc> = c
            .query(
                "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS \
                 WHERE TABLE_SCHEMA = 'shop' ORDER BY TABLE_NAME, CONSTRAINT_NAME",
            )
            .await
            .expect("table_constraints");
        let tc = |t: &str, n: &str, k: &str| (t.to_string(), n.to_string(), k.to_string());
        assert_eq!(
            v,
            [
                tc("c", "PRIMARY", "PRIMARY KEY"),
                tc("c", "c_ibfk_1", "FOREIGN KEY"),
                tc("p", "PRIMARY", "PRIMARY KEY"),
                tc("p", "email", "UNIQUE"),
                tc("p", "uq", "UNIQUE"),
            ]
        );
        let v: Vec<(String, String, String, String, String)> = c
            .query(
                "SELECT CONSTRAINT_NAME, UNIQUE_CONSTRAINT_NAME, DELETE_RULE, TABLE_NAME, REFERENCED_TABLE_NAME \
                 FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'shop'",
            )
            .await
            .expect("referential_constraints");
        assert_eq!(
            v,
            [(
                "c_ibfk_1".to_string(),
                "PRIMARY".to_string(),
                "NO ACTION".to_string(),
                "c".to_string(),
                "p".to_string()
            )]
        );
        // SHOW COLLATION with LIKE and WHERE.
        let v: Vec<(String, String, i64, String)> = c
            .query("SHOW COLLATION LIKE 'utf8mb4\\_b%'")
            .await
            .map(|rows: Vec<(String, String, i64, String, String, i64, String)>| {
                rows.into_iter().map(|r| (r.0, r.1, r.2, r.3)).collect()
            })
            .expect("collation");
        assert_eq!(v, [("utf8mb4_bin".to_string(), "utf8mb4".to_string(), 46, String::new())]);
        let n = c
            .query_iter("SHOW COLLATION WHERE `Default` = 'Yes' AND Charset IN ('latin1', 'utf8mb4')")
            .await
            .expect("where")
            .collect::<mysql_async::Row>()
            .await
            .expect("rows")
            .len();
        assert_eq!(n, 2);
        let e = c.query_drop("XA START 'x'").await.expect_err("xa");
        assert_eq!(code(&e), 1235);
    });
}

#[test]
fn ignore_turns_errors_into_warnings() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop(
            "CREATE TABLE t (id INT NOT NULL, v VARCHAR(5) NOT NULL DEFAULT 'd', n INT NOT NULL, PRIMARY KEY (id))",
        )
        .await
        .expect("create");
        c.query_drop("INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)")
            .await
            .expect("insert");
        // INSERT IGNORE: NULL into NOT NULL stores the type's implicit default.
        c.query_drop("INSERT IGNORE INTO t (id, v, n) VALUES (4, NULL, NULL)")
            .await
            .expect("insert ignore null");
        assert_eq!(c.affected_rows(), 1);
        assert_eq!(c.get_warnings(), 2);
        let w: Vec<(String, u16, String)> = c.query("SHOW WARNINGS").await.expect("warnings");
        let codes: Vec<(u16, String)> = w.into_iter().map(|r| (r.1, r.2)).collect();
        assert_eq!(
            codes,
            [
                (1048, "Column 'v' cannot be null".to_string()),
                (1048, "Column 'n' cannot be null".to_string())
            ]
        );
        let r: Option<(String, i64)> = c.query_first("SELECT v, n FROM t WHERE id = 4").await.expect("q");
        assert_eq!(r, Some((String::new(), 0)));
        // UPDATE IGNORE: the row that would collide keeps its values.
        c.query_drop("UPDATE IGNORE t SET id = id * 2 WHERE id IN (1, 3) ORDER BY id")
            .await
            .expect("update ignore");
        assert_eq!(c.affected_rows(), 1);
        let w: Vec<(String, u16, String)> = c.query("SHOW WARNINGS").await.expect("warnings");
        let msgs: Vec<String> = w.into_iter().map(|r| r.2).collect();
        assert_eq!(
            msgs,
            ["Duplicate entry '2' for key 'PRIMARY'"]
        );
        assert_eq!(ids(&mut c, "SELECT id FROM t ORDER BY id").await, [1, 2, 4, 6]);
        // A plain UPDATE names the duplicate entry as well.
        let e = c.query_drop("UPDATE t SET id = 6 WHERE id = 1").await.expect_err("dup");
        assert!(e.to_string().contains("Duplicate entry '6' for key 'PRIMARY'"), "{e}");
        // Prepared statements too.
        let e = c
            .exec_drop("INSERT INTO t (id, v, n) VALUES (?, ?, ?)", (2, "x", 1))
            .await
            .expect_err("dup");
        assert!(e.to_string().contains("Duplicate entry '2' for key 'PRIMARY'"), "{e}");
        // CREATE TABLE … SELECT without AS.
        c.query_drop("CREATE TABLE copy SELECT id, v FROM t WHERE id > 2")
            .await
            .expect("create select");
        assert_eq!(ids(&mut c, "SELECT id FROM copy ORDER BY id").await, [4, 6]);
    });
}

#[test]
fn temporary_tables_survive_use() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop("CREATE DATABASE other").await.expect("db");
        c.query_drop("CREATE TEMPORARY TABLE tt (id INT PRIMARY KEY, v TEXT)")
            .await
            .expect("temp");
        c.query_drop("CREATE INDEX tt_v ON tt (v)")
            .await
            .expect("index");
        c.query_drop("INSERT INTO tt VALUES (1, 'a'), (2, NULL)")
            .await
            .expect("insert");
        c.query_drop("USE other").await.expect("use");
        c.query_drop("USE shop").await.expect("use");
        let v: Vec<(i64, Option<String>)> = c
            .query("SELECT id, v FROM tt ORDER BY id")
            .await
            .expect("q");
        assert_eq!(v, [(1, Some("a".into())), (2, None)]);
        let e = c
            .query_drop("INSERT INTO tt VALUES (1, 'z')")
            .await
            .expect_err("key kept");
        assert_eq!(code(&e), 1062);
        // The index came along.
        c.query_drop("DROP INDEX tt_v ON tt")
            .await
            .expect("index kept");
    });
}

#[test]
fn mysql_insert_forms_defaults_and_modifiers() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop(
            "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, a INT DEFAULT 7, b VARCHAR(20) DEFAULT 'x')",
        )
        .await
        .expect("create");
        for q in [
            "INSERT INTO t () VALUES ()",
            "INSERT INTO t VALUES ()",
            "INSERT INTO t (a) VALUE (1)",
            "INSERT INTO t (a, b) VALUES (DEFAULT, 'q'), (2, DEFAULT)",
            "INSERT INTO t SET a = DEFAULT, b = 'r'",
            "INSERT LOW_PRIORITY INTO t (a) VALUES (3)",
            "INSERT DELAYED INTO t (a) VALUES (4)",
            "INSERT HIGH_PRIORITY IGNORE INTO t (a) VALUES (5)",
        ] {
            c.query_drop(q).await.expect(q);
            assert_eq!(c.affected_rows(), if q.contains("), (") { 2 } else { 1 }, "{q}");
        }
        type Row = (i64, i64, String);
        let v: Vec<Row> = c.query("SELECT id, a, b FROM t ORDER BY id").await.expect("rows");
        let r = |id: i64, a: i64, b: &str| (id, a, b.to_string());
        assert_eq!(
            v,
            [
                r(1, 7, "x"),
                r(2, 7, "x"),
                r(3, 1, "x"),
                r(4, 7, "q"),
                r(5, 2, "x"),
                r(6, 7, "r"),
                r(7, 3, "x"),
                r(8, 4, "x"),
                r(9, 5, "x"),
            ]
        );
        // UPDATE … = DEFAULT, DELETE QUICK / LOW_PRIORITY.
        c.query_drop("UPDATE LOW_PRIORITY t SET a = DEFAULT, b = 'u' WHERE id = 3")
            .await
            .expect("update default");
        let v: Option<(i64, String)> = c.query_first("SELECT a, b FROM t WHERE id = 3").await.expect("q");
        assert_eq!(v, Some((7, "u".to_string())));
        c.query_drop("DELETE LOW_PRIORITY QUICK FROM t WHERE id > 6")
            .await
            .expect("delete quick");
        assert_eq!(c.affected_rows(), 3);
        // The MySQL 8 row alias in ON DUPLICATE KEY UPDATE.
        c.query_drop("INSERT INTO t (id, a) VALUES (1, 5) AS new ON DUPLICATE KEY UPDATE a = new.a + 100")
            .await
            .expect("row alias");
        let a: Option<i64> = c.query_first("SELECT a FROM t WHERE id = 1").await.expect("q");
        assert_eq!(a, Some(105));
        // Prepared statements get the same adaptations.
        c.exec_drop("INSERT LOW_PRIORITY INTO t (a) VALUE (?)", (41,))
            .await
            .expect("prepared value");
        c.exec_drop("INSERT INTO t SET a = ?, b = ?", (42, "p"))
            .await
            .expect("prepared set");
        let v: Vec<i64> = c.exec("SELECT a FROM t WHERE a BETWEEN ? AND 50 ORDER BY a", (40,)).await.expect("q");
        assert_eq!(v, [41, 42]);
        // A changed default is seen by the same text run again (not a stale cached plan).
        c.query_drop("ALTER TABLE t ALTER COLUMN a SET DEFAULT 8").await.expect("alter");
        c.query_drop("INSERT INTO t SET a = DEFAULT, b = 'r'").await.expect("again");
        let a: Option<i64> = c.query_first("SELECT a FROM t ORDER BY id DESC LIMIT 1").await.expect("q");
        assert_eq!(a, Some(8));
    });
}

#[test]
fn drop_tables_and_create_index_forms() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop("CREATE TABLE a (x INT, s VARCHAR(40))").await.expect("create");
        c.query_drop("CREATE TABLE b (x INT)").await.expect("create");
        // MySQL's index forms: USING, prefix lengths, DESC, IF NOT EXISTS.
        c.query_drop("CREATE INDEX i USING BTREE ON a (s(10))").await.expect("using");
        c.query_drop("CREATE UNIQUE INDEX u ON a (x DESC, s(5)) USING HASH").await.expect("unique");
        let e = c.query_drop("CREATE INDEX i ON a (x)").await.expect_err("dup");
        assert_eq!(code(&e), 1061);
        c.query_drop("CREATE INDEX IF NOT EXISTS i ON a (x)").await.expect("if not exists");
        c.query_drop("INSERT INTO a VALUES (1, 'p')").await.expect("insert");
        let e = c.query_drop("INSERT INTO a VALUES (1, 'p')").await.expect_err("unique");
        assert!(e.to_string().contains("Duplicate entry '1-p' for key 'u'"), "{e}");
        // DROP TABLE of several tables, all or nothing.
        let e = c.query_drop("DROP TABLE a, nope, b").await.expect_err("unknown");
        assert_eq!(code(&e), 1051);
        assert!(e.to_string().contains("Unknown table 'shop.nope'"), "{e}");
        let tables: Vec<String> = c.query("SHOW TABLES").await.expect("tables");
        assert_eq!(tables, ["a", "b"]);
        c.query_drop("DROP TABLE IF EXISTS a, nope, b CASCADE").await.expect("if exists");
        assert_eq!(c.get_warnings(), 1);
        let tables: Vec<String> = c.query("SHOW TABLES").await.expect("tables");
        assert!(tables.is_empty(), "{tables:?}");
        // CREATE TABLE IF NOT EXISTS on an existing table: a note, nothing changes.
        c.query_drop("CREATE TABLE a (x INT)").await.expect("create");
        c.query_drop("CREATE TABLE IF NOT EXISTS a (y INT)").await.expect("exists");
        assert_eq!(c.get_warnings(), 1);
        let cols: Vec<String> = c.query("SELECT name FROM pragma_table_info('a')").await.expect("q");
        assert_eq!(cols, ["x"]);
        // ADD COLUMN with a non-constant default.
        c.query_drop("INSERT INTO a VALUES (1)").await.expect("insert");
        c.query_drop("ALTER TABLE a ADD COLUMN d DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP")
            .await
            .expect("non-constant default");
        let d: Option<Option<String>> = c.query_first("SELECT d FROM a").await.expect("q");
        assert!(d.flatten().is_some_and(|d| d.len() == 19));
    });
}

#[test]
fn auto_increment_counter_through_alter_and_truncate() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = shop(&s).await;
        c.query_drop("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
            .await
            .expect("create");
        c.query_drop("INSERT INTO t (v) VALUES (1), (2), (3)")
            .await
            .expect("insert");
        c.query_drop("DELETE FROM t WHERE id = 3")
            .await
            .expect("delete");
        // A rebuild keeps the counter: id 3 stays used, as in MySQL.
        c.query_drop("ALTER TABLE t MODIFY v BIGINT")
            .await
            .expect("rebuild");
        c.query_drop("INSERT INTO t (v) VALUES (4)")
            .await
            .expect("insert");
        assert_eq!(c.last_insert_id(), Some(4));
        // AUTO_INCREMENT = n, also among other table options.
        c.query_drop("ALTER TABLE t ENGINE=InnoDB AUTO_INCREMENT=100")
            .await
            .expect("counter");
        c.query_drop("INSERT INTO t (v) VALUES (5)")
            .await
            .expect("insert");
        assert_eq!(c.last_insert_id(), Some(100));
        // Never below the largest id.
        c.query_drop("ALTER TABLE t AUTO_INCREMENT = 2")
            .await
            .expect("counter");
        c.query_drop("INSERT INTO t (v) VALUES (6)")
            .await
            .expect("insert");
        assert_eq!(c.last_insert_id(), Some(101));
        // TRUNCATE empties and restarts the counter.
        c.query_drop("TRUNCATE TABLE t").await.expect("truncate");
        c.query_drop("INSERT INTO t (v) VALUES (7)")
            .await
            .expect("insert");
        assert_eq!(c.last_insert_id(), Some(1));
        c.query_drop("TRUNCATE t")
            .await
            .expect("truncate without TABLE");
        let n: Option<i64> = c
            .query_first("SELECT count(*) FROM t")
            .await
            .expect("count");
        assert_eq!(n, Some(0));
        // mariadb-dump's CREATE TABLE … AUTO_INCREMENT=n.
        c.query_drop(
            "CREATE TABLE d (`id` int(11) NOT NULL AUTO_INCREMENT, PRIMARY KEY (`id`)) \
             ENGINE=InnoDB AUTO_INCREMENT=57 DEFAULT CHARSET=utf8mb4",
        )
        .await
        .expect("create with counter");
        c.query_drop("INSERT INTO d VALUES ()")
            .await
            .expect("insert");
        assert_eq!(c.last_insert_id(), Some(57));
        let e = c
            .query_drop("TRUNCATE TABLE nope")
            .await
            .expect_err("missing");
        assert_eq!(code(&e), 1146);
    });
}

/// A string or blob larger than max_allowed_packet is refused with a clear error
/// instead of being built (SELECT zeroblob(1e9) used to allocate gigabytes), and the
/// session goes on.
#[test]
fn results_larger_than_max_allowed_packet_are_refused() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = Conn::new(Opts::from_url(&s.url()).expect("url"))
            .await
            .expect("connect");
        let e = c
            .query_drop("SELECT zeroblob(999999999)")
            .await
            .expect_err("too big");
        assert_eq!(code(&e), 1301, "{e}");
        // MySQL's own functions answer NULL past max_allowed_packet.
        let null: Option<i64> = c
            .query_first("SELECT REPEAT('x', 100000000) IS NULL")
            .await
            .expect("repeat");
        assert_eq!(null, Some(1));
        let e = c
            .query_drop("SELECT zeroblob(40000000) || zeroblob(40000000)")
            .await
            .expect_err("too big");
        assert_eq!(code(&e), 1301, "{e}");
        let n: Option<i64> = c
            .query_first("SELECT LENGTH(REPEAT('x', 1000000))")
            .await
            .expect("a megabyte is fine");
        assert_eq!(n, Some(1_000_000));
    });
}

/// DDL on the tables the server reads itself is refused as in MySQL 8 (3554; 3552 for
/// the schema), and root can still log in afterwards; DML on them stays allowed.
#[test]
fn system_tables_refuse_ddl_and_accounts_survive() {
    let s = TestServer::start();
    rt().block_on(async {
        let mut c = Conn::new(Opts::from_url(&s.url()).expect("url"))
            .await
            .expect("connect");
        for (sql, want) in [
            ("DROP TABLE mysql.user", 3554),
            ("TRUNCATE TABLE mysql.user", 3554),
            ("ALTER TABLE mysql.plugin ADD COLUMN x INT", 3554),
            ("RENAME TABLE mysql.func TO mysql.f2", 3554),
            ("DROP DATABASE mysql", 3552),
        ] {
            let e = c.query_drop(sql).await.expect_err(sql);
            assert_eq!(code(&e), want, "{sql}: {e}");
        }
        c.query_drop("USE mysql").await.expect("use");
        let e = c
            .query_drop("DROP TABLE user")
            .await
            .expect_err("unqualified");
        assert_eq!(code(&e), 3554, "{e}");
        let n: Option<i64> = c
            .query_first("SELECT COUNT(*) FROM mysql.user WHERE user = 'root'")
            .await
            .expect("select");
        assert_eq!(n, Some(1));
        // A fresh login still works.
        let mut again = Conn::new(Opts::from_url(&s.url()).expect("url"))
            .await
            .expect("root still logs in");
        again.query_drop("SELECT 1").await.expect("select");
    });
}
