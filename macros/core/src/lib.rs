//! The expansion logic of stagewise's macros as a plain library: `stagewise-macros` is a thin proc-macro shell over
//! it, and tests and the expanded-examples renderer call it directly.
//!
//! Pipeline: [`parse`] (attribute keys and variant attributes into the [`model`]) -> [`valid`] (semantic checks) ->
//! [`codegen`] (+ [`mermaid`]). Errors accumulate in a [`ctxt::Ctxt`] so every mistake is reported at once; on error
//! the item is emitted with stub impls so the user sees our errors, not a cascade.
#![forbid(unsafe_code)]

pub mod codegen;
pub mod ctxt;
pub mod derive;
pub mod mermaid;
pub mod model;
pub mod parse;
mod suggest;
pub mod valid;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;
use crate::model::{Mode, Model};

/// `#[handler_supervised(..)]` on `item`.
pub fn handler_supervised(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Mode::Handler, args, item)
}

/// `#[self_supervised(..)]` on `item`.
pub fn self_supervised(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Mode::SelfSupervised, args, item)
}

/// Parses, validates and generates; the model as it was parsed is returned too, for tests.
pub fn analyze(mode: Mode, args: TokenStream, item: TokenStream) -> (Result<Model, TokenStream>, TokenStream) {
    let cx = Ctxt::new();
    let args = parse::parse_args(&cx, mode, args);
    let item: syn::Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(e) => {
            cx.syn_error(e);
            let errors = cx.check().expect_err("just recorded");
            return (Err(errors), item);
        }
    };
    let what = match &item {
        syn::Item::Enum(_) => None,
        syn::Item::Fn(f) => Some((f.sig.fn_token.span(), "a function")),
        syn::Item::Union(u) => Some((u.union_token.span(), "a union")),
        syn::Item::Struct(s) => {
            Some((s.struct_token.span(), "a struct: mark the stage struct `#[derive(Stage)]` instead"))
        }
        other => Some((other.span(), "this item")),
    };
    if let Some((span, what)) = what {
        cx.error_at(span, format!("#[{}] goes on the state enum of a stage, not on {what}", mode.attr()));
        let errors = cx.check().expect_err("just recorded");
        return (Err(errors), quote!(#item));
    }
    let syn::Item::Enum(mut item) = item else { unreachable!("checked above") };
    let states = item.variants.iter_mut().map(|v| parse::parse_state(&cx, v)).collect();
    let model = Model { mode, args, ident: item.ident.clone(), generics: item.generics.clone(), states };
    valid::check(&cx, &model);
    match cx.check() {
        Ok(()) => (Ok(model), quote!(#item)),
        Err(errors) => {
            if !model.generics.params.is_empty() {
                // Impls would name the enum without its parameters: one more error each. Emit the errors alone.
                return (Err(errors), quote!(#item));
            }
            let state_variant = codegen::state_variant(&model);
            let inherent = codegen::inherent(&model, "");
            let stubs = codegen::stubs(&model);
            (Err(quote! { #errors #state_variant #inherent #stubs }), quote!(#item))
        }
    }
}

/// The whole expansion of an attribute on `item`.
pub fn expand(mode: Mode, args: TokenStream, item: TokenStream) -> TokenStream {
    match analyze(mode, args, item) {
        (Ok(model), item) => {
            let mermaid = mermaid::diagram(&model);
            let state_variant = codegen::state_variant(&model);
            let inherent = codegen::inherent(&model, &mermaid);
            let supervisor = codegen::supervisor(&model);
            quote! {
                #item
                #state_variant
                #inherent
                #supervisor
            }
        }
        (Err(errors), item) => quote! { #item #errors },
    }
}
