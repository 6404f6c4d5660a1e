//! The one integration-test binary of `minnow-top` (shared helpers in `util.rs`).
//!
//! - `render`: every view drawn on ratatui's `TestBackend`, compared with the golden
//!   files in `tests/snapshots/` (`UPDATE_SNAPSHOTS=1` rewrites them).
//! - `batch`: the real binary in `--batch` mode against a private MariaDB.
//! - `tmux`: the real binary in tmux (sort, filter, kill, terminal restored).
//! - `console`: the real event loop (`run_loop`) on a `TestBackend` with scripted
//!   keys against a private MariaDB: kill, SET GLOBAL, DBUG, reconnect.
//!
//! MariaDB tests skip with a message when `mariadbd` is not installed, and fail
//! instead when the `CI` environment variable is set. Tests against `minnowd` will
//! be added when the server lands (same fixture shape, started from the workspace).

mod batch;
mod console;
mod render;
mod tmux;
mod util;
