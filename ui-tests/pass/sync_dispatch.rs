// A plain (not `async`) dispatch method, named with `sync`: called each turn without a future; the run completes.
#![deny(warnings)]

#[path = "../common/mod.rs"]
mod common;
use common::*;
use stagewise::{BoxError, Directive, HandlerSupervisedExt, Lifecycle};

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
pub enum S {
    #[initial]
    #[dispatch(Up::count, sync)]
    #[on(Ev::Code(_) => stay)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

impl Up {
    fn count(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        self.id.0 += 1;
        Ok(Directive::Transition(if self.id.0 < 3 { Ev::Code(self.id.0) } else { Ev::Eof }))
    }
}

#[tokio::main]
async fn main() {
    let record = Up { id: stagewise::StageId(0) }.run(S::INITIAL, Ctx).await.expect("no escalation");
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
    assert_eq!(record.state, "Done");
}
