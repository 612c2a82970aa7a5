// A dispatch method returning directives of another event type: one error on its path.
#[path = "../common/mod.rs"]
mod common;
use common::*;

impl Up {
    async fn numbers(&mut self, _ctx: &mut Ctx) -> Result<stagewise::Directive<u32>, stagewise::BoxError> {
        Ok(stagewise::Directive::Terminate)
    }
}

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::numbers)]
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
