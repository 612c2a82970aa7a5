//! What a stage's handle shares with its run, in one allocation: the state the run is in (with a watch made only for
//! the first subscriber), and the lifecycle journal the run writes through, which keeps the terminal record for the
//! handle.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use tokio::sync::watch;

use crate::journal::{Journal, JournalError};
use crate::lifecycle::LifecycleRecord;
use crate::run_loop::{StateCell, StateSnapshot};

/// The handle's side of a run, shared with it.
pub(super) struct StageShared {
    /// The caller's lifecycle journal; every record passes through to it.
    journal: Arc<dyn Journal<LifecycleRecord>>,
    /// The terminal record, read by `outcome` after an abort. Boxed: it is written once, at the end.
    last: OnceLock<Box<LifecycleRecord>>,
    state: Mutex<Published>,
}

impl std::fmt::Debug for StageShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageShared").field("state", &self.snapshot()).finish_non_exhaustive()
    }
}

/// The state as last published, and its watchers.
struct Published {
    snapshot: StateSnapshot,
    /// Made for the first subscriber (an idle stage nobody watches has none); taken when the run ends, which closes it.
    watch: Option<watch::Sender<StateSnapshot>>,
    ended: bool,
}

impl StageShared {
    /// Shared state of a run that starts in `first` and writes its records to `journal`.
    pub(super) fn new(journal: Arc<dyn Journal<LifecycleRecord>>, first: StateSnapshot) -> Self {
        let state = Mutex::new(Published { snapshot: first, watch: None, ended: false });
        Self { journal, last: OnceLock::new(), state }
    }

    fn published(&self) -> MutexGuard<'_, Published> {
        // Nothing panics while holding it; a poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state the run is in now (its last one once it has ended).
    pub(super) fn snapshot(&self) -> StateSnapshot {
        self.published().snapshot
    }

    /// A receiver that sees every change of state from now on; closed once the run has ended.
    pub(super) fn subscribe(&self) -> watch::Receiver<StateSnapshot> {
        let mut published = self.published();
        if let Some(watch) = &published.watch {
            return watch.subscribe();
        }
        let (watch, receiver) = watch::channel(published.snapshot);
        if !published.ended {
            published.watch = Some(watch);
        }
        receiver
    }

    /// The terminal lifecycle record, once the run has written it.
    pub(super) fn terminal_record(&self) -> Option<&LifecycleRecord> {
        self.last.get().map(|record| &**record)
    }
}

impl StateCell for StageShared {
    fn publish(&self, snapshot: StateSnapshot) {
        let mut published = self.published();
        published.snapshot = snapshot;
        if let Some(watch) = &published.watch {
            watch.send_if_modified(|current| {
                let changed = *current != snapshot;
                *current = snapshot;
                changed
            });
        }
    }

    fn close(&self) {
        let watch = {
            let mut published = self.published();
            published.ended = true;
            published.watch.take()
        };
        drop(watch); // Outside the lock: waking the watchers runs no code of ours, but need not hold it.
    }
}

/// Passes records to the caller's journal and keeps the terminal one for the handle.
impl Journal<LifecycleRecord> for StageShared {
    fn append(&self, record: LifecycleRecord) -> Result<u64, JournalError> {
        if record.lifecycle.is_terminal() {
            let _ = self.last.set(Box::new(record.clone()));
        }
        self.journal.append(record)
    }

    fn append_async(&self, record: LifecycleRecord) -> crate::journal::AppendFuture<'_> {
        if record.lifecycle.is_terminal() {
            let _ = self.last.set(Box::new(record.clone()));
        }
        self.journal.append_async(record)
    }

    fn read_from(&self, position: u64) -> Result<Vec<LifecycleRecord>, JournalError> {
        self.journal.read_from(position)
    }

    fn len(&self) -> u64 {
        self.journal.len()
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.journal.subscribe()
    }
}
