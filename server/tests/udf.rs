//! UDFs against MySQL's calling sequence and argument rules, with the C test UDFs of
//! `examples/plugins/udf_example` in a real server through a real client; and
//! COM_FIELD_LIST seen by the `protocol_trace` plugin over a raw protocol connection.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts};
use util::{TestServer, rt, temp_dir};

/// A plugin_dir holding `libudf_example.so` (and the Rust plugins `rust`).
fn plugin_dir(tag: &str, rust: &[&'static str]) -> PathBuf {
    let d = temp_dir(tag).join("plugin");
    std::fs::create_dir_all(&d).expect("plugin dir");
    std::fs::copy(udf_example::LIBRARY, d.join(udf_example::SONAME)).expect("copy udf");
    if !rust.is_empty() {
        static BUILT: OnceLock<PathBuf> = OnceLock::new();
        let src = BUILT.get_or_init(|| util::build_example_plugins(&["protocol_trace"]));
        for p in rust {
            let f = format!("lib{p}.so");
            std::fs::copy(src.join(&f), d.join(&f)).expect("copy plugin");
        }
    }
    d
}

async fn connect(url: &str) -> Conn {
    Conn::new(Opts::from_url(url).expect("url"))
        .await
        .expect("connect")
}

async fn run_all(c: &mut Conn, stmts: &[&str]) {
    for s in stmts {
        c.query_drop(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

/// The calls `agg_trace` logged since the last `udf_log()`.
async fn udf_log(c: &mut Conn) -> String {
    c.query_first::<String, _>("SELECT udf_log()")
        .await
        .expect("udf_log")
        .expect("one row")
}

/// A server whose plugin_dir holds udf_example only (`tag` names its temp dir).
fn udf_server(tag: &str) -> TestServer {
    let pdir = plugin_dir(tag, &[]);
    TestServer::start_with(move |c| c.plugin_dir = pdir)
}

/// A connection to `srv` with [`FUNCTIONS`] created.
async fn with_functions(srv: &TestServer) -> Conn {
    let mut c = connect(&srv.url()).await;
    run_all(&mut c, &FUNCTIONS).await;
    c
}

const FUNCTIONS: [&str; 8] = [
    "CREATE AGGREGATE FUNCTION avgcost RETURNS REAL SONAME 'libudf_example.so'",
    "CREATE AGGREGATE FUNCTION clear_count RETURNS INTEGER SONAME 'libudf_example.so'",
    "CREATE AGGREGATE FUNCTION agg_trace RETURNS STRING SONAME 'libudf_example.so'",
    "CREATE FUNCTION udf_log RETURNS STRING SONAME 'libudf_example.so'",
    "CREATE FUNCTION describe_args RETURNS STRING SONAME 'libudf_example.so'",
    "CREATE FUNCTION coerce_args RETURNS STRING SONAME 'libudf_example.so'",
    "CREATE FUNCTION decimal_negate RETURNS DECIMAL SONAME 'libudf_example.so'",
    "CREATE DATABASE u",
];

#[test]
fn aggregate_over_no_rows_runs_init_clear_result_deinit() {
    let srv = udf_server("udf_empty");
    rt().block_on(async {
        let mut c = with_functions(&srv).await;
        run_all(&mut c, &["CREATE TABLE u.t(g INT, qty INT, price DOUBLE)"]).await;
        udf_log(&mut c).await;

        // No GROUP BY: one row, the value the UDF gives after name_clear.
        let r: Option<(String, i64)> = c
            .query_first("SELECT agg_trace(qty), clear_count(price) FROM u.t")
            .await
            .expect("empty aggregate");
        assert_eq!(r, Some(("rows=0".to_string(), 1000)));
        // init saw the column's type (INT), not a guess; init and deinit pair.
        assert_eq!(udf_log(&mut c).await, "init(I) clear result deinit");
        // avgcost_init insists on (INT, REAL) arguments: the declared types of the
        // columns, and of the arithmetic over them; zero rows make avgcost NULL.
        let r: Option<(Option<f64>, Option<f64>)> = c
            .query_first("SELECT avgcost(qty, price), avgcost(qty * 2, price + 1.0) FROM u.t")
            .await
            .expect("empty avgcost");
        assert_eq!(r, Some((None, None)));

        // GROUP BY over no rows: no group, no row, and no UDF call at all.
        let rows: Vec<(i64, String)> = c
            .query("SELECT g, agg_trace(qty) FROM u.t GROUP BY g")
            .await
            .expect("grouped empty");
        assert!(rows.is_empty());
        assert_eq!(udf_log(&mut c).await, "");

        // With rows: one init for the call site, clear per group, add per row.
        run_all(
            &mut c,
            &["INSERT INTO u.t VALUES (1, 1, 10.0), (1, 3, 20.0), (2, 2, 5.0)"],
        )
        .await;
        udf_log(&mut c).await;
        let rows: Vec<(i64, String)> = c
            .query("SELECT g, agg_trace(qty) FROM u.t GROUP BY g ORDER BY g")
            .await
            .expect("grouped");
        assert_eq!(rows, [(1, "rows=2".into()), (2, "rows=1".into())]);
        assert_eq!(
            udf_log(&mut c).await,
            "init(I) clear add add result clear add result deinit"
        );
        // A WHERE that keeps no row is empty input too, in the current database.
        let mut c2 = connect(&srv.url_db("u")).await;
        let r: Option<(String, i64, Option<f64>)> = c2
            .query_first(
                "SELECT agg_trace(price), clear_count(qty), avgcost(qty, price) FROM t WHERE g > 100",
            )
            .await
            .expect("filtered to nothing");
        assert_eq!(r, Some(("rows=0".to_string(), 1000, None)));
        assert_eq!(udf_log(&mut c2).await, "init(R) clear result deinit");
        c2.disconnect().await.expect("disconnect");
        c.disconnect().await.expect("disconnect");
    });
}

#[test]
fn argument_types_constants_attributes_and_coercion() {
    let srv = udf_server("udf_args");
    rt().block_on(async {
        let mut c = with_functions(&srv).await;
        run_all(
            &mut c,
            &[
                "CREATE TABLE u.m(id INT, qty INT, price DOUBLE, d DECIMAL(10,2), s VARCHAR(20))",
                "INSERT INTO u.m VALUES (1, NULL, 2.75, 1.25, '12abc'), (2, 7, 3.5, NULL, 'x')",
            ],
        )
        .await;
        // Types from the declared column types and the literals, also where the
        // first row is NULL; constants (only) are visible to name_init; attributes
        // are the argument texts (a column's name, a string literal's value).
        let rows: Vec<String> = c
            .query(
                "SELECT describe_args(qty, m.price, d, s, 12, -1.5, 2e0, 'lit', NULL, qty + 1) FROM u.m ORDER BY id",
            )
            .await
            .expect("describe_args");
        let init = "init: qty=I:NULL price=R:NULL d=D:NULL s=S:NULL 12=I:12 -1.5=D:-1.5 \
                    2e0=R:2 lit=S:lit NULL=S:NULL qty + 1=I:NULL";
        assert_eq!(
            rows,
            [
                format!("{init} | row: I:NULL R:2.75 D:1.25 S:12abc I:12 D:-1.5 R:2 S:lit S:NULL I:NULL"),
                format!("{init} | row: I:7 R:3.5 D:NULL S:x I:12 D:-1.5 R:2 S:lit S:NULL I:8"),
            ]
        );
        // An expression whose type the text does not tell: the first row's value
        // type, kept for the whole call site; later rows are converted to it.
        let rows: Vec<String> = c
            .query(
                "SELECT describe_args(CASE WHEN id = 1 THEN 5 ELSE s END) FROM u.m ORDER BY id",
            )
            .await
            .expect("mixed types");
        let init = "init: CASE WHEN id = 1 THEN 5 ELSE s END=I:NULL";
        assert_eq!(
            rows,
            [format!("{init} | row: I:5"), format!("{init} | row: I:0")]
        );
        // name_init asks for conversions by setting args->arg_type: each row's value
        // is converted (a double rounds to the nearest integer, a string gives its
        // numeric prefix, a number its text).
        let rows: Vec<String> = c
            .query("SELECT coerce_args('IRSDI', price, s, qty, price, s) FROM u.m ORDER BY id")
            .await
            .expect("coerce_args");
        assert_eq!(rows, ["I:3 R:12 S:NULL D:2.75 I:12", "I:4 R:0 S:7 D:3.5 I:0"]);
        // The type string must be a constant: name_init sees no column value.
        let e = c
            .query_drop("SELECT coerce_args(s, qty) FROM u.m")
            .await
            .expect_err("not a constant");
        assert!(
            e.to_string().contains("constant type string"),
            "{e}"
        );
        c.disconnect().await.expect("disconnect");
    });
}

#[test]
fn decimal_udfs_take_and_return_decimal_strings() {
    let srv = udf_server("udf_decimal");
    rt().block_on(async {
        let mut c = with_functions(&srv).await;
        run_all(
            &mut c,
            &[
                "CREATE TABLE u.m(id INT, qty INT, d DECIMAL(10,2), s VARCHAR(20))",
                "INSERT INTO u.m VALUES (1, NULL, 1.25, '-3.5kg'), (2, 7, -20.25, NULL)",
            ],
        )
        .await;
        type Row = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = c
            .query(
                "SELECT decimal_negate(d), decimal_negate(-1.50), decimal_negate(qty), decimal_negate(s), decimal_negate(NULL) FROM u.m ORDER BY id",
            )
            .await
            .expect("decimal_negate");
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            rows,
            [
                (s("-1.25"), s("1.50"), None, s("3.5"), None),
                (s("20.25"), s("1.50"), s("-7"), None, None),
            ]
        );
        // A DECIMAL result is a number to SQL around it.
        let r: Option<f64> = c
            .query_first("SELECT decimal_negate(d) * 2 FROM u.m WHERE id = 2")
            .await
            .expect("arithmetic");
        assert_eq!(r, Some(40.5));
        c.disconnect().await.expect("disconnect");
    });
}

/// One packet: its sequence number and payload.
fn read_packet(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).expect("packet header");
    let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).expect("packet payload");
    (h[3], p)
}

fn write_packet(s: &mut TcpStream, seq: u8, payload: &[u8]) {
    let len = payload.len();
    let mut b = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, seq];
    b.extend_from_slice(payload);
    s.write_all(&b).expect("write packet");
}

