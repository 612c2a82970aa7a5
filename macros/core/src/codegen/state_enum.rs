//! The state enum's own impls: `StateVariant` (names, endings, control policies) and the inherent `INITIAL` and
//! `MERMAID`. They depend on nothing but the variants, so they are emitted beside errors too.

use proc_macro2::TokenStream;
use quote::quote;

use super::{allows, enum_type, private, state_pat};
use crate::model::{EndingKind, Model, Policy, Shape};

/// `StateVariant` for the enum: names, endings, control policies. Depends on nothing but the variants, so it is
/// emitted on error too.
pub fn state_variant(model: &Model) -> TokenStream {
    let p = private(model);
    let enum_ty = enum_type(model);
    let allows = allows();
    if model.states.is_empty() {
        return quote! {
            #allows
            impl #p::StateVariant for #enum_ty {
                fn name(&self) -> &'static str { match *self {} }
            }
        };
    }
    let names = model.states.iter().map(|s| {
        let pat = state_pat(model, s);
        let name = s.ident.to_string();
        quote!(#pat => #name)
    });
    let endings = model.states.iter().map(|s| {
        let pat = state_pat(model, s);
        let ending = match s.ending_kind() {
            None => quote!(::core::option::Option::None),
            Some(EndingKind::Completed) => quote!(::core::option::Option::Some(#p::Ending::Completed)),
            Some(EndingKind::Cancelled) => quote!(::core::option::Option::Some(#p::Ending::Cancelled)),
            Some(EndingKind::Failed) => quote!(::core::option::Option::Some(#p::Ending::Failed)),
        };
        quote!(#pat => #ending)
    });
    let policies = model.states.iter().map(|s| {
        let pat = state_pat(model, s);
        let policy = match model.run_policy(s) {
            Policy::Block => quote!(#p::ControlPolicy::Block),
            Policy::Poll => quote!(#p::ControlPolicy::Poll),
            Policy::Ignore => quote!(#p::ControlPolicy::Ignore),
        };
        quote!(#pat => #policy)
    });
    let failure_message = failure_message_fn(model);
    quote! {
        #allows
        impl #p::StateVariant for #enum_ty {
            fn name(&self) -> &'static str {
                match self { #(#names,)* }
            }
            #failure_message
            fn ending(&self) -> ::core::option::Option<#p::Ending> {
                match self { #(#endings,)* }
            }
            fn control_policy(&self) -> #p::ControlPolicy {
                match self { #(#policies,)* }
            }
        }
    }
}

/// `failure_message` for a `#[failed]` state whose first field is a `String` (the failure's message, which the
/// generated failure transition puts there); nothing otherwise, leaving the trait's default.
fn failure_message_fn(model: &Model) -> TokenStream {
    let Some(failed) = model.failed() else { return TokenStream::new() };
    let Some(field) = failed.fields.as_ref().and_then(|fields| fields.iter().next()) else { return TokenStream::new() };
    let is_string =
        matches!(&field.ty, syn::Type::Path(t) if t.path.segments.last().is_some_and(|s| s.ident == "String"));
    if !is_string {
        return TokenStream::new();
    }
    let (enum_ident, failed_ident) = (&model.ident, &failed.ident);
    let pat = match &field.ident {
        Some(name) => quote!(#enum_ident::#failed_ident { #name: message, .. }),
        None => quote!(#enum_ident::#failed_ident(message, ..)),
    };
    quote! {
        fn failure_message(&self) -> ::core::option::Option<&str> {
            match self {
                #pat => ::core::option::Option::Some(message.as_str()),
                #[allow(unreachable_patterns)]
                _ => ::core::option::Option::None,
            }
        }
    }
}

/// `INITIAL` and `MERMAID` on the enum. On error, `INITIAL` falls back to the first unit variant so code naming it
/// does not add errors of its own.
pub fn inherent(model: &Model, mermaid: &str) -> TokenStream {
    let enum_ident = &model.ident;
    let enum_ty = enum_type(model);
    let initial = model
        .initial()
        .filter(|s| s.shape == Shape::Unit)
        .or_else(|| model.states.iter().find(|s| s.shape == Shape::Unit))
        .map(|s| {
            let ident = &s.ident;
            quote! {
                /// The state a run starts in: the `#[initial]` one.
                pub const INITIAL: Self = #enum_ident::#ident;
            }
        });
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #enum_ty {
            #initial
            /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
            /// may choose, and the generated failure edges, labelled `(failure)`.
            pub const MERMAID: &'static str = #mermaid;
        }
    }
}
