//! Command-line options in mysqld's spelling, and [`run`] for `minnowd`.

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use clap::Parser;

use crate::errlog::ErrorLog;
use crate::error::ServerError;
use crate::server::{Config, Listeners, Server, Shutdown, VERSION};

/// minnowd: a MySQL-compatible server on SQLite.
#[derive(Debug, Clone, Parser)]
#[command(name = "minnowd", version = VERSION, about = "Minnow: a MySQL-compatible server on SQLite, with DBUG tracing and plugins")]
pub struct Options {
    /// TCP port to listen on (0 picks a free port).
    #[arg(long, short = 'P', default_value_t = 3306)]
    pub port: u16,
    /// Address to bind the TCP listener to.
    #[arg(long = "bind-address", default_value = "127.0.0.1")]
    pub bind_address: String,
    /// Unix socket path (default: DATADIR/minnowd.sock; "" disables it).
    #[arg(long)]
    pub socket: Option<String>,
    /// Data directory (created with a root@localhost account on first start).
    #[arg(long, default_value = "./minnow-data")]
    pub datadir: PathBuf,
    /// Directory plugins are loaded from (default: <datadir>/plugin; fill it with
    /// `bash examples/plugins/collect.sh <datadir>/plugin`).
    #[arg(long = "plugin-dir")]
    pub plugin_dir: Option<PathBuf>,
    /// Plugins to load at start-up: `name=lib.so;lib2.so` (a bare library loads all its plugins).
    #[arg(long = "plugin-load")]
    pub plugin_load: Option<String>,
    /// More plugins to load at start-up (repeatable), same syntax as --plugin-load.
    #[arg(long = "plugin-load-add")]
    pub plugin_load_add: Vec<String>,
    /// `--plugin-NAME=OFF|ON|FORCE|FORCE_PLUS_PERMANENT` (collected by [`Options::parse_args`]).
    #[arg(skip)]
    pub plugin_options: Vec<(String, String)>,
    /// `--NAME-VARIABLE=value` plugin variables (collected by [`Options::parse_args`]).
    #[arg(skip)]
    pub plugin_variables: Vec<(String, String)>,
    /// Largest number of simultaneous connections.
    #[arg(long = "max-connections", default_value_t = 151)]
    pub max_connections: u32,
    /// Error log file (default: stderr).
    #[arg(long = "log-error")]
    pub log_error: Option<PathBuf>,
    /// DBUG control string; bare --debug means d:t:o,/tmp/minnowd.trace.
    #[arg(long, short = '#', num_args = 0..=1, default_missing_value = crate::debug::DEFAULT_DEBUG, require_equals = true)]
    pub debug: Option<String>,
    /// Do not install the crash handler.
    #[arg(long = "skip-stack-trace")]
    pub skip_stack_trace: bool,
    /// Leave a core file when crashing.
    #[arg(long = "core-file")]
    pub core_file: bool,
    /// Log every statement to the general query log.
    #[arg(long = "general-log")]
    pub general_log: bool,
    /// General query log file (default: DATADIR/minnowd.log).
    #[arg(long = "general-log-file")]
    pub general_log_file: Option<PathBuf>,
    /// Debugger-friendly: no crash handler, Ctrl-C not intercepted.
    #[arg(long)]
    pub gdb: bool,
}

