//! Links between pipeline stages: bounded channels of event batches, with end of stream carried in band.
//!
//! A link holds at most `capacity` batches. A stage that sends into a full link waits, so a slow stage slows the stages
//! before it and the memory a pipeline holds stays bounded: at most `capacity` batches per link, plus the batch each
//! stage is working on.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

mod inlet;
mod outlet;

pub use inlet::Inlet;
pub(crate) use inlet::{Home, InletWay, Slot};
pub use outlet::Outlet;
pub(crate) use outlet::OutletWay;

use crate::event::ChainEvent;
use crate::pipeline::durable::OutletError;

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
