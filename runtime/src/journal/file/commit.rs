//! Group commit for [`Durability::EveryAppend`](super::Durability::EveryAppend): an appender writes its record under
//! the journal's lock, then waits outside it until a sync covers the record. One waiter at a time (the leader) runs
//! that sync for everything written so far, so appenders that arrive while a sync is running share the next one
//! instead of each paying for its own, and the lock is never held across an `fdatasync`.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::writer::Writer;
use crate::journal::JournalError;

/// Who is syncing and how far the journal is synced.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Debug)]
struct State {
    /// Every record before this position is on stable storage.
    synced: u64,
    /// A leader is syncing now.
    syncing: bool,
    /// A sync failed; the journal refuses appends until reopened.
    failed: Option<String>,
}

impl GroupCommit {
    /// Records before `synced` are already on stable storage.
    pub(crate) fn new(synced: u64) -> Self {
        Self { state: Mutex::new(State { synced, syncing: false, failed: None }), done: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that the writer synced every record before `upto` itself (on a segment roll, `sync`, close). Called
    /// under the writer's lock, which is always taken before this one.
    pub(crate) fn synced_to(&self, upto: u64) {
        let mut state = self.lock();
        if upto > state.synced {
            state.synced = upto;
            self.done.notify_all();
        }
    }

    /// Returns once the record at `position`, already written, is on stable storage: leads a sync if none is
    /// running, else waits for the running one and checks again.
    pub(crate) fn wait_synced(&self, position: u64, writer: &Mutex<Writer>) -> Result<(), JournalError> {
        let mut state = self.lock();
        loop {
            if state.synced > position {
                return Ok(());
            }
            if let Some(why) = &state.failed {
                return Err(JournalError::Unusable(why.clone()));
            }
            if state.syncing {
                state = self.done.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.syncing = true;
            drop(state);
            // Lock order: the writer's lock is never taken while this one is held.
            let (upto, handle) = writer.lock().unwrap_or_else(PoisonError::into_inner).sync_point();
            let synced = handle.map_or(Ok(()), |h| h.sync_data());
            if let Err(e) = &synced {
                writer
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .break_with(format!("a sync failed ({e}); reopen the journal to recover"));
            }
            state = self.lock();
            state.syncing = false;
            match synced {
                Ok(()) => state.synced = state.synced.max(upto),
                Err(e) => {
                    state.failed = Some(format!("a sync failed ({e}); reopen the journal to recover"));
                    self.done.notify_all();
                    return Err(JournalError::Io(e));
                }
            }
            self.done.notify_all();
        }
    }
}
