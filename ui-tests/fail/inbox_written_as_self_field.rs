// `inbox = self.events`: the key names the field alone; one error on the value.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[derive(stagewise::Stage)]
pub struct Worker {
    id: stagewise::StageId,
    events: stagewise::EventInbox<Ev>,
}

#[stagewise::handler_supervised(
    stage = Worker, event = Ev, action = Act, context = Ctx, failure = Ev::Error, inbox = self.events,
)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    Idle,
    #[dispatch(Worker::next)]
    #[on(Ev::Code(_) => stay)]
    #[on(Ev::Eof => Done)]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

impl Worker {
    async fn next(&mut self, _ctx: &mut Ctx) -> Result<stagewise::Directive<Ev>, stagewise::BoxError> {
        Ok(stagewise::Directive::Transition(Ev::Eof))
    }
}

fn main() {
    let (sender, inbox) = stagewise::event_inbox(4);
    sender.try_send(Ev::Code(7)).expect("room");
    use_stage(Worker { id: stagewise::StageId(1), events: inbox }, S::INITIAL, Ctx);
}
