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
    let input = probe_input(bin, every_byte);
    for opts in option_sets(all_options) {
        let mut args: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        args.push("-e".into());
        args.push(bin.display().to_string());
        let (want, want_err, want_code) = run_with_stdin(Path::new("addr2line"), &args, &input);
        let mut ours = vec!["addr2line".to_string()];
        ours.extend(args.iter().cloned());
        let (got, got_err, got_code) = run_with_stdin(&resolve_stack(), &ours, &input);
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
