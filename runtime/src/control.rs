//! The control plane: messages a handle sends to a running stage, the channel they travel on, and how each state
//! treats them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

/// A message from outside the stage: a handle, a pipeline, Ctrl-C.
///
/// Each machine says what a control message becomes in its own events
/// ([`Machine::control_event`](crate::machine::Machine::control_event)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// The channel is closed: the supervisor's run has ended (or never read control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlClosed(pub Control);

impl ControlSender {
    /// Sends `control`, waiting while the channel is full.
    pub async fn send(&self, control: Control) -> Result<(), ControlClosed> {
        self.tx.send(control).await.map_err(|e| ControlClosed(e.0))?;
        self.signal.bump();
        Ok(())
    }

    /// Sends `control` if there is room now; a full channel is reported like a closed one.
    pub fn try_send(&self, control: Control) -> Result<(), ControlClosed> {
        self.tx.try_send(control).map_err(|e| ControlClosed(e.into_inner()))?;
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
    }
}
