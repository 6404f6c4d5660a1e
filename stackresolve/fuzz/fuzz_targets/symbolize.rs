//! Fuzz target: the symbolizer must never panic on arbitrary object bytes.
//!
//! The bytes are an in-memory ELF image. Like `Module::open`, compressed DWARF
//! sections are decompressed first, then a `Context` is built over the image
//! and a few addresses are looked up: the entry point, the start, middle and
//! last byte of the first sections, the first symbols, and a few extremes.
//! Run with `cargo +nightly fuzz run symbolize` from `stackresolve/`; seed the
//! corpus with `fuzz/seed.sh` first.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use stackresolve::symbolize::object::{self, Object, ObjectSection, ObjectSymbol};
use stackresolve::symbolize::{Context, gimli};

const DWARF_IDS: &[gimli::SectionId] = &[
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugAranges,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugRanges,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
];

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = object::File::parse(data) else {
        return;
    };
    // Decompress what is compressed (an error is an ordinary outcome).
    let mut decompressed: Vec<(gimli::SectionId, Vec<u8>)> = Vec::new();
    for &id in DWARF_IDS {
        if let Some(s) = obj.section_by_name(id.name()) {
            // Skip absurd claimed sizes rather than let the fuzzer run out of memory on the
            // allocation object makes up front; the size check is the loader's job.
            match s.compressed_file_range() {
                Ok(r) if r.uncompressed_size > 64 << 20 => continue,
                Err(_) => continue,
                Ok(_) => {}
            }
            if let Ok(Cow::Owned(v)) = s.uncompressed_data() {
                decompressed.push((id, v));
            }
        }
    }
    let has_dwarf = obj
        .section_by_name(".debug_info")
        .or_else(|| obj.section_by_name(".debug_line"))
        .is_some_and(|s| s.size() > 0);

    let mut addrs = vec![0, 1, u64::MAX, u64::MAX - 1, obj.entry()];
    for s in obj.sections().take(16) {
        let (a, n) = (s.address(), s.size());
        addrs.extend([a, a.wrapping_add(n / 2), a.wrapping_add(n).wrapping_sub(1)]);
    }
    for sym in obj.symbols().take(16) {
        addrs.push(sym.address());
    }
    let names: Vec<String> = obj
        .symbols()
        .take(4)
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .collect();

    let section = |id: gimli::SectionId| -> &[u8] {
        if let Some((_, v)) = decompressed.iter().find(|(i, _)| *i == id) {
            return v.as_slice();
        }
        obj.section_by_name(id.name())
            .and_then(|s| s.data().ok())
            .unwrap_or(&[])
    };
    for binutils in [false, true] {
        let Ok(main_obj) = object::File::parse(data) else {
            return;
        };
        let Ok(mut ctx) = Context::new(main_obj, None, has_dwarf, section) else {
            return;
        };
        ctx.set_binutils_compat(binutils);
        for &a in &addrs {
            if let Ok(l) = ctx.lookup(a) {
                let _ = l.found();
                for f in &l.frames {
                    let _ = f
                        .function
                        .as_deref()
                        .map(stackresolve::symbolize::demangle::demangle_or_raw);
                }
            }
            let _ = ctx.unit_hint(a);
            let _ = ctx.symbol(a);
        }
        for n in &names {
            let _ = ctx.symbol_address(n);
            let _ = ctx.symbol_address_exact(n);
        }
        let _ = ctx.symbol_address("main");
    }
});
