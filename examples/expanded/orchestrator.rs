// @generated from examples/orchestrator.rs by tests/expanded.rs: the stagewise macros expanded, nothing else.
// Not compiled. Refresh with `STAGEWISE_BLESS=1 cargo test --test expanded`.

//! A pipeline-level orchestrator written with `#[self_supervised]`: it starts its stages, watches them, and stops
//! on request. Requests and stage reports are its own events, sent with data through its inbox (a stop request
//! carries a mode and a reason) and read under each state's control policy; heartbeats are ignored in every state; the teardown
//! actions are one named list shared by several states, each with its own failure actions; the failed state
//! carries the reason and the state it failed in; every event no transition takes is logged by a hook before the
//! ignore lists decide; the run's summary is written on completion.
//!
//! Run with `cargo run --example orchestrator`.
use stagewise::{
    event_inbox, run_self_supervised, Action, BoxError, Decision, EventInbox,
    EventVariant, Lifecycle, Supervision,
};
use tokio::sync::oneshot;
#[derive(Debug, PartialEq)]
/**
<pre class="mermaid">
flowchart TD
    s_Starting(["Starting"])
    s_Running(["Running"])
    s_Draining(["Draining"])
    s_Aborting(["Aborting"])
    s_Stopped(["Stopped"])
    s_Aborted(["Aborted"])
    s_Failed(["Failed"])
    start_((" ")) --&gt; s_Starting
    s_Starting --&gt;|"Start"| s_Running
    s_Running --&gt;|"Stop"| s_Draining
    s_Running --&gt;|"Stop"| s_Aborting
    s_Running --&gt;|"StageFailed (stay)"| s_Running
    s_Draining --&gt;|"Drained"| s_Stopped
    s_Draining --&gt;|"Deadline / Orchestrator::escalate()"| s_Aborting
    s_Draining --&gt;|"Deadline / Orchestrator::escalate()"| s_Failed
    s_Aborting --&gt;|"Drained, Deadline"| s_Aborted
    s_Starting -.-&gt;|"Failed (failure)"| s_Failed
    s_Running -.-&gt;|"Failed (failure)"| s_Failed
    s_Draining -.-&gt;|"Failed (failure)"| s_Failed
    s_Aborting -.-&gt;|"Failed (failure)"| s_Failed
    s_Stopped --&gt; stop_((" "))
    s_Aborted --&gt; stop_((" "))
    s_Failed --&gt; stop_((" "))
    classDef failure fill:#fde2e2,stroke:#c0392b
    class s_Failed failure
</pre>

The states of this machine as `#[self_supervised]` reads them: solid edges are declared transitions, dashed ones the generated failure transitions.*/
pub enum OrchestratorState {
    Starting,
    Running,
    Draining,
    Aborting,
    Stopped,
    Aborted,
    Failed { reason: String, during: &'static str },
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
impl ::stagewise::__private::StateVariant for OrchestratorState {
    fn name(&self) -> &'static str {
        match self {
            OrchestratorState::Starting { .. } => "Starting",
            OrchestratorState::Running { .. } => "Running",
            OrchestratorState::Draining { .. } => "Draining",
            OrchestratorState::Aborting { .. } => "Aborting",
            OrchestratorState::Stopped { .. } => "Stopped",
            OrchestratorState::Aborted { .. } => "Aborted",
            OrchestratorState::Failed { .. } => "Failed",
        }
    }
    fn failure_message(&self) -> ::core::option::Option<&str> {
        match self {
            OrchestratorState::Failed { reason: message, .. } => {
                ::core::option::Option::Some(message.as_str())
            }
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            OrchestratorState::Starting { .. } => ::core::option::Option::None,
            OrchestratorState::Running { .. } => ::core::option::Option::None,
            OrchestratorState::Draining { .. } => ::core::option::Option::None,
            OrchestratorState::Aborting { .. } => ::core::option::Option::None,
            OrchestratorState::Stopped { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            OrchestratorState::Aborted { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Cancelled)
            }
            OrchestratorState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            OrchestratorState::Starting { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
            OrchestratorState::Running { .. } => {
                ::stagewise::__private::ControlPolicy::Poll
            }
            OrchestratorState::Draining { .. } => {
                ::stagewise::__private::ControlPolicy::Poll
            }
            OrchestratorState::Aborting { .. } => {
                ::stagewise::__private::ControlPolicy::Poll
            }
            OrchestratorState::Stopped { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
            OrchestratorState::Aborted { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
            OrchestratorState::Failed { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl OrchestratorState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = OrchestratorState::Starting;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Starting\n    Starting --> Running: Start\n    Running --> Draining: Stop\n    Running --> Aborting: Stop\n    Running --> Running: StageFailed (stay)\n    Draining --> Stopped: Drained\n    Draining --> Aborting: Deadline / Orchestrator::escalate()\n    Draining --> Failed: Deadline / Orchestrator::escalate()\n    Aborting --> Aborted: Drained, Deadline\n    Stopped --> [*]\n    Aborted --> [*]\n    Failed --> [*]\n    %% generated: the failure transition from every state that is not terminal\n    Starting --> Failed: Failed (failure)\n    Running --> Failed: Failed (failure)\n    Draining --> Failed: Failed (failure)\n    Aborting --> Failed: Failed (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
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
impl ::stagewise::__private::Machine for Orchestrator {
    type State = OrchestratorState;
    type Event = Ev;
    type Context = Ctx;
    type Action = Act;
    type ActionCapacity = ::stagewise::__private::Inline<5>;
    fn transition(
        __state: &Self::State,
        __event: Self::Event,
        __ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<
        Self::State,
        Self::Action,
        Self::ActionCapacity,
    > {
        match (__state, __event) {
            (OrchestratorState::Starting { .. }, Ev::Start { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    OrchestratorState::Running,
                    [
                        {
                            let __action: Self::Action = Act::StartStages;
                            __action
                        },
                    ],
                )
            }
            (
                OrchestratorState::Running { .. },
                Ev::Stop { mode: StopMode::Graceful, reason },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    OrchestratorState::Draining,
                    [
                        {
                            let __action: Self::Action = Act::Log(reason);
                            __action
                        },
                        {
                            let __action: Self::Action = Act::DrainStages;
                            __action
                        },
                    ],
                )
            }
            (
                OrchestratorState::Running { .. },
                Ev::Stop { mode: StopMode::Abort, reason },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    OrchestratorState::Aborting,
                    [
                        {
                            let __action: Self::Action = Act::Log(reason);
                            __action
                        },
                    ],
                )
            }
            (OrchestratorState::Running { .. }, Ev::StageFailed(stage)) => {
                ::stagewise::__private::Decision::stay_with([
                    {
                        let __action: Self::Action = Act::Log(stage);
                        __action
                    },
                ])
            }
            (OrchestratorState::Draining { .. }, Ev::Drained { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    OrchestratorState::Stopped,
                    [
                        {
                            let __action: Self::Action = Act::StopStages;
                            __action
                        },
                        {
                            let __action: Self::Action = Act::CloseJournal;
                            __action
                        },
                    ],
                )
            }
            (OrchestratorState::Draining { .. }, __event @ Ev::Deadline { .. }) => {
                let __decision: ::stagewise::__private::Decision<
                    Self::State,
                    Self::Action,
                > = ::stagewise::__private::decide::<
                    Self::State,
                    Self::Event,
                    Self::Context,
                    Self::Action,
                    _,
                >(Orchestrator::escalate, __state, __event, __ctx);
                #[cfg(debug_assertions)]
                ::stagewise::__private::check_target(
                    &__decision,
                    |__next| {
                        ::core::matches!(
                            __next, OrchestratorState::Aborting { .. } |
                            OrchestratorState::Failed { .. }
                        )
                    },
                    "Orchestrator::escalate",
                );
                ::stagewise::__private::Decision::into_capacity(__decision)
            }
            (
                OrchestratorState::Aborting { .. },
                Ev::Drained { .. } | Ev::Deadline { .. },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    OrchestratorState::Aborted,
                    [
                        {
                            let __action: Self::Action = Act::StopStages;
                            __action
                        },
                        {
                            let __action: Self::Action = Act::CloseJournal;
                            __action
                        },
                    ],
                )
            }
            (OrchestratorState::Failed { .. }, Ev::Failed { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (OrchestratorState::Running { .. }, __event @ Ev::Failed { .. }) => {
                let message: ::stagewise::__private::String = ::stagewise::__private::failure_codec(
                        |__field| Ev::Failed { reason: __field },
                        |__event| match __event {
                            Ev::Failed { reason: __field } => __field,
                            _ => ::core::unreachable!("the failure event"),
                        },
                    )
                    .take(__event);
                let next = ::stagewise::__private::build_failed::<
                    Self::State,
                    Self::Context,
                    _,
                >(
                    Orchestrator::failed_state,
                    __state,
                    ::core::clone::Clone::clone(&message),
                    __ctx,
                );
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [
                        {
                            let __action: Self::Action = Act::Log(message);
                            __action
                        },
                        {
                            let __action: Self::Action = Act::DrainStages;
                            __action
                        },
                        {
                            let __action: Self::Action = Act::StopStages;
                            __action
                        },
                        {
                            let __action: Self::Action = Act::CloseJournal;
                            __action
                        },
                    ],
                )
            }
            (_, __event @ Ev::Failed { .. }) => {
                let message: ::stagewise::__private::String = ::stagewise::__private::failure_codec(
                        |__field| Ev::Failed { reason: __field },
                        |__event| match __event {
                            Ev::Failed { reason: __field } => __field,
                            _ => ::core::unreachable!("the failure event"),
                        },
                    )
                    .take(__event);
                let next = ::stagewise::__private::build_failed::<
                    Self::State,
                    Self::Context,
                    _,
                >(
                    Orchestrator::failed_state,
                    __state,
                    ::core::clone::Clone::clone(&message),
                    __ctx,
                );
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [
                        {
                            let __action: Self::Action = Act::Log(message);
                            __action
                        },
                        {
                            let __action: Self::Action = Act::StopStages;
                            __action
                        },
                        {
                            let __action: Self::Action = Act::CloseJournal;
                            __action
                        },
                    ],
                )
            }
            (__state, __event) => {
                ::stagewise::__private::Decision::into_capacity(
                    ::stagewise::__private::decide::<
                        Self::State,
                        Self::Event,
                        Self::Context,
                        Self::Action,
                        _,
                    >(Orchestrator::stray, __state, __event, __ctx),
                )
            }
        }
    }
    fn on_exit(
        __state: &Self::State,
        __actions: &mut ::stagewise::__private::ActionsOf<Self>,
    ) {
        match __state {
            OrchestratorState::Running { .. } => {
                let __action: Self::Action = Act::Log("stages no longer watched".into());
                __actions.push(__action);
            }
            _ => {}
        }
    }
    fn timeout(
        __state: &Self::State,
    ) -> ::core::option::Option<::stagewise::__private::StateTimeout<Self::Event>> {
        match __state {
            OrchestratorState::Draining { .. } => {
                ::core::option::Option::Some(::stagewise::__private::StateTimeout {
                    after: ::core::time::Duration::from_millis(5000u64),
                    event: Ev::Deadline,
                })
            }
            OrchestratorState::Aborting { .. } => {
                ::core::option::Option::Some(::stagewise::__private::StateTimeout {
                    after: ::core::time::Duration::from_millis(500u64),
                    event: Ev::Deadline,
                })
            }
            _ => ::core::option::Option::None,
        }
    }
    fn unhandled(
        __state: &Self::State,
        __event: &Self::Event,
    ) -> ::stagewise::__private::Unhandled {
        match (__state, __event) {
            (OrchestratorState::Draining { .. }, Ev::Stop { .. }) => {
                ::stagewise::__private::Unhandled::Ignore
            }
            (
                OrchestratorState::Aborting { .. },
                Ev::Stop { .. } | Ev::StageFailed { .. },
            ) => ::stagewise::__private::Unhandled::Ignore,
            (_, Ev::Heartbeat { .. }) => ::stagewise::__private::Unhandled::Ignore,
            _ => ::stagewise::__private::Unhandled::Fail,
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
impl ::stagewise::__private::Supervisor for Orchestrator {
    fn name(&self) -> &'static str {
        "orchestrator"
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
            let __inbox = ::stagewise::__private::InboxReader::<
                Self::Event,
            >::of(&__stage.requests);
            match __state {
                OrchestratorState::Starting { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Transition({
                            let __emitted: Self::Event = Ev::Start;
                            __emitted
                        }),
                    )
                }
                OrchestratorState::Running { .. } => {
                    ::stagewise::__private::wait_inbox::<Self>(__inbox, __state).await
                }
                OrchestratorState::Draining { .. } => {
                    ::stagewise::__private::wait_inbox::<Self>(__inbox, __state).await
                }
                OrchestratorState::Aborting { .. } => {
                    ::stagewise::__private::wait_inbox::<Self>(__inbox, __state).await
                }
                OrchestratorState::Stopped { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                OrchestratorState::Aborted { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                OrchestratorState::Failed { .. } => {
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
        ::stagewise::__private::failure_codec(
                |__field| Ev::Failed { reason: __field },
                |__event| match __event {
                    Ev::Failed { reason: __field } => __field,
                    _ => ::core::unreachable!("the failure event"),
                },
            )
            .make(__message)
    }
    fn write_completion_event(
        &mut self,
        __ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<(), ::stagewise::__private::BoxError>,
    > + ::core::marker::Send {
        async move {
            ::stagewise::__private::complete::<
                Self,
                Self::Context,
                _,
            >(Orchestrator::write_summary, self, __ctx)
                .await
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
impl ::stagewise::__private::SelfSupervised for Orchestrator {}
/// How to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Let the stages finish what is in flight.
    Graceful,
    /// Stop now.
    Abort,
}
/// The orchestrator's events.
#[derive(Debug)]
pub enum Ev {
    Start,
    Stop { mode: StopMode, reason: String },
    StageFailed(String),
    Drained,
    Heartbeat,
    Deadline,
    Failed { reason: String },
}
#[automatically_derived]
impl ::stagewise::__private::EventVariant for Ev {
    fn name(&self) -> &'static str {
        match self {
            Ev::Start { .. } => "Start",
            Ev::Stop { .. } => "Stop",
            Ev::StageFailed { .. } => "StageFailed",
            Ev::Drained { .. } => "Drained",
            Ev::Heartbeat { .. } => "Heartbeat",
            Ev::Deadline { .. } => "Deadline",
            Ev::Failed { .. } => "Failed",
        }
    }
}
/// Its actions.
#[derive(Debug)]
pub enum Act {
    StartStages,
    DrainStages,
    StopStages,
    CloseJournal,
    Log(String),
}
#[automatically_derived]
#[allow(dead_code)]
impl Act {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            Act::StartStages { .. } => "StartStages",
            Act::DrainStages { .. } => "DrainStages",
            Act::StopStages { .. } => "StopStages",
            Act::CloseJournal { .. } => "CloseJournal",
            Act::Log { .. } => "Log",
        }
    }
}
/// What the actions act on: here, a log of what was done.
#[derive(Debug, Default)]
pub struct Ctx {
    pub log: Vec<String>,
}
impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        let line = match self {
            Act::Log(text) => format!("log: {text}"),
            other => other.variant_name().to_owned(),
        };
        ctx.log.push(line);
        Ok(())
    }
}
/// The orchestrator: its requests (stop, stage reports) arrive in its inbox; its summary leaves on a channel.
pub struct Orchestrator {
    requests: EventInbox<Ev>,
    summary: Option<oneshot::Sender<Vec<String>>>,
}
impl Orchestrator {
    /// An orchestrator reading `requests`, that sends its summary to `summary` when its run ends.
    pub fn new(requests: EventInbox<Ev>, summary: oneshot::Sender<Vec<String>>) -> Self {
        Self {
            requests,
            summary: Some(summary),
        }
    }
    /// The drain deadline passed: abort if the stages still answer, else fail.
    fn escalate(
        _state: &OrchestratorState,
        _event: Ev,
        ctx: &mut Ctx,
    ) -> Decision<OrchestratorState, Act> {
        if ctx.log.iter().any(|l| l.contains("StageFailed")) {
            Decision::goto(OrchestratorState::Failed {
                reason: "drain deadline".into(),
                during: "Draining",
            })
        } else {
            Decision::goto_with(
                OrchestratorState::Aborting,
                [Act::Log("drain deadline passed".into())],
            )
        }
    }
    /// An event no transition of `state` takes: logged, then left to the ignore lists (and the failure path).
    fn stray(
        state: &OrchestratorState,
        event: Ev,
        ctx: &mut Ctx,
    ) -> Decision<OrchestratorState, Act> {
        use stagewise::StateVariant;
        ctx.log.push(format!("stray: {} in {}", event.name(), state.name()));
        Decision::Unhandled
    }
    /// The failed state, from what the macro knows (the state that failed, the message) and what it does not.
    fn failed_state(
        from: &OrchestratorState,
        reason: String,
        _ctx: &mut Ctx,
    ) -> OrchestratorState {
        use stagewise::StateVariant;
        OrchestratorState::Failed {
            reason,
            during: from.name(),
        }
    }
    /// Written when the run ends, however it ends.
    async fn write_summary(&mut self, ctx: &mut Ctx) -> Result<(), BoxError> {
        let summary = self.summary.take().ok_or("the summary is written once")?;
        summary
            .send(std::mem::take(&mut ctx.log))
            .map_err(|_| "nobody reads the summary")?;
        Ok(())
    }
}
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (tx, requests) = event_inbox(8);
    for event in [
        Ev::Heartbeat,
        Ev::StageFailed("parse".into()),
        Ev::Stop {
            mode: StopMode::Abort,
            reason: "operator asked".into(),
        },
        Ev::Stop {
            mode: StopMode::Graceful,
            reason: "ignored while aborting".into(),
        },
        Ev::Drained,
    ] {
        tx.send(event).await.expect("the orchestrator is there");
    }
    let (summary, read_summary) = oneshot::channel();
    let orchestrator = Orchestrator::new(requests, summary);
    let record = run_self_supervised(
            orchestrator,
            OrchestratorState::INITIAL,
            Ctx::default(),
            Supervision::default(),
        )
        .await
        .expect("the orchestrator ends");
    println!("{:?} in {}", record.lifecycle, record.state);
    for line in read_summary.await.expect("the summary is written") {
        println!("  {line}");
    }
    assert!(
        matches!(record.lifecycle, Lifecycle::Cancelled { .. }), "{:?}", record.lifecycle
    );
    println!("\n{}", OrchestratorState::MERMAID);
}
