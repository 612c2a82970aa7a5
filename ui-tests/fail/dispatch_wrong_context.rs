// A dispatch method taking the wrong context type: one error on its path, with the signature to write.
#[path = "../common/mod.rs"]
mod common;
use common::*;

impl Up {
    async fn other_ctx(&mut self, _ctx: &mut u32) -> Result<stagewise::Directive<Ev>, stagewise::BoxError> {
        Ok(stagewise::Directive::Terminate)
    }
}

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::other_ctx)]
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
