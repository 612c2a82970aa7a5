//! The error journal of a pipeline: where events whose processing status is Error end up, whatever their payload type.
//!
//! An event that failed in one stage passes the later stages untouched (see
//! [`run_if_not_error`](crate::HandlerSupervised::run_if_not_error)); the stage where it leaves the pipeline, usually the
//! sink, writes its [`ErrorRecord`] here, so every error is recorded exactly once and the run goes on.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::event::{ChainEvent, ErrorKind, EventId, ProcessingStatus, StageContext};
use crate::journal::{Journal, JournalError};

/// One failed event, without its payload: who wrote it, where, and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The failed event's id.
    pub id: EventId,
    /// The stage that wrote the failed event.
    pub context: StageContext,
    /// What went wrong, for code.
    pub kind: ErrorKind,
    /// What went wrong, for people.
    pub message: String,
}

impl ErrorRecord {
    /// The record of `event` if its status is Error; the event back otherwise.
    pub fn from_event<P>(event: ChainEvent<P>) -> Result<Self, ChainEvent<P>> {
        match event.status {
            ProcessingStatus::Error { message, kind } => {
                Ok(ErrorRecord { id: event.id, context: event.context, kind, message })
            }
            ProcessingStatus::Success => Err(event),
        }
    }
}

/// A pipeline's error journal, shared by the stages that write to it.
pub type ErrorJournal = Arc<dyn Journal<ErrorRecord>>;

/// Writes the record of `event` to `journal` if its status is Error, and gives the event back otherwise.
pub fn journal_if_error<P>(
    journal: &dyn Journal<ErrorRecord>,
    event: ChainEvent<P>,
) -> Result<Option<ChainEvent<P>>, JournalError> {
    match ErrorRecord::from_event(event) {
        Ok(record) => journal.append(record).map(|_| None),
        Err(event) => Ok(Some(event)),
    }
}
