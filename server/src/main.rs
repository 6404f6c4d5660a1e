//! `minnowd`: parses the command line and runs the server.

fn main() -> anyhow::Result<()> {
    let opts = minnow_server::Options::parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    minnow_server::run(opts)?;
    Ok(())
}
