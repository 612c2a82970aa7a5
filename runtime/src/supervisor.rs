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
pub trait SelfSupervised: Supervisor {
    /// The writer id of what this supervisor writes; the system's by default.
    fn writer_id(&self) -> WriterId {
        WriterId::System
    }
}
