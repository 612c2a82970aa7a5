//! Parsing: the attribute's keys and each variant's attributes into the [`model`](crate::model), recording every
//! malformed piece in the [`Ctxt`] and carrying on, so all mistakes of one item are reported together.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{parse_quote, Attribute, Expr, Fields, Ident, LitInt, LitStr, Meta, Path, Token, Type};

use crate::ctxt::Ctxt;
use crate::model::{
    Args, ControlEvents, Dispatch, EndingKind, EventPat, Failure, FailureShape, Mode, Policy, Shape, StageType, State,
    Target, Timeout, Transition,
};
use crate::suggest::did_you_mean;

/// The keys the attribute takes, in the order the docs list them.
pub const KEYS: &[&str] =
    &["stage", "event", "action", "context", "failure", "on_failure", "control", "closed", "name", "crate"];

/// The attributes a variant takes.
pub const VARIANT_ATTRS: &[&str] =
    &["initial", "terminal", "failed", "control", "dispatch", "on", "ignore", "on_failure", "entry", "exit", "timeout"];

/// Attributes of the language and of common derives that a variant may carry, never taken for a typo of ours.
const FOREIGN_ATTRS: &[&str] =
    &["doc", "cfg", "cfg_attr", "allow", "warn", "deny", "forbid", "expect", "deprecated", "default", "serde"];

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
            if let Some(best) = did_you_mean(&key, KEYS) {
                msg.push_str(&format!(": did you mean `{best}`?"));
                args.given.push(best.to_owned());
            }
            msg.push_str(&format!("\nvalid keys: {}", key_list()));
            cx.error_spanned_by(&meta.path, msg);
            skip_value(meta.input);
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

fn parse_key(args: &mut Args, key: &str, meta: &syn::meta::ParseNestedMeta, cx: &Ctxt) -> syn::Result<()> {
    match key {
        "stage" => {
            let input = meta.value()?;
            let generics = if input.peek(Token![<]) { input.parse()? } else { syn::Generics::default() };
            let ty: Type = input.parse()?;
            args.stage = Some(StageType { generics, ty });
        }
        "event" => args.event = Some(meta.value()?.parse()?),
        "action" => args.action = Some(meta.value()?.parse()?),
        "context" => args.context = Some(meta.value()?.parse()?),
        "failure" => args.failure = Some(parse_failure(meta.value()?)?),
        "on_failure" => {
            let expr: Expr = meta.value()?.parse()?;
            args.on_failure_set = true;
            match expr {
                Expr::Array(list) => args.on_failure = list.elems.into_iter().collect(),
                other => cx.error_spanned_by(
                    &other,
                    "`on_failure` takes a list of actions in brackets: `on_failure = [Action::Cleanup]` (or `[]`)",
                ),
            }
        }
        "name" => args.name = Some(meta.value()?.parse()?),
        "closed" => args.closed = Some(meta.value()?.parse()?),
        "crate" => {
            args.krate = meta.value()?.call(Path::parse_mod_style)?;
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
                let key = inner.path.get_ident().map(ToString::to_string).unwrap_or_default();
                let slot = match key.as_str() {
                    "start" => &mut args.control.start,
                    "drain" => &mut args.control.drain,
                    "stop" => &mut args.control.stop,
                    _ => {
                        cx.error_spanned_by(
                            &inner.path,
                            "unknown control message: `control(..)` takes `start`, `drain` and `stop`",
                        );
                        skip_value(inner.input);
                        return Ok(());
                    }
                };
                if seen.contains(&key) {
                    cx.error_spanned_by(&inner.path, format!("duplicate control message `{key}`"));
                    skip_value(inner.input);
                    return Ok(());
                }
                seen.push(key);
                *slot = Some(inner.value()?.parse()?);
                Ok(())
            })?;
        }
        _ => unreachable!("checked against KEYS"),
    }
    Ok(())
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
        let fields: Punctuated<Ident, Token![,]> = content.parse_terminated(Ident::parse, Token![,])?;
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

