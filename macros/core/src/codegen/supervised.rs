//! The supervisor traits: `impl Machine` assembled from its parts, `impl Supervisor` (the name), and
//! `impl HandlerSupervised` / `impl SelfSupervised` (dispatch, ids, the failure event).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::machine::{control_fns, entry_exit_fn, timeout_fn, transition_fn, unhandled_fn};
use super::{allows, method_path, private, state_pat};
use crate::model::{Dispatch, FailureShape, Mode, Model, Policy};

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
                    fn stage_id(&self) -> #p::StageId {
                        #fields::stage_id(self)
                    }
                    fn writer_id(&self) -> #p::WriterId {
                        #fields::writer_id(self)
                    }
                }
            }
        }
        Mode::SelfSupervised => quote! {
            #allows
            impl #impl_generics #p::SelfSupervised for #stage_ty #where_clause {}
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
            #dispatch
            #failure_event
        }

        #supervised
    }
}
