// A dispatch method whose error does not convert into `BoxError`: one error on its path.
#[path = "../common/mod.rs"]
mod common;
use common::*;

pub struct Odd;

impl Up {
    async fn odd_error(&mut self, _ctx: &mut Ctx) -> Result<stagewise::Directive<Ev>, Odd> {
        Ok(stagewise::Directive::Terminate)
    }
}

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::odd_error)]
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
