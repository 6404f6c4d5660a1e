//! `udf_example`: MySQL-style UDFs written in C (`c/udf_example.c`), built by this
//! crate's build script with the system C compiler. The shared object is at
//! [`LIBRARY`]; copy it into `plugin_dir` and
//! `CREATE FUNCTION reverse_string RETURNS STRING SONAME 'libudf_example.so'`.
//!
//! Functions: `reverse_string(s)` STRING, `myfunc_int(...)` INTEGER,
//! `myfunc_double(...)` REAL, `sequence([start])` INTEGER, and the aggregates
//! `avgcost(quantity, price)` REAL and `clear_count(x)` INTEGER (shows the
//! init-once-per-call-site, clear-per-group lifecycle).
//!
//! Functions that show what the server hands a UDF (the server's `tests/udf.rs`):
//! `describe_args(...)` STRING (argument types, attributes and the constants
//! `name_init` saw, and each row's values), `coerce_args('IRSD…', ...)` STRING
//! (`name_init` sets `args->arg_type` from its constant first argument, asking for
//! conversions), `decimal_negate(x)` DECIMAL (decimal strings in and out),
//! `agg_trace(x)` aggregate STRING (logs init/clear/add/result/deinit) and
//! `udf_log()` STRING (returns and empties that log).

#![forbid(unsafe_code)]

/// Absolute path of the built `libudf_example.so`.
pub const LIBRARY: &str = concat!(env!("OUT_DIR"), "/libudf_example.so");
/// File name to use in `SONAME`.
pub const SONAME: &str = "libudf_example.so";
