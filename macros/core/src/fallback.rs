//! What is emitted beside errors: impls with placeholder bodies, so that code using the stage reports nothing but the
//! real mistakes.

use proc_macro2::TokenStream;
use quote::quote;

use crate::codegen::{allows, enum_type, inherent, private, state_variant};
use crate::model::{Mode, Model};

/// What a model with errors expands to: the errors, then the enum's own impls and stubs of the supervisor traits.
pub fn fallback(model: &Model, errors: TokenStream) -> TokenStream {
    if model.generics.const_params().next().is_some() {
        return errors;
    }
    let state_variant = state_variant(model);
    let inherent = inherent(model, "");
    let stubs = stubs(model);
    quote! { #errors #state_variant #inherent #stubs }
}

/// Impls with placeholder bodies, emitted beside errors when the four types are known, so that code using the
/// stage reports nothing but the real mistakes.
fn stubs(model: &Model) -> TokenStream {
    let p = private(model);
    let allows = allows();
    let enum_ty = enum_type(model);
    // An event or action type that did not parse has its own error; a placeholder stands in for it here.
    let unknown = quote!(#p::Unknown);
    let event = model.args.event.as_ref().map_or_else(|| unknown.clone(), |t| quote!(#t));
    let action = model.args.action.as_ref().map_or_else(|| unknown.clone(), |t| quote!(#t));
    let (Some(stage), Some(context)) = (&model.args.stage, &model.args.context) else {
        return TokenStream::new();
    };
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
                fn stage_id(&self) -> #p::StageId { #p::StageId(0) }
            }
        },
        Mode::SelfSupervised => quote! {
            #allows
            impl #impl_generics #p::SelfSupervised for #stage_ty #where_clause {}
        },
    };
    quote! {
        #allows
        impl #impl_generics #p::Machine for #stage_ty #where_clause {
            type State = #enum_ty;
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
            #dispatch
        }

        #supervised
    }
}
