//! Each variant's attributes (`#[initial]`, `#[on(..)]`, `#[dispatch(..)]`, ..) into a [`State`]; the variant keeps
//! the attributes that are not ours.

use quote::ToTokens;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Fields, Ident, LitInt, Meta, Path, Token};

use super::transition::{parse_dispatch, parse_transition};
use crate::ctxt::Ctxt;
use crate::model::{EndingKind, Policy, Shape, State, Timeout};
use crate::suggest::did_you_mean;

/// The attributes a variant takes.
pub const VARIANT_ATTRS: &[&str] =
    &["initial", "terminal", "failed", "control", "dispatch", "on", "ignore", "on_failure", "entry", "exit", "timeout"];

/// Attributes of the language and of common derives that a variant may carry, never taken for a typo of ours.
const FOREIGN_ATTRS: &[&str] =
    &["doc", "cfg", "cfg_attr", "allow", "warn", "deny", "forbid", "expect", "deprecated", "default", "serde"];

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
        failed_with: None,
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
                if let Meta::List(_) = &attr.meta {
                    state.failed_with = Some(attr.parse_args_with(Path::parse_mod_style).map_err(|e| {
                        syn::Error::new(
                            e.span(),
                            "`#[failed(..)]` names the function that builds the failed state: \
                             `#[failed(Stage::failed_state)]`",
                        )
                    })?);
                } else {
                    flag(attr, name)?;
                }
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
            state.ignore.extend(list.parse_args_with(|input: ParseStream| super::ignored_events(cx, input))?);
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
                        let value = meta.value()?;
                        if value.peek(syn::LitFloat) {
                            let lit: syn::LitFloat = value.parse()?;
                            return Err(syn::Error::new(
                                lit.span(),
                                format!("`{key}` takes a whole number; for a fraction of a second write `millis = N`"),
                            ));
                        }
                        let lit: LitInt = value.parse()?;
                        let n: u64 = lit.base10_parse()?;
                        if timeout.millis.is_some() {
                            return Err(meta.error("give the duration once: `secs = N` or `millis = N`"));
                        }
                        timeout.millis = Some(if key == "secs" { n.saturating_mul(1000) } else { n });
                    }
                    "event" => timeout.event = Some(meta.value()?.parse()?),
                    _ => {
                        let mut msg = format!("unknown key `{key}` in #[timeout]");
                        let best = did_you_mean(&key, &["secs", "millis", "event"]);
                        if let Some(best) = best {
                            msg.push_str(&format!(": did you mean `{best}`?"));
                        }
                        msg.push_str("\n`#[timeout]` takes `secs = N` or `millis = N`, and `event = Event::X`");
                        if best != Some("event") || timeout.event.is_some() {
                            return Err(meta.error(msg));
                        }
                        // Read as the key it probably meant, so nothing else fails for it.
                        cx.error_spanned_by(&meta.path, msg);
                        timeout.event = Some(meta.value()?.parse()?);
                    }
                }
                Ok(())
            })
            .map_err(|e| {
                // `#[timeout(5, Ev::X)]`: syn's own message is about "nested attributes".
                if e.to_string().starts_with("unexpected literal") || e.to_string().starts_with("expected ident") {
                    syn::Error::new(
                        e.span(),
                        "`#[timeout]` takes keys: `#[timeout(secs = N, event = Event::X)]` (or `millis = N`)",
                    )
                } else {
                    e
                }
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
