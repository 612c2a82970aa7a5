//! Handles and the control plane: state published after each transition, control ignored in terminal states, a closed
//! control channel taking the failure path, outcomes after the task ended, abort recording Cancelled.

use std::sync::Arc;
use std::time::Duration;

use stagewise::{
    spawn_handler_supervised, Action, BoxError, Control, ControlPolicy, Decision, Directive, Ending, EventVariant,
    HandleError, HandlerSupervised, Journal, Lifecycle, LifecycleRecord, Machine, MemoryJournal, SpawnOptions, StageId,
    StateVariant, Supervision, Supervisor,
};
use tokio::sync::Notify;

/// A stage that waits for Start, works until drained, then lingers in its terminal state until released.
struct Gate;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GateState {
    Idle,
    Working,
    Finishing,
    Failed,
    Cancelled,
}

impl StateVariant for GateState {
    fn name(&self) -> &'static str {
        match self {
            GateState::Idle => "Idle",
            GateState::Working => "Working",
            GateState::Finishing => "Finishing",
            GateState::Failed => "Failed",
            GateState::Cancelled => "Cancelled",
        }
    }

    fn ending(&self) -> Option<Ending> {
        match self {
            GateState::Finishing => Some(Ending::Completed),
            GateState::Failed => Some(Ending::Failed),
            GateState::Cancelled => Some(Ending::Cancelled),
            _ => None,
        }
    }

    fn control_policy(&self) -> ControlPolicy {
        match self {
            GateState::Idle => ControlPolicy::Block,
            _ => ControlPolicy::Poll,
        }
    }
}

#[derive(Debug)]
enum GateEvent {
    Start,
    Finish,
    Stop,
    // The message is for logs; this test reads the record instead.
    Failure(#[allow(dead_code)] String),
}

impl EventVariant for GateEvent {
    fn name(&self) -> &'static str {
        match self {
            GateEvent::Start => "Start",
            GateEvent::Finish => "Finish",
            GateEvent::Stop => "Stop",
            GateEvent::Failure(_) => "Failure",
        }
    }
}

struct NoAction;

impl Action<GateCtx> for NoAction {
    fn name(&self) -> &'static str {
        "NoAction"
    }

    async fn execute(self, _ctx: &mut GateCtx) -> Result<(), BoxError> {
        Ok(())
    }
}

#[derive(Default)]
struct GateCtx {
    release: Arc<Notify>,
}

impl Machine for Gate {
    type State = GateState;
    type Event = GateEvent;
    type Context = GateCtx;
    type Action = NoAction;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &GateState, event: GateEvent, _ctx: &mut GateCtx) -> Decision<GateState, NoAction> {
        match (state, event) {
            (GateState::Idle, GateEvent::Start) => Decision::goto(GateState::Working),
            (GateState::Working, GateEvent::Finish) => Decision::goto(GateState::Finishing),
            (GateState::Idle | GateState::Working, GateEvent::Stop) => Decision::goto(GateState::Cancelled),
            (GateState::Idle | GateState::Working, GateEvent::Failure(_)) => Decision::goto(GateState::Failed),
            _ => Decision::Unhandled,
        }
    }

    fn control_event(control: Control) -> Option<GateEvent> {
        match control {
            Control::Start => Some(GateEvent::Start),
            Control::Drain => Some(GateEvent::Finish),
            Control::Stop => Some(GateEvent::Stop),
            _ => None,
        }
    }
}

impl Supervisor for Gate {
    fn name(&self) -> &'static str {
        "gate"
    }
    async fn dispatch_state(&mut self, state: &GateState, ctx: &mut GateCtx) -> Result<Directive<GateEvent>, BoxError> {
        match state {
            GateState::Idle | GateState::Working => std::future::pending().await,
            GateState::Finishing => {
                ctx.release.notified().await;
                Ok(Directive::Terminate)
            }
            GateState::Failed | GateState::Cancelled => Ok(Directive::Terminate),
        }
    }

    fn event_for_action_error(&self, message: String) -> GateEvent {
        GateEvent::Failure(message)
    }
}

impl HandlerSupervised for Gate {
    fn stage_id(&self) -> StageId {
        StageId(7)
    }
}

fn options(journal: Arc<MemoryJournal<LifecycleRecord>>) -> SpawnOptions {
    SpawnOptions::default().control_capacity(4).journal(journal)
}

async fn wait_for(rx: &mut tokio::sync::watch::Receiver<stagewise::StateSnapshot>, name: &str) {
    rx.wait_for(|s| s.name == name).await.unwrap();
}

#[tokio::test]
async fn state_is_published_right_after_each_transition() {
    let handle = spawn_handler_supervised(Gate, GateState::Idle, GateCtx::default(), SpawnOptions::default());
    let mut states = handle.subscribe();
    assert_eq!(handle.state().name, "Idle");

    handle.send(Control::Start).await.unwrap();
    states.changed().await.unwrap();
    assert_eq!(states.borrow_and_update().name, "Working");

    handle.send(Control::Drain).await.unwrap();
    states.changed().await.unwrap();
    let finishing = *states.borrow_and_update();
    assert_eq!((finishing.name, finishing.ending), ("Finishing", Some(Ending::Completed)));
}

