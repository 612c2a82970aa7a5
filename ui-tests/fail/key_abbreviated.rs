// `ctx = Ctx`: read as `context`, with a did-you-mean, and no follow-on errors where the stage is used.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, ctx = Ctx, failure = Ev::Error)]
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
    let s = S::INITIAL;
    match s {
        S::Idle => {}
        _ => {}
    }
    use_stage(up(), S::INITIAL, Ctx);
}
