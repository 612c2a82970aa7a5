#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[dispatch(Up::next)]
    #[on(Ev::Line => Up::decide, to = [Idle, Done], actions = [Act::Flush])]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
