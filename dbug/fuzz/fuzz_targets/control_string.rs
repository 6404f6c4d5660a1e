//! Fuzzes the control-string parsers (strict and lenient), applying the lenient result to a
//! pushed record, and the glob matcher. Nothing may panic; strict must agree with lenient on
//! every string it accepts.
#![no_main]

use dbug::{ControlString, engine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let lenient = ControlString::parse_lenient(&s);
    match ControlString::parse_strict(&s) {
        Ok(strict) => assert_eq!(strict, lenient),
        Err(e) => {
            assert!(e.pos <= s.len());
            let _ = e.to_string();
        }
    }
    // Apply it (without opening files, which would litter the working directory).
    let opens_files = lenient
        .fields()
        .iter()
        .any(|f| matches!(f.flag, b'o' | b'O' | b'a' | b'A'));
    if !opens_files {
        engine::push(&lenient, None);
        let _ = engine::explain(256);
        let _ = engine::keyword("info");
        let _ = engine::execute_if("info");
        engine::pop();
    }
    // Glob: the first byte splits pattern and name.
    if data.len() < 64 {
        if let Some((&k, rest)) = data.split_first() {
            let at = usize::from(k) % (rest.len() + 1);
            let (p, n) = rest.split_at(at);
            let _ = dbug::fnmatch(p, n);
        }
    }
});
