//! Unit tests of the pure expansion.
