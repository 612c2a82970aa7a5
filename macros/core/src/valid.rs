//! Semantic checks of a parsed [`Model`]: what parses but makes no machine. Every check records its error on the
//! smallest piece of syntax that is wrong and says what to write instead; none stops the others.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;
use crate::model::{Dispatch, EndingKind, Model, Policy, Shape, State, Target};
use crate::suggest::did_you_mean;

/// Runs every check of `model`, recording what fails in `cx`.
pub fn check(cx: &Ctxt, model: &Model) {
    check_args(cx, model);
    check_enum(cx, model);
    for state in &model.states {
        check_state(cx, model, state);
    }
    check_ignores(cx, model);
}

fn check_args(cx: &Ctxt, model: &Model) {
    let attr = model.mode.attr();
    let args = &model.args;
    let missing = [
        ("stage", args.stage.is_none(), "the stage struct this machine drives, e.g. `stage = Uppercase`"),
        ("event", args.event.is_none(), "the event enum, e.g. `event = Event`"),
        ("action", args.action.is_none(), "the action enum, e.g. `action = Action`"),
        ("context", args.context.is_none(), "the context type actions and dispatch share, e.g. `context = Ctx`"),
        (
            "failure",
            args.failure.is_none(),
            "the event that errors, panics and closed channels become, e.g. `failure = Event::Error`",
        ),
    ];
    // A key that was written but failed to parse, or that an unknown key probably meant, has its own error.
    let missing: Vec<(&str, &str)> = missing
        .into_iter()
        .filter(|(key, is_missing, _)| *is_missing && !args.given.iter().any(|g| g == key))
        .map(|(key, _, help)| (key, help))
        .collect();
    match missing.as_slice() {
        [] => {}
        [(key, help)] => cx.error_at(Span::call_site(), format!("#[{attr}] is missing the key `{key}`: {help}")),
        // One mistake (the keys were left out), one error listing them.
        several => {
            let keys = several.iter().map(|(k, _)| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            let help = several.iter().map(|(_, h)| format!("\n- {h}")).collect::<String>();
            cx.error_at(Span::call_site(), format!("#[{attr}] is missing the keys {keys}:{help}"));
        }
    }
}

fn state_list(model: &Model) -> String {
    model.states.iter().map(|s| format!("`{}`", s.ident)).collect::<Vec<_>>().join(", ")
}

fn check_enum(cx: &Ctxt, model: &Model) {
    if !model.generics.params.is_empty() {
        cx.error_spanned_by(
            &model.generics,
            "the state enum cannot be generic: put the type parameters on the stage instead, \
             e.g. `stage = <H: Handler> Transform<H>`, and keep the states free of phantom variants",
        );
    }
    if model.states.is_empty() {
        cx.error_spanned_by(&model.ident, "a state enum needs states: at least an `#[initial]` and a `#[failed]` one");
        return;
    }
    let initials: Vec<&State> = model.states.iter().filter(|s| s.initial.is_some()).collect();
    match initials.as_slice() {
        [] => cx.error_spanned_by(&model.ident, "no initial state: mark the state a run starts in with `#[initial]`"),
        [first, rest @ ..] => {
            for extra in rest {
                cx.error_spanned_by(
                    extra.initial.as_ref().expect("filtered on initial"),
                    format!(
                        "a second `#[initial]` state: `{}` is already initial; a run starts in one state",
                        first.ident
                    ),
                );
            }
        }
    }
    let failed: Vec<&State> = model.states.iter().filter(|s| s.is_failed()).collect();
    match failed.as_slice() {
        [] => cx.error_spanned_by(
            &model.ident,
            "no failed state: mark the state errors lead to with `#[failed]`, e.g. `#[failed] Failed(String)`",
        ),
        [first, rest @ ..] => {
            for extra in rest {
                cx.error_spanned_by(
                    &extra.ending.as_ref().expect("filtered on failed").1,
                    format!(
                        "a second `#[failed]` state: `{}` is already the failed state; every error leads to one state",
                        first.ident
                    ),
                );
            }
        }
    }
}

fn check_state(cx: &Ctxt, model: &Model, state: &State) {
    let name = &state.ident;
    if state.initial.is_some() {
        if let Some(fields) = &state.fields {
            cx.error_spanned_by(
                fields,
                format!("the initial state `{name}` must be a unit variant: the macro builds it"),
            );
        }
        if let Some((_, span)) = &state.ending {
            cx.error_spanned_by(span, format!("the initial state `{name}` cannot also end the run"));
        }
    }
    if state.ending_kind() == Some(EndingKind::Failed) {
        let ok = state.failed_with.is_some() || matches!(state.shape, Shape::Unit | Shape::Tuple(1) | Shape::Named(1));
        if !ok {
            cx.error_spanned_by(
                state.fields.as_ref().expect("not unit"),
                format!(
                    "the failed state `{name}` must be a unit variant or carry the failure message as its only field, \
                     e.g. `Failed(String)`; to carry more, name a function that builds it: \
                     `#[failed(Stage::failed_state)]`"
                ),
            );
        }
        if let Some((_, span)) = &state.on_failure {
            cx.error_spanned_by(span, format!("the failed state `{name}` ignores further failures; `#[on_failure]` belongs on the states that fail into it"));
        }
    }
    // An initial state marked terminal has its one error above; its transitions are not a second mistake.
    if state.is_terminal() && state.initial.is_none() {
        let what = if state.is_failed() { "failed" } else { "terminal" };
        if let Some((_, span)) = &state.dispatch {
            cx.error_spanned_by(
                span,
                format!("the {what} state `{name}` cannot have a dispatch: it ends the run; remove `#[dispatch(..)]`"),
            );
        }
        if let Some((_, span)) = &state.control {
            cx.error_spanned_by(
                span,
                format!("the {what} state `{name}` never reads the control channel; remove `#[control(..)]`"),
            );
        }
        for t in &state.transitions {
            cx.error_spanned_by(&t.attr, format!("the {what} state `{name}` is never left: remove this `#[on(..)]`"));
        }
        if let Some(t) = &state.timeout {
            cx.error_spanned_by(
                &t.attr,
                format!("the {what} state `{name}` ends the run at once; remove `#[timeout(..)]`"),
            );
        }
    }
    if let (Some((Policy::Block, _)), Some((_, span))) = (&state.control, &state.dispatch) {
        if !matches!(state.dispatch, Some((Dispatch::Wait, _))) {
            cx.error_spanned_by(
                span,
                format!(
                    "state `{name}` blocks on the control channel, so its dispatch is never called: \
                     remove `#[dispatch(..)]` or use `#[control(poll)]`"
                ),
            );
        }
    }
    if let Some(t) = &state.timeout {
        if t.millis.is_none() {
            cx.error_spanned_by(&t.attr, "`#[timeout]` needs a duration: `secs = N` or `millis = N`");
        }
        if t.event.is_none() {
            cx.error_spanned_by(&t.attr, "`#[timeout]` needs the event it fires: `event = Event::TimedOut`");
        }
    }
    // Each event seen so far: its variant's path, and whether its pattern takes every value of the variant.
    let mut seen: Vec<(String, bool, String)> = Vec::new();
    for t in &state.transitions {
        for event in &t.events {
            let path = event.path.to_token_stream().to_string();
            let text = event.pat.as_ref().map_or_else(|| path.clone(), |p| p.to_token_stream().to_string());
            let earlier = seen.iter().find(|(p, all, t)| *p == path && (*all || *t == text));
            if let Some((_, _, earlier)) = earlier {
                cx.error_spanned_by(
                    event.pat.as_ref().map_or_else(|| event.path.to_token_stream(), ToTokens::to_token_stream),
                    format!(
                        "this transition never fires: state `{name}` already has one on `{}` above, which takes \
                         every `{}` this one would; one event, one transition",
                        earlier.replace(' ', ""),
                        text.replace(' ', "")
                    ),
                );
            } else {
                seen.push((path, takes_every_value(event.pat.as_ref()), text));
            }
        }
        match &t.target {
            Target::State(target) => {
                check_state_exists(cx, model, target, true);
                check_failure_target(cx, model, t, target);
            }
            Target::Stay(_) => {}
            Target::Call(path) if path.get_ident().is_some_and(|i| model.state(i).is_some()) => {
                cx.error_spanned_by(
                    path,
                    format!(
                        "`{}` is a state: `=> {0}` goes there, and `to = [..]` (where a function transition may go) \
                         does not belong to it; remove `to`",
                        path.to_token_stream()
                    ),
                );
            }
            Target::Call(path) => {
                if let Some(pat) = t.events.iter().find_map(|e| e.pat.as_ref()) {
                    cx.error_spanned_by(
                        pat,
                        "a function transition receives the whole event: name the variant only, e.g. `Event::Line`",
                    );
                }
                match &t.to {
                    None => cx.error_spanned_by(
                        path,
                        format!(
                            "`{}` decides the next state at run time: list the states it may choose with \
                             `to = [StateA, StateB]`",
                            path.to_token_stream().to_string().replace(' ', "")
                        ),
                    ),
                    Some(to) => {
                        for target in to {
                            check_state_exists(cx, model, target, false);
                        }
                    }
                }
                if let Some(first) = t.actions.first() {
                    cx.error_at(
                        first.span(),
                        "a function transition returns its own actions in its `Decision`; remove `actions = [..]`",
                    );
                }
            }
        }
        if let (Target::Stay(stay), Some(_)) = (&t.target, &t.to) {
            cx.error_spanned_by(stay, "`to` lists where a function transition may go; `stay` goes nowhere");
        }
    }
}

fn check_state_exists(cx: &Ctxt, model: &Model, target: &syn::Ident, must_be_unit: bool) {
    match model.state(target) {
        None => {
            let names: Vec<String> = model.states.iter().map(|s| s.ident.to_string()).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut msg = format!("there is no state `{target}`");
            if let Some(best) = did_you_mean(&target.to_string(), &names) {
                msg.push_str(&format!(": did you mean `{best}`?"));
            }
            msg.push_str(&format!("\nstates: {}", state_list(model)));
            if must_be_unit {
                msg.push_str("\n(to let a function decide, write `=> Stage::method, to = [..]`)");
            }
            cx.error_spanned_by(target, msg);
        }
        Some(state) if must_be_unit && state.shape != Shape::Unit => cx.error_spanned_by(
            target,
            format!(
                "state `{target}` carries data, so `=> {target}` cannot build it: let a function decide, \
                 `=> Stage::method, to = [{target}]`"
            ),
        ),
        Some(_) => {}
    }
}

/// A transition on the failure event must end in the failed state, or the run loop escalates at run time.
fn check_failure_target(cx: &Ctxt, model: &Model, t: &crate::model::Transition, target: &syn::Ident) {
    let (Some(failure), Some(failed)) = (&model.args.failure, model.failed()) else { return };
    let failure = failure.path.to_token_stream().to_string();
    let on_failure = t.events.iter().any(|e| e.path.to_token_stream().to_string() == failure);
    if on_failure && *target != failed.ident && model.state(target).is_some() {
        cx.error_spanned_by(
            target,
            format!(
                "`{}` is the failure event (`failure = ..`): it must lead to the failed state `{}` (the run loop \
                 escalates otherwise); to change what this state does on failure, use `#[on_failure(actions..)]`; \
                 if `{0}` is not meant to carry failures, name the variant that does in `failure = ..`",
                failure.replace(' ', ""),
                failed.ident
            ),
        );
    }
}

/// True when an event pattern matches every value of its variant: no pattern, or fields that are only bindings and
/// wildcards (`Ev::Line(line)`, `Ev::Failed { .. }`).
fn takes_every_value(pat: Option<&syn::Pat>) -> bool {
    fn irrefutable(pat: &syn::Pat) -> bool {
        match pat {
            syn::Pat::Wild(_) | syn::Pat::Rest(_) => true,
            // `None` or `MAX` may be a constant or a unit variant: only a lower-case name is surely a binding.
            syn::Pat::Ident(i) => {
                !i.ident.to_string().starts_with(char::is_uppercase)
                    && i.subpat.as_ref().is_none_or(|(_, p)| irrefutable(p))
            }
            syn::Pat::Tuple(t) => t.elems.iter().all(irrefutable),
            syn::Pat::Paren(p) => irrefutable(&p.pat),
            syn::Pat::Reference(r) => irrefutable(&r.pat),
            syn::Pat::Type(t) => irrefutable(&t.pat),
            _ => false,
        }
    }
    // The variant itself is the top level; a struct or variant pattern inside it may be refutable (`Some(x)`).
    match pat {
        None => true,
        Some(syn::Pat::TupleStruct(t)) => t.elems.iter().all(irrefutable),
        Some(syn::Pat::Struct(s)) => s.fields.iter().all(|f| irrefutable(&f.pat)),
        Some(other) => irrefutable(other),
    }
}

/// An ignore list entry that can never apply is a mistake, not a no-op: the failure event (its generated edge takes it
/// in every state), or an event a transition of the same state takes whatever it carries.
fn check_ignores(cx: &Ctxt, model: &Model) {
    let text = |p: &syn::Path| p.to_token_stream().to_string();
    let failure = model.args.failure.as_ref().map(|f| text(&f.path));
    let failure_msg = "the failure event takes the failure path in every state: it cannot be ignored (to change what \
                       a state does on failure, use `#[on_failure(..)]`)";
    for path in model.args.ignore.iter().chain(model.states.iter().flat_map(|s| &s.ignore)) {
        if failure.as_deref() == Some(text(path).as_str()) {
            cx.error_spanned_by(path, failure_msg);
        }
    }
    for state in &model.states {
        for path in &state.ignore {
            let taken = state
                .transitions
                .iter()
                .flat_map(|t| &t.events)
                .any(|e| text(&e.path) == text(path) && takes_every_value(e.pat.as_ref()));
            if taken && failure.as_deref() != Some(text(path).as_str()) {
                cx.error_spanned_by(
                    path,
                    format!(
                        "state `{}` has a transition on `{}` that takes every one: this ignore never applies; \
                         remove one of the two",
                        state.ident,
                        text(path).replace(' ', "")
                    ),
                );
            }
        }
    }
}
