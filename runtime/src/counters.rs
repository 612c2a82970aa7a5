//! Counters of a running supervisor, written by its loop and readable from anywhere while it runs.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Live counters of one supervisor. Only its run loop writes them.
#[derive(Debug, Default)]
pub struct Counters {
    loop_turns: AtomicU64,
    transitions: AtomicU64,
    failures: AtomicU64,
}

/// The counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterSnapshot {
    /// Turns of the run loop.
    pub loop_turns: u64,
    /// Events the machine turned on (including failure events).
    pub transitions: u64,
    /// Failure paths taken.
    pub failures: u64,
}

impl Counters {
    /// Reads all three counters.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            loop_turns: self.loop_turns.load(Ordering::Relaxed),
            transitions: self.transitions.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }

    /// Publishes the loop's own tally. Plain stores: the loop is the only writer, so no read-modify-write is needed.
    #[inline]
    pub(crate) fn publish(&self, tally: &CounterSnapshot) {
        self.loop_turns.store(tally.loop_turns, Ordering::Relaxed);
        self.transitions.store(tally.transitions, Ordering::Relaxed);
        self.failures.store(tally.failures, Ordering::Relaxed);
    }

    /// Publishes one more loop turn.
    #[inline]
    pub(crate) fn turned(&self, loop_turns: u64) {
        self.loop_turns.store(loop_turns, Ordering::Relaxed);
    }

    /// Publishes one more transition.
    #[inline]
    pub(crate) fn transitioned(&self, transitions: u64) {
        self.transitions.store(transitions, Ordering::Relaxed);
    }
}
