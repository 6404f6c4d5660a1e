//! Differential test: `dbug::fnmatch` against glibc's `fnmatch(pattern, name, 0)` on many
//! pseudo-random patterns and names over a small alphabet rich in glob syntax.
#![allow(unsafe_code)]

use std::ffi::CString;

fn libc_fnmatch(p: &[u8], n: &[u8]) -> bool {
    let (Ok(p), Ok(n)) = (CString::new(p), CString::new(n)) else {
        panic!("test data has no NUL bytes");
    };
    // SAFETY: both are valid NUL-terminated strings alive for the call; fnmatch only reads.
    unsafe { libc::fnmatch(p.as_ptr(), n.as_ptr(), 0) == 0 }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick(&mut self, v: &[u8]) -> u8 {
        v[(self.next() % v.len() as u64) as usize]
    }
}

#[test]
fn matches_glibc() {
    const PAT: &[u8] = b"ab*?[]!^-\\:/.xz";
    const NAME: &[u8] = b"ab[]-\\:/.x*?z";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut checked = 0;
    for _ in 0..200_000 {
        let pl = (rng.next() % 9) as usize;
        let nl = (rng.next() % 7) as usize;
        let p: Vec<u8> = (0..pl).map(|_| rng.pick(PAT)).collect();
        let n: Vec<u8> = (0..nl).map(|_| rng.pick(NAME)).collect();
        assert_eq!(
            dbug::fnmatch(&p, &n),
            libc_fnmatch(&p, &n),
            "pattern {:?} name {:?}",
            String::from_utf8_lossy(&p),
            String::from_utf8_lossy(&n)
        );
        checked += 1;
    }
    for (p, n) in [
        ("[[:alpha:]]x", "ax"),
        ("[[:digit:]-z]", "-"),
        ("[[:foo:]]", "f"),
        ("[[:alpha]", "a"),
        ("[=a=]", "a"),
        ("[a-\\]]", "]"),
        ("*[[:upper:]]", "abC"),
        ("[!a-c]*", "dog"),
    ] {
        assert_eq!(
            dbug::fnmatch(p.as_bytes(), n.as_bytes()),
            libc_fnmatch(p.as_bytes(), n.as_bytes()),
            "pattern {p:?} name {n:?}"
        );
        checked += 1;
    }
    assert!(checked > 200_000);
}
