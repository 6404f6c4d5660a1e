//! `minnow-top`: parse arguments, call the library, map errors to exit codes.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = minnow_top::options::Args::parse();
    match minnow_top::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("minnow-top: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
