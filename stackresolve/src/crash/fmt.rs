//! Allocation-free formatting for the crash report: a fixed line buffer, hex and
//! decimal numbers, UTC time without `localtime`, and the texts for signals and
//! `si_code` values. Nothing here allocates, locks or touches thread-locals, so it
//! is usable from the signal handler; it is plain safe code and unit-tested.

/// Capacity of one report line: the longest fixed line is the query (prefix +
/// 1024 bytes). Longer lines (paths over ~1.2 KiB) are truncated. Kept small
/// because the handler may run on a thread's small alternate stack.
pub(crate) const LINE_CAP: usize = 1280;

/// One report line being built on the stack.
pub(crate) struct LineBuf {
    buf: [u8; LINE_CAP],
    len: usize,
}

impl LineBuf {
    /// An empty line.
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; LINE_CAP],
            len: 0,
        }
    }

    /// Forgets the contents.
    pub(crate) fn clear(&mut self) -> &mut Self {
        self.len = 0;
        self
    }

    /// The bytes written so far (without the final newline).
    #[cfg(test)]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Room left, keeping one byte for the newline added by [`LineBuf::finish`].
    pub(crate) fn room(&self) -> usize {
        LINE_CAP - 1 - self.len
    }

    /// The free tail of the buffer (for copying foreign memory straight into it).
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        let end = LINE_CAP - 1;
        &mut self.buf[self.len..end]
    }

    /// Marks `n` bytes of [`LineBuf::spare`] as written.
    pub(crate) fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(LINE_CAP - 1);
    }

    /// Appends bytes, truncating at the capacity.
    pub(crate) fn bytes(&mut self, s: &[u8]) -> &mut Self {
        let n = s.len().min(self.room());
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        self
    }

    /// Appends a string.
    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }

    /// Appends `v` in lower-case hexadecimal without a prefix.
    pub(crate) fn hex(&mut self, v: u64) -> &mut Self {
        let mut tmp = [0u8; 16];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = b"0123456789abcdef"[(v & 0xf) as usize];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        self.bytes(&tmp[i..])
    }

    /// Appends `v` in decimal, left-padded with zeros to `width` digits.
    pub(crate) fn dec_pad(&mut self, v: u64, width: usize) -> &mut Self {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while tmp.len() - i < width && i > 0 {
            i -= 1;
            tmp[i] = b'0';
        }
        self.bytes(&tmp[i..])
    }

    /// Appends `v` in decimal.
    pub(crate) fn dec(&mut self, v: u64) -> &mut Self {
        self.dec_pad(v, 1)
    }

    /// Appends a signed decimal.
    pub(crate) fn idec(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.str("-").dec(v.unsigned_abs())
        } else {
            self.dec(v as u64)
        }
    }

    /// Appends `seconds` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC,
    /// computed arithmetically: `localtime` is not async-signal-safe).
    pub(crate) fn utc_time(&mut self, seconds: i64) -> &mut Self {
        let (y, m, d, hh, mm, ss) = civil_from_unix(seconds);
        self.idec(y)
            .str("-")
            .dec_pad(m as u64, 2)
            .str("-")
            .dec_pad(d as u64, 2)
            .str("T")
            .dec_pad(hh as u64, 2)
            .str(":")
            .dec_pad(mm as u64, 2)
            .str(":")
            .dec_pad(ss as u64, 2)
            .str("Z")
    }

    /// Replaces, from `from` on, control characters and bytes that are not part
    /// of valid UTF-8 by `?` (UTF-8 text such as `é` in a query or a path is
    /// kept). Allocation-free.
    pub(crate) fn sanitize_from(&mut self, from: usize) {
        let tail = &mut self.buf[from.min(self.len)..self.len];
        let mut i = 0;
        while i < tail.len() {
            match std::str::from_utf8(&tail[i..]) {
                Ok(_) => break,
                Err(e) => {
                    i += e.valid_up_to();
                    tail[i] = b'?';
                    i += 1;
                }
            }
        }
        for b in tail.iter_mut() {
            if *b < b' ' || *b == 0x7f {
                *b = b'?';
            }
        }
    }

    /// Current length (to remember where a foreign string started).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds the final newline and returns the whole line.
    pub(crate) fn finish(&mut self) -> &[u8] {
        self.buf[self.len] = b'\n';
        &self.buf[..=self.len]
    }
}

/// Splits Unix seconds into (year, month, day, hour, minute, second), UTC.
/// Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_unix(seconds: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs % 3600 / 60) as u32,
        (secs % 60) as u32,
    )
}

/// `SIGSEGV` etc. for the signals the handler catches.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGABRT => "SIGABRT",
        _ => "signal",
    }
}

