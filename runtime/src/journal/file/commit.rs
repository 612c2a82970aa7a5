//! Group commit for the syncing policies: an appender writes its record under the journal's lock and then waits,
//! outside it, until a sync covers the record. The syncs (`fdatasync`) run on one committer thread per journal, for
//! everything written so far: appenders that arrive while a sync runs share the next one, no appender's thread ever
//! runs a sync, and an async appender waits as a future woken by the committer instead of blocking a tokio worker.
//!
//! The committer knows the journal only through [`Source`], so this module does not depend on the writer.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::io::SyncHandle;
use super::mark::Mark;
use crate::journal::JournalError;

/// What one sync covers: every record before `upto` is written, to segments closed and synced before, to segments
/// closed since the last sync (`closed`, synced with their `folder`), or to the tail, which `tail` syncs.
#[derive(Debug)]
pub(crate) struct SyncPoint {
    pub(crate) upto: u64,
    /// Segments closed by rolls since the last sync, oldest first.
    pub(crate) closed: Vec<SyncHandle>,
    /// The journal's folder, when segments were started since the last sync: their names must survive a power cut.
    pub(crate) folder: Option<SyncHandle>,
    pub(crate) tail: Option<SyncHandle>,
    /// Where the journal stands once the sync returns, for the tail mark.
    pub(crate) mark: Option<Mark>,
}

/// Syncs in the order a power cut needs: the segments closed since the last sync, then the tail, then the folder
/// with their names (given only when segments were started). The committer and a sync on the caller both use it.
pub(crate) fn sync_in_order<'a>(
    closed: impl IntoIterator<Item = &'a SyncHandle>,
    tail: Option<&'a SyncHandle>,
    folder: Option<&'a SyncHandle>,
) -> std::io::Result<()> {
    closed.into_iter().chain(tail).chain(folder).try_for_each(SyncHandle::sync_data)
}

/// The journal as its committer sees it.
pub(crate) trait Source: Send + Sync {
    /// Hands buffered records to the OS and says what a sync must cover now. Takes the writer's lock briefly.
    ///
    /// # Errors
    /// When buffered records cannot be written.
    fn sync_point(&self) -> Result<SyncPoint, JournalError>;

    /// Every record before `upto` is on stable storage (and, with `mark`, the journal stood there): tell the
    /// journal's followers, and note the mark.
    fn synced(&self, upto: u64, mark: Option<Mark>);

    /// A sync covered every record before `upto` and the segments closed before it: forget them. Called before the
    /// appenders it covers are woken, so a journal closed right after them has nothing left to sync.
    fn closed_synced(&self, upto: u64);

    /// A sync failed: the journal refuses appends from now on, for the reason `why`.
    fn broken(&self, why: &str);
}

/// How far the journal is synced, and who waits for more.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    /// The committer waits here for work.
    work: Condvar,
    /// Blocking appenders wait here.
    done: Condvar,
    /// Async appenders wait on this: the same progress as `state`, published after every sync.
    progress: watch::Sender<Progress>,
    /// For [`Durability::Every`](super::Durability::Every): sync records that waited this long even when no
    /// appender asks.
    interval: Option<Duration>,
}

#[derive(Debug)]
struct State {
    /// Every record before this position is on stable storage.
    synced: u64,
    /// An appender waits for records before this position.
    wanted: u64,
    /// A sync failed; the journal refuses appends until reopened.
    failed: Option<Failure>,
    /// The journal is closing: the committer ends.
    closed: bool,
}

/// What async waiters see.
#[derive(Clone, Debug, Default)]
struct Progress {
    synced: u64,
    failed: Option<Arc<Failure>>,
}

/// A failed sync, as every appender it did not cover reports it: an I/O error of that kind and message.
#[derive(Clone, Debug)]
struct Failure {
    kind: std::io::ErrorKind,
    message: String,
}

impl Failure {
    fn of(e: &JournalError) -> Self {
        // The I/O error's own message: waiters get an I/O error again, whose display says so (it was said twice).
        match e {
            JournalError::Io(io) => Self { kind: io.kind(), message: io.to_string() },
            _ => Self { kind: std::io::ErrorKind::Other, message: e.to_string() },
        }
    }

    fn error(&self) -> JournalError {
        JournalError::Io(std::io::Error::new(self.kind, self.message.clone()))
    }
}

