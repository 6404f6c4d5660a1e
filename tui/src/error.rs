//! The crate's error type and the exit codes the binary maps it to.

use std::path::PathBuf;

/// Process exit codes used by `minnow-top`.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A server error or another failure not listed here.
    pub const FAILURE: u8 = 1;
    /// Bad command line (clap's own convention).
    pub const USAGE: u8 = 2;
    /// The server could not be reached (refused, unreachable, no such socket, timeout).
    pub const CONNECT: u8 = 3;
    /// The server refused the credentials (MySQL error 1045 / 1044 / 1049 at connect).
    pub const AUTH: u8 = 4;
    /// The configuration file could not be read or parsed.
    pub const CONFIG: u8 = 5;
    /// The terminal could not be set up or drawn on.
    pub const TERMINAL: u8 = 6;
}

/// Everything that can go wrong in `minnow-top`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached at all.
    #[error("cannot connect to {target}: {reason}")]
    Connect {
        /// `host:port` or the socket path.
        target: String,
        /// What the operating system or driver said.
        reason: String,
    },
    /// The server was reached but refused the login (bad user, password or database).
    #[error("access denied by {target}: {message} (error {code})")]
    Auth {
        /// `host:port` or the socket path.
        target: String,
        /// MySQL error code (1045, 1044, 1049, ...).
        code: u16,
        /// The server's message.
        message: String,
    },
    /// The server answered a statement with an error packet.
    #[error("server error {code} ({state}): {message}")]
    Server {
        /// MySQL error code.
        code: u16,
        /// SQLSTATE.
        state: String,
        /// The server's message.
        message: String,
    },
    /// The connection broke after it had been established.
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// The configuration file is unreadable or malformed.
    #[error("config file {path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column when the parser knows them.
        message: String,
    },
    /// A command-line value is invalid in a way clap cannot check.
    #[error("{0}")]
    Usage(String),
    /// The terminal could not be set up, read or drawn on.
    #[error("terminal: {0}")]
    Terminal(String),
    /// Writing batch output failed.
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
}

impl Error {
    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Connect { .. } => exit::CONNECT,
            Error::Auth { .. } => exit::AUTH,
            Error::Config { .. } => exit::CONFIG,
            Error::Usage(_) => exit::USAGE,
            Error::Terminal(_) => exit::TERMINAL,
            Error::Server { .. } | Error::ConnectionLost(_) | Error::Output(_) => exit::FAILURE,
        }
    }

    /// True when the error means the connection is gone and a reconnect is needed.
    pub fn is_connection_error(&self) -> bool {
        matches!(self, Error::Connect { .. } | Error::ConnectionLost(_))
    }

    /// The MySQL error code if the server sent one.
    pub fn server_code(&self) -> Option<u16> {
        match self {
            Error::Server { code, .. } | Error::Auth { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
