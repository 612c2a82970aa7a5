//! The supervisor traits: `impl Machine` assembled from its parts, `impl Supervisor` (the name), and
//! `impl HandlerSupervised` / `impl SelfSupervised` (dispatch, ids, the failure event).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::capacity::action_capacity;
use super::dispatch::dispatch_fn;
use super::machine::{control_fns, entry_exit_fn, timeout_fn, transition_fn, unhandled_fn};
use super::{allows, failure_alias, failure_codec, internal, method_path, private, respan};
use crate::model::{Mode, Model};

fn failure_event_fn(model: &Model) -> TokenStream {
    let p = private(model);
    let message = internal("message");
    let codec = failure_codec(model).expect("validated");
    let event = quote!(#codec.make(#message));
    let alias = failure_alias(model);
    quote! {
        fn event_for_action_error(&self, #message: #p::String) -> Self::Event {
            #alias
            #event
        }
    }
}

/// `completion = Stage::method`: `write_completion_event` awaits
/// `async fn method(&mut self, ctx: &mut Context) -> Result<(), E>` (`E: Into<BoxError>`).
fn completion_fn(model: &Model) -> Option<TokenStream> {
    let p = private(model);
    let path = model.args.completion.as_ref()?;
    let ctx = internal("ctx");
    let method = method_path(model, path);
    // Through `CompletionFn`, so a method of the wrong shape is one error on its path; awaited inside an `async` block
    // (as dispatch is), so the `Send` check of the returned future does not judge that bound a second time.
    let call = respan(quote!(#p::complete::<Self, Self::Context, _>(#method, self, #ctx).await), path.span());
    Some(quote! {
        fn write_completion_event(
            &mut self,
            #ctx: &mut Self::Context,
        ) -> impl ::core::future::Future<Output = ::core::result::Result<(), #p::BoxError>> + ::core::marker::Send {
            async move { #call }
        }
    })
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
    let capacity = action_capacity(model);
    let transition = transition_fn(model);
    let entry = entry_exit_fn(model, "on_entry", |s| &s.entry);
    let exit = entry_exit_fn(model, "on_exit", |s| &s.exit);
    let timeout = timeout_fn(model);
    let unhandled = unhandled_fn(model);
    let control = control_fns(model);
    // `name = ..`: a string literal, or any constant `&'static str` expression, evaluated in the stage's impls (so a
    // generic stage may take it from its parameters, `name = W::NAME`, one name per instance). Any but a literal goes
    // through `SupervisorName`, spanned on it: one that is not a `&'static str` is one error there.
    let name = match &model.args.name {
        Some(expr @ syn::Expr::Lit(_)) => quote!(#expr),
        Some(expr) => respan(quote!(#p::SupervisorName::name(#expr)), expr.span()),
        None => {
            let name = model.default_supervisor_name();
            quote!(#name)
        }
    };
    let dispatch = dispatch_fn(model);
    let failure_event = failure_event_fn(model);
    let completion = completion_fn(model);
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
            #capacity
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
            #completion
        }

        #supervised
    }
}
