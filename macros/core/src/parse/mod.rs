//! Parsing: the attribute's keys and each variant's attributes into the [`model`](crate::model), recording every
//! malformed piece in the [`Ctxt`](crate::ctxt::Ctxt) and carrying on, so all mistakes of one item are reported
//! together.

mod args;
mod state;
mod transition;

use proc_macro2::TokenTree;
use syn::parse::ParseStream;

pub use args::parse_args;
pub use state::parse_state;

/// Consumes tokens up to (not including) the next top-level comma, so parsing can go on after a bad value.
fn skip_value(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if let TokenTree::Punct(p) = &tt {
                if p.as_char() == ',' {
                    return Ok(((), rest));
                }
            }
            rest = next;
        }
        Ok(((), rest))
    });
}

/// The events of an ignore list (`ignore = [..]`, `#[ignore(..)]`): variant paths, comma-separated. One written as a
/// pattern (`Ev::Line(_)`, `Ev::Bad { .. }`) is one error on what follows the path, and the path is kept: an ignore
/// list drops an event whatever it carries.
fn ignored_events(cx: &crate::ctxt::Ctxt, input: ParseStream) -> syn::Result<Vec<syn::Path>> {
    let mut events = Vec::new();
    while !input.is_empty() {
        let path = input.call(syn::Path::parse_mod_style)?;
        if input.peek(syn::token::Paren) || input.peek(syn::token::Brace) {
            let data: TokenTree = input.parse()?;
            let shown = quote::quote!(#path).to_string().replace(' ', "");
            cx.error_spanned_by(
                data,
                format!(
                    "an ignore list names the event's variant, which drops it whatever it carries: write `{shown}`"
                ),
            );
        }
        events.push(path);
        if input.is_empty() {
            break;
        }
        input.parse::<syn::Token![,]>()?;
    }
    Ok(events)
}
