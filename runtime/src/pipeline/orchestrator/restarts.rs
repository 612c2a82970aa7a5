//! The orchestrator as a supervisor of restartable stages: when a run ends, whether the stage comes back (its restart
//! type, its intensity), after which delay (its backoff), with which siblings (the pipeline's strategy); the records
//! of each decision; the fresh instances; and the events a stage held when its run ended.

use std::borrow::Cow;
use std::time::Duration;

use tokio::time::Instant;

use crate::control::Control;
use crate::counters::CounterSnapshot;
use crate::error::{panic_message, BoxError};
use crate::event::WriterId;
use crate::handle::HandleError;
use crate::lifecycle::{Lifecycle, LifecycleRecord};
use crate::restart::RestartType;

use super::super::error_journal::ErrorRecord;
use super::super::held::lock;
use super::context::{Phase, Seen};
use super::OrchestratorContext;

/// How a run ended, for records: "failed: ...", "completed", "was cancelled: ...".
fn ended_because(ending: &Lifecycle) -> String {
    match ending {
        Lifecycle::Failed { error, .. } => format!("failed: {error}"),
        Lifecycle::Cancelled { reason } => format!("was cancelled: {reason}"),
        other => format!("ended: {other:?}").to_lowercase(),
    }
}

impl OrchestratorContext {
    /// A run of stage `index` ended with `outcome`: record what it held, then restart it (after its backoff, with
    /// the siblings the strategy names), give up on it (past its intensity), or let it end for good.
    pub(super) fn on_ended(
        &mut self,
        index: usize,
        outcome: Result<LifecycleRecord, HandleError>,
        restarting: bool,
    ) -> Result<Seen, BoxError> {
        let now = Instant::now();
        let ending = match &outcome {
            Ok(record) => record.lifecycle.clone(),
            Err(e) => Lifecycle::Failed { error: e.to_string(), escalation: None },
        };
        let cause = ended_because(&ending);
        let (name, id) = (self.slots[index].name, self.slots[index].id);
        self.settle_held(index, &outcome);
        let slot = &mut self.slots[index];
        if let Phase::Stopping { restart_at, .. } = slot.phase {
            if restarting {
                slot.phase = Phase::Waiting { at: restart_at, last: outcome };
                return Ok(Seen::Ended(None));
            }
            return Ok(Seen::Ended(self.finish(index, outcome)));
        }
        // A completion that ended the stage's work (end of stream came through its inlet or went out through its
        // outlet, or the pipeline drains) is final whatever the restart type: a fresh instance would find nothing to
        // read, fail, and loop until the intensity gives up.
        // Nor is a failure after its stream ended (a flush at end of stream failing): the end of stream was taken by
        // the instance that failed, so a fresh one would find its input closed without it and fail on that, hiding
        // the real cause until the intensity gives up. The failure stands, and the pipeline's policy applies. A stage
        // that sent end of stream on (a finite source) is done the same way: a fresh one would send behind the end.
        let stream_ended = slot.restart.as_ref().is_some_and(|r| r.respawn.stream_ended());
        let work_over = match ending {
            Lifecycle::Completed => self.draining || stream_ended,
            Lifecycle::Failed { .. } => stream_ended,
            _ => false,
        };
        let Some(restarter) =
            slot.restart.as_mut().filter(|r| restarting && !work_over && r.policy.kind.restarts_after(&ending))
        else {
            return Ok(Seen::Ended(self.finish(index, outcome)));
        };
        if !restarter.window.admit(now) {
            let limit = restarter.window.limit();
            let message = format!(
                "stage {name} ({id}) {cause}; gave up after {} restarts (at most {} within {:?})",
                restarter.restarts, limit.max_restarts, limit.within
            );
            self.finish(index, outcome);
            return Ok(Seen::GaveUp(message));
        }
        restarter.restarts += 1;
        let attempt = restarter.restarts;
        let delay = restarter.backoff.next_delay(now);
        restarter.window.waited(delay);
        let at = now + delay;
        let (state, counters) = state_of(&outcome);
        slot.phase = Phase::Waiting { at, last: outcome };
        self.record_restart(index, attempt, delay, cause.clone(), state, counters);
        let shutdown = now + self.config.shutdown;
        for sibling in self.config.strategy.affected(index, self.slots.len()).filter(|&j| j != index) {
            let slot = &mut self.slots[sibling];
            let Some(restarter) = slot.restart.as_mut() else { continue };
            if slot.outcome.is_some()
                || !matches!(slot.phase, Phase::Running)
                || restarter.policy.kind == RestartType::Temporary
            {
                continue;
            }
            restarter.restarts += 1;
            let attempt = restarter.restarts;
            if let Err(e) = slot.handle.try_send(Control::Stop) {
                tracing::debug!(stage = slot.name, error = %e, "stop for a restart not delivered");
            }
            slot.phase = Phase::Stopping { restart_at: at, abort_at: shutdown };
            let why = format!("restarted with stage {name} ({id}), which {cause}");
            let (state, counters) = (Cow::Borrowed(slot.handle.state().name), slot.handle.counters());
            self.record_restart(sibling, attempt, delay, why, state, counters);
        }
        // Failures before this restart have been handled: the root cause of a later failure is after it.
        self.config.journal_start = self.config.journal.len();
        Ok(Seen::Ended(None))
    }

