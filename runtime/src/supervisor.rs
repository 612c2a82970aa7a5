//! The supervisor traits: what a stage (or an orchestrator) tells the run loop about itself.
//!
//! [`Supervisor`] is everything the run loop needs to drive a machine: its name, what each state does per turn
//! ([`dispatch_state`](Supervisor::dispatch_state)), the failure event, the completion. It is written once and the loop
//! is generic over it alone.
//!
//! Two traits on top of it say who the supervisor *is*, and that is the only thing they add. They stay two, rather than
//! one trait with an optional stage id, because the difference is one the compiler should check: a
//! [`HandlerSupervised`] stage has a [`StageId`], writes events under it, and is the only kind a
//! [`Pipeline`](crate::Pipeline) accepts; a [`SelfSupervised`] orchestrator has no stage id and writes as the system.
//! An optional id would turn "this stage has no id" into a run-time error of the pipeline builder.

use std::future::Future;

use smallvec::SmallVec;

use crate::directive::Directive;
use crate::error::BoxError;
use crate::event::{ChainEvent, StageId, WriterId};
use crate::machine::{Machine, StateMachine};

/// Events a stage emits for one input; one fits inline.
pub type Outputs<P> = SmallVec<[ChainEvent<P>; 1]>;

/// What the run loop needs of every supervisor: the four types of its [`Machine`], a name, what each state does per
/// turn, the failure event and the completion.
///
/// A stage that reads numbers from a channel and completes when the channel closes; a negative number fails it.
/// (`#[handler_supervised]` writes all of this from one annotated state enum; [`countdown`](crate::countdown) is
/// another whole stage by hand.)
///
/// ```
/// use stagewise_runtime::handle::{spawn_handler_supervised, SpawnOptions};
/// use stagewise_runtime::lifecycle::Lifecycle;
/// use stagewise_runtime::machine::{Decision, Ending, EventVariant, Machine, StateVariant};
/// use stagewise_runtime::{Action, BoxError, Directive, HandlerSupervised, StageId, Supervisor};
/// use tokio::sync::mpsc;
///
/// struct Summer { input: mpsc::Receiver<i64> }
///
/// #[derive(Debug)]
/// enum State { Reading, Done, Failed(String) }
/// impl StateVariant for State {
///     fn name(&self) -> &'static str { match self { State::Reading => "Reading", State::Done => "Done", State::Failed(_) => "Failed" } }
///     fn ending(&self) -> Option<Ending> {
///         match self { State::Reading => None, State::Done => Some(Ending::Completed), State::Failed(_) => Some(Ending::Failed) }
///     }
/// }
///
/// enum Event { Number(i64), Closed, Fail(String) }
/// impl EventVariant for Event {
///     fn name(&self) -> &'static str { match self { Event::Number(_) => "Number", Event::Closed => "Closed", Event::Fail(_) => "Fail" } }
/// }
///
/// struct Add(i64);
/// impl Action<i64> for Add {
///     fn name(&self) -> &'static str { "Add" }
///     async fn execute(self, sum: &mut i64) -> Result<(), BoxError> {
///         if self.0 < 0 { return Err(format!("negative input {}", self.0).into()) }
///         *sum += self.0;
///         Ok(())
///     }
/// }
///
/// impl Machine for Summer {
///     type State = State;
///     type Event = Event;
///     type Context = i64; // the sum
///     type Action = Add;
///     type ActionCapacity = stagewise_runtime::DefaultCapacity;
///     fn transition(state: &State, event: Event, _: &mut i64) -> Decision<State, Add> {
///         match (state, event) {
///             (State::Reading, Event::Number(n)) => Decision::stay_with([Add(n)]),
///             (State::Reading, Event::Closed) => Decision::goto(State::Done),
///             (_, Event::Fail(why)) => Decision::goto(State::Failed(why)),
///             _ => Decision::Unhandled,
///         }
///     }
/// }
///
/// impl Supervisor for Summer {
///     fn name(&self) -> &'static str { "summer" }
///     // Await input here: an idle stage costs no CPU.
///     async fn dispatch_state(&mut self, state: &State, _: &mut i64) -> Result<Directive<Event>, BoxError> {
///         if state.ending().is_some() {
///             return Ok(Directive::Terminate); // a terminal state ends the run
///         }
///         Ok(Directive::Transition(match self.input.recv().await {
///             Some(n) => Event::Number(n),
///             None => Event::Closed,
///         }))
///     }
///     // The failing action's error arrives here and drives the machine to Failed.
///     fn event_for_action_error(&self, message: String) -> Event { Event::Fail(message) }
/// }
///
/// impl HandlerSupervised for Summer {
///     fn stage_id(&self) -> StageId { StageId(7) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (tx, rx) = mpsc::channel(8);
/// let mut stage = spawn_handler_supervised(Summer { input: rx }, State::Reading, 0, SpawnOptions::default());
/// for n in [1, 2, -3] { tx.send(n).await.unwrap(); }
/// let record = stage.outcome().await.unwrap();
/// let Lifecycle::Failed { error, .. } = record.lifecycle else { panic!("expected Failed") };
/// assert!(error.contains("negative input -3"), "{error}");
/// # }
/// ```
pub trait Supervisor: Machine + Send + Sized + 'static {
    /// The supervisor's name, for logs and lifecycle records.
    fn name(&self) -> &'static str;

    /// What the current state does this turn. Await input here: an idle stage then costs no CPU.
    ///
    /// The run loop calls this each turn and feeds what it returns to the machine; dispatch never feeds the machine or
    /// runs actions itself. The loop may drop this future when a control message or the state's timeout wins the race
    /// (in a [`ControlPolicy::Poll`](crate::ControlPolicy::Poll) state), so whatever it awaits should be cancel-safe, as
    /// `tokio::sync::mpsc::Receiver::recv` is.
    fn dispatch_state(
        &mut self,
        state: &Self::State,
        ctx: &mut Self::Context,
    ) -> impl Future<Output = Result<Directive<Self::Event>, BoxError>> + Send;

    /// The event that drives the machine down its failure path for an error, panic, closed channel or rejected
    /// event described by `message`.
    fn event_for_action_error(&self, message: String) -> Self::Event;

    /// Writes the supervisor's completion (end of stream downstream, a flush) when it terminates.
    fn write_completion_event(
        &mut self,
        _ctx: &mut Self::Context,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        async { Ok(()) }
    }

    /// The machine this supervisor drives, in `initial`.
    fn build_state_machine(&self, initial: Self::State) -> StateMachine<Self> {
        StateMachine::new(initial)
    }
}

