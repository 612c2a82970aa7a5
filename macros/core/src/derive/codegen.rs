//! The derives' impls: `StageFields` (and its stub beside errors), `EventVariant`, and the inherent `variant_name`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Path};

use super::parse::{StageFields, VariantNames};

/// `impl StageFields` reading the stage's id fields.
pub(super) fn stage_fields(input: &DeriveInput, fields: &StageFields) -> TokenStream {
    let krate = &fields.krate;
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let member = &fields.stage_id;
    let writer = fields.writer_id.as_ref().map(|w| {
        quote! {
            fn writer_id(&self) -> #p::WriterId { self.#w }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #p::StageFields for #ident #ty_generics #where_clause {
            fn stage_id(&self) -> #p::StageId { self.#member }
            #writer
        }
    }
}

/// The errors, and for a struct a placeholder `impl StageFields`, so code using the stage adds no errors of its own.
pub(super) fn stage_fields_fallback(input: &DeriveInput, krate: &Path, errors: TokenStream) -> TokenStream {
    if !matches!(input.data, Data::Struct(_)) {
        return errors;
    }
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #errors
        #[automatically_derived]
        impl #impl_generics #p::StageFields for #ident #ty_generics #where_clause {
            fn stage_id(&self) -> #p::StageId { #p::StageId(0) }
        }
    }
}

/// The body of a `match` from each variant to its name.
fn name_match(input: &DeriveInput, names: &VariantNames) -> TokenStream {
    let ident = &input.ident;
    if names.variants.is_empty() {
        return quote!(match *self {});
    }
    let arms = names.variants.iter().map(|v| {
        let name = v.to_string();
        quote!(#ident::#v { .. } => #name)
    });
    quote!(match self { #(#arms,)* })
}

/// `impl EventVariant`.
pub(super) fn event_variant(input: &DeriveInput, names: &VariantNames) -> TokenStream {
    let krate = &names.krate;
    let ident = &input.ident;
    let body = name_match(input, names);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::__private::EventVariant for #ident #ty_generics #where_clause {
            fn name(&self) -> &'static str { #body }
        }
    }
}

/// The inherent `const fn variant_name`.
pub(super) fn variant_name(input: &DeriveInput, names: &VariantNames) -> TokenStream {
    let ident = &input.ident;
    let body = name_match(input, names);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #impl_generics #ident #ty_generics #where_clause {
            /// The variant's name, for logs (e.g. `Action::name`).
            #[must_use]
            pub const fn variant_name(&self) -> &'static str { #body }
        }
    }
}
