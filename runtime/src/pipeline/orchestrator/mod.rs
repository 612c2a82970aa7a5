//! The orchestrator of a pipeline: a self-supervised machine, run by the same loop as every stage, that starts the
//! stages, tracks each one's lifecycle, restarts the stages wired with a restart policy, applies the pipeline's
//! failure policy and drains the stages on request.
//!
//! ```text
//! Running --Drain--> Draining --(all ended)--> Completed
//! Running --Stop---> Stopping --(all ended)--> Cancelled       (a second Stop stops the stages at once; stages
//!                                                               that fail because of it do not fail the pipeline)
//! any active state --failure--> Failed: drains the rest, waits for them, terminates
//! Draining --deadline--> Stopping
//! Running/Draining --restart due--> same state, the due stages started again
//! ```
//! Never a hang: with a drain deadline, stages still running that long after Drain are sent Stop, and stages still
//! running that long after Stop are aborted (each records Cancelled). A third Stop aborts at once.
//! A stage failure is the orchestrator's failure: with [`FailurePolicy`](super::FailurePolicy)`::FailPipeline` at
//! once, with `LetOthersFinish` once every stage has ended. A restartable stage's failure is not, while its restart
//! intensity holds; past it the orchestrator gives up and fails, naming the stage and its restarts.
//! A Stop while a restart waits out its backoff cancels the restart and stops every stage at once: a pipeline cannot
//! drain through a stage that is not running.

mod context;
mod machine;
mod records;
mod restarter;
mod restarts;

use crate::action::Action;
use crate::control::Control;
use crate::error::BoxError;
use crate::machine::{EventVariant, StateVariant};

pub use context::OrchestratorContext;
pub(crate) use context::{OrchestratorConfig, StageSlot};
pub(crate) use restarter::Restarter;

/// The orchestrator of one pipeline.
#[derive(Debug)]
pub struct Orchestrator {
    name: &'static str,
}

impl Orchestrator {
    /// The orchestrator of the pipeline called `name`.
    pub fn new(name: &'static str) -> Self {
        Self { name }
    }
}

/// The states of an orchestrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrchestratorState {
    /// The stages run.
    Running,
    /// The stages were told to drain; the pipeline completes when all have ended.
    Draining,
    /// A stop was asked for: the stages drain and the pipeline records Cancelled.
    Stopping,
    /// Every stage completed.
    Completed,
    /// A stage failed (or the orchestrator did); the rest drain before the run ends.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl StateVariant for OrchestratorState {
    fn name(&self) -> &'static str {
        match self {
            OrchestratorState::Running => "Running",
            OrchestratorState::Draining => "Draining",
            OrchestratorState::Stopping => "Stopping",
            OrchestratorState::Completed => "Completed",
            OrchestratorState::Failed => "Failed",
            OrchestratorState::Cancelled => "Cancelled",
        }
    }

    fn ending(&self) -> Option<crate::machine::Ending> {
        use crate::machine::Ending;
        match self {
            OrchestratorState::Completed => Some(Ending::Completed),
            OrchestratorState::Failed => Some(Ending::Failed),
            OrchestratorState::Cancelled => Some(Ending::Cancelled),
            _ => None,
        }
    }

    fn control_policy(&self) -> crate::control::ControlPolicy {
        crate::control::ControlPolicy::Poll
    }
}

/// The events of an orchestrator.
#[derive(Debug)]
pub enum OrchestratorEvent {
    /// Drain the pipeline.
    Drain,
    /// Stop the pipeline: drain it, or stop every stage at once if it is stopping already.
    Stop,
    /// A stage ended without failing the pipeline (it may be restarted).
    StageEnded,
    /// The backoff of one or more stages waiting to restart has passed.
    RestartDue,
    /// Every stage has ended.
    AllEnded,
    /// The pipeline's handle is gone; nothing changes, the pipeline runs to its end.
    ControlClosed,
    /// Stages told to drain or stop are still running at the drain deadline.
    DeadlinePassed,
    /// The failure path: a stage failed under the policy, a restart gave up, or the orchestrator itself failed.
    Failure(String),
}

impl EventVariant for OrchestratorEvent {
    fn name(&self) -> &'static str {
        match self {
            OrchestratorEvent::Drain => "Drain",
            OrchestratorEvent::Stop => "Stop",
            OrchestratorEvent::StageEnded => "StageEnded",
            OrchestratorEvent::RestartDue => "RestartDue",
            OrchestratorEvent::AllEnded => "AllEnded",
            OrchestratorEvent::ControlClosed => "ControlClosed",
            OrchestratorEvent::DeadlinePassed => "DeadlinePassed",
            OrchestratorEvent::Failure(_) => "Failure",
        }
    }
}

/// The effects of an orchestrator: control messages to its stages, and their restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrchestratorAction {
    /// Send Start to every stage.
    StartAll,
    /// Send Drain to every stage still running, source first.
    DrainAll,
    /// Send Stop to every stage still running.
    StopAll,
    /// Abort every stage still running; each records Cancelled.
    AbortAll,
    /// Start again, source first, every stage whose backoff has passed.
    Restart,
    /// Give up every restart not yet done: those stages stay ended and their links close.
    CancelRestarts,
}

impl Action<OrchestratorContext> for OrchestratorAction {
    fn name(&self) -> &'static str {
        match self {
            OrchestratorAction::StartAll => "StartAll",
            OrchestratorAction::DrainAll => "DrainAll",
            OrchestratorAction::StopAll => "StopAll",
            OrchestratorAction::AbortAll => "AbortAll",
            OrchestratorAction::Restart => "Restart",
            OrchestratorAction::CancelRestarts => "CancelRestarts",
        }
    }

    async fn execute(self, ctx: &mut OrchestratorContext) -> Result<(), BoxError> {
        match self {
            OrchestratorAction::StartAll => ctx.send_all(Control::Start),
            OrchestratorAction::DrainAll => {
                ctx.arm_deadline(false);
                ctx.draining = true;
                ctx.stop_input();
                ctx.send_all(Control::Drain);
            }
            OrchestratorAction::StopAll => {
                ctx.stopped_at_once = true;
                ctx.arm_deadline(true);
                ctx.stop_input();
                ctx.send_all(Control::Stop);
            }
            OrchestratorAction::AbortAll => ctx.abort_all(),
            OrchestratorAction::Restart => return ctx.restart_due(),
            OrchestratorAction::CancelRestarts => return ctx.cancel_restarts(),
        }
        Ok(())
    }
}
