//! Links between pipeline stages: bounded channels of event batches, with end of stream carried in band.
//!
//! A link holds at most `capacity` batches. A stage that sends into a full link waits, so a slow stage slows the stages
//! before it and the memory a pipeline holds stays bounded: at most `capacity` batches per link, plus the batch each
//! stage is working on.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::durable::{DurableInlet, DurableOutlet, InputProgress, OutletError, Resume};
use super::held::Held;
use crate::event::{ChainEvent, EventIds, WriterId};
use crate::journal::JournalError;

/// A batch of events, in the order they were written.
pub type Batch<P> = Vec<ChainEvent<P>>;

/// What travels on a link.
///
/// End of stream travels behind the last batch on the same channel, so a stage sees every event before it learns the
/// stream has ended.
#[derive(Debug)]
pub enum Message<P> {
    /// Events, in order.
    Events(Batch<P>),
    /// No event follows.
    EndOfStream,
}

/// The stage on the other side of a link has stopped reading: what was sent is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkClosed;

impl fmt::Display for LinkClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the downstream stage has stopped reading")
    }
}

impl std::error::Error for LinkClosed {}

/// Why a batch or end of stream could not be sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum LinkError {
    /// The stage on the other side has stopped reading.
    Closed(LinkClosed),
    /// A durable link could not store it, or the stage broke a durable link's contract.
    Durable(OutletError),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Closed(e) => e.fmt(f),
            LinkError::Durable(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LinkError::Closed(e) => Some(e),
            LinkError::Durable(e) => Some(e),
        }
    }
}

impl From<LinkClosed> for LinkError {
    fn from(e: LinkClosed) -> Self {
        LinkError::Closed(e)
    }
}

impl PartialEq<LinkClosed> for LinkError {
    fn eq(&self, other: &LinkClosed) -> bool {
        matches!(self, LinkError::Closed(c) if c == other)
    }
}

/// Live counts of one link, readable from anywhere while the pipeline runs.
#[derive(Debug, Default)]
pub struct LinkStats {
    sent: AtomicU64,
    received: AtomicU64,
    batches: AtomicU64,
}

/// The counts of a link at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkSnapshot {
    /// Events put on the link (counted when a slot is reserved, before they are handed over).
    pub sent: u64,
    /// Events taken off the link by the stage after it.
    pub received: u64,
    /// Batches put on the link.
    pub batches: u64,
}

impl LinkSnapshot {
    /// Events on the link now: sent, not yet received.
    pub fn in_flight(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }
}

impl LinkStats {
    /// The counts now.
    pub fn snapshot(&self) -> LinkSnapshot {
        // Read `received` first: `sent` only grows, so the snapshot never shows more received than sent.
        let received = self.received.load(Ordering::Acquire);
        LinkSnapshot {
            sent: self.sent.load(Ordering::Acquire),
            received,
            batches: self.batches.load(Ordering::Relaxed),
        }
    }
}

/// A bounded link holding at most `capacity` batches (at least 1).
pub fn link<P>(capacity: usize) -> (Outlet<P>, Inlet<P>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let stats = Arc::new(LinkStats::default());
    let outlet = Outlet { way: OutletWay::Memory(tx), stats: stats.clone(), held: None };
    (outlet, Inlet { way: InletWay::Memory(rx), stats, home: None, held: None })
}

/// The sending end of a link, owned by the stage before it: an in-memory channel, or a durable link (see
/// [`durable`](super::durable)).
#[derive(Debug)]
pub struct Outlet<P> {
    pub(super) way: OutletWay<P>,
    pub(super) stats: Arc<LinkStats>,
    /// The batch its stage holds, for a restartable stage (see [`held`](super::held)): what it sends is no longer
    /// held.
    pub(super) held: Option<Arc<Held>>,
}

#[derive(Debug)]
pub(super) enum OutletWay<P> {
    Memory(mpsc::Sender<Message<P>>),
    Durable(Arc<DurableOutlet<P>>),
}

