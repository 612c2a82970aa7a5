//! The paths off the hot one: a control message, the control channel closing, the state's timeout, and Terminate.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::machine::{Ending, EventVariant, StateVariant};

use super::run::{Progress, Run};
use super::wake::Interruption;
use crate::supervisor::Supervisor;

impl<S: Supervisor> Run<S> {
    /// Handles what interrupted the steady turns. Panics propagate to the caller's guard.
    pub(super) async fn on_interruption(&mut self, interruption: Interruption) -> Progress {
        match interruption {
            Interruption::Terminate => self.terminate().await,
            Interruption::Control(Some(control)) => {
                match self.hook("control_event", |_| S::control_event(control)) {
                    Some(event) => {
                        let progress = self.feed_or_fail(event).await;
                        // Kept only when it is what stopped the run, to say so in the Cancelled record.
                        let cancelled = self.machine.state().ending() == Some(Ending::Cancelled);
                        self.last_control = cancelled.then_some(control);
                        progress
                    }
                    None => {
                        tracing::debug!(?control, state = self.machine.state().name(), "control message ignored");
                        Progress::Running
                    }
                }
            }
            Interruption::Control(None) => {
                self.control = None;
                match self.hook("control_closed", S::control_closed) {
                    Some(event) => self.feed_or_fail(event).await,
                    None => {
                        let message = format!("control channel closed in state {}", self.machine.state().name());
                        self.fail(message).await
                    }
                }
            }
            Interruption::Timeout => match self.timer.event.take() {
                Some(event) => {
                    tracing::debug!(state = self.machine.state().name(), event = event.name(), "state timeout fired");
                    self.feed_or_fail(event).await
                }
                None => Progress::Running,
            },
        }
    }

    /// [`feed`](Self::feed) off the hot path, with its own panic guard.
    async fn feed_or_fail(&mut self, event: S::Event) -> Progress {
        match AssertUnwindSafe(self.feed(event)).catch_unwind().await {
            Ok(Ok(())) => Progress::Running,
            Ok(Err(message)) => self.fail(message).await,
            Err(panic) => {
                let message = self.panicked(&*panic);
                self.fail(message).await
            }
        }
    }
}
