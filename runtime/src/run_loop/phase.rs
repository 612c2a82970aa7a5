//! Where user code was running when a panic was caught, so the failure message can name it.

use crate::error::panic_message;

/// Where user code was running, so that a panic caught around a whole turn can say where it came from. Only what
/// cannot be read back after the panic is kept (the machine's state can), so setting it costs the hot path little.
#[derive(Clone, Copy)]
pub(super) enum Phase {
    Dispatch,
    Transition {
        event: &'static str,
    },
    Action {
        name: &'static str,
    },
    /// One of the machine's other functions: `timeout`, `on_entry`, `control_event`, `control_closed`.
    Hook {
        name: &'static str,
    },
}

impl Phase {
    /// The failure message for an action that returned `error`, while this phase names it.
    #[cold]
    pub(super) fn action_failed(self, error: &(dyn std::error::Error + Send + Sync)) -> String {
        match self {
            Phase::Action { name } => format!("action {name} failed: {error}"),
            _ => format!("action failed: {error}"),
        }
    }

    /// The failure message for a panic in this phase, while the machine was in `state`.
    pub(super) fn panicked(self, state: &'static str, payload: &(dyn std::any::Any + Send)) -> String {
        let message = panic_message(payload);
        match self {
            Phase::Dispatch => format!("dispatch panicked in state {state}: {message}"),
            Phase::Transition { event } => {
                format!("transition on event {event} panicked in state {state}: {message}")
            }
            Phase::Action { name } => format!("action {name} panicked: {message}"),
            Phase::Hook { name } => format!("{name} panicked in state {state}: {message}"),
        }
    }
}
