//! The in-memory journal: a vector behind a mutex, for tests and for runs that need no durability.

use std::sync::Mutex;

use tokio::sync::watch;

use super::{Journal, JournalError};

/// A journal held in memory; lost with the process. Appends never fail.
///
/// ```
/// use stagewise_runtime::journal::{Journal, MemoryJournal};
///
/// let journal = MemoryJournal::new();
/// journal.append(1_u64).unwrap();
/// journal.append(2).unwrap();
/// assert_eq!(journal.records(), [1, 2]);
/// ```
#[derive(Debug)]
pub struct MemoryJournal<R> {
    records: Mutex<Vec<R>>,
    appended: watch::Sender<u64>,
}

impl<R> Default for MemoryJournal<R> {
    fn default() -> Self {
        Self { records: Mutex::new(Vec::new()), appended: watch::Sender::new(0) }
    }
}

impl<R> MemoryJournal<R> {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<R: Clone + Send> MemoryJournal<R> {
    /// A copy of every record, in order.
    pub fn records(&self) -> Vec<R> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<R>> {
        // A panic while holding the lock cannot leave the vector half-written: push is the only mutation.
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<R: Clone + Send> Journal<R> for MemoryJournal<R> {
    fn append(&self, record: R) -> Result<u64, JournalError> {
        let mut records = self.lock();
        let position = records.len() as u64;
        records.push(record);
        drop(records);
        self.appended.send_replace(position + 1);
        Ok(position)
    }

    fn read_from(&self, position: u64) -> Result<Vec<R>, JournalError> {
        let records = self.lock();
        let start = usize::try_from(position).unwrap_or(usize::MAX).min(records.len());
        Ok(records[start..].to_vec())
    }

    fn len(&self) -> u64 {
        self.lock().len() as u64
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }
}
