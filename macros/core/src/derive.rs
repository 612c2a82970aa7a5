//! The companion derives: `Stage` (which field is the stage id), `EventVariant` (static event names) and
//! `VariantName` (static variant names, for `Action::name`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{parse_quote, Data, DeriveInput, Member, Meta, Path, Type};

use crate::ctxt::Ctxt;

/// `#[stagewise(crate = path)]` on the item, `::stagewise` by default.
fn crate_path(cx: &Ctxt, input: &DeriveInput) -> Path {
    let mut krate = parse_quote!(::stagewise);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("stagewise")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                krate = meta.value()?.call(Path::parse_mod_style)?;
                Ok(())
            } else {
                Err(meta.error("unknown key in #[stagewise(..)]: the only key is `crate = path`"))
            }
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }
    krate
}

/// True when `ty` is written `StageId` / `WriterId` (possibly qualified).
fn is_type(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == name && s.arguments.is_empty()))
}

fn flag_ok(cx: &Ctxt, attr: &syn::Attribute, what: &str) {
    if !matches!(attr.meta, Meta::Path(_)) {
        cx.error_spanned_by(attr, format!("`#[{what}]` takes no arguments"));
    }
}

/// `#[derive(Stage)]`: implements the runtime's `StageFields` from the stage id field (the one marked `#[stage_id]`,
/// or else the only field written `StageId`) and the optional `#[writer_id]` field.
pub fn stage(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let cx = Ctxt::new();
    let krate = crate_path(&cx, &input);
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut stage_id: Option<Member> = None;
    let mut writer_id: Option<Member> = None;
    match &input.data {
        Data::Struct(data) => {
            for (i, field) in data.fields.iter().enumerate() {
                let member = field.ident.clone().map_or_else(|| Member::Unnamed(i.into()), Member::Named);
                for attr in &field.attrs {
                    let (slot, what, ty_name) = if attr.path().is_ident("stage_id") {
                        (&mut stage_id, "stage_id", "StageId")
                    } else if attr.path().is_ident("writer_id") {
                        (&mut writer_id, "writer_id", "WriterId")
                    } else {
                        continue;
                    };
                    flag_ok(&cx, attr, what);
                    if slot.is_some() {
                        cx.error_spanned_by(
                            attr,
                            format!("a second `#[{what}]` field: a stage has one {}; remove one of the marks", ty_name),
                        );
                        continue;
                    }
                    if !is_type(&field.ty, ty_name) {
                        cx.error_spanned_by(
                            &field.ty,
                            format!(
                                "the `#[{what}]` field must be of type `{ty_name}`, e.g. `#[{what}] id: {ty_name}`"
                            ),
                        );
                    }
                    *slot = Some(member.clone());
                }
            }
            if stage_id.is_none() {
                // Unmarked, the one field written `StageId` is the stage id.
                let candidates: Vec<Member> = data
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| is_type(&f.ty, "StageId"))
                    .map(|(i, f)| f.ident.clone().map_or_else(|| Member::Unnamed(i.into()), Member::Named))
                    .collect();
                match candidates.as_slice() {
                    [only] => stage_id = Some(only.clone()),
                    [] => cx.error_spanned_by(
                        ident,
                        format!("stage `{ident}` has no stage id: add a field `id: StageId` (or mark the field that holds it `#[stage_id]`)"),
                    ),
                    _ => cx.error_spanned_by(
                        ident,
                        format!("stage `{ident}` has several `StageId` fields: mark its own with `#[stage_id]`"),
                    ),
                }
            }
        }
        Data::Enum(data) => cx.error_spanned_by(
            data.enum_token,
            "`#[derive(Stage)]` goes on the stage struct; an enum here is probably the state enum, which takes \
             `#[handler_supervised(..)]`",
        ),
        Data::Union(data) => {
            cx.error_spanned_by(data.union_token, "`#[derive(Stage)]` goes on the stage struct, not a union")
        }
    }
    let body = match (&stage_id, cx.check()) {
        (Some(member), Ok(())) => {
            let writer = writer_id.map(|w| {
                quote! {
                    fn writer_id(&self) -> #p::WriterId { self.#w }
                }
            });
            return quote! {
                #[automatically_derived]
                impl #impl_generics #p::StageFields for #ident #ty_generics #where_clause {
                    fn stage_id(&self) -> #p::StageId { self.#member }
                    #writer
                }
            };
        }
        (_, Err(errors)) => errors,
        (None, Ok(())) => unreachable!("a missing stage id is an error"),
    };
    if matches!(input.data, Data::Struct(_)) {
        quote! {
            #body
            #[automatically_derived]
            impl #impl_generics #p::StageFields for #ident #ty_generics #where_clause {
                fn stage_id(&self) -> #p::StageId { #p::StageId(0) }
            }
        }
    } else {
        body
    }
}

/// The match arms from each variant to its name.
fn name_arms(cx: &Ctxt, input: &DeriveInput, derive: &str) -> Option<Vec<TokenStream>> {
    let ident = &input.ident;
    match &input.data {
        Data::Enum(data) => Some(
            data.variants
                .iter()
                .map(|v| {
                    let v_ident = &v.ident;
                    let name = v_ident.to_string();
                    quote!(#ident::#v_ident { .. } => #name)
                })
                .collect(),
        ),
        Data::Struct(data) => {
            cx.error_spanned_by(
                data.struct_token,
                format!("`#[derive({derive})]` names the variants of an enum; this is a struct"),
            );
            None
        }
        Data::Union(data) => {
            cx.error_spanned_by(
                data.union_token,
                format!("`#[derive({derive})]` names the variants of an enum; this is a union"),
            );
            None
        }
    }
}

/// What both name derives need: the parsed enum, the crate path and the body of a `match` from variant to name; or the
/// errors to emit instead.
fn name_derive(input: TokenStream, derive: &str) -> Result<(DeriveInput, Path, TokenStream), TokenStream> {
    let input: DeriveInput = syn::parse2(input).map_err(|e| e.to_compile_error())?;
    let cx = Ctxt::new();
    let krate = crate_path(&cx, &input);
    let arms = name_arms(&cx, &input, derive);
    cx.check()?;
    let arms = arms.unwrap_or_default();
    let body = if arms.is_empty() { quote!(match *self {}) } else { quote!(match self { #(#arms,)* }) };
    Ok((input, krate, body))
}

/// `#[derive(EventVariant)]`: each event's static name is its variant's name.
pub fn event_variant(input: TokenStream) -> TokenStream {
    let (input, krate, body) = match name_derive(input, "EventVariant") {
        Ok(parts) => parts,
        Err(errors) => return errors,
    };
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::__private::EventVariant for #ident #ty_generics #where_clause {
            fn name(&self) -> &'static str { #body }
        }
    }
}

/// `#[derive(VariantName)]`: an inherent `const fn variant_name(&self) -> &'static str`.
pub fn variant_name(input: TokenStream) -> TokenStream {
    let (input, _, body) = match name_derive(input, "VariantName") {
        Ok(parts) => parts,
        Err(errors) => return errors,
    };
    let ident = &input.ident;
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