/// A stage that delegates its work to a handler of the user's: a source, a transform, a sink. It has a stage id.
///
/// [`Supervisor`]'s example is a whole stage; the id is what this trait adds, and it names the stage's records:
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::handle::{spawn_handler_supervised, SpawnOptions};
/// use stagewise_runtime::{HandlerSupervised, StageId, WriterId};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let stage = Countdown::new(2).with_id(StageId(4));
/// assert_eq!(stage.writer_id(), WriterId::Stage(StageId(4)));
/// let record = spawn_handler_supervised(stage, CountdownState::Counting, 0, SpawnOptions::default())
///     .outcome()
///     .await
///     .unwrap();
/// assert_eq!(record.stage, Some(StageId(4)));
/// # }
/// ```
pub trait HandlerSupervised: Supervisor {
    /// The stage's id.
    fn stage_id(&self) -> StageId;

    /// The writer id of events this stage writes; the stage's own by default.
    fn writer_id(&self) -> WriterId {
        WriterId::Stage(self.stage_id())
    }

    /// Runs `next` on `event` unless its status is already an error, in which case the event passes through untouched.
    fn run_if_not_error<P, F>(&self, event: ChainEvent<P>, next: F) -> Outputs<P>
    where
        F: FnOnce(ChainEvent<P>) -> Outputs<P>,
    {
        if event.is_error() {
            let mut out = Outputs::new();
            out.push(event);
            out
        } else {
            next(event)
        }
    }
}

/// A supervisor without a handler: an orchestrator that drives other stages. It has no stage id.
///
/// An orchestrator that starts a [`Countdown`](crate::countdown::Countdown), waits for it, and ends as it ended (the
/// pipeline's orchestrator is a larger one):
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::handle::{spawn_handler_supervised, spawn_self_supervised, SpawnOptions, StageHandle};
/// use stagewise_runtime::lifecycle::Lifecycle;
/// use stagewise_runtime::machine::{Decision, Ending, EventVariant, Machine, StateVariant};
/// use stagewise_runtime::{Action, BoxError, Directive, SelfSupervised, Supervisor, WriterId};
///
/// struct Watch;
/// #[derive(Debug)]
/// enum State { Watching, Done, Failed(String) }
/// impl StateVariant for State {
///     fn name(&self) -> &'static str { match self { State::Watching => "Watching", State::Done => "Done", State::Failed(_) => "Failed" } }
///     fn ending(&self) -> Option<Ending> {
///         match self { State::Watching => None, State::Done => Some(Ending::Completed), State::Failed(_) => Some(Ending::Failed) }
///     }
/// }
/// enum Event { Ended, Fail(String) }
/// impl EventVariant for Event {
///     fn name(&self) -> &'static str { match self { Event::Ended => "Ended", Event::Fail(_) => "Fail" } }
/// }
/// struct NoAction;
/// impl Action<StageHandle> for NoAction {
///     fn name(&self) -> &'static str { "NoAction" }
///     async fn execute(self, _: &mut StageHandle) -> Result<(), BoxError> { Ok(()) }
/// }
/// impl Machine for Watch {
///     type State = State;
///     type Event = Event;
///     type Context = StageHandle; // the stage it watches
///     type Action = NoAction;
///     type ActionCapacity = stagewise_runtime::DefaultCapacity;
///     fn transition(_: &State, event: Event, _: &mut StageHandle) -> Decision<State, NoAction> {
///         match event { Event::Ended => Decision::goto(State::Done), Event::Fail(why) => Decision::goto(State::Failed(why)) }
///     }
/// }
/// impl Supervisor for Watch {
///     fn name(&self) -> &'static str { "watch" }
///     async fn dispatch_state(&mut self, state: &State, stage: &mut StageHandle) -> Result<Directive<Event>, BoxError> {
///         if state.ending().is_some() {
///             return Ok(Directive::Terminate);
///         }
///         match stage.outcome().await?.lifecycle {
///             Lifecycle::Completed { .. } => Ok(Directive::Transition(Event::Ended)),
///             other => Err(format!("the stage ended {other:?}").into()),
///         }
///     }
///     fn event_for_action_error(&self, message: String) -> Event { Event::Fail(message) }
/// }
/// impl SelfSupervised for Watch {}
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let stage = spawn_handler_supervised(Countdown::new(2), CountdownState::Counting, 0, SpawnOptions::default());
/// let record = spawn_self_supervised(Watch, State::Watching, stage, SpawnOptions::default()).outcome().await.unwrap();
/// assert_eq!((record.writer, record.stage), (WriterId::System, None)); // it writes as the system, with no stage id
/// assert!(matches!(record.lifecycle, Lifecycle::Completed { .. }));
/// # }
/// ```
pub trait SelfSupervised: Supervisor {
    /// The writer id of what this supervisor writes; the system's by default.
    fn writer_id(&self) -> WriterId {
        WriterId::System
    }
}
