// A generic stage: the parameter lives on the stage (`stage = <H: ..> Worker<H>`), the states have no phantom variant.
#![deny(warnings)]

#[path = "../common/mod.rs"]
mod common;
use common::*;
use stagewise::{BoxError, Directive, HandlerSupervisedExt, Lifecycle, StageId};

trait Handler: Send + 'static {
    fn done(&self) -> bool;
}

struct Always;
impl Handler for Always {
    fn done(&self) -> bool {
        true
    }
}

#[stagewise::handler_supervised(stage = <H: Handler> Worker<H>, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[dispatch(Worker::step)]
    #[on(Ev::Eof => Done)]
    Working,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

#[derive(stagewise::Stage)]
struct Worker<H: Handler> {
    #[stage_id]
    id: StageId,
    handler: H,
}

impl<H: Handler> Worker<H> {
    async fn step(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        tokio::task::yield_now().await;
        Ok(if self.handler.done() { Directive::Transition(Ev::Eof) } else { Directive::Continue })
    }
}

#[tokio::main]
async fn main() {
    let record = Worker { id: StageId(1), handler: Always }.run(S::INITIAL, Ctx).await.unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed);
}
