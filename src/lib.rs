//! stagewise: supervised, long-running async stages as explicit state machines.
//!
//! This facade re-exports the runtime ([`stagewise_runtime`]) and the macros: `#[handler_supervised]`,
//! `#[self_supervised]`, `#[derive(Stage)]`, `#[derive(EventVariant)]` and `#[derive(VariantName)]`.
#![forbid(unsafe_code)]

pub use stagewise_macros::{handler_supervised, self_supervised, Stage, VariantName};
pub use stagewise_runtime::*;

/// Derives [`EventVariant`](trait@EventVariant) for an event enum (same name as the trait, as with serde).
pub use stagewise_macros::EventVariant;
