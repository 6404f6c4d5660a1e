//! The library symbolizer on real gcc-built objects.

use std::process::Command;

use stackresolve::symbolize::{Error, LoadOptions, Module, Probe, hex};

use crate::util::{TempDir, data, gcc, run_ok};

fn build(dir: &TempDir, name: &str, flags: &[&str]) -> std::path::PathBuf {
    let bin = dir.join(name);
    let srcs: Vec<_> = ["prog_main.c", "prog_util.c", "prog_extra.c"]
        .iter()
        .map(|n| data(n))
        .collect();
    gcc(&bin, &srcs, flags);
    bin
}

fn readelf_build_id(path: &std::path::Path) -> String {
    let out = run_ok(Command::new("readelf").arg("-n").arg(path));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: ").map(str::to_string))
        .expect("readelf shows a build-id")
}

/// `addr2line -fie` answer as (function, file:line) pairs.
fn binutils_frames(bin: &std::path::Path, addr: u64) -> Vec<(String, String)> {
    let out = run_ok(
        Command::new("addr2line")
            .arg("-fie")
            .arg(bin)
            .arg(format!("{addr:#x}")),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .map(|c| {
            let loc = c.get(1).copied().unwrap_or("");
            let loc = loc.split(" (discriminator").next().unwrap_or(loc);
            (c[0].to_string(), loc.to_string())
        })
        .collect()
}

#[test]
fn build_id_is_read_and_verified() {
    let dir = TempDir::new("sym-bid");
    let bin = build(&dir, "prog", &["-g", "-O2", "-Wl,--build-id=sha1"]);
    let m = Module::open(&bin).expect("open");
    let id = m.build_id().expect("has build-id");
    assert_eq!(hex(id), readelf_build_id(&bin));
    assert!(Module::open_verified(&bin, &LoadOptions::default(), id).is_ok());
    let mut wrong = id.to_vec();
    wrong[0] ^= 0xff;
    match Module::open_verified(&bin, &LoadOptions::default(), &wrong) {
        Err(Error::BuildIdMismatch {
            expected, found, ..
        }) => {
            assert_eq!(expected, hex(&wrong));
            assert_eq!(found.as_deref(), Some(hex(id).as_str()));
        }
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("mismatch accepted"),
    }
    match Module::open(dir.join("missing")) {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("missing")),
        _ => panic!("missing file not reported"),
    }
    std::fs::write(dir.join("junk"), b"not an object").expect("write");
    assert!(matches!(
        Module::open(dir.join("junk")),
        Err(Error::Object { .. })
    ));
}

#[test]
fn inline_frames_match_binutils_for_every_address() {
    let dir = TempDir::new("sym-inl");
    let bin = build(&dir, "prog", &["-g", "-O2"]);
    let m = Module::open(&bin).expect("open");
    let ctx = m.context().expect("context");
    let bytes = std::fs::read(&bin).expect("read");
    use stackresolve::symbolize::object::{Object, ObjectSection};
    let file = stackresolve::symbolize::object::File::parse(&*bytes).expect("parse");
    let text = file.section_by_name(".text").expect(".text");
    let mut inlined_seen = 0;
    let mut addr = text.address();
    while addr < text.address() + text.size() {
        let l = ctx.lookup(addr).expect("lookup");
        let want = binutils_frames(&bin, addr);
        let got: Vec<(String, String)> = l
            .frames
            .iter()
            .map(|f| {
                (
                    f.function.as_deref().unwrap_or("??").to_string(),
                    format!(
                        "{}:{}",
                        f.file.as_deref().unwrap_or("??"),
                        if f.line == 0 {
                            "?".to_string()
                        } else {
                            f.line.to_string()
                        }
                    ),
                )
            })
            .collect();
        // Where DWARF names no function the library leaves it to the
        // symbol-table fallback; compare only DWARF-named frames.
        if l.frames.first().is_some_and(|f| f.function.is_some()) {
            assert_eq!(want, got, "at {addr:#x}");
        }
        if got.len() > 1 {
            inlined_seen += 1;
        }
        addr += 7;
    }
    assert!(inlined_seen > 3, "the test program has inlined code");
}