/// Splits a variant's attributes into ours (parsed into a [`State`]) and the rest (kept on the variant).
pub fn parse_state(cx: &Ctxt, variant: &mut syn::Variant) -> State {
    let shape = match &variant.fields {
        Fields::Unit => Shape::Unit,
        Fields::Unnamed(f) => Shape::Tuple(f.unnamed.len()),
        Fields::Named(f) => Shape::Named(f.named.len()),
    };
    let mut state = State {
        ident: variant.ident.clone(),
        shape,
        fields: if shape == Shape::Unit { None } else { Some(variant.fields.clone()) },
        initial: None,
        ending: None,
        control: None,
        closed: None,
        dispatch: None,
        transitions: Vec::new(),
        ignore: Vec::new(),
        on_failure: None,
        entry: Vec::new(),
        exit: Vec::new(),
        timeout: None,
    };
    let attrs = std::mem::take(&mut variant.attrs);
    for attr in attrs {
        let name = attr.path().get_ident().map(ToString::to_string).unwrap_or_default();
        if !VARIANT_ATTRS.contains(&name.as_str()) {
            // A near miss of one of ours (`#[intial]`) would otherwise be rustc's bare "cannot find attribute".
            if !FOREIGN_ATTRS.contains(&name.as_str()) {
                if let Some(best) = did_you_mean(&name, VARIANT_ATTRS) {
                    cx.error_spanned_by(
                        attr.path(),
                        format!("unknown state attribute `#[{name}]`: did you mean `#[{best}]`?"),
                    );
                    // Read it as what it was probably meant to be, so validation adds no follow-on errors.
                    if let Err(e) = parse_state_attr(cx, &mut state, best, &attr) {
                        cx.syn_error(e);
                    }
                    continue;
                }
            }
            variant.attrs.push(attr);
            continue;
        }
        if let Err(e) = parse_state_attr(cx, &mut state, &name, &attr) {
            cx.syn_error(e);
        }
    }
    state
}

fn duplicate(cx: &Ctxt, attr: &Attribute, state: &State, what: &str) {
    cx.error_spanned_by(attr, format!("duplicate `#[{what}]` on state `{}`: declare it once", state.ident));
}

fn flag(attr: &Attribute, what: &str) -> syn::Result<()> {
    match &attr.meta {
        Meta::Path(_) => Ok(()),
        Meta::List(list) => Err(syn::Error::new_spanned(&list.tokens, format!("`#[{what}]` takes no arguments"))),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(&nv.value, format!("`#[{what}]` takes no value"))),
    }
}

fn expr_list(attr: &Attribute, what: &str) -> syn::Result<Vec<Expr>> {
    match &attr.meta {
        Meta::List(list) => {
            Ok(list.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated)?.into_iter().collect())
        }
        _ => Err(syn::Error::new_spanned(
            attr,
            format!("`#[{what}]` lists actions in parentheses: `#[{what}(Action::A, Action::B)]`"),
        )),
    }
}

