// @generated from examples/source_stage.rs by tests/expanded.rs: the stagewise macros expanded, nothing else.
// Not compiled. Refresh with `STAGEWISE_BLESS=1 cargo test --test expanded`.

//! A source stage written with `#[handler_supervised]`: it waits for Start (or gives up after a timeout), writes
//! numbered lines downstream, and completes when it has none left; Stop cancels it.
//!
//! Run with `cargo run --example source_stage`.
use stagewise::{
    spawn_handler_supervised, Action, BoxError, ChainEvent, Control, Directive, EventIds,
    EventVariant, Lifecycle, SpawnOptions, Stage, StageContext, StageId, VariantName,
    WriterId,
};
use tokio::sync::mpsc::{channel, Sender};
#[derive(Clone, Debug, PartialEq)]
/**
<pre class="mermaid">
flowchart TD
    s_Created(["Created"])
    s_Reading(["Reading"])
    s_Done(["Done"])
    s_Stopped(["Stopped"])
    s_Failed(["Failed"])
    start_((" ")) --&gt; s_Created
    s_Created --&gt;|"Start"| s_Reading
    s_Created --&gt;|"Stop"| s_Stopped
    s_Reading --&gt;|"Read (stay)"| s_Reading
    s_Reading --&gt;|"Exhausted"| s_Done
    s_Reading --&gt;|"Stop"| s_Stopped
    s_Created -.-&gt;|"Error (failure)"| s_Failed
    s_Reading -.-&gt;|"Error (failure)"| s_Failed
    s_Done --&gt; stop_((" "))
    s_Stopped --&gt; stop_((" "))
    s_Failed --&gt; stop_((" "))
    classDef failure fill:#fde2e2,stroke:#c0392b
    class s_Failed failure
</pre>

The states of this machine as `#[handler_supervised]` reads them: solid edges are declared transitions, dashed ones the generated failure transitions.*/
pub enum LinesState {
    Created,
    Reading,
    Done,
    Stopped,
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
impl ::stagewise::__private::StateVariant for LinesState {
    fn name(&self) -> &'static str {
        match self {
            LinesState::Created { .. } => "Created",
            LinesState::Reading { .. } => "Reading",
            LinesState::Done { .. } => "Done",
            LinesState::Stopped { .. } => "Stopped",
            LinesState::Failed { .. } => "Failed",
        }
    }
    fn failure_message(&self) -> ::core::option::Option<&str> {
        match self {
            LinesState::Failed(message, ..) => {
                ::core::option::Option::Some(message.as_str())
            }
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            LinesState::Created { .. } => ::core::option::Option::None,
            LinesState::Reading { .. } => ::core::option::Option::None,
            LinesState::Done { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            LinesState::Stopped { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Cancelled)
            }
            LinesState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            LinesState::Created { .. } => ::stagewise::__private::ControlPolicy::Block,
            LinesState::Reading { .. } => ::stagewise::__private::ControlPolicy::Poll,
            LinesState::Done { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            LinesState::Stopped { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            LinesState::Failed { .. } => ::stagewise::__private::ControlPolicy::Ignore,
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl LinesState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = LinesState::Created;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Created\n    Created --> Reading: Start\n    Created --> Stopped: Stop\n    Reading --> Reading: Read (stay)\n    Reading --> Done: Exhausted\n    Reading --> Stopped: Stop\n    Done --> [*]\n    Stopped --> [*]\n    Failed --> [*]\n    %% generated: the failure transition from every state that is not terminal\n    Created --> Failed: Error (failure)\n    Reading --> Failed: Error (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
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
impl ::stagewise::__private::Machine for Lines {
    type State = LinesState;
    type Event = Ev;
    type Context = Ctx;
    type Action = Act;
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
        type __Failure = <Ev as ::stagewise::__private::CheckedFailure<
            {
                let _ = |__event: Ev| match __event {
                    Ev::Error(__field) => {
                        let _ = __field;
                    }
                    _ => {}
                };
                0
            },
        >>::Out;
        match (__state, __event) {
            (LinesState::Created { .. }, Ev::Start { .. }) => {
                ::stagewise::__private::Decision::goto(LinesState::Reading)
            }
            (LinesState::Created { .. }, Ev::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(LinesState::Stopped)
            }
            (LinesState::Reading { .. }, Ev::Read(line)) => {
                ::stagewise::__private::Decision::stay_with([
                    {
                        let __action: Self::Action = Act::Write(line);
                        __action
                    },
                ])
            }
            (LinesState::Reading { .. }, Ev::Exhausted { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    LinesState::Done,
                    [
                        {
                            let __action: Self::Action = Act::CloseOutput;
                            __action
                        },
                    ],
                )
            }
            (LinesState::Reading { .. }, Ev::Stop { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    LinesState::Stopped,
                    [
                        {
                            let __action: Self::Action = Act::CloseOutput;
                            __action
                        },
                    ],
                )
            }
            (LinesState::Failed { .. }, __Failure::Error(..)) => {
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
                let next = LinesState::Failed(
                    <String as ::stagewise::__private::FailedStateField>::from_failure(
                        message,
                    ),
                );
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [
                        {
                            let __action: Self::Action = Act::CloseOutput;
                            __action
                        },
                    ],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn timeout(
        __state: &Self::State,
    ) -> ::core::option::Option<::stagewise::__private::StateTimeout<Self::Event>> {
        match __state {
            LinesState::Created { .. } => {
                ::core::option::Option::Some(::stagewise::__private::StateTimeout {
                    after: ::core::time::Duration::from_millis(5000u64),
                    event: Ev::Stop,
                })
            }
            _ => ::core::option::Option::None,
        }
    }
    fn control_event(
        __control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match __control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(Ev::Start)
            }
            ::stagewise::__private::Control::Drain => ::core::option::Option::None,
            ::stagewise::__private::Control::Stop => {
                ::core::option::Option::Some(Ev::Stop)
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
impl ::stagewise::__private::Supervisor for Lines {
    fn name(&self) -> &'static str {
        "lines"
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
                LinesState::Created { .. } => ::core::future::pending().await,
                LinesState::Reading { .. } => {
                    ::stagewise::__private::dispatched(
                        ::stagewise::__private::dispatch::<
                            Self,
                            Self::Context,
                            Self::Event,
                            _,
                        >(Lines::read, __stage, __ctx)
                            .await,
                    )
                }
                LinesState::Done { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                LinesState::Stopped { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                LinesState::Failed { .. } => {
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
        type __Failure = <Ev as ::stagewise::__private::CheckedFailure<
            {
                let _ = |__event: Ev| match __event {
                    Ev::Error(__field) => {
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
impl ::stagewise::__private::HandlerSupervised for Lines {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
}
pub struct Lines {
    #[stage_id]
    id: StageId,
    pending: std::vec::IntoIter<String>,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Lines {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Lines {
    /// The next line, or `Exhausted`. A real source would await a file or a socket here.
    async fn read(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        tokio::task::yield_now().await;
        Ok(Directive::Transition(self.pending.next().map_or(Ev::Exhausted, Ev::Read)))
    }
}
#[derive(Debug)]
pub enum Ev {
    Start,
    Read(String),
    Exhausted,
    Stop,
    Error(String),
}
#[automatically_derived]
impl ::stagewise::__private::EventVariant for Ev {
    fn name(&self) -> &'static str {
        match self {
            Ev::Start { .. } => "Start",
            Ev::Read { .. } => "Read",
            Ev::Exhausted { .. } => "Exhausted",
            Ev::Stop { .. } => "Stop",
            Ev::Error { .. } => "Error",
        }
    }
}
#[derive(Debug)]
pub enum Act {
    Write(String),
    CloseOutput,
}
#[automatically_derived]
#[allow(dead_code)]
impl Act {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            Act::Write { .. } => "Write",
            Act::CloseOutput { .. } => "CloseOutput",
        }
    }
}
pub struct Ctx {
    output: Option<Sender<ChainEvent<String>>>,
    ids: EventIds,
    context: StageContext,
}
impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Write(line) => {
                let event = ChainEvent::new(
                    ctx.ids.next_id(),
                    ctx.context.clone(),
                    line,
                );
                let output = ctx.output.as_ref().ok_or("output already closed")?;
                output.send(event).await.map_err(|_| "downstream hung up")?;
            }
            Act::CloseOutput => ctx.output = None,
        }
        Ok(())
    }
}
#[tokio::main]
async fn main() {
    let (output, mut downstream) = channel(4);
    let id = StageId(1);
    let lines: Vec<String> = (1..=5).map(|i| format!("line {i}")).collect();
    let stage = Lines {
        id,
        pending: lines.into_iter(),
    };
    let ctx = Ctx {
        output: Some(output),
        ids: EventIds::new(WriterId::Stage(id)),
        context: StageContext::new(id, "lines"),
    };
    let mut handle = spawn_handler_supervised(
        stage,
        LinesState::INITIAL,
        ctx,
        SpawnOptions::default(),
    );
    handle.send(Control::Start).await.expect("source is waiting for Start");
    let mut received = Vec::new();
    while let Some(event) = downstream.recv().await {
        received.push((event.id.seq, event.payload));
    }
    let record = handle.outcome().await.expect("no escalation");
    println!("{received:?}\n{record}");
    assert_eq!(received.len(), 5);
    assert_eq!(received[4], (4, "line 5".to_owned()));
    assert_eq!(record.lifecycle, Lifecycle::Completed);
}
