//! An error journal for a stage resumed from a checkpoint: the error records it appended after that checkpoint are
//! already in the journal, and replaying its input produces them again. They are recognised by event id and not
//! written twice, so the journal holds each failed event exactly once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use crate::event::EventId;
use crate::journal::{AppendFuture, Journal, JournalError};
use crate::pipeline::error_journal::ErrorRecord;

/// An error journal that drops the records a resumed stage writes again.
pub struct ReplayedErrors {
    inner: Arc<dyn Journal<ErrorRecord>>,
    /// Ids of the records after the checkpoint, oldest first, still to be written again.
    again: Mutex<VecDeque<EventId>>,
}

impl std::fmt::Debug for ReplayedErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayedErrors").field("again", &self.lock().len()).finish_non_exhaustive()
    }
}

impl ReplayedErrors {
    /// `inner`, resumed from a checkpoint taken when it held `accounted` records.
    ///
    /// # Errors
    /// [`JournalError::Unusable`] when `inner` holds fewer than `accounted` records (some were lost: a resumed run
    /// cannot write them again exactly); when the records after `accounted` cannot be read.
    pub fn new(inner: Arc<dyn Journal<ErrorRecord>>, accounted: u64) -> Result<Self, JournalError> {
        let held = inner.len();
        if held < accounted {
            return Err(JournalError::Unusable(format!(
                "it holds {held} records, but the run had written {accounted}: records are lost, so the run cannot \
                 resume exactly"
            )));
        }
        let again = inner.read_from(accounted)?.into_iter().map(|r| r.id).collect();
        Ok(Self { inner, again: Mutex::new(again) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<EventId>> {
        self.again.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The position of `record` if it is the next of the records written again (not to be appended); `None` once
    /// every record written after the checkpoint has come again.
    fn replayed(&self, record: &ErrorRecord) -> Result<Option<u64>, JournalError> {
        let mut again = self.lock();
        match again.front() {
            None => Ok(None),
            Some(id) if *id == record.id => {
                again.pop_front();
                Ok(Some(self.inner.len() - again.len() as u64 - 1))
            }
            Some(id) => Err(JournalError::Unusable(format!(
                "the replay wrote the error of event {:?} where the first run wrote {id:?}: the stage is not \
                 deterministic",
                record.id
            ))),
        }
    }

    /// Records the stage's state accounts for: what a checkpoint taken now records.
    pub fn accounted(&self) -> u64 {
        let again = self.lock();
        self.inner.len() - again.len() as u64
    }
}

impl Journal<ErrorRecord> for ReplayedErrors {
    /// Appends `record`, unless it is the next of the records already written after the checkpoint.
    ///
    /// # Errors
    /// As the inner journal; and [`JournalError::Unusable`] when the replay writes another record than the one
    /// written before (the stage is not deterministic, and exactly-once cannot hold).
    fn append(&self, record: ErrorRecord) -> Result<u64, JournalError> {
        match self.replayed(&record)? {
            Some(position) => Ok(position),
            None => self.inner.append(record),
        }
    }

    /// As [`append`](Self::append), waiting for the inner journal without blocking the thread.
    fn append_async(&self, record: ErrorRecord) -> AppendFuture<'_> {
        match self.replayed(&record) {
            Ok(None) => self.inner.append_async(record),
            Ok(Some(position)) => Box::pin(std::future::ready(Ok(position))),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn read_from(&self, position: u64) -> Result<Vec<ErrorRecord>, JournalError> {
        self.inner.read_from(position)
    }

    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.subscribe()
    }
}
