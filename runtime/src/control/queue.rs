//! The control channel's one shared allocation: the waiting messages, the reader's waker, the senders waiting for
//! room, and the send signal the run loop reads before each dispatch.
//!
//! A supervisor's control channel carries a handful of one-byte messages in its whole life, and 100,000 idle stages
//! each hold one, so it is built for size: one small `Arc` (about 150 bytes) whose message buffer is allocated on the
//! first message, where a `tokio::sync::mpsc` channel allocates some 700 bytes up front. The lock guards a few field
//! updates and is never held across an await or while waking a task, so it never blocks a worker for longer than an
//! uncontended atomic would.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Waker};

use tokio::sync::Notify;

use super::{Control, ControlClosed, ControlTrySendError};

/// The state both halves of one control channel share.
#[derive(Debug)]
pub(super) struct Queue {
    /// Bumped after every message sent and every sender dropped: the reader looks into the queue only when it moved.
    pub(super) signal: AtomicU64,
    state: Mutex<State>,
    /// Senders waiting for room, woken when a message is taken or the reader is gone.
    room: Notify,
}

#[derive(Debug)]
struct State {
    /// Messages sent and not read yet; no buffer until the first one.
    messages: VecDeque<Control>,
    capacity: usize,
    senders: usize,
    /// The receiving half is still there.
    reader_alive: bool,
    /// The reader waiting for a message.
    reader: Option<Waker>,
}

/// What a look into the queue found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Peek {
    /// Nothing waits.
    Empty,
    /// A message.
    Message(Control),
    /// Every sender is gone.
    Closed,
}

impl Queue {
    /// A queue for `capacity` unread messages (at least 1), with one sender and its reader.
    pub(super) fn new(capacity: usize) -> Self {
        let state = State {
            messages: VecDeque::new(),
            capacity: capacity.max(1),
            senders: 1,
            reader_alive: true,
            reader: None,
        };
        Self { signal: AtomicU64::new(0), state: Mutex::new(state), room: Notify::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; a poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.signal.fetch_add(1, Ordering::Release);
    }

    /// Queues `control` if there is room now.
    pub(super) fn try_push(&self, control: Control) -> Result<(), ControlTrySendError> {
        let reader = {
            let mut state = self.lock();
            if !state.reader_alive {
                return Err(ControlTrySendError::Closed(ControlClosed(control)));
            }
            if state.messages.len() >= state.capacity {
                return Err(ControlTrySendError::Full(control));
            }
            state.messages.push_back(control);
            state.reader.take()
        };
        self.bump();
        if let Some(reader) = reader {
            reader.wake();
        }
        Ok(())
    }

    /// Queues `control`, waiting while the queue is full.
    pub(super) async fn push(&self, control: Control) -> Result<(), ControlClosed> {
        loop {
            // Registered before the check, so room made between the check and the wait is not missed.
            let room = self.room.notified();
            let mut room = std::pin::pin!(room);
            room.as_mut().enable();
            match self.try_push(control) {
                Ok(()) => return Ok(()),
                Err(ControlTrySendError::Closed(closed)) => return Err(closed),
                Err(ControlTrySendError::Full(_)) => room.await,
            }
        }
    }

    /// Takes the oldest message; `Closed` once it is empty and every sender is gone. With a context, an empty queue
    /// registers its waker to be woken by the next message or the close.
    pub(super) fn take(&self, cx: Option<&mut Context<'_>>) -> Peek {
        let message = {
            let mut state = self.lock();
            match state.messages.pop_front() {
                Some(message) => message,
                None if state.senders == 0 => return Peek::Closed,
                None => {
                    if let Some(cx) = cx {
                        if !state.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            state.reader = Some(cx.waker().clone());
                        }
                    }
                    return Peek::Empty;
                }
            }
        };
        self.room.notify_waiters();
        Peek::Message(message)
    }

    /// One more sender.
    pub(super) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// One sender fewer; the last one wakes the reader to see the channel closed. The signal is bumped only after the
    /// count went down, so a reader that sees the bump also sees the close.
    pub(super) fn drop_sender(&self) {
        let reader = {
            let mut state = self.lock();
            state.senders -= 1;
            if state.senders == 0 {
                state.reader.take()
            } else {
                None
            }
        };
        self.bump();
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// The reader is gone: queued messages are dropped, and senders waiting for room learn that it never comes.
    pub(super) fn drop_reader(&self) {
        {
            let mut state = self.lock();
            state.reader_alive = false;
            state.messages = VecDeque::new();
        }
        self.room.notify_waiters();
    }

    /// True once the reader is gone.
    pub(super) fn is_closed(&self) -> bool {
        !self.lock().reader_alive
    }
}