impl<P: Send + 'static> Outlet<P> {
    /// Sends a batch, waiting while the link is full. An empty batch sends nothing.
    ///
    /// On a durable link, a batch a resumed stage sends again (its input position is at or before the one stamped
    /// on the link's last record) is dropped: its record is already there.
    ///
    /// # Errors
    /// [`LinkError::Closed`] when the next stage has stopped reading; [`LinkError::Durable`] when a durable link
    /// cannot store the batch, or the stage sent two batches for one input record.
    pub async fn send(&self, events: Batch<P>) -> Result<(), LinkError> {
        let count = events.len() as u64;
        match &self.way {
            _ if events.is_empty() => {}
            OutletWay::Memory(tx) => {
                let permit = tx.reserve().await.map_err(|_| LinkClosed)?;
                self.count(count);
                permit.send(Message::Events(events));
            }
            OutletWay::Durable(outlet) => {
                outlet.send(events).await.map_err(LinkError::Durable)?;
                self.count(count);
            }
        }
        self.release_held();
        Ok(())
    }

    fn release_held(&self) {
        if let Some(held) = &self.held {
            held.release();
        }
    }

    fn count(&self, events: u64) {
        self.stats.sent.fetch_add(events, Ordering::Release);
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends end of stream behind everything sent so far. On a durable link that already ends with it (a finished
    /// stage run again), sends nothing.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn end_of_stream(&self) -> Result<(), LinkError> {
        match &self.way {
            OutletWay::Memory(tx) => tx.send(Message::EndOfStream).await.map_err(|_| LinkClosed)?,
            OutletWay::Durable(outlet) => outlet.end_of_stream().await.map_err(LinkError::Durable)?,
        }
        self.release_held();
        Ok(())
    }

    /// Ends this run's output without ending the stream, for a source that was drained or stopped before the end
    /// of its input: on a durable link, the next stage sees end of stream now but nothing is stored, so a resumed run
    /// goes on where this one stopped (a transform whose input paused pauses its output the same way, by itself).
    /// On an in-memory link, the same as [`end_of_stream`](Self::end_of_stream).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn pause(&self) -> Result<(), LinkError> {
        match &self.way {
            OutletWay::Memory(_) => self.end_of_stream().await,
            OutletWay::Durable(outlet) => {
                outlet.pause();
                Ok(())
            }
        }
    }

    /// Where the stage resumes: on a durable link, the input position stamped on its last record and whether it
    /// ended the stream; on an in-memory link, the start.
    ///
    /// # Errors
    /// When a durable link's last record cannot be read.
    pub async fn resume(&self) -> Result<Resume, JournalError> {
        match &self.way {
            OutletWay::Memory(_) => Ok(Resume::default()),
            OutletWay::Durable(outlet) => outlet.resume().await,
        }
    }

    /// The id sequence of `writer` picking up after the last id it sent on this link (from 0 on an in-memory link),
    /// so a resumed stage hands out the ids an uninterrupted run would have.
    ///
    /// # Errors
    /// When a durable link's records cannot be read.
    pub async fn resume_ids(&self, writer: WriterId) -> Result<EventIds, JournalError> {
        match &self.way {
            OutletWay::Memory(_) => Ok(EventIds::new(writer)),
            OutletWay::Durable(outlet) => outlet.resume_ids(writer).await,
        }
    }
}

impl<P: Send + 'static> Outlet<P> {
    pub(crate) fn durable(outlet: Arc<DurableOutlet<P>>) -> Self {
        Self { way: OutletWay::Durable(outlet), stats: Arc::default(), held: None }
    }

    /// For a stage with no inlet (a source): its input is consumed up to `position` (a line number, a byte offset).
    /// A durable link stamps it on the next record, and a resumed source starts reading there
    /// ([`resume`](Self::resume)). Sources that never say are stamped with the count of batches they sent.
    pub fn mark_input(&self, position: u64) {
        if let OutletWay::Durable(outlet) = &self.way {
            outlet.input().set(position);
        }
    }
}

impl<P> Outlet<P> {
    /// The link's counts, shared.
    pub fn stats(&self) -> &Arc<LinkStats> {
        &self.stats
    }
}

/// The receiving end of a link, owned by the stage after it.
#[derive(Debug)]
pub struct Inlet<P> {
    pub(super) way: InletWay<P>,
    pub(super) stats: Arc<LinkStats>,
    /// Where the link goes back when this inlet is dropped, for a restartable stage (see [`kept`](super::kept)).
    pub(super) home: Option<super::kept::Home<P>>,
    /// The batch its stage holds, for a restartable stage.
    pub(super) held: Option<Arc<Held>>,
}

#[derive(Debug)]
pub(super) enum InletWay<P> {
    Memory(mpsc::Receiver<Message<P>>),
    Durable(DurableInlet<P>),
}

impl<P: Send + 'static> Inlet<P> {
    /// The next message; `None` when the stage before has ended without sending end of stream (it failed or was
    /// stopped), or a durable link could not be read ([`failure`](Self::failure) says why). Cancel-safe: a message
    /// is never lost when the future is dropped unfinished.
    pub async fn recv(&mut self) -> Option<Message<P>> {
        let message = match &mut self.way {
            InletWay::Memory(rx) => rx.recv().await,
            InletWay::Durable(inlet) => inlet.recv().await,
        };
        if let Some(Message::Events(events)) = &message {
            self.stats.received.fetch_add(events.len() as u64, Ordering::Release);
        }
        if let Some(held) = &self.held {
            match &message {
                Some(Message::Events(events)) => held.hold(events),
                _ => held.release(),
            }
        }
        message
    }
}

