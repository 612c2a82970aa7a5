// @generated from examples/sink_stage.rs by tests/expanded.rs: the stagewise macros expanded, nothing else.
// Not compiled. Refresh with `STAGEWISE_BLESS=1 cargo test --test expanded`.

//! A sink stage written with `#[handler_supervised]`: it stores what arrives, ignores heartbeats, fails on a poison
//! record (running its failure actions), and completes at end of stream.
//!
//! Run with `cargo run --example sink_stage`.
use std::sync::{Arc, Mutex};
use stagewise::{
    spawn_handler_supervised, Action, BoxError, Directive, EventVariant, Lifecycle,
    SpawnOptions, Stage, StageId, VariantName,
};
use tokio::sync::mpsc::{channel, Receiver};
#[derive(Clone, Debug, PartialEq)]
/**
<pre class="mermaid">
flowchart TD
    s_Receiving(["Receiving"])
    s_Committing(["Committing"])
    s_Done(["Done"])
    s_Failed(["Failed"])
    start_((" ")) --&gt; s_Receiving
    s_Receiving --&gt;|"Record (stay)"| s_Receiving
    s_Receiving --&gt;|"EndOfStream"| s_Committing
    s_Committing --&gt;|"Committed"| s_Done
    s_Receiving -.-&gt;|"Error (failure)"| s_Failed
    s_Committing -.-&gt;|"Error (failure)"| s_Failed
    s_Done --&gt; stop_((" "))
    s_Failed --&gt; stop_((" "))
    classDef failure fill:#fde2e2,stroke:#c0392b
    class s_Failed failure
</pre>

The states of this machine as `#[handler_supervised]` reads them: solid edges are declared transitions, dashed ones the generated failure transitions.*/
pub enum StoreState {
    Receiving,
    Committing,
    Done,
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
impl ::stagewise::__private::StateVariant for StoreState {
    fn name(&self) -> &'static str {
        match self {
            StoreState::Receiving { .. } => "Receiving",
            StoreState::Committing { .. } => "Committing",
            StoreState::Done { .. } => "Done",
            StoreState::Failed { .. } => "Failed",
        }
    }
    fn failure_message(&self) -> ::core::option::Option<&str> {
        match self {
            StoreState::Failed(message, ..) => {
                ::core::option::Option::Some(message.as_str())
            }
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            StoreState::Receiving { .. } => ::core::option::Option::None,
            StoreState::Committing { .. } => ::core::option::Option::None,
            StoreState::Done { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            StoreState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            StoreState::Receiving { .. } => ::stagewise::__private::ControlPolicy::Poll,
            StoreState::Committing { .. } => ::stagewise::__private::ControlPolicy::Poll,
            StoreState::Done { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            StoreState::Failed { .. } => ::stagewise::__private::ControlPolicy::Ignore,
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl StoreState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = StoreState::Receiving;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Receiving\n    Receiving --> Receiving: Record (stay)\n    Receiving --> Committing: EndOfStream\n    Committing --> Done: Committed\n    Done --> [*]\n    Failed --> [*]\n    %% generated: the failure transition from every state that is not terminal\n    Receiving --> Failed: Error (failure)\n    Committing --> Failed: Error (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
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
impl ::stagewise::__private::Machine for Store {
    type State = StoreState;
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
            (StoreState::Receiving { .. }, Ev::Record(record)) => {
                ::stagewise::__private::Decision::stay_with([
                    {
                        let __action: Self::Action = Act::Append(record);
                        __action
                    },
                ])
            }
            (StoreState::Receiving { .. }, Ev::EndOfStream { .. }) => {
                ::stagewise::__private::Decision::goto(StoreState::Committing)
            }
            (StoreState::Committing { .. }, Ev::Committed { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    StoreState::Done,
                    [
                        {
                            let __action: Self::Action = Act::Commit;
                            __action
                        },
                    ],
                )
            }
            (StoreState::Failed { .. }, __Failure::Error(..)) => {
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
                let next = StoreState::Failed(
                    <String as ::stagewise::__private::FailedStateField>::from_failure(
                        message,
                    ),
                );
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [
                        {
                            let __action: Self::Action = Act::Rollback;
                            __action
                        },
                    ],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn unhandled(
        __state: &Self::State,
        __event: &Self::Event,
    ) -> ::stagewise::__private::Unhandled {
        match (__state, __event) {
            (StoreState::Receiving { .. }, Ev::Heartbeat { .. }) => {
                ::stagewise::__private::Unhandled::Ignore
            }
            _ => ::stagewise::__private::Unhandled::Fail,
        }
    }
    fn control_event(
        __control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match __control {
            ::stagewise::__private::Control::Start => ::core::option::Option::None,
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(Ev::EndOfStream)
            }
            ::stagewise::__private::Control::Stop => ::core::option::Option::None,
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
impl ::stagewise::__private::Supervisor for Store {
    fn name(&self) -> &'static str {
        "store"
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
                StoreState::Receiving { .. } => {
                    ::stagewise::__private::dispatched(
                        ::stagewise::__private::dispatch::<
                            Self,
                            Self::Context,
                            Self::Event,
                            _,
                        >(Store::receive, __stage, __ctx)
                            .await,
                    )
                }
                StoreState::Committing { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Transition({
                            let __emitted: Self::Event = Ev::Committed;
                            __emitted
                        }),
                    )
                }
                StoreState::Done { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                StoreState::Failed { .. } => {
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
impl ::stagewise::__private::HandlerSupervised for Store {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
}
pub struct Store {
    #[stage_id]
    id: StageId,
    input: Receiver<Option<String>>,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Store {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Store {
    /// The next record; `None` on the wire is a heartbeat, a closed channel the end of the stream.
    async fn receive(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Ok(
            Directive::Transition(
                match self.input.recv().await {
                    Some(Some(record)) if record == "poison" => {
                        return Err("poison record".into());
                    }
                    Some(Some(record)) => Ev::Record(record),
                    Some(None) => Ev::Heartbeat,
                    None => Ev::EndOfStream,
                },
            ),
        )
    }
}
#[derive(Debug)]
pub enum Ev {
    Record(String),
    Heartbeat,
    EndOfStream,
    Committed,
    Error(String),
}
#[automatically_derived]
impl ::stagewise::__private::EventVariant for Ev {
    fn name(&self) -> &'static str {
        match self {
            Ev::Record { .. } => "Record",
            Ev::Heartbeat { .. } => "Heartbeat",
            Ev::EndOfStream { .. } => "EndOfStream",
            Ev::Committed { .. } => "Committed",
            Ev::Error { .. } => "Error",
        }
    }
}
#[derive(Debug)]
pub enum Act {
    Append(String),
    Commit,
    Rollback,
}
#[automatically_derived]
#[allow(dead_code)]
impl Act {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            Act::Append { .. } => "Append",
            Act::Commit { .. } => "Commit",
            Act::Rollback { .. } => "Rollback",
        }
    }
}
/// What the sink writes to: staged records, and the table they are committed to.
#[derive(Clone, Default)]
pub struct Ctx {
    staged: Vec<String>,
    table: Arc<Mutex<Vec<String>>>,
}
impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Append(record) => ctx.staged.push(record),
            Act::Commit => {
                ctx.table.lock().map_err(|_| "table poisoned")?.append(&mut ctx.staged)
            }
            Act::Rollback => ctx.staged.clear(),
        }
        Ok(())
    }
}
async fn run(records: &[Option<&str>]) -> (Lifecycle, Vec<String>) {
    let (tx, input) = channel(8);
    let ctx = Ctx::default();
    let table = ctx.table.clone();
    let mut handle = spawn_handler_supervised(
        Store { id: StageId(3), input },
        StoreState::INITIAL,
        ctx,
        SpawnOptions::default(),
    );
    for record in records {
        tx.send(record.map(str::to_owned)).await.expect("sink reads");
    }
    drop(tx);
    let record = handle.outcome().await.expect("no escalation");
    let rows = table.lock().unwrap().clone();
    (record.lifecycle, rows)
}
#[tokio::main]
async fn main() {
    let (lifecycle, rows) = run(&[Some("a"), None, Some("b"), None, Some("c")]).await;
    println!("{lifecycle:?} {rows:?}");
    assert_eq!(lifecycle, Lifecycle::Completed);
    assert_eq!(rows, ["a", "b", "c"]);
    let (lifecycle, rows) = run(&[Some("a"), Some("poison"), Some("b")]).await;
    println!("{lifecycle:?} {rows:?}");
    assert!(
        matches!(lifecycle, Lifecycle::Failed { ref error, escalation : None } if error
        .contains("poison record"))
    );
    assert!(rows.is_empty(), "rolled back, never committed");
}
