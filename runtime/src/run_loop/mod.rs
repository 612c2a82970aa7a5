//! The one generic supervised run loop: the single gateway that feeds events to a machine and executes its actions,
//! and that turns every error, panic, rejected event, closed channel and timeout into the machine's failure path.
//!
//! One concern per file:
//! - this file: the public entry points (`run_handler_supervised`, `run_self_supervised`, the `run` extensions);
//! - [`supervision`]: what a run is connected to (control channel, state watch, lifecycle journal, counters);
//! - [`state_cell`]: where the run publishes its state;
//! - [`recorder`]: the lifecycle records, and the drop guard that writes one when a run is aborted;
//! - [`timer`]: the current state's timeout;
//! - [`wake`]: what can interrupt dispatch (control, the timeout) and how the loop races them;
//! - [`run`]: the run's core: the hot path of steady turns, feeding events, running actions;
//! - [`interruption`]: control messages, a closed channel, timeouts and Terminate, off the hot path;
//! - [`failure`]: the failure path and escalation;
//! - [`ending`]: writing the completion and the terminal record.

mod ending;
mod failure;
mod interruption;
mod phase;
mod recorder;
mod run;
mod state_cell;
mod supervision;
mod timer;
mod wake;

use std::future::Future;

use crate::error::Escalation;
use crate::lifecycle::LifecycleRecord;
use crate::supervisor::{HandlerSupervised, SelfSupervised};

pub(crate) use state_cell::StateCell;
pub use state_cell::StateSnapshot;
pub use supervision::Supervision;

/// What a run returns: its final lifecycle record, or the escalation that stopped it.
pub type RunResult = Result<LifecycleRecord, Escalation>;

/// Runs a handler-supervised stage from `initial` until it terminates: the one supervised run loop, as a future to
/// await or spawn. [`spawn_handler_supervised`](crate::handle::spawn_handler_supervised) wraps it in a task with a
/// handle; call it directly to run a stage inside a task of your own, with the [`Supervision`] you choose.
///
/// ```
/// use std::sync::Arc;
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::journal::{Journal, MemoryJournal};
/// use stagewise_runtime::lifecycle::{Lifecycle, LifecycleRecord};
/// use stagewise_runtime::{run_handler_supervised, Supervision};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
/// let record = run_handler_supervised(Countdown::new(5), CountdownState::Counting, 0, Supervision::new(journal.clone()))
///     .await
///     .expect("no escalation");
/// assert!(matches!(record.lifecycle, Lifecycle::Completed { .. }));
/// assert_eq!(journal.len(), 2); // Started, then Completed
/// # }
/// ```
///
/// # Errors
/// An [`Escalation`] when a failure happened while handling a failure, or the lifecycle journal refused a record;
/// its `record` is the terminal record.
pub fn run_handler_supervised<S: HandlerSupervised>(
    stage: S,
    initial: S::State,
    ctx: S::Context,
    supervision: Supervision,
) -> impl Future<Output = RunResult> + Send {
    let (writer, id) = (stage.writer_id(), stage.stage_id());
    run::drive(stage, writer, Some(id), initial, ctx, supervision)
}

/// Runs a self-supervised orchestrator from `initial` until it terminates.
///
/// # Errors
/// As [`run_handler_supervised`].
pub fn run_self_supervised<S: SelfSupervised>(
    orchestrator: S,
    initial: S::State,
    ctx: S::Context,
    supervision: Supervision,
) -> impl Future<Output = RunResult> + Send {
    let writer = orchestrator.writer_id();
    run::drive(orchestrator, writer, None, initial, ctx, supervision)
}

/// `run` for every handler-supervised stage.
pub trait HandlerSupervisedExt: HandlerSupervised {
    /// Runs the stage with default supervision: no control channel, lifecycle records kept in memory.
    fn run(self, initial: Self::State, ctx: Self::Context) -> impl Future<Output = RunResult> + Send {
        run_handler_supervised(self, initial, ctx, Supervision::default())
    }
}

impl<T: HandlerSupervised> HandlerSupervisedExt for T {}

/// `run` for every self-supervised orchestrator.
pub trait SelfSupervisedExt: SelfSupervised {
    /// Runs the orchestrator with default supervision.
    fn run(self, initial: Self::State, ctx: Self::Context) -> impl Future<Output = RunResult> + Send {
        run_self_supervised(self, initial, ctx, Supervision::default())
    }
}

impl<T: SelfSupervised> SelfSupervisedExt for T {}
