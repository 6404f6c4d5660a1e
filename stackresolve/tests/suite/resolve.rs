//! `resolve-stack` on a real crash: a gcc -g -O2 plugin crashes inside a host
//! whose SIGSEGV handler prints glibc frames and a module map.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{TempDir, data, gcc, resolve_stack, run_ok, run_with_stdin};

struct Crash {
    dir: TempDir,
    host: PathBuf,
    plugin: PathBuf,
    log: String,
}

fn crash() -> Crash {
    let dir = TempDir::new("crash");
    let plugin = dir.join("libcrashplugin.so");
    gcc(
        &plugin,
        &[data("crash_plugin.c")],
        &["-g", "-O2", "-shared", "-fPIC", "-Wl,--build-id=sha1"],
    );
    let host = dir.join("host");
    let mut flags = vec!["-g", "-O2", "-Wl,--build-id=sha1", "-Wl,-rpath,$ORIGIN"];
    let libdir = format!("-L{}", dir.path().display());
    flags.push(&libdir);
    let mut c = Command::new("gcc");
    c.args(&flags)
        .arg("-o")
        .arg(&host)
        .arg(data("crash_host.c"))
        .arg("-lcrashplugin");
    run_ok(&mut c);
    let out = Command::new(&host).output().expect("run host");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(11), "the host dies of SIGSEGV");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(log.contains("Module map:"), "{log}");
    Crash {
        dir,
        host,
        plugin,
        log,
    }
}

/// Line number of a `MARK:name` comment in a test source.
fn mark(file: &str, name: &str) -> u32 {
    let text = std::fs::read_to_string(data(file)).expect("read source");
    let pos = text
        .lines()
        .position(|l| l.contains(&format!("MARK:{name} ")))
        .expect("marker");
    pos as u32 + 1
}

