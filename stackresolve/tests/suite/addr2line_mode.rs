//! `resolve-stack addr2line` must print byte for byte what binutils prints.

use std::path::{Path, PathBuf};
use std::process::Command;

use stackresolve::symbolize::object::{self, Object, ObjectSection, ObjectSymbol};

use crate::util::{TempDir, data, gcc, resolve_stack, run_ok, run_with_stdin, run_with_stdin_env};

fn sources() -> Vec<PathBuf> {
    ["prog_main.c", "prog_util.c", "prog_extra.c"]
        .iter()
        .map(|n| data(n))
        .collect()
}

/// Addresses to probe: every byte of `.text` and a margin around it, every
/// symbol, random addresses, and odd spellings.
fn probe_input(bin: &Path, every_byte: bool) -> Vec<u8> {
    let bytes = std::fs::read(bin).expect("read binary");
    let file = object::File::parse(&*bytes).expect("parse binary");
    let text = file.section_by_name(".text").expect(".text");
    let (lo, hi) = (text.address(), text.address() + text.size());
    let mut lines: Vec<String> = Vec::new();
    let step = if every_byte { 1 } else { 5 };
    let mut a = lo.saturating_sub(0x300);
    while a < hi + 0x100 {
        lines.push(format!("{a:#x}"));
        a += step;
    }
    for s in file.symbols().chain(file.dynamic_symbols()) {
        lines.push(format!("{:x}", s.address()));
        if let Ok(n) = s.name()
            && !n.is_empty()
        {
            lines.push(n.to_string());
            lines.push(format!("{n}+0x3"));
        }
    }
    // Deterministic pseudo-random addresses over the first 64 KiB and far away.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lines.push(format!("0x{:x}", x % 0x10000));
        lines.push(format!("{:x}", x));
    }
    for odd in [
        "",
        "0",
        "zz",
        "foo",
        "-5",
        "+10",
        "  12ab  ",
        "0x",
        "0X1F",
        "nosuch+4",
        "fffffffffffffffffff",
        "main+-4",
        "\t0x1100",
    ] {
        lines.push(odd.to_string());
    }
    lines.push("1".repeat(150));
    let mut out = lines.join("\n").into_bytes();
    out.push(b'\n');
    out
}

fn option_sets(all: bool) -> Vec<Vec<&'static str>> {
    let flags = ["-a", "-f", "-i", "-C", "-p", "-s"];
    if all {
        (0..64u32)
            .map(|m| {
                (0..6)
                    .filter(|b| m & (1 << b) != 0)
                    .map(|b| flags[b])
                    .collect()
            })
            .collect()
    } else {
        vec![
            vec![],
            vec!["-f"],
            vec!["-a", "-f", "-i", "-p"],
            vec!["-f", "-i", "-C", "-s"],
            vec!["-a", "-i"],
            vec!["-p", "-i", "-s"],
        ]
    }
}

fn compare(bin: &Path, every_byte: bool, all_options: bool) {
    compare_input(bin, &probe_input(bin, every_byte), all_options);
}

/// Addresses inside `.text` only: every third byte, and every function
/// symbol of `.text` by address, by name and as `NAME+0x3` (names short
/// enough for binutils' 100-byte input buffer, which cuts longer lines into
/// several inputs, whose parts are addresses outside `.text`).
fn probe_text(bin: &Path) -> Vec<u8> {
    let bytes = std::fs::read(bin).expect("read binary");
    let file = object::File::parse(&*bytes).expect("parse binary");
    let text = file.section_by_name(".text").expect(".text");
    let (lo, hi) = (text.address(), text.address() + text.size());
    let mut lines: Vec<String> = (lo..hi).step_by(3).map(|a| format!("{a:#x}")).collect();
    for s in file.symbols() {
        if s.kind() == object::SymbolKind::Text
            && (lo..hi).contains(&s.address())
            && let Ok(n) = s.name()
            && !n.is_empty()
            && n.len() < 90
        {
            lines.push(format!("{:x}", s.address()));
            lines.push(n.to_string());
            lines.push(format!("{n}+0x3"));
        }
    }
    let mut out = lines.join("\n").into_bytes();
    out.push(b'\n');
    out
}

