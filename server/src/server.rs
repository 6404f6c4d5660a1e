//! The server: shared state, listeners, the accept loop and shutdown.
//!
//! Endpoints are injected ([`Listeners`], [`Shutdown`]) so tests bind
//! `127.0.0.1:0` and stop the server cleanly.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::datadir::DataDir;
use crate::errlog::ErrorLog;
use crate::error::ServerError;
use crate::hooks::{AuditHub, InfoSchemaRegistry};
use crate::protocol::Stream;
use crate::status::GlobalStatus;
use crate::threads::{KillLevel, Threads};
use crate::vars::{BuiltinValues, SysVars};

/// The server version string sent in the handshake and in `@@version`.
pub const VERSION: &str = concat!("8.0.99-Minnow-", env!("CARGO_PKG_VERSION"));

/// Settings the server runs with (built from the command line by [`crate::options`]).
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub datadir: PathBuf,
    /// TCP port shown in `@@port` (the listener decides the real one).
    pub port: u16,
    /// Bind address shown in `@@bind_address`.
    pub bind_address: String,
    /// Unix socket path shown in `@@socket`.
    pub socket: String,
    /// Plugin directory.
    pub plugin_dir: PathBuf,
    /// `max_connections`.
    pub max_connections: u32,
    /// Initial DBUG control string.
    pub debug: Option<String>,
    /// General query log on.
    pub general_log: bool,
    /// General query log file.
    pub general_log_file: PathBuf,
    /// `@@log_error` as shown.
    pub log_error: String,
    /// Plugins to load at start-up, their load options and variables.
    pub plugins: crate::plugins::PluginStartup,
}

impl Config {
    /// A configuration for a data directory with defaults for everything else.
    pub fn new(datadir: impl Into<PathBuf>) -> Self {
        let datadir = datadir.into();
        Config {
            general_log_file: datadir.join("minnowd.log"),
            plugin_dir: datadir.join("plugin"),
            datadir,
            port: 3306,
            bind_address: "127.0.0.1".into(),
            socket: String::new(),
            max_connections: 151,
            debug: None,
            general_log: false,
            log_error: "stderr".into(),
            plugins: Default::default(),
        }
    }
}

/// A shutdown signal shared by the server, signal handlers and `SHUTDOWN`.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<ShutdownInner>);

#[derive(Debug, Default)]
struct ShutdownInner {
    flag: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
    wake: Mutex<Vec<WakeAddr>>,
}

#[derive(Debug, Clone)]
enum WakeAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Shutdown {
    /// A new, untriggered signal.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the server to stop.
    pub fn trigger(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        if let Ok(_g) = self.0.lock.lock() {
            self.0.cv.notify_all();
        }
        let wake = self.0.wake.lock().map(|w| w.clone()).unwrap_or_default();
        for w in wake {
            match w {
                WakeAddr::Tcp(a) => {
                    let _ = TcpStream::connect_timeout(&a, Duration::from_millis(200));
                }
                WakeAddr::Unix(p) => {
                    let _ = UnixStream::connect(p);
                }
            }
        }
    }
    /// Whether stop was asked for.
    pub fn is_triggered(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }
    /// Blocks until triggered.
    pub fn wait(&self) {
        let mut g = match self.0.lock.lock() {
            Ok(g) => g,
            Err(_) => return,
        };
        while !self.is_triggered() {
            g = match self.0.cv.wait_timeout(g, Duration::from_millis(200)) {
                Ok((g, _)) => g,
                Err(_) => return,
            };
        }
    }
    fn add_wake(&self, w: WakeAddr) {
        if let Ok(mut v) = self.0.wake.lock() {
            v.push(w);
        }
    }
}

/// The sockets the server accepts connections on.
#[derive(Debug, Default)]
pub struct Listeners {
    /// TCP listener.
    pub tcp: Option<TcpListener>,
    /// Unix-domain socket listener and its path (removed at shutdown).
    pub unix: Option<(UnixListener, PathBuf)>,
}

