//! The control plane: messages a handle sends to a running stage, the channel they travel on, and how each state
//! treats them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

/// A message from outside the stage: a handle, a pipeline, Ctrl-C.
///
/// Each machine says what a control message becomes in its own events
/// ([`Machine::control_event`](crate::machine::Machine::control_event)). Non-exhaustive: messages may be added, so a
/// match on it ends with a `_` arm (a message a machine does not know is best ignored: return `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Control {
    /// Begin work.
    Start,
    /// Finish in-flight work, forward end of stream, complete.
    Drain,
    /// Stop now.
    Stop,
}

/// How a state treats the control channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ControlPolicy {
    /// The state waits for a control message (or its timeout); it does no work of its own and its dispatch is not called.
    Block,
    /// The state works, and a control message that arrives is taken before the next piece of work.
    #[default]
    Poll,
    /// The state does not read the control channel; messages wait until a state that does.
    Ignore,
}

/// Opens a bounded control channel for one supervisor: the sending half for handles and pipelines, the receiving half
/// for [`Supervision::with_control`](crate::Supervision::with_control).
///
/// Beside the channel, the two halves share a signal that every send and every dropped sender bumps. The run loop reads
/// it (one atomic load) before each dispatch and only looks into the channel when it moved, so a busy stage pays almost
/// nothing for taking control messages before its next piece of work.
///
/// ```
/// use stagewise_runtime::{control_channel, Control};
///
/// let (tx, rx) = control_channel(1);
/// tx.try_send(Control::Drain).unwrap();
/// assert!(tx.try_send(Control::Stop).is_err(), "full: one message waits unread");
/// drop(rx);
/// assert!(tx.is_closed());
/// ```
pub fn channel(capacity: usize) -> (ControlSender, ControlReceiver) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let signal = Arc::new(AtomicU64::new(0));
    (ControlSender { tx, signal: Signal(signal.clone()) }, ControlReceiver { rx, signal, seen: 0 })
}

/// The sending half of a control channel. Cloning it adds a sender; the channel closes when the last one is dropped.
#[derive(Debug, Clone)]
pub struct ControlSender {
    // Declared before `signal`, so it is dropped first: the channel closes before the drop is signalled, and a peek
    // that sees the signal also sees the close.
    tx: mpsc::Sender<Control>,
    signal: Signal,
}

/// The send signal's sending side: bumped after every send, and when dropped.
#[derive(Debug, Clone)]
struct Signal(Arc<AtomicU64>);

impl Signal {
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.bump();
    }
}

/// The channel is closed: the supervisor's run has ended (or never read control). Holds the message that was not
/// delivered; its field is public as in `tokio::sync::mpsc::error::SendError`, since the message is all it carries.
///
/// ```
/// use stagewise_runtime::{control_channel, Control, ControlClosed};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (sender, receiver) = control_channel(1);
/// drop(receiver); // the run ended
/// let error = sender.send(Control::Drain).await.unwrap_err();
/// assert_eq!(error, ControlClosed(Control::Drain));
/// assert_eq!(error.to_string(), "the control channel is closed: Drain was not delivered");
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlClosed(pub Control);

impl std::fmt::Display for ControlClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the control channel is closed: {:?} was not delivered", self.0)
    }
}

impl std::error::Error for ControlClosed {}

/// Why [`ControlSender::try_send`] did not send: the channel is full now, or closed for good. Either way the message
/// comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlTrySendError {
    /// The channel holds as many unread messages as it can: the supervisor has yet to read them. Try again later, or
    /// wait for room with [`ControlSender::send`].
    Full(Control),
    /// The channel is closed: the supervisor's run has ended.
    Closed(ControlClosed),
}

impl std::fmt::Display for ControlTrySendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlTrySendError::Full(control) => {
                write!(f, "the control channel is full: {control:?} was not delivered")
            }
            ControlTrySendError::Closed(closed) => write!(f, "{closed}"),
        }
    }
}

impl std::error::Error for ControlTrySendError {}

impl ControlSender {
    /// Sends `control`, waiting while the channel is full.
    ///
    /// # Errors
    /// [`ControlClosed`] once the receiving half is gone (the run has ended).
    pub async fn send(&self, control: Control) -> Result<(), ControlClosed> {
        self.tx.send(control).await.map_err(|e| ControlClosed(e.0))?;
        self.signal.bump();
        Ok(())
    }

