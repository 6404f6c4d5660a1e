//! `crashme_c`: the C half of `crashme` (`c/crashme_c.c`), built by this crate's
//! build script with the system C compiler and `-g`. UDFs `crash_segv`, `crash_abort`,
//! `crash_fpe`, `crash_stack`; an audit plugin `crashme_c` that crashes at the
//! *starting* event of a statement containing `crashme_c:segv|abort|fpe|stack` (or
//! with the DBUG keyword `crashme_c_segv` …) and vetoes one containing
//! `crashme_c:veto`; a daemon `crashme_sighandler` that replaces the SIGSEGV handler.

#![forbid(unsafe_code)]

/// Absolute path of the built `libcrashme_c.so`.
pub const LIBRARY: &str = concat!(env!("OUT_DIR"), "/libcrashme_c.so");
/// File name to use in `SONAME`.
pub const SONAME: &str = "libcrashme_c.so";
