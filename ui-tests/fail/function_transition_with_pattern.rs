// A function transition whose event is a pattern: it receives the whole event.
#[path = "../common/mod.rs"]
mod common;
use common::*;

impl Up {
    fn decide(_: &S, _: Ev, _: &mut Ctx) -> stagewise::Decision<S, Act> {
        stagewise::Decision::goto(S::Done)
    }
}

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::next)]
    #[on(Ev::Line(l) => Up::decide, to = [Done])]
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
