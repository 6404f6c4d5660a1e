//! Result column types and values against the real thing: the same table
//! (many column types), rows and SELECTs on a private MariaDB and on minnowd,
//! through mysql_async (text and prepared statements) and PyMySQL.

/// Unused parts of the shared starter (e.g. the socket path) are for the console's tests.
#[allow(dead_code)]
#[path = "util/mariadb.rs"]
mod mariadb;
mod util;

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, Value};

use util::{TestServer, temp_dir};

const SETUP: &[&str] = &[
    "CREATE DATABASE ty",
    "USE ty",
    "CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, ti TINYINT UNSIGNED, \
     si SMALLINT, mi MEDIUMINT, i INT NOT NULL, bi BIGINT, bu BIGINT UNSIGNED, \
     d DECIMAL(10,2), d3 DECIMAL(6,3), f FLOAT, db DOUBLE, dt DATETIME, da DATE, \
     tm TIME, y YEAR, c CHAR(5), vc VARCHAR(20), tx TEXT, b BLOB, vb VARBINARY(8), KEY (si))",
    "INSERT INTO t VALUES (NULL, 200, -5, 70000, 7, 1234567890123, 42, 1.5, 2.5, 1.25, 0.1, \
     '2024-01-02 03:04:05', '2024-01-02', '12:34:56', 2024, 'ab', 'hello', 'text', 'blob', 'vb')",
    "INSERT INTO t VALUES (NULL, NULL, NULL, NULL, 8, NULL, NULL, -3.25, NULL, NULL, 2.5e10, \
     NULL, NULL, '-01:30:00', NULL, NULL, NULL, NULL, NULL, NULL)",
];

/// Statements compared; `true`: values too (not only column metadata).
const QUERIES: &[(&str, bool)] = &[
    ("SELECT * FROM t ORDER BY id", true),
    (
        "SELECT id, d AS amount, dt, da, tm FROM t WHERE id = 1",
        true,
    ),
    (
        "SELECT COUNT(*), SUM(d), AVG(d), SUM(i), AVG(i), MIN(d), MAX(dt), SUM(db) FROM t",
        true,
    ),
    (
        "SELECT d*2, d+1.5, d*d, d/4, i+1, i/2, db*2, 1, 1.5, CONCAT(c, vc), LENGTH(c), YEAR(dt) \
         FROM t ORDER BY id",
        true,
    ),
    (
        "SELECT DATE(dt), DATE_ADD(dt, INTERVAL 1 DAY), DATE_ADD(da, INTERVAL 1 MONTH), \
         DATE_SUB(dt, INTERVAL 2 HOUR), TIMEDIFF(tm, '01:00:00'), \
         TIMEDIFF(dt, '2024-01-01 00:00:00') FROM t ORDER BY id",
        true,
    ),
    (
        "SELECT SUM(d3), AVG(ti), MAX(tm), MIN(da), COUNT(d), SUM(bi), MAX(vc) FROM t",
        true,
    ),
    (
        "SELECT i DIV 2, -d, ROUND(d, 1), CAST(i AS DECIMAL(8,3)), d3 + d, ti * 2, y \
         FROM t ORDER BY id",
        true,
    ),
    ("SELECT NOW(), CURDATE(), CURTIME()", false),
];

/// Flags whose difference matters to clients.
fn flags_that_matter(f: ColumnFlags) -> ColumnFlags {
    f & (ColumnFlags::NOT_NULL_FLAG
        | ColumnFlags::UNSIGNED_FLAG
        | ColumnFlags::PRI_KEY_FLAG
        | ColumnFlags::BINARY_FLAG
        | ColumnFlags::BLOB_FLAG
        | ColumnFlags::AUTO_INCREMENT_FLAG)
}

#[derive(Debug, PartialEq)]
struct Col {
    name: String,
    ty: ColumnType,
    flags: ColumnFlags,
    decimals: u8,
    binary_charset: bool,
}

/// Column metadata and values of one statement.
type Answer = (Vec<Col>, Vec<Vec<Value>>);

