// An `unhandled` hook that takes the event by reference and no context: one error on its path, with the signature.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, unhandled = Up::stray,
)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

impl Up {
    fn stray(_state: &S, _event: &Ev) -> stagewise::Decision<S, Act> {
        stagewise::Decision::Unhandled
    }
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
