//! `crash` (work in progress).
