//! The orchestrator of a pipeline: a self-supervised machine, run by the same loop as every stage, that starts the
//! stages, tracks each one's lifecycle, applies the pipeline's failure policy and drains the stages on request.
//!
//! ```text
//! Running --Drain--> Draining --(all ended)--> Completed
//! Running --Stop---> Stopping --(all ended)--> Cancelled       (a second Stop stops the stages at once; stages
//!                                                               that fail because of it do not fail the pipeline)
//! any active state --failure--> Failed: drains the rest, waits for them, terminates
//! Draining --deadline--> Stopping
//! ```
//! Never a hang: with a drain deadline, stages still running that long after Drain are sent Stop, and stages still
//! running that long after Stop are aborted (each records Cancelled). A third Stop aborts at once.
//! A stage failure is the orchestrator's failure: with [`FailurePolicy::FailPipeline`] at once, with
//! [`FailurePolicy::LetOthersFinish`] once every stage has ended.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::select_all;
use futures_util::FutureExt;
use tokio::time::Instant;

use crate::action::Action;
use crate::control::{Control, ControlPolicy};
use crate::directive::Directive;
use crate::error::BoxError;
use crate::handle::{HandleError, StageHandle};
use crate::journal::Journal;
use crate::lifecycle::{Lifecycle, LifecycleRecord};
use crate::machine::{Decision, Ending, EventVariant, Machine, StateVariant};
use crate::supervisor::{SelfSupervised, Supervisor};

use super::outcome::StageOutcome;
use super::policy::FailurePolicy;

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

    fn ending(&self) -> Option<Ending> {
        match self {
            OrchestratorState::Completed => Some(Ending::Completed),
            OrchestratorState::Failed => Some(Ending::Failed),
            OrchestratorState::Cancelled => Some(Ending::Cancelled),
            _ => None,
        }
    }

    fn control_policy(&self) -> ControlPolicy {
        ControlPolicy::Poll
    }
}

/// The events of an orchestrator.
#[derive(Debug)]
pub enum OrchestratorEvent {
    /// Drain the pipeline.
    Drain,
    /// Stop the pipeline: drain it, or stop every stage at once if it is stopping already.
    Stop,
    /// A stage ended without failing the pipeline.
    StageEnded,
    /// Every stage has ended.
    AllEnded,
    /// The pipeline's handle is gone; nothing changes, the pipeline runs to its end.
    ControlClosed,
    /// Stages told to drain or stop are still running at the drain deadline.
    DeadlinePassed,
    /// The failure path: a stage failed under the policy, or the orchestrator itself did.
    Failure(String),
}

impl EventVariant for OrchestratorEvent {
    fn name(&self) -> &'static str {
        match self {
            OrchestratorEvent::Drain => "Drain",
            OrchestratorEvent::Stop => "Stop",
            OrchestratorEvent::StageEnded => "StageEnded",
            OrchestratorEvent::AllEnded => "AllEnded",
            OrchestratorEvent::ControlClosed => "ControlClosed",
            OrchestratorEvent::DeadlinePassed => "DeadlinePassed",
            OrchestratorEvent::Failure(_) => "Failure",
        }
    }
}

/// The effects of an orchestrator: control messages to its stages.
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
}

impl Action<OrchestratorContext> for OrchestratorAction {
    fn name(&self) -> &'static str {
        match self {
            OrchestratorAction::StartAll => "StartAll",
            OrchestratorAction::DrainAll => "DrainAll",
            OrchestratorAction::StopAll => "StopAll",
            OrchestratorAction::AbortAll => "AbortAll",
        }
    }

    async fn execute(self, ctx: &mut OrchestratorContext) -> Result<(), BoxError> {
        let control = match self {
            OrchestratorAction::StartAll => Control::Start,
            OrchestratorAction::DrainAll => {
                ctx.deadline = ctx.deadline.or_else(|| ctx.drain_timeout.map(|t| Instant::now() + t));
                Control::Drain
            }
            OrchestratorAction::StopAll => {
                ctx.stopped_at_once = true;
                ctx.deadline = ctx.drain_timeout.map(|t| Instant::now() + t);
                Control::Stop
            }
            OrchestratorAction::AbortAll => {
                ctx.stopped_at_once = true;
                ctx.deadline = None;
                for slot in ctx.slots.iter().filter(|slot| slot.outcome.is_none()) {
                    tracing::warn!(stage = slot.name, "aborting a stage that did not stop");
                    slot.handle.abort();
                }
                return Ok(());
            }
        };
        for slot in ctx.slots.iter().filter(|slot| slot.outcome.is_none()) {
            // A full control channel already holds messages the stage has yet to read; an ended stage needs none.
            if let Err(e) = slot.handle.try_send(control) {
                tracing::debug!(stage = slot.name, ?control, error = %e, "control message not delivered");
            }
        }
        Ok(())
    }
}

