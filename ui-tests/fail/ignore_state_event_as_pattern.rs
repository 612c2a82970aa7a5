// `#[ignore(Ev::Line(_))]`: an ignore list names the variant; one error on the `(_)`, saying to write `Ev::Line`.
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
    #[ignore(Ev::Line(_))]
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
