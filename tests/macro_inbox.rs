//! `inbox = field` under the real run loop: a stage's own events, data and all, sent from outside through an
//! `EventSender`, read under each state's control policy (a waiting state wakes for one, a working state takes one
//! before its next piece of work or when it arrives mid-work, a state that ignores control leaves them waiting) and
//! handled like any event; a closed inbox is a closed channel (the `closed` event, else the failure path).

use std::sync::{Arc, Mutex};

use stagewise::{
    event_inbox, run_handler_supervised, BoxError, Directive, EventInbox, EventSender, EventVariant, Lifecycle,
    LifecycleRecord, Stage, StageId, Supervision, VariantName,
};

#[derive(Debug, EventVariant)]
enum Ev {
    Job(u32),
    Stop { reason: String },
    Ready,
    Closed,
    Error(String),
}

#[derive(Debug, VariantName)]
enum Act {
    Record(String),
}

/// What the actions logged, shared with the test (the context itself is moved into the run).
type Log = Arc<Mutex<Vec<String>>>;

impl stagewise::Action<Log> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, log: &mut Log) -> Result<(), BoxError> {
        let Act::Record(line) = self;
        log.lock().unwrap().push(line);
        Ok(())
    }
}

/// Starts busy (control ignored: events wait), becomes ready, then works until it is told to stop.
#[derive(Stage)]
struct Worker {
    id: StageId,
    events: EventInbox<Ev>,
    /// What the busy state waits for before it is ready.
    ready: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Worker {
    async fn get_ready(&mut self, _log: &mut Log) -> Result<Directive<Ev>, BoxError> {
        if let Some(ready) = self.ready.take() {
            ready.await?;
        }
        Ok(Directive::Transition(Ev::Ready))
    }

    /// Work that never ends by itself: only an event from the inbox moves the state on.
    async fn work_forever(&mut self, _log: &mut Log) -> Result<Directive<Ev>, BoxError> {
        std::future::pending().await
    }
}

#[stagewise::handler_supervised(
    stage = Worker, event = Ev, action = Act, context = Log, failure = Ev::Error,
    inbox = events,
)]
#[derive(Debug, PartialEq)]
enum S {
    #[initial]
    #[dispatch(Worker::get_ready)]
    #[control(ignore)]
    #[on(Ev::Ready => Idle, actions = [Act::Record("ready".into())])]
    Busy,
    // No work of its own: waits for an event (or control, or its timeout).
    #[on(Ev::Job(n) => Working, actions = [Act::Record(format!("job {n}"))])]
    #[on(Ev::Stop { reason } => Stopped, actions = [Act::Record(format!("stop: {reason}"))])]
    #[on(Ev::Closed => Stopped, actions = [Act::Record("closed".into())])]
    #[control(block, closed = Ev::Closed)]
    Idle,
    #[dispatch(Worker::work_forever)]
    #[on(Ev::Job(n) => stay, actions = [Act::Record(format!("job {n} while working"))])]
    #[on(Ev::Stop { reason } => Stopped, actions = [Act::Record(format!("stop: {reason}"))])]
    Working,
    #[terminal]
    Stopped,
    #[failed]
    Failed(String),
}

/// Runs a worker over `events`, all sent before the run; the inbox stays open if `sender` is kept, else it closes
/// once they are read. Returns the record and what the actions logged.
async fn run(events: Vec<Ev>, keep: Option<&mut Option<EventSender<Ev>>>) -> (LifecycleRecord, Vec<String>) {
    let (sender, inbox) = event_inbox(8);
    for event in events {
        sender.try_send(event).unwrap();
    }
    match keep {
        Some(keep) => *keep = Some(sender),
        None => drop(sender),
    }
    let (ready, ready_rx) = tokio::sync::oneshot::channel();
    ready.send(()).unwrap();
    let worker = Worker { id: StageId(4), events: inbox, ready: Some(ready_rx) };
    let log = Log::default();
    let record = run_handler_supervised(worker, S::INITIAL, log.clone(), Supervision::default()).await.unwrap();
    let log = log.lock().unwrap().clone();
    (record, log)
}

#[tokio::test]
async fn events_with_data_wait_through_an_ignoring_state_then_drive_waiting_and_working_states() {
    let (record, log) = run(vec![Ev::Job(1), Ev::Job(2), Ev::Stop { reason: "done".into() }], None).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
    assert_eq!(log, ["ready", "job 1", "job 2 while working", "stop: done"], "in order, none lost to the busy state");
}

#[tokio::test]
async fn an_event_that_arrives_while_the_work_waits_wins_the_race() {
    let (events, inbox) = event_inbox(1);
    let worker = Worker { id: StageId(4), events: inbox, ready: None };
    events.try_send(Ev::Job(7)).unwrap();
    let log = Log::default();
    let run = tokio::spawn(run_handler_supervised(worker, S::INITIAL, log.clone(), Supervision::default()));
    // Working waits forever on its own; the stop arrives while it waits.
    events.send(Ev::Stop { reason: "late".into() }).await.unwrap();
    let record = run.await.unwrap().unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
    assert_eq!(*log.lock().unwrap(), ["ready", "job 7", "stop: late"]);
}

#[tokio::test]
async fn a_closed_inbox_is_the_closed_event_where_declared_and_the_failure_path_elsewhere() {
    let (record, log) = run(Vec::new(), None).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
    assert_eq!(log, ["ready", "closed"], "Idle declares Closed");

    let (record, log) = run(vec![Ev::Job(3)], None).await;
    assert_eq!(log, ["ready", "job 3"]);
    match record.lifecycle {
        Lifecycle::Failed { error, .. } => {
            assert!(error.contains("the event inbox closed in state Working"), "{error}");
        }
        other => panic!("Working has no `closed` event: the failure path, not {other:?}"),
    }
}

#[tokio::test]
async fn an_inbox_event_the_state_does_not_take_is_unhandled_like_any_event() {
    // The inbox stays open: the failure is the event's, not the close's.
    let mut sender = None;
    let (record, log) = run(vec![Ev::Ready], Some(&mut sender)).await;
    assert_eq!(log, ["ready"]);
    match record.lifecycle {
        Lifecycle::Failed { error, .. } => {
            assert!(error.contains("event Ready is not handled in state Idle"), "{error}")
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}
