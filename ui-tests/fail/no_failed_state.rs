#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
