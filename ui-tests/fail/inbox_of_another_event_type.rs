// `inbox` names an inbox of another event type than the machine's: one error, on the name.
#[path = "../common/mod.rs"]
mod common;
use common::*;

#[derive(stagewise::Stage)]
pub struct Worker {
    id: stagewise::StageId,
    events: stagewise::EventInbox<String>,
}

#[stagewise::handler_supervised(
    stage = Worker, event = Ev, action = Act, context = Ctx, failure = Ev::Error, inbox = events,
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
    let _ = inbox;
    use_stage(Worker { id: stagewise::StageId(1), events: stagewise::event_inbox::<String>(1).1 }, S::INITIAL, Ctx);
}
