//! `parse` (work in progress).