impl<P: Send + 'static> Inlet<P> {
    pub(crate) fn durable(inlet: DurableInlet<P>, stats: Arc<LinkStats>) -> Self {
        Self { way: InletWay::Durable(inlet), stats, home: None, held: None }
    }

    pub(crate) fn as_durable_mut(&mut self) -> Option<&mut DurableInlet<P>> {
        match &mut self.way {
            InletWay::Durable(inlet) => Some(inlet),
            InletWay::Memory(_) => None,
        }
    }

    /// Why a durable link could not be read, after [`recv`](Self::recv) returned `None` because of it.
    pub fn failure(&self) -> Option<&JournalError> {
        match &self.way {
            InletWay::Durable(inlet) => inlet.failure(),
            InletWay::Memory(_) => None,
        }
    }

    /// On a durable link: position of the next record this inlet hands over (what a checkpoint records).
    pub fn position(&self) -> Option<u64> {
        match &self.way {
            InletWay::Durable(inlet) => Some(inlet.position()),
            InletWay::Memory(_) => None,
        }
    }

    /// On a durable link: start reading at `position` (a checkpoint's, or 0 to replay), if nothing was read yet.
    pub fn seek(&mut self, position: u64) {
        if let InletWay::Durable(inlet) = &mut self.way {
            inlet.seek(super::durable::Start::At(position));
        }
    }

    /// On a durable link: every record before `position` is accounted for durably (a checkpoint was written), so
    /// retention may delete it.
    pub fn commit(&self, position: u64) {
        if let InletWay::Durable(inlet) = &self.way {
            inlet.consumer().commit(position);
        }
    }

    /// On a durable link: a handle that reads how far this inlet has handed records over, for a stage whose work
    /// does not hold the inlet (a sink saving checkpoints).
    pub fn progress(&self) -> Option<InputProgress> {
        match &self.way {
            InletWay::Durable(inlet) => Some(InputProgress::new(inlet.input().clone(), inlet.consumer().clone())),
            InletWay::Memory(_) => None,
        }
    }
}

impl<P> Inlet<P> {
    /// The link's counts, shared.
    pub fn stats(&self) -> &Arc<LinkStats> {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventIds, StageContext, StageId};

    fn batch(ids: &mut EventIds, n: u64) -> Batch<u64> {
        (0..n).map(|p| ChainEvent::new(ids.next_id(), StageContext::new(StageId(0), "test"), p)).collect()
    }

    #[tokio::test]
    async fn end_of_stream_arrives_behind_every_batch_and_counts_balance() {
        let (outlet, mut inlet) = link::<u64>(4);
        let mut ids = EventIds::new(StageId(0).into());
        outlet.send(batch(&mut ids, 3)).await.unwrap();
        outlet.send(Vec::new()).await.unwrap(); // sends nothing
        outlet.send(batch(&mut ids, 2)).await.unwrap();
        outlet.end_of_stream().await.unwrap();
        assert_eq!(outlet.stats().snapshot(), LinkSnapshot { sent: 5, received: 0, batches: 2 });

        assert!(matches!(inlet.recv().await, Some(Message::Events(b)) if b.len() == 3));
        assert!(matches!(inlet.recv().await, Some(Message::Events(b)) if b.len() == 2));
        assert!(matches!(inlet.recv().await, Some(Message::EndOfStream)));
        assert_eq!(inlet.stats().snapshot().in_flight(), 0);
        drop(outlet);
        assert!(inlet.recv().await.is_none(), "a closed link without end of stream reads as None");
    }

    #[tokio::test]
    async fn sending_into_a_link_whose_reader_is_gone_fails() {
        let (outlet, inlet) = link::<u64>(1);
        drop(inlet);
        let mut ids = EventIds::new(StageId(0).into());
        assert!(outlet.send(batch(&mut ids, 1)).await.is_err_and(|e| e == LinkClosed));
        assert!(outlet.end_of_stream().await.is_err_and(|e| e == LinkClosed));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_link_makes_its_sender_wait() {
        let (outlet, mut inlet) = link::<u64>(1);
        let mut ids = EventIds::new(StageId(0).into());
        outlet.send(batch(&mut ids, 1)).await.unwrap();
        let second = batch(&mut ids, 1);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(10), outlet.send(second)).await.is_err();
        assert!(waited, "the second batch waits while the first is unread");
        inlet.recv().await.unwrap();
        outlet.send(batch(&mut ids, 1)).await.unwrap();
    }
}
