#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[dispatch(Up::sync_next, snyc)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

impl Up {
    fn sync_next(&mut self, _ctx: &mut Ctx) -> Result<stagewise::Directive<Ev>, stagewise::BoxError> {
        Ok(stagewise::Directive::Terminate)
    }
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
