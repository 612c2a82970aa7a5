//! What the two ends of a durable link share in this process: how many records are readable, whether the producer
//! is still there, and each consumer's read and committed positions (for backpressure and retention).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{watch, Notify};

use super::log::LinkLog;
use super::record::LinkRecord;
use super::retention::Retention;

/// At most this many records appended lately are kept in memory for readers at the tail (fewer when
/// [`LinkPolicy::max_unconsumed`] is lower: no reader is further behind than that while the producer waits).
const RECENT: u64 = 64;

/// How a durable link behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkPolicy {
    /// The producer waits while its slowest consumer has more than this many records of the link unread
    /// (backpressure: disk use stays bounded too). At least 1.
    pub max_unconsumed: u64,
    /// Which passed segments are deleted.
    pub retention: Retention,
    /// Records a consumer reads at once.
    pub read_ahead: usize,
}

impl Default for LinkPolicy {
    fn default() -> Self {
        Self { max_unconsumed: 64, retention: Retention::KeepAll, read_ahead: 16 }
    }
}

/// One consumer of a link.
#[derive(Default)]
pub(crate) struct Consumer {
    /// Position just past the last record handed to the stage.
    read: AtomicU64,
    /// Position up to which the stage's work is durable: it will never ask for a record before it again.
    committed: AtomicU64,
    /// Tells the log when `committed` moves ([`LinkLog::acknowledge`]).
    acknowledge: Option<Box<dyn Fn(u64) + Send + Sync>>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").field("read", &self.read).field("committed", &self.committed).finish_non_exhaustive()
    }
}

/// The shared state of one durable link.
pub(crate) struct LinkShared<P> {
    pub(crate) log: Arc<dyn LinkLog<P>>,
    pub(crate) policy: LinkPolicy,
    /// Records readable; moves on every append.
    appended: watch::Sender<u64>,
    producer_gone: AtomicBool,
    /// The producer stopped without ending the stream (it was drained or stopped): readers end here for this run,
    /// and a resumed producer goes on.
    paused: AtomicBool,
    consumers: Mutex<Vec<Arc<Consumer>>>,
    /// Woken when a consumer reads: the producer may be waiting for room.
    moved: Notify,
    /// Records appended lately in this process, by position, oldest first: a reader at the tail takes them from
    /// here instead of reading and decoding them from the log.
    recent: Mutex<VecDeque<(u64, LinkRecord<P>)>>,
}

impl<P> std::fmt::Debug for LinkShared<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkShared").field("appended", &*self.appended.borrow()).finish_non_exhaustive()
    }
}

impl<P: 'static> LinkShared<P> {
    pub(crate) fn new(log: Arc<dyn LinkLog<P>>, policy: LinkPolicy) -> Arc<Self> {
        let appended = log.appended().unwrap_or_else(|| watch::Sender::new(log.len()));
        Arc::new(Self {
            log,
            policy,
            appended,
            producer_gone: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            consumers: Mutex::new(Vec::new()),
            moved: Notify::new(),
            recent: Mutex::new(VecDeque::new()),
        })
    }
}

impl<P> LinkShared<P> {
    /// Records readable now.
    pub(crate) fn len(&self) -> u64 {
        *self.appended.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.appended.subscribe()
    }

    pub(crate) fn published(&self, len: u64) {
        crate::journal::raise(&self.appended, len);
    }

    fn recent(&self) -> MutexGuard<'_, VecDeque<(u64, LinkRecord<P>)>> {
        // Nothing under this lock can panic half-way through a change.
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `record`, just appended at `position`, for a reader at the tail; forgets the oldest beyond the bound.
    pub(crate) fn remember(&self, position: u64, record: LinkRecord<P>) {
        let bound = self.policy.max_unconsumed.clamp(1, RECENT) as usize;
        let mut recent = self.recent();
        recent.push_back((position, record));
        while recent.len() > bound {
            recent.pop_front();
        }
    }

    /// Moves the records kept in memory from `position` on (consecutive, at most `max`) to `into`; forgets those
    /// before `position` (a reader that wants them reads the log). Returns how many it moved.
    pub(crate) fn take_recent(&self, position: u64, max: usize, into: &mut VecDeque<LinkRecord<P>>) -> usize {
        let mut recent = self.recent();
        while recent.front().is_some_and(|(p, _)| *p < position) {
            recent.pop_front();
        }
        let mut moved = 0;
        while moved < max && recent.front().is_some_and(|(p, _)| *p == position + moved as u64) {
            let (_, record) = recent.pop_front().expect("checked");
            into.push_back(record);
            moved += 1;
        }
        moved
    }

    /// The producer has ended: readers waiting at the end are told.
    pub(crate) fn producer_gone(&self) {
        self.producer_gone.store(true, Ordering::Release);
        self.appended.send_modify(|_| {});
    }

