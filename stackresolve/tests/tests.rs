//! Integration tests of `stackresolve` (one test binary; helpers in suite/util.rs).

#[path = "suite/util.rs"]
mod util;

#[path = "suite/addr2line_mode.rs"]
mod addr2line_mode;
#[path = "suite/corpus.rs"]
mod corpus;
#[path = "suite/demangle.rs"]
mod demangle;
#[path = "suite/resolve.rs"]
mod resolve;
#[path = "suite/symbolizer.rs"]
mod symbolizer;
