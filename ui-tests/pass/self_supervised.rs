// An orchestrator without a handler: `#[self_supervised]`, no stage id, writer `System`.
#![deny(warnings)]

#[path = "../common/mod.rs"]
mod common;
use common::*;
use stagewise::{Lifecycle, SelfSupervisedExt, WriterId};

struct Conductor;

#[stagewise::self_supervised(stage = Conductor, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[dispatch(emit = Ev::Start)]
    #[on(Ev::Start => Done, actions = [Act::Flush])]
    Starting,
    #[terminal]
    Done,
    #[failed]
    Failed,
}

#[tokio::main]
async fn main() {
    let record = Conductor.run(S::INITIAL, Ctx).await.unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.writer, WriterId::System);
    assert_eq!(record.stage, None);
}
