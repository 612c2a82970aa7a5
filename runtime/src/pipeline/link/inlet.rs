//! The receiving end of a link: an in-memory channel or a durable link, counted; a restartable stage's inlet gives
//! its link back when dropped, for the stage's next instance.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::{LinkStats, Message};
use crate::journal::JournalError;
use crate::pipeline::durable::{DurableInlet, InputProgress};
use crate::pipeline::held::{lock, Held};

/// The receiving end of a link, owned by the stage after it.
#[derive(Debug)]
pub struct Inlet<P> {
    pub(crate) way: InletWay<P>,
    pub(crate) stats: Arc<LinkStats>,
    /// Where the link goes back when this inlet is dropped, for a restartable stage (see [`kept`](crate::pipeline::kept)).
    pub(crate) home: Option<Home<P>>,
    /// The batch its stage holds, for a restartable stage.
    pub(crate) held: Option<Arc<Held>>,
}

#[derive(Debug)]
pub(crate) enum InletWay<P> {
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
                Some(Message::EndOfStream) => {
                    held.release();
                    held.end_stream();
                }
                None => held.release(),
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
            inlet.seek(crate::pipeline::durable::Start::At(position));
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

/// Where the receiving side of a kept link is, shared by the orchestrator and the instance borrowing it.
pub(crate) type Home<P> = Arc<Mutex<Slot<P>>>;

/// Where the receiving side of a kept link is now.
#[derive(Debug)]
pub(crate) enum Slot<P> {
    /// With the orchestrator, between two instances.
    Kept(InletWay<P>),
    /// With the stage's running instance, as its [`Inlet`].
    Lent,
    /// Closed for good: an instance still holding it drops it.
    Closed,
}

impl<P> Drop for Inlet<P> {
    /// A restartable stage's inlet gives the link back, with whatever is queued on it, for the stage's next instance.
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            let mut home = lock(&home);
            if let Slot::Lent = *home {
                let (_, closed) = mpsc::channel(1);
                *home = Slot::Kept(std::mem::replace(&mut self.way, InletWay::Memory(closed)));
            }
        }
    }
}
