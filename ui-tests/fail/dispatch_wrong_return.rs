#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[dispatch(Up::count)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

impl Up {
    async fn count(&mut self, _ctx: &mut Ctx) -> u32 {
        7
    }
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
