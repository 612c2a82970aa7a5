//! `Machine::ActionCapacity`: how many actions a transition's list keeps inline, sized from the longest list a declared
//! transition runs (its exit, own and entry actions together), so that no declared transition allocates.

use proc_macro2::TokenStream;
use quote::quote;

use super::private;
use crate::model::{Model, State, Target};

/// The runtime's default inline capacity (`stagewise_runtime::INLINE_ACTIONS`): below it a machine keeps the default,
/// which also leaves room for what function transitions and the `unhandled` hook return.
const INLINE_ACTIONS: usize = 4;

/// The most actions one turn of a declared transition runs: the initial state's entry actions; per transition to a
/// state, the exit actions of its source, its own and the entry actions of its target; per `stay`, its own; per
/// function transition, the exit and entry actions of the states its `to` list allows (any state without one; the
/// function's own actions are not known here); per failure edge, the exit actions of the failing state, its failure
/// actions and the failed state's entry actions.
pub(crate) fn longest_action_list(model: &Model) -> usize {
    let entry = |name: &syn::Ident| model.state(name).map_or(0, |s| s.entry.len());
    let any_entry = model.states.iter().map(|s| s.entry.len()).max().unwrap_or(0);
    let mut longest = model.initial().map_or(0, |s| s.entry.len());
    for state in &model.states {
        for t in &state.transitions {
            let turn = match &t.target {
                Target::State(to) => state.exit.len() + t.actions.len() + entry(to),
                Target::Stay(_) => t.actions.len(),
                Target::Call(_) => {
                    let reachable = t.to.as_ref().map(|to| to.iter().map(entry).max().unwrap_or(0));
                    state.exit.len() + reachable.unwrap_or(any_entry)
                }
            };
            longest = longest.max(turn);
        }
        longest = longest.max(failure_turn(model, state));
    }
    longest
}

/// The actions of the failure edge out of `state`: none when there is no failure edge or `state` is the failed one
/// (which ignores the failure event).
fn failure_turn(model: &Model, state: &State) -> usize {
    let Some(failed) = model.failed() else { return 0 };
    if model.args.failure.is_none() || state.is_failed() {
        return 0;
    }
    let own = state.on_failure.as_ref().map_or(model.args.on_failure.len(), |(actions, _)| actions.len());
    state.exit.len() + own + failed.entry.len()
}

/// `decision`, a `Decision` of the default capacity (what function transitions and the `unhandled` hook return),
/// as one of the machine's capacity: itself when that is the default, moved into the larger list otherwise.
pub(super) fn fit_capacity(model: &Model, decision: TokenStream) -> TokenStream {
    if longest_action_list(model) <= INLINE_ACTIONS {
        return decision;
    }
    let p = private(model);
    quote!(#p::Decision::into_capacity(#decision))
}

/// `type ActionCapacity = ..;`: the default unless a declared transition runs more actions than it keeps inline.
pub(super) fn action_capacity(model: &Model) -> TokenStream {
    let p = private(model);
    match longest_action_list(model) {
        n if n <= INLINE_ACTIONS => quote!(type ActionCapacity = #p::DefaultCapacity;),
        n => {
            let n = proc_macro2::Literal::usize_unsuffixed(n);
            quote!(type ActionCapacity = #p::Inline<#n>;)
        }
    }
}
