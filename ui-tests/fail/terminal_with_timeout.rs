// A terminal state with a timeout: it ends the run at once.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::next)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    #[timeout(secs = 1, event = Ev::Eof)]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
