//! A stage's inbox of its own events: a bounded channel that carries the stage's event type (with data), read by the
//! generated dispatch of a macro-written stage (`inbox = field`) under each state's control policy, as control
//! messages are.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use crate::directive::Directive;
use crate::error::BoxError;
use crate::machine::{Machine, StateVariant};

/// Opens a stage's event inbox for `capacity` unread events (at least 1): the sending half for whoever drives the
/// stage from outside, the inbox for a field of the stage named by the attribute's `inbox = field` key.
///
/// Where the control channel carries the three fixed [`Control`](crate::Control) messages, an inbox carries the
/// stage's own events, data and all (`Ev::Stop { mode, reason }`), and the generated dispatch reads it with the same
/// per-state policy: a polling state takes a waiting event before its next piece of work (and one that arrives while
/// the work waits wins the race), a blocking state waits for one, a state that ignores control and a terminal state
/// leave it unread. An event the current state has no transition for takes the state's unhandled path, as any event.
///
/// ```
/// use stagewise_runtime::{event_inbox, EventTrySendError};
///
/// let (events, inbox) = event_inbox::<String>(1);
/// events.try_send("first".to_owned()).unwrap();
/// assert!(matches!(events.try_send("second".to_owned()), Err(EventTrySendError::Full(_))));
/// drop(inbox);
/// assert!(events.is_closed());
/// ```
pub fn event_inbox<E>(capacity: usize) -> (EventSender<E>, EventInbox<E>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let shared = Shared { receiver: Mutex::new(rx), closed_seen: AtomicBool::new(false) };
    (EventSender { tx }, EventInbox { shared: Arc::new(shared) })
}

/// The sending half of an event inbox. Cloning it adds a sender; the inbox closes when the last one is dropped.
#[derive(Debug)]
pub struct EventSender<E> {
    tx: mpsc::Sender<E>,
}

impl<E> Clone for EventSender<E> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone() }
    }
}

impl<E> EventSender<E> {
    /// Sends `event`, waiting while the inbox is full.
    ///
    /// # Errors
    /// [`InboxClosed`], holding the event, once the inbox is gone (the stage has been dropped).
    pub async fn send(&self, event: E) -> Result<(), InboxClosed<E>> {
        self.tx.send(event).await.map_err(|e| InboxClosed(e.0))
    }

    /// Sends `event` if there is room now.
    ///
    /// # Errors
    /// [`EventTrySendError::Full`] when the inbox holds as many unread events as it can; [`EventTrySendError::Closed`]
    /// once the inbox is gone. Either way the event comes back.
    pub fn try_send(&self, event: E) -> Result<(), EventTrySendError<E>> {
        self.tx.try_send(event).map_err(|e| match e {
            mpsc::error::TrySendError::Full(event) => EventTrySendError::Full(event),
            mpsc::error::TrySendError::Closed(event) => EventTrySendError::Closed(InboxClosed(event)),
        })
    }

    /// True once the inbox is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The inbox is gone (the stage that held it was dropped): the event was not delivered, and is here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxClosed<E>(pub E);

impl<E> std::fmt::Display for InboxClosed<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the stage's event inbox is closed: the event was not delivered")
    }
}

impl<E: std::fmt::Debug> std::error::Error for InboxClosed<E> {}

/// Why [`EventSender::try_send`] did not send; the event comes back either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTrySendError<E> {
    /// The inbox holds as many unread events as it can: try later, or wait for room with [`EventSender::send`].
    Full(E),
    /// The inbox is gone.
    Closed(InboxClosed<E>),
}

impl<E> std::fmt::Display for EventTrySendError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventTrySendError::Full(_) => f.write_str("the stage's event inbox is full: the event was not delivered"),
            EventTrySendError::Closed(closed) => write!(f, "{closed}"),
        }
    }
}

impl<E: std::fmt::Debug> std::error::Error for EventTrySendError<E> {}

/// The receiving half, a field of the stage (`inbox = field`); the generated dispatch reads it.
pub struct EventInbox<E> {
    shared: Arc<Shared<E>>,
}

