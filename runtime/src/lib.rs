//! The runtime of stagewise: long-running tokio stages as explicit, supervised state machines.
//!
//! - [`machine`]: the typed state machine, a pure decision from (state, event, context) to next state and actions.
//! - [`HandlerSupervised`] / [`SelfSupervised`]: what a stage or an orchestrator tells the run loop.
//! - [`run_handler_supervised`]: the one supervised run loop; every error, panic, rejected event, closed channel and
//!   timeout drives the machine down its failure path, and every run ends with exactly one lifecycle record.
//! - [`event`]: stage and writer ids, events with a processing status; [`lifecycle`]: how runs start and end;
//!   [`journal`]: where records go; [`handle`]: spawning and controlling supervisors.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod action;
mod control;
mod counters;
mod directive;
mod error;
pub mod event;
pub mod handle;
pub mod journal;
pub mod lifecycle;
pub mod machine;
mod run_loop;
mod supervisor;

pub use action::Action;
pub use control::{Control, ControlPolicy};
pub use counters::{CounterSnapshot, Counters};
pub use directive::Directive;
pub use error::{BoxError, Escalation};
pub use event::{ChainEvent, ErrorKind, EventId, EventIds, ProcessingStatus, StageContext, StageId, WriterId};
pub use handle::{spawn_handler_supervised, spawn_self_supervised, HandleError, SpawnOptions, StageHandle};
pub use journal::{Durability, FileJournal, Journal, JournalError, JournalOptions, MemoryJournal};
pub use lifecycle::{Lifecycle, LifecycleRecord};
pub use machine::{
    Actions, Decision, Ending, EventVariant, Machine, StateMachine, StateTimeout, StateVariant, Unhandled,
    INLINE_ACTIONS,
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
}
