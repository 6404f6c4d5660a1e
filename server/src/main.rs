//! `minnowd`: parses the command line and runs the server.

use std::process::ExitCode;

fn main() -> ExitCode {
    let opts = minnow_server::Options::parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    match minnow_server::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let text = s.to_string();
                if !msg.contains(&text) {
                    msg.push_str(": ");
                    msg.push_str(&text);
                }
                source = s.source();
            }
            eprintln!("minnowd: [ERROR] {msg}");
            ExitCode::FAILURE
        }
    }
}
