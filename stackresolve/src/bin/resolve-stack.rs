//! `resolve-stack` (work in progress).
fn main() {}
