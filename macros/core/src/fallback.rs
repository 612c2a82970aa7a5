//! What is emitted beside errors: impls with placeholder bodies, so that code using the stage reports nothing but the
//! real mistakes.

use proc_macro2::TokenStream;
use quote::quote;

use crate::codegen::{allows, enum_type, inherent, private, respan, state_variant};
use crate::model::{Mode, Model};

/// What a model with errors expands to: the errors, then the enum's own impls and stubs of the supervisor traits.
pub fn fallback(model: &Model, errors: TokenStream) -> TokenStream {
    if model.generics.const_params().next().is_some() {
        return errors;
    }
    let state_variant = state_variant(model);
    let inherent = inherent(model, "");
    let stubs = model.args.stage.as_ref().map(|stage| stubs(model, &stage.generics, &stage.ty, None));
    let suspect = suspect_stubs(model);
    quote! { #errors #state_variant #inherent #stubs #suspect }
}

/// The stubs on the type the machine's methods name when it is one typo away from the stage type (see
/// [`stage_typo`](crate::stage_typo)), emitted beside the supervisor as well as beside errors. Their guard,
/// `where Suspect: __private::StageMethodOf<Stage>`, holds for no type, so with both types real it is the one error;
/// it is spanned on the suspect's token but for the stage type inside it, which keeps its own so that a missing stage
/// type is the very error rustc gives on the `stage` key (reported once).
pub fn suspect_stubs(model: &Model) -> TokenStream {
    let p = private(model);
    let Some((suspect, stage)) = crate::stage_typo::stub_target(model) else { return TokenStream::new() };
    let head = respan(quote!(#suspect: #p::StageMethodOf<), suspect.span());
    let tail = respan(quote!(>), suspect.span());
    let guard = quote!(where #head #stage #tail);
    stubs(model, &syn::Generics::default(), &syn::parse_quote!(#suspect), Some(guard))
}

/// Impls with placeholder bodies for `stage_ty`, emitted beside errors when the four types are known, so that code
/// using the stage reports nothing but the real mistakes. `guard`, a where clause, replaces the stage's own.
fn stubs(model: &Model, generics: &syn::Generics, stage_ty: &syn::Type, guard: Option<TokenStream>) -> TokenStream {
    let p = private(model);
    let allows = allows();
    let enum_ty = enum_type(model);
    // An event or action type that did not parse has its own error; a placeholder stands in for it here.
    let unknown = quote!(#p::Unknown);
    let event = model.args.event.as_ref().map_or_else(|| unknown.clone(), |t| quote!(#t));
    let action = model.args.action.as_ref().map_or_else(|| unknown.clone(), |t| quote!(#t));
    let Some(context) = &model.args.context else {
        return TokenStream::new();
    };
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let where_clause = guard.unwrap_or_else(|| quote!(#where_clause));
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
            type ActionCapacity = #p::DefaultCapacity;
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
