//! A six-state transform stage written by hand against the runtime traits, with no macro: what the
//! `#[handler_supervised]` macro writes for you. Run: `cargo run --example hand_written`.
//!
//! Created --Start--> Initialized --Ready--> Running --Eof--> Draining --Flushed--> Drained
//! and from every state, Error --> Failed.

use std::sync::Arc;

use stagewise::{
    spawn_handler_supervised, Actions, BoxError, ChainEvent, Control, ControlPolicy, Decision, Directive, Ending,
    ErrorKind, EventIds, EventVariant, HandlerSupervised, Journal, LifecycleRecord, Machine, MemoryJournal, Outputs,
    SpawnOptions, StageContext, StageId, StateVariant, Supervisor,
};
use tokio::sync::mpsc;

type Line = ChainEvent<String>;

#[derive(Debug, PartialEq)]
enum UppercaseState {
    Created,
    Initialized,
    Running,
    Draining,
    Drained,
    Failed(String),
}

impl StateVariant for UppercaseState {
    fn name(&self) -> &'static str {
        match self {
            UppercaseState::Created => "Created",
            UppercaseState::Initialized => "Initialized",
            UppercaseState::Running => "Running",
            UppercaseState::Draining => "Draining",
            UppercaseState::Drained => "Drained",
            UppercaseState::Failed(_) => "Failed",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            UppercaseState::Drained => Some(Ending::Completed),
            UppercaseState::Failed(_) => Some(Ending::Failed),
            _ => None,
        }
    }
    fn control_policy(&self) -> ControlPolicy {
        match self {
            UppercaseState::Created => ControlPolicy::Block,
            _ => ControlPolicy::Poll,
        }
    }
}

#[derive(Debug)]
enum UppercaseEvent {
    Start,
    Ready,
    Processed(Outputs<String>),
    Eof,
    Drain,
    Flushed,
    Error(String),
}

impl EventVariant for UppercaseEvent {
    fn name(&self) -> &'static str {
        match self {
            UppercaseEvent::Start => "Start",
            UppercaseEvent::Ready => "Ready",
            UppercaseEvent::Processed(_) => "Processed",
            UppercaseEvent::Eof => "Eof",
            UppercaseEvent::Drain => "Drain",
            UppercaseEvent::Flushed => "Flushed",
            UppercaseEvent::Error(_) => "Error",
        }
    }
}

#[derive(Debug)]
enum UppercaseAction {
    Announce,
    Forward(Outputs<String>),
    CloseOutput,
    ReportFailure(String),
}

struct UppercaseContext {
    output: Option<mpsc::Sender<Line>>,
    forwarded: u64,
}

impl stagewise::Action<UppercaseContext> for UppercaseAction {
    fn name(&self) -> &'static str {
        match self {
            UppercaseAction::Announce => "Announce",
            UppercaseAction::Forward(_) => "Forward",
            UppercaseAction::CloseOutput => "CloseOutput",
            UppercaseAction::ReportFailure(_) => "ReportFailure",
        }
    }

    async fn execute(self, ctx: &mut UppercaseContext) -> Result<(), BoxError> {
        match self {
            UppercaseAction::Announce => println!("  [uppercase] initialized"),
            UppercaseAction::Forward(events) => {
                let output = ctx.output.as_ref().ok_or("output already closed")?;
                for event in events {
                    output.send(event).await.map_err(|_| "downstream closed")?;
                    ctx.forwarded += 1;
                }
            }
            UppercaseAction::CloseOutput => ctx.output = None,
            UppercaseAction::ReportFailure(why) => eprintln!("  [uppercase] failed: {why}"),
        }
        Ok(())
    }
}

struct Uppercase {
    id: StageId,
    input: mpsc::Receiver<Line>,
}

impl Machine for Uppercase {
    type State = UppercaseState;
    type Event = UppercaseEvent;
    type Context = UppercaseContext;
    type Action = UppercaseAction;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(
        state: &UppercaseState,
        event: UppercaseEvent,
        _ctx: &mut UppercaseContext,
    ) -> Decision<UppercaseState, UppercaseAction> {
        use UppercaseAction as A;
        use UppercaseEvent as E;
        use UppercaseState as S;
        match (state, event) {
            (S::Failed(_), E::Error(_)) => Decision::stay_with([]),
            (_, E::Error(why)) => Decision::goto_with(S::Failed(why.clone()), [A::ReportFailure(why), A::CloseOutput]),
            (S::Created, E::Start) => Decision::goto(S::Initialized),
            (S::Initialized, E::Ready) => Decision::goto(S::Running),
            (S::Running, E::Processed(events)) => Decision::stay_with([A::Forward(events)]),
            (S::Running, E::Eof | E::Drain) => Decision::goto(S::Draining),
            (S::Draining, E::Flushed) => Decision::goto_with(S::Drained, [A::CloseOutput]),
            _ => Decision::Unhandled,
        }
    }

