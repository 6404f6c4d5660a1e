//! `minnow-top`: a top-like console for MySQL-protocol servers — Minnow's `minnowd`,
//! MariaDB and MySQL.
//!
//! Map of the crate:
//! - [`options`]: mysql-style command line and the TOML configuration file.
//! - [`client`]: one synchronous connection (`mysql` crate), results as text tables.
//! - [`model`]: snapshots (processlist, status with rates, variables, plugins and
//!   bindings) and the [`model::Collector`] that fetches them with a fixed number of
//!   statements per refresh; missing tables become [`model::Avail::Missing`].
//! - [`batch`]: `--batch` output (text or TSV).
//! - [`app`]: the interactive state and its `update` function (no I/O).
//! - [`ui`]: rendering, `impl Widget for &App` (never mutates).
//! - [`trace`]: `--debug` / `MYSQL_DEBUG` self-tracing through the `dbug` crate.
//! - [`term`]: the terminal guard (restored on drop and on panic) and the event
//!   loop, generic over the ratatui `Backend` so tests drive it with `TestBackend`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod batch;
pub mod client;
pub mod error;
pub mod explain;
pub mod model;
pub mod options;
pub mod term;
pub mod trace;
pub mod ui;

use std::io::Write;

pub use error::{Error, Result};

use crate::client::Client;
use crate::model::{Collector, Needs};
use crate::options::{Settings, View};

/// Batch mode: connect, take one snapshot, print `view` to `out` (notes to `err`
/// in TSV format), return.
pub fn run_batch(settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    trace::traced("run_batch", || run_batch_inner(settings, out, err))
}

fn run_batch_inner(settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let mut client = Client::connect(&settings.connect)?;
    let mut collector = Collector::new();
    let needs = Needs {
        variables: true,
        plugins: settings.view == View::Plugins,
    };
    let snap = collector.collect(&mut client, needs)?;
    let format = if settings.tsv {
        batch::Format::Tsv
    } else {
        batch::Format::Text
    };
    let rendered = batch::render(settings.view, &snap, format);
    if format == batch::Format::Tsv {
        for n in &rendered.notes {
            writeln!(err, "minnow-top: note: {n}").map_err(Error::Output)?;
        }
    }
    out.write_all(rendered.body.as_bytes())
        .and_then(|_| out.flush())
        .map_err(Error::Output)
}

/// Entry point of the binary: resolve settings, ask for a password if `-p` was bare,
/// then run batch mode or the interactive console. Returns the exit code.
pub fn run(args: options::Args) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let mut settings = Settings::resolve(&args, &env)?;
    if let Some(control) = &settings.debug {
        trace::init(control)?;
    }
    let r = run_settings(&mut settings);
    if let Err(e) = &r {
        dbug::dbug_print!("error", "exit: {e}");
    }
    trace::finish();
    r
}

fn run_settings(settings: &mut Settings) -> Result<()> {
    if settings.prompt_password {
        settings.connect.password = Some(term::read_password("Enter password: ")?);
    }
    if settings.batch {
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        match run_batch(settings, &mut stdout.lock(), &mut stderr.lock()) {
            // A closed pipe (`| head`) is a normal way for a reader to stop.
            Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    } else {
        term::run_terminal(settings)
    }
}
