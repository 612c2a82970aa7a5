//! The attribute's own keys (`stage = .., event = .., failure = .., control(..)`) into [`Args`].

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{parse_quote, Expr, Ident, LitStr, Path, Token, Type};

use super::skip_value;
use crate::ctxt::Ctxt;
use crate::model::{Args, ControlEvents, Failure, FailureShape, Mode, StageType};
use crate::suggest::did_you_mean;

/// The keys the attribute takes, in the order the docs list them.
pub const KEYS: &[&str] = &[
    "stage",
    "event",
    "action",
    "context",
    "failure",
    "on_failure",
    "action_lists",
    "control",
    "closed",
    "inbox",
    "ignore",
    "unhandled",
    "completion",
    "name",
    "crate",
];

fn key_list() -> String {
    KEYS.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

/// Parses the attribute's arguments. Unknown, duplicate and malformed keys are recorded; the rest still parse.
pub fn parse_args(cx: &Ctxt, mode: Mode, tokens: TokenStream) -> Args {
    let mut args = Args {
        krate: parse_quote!(::stagewise),
        stage: None,
        event: None,
        action: None,
        context: None,
        failure: None,
        on_failure: Vec::new(),
        name: None,
        control: ControlEvents::default(),
        closed: None,
        inbox: None,
        completion: None,
        ignore: Vec::new(),
        unhandled: None,
        action_lists: Vec::new(),
        crate_set: false,
        on_failure_set: false,
        given: Vec::new(),
    };
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        if !KEYS.contains(&key.as_str()) {
            let shown = if key.is_empty() {
                {
                    let path = &meta.path;
                    quote::quote!(#path)
                }
                .to_string()
                .replace(' ', "")
            } else {
                key.clone()
            };
            let mut msg = format!("unknown key `{shown}` in #[{}]", mode.attr());
            let best =
                did_you_mean(&key, KEYS).or_else(|| abbreviated(&key)).filter(|best| !seen.iter().any(|s| s == best));
            if let Some(best) = best {
                msg.push_str(&format!(": did you mean `{best}`?"));
            }
            msg.push_str(&format!("\nvalid keys: {}", key_list()));
            cx.error_spanned_by(&meta.path, msg);
            let Some(best) = best else {
                skip_value(meta.input);
                return Ok(());
            };
            // Read it as the key it probably meant, so the rest of the expansion (and code using the stage) adds no
            // follow-on errors.
            seen.push(best.to_owned());
            args.given.push(best.to_owned());
            if let Err(e) = parse_key(&mut args, best, &meta, cx) {
                cx.syn_error(e);
                skip_value(meta.input);
            }
            return Ok(());
        }
        if seen.contains(&key) {
            cx.error_spanned_by(
                &meta.path,
                format!("duplicate key `{key}`: it is already set earlier in this attribute"),
            );
            skip_value(meta.input);
            return Ok(());
        }
        seen.push(key.clone());
        args.given.push(key.clone());
        let result = parse_key(&mut args, &key, &meta, cx);
        if let Err(e) = result {
            cx.syn_error(e);
            skip_value(meta.input);
        }
        Ok(())
    });
    if let Err(e) = parser.parse2(tokens) {
        cx.syn_error(e);
    }
    args
}

/// The key a common abbreviation stands for (`ctx` is too far from `context` for an edit distance).
fn abbreviated(key: &str) -> Option<&'static str> {
    match key {
        "ctx" | "cx" => Some("context"),
        "ev" | "evt" => Some("event"),
        "act" => Some("action"),
        _ => None,
    }
}

/// The value after `key =`. A key written with a colon (`stage: Up`, as in a struct literal) is one error on the
/// colon, and its value is still read: what follows is the same, and code using the stage gets no follow-on errors.
fn value<'a>(cx: &Ctxt, key: &str, meta: &'a syn::meta::ParseNestedMeta) -> syn::Result<syn::parse::ParseStream<'a>> {
    if meta.input.peek(Token![:]) && !meta.input.peek(Token![::]) {
        let colon: Token![:] = meta.input.parse()?;
        cx.error_spanned_by(colon, format!("write `{key} = ..`: a key takes its value after `=`, not `:`"));
        return Ok(meta.input);
    }
    meta.value()
}