impl Options {
    /// Parses a command line like `clap` does, but first takes out what only plugins
    /// know: `--plugin-NAME[=…]` / `--skip-plugin-NAME` load options and
    /// `--other-name=value` settings the server does not declare (plugin system
    /// variables; unclaimed ones are warned about once plugins are loaded).
    ///
    /// As in mysqld, `-` and `_` are the same in option names (`--plugin_dir`,
    /// `--plugin_load_add`, `--conn_ip-filter_allow`), and a `--loose-` prefix is
    /// accepted (an unknown bare `--loose-x` is ignored).
    pub fn parse_args<I, T>(args: I) -> Result<Options, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString>,
    {
        use clap::CommandFactory;
        let cmd = Options::command();
        let known: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_string))
            .chain(["help".to_string(), "version".to_string()])
            .collect();
        let mut rest = Vec::new();
        let mut plugin_options = Vec::new();
        let mut plugin_variables = Vec::new();
        for (i, a) in args.into_iter().enumerate() {
            let a: std::ffi::OsString = a.into();
            let text = a.to_string_lossy().into_owned();
            let Some(body) = text.strip_prefix("--").filter(|b| i > 0 && !b.is_empty()) else {
                rest.push(a);
                continue;
            };
            let (raw_name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let mut name = raw_name.replace('_', "-");
            let loose = name.starts_with("loose-");
            if loose {
                name.drain(.."loose-".len());
            }
            if name.is_empty() {
                rest.push(a);
                continue;
            }
            if known.contains(&name) {
                rest.push(match value {
                    Some(v) => format!("--{name}={v}").into(),
                    None => format!("--{name}").into(),
                });
                continue;
            }
            if let Some(p) = name.strip_prefix("skip-plugin-").filter(|p| !p.is_empty()) {
                if value.is_none() {
                    plugin_options.push((p.to_string(), "OFF".to_string()));
                    continue;
                }
            }
            match (
                name.strip_prefix("plugin-").filter(|p| !p.is_empty()),
                value,
            ) {
                (Some(p), v) => plugin_options.push((p.to_string(), v.unwrap_or("ON").to_string())),
                (None, Some(v)) => plugin_variables.push((name, v.to_string())),
                // Unknown and bare: clap reports it, unless it is --loose-.
                (None, None) if loose => {}
                (None, None) => rest.push(a),
            }
        }
        let mut o = Options::try_parse_from(rest)?;
        o.plugin_options = plugin_options;
        o.plugin_variables = plugin_variables;
        Ok(o)
    }

    /// The server configuration these options describe.
    pub fn config(&self) -> Config {
        let mut c = Config::new(self.datadir.clone());
        c.port = self.port;
        c.bind_address = self.bind_address.clone();
        c.socket = self
            .socket_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if let Some(p) = &self.plugin_dir {
            c.plugin_dir = p.clone();
        }
        c.plugins = crate::plugins::PluginStartup {
            load: self
                .plugin_load
                .iter()
                .chain(self.plugin_load_add.iter())
                .cloned()
                .collect(),
            options: self.plugin_options.clone(),
            variables: self.plugin_variables.clone(),
        };
        c.max_connections = self.max_connections;
        c.debug = self.debug.clone();
        c.general_log = self.general_log;
        if let Some(f) = &self.general_log_file {
            c.general_log_file = f.clone();
        }
        c.log_error = self
            .log_error
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "stderr".into());
        c
    }

    fn socket_path(&self) -> Option<PathBuf> {
        match &self.socket {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(PathBuf::from(s)),
            None => Some(self.datadir.join("minnowd.sock")),
        }
    }
}

