//! Command line (mysql-style flags, clap) and the configuration file
//! (`~/.config/minnow-top/config.toml`), merged into [`Settings`].
//!
//! Precedence: command line, then the configuration file, then `MYSQL_PWD` (password
//! only), then built-in defaults. Every key of the file is optional; unknown keys
//! are an error naming the file, line and column:
//!
//! ```toml
//! # ~/.config/minnow-top/config.toml (or $XDG_CONFIG_HOME/minnow-top/config.toml)
//! host = "127.0.0.1"
//! port = 3306
//! user = "root"
//! password = ""
//! # socket = "/run/mysqld/mysqld.sock"
//! # database = "shop"
//! delay = 2.0          # seconds between refreshes
//! view = "processlist" # processlist | plugins | status | variables | debug
//! nocolor = false
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Parser, ValueEnum};
use serde::Deserialize;

use crate::client::ConnectOptions;
use crate::error::{Error, Result};

/// The five views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Threads and what they run.
    #[default]
    Processlist,
    /// Plugins and their bindings.
    Plugins,
    /// Status variables with rates.
    Status,
    /// System variables.
    Variables,
    /// The DBUG control string.
    Debug,
}

impl View {
    /// All views in key order (1..=5).
    pub const ALL: [View; 5] = [
        View::Processlist,
        View::Plugins,
        View::Status,
        View::Variables,
        View::Debug,
    ];

    /// Display title.
    pub fn title(self) -> &'static str {
        match self {
            View::Processlist => "Processlist",
            View::Plugins => "Plugins",
            View::Status => "Status",
            View::Variables => "Variables",
            View::Debug => "Debug",
        }
    }

    /// Position in [`View::ALL`].
    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// The command line.
#[derive(Debug, Parser, Clone, Default)]
#[command(
    name = "minnow-top",
    version,
    about = "A top for MySQL-protocol servers: minnowd, MariaDB, MySQL",
    disable_help_flag = true
)]
pub struct Args {
    /// Print help (-? like the mysql client; -h is the host).
    #[arg(short = '?', long = "help", action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Server host [default: 127.0.0.1].
    #[arg(short = 'h', long)]
    pub host: Option<String>,
    /// TCP port [default: 3306].
    #[arg(short = 'P', long)]
    pub port: Option<u16>,
    /// User [default: root].
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Password; `-p` alone asks on the terminal. Also read from MYSQL_PWD.
    #[arg(short = 'p', long, num_args = 0..=1)]
    pub password: Option<Option<String>>,
    /// Unix socket (used instead of TCP).
    #[arg(short = 'S', long)]
    pub socket: Option<String>,
    /// Default database.
    #[arg(short = 'D', long)]
    pub database: Option<String>,
    /// Seconds between refreshes [default: 2].
    #[arg(short = 'i', long = "delay", value_name = "SECONDS")]
    pub delay: Option<f64>,
    /// Print one snapshot of the view to stdout and exit.
    #[arg(short = 'B', long)]
    pub batch: bool,
    /// In batch mode, print tab-separated values (notes go to stderr).
    #[arg(long)]
    pub tsv: bool,
    /// View to start with (or to print in batch mode).
    #[arg(long, value_enum)]
    pub view: Option<View>,
    /// No colours.
    #[arg(long)]
    pub nocolor: bool,
    /// Trace minnow-top itself with DBUG (bare: d:t:o,/tmp/minnow-top.trace).
    /// Also read from MYSQL_DEBUG.
    #[arg(short = '#', long, num_args = 0..=1, value_name = "CONTROL")]
    pub debug: Option<Option<String>>,
    /// Configuration file [default: ~/.config/minnow-top/config.toml].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// The configuration file's keys, all optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Server host.
    pub host: Option<String>,
    /// TCP port.
    pub port: Option<u16>,
    /// User.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Unix socket.
    pub socket: Option<String>,
    /// Default database.
    pub database: Option<String>,
    /// Seconds between refreshes.
    pub delay: Option<f64>,
    /// Start view.
    pub view: Option<View>,
    /// No colours.
    pub nocolor: Option<bool>,
}

