//! Fuzz target: the crash-log reader must never panic, and must keep every line.
//! Run with `cargo +nightly fuzz run parse` from `stackresolve/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let report = stackresolve::parse::parse(&text);
    let expected = text.split('\n').count() - usize::from(text.ends_with('\n'));
    assert_eq!(report.lines.len(), expected);
});
