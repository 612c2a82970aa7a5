//! The plumbing one run is connected to: its control channel, its state watchers, its lifecycle journal, its counters.

use std::sync::Arc;

use tokio::sync::watch;

use crate::control::ControlReceiver;
use crate::counters::Counters;
use crate::journal::{Journal, MemoryJournal};
use crate::lifecycle::LifecycleRecord;

use super::state_cell::{StateCell, StateOutlet, StateSnapshot};

/// The plumbing one run is connected to: its control channel, its state watchers, its lifecycle journal, its counters.
///
/// ```
/// use std::sync::Arc;
///
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::journal::{Journal, MemoryJournal};
/// use stagewise_runtime::{control_channel, run_handler_supervised, Control, Lifecycle, Supervision};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let journal = Arc::new(MemoryJournal::new());
/// let (control, rx) = control_channel(4);
/// control.send(Control::Drain).await.unwrap(); // read before the first tick
/// let supervision = Supervision::new(journal.clone()).with_control(rx);
/// let counters = supervision.counters().clone();
/// let record = run_handler_supervised(Countdown::new(1_000), CountdownState::Counting, 0, supervision).await.unwrap();
/// assert!(matches!(record.lifecycle, Lifecycle::Completed { .. }));
/// assert_eq!(journal.len(), 2, "Started, then Completed");
/// assert!(counters.snapshot().transitions >= 1);
/// # }
/// ```
pub struct Supervision {
    pub(crate) control: Option<ControlReceiver>,
    pub(crate) state: StateOutlet,
    pub(crate) journal: Arc<dyn Journal<LifecycleRecord>>,
    pub(crate) counters: Arc<Counters>,
}

impl std::fmt::Debug for Supervision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervision")
            .field("control", &self.control.is_some())
            .field("state", &self.state.is_connected())
            .field("journal_len", &self.journal.len())
            .finish_non_exhaustive()
    }
}

impl Default for Supervision {
    fn default() -> Self {
        Self::new(Arc::new(MemoryJournal::new()))
    }
}

impl Supervision {
    /// No control channel, no watchers, lifecycle records written to `journal`.
    pub fn new(journal: Arc<dyn Journal<LifecycleRecord>>) -> Self {
        Self::connected(journal, Arc::default())
    }

    /// No control channel, no watchers, lifecycle records written to `journal`, counters to `counters` (a handle's:
    /// made once, not made and replaced).
    pub(crate) fn connected(journal: Arc<dyn Journal<LifecycleRecord>>, counters: Arc<Counters>) -> Self {
        Self { control: None, state: StateOutlet::default(), journal, counters }
    }

    /// Reads control messages from `control`.
    #[must_use]
    pub fn with_control(mut self, control: ControlReceiver) -> Self {
        self.control = Some(control);
        self
    }

    /// Publishes the state to `state` right after each transition.
    #[must_use]
    pub fn with_state_watch(mut self, state: watch::Sender<StateSnapshot>) -> Self {
        self.state = StateOutlet::new(Arc::new(state));
        self
    }

    /// Publishes the state to `cell` (a handle's, which makes a watch only for its first subscriber).
    #[must_use]
    pub(crate) fn with_state_cell(mut self, cell: Arc<dyn StateCell>) -> Self {
        self.state = StateOutlet::new(cell);
        self
    }

    /// Writes the counters to `counters`, so others can read them while the run goes on.
    #[must_use]
    pub fn with_counters(mut self, counters: Arc<Counters>) -> Self {
        self.counters = counters;
        self
    }

    /// The counters this run writes.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }
}
