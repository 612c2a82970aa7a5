//! The insides of `#[dispatch(..)]` and `#[on(..)]`: what a state does each turn, and one transition.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Path, Token};

use super::skip_value;
use crate::ctxt::Ctxt;
use crate::model::{Dispatch, EventPat, Target, Transition};
use crate::suggest::did_you_mean;

/// `#[dispatch(..)]`: what a state does each turn.
pub(super) fn parse_dispatch(input: ParseStream) -> syn::Result<Dispatch> {
    if input.is_empty() {
        return Err(input.error(
            "write what the state does: `wait`, `terminate`, `emit = Event::X` or an async method `Stage::method`",
        ));
    }
    let fork = input.fork();
    if let Ok(ident) = fork.parse::<Ident>() {
        if fork.is_empty() {
            match ident.to_string().as_str() {
                "wait" => {
                    input.parse::<Ident>()?;
                    return Ok(Dispatch::Wait);
                }
                "terminate" => {
                    input.parse::<Ident>()?;
                    return Ok(Dispatch::Terminate);
                }
                _ => {}
            }
        } else if ident == "emit" && fork.peek(Token![=]) {
            input.parse::<Ident>()?;
            input.parse::<Token![=]>()?;
            return Ok(Dispatch::Emit(input.parse()?));
        } else if ident == "emit" {
            return Err(fork.error("write `emit = Event::X`: the event this state feeds each turn"));
        }
    }
    if input.peek(Token![self]) && input.peek2(Token![.]) {
        return Err(input.error(
            "`#[dispatch]` names the method by its path, not a call on `self`: `#[dispatch(Stage::next)]`, or a \
             bare `next` for the stage's own",
        ));
    }
    let path: Path = input.parse()?;
    if input.peek(syn::token::Paren) {
        return Err(input.error(format!(
            "name the method without calling it: `#[dispatch({})]`; the run loop calls it each turn with the stage \
             and the context",
            quote::ToTokens::to_token_stream(&path).to_string().replace(' ', "")
        )));
    }
    if input.is_empty() {
        return Ok(Dispatch::Call(path));
    }
    let one_path = input.error("`#[dispatch]` takes one method path, e.g. `#[dispatch(Stage::next)]`");
    if !input.peek(Token![,]) {
        return Err(one_path);
    }
    input.parse::<Token![,]>()?;
    // A second path, not an option: said as such, on the comma.
    if input.peek(Token![::]) || input.peek2(Token![::]) {
        return Err(one_path);
    }
    parse_dispatch_option(input)?;
    Ok(Dispatch::CallSync(path))
}

/// The option after a dispatch method's path: `sync`, for a plain (not `async`) method.
fn parse_dispatch_option(input: ParseStream) -> syn::Result<()> {
    const HELP: &str = "the one option after the method is `sync`, for a plain (not `async`) method: \
                        `#[dispatch(Stage::next, sync)]`";
    let option = match input.parse::<Ident>() {
        Ok(option) => option,
        Err(_) if input.is_empty() => return Err(input.error(format!("write an option after the comma: {HELP}"))),
        Err(_) => return Err(input.error(HELP)),
    };
    if option != "sync" {
        let mut msg = format!("unknown option `{option}` in #[dispatch]");
        if let Some(best) = did_you_mean(&option.to_string(), &["sync"]) {
            msg.push_str(&format!(": did you mean `{best}`?"));
        }
        msg.push_str(&format!("\n{HELP}"));
        return Err(syn::Error::new_spanned(option, msg));
    }
    input.parse::<Option<Token![,]>>()?;
    if input.peek(Ident) && input.fork().parse::<Ident>().is_ok_and(|again| again == "sync") {
        return Err(input.error("`sync` is written once: `#[dispatch(Stage::next, sync)]`"));
    }
    if !input.is_empty() {
        return Err(input.error(HELP));
    }
    Ok(())
}

/// `#[on(..)]`: the events, the target, and the `to` and `actions` keys.
pub(super) fn parse_transition(cx: &Ctxt, input: ParseStream) -> syn::Result<Transition> {
    let mut events = Vec::new();
    loop {
        let pat = syn::Pat::parse_single(input)?;
        events.push(match pat {
            syn::Pat::Path(p) if p.qself.is_none() => EventPat { path: p.path, pat: None },
            syn::Pat::TupleStruct(ref t) if t.qself.is_none() => EventPat { path: t.path.clone(), pat: Some(pat) },
            syn::Pat::Struct(ref s) if s.qself.is_none() => EventPat { path: s.path.clone(), pat: Some(pat) },
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "write the event as its variant's path, e.g. `Event::Start`, or a pattern of it, e.g. \
                     `Event::Line(line)`; a bare name would match every event",
                ))
            }
        });
        if !input.peek(Token![|]) {
            break;
        }
        input.parse::<Token![|]>()?;
    }
    if !input.peek(Token![=>]) {
        return Err(input.error("write `=>` between the events and the target: `#[on(Event::Start => Running)]`"));
    }
    input.parse::<Token![=>]>()?;
    let target_path: Path = input.parse()?;
    let mut to = None;
    let mut actions = None;
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let key: Ident = input.parse()?;
        match key.to_string().as_str() {
            "to" => {
                input.parse::<Token![=]>()?;
                let content = bracketed(input, "`to` lists states in brackets: `to = [Running, Done]`")?;
                let list: Punctuated<Ident, Token![,]> = content.parse_terminated(Ident::parse, Token![,])?;
                if to.is_some() {
                    cx.error_spanned_by(&key, "duplicate key `to` in #[on]");
                }
                to = Some(list.into_iter().collect());
            }
            "actions" => {
                input.parse::<Token![=]>()?;
                let content = bracketed(input, "`actions` lists actions in brackets: `actions = [Action::Flush]`")?;
                let list: Punctuated<Expr, Token![,]> = content.parse_terminated(Expr::parse, Token![,])?;
                if actions.is_some() {
                    cx.error_spanned_by(&key, "duplicate key `actions` in #[on]");
                }
                actions = Some(list.into_iter().collect());
            }
            _ => {
                let mut msg = format!("unknown key `{key}` in #[on]");
                if let Some(best) = did_you_mean(&key.to_string(), &["to", "actions"]) {
                    msg.push_str(&format!(": did you mean `{best}`?"));
                }
                msg.push_str("\nvalid keys: `to` (where a function transition may go), `actions` (what it runs)");
                cx.error_spanned_by(&key, msg);
                skip_value(input);
            }
        }
    }
    let target = match target_path.get_ident() {
        Some(ident) if ident == "stay" => Target::Stay(ident.clone()),
        Some(ident) if to.is_none() => Target::State(ident.clone()),
        _ => Target::Call(target_path),
    };
    Ok(Transition { attr: TokenStream::new(), events, target, to, actions: actions.unwrap_or_default() })
}

/// The contents of a `[..]` list; anything else is an error on it saying `msg`.
pub(super) fn bracketed<'a>(input: ParseStream<'a>, msg: &str) -> syn::Result<syn::parse::ParseBuffer<'a>> {
    let content;
    if !input.peek(syn::token::Bracket) {
        let fork = input.fork();
        let value: syn::Result<Expr> = fork.parse();
        return Err(match value {
            Ok(value) => syn::Error::new_spanned(value, msg),
            Err(_) => input.error(msg),
        });
    }
    syn::bracketed!(content in input);
    Ok(content)
}
