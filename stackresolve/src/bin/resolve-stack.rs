//! `resolve-stack`: resolves crash-log frames to functions and source lines.
//! All logic lives in [`stackresolve::cli`].
fn main() {
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let argv0 = argv.next().unwrap_or_default();
    let args = stackresolve::cli::mode_args(&argv0, argv.collect());
    let mut stdin = std::io::BufReader::with_capacity(1 << 14, std::io::stdin());
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::with_capacity(1 << 14, stdout.lock());
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    let code = stackresolve::cli::run(args, &mut stdin, &mut stdout, &mut stderr);
    let _ = std::io::Write::flush(&mut stdout);
    std::process::exit(code);
}
