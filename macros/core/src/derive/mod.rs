//! The companion derives: `Stage` (which field is the stage id), `EventVariant` (static event names) and
//! `VariantName` (static variant names, for `Action::name`). Each is [`parse`] (what the input declares, or the
//! errors) then [`codegen`] (the impl).

mod codegen;
mod parse;

use proc_macro2::TokenStream;
use syn::DeriveInput;

/// `#[derive(Stage)]`: implements the runtime's `StageFields` from the stage id field (the one marked `#[stage_id]`,
/// or else the only field written `StageId`) and the optional `#[writer_id]` field.
pub fn stage(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match parse::stage_fields(&input) {
        Ok(fields) => codegen::stage_fields(&input, &fields),
        Err((errors, krate)) => codegen::stage_fields_fallback(&input, &krate, errors),
    }
}

/// `#[derive(EventVariant)]`: each event's static name is its variant's name.
pub fn event_variant(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match parse::variant_names(&input, "EventVariant") {
        Ok(names) => codegen::event_variant(&input, &names),
        Err(errors) => errors,
    }
}

/// `#[derive(VariantName)]`: an inherent `const fn variant_name(&self) -> &'static str`.
pub fn variant_name(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match parse::variant_names(&input, "VariantName") {
        Ok(names) => codegen::variant_name(&input, &names),
        Err(errors) => errors,
    }
}
