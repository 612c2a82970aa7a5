//! How a run ends: writing the completion, then the one terminal lifecycle record that says how it ended.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::error::{panic_message, Escalation};
use crate::lifecycle::Lifecycle;
use crate::machine::{Ending, StateVariant};

use super::run::{Progress, Run};
use crate::supervisor::Supervisor;

impl<S: Supervisor> Run<S> {
    /// Writes the completion and the one terminal lifecycle record. When the lifecycle journal refused that record (or
    /// Started), the run's result is an [`Escalation`] holding the record and the journal's error.
    /// A failing completion is an error like any other: it takes the failure path (once; the failed state then
    /// terminates without writing the completion again).
    pub(super) async fn terminate(&mut self) -> Progress {
        let completion = if self.completion_failed {
            Ok(())
        } else {
            match AssertUnwindSafe(self.supervisor.write_completion_event(&mut self.ctx)).catch_unwind().await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("write_completion_event failed: {e}")),
                Err(panic) => Err(format!("write_completion_event panicked: {}", panic_message(&*panic))),
            }
        };
        self.counters.publish(&self.tally);
        if let Err(message) = completion {
            if let Some(first) = self.failure.take() {
                return self.escalate(first, message).await;
            }
            self.completion_failed = true;
            return self.fail(message).await;
        }
        let state = self.machine.state();
        let lifecycle = match state.ending() {
            Some(Ending::Failed) => Lifecycle::Failed {
                error: self
                    .failure
                    .take()
                    .or_else(|| state.failure_message().map(str::to_owned))
                    .unwrap_or_else(|| format!("entered failed state {}", state.name())),
                escalation: None,
            },
            Some(Ending::Cancelled) => Lifecycle::Cancelled {
                reason: self.failure.take().unwrap_or_else(|| match self.last_control {
                    Some(control) => format!("stopped in state {} after a {control:?} control message", state.name()),
                    None => format!("stopped in state {}", state.name()),
                }),
            },
            Some(Ending::Completed) | None => Lifecycle::Completed,
        };
        tracing::debug!(state = state.name(), "terminating");
        let record = self.recorder.write(lifecycle).await;
        Progress::Ended(match self.recorder.refused.take() {
            None => Ok(record),
            // Not a silent success: the run ended, but its journal does not say so.
            Some(refused) => {
                let first = match &record.lifecycle {
                    Lifecycle::Failed { error, .. } => error.clone(),
                    Lifecycle::Cancelled { reason } => format!("cancelled: {reason}"),
                    _ => format!("the run ended in state {}", record.state),
                };
                Err(Escalation::new(first, refused, record))
            }
        })
    }
}
