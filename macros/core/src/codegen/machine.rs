//! `impl Machine`: the transition `match` (declared edges, function transitions, the generated failure edge), entry
//! and exit actions, timeouts, the unhandled-event policy and the control mapping.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::{actions_list, events_pat, method_path, private, state_pat, transition_pat};
use crate::model::{FailureShape, Model, Shape, State, Target};

/// True when `tokens` contain the identifier `name` anywhere.
fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
        _ => false,
    })
}

/// The failed state built from `message` (an expression of the failure's description).
fn failed_next(model: &Model, message: TokenStream) -> TokenStream {
    let enum_ident = &model.ident;
    let Some(failed) = model.failed() else { return TokenStream::new() };
    let failed_ident = &failed.ident;
    match &failed.fields {
        None => quote!(#enum_ident::#failed_ident),
        Some(syn::Fields::Named(named)) => {
            let field = named.named.first().and_then(|f| f.ident.as_ref());
            quote!(#enum_ident::#failed_ident { #field: #message })
        }
        Some(_) => quote!(#enum_ident::#failed_ident(#message)),
    }
}

/// The failed state built from the failure event's message, and the pattern that binds that message.
fn failure_parts(model: &Model) -> Option<(TokenStream, TokenStream, TokenStream)> {
    let failure = model.args.failure.as_ref()?;
    let failed = model.failed()?;
    let path = &failure.path;
    let span = path.span();
    let enum_ident = &model.ident;
    let failed_ident = &failed.ident;
    let binds = failed.shape != Shape::Unit;
    let pat = match (&failure.shape, binds) {
        (FailureShape::Tuple, true) => quote_spanned!(span=> #path(message)),
        (FailureShape::Tuple, false) => quote_spanned!(span=> #path(_)),
        (FailureShape::Named(field), true) if field == "message" => quote_spanned!(span=> #path { message }),
        (FailureShape::Named(field), true) => quote_spanned!(span=> #path { #field: message }),
        (FailureShape::Named(field), false) => quote_spanned!(span=> #path { #field: _ }),
    };
    let ignore_pat = quote_spanned!(span=> #path { .. });
    let next = match &failed.fields {
        None => quote!(#enum_ident::#failed_ident),
        Some(syn::Fields::Named(named)) => match named.named.first().and_then(|f| f.ident.as_ref()) {
            Some(field) if field == "message" => quote!(#enum_ident::#failed_ident { message }),
            field => quote!(#enum_ident::#failed_ident { #field: message }),
        },
        Some(_) => quote!(#enum_ident::#failed_ident(message)),
    };
    Some((pat, ignore_pat, next))
}

pub(super) fn transition_fn(model: &Model) -> TokenStream {
    let p = private(model);
    let enum_ident = &model.ident;
    let mut arms = Vec::new();
    for state in &model.states {
        let spat = state_pat(model, state);
        for t in &state.transitions {
            let epat = transition_pat(&t.events);
            let arm = match &t.target {
                Target::State(to) if t.actions.is_empty() => {
                    quote!((#spat, #epat) => #p::Decision::goto(#enum_ident::#to))
                }
                Target::State(to) => {
                    let actions = actions_list(&t.actions);
                    quote!((#spat, #epat) => #p::Decision::goto_with(#enum_ident::#to, #actions))
                }
                Target::Stay(_) if t.actions.is_empty() => {
                    quote!((#spat, #epat) => #p::Decision::Stay { actions: #p::Actions::new() })
                }
                Target::Stay(_) => {
                    let actions = actions_list(&t.actions);
                    quote!((#spat, #epat) => #p::Decision::stay_with(#actions))
                }
                Target::Call(path) => {
                    let bind = if t.events.len() > 1 { quote!(event @ (#epat)) } else { quote!(event @ #epat) };
                    let method = method_path(path);
                    let call = quote_spanned!(path.span()=> #method(state, event, ctx));
                    let allowed = t.to.iter().flatten().map(|to| quote!(#enum_ident::#to { .. }));
                    let function = quote::ToTokens::to_token_stream(path).to_string().replace(' ', "");
                    quote! {
                        (#spat, #bind) => {
                            let decision: #p::Decision<Self::State, Self::Action> = #call;
                            #[cfg(debug_assertions)]
                            #p::check_target(&decision, |next| ::core::matches!(next, #(#allowed)|*), #function);
                            decision
                        }
                    }
                }
            };
            arms.push(arm);
        }
    }
    if let Some((pat, ignore_pat, next)) = failure_parts(model) {
        let failed = model.failed().expect("failure_parts checked it");
        let fpat = state_pat(model, failed);
        arms.push(quote!((#fpat, #ignore_pat) => #p::Decision::Stay { actions: #p::Actions::new() }));
        let next_cloned = failed_next(model, quote!(::core::clone::Clone::clone(&message)));
        // Failure actions may name `message`, the failure's description; the failed state then gets a clone.
        let failure_arm = |spat: TokenStream, actions: &[Expr]| {
            let uses_message = failed.shape != Shape::Unit && actions.iter().any(|a| mentions(quote!(#a), "message"));
            let list = actions_list(actions);
            if uses_message {
                quote!((#spat, #pat) => {
                    let next = #next_cloned;
                    #p::Decision::goto_with(next, #list)
                })
            } else {
                quote!((#spat, #pat) => #p::Decision::goto_with(#next, #list))
            }
        };
        for state in &model.states {
            if let Some((actions, _)) = &state.on_failure {
                arms.push(failure_arm(state_pat(model, state), actions));
            }
        }
        arms.push(failure_arm(quote!(_), &model.args.on_failure));
    }
    quote! {
        fn transition(
            state: &Self::State,
            event: Self::Event,
            ctx: &mut Self::Context,
        ) -> #p::Decision<Self::State, Self::Action> {
            match (state, event) {
                #(#arms,)*
                _ => #p::Decision::Unhandled,
            }
        }
    }
}

pub(super) fn entry_exit_fn(model: &Model, name: &str, pick: impl Fn(&State) -> &Vec<Expr>) -> Option<TokenStream> {
    let p = private(model);
    let arms: Vec<TokenStream> = model
        .states
        .iter()
        .filter(|s| !pick(s).is_empty())
        .map(|s| {
            let pat = state_pat(model, s);
            let actions = pick(s);
            quote!(#pat => { #(actions.push(#actions);)* })
        })
        .collect();
    if arms.is_empty() {
        return None;
    }
    let name = Ident::new(name, proc_macro2::Span::call_site());
    Some(quote! {
        fn #name(state: &Self::State, actions: &mut #p::Actions<Self::Action>) {
            match state {
                #(#arms)*
                _ => {}
            }
        }
    })
}

pub(super) fn timeout_fn(model: &Model) -> Option<TokenStream> {
    let p = private(model);
    let arms: Vec<TokenStream> = model
        .states
        .iter()
        .filter_map(|s| {
            let t = s.timeout.as_ref()?;
            let pat = state_pat(model, s);
            let millis = t.millis?;
            let event = t.event.as_ref()?;
            Some(quote! {
                #pat => ::core::option::Option::Some(#p::StateTimeout {
                    after: ::core::time::Duration::from_millis(#millis),
                    event: #event,
                })
            })
        })
        .collect();
    if arms.is_empty() {
        return None;
    }
    Some(quote! {
        fn timeout(state: &Self::State) -> ::core::option::Option<#p::StateTimeout<Self::Event>> {
            match state {
                #(#arms,)*
                _ => ::core::option::Option::None,
            }
        }
    })
}

pub(super) fn unhandled_fn(model: &Model) -> Option<TokenStream> {
    let p = private(model);
    let arms: Vec<TokenStream> = model
        .states
        .iter()
        .filter(|s| !s.ignore.is_empty())
        .map(|s| {
            let spat = state_pat(model, s);
            let epat = events_pat(&s.ignore);
            quote!((#spat, #epat) => #p::Unhandled::Ignore)
        })
        .collect();
    if arms.is_empty() {
        return None;
    }
    Some(quote! {
        fn unhandled(state: &Self::State, event: &Self::Event) -> #p::Unhandled {
            match (state, event) {
                #(#arms,)*
                _ => #p::Unhandled::Fail,
            }
        }
    })
}

pub(super) fn control_fns(model: &Model) -> TokenStream {
    let p = private(model);
    let c = &model.args.control;
    let mut out = TokenStream::new();
    if c.start.is_some() || c.drain.is_some() || c.stop.is_some() {
        let arm = |expr: &Option<Expr>| match expr {
            Some(e) => quote!(::core::option::Option::Some(#e)),
            None => quote!(::core::option::Option::None),
        };
        let (start, drain, stop) = (arm(&c.start), arm(&c.drain), arm(&c.stop));
        out.extend(quote! {
            fn control_event(control: #p::Control) -> ::core::option::Option<Self::Event> {
                match control {
                    #p::Control::Start => #start,
                    #p::Control::Drain => #drain,
                    #p::Control::Stop => #stop,
                }
            }
        });
    }
    let per_state: Vec<TokenStream> = model
        .states
        .iter()
        .filter_map(|s| {
            let e = s.closed.as_ref()?;
            let pat = state_pat(model, s);
            Some(quote!(#pat => ::core::option::Option::Some(#e)))
        })
        .collect();
    if !per_state.is_empty() || model.args.closed.is_some() {
        let fallback = match &model.args.closed {
            Some(e) => quote!(::core::option::Option::Some(#e)),
            None => quote!(::core::option::Option::None),
        };
        out.extend(quote! {
            fn control_closed(state: &Self::State) -> ::core::option::Option<Self::Event> {
                match state {
                    #(#per_state,)*
                    _ => #fallback,
                }
            }
        });
    }
    out
}
