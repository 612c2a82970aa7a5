//! The run's lifecycle recorder: writes Started and the one terminal record, and is the drop guard that still writes
//! a terminal record when the run is dropped (an aborted task) or unwinds before it ended.
//!
//! The run awaits each record's durability ([`Journal::append_async`]), so a journal that syncs never blocks the
//! worker the run is on. The drop guard cannot await: it hands its record to the journal (which takes it at once and
//! starts its sync) and does not wait for the sync. An aborted run has nobody waiting for its end, so nothing is
//! acknowledged early; a crash right after an abort may lose that Cancelled record, as it would lose an abort that had
//! not happened yet.

use std::borrow::Cow;
use std::sync::Arc;

use crate::counters::Counters;
use crate::event::{StageId, WriterId};
use crate::journal::{Journal, JournalError};
use crate::lifecycle::{Lifecycle, LifecycleRecord};

/// Writes the run's lifecycle records. If the run is dropped before it ends (an aborted task), it writes Cancelled.
pub(super) struct Recorder {
    pub(super) journal: Arc<dyn Journal<LifecycleRecord>>,
    pub(super) counters: Arc<Counters>,
    pub(super) supervisor: &'static str,
    pub(super) writer: WriterId,
    pub(super) stage: Option<StageId>,
    /// The state the machine is in, kept current by the run so a record written on drop can name it.
    pub(super) state: &'static str,
    /// Started was written.
    pub(super) started: bool,
    /// A terminal record was written.
    pub(super) ended: bool,
    /// The first lifecycle record the journal refused, with its error: the run's result reports it.
    pub(super) refused: Option<String>,
}

impl Recorder {
    /// Builds the record for `lifecycle` with the current counters and appends it to the journal; returns once the
    /// journal's durability promise holds for it, without blocking the worker meanwhile.
    pub(super) async fn write(&mut self, lifecycle: Lifecycle) -> LifecycleRecord {
        let record = self.record(lifecycle);
        let appended = self.journal.append_async(record.clone()).await;
        self.note(&record, appended.err());
        record
    }

    /// Appends the record for `lifecycle` without waiting for its durability: for the drop guard, which cannot await.
    fn write_on_drop(&mut self, lifecycle: Lifecycle) {
        let record = self.record(lifecycle);
        // The journal takes the record (and starts its sync) when called; dropping the future only stops waiting.
        let refused =
            futures_util::FutureExt::now_or_never(self.journal.append_async(record.clone())).and_then(Result::err);
        self.note(&record, refused);
    }

    /// The record for `lifecycle` with the current counters, noted as written and logged.
    fn record(&mut self, lifecycle: Lifecycle) -> LifecycleRecord {
        let record = LifecycleRecord {
            supervisor: Cow::Borrowed(self.supervisor),
            writer: self.writer,
            stage: self.stage,
            state: Cow::Borrowed(self.state),
            lifecycle,
            counters: self.counters.snapshot(),
        };
        if record.lifecycle.is_terminal() {
            self.ended = true;
        } else if record.lifecycle == Lifecycle::Started {
            self.started = true;
        }
        self.log(&record.lifecycle);
        record
    }

    /// Keeps the first refusal of the journal for the run's result, and logs every one.
    fn note(&mut self, record: &LifecycleRecord, refused: Option<JournalError>) {
        let Some(e) = refused else { return };
        self.refused.get_or_insert_with(|| {
            format!("the lifecycle journal refused the {} record: {e}", record.lifecycle.kind())
        });
        tracing::error!(
            supervisor = self.supervisor,
            stage = self.stage_number(),
            error = %e,
            "lifecycle record could not be journaled"
        );
    }
}

impl Recorder {
    /// The stage id as a log field; absent for an orchestrator.
    pub(super) fn stage_number(&self) -> Option<u32> {
        self.stage.map(|id| id.0)
    }

    /// Logs a lifecycle record at INFO with the supervisor's name and stage id, so an INFO filter shows every run's
    /// start and end and says which stage it was.
    fn log(&self, lifecycle: &Lifecycle) {
        let (supervisor, stage, state) = (self.supervisor, self.stage_number(), self.state);
        match lifecycle {
            Lifecycle::Started => tracing::info!(supervisor, stage, state, "stage started"),
            Lifecycle::Completed => tracing::info!(supervisor, stage, state, "stage completed"),
            Lifecycle::Failed { error, escalation } => {
                tracing::info!(supervisor, stage, state, error = %error, escalation, "stage failed");
            }
            Lifecycle::Cancelled { reason } => {
                tracing::info!(supervisor, stage, state, reason = %reason, "stage cancelled");
            }
            Lifecycle::Restarting { attempt, cause, .. } => {
                tracing::info!(supervisor, stage, state, attempt, cause = %cause, "stage restarting");
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        // A run aborted before its task was first polled has not written Started yet; every run that writes a
        // terminal record writes Started before it.
        if !self.started {
            self.write_on_drop(Lifecycle::Started);
        }
        if std::thread::panicking() {
            // The loop guards all user code; this is a last resort, so even a bug of ours leaves a record.
            tracing::error!(
                supervisor = self.supervisor,
                stage = self.stage_number(),
                state = self.state,
                "run unwound past the loop's guards; recording Failed"
            );
            let error = "the run panicked outside the loop's guards".to_owned();
            self.write_on_drop(Lifecycle::Failed { error, escalation: None });
        } else {
            tracing::warn!(
                supervisor = self.supervisor,
                stage = self.stage_number(),
                state = self.state,
                "run dropped before it ended; recording Cancelled"
            );
            self.write_on_drop(Lifecycle::Cancelled { reason: "task aborted".to_owned() });
        }
    }
}
