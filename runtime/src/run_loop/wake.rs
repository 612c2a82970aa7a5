//! What can wake a state besides its dispatch (a control message, the control channel closing, the state's timeout),
//! and the two ways of looking for it: a cheap check before dispatch and a registering poll while dispatch waits.

use std::task::{Context, Poll};

use crate::control::{Control, ControlReceiver, Peek};
use crate::directive::Directive;
use crate::error::BoxError;

use super::timer::StateTimer;

/// What woke the loop this turn: dispatch's directive, or an interruption handled off the hot path.
pub(super) enum Wake<E> {
    Dispatched(Result<Directive<E>, BoxError>),
    Interrupted(Interruption),
}

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
pub(super) fn ready_wake<E>(control: Option<&mut ControlReceiver>, timer: &StateTimer<E>) -> Option<Wake<E>> {
    if let Some(rx) = control {
        match rx.peek() {
            Peek::Message(message) => return Some(Wake::Interrupted(Interruption::Control(Some(message)))),
            Peek::Closed => return Some(Wake::Interrupted(Interruption::Control(None))),
            Peek::Empty => {}
        }
    }
    timer.is_elapsed().then_some(Wake::Interrupted(Interruption::Timeout))
}

/// Polls what can wake a state besides its dispatch (a control message or the channel closing, then the timeout),
/// registering for both.
pub(super) fn poll_wake<E>(
    control: Option<&mut ControlReceiver>,
    timer: &mut StateTimer<E>,
    cx: &mut Context<'_>,
) -> Poll<Wake<E>> {
    if let Some(rx) = control {
        if let Poll::Ready(message) = rx.poll_recv(cx) {
            return Poll::Ready(Wake::Interrupted(Interruption::Control(message)));
        }
    }
    timer.poll_fired(cx).map(|()| Wake::Interrupted(Interruption::Timeout))
}
