//! The orchestrator's records on their way to the journals: the restart decisions for the lifecycle journal and the
//! events a stage held when its run ended for the error journal. The orchestrator's synchronous steps queue them;
//! before it acts on anything else (its next dispatch, its next wait, its failure) it appends them, in the order they
//! were queued, and awaits them until each journal's durability promise holds, so a sync never blocks its worker and
//! a journal's refusal, however late it comes, is never dropped.

use futures_util::future::join_all;

use crate::error::BoxError;
use crate::lifecycle::LifecycleRecord;

use super::super::error_journal::ErrorRecord;
use super::OrchestratorContext;

/// Records queued by the orchestrator's synchronous steps, not yet appended.
#[derive(Debug, Default)]
pub(super) struct Unjournaled {
    /// `Restarting` records, for the lifecycle journal.
    pub(super) restarts: Vec<LifecycleRecord>,
    /// Events of failed or ended stages, for the error journal.
    pub(super) errors: Vec<ErrorRecord>,
}

impl OrchestratorContext {
    /// Appends every queued record and waits until the journals hold them as promised. A lifecycle journal that
    /// refuses a restart record fails the orchestrator (the `Err`); an error journal that refuses an event fails the
    /// pipeline at the orchestrator's next wait (`errors_failed`), once every record has been tried.
    ///
    /// # Errors
    /// The lifecycle journal's error for the first restart record it refused.
    pub(super) async fn journal_pending(&mut self) -> Result<(), BoxError> {
        let Unjournaled { restarts, errors } = std::mem::take(&mut self.unjournaled);
        if restarts.is_empty() && errors.is_empty() {
            return Ok(());
        }
        // Each journal takes its records when called, in this order; awaited together, they share syncs.
        let errors = errors.into_iter().map(|record| self.config.errors.append_async(record)).collect::<Vec<_>>();
        let restarts = restarts.into_iter().map(|record| self.config.journal.append_async(record)).collect::<Vec<_>>();
        let (errors, restarts) = futures_util::future::join(join_all(errors), join_all(restarts)).await;
        if let Some(e) = errors.into_iter().find_map(Result::err) {
            tracing::error!(error = %e, "the error journal refused the events of a failed stage");
            self.errors_failed.get_or_insert_with(|| format!("the error journal refused a record: {e}"));
        }
        match restarts.into_iter().find_map(Result::err) {
            Some(e) => Err(format!("the lifecycle journal refused a restart record: {e}").into()),
            None => Ok(()),
        }
    }
}
