//! `Supervisor::dispatch_state`: what each state does each turn, an `async` block around a `match` on the state that
//! awaits the stage's method (through `__private::dispatch`, so a method of the wrong shape is one error), emits an
//! event, terminates, or waits.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use super::{internal, method_path, private, respan, state_pat};
use crate::model::{Dispatch, Model, Policy};

pub(super) fn dispatch_fn(model: &Model) -> TokenStream {
    let p = private(model);
    let (state, ctx) = (internal("state"), internal("ctx"));
    let arms = model.states.iter().map(|s| {
        let pat = state_pat(model, s);
        let dispatch = s.dispatch.as_ref().map(|(d, _)| d);
        let body = match (s.is_terminal(), dispatch) {
            (true, _) | (false, Some(Dispatch::Terminate)) => {
                quote!(::core::result::Result::Ok(#p::Directive::Terminate))
            }
            (false, Some(Dispatch::Call(path))) if s.policy() != Policy::Block => {
                // Through `DispatchFn`, so a method of the wrong shape is one error on its path.
                let method = method_path(path);
                let call = quote!(#p::dispatch::<Self, Self::Context, Self::Event, _>(#method, self, #ctx).await);
                respan(call, path.span())
            }
            (false, Some(Dispatch::Emit(event))) => {
                quote!(::core::result::Result::Ok(#p::Directive::Transition(#event)))
            }
            (false, Some(Dispatch::Wait | Dispatch::Call(_)) | None) => quote!(::core::future::pending().await),
        };
        quote!(#pat => #body)
    });
    let body = if model.states.is_empty() { quote!(match *#state {}) } else { quote!(match #state { #(#arms,)* }) };
    quote! {
        fn dispatch_state(
            &mut self,
            #state: &Self::State,
            #ctx: &mut Self::Context,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<#p::Directive<Self::Event>, #p::BoxError>,
        > + ::core::marker::Send {
            async move { #body }
        }
    }
}
