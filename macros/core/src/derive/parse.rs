//! What a derive's input declares: the crate path, the stage struct's id fields, an enum's variants; or the errors
//! that say what to write instead.

use proc_macro2::TokenStream;
use syn::{parse_quote, Data, DeriveInput, Ident, Member, Meta, Path, Type};

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

/// The fields `#[derive(Stage)]` reads.
pub(super) struct StageFields {
    /// Where stagewise is.
    pub krate: Path,
    /// The stage id field.
    pub stage_id: Member,
    /// The writer id field, if marked.
    pub writer_id: Option<Member>,
}

fn member(i: usize, field: &syn::Field) -> Member {
    field.ident.clone().map_or_else(|| Member::Unnamed(i.into()), Member::Named)
}

/// The stage struct's id fields; on error, the errors and the crate path (for the fallback impl).
pub(super) fn stage_fields(input: &DeriveInput) -> Result<StageFields, (TokenStream, Path)> {
    let cx = Ctxt::new();
    let krate = crate_path(&cx, input);
    let ident = &input.ident;
    let mut stage_id: Option<Member> = None;
    let mut writer_id: Option<Member> = None;
    match &input.data {
        Data::Struct(data) => {
            for (i, field) in data.fields.iter().enumerate() {
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
                            format!("a second `#[{what}]` field: a stage has one {ty_name}; remove one of the marks"),
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
                    *slot = Some(member(i, field));
                }
            }
            if stage_id.is_none() {
                // Unmarked, the one field written `StageId` is the stage id.
                let candidates: Vec<Member> = data
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| is_type(&f.ty, "StageId"))
                    .map(|(i, f)| member(i, f))
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
    match (cx.check(), stage_id) {
        (Ok(()), Some(stage_id)) => Ok(StageFields { krate, stage_id, writer_id }),
        (Err(errors), _) => Err((errors, krate)),
        (Ok(()), None) => unreachable!("a missing stage id is an error"),
    }
}

/// An enum's variants and where stagewise is, for the name derives.
pub(super) struct VariantNames {
    /// Where stagewise is.
    pub krate: Path,
    /// The variants, in source order.
    pub variants: Vec<Ident>,
}

/// The variants of the enum `input`, or the errors (`derive` names the derive in them).
pub(super) fn variant_names(input: &DeriveInput, derive: &str) -> Result<VariantNames, TokenStream> {
    let cx = Ctxt::new();
    let krate = crate_path(&cx, input);
    let variants = match &input.data {
        Data::Enum(data) => data.variants.iter().map(|v| v.ident.clone()).collect(),
        Data::Struct(data) => {
            cx.error_spanned_by(
                data.struct_token,
                format!("`#[derive({derive})]` names the variants of an enum; this is a struct"),
            );
            Vec::new()
        }
        Data::Union(data) => {
            cx.error_spanned_by(
                data.union_token,
                format!("`#[derive({derive})]` names the variants of an enum; this is a union"),
            );
            Vec::new()
        }
    };
    cx.check()?;
    Ok(VariantNames { krate, variants })
}
