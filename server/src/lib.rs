//! `minnow-server`: the MySQL-compatible server `minnowd`.
//!
//! Map of the crate:
//! - [`options`]: mysqld-style command line and [`options::run`] (the binary's body).
//! - [`server`]: shared state ([`server::Shared`]), injected listeners and
//!   shutdown ([`server::Listeners`], [`server::Shutdown`]), the accept loop.
//! - [`session`]: one OS thread per connection: handshake,
//!   `mysql_native_password`, the command loop (`do_command` → `dispatch_command`).
//! - [`protocol`]: packet framing, the [`protocol::Command`] enum, and
//!   [`protocol::Reply`], consumed by value so a command is answered once
//!   (packet layouts from `mysql_common`).
//! - [`sql`]: `mysql_execute_command`: sqlparser (MySQL dialect) for
//!   classification, Minnow's own administrative statements, SQLite for the rest.
//! - [`vars`], [`status`], [`threads`]: system variables, status variables,
//!   the processlist — all registries that plugins can extend.
//! - [`hooks`]: audit events and information_schema tables (plugin extension points).
//! - [`datadir`]: one SQLite file per database, the `mysql.user` accounts.
//! - [`debug`]: DBUG wiring (`--debug`, `SET debug`, fault injection) and
//!   [`dbug::ThreadSubscriber`], the `tracing` subscriber over the `dbug` engine.
//! - [`crash`]: `stackresolve::crash` wiring (per-thread connection id and query).
//! - [`errlog`]: the error log in MySQL's line format.
//! - [`plugins`]: the plugin host wired in (INSTALL/UNINSTALL, SHOW PLUGINS, start-up loading);
//!   `udf_sites`: what a statement's text tells about its UDF call sites.
//! - [`error`]: MySQL error codes, in one place.
//!
//! Tracing uses `tracing` spans named like MySQL's functions
//! (`do_command`, `dispatch_command`, `mysql_execute_command`) and events
//! whose `keyword` field is `query`, `info` or `error`.

#![deny(missing_docs)]
// Denied, not forbidden: `plugins::udf_sqlite` registers UDFs with SQLite's C API
// (it needs the per-call-site `sqlite3_context` rusqlite hides) and allows it there.
#![deny(unsafe_code)]

pub mod crash;
pub mod datadir;
pub mod debug;
pub mod errlog;
pub mod error;
pub mod hooks;
pub mod options;
pub mod plugins;
pub mod protocol;
pub mod server;
pub mod session;
pub mod sql;
pub mod status;
pub mod threads;
mod udf_sites;
pub mod vars;

pub use options::{Options, run};
pub use server::{Config, Listeners, Server, Shutdown};
