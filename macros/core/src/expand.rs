//! The try-expand step of the attribute macros: parse, validate, and generate the supervisor, or the errors beside
//! the [`fallback`](crate::fallback) impls.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;
use crate::model::{Mode, Model};
use crate::{codegen, fallback, mermaid, parse, valid};

/// Parses and validates; on success the model (for codegen and tests), on error the errors with the fallback impls.
/// Either way, the item as it is to be emitted (the enum without our variant attributes).
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
        Ok(()) => {
            // The machine's picture in the enum's rustdoc, after the user's own docs.
            let doc = mermaid::rustdoc(&model);
            item.attrs.push(syn::parse_quote!(#[doc = #doc]));
            (Ok(model), quote!(#item))
        }
        Err(errors) => (Err(fallback::fallback(&model, errors)), quote!(#item)),
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
