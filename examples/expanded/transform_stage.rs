// @generated from examples/transform_stage.rs by tests/expanded.rs: the stagewise macros expanded, nothing else.
// Not compiled. Refresh with `STAGEWISE_BLESS=1 cargo test --test expanded`.

//! A transform stage written with `#[handler_supervised]`: the six-state supervisor of the reference (Created,
//! Initialized, Running, Draining, Drained, Failed) upper-casing lines between two channels.
//!
//! Run with `cargo run --example transform_stage`.
use stagewise::{
    spawn_handler_supervised, Action, BoxError, ChainEvent, Control, Decision, Directive,
    ErrorKind, EventIds, EventVariant, Lifecycle, SpawnOptions, Stage, StageContext,
    StageId, StateVariant, VariantName, WriterId,
};
use tokio::sync::mpsc::{channel, Receiver, Sender};
#[derive(Clone, Debug, PartialEq)]
pub enum UppercaseState {
    Created,
    Initialized,
    Running,
    Draining,
    Drained,
    Failed(String),
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::StateVariant for UppercaseState {
    fn name(&self) -> &'static str {
        match self {
            UppercaseState::Created { .. } => "Created",
            UppercaseState::Initialized { .. } => "Initialized",
            UppercaseState::Running { .. } => "Running",
            UppercaseState::Draining { .. } => "Draining",
            UppercaseState::Drained { .. } => "Drained",
            UppercaseState::Failed { .. } => "Failed",
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            UppercaseState::Created { .. } => ::core::option::Option::None,
            UppercaseState::Initialized { .. } => ::core::option::Option::None,
            UppercaseState::Running { .. } => ::core::option::Option::None,
            UppercaseState::Draining { .. } => ::core::option::Option::None,
            UppercaseState::Drained { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            UppercaseState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            UppercaseState::Created { .. } => {
                ::stagewise::__private::ControlPolicy::Block
            }
            UppercaseState::Initialized { .. } => {
                ::stagewise::__private::ControlPolicy::Poll
            }
            UppercaseState::Running { .. } => ::stagewise::__private::ControlPolicy::Poll,
            UppercaseState::Draining { .. } => {
                ::stagewise::__private::ControlPolicy::Poll
            }
            UppercaseState::Drained { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
            UppercaseState::Failed { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl UppercaseState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = UppercaseState::Created;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Created\n    Created --> Initialized: Initialize\n    Initialized --> Running: Ready\n    Running --> Running: Line / Uppercase::on_line()\n    Running --> Draining: Eof, BeginDrain\n    Draining --> Drained: DrainComplete\n    Drained --> [*]\n    Failed --> [*]\n    %% generated: the failure transition from every state\n    Created --> Failed: Error (failure)\n    Initialized --> Failed: Error (failure)\n    Running --> Failed: Error (failure)\n    Draining --> Failed: Error (failure)\n    Drained --> Failed: Error (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Machine for Uppercase {
    type State = UppercaseState;
    type Event = Ev;
    type Context = Ctx;
    type Action = Act;
    fn transition(
        state: &Self::State,
        event: Self::Event,
        ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<Self::State, Self::Action> {
        match (state, event) {
            (UppercaseState::Created { .. }, Ev::Initialize { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    UppercaseState::Initialized,
                    [Act::Allocate],
                )
            }
            (UppercaseState::Initialized { .. }, Ev::Ready { .. }) => {
                ::stagewise::__private::Decision::goto(UppercaseState::Running)
            }
            (UppercaseState::Running { .. }, event @ Ev::Line { .. }) => {
                let decision: ::stagewise::__private::Decision<
                    Self::State,
                    Self::Action,
                > = Uppercase::on_line(state, event, ctx);
                #[cfg(debug_assertions)]
                ::stagewise::__private::check_target(
                    &decision,
                    |next| ::core::matches!(next, UppercaseState::Running { .. }),
                    "Uppercase::on_line",
                );
                decision
            }
            (UppercaseState::Running { .. }, Ev::Eof { .. } | Ev::BeginDrain { .. }) => {
                ::stagewise::__private::Decision::goto(UppercaseState::Draining)
            }
            (UppercaseState::Draining { .. }, Ev::DrainComplete { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    UppercaseState::Drained,
                    [Act::ForwardEof, Act::Cleanup],
                )
            }
            (UppercaseState::Failed { .. }, Ev::Error { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (_, Ev::Error(message)) => {
                ::stagewise::__private::Decision::goto_with(
                    UppercaseState::Failed(message),
                    [Act::ReportFailure, Act::Cleanup],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn control_event(
        control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(Ev::Initialize)
            }
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(Ev::BeginDrain)
            }
            ::stagewise::__private::Control::Stop => ::core::option::Option::None,
        }
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Supervisor for Uppercase {
    fn name(&self) -> &'static str {
        "Uppercase"
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::HandlerSupervised for Uppercase {
    fn dispatch_state(
        &mut self,
        state: &Self::State,
        ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::stagewise::__private::Directive<Self::Event>,
            ::stagewise::__private::BoxError,
        >,
    > + ::core::marker::Send {
        async move {
            match state {
                UppercaseState::Created { .. } => ::core::future::pending().await,
                UppercaseState::Initialized { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Transition(Ev::Ready),
                    )
                }
                UppercaseState::Running { .. } => {
                    ::stagewise::__private::dispatch_result(
                        Uppercase::next_line(self, ctx).await,
                    )
                }
                UppercaseState::Draining { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Transition(Ev::DrainComplete),
                    )
                }
                UppercaseState::Drained { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                UppercaseState::Failed { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
            }
        }
    }
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
    fn event_for_action_error(
        &self,
        message: ::stagewise::__private::String,
    ) -> Self::Event {
        Ev::Error(message)
    }
}
pub struct Uppercase {
    #[stage_id]
    id: StageId,
    input: Receiver<ChainEvent<String>>,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Uppercase {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Uppercase {
    /// Waits for the next input line; the end of the input becomes `Eof`.
    async fn next_line(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Ok(Directive::Transition(self.input.recv().await.map_or(Ev::Eof, Ev::Line)))
    }
    /// Upper-cases a line; an event that already failed upstream passes through untouched.
    fn on_line(
        _state: &UppercaseState,
        event: Ev,
        _ctx: &mut Ctx,
    ) -> Decision<UppercaseState, Act> {
        let Ev::Line(mut line) = event else { return Decision::Unhandled };
        if !line.is_error() {
            line.payload = line.payload.to_uppercase();
        }
        Decision::stay_with([Act::Emit(line)])
    }
}
#[derive(Debug)]
pub enum Ev {
    Initialize,
    Ready,
    Line(ChainEvent<String>),
    Eof,
    BeginDrain,
    DrainComplete,
    Error(String),
}
#[automatically_derived]
impl ::stagewise::__private::EventVariant for Ev {
    fn name(&self) -> &'static str {
        match self {
            Ev::Initialize { .. } => "Initialize",
            Ev::Ready { .. } => "Ready",
            Ev::Line { .. } => "Line",
            Ev::Eof { .. } => "Eof",
            Ev::BeginDrain { .. } => "BeginDrain",
            Ev::DrainComplete { .. } => "DrainComplete",
            Ev::Error { .. } => "Error",
        }
    }
}
#[derive(Debug)]
pub enum Act {
    Allocate,
    Emit(ChainEvent<String>),
    ForwardEof,
    Cleanup,
    ReportFailure,
}
#[automatically_derived]
#[allow(dead_code)]
impl Act {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            Act::Allocate { .. } => "Allocate",
            Act::Emit { .. } => "Emit",
            Act::ForwardEof { .. } => "ForwardEof",
            Act::Cleanup { .. } => "Cleanup",
            Act::ReportFailure { .. } => "ReportFailure",
        }
    }
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
                ctx.output = None;
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
    let ctx = Ctx {
        output: Some(output),
        ids: EventIds::new(WriterId::Stage(id)),
        emitted: 0,
    };
    let mut handle = spawn_handler_supervised(
        stage,
        UppercaseState::INITIAL,
        ctx,
        SpawnOptions::default(),
    );
    handle.send(Control::Start).await.expect("stage is running");
    let mut upstream = EventIds::new(WriterId::Stage(StageId(1)));
    let source = StageContext::new(StageId(1), "lines");
    for (i, text) in ["hello", "malformed", "world"].into_iter().enumerate() {
        let mut event = ChainEvent::new(
            upstream.next_id(),
            source.clone(),
            text.to_owned(),
        );
        if i == 1 {
            event = event.into_error(ErrorKind::Parse, "not a line");
        }
        to_stage.send(event).await.expect("stage reads its input");
    }
    drop(to_stage);
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
