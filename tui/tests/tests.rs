//! The one integration-test binary of `minnow-top` (shared helpers in `util.rs`).
//!
//! - `render`: every view drawn on ratatui's `TestBackend`, compared with the golden
//!   files in `tests/snapshots/` (`UPDATE_SNAPSHOTS=1` rewrites them).
//! - `batch`: the real binary in `--batch` mode (exit codes, config file, `--debug`
//!   tracing) against a private MariaDB.
//! - `console`: the real event loop (`run_loop`) on a `TestBackend` with scripted
//!   keys against a private MariaDB: kill, SET GLOBAL, every view, reconnect, the
//!   fixed number of statements per refresh.
//! - `tmux`: the real binary in tmux: sort, filter, kill a `SELECT SLEEP`, the
//!   terminal restored after quitting and after a panic, the `-p` password prompt.
//! - `minnowd`: batch mode and the DBUG view against Minnow's own server.
//!
//! MariaDB and tmux tests skip with a message when those programs are not
//! installed, and fail instead when the `CI` environment variable is set. The
//! `minnowd` tests use the workspace's `minnowd` binary (or `$MINNOWD`); they skip
//! when it is not built, and fail under `CI` once the server crate is in the
//! workspace.

mod batch;
mod console;
mod minnowd;
mod render;
mod tmux;
mod util;