async fn run(c: &mut Conn, sql: &str, prepared: bool) -> Answer {
    let (cols, rows): (Vec<mysql_async::Column>, Vec<mysql_async::Row>) = if prepared {
        let mut r = c
            .exec_iter(sql, ())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let cols = r.columns_ref().to_vec();
        let rows = r.collect().await.expect("rows");
        (cols, rows)
    } else {
        let mut r = c
            .query_iter(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let cols = r.columns_ref().to_vec();
        let rows = r.collect().await.expect("rows");
        (cols, rows)
    };
    let cols = cols
        .iter()
        .map(|c| Col {
            name: c.name_str().into_owned(),
            ty: c.column_type(),
            flags: flags_that_matter(c.flags()),
            decimals: c.decimals(),
            binary_charset: c.character_set() == 63,
        })
        .collect();
    let rows = rows.into_iter().map(|r| r.unwrap()).collect();
    (cols, rows)
}

async fn answers(url: &str) -> Vec<(String, Answer)> {
    let mut c = Conn::new(Opts::from_url(url).expect("url"))
        .await
        .expect("connect");
    for s in SETUP {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    let mut out = vec![];
    for (q, _) in QUERIES {
        for prepared in [false, true] {
            let tag = format!("{} {q}", if prepared { "prepared" } else { "text" });
            out.push((tag, run(&mut c, q, prepared).await));
        }
    }
    c.disconnect().await.expect("disconnect");
    out
}

/// Differences accepted (and documented): `(statement substring, column name,
/// what)`.
const ACCEPTED: &[(&str, &str, &str)] = &[];

#[test]
fn column_types_and_values_match_mariadb() {
    let dir = temp_dir("types");
    let Some(maria) = mariadb::MariaDb::start(&dir) else {
        return;
    };
    let s = TestServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let want = rt.block_on(answers(&format!(
        "mysql://root@127.0.0.1:{}?prefer_socket=false",
        maria.port
    )));
    let got = rt.block_on(answers(&s.url()));
    assert_eq!(want.len(), got.len());
    let mut diffs = vec![];
    for ((tag, (wc, wr)), (_, (gc, gr))) in want.iter().zip(&got) {
        let values = QUERIES
            .iter()
            .find(|(q, _)| tag.ends_with(q))
            .is_some_and(|(_, v)| *v);
        assert_eq!(wc.len(), gc.len(), "{tag}: column count");
        for (i, (w, g)) in wc.iter().zip(gc).enumerate() {
            let accepted = |what: &str| {
                ACCEPTED
                    .iter()
                    .any(|(q, c, x)| tag.contains(q) && *c == w.name && *x == what)
            };
            if w.name != g.name {
                diffs.push(format!(
                    "{tag}: column {i} named {:?}, want {:?}",
                    g.name, w.name
                ));
            }
            if w.ty != g.ty && !accepted("type") {
                diffs.push(format!(
                    "{tag}: {}: type {:?}, want {:?}",
                    w.name, g.ty, w.ty
                ));
            }
            if w.flags != g.flags && !accepted("flags") {
                diffs.push(format!(
                    "{tag}: {}: flags {:?}, want {:?}",
                    w.name, g.flags, w.flags
                ));
            }
            if w.decimals != g.decimals && !accepted("decimals") {
                diffs.push(format!(
                    "{tag}: {}: decimals {}, want {}",
                    w.name, g.decimals, w.decimals
                ));
            }
            if w.binary_charset != g.binary_charset && !accepted("charset") {
                diffs.push(format!(
                    "{tag}: {}: binary charset {}, want {}",
                    w.name, g.binary_charset, w.binary_charset
                ));
            }
            if values {
                for (r, (wrow, grow)) in wr.iter().zip(gr).enumerate() {
                    if wrow[i] != grow[i] && !accepted("value") {
                        diffs.push(format!(
                            "{tag}: {} row {r}: {:?}, want {:?}",
                            w.name, grow[i], wrow[i]
                        ));
                    }
                }
            } else {
                // Time-dependent values: the same kind of value.
                for (wrow, grow) in wr.iter().zip(gr) {
                    assert_eq!(
                        std::mem::discriminant(&wrow[i]),
                        std::mem::discriminant(&grow[i]),
                        "{tag}: {}: {:?} vs {:?}",
                        w.name,
                        grow[i],
                        wrow[i]
                    );
                }
            }
        }
        if values {
            assert_eq!(wr.len(), gr.len(), "{tag}: row count");
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences from MariaDB:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// PyMySQL converts by column type: `Decimal`, `datetime`, `date`,
/// `timedelta`, `int`, `float`, `bytes`.
#[test]
fn pymysql_gets_python_types() {
    let has = std::process::Command::new("python3")
        .args(["-c", "import pymysql"])
        .output();
    match has {
        Ok(o) if o.status.success() => {}
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3 with pymysql is required in CI (pip install pymysql)"
            );
            eprintln!("SKIP: python3 with pymysql is not installed (pip install pymysql)");
            return;
        }
    }
    let s = TestServer::start();
    let setup: Vec<String> = SETUP.iter().map(|q| format!("{q:?}")).collect();
    let script = format!(
        r#"
import pymysql
c = pymysql.connect(host="127.0.0.1", port={port}, user="root", password="")
cur = c.cursor()
for q in [{setup}]:
    cur.execute(q)
c.commit()
def show(sql):
    cur.execute(sql)
    row = cur.fetchone()
    print(" ".join("%s=%s:%r" % (d[0], type(v).__name__, v) for d, v in zip(cur.description, row)))
show("SELECT id, ti, bi, d, f, db, dt, da, tm, y, vc, tx, b, vb FROM t WHERE id = 1")
show("SELECT tm FROM t WHERE id = 2")
show("SELECT COUNT(*), SUM(d), AVG(d), SUM(db), MAX(dt), d*2 FROM t")
show("SELECT NOW(), CURDATE(), CURTIME(), DATE_ADD(da, INTERVAL 1 DAY), 7/2 FROM t WHERE id = 1")
"#,
        port = s.port,
        setup = setup.join(", ")
    );
    let o = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "id=int:1 ti=int:200 bi=int:1234567890123 d=Decimal:Decimal('1.50') f=float:1.25 \
         db=float:0.1 dt=datetime:datetime.datetime(2024, 1, 2, 3, 4, 5) \
         da=date:datetime.date(2024, 1, 2) tm=timedelta:datetime.timedelta(seconds=45296) \
         y=int:2024 vc=str:'hello' tx=str:'text' b=bytes:b'blob' vb=bytes:b'vb'"
    );
    assert_eq!(
        lines[1],
        "tm=timedelta:datetime.timedelta(days=-1, seconds=81000)"
    );
    assert_eq!(
        lines[2],
        "COUNT(*)=int:2 SUM(d)=Decimal:Decimal('-1.75') AVG(d)=Decimal:Decimal('-0.875000') \
         SUM(db)=float:25000000000.1 MAX(dt)=datetime:datetime.datetime(2024, 1, 2, 3, 4, 5) \
         d*2=Decimal:Decimal('3.00')"
    );
    // NOW() and friends: the type only, their values change.
    assert!(lines[3].starts_with("NOW()=datetime:"), "{}", lines[3]);
    assert!(lines[3].contains("CURDATE()=date:"), "{}", lines[3]);
    assert!(lines[3].contains("CURTIME()=timedelta:"), "{}", lines[3]);
    assert!(
        lines[3].contains("DATE_ADD(da, INTERVAL 1 DAY)=date:datetime.date(2024, 1, 3)"),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].ends_with("7/2=Decimal:Decimal('3.5000')"),
        "{}",
        lines[3]
    );
}

/// MySQL's default collation: character columns compare case-insensitively;
/// binary strings and `*_bin` collations do not. Checked on MariaDB too (when
/// installed), so the expectations are MySQL's own.
async fn collation_checks(url: &str) {
    let mut c = Conn::new(Opts::from_url(url).expect("url"))
        .await
        .expect("connect");
    for s in [
        "CREATE DATABASE coll",
        "USE coll",
        "CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20), code VARCHAR(10) COLLATE utf8mb4_bin, \
         raw VARBINARY(10), note TEXT, UNIQUE KEY uname (name))",
        "INSERT INTO p VALUES (1, 'alice', 'abc', 'xyz', 'Hello'), (2, 'Bob', 'ABC', 'XYZ', 'hello'), \
         (3, 'carol', 'Abc', 'Xyz', 'HELLO')",
    ] {
        c.query_drop(s)
            .await
            .unwrap_or_else(|e| panic!("{url}: {s}: {e}"));
    }
    let q = |sql: &'static str| sql;
    let ids: Vec<i64> = c
        .query(q("SELECT id FROM p WHERE name = 'ALICE'"))
        .await
        .expect("select");
    assert_eq!(ids, vec![1], "{url}: = is case-insensitive");
    let ids: Vec<i64> = c
        .exec("SELECT id FROM p WHERE name = ?", ("BOB",))
        .await
        .expect("select");
    assert_eq!(ids, vec![2], "{url}: prepared = is case-insensitive");
    let names: Vec<String> = c
        .query(q("SELECT name FROM p ORDER BY name"))
        .await
        .expect("order");
    assert_eq!(names, vec!["alice", "Bob", "carol"], "{url}: ORDER BY");
    let n: Option<i64> = c
        .query_first(q("SELECT COUNT(*) FROM p WHERE note = 'hello'"))
        .await
        .expect("count");
    assert_eq!(n, Some(3), "{url}: TEXT is case-insensitive");
    let ids: Vec<i64> = c
        .query(q("SELECT id FROM p WHERE code = 'abc'"))
        .await
        .expect("bin");
    assert_eq!(ids, vec![1], "{url}: utf8mb4_bin is case-sensitive");
    let ids: Vec<i64> = c
        .query(q("SELECT id FROM p WHERE raw = 'XYZ'"))
        .await
        .expect("varbinary");
    assert_eq!(ids, vec![2], "{url}: VARBINARY is case-sensitive");
    let e = c
        .query_drop("INSERT INTO p VALUES (4, 'ALICE', 'x', 'x', 'x')")
        .await
        .expect_err("unique ignores case");
    match e {
        mysql_async::Error::Server(s) => assert_eq!(s.code, 1062, "{url}: {s:?}"),
        other => panic!("{url}: {other}"),
    }
    c.query_drop("DROP DATABASE coll").await.expect("drop");
    c.disconnect().await.expect("disconnect");
}

#[test]
fn string_comparison_is_case_insensitive_as_in_mysql() {
    let dir = temp_dir("coll");
    let maria = mariadb::MariaDb::start(&dir);
    let s = TestServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Some(m) = &maria {
        rt.block_on(collation_checks(&format!(
            "mysql://root@127.0.0.1:{}?prefer_socket=false",
            m.port
        )));
    }
    rt.block_on(collation_checks(&s.url()));
}

/// Result types cached for a SELECT follow an ALTER TABLE in the same session (the
/// statement text is the same, the column's type is not).
#[test]
fn cached_result_types_follow_alter_table() {
    let s = TestServer::start();
    util::rt().block_on(async {
        let mut c = Conn::new(Opts::from_url(&s.url()).expect("url"))
            .await
            .expect("connect");
        for q in [
            "CREATE DATABASE alt",
            "USE alt",
            "CREATE TABLE t (a DECIMAL(10,2))",
            "INSERT INTO t VALUES (1.5)",
        ] {
            c.query_drop(q).await.expect(q);
        }
        // A computed column: its type is derived once and cached with the statement.
        let first: Option<String> = c.query_first("SELECT a * 2 FROM t").await.expect("select");
        assert_eq!(first.as_deref(), Some("3.00"));
        c.query_drop("ALTER TABLE t MODIFY a DECIMAL(10,3)")
            .await
            .expect("alter");
        let again: Option<String> = c.query_first("SELECT a * 2 FROM t").await.expect("select");
        assert_eq!(again.as_deref(), Some("3.000"));
        // Another session alters the table: this session's cached types go too.
        let mut other = Conn::new(Opts::from_url(&s.url()).expect("url"))
            .await
            .expect("connect");
        other
            .query_drop("ALTER TABLE alt.t MODIFY a DECIMAL(10,1)")
            .await
            .expect("alter elsewhere");
        let third: Option<String> = c.query_first("SELECT a * 2 FROM t").await.expect("select");
        assert_eq!(third.as_deref(), Some("3.0"));
        c.query_drop("DROP TABLE t").await.expect("drop");
        c.query_drop("CREATE TABLE t (a DOUBLE)")
            .await
            .expect("create");
        c.query_drop("INSERT INTO t VALUES (1.5)")
            .await
            .expect("insert");
        let row: mysql_async::Row = c
            .query_first("SELECT a * 2 FROM t")
            .await
            .expect("select")
            .expect("row");
        assert_eq!(
            row.columns_ref()[0].column_type(),
            ColumnType::MYSQL_TYPE_DOUBLE
        );
    });
}
