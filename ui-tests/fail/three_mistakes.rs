// Three independent mistakes are reported together, and nothing else.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, colour = 1)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Runing)]
    Idle,
    #[dispatch(Up::next)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    Done,
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
