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
