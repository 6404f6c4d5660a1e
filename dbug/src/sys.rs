//! The few libc calls std does not offer: `access(2)` (the C library's writability check),
//! `localtime_r(3)` (the `T` prefix) and `strerror` texts.
#![allow(unsafe_code)]

use std::ffi::CString;

/// `access(path, W_OK|F_OK)`: `Ok(())` or the errno.
pub(crate) fn access(path: &str, write: bool) -> Result<(), i32> {
    let Ok(c) = CString::new(path) else {
        return Err(libc::EINVAL);
    };
    let mode = if write { libc::W_OK } else { libc::F_OK };
    // SAFETY: `c` is a valid NUL-terminated string that lives across the call.
    let rc = unsafe { libc::access(c.as_ptr(), mode) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    }
}

/// The C library's `strerror(errno)` text.
pub(crate) fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    // std formats "<strerror> (os error N)".
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Local wall-clock time of day: (hour, minute, second, microsecond).
pub(crate) fn local_time_of_day() -> (i32, i32, i32, u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let usec = now.subsec_micros();
    // SAFETY: `tm` is plain old data; zeroed is a valid value for it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call; localtime_r is
    // thread-safe and writes only into `tm`.
    let r = unsafe { libc::localtime_r(&secs, &mut tm) };
    if r.is_null() {
        let s = now.as_secs();
        return (
            ((s / 3600) % 24) as i32,
            ((s / 60) % 60) as i32,
            (s % 60) as i32,
            usec,
        );
    }
    (tm.tm_hour, tm.tm_min, tm.tm_sec, usec)
}
