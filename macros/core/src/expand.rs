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
    take_second_application(&cx, mode, &mut item);
    let states = item.variants.iter_mut().map(|v| parse::parse_state(&cx, v)).collect();
    let mut model = Model { mode, args, ident: item.ident.clone(), generics: item.generics.clone(), states };
    model.splice_action_lists();
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
            let suspect = fallback::suspect_stubs(&model);
            quote! {
                #item
                #state_variant
                #inherent
                #supervisor
                #suspect
            }
        }
        (Err(errors), item) => quote! { #item #errors },
    }
}

/// The attribute names of this crate's machine macros.
const MACHINE_ATTRS: &[&str] = &["handler_supervised", "self_supervised"];

/// A second `#[handler_supervised]` (or `#[self_supervised]`) below this one would run on the enum this expansion
/// emits, whose variant attributes are gone: it is reported once, on itself, and removed.
fn take_second_application(cx: &Ctxt, mode: Mode, item: &mut syn::ItemEnum) {
    item.attrs.retain(|attr| {
        let name = attr.path().segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if !MACHINE_ATTRS.contains(&name.as_str()) {
            return true;
        }
        let msg = if name == mode.attr() {
            format!("#[{name}] is applied twice to this enum: remove this one")
        } else {
            format!("an enum is one machine: it has #[{}] already; remove this #[{name}]", mode.attr())
        };
        cx.error_spanned_by(attr, msg);
        false
    });
}
