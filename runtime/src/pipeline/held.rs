//! The batch a restartable stage holds: the ids of the events it took off its inlet and has not yet passed on, so its
//! supervisor can record them when the stage fails instead of losing them.
//!
//! A stage holds a batch from the moment its inlet hands it over until it sends its outputs on its outlet (a
//! transform) or asks its inlet for the next message (a sink, or a transform that sent nothing). Only stages wired
//! with a restart policy keep this ledger; it costs one uncontended lock and a copy of the ids per batch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::event::{ChainEvent, ErrorKind, EventId, StageContext};

use super::error_journal::ErrorRecord;

/// The ids of the batch one stage holds now.
#[derive(Debug, Default)]
pub(crate) struct Held {
    events: Mutex<Vec<(EventId, StageContext)>>,
    /// End of stream came through the stage's inlet, or went out through its outlet: its stream is over, for every
    /// instance to come.
    stream_ended: AtomicBool,
}

impl Held {
    /// A ledger holding nothing, shared by a stage's inlet and outlet.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The stage took `batch` off its inlet: it holds that batch, and no longer the one before.
    pub(crate) fn hold<P>(&self, batch: &[ChainEvent<P>]) {
        let mut events = lock(&self.events);
        events.clear();
        events.extend(batch.iter().map(|event| (event.id, event.context.clone())));
    }

    /// End of stream came through the stage's inlet, or the stage sent it on through its outlet.
    pub(crate) fn end_stream(&self) {
        self.stream_ended.store(true, Ordering::Release);
    }

    /// True once end of stream came through the stage's inlet or went out through its outlet: a fresh instance would
    /// have nothing to read, or would send behind an end its downstream already took.
    pub(crate) fn stream_ended(&self) -> bool {
        self.stream_ended.load(Ordering::Acquire)
    }

    /// The stage passed on (or finished) what it held.
    pub(crate) fn release(&self) {
        lock(&self.events).clear();
    }

    /// What the stage held when it ended, as error records saying why; the ledger is left empty.
    pub(crate) fn take(&self, why: &str) -> Vec<ErrorRecord> {
        let events = std::mem::take(&mut *lock(&self.events));
        records(events, why)
    }
}

/// Error records of kind [`ErrorKind::StageFailed`] for `events`, each saying `why`.
pub(crate) fn records(events: Vec<(EventId, StageContext)>, why: &str) -> Vec<ErrorRecord> {
    events
        .into_iter()
        .map(|(id, context)| ErrorRecord { id, context, kind: ErrorKind::StageFailed, message: why.to_owned() })
        .collect()
}

/// Locks `mutex`, taking the data of a poisoned one: every critical section here leaves it whole.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
