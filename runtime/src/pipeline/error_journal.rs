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
    ///
    /// ```
    /// use stagewise_runtime::event::{ChainEvent, ErrorKind, EventIds, StageContext, StageId};
    /// use stagewise_runtime::pipeline::ErrorRecord;
    ///
    /// let mut ids = EventIds::new(StageId(1).into());
    /// let event = ChainEvent::new(ids.next_id(), StageContext::new(StageId(1), "parse"), "garbage");
    /// let good = ErrorRecord::from_event(event.clone());
    /// assert!(good.is_err(), "a successful event comes back");
    ///
    /// let record = ErrorRecord::from_event(event.into_error(ErrorKind::Parse, "no status")).unwrap();
    /// assert_eq!((record.kind, record.message.as_str(), record.context.name.as_ref()), (ErrorKind::Parse, "no status", "parse"));
    /// ```
    ///
    /// # Errors
    /// The event itself, unchanged, when its status is not `Error`.
    pub fn from_event<P>(event: ChainEvent<P>) -> Result<Self, ChainEvent<P>> {
        match event.status {
            ProcessingStatus::Error { message, kind } => {
                Ok(ErrorRecord { id: event.id, context: event.context, kind, message })
            }
            ProcessingStatus::Success => Err(event),
        }
    }
}

/// A pipeline's error journal, shared by the stages that write to it: any [`Journal`] of [`ErrorRecord`]s (a
/// [`MemoryJournal`](crate::journal::MemoryJournal), a file journal), given to the builder with
/// [`PipelineBuilder::errors`](crate::pipeline::PipelineBuilder::errors).
///
/// ```
/// use std::sync::Arc;
///
/// use stagewise_runtime::event::{ChainEvent, ErrorKind, EventIds, StageContext, StageId};
/// use stagewise_runtime::journal::{Journal, MemoryJournal};
/// use stagewise_runtime::pipeline::{ErrorJournal, ErrorRecord, Pipeline};
///
/// let errors: ErrorJournal = Arc::new(MemoryJournal::new());
/// let _builder = Pipeline::builder("numbers").errors(errors.clone());
///
/// let mut ids = EventIds::new(StageId(1).into());
/// let bad = ChainEvent::new(ids.next_id(), StageContext::new(StageId(1), "parse"), "x")
///     .into_error(ErrorKind::Parse, "not a number");
/// errors.append(ErrorRecord::from_event(bad).unwrap()).unwrap();
/// assert_eq!(errors.read_from(0).unwrap()[0].message, "not a number");
/// ```
pub type ErrorJournal = Arc<dyn Journal<ErrorRecord>>;

/// Writes the record of `event` to `journal` if its status is Error, and gives the event back otherwise.
///
/// # Errors
///
/// When the journal refuses the record (see [`Journal::append`]); the event is lost to the caller then, and the
/// stage should take its failure path.
///
/// ```
/// use stagewise_runtime::event::{ChainEvent, ErrorKind, EventIds, StageContext, StageId};
/// use stagewise_runtime::journal::{Journal, MemoryJournal};
/// use stagewise_runtime::pipeline::journal_if_error;
///
/// let journal = MemoryJournal::new();
/// let mut ids = EventIds::new(StageId(2).into());
/// let context = StageContext::new(StageId(2), "aggregate");
/// let ok = ChainEvent::new(ids.next_id(), context.clone(), 200_u16);
/// let bad = ChainEvent::new(ids.next_id(), context, 0_u16).into_error(ErrorKind::Validation, "status 0");
///
/// assert!(journal_if_error(&journal, ok).unwrap().is_some(), "processed as usual");
/// assert!(journal_if_error(&journal, bad).unwrap().is_none(), "recorded instead");
/// assert_eq!(journal.len(), 1);
/// ```
pub fn journal_if_error<P>(
    journal: &dyn Journal<ErrorRecord>,
    event: ChainEvent<P>,
) -> Result<Option<ChainEvent<P>>, JournalError> {
    match ErrorRecord::from_event(event) {
        Ok(record) => journal.append(record).map(|_| None),
        Err(event) => Ok(Some(event)),
    }
}

/// [`journal_if_error`] for async code: waits for the journal's durability promise without blocking the worker
/// ([`Journal::append_async`]). The form a stage's action uses.
///
/// # Errors
///
/// When the journal refuses the record (see [`Journal::append_async`]); the event is lost to the caller then, and
/// the stage should take its failure path.
///
/// ```
/// use stagewise_runtime::event::{ChainEvent, ErrorKind, EventIds, StageContext, StageId};
/// use stagewise_runtime::journal::{FileJournal, Journal};
/// use stagewise_runtime::pipeline::journal_if_error_async;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), stagewise_runtime::journal::JournalError> {
/// let dir = tempfile::tempdir().unwrap();
/// let journal = FileJournal::open_default(dir.path())?; // synced on every append
/// let mut ids = EventIds::new(StageId(2).into());
/// let context = StageContext::new(StageId(2), "aggregate");
/// let bad = ChainEvent::new(ids.next_id(), context, 0_u16).into_error(ErrorKind::Validation, "status 0");
///
/// assert!(journal_if_error_async(&journal, bad).await?.is_none(), "recorded, and synced");
/// assert_eq!(journal.len(), 1);
/// # Ok(())
/// # }
/// ```
pub async fn journal_if_error_async<P>(
    journal: &dyn Journal<ErrorRecord>,
    event: ChainEvent<P>,
) -> Result<Option<ChainEvent<P>>, JournalError> {
    match ErrorRecord::from_event(event) {
        Ok(record) => journal.append_async(record).await.map(|_| None),
        Err(event) => Ok(Some(event)),
    }
}