/// State shared by every connection thread.
#[derive(Debug)]
pub struct Shared {
    /// Settings.
    pub config: Config,
    /// The data directory.
    pub datadir: DataDir,
    /// System variables.
    pub vars: SysVars,
    /// Status variables.
    pub status: GlobalStatus,
    /// Live connections.
    pub threads: Threads,
    /// Audit observers (plugins).
    pub audit: AuditHub,
    /// information_schema tables.
    pub infoschema: InfoSchemaRegistry,
    /// The error log.
    pub errlog: ErrorLog,
    /// The shutdown signal.
    pub shutdown: Shutdown,
    /// The plugin registry (`minnow-plugin-host`).
    pub plugins: minnow_plugin_host::Registry,
    general_log: Mutex<Option<File>>,
    general_log_on: AtomicBool,
    /// Bumped by every DDL statement: sessions drop plans and result types
    /// cached before it (another session may have altered the table).
    pub schema_generation: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// Appends a statement to the general query log if it is on.
    pub fn general_log(&self, conn_id: u32, command: &str, text: &str) {
        if !self.general_log_on.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut g) = self.general_log.lock() {
            if let Some(f) = g.as_mut() {
                let line = format!(
                    "{}\t{:>6} {}\t{}\n",
                    crate::errlog::timestamp(true),
                    conn_id,
                    command,
                    text
                );
                let _ = f.write_all(line.as_bytes());
            }
        }
    }

    /// `FLUSH LOGS` / COM_REFRESH: reopens the general query log, if it is on, so
    /// that a rotated file is let go and a new one started.
    pub fn flush_logs(&self) -> std::io::Result<()> {
        if self.general_log_on.load(Ordering::Relaxed) {
            self.set_general_log(true)?;
        }
        Ok(())
    }

    /// Opens or closes the general query log (`SET GLOBAL general_log`).
    pub fn set_general_log(&self, on: bool) -> std::io::Result<()> {
        let path = match self.vars.global("general_log_file") {
            Ok(v) => PathBuf::from(v.show()),
            Err(_) => self.config.general_log_file.clone(),
        };
        let f = if on {
            Some(OpenOptions::new().create(true).append(true).open(path)?)
        } else {
            None
        };
        if let Ok(mut g) = self.general_log.lock() {
            *g = f;
        }
        self.general_log_on.store(on, Ordering::Relaxed);
        Ok(())
    }
}

/// A server ready to serve.
#[derive(Debug)]
pub struct Server {
    shared: Arc<Shared>,
}

impl Server {
    /// Opens the data directory and registers variables and tables.
    pub fn new(
        config: Config,
        errlog: ErrorLog,
        shutdown: Shutdown,
    ) -> Result<Server, ServerError> {
        let datadir = DataDir::open(&config.datadir)?;
        let vars = SysVars::default();
        let initial_debug = match &config.debug {
            Some(d) => crate::debug::set_global(d).map_err(|_| {
                ServerError::Option(format!("--debug: malformed control string '{d}'"))
            })?,
            None => String::new(),
        };
        crate::vars::register_builtins(
            &vars,
            &BuiltinValues {
                version: VERSION.into(),
                port: i64::from(config.port),
                socket: config.socket.clone(),
                datadir: format!(
                    "{}/",
                    std::fs::canonicalize(&config.datadir)
                        .unwrap_or_else(|_| config.datadir.clone())
                        .display()
                ),
                plugin_dir: config.plugin_dir.display().to_string(),
                max_connections: i64::from(config.max_connections),
                debug: initial_debug,
                general_log: config.general_log,
                general_log_file: config.general_log_file.display().to_string(),
                log_error: config.log_error.clone(),
                bind_address: config.bind_address.clone(),
            },
        );
        let host = Arc::new(crate::plugins::ServerHost::new(config.datadir.clone()));
        let plugins = minnow_plugin_host::Registry::new(
            config.plugin_dir.clone(),
            Arc::clone(&host) as Arc<dyn minnow_plugin_host::HostServices>,
        );
        let shared = Shared {
            plugins,
            config,
            datadir,
            vars,
            status: GlobalStatus::default(),
            threads: Threads::default(),
            audit: AuditHub::default(),
            infoschema: InfoSchemaRegistry::default(),
            errlog,
            shutdown,
            general_log: Mutex::new(None),
            general_log_on: AtomicBool::new(false),
            schema_generation: std::sync::atomic::AtomicU64::new(0),
        };
        if shared.config.general_log {
            shared
                .set_general_log(true)
                .map_err(|e| ServerError::io("opening the general log", e))?;
        }
        crate::sql::infoschema::register_builtin_tables(&shared.infoschema);
        crate::sql::infoschema::register_catalog_tables(&shared.infoschema);
        crate::sql::keys::register_key_tables(&shared.infoschema);
        let shared = Arc::new(shared);
        host.attach(&shared);
        let startup = shared.config.plugins.clone();
        crate::plugins::startup(&shared, &startup)?;
        Ok(Server { shared })
    }

