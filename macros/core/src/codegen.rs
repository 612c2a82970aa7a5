//! Code generation: the supervisor of a validated [`Model`], and the stubs emitted next to errors so that one mistake
//! gives one error rather than a cascade of missing impls.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Path};

use crate::model::{Dispatch, EndingKind, EventPat, FailureShape, Mode, Model, Policy, Shape, State, Target};

/// The lints generated impls allow: exhaustive per-state `match`es repeat arms on purpose, and parameters are unused
/// in machines that do not need them.
fn allows() -> TokenStream {
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

fn private(model: &Model) -> TokenStream {
    let krate = &model.args.krate;
    quote!(#krate::__private)
}

/// A pattern matching state `state` whatever its fields.
fn state_pat(model: &Model, state: &State) -> TokenStream {
    let enum_ident = &model.ident;
    let ident = &state.ident;
    quote!(#enum_ident::#ident { .. })
}

/// A pattern matching any of a transition's events, with the bindings the user wrote.
fn transition_pat(events: &[EventPat]) -> TokenStream {
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
fn events_pat(events: &[Path]) -> TokenStream {
    let alts = events.iter().map(|e| quote_spanned!(e.span()=> #e { .. }));
    quote!(#(#alts)|*)
}

/// A bare method name (`next_line`) is the stage's own (`Self::next_line`); a path is taken as written.
fn method_path(path: &Path) -> TokenStream {
    match path.get_ident() {
        Some(ident) => quote_spanned!(ident.span()=> Self::#ident),
        None => quote!(#path),
    }
}

/// `StateVariant` for the enum: names, endings, control policies. Depends on nothing but the variants, so it is
/// emitted on error too.
pub fn state_variant(model: &Model) -> TokenStream {
    let p = private(model);
    let enum_ident = &model.ident;
    let allows = allows();
    if model.states.is_empty() {
        return quote! {
            #allows
            impl #p::StateVariant for #enum_ident {
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
        let policy = match s.policy() {
            Policy::Block => quote!(#p::ControlPolicy::Block),
            Policy::Poll => quote!(#p::ControlPolicy::Poll),
            Policy::Ignore => quote!(#p::ControlPolicy::Ignore),
        };
        quote!(#pat => #policy)
    });
    quote! {
        #allows
        impl #p::StateVariant for #enum_ident {
            fn name(&self) -> &'static str {
                match self { #(#names,)* }
            }
            fn ending(&self) -> ::core::option::Option<#p::Ending> {
                match self { #(#endings,)* }
            }
            fn control_policy(&self) -> #p::ControlPolicy {
                match self { #(#policies,)* }
            }
        }
    }
}

/// `INITIAL` and `MERMAID` on the enum. On error, `INITIAL` falls back to the first unit variant so code naming it
/// does not add errors of its own.
pub fn inherent(model: &Model, mermaid: &str) -> TokenStream {
    let enum_ident = &model.ident;
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
        impl #enum_ident {
            #initial
            /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
            /// may choose, and the generated failure edges, labelled `(failure)`.
            pub const MERMAID: &'static str = #mermaid;
        }
    }
}

fn actions_list(exprs: &[Expr]) -> TokenStream {
    quote!([#(#exprs),*])
}

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

fn transition_fn(model: &Model) -> TokenStream {
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

fn entry_exit_fn(model: &Model, name: &str, pick: impl Fn(&State) -> &Vec<Expr>) -> Option<TokenStream> {
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

fn timeout_fn(model: &Model) -> Option<TokenStream> {
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

fn unhandled_fn(model: &Model) -> Option<TokenStream> {
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

fn control_fns(model: &Model) -> TokenStream {
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

fn dispatch_fn(model: &Model) -> TokenStream {
    let p = private(model);
    let arms = model.states.iter().map(|s| {
        let pat = state_pat(model, s);
        let dispatch = s.dispatch.as_ref().map(|(d, _)| d);
        let body = match (s.is_terminal(), dispatch) {
            (true, _) | (false, Some(Dispatch::Terminate)) => {
                quote!(::core::result::Result::Ok(#p::Directive::Terminate))
            }
            (false, Some(Dispatch::Call(path))) if s.policy() != Policy::Block => {
                let path = method_path(path);
                quote_spanned!(path.span()=> #p::dispatch_result(#path(self, ctx).await))
            }
            (false, Some(Dispatch::Emit(event))) => {
                quote!(::core::result::Result::Ok(#p::Directive::Transition(#event)))
            }
            (false, Some(Dispatch::Wait | Dispatch::Call(_)) | None) => quote!(::core::future::pending().await),
        };
        quote!(#pat => #body)
    });
    let body = if model.states.is_empty() { quote!(match *state {}) } else { quote!(match state { #(#arms,)* }) };
    quote! {
        fn dispatch_state(
            &mut self,
            state: &Self::State,
            ctx: &mut Self::Context,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<#p::Directive<Self::Event>, #p::BoxError>,
        > + ::core::marker::Send {
            async move { #body }
        }
    }
}

fn failure_event_fn(model: &Model) -> TokenStream {
    let p = private(model);
    let failure = model.args.failure.as_ref().expect("validated");
    let path = &failure.path;
    let event = match &failure.shape {
        FailureShape::Tuple => quote_spanned!(path.span()=> #path(message)),
        FailureShape::Named(field) if field == "message" => quote_spanned!(path.span()=> #path { message }),
        FailureShape::Named(field) => quote_spanned!(path.span()=> #path { #field: message }),
    };
    quote! {
        fn event_for_action_error(&self, message: #p::String) -> Self::Event {
            #event
        }
    }
}

/// The full supervisor of a model that passed validation.
pub fn supervisor(model: &Model) -> TokenStream {
    let p = private(model);
    let allows = allows();
    let enum_ident = &model.ident;
    let stage = model.args.stage.as_ref().expect("validated");
    let (impl_generics, _, where_clause) = stage.generics.split_for_impl();
    let stage_ty = &stage.ty;
    let (event, action, context) = (
        model.args.event.as_ref().expect("validated"),
        model.args.action.as_ref().expect("validated"),
        model.args.context.as_ref().expect("validated"),
    );
    let transition = transition_fn(model);
    let entry = entry_exit_fn(model, "on_entry", |s| &s.entry);
    let exit = entry_exit_fn(model, "on_exit", |s| &s.exit);
    let timeout = timeout_fn(model);
    let unhandled = unhandled_fn(model);
    let control = control_fns(model);
    let name = model.supervisor_name();
    let dispatch = dispatch_fn(model);
    let failure_event = failure_event_fn(model);
    let supervised = match model.mode {
        Mode::Handler => {
            let span = stage_ty.span();
            let fields = quote_spanned!(span=> <Self as #p::StageFields>);
            quote! {
                #allows
                impl #impl_generics #p::HandlerSupervised for #stage_ty #where_clause {
                    #dispatch
                    fn stage_id(&self) -> #p::StageId {
                        #fields::stage_id(self)
                    }
                    fn writer_id(&self) -> #p::WriterId {
                        #fields::writer_id(self)
                    }
                    #failure_event
                }
            }
        }
        Mode::SelfSupervised => quote! {
            #allows
            impl #impl_generics #p::SelfSupervised for #stage_ty #where_clause {
                #dispatch
                #failure_event
            }
        },
    };
    quote! {
        #allows
        impl #impl_generics #p::Machine for #stage_ty #where_clause {
            type State = #enum_ident;
            type Event = #event;
            type Context = #context;
            type Action = #action;
            #transition
            #entry
            #exit
            #timeout
            #unhandled
            #control
        }

        #allows
        impl #impl_generics #p::Supervisor for #stage_ty #where_clause {
            fn name(&self) -> &'static str {
                #name
            }
        }

        #supervised
    }
}

/// Impls with placeholder bodies, emitted beside errors when the four types are known, so that code using the
/// stage reports nothing but the real mistakes.
pub fn stubs(model: &Model) -> TokenStream {
    let p = private(model);
    let allows = allows();
    let enum_ident = &model.ident;
    let (Some(stage), Some(event), Some(action), Some(context)) =
        (&model.args.stage, &model.args.event, &model.args.action, &model.args.context)
    else {
        return TokenStream::new();
    };
    if !model.generics.params.is_empty() {
        return TokenStream::new();
    }
    let (impl_generics, _, where_clause) = stage.generics.split_for_impl();
    let stage_ty = &stage.ty;
    let dispatch = quote! {
        fn dispatch_state(
            &mut self,
            _: &Self::State,
            _: &mut Self::Context,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<#p::Directive<Self::Event>, #p::BoxError>,
        > + ::core::marker::Send {
            async { ::core::result::Result::Err(#p::BoxError::from("stagewise: this machine did not compile")) }
        }
        fn event_for_action_error(&self, _: #p::String) -> Self::Event {
            ::core::unimplemented!("stagewise: this machine did not compile")
        }
    };
    let supervised = match model.mode {
        Mode::Handler => quote! {
            #allows
            impl #impl_generics #p::HandlerSupervised for #stage_ty #where_clause {
                #dispatch
                fn stage_id(&self) -> #p::StageId { #p::StageId(0) }
            }
        },
        Mode::SelfSupervised => quote! {
            #allows
            impl #impl_generics #p::SelfSupervised for #stage_ty #where_clause {
                #dispatch
            }
        },
    };
    quote! {
        #allows
        impl #impl_generics #p::Machine for #stage_ty #where_clause {
            type State = #enum_ident;
            type Event = #event;
            type Context = #context;
            type Action = #action;
            fn transition(
                _: &Self::State,
                _: Self::Event,
                _: &mut Self::Context,
            ) -> #p::Decision<Self::State, Self::Action> {
                #p::Decision::Unhandled
            }
        }

        #allows
        impl #impl_generics #p::Supervisor for #stage_ty #where_clause {
            fn name(&self) -> &'static str { "" }
        }

        #supervised
    }
}
