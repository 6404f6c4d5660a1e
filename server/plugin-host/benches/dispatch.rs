//! Cost of the plugin host per statement and per connection, with no plugin, with a
//! C no-op audit plugin, with `audit_null`, and with `audit_null` + `conn_ip_filter`
//! (real shared objects, dlopen'ed).
//!
//! A statement is what the server does around each `COM_QUERY`: a general
//! *starting* event, a *completed* event, and the release of the session's bindings.
//! A connection is pre-authenticate + connect + disconnect. Prints nanoseconds per
//! unit and the overhead as a share of a reference `SELECT 1` round trip given in
//! `MINNOW_SELECT1_NS` (default 30000 ns; measure it with the server's slap bench).
//!
//! Run: `cargo bench -p minnow-plugin-host --bench dispatch`

use std::hint::black_box;
use std::time::Instant;

use minnow_plugin_host::{
    CallTiming, ConnectionEvent, ConnectionSubclass, GeneralEvent, GeneralSubclass, Registry,
};

#[allow(dead_code)]
#[path = "../tests/util/mod.rs"]
mod util;

fn statement(s: &mut minnow_plugin_host::Session, q: &str) {
    let ev = |subclass| GeneralEvent {
        subclass,
        error_code: 0,
        connection_id: 1,
        rows: 1,
        user: "root",
        host: "localhost",
        ip: "127.0.0.1",
        command: "Query",
        query: q,
    };
    black_box(s.audit_general(&ev(GeneralSubclass::Starting))).ok();
    black_box(s.audit_general(&ev(GeneralSubclass::Completed))).ok();
    s.release();
}

fn connection(reg: &Registry, id: u64) {
    let mut s = reg.session(id);
    for sub in [
        ConnectionSubclass::PreAuthenticate,
        ConnectionSubclass::Connect,
        ConnectionSubclass::Disconnect,
    ] {
        let ev = ConnectionEvent {
            subclass: sub,
            status: 0,
            connection_id: id,
            user: "root",
            host: "localhost",
            ip: "127.0.0.1",
            database: "",
        };
        black_box(s.audit_connection(&ev)).ok();
    }
}

/// Statements on two threads at once (sessions 1 and 2): median of 7 runs of `n`
/// statements per thread, in ns per statement per thread. Against the one-thread
/// figure it shows what sessions running on different cores cost each other
/// (counters and reference counts on shared cache lines).
fn measure_two_threads(reg: &Registry, n: u64) -> f64 {
    let mut runs = Vec::new();
    for _ in 0..7 {
        let barrier = std::sync::Barrier::new(2);
        let times: Vec<f64> = std::thread::scope(|sc| {
            let hs: Vec<_> = [1u64, 2]
                .into_iter()
                .map(|id| {
                    let barrier = &barrier;
                    sc.spawn(move || {
                        let mut s = reg.session(id);
                        barrier.wait();
                        let t = Instant::now();
                        for _ in 0..n {
                            statement(&mut s, "SELECT 1");
                        }
                        t.elapsed().as_nanos() as f64 / n as f64
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("bench thread"))
                .collect()
        });
        runs.push(times.iter().sum::<f64>() / times.len() as f64);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[3]
}

/// Median of 7 runs of `n` iterations, in ns per iteration.
fn measure(n: u64, mut f: impl FnMut(u64)) -> f64 {
    let mut runs = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for i in 0..n {
            f(i);
        }
        runs.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[3]
}

fn main() {
    let reference: f64 = std::env::var("MINNOW_SELECT1_NS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000.0);
    let (_dir, _host, reg) = util::setup();
    // noop_audit (C, does nothing) shows the host's own cost; it is uninstalled before
    // the audit_null rows.
    let configs: [&[&str]; 4] = [
        &[],
        &["noop_audit"],
        &["audit_null"],
        &["audit_null", "conn_ip_filter"],
    ];
    println!("reference SELECT 1 round trip: {reference:.0} ns (MINNOW_SELECT1_NS)");
    let mut base = (0.0, 0.0);
    for (i, plugins) in configs.iter().enumerate() {
        if reg.state("noop_audit").is_some() {
            reg.uninstall("noop_audit").expect("uninstall noop_audit");
        }
        for p in *plugins {
            if reg.state(p).is_none() {
                let soname = if *p == "noop_audit" {
                    "noop_audit.so".to_string()
                } else {
                    format!("lib{p}.so")
                };
                reg.install(p, &soname).expect("install");
            }
        }
        let mut s = reg.session(1);
        reg.set_call_timing(CallTiming::Off);
        let untimed = measure(200_000, |_| statement(&mut s, "SELECT 1"));
        reg.set_call_timing(CallTiming::Every);
        let every = measure(200_000, |_| statement(&mut s, "SELECT 1"));
        reg.set_call_timing(CallTiming::default());
        let stmt = measure(200_000, |_| statement(&mut s, "SELECT 1"));
        let conn = measure(50_000, |i| connection(&reg, i + 2));
        drop(s);
        let two = measure_two_threads(&reg, 200_000);
        if i == 0 {
            base = (stmt, conn);
        }
        let label = if plugins.is_empty() {
            "no plugin".to_string()
        } else {
            plugins.join(" + ")
        };
        println!(
            "{label:<28} statement, call timing off {untimed:>8.0} ns, every call timed {every:>8.0} ns"
        );
        println!(
            "{label:<28} statement {stmt:>8.0} ns (+{:>6.0} ns, {:>5.2}% of SELECT 1)   connection {conn:>8.0} ns (+{:>6.0} ns)",
            stmt - base.0,
            (stmt - base.0) / reference * 100.0,
            conn - base.1
        );
        println!("{label:<28} statement on two threads at once {two:>8.0} ns per thread");
    }
}
