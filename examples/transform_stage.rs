//! The six-state transform stage of `hand_written.rs`, written with `#[handler_supervised]`: same states, events,
//! actions, control mapping, failure path and behaviour; the macro writes the supervisor from the annotated enum.
//! Run: `cargo run --example transform_stage`.
//!
//! Created --Start--> Initialized --Ready--> Running --Eof--> Draining --Flushed--> Drained
//! and from every state, Error --> Failed.

use std::sync::Arc;

use stagewise::{
    spawn_handler_supervised, BoxError, ChainEvent, Control, Directive, ErrorKind, EventIds, EventVariant,
    HandlerSupervised, Journal, LifecycleRecord, MemoryJournal, Outputs, SpawnOptions, Stage, StageContext, StageId,
    VariantName,
};
use tokio::sync::mpsc;

type Line = ChainEvent<String>;

#[stagewise::handler_supervised(
    stage = Uppercase, event = UppercaseEvent, action = UppercaseAction, context = UppercaseContext,
    failure = UppercaseEvent::Error,
    on_failure = [UppercaseAction::ReportFailure(message), UppercaseAction::CloseOutput],
    control(start = UppercaseEvent::Start, drain = UppercaseEvent::Drain, stop = UppercaseEvent::Error("stopped".into())),
)]
#[derive(Debug, PartialEq)]
enum UppercaseState {
    #[initial]
    #[on(UppercaseEvent::Start => Initialized)]
    Created,
    #[entry(UppercaseAction::Announce)]
    #[dispatch(emit = UppercaseEvent::Ready)]
    #[on(UppercaseEvent::Ready => Running)]
    Initialized,
    #[dispatch(Uppercase::next_line)]
    #[on(UppercaseEvent::Processed(events) => stay, actions = [UppercaseAction::Forward(events)])]
    #[on(UppercaseEvent::Eof | UppercaseEvent::Drain => Draining)]
    Running,
    #[dispatch(emit = UppercaseEvent::Flushed)]
    #[on(UppercaseEvent::Flushed => Drained, actions = [UppercaseAction::CloseOutput])]
    Draining,
    #[terminal]
    Drained,
    #[failed]
    Failed(String),
}

#[derive(Debug, EventVariant)]
enum UppercaseEvent {
    Start,
    Ready,
    Processed(Outputs<String>),
    Eof,
    Drain,
    Flushed,
    Error(String),
}

#[derive(Debug, VariantName)]
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
        self.variant_name()
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

#[derive(Stage)]
struct Uppercase {
    id: StageId,
    input: mpsc::Receiver<Line>,
}

impl Uppercase {
    async fn next_line(&mut self, _ctx: &mut UppercaseContext) -> Result<Directive<UppercaseEvent>, BoxError> {
        Ok(match self.input.recv().await {
            Some(line) => Directive::Transition(UppercaseEvent::Processed(self.run_if_not_error(line, |mut line| {
                line.payload = line.payload.to_uppercase();
                Outputs::from_iter([line])
            }))),
            None => Directive::Transition(UppercaseEvent::Eof),
        })
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
    let mut handle = spawn_handler_supervised(stage, UppercaseState::INITIAL, ctx, options);

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

    let mut seen = Vec::new();
    while let Some(event) = from_stage.recv().await {
        match &event.status {
            stagewise::ProcessingStatus::Success => println!("  [out] {}", event.payload),
            stagewise::ProcessingStatus::Error { message, .. } => {
                println!("  [out] passed through untouched, status error: {message}");
            }
        }
        seen.push(event.payload);
    }

    let outcome = handle.outcome().await.expect("the stage ends without escalating");
    watcher.await.unwrap();
    println!("outcome: {outcome}");
    println!("lifecycle journal:");
    for record in journal.read_from(0).expect("memory journal reads") {
        println!("  {record}");
    }
    assert_eq!(seen, ["HELLO", "SUPERVISED", "WORLD", "\u{fffd}garbled"]);
    assert_eq!(outcome.lifecycle, stagewise::Lifecycle::Completed);
    println!("\n{}", UppercaseState::MERMAID);
}
