//! What can wake a state besides its dispatch (a control message, the control channel closing, the state's timeout),
//! and the two ways of looking for it: a cheap check before dispatch and a registering poll while dispatch waits.

use std::task::{Context, Poll};

use crate::control::{Control, ControlReceiver, Peek};

use super::timer::StateTimer;

/// What ends a run of steady turns without being a failure; handled off the hot path.
pub(super) enum Interruption {
    /// A control message, or `None` when every sender is gone.
    Control(Option<Control>),
    /// The state's timeout fired.
    Timeout,
    /// Dispatch asked to end the run.
    Terminate,
}

/// A control message already waiting (or the channel closed), then an elapsed timeout: what wins before dispatch is
/// called. Registers no wake-ups; cheap when nothing was sent (one atomic load).
pub(super) fn ready_wake<E>(control: Option<&mut ControlReceiver>, timer: &StateTimer<E>) -> Option<Interruption> {
    if let Some(rx) = control {
        match rx.peek() {
            Peek::Message(message) => return Some(Interruption::Control(Some(message))),
            Peek::Closed => return Some(Interruption::Control(None)),
            Peek::Empty => {}
        }
    }
    timer.is_elapsed().then_some(Interruption::Timeout)
}

/// Polls what can wake a state besides its dispatch (a control message or the channel closing, then the timeout),
/// registering for both.
pub(super) fn poll_wake<E>(
    control: Option<&mut ControlReceiver>,
    timer: &mut StateTimer<E>,
    cx: &mut Context<'_>,
) -> Poll<Interruption> {
    if let Some(rx) = control {
        if let Poll::Ready(message) = rx.poll_recv(cx) {
            return Poll::Ready(Interruption::Control(message));
        }
    }
    timer.poll_fired(cx).map(|()| Interruption::Timeout)
}
