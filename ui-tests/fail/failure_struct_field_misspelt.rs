// `failure = Ev::Failed { mesage }` while the field is `message`: one error, on the variant.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Failed { mesage })]
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
