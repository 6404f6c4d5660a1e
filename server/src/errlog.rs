//! The error log, in MySQL's line format:
//! `2026-11-21 12:00:00 0 [Note] minnowd: ready for connections.`

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where error-log lines go.
pub struct ErrorLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for ErrorLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorLog")
    }
}

impl ErrorLog {
    /// A log writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        ErrorLog {
            out: Mutex::new(out),
        }
    }
    /// A log writing to stderr.
    pub fn stderr() -> Self {
        Self::new(Box::new(std::io::stderr()))
    }
    /// Writes one line with a level (`Note`, `Warning`, `ERROR`).
    pub fn line(&self, thread: u32, level: &str, msg: &str) {
        let line = format!("{} {thread} [{level}] {msg}\n", timestamp(false));
        if let Ok(mut o) = self.out.lock() {
            let _ = o.write_all(line.as_bytes());
            let _ = o.flush();
        }
    }
    /// A `[Note]` line.
    pub fn note(&self, msg: &str) {
        self.line(0, "Note", msg)
    }
    /// A `[Warning]` line.
    pub fn warn(&self, msg: &str) {
        self.line(0, "Warning", msg)
    }
    /// An `[ERROR]` line.
    pub fn error(&self, msg: &str) {
        self.line(0, "ERROR", msg)
    }
    /// Raw text (multi-line dumps).
    pub fn raw(&self, text: &str) {
        if let Ok(mut o) = self.out.lock() {
            let _ = o.write_all(text.as_bytes());
            let _ = o.flush();
        }
    }
}

/// UTC time as `YYYY-MM-DD HH:MM:SS`, or ISO-8601 with microseconds and `Z`.
pub fn timestamp(iso: bool) -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if month <= 2 { y + 1 } else { y };
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if iso {
        format!(
            "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:06}Z",
            d.subsec_micros()
        )
    } else {
        format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}")
    }
}
