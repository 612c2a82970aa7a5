// A failed-state builder that takes only the message: one error on its path.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed(Up::build)]
    Failed { reason: String, during: &'static str },
}

impl Up {
    fn build(reason: String) -> S {
        S::Failed { reason, during: "?" }
    }
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