/// Logs in as root (no password) to database `db` over a raw socket; returns the
/// stream and the connection id from the handshake.
fn raw_login(port: u16, db: &str) -> (TcpStream, u64) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let (_, hs) = read_packet(&mut s);
    assert_eq!(hs[0], 10, "handshake v10");
    let ver_end = hs[1..].iter().position(|&b| b == 0).expect("version") + 1;
    let id = u32::from_le_bytes(hs[ver_end + 1..ver_end + 5].try_into().expect("id"));
    // LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH
    let caps: u32 = 0x1 | 0x8 | 0x200 | 0x8000 | 0x8_0000;
    let mut r = Vec::new();
    r.extend_from_slice(&caps.to_le_bytes());
    r.extend_from_slice(&(16u32 << 20).to_le_bytes());
    r.push(45);
    r.extend_from_slice(&[0; 23]);
    r.extend_from_slice(b"root\0");
    r.push(0); // empty auth response
    r.extend_from_slice(db.as_bytes());
    r.push(0);
    r.extend_from_slice(b"mysql_native_password\0");
    write_packet(&mut s, 1, &r);
    let (mut seq, mut p) = read_packet(&mut s);
    if p.starts_with(&[0xfe]) {
        // Auth switch: the empty password's answer is empty.
        write_packet(&mut s, seq + 1, &[]);
        (seq, p) = read_packet(&mut s);
    }
    let _ = seq;
    assert!(
        p.starts_with(&[0]),
        "login: {}",
        String::from_utf8_lossy(&p)
    );
    (s, u64::from(id))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn com_field_list_and_its_answer_reach_the_protocol_trace() {
    let pdir = plugin_dir("udf_fieldlist", &["protocol_trace"]);
    let srv = TestServer::start_with(move |c| c.plugin_dir = pdir);
    let (conn_id, defs) = rt().block_on(async {
        let mut c = connect(&srv.url()).await;
        run_all(
            &mut c,
            &[
                "CREATE DATABASE fl",
                "CREATE TABLE fl.tbl_qz(col_trace_xy INT, other_col_kw VARCHAR(5))",
                "INSTALL PLUGIN protocol_trace SONAME 'libprotocol_trace.so'",
                "SET GLOBAL protocol_trace_debug = ON",
            ],
        )
        .await;
        // (This connection's own first traced answer has no stage before it.)
        let bad_before = bad_transitions(&mut c).await;
        // COM_FIELD_LIST (mysql_list_fields): table name, NUL, wildcard.
        let (mut s, id) = raw_login(srv.port, "fl");
        write_packet(&mut s, 0, b"\x04tbl_qz\0");
        let mut defs = Vec::new();
        loop {
            let (_, p) = read_packet(&mut s);
            assert!(!p.starts_with(&[0xff]), "{}", String::from_utf8_lossy(&p));
            if p.starts_with(&[0xfe]) && p.len() < 9 {
                break;
            }
            defs.push(p);
        }
        write_packet(&mut s, 0, &[0x01]); // COM_QUIT
        drop(s);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !srv
            .error_log()
            .contains(&format!("conn {id} stage DISCONNECTED"))
        {
            assert!(std::time::Instant::now() < deadline, "no DISCONNECTED");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            bad_transitions(&mut c).await,
            bad_before,
            "{}",
            srv.error_log()
        );
        c.disconnect().await.expect("disconnect");
        (id, defs)
    });
    assert_eq!(defs.len(), 2, "two column definitions");
    assert!(contains(&defs[0], b"col_trace_xy"));
    // The trace: the command as received, then its answer, sent.
    let log = srv.error_log();
    let packets = traced(&log, conn_id);
    let cmd = packets
        .iter()
        .position(|(stage, event, b)| {
            stage == "READY_FOR_COMMAND"
                && event == "PACKET_RECEIVED"
                && b.starts_with(&[0x04])
                && contains(b, b"tbl_qz")
        })
        .unwrap_or_else(|| panic!("COM_FIELD_LIST not traced:\n{log}"));
    let answer: Vec<&(String, String, Vec<u8>)> = packets[cmd + 1..]
        .iter()
        .filter(|(_, event, _)| event == "PACKET_SENT")
        .collect();
    assert!(
        answer
            .iter()
            .any(|(stage, _, b)| stage == "WAIT_FOR_FIELD_DEF" && contains(b, b"col_trace_xy")),
        "{answer:?}"
    );
    assert!(
        answer.iter().any(|(_, _, b)| contains(b, b"other_col_kw")),
        "{answer:?}"
    );
    assert!(
        answer
            .iter()
            .any(|(_, _, b)| b.starts_with(&[0xfe]) && b.len() < 9),
        "EOF after the definitions: {answer:?}"
    );
}

