//! Frame cost of the console with big servers: a processlist of 10 000 threads and
//! a status view of 1 000 variables, each drawn on a 200x50 `TestBackend` (target:
//! under one 60 Hz frame, 16 ms). Also the per-refresh update (filter + sort +
//! history) for the same data.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use minnow_top::app::{App, Event};
use minnow_top::model::{Avail, Header, Plugins, ProcessRow, Snapshot, Status};
use minnow_top::options::View;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn processlist(n: u64) -> Vec<ProcessRow> {
    (0..n)
        .map(|i| ProcessRow {
            id: i + 1,
            user: format!("user{}", i % 37),
            host: format!("10.0.{}.{}:{}", i % 250, i % 199, 30000 + i % 20000),
            db: (i % 5 != 0).then(|| format!("db{}", i % 11)),
            command: if i % 3 == 0 { "Sleep" } else { "Query" }.into(),
            time: (i * 7919) % 5000,
            state: (i % 3 != 0).then(|| "Sending data".to_string()),
            info: (i % 3 != 0).then(|| {
                format!("SELECT * FROM orders o JOIN customers c ON c.id = o.cid WHERE o.id = {i}")
            }),
        })
        .collect()
}

fn status(n: u64, round: u64, prev: Option<&Status>) -> Status {
    let pairs = (0..n)
        .map(|i| {
            let name = match i {
                0 => "Uptime".to_string(),
                1 => "Threads_connected".to_string(),
                2 => "Questions".to_string(),
                _ => format!("Com_stmt_{i:04}"),
            };
            (name, (i * 1000 + round * (i % 17)).to_string())
        })
        .collect();
    Status::from_pairs(pairs, prev, 2.0)
}

fn snapshot(procs: u64, vars: u64, round: u64, prev: Option<&Status>) -> Snapshot {
    let status = status(vars, round, prev);
    Snapshot {
        header: Header::from_status("127.0.0.1:3306".into(), "bench".into(), &status),
        processlist: processlist(procs),
        status,
        variables: Avail::NotFetched,
        plugins: Plugins::default(),
        elapsed_secs: 2.0,
        processlist_note: None,
        status_note: None,
    }
}

fn loaded_app(view: View) -> App {
    let mut app = App::new(view, Duration::from_secs(2), true);
    let mut prev = None;
    for round in 0..120 {
        let s = snapshot(10_000, 1_000, round, prev.as_ref());
        prev = Some(s.status.clone());
        app.on_refresh(Ok(s));
    }
    app
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame");
    g.measurement_time(Duration::from_secs(5));

    let mut app = loaded_app(View::Processlist);
    // Select a row in the middle so the table scrolls.
    for _ in 0..5000 {
        app.update(Event::char('j'));
    }
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    g.bench_function("processlist_10000_rows", |b| {
        b.iter(|| {
            term.draw(|f| f.render_widget(black_box(&app), f.area()))
                .expect("draw");
        })
    });

    let mut app = loaded_app(View::Status);
    for _ in 0..500 {
        app.update(Event::char('j'));
    }
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    g.bench_function("status_1000_vars_with_sparkline", |b| {
        b.iter(|| {
            term.draw(|f| f.render_widget(black_box(&app), f.area()))
                .expect("draw");
        })
    });
    g.finish();

    let mut g = c.benchmark_group("refresh_update");
    let mut app = loaded_app(View::Processlist);
    let base = snapshot(10_000, 1_000, 500, None);
    g.bench_function("on_refresh_10000_rows_1000_vars", |b| {
        b.iter(|| app.on_refresh(Ok(black_box(base.clone()))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