impl<E> std::fmt::Debug for EventInbox<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventInbox").field("closed_seen", &self.shared.closed_seen.load(Ordering::Relaxed)).finish()
    }
}

struct Shared<E> {
    /// Locked only to take one event or register a waker, never across an await.
    receiver: Mutex<mpsc::Receiver<E>>,
    /// The close was reported once; after that the inbox reads as forever empty.
    closed_seen: AtomicBool,
}

/// What one look into the inbox found.
enum Taken<E> {
    Event(E),
    Closed,
}

/// A reader of a stage's inbox for one dispatch, held beside the stage's own work (which borrows the stage).
#[doc(hidden)]
pub struct InboxReader<E> {
    shared: Arc<Shared<E>>,
}

impl<E> InboxReader<E> {
    /// The reader of the inbox in a stage's field.
    #[inline]
    pub fn of(inbox: &EventInbox<E>) -> Self {
        Self { shared: inbox.shared.clone() }
    }

    fn closed_once(&self) -> Option<Taken<E>> {
        (!self.shared.closed_seen.swap(true, Ordering::Relaxed)).then_some(Taken::Closed)
    }

    /// An event waiting now, or the close (reported once), without registering for wake-ups.
    fn try_take(&self) -> Option<Taken<E>> {
        if self.shared.closed_seen.load(Ordering::Relaxed) {
            return None;
        }
        let taken = self.shared.receiver.lock().unwrap_or_else(PoisonError::into_inner).try_recv();
        match taken {
            Ok(event) => Some(Taken::Event(event)),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => self.closed_once(),
        }
    }

    /// The next event or the close (reported once), registering for wake-ups; pending forever after the close.
    fn poll_take(&self, cx: &mut Context<'_>) -> Poll<Taken<E>> {
        if self.shared.closed_seen.load(Ordering::Relaxed) {
            return Poll::Pending;
        }
        let polled = self.shared.receiver.lock().unwrap_or_else(PoisonError::into_inner).poll_recv(cx);
        match polled {
            Poll::Ready(Some(event)) => Poll::Ready(Taken::Event(event)),
            Poll::Ready(None) => self.closed_once().map_or(Poll::Pending, Poll::Ready),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// What a taken event or the close becomes: the event itself; for the close, the state's `closed` event if it has
/// one, else the failure path (as for a closed control channel).
fn directive<M: Machine>(taken: Taken<M::Event>, state: &M::State) -> Result<Directive<M::Event>, BoxError> {
    match taken {
        Taken::Event(event) => Ok(Directive::Transition(event)),
        Taken::Closed => match M::control_closed(state) {
            Some(event) => Ok(Directive::Transition(event)),
            None => Err(format!("the event inbox closed in state {}", state.name()).into()),
        },
    }
}

/// A polling state's dispatch with an inbox: an event waiting is taken before the work; while the work waits, an
/// event that arrives wins (the work's future is dropped, as when a control message wins).
pub async fn with_inbox<M: Machine, F>(
    inbox: InboxReader<M::Event>,
    state: &M::State,
    work: F,
) -> Result<Directive<M::Event>, BoxError>
where
    F: Future<Output = Result<Directive<M::Event>, BoxError>>,
{
    if let Some(taken) = inbox.try_take() {
        return directive::<M>(taken, state);
    }
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| match work.as_mut().poll(cx) {
        Poll::Ready(done) => Poll::Ready(done),
        Poll::Pending => inbox.poll_take(cx).map(|taken| directive::<M>(taken, state)),
    })
    .await
}

/// A blocking state's dispatch with an inbox: waits for the next event (control messages and the timeout race it in
/// the run loop); after the close, waits for those alone.
pub async fn wait_inbox<M: Machine>(
    inbox: InboxReader<M::Event>,
    state: &M::State,
) -> Result<Directive<M::Event>, BoxError> {
    let taken = std::future::poll_fn(|cx| inbox.poll_take(cx)).await;
    directive::<M>(taken, state)
}