    /// Sends `control` if there is room now.
    ///
    /// # Errors
    /// [`ControlTrySendError::Full`] when the channel holds as many unread messages as it can;
    /// [`ControlTrySendError::Closed`] once the receiving half is gone.
    pub fn try_send(&self, control: Control) -> Result<(), ControlTrySendError> {
        self.tx.try_send(control).map_err(|e| match e {
            mpsc::error::TrySendError::Full(control) => ControlTrySendError::Full(control),
            mpsc::error::TrySendError::Closed(control) => ControlTrySendError::Closed(ControlClosed(control)),
        })?;
        self.signal.bump();
        Ok(())
    }

    /// True once the receiving half is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The receiving half of a control channel, read by the run loop.
#[derive(Debug)]
pub struct ControlReceiver {
    rx: mpsc::Receiver<Control>,
    signal: Arc<AtomicU64>,
    seen: u64,
}

/// What a look into the control channel found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Peek {
    /// Nothing waits.
    Empty,
    /// A message.
    Message(Control),
    /// Every sender is gone.
    Closed,
}

impl ControlReceiver {
    /// Takes a message that is waiting now, without registering for wake-ups. Cheap when nothing was sent since the
    /// last look: one atomic load.
    #[inline]
    pub(crate) fn peek(&mut self) -> Peek {
        let signal = self.signal.load(Ordering::Acquire);
        if signal == self.seen {
            return Peek::Empty;
        }
        match self.rx.try_recv() {
            Ok(message) => Peek::Message(message),
            Err(mpsc::error::TryRecvError::Disconnected) => Peek::Closed,
            Err(mpsc::error::TryRecvError::Empty) => {
                // Caught up: only a later send or drop can put something here.
                self.seen = signal;
                Peek::Empty
            }
        }
    }

    /// Polls for the next message, registering the task to be woken by one; `None` once every sender is gone.
    #[inline]
    pub(crate) fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Control>> {
        self.rx.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn peek_takes_a_waiting_message_and_sees_the_channel_close() {
        let (tx, mut rx) = channel(4);
        assert_eq!(rx.peek(), Peek::Empty);
        tx.send(Control::Drain).await.unwrap();
        tx.try_send(Control::Stop).unwrap();
        assert_eq!(rx.peek(), Peek::Message(Control::Drain));
        assert_eq!(rx.peek(), Peek::Message(Control::Stop));
        assert_eq!(rx.peek(), Peek::Empty);
        let second = tx.clone();
        drop(tx);
        assert_eq!(rx.peek(), Peek::Empty, "one sender is still there");
        drop(second);
        assert_eq!(rx.peek(), Peek::Closed);
    }

    #[test]
    fn peek_sees_the_last_sender_dropped_on_another_thread() {
        // The drop is signalled only after the channel has closed; otherwise a peek between the two would take the
        // signal as seen and miss the close for good.
        for _ in 0..5_000 {
            let (tx, mut rx) = channel(1);
            let dropper = std::thread::spawn(move || drop(tx));
            let mut closed = false;
            while !dropper.is_finished() {
                if rx.peek() == Peek::Closed {
                    closed = true;
                    break;
                }
            }
            dropper.join().unwrap();
            assert!(closed || rx.peek() == Peek::Closed, "peek missed the close of the channel");
        }
    }

    #[tokio::test]
    async fn send_to_a_dropped_receiver_returns_the_message() {
        let (tx, rx) = channel(1);
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(Control::Start).await, Err(ControlClosed(Control::Start)));
        assert_eq!(tx.try_send(Control::Stop), Err(ControlTrySendError::Closed(ControlClosed(Control::Stop))));
    }

    #[test]
    fn try_send_on_a_full_channel_says_full_and_hands_the_message_back() {
        let (tx, mut rx) = channel(1);
        tx.try_send(Control::Start).unwrap();
        let full = tx.try_send(Control::Drain).unwrap_err();
        assert_eq!(full, ControlTrySendError::Full(Control::Drain));
        assert_eq!(full.to_string(), "the control channel is full: Drain was not delivered");
        assert_eq!(rx.peek(), Peek::Message(Control::Start));
        tx.try_send(Control::Drain).expect("room again once the message was read");
    }
}
