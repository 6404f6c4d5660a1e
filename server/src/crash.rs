//! Crash-handler wiring.
//!
//! SEAM: `stackresolve::crash` (branch `crash`) installs the real handler.
//! Until it is merged, [`install`] only records the choice and
//! [`set_current`] keeps the per-thread connection id / query slot that the
//! handler will print.

use std::cell::RefCell;

thread_local! {
    static CURRENT: RefCell<(u32, String)> = const { RefCell::new((0, String::new())) };
}

/// Installs the crash handler (no-op until `stackresolve::crash` is merged).
/// Returns whether a handler is active.
pub fn install(_core_file: bool) -> bool {
    false
}

/// Records the current connection id and statement of this thread.
pub fn set_current(conn_id: u32, query: &str) {
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        c.0 = conn_id;
        c.1.clear();
        c.1.push_str(query);
    });
}

/// This thread's (connection id, query), as the crash report shows it.
pub fn current() -> (u32, String) {
    CURRENT.with(|c| c.borrow().clone())
}
