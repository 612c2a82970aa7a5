//! What the orchestrator reads and writes: a slot per stage (its handle, how it ended, whether it waits to restart),
//! the pipeline's policies and journals, and the waits of its dispatch.

use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::select_all;
use futures_util::FutureExt;
use tokio::time::Instant;

use crate::control::Control;
use crate::error::BoxError;
use crate::event::StageId;
use crate::handle::{HandleError, SpawnOptions, StageHandle};
use crate::journal::Journal;
use crate::lifecycle::{Lifecycle, LifecycleRecord};
use crate::restart::RestartStrategy;

use super::super::durable::InputStop;
use super::super::error_journal::ErrorJournal;
use super::super::held::lock;
use super::super::outcome::StageOutcome;
use super::super::policy::FailurePolicy;
use super::super::view::StageView;
use super::records::Unjournaled;
use super::restarter::Restarter;

/// A spawned stage handed to the orchestrator, with its restarter when it was wired with a restart policy.
pub(crate) struct StageSlot {
    pub(crate) handle: StageHandle,
    pub(crate) id: StageId,
    pub(crate) restart: Option<Restarter>,
}

/// The pipeline-wide settings the orchestrator works with.
pub(crate) struct OrchestratorConfig {
    pub(crate) policy: FailurePolicy,
    pub(crate) strategy: RestartStrategy,
    pub(crate) drain_timeout: Option<Duration>,
    /// Raised when the pipeline drains or stops: the durable input it starts at (written in another process) ends
    /// this run.
    pub(crate) input_stop: Option<InputStop>,
    /// How long a sibling stopped for a restart may take to end before it is aborted.
    pub(crate) shutdown: Duration,
    pub(crate) journal: Arc<dyn Journal<LifecycleRecord>>,
    pub(crate) journal_start: u64,
    pub(crate) errors: ErrorJournal,
    pub(crate) options: SpawnOptions,
    pub(crate) report: Arc<Mutex<Vec<Option<StageOutcome>>>>,
    pub(crate) views: Arc<Mutex<Vec<StageView>>>,
}

/// Where a stage that has not ended for good is.
pub(super) enum Phase {
    /// Its instance runs.
    Running,
    /// Its instance was told to stop because a sibling restarts; it restarts with it, at `restart_at`.
    Stopping { restart_at: Instant, abort_at: Instant },
    /// Its last instance ended; the next starts at `at`. `last` is how the last one ended, its outcome if the
    /// restart is given up.
    Waiting { at: Instant, last: Result<LifecycleRecord, HandleError> },
}

pub(super) struct Slot {
    pub(super) name: &'static str,
    pub(super) id: StageId,
    pub(super) handle: StageHandle,
    /// How the stage ended for good: it will not be restarted.
    pub(super) outcome: Option<Result<LifecycleRecord, HandleError>>,
    pub(super) restart: Option<Restarter>,
    pub(super) phase: Phase,
    /// The orchestrator aborted the running instance: it may have been stopped in the middle of a batch.
    pub(super) aborted: bool,
}

/// What a wait of the orchestrator saw.
pub(super) enum Seen {
    /// A stage ended, naming its failure if it failed the pipeline; or a restart was decided.
    Ended(Option<String>),
    /// A restartable stage failed past its intensity: the pipeline fails with this message.
    GaveUp(String),
    /// The backoff of a stage waiting to restart has passed.
    RestartDue,
    DeadlinePassed,
}

/// What the orchestrator reads and writes: the stages' slots, their outcomes so far, the policies.
pub struct OrchestratorContext {
    pub(super) slots: Vec<Slot>,
    pub(super) config: OrchestratorConfig,
    pub(super) policy: FailurePolicy,
    /// The first stage failure, under [`FailurePolicy::LetOthersFinish`], until every stage has ended.
    pub(super) first_failure: Option<String>,
    /// Set once every stage was told to stop at once. A stage blocked sending to a stage that stopped then fails
    /// ("the downstream stage has stopped reading"); that is the stop's doing, so it no longer fails the pipeline.
    pub(super) stopped_at_once: bool,
    /// Set once the stages were told to drain: a stage restarted after it is told to drain too.
    pub(super) draining: bool,
    /// When the stages told to drain or stop are stopped, or aborted, if still running.
    deadline: Option<Instant>,
    /// The error journal refused the events of a failed stage: the pipeline fails with this.
    pub(super) errors_failed: Option<String>,
    /// Records queued by synchronous steps, appended and awaited before the orchestrator acts on anything else.
    pub(super) unjournaled: Unjournaled,
}

impl std::fmt::Debug for OrchestratorContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrchestratorContext")
            .field("stages", &self.slots.iter().map(|s| s.name).collect::<Vec<_>>())
            .field("policy", &self.policy)
            .field("strategy", &self.config.strategy)
            .finish_non_exhaustive()
    }
}