fn compare_input(bin: &Path, input: &[u8], all_options: bool) {
    for opts in option_sets(all_options) {
        let mut args: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        args.push("-e".into());
        args.push(bin.display().to_string());
        let (want, want_err, want_code) = run_with_stdin(Path::new("addr2line"), &args, input);
        let mut ours = vec!["addr2line".to_string()];
        ours.extend(args.iter().cloned());
        let (got, got_err, got_code) = run_with_stdin(&resolve_stack(), &ours, input);
        assert_eq!(
            want_code,
            got_code,
            "exit status for {opts:?} on {}",
            bin.display()
        );
        if want != got {
            let w = String::from_utf8_lossy(&want);
            let g = String::from_utf8_lossy(&got);
            let first = w
                .lines()
                .zip(g.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| format!("line {}: binutils {a:?}, ours {b:?}", i + 1))
                .unwrap_or_else(|| format!("lengths {} vs {}", w.len(), g.len()));
            panic!(
                "{opts:?} on {} differs from binutils: {first}\nstderr: {}",
                bin.display(),
                String::from_utf8_lossy(&got_err)
            );
        }
        assert_eq!(want_err.is_empty(), got_err.is_empty());
    }
}

#[test]
fn matches_binutils_dwarf5_pie_all_option_combinations() {
    let dir = TempDir::new("a2l-dw5");
    let bin = dir.join("prog");
    gcc(&bin, &sources(), &["-g", "-O2"]);
    compare(&bin, true, true);
}

#[test]
fn parallel_batches_keep_input_order() {
    let dir = TempDir::new("a2l-par");
    let bin = dir.join("prog");
    gcc(&bin, &sources(), &["-g", "-O2"]);
    let one = probe_input(&bin, true);
    let input = [one.as_slice(), one.as_slice(), one.as_slice()].concat();
    let args: Vec<String> = ["-a", "-f", "-i", "-e"]
        .iter()
        .map(|s| s.to_string())
        .chain([bin.display().to_string()])
        .collect();
    let (want, _, _) = run_with_stdin(Path::new("addr2line"), &args, &input);
    let mut ours = vec!["addr2line".to_string()];
    ours.extend(args.iter().cloned());
    for threads in ["1", "2", "3"] {
        let (got, _, code) = run_with_stdin_env(
            &resolve_stack(),
            &ours,
            &input,
            &[("RESOLVE_STACK_THREADS", threads)],
        );
        assert_eq!(code, 0);
        assert!(
            want == got,
            "{threads} threads: output differs from binutils"
        );
    }
}

#[test]
fn matches_binutils_shared_object_all_option_combinations() {
    let dir = TempDir::new("a2l-so");
    let bin = dir.join("libprog.so");
    gcc(&bin, &sources()[1..], &["-g", "-O2", "-shared", "-fPIC"]);
    compare(&bin, true, true);
}

#[test]
fn matches_binutils_dwarf4_nopie_o0_and_compressed() {
    let dir = TempDir::new("a2l-var");
    for (name, flags) in [
        ("dw4", &["-gdwarf-4", "-O2"][..]),
        ("nopie", &["-g", "-O2", "-no-pie"][..]),
        ("o0", &["-g", "-O0"][..]),
        ("gz", &["-g", "-gz", "-O2"][..]),
        ("o3", &["-g", "-O3", "-fno-omit-frame-pointer"][..]),
        ("split", &["-g", "-O2", "-gsplit-dwarf"][..]),
        ("lto", &["-g", "-O2", "-flto"][..]),
        ("lto4", &["-gdwarf-4", "-O2", "-flto"][..]),
        ("g1", &["-g1", "-O2"][..]),
        (
            "gcsections",
            &["-g", "-O2", "-ffunction-sections", "-Wl,--gc-sections"][..],
        ),
    ] {
        let bin = dir.join(name);
        gcc(&bin, &sources(), flags);
        compare(&bin, name != "o3", false);
    }
}