fn parse_key(args: &mut Args, key: &str, meta: &syn::meta::ParseNestedMeta, cx: &Ctxt) -> syn::Result<()> {
    match key {
        "stage" => {
            let input = value(cx, key, meta)?;
            let generics = if input.peek(Token![<]) { input.parse()? } else { syn::Generics::default() };
            let ty: Type = parse_type(cx, key, input)?;
            args.stage = Some(StageType { generics, ty });
        }
        "event" => args.event = Some(parse_type(cx, key, value(cx, key, meta)?)?),
        "action" => args.action = Some(parse_type(cx, key, value(cx, key, meta)?)?),
        "context" => args.context = Some(parse_type(cx, key, value(cx, key, meta)?)?),
        "failure" => args.failure = Some(parse_failure(value(cx, key, meta)?)?),
        "on_failure" => {
            let expr: Expr = value(cx, key, meta)?.parse()?;
            args.on_failure_set = true;
            match expr {
                Expr::Array(list) => args.on_failure = list.elems.into_iter().collect(),
                other => cx.error_spanned_by(
                    &other,
                    "`on_failure` takes a list of actions in brackets: `on_failure = [Action::Cleanup]` (or `[]`)",
                ),
            }
        }
        "name" => args.name = Some(value(cx, key, meta)?.parse()?),
        "closed" => args.closed = Some(value(cx, key, meta)?.parse()?),
        "inbox" => {
            let input = value(cx, key, meta)?;
            let fork = input.fork();
            match fork.parse::<syn::Member>() {
                Ok(member) if fork.is_empty() || fork.peek(Token![,]) => {
                    input.parse::<syn::Member>()?;
                    args.inbox = Some(member);
                }
                _ => {
                    let rest: Expr = input.parse()?;
                    return Err(syn::Error::new_spanned(
                        rest,
                        "`inbox` names the stage's field that holds its `EventInbox`: `inbox = events`",
                    ));
                }
            }
        }
        "completion" => args.completion = Some(value(cx, key, meta)?.parse()?),
        "unhandled" => args.unhandled = Some(value(cx, key, meta)?.parse()?),
        "ignore" => {
            let input = value(cx, key, meta)?;
            let content =
                super::transition::bracketed(input, "`ignore` lists events in brackets: `ignore = [Event::Tick]`")?;
            args.ignore = super::ignored_events(cx, &content)?;
        }
        "action_lists" => {
            meta.parse_nested_meta(|list| {
                let Some(name) = list.path.get_ident().cloned() else {
                    return Err(list.error("name each list with one word: `action_lists(teardown = [Action::Close])`"));
                };
                if args.action_lists.iter().any(|(n, _)| *n == name) {
                    cx.error_spanned_by(&name, format!("the action list `{name}` is declared twice"));
                }
                let expr: Expr = list.value()?.parse()?;
                let Expr::Array(actions) = expr else {
                    return Err(syn::Error::new_spanned(
                        expr,
                        format!("an action list is a list in brackets: `{name} = [Action::Close]`"),
                    ));
                };
                args.action_lists.push((name, actions.elems.into_iter().collect()));
                Ok(())
            })?;
        }
        "crate" => {
            args.krate = value(cx, key, meta)?.call(Path::parse_mod_style)?;
            args.crate_set = true;
        }
        "control" => {
            if meta.input.peek(Token![=]) {
                return Err(meta.error(
                    "`control` maps control messages to events: `control(start = Event::Start, drain = Event::Drain)`",
                ));
            }
            let mut seen: Vec<String> = Vec::new();
            meta.parse_nested_meta(|inner| {
                let written = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
                let key = if ControlEvents::MESSAGES.contains(&written.as_str()) {
                    if seen.contains(&written) {
                        cx.error_spanned_by(&inner.path, format!("duplicate control message `{written}`"));
                        skip_value(inner.input);
                        return Ok(());
                    }
                    written
                } else {
                    let mut msg = "unknown control message".to_owned();
                    let best =
                        did_you_mean(&written, &ControlEvents::MESSAGES).filter(|b| !seen.iter().any(|s| s == b));
                    if let Some(best) = best {
                        msg.push_str(&format!(" `{written}`: did you mean `{best}`?"));
                    }
                    msg.push_str(if best.is_some() { "\n" } else { ": " });
                    msg.push_str("`control(..)` takes `start`, `drain` and `stop`");
                    cx.error_spanned_by(&inner.path, msg);
                    // Read as the message it probably meant, so nothing else fails for it.
                    let Some(best) = best else {
                        skip_value(inner.input);
                        return Ok(());
                    };
                    best.to_owned()
                };
                let slot = args.control.slot(&key).expect("one of the control messages");
                seen.push(key);
                *slot = Some(inner.value()?.parse()?);
                Ok(())
            })?;
        }
        _ => unreachable!("checked against KEYS"),
    }
    Ok(())
}

