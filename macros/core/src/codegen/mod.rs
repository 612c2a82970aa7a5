//! Code generation: the supervisor of a validated [`Model`]. The parts: the state enum's own impls
//! ([`state_enum`]), the `Machine` ([`machine`]) and the supervisor traits ([`supervised`]); this module holds the
//! patterns and paths they share.

mod machine;
mod state_enum;
mod supervised;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Path};

use crate::model::{EventPat, Model, State};

pub use state_enum::{inherent, state_variant};
pub use supervised::supervisor;

/// The lints generated impls allow: exhaustive per-state `match`es repeat arms on purpose, and parameters are unused
/// in machines that do not need them.
pub(crate) fn allows() -> TokenStream {
    quote! {
        #[automatically_derived]
        #[allow(
            unused_variables,
            unreachable_patterns,
            clippy::match_same_arms,
            clippy::single_match,
            clippy::too_many_lines,
            clippy::manual_async_fn,
            clippy::used_underscore_binding,
            clippy::no_effect_underscore_binding,
            clippy::match_single_binding
        )]
    }
}

pub(crate) fn private(model: &Model) -> TokenStream {
    let krate = &model.args.krate;
    quote!(#krate::__private)
}

/// A pattern matching state `state` whatever its fields.
pub(crate) fn state_pat(model: &Model, state: &State) -> TokenStream {
    let enum_ident = &model.ident;
    let ident = &state.ident;
    quote!(#enum_ident::#ident { .. })
}

/// A pattern matching any of a transition's events, with the bindings the user wrote.
pub(crate) fn transition_pat(events: &[EventPat]) -> TokenStream {
    let alts = events.iter().map(|e| match &e.pat {
        Some(pat) => quote!(#pat),
        None => {
            let path = &e.path;
            quote_spanned!(path.span()=> #path { .. })
        }
    });
    quote!(#(#alts)|*)
}

/// A pattern matching any of `events` whatever their fields.
pub(crate) fn events_pat(events: &[Path]) -> TokenStream {
    let alts = events.iter().map(|e| quote_spanned!(e.span()=> #e { .. }));
    quote!(#(#alts)|*)
}

/// A bare method name (`next_line`) is the stage's own (`Self::next_line`); a path is taken as written.
pub(crate) fn method_path(path: &Path) -> TokenStream {
    match path.get_ident() {
        Some(ident) => quote_spanned!(ident.span()=> Self::#ident),
        None => quote!(#path),
    }
}

/// A list of actions as an array expression.
pub(crate) fn actions_list(exprs: &[Expr]) -> TokenStream {
    quote!([#(#exprs),*])
}
