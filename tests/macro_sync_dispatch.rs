//! `#[dispatch(Stage::method, sync)]` under the real run loop: a plain method computes each turn's event from the
//! stage and the context, its error takes the failure path, and with an inbox an event waiting is taken before the
//! method runs (the method is not called for a turn the inbox wins).

use stagewise::{
    event_inbox, run_handler_supervised, BoxError, Directive, EventInbox, EventVariant, Lifecycle, Stage, StageId,
    Supervision, VariantName,
};

#[derive(Debug, EventVariant)]
enum Ev {
    Tick,
    Done,
    Stop,
    Error(String),
}

#[derive(Debug, VariantName)]
enum Act {}

impl stagewise::Action<u32> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, _ctx: &mut u32) -> Result<(), BoxError> {
        match self {}
    }
}

/// Counts turns in the context: `limit` turns, then done; or fails on the first.
#[derive(Stage)]
struct Counter {
    id: StageId,
    limit: u32,
    fail: bool,
}

impl Counter {
    /// Synchronous: the next event is computed from the context.
    fn next(&mut self, turns: &mut u32) -> Result<Directive<Ev>, BoxError> {
        if self.fail {
            return Err("counted too far".into());
        }
        *turns += 1;
        Ok(Directive::Transition(if *turns < self.limit { Ev::Tick } else { Ev::Done }))
    }
}

#[stagewise::handler_supervised(stage = Counter, event = Ev, action = Act, context = u32, failure = Ev::Error)]
enum Plain {
    #[initial]
    #[dispatch(Counter::next, sync)]
    #[on(Ev::Tick => stay)]
    #[on(Ev::Done => Finished)]
    Counting,
    #[terminal]
    Finished,
    #[failed]
    Failed(String),
}

/// A counter that also reads its own events.
#[derive(Stage)]
struct Listener {
    id: StageId,
    events: EventInbox<Ev>,
    counter: Counter,
}

impl Listener {
    fn next(&mut self, turns: &mut u32) -> Result<Directive<Ev>, BoxError> {
        self.counter.next(turns)
    }
}

#[stagewise::handler_supervised(
    stage = Listener, event = Ev, action = Act, context = u32, failure = Ev::Error, inbox = events,
)]
enum WithInbox {
    #[initial]
    #[dispatch(Listener::next, sync)]
    #[on(Ev::Tick => stay)]
    #[on(Ev::Done | Ev::Stop => Finished)]
    Counting,
    #[terminal]
    Finished,
    #[failed]
    Failed(String),
}

fn counter(limit: u32, fail: bool) -> Counter {
    Counter { id: StageId(9), limit, fail }
}

fn listener(limit: u32, fail: bool) -> (Listener, stagewise::EventSender<Ev>) {
    let (sender, events) = event_inbox(4);
    (Listener { id: StageId(10), events, counter: counter(limit, fail) }, sender)
}

#[tokio::test]
async fn a_sync_method_drives_the_state_each_turn_and_its_error_takes_the_failure_path() {
    let record = run_handler_supervised(counter(5, false), Plain::INITIAL, 0, Supervision::default()).await.unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
    assert_eq!(record.state, "Finished");

    let record = run_handler_supervised(counter(5, true), Plain::INITIAL, 0, Supervision::default()).await.unwrap();
    match record.lifecycle {
        Lifecycle::Failed { error, .. } => assert!(error.contains("counted too far"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test]
async fn with_an_inbox_a_waiting_event_is_taken_before_the_sync_method_runs() {
    // The stop waits in the inbox before the run: the first turn takes it, and the method never runs.
    let (stage, sender) = listener(5, true);
    sender.try_send(Ev::Stop).unwrap();
    let record = run_handler_supervised(stage, WithInbox::INITIAL, 0, Supervision::default()).await.unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed, "no call, so no error: {record}");

    // With nothing waiting, the method runs each turn until it is done.
    let (stage, _sender) = listener(3, false);
    let record = run_handler_supervised(stage, WithInbox::INITIAL, 0, Supervision::default()).await.unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
}
