//! Crash handler and offline stack resolver (work in progress).
#![deny(missing_docs)]

pub mod crash;
pub mod parse;
pub mod symbolize;