/// A type; written as a string literal (`event = "Ev"`), the error says to write the type, and the string's contents
/// are read as the type so nothing else fails for it.
fn parse_type(cx: &Ctxt, key: &str, input: ParseStream) -> syn::Result<Type> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let Ok(ty) = lit.parse::<Type>() else {
            return Err(syn::Error::new(
                lit.span(),
                format!("`{key}` takes a type, e.g. `{key} = {}`", example_type(key)),
            ));
        };
        let shown = quote::quote!(#ty).to_string().replace(' ', "");
        cx.error_spanned_by(&lit, format!("write the type itself, not a string: `{key} = {shown}`"));
        return Ok(ty);
    }
    let ty: Type = input.parse().map_err(|e| {
        syn::Error::new(e.span(), format!("`{key}` takes a type, e.g. `{key} = {}`", example_type(key)))
    })?;
    if let Type::Reference(r) = &ty {
        let inner = &r.elem;
        let shown = quote::quote!(#inner).to_string().replace(' ', "");
        cx.error_spanned_by(
            &ty,
            format!(
                "`{key}` takes the type itself, not a reference: `{key} = {shown}` (the run owns it, and lends it out)"
            ),
        );
        return Ok((*r.elem).clone());
    }
    Ok(ty)
}

fn example_type(key: &str) -> &'static str {
    match key {
        "stage" => "Uppercase",
        "event" => "Event",
        "action" => "Action",
        _ => "Ctx",
    }
}

const FAILURE_SHAPE: &str = "the failure event must carry the error message in one field: write \
    `failure = Event::Error` for a variant `Error(String)`, or `failure = Event::Error { message }` for a variant \
    `Error { message: String }`";

fn parse_failure(input: ParseStream) -> syn::Result<Failure> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Err(syn::Error::new(
            lit.span(),
            "write the failure event as a path, not a string: `failure = Event::Error`",
        ));
    }
    let path: Path = input.parse()?;
    if input.peek(syn::token::Paren) {
        let content;
        let parens = syn::parenthesized!(content in input);
        if !content.is_empty() {
            let rest: TokenStream = content.parse()?;
            if rest.to_string() != "_" {
                return Err(syn::Error::new_spanned(rest, FAILURE_SHAPE));
            }
        } else {
            return Err(syn::Error::new(parens.span.join(), FAILURE_SHAPE));
        }
        return Ok(Failure { path, shape: FailureShape::Tuple });
    }
    if input.peek(syn::token::Brace) {
        let content;
        let braces = syn::braced!(content in input);
        // `{ message }`, or as rustc suggests it, `{ message: _ }`: the field's name is what is read.
        let field = |input: ParseStream| {
            let name = Ident::parse(input)?;
            if input.peek(Token![:]) {
                input.parse::<Token![:]>()?;
                input.parse::<Token![_]>()?;
            }
            Ok(name)
        };
        let fields: Punctuated<Ident, Token![,]> = content.parse_terminated(field, Token![,])?;
        if fields.len() != 1 {
            let span = if fields.is_empty() { braces.span.join() } else { fields[1].span() };
            return Err(syn::Error::new(span, FAILURE_SHAPE));
        }
        let field = fields.into_iter().next().expect("one field");
        return Ok(Failure { path, shape: FailureShape::Named(field) });
    }
    if !input.is_empty() && !input.peek(Token![,]) {
        let rest: TokenStream = input.parse()?;
        return Err(syn::Error::new_spanned(rest, FAILURE_SHAPE));
    }
    Ok(Failure { path, shape: FailureShape::Tuple })
}
