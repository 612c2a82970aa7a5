//! Links between pipeline stages: bounded channels of event batches, with end of stream carried in band.
//!
//! A link holds at most `capacity` batches. A stage that sends into a full link waits, so a slow stage slows the stages
//! before it and the memory a pipeline holds stays bounded: at most `capacity` batches per link, plus the batch each
//! stage is working on.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::event::ChainEvent;

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
    (Outlet { tx, stats: stats.clone() }, Inlet { rx, stats })
}

/// The sending end of a link, owned by the stage before it.
#[derive(Debug)]
pub struct Outlet<P> {
    tx: mpsc::Sender<Message<P>>,
    stats: Arc<LinkStats>,
}

impl<P: Send> Outlet<P> {
    /// Sends a batch, waiting while the link is full. An empty batch sends nothing.
    pub async fn send(&self, events: Batch<P>) -> Result<(), LinkClosed> {
        if events.is_empty() {
            return Ok(());
        }
        let permit = self.tx.reserve().await.map_err(|_| LinkClosed)?;
        self.stats.sent.fetch_add(events.len() as u64, Ordering::Release);
        self.stats.batches.fetch_add(1, Ordering::Relaxed);
        permit.send(Message::Events(events));
        Ok(())
    }

    /// Sends end of stream behind everything sent so far.
    pub async fn end_of_stream(&self) -> Result<(), LinkClosed> {
        self.tx.send(Message::EndOfStream).await.map_err(|_| LinkClosed)
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
    rx: mpsc::Receiver<Message<P>>,
    stats: Arc<LinkStats>,
}

impl<P> Inlet<P> {
    /// The next message; `None` when the stage before has ended without sending end of stream (it failed or was
    /// stopped). Cancel-safe: a message is never lost when the future is dropped unfinished.
    pub async fn recv(&mut self) -> Option<Message<P>> {
        let message = self.rx.recv().await;
        if let Some(Message::Events(events)) = &message {
            self.stats.received.fetch_add(events.len() as u64, Ordering::Release);
        }
        message
    }

    /// The link's counts, shared.
    pub fn stats(&self) -> &Arc<LinkStats> {
        &self.stats
    }
}