impl OrchestratorContext {
    /// Tracks `stages` (already spawned) under `config`, publishing each stage's outcome to its report as it ends.
    pub(crate) fn new(stages: Vec<StageSlot>, config: OrchestratorConfig) -> Self {
        let slots = stages
            .into_iter()
            .map(|s| Slot {
                name: s.handle.supervisor(),
                id: s.id,
                handle: s.handle,
                outcome: None,
                restart: s.restart,
                phase: Phase::Running,
                aborted: false,
            })
            .collect();
        Self {
            slots,
            policy: config.policy,
            config,
            first_failure: None,
            stopped_at_once: false,
            draining: false,
            deadline: None,
            errors_failed: None,
            unjournaled: Unjournaled::default(),
        }
    }

    /// A context without stages, for tests of the machine.
    #[cfg(test)]
    pub(super) fn empty() -> Self {
        let config = OrchestratorConfig {
            policy: FailurePolicy::FailPipeline,
            strategy: RestartStrategy::OnlyFailed,
            drain_timeout: None,
            input_stop: None,
            shutdown: Duration::from_secs(5),
            journal: Arc::new(crate::journal::MemoryJournal::new()),
            journal_start: 0,
            errors: Arc::new(crate::journal::MemoryJournal::new()),
            options: SpawnOptions::default(),
            report: Arc::default(),
            views: Arc::default(),
        };
        Self::new(Vec::new(), config)
    }

    /// True while some stage has not ended for good.
    pub(super) fn running(&self) -> bool {
        self.slots.iter().any(|slot| slot.outcome.is_none())
    }

    /// True while some stage waits to restart.
    pub(super) fn restart_pending(&self) -> bool {
        self.slots.iter().any(|slot| slot.outcome.is_none() && !matches!(slot.phase, Phase::Running))
    }

    /// Sends `control` to every stage still running. A full control channel already holds messages the stage has
    /// yet to read; an ended stage needs none.
    pub(super) fn send_all(&self, control: Control) {
        for slot in self.slots.iter().filter(|slot| slot.outcome.is_none()) {
            if let Err(e) = slot.handle.try_send(control) {
                tracing::debug!(stage = slot.name, ?control, error = %e, "control message not delivered");
            }
        }
    }

    /// The pipeline drains or stops: its durable input, if it starts at one, stops reading (it plays the part of the
    /// source there, which another process runs).
    pub(super) fn stop_input(&self) {
        if let Some(stop) = &self.config.input_stop {
            stop.stop();
        }
    }

    /// Sets the drain deadline: once for a drain, anew for a stop at once.
    pub(super) fn arm_deadline(&mut self, anew: bool) {
        let next = self.config.drain_timeout.map(|t| Instant::now() + t);
        self.deadline = if anew { next } else { self.deadline.or(next) };
    }

    /// Aborts every stage still running; each records Cancelled.
    pub(super) fn abort_all(&mut self) {
        self.stopped_at_once = true;
        self.deadline = None;
        for slot in self.slots.iter_mut().filter(|slot| slot.outcome.is_none()) {
            tracing::warn!(stage = slot.name, "aborting a stage that did not stop");
            slot.aborted = true;
            slot.handle.abort();
        }
    }

    /// Waits for the next thing the orchestrator acts on: a stage's run ends (and is restarted, or ends the stage
    /// for good), a backoff or the drain deadline passes. `restarting` is false once the pipeline shuts down.
    pub(super) async fn next_seen(&mut self, restarting: bool) -> Result<Seen, BoxError> {
        self.journal_pending().await?;
        if let Some(refused) = self.errors_failed.take() {
            return Err(refused.into());
        }
        // A zero backoff restarts at once, not at the timer's next millisecond tick.
        if self.restart_due_now(Instant::now()) {
            return Ok(Seen::RestartDue);
        }
        let timer = self.next_timer();
        let wake = {
            let live: Vec<_> = self
                .slots
                .iter_mut()
                .enumerate()
                .filter(|(_, slot)| slot.outcome.is_none() && !matches!(slot.phase, Phase::Waiting { .. }))
                .map(|(index, slot)| Box::pin(async move { (index, slot.handle.outcome().await) }))
                .collect();
            let ended = async move {
                if live.is_empty() {
                    pending::<()>().await;
                }
                select_all(live).await.0
            };
            let timer = async move {
                match timer {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => pending().await,
                }
            };
            tokio::select! {
                ended = ended => Some(ended),
                () = timer => None,
            }
        };
        let seen = match wake {
            Some((index, outcome)) => self.on_ended(index, outcome, restarting),
            None => Ok(self.on_timer(Instant::now())),
        };
        self.journal_pending().await?;
        seen
    }