    /// The shared state (for embedding and tests).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Accepts connections until the shutdown signal, then closes every
    /// connection and returns.
    pub fn serve(&self, listeners: Listeners) -> Result<(), ServerError> {
        let sh = &self.shared;
        let mut acceptors = Vec::new();
        let port = listeners
            .tcp
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
            .unwrap_or(0);
        let mut socket_path = None;
        if let Some(l) = listeners.tcp {
            let addr = l
                .local_addr()
                .map_err(|e| ServerError::io("reading the TCP address", e))?;
            sh.shutdown.add_wake(WakeAddr::Tcp(addr));
            let sh2 = Arc::clone(sh);
            acceptors.push(
                thread::Builder::new()
                    .name("accept-tcp".into())
                    .spawn(move || {
                        for conn in l.incoming() {
                            if sh2.shutdown.is_triggered() {
                                break;
                            }
                            match conn {
                                Ok(s) => {
                                    let _ = s.set_nodelay(true);
                                    let peer = s.peer_addr().ok();
                                    spawn_session(
                                        &sh2,
                                        Stream::Tcp(s),
                                        peer.map(|p| p.to_string()),
                                        peer.is_some_and(|p| p.ip().is_loopback()),
                                    );
                                }
                                Err(e) => sh2.errlog.warn(&format!("accept failed: {e}")),
                            }
                        }
                    })
                    .map_err(|e| ServerError::io("starting the TCP acceptor", e))?,
            );
        }
        if let Some((l, path)) = listeners.unix {
            sh.shutdown.add_wake(WakeAddr::Unix(path.clone()));
            socket_path = Some(path);
            let sh2 = Arc::clone(sh);
            acceptors.push(
                thread::Builder::new()
                    .name("accept-unix".into())
                    .spawn(move || {
                        for conn in l.incoming() {
                            if sh2.shutdown.is_triggered() {
                                break;
                            }
                            match conn {
                                Ok(s) => spawn_session(&sh2, Stream::Unix(s), None, true),
                                Err(e) => sh2.errlog.warn(&format!("accept failed: {e}")),
                            }
                        }
                    })
                    .map_err(|e| ServerError::io("starting the socket acceptor", e))?,
            );
        }
        sh.errlog.note(&format!(
            "minnowd: ready for connections.\nVersion: '{VERSION}'  socket: '{}'  port: {port}  Minnow Server (GPL)",
            socket_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        ));
        sh.shutdown.wait();
        sh.errlog
            .note("minnowd (initiated by: unknown): Normal shutdown");
        for a in acceptors {
            let _ = a.join();
        }
        for t in sh.threads.all() {
            t.kill(KillLevel::Connection);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sh.threads.is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        sh.plugins.shutdown();
        if let Some(p) = socket_path {
            let _ = std::fs::remove_file(p);
        }
        crate::debug::flush();
        sh.errlog.note("minnowd: Shutdown complete");
        Ok(())
    }
}

fn spawn_session(sh: &Arc<Shared>, stream: Stream, peer: Option<String>, is_local: bool) {
    sh.status.connections.fetch_add(1, Ordering::Relaxed);
    sh.status.threads_created.fetch_add(1, Ordering::Relaxed);
    let sh2 = Arc::clone(sh);
    let r = thread::Builder::new()
        .name("connection".into())
        .spawn(move || {
            let log = Arc::clone(&sh2);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::session::run_connection(sh2, stream, peer, is_local)
            }));
            if let Err(p) = r {
                let what = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                log.errlog
                    .error(&format!("connection thread panicked: {what}"));
                log.status.aborted_clients.fetch_add(1, Ordering::Relaxed);
            }
        });
    if let Err(e) = r {
        sh.errlog
            .error(&format!("cannot start a connection thread: {e}"));
    }
}
