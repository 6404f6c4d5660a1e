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

/// Whether `tool` can be run (`--version`); prints why a test is skipped.
fn have_tool(tool: &str, why: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: {tool} is not installed ({why})");
    }
    ok
}

#[test]
fn matches_binutils_on_32_bit_elf() {
    let dir = TempDir::new("a2l-m32");
    let bin = dir.join("prog32");
    let mut c = Command::new("gcc");
    c.args(["-m32", "-g", "-O2", "-o"])
        .arg(&bin)
        .args(sources());
    let o = c.output().expect("run gcc");
    if !o.status.success() {
        eprintln!(
            "SKIPPED: gcc -m32 cannot build a 32-bit program (install gcc-multilib): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        return;
    }
    let bytes = std::fs::read(&bin).expect("read");
    let file = object::File::parse(&*bytes).expect("parse");
    assert!(!file.is_64(), "a 32-bit ELF");
    compare(&bin, true, true);
    let so = dir.join("lib32.so");
    gcc(
        &so,
        &sources()[1..],
        &["-m32", "-g", "-O2", "-fPIC", "-shared"],
    );
    compare(&so, true, false);
    let o0 = dir.join("prog32-o0");
    gcc(&o0, &sources(), &["-m32", "-gdwarf-4", "-O0"]);
    compare(&o0, true, false);
}

#[test]
fn dwz_compressed_dwarf_with_debugaltlink() {
    if !have_tool("dwz", "apt package dwz") {
        return;
    }
    let dir = TempDir::new("a2l-dwz");
    // DWARF 4: one file compressed alone, and two files sharing a dwz
    // multifile named by .gnu_debugaltlink (relative and absolute names).
    let mk = |name: &str, flags: &[&str]| {
        let p = dir.join(name);
        gcc(&p, &sources(), flags);
        p
    };
    let single = mk("single", &["-gdwarf-4", "-O2"]);
    run_ok(Command::new("dwz").arg(&single));
    compare(&single, true, false);
    let a = mk("a", &["-gdwarf-4", "-O2"]);
    let b = mk("b", &["-gdwarf-4", "-O0"]);
    run_ok(Command::new("dwz").current_dir(dir.path()).args([
        "-m",
        "common.debug",
        "-M",
        "common.debug",
        "a",
        "b",
    ]));
    let link = run_ok(
        Command::new("readelf")
            .args(["-p", ".gnu_debugaltlink"])
            .arg(&a),
    );
    assert!(String::from_utf8_lossy(&link.stdout).contains("common.debug"));
    compare(&a, true, false);
    compare(&b, true, false);
    // An absolute multifile name: found, and the line answers over all of
    // .text are binutils' on the file before compression.
    let c = mk("c", &["-gdwarf-4", "-O2"]);
    let d = mk("d", &["-gdwarf-4", "-O2", "-fno-inline"]);
    let c_orig = dir.join("c.orig");
    std::fs::copy(&c, &c_orig).expect("copy");
    let abs = dir.join("abs.debug");
    run_ok(
        Command::new("dwz")
            .arg("-m")
            .arg(&abs)
            .arg("-M")
            .arg(&abs)
            .arg(&c)
            .arg(&d),
    );
    let text = probe_text(&c_orig);
    let (want, _, _) = run_with_stdin(
        Path::new("addr2line"),
        &["-e".into(), c_orig.display().to_string()],
        &text,
    );
    let (got, err, code) = run_with_stdin(
        &resolve_stack(),
        &["addr2line".into(), "-e".into(), c.display().to_string()],
        &text,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
    assert!(
        want == got,
        "absolute dwz multifile: lines differ from the original's"
    );
    // DWARF 5: binutils 2.40 drops inline frames whose ranges dwz left in
    // .debug_rnglists, so the dwz'd file is compared with binutils on the
    // original: the same answers as before compression.
    let orig = mk("orig5", &["-g", "-O2"]);
    let z5 = dir.join("z5");
    std::fs::copy(&orig, &z5).expect("copy");
    run_ok(Command::new("dwz").arg(&z5));
    let text = probe_input(&orig, true);
    for opts in [&["-f", "-i", "-C"][..], &["-a", "-f", "-i", "-p"][..]] {
        let args = |bin: &Path| -> Vec<String> {
            opts.iter()
                .map(|s| s.to_string())
                .chain(["-e".to_string(), bin.display().to_string()])
                .collect()
        };
        let (want, _, _) = run_with_stdin(Path::new("addr2line"), &args(&orig), &text);
        let mut ours = vec!["addr2line".to_string()];
        ours.extend(args(&z5));
        let (got, err, code) = run_with_stdin(&resolve_stack(), &ours, &text);
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
        assert!(
            want == got,
            "{opts:?}: dwz'd DWARF 5 answers differ from the original's"
        );
    }
    // A missing multifile is a clear error naming it, not a panic.
    std::fs::remove_file(dir.join("common.debug")).expect("rm");
    let (out, err, code) = run_with_stdin(
        &resolve_stack(),
        &[
            "addr2line".into(),
            "-e".into(),
            a.display().to_string(),
            "0x1000".into(),
        ],
        b"",
    );
    assert_eq!(code, 1);
    assert!(out.is_empty());
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.contains("common.debug") && err.contains("not found"),
        "{err}"
    );
}

#[test]
fn split_dwarf_dwo_and_dwp() {
    let dir = TempDir::new("a2l-split");
    // DWARF 5 skeleton units (binutils ignores them and the .dwo files) and
    // DWARF 4 GNU split units (binutils uses their line tables), with the
    // .dwo files beside them, packed into a .dwp, and gone.
    let s5 = dir.join("s5");
    gcc(&s5, &sources(), &["-g", "-O2", "-gsplit-dwarf"]);
    compare(&s5, true, false);
    let s4 = dir.join("s4");
    gcc(&s4, &sources(), &["-gdwarf-4", "-O2", "-gsplit-dwarf"]);
    compare(&s4, true, false);
    if have_tool("dwp", "binutils' dwp packs .dwo files") {
        run_ok(
            Command::new("dwp")
                .current_dir(dir.path())
                .args(["-e", "s4", "-o", "s4.dwp"]),
        );
        compare(&s4, true, false);
    }
    for e in std::fs::read_dir(dir.path()).expect("ls").flatten() {
        if e.path().extension().is_some_and(|x| x == "dwo") {
            std::fs::remove_file(e.path()).expect("rm");
        }
    }
    compare(&s4, true, false);
    compare(&s5, true, false);
}

#[test]
fn interactive_caller_gets_each_answer_before_sending_the_next_address() {
    use std::io::{BufRead, BufReader, Write};
    let dir = TempDir::new("a2l-inter");
    let bin = dir.join("prog");
    gcc(&bin, &sources(), &["-g", "-O2"]);
    let syms = run_ok(Command::new("nm").arg(&bin));
    let addrs: Vec<String> = String::from_utf8_lossy(&syms.stdout)
        .lines()
        .filter(|l| l.contains(" T "))
        .filter_map(|l| l.split_whitespace().next().map(|a| format!("0x{a}")))
        .collect();
    assert!(addrs.len() > 3);
    let mut child = Command::new(resolve_stack())
        .args(["addr2line", "-f", "-e"])
        .arg(&bin)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    // A watchdog: a reader that waits for more input before answering
    // would hang this test; kill the child instead.
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_err()
        {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    });
    for a in &addrs {
        let want = run_ok(
            Command::new("addr2line")
                .args(["-f", "-e"])
                .arg(&bin)
                .arg(a),
        );
        stdin.write_all(format!("{a}\n").as_bytes()).expect("write");
        stdin.flush().expect("flush");
        let mut got = String::new();
        for _ in 0..2 {
            let n = stdout.read_line(&mut got).expect("read answer");
            assert!(n > 0, "no answer for {a} while the input stays open");
        }
        assert_eq!(got, String::from_utf8_lossy(&want.stdout), "{a}");
    }
    drop(stdin);
    let _ = done_tx.send(());
    let _ = watchdog.join();
    assert!(child.wait().expect("wait").success());
}