/// What a wait for the stages saw.
enum Ended {
    /// A stage ended, naming its failure if it failed.
    Stage(Option<String>),
    DeadlinePassed,
}

struct Slot {
    name: &'static str,
    id: crate::event::StageId,
    handle: StageHandle,
    outcome: Option<Result<LifecycleRecord, HandleError>>,
}

/// What the orchestrator reads and writes: the stages' handles, their outcomes so far, the policy.
pub struct OrchestratorContext {
    slots: Vec<Slot>,
    policy: FailurePolicy,
    /// The first stage failure, under [`FailurePolicy::LetOthersFinish`], until every stage has ended.
    first_failure: Option<String>,
    /// Set once every stage was told to stop at once. A stage blocked sending to a stage that stopped then fails
    /// ("the downstream stage has stopped reading"); that is the stop's doing, so it no longer fails the pipeline.
    stopped_at_once: bool,
    /// How long stages may take to end once told to drain or stop; `None` waits for ever.
    drain_timeout: Option<Duration>,
    /// When the stages told to drain or stop are stopped, or aborted, if still running.
    deadline: Option<Instant>,
    report: Arc<Mutex<Vec<Option<StageOutcome>>>>,
    /// Where the stages write their lifecycle records, and how long it was before they started: the order of their
    /// Failed records tells the failure that caused the others.
    journal: Arc<dyn Journal<LifecycleRecord>>,
    journal_start: u64,
}

impl std::fmt::Debug for OrchestratorContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrchestratorContext")
            .field("stages", &self.slots.iter().map(|s| s.name).collect::<Vec<_>>())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl OrchestratorContext {
    /// Tracks `stages` (already spawned) under `policy`, publishing each stage's outcome to `report` as it ends.
    pub(crate) fn new(
        stages: Vec<StageHandle>,
        ids: Vec<crate::event::StageId>,
        policy: FailurePolicy,
        report: Arc<Mutex<Vec<Option<StageOutcome>>>>,
        journal: Arc<dyn Journal<LifecycleRecord>>,
        journal_start: u64,
        drain_timeout: Option<Duration>,
    ) -> Self {
        let slots = stages
            .into_iter()
            .zip(ids)
            .map(|(handle, id)| Slot { name: handle.supervisor(), id, handle, outcome: None })
            .collect();
        Self {
            slots,
            policy,
            first_failure: None,
            stopped_at_once: false,
            drain_timeout,
            deadline: None,
            report,
            journal,
            journal_start,
        }
    }

    fn running(&self) -> bool {
        self.slots.iter().any(|slot| slot.outcome.is_none())
    }

    /// Waits for the next stage to end, or for the drain deadline to pass.
    async fn next_ended_by_deadline(&mut self) -> Ended {
        let Some(deadline) = self.deadline else {
            return Ended::Stage(self.next_ended().await);
        };
        tokio::select! {
            failure = self.next_ended() => Ended::Stage(failure),
            () = tokio::time::sleep_until(deadline) => {
                self.deadline = None;
                Ended::DeadlinePassed
            }
        }
    }

    /// Waits for the next stage to end, records its outcome and returns the failure it names, if any.
    /// Cancel-safe: [`StageHandle::outcome`] is.
    async fn next_ended(&mut self) -> Option<String> {
        let waiting = self
            .slots
            .iter_mut()
            .enumerate()
            .filter(|(_, slot)| slot.outcome.is_none())
            .map(|(index, slot)| Box::pin(async move { (index, slot.handle.outcome().await) }));
        let ((index, outcome), _, _) = select_all(waiting).await;
        let slot = &mut self.slots[index];
        let failure = match &outcome {
            Ok(LifecycleRecord { lifecycle: Lifecycle::Failed { error, .. }, .. }) => {
                Some(format!("stage {} ({}) failed: {error}", slot.name, slot.id))
            }
            Ok(_) => None,
            Err(e) => Some(format!("stage {} ({}) failed: {e}", slot.name, slot.id)),
        };
        tracing::debug!(stage = slot.name, failed = failure.is_some(), "stage ended");
        lock(&self.report)[index] = Some(StageOutcome { name: slot.name, id: slot.id, outcome: outcome.clone() });
        slot.outcome = Some(outcome);
        failure
    }
}

