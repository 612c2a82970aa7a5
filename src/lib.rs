//! stagewise: supervised, long-running async stages as explicit state machines.
#![doc = ""]
// The rest of the crate page, a guide, is Markdown in src/guide.md so it reads well in an editor too.
#![doc = include_str!("guide.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use stagewise_macros::{self_supervised, Stage, VariantName};

#[doc = include_str!("macro_reference.md")]
pub use stagewise_macros::handler_supervised;
pub use stagewise_runtime::*;

/// Derives [`EventVariant`](trait@EventVariant) for an event enum (same name as the trait, as with serde).
pub use stagewise_macros::EventVariant;
