// A dispatch that names a constant, not a method: one error on its path.
#[path = "../common/mod.rs"]
mod common;
use common::*;

impl Up {
    const LIMIT: u32 = 3;
}

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::LIMIT)]
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
