//! The demangler against binutils' `c++filt --no-verbose` (the flags `addr2line -C`
//! and `nm -C` use) on every symbol of real binaries.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use stackresolve::symbolize::demangle::demangle;

use crate::util::{TempDir, data, resolve_stack, run_ok};

/// All defined and undefined symbol names of `bin` (static and dynamic).
fn symbol_names(bin: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for args in [&["-a"][..], &["-D"][..]] {
        let out = Command::new("nm").args(args).arg(bin).output().expect("nm");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some(n) = line.split_whitespace().last()
                && n.len() > 2
            {
                names.push(n.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// (names compared, mismatches as (name, c++filt, ours)).
fn compare_with_cxxfilt(names: &[String]) -> (usize, Vec<(String, String, String)>) {
    let mut child = Command::new("c++filt")
        .arg("--no-verbose")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run c++filt (binutils)");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = names.join("\n") + "\n";
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("c++filt");
    let _ = writer.join();
    let want = String::from_utf8_lossy(&out.stdout).into_owned();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(want.len(), names.len(), "c++filt answers one line per name");
    let mut bad = Vec::new();
    for (n, w) in names.iter().zip(want) {
        let got = demangle(n).unwrap_or_else(|| n.clone());
        if got != w {
            bad.push((n.clone(), w.to_string(), got));
        }
    }
    (names.len(), bad)
}

#[test]
fn cpp_names_match_cxxfilt_on_a_real_cpp_binary() {
    let dir = TempDir::new("dmg-cpp");
    let bin = dir.join("cpp");
    run_ok(
        Command::new("g++")
            .args(["-g", "-O2", "-o"])
            .arg(&bin)
            .arg(data("prog_cpp.cpp")),
    );
    let mut names = symbol_names(&bin);
    assert!(names.iter().filter(|n| n.starts_with("_Z")).count() > 20);
    // And the C++ runtime the program links, a large real C++ library.
    let ldd = run_ok(Command::new("ldd").arg(&bin));
    let libstdcxx = String::from_utf8_lossy(&ldd.stdout)
        .lines()
        .find(|l| l.contains("libstdc++"))
        .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        .expect("the program links libstdc++");
    let lib_names = symbol_names(Path::new(&libstdcxx));
    assert!(lib_names.iter().filter(|n| n.starts_with("_Z")).count() > 3000);
    names.extend(lib_names);
    let (n, bad) = compare_with_cxxfilt(&names);
    assert!(
        bad.is_empty(),
        "{} of {n} names differ: {:#?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
}

#[test]
fn rust_names_match_cxxfilt_on_a_real_rust_binary() {
    // resolve-stack itself: legacy Rust mangling, plus C and C++ runtime names.
    let names = symbol_names(&resolve_stack());
    assert!(names.iter().filter(|n| n.starts_with("_ZN")).count() > 1000);
    let (n, bad) = compare_with_cxxfilt(&names);
    assert!(
        bad.is_empty(),
        "{} of {n} names differ: {:#?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
}