#[test]
fn matches_binutils_when_stripped() {
    let dir = TempDir::new("a2l-strip");
    let full = dir.join("full");
    gcc(&full, &sources(), &["-g", "-O2"]);
    // strip --strip-debug + .gnu_debuglink next to it
    let a = dir.join("a");
    std::fs::copy(&full, &a).expect("copy");
    run_ok(
        Command::new("objcopy")
            .arg("--only-keep-debug")
            .arg(&a)
            .arg(dir.join("a.debug")),
    );
    run_ok(Command::new("strip").arg("--strip-debug").arg(&a));
    run_ok(
        Command::new("objcopy")
            .arg(format!(
                "--add-gnu-debuglink={}",
                dir.join("a.debug").display()
            ))
            .arg(&a),
    );
    compare(&a, true, false);
    // strip --strip-all + debug file in .debug/
    std::fs::create_dir_all(dir.join("sub/.debug")).expect("mkdir");
    let b = dir.join("sub/b");
    std::fs::copy(&full, &b).expect("copy");
    run_ok(
        Command::new("objcopy")
            .arg("--only-keep-debug")
            .arg(&b)
            .arg(dir.join("b.debug")),
    );
    run_ok(Command::new("strip").arg("--strip-all").arg(&b));
    run_ok(
        Command::new("objcopy")
            .arg(format!(
                "--add-gnu-debuglink={}",
                dir.join("b.debug").display()
            ))
            .arg(&b),
    );
    std::fs::rename(dir.join("b.debug"), dir.join("sub/.debug/b.debug")).expect("mv");
    compare(&b, true, false);
    // No DWARF at all: symbol table only, then dynamic symbols only.
    let c = dir.join("c");
    std::fs::copy(&full, &c).expect("copy");
    run_ok(Command::new("strip").arg("-g").arg(&c));
    compare(&c, true, false);
    let d = dir.join("libd.so");
    gcc(&d, &sources()[1..], &["-g", "-O2", "-shared", "-fPIC"]);
    run_ok(Command::new("strip").arg("--strip-all").arg(&d));
    compare(&d, true, false);
}

