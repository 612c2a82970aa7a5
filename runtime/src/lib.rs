//! The runtime of stagewise: long-running tokio stages as explicit, supervised state machines.
//!
//! - [`machine`]: the typed state machine, a pure decision from (state, event, context) to next state and actions.
//! - [`HandlerSupervised`] / [`SelfSupervised`]: what a stage or an orchestrator tells the run loop.
//! - [`run_handler_supervised`]: the one supervised run loop; every error, panic, rejected event, closed channel and
//!   timeout drives the machine down its failure path, and every run ends with exactly one lifecycle record.
//! - [`event`]: stage and writer ids, events with a processing status; [`lifecycle`]: how runs start and end;
//!   [`journal`]: where records go; [`handle`]: spawning and controlling supervisors; [`event_inbox`]: a stage's own
//!   events, with data, sent from outside.
//! - [`restart`]: restart types, strategies, intensity and backoff, declared where stages are wired.
//! - [`countdown`]: a ready-made stage to spawn, control and wire in examples and tests.
//! - [`testing`]: a deterministic test kit: run a stage (or a pipeline's orchestrator) in the real loop one turn at a
//!   time, inject events, control messages, failures and panics, read its state, what each turn ran and its records.
//! - [`pipeline`]: stages connected by bounded links under a self-supervised orchestrator, with drain, failure policy
//!   and an error journal.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod action;
mod action_list;
mod control;
pub mod countdown;
mod counters;
mod directive;
mod error;
pub mod event;
pub mod handle;
mod inbox;
pub mod journal;
pub mod lifecycle;
pub mod machine;
mod macro_support;
mod names;
#[cfg(feature = "nats")]
pub mod nats;
pub mod pipeline;
pub mod restart;
mod run_loop;
mod supervisor;
pub mod testing;

pub use action::Action;
pub use control::{
    channel as control_channel, Control, ControlClosed, ControlPolicy, ControlReceiver, ControlSender,
    ControlTrySendError,
};
pub use counters::{CounterSnapshot, Counters};
pub use directive::Directive;
pub use error::{BoxError, Escalation, RunFailure};
pub use event::{ChainEvent, ErrorKind, EventId, EventIds, ProcessingStatus, StageContext, StageId, WriterId};
pub use handle::{spawn_handler_supervised, spawn_self_supervised, HandleError, SpawnOptions, StageHandle};
pub use inbox::{event_inbox, EventInbox, EventSender, EventTrySendError, InboxClosed};
pub use journal::{Durability, FileJournal, Journal, JournalError, JournalOptions, MemoryJournal};
pub use lifecycle::{Lifecycle, LifecycleRecord};
pub use machine::{
    ActionCapacity, ActionList, Actions, ActionsOf, Decision, DefaultCapacity, Ending, EventVariant, Inline, Machine,
    StateMachine, StateTimeout, StateVariant, Unhandled, INLINE_ACTIONS,
};
pub use pipeline::spawn_restartable;
pub use pipeline::{
    ErrorJournal, ErrorRecord, FailurePolicy, Inlet, Message, Outlet, Pipeline, PipelineHandle, PipelineOutcome,
    PipelineStage, StageOutcome,
};
pub use run_loop::{
    run_handler_supervised, run_self_supervised, HandlerSupervisedExt, RunResult, SelfSupervisedExt, StateSnapshot,
    Supervision,
};
pub use supervisor::{HandlerSupervised, Outputs, SelfSupervised, Supervisor};

/// What generated code names. Not part of the public API: no semver promise.
#[doc(hidden)]
pub mod __private {
    pub use smallvec;
    pub use tokio;
    pub use tracing;

    // What `#[handler_supervised]`, `#[self_supervised]` and the derives of `stagewise-macros` generate code against.
    pub use crate::{
        Action, Actions, ActionsOf, BoxError, Control, ControlPolicy, Decision, DefaultCapacity, Directive, Ending,
        EventVariant, HandlerSupervised, Inline, Machine, SelfSupervised, StageId, StateTimeout, StateVariant,
        Supervisor, Unhandled, WriterId,
    };
    pub use std::string::String;

    pub use crate::inbox::{wait_inbox, with_inbox, EventInbox, InboxReader};
    pub use crate::macro_support::{
        build_failed, complete, decide, dispatch, dispatch_future, dispatch_sync, dispatch_sync_future, dispatched,
        failure_codec, CheckedFailure, CompletionFn, DecisionFn, DispatchFn, FailedStateField, FailedStateFn,
        FailureCodec, FailureMessage, StageMethodOf, SupervisorName, SyncDispatchFn, Unknown,
    };

    /// The ids a stage struct carries, implemented by `#[derive(Stage)]` from its `#[stage_id]` (and optional
    /// `#[writer_id]`) field; the generated `HandlerSupervised` impl reads them from here.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` does not say which field is its stage id",
        label = "this stage struct needs `#[derive(stagewise::Stage)]`",
        note = "add `#[derive(stagewise::Stage)]` to the stage struct: its `StageId` field (or the one marked `#[stage_id]`) is the stage id"
    )]
    pub trait StageFields {
        /// The stage's id.
        fn stage_id(&self) -> StageId;
        /// The writer id of what the stage writes; the stage's own unless a `#[writer_id]` field says otherwise.
        fn writer_id(&self) -> WriterId {
            WriterId::Stage(self.stage_id())
        }
    }

    /// Turns what a user's dispatch method returns into what the run loop expects, so the method may use any error
    /// type that converts into [`BoxError`].
    #[inline]
    pub fn dispatch_result<E, Err>(result: Result<Directive<E>, Err>) -> Result<Directive<E>, BoxError>
    where
        Err: Into<BoxError>,
    {
        result.map_err(Into::into)
    }

    /// Debug builds: panics when a function transition chose a state its `to = [..]` list does not name.
    #[track_caller]
    pub fn check_target<S: StateVariant, A>(decision: &Decision<S, A>, allowed: fn(&S) -> bool, function: &str) {
        if let Decision::Goto { next, .. } = decision {
            assert!(allowed(next), "{function} chose state {}, which its `to = [..]` list does not name", next.name());
        }
    }
}
