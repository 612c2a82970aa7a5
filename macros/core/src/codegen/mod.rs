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
    // Each action is typed on its own, so one of the wrong type is an error on its expression, not on the attribute.
    let action = internal("action");
    quote!([#({ let #action: Self::Action = #exprs; #action }),*])
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

/// True when `tokens` contain the identifier `name` anywhere.
pub(crate) fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
        _ => false,
    })
}

/// The span of the failure variant's own name (`Failed` in `Ev::Failed`): rustc's suggestions about the variant (the
/// fields of a struct variant) are then written after it, where they belong, not after the enum's name.
fn failure_span(path: &Path) -> Span {
    path.segments.last().map_or_else(|| path.span(), |s| s.ident.span())
}

/// `failure = Ev::Error` (a tuple variant) is checked once, as the pattern that takes the message out, in the
/// anonymous constant of `type __Failure = <Event as CheckedFailure<{ check }>>::Out;`; generated code then names the
/// variant `__Failure::Error`, which rustc says nothing more about when the check failed. So a path of the wrong kind
/// (a struct variant, a function, a variant of another enum) is one error instead of one per kind of use (value,
/// pattern). `None` when the event type cannot be named in a constant (a generic stage, `Self`): the path is used as
/// written then.
pub(crate) fn failure_alias(model: &Model) -> Option<TokenStream> {
    let failure = model.args.failure.as_ref()?;
    let event_ty = model.args.event.as_ref()?;
    let generic = model.args.stage.as_ref().is_some_and(|s| !s.generics.params.is_empty());
    if failure.shape != crate::model::FailureShape::Tuple || generic || mentions(quote!(#event_ty), "Self") {
        return None;
    }
    let (p, alias, event, field) = (private(model), internal("Failure"), internal("event"), internal("field"));
    let path = &failure.path;
    let pat = respan(quote!(#path(#field)), failure_span(path));
    Some(quote! {
        type #alias = <#event_ty as #p::CheckedFailure<{
            let _ = |#event: #event_ty| match #event {
                #pat => { let _ = #field; }
                _ => {}
            };
            0
        }>>::Out;
    })
}

/// The failure variant as generated code names it: through [`failure_alias`] when there is one (the alias must be in
/// scope), as written otherwise.
fn failure_variant(model: &Model) -> Option<TokenStream> {
    let path = &model.args.failure.as_ref()?.path;
    if failure_alias(model).is_none() {
        return Some(quote!(#path));
    }
    let alias = internal("Failure");
    let ident = &path.segments.last()?.ident;
    Some(quote!(#alias::#ident))
}

/// A pattern matching the failure event whatever it carries (the alias of [`failure_alias`] must be in scope).
pub(crate) fn failure_pat(model: &Model) -> Option<TokenStream> {
    let path = &model.args.failure.as_ref()?.path;
    let pat = match failure_alias(model) {
        Some(_) => {
            let variant = failure_variant(model)?;
            quote!(#variant(..))
        }
        None => quote!(#path { .. }),
    };
    Some(respan(pat, failure_span(path)))
}

/// `failure_codec(make, take)` of the failure variant, spanned on its path in `failure = ..`: the same tokens at every
/// use, so a variant whose field is not a `String` is one error there (the alias of [`failure_alias`] must be in
/// scope).
pub(crate) fn failure_codec(model: &Model) -> Option<TokenStream> {
    let failure = model.args.failure.as_ref()?;
    let p = private(model);
    let variant = failure_variant(model)?;
    let (field, event) = (internal("field"), internal("event"));
    let (make, pat) = match &failure.shape {
        crate::model::FailureShape::Tuple => (quote!(#variant), quote!(#variant(#field))),
        crate::model::FailureShape::Named(name) => {
            (quote!(|#field| #variant { #name: #field }), quote!(#variant { #name: #field }))
        }
    };
    let codec = quote! {
        #p::failure_codec(#make, |#event| match #event {
            #pat => #field,
            _ => ::core::unreachable!("the failure event"),
        })
    };
    Some(respan(codec, failure_span(&failure.path)))
}