/// The text of an `si_code`, as `psiginfo(3)` words it.
pub(crate) fn si_code_text(sig: i32, code: i32) -> &'static str {
    match code {
        libc::SI_USER => return "Sent by kill()",
        libc::SI_KERNEL => return "Sent by the kernel",
        libc::SI_QUEUE => return "Sent by sigqueue()",
        libc::SI_TKILL => return "Sent by tkill()",
        _ => {}
    }
    match (sig, code) {
        (libc::SIGSEGV, 1) => "Address not mapped to object",
        (libc::SIGSEGV, 2) => "Invalid permissions for mapped object",
        (libc::SIGSEGV, 3) => "Failed address bound checks",
        (libc::SIGSEGV, 4) => "Failed protection key checks",
        (libc::SIGBUS, 1) => "Invalid address alignment",
        (libc::SIGBUS, 2) => "Nonexistent physical address",
        (libc::SIGBUS, 3) => "Object-specific hardware error",
        (libc::SIGBUS, 4) => "Hardware memory error consumed on a machine check",
        (libc::SIGBUS, 5) => "Hardware memory error detected in process but not consumed",
        (libc::SIGILL, 1) => "Illegal opcode",
        (libc::SIGILL, 2) => "Illegal operand",
        (libc::SIGILL, 3) => "Illegal addressing mode",
        (libc::SIGILL, 4) => "Illegal trap",
        (libc::SIGILL, 5) => "Privileged opcode",
        (libc::SIGILL, 6) => "Privileged register",
        (libc::SIGILL, 7) => "Coprocessor error",
        (libc::SIGILL, 8) => "Internal stack error",
        (libc::SIGFPE, 1) => "Integer divide by zero",
        (libc::SIGFPE, 2) => "Integer overflow",
        (libc::SIGFPE, 3) => "Floating-point divide by zero",
        (libc::SIGFPE, 4) => "Floating-point overflow",
        (libc::SIGFPE, 5) => "Floating-point underflow",
        (libc::SIGFPE, 6) => "Floating-point inexact result",
        (libc::SIGFPE, 7) => "Invalid floating-point operation",
        (libc::SIGFPE, 8) => "Subscript out of range",
        _ => "Unknown signal code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut l = LineBuf::new();
        l.hex(0).str(" ").hex(0xdead_beef).str(" ").dec(0).str(" ");
        l.dec(1234).str(" ").dec_pad(7, 2).str(" ").idec(-5);
        assert_eq!(l.as_bytes(), b"0 deadbeef 0 1234 07 -5");
        l.clear().hex(u64::MAX);
        assert_eq!(l.as_bytes(), b"ffffffffffffffff");
    }

    #[test]
    fn utc_time_matches_known_dates() {
        let mut l = LineBuf::new();
        l.utc_time(0);
        assert_eq!(l.as_bytes(), b"1970-01-01T00:00:00Z");
        // 2000-02-29 (leap day of a century leap year) 12:34:56
        l.clear().utc_time(951_827_696);
        assert_eq!(l.as_bytes(), b"2000-02-29T12:34:56Z");
        // 2026-11-21T11:44:42Z
        l.clear().utc_time(1_795_261_482);
        assert_eq!(l.as_bytes(), b"2026-11-21T11:44:42Z");
        l.clear().utc_time(-1);
        assert_eq!(l.as_bytes(), b"1969-12-31T23:59:59Z");
    }

    #[test]
    fn truncates_and_sanitizes() {
        let mut l = LineBuf::new();
        let big = [b'a'; LINE_CAP * 2];
        l.bytes(&big);
        assert_eq!(l.as_bytes().len(), LINE_CAP - 1);
        assert_eq!(l.finish().last(), Some(&b'\n'));
        l.clear().str("Q: ");
        let start = l.len();
        l.bytes(b"ok\x01\n\xff!");
        l.sanitize_from(start);
        assert_eq!(l.as_bytes(), b"Q: ok???!");
        l.clear()
            .bytes("caf\u{e9} \u{2713}\x7f".as_bytes())
            .bytes(b"\xe2\x9c");
        l.sanitize_from(0);
        assert_eq!(l.as_bytes(), "caf\u{e9} \u{2713}???".as_bytes());
    }

    #[test]
    fn code_texts() {
        assert_eq!(
            si_code_text(libc::SIGSEGV, 1),
            "Address not mapped to object"
        );
        assert_eq!(
            si_code_text(libc::SIGABRT, libc::SI_TKILL),
            "Sent by tkill()"
        );
        assert_eq!(si_code_text(libc::SIGFPE, 1), "Integer divide by zero");
        assert_eq!(signal_name(libc::SIGBUS), "SIGBUS");
    }
}
