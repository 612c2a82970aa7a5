//! `--chaos P`: the parse stage fails on a batch with probability P, drawn from a seeded generator, so a run shows
//! restarts the same way every time. Parse is wired restartable with [`restart_policy`]: each failure is one restart,
//! and the batch it held goes to the error journal (`StageFailed`), so in = out + errors still holds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stagewise::restart::{Backoff, Restart};

/// The seeded chance of failure shared by every instance of the parse stage, and where its event ids got to, so a
/// fresh instance goes on with the next id instead of writing ids again.
#[derive(Clone, Debug)]
pub struct Chaos {
    probability: f64,
    state: Arc<Mutex<u64>>,
    next_id: Arc<AtomicU64>,
}

impl Chaos {
    /// Failure on a batch with `probability` (0 to 1), from a generator seeded with `seed`.
    pub fn new(probability: f64, seed: u64) -> Self {
        let probability = if probability.is_finite() { probability.clamp(0.0, 1.0) } else { 0.0 };
        Self { probability, state: Arc::new(Mutex::new(seed | 1)), next_id: Arc::default() }
    }

    /// True when this batch is to fail (xorshift64*: small and reproducible; chaos needs no more).
    pub fn strikes(&self) -> bool {
        if self.probability <= 0.0 {
            return false;
        }
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let draw = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (draw as f64 / (1u64 << 53) as f64) < self.probability
    }

    /// The first event id a fresh instance writes.
    pub fn next_id(&self) -> u64 {
        self.next_id.load(Ordering::Relaxed)
    }

    /// The instance has written ids up to `issued`.
    pub fn issued(&self, issued: u64) {
        self.next_id.store(issued, Ordering::Relaxed);
    }
}

/// The example's restart policy for parse: restarted after a failure, at most 50 times within a second (past it the
/// pipeline fails, naming parse), after 1 ms doubling to 50 ms with 20% jitter, back to 1 ms after 20 ms of stable
/// running.
pub fn restart_policy(seed: u64) -> Restart {
    let ms = Duration::from_millis;
    let backoff = Backoff::exponential(ms(1), ms(50)).jitter(0.2).reset_after(ms(20)).seed(seed);
    Restart::transient().intensity(50, Duration::from_secs(1)).backoff(backoff)
}
