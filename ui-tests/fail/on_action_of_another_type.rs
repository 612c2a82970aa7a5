// `actions = [Ev::Eof]`: an event where an action goes: one error on that expression, not on the attribute.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running, actions = [Ev::Eof])]
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
    let s = S::INITIAL;
    match s {
        S::Idle => {}
        _ => {}
    }
    use_stage(up(), S::INITIAL, Ctx);
}
