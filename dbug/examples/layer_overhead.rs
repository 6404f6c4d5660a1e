//! A load-independent measure of what `dbug::Layer` adds to a server statement: runs N
//! iterations of what `minnowd` does per statement (three nested new spans entered and
//! exited, two events with a `keyword` field, one `dbug_execute_if!`; the same as the
//! `layer/statement/*` criterion benches) under a `Registry` + `dbug::Layer`.
//!
//! ```text
//! cargo build --release -p dbug --example layer_overhead
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/layer_overhead 0 none        # startup only
//! valgrind --tool=callgrind ... layer_overhead 100000 none     # no debug string
//! valgrind --tool=callgrind ... layer_overhead 100000 d,nothing
//! ```
//!
//! (instructions(N) - instructions(0)) / N is the cost of one iteration; the difference
//! between a control string and `none` is DBUG's overhead. `dbug/benches/callgrind.sh` does
//! all of this and prints the figures.

use std::hint::black_box;
use std::process::ExitCode;

use tracing_subscriber::layer::SubscriberExt;

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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(n), Some(control)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: layer_overhead ITERATIONS none|CONTROL_STRING");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("layer_overhead: bad iteration count {n:?}");
        return ExitCode::from(2);
    };
    let layer = dbug::Layer::new();
    if control != "none" {
        if let Err(e) = dbug::set_global(control) {
            eprintln!("layer_overhead: {e}");
            return ExitCode::from(2);
        }
    }
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut acc = 0u64;
    tracing::subscriber::with_default(subscriber, || {
        // One warm-up statement so lazy initialisation is in the fixed cost.
        acc = statement(1);
        for i in 0..n {
            acc = acc.wrapping_add(statement(i));
        }
    });
    dbug::flush_all();
    println!("{acc}");
    ExitCode::SUCCESS
}
