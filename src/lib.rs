//! stagewise: supervised, long-running async stages as explicit state machines.
//!
//! This facade re-exports the runtime ([`stagewise_runtime`]) and the `#[handler_supervised]` macro.
#![forbid(unsafe_code)]

pub use stagewise_macros::handler_supervised;
pub use stagewise_runtime::*;
