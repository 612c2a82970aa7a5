//! The expansion logic of stagewise's macros as a plain library: `stagewise-macros` is a thin proc-macro shell over
//! it, and tests and the expanded-examples renderer call it directly.
//!
//! Pipeline: `parse` (attribute keys and variant attributes into the `model`) -> `valid` (semantic checks) ->
//! `codegen` (+ `mermaid`), driven by `expand`. Errors accumulate in a `Ctxt` so every mistake is reported at once;
//! on error the item is emitted with the `fallback` impls so the user sees our errors, not a cascade.
#![forbid(unsafe_code)]

mod codegen;
mod ctxt;
mod derive;
mod expand;
mod fallback;
mod mermaid;
mod model;
mod parse;
mod stage_typo;
mod suggest;
mod valid;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::model::Mode;

/// `#[handler_supervised(..)]` on `item`.
pub fn handler_supervised(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Mode::Handler, args, item)
}

/// `#[self_supervised(..)]` on `item`.
pub fn self_supervised(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Mode::SelfSupervised, args, item)
}

/// `#[derive(Stage)]` on `input`.
pub fn derive_stage(input: TokenStream) -> TokenStream {
    derive::stage(input)
}

/// `#[derive(EventVariant)]` on `input`.
pub fn derive_event_variant(input: TokenStream) -> TokenStream {
    derive::event_variant(input)
}

/// `#[derive(VariantName)]` on `input`.
pub fn derive_variant_name(input: TokenStream) -> TokenStream {
    derive::variant_name(input)
}
