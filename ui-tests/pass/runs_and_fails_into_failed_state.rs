// A dispatch error takes the generated failure transition, runs `on_failure`, and the run ends Failed.
#![deny(warnings)]

#[path = "../common/mod.rs"]
mod common;
use common::*;
use stagewise::{BoxError, Directive, HandlerSupervisedExt, Lifecycle};

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, on_failure = [Act::Cleanup],
)]
pub enum S {
    #[initial]
    #[dispatch(Up::boom)]
    Running,
    #[failed]
    Failed(String),
}

impl Up {
    async fn boom(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Err("disk on fire".into())
    }
}

#[tokio::main]
async fn main() {
    let record = Up { id: stagewise::StageId(3) }.run(S::INITIAL, Ctx).await.expect("no escalation");
    match record.lifecycle {
        Lifecycle::Failed { error, escalation: None } => assert!(error.contains("disk on fire"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(record.state, "Failed");
}