/// `addr2line -fie` pairs for an address.
fn binutils(bin: &Path, addr: &str) -> Vec<(String, String)> {
    let out = run_ok(Command::new("addr2line").arg("-fie").arg(bin).arg(addr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .map(|c| {
            let loc = c.get(1).copied().unwrap_or("");
            (
                c[0].to_string(),
                loc.split(" (discriminator")
                    .next()
                    .unwrap_or(loc)
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn annotates_a_real_plugin_crash() {
    let c = crash();
    let log_path = c.dir.join("crash.log");
    std::fs::write(&log_path, &c.log).expect("write log");
    let out = Command::new(resolve_stack())
        .arg(&log_path)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every input line is still there, in order.
    let mut it = text.lines();
    for l in c.log.lines() {
        assert!(it.any(|o| o == l), "line {l:?} lost in\n{text}");
    }
    let src = data("crash_plugin.c").display().to_string();
    let expect = [
        format!("    crash_now at {src}:{}", mark("crash_plugin.c", "crash")),
        format!(
            "        inlined into depth1 at {src}:{}",
            mark("crash_plugin.c", "call_crash")
        ),
        format!(
            "    depth0 at {src}:{}",
            mark("crash_plugin.c", "call_depth1")
        ),
        format!(
            "    plugin_entry at {src}:{}",
            mark("crash_plugin.c", "call_depth0")
        ),
        format!(
            "    main at {}:{}",
            data("crash_host.c").display(),
            mark("crash_host.c", "call_entry")
        ),
    ];
    let mut it = text.lines();
    for e in &expect {
        assert!(it.any(|o| o == e), "missing {e:?} (in order) in\n{text}");
    }
    assert!(text.contains(&format!(
        "resolve-stack: module {}: using {}, build-id matches",
        c.plugin.display(),
        c.plugin.display()
    )));

    // JSON: the looked-up addresses agree with binutils addr2line -fie.
    let out = Command::new(resolve_stack())
        .args(["--format", "json"])
        .arg(&log_path)
        .output()
        .expect("run");
    let json = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut checked = 0;
    for obj in json.split("{\"line\":").skip(1) {
        let field = |name: &str| -> Option<String> {
            let k = format!("\"{name}\":\"");
            let p = obj.find(&k)? + k.len();
            Some(obj[p..].split('"').next()?.to_string())
        };
        let Some(object) = field("object") else {
            continue;
        };
        let Some(lookup) = field("lookup") else {
            continue;
        };
        let bin = if object.ends_with("libcrashplugin.so") {
            &c.plugin
        } else if object.ends_with("host") {
            &c.host
        } else {
            continue;
        };
        let want = binutils(bin, &lookup);
        let resolved = obj.split("\"resolved\":[").nth(1).unwrap_or("");
        for (func, loc) in &want {
            assert!(
                resolved.contains(&format!("\"function\":\"{func}\"")),
                "{func} missing for {object} {lookup}: {resolved}"
            );
            let line = loc.rsplit(':').next().unwrap_or("");
            let line = if line == "?" { "0" } else { line };
            assert!(
                resolved.contains(&format!("\"line\":{line}")),
                "{loc} for {lookup}: {resolved}"
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 4,
        "checked {checked} frames against binutils\n{json}"
    );
}

#[test]
fn frames_only_prints_the_frames_and_their_resolutions_and_nothing_else() {
    let c = crash();
    let args = ["--frames-only".to_string(), "-".to_string()];
    let (out, err, code) = run_with_stdin(&resolve_stack(), &args, c.log.as_bytes());
    let text = String::from_utf8_lossy(&out).into_owned();
    let err = String::from_utf8_lossy(&err).into_owned();
    assert_eq!(code, 0, "{text}\n{err}");
    // The unindented output lines are exactly the log's glibc frame lines
    // (`path(...)[0xPC]`), in order: no header, no module map, nothing else.
    let frame_lines: Vec<&str> = c
        .log
        .lines()
        .filter(|l| l.contains("[0x") && l.ends_with(']') && !l.starts_with("0x"))
        .collect();
    assert!(frame_lines.len() >= 5, "{}", c.log);
    let printed: Vec<&str> = text.lines().filter(|l| !l.starts_with("    ")).collect();
    assert_eq!(printed, frame_lines, "stdout:\n{text}");
    for l in c
        .log
        .lines()
        .filter(|l| !l.is_empty() && !frame_lines.contains(l))
    {
        assert!(!text.contains(l), "non-frame line {l:?} printed:\n{text}");
    }
    // Each resolution directly follows its frame line, as in the full output.
    let src = data("crash_plugin.c").display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let fault = lines
        .iter()
        .position(|l| l.contains("libcrashplugin.so(") && !l.starts_with(' '))
        .expect("plugin frame");
    assert_eq!(
        lines[fault + 1..fault + 3],
        [
            format!("    crash_now at {src}:{}", mark("crash_plugin.c", "crash")),
            format!(
                "        inlined into depth1 at {src}:{}",
                mark("crash_plugin.c", "call_crash")
            ),
        ],
        "{text}"
    );
    // The whole output is the full annotation minus the log's other lines and
    // minus the module lines, which went to stderr instead.
    let (full, _, code) = run_with_stdin(&resolve_stack(), &["-".into()], c.log.as_bytes());
    assert_eq!(code, 0);
    let full = String::from_utf8_lossy(&full).into_owned();
    let mut kept = String::new();
    let mut in_frame = false;
    for l in full.lines() {
        if l.starts_with("    ") {
            if in_frame {
                kept.push_str(l);
                kept.push('\n');
            }
            continue;
        }
        in_frame = frame_lines.contains(&l);
        if in_frame {
            kept.push_str(l);
            kept.push('\n');
        }
    }
    assert_eq!(text, kept);
    let modules: Vec<&str> = full
        .lines()
        .filter(|l| l.starts_with("resolve-stack: module "))
        .collect();
    assert!(!modules.is_empty(), "{full}");
    assert_eq!(err.lines().collect::<Vec<_>>(), modules, "stderr:\n{err}");
    // JSON output holds only frames already: the combination is refused.
    let args = [
        "--frames-only".into(),
        "--format".into(),
        "json".into(),
        "-".into(),
    ];
    let (out, err, code) = run_with_stdin(&resolve_stack(), &args, c.log.as_bytes());
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(String::from_utf8_lossy(&err).contains("--frames-only"));
}

#[test]
fn missing_and_mismatched_modules_have_their_own_exit_codes() {
    let c = crash();
    // Missing: the report names a plugin path that does not exist.
    let moved = c.log.replace(
        &c.plugin.display().to_string(),
        "/nonexistent/dir/libcrashplugin.so",
    );
    let (out, _, code) = run_with_stdin(&resolve_stack(), &["-".into()], moved.as_bytes());
    let text = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("resolve-stack: module /nonexistent/dir/libcrashplugin.so: MISSING"));
    // Found again through --plugin-dir.
    let args = vec![
        "--plugin-dir".to_string(),
        c.dir.path().display().to_string(),
        "-".into(),
    ];
    let (out, _, code) = run_with_stdin(&resolve_stack(), &args, moved.as_bytes());
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    assert!(String::from_utf8_lossy(&out).contains("    crash_now at "));
    // Mismatch: rebuild the plugin differently; refused unless --force.
    gcc(
        &c.plugin,
        &[data("crash_plugin.c")],
        &[
            "-g",
            "-O1",
            "-shared",
            "-fPIC",
            "-Wl,--build-id=sha1",
            "-DREBUILT",
        ],
    );
    let (out, _, code) = run_with_stdin(&resolve_stack(), &["-".into()], c.log.as_bytes());
    let text = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(code, 5, "{text}");
    assert!(text.contains("MISMATCH"), "{text}");
    assert!(!text.contains("    crash_now at "), "{text}");
    let (out, _, code) = run_with_stdin(
        &resolve_stack(),
        &["--force".into(), "-".into()],
        c.log.as_bytes(),
    );
    assert_eq!(code, 0);
    assert!(String::from_utf8_lossy(&out).contains("FORCED"));
    // Unreadable input.
    let out = Command::new(resolve_stack())
        .arg(c.dir.join("no-such.log"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn resolve_stack_dump_compatibility() {
    let c = crash();
    let nm = run_ok(Command::new("nm").arg("-n").arg(&c.plugin));
    let sym = c.dir.join("syms.txt");
    std::fs::write(&sym, &nm.stdout).expect("write");
    let nm_text = String::from_utf8_lossy(&nm.stdout).into_owned();
    let depth0 = nm_text
        .lines()
        .find(|l| l.ends_with(" T depth0"))
        .and_then(|l| u64::from_str_radix(l.split(' ').next().unwrap_or(""), 16).ok())
        .expect("depth0");
    let dump = format!("[{:#x}]\n0x{:x}\nplain line\n0x1\n", depth0 + 5, depth0);
    let dumpfile = c.dir.join("dump.txt");
    std::fs::write(&dumpfile, dump).expect("write");
    let out = run_ok(
        Command::new(resolve_stack())
            .arg("-s")
            .arg(&sym)
            .arg("-n")
            .arg(&dumpfile),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected = format!(
        "{:#x} depth0 + 5\n{:#x} depth0 + 0\nplain line\n0x1 (?)\n",
        depth0 + 5,
        depth0
    );
    assert_eq!(text, expected);
    // MySQL's positional form `resolve_stack_dump [options] SYMFILE [DUMPFILE]`
    // (dump on stdin when absent), through the mode word and through a
    // program named resolve_stack_dump; the same answers as -s/-n.
    let link = c.dir.join("resolve_stack_dump");
    std::os::unix::fs::symlink(resolve_stack(), &link).expect("symlink");
    let dump_bytes = std::fs::read(&dumpfile).expect("read dump");
    let s = sym.display().to_string();
    let d = dumpfile.display().to_string();
    let w = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    for (prog, args, stdin) in [
        (
            resolve_stack(),
            w(&["resolve_stack_dump", &s, &d]),
            &b""[..],
        ),
        (
            resolve_stack(),
            w(&["resolve_stack_dump", &s]),
            &dump_bytes[..],
        ),
        (
            resolve_stack(),
            w(&["resolve_stack_dump", "-s", &s, &d]),
            &b""[..],
        ),
        (
            resolve_stack(),
            w(&["resolve_stack_dump", "-n", &d, &s]),
            &b""[..],
        ),
        (resolve_stack(), w(&["-s", &s, &d]), &b""[..]),
        (link.clone(), w(&[&s, &d]), &b""[..]),
        (link.clone(), w(&[&s]), &dump_bytes[..]),
        (link.clone(), w(&["-s", &s, "-n", &d]), &b""[..]),
        (link.clone(), w(&["--symbols-file", &s]), &dump_bytes[..]),
    ] {
        let (got, err, code) = run_with_stdin(&prog, &args, stdin);
        assert_eq!(
            (String::from_utf8_lossy(&got).into_owned(), code),
            (expected.clone(), 0),
            "{} {args:?}: {}",
            prog.display(),
            String::from_utf8_lossy(&err)
        );
    }
    // Usage errors: no symbols file, or one file name too many.
    for args in [
        w(&["resolve_stack_dump"]),
        w(&["resolve_stack_dump", "-s", &s, "-n", &d, &d]),
        w(&["resolve_stack_dump", &s, &d, &d]),
    ] {
        let (got, err, code) = run_with_stdin(&resolve_stack(), &args, b"");
        assert_eq!(code, 2, "{args:?}");
        assert!(got.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&err).contains("Usage"), "{args:?}");
    }
    let (_, err, code) = run_with_stdin(&link, &w(&["no-such-symfile", &d]), b"");
    assert_eq!(code, 3);
    assert!(String::from_utf8_lossy(&err).contains("no-such-symfile"));
    // Unsorted symbol tables are refused like MySQL does.
    let unsorted = c.dir.join("unsorted.txt");
    std::fs::write(&unsorted, "0000000000000020 T b\n0000000000000010 T a\n").expect("write");
    let out = Command::new(resolve_stack())
        .arg("-s")
        .arg(&unsorted)
        .arg("-n")
        .arg(&dumpfile)
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--numeric-sort"));
    let u = unsorted.display().to_string();
    let (_, err, code) = run_with_stdin(&link, &w(&[&u, &d]), b"");
    assert_ne!(code, 0);
    assert!(String::from_utf8_lossy(&err).contains("--numeric-sort"));
}
