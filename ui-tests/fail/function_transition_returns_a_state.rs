// A function transition that returns the next state instead of a `Decision`: one error on its path, with the
// signature to write.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Up::decide, to = [Done])]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

impl Up {
    fn decide(_state: &S, _event: Ev, _ctx: &mut Ctx) -> S {
        S::Done
    }
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
