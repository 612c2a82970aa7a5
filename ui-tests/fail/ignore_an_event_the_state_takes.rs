// `#[ignore(Ev::Eof)]` beside `#[on(Ev::Eof => Done)]` on the same state: the ignore never applies; one error on it.
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
    #[ignore(Ev::Eof)]
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
