//! `Supervisor::dispatch_state`: what each state does each turn, an `async` block around a `match` on the state that
//! awaits the stage's method (through `__private::dispatch`, so a method of the wrong shape is one error), calls a
//! `sync` one without a future, emits an event, terminates, or waits; with an `inbox`, the stage's own events race that work under the state's policy.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use super::{internal, method_path, private, respan, state_pat};
use crate::model::{Dispatch, Model, Policy};

pub(super) fn dispatch_fn(model: &Model) -> TokenStream {
    let p = private(model);
    let (state, ctx, inbox, stage) = (internal("state"), internal("ctx"), internal("inbox"), internal("stage"));
    let reads_inbox =
        |s: &crate::model::State| model.args.inbox.is_some() && !s.is_terminal() && s.policy() != Policy::Ignore;
    let arms = model.states.iter().map(|s| {
        let pat = state_pat(model, s);
        let dispatch = s.dispatch.as_ref().map(|(d, _)| d);
        // The state's own work, as a future (not awaited yet).
        let work = match (s.is_terminal(), dispatch) {
            (true, _) | (false, Some(Dispatch::Terminate)) => None,
            (false, Some(Dispatch::Call(path))) if s.policy() != Policy::Block => {
                // Through `DispatchFn`, so a method of the wrong shape is one error on its path.
                let method = method_path(model, path);
                let call = if reads_inbox(s) {
                    quote!(#p::dispatch_future::<Self, Self::Context, Self::Event, _>(#method, #stage, #ctx))
                } else {
                    // The method's own future awaited here, in this block, and its output mapped by a plain
                    // function: no wrapper future on the hot path.
                    let call = quote!(#p::dispatch::<Self, Self::Context, Self::Event, _>(#method, #stage, #ctx));
                    quote!(#p::dispatched(#call.await))
                };
                Some((call, Some(path.span())))
            }
            // A plain method: called here, its result the block's value, no future (through `SyncDispatchFn`, so a
            // method of the wrong shape, an `async fn` among them, is one error on its path). With an inbox, a future
            // that calls it when first polled, after the inbox was checked.
            (false, Some(Dispatch::CallSync(path))) if s.policy() != Policy::Block => {
                let method = method_path(model, path);
                let call = if reads_inbox(s) {
                    quote!(#p::dispatch_sync_future::<Self, Self::Context, Self::Event, _>(#method, #stage, #ctx))
                } else {
                    let call = quote!(#p::dispatch_sync::<Self, Self::Context, Self::Event, _>(#method, #stage, #ctx));
                    quote!(#p::dispatched(#call))
                };
                Some((call, Some(path.span())))
            }
            // The event typed on its own, so an expression of another type is one error on it.
            (false, Some(Dispatch::Emit(event))) => {
                let emitted = internal("emitted");
                let event = quote!({ let #emitted: Self::Event = #event; #emitted });
                let directive = quote!(::core::result::Result::Ok(#p::Directive::Transition(#event)));
                // Handed to `with_inbox` as a future; without an inbox, the block's value.
                let work = if reads_inbox(s) { quote!(::core::future::ready(#directive)) } else { directive };
                Some((work, None))
            }
            (false, Some(Dispatch::Wait | Dispatch::Call(_) | Dispatch::CallSync(_)) | None) => None,
        };
        let waits = !s.is_terminal() && !matches!(dispatch, Some(Dispatch::Terminate));
        let body = match (work, reads_inbox(s)) {
            (Some((work, span)), true) => {
                let work = match span {
                    Some(span) => respan(work, span),
                    None => work,
                };
                quote!(#p::with_inbox::<Self, _>(#inbox, #state, #work).await)
            }
            // Awaited inside the respan, as before there was an inbox: rustc's errors about the method land on its path.
            (Some((work, Some(span))), false) => respan(work, span),
            // An emitted event is the block's value as it is.
            (Some((work, None)), false) => work,
            (None, true) if waits => quote!(#p::wait_inbox::<Self>(#inbox, #state).await),
            (None, _) if waits => quote!(::core::future::pending().await),
            (None, _) => quote!(::core::result::Result::Ok(#p::Directive::Terminate)),
        };
        quote!(#pat => #body)
    });
    let body = if model.states.is_empty() { quote!(match *#state {}) } else { quote!(match #state { #(#arms,)* }) };
    // Taken once, before the match: a field that is missing or of another type is one error, on the key's value.
    let take_inbox = model.args.inbox.as_ref().map(|field| {
        let reader = quote!(#p::InboxReader::<Self::Event>::of(&#stage.#field));
        let reader = respan(reader, field.span());
        quote!(let #inbox = #reader;)
    });
    quote! {
        fn dispatch_state(
            &mut self,
            #state: &Self::State,
            #ctx: &mut Self::Context,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<#p::Directive<Self::Event>, #p::BoxError>,
        > + ::core::marker::Send {
            async move {
                // `self` named first, so the block keeps it first: the stage and the context are then not side by
                // side in the block, and the method's future is built from them with two 8-byte loads, where one
                // 16-byte load of the two fresh stores missed store forwarding and stalled every turn (`macro_cost`).
                let #stage = self;
                #take_inbox
                #body
            }
        }
    }
}
