// An event enum without `#[derive(EventVariant)]`: one error, on the `event` key, saying to derive it.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[derive(Debug)]
pub enum MyEv {
    Start,
    Error(String),
}

#[stagewise::handler_supervised(stage = Up, event = MyEv, action = Act, context = Ctx, failure = MyEv::Error)]
pub enum S {
    #[initial]
    #[on(MyEv::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