#[tokio::test]
async fn control_event_sent_to_a_terminal_stage_is_ignored() {
    let ctx = GateCtx::default();
    let release = ctx.release.clone();
    let mut handle = spawn_handler_supervised(Gate, GateState::Idle, ctx, SpawnOptions::default());
    let mut states = handle.subscribe();
    handle.send(Control::Start).await.unwrap();
    handle.send(Control::Drain).await.unwrap();
    wait_for(&mut states, "Finishing").await;
    let transitions = handle.counters().transitions;

    // Stop would cancel an active stage; the terminal state leaves it unread.
    handle.send(Control::Stop).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(handle.counters().transitions, transitions);
    assert_eq!(handle.state().name, "Finishing");

    release.notify_one();
    let record = handle.outcome().await.unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
}

#[tokio::test]
async fn closed_control_channel_takes_the_failure_path() {
    for initial in [GateState::Idle, GateState::Working] {
        let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
        let (control, control_rx) = stagewise::control_channel(1);
        let supervision = Supervision::new(journal.clone()).with_control(control_rx);
        let run = stagewise::run_handler_supervised(Gate, initial, GateCtx::default(), supervision);
        drop(control);
        let record = run.await.unwrap();
        match &record.lifecycle {
            Lifecycle::Failed { error, escalation: None } => {
                assert!(error.contains("control channel") && error.contains("closed"), "{error}");
            }
            other => panic!("expected Failed from {initial:?}, got {other:?}"),
        }
        assert_eq!(record.state, "Failed");
        assert_eq!(journal.len(), 2, "Started, then exactly one Failed");
    }
}

#[tokio::test]
async fn waiting_on_a_handle_after_the_task_ended_returns_its_outcome() {
    let mut handle = spawn_handler_supervised(Gate, GateState::Idle, GateCtx::default(), SpawnOptions::default());
    handle.send(Control::Stop).await.unwrap();
    while !handle.is_finished() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    let record = handle.outcome().await.unwrap();
    assert!(matches!(record.lifecycle, Lifecycle::Cancelled { .. }), "{record}");
    assert_eq!(handle.outcome().await.unwrap(), record, "asking again gives the same outcome");
    assert_eq!(handle.state().ending, Some(Ending::Cancelled));
    // A handle that outlived its task answers with an error, never a hang.
    assert!(matches!(handle.send(Control::Start).await, Err(HandleError::Ended { supervisor: "gate" })));
    assert!(matches!(handle.try_send(Control::Start), Err(HandleError::Ended { supervisor: "gate" })));
}

#[tokio::test]
async fn try_send_to_a_full_control_channel_reports_full_not_ended() {
    let ctx = GateCtx::default();
    let release = ctx.release.clone();
    let options = SpawnOptions::default().control_capacity(1);
    let mut handle = spawn_handler_supervised(Gate, GateState::Idle, ctx, options);
    handle.send(Control::Start).await.unwrap();
    handle.send(Control::Drain).await.unwrap();
    wait_for(&mut handle.subscribe(), "Finishing").await;

    // The terminal state leaves control unread: one message fills the channel, the next finds it full.
    handle.try_send(Control::Stop).expect("room for one");
    let full = handle.try_send(Control::Stop).expect_err("the channel is full");
    assert!(matches!(full, HandleError::Full { supervisor: "gate", control: Control::Stop }), "{full:?}");
    assert!(full.to_string().contains("full"), "{full}");
    assert!(!handle.is_finished(), "a full channel is not an ended run");

    release.notify_one();
    let record = handle.outcome().await.unwrap();
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
    assert!(matches!(handle.try_send(Control::Stop), Err(HandleError::Ended { .. })), "ended once the run ended");
}

#[tokio::test]
async fn abort_records_cancelled() {
    let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let mut handle = spawn_handler_supervised(Gate, GateState::Idle, GateCtx::default(), options(journal.clone()));
    handle.send(Control::Start).await.unwrap();
    wait_for(&mut handle.subscribe(), "Working").await;

    handle.abort();
    let record = handle.outcome().await.unwrap();
    assert!(matches!(&record.lifecycle, Lifecycle::Cancelled { reason } if reason.contains("aborted")), "{record}");
    assert_eq!(record.state, "Working", "the record names the state the run was aborted in");
    let lifecycles: Vec<_> = journal.records().into_iter().map(|r| r.lifecycle).collect();
    assert_eq!(lifecycles, vec![Lifecycle::Started, record.lifecycle.clone()]);
}

#[tokio::test]
async fn abort_before_the_task_is_first_polled_records_started_then_cancelled() {
    // The current-thread runtime polls nothing until this test awaits: the task is aborted before its first poll.
    let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let mut handle = spawn_handler_supervised(Gate, GateState::Idle, GateCtx::default(), options(journal.clone()));
    handle.abort();
    let record = handle.outcome().await.unwrap();
    assert!(matches!(&record.lifecycle, Lifecycle::Cancelled { reason } if reason.contains("aborted")), "{record}");
    let lifecycles: Vec<_> = journal.records().into_iter().map(|r| r.lifecycle).collect();
    assert_eq!(lifecycles, vec![Lifecycle::Started, record.lifecycle.clone()], "Started first, then one terminal");
}

#[tokio::test]
async fn outcome_dropped_unfinished_can_be_awaited_again() {
    let ctx = GateCtx::default();
    let release = ctx.release.clone();
    let mut handle = spawn_handler_supervised(Gate, GateState::Idle, ctx, SpawnOptions::default());
    tokio::select! {
        _ = handle.outcome() => panic!("the stage has not ended"),
        () = tokio::time::sleep(Duration::from_millis(2)) => {}
    }
    handle.send(Control::Start).await.unwrap();
    handle.send(Control::Drain).await.unwrap();
    release.notify_one();
    assert_eq!(handle.outcome().await.unwrap().lifecycle, Lifecycle::Completed);
}
