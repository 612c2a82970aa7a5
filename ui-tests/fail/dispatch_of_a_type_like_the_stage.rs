// Both types exist: a dispatch of `Upp`, one letter from the stage `Up`, is taken for a typo and says what to write.
#[path = "../common/mod.rs"]
mod common;
use common::*;

pub struct Upp;

impl Upp {
    pub async fn next(_stage: &mut Up, _ctx: &mut Ctx) -> Result<stagewise::Directive<Ev>, stagewise::BoxError> {
        Ok(stagewise::Directive::Continue)
    }
}

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Upp::next)]
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