impl Config {
    /// Parse configuration text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Load a file. A missing file is an empty configuration unless `required`.
    pub fn load(path: &Path, required: bool) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(Config::default())
            }
            Err(e) => Err(Error::Config {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        }
    }
}

/// Where the default configuration file lives, from `XDG_CONFIG_HOME` or `HOME`.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(x) = env("XDG_CONFIG_HOME").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(x).join("minnow-top/config.toml"));
    }
    env("HOME")
        .filter(|s| !s.is_empty())
        .map(|h| PathBuf::from(h).join(".config/minnow-top/config.toml"))
}

/// Everything `run` needs, after merging.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Connection.
    pub connect: ConnectOptions,
    /// `-p` was given without a value: ask on the terminal.
    pub prompt_password: bool,
    /// Refresh interval.
    pub delay: Duration,
    /// Batch mode.
    pub batch: bool,
    /// TSV output in batch mode.
    pub tsv: bool,
    /// Start view.
    pub view: View,
    /// No colours.
    pub nocolor: bool,
    /// DBUG control string for self-tracing, if any.
    pub debug: Option<String>,
}

/// Check a refresh interval in seconds.
pub fn parse_delay(secs: f64) -> Result<Duration> {
    if !secs.is_finite() || !(0.1..=3600.0).contains(&secs) {
        return Err(Error::Usage(format!(
            "invalid delay {secs}: must be between 0.1 and 3600 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl Settings {
    /// Merge the command line, the configuration file and the environment.
    pub fn resolve(args: &Args, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
        let config = match &args.config {
            Some(p) => Config::load(p, true)?,
            None => match default_config_path(env) {
                Some(p) => Config::load(&p, false)?,
                None => Config::default(),
            },
        };
        Settings::merge(args, &config, env)
    }

    /// Merge an already loaded configuration.
    pub fn merge(
        args: &Args,
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let d = ConnectOptions::default();
        let (password, prompt_password) = match &args.password {
            Some(Some(p)) => (Some(p.clone()), false),
            Some(None) => (None, true),
            None => (config.password.clone().or_else(|| env("MYSQL_PWD")), false),
        };
        let connect = ConnectOptions {
            host: args.host.clone().or(config.host.clone()).unwrap_or(d.host),
            port: args.port.or(config.port).unwrap_or(d.port),
            user: args.user.clone().or(config.user.clone()).unwrap_or(d.user),
            password,
            socket: args.socket.clone().or(config.socket.clone()),
            database: args.database.clone().or(config.database.clone()),
            ..d
        };
        let delay = parse_delay(args.delay.or(config.delay).unwrap_or(2.0))?;
        Ok(Settings {
            connect,
            prompt_password,
            delay,
            batch: args.batch,
            tsv: args.tsv,
            view: args.view.or(config.view).unwrap_or_default(),
            nocolor: args.nocolor || config.nocolor.unwrap_or(false),
            debug: match &args.debug {
                Some(Some(c)) => Some(c.clone()),
                Some(None) => Some(crate::trace::DEFAULT_CONTROL.to_string()),
                None => env("MYSQL_DEBUG").filter(|s| !s.is_empty()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn mysql_style_flags_parse() {
        let a = Args::try_parse_from([
            "minnow-top",
            "-h",
            "db1",
            "-P",
            "3307",
            "-u",
            "bob",
            "-psecret",
            "-D",
            "shop",
            "-i",
            "0.5",
            "--batch",
            "--view",
            "status",
        ])
        .expect("valid command line");
        let s = Settings::merge(&a, &Config::default(), &no_env).expect("merge");
        assert_eq!(s.connect.host, "db1");
        assert_eq!(s.connect.port, 3307);
        assert_eq!(s.connect.user, "bob");
        assert_eq!(s.connect.password.as_deref(), Some("secret"));
        assert_eq!(s.connect.database.as_deref(), Some("shop"));
        assert_eq!(s.delay, Duration::from_millis(500));
        assert!(s.batch);
        assert_eq!(s.view, View::Status);
        assert!(!s.prompt_password);
    }

    #[test]
    fn debug_flag_and_mysql_debug() {
        let env = |k: &str| (k == "MYSQL_DEBUG").then(|| "d,info".to_string());
        let a = Args::try_parse_from(["minnow-top", "--debug=d:t:o,/tmp/x"]).expect("valid");
        let s = Settings::merge(&a, &Config::default(), &env).expect("merge");
        assert_eq!(s.debug.as_deref(), Some("d:t:o,/tmp/x"));
        let a = Args::try_parse_from(["minnow-top", "--debug"]).expect("valid");
        let s = Settings::merge(&a, &Config::default(), &env).expect("merge");
        assert_eq!(s.debug.as_deref(), Some(crate::trace::DEFAULT_CONTROL));
        let a = Args::try_parse_from(["minnow-top", "-#d:t"]).expect("valid");
        let s = Settings::merge(&a, &Config::default(), &env).expect("merge");
        assert_eq!(s.debug.as_deref(), Some("d:t"));
        let a = Args::try_parse_from(["minnow-top"]).expect("valid");
        let s = Settings::merge(&a, &Config::default(), &env).expect("merge");
        assert_eq!(s.debug.as_deref(), Some("d,info"));
        let s = Settings::merge(&a, &Config::default(), &no_env).expect("merge");
        assert_eq!(s.debug, None);
    }

    #[test]
    fn bare_p_asks_for_a_password() {
        let a = Args::try_parse_from(["minnow-top", "-p"]).expect("valid");
        let s = Settings::merge(&a, &Config::default(), &no_env).expect("merge");
        assert!(s.prompt_password);
        assert_eq!(s.connect.password, None);
    }

    #[test]
    fn command_line_beats_config_beats_env() {
        let cfg = Config::parse(
            "host = \"cfg\"\nport = 4000\npassword = \"cfgpw\"\ndelay = 5\nview = \"variables\"\nnocolor = true\n",
            Path::new("x.toml"),
        )
        .expect("valid config");
        let a = Args::try_parse_from(["minnow-top", "-P", "5000"]).expect("valid");
        let env = |k: &str| (k == "MYSQL_PWD").then(|| "envpw".to_string());
        let s = Settings::merge(&a, &cfg, &env).expect("merge");
        assert_eq!(s.connect.host, "cfg");
        assert_eq!(s.connect.port, 5000);
        assert_eq!(s.connect.password.as_deref(), Some("cfgpw"));
        assert_eq!(s.delay, Duration::from_secs(5));
        assert_eq!(s.view, View::Variables);
        assert!(s.nocolor);
        let s2 = Settings::merge(&a, &Config::default(), &env).expect("merge");
        assert_eq!(s2.connect.password.as_deref(), Some("envpw"));
    }

    #[test]
    fn bad_config_names_file_and_position() {
        let e = Config::parse("hostt = \"x\"\n", Path::new("/etc/m.toml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/etc/m.toml"), "{msg}");
        assert!(msg.contains("hostt"), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
        assert_eq!(e.exit_code(), crate::error::exit::CONFIG);
    }

    #[test]
    fn bad_delay_is_a_usage_error() {
        let a = Args::try_parse_from(["minnow-top", "-i", "0"]).expect("parses");
        let e = Settings::merge(&a, &Config::default(), &no_env).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);
    }

    #[test]
    fn config_path_prefers_xdg() {
        let env = |k: &str| match k {
            "XDG_CONFIG_HOME" => Some("/x".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(
            default_config_path(&env),
            Some(PathBuf::from("/x/minnow-top/config.toml"))
        );
        let env2 = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        assert_eq!(
            default_config_path(&env2),
            Some(PathBuf::from("/home/u/.config/minnow-top/config.toml"))
        );
    }
}