    /// Settles the batch the instance of stage `index` held when its run ended with `outcome`. A run that failed,
    /// or that the orchestrator aborted, may have been in the middle of it: its events go to the error journal. A run
    /// that completed or stopped on a control message ended between two turns, with its last batch passed on (a
    /// transform) or consumed (a sink).
    pub(super) fn settle_held(&mut self, index: usize, outcome: &Result<LifecycleRecord, HandleError>) {
        let slot = &self.slots[index];
        let Some(restarter) = slot.restart.as_ref() else { return };
        let mid_batch = slot.aborted || !matches!(outcome, Ok(r) if !matches!(r.lifecycle, Lifecycle::Failed { .. }));
        let cause = match outcome {
            Ok(record) => ended_because(&record.lifecycle),
            Err(e) => format!("failed: {e}"),
        };
        let held =
            restarter.respawn.take_held(&format!("stage {} ({}) held it when its run {cause}", slot.name, slot.id));
        if mid_batch {
            self.record_errors(held);
        }
    }

    /// Starts again, source first, every stage whose backoff has passed: a fresh instance from its factory,
    /// reconnected to its links, told to start (and to drain, if the pipeline drains).
    ///
    /// # Errors
    /// When a stage's factory cannot have its links back (see [`Respawn::build`]).
    pub(super) fn restart_due(&mut self) -> Result<(), BoxError> {
        let now = Instant::now();
        if !self.restart_due_now(now) {
            return Ok(());
        }
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            let due = slot.outcome.is_none() && matches!(slot.phase, Phase::Waiting { at, .. } if at <= now);
            let Some(restarter) = slot.restart.as_mut().filter(|_| due) else { continue };
            // The factory is the user's code: a panic in it is this stage's, named as such, not the orchestrator's.
            let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| restarter.respawn.build()))
                .unwrap_or_else(|panic| Err(format!("its factory panicked: {}", panic_message(&*panic))));
            let stage =
                built.map_err(|why| format!("stage {} ({}) could not be restarted: {why}", slot.name, slot.id))?;
            let handle = stage.spawn(self.config.options.clone());
            restarter.backoff.started(now);
            tracing::debug!(stage = slot.name, restarts = restarter.restarts, "stage restarted");
            lock(&self.config.views)[index].restarted(&handle, restarter.restarts);
            let _ = handle.try_send(Control::Start);
            if self.draining {
                let _ = handle.try_send(Control::Drain);
            }
            slot.handle = handle;
            slot.phase = Phase::Running;
            slot.aborted = false;
        }
        Ok(())
    }

    /// Gives up every restart not yet done: stages waiting out a backoff end for good with their last run's
    /// outcome; siblings still stopping end for good when they stop.
    pub(super) fn cancel_restarts(&mut self) -> Result<(), BoxError> {
        for index in 0..self.slots.len() {
            match std::mem::replace(&mut self.slots[index].phase, Phase::Running) {
                Phase::Waiting { last, .. } if self.slots[index].outcome.is_none() => {
                    self.finish(index, last);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Closes the links a restartable stage kept, now that it ended for good; what it held or what was still
    /// queued for it goes to the error journal.
    pub(super) fn close_links(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        let (name, id) = (slot.name, slot.id);
        if let Some(restarter) = slot.restart.as_mut() {
            let records = restarter.respawn.close(&format!("stage {name} ({id}) ended for good before passing it on"));
            self.record_errors(records);
        }
    }

    /// Queues `records` for the pipeline's error journal; [`journal_pending`](Self::journal_pending) appends them
    /// before the orchestrator acts on anything else, and a journal that refuses them fails the pipeline.
    fn record_errors(&mut self, records: Vec<ErrorRecord>) {
        self.unjournaled.errors.extend(records);
    }

    /// Queues the record of a restart decision for stage `index` for the lifecycle journal;
    /// [`journal_pending`](Self::journal_pending) appends it and awaits its durability before the stage is started
    /// again (a restart is due only at the orchestrator's next wait, which journals it first).
    fn record_restart(
        &mut self,
        index: usize,
        attempt: u32,
        delay: Duration,
        cause: String,
        state: Cow<'static, str>,
        counters: CounterSnapshot,
    ) {
        let slot = &self.slots[index];
        tracing::info!(stage = slot.name, attempt, ?delay, %cause, "restarting stage");
        let record = LifecycleRecord {
            supervisor: Cow::Borrowed(slot.name),
            writer: WriterId::System,
            stage: Some(slot.id),
            state,
            lifecycle: Lifecycle::Restarting { attempt, delay, cause },
            counters,
        };
        self.unjournaled.restarts.push(record);
    }
}

/// The state a run ended in and its counters, from its final record.
fn state_of(outcome: &Result<LifecycleRecord, HandleError>) -> (Cow<'static, str>, CounterSnapshot) {
    match outcome {
        Ok(record) => (record.state.clone(), record.counters),
        Err(_) => (Cow::Borrowed("escalated"), CounterSnapshot::default()),
    }
}
