#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S<H> {
    #[initial]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
    Phantom(std::marker::PhantomData<H>),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
