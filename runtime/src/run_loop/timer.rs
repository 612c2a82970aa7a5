//! The armed timeout of the current state: one sleep allocated per run, reset on every entry.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

use crate::machine::StateTimeout;

/// The armed timeout of the current state. The sleep is allocated once per run and reset on every entry.
pub(super) struct StateTimer<E> {
    sleep: Option<Pin<Box<Sleep>>>,
    /// The event to feed when the timeout fires; `None` when the state has no timeout (or it already fired).
    pub(super) event: Option<E>,
}

impl<E> StateTimer<E> {
    /// No timeout armed.
    pub(super) fn new() -> Self {
        Self { sleep: None, event: None }
    }

    /// Arms the timeout of the state just entered, or disarms the timer when it has none.
    pub(super) fn arm(&mut self, timeout: Option<StateTimeout<E>>) {
        self.event = timeout.map(|t| {
            let deadline = Instant::now() + t.after;
            match &mut self.sleep {
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            t.event
        });
    }

    /// True when the armed timeout's deadline has passed. Read off the clock, not `Sleep::is_elapsed`: tokio registers
    /// a sleep on its first poll, and a dispatch that never waits never lets it be polled.
    pub(super) fn is_elapsed(&self) -> bool {
        match (&self.sleep, &self.event) {
            (Some(sleep), Some(_)) => sleep.deadline() <= Instant::now(),
            _ => false,
        }
    }

    /// Ready when the armed timeout fires; pending forever when none is armed.
    pub(super) fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match (&mut self.sleep, &self.event) {
            (Some(sleep), Some(_)) => sleep.as_mut().poll(cx),
            _ => Poll::Pending,
        }
    }
}
