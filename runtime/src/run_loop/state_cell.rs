//! Where a run publishes the state it is in: a cell that a handle shares with it, or a tokio watch of the caller's.

use std::sync::Arc;

use tokio::sync::watch;

use crate::machine::Ending;

/// The state a supervisor is in, as published to watchers right after each transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateSnapshot {
    /// The state's name.
    pub name: &'static str,
    /// `Some` once the machine is in a terminal state.
    pub ending: Option<Ending>,
}

/// Something that shows a run's state to others: the run writes each state it enters, and closes it when it ends.
pub(crate) trait StateCell: Send + Sync {
    /// The run entered the state `snapshot` describes.
    fn publish(&self, snapshot: StateSnapshot);

    /// The run has ended: no state follows; watchers waiting for a change learn so.
    fn close(&self) {}
}

/// A caller's watch: publishing sends to it (when the state changed); it closes when the run drops it.
impl StateCell for watch::Sender<StateSnapshot> {
    fn publish(&self, snapshot: StateSnapshot) {
        self.send_if_modified(|current| {
            let changed = *current != snapshot;
            *current = snapshot;
            changed
        });
    }
}

/// The run's side of its state cell, if it has one; closes the cell when the run is dropped, however it ended.
#[derive(Default)]
pub(crate) struct StateOutlet(Option<Arc<dyn StateCell>>);

impl StateOutlet {
    /// Publishes to `cell`.
    pub(crate) fn new(cell: Arc<dyn StateCell>) -> Self {
        Self(Some(cell))
    }

    /// True when something watches the state.
    pub(crate) fn is_connected(&self) -> bool {
        self.0.is_some()
    }

    /// The run entered the state `snapshot` describes.
    pub(super) fn publish(&self, snapshot: StateSnapshot) {
        if let Some(cell) = &self.0 {
            cell.publish(snapshot);
        }
    }
}

impl Drop for StateOutlet {
    fn drop(&mut self) {
        if let Some(cell) = &self.0 {
            cell.close();
        }
    }
}
