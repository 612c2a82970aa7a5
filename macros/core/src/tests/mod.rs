//! Unit tests of the pure expansion on `parse_quote!` input: the model it reads, the errors it reports (all at once),
//! and properties of what it generates. Fast, and independent of the compiler's own messages.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

mod capacity;
mod codegen;
mod derive;
mod diagnostics;
mod mistakes;
mod model;
mod stage_typo;
mod sync_dispatch;

use crate::expand::{analyze, expand};
use crate::model::{Mode, Model};

pub(super) fn model(args: TokenStream, item: TokenStream) -> Model {
    match analyze(Mode::Handler, args, item) {
        (Ok(model), _) => model,
        (Err(errors), _) => panic!("expected a valid model, got errors: {:?}", messages(&errors)),
    }
}

/// The messages of every `compile_error!` in `tokens`, in order.
pub(super) fn messages(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (i, tt) in trees.iter().enumerate() {
        match tt {
            TokenTree::Ident(ident) if ident == "compile_error" => {
                if let Some(TokenTree::Group(group)) = trees.get(i + 2) {
                    let lit: syn::LitStr = syn::parse2(group.stream()).expect("a string literal");
                    out.push(lit.value());
                }
            }
            TokenTree::Group(group) => out.extend(messages(&group.stream())),
            _ => {}
        }
    }
    out
}

pub(super) fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    messages(&expand(Mode::Handler, args, item))
}

pub(super) fn keys() -> TokenStream {
    keys_with(quote!(on_failure = [Act::Cleanup]))
}

/// The five required keys, then `extra`.
pub(super) fn keys_with(extra: TokenStream) -> TokenStream {
    quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, #extra)
}

pub(super) fn uppercase() -> TokenStream {
    quote! {
        #[derive(Clone, Debug)]
        pub enum UppercaseState {
            #[initial] #[control(block)]
            #[on(Ev::Start => Running)]
            Created,
            #[dispatch(Up::next_line)]
            #[on(Ev::Line => Up::on_line, to = [Running])]
            #[on(Ev::Eof => Drained, actions = [Act::Flush])]
            #[on_failure(Act::Flush)]
            Running,
            #[terminal] Drained,
            #[failed] Failed(String),
        }
    }
}

/// An action list as generated code writes it: each action typed on its own (`actions` as `quote!` prints them).
pub(super) fn action_list(actions: &[&str]) -> String {
    let typed: Vec<String> =
        actions.iter().map(|a| format!("{{ let __action : Self :: Action = {a} ; __action }}")).collect();
    format!("[{}]", typed.join(" , "))
}