/// Runs `minnowd` until SIGTERM/SIGINT or `SHUTDOWN`.
pub fn run(opts: Options) -> Result<(), ServerError> {
    if let Some(d) = &opts.debug {
        crate::debug::validate(d)
            .map_err(|why| ServerError::Option(format!("--debug='{d}': {why}")))?;
    }
    let (errlog, log_fd) = match &opts.log_error {
        Some(p) => {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| {
                    ServerError::io(format!("opening the error log {}", p.display()), e)
                })?;
            let fd = f.as_raw_fd();
            (ErrorLog::new(Box::new(f)), fd)
        }
        None => (ErrorLog::stderr(), 2),
    };
    errlog.note(&format!(
        "minnowd (server {VERSION}) starting as process {}",
        std::process::id()
    ));
    crate::debug::install_tracing();
    if opts.skip_stack_trace || opts.gdb {
        errlog.note("crash handler not installed (--skip-stack-trace or --gdb)");
    } else if let Err(e) = crate::crash::install(log_fd, opts.core_file) {
        errlog.warn(&format!("cannot install the crash handler: {e}"));
    }
    let tcp = TcpListener::bind((opts.bind_address.as_str(), opts.port)).map_err(|e| {
        ServerError::io(
            format!("Can't start server: Bind on TCP/IP port {}", opts.port),
            e,
        )
    })?;
    let port = tcp.local_addr().map(|a| a.port()).unwrap_or(opts.port);
    errlog.note(&format!(
        "Server socket created on IP: '{}', port: '{port}'.",
        opts.bind_address
    ));
    let shutdown = Shutdown::new();
    let mut config = opts.config();
    config.port = port;
    let server = Server::new(config, errlog, shutdown.clone())?;
    let sh = server.shared();
    sh.errlog
        .note(&format!("Data directory: {}", opts.datadir.display()));
    let unix = match opts.socket_path() {
        Some(p) => {
            if p.exists() && std::os::unix::net::UnixStream::connect(&p).is_err() {
                let _ = std::fs::remove_file(&p);
            }
            let l = UnixListener::bind(&p).map_err(|e| {
                ServerError::io(
                    format!("Can't start server: Bind on unix socket {}", p.display()),
                    e,
                )
            })?;
            Some((l, p))
        }
        None => None,
    };
    let mut signals = {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let sigs: &[i32] = if opts.gdb {
            &[SIGTERM]
        } else {
            &[SIGTERM, SIGINT]
        };
        signal_hook::iterator::Signals::new(sigs)
            .map_err(|e| ServerError::io("installing signal handlers", e))?
    };
    let sd = shutdown.clone();
    let sig_handle = signals.handle();
    let sig_thread = std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            sd.trigger();
        }
    });
    let r = server.serve(Listeners {
        tcp: Some(tcp),
        unix,
    });
    sig_handle.close();
    let _ = sig_thread.join();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn options_are_consistent_and_mysqld_spelled() {
        Options::command().debug_assert();
        let o = Options::try_parse_from(["minnowd", "--debug", "--port=0", "--skip-stack-trace"])
            .expect("parse");
        assert_eq!(o.debug.as_deref(), Some(crate::debug::DEFAULT_DEBUG));
        let o = Options::try_parse_from([
            "minnowd",
            "--debug=d,info",
            "--max-connections=5",
            "--bind-address=0.0.0.0",
        ])
        .expect("parse");
        assert_eq!(o.debug.as_deref(), Some("d,info"));
        assert_eq!(o.config().max_connections, 5);
        assert!(Options::try_parse_from(["minnowd", "--bogus"]).is_err());
    }

    #[test]
    fn plugin_options_are_collected() {
        let o = Options::parse_args([
            "minnowd",
            "--plugin-load=audit_null=libaudit_null.so",
            "--plugin-load-add=libis_example.so",
            "--plugin-load-add=libcrashme.so",
            "--plugin-audit-null=FORCE",
            "--conn-ip-filter-allow=10.%",
            "--plugin-dir=/tmp/p",
            "--port=0",
        ])
        .expect("parse");
        let c = o.config();
        assert_eq!(
            c.plugins.load,
            vec![
                "audit_null=libaudit_null.so".to_string(),
                "libis_example.so".into(),
                "libcrashme.so".into()
            ]
        );
        assert_eq!(
            c.plugins.options,
            vec![("audit-null".to_string(), "FORCE".to_string())]
        );
        assert_eq!(
            c.plugins.variables,
            vec![("conn-ip-filter-allow".to_string(), "10.%".to_string())]
        );
        assert_eq!(c.plugin_dir, PathBuf::from("/tmp/p"));
        assert!(Options::parse_args(["minnowd", "--bogus"]).is_err());
    }
}
