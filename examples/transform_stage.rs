//! A transform stage written with `#[handler_supervised]`: the six-state supervisor of the reference (Created,
//! Initialized, Running, Draining, Drained, Failed) upper-casing lines between two channels.
//!
//! Run with `cargo run --example transform_stage`.

use stagewise::{
    spawn_handler_supervised, Action, BoxError, ChainEvent, Control, Decision, Directive, ErrorKind, EventIds,
    EventVariant, Lifecycle, SpawnOptions, Stage, StageContext, StageId, StateVariant, VariantName, WriterId,
};
use tokio::sync::mpsc::{channel, Receiver, Sender};

// --- the supervisor: states, transitions, control and failure policy, in one place ------------------------------

#[stagewise::handler_supervised(
    stage = Uppercase, event = Ev, action = Act, context = Ctx,
    failure = Ev::Error,
    on_failure = [Act::ReportFailure, Act::Cleanup],
    control(start = Ev::Initialize, drain = Ev::BeginDrain),
)]
#[derive(Clone, Debug, PartialEq)]
pub enum UppercaseState {
    #[initial]
    #[control(block)]
    #[on(Ev::Initialize => Initialized, actions = [Act::Allocate])]
    Created,
    #[dispatch(emit = Ev::Ready)]
    #[on(Ev::Ready => Running)]
    Initialized,
    #[dispatch(Uppercase::next_line)]
    #[on(Ev::Line => Uppercase::on_line, to = [Running])]
    #[on(Ev::Eof | Ev::BeginDrain => Draining)]
    Running,
    #[dispatch(emit = Ev::DrainComplete)]
    #[on(Ev::DrainComplete => Drained, actions = [Act::ForwardEof, Act::Cleanup])]
    Draining,
    #[terminal]
    Drained,
    #[failed]
    Failed(String),
}

#[derive(Stage)]
pub struct Uppercase {
    #[stage_id]
    id: StageId,
    input: Receiver<ChainEvent<String>>,
}

// --- the stage's own work: what Running does each turn, and how a line is transformed ---------------------------

impl Uppercase {
    /// Waits for the next input line; the end of the input becomes `Eof`.
    async fn next_line(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Ok(Directive::Transition(self.input.recv().await.map_or(Ev::Eof, Ev::Line)))
    }

    /// Upper-cases a line; an event that already failed upstream passes through untouched.
    fn on_line(_state: &UppercaseState, event: Ev, _ctx: &mut Ctx) -> Decision<UppercaseState, Act> {
        let Ev::Line(mut line) = event else { return Decision::Unhandled };
        if !line.is_error() {
            line.payload = line.payload.to_uppercase();
        }
        Decision::stay_with([Act::Emit(line)])
    }
}

// --- events, actions and context: the stage's domain types -------------------------------------------------------

#[derive(Debug, EventVariant)]
pub enum Ev {
    Initialize,
    Ready,
    Line(ChainEvent<String>),
    Eof,
    BeginDrain,
    DrainComplete,
    Error(String),
}

#[derive(Debug, VariantName)]
pub enum Act {
    Allocate,
    Emit(ChainEvent<String>),
    ForwardEof,
    Cleanup,
    ReportFailure,
}

pub struct Ctx {
    output: Option<Sender<ChainEvent<String>>>,
    ids: EventIds,
    emitted: u64,
}

impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Allocate | Act::Cleanup => Ok(()),
            Act::Emit(mut line) => {
                line.id = ctx.ids.next_id();
                ctx.emitted += 1;
                let output = ctx.output.as_ref().ok_or("output already closed")?;
                output.send(line).await.map_err(|_| "downstream hung up")?;
                Ok(())
            }
            Act::ForwardEof => {
                ctx.output = None; // dropping the sender is end-of-stream downstream
                Ok(())
            }
            Act::ReportFailure => {
                eprintln!("uppercase failed after {} lines", ctx.emitted);
                Ok(())
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let (to_stage, input) = channel(8);
    let (output, mut from_stage) = channel(8);
    let id = StageId(2);
    let stage = Uppercase { id, input };
    let ctx = Ctx { output: Some(output), ids: EventIds::new(WriterId::Stage(id)), emitted: 0 };
    let mut handle = spawn_handler_supervised(stage, UppercaseState::INITIAL, ctx, SpawnOptions::default());
    handle.send(Control::Start).await.expect("stage is running");

    let mut upstream = EventIds::new(WriterId::Stage(StageId(1)));
    let source = StageContext::new(StageId(1), "lines");
    for (i, text) in ["hello", "malformed", "world"].into_iter().enumerate() {
        let mut event = ChainEvent::new(upstream.next_id(), source.clone(), text.to_owned());
        if i == 1 {
            event = event.into_error(ErrorKind::Parse, "not a line");
        }
        to_stage.send(event).await.expect("stage reads its input");
    }
    drop(to_stage); // end of input: Running -> Draining -> Drained

    let mut lines = Vec::new();
    while let Some(event) = from_stage.recv().await {
        lines.push(event.payload);
    }
    let record = handle.outcome().await.expect("no escalation");
    println!("{lines:?}");
    println!("{record}");
    assert_eq!(lines, ["HELLO", "malformed", "WORLD"]);
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(handle.state().name, UppercaseState::Drained.name());
    println!("{}", UppercaseState::MERMAID);
}
