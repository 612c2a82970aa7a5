//! `impl Machine`: the transition `match` (declared edges, function transitions, the generated failure edge), entry
//! and exit actions, timeouts, the unhandled-event policy and the control mapping.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::capacity::fit_capacity;
use super::{
    actions_list, events_pat, failure_alias, failure_codec, failure_pat, internal, mentions, method_path, private,
    respan, state_pat, transition_pat,
};
use crate::model::{Model, Shape, State, Target};

/// The failed state, built from the expression `message` when it has a field for it, or by the user's
/// `#[failed(Stage::build)]` function from the state that failed and the message.
fn failed_next(model: &Model, message: &TokenStream) -> TokenStream {
    let enum_ident = &model.ident;
    let Some(failed) = model.failed() else { return TokenStream::new() };
    let failed_ident = &failed.ident;
    if let Some(build) = &failed.failed_with {
        // Through `FailedStateFn`, so a builder of the wrong shape is one error on its path.
        let (state, ctx, p) = (internal("state"), internal("ctx"), private(model));
        let method = method_path(model, build);
        let call = quote!(#p::build_failed::<Self::State, Self::Context, _>(#method, #state, #message, #ctx));
        return respan(call, build.span());
    }
    // The field receives the message through `FailedStateField`, spanned on its type: a field that is not a `String`
    // is one error there, saying what the failed state must carry.
    let p = private(model);
    let field = |f: &syn::Field| {
        let ty = &f.ty;
        respan(quote!(<#ty as #p::FailedStateField>::from_failure(#message)), ty.span())
    };
    match &failed.fields {
        None => quote!(#enum_ident::#failed_ident),
        Some(syn::Fields::Named(named)) => {
            let Some(f) = named.named.first() else { return quote!(#enum_ident::#failed_ident {}) };
            let (name, value) = (&f.ident, field(f));
            quote!(#enum_ident::#failed_ident { #name: #value })
        }
        Some(syn::Fields::Unnamed(unnamed)) => {
            let value = unnamed.unnamed.first().map(field);
            quote!(#enum_ident::#failed_ident(#value))
        }
        Some(syn::Fields::Unit) => quote!(#enum_ident::#failed_ident),
    }
}

/// A call of the decider `path` (a function transition or the `unhandled` hook) on the internal state, event and
/// context, through `__private::decide`, spanned on the path: a function of the wrong shape is one error there.
fn decider_call(model: &Model, path: &syn::Path) -> TokenStream {
    let p = private(model);
    let (state, event, ctx) = (internal("state"), internal("event"), internal("ctx"));
    let method = method_path(model, path);
    let call =
        quote!(#p::decide::<Self::State, Self::Event, Self::Context, Self::Action, _>(#method, #state, #event, #ctx));
    respan(call, path.span())
}

/// The pattern of the failure event binding it whole to the internal `event`, and the same without the binding.
fn failure_pats(model: &Model) -> Option<(TokenStream, TokenStream)> {
    let any = failure_pat(model)?;
    let event = internal("event");
    Some((quote!(#event @ #any), any))
}

/// The arm of the failure edge from the states `spat`: it binds `message` (the failure's description, a documented
/// binding the actions may use) and goes to the failed state with `actions`.
fn failure_arm(model: &Model, spat: &TokenStream, pat: &TokenStream, actions: &[Expr]) -> TokenStream {
    let p = private(model);
    let event = internal("event");
    let codec = failure_codec(model).expect("failure_pats checked it");
    let list = actions_list(actions);
    let failed_binds = model.failed().is_some_and(|f| f.shape != Shape::Unit || f.failed_with.is_some());
    let actions_use_message = actions.iter().any(|a| mentions(quote!(#a), "message"));
    let next = match (failed_binds, actions_use_message) {
        (true, true) => failed_next(model, &quote!(::core::clone::Clone::clone(&message))),
        (true, false) => failed_next(model, &quote!(message)),
        (false, _) => failed_next(model, &quote!()),
    };
    quote!((#spat, #pat) => {
        let message: #p::String = #codec.take(#event);
        let next = #next;
        #p::Decision::goto_with(next, #list)
    })
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
                    let event = internal("event");
                    let bind = if t.events.len() > 1 { quote!(#event @ (#epat)) } else { quote!(#event @ #epat) };
                    let call = decider_call(model, path);
                    let allowed = t.to.iter().flatten().map(|to| quote!(#enum_ident::#to { .. }));
                    let function = quote::ToTokens::to_token_stream(path).to_string().replace(' ', "");
                    let (decision, next) = (internal("decision"), internal("next"));
                    let fitted = fit_capacity(model, quote!(#decision));
                    quote! {
                        (#spat, #bind) => {
                            let #decision: #p::Decision<Self::State, Self::Action> = #call;
                            #[cfg(debug_assertions)]
                            #p::check_target(&#decision, |#next| ::core::matches!(#next, #(#allowed)|*), #function);
                            #fitted
                        }
                    }
                }
            };
            arms.push(arm);
        }
    }
    if let (Some((pat, ignore_pat)), Some(failed)) = (failure_pats(model), model.failed()) {
        let fpat = state_pat(model, failed);
        arms.push(quote!((#fpat, #ignore_pat) => #p::Decision::Stay { actions: #p::Actions::new() }));
        for state in &model.states {
            if let Some((actions, _)) = &state.on_failure {
                arms.push(failure_arm(model, &state_pat(model, state), &pat, actions));
            }
        }
        arms.push(failure_arm(model, &quote!(_), &pat, &model.args.on_failure));
    }
    // The failure variant's alias, when the arms name it (see `failure_alias`).
    let alias = if model.failed().is_some() { failure_alias(model) } else { None };
    let (state, event, ctx) = (internal("state"), internal("event"), internal("ctx"));
    // `unhandled = Stage::hook`: every event no transition of the state takes goes to the hook, which may log or count
    // it, map it to another event (by calling `transition` again) or return `Decision::Unhandled`, which leaves it to
    // the ignore lists and then the failure path.
    let rest = match &model.args.unhandled {
        Some(path) => {
            let call = fit_capacity(model, decider_call(model, path));
            quote!((#state, #event) => #call)
        }
        None => quote!(_ => #p::Decision::Unhandled),
    };
    quote! {
        fn transition(
            #state: &Self::State,
            #event: Self::Event,
            #ctx: &mut Self::Context,
        ) -> #p::Decision<Self::State, Self::Action, Self::ActionCapacity> {
            #alias
            match (#state, #event) {
                #(#arms,)*
                #rest,
            }
        }
    }
}

pub(super) fn entry_exit_fn(model: &Model, name: &str, pick: impl Fn(&State) -> &Vec<Expr>) -> Option<TokenStream> {
    let p = private(model);
    let (state, list) = (internal("state"), internal("actions"));
    let arms: Vec<TokenStream> = model
        .states
        .iter()
        .filter(|s| !pick(s).is_empty())
        .map(|s| {
            let pat = state_pat(model, s);
            let actions = pick(s);
            // Each action typed on its own, so an expression of another type is one error on it.
            let action = internal("action");
            quote!(#pat => { #({ let #action: Self::Action = #actions; #list.push(#action); })* })
        })
        .collect();
    if arms.is_empty() {
        return None;
    }
    let name = Ident::new(name, proc_macro2::Span::call_site());
    Some(quote! {
        fn #name(#state: &Self::State, #list: &mut #p::ActionsOf<Self>) {
            match #state {
                #(#arms)*
                _ => {}
            }
        }
    })
}

pub(super) fn timeout_fn(model: &Model) -> Option<TokenStream> {
    let p = private(model);
    let state = internal("state");
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
        fn timeout(#state: &Self::State) -> ::core::option::Option<#p::StateTimeout<Self::Event>> {
            match #state {
                #(#arms,)*
                _ => ::core::option::Option::None,
            }
        }
    })
}

pub(super) fn unhandled_fn(model: &Model) -> Option<TokenStream> {
    let p = private(model);
    let (state, event) = (internal("state"), internal("event"));
    let mut arms: Vec<TokenStream> = model
        .states
        .iter()
        .filter(|s| !s.ignore.is_empty())
        .map(|s| {
            let spat = state_pat(model, s);
            let epat = events_pat(&s.ignore);
            quote!((#spat, #epat) => #p::Unhandled::Ignore)
        })
        .collect();
    if !model.args.ignore.is_empty() {
        // `ignore = [..]`: every state drops these (a state's own transition on one still takes it first).
        let epat = events_pat(&model.args.ignore);
        arms.push(quote!((_, #epat) => #p::Unhandled::Ignore));
    }
    if arms.is_empty() {
        return None;
    }
    Some(quote! {
        fn unhandled(#state: &Self::State, #event: &Self::Event) -> #p::Unhandled {
            match (#state, #event) {
                #(#arms,)*
                _ => #p::Unhandled::Fail,
            }
        }
    })
}

pub(super) fn control_fns(model: &Model) -> TokenStream {
    let p = private(model);
    let (state, control) = (internal("state"), internal("control"));
    let c = &model.args.control;
    let mut out = TokenStream::new();
    if c.start.is_some() || c.drain.is_some() || c.stop.is_some() {
        let arm = |expr: &Option<Expr>| match expr {
            Some(e) => quote!(::core::option::Option::Some(#e)),
            None => quote!(::core::option::Option::None),
        };
        let (start, drain, stop) = (arm(&c.start), arm(&c.drain), arm(&c.stop));
        out.extend(quote! {
            fn control_event(#control: #p::Control) -> ::core::option::Option<Self::Event> {
                match #control {
                    #p::Control::Start => #start,
                    #p::Control::Drain => #drain,
                    #p::Control::Stop => #stop,
                    // `Control` is non-exhaustive: a message added later is ignored until the stage names it.
                    _ => ::core::option::Option::None,
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
            fn control_closed(#state: &Self::State) -> ::core::option::Option<Self::Event> {
                match #state {
                    #(#per_state,)*
                    _ => #fallback,
                }
            }
        });
    }
    out
}
