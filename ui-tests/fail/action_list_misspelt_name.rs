// A misspelt named action list: it reads as an unknown value, one error on it (the failure edge of every state uses
// it, all on the one token).
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error,
    action_lists(teardown = [Act::Flush, Act::Cleanup]),
    on_failure = [teardwn],
)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done, actions = [teardown])]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