    /// The producer stops for this run without ending the stream.
    pub(crate) fn pause(&self) {
        self.paused.store(true, Ordering::Release);
        self.appended.send_modify(|_| {});
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    pub(crate) fn is_producer_gone(&self) -> bool {
        self.producer_gone.load(Ordering::Acquire)
    }

    /// A new consumer starting at `position`, counted by backpressure and retention from now on.
    pub(crate) fn attach(&self, position: u64) -> Arc<Consumer>
    where
        P: 'static,
    {
        let log = self.log.clone();
        let consumer = Arc::new(Consumer {
            read: AtomicU64::new(position),
            committed: AtomicU64::new(position),
            acknowledge: Some(Box::new(move |committed| log.acknowledge(committed))),
        });
        if position > 0 {
            // Where it starts is done: a log that acknowledges to a server learns it now.
            self.log.acknowledge(position);
        }
        self.consumers.lock().unwrap_or_else(PoisonError::into_inner).push(consumer.clone());
        consumer
    }

    /// A consumer stops counting (it was dropped).
    pub(crate) fn detach(&self, consumer: &Arc<Consumer>) {
        self.consumers.lock().unwrap_or_else(PoisonError::into_inner).retain(|c| !Arc::ptr_eq(c, consumer));
        self.moved.notify_waiters();
    }

    /// The smallest position of every consumer, by `which`; `None` without consumers.
    fn slowest(&self, which: impl Fn(&Consumer) -> u64) -> Option<u64> {
        self.consumers.lock().unwrap_or_else(PoisonError::into_inner).iter().map(|c| which(c)).min()
    }

    /// The position every consumer has committed.
    pub(crate) fn committed(&self) -> Option<u64> {
        self.slowest(|c| c.committed.load(Ordering::Acquire))
    }

    /// Waits while the slowest consumer has more than `max_unconsumed` records unread.
    pub(crate) async fn room(&self) {
        loop {
            let moved = self.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            let read = self.slowest(|c| c.read.load(Ordering::Acquire));
            match read {
                Some(read) if self.len().saturating_sub(read) >= self.policy.max_unconsumed.max(1) => moved.await,
                _ => return,
            }
        }
    }

    /// `consumer` has been handed every record before `position`.
    pub(crate) fn read_to(&self, consumer: &Consumer, position: u64) {
        consumer.read.store(position, Ordering::Release);
        self.moved.notify_waiters();
    }
}

impl Consumer {
    /// Every record before `position` is accounted for durably.
    pub(crate) fn commit(&self, position: u64) {
        let before = self.committed.fetch_max(position, Ordering::AcqRel);
        if position > before {
            if let Some(acknowledge) = &self.acknowledge {
                acknowledge(position);
            }
        }
    }
}

/// How far a stage has consumed its input: moved by its inlet (or, for a source, by the stage), read by its durable
/// outlet to stamp what it appends.
#[derive(Debug, Default)]
pub(crate) struct InputPosition {
    position: AtomicU64,
    marked: AtomicBool,
    /// The input's end of stream was read: the stream is complete.
    ended: AtomicBool,
}

impl InputPosition {
    pub(crate) fn set(&self, position: u64) {
        self.position.store(position, Ordering::Release);
        self.marked.store(true, Ordering::Release);
    }

    /// The stream was read to its end of stream.
    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Release);
    }

    pub(crate) fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// The position, if anything ever set it.
    pub(crate) fn get(&self) -> Option<u64> {
        self.marked.load(Ordering::Acquire).then(|| self.position.load(Ordering::Acquire))
    }
}

/// How far a stage's durable inlet has handed records over, and a way to commit what the stage has durably done:
/// for a stage whose work does not hold the inlet (a sink saving checkpoints).
#[derive(Clone, Debug)]
pub struct InputProgress {
    position: Arc<InputPosition>,
    consumer: Arc<Consumer>,
}

impl InputProgress {
    pub(crate) fn new(position: Arc<InputPosition>, consumer: Arc<Consumer>) -> Self {
        Self { position, consumer }
    }

    /// The position just past the last record handed over (where the inlet started, before the first).
    pub fn get(&self) -> u64 {
        self.position.get().unwrap_or(0)
    }

    /// Every record before `position` is accounted for durably, so retention may delete it.
    pub fn commit(&self, position: u64) {
        self.consumer.commit(position);
    }

    /// True once the inlet has read the stream's end of stream. An end of stream without it (the writer was drained
    /// or stopped, and paused) is the end of this run only: a finishing stage must not take it for the end of its
    /// input.
    pub fn ended(&self) -> bool {
        self.position.ended()
    }
}
