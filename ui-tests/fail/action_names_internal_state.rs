// An action naming `state`: generated code keeps its own names out of reach, so this is a plain unknown name.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Up::next)]
    #[on(Ev::Eof => Done, actions = [Act::Log(state)])]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use_stage(up(), S::INITIAL, Ctx);
}
