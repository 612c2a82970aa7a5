//! The sending end of a link: an in-memory channel or a durable link, counted, releasing a restartable stage's held
//! batch once it is sent.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Batch, LinkClosed, LinkError, LinkStats, Message};
use crate::event::{EventIds, WriterId};
use crate::journal::JournalError;
use crate::pipeline::durable::{DurableOutlet, Resume};
use crate::pipeline::held::Held;

/// The sending end of a link, owned by the stage before it: an in-memory channel, or a durable link (see
/// [`durable`](crate::pipeline::durable)).
#[derive(Debug)]
pub struct Outlet<P> {
    pub(crate) way: OutletWay<P>,
    pub(crate) stats: Arc<LinkStats>,
    /// The batch its stage holds, for a restartable stage (see [`held`](crate::pipeline::held)): what it sends is no longer
    /// held.
    pub(crate) held: Option<Arc<Held>>,
}

#[derive(Debug)]
pub(crate) enum OutletWay<P> {
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
        if let Some(held) = &self.held {
            held.end_stream();
        }
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
