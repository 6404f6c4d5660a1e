//! Every file of shared/crashlogs/corpus parses without panic and its frames
//! are recognised: per file, the number of frames of each kind (counted by
//! reading the files).

use std::collections::BTreeMap;

use stackresolve::parse::{FrameKind, parse};

use crate::util::shared_dir;

fn counts(name: &str) -> BTreeMap<String, usize> {
    let path = shared_dir().join("crashlogs/corpus").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let report = parse(&text);
    let mut m = BTreeMap::new();
    for f in report.frames() {
        let kind = f.kind.unwrap_or(FrameKind::Glibc);
        *m.entry(format!("{kind:?}")).or_insert(0) += 1;
    }
    if std::env::var_os("DUMP_FRAMES").is_some() {
        for l in &report.lines {
            for f in &l.frames {
                eprintln!("{name}: {:?} <- {}", f, l.text);
            }
        }
    }
    m
}

fn expect(name: &str, want: &[(&str, usize)]) {
    let got = counts(name);
    let want: BTreeMap<String, usize> = want.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(got, want, "{name}");
}

#[test]
fn corpus_files_are_recognised() {
    let dir = shared_dir().join("crashlogs/corpus");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: &[(&str, &[(&str, usize)])] = &[
        (
            "01-mysql-audit-31-plugin-relative-addr2line.log",
            &[("Glibc", 6)],
        ),
        (
            "03-mysql-audit-151-trailing-double-spaces.log",
            &[("Glibc", 3)],
        ),
        (
            "05-mysql-wsrep-352-stack-bottom-zero-pie.log",
            &[("Glibc", 5)],
        ),
        (
            "07-handlersocket-66-percona51-indent-space-before-bracket.log",
            &[("Glibc", 3)],
        ),
        ("09-galera-376-pxc-unsymbolized-frames.log", &[("Glibc", 6)]),
        ("11-percona55-space-inside-path.log", &[("Glibc", 7)]),
        (
            "13-mariadb-pr2536-resolved-plus-plugin-mangled.log",
            &[("Glibc", 2), ("Resolved", 4)],
        ),
        (
            "15-mariadb104-windows-msvc-decorated.log",
            &[("Windows", 4)],
        ),
        (
            "17-freebsd-mariadbd-angle-bracket-at.log",
            &[("FreeBsd", 3)],
        ),
        // 12 frames with symbols + 12 bare addresses, newlines lost
        (
            "19-mysql-refman56-mirror-newlines-lost.log",
            &[("Glibc", 24)],
        ),
        (
            "21-glibc-detected-xnedit-gdb-home-placeholder.log",
            &[("Glibc", 8)],
        ),
        // 19 Solaris frames (7 hard-wrapped), Linux frames [0]..[13]
        (
            "23-openmpi-solaris-printstack-and-linux-wrapped-quoted.log",
            &[("Glibc", 14), ("Solaris", 19)],
        ),
        (
            "25-samp-mysql-159-windows-dll-backslash.log",
            &[("Gdb", 10)],
        ),
        // #0..#4; "#5  0x00007f1636c" is cut short
        (
            "27-mariadb-jira-mdev15333-gdb-threads-inline-frames.log",
            &[("Gdb", 5)],
        ),
        (
            "29-asan-percona-plugin-daemon-example.log",
            &[("Sanitizer", 8)],
        ),
        // frames 27..33, the last "at" line is cut short
        (
            "31-rust-lapce-16-full-addresses-inlined-same-pc.log",
            &[("Rust", 7), ("RustLocation", 6)],
        ),
        (
            "33-rust-short-backtrace-rust-for-ts-devs.log",
            &[("Rust", 9), ("RustLocation", 9)],
        ),
        ("35-rust-2015-ancient-format-gfx.log", &[("Rust", 12)]),
        (
            "37-rust-rustfmt-v0-crate-disambiguator.log",
            &[("Rust", 2), ("RustLocation", 1)],
        ),
        ("39-go-tidb-10740-double-spaced-paste.log", &[("Go", 3)]),
    ];
    for n in &names {
        match expected.iter().find(|(e, _)| e == n) {
            Some((_, want)) => expect(n, want),
            None => {
                // A corpus file this test does not know yet: it must still parse.
                let _ = counts(n);
            }
        }
    }
    assert!(names.len() >= expected.len(), "corpus files missing");
}

#[test]
fn corpus_frames_carry_the_right_fields() {
    let read = |n: &str| {
        std::fs::read_to_string(shared_dir().join("crashlogs/corpus").join(n))
            .expect("read corpus file")
    };
    let r = parse(&read("01-mysql-audit-31-plugin-relative-addr2line.log"));
    let plugin: Vec<_> = r
        .frames()
        .filter(|f| f.object.as_deref() == Some("/usr/local/mysql/lib/plugin/libaudit_plugin.so"))
        .map(|f| (f.offset, f.address))
        .collect();
    assert_eq!(
        plugin,
        vec![
            (Some(0xd9a9), Some(0x7ef70566a9a9)),
            (Some(0xddf8), Some(0x7ef70566adf8))
        ]
    );
    let r = parse(&read(
        "23-openmpi-solaris-printstack-and-linux-wrapped-quoted.log",
    ));
    assert!(r.frames().any(|f| f.object.as_deref()
        == Some("/usr/local/openmpi-1.6_32_cc/lib/openmpi/mca_odls_default.so")
        && f.offset == Some(0x4023)));
    assert!(r.frames().any(|f| f.symbol.as_deref()
        == Some("orte_odls_base_default_construct_child_list")
        && f.offset == Some(0x1234)));
    let r = parse(&read("19-mysql-refman56-mirror-newlines-lost.log"));
    let first = r.frames().next().expect("frames");
    assert_eq!(first.symbol.as_deref(), Some("my_print_stacktrace"));
    assert_eq!(first.object.as_deref(), Some("mysqld"));
}
