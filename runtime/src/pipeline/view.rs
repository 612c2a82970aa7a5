//! What a pipeline's handle sees of each stage while it runs: its state and its counts, kept current by the
//! orchestrator across restarts.

use std::sync::Arc;

use tokio::sync::watch;

use crate::counters::{CounterSnapshot, Counters};
use crate::handle::StageHandle;
use crate::run_loop::StateSnapshot;

/// One stage, seen from outside; the orchestrator swaps in each restarted instance.
#[derive(Debug)]
pub(crate) struct StageView {
    /// The running instance's state.
    pub(crate) state: watch::Receiver<StateSnapshot>,
    /// The running instance's counters.
    counters: Arc<Counters>,
    /// The counts of every earlier instance, so the stage's totals never go back on a restart.
    earlier: CounterSnapshot,
    /// How many times the stage was restarted.
    pub(crate) restarts: u32,
}

impl StageView {
    /// The view of the first instance, `handle`.
    pub(crate) fn new(handle: &StageHandle) -> Self {
        Self {
            state: handle.subscribe(),
            counters: handle.shared_counters(),
            earlier: CounterSnapshot::default(),
            restarts: 0,
        }
    }

    /// Follows `handle`, the stage's instance after restart number `restarts`.
    pub(crate) fn restarted(&mut self, handle: &StageHandle, restarts: u32) {
        self.earlier = self.totals();
        self.state = handle.subscribe();
        self.counters = handle.shared_counters();
        self.restarts = restarts;
    }

    /// The stage's counts over all its instances.
    pub(crate) fn totals(&self) -> CounterSnapshot {
        let now = self.counters.snapshot();
        CounterSnapshot {
            loop_turns: self.earlier.loop_turns + now.loop_turns,
            transitions: self.earlier.transitions + now.transitions,
            failures: self.earlier.failures + now.failures,
        }
    }
}
