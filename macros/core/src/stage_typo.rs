//! A stage type that is probably misspelt on one side: `stage = Upp` while the machine's methods are `Up::next`, or
//! the reverse. The macro cannot see which type exists, so it lets rustc say: the type the methods name gets stub
//! impls too, guarded so that each case is one error. With `stage = Upp` (no such type) the guard names `Upp` on its
//! token, where rustc's "cannot find type `Upp`" already is, and `Up` is a stage for code using it; with
//! `#[dispatch(Upp::next)]` (no such type) the stubs name `Upp` where the dispatch path already fails; with both types
//! real the guard fails, on the method's type, saying to write the stage's own method.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::{Ident, Path, Type};

use crate::model::{Dispatch, Model, Target};
use crate::suggest::did_you_mean;

/// The stage type's name, when it is one plain name (`stage = Up`).
fn stage_ident(model: &Model) -> Option<&Ident> {
    let stage = model.args.stage.as_ref()?;
    if !stage.generics.params.is_empty() {
        return None;
    }
    let Type::Path(p) = &stage.ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let ident = p.path.get_ident()?;
    Some(ident)
}

/// Every method path the machine names: dispatch, function transitions, `completion`, `unhandled`, `#[failed(..)]`.
fn method_paths(model: &Model) -> Vec<&Path> {
    let mut paths: Vec<&Path> = model.args.completion.iter().chain(&model.args.unhandled).collect();
    for state in &model.states {
        if let Some((Dispatch::Call(path) | Dispatch::CallSync(path), _)) = &state.dispatch {
            paths.push(path);
        }
        paths.extend(state.transitions.iter().filter_map(|t| match &t.target {
            Target::Call(path) => Some(path),
            _ => None,
        }));
        paths.extend(&state.failed_with);
    }
    paths
}

/// The type `Type::method` names, when it is a capitalised name one typo away from the stage's (`Up` for `Upp`).
fn typo_of_stage<'p>(stage: &Ident, path: &'p Path) -> Option<&'p Ident> {
    if path.leading_colon.is_some() || path.segments.len() != 2 {
        return None;
    }
    let first = &path.segments[0];
    let name = first.ident.to_string();
    let close = first.arguments.is_empty()
        && name != "Self"
        && first.ident != *stage
        && name.starts_with(char::is_uppercase)
        && did_you_mean(&name, &[stage.to_string().as_str()]).is_some();
    close.then_some(&first.ident)
}

/// The other type the machine's methods name, one typo away from the stage type (the first such path's).
pub fn suspect(model: &Model) -> Option<&Ident> {
    let stage = stage_ident(model)?;
    method_paths(model).into_iter().find_map(|path| typo_of_stage(stage, path))
}

/// `path` as generated code calls it. A path on the suspect type is written `<Type>::method`, so a missing `Type` is
/// rustc's "cannot find type", the same error the stubs on it give, reported once.
pub fn call_path(model: &Model, path: &Path) -> Option<TokenStream> {
    let suspect = suspect(model)?;
    let stage = stage_ident(model)?;
    if typo_of_stage(stage, path)? != suspect {
        return None;
    }
    let method = &path.segments[1];
    Some(quote_spanned!(path.span()=> <#suspect>::#method))
}

/// The suspect type the stubs go on, and the stage type their guard names (see `fallback::suspect_stubs`).
pub fn stub_target(model: &Model) -> Option<(&Ident, &Ident)> {
    Some((suspect(model)?, stage_ident(model)?))
}
