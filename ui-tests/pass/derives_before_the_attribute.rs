// Derives written above the attribute work as well as below it: the derives see the variants' attributes, which
// built-in derives ignore, and the attribute strips them before the item is compiled.

#[path = "../common/mod.rs"]
mod common;
use common::*;

#[derive(Debug, Clone, PartialEq)]
#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
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
    assert_eq!(S::INITIAL.clone(), S::Idle);
    use_stage(up(), S::INITIAL, Ctx);
}
