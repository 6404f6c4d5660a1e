//! `minnowd`: parses the command line and runs the server.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let opts = minnow_server::Options::parse();
    minnow_server::run(opts)?;
    Ok(())
}