impl OrchestratorContext {
    /// The failure that started it all, once `observed` is known: when one stage fails, the stages linked to it fail
    /// or end soon after, and they may be seen first. Collects every stage that has ended by now, then names the stage
    /// whose Failed record was journaled first.
    fn root_cause(&mut self, observed: String) -> String {
        while self.running() {
            match self.next_ended().now_or_never() {
                Some(_) => {}
                None => break,
            }
        }
        let ids: Vec<_> = self.slots.iter().map(|slot| slot.id).collect();
        let first = self.journal.read_from(self.journal_start).ok().and_then(|records| {
            records.into_iter().find(|r| {
                matches!(r.lifecycle, Lifecycle::Failed { .. }) && r.stage.is_some_and(|id| ids.contains(&id))
            })
        });
        match first {
            Some(LifecycleRecord {
                supervisor, stage: Some(id), lifecycle: Lifecycle::Failed { error, .. }, ..
            }) => {
                format!("stage {supervisor} ({id}) failed: {error}")
            }
            _ => observed,
        }
    }
}

impl Drop for OrchestratorContext {
    /// An orchestrator dropped before its stages ended (an aborted pipeline) takes its stages with it: each records
    /// Cancelled.
    fn drop(&mut self) {
        for slot in self.slots.iter().filter(|slot| slot.outcome.is_none()) {
            slot.handle.abort();
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Machine for Orchestrator {
    type State = OrchestratorState;
    type Event = OrchestratorEvent;
    type Context = OrchestratorContext;
    type Action = OrchestratorAction;

    fn transition(
        state: &OrchestratorState,
        event: OrchestratorEvent,
        ctx: &mut OrchestratorContext,
    ) -> Decision<OrchestratorState, OrchestratorAction> {
        use OrchestratorAction::{AbortAll, DrainAll, StopAll};
        use OrchestratorEvent as E;
        use OrchestratorState as S;
        // Each escalation of a stop goes one step further: drain, then stop at once, then abort.
        let harder = if ctx.stopped_at_once { AbortAll } else { StopAll };
        match (state, event) {
            (S::Running, E::Drain) => Decision::goto_with(S::Draining, [DrainAll]),
            (S::Running | S::Draining, E::Stop) => Decision::goto_with(S::Stopping, [DrainAll]),
            (S::Draining, E::DeadlinePassed) => Decision::goto_with(S::Stopping, [harder]),
            (S::Stopping, E::Stop | E::DeadlinePassed) | (S::Failed, E::DeadlinePassed) => {
                Decision::stay_with([harder])
            }
            (S::Draining | S::Stopping, E::Drain) => Decision::stay_with([]),
            (S::Running | S::Draining | S::Stopping, E::StageEnded | E::ControlClosed) => Decision::stay_with([]),
            (S::Running | S::Draining, E::AllEnded) => Decision::goto(S::Completed),
            (S::Stopping, E::AllEnded) => Decision::goto(S::Cancelled),
            (S::Running | S::Draining | S::Stopping, E::Failure(_)) => Decision::goto_with(S::Failed, [DrainAll]),
            (S::Failed, E::Failure(_)) => Decision::stay_with([]),
            _ => Decision::Unhandled,
        }
    }

    fn on_entry(state: &OrchestratorState, actions: &mut crate::machine::Actions<OrchestratorAction>) {
        if *state == OrchestratorState::Running {
            actions.push(OrchestratorAction::StartAll);
        }
    }

    fn control_event(control: Control) -> Option<OrchestratorEvent> {
        match control {
            Control::Start => None,
            Control::Drain => Some(OrchestratorEvent::Drain),
            Control::Stop => Some(OrchestratorEvent::Stop),
        }
    }

    fn control_closed(_state: &OrchestratorState) -> Option<OrchestratorEvent> {
        Some(OrchestratorEvent::ControlClosed)
    }
}

impl Supervisor for Orchestrator {
    fn name(&self) -> &'static str {
        self.name
    }
}

impl SelfSupervised for Orchestrator {
    async fn dispatch_state(
        &mut self,
        state: &OrchestratorState,
        ctx: &mut OrchestratorContext,
    ) -> Result<Directive<OrchestratorEvent>, BoxError> {
        match state {
            OrchestratorState::Running | OrchestratorState::Draining | OrchestratorState::Stopping => {
                if !ctx.running() {
                    return match ctx.first_failure.take() {
                        Some(failure) => Err(ctx.root_cause(failure).into()),
                        None => Ok(Directive::Transition(OrchestratorEvent::AllEnded)),
                    };
                }
                match ctx.next_ended_by_deadline().await {
                    Ended::DeadlinePassed => Ok(Directive::Transition(OrchestratorEvent::DeadlinePassed)),
                    Ended::Stage(Some(_)) if ctx.stopped_at_once => {
                        Ok(Directive::Transition(OrchestratorEvent::StageEnded))
                    }
                    Ended::Stage(Some(failure)) if ctx.policy == FailurePolicy::FailPipeline => {
                        Err(ctx.root_cause(failure).into())
                    }
                    Ended::Stage(Some(failure)) => {
                        ctx.first_failure.get_or_insert(failure);
                        Ok(Directive::Transition(OrchestratorEvent::StageEnded))
                    }
                    Ended::Stage(None) => Ok(Directive::Transition(OrchestratorEvent::StageEnded)),
                }
            }
            // The failed state waits for the rest to drain (or be stopped, or aborted, at the deadline).
            OrchestratorState::Failed => {
                while ctx.running() {
                    if let Ended::DeadlinePassed = ctx.next_ended_by_deadline().await {
                        return Ok(Directive::Transition(OrchestratorEvent::DeadlinePassed));
                    }
                }
                Ok(Directive::Terminate)
            }
            OrchestratorState::Completed | OrchestratorState::Cancelled => Ok(Directive::Terminate),
        }
    }

    fn event_for_action_error(&self, message: String) -> OrchestratorEvent {
        OrchestratorEvent::Failure(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::MemoryJournal;
    use crate::machine::{StateMachine, Step};
    use OrchestratorAction::{AbortAll, DrainAll, StopAll};
    use OrchestratorEvent as E;
    use OrchestratorState as S;

    fn context() -> OrchestratorContext {
        let journal = Arc::new(MemoryJournal::new());
        let report = Arc::new(Mutex::new(Vec::new()));
        OrchestratorContext::new(Vec::new(), Vec::new(), FailurePolicy::FailPipeline, report, journal, 0, None)
    }

    /// Feeds `event` in `state`; the state reached and the actions asked for.
    fn turn(state: S, event: E, ctx: &mut OrchestratorContext) -> (S, Vec<OrchestratorAction>) {
        let mut machine = StateMachine::<Orchestrator>::new(state);
        match machine.handle(event, ctx) {
            Step::Turned { actions, .. } => (*machine.state(), actions.into_iter().collect()),
            other => panic!("{state:?} did not turn: {other:?}"),
        }
    }

    #[test]
    fn drain_and_stop_escalate_one_step_at_a_time() {
        let ctx = &mut context();
        assert_eq!(turn(S::Running, E::Drain, ctx), (S::Draining, vec![DrainAll]));
        assert_eq!(turn(S::Running, E::Stop, ctx), (S::Stopping, vec![DrainAll]));
        assert_eq!(turn(S::Draining, E::Stop, ctx), (S::Stopping, vec![DrainAll]));
        assert_eq!(turn(S::Draining, E::DeadlinePassed, ctx), (S::Stopping, vec![StopAll]));
        assert_eq!(turn(S::Stopping, E::Stop, ctx), (S::Stopping, vec![StopAll]));
        ctx.stopped_at_once = true;
        assert_eq!(turn(S::Stopping, E::Stop, ctx), (S::Stopping, vec![AbortAll]));
        assert_eq!(turn(S::Failed, E::DeadlinePassed, ctx), (S::Failed, vec![AbortAll]));
    }

    #[test]
    fn the_end_depends_on_how_the_stages_were_asked_to_end() {
        let ctx = &mut context();
        assert_eq!(turn(S::Running, E::AllEnded, ctx), (S::Completed, vec![]));
        assert_eq!(turn(S::Draining, E::AllEnded, ctx), (S::Completed, vec![]));
        assert_eq!(turn(S::Stopping, E::AllEnded, ctx), (S::Cancelled, vec![]));
        for state in [S::Running, S::Draining, S::Stopping] {
            assert_eq!(turn(state, E::Failure("boom".into()), ctx), (S::Failed, vec![DrainAll]));
        }
        assert_eq!(turn(S::Failed, E::Failure("again".into()), ctx), (S::Failed, vec![]), "idempotent when failed");
        assert_eq!(turn(S::Running, E::ControlClosed, ctx), (S::Running, vec![]), "a dropped handle changes nothing");
    }
}