    fn on_entry(state: &UppercaseState, actions: &mut Actions<UppercaseAction>) {
        if *state == UppercaseState::Initialized {
            actions.push(UppercaseAction::Announce);
        }
    }

    fn control_event(control: Control) -> Option<UppercaseEvent> {
        match control {
            Control::Start => Some(UppercaseEvent::Start),
            Control::Drain => Some(UppercaseEvent::Drain),
            Control::Stop => Some(UppercaseEvent::Error("stopped".into())),
            // A control message added later: ignored (with a debug log) until this stage knows what it means.
            _ => None,
        }
    }
}

impl Supervisor for Uppercase {
    fn name(&self) -> &'static str {
        "uppercase"
    }
    async fn dispatch_state(
        &mut self,
        state: &UppercaseState,
        _ctx: &mut UppercaseContext,
    ) -> Result<Directive<UppercaseEvent>, BoxError> {
        Ok(match state {
            // Blocks on the control channel; the loop never dispatches here.
            UppercaseState::Created => Directive::Continue,
            UppercaseState::Initialized => Directive::Transition(UppercaseEvent::Ready),
            UppercaseState::Running => match self.input.recv().await {
                Some(line) => {
                    Directive::Transition(UppercaseEvent::Processed(self.run_if_not_error(line, |mut line| {
                        line.payload = line.payload.to_uppercase();
                        Outputs::from_iter([line])
                    })))
                }
                None => Directive::Transition(UppercaseEvent::Eof),
            },
            UppercaseState::Draining => Directive::Transition(UppercaseEvent::Flushed),
            UppercaseState::Drained | UppercaseState::Failed(_) => Directive::Terminate,
        })
    }

    fn event_for_action_error(&self, message: String) -> UppercaseEvent {
        UppercaseEvent::Error(message)
    }
}

impl HandlerSupervised for Uppercase {
    fn stage_id(&self) -> StageId {
        self.id
    }
}

#[tokio::main]
async fn main() {
    let (to_stage, input) = mpsc::channel(8);
    let (output, mut from_stage) = mpsc::channel(8);
    let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let stage = Uppercase { id: StageId(1), input };
    let ctx = UppercaseContext { output: Some(output), forwarded: 0 };
    let options = SpawnOptions::default().journal(journal.clone());
    let mut handle = spawn_handler_supervised(stage, UppercaseState::Created, ctx, options);

    let mut states = handle.subscribe();
    let watcher = tokio::spawn(async move {
        while states.changed().await.is_ok() {
            println!("  [watch] state -> {}", states.borrow_and_update().name);
        }
    });

    let source = tokio::spawn(async move {
        let mut ids = EventIds::new(StageId(0).into());
        let context = StageContext::new(StageId(0), "source");
        for text in ["hello", "supervised", "world"] {
            to_stage.send(ChainEvent::new(ids.next_id(), context.clone(), text.to_owned())).await.unwrap();
        }
        let bad = ChainEvent::new(ids.next_id(), context.clone(), "\u{fffd}garbled".to_owned())
            .into_error(ErrorKind::Parse, "upstream could not decode this line");
        to_stage.send(bad).await.unwrap();
        // Dropping the sender is end of stream.
    });

    println!("uppercase stage spawned in state {}; sending Start", handle.state().name);
    handle.send(Control::Start).await.expect("stage is running");
    source.await.unwrap();

    while let Some(event) = from_stage.recv().await {
        match &event.status {
            stagewise::ProcessingStatus::Success => println!("  [out] {}", event.payload),
            stagewise::ProcessingStatus::Error { message, .. } => {
                println!("  [out] passed through untouched, status error: {message}");
            }
        }
    }

    let outcome = handle.outcome().await.expect("the stage ends without escalating");
    watcher.await.unwrap();
    println!("outcome: {outcome}");
    println!("lifecycle journal:");
    for record in journal.read_from(0).expect("memory journal reads") {
        println!("  {record}");
    }
}
