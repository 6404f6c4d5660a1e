//! Criterion benches against the C figures of `../shared/dbug/PERF.md`.
//!
//! * `pair/*`: one enter/return pair (C: 46.9 ns with no debug string, 47.1 ns with
//!   `d,nothing`; targets ≤ 2 ns and ≤ 5 ns).
//! * `lines/*`: `d:t` trace lines to a file, 2 lines per pair, reported as elements/s = lines/s
//!   (C: 12.1 M lines/s with `o`, 2.17 M lines/s with `O`; targets ≥ 12 M and ≥ 2.2 M).
//!
//! * `keyword/*`, `execute_if/*`: a filtered `dbug_print!` / `dbug_execute_if!` under
//!   `d,nothing` (C: about 45 ns for a filtered DBUG_PRINT, B2 - B1).
//! * `layer/event/*`: a filtered `tracing` event (with and without a `keyword` field);
//!   `layer/statement/*`: what `minnowd` does per statement (3 nested spans, 2 events with a
//!   `keyword` field, one `dbug_execute_if!`), with no debug string and with `d,nothing`.
//!   `benches/callgrind.sh` gives the same statement as instruction counts.
//!
//! Each group runs on the engine path (`dbug::Frame` guard) and on the `tracing` Layer path
//! (a span entered and exited through a `Registry` + `dbug::Layer`).
//!
//! Run: `cargo bench -p dbug -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tracing_subscriber::layer::SubscriberExt;

#[inline(never)]
fn bench_pair(x: u64) -> u64 {
    let frame = dbug::Frame::enter("bench_pair", file!(), line!());
    let r = black_box(x + 1);
    frame.ret(line!());
    r
}

fn trace_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("dbug-bench-{}-{name}", std::process::id()))
}

fn set(control: &str) {
    if let Err(e) = dbug::set_global(control) {
        panic!("bench control string {control:?}: {e}");
    }
}

fn engine_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    set("");
    g.throughput(Throughput::Elements(1));
    g.bench_function("pair/no_debug_string", |b| {
        let mut x = 0u64;
        b.iter(|| x = bench_pair(x))
    });
    set("d,nothing");
    g.bench_function("pair/d,nothing", |b| {
        let mut x = 0u64;
        b.iter(|| x = bench_pair(x))
    });
    g.bench_function("keyword/d,nothing", |b| {
        b.iter(|| dbug::dbug_print!("info", "x: {}", black_box(1)))
    });
    g.bench_function("execute_if/d,nothing", |b| {
        b.iter(|| {
            let mut x = black_box(1u32);
            dbug::dbug_execute_if!("crash_mysql_execute_command", {
                x = 0;
            });
            x
        })
    });
    set("d,nothing:t:f,nothing");
    g.bench_function("pair/d,nothing:t:f,nothing", |b| {
        let mut x = 0u64;
        b.iter(|| x = bench_pair(x))
    });
    g.throughput(Throughput::Elements(2));
    for (id, flag) in [("lines/d:t:o,file", "o"), ("lines/d:t:O,file", "O")] {
        let path = trace_file(flag);
        let control = format!("d:t:{flag},{}", path.display());
        g.bench_function(id, |b| {
            b.iter_custom(|iters| {
                set(&control); // truncates the file for every sample
                let mut x = 0u64;
                let t = Instant::now();
                for _ in 0..iters {
                    x = bench_pair(x);
                }
                let e = t.elapsed();
                dbug::flush_all();
                e
            })
        });
        set("");
        let _ = std::fs::remove_file(&path);
    }
    g.finish();
}

/// One `minnowd` statement as the server instruments it.
#[inline(never)]
fn statement(i: u64) -> u64 {
    let do_command = tracing::info_span!("do_command");
    let _a = do_command.enter();
    let dispatch = tracing::info_span!("dispatch_command");
    let _b = dispatch.enter();
    tracing::debug!(keyword = "query", id = i, "SELECT 1");
    let exec = tracing::info_span!("mysql_execute_command");
    let _c = exec.enter();
    let mut r = black_box(i);
    dbug::dbug_execute_if!("crash_mysql_execute_command", {
        r = 0;
    });
    tracing::debug!(keyword = "info", rows = 1u64, "sent");
    r
}

fn layer_benches(c: &mut Criterion) {
    let subscriber = tracing_subscriber::registry().with(dbug::Layer::new());
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("bench_pair");
        let mut g = c.benchmark_group("layer");
        set("");
        g.throughput(Throughput::Elements(1));
        g.bench_function("pair/no_debug_string", |b| {
            b.iter(|| span.in_scope(|| black_box(1)))
        });
        set("d,nothing");
        g.bench_function("pair/d,nothing", |b| {
            b.iter(|| span.in_scope(|| black_box(1)))
        });
        g.bench_function("event/d,nothing", |b| {
            b.iter(|| tracing::info!(keyword = "info", x = black_box(1), "filtered"))
        });
        g.bench_function("event/no_keyword_field,d,nothing", |b| {
            b.iter(|| tracing::info!(x = black_box(1), "filtered"))
        });
        set("");
        g.bench_function("statement/no_debug_string", |b| {
            let mut x = 0u64;
            b.iter(|| x = statement(x))
        });
        set("d,nothing");
        g.bench_function("statement/d,nothing", |b| {
            let mut x = 0u64;
            b.iter(|| x = statement(x))
        });
        g.throughput(Throughput::Elements(2));
        for (id, flag) in [("lines/d:t:o,file", "o"), ("lines/d:t:O,file", "O")] {
            let path = trace_file(&format!("layer-{flag}"));
            let control = format!("d:t:{flag},{}", path.display());
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    set(&control);
                    let t = Instant::now();
                    for _ in 0..iters {
                        span.in_scope(|| black_box(1));
                    }
                    let e = t.elapsed();
                    dbug::flush_all();
                    e
                })
            });
            set("");
            let _ = std::fs::remove_file(&path);
        }
        g.finish();
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = engine_benches, layer_benches
}
criterion_main!(benches);
