//! `resolve-stack`: resolves crash-log frames to functions and source lines.
//! All logic lives in [`stackresolve::cli`].
fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut stdin = std::io::BufReader::with_capacity(1 << 14, std::io::stdin());
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::with_capacity(1 << 14, stdout.lock());
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    let code = stackresolve::cli::run(args, &mut stdin, &mut stdout, &mut stderr);
    let _ = std::io::Write::flush(&mut stdout);
    std::process::exit(code);
}
