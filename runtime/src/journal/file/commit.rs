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

/// Syncs everything written to `journal` so far, outside its lock (which [`Source::sync_point`] takes only to say what
/// to sync): the committer's round, and [`FileJournal::sync`](super::FileJournal::sync) under `Os` on the caller's
/// thread. The tail is left alone when nothing was appended since `synced_before` and no segment was started. Returns
/// how far the journal is then synced, and where it stood, for the tail mark.
pub(crate) fn sync_round(journal: &dyn Source, synced_before: u64) -> Result<(u64, Option<Mark>), JournalError> {
    let point = journal.sync_point()?;
    let tail = point.tail.as_ref().filter(|_| point.upto > synced_before || point.folder.is_some());
    sync_in_order(&point.closed, tail, point.folder.as_ref())?;
    if !point.closed.is_empty() {
        journal.closed_synced(point.upto);
    }
    Ok((point.upto, point.mark))
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
    /// The committer thread, once started: joined by a journal that waits for its last sync.
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("synced", &self.synced)
            .field("wanted", &self.wanted)
            .field("failed", &self.failed)
            .field("closed", &self.closed)
            .field("last", &self.last.as_ref().map(|_| "a last sync"))
            .finish()
    }
}

struct State {
    /// Every record before this position is on stable storage.
    synced: u64,
    /// An appender waits for records before this position.
    wanted: u64,
    /// A sync failed; the journal refuses appends until reopened.
    failed: Option<Failure>,
    /// The journal is closing: the committer ends.
    closed: bool,
    /// What the committer runs before it ends: a dropped journal's last sync (see [`GroupCommit::close`]).
    last: Option<Box<dyn FnOnce() + Send>>,
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
            state: Mutex::new(State { synced, wanted: synced, failed: None, closed: false, last: None }),
            work: Condvar::new(),
            done: Condvar::new(),
            progress: watch::Sender::new(Progress { synced, failed: None }),
            interval,
            thread: Mutex::new(None),
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
        let thread = thread::Builder::new()
            .name("stagewise-journal-commit".to_owned())
            .stack_size(256 * 1024)
            .spawn(move || commit.run(&source))?;
        *self.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(thread);
        Ok(())
    }

    /// Ends the committer once it has finished the sync it is running, if any, after it runs `last` (a dropped
    /// journal's last sync, which must not run on the dropping thread).
    ///
    /// # Errors
    /// `last` back when there is no committer to run it (none was started: [`Durability::Os`](super::Durability::Os)).
    pub(crate) fn close(&self, last: Box<dyn FnOnce() + Send>) -> Result<(), Box<dyn FnOnce() + Send>> {
        // A started committer runs until it is closed (its journal is alive while this is called).
        let running = self.thread.lock().unwrap_or_else(PoisonError::into_inner).is_some();
        if !running {
            self.lock().closed = true;
            return Err(last);
        }
        let mut state = self.lock();
        state.closed = true;
        state.last = Some(last);
        drop(state);
        self.work.notify_all();
        Ok(())
    }

    /// Waits for the committer thread to end (after [`close`](Self::close): once it ran the last sync).
    pub(crate) fn join(&self) {
        let thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::error!("a journal's committer thread panicked");
            }
        }
    }

    /// Every record before the returned position is on stable storage.
    pub(crate) fn synced(&self) -> u64 {
        self.lock().synced
    }

    /// Notes that every record before `upto` was synced by someone else than the committer (`sync`, close). When the
    /// caller holds the writer's lock, that one was taken first.
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
                let last = self.lock().last.take();
                if let Some(last) = last {
                    last();
                }
                return;
            }
            let Some(journal) = source.upgrade() else { return };
            let mut mark = None;
            let synced = sync_round(&*journal, self.synced()).map(|(upto, at)| {
                mark = at;
                upto
            });
            last_sync = Instant::now();
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
