// A transposed key that is a typo of a required one: one error with "did you mean", its value still read.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stgae = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::next)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