async fn bad_transitions(c: &mut Conn) -> String {
    let r: Option<(String, String)> = c
        .query_first("SHOW STATUS LIKE 'protocol_trace_bad_transitions'")
        .await
        .expect("status");
    r.expect("status variable").1
}

/// `(stage, event, packet bytes)` that `protocol_trace` logged for connection `conn`
/// (`protocol_trace: conn N stage S event E (L bytes)` and hex-dump lines).
fn traced(log: &str, conn: u64) -> Vec<(String, String, Vec<u8>)> {
    let mut out: Vec<(u64, String, String, Vec<u8>)> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.split("protocol_trace: conn ").nth(1) {
            let w: Vec<&str> = rest.split_whitespace().collect();
            if w.len() >= 5 && w[1] == "stage" && w[3] == "event" {
                let id = w[0].parse().expect("connection id");
                out.push((id, w[2].to_string(), w[4].to_string(), Vec::new()));
            }
            continue;
        }
        let t = line.trim_start();
        if let Some((off, hex)) = t.split_once(':') {
            if line.starts_with("  ") && off.len() == 4 && u16::from_str_radix(off, 16).is_ok() {
                if let Some(p) = out.last_mut() {
                    p.3.extend(
                        hex.split_whitespace()
                            .filter_map(|b| u8::from_str_radix(b, 16).ok()),
                    );
                }
            }
        }
    }
    out.into_iter()
        .filter(|p| p.0 == conn)
        .map(|(_, s, e, b)| (s, e, b))
        .collect()
}
