// An `unhandled` hook the stage does not have (a typo): rustc's one error on the path.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, unhandled = Up::strey,
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
    fn stray(_state: &S, _event: Ev, _ctx: &mut Ctx) -> stagewise::Decision<S, Act> {
        stagewise::Decision::Unhandled
    }
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
