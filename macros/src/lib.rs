//! The macros of stagewise: `#[handler_supervised]` / `#[self_supervised]` generate a stage's supervisor from its
//! annotated state enum; `#[derive(Stage)]`, `#[derive(EventVariant)]` and `#[derive(VariantName)]` are their
//! companions. Each entry is one line over the pure expansion in `stagewise-macros-core`; the reference is on
//! `stagewise::handler_supervised`.

use proc_macro::TokenStream;

/// Generates the supervisor of a handler-supervised stage (a source, transform or sink) from its state enum.
///
/// The reference (every key and state attribute, each with an example compiled as a doc test) is on the re-export
/// `stagewise::handler_supervised`, where the examples can use the runtime.
#[proc_macro_attribute]
pub fn handler_supervised(args: TokenStream, item: TokenStream) -> TokenStream {
    stagewise_macros_core::handler_supervised(args.into(), item.into()).into()
}

/// Generates the supervisor of a self-supervised orchestrator (no handler, no stage id) from its state enum.
#[proc_macro_attribute]
pub fn self_supervised(args: TokenStream, item: TokenStream) -> TokenStream {
    stagewise_macros_core::self_supervised(args.into(), item.into()).into()
}

/// Marks the stage struct: its `#[stage_id]` field (type `StageId`) and optional `#[writer_id]` field (`WriterId`).
#[proc_macro_derive(Stage, attributes(stage_id, writer_id, stagewise))]
pub fn derive_stage(input: TokenStream) -> TokenStream {
    stagewise_macros_core::derive_stage(input.into()).into()
}

/// Implements `EventVariant` for an event enum: each event's name is its variant's name.
#[proc_macro_derive(EventVariant, attributes(stagewise))]
pub fn derive_event_variant(input: TokenStream) -> TokenStream {
    stagewise_macros_core::derive_event_variant(input.into()).into()
}

/// Adds `const fn variant_name(&self) -> &'static str` to an enum, e.g. to implement `Action::name`.
#[proc_macro_derive(VariantName, attributes(stagewise))]
pub fn derive_variant_name(input: TokenStream) -> TokenStream {
    stagewise_macros_core::derive_variant_name(input.into()).into()
}