impl GroupCommit {
    /// Records before `synced` are already on stable storage.
    pub(crate) fn new(synced: u64, interval: Option<Duration>) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State { synced, wanted: synced, failed: None, closed: false }),
            work: Condvar::new(),
            done: Condvar::new(),
            progress: watch::Sender::new(Progress { synced, failed: None }),
            interval,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock can panic half-way through a change.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the committer thread for `source`. It ends when the journal closes or is gone.
    pub(crate) fn start(self: &Arc<Self>, source: Weak<dyn Source>) -> std::io::Result<()> {
        let commit = self.clone();
        // A small stack: the thread only syncs files and logs.
        thread::Builder::new()
            .name("stagewise-journal-commit".to_owned())
            .stack_size(256 * 1024)
            .spawn(move || commit.run(&source))?;
        Ok(())
    }

    /// Ends the committer once it has finished the sync it is running, if any.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.work.notify_all();
    }

    /// Every record before the returned position is on stable storage.
    pub(crate) fn synced(&self) -> u64 {
        self.lock().synced
    }

    /// Notes that the writer synced every record before `upto` itself (on a segment roll, `sync`, close). Called
    /// under the writer's lock, which is always taken before this one.
    pub(crate) fn synced_to(&self, upto: u64) {
        let mut state = self.lock();
        if upto > state.synced {
            state.synced = upto;
            self.publish(&state);
            self.done.notify_all();
        }
    }

    /// Asks the committer to sync up to the record at `position`, already written, without waiting for it.
    pub(crate) fn request(&self, position: u64) {
        let mut state = self.lock();
        if position >= state.wanted {
            state.wanted = position + 1;
            if state.wanted > state.synced {
                self.work.notify_one();
            }
        }
    }

    /// Blocks the calling thread until the record at `position`, already written, is on stable storage.
    ///
    /// # Errors
    /// [`JournalError::Io`] when a sync failed before it covered the record.
    pub(crate) fn wait(&self, position: u64) -> Result<(), JournalError> {
        self.request(position);
        let mut state = self.lock();
        loop {
            if state.synced > position {
                return Ok(());
            }
            if let Some(failure) = &state.failed {
                return Err(failure.error());
            }
            state = self.done.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Resolves once the record at `position`, already written, is on stable storage; the caller's thread is free
    /// meanwhile.
    ///
    /// # Errors
    /// [`JournalError::Io`] when a sync failed before it covered the record.
    pub(crate) async fn wait_async(&self, position: u64) -> Result<(), JournalError> {
        let mut progress = self.progress.subscribe();
        self.request(position);
        let seen = progress.wait_for(|p| p.synced > position || p.failed.is_some()).await;
        // The sender lives as long as `self`, so the channel cannot close while this borrows it.
        match seen.map(|p| (p.synced > position, p.failed.clone())) {
            Ok((true, _)) => Ok(()),
            Ok((false, Some(failure))) => Err(failure.error()),
            _ => Err(JournalError::Unusable("the journal's committer is gone; this is a bug".to_owned())),
        }
    }

    fn publish(&self, state: &State) {
        let failed = state.failed.clone().map(Arc::new);
        self.progress.send_replace(Progress { synced: state.synced, failed });
    }

    /// The committer: waits for an appender to want a sync (or, under an interval policy, for records to have
    /// waited the interval), then syncs everything written so far and wakes every appender it covers.
    fn run(&self, source: &Weak<dyn Source>) {
        let mut last_sync = Instant::now();
        loop {
            if !self.wait_for_work(last_sync) {
                return;
            }
            let Some(journal) = source.upgrade() else { return };
            let synced_before = self.synced();
            let mut mark = None;
            let mut rolled = false;
            let synced = journal.sync_point().and_then(|point| {
                rolled = !point.closed.is_empty();
                let tail = point.tail.as_ref().filter(|_| point.upto > synced_before || point.folder.is_some());
                sync_in_order(&point.closed, tail, point.folder.as_ref())?;
                mark = point.mark;
                Ok(point.upto)
            });
            last_sync = Instant::now();
            if let (Ok(upto), true) = (&synced, rolled) {
                journal.closed_synced(*upto);
            }
            let mut state = self.lock();
            match synced {
                // An appender asks only for records it wrote, so what is still wanted gets the next round.
                Ok(upto) => state.synced = state.synced.max(upto),
                Err(e) => {
                    drop(state);
                    journal.broken(&format!("a sync failed ({e}); reopen the journal to recover"));
                    state = self.lock();
                    state.failed = Some(Failure::of(&e));
                }
            }
            self.publish(&state);
            self.done.notify_all();
            let upto = state.synced;
            drop(state);
            journal.synced(upto, mark.filter(|m| m.next <= upto));
        }
    }

    /// Waits until a sync is wanted (true) or the committer should end (false).
    fn wait_for_work(&self, last_sync: Instant) -> bool {
        let mut state = self.lock();
        loop {
            if state.closed {
                return false;
            }
            if state.failed.is_none() && state.wanted > state.synced {
                return true;
            }
            match self.interval {
                Some(interval) => {
                    // Wake a little more often than the interval, so a record never waits much longer than it.
                    let tick = (interval / 2).max(Duration::from_millis(1));
                    state = self.work.wait_timeout(state, tick).unwrap_or_else(PoisonError::into_inner).0;
                    if state.failed.is_none() && !state.closed && last_sync.elapsed() >= interval {
                        return true;
                    }
                }
                None => state = self.work.wait(state).unwrap_or_else(PoisonError::into_inner),
            }
        }
    }
}