fn parse_state_attr(cx: &Ctxt, state: &mut State, name: &str, attr: &Attribute) -> syn::Result<()> {
    let span = attr.to_token_stream();
    match name {
        "initial" => {
            flag(attr, name)?;
            if state.initial.is_some() {
                duplicate(cx, attr, state, name);
            }
            state.initial = Some(span);
        }
        "failed" | "terminal" => {
            let kind = if name == "failed" {
                flag(attr, name)?;
                EndingKind::Failed
            } else {
                match &attr.meta {
                    Meta::Path(_) => EndingKind::Completed,
                    _ => {
                        let ident: Ident = attr.parse_args()?;
                        match ident.to_string().as_str() {
                            "completed" => EndingKind::Completed,
                            "cancelled" => EndingKind::Cancelled,
                            _ => {
                                return Err(syn::Error::new_spanned(
                                    ident,
                                    "`#[terminal]` takes `completed` (the default) or `cancelled`",
                                ))
                            }
                        }
                    }
                }
            };
            if let Some((previous, _)) = &state.ending {
                let previous = if *previous == EndingKind::Failed { "failed" } else { "terminal" };
                cx.error_spanned_by(
                    attr,
                    format!(
                        "state `{}` is already `#[{previous}]`: a state is either `#[terminal]` or `#[failed]`, once",
                        state.ident
                    ),
                );
            } else {
                state.ending = Some((kind, span));
            }
        }
        "control" => {
            let mut policy = None;
            attr.parse_nested_meta(|meta| {
                let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
                let p = match key.as_str() {
                    "block" => Policy::Block,
                    "poll" => Policy::Poll,
                    "ignore" => Policy::Ignore,
                    "closed" => {
                        state.closed = Some(meta.value()?.parse()?);
                        return Ok(());
                    }
                    _ => return Err(meta.error(
                        "unknown control policy: write `block`, `poll` or `ignore`, optionally with `closed = event`",
                    )),
                };
                if policy.is_some() {
                    return Err(meta.error("a state has one control policy: `block`, `poll` or `ignore`"));
                }
                policy = Some(p);
                Ok(())
            })?;
            if state.control.is_some() {
                duplicate(cx, attr, state, name);
            } else if let Some(p) = policy {
                state.control = Some((p, span));
            } else if state.closed.is_none() {
                return Err(syn::Error::new_spanned(
                    attr,
                    "write `#[control(block)]`, `#[control(poll)]` or `#[control(ignore)]`",
                ));
            } else {
                state.control = Some((Policy::Poll, span));
            }
        }
        "dispatch" => {
            if !matches!(&attr.meta, Meta::List(list) if !list.tokens.is_empty()) {
                return Err(syn::Error::new_spanned(
                    attr,
                    "write what the state does: `#[dispatch(Stage::method)]`, `#[dispatch(emit = Event::X)]`, \
                     `#[dispatch(wait)]` or `#[dispatch(terminate)]`",
                ));
            }
            let dispatch = attr.parse_args_with(parse_dispatch)?;
            if state.dispatch.is_some() {
                duplicate(cx, attr, state, name);
            } else {
                state.dispatch = Some((dispatch, span));
            }
        }
        "on" => {
            let mut transition = attr.parse_args_with(|input: ParseStream| parse_transition(cx, input))?;
            transition.attr = span;
            state.transitions.push(transition);
        }
        "ignore" => {
            let Meta::List(list) = &attr.meta else {
                return Err(syn::Error::new_spanned(
                    attr,
                    "`#[ignore]` lists the events to drop: `#[ignore(Event::Tick)]`",
                ));
            };
            state.ignore.extend(list.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)?);
        }
        "on_failure" => {
            let actions = expr_list(attr, name)?;
            if state.on_failure.is_some() {
                duplicate(cx, attr, state, name);
            } else {
                state.on_failure = Some((actions, span));
            }
        }
        "entry" => state.entry.extend(expr_list(attr, name)?),
        "exit" => state.exit.extend(expr_list(attr, name)?),
        "timeout" => {
            let mut timeout = Timeout { attr: span.clone(), millis: None, event: None };
            attr.parse_nested_meta(|meta| {
                let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
                match key.as_str() {
                    "secs" | "millis" => {
                        let lit: LitInt = meta.value()?.parse()?;
                        let n: u64 = lit.base10_parse()?;
                        if timeout.millis.is_some() {
                            return Err(meta.error("give the duration once: `secs = N` or `millis = N`"));
                        }
                        timeout.millis = Some(if key == "secs" { n.saturating_mul(1000) } else { n });
                    }
                    "event" => timeout.event = Some(meta.value()?.parse()?),
                    _ => {
                        return Err(meta.error("`#[timeout]` takes `secs = N` or `millis = N`, and `event = Event::X`"))
                    }
                }
                Ok(())
            })?;
            if state.timeout.is_some() {
                duplicate(cx, attr, state, name);
            } else {
                state.timeout = Some(timeout);
            }
        }
        _ => unreachable!("checked against VARIANT_ATTRS"),
    }
    Ok(())
}

fn parse_dispatch(input: ParseStream) -> syn::Result<Dispatch> {
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
        }
    }
    let path: Path = input.parse()?;
    if !input.is_empty() {
        return Err(input.error("`#[dispatch]` takes one method path, e.g. `#[dispatch(Stage::next)]`"));
    }
    Ok(Dispatch::Call(path))
}

fn parse_transition(cx: &Ctxt, input: ParseStream) -> syn::Result<Transition> {
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
                let content;
                syn::bracketed!(content in input);
                let list: Punctuated<Ident, Token![,]> = content.parse_terminated(Ident::parse, Token![,])?;
                if to.is_some() {
                    cx.error_spanned_by(&key, "duplicate key `to` in #[on]");
                }
                to = Some(list.into_iter().collect());
            }
            "actions" => {
                input.parse::<Token![=]>()?;
                let content;
                syn::bracketed!(content in input);
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
