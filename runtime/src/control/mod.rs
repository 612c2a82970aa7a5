//! The control plane: messages a handle sends to a running stage, the channel they travel on, and how each state
//! treats them.

mod queue;

use std::sync::atomic::Ordering;
use std::sync::Arc;

pub(crate) use queue::Peek;
use queue::Queue;

/// A message from outside the stage: a handle, a pipeline, Ctrl-C.
///
/// Each machine says what a control message becomes in its own events
/// ([`Machine::control_event`](crate::machine::Machine::control_event)). Non-exhaustive: messages may be added, so a
/// match on it ends with a `_` arm (a message a machine does not know is best ignored: return `None`).
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::handle::{spawn_handler_supervised, HandleError, SpawnOptions};
/// use stagewise_runtime::lifecycle::Lifecycle;
/// use stagewise_runtime::machine::Machine;
/// use stagewise_runtime::Control;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), HandleError> {
/// // What each message means is the machine's to say: the ready-made Countdown drains to Completed.
/// assert!(Countdown::control_event(Control::Drain).is_some());
/// assert!(Countdown::control_event(Control::Start).is_none(), "it starts counting on its own");
///
/// let mut handle = spawn_handler_supervised(Countdown::new(u32::MAX), CountdownState::Counting, 0, SpawnOptions::default());
/// handle.send(Control::Drain).await?;
/// assert_eq!(handle.outcome().await?.lifecycle, Lifecycle::Completed);
/// # Ok(())
/// # }
/// ```
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
    let queue = Arc::new(Queue::new(capacity));
    (ControlSender { queue: queue.clone() }, ControlReceiver { queue, seen: 0 })
}

/// The sending half of a control channel. Cloning it adds a sender; the channel closes when the last one is dropped.
#[derive(Debug)]
pub struct ControlSender {
    queue: Arc<Queue>,
}

impl Clone for ControlSender {
    fn clone(&self) -> Self {
        self.queue.add_sender();
        Self { queue: self.queue.clone() }
    }
}

impl Drop for ControlSender {
    fn drop(&mut self) {
        self.queue.drop_sender();
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
        self.queue.push(control).await
    }

    /// Sends `control` if there is room now.
    ///
    /// # Errors
    /// [`ControlTrySendError::Full`] when the channel holds as many unread messages as it can;
    /// [`ControlTrySendError::Closed`] once the receiving half is gone.
    pub fn try_send(&self, control: Control) -> Result<(), ControlTrySendError> {
        self.queue.try_push(control)
    }

    /// True once the receiving half is gone.
    pub fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }
}

/// The receiving half of a control channel, read by the run loop.
#[derive(Debug)]
pub struct ControlReceiver {
    queue: Arc<Queue>,
    /// The send signal at the last look that found the queue empty.
    seen: u64,
}

impl Drop for ControlReceiver {
    fn drop(&mut self) {
        self.queue.drop_reader();
    }
}

impl ControlReceiver {
    /// Takes a message that is waiting now, without registering for wake-ups. Cheap when nothing was sent since the
    /// last look: one atomic load.
    #[inline]
    pub(crate) fn peek(&mut self) -> Peek {
        let signal = self.queue.signal.load(Ordering::Acquire);
        if signal == self.seen {
            return Peek::Empty;
        }
        let peek = self.queue.take(None);
        if peek == Peek::Empty {
            // Caught up: only a later send or drop can put something here.
            self.seen = signal;
        }
        peek
    }

    /// Polls for the next message, registering the task to be woken by one; `None` once every sender is gone.
    #[inline]
    pub(crate) fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Control>> {
        match self.queue.take(Some(cx)) {
            Peek::Message(message) => std::task::Poll::Ready(Some(message)),
            Peek::Closed => std::task::Poll::Ready(None),
            Peek::Empty => std::task::Poll::Pending,
        }
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

    #[tokio::test]
    async fn a_send_on_a_full_channel_waits_for_room_and_learns_of_a_gone_reader() {
        let (tx, mut rx) = channel(1);
        tx.send(Control::Start).await.unwrap();
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(Control::Drain).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "no room: the send waits");
        assert_eq!(rx.peek(), Peek::Message(Control::Start));
        waiting.await.unwrap().expect("room was made");
        assert_eq!(std::future::poll_fn(|cx| rx.poll_recv(cx)).await, Some(Control::Drain));

        tx.send(Control::Stop).await.unwrap();
        let blocked = tokio::spawn({
            let tx = tx.clone();
            async move { tx.send(Control::Drain).await }
        });
        tokio::task::yield_now().await;
        drop(rx);
        assert_eq!(
            blocked.await.unwrap(),
            Err(ControlClosed(Control::Drain)),
            "the reader is gone: no room ever comes"
        );
    }

    #[tokio::test]
    async fn a_waiting_reader_is_woken_by_a_message_and_by_the_last_sender_leaving() {
        let (tx, mut rx) = channel(2);
        let reader = tokio::spawn(async move {
            let first = std::future::poll_fn(|cx| rx.poll_recv(cx)).await;
            let second = std::future::poll_fn(|cx| rx.poll_recv(cx)).await;
            (first, second)
        });
        tokio::task::yield_now().await;
        tx.try_send(Control::Stop).unwrap();
        tokio::task::yield_now().await;
        drop(tx);
        assert_eq!(reader.await.unwrap(), (Some(Control::Stop), None));
    }
}