#[test]
fn return_addresses_are_probed_at_pc_minus_one() {
    assert_eq!(Probe::ReturnAddress(0x1000).lookup_address(), 0xfff);
    assert_eq!(Probe::Exact(0x1000).lookup_address(), 0x1000);
    assert_eq!(Probe::ReturnAddress(0).lookup_address(), 0);
}

#[test]
fn build_id_directory_lookup() {
    let dir = TempDir::new("sym-bidir");
    let bin = build(&dir, "prog", &["-g", "-O2", "-Wl,--build-id=sha1"]);
    let id = readelf_build_id(&bin);
    let dbg_dir = dir.join("debug/.build-id").join(&id[..2]);
    std::fs::create_dir_all(&dbg_dir).expect("mkdir");
    let dbg = dbg_dir.join(format!("{}.debug", &id[2..]));
    run_ok(
        Command::new("objcopy")
            .arg("--only-keep-debug")
            .arg(&bin)
            .arg(&dbg),
    );
    run_ok(Command::new("strip").arg("--strip-all").arg(&bin));
    let opts = LoadOptions {
        debug_dirs: vec![dir.join("debug")],
        separate_debug: true,
    };
    let m = Module::open_with(&bin, &opts).expect("open");
    assert_eq!(m.debug_path(), Some(dbg.as_path()));
    assert!(m.has_dwarf());
    let ctx = m.context().expect("context");
    let nm = run_ok(Command::new("nm").arg(&dbg));
    let nm = String::from_utf8_lossy(&nm.stdout).into_owned();
    let addr = nm
        .lines()
        .find(|l| l.ends_with(" T compute"))
        .and_then(|l| u64::from_str_radix(l.split(' ').next().unwrap_or(""), 16).ok())
        .expect("compute in the debug file's symbols");
    let l = ctx.lookup(addr).expect("lookup");
    assert_eq!(l.frames[0].function.as_deref(), Some("compute"));
    assert!(
        l.frames[0]
            .file
            .as_deref()
            .is_some_and(|f| f.ends_with("prog_main.c"))
    );
    // Without the directory the stripped binary has no DWARF.
    let none = Module::open_with(
        &bin,
        &LoadOptions {
            debug_dirs: vec![],
            separate_debug: true,
        },
    )
    .expect("open");
    assert!(!none.has_dwarf());
}

/// Regression (found by `fuzz/fuzz_targets/symbolize.rs`): an object whose `.text`
/// ends at the very top of the address space made `lookup(u64::MAX)` panic with an
/// add overflow inside `addr2line` (it probes `[addr, addr + 1)`).
#[test]
fn lookup_at_last_address_of_address_space_does_not_panic() {
    use stackresolve::symbolize::object::{self, Object, ObjectSection};

    let dir = TempDir::new("sym-top");
    let bin = build(&dir, "prog", &["-g", "-O2"]);
    let mut bytes = std::fs::read(&bin).expect("read binary");
    let (index, size) = {
        let obj = object::File::parse(&*bytes).expect("parse gcc output");
        let text = obj.section_by_name(".text").expect(".text");
        (text.index().0, text.size())
    };
    // Move `.text` (in the ELF64 little-endian section header table) so that its
    // last byte is at u64::MAX.
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let shoff = u64_at(&bytes, 0x28) as usize;
    let shentsize = usize::from(u16::from_le_bytes([bytes[0x3a], bytes[0x3b]]));
    let sh_addr = shoff + index * shentsize + 16;
    let top = u64::MAX - size + 1;
    bytes[sh_addr..sh_addr + 8].copy_from_slice(&top.to_le_bytes());
    let patched = dir.join("prog-top");
    std::fs::write(&patched, &bytes).expect("write patched binary");

    let module = Module::open_with(
        &patched,
        &LoadOptions {
            debug_dirs: Vec::new(),
            separate_debug: false,
        },
    )
    .expect("open patched binary");
    assert!(module.has_dwarf());
    let ctx = module.context().expect("context");
    for addr in [u64::MAX, u64::MAX - 1, top] {
        let lookup = ctx.lookup(addr).expect("lookup is not an error");
        assert!(lookup.in_section, "{addr:#x} lies in the moved .text");
    }
}
