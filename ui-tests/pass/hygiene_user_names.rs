// The user's own `state`, `ctx` and `actions` in attribute expressions are the user's: generated code's parameters of
// those names are out of reach (mixed-site hygiene), so these resolve to the module's constants below.
#![allow(non_upper_case_globals)]

#[path = "../common/mod.rs"]
mod common;
use common::*;

const state: &str = "state";
const ctx: &str = "ctx";
const actions: &str = "actions";

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error,
    on_failure = [Act::Log(ctx.to_owned())],
)]
pub enum S {
    #[initial]
    #[entry(Act::Log(actions.to_owned()))]
    #[on(Ev::Start => Running, actions = [Act::Log(state.to_owned())])]
    Idle,
    #[dispatch(Up::next)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
