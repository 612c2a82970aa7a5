// `on_failure` actions may use `message` whatever the failed state's shape: here a unit `#[failed]` state.

#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error,
    on_failure = [Act::Log(message)],
)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done)]
    #[on_failure(Act::Log(message), Act::Cleanup)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed,
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
