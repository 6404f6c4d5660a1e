//! Crash handler and offline stack resolver.
//!
//! * [`crash`]: the in-process crash handler (see `shared/crash/REPORT.md`).
//! * [`symbolize`]: DWARF/symbol-table symbolization of addresses (two layers:
//!   [`symbolize::Context`] over sections, [`symbolize::Module`] owning files).
//! * [`parse`]: recognises stack frames of many crash-log formats in free text.
//! * [`cli`]: the `resolve-stack` program (its `run` entry points).
#![deny(missing_docs)]

pub mod cli;
pub mod crash;
pub mod parse;
pub mod symbolize;
