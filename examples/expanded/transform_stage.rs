// @generated from examples/transform_stage.rs by tests/expanded.rs: the stagewise macros expanded, nothing else.
// Not compiled. Refresh with `STAGEWISE_BLESS=1 cargo test --test expanded`.

//! The six-state transform stage of `hand_written.rs`, written with `#[handler_supervised]`: same states, events,
//! actions, control mapping, failure path and behaviour; the macro writes the supervisor from the annotated enum.
//! Run: `cargo run --example transform_stage`.
//!
//! Created --Start--> Initialized --Ready--> Running --Eof--> Draining --Flushed--> Drained
//! and from every state, Error --> Failed.
use std::sync::Arc;
use stagewise::{
    spawn_handler_supervised, BoxError, ChainEvent, Control, Directive, ErrorKind,
    EventIds, EventVariant, HandlerSupervised, Journal, LifecycleRecord, MemoryJournal,
    Outputs, SpawnOptions, Stage, StageContext, StageId, VariantName,
};
use tokio::sync::mpsc;
type Line = ChainEvent<String>;
#[derive(Debug, PartialEq)]
/**
<pre class="mermaid">
flowchart TD
    s_Created(["Created"])
    s_Initialized(["Initialized"])
    s_Running(["Running"])
    s_Draining(["Draining"])
    s_Drained(["Drained"])
    s_Failed(["Failed"])
    start_((" ")) --&gt; s_Created
    s_Created --&gt;|"Start"| s_Initialized
    s_Initialized --&gt;|"Ready"| s_Running
    s_Running --&gt;|"Processed (stay)"| s_Running
    s_Running --&gt;|"Eof, Drain"| s_Draining
    s_Draining --&gt;|"Flushed"| s_Drained
    s_Created -.-&gt;|"Error (failure)"| s_Failed
    s_Initialized -.-&gt;|"Error (failure)"| s_Failed
    s_Running -.-&gt;|"Error (failure)"| s_Failed
    s_Draining -.-&gt;|"Error (failure)"| s_Failed
    s_Drained --&gt; stop_((" "))
    s_Failed --&gt; stop_((" "))
    classDef failure fill:#fde2e2,stroke:#c0392b
    class s_Failed failure
</pre>

The states of this machine as `#[handler_supervised]` reads them: solid edges are declared transitions, dashed ones the generated failure transitions.*/
enum UppercaseState {
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
    fn failure_message(&self) -> ::core::option::Option<&str> {
        match self {
            UppercaseState::Failed(message, ..) => {
                ::core::option::Option::Some(message.as_str())
            }
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
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
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Created\n    Created --> Initialized: Start\n    Initialized --> Running: Ready\n    Running --> Running: Processed (stay)\n    Running --> Draining: Eof, Drain\n    Draining --> Drained: Flushed\n    Drained --> [*]\n    Failed --> [*]\n    %% generated: the failure transition from every state that is not terminal\n    Created --> Failed: Error (failure)\n    Initialized --> Failed: Error (failure)\n    Running --> Failed: Error (failure)\n    Draining --> Failed: Error (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
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
    type Event = UppercaseEvent;
    type Context = UppercaseContext;
    type Action = UppercaseAction;
    type ActionCapacity = ::stagewise::__private::DefaultCapacity;
    fn transition(
        __state: &Self::State,
        __event: Self::Event,
        __ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<
        Self::State,
        Self::Action,
        Self::ActionCapacity,
    > {
        type __Failure = <UppercaseEvent as ::stagewise::__private::CheckedFailure<
            {
                let _ = |__event: UppercaseEvent| match __event {
                    UppercaseEvent::Error(__field) => {
                        let _ = __field;
                    }
                    _ => {}
                };
                0
            },
        >>::Out;
        match (__state, __event) {
            (UppercaseState::Created { .. }, UppercaseEvent::Start { .. }) => {
                ::stagewise::__private::Decision::goto(UppercaseState::Initialized)
            }
            (UppercaseState::Initialized { .. }, UppercaseEvent::Ready { .. }) => {
                ::stagewise::__private::Decision::goto(UppercaseState::Running)
            }
            (UppercaseState::Running { .. }, UppercaseEvent::Processed(events)) => {
                ::stagewise::__private::Decision::stay_with([
                    {
                        let __action: Self::Action = UppercaseAction::Forward(events);
                        __action
                    },
                ])
            }
            (
                UppercaseState::Running { .. },
                UppercaseEvent::Eof { .. } | UppercaseEvent::Drain { .. },
            ) => ::stagewise::__private::Decision::goto(UppercaseState::Draining),
            (UppercaseState::Draining { .. }, UppercaseEvent::Flushed { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    UppercaseState::Drained,
                    [
                        {
                            let __action: Self::Action = UppercaseAction::CloseOutput;
                            __action
                        },
                    ],
                )
            }
            (UppercaseState::Failed { .. }, __Failure::Error(..)) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (_, __event @ __Failure::Error(..)) => {
                let message: ::stagewise::__private::String = ::stagewise::__private::failure_codec(
                        __Failure::Error,
                        |__event| match __event {
                            __Failure::Error(__field) => __field,
                            _ => ::core::unreachable!("the failure event"),
                        },
                    )
                    .take(__event);
                let next = UppercaseState::Failed(
                    <String as ::stagewise::__private::FailedStateField>::from_failure(
                        ::core::clone::Clone::clone(&message),
                    ),
                );
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [
                        {
                            let __action: Self::Action = UppercaseAction::ReportFailure(
                                message,
                            );
                            __action
                        },
                        {
                            let __action: Self::Action = UppercaseAction::CloseOutput;
                            __action
                        },
                    ],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn on_entry(
        __state: &Self::State,
        __actions: &mut ::stagewise::__private::ActionsOf<Self>,
    ) {
        match __state {
            UppercaseState::Initialized { .. } => {
                let __action: Self::Action = UppercaseAction::Announce;
                __actions.push(__action);
            }
            _ => {}
        }
    }
    fn control_event(
        __control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match __control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(UppercaseEvent::Start)
            }
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(UppercaseEvent::Drain)
            }
            ::stagewise::__private::Control::Stop => {
                ::core::option::Option::Some(UppercaseEvent::Error("stopped".into()))
            }
            _ => ::core::option::Option::None,
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
        "uppercase"
    }
    fn dispatch_state(
        &mut self,
        __state: &Self::State,
        __ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::stagewise::__private::Directive<Self::Event>,
            ::stagewise::__private::BoxError,
        >,
    > + ::core::marker::Send {
        async move {
            let __stage = self;
            match __state {
                UppercaseState::Created { .. } => ::core::future::pending().await,
                UppercaseState::Initialized { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Transition({
                            let __emitted: Self::Event = UppercaseEvent::Ready;
                            __emitted
                        }),
                    )
                }
                UppercaseState::Running { .. } => {
                    ::stagewise::__private::dispatched(
                        ::stagewise::__private::dispatch::<
                            Self,
                            Self::Context,
                            Self::Event,
                            _,
                        >(Uppercase::next_line, __stage, __ctx)
                            .await,
                    )
                }
                UppercaseState::Draining { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Transition({
                            let __emitted: Self::Event = UppercaseEvent::Flushed;
                            __emitted
                        }),
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
    fn event_for_action_error(
        &self,
        __message: ::stagewise::__private::String,
    ) -> Self::Event {
        type __Failure = <UppercaseEvent as ::stagewise::__private::CheckedFailure<
            {
                let _ = |__event: UppercaseEvent| match __event {
                    UppercaseEvent::Error(__field) => {
                        let _ = __field;
                    }
                    _ => {}
                };
                0
            },
        >>::Out;
        ::stagewise::__private::failure_codec(
                __Failure::Error,
                |__event| match __event {
                    __Failure::Error(__field) => __field,
                    _ => ::core::unreachable!("the failure event"),
                },
            )
            .make(__message)
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
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
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
#[automatically_derived]
impl ::stagewise::__private::EventVariant for UppercaseEvent {
    fn name(&self) -> &'static str {
        match self {
            UppercaseEvent::Start { .. } => "Start",
            UppercaseEvent::Ready { .. } => "Ready",
            UppercaseEvent::Processed { .. } => "Processed",
            UppercaseEvent::Eof { .. } => "Eof",
            UppercaseEvent::Drain { .. } => "Drain",
            UppercaseEvent::Flushed { .. } => "Flushed",
            UppercaseEvent::Error { .. } => "Error",
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
#[automatically_derived]
#[allow(dead_code)]
impl UppercaseAction {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            UppercaseAction::Announce { .. } => "Announce",
            UppercaseAction::Forward { .. } => "Forward",
            UppercaseAction::CloseOutput { .. } => "CloseOutput",
            UppercaseAction::ReportFailure { .. } => "ReportFailure",
        }
    }
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
            UppercaseAction::ReportFailure(why) => {
                eprintln!("  [uppercase] failed: {why}")
            }
        }
        Ok(())
    }
}
struct Uppercase {
    id: StageId,
    input: mpsc::Receiver<Line>,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Uppercase {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Uppercase {
    async fn next_line(
        &mut self,
        _ctx: &mut UppercaseContext,
    ) -> Result<Directive<UppercaseEvent>, BoxError> {
        Ok(
            match self.input.recv().await {
                Some(line) => {
                    Directive::Transition(
                        UppercaseEvent::Processed(
                            self
                                .run_if_not_error(
                                    line,
                                    |mut line| {
                                        line.payload = line.payload.to_uppercase();
                                        Outputs::from_iter([line])
                                    },
                                ),
                        ),
                    )
                }
                None => Directive::Transition(UppercaseEvent::Eof),
            },
        )
    }
}
#[tokio::main]
async fn main() {
    let (to_stage, input) = mpsc::channel(8);
    let (output, mut from_stage) = mpsc::channel(8);
    let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let stage = Uppercase { id: StageId(1), input };
    let ctx = UppercaseContext {
        output: Some(output),
        forwarded: 0,
    };
    let options = SpawnOptions::default().journal(journal.clone());
    let mut handle = spawn_handler_supervised(
        stage,
        UppercaseState::INITIAL,
        ctx,
        options,
    );
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
            to_stage
                .send(ChainEvent::new(ids.next_id(), context.clone(), text.to_owned()))
                .await
                .unwrap();
        }
        let bad = ChainEvent::new(
                ids.next_id(),
                context.clone(),
                "\u{fffd}garbled".to_owned(),
            )
            .into_error(ErrorKind::Parse, "upstream could not decode this line");
        to_stage.send(bad).await.unwrap();
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
