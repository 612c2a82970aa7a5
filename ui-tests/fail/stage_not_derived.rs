#[path = "../common/mod.rs"]
mod common;
use common::*;

struct Bare;

#[stagewise::handler_supervised(stage = Bare, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(Bare, S::INITIAL, Ctx);
}
