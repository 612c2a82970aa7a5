#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, control(begin = Ev::Start),
)]
enum S {
    #[initial]
    #[control(block)]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {}