    /// The earliest of the drain deadline, a sibling's stop deadline and (once no sibling is stopping) a backoff.
    fn next_timer(&self) -> Option<Instant> {
        let stopping = self.slots.iter().any(|s| s.outcome.is_none() && matches!(s.phase, Phase::Stopping { .. }));
        let phases = self.slots.iter().filter(|s| s.outcome.is_none()).filter_map(|slot| match slot.phase {
            Phase::Stopping { abort_at, .. } => Some(abort_at),
            Phase::Waiting { at, .. } if !stopping => Some(at),
            _ => None,
        });
        phases.chain(self.deadline).min()
    }

    fn on_timer(&mut self, now: Instant) -> Seen {
        if self.deadline.is_some_and(|deadline| deadline <= now) {
            self.deadline = None;
            return Seen::DeadlinePassed;
        }
        for slot in self.slots.iter_mut().filter(|s| s.outcome.is_none()) {
            if let Phase::Stopping { abort_at, .. } = slot.phase {
                if abort_at <= now {
                    tracing::warn!(stage = slot.name, "aborting a stage that did not stop for a restart");
                    slot.aborted = true;
                    slot.handle.abort();
                }
            }
        }
        if self.restart_due_now(now) {
            Seen::RestartDue
        } else {
            Seen::Ended(None)
        }
    }

    /// True when some stage's backoff has passed and no sibling is still stopping for the same restart.
    pub(super) fn restart_due_now(&self, now: Instant) -> bool {
        let live = self.slots.iter().filter(|s| s.outcome.is_none());
        let mut due = false;
        for slot in live {
            match slot.phase {
                Phase::Stopping { .. } => return false,
                Phase::Waiting { at, .. } => due |= at <= now,
                Phase::Running => {}
            }
        }
        due
    }

    /// The stage ended for good with `outcome`: its links close, its report is written. Returns the failure it
    /// names, if any.
    pub(super) fn finish(&mut self, index: usize, outcome: Result<LifecycleRecord, HandleError>) -> Option<String> {
        let slot = &mut self.slots[index];
        let failure = match &outcome {
            Ok(LifecycleRecord { lifecycle: Lifecycle::Failed { error, .. }, .. }) => {
                Some(format!("stage {} ({}) failed: {error}", slot.name, slot.id))
            }
            Ok(_) => None,
            Err(e) => Some(format!("stage {} ({}) failed: {e}", slot.name, slot.id)),
        };
        tracing::debug!(stage = slot.name, failed = failure.is_some(), "stage ended");
        let restarts = slot.restart.as_ref().map_or(0, Restarter::restarts);
        let report = StageOutcome { name: slot.name, id: slot.id, restarts, outcome: outcome.clone() };
        lock(&self.config.report)[index] = Some(report);
        slot.outcome = Some(outcome);
        slot.phase = Phase::Running;
        self.close_links(index);
        failure
    }

    /// The failure that started it all, once `observed` is known: when one stage fails, the stages linked to it fail
    /// or end soon after, and they may be seen first. Collects every stage that has ended by now, then names the stage
    /// whose Failed record was journaled first since the last restart. The records this queues (what those stages
    /// held) are journaled before it returns; a journal refusing them is named in the failure.
    pub(super) async fn root_cause(&mut self, observed: String) -> String {
        loop {
            let ended = self
                .slots
                .iter_mut()
                .enumerate()
                .filter(|(_, slot)| slot.outcome.is_none() && matches!(slot.phase, Phase::Running))
                .find_map(|(index, slot)| slot.handle.outcome().now_or_never().map(|outcome| (index, outcome)));
            match ended {
                Some((index, outcome)) => {
                    self.settle_held(index, &outcome);
                    self.finish(index, outcome);
                }
                None => break,
            }
        }
        let refused = self.journal_pending().await.err().map(|e| e.to_string()).or_else(|| self.errors_failed.take());
        let ids: Vec<_> = self.slots.iter().map(|slot| slot.id).collect();
        let first = self.config.journal.read_from(self.config.journal_start).ok().and_then(|records| {
            records.into_iter().find(|r| {
                matches!(r.lifecycle, Lifecycle::Failed { .. }) && r.stage.is_some_and(|id| ids.contains(&id))
            })
        });
        let cause = match first {
            Some(LifecycleRecord {
                supervisor, stage: Some(id), lifecycle: Lifecycle::Failed { error, .. }, ..
            }) => {
                format!("stage {supervisor} ({id}) failed: {error}")
            }
            _ => observed,
        };
        match refused {
            Some(refused) => format!("{cause}; and {refused}"),
            None => cause,
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
