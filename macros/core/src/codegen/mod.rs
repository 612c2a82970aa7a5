//! Code generation: the supervisor of a validated [`Model`]. The parts: the state enum's own impls
//! ([`state_enum`]), the `Machine` ([`machine`]) and the supervisor traits ([`supervised`]); this module holds the
//! patterns and paths they share.

mod capacity;
mod dispatch;
mod machine;
mod state_enum;
mod supervised;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Path};

use crate::model::{EventPat, Model, State};

#[cfg(test)]
pub(crate) use capacity::longest_action_list;
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

/// A bare method name (`next_line`) is the stage's own (`Self::next_line`); a path is taken as written, but for one on
/// a probable typo of the stage type (see [`stage_typo`](crate::stage_typo)).
pub(crate) fn method_path(model: &Model, path: &Path) -> TokenStream {
    match path.get_ident() {
        Some(ident) => quote_spanned!(ident.span()=> Self::#ident),
        None => crate::stage_typo::call_path(model, path).unwrap_or_else(|| quote!(#path)),
    }
}

/// A list of actions as an array expression.
pub(crate) fn actions_list(exprs: &[Expr]) -> TokenStream {
    quote!([#(#exprs),*])
}

/// A name of generated code (a parameter, a binding) that the user's expressions cannot reach: mixed-site hygiene,
/// so an action that says `ctx` or `state` means the user's own, never ours by accident.
/// The `__` prefix keeps it apart from the user's constants too, which a parameter pattern would otherwise name
/// (hygiene hides locals, not items).
pub(crate) fn internal(name: &str) -> Ident {
    Ident::new(&format!("__{name}"), Span::mixed_site())
}

/// The state enum as a type. Its generics are an error (reported by validation); to keep code using it free of
/// follow-on errors, the impls emitted beside that error take type parameters as `()` and lifetimes as `'static`
/// (an enum with a const parameter gets the errors alone).
pub(crate) fn enum_type(model: &Model) -> TokenStream {
    let ident = &model.ident;
    if model.generics.params.is_empty() {
        return quote!(#ident);
    }
    let args = model.generics.params.iter().map(|param| match param {
        syn::GenericParam::Lifetime(_) => quote!('static),
        syn::GenericParam::Type(_) => quote!(()),
        // No value of a const parameter's type can be named in general; `fallback` emits errors alone then.
        syn::GenericParam::Const(_) => quote!(_),
    });
    quote!(#ident<#(#args),*>)
}

/// `tokens` placed at `span` (each keeping its own hygiene), so an error rustc reports on the whole expression lands
/// on the user's token that `span` is.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span.resolved_at(g.span()));
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span.resolved_at(tt.span()));
            }
            tt
        })
        .collect()
}

/// `failure_codec(make, take)` of the failure variant, spanned on its path in `failure = ..`: the same tokens at every
/// use, so a variant whose field is not a `String` is one error there.
pub(crate) fn failure_codec(model: &Model) -> Option<TokenStream> {
    let failure = model.args.failure.as_ref()?;
    let p = private(model);
    let path = &failure.path;
    let (field, event) = (internal("field"), internal("event"));
    let (make, pat) = match &failure.shape {
        crate::model::FailureShape::Tuple => (quote!(#path), quote!(#path(#field))),
        crate::model::FailureShape::Named(name) => {
            (quote!(|#field| #path { #name: #field }), quote!(#path { #name: #field }))
        }
    };
    let codec = quote! {
        #p::failure_codec(#make, |#event| match #event {
            #pat => #field,
            _ => ::core::unreachable!("the failure event"),
        })
    };
    // On the variant's own name (`Failed` in `Ev::Failed`): rustc's suggestions about the variant (the fields of a
    // struct variant) are then written after it, where they belong, not after the enum's name.
    let span = path.segments.last().map_or_else(|| path.span(), |s| s.ident.span());
    Some(respan(codec, span))
}