#[test]
fn addresses_on_the_command_line_and_missing_file() {
    let dir = TempDir::new("a2l-argv");
    let bin = dir.join("prog");
    gcc(&bin, &sources(), &["-g", "-O2"]);
    let syms = run_ok(Command::new("nm").arg("-n").arg(&bin));
    let addrs: Vec<String> = String::from_utf8_lossy(&syms.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    for opts in [
        &["-a", "-f", "-i", "-p"][..],
        &["-fiC"][..],
        &["-s", "-f"][..],
    ] {
        let mut args: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        args.push("-e".into());
        args.push(bin.display().to_string());
        args.extend(addrs.iter().cloned());
        let want = run_ok(Command::new("addr2line").args(&args));
        let got = run_ok(Command::new(resolve_stack()).arg("addr2line").args(&args));
        assert_eq!(
            String::from_utf8_lossy(&want.stdout),
            String::from_utf8_lossy(&got.stdout),
            "{opts:?}"
        );
    }
    let missing = dir.join("nope");
    let want = Command::new("addr2line")
        .arg("-e")
        .arg(&missing)
        .arg("0")
        .output()
        .expect("run");
    let got = Command::new(resolve_stack())
        .args(["addr2line", "-e"])
        .arg(&missing)
        .arg("0")
        .output()
        .expect("run");
    assert_eq!(want.status.code(), got.status.code());
    assert!(want.stdout.is_empty() && got.stdout.is_empty());
    assert!(String::from_utf8_lossy(&got.stderr).contains("No such file"));
}

/// g++ -g: both test units, or one as a shared object.
fn gxx(out: &Path, units: &[&str], flags: &[&str]) {
    let mut c = Command::new("g++");
    c.args(flags).arg("-o").arg(out);
    for u in units {
        c.arg(data(u));
    }
    run_ok(&mut c);
}

#[test]
fn matches_binutils_on_cpp_all_option_combinations() {
    // Methods, templates, constructors, operators, lambdas (templates
    // instantiated with them have no linkage name), anonymous namespaces,
    // extern "C", main with a .cold part, inlined C++ functions.
    let dir = TempDir::new("a2l-cpp");
    let bin = dir.join("cpp");
    gxx(&bin, &["prog_cpp.cpp", "prog_cpp2.cpp"], &["-g", "-O2"]);
    compare(&bin, true, true);
}

#[test]
fn matches_binutils_on_cpp_variants_and_in_parallel() {
    let dir = TempDir::new("a2l-cppv");
    for (name, units, flags) in [
        (
            "o0",
            &["prog_cpp.cpp", "prog_cpp2.cpp"][..],
            &["-g", "-O0"][..],
        ),
        (
            "o3",
            &["prog_cpp.cpp", "prog_cpp2.cpp"][..],
            &["-g", "-O3"][..],
        ),
        (
            "dw4",
            &["prog_cpp.cpp", "prog_cpp2.cpp"][..],
            &["-gdwarf-4", "-O2"][..],
        ),
        (
            "so",
            &["prog_cpp2.cpp"][..],
            &["-g", "-O2", "-fPIC", "-shared"][..],
        ),
    ] {
        let bin = dir.join(name);
        gxx(&bin, units, flags);
        compare(&bin, true, false);
    }
    // binutils names a function without a linkage name after the symbol
    // found at the first lookup: answers must come in input order whatever
    // the number of threads (input: the whole text, three times, reversed
    // once).
    let bin = dir.join("o0");
    let one = probe_input(&bin, true);
    let mut rev: Vec<&[u8]> = one.split(|&b| b == b'\n').collect();
    rev.reverse();
    let rev = rev.join(&b'\n');
    let input = [one.as_slice(), rev.as_slice(), b"\n", one.as_slice()].concat();
    let args: Vec<String> = ["-f", "-i", "-C", "-e"]
        .iter()
        .map(|s| s.to_string())
        .chain([bin.display().to_string()])
        .collect();
    let (want, _, _) = run_with_stdin(Path::new("addr2line"), &args, &input);
    let mut ours = vec!["addr2line".to_string()];
    ours.extend(args.iter().cloned());
    for threads in ["1", "3"] {
        let (got, _, code) = run_with_stdin_env(
            &resolve_stack(),
            &ours,
            &input,
            &[
                ("RESOLVE_STACK_THREADS", threads),
                ("RESOLVE_STACK_BATCH", "5000"),
            ],
        );
        assert_eq!(code, 0);
        assert!(
            want == got,
            "{threads} threads: output differs from binutils"
        );
    }
}

/// rustc -g -O of the Rust test program with the given mangling; `None`
/// (with the reason) if the compiler refuses.
fn rustc(out: &Path, mangling: &str) -> Option<()> {
    let mut c = Command::new("rustc");
    c.args(["-g", "-C", "opt-level=2", "--edition", "2021", "-o"])
        .arg(out)
        .arg(data("prog_rust.rs"))
        .arg(format!("-Csymbol-mangling-version={mangling}"));
    if mangling == "legacy" {
        // Legacy mangling is behind -Z unstable-options on current stable
        // compilers (v0 is the default); RUSTC_BOOTSTRAP lets a stable
        // rustc accept it.
        c.env("RUSTC_BOOTSTRAP", "1").arg("-Zunstable-options");
    }
    let o = c.output().expect("run rustc");
    if !o.status.success() {
        eprintln!(
            "rustc cannot build with {mangling} mangling: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        return None;
    }
    Some(())
}

#[test]
fn matches_binutils_on_rust_v0_and_legacy_mangling() {
    let dir = TempDir::new("a2l-rust");
    let mut built = 0;
    for mangling in ["v0", "legacy"] {
        let bin = dir.join(mangling);
        if rustc(&bin, mangling).is_none() {
            continue;
        }
        built += 1;
        let syms = run_ok(Command::new("nm").arg(&bin));
        let text = String::from_utf8_lossy(&syms.stdout);
        let want = if mangling == "v0" { " _RNv" } else { "17h" };
        assert!(text.contains(want), "{mangling} symbols in the binary");
        // Only .text: below it (.rodata, notes) binutils answers through the
        // line sequences of std functions the linker discarded (relocated to
        // address 0), and which of them it knows depends on the addresses
        // looked up before; that is not emulated.
        compare_input(&bin, &probe_text(&bin), false);
    }
    assert!(built > 0, "rustc built no test binary");
}
