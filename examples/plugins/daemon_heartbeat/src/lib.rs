//! `daemon_heartbeat`: a daemon plugin whose thread appends a heartbeat line to a
//! file every `interval` seconds (`daemon_heartbeat_interval`, 1..=3600, default 10).
//! The file is `daemon_heartbeat_file` (default `heartbeat.log`), relative to the
//! data directory; `SET GLOBAL` of either takes effect at once (a new file gets the
//! next beat). The first beat is written at init; the thread stops at deinit.
//! Status variable: `daemon_heartbeat_beats`.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use minnow_plugin::abi::MINNOW_VALUE_INT;
use minnow_plugin::{DaemonPlugin, Host, Plugin, Value, status_var, sysvar_int, sysvar_str};

struct Shared {
    stop: Mutex<bool>,
    wake: Condvar,
    interval: AtomicI64,
    beats: AtomicI64,
    path: Mutex<PathBuf>,
}

/// The plugin.
pub struct Heartbeat {
    data_dir: Option<PathBuf>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// `file` relative to the data directory (an absolute name is used as it is).
fn heartbeat_path(data_dir: Option<&std::path::Path>, file: &str) -> PathBuf {
    match data_dir {
        Some(d) => d.join(file),
        None => PathBuf::from(file),
    }
}

fn beat(host: &Host, path: &std::path::Path, n: i64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let res = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "heartbeat {n} {now}"));
    if let Err(e) = res {
        host.error(&format!(
            "daemon_heartbeat: cannot write {}: {e}",
            path.display()
        ));
    }
}

impl Plugin for Heartbeat {
    const NAME: &'static std::ffi::CStr = c"daemon_heartbeat";
    const DESCRIPTION: &'static std::ffi::CStr =
        c"Writes a heartbeat line to a file every interval seconds";
    const STATUS_VARS: &'static [minnow_plugin::abi::StatusVarDecl] =
        &[status_var(c"beats", MINNOW_VALUE_INT)];
    const SYSTEM_VARS: &'static [minnow_plugin::abi::SysVarDecl] = &[
        sysvar_int(c"interval", c"Seconds between heartbeats", 10, 1, 3600),
        sysvar_str(
            c"file",
            c"Heartbeat file, relative to the data directory",
            c"heartbeat.log",
        ),
    ];

    fn init(host: Host) -> Result<Self, String> {
        let interval = host
            .sysvar("interval")
            .and_then(|v| v.as_int())
            .unwrap_or(10);
        let file = host
            .sysvar("file")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if file.is_empty() {
            return Err("daemon_heartbeat_file is empty".into());
        }
        let data_dir = host.data_dir();
        let path = heartbeat_path(data_dir.as_deref(), &file);
        let shared = Arc::new(Shared {
            stop: Mutex::new(false),
            wake: Condvar::new(),
            interval: AtomicI64::new(interval),
            beats: AtomicI64::new(0),
            path: Mutex::new(path),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || {
                let mut stopped = s.stop.lock().unwrap_or_else(|p| p.into_inner());
                while !*stopped {
                    let n = s.beats.fetch_add(1, Ordering::SeqCst) + 1;
                    let path = s.path.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    beat(&host, &path, n);
                    let secs = s.interval.load(Ordering::SeqCst).max(1) as u64;
                    stopped = s
                        .wake
                        .wait_timeout(stopped, Duration::from_secs(secs))
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            })
            .map_err(|e| format!("cannot start the heartbeat thread: {e}"))?;
        Ok(Heartbeat {
            data_dir,
            shared,
            thread: Some(thread),
        })
    }

    fn status(&self, _index: usize) -> Value {
        Value::Int(self.shared.beats.load(Ordering::SeqCst))
    }

    fn check_sysvar(&self, index: usize, value: &Value) -> Result<(), String> {
        match (index, value.as_str()) {
            (1, Some("")) | (1, None) => Err("the heartbeat file name is empty".into()),
            _ => Ok(()),
        }
    }

    fn update_sysvar(&self, index: usize, value: &Value) {
        match (index, value) {
            (0, v) => {
                if let Some(i) = v.as_int() {
                    self.shared.interval.store(i, Ordering::SeqCst);
                    self.shared.wake.notify_all();
                }
            }
            (1, v) => {
                if let Some(f) = v.as_str().filter(|f| !f.is_empty()) {
                    *self.shared.path.lock().unwrap_or_else(|p| p.into_inner()) =
                        heartbeat_path(self.data_dir.as_deref(), f);
                }
            }
            _ => {}
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        *self.shared.stop.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl DaemonPlugin for Heartbeat {}

minnow_plugin::declare_plugins!(daemon Heartbeat);
