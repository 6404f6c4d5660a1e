//! `symbolize` (work in progress).
