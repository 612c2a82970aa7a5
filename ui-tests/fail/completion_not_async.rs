// A completion method that is not async: one error on its path.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, completion = Up::finish,
)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

impl Up {
    fn finish(&mut self, _ctx: &mut Ctx) -> Result<(), stagewise::BoxError> {
        Ok(())
    }
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
