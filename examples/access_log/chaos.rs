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
        Self { probability, state: Arc::new(Mutex::new(spread(seed))), next_id: Arc::default() }
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

/// The generator's first state for `seed`: splitmix64's finalizer, so every seed gives its own sequence (xorshift
/// needs a state that is not zero; `seed | 1` made seeds 2 and 3 the same run).
fn spread(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).max(1)
}

/// The example's restart policy for parse: restarted after a failure, at most 50 times within a second (past it the
/// pipeline fails, naming parse), after 1 ms doubling to 50 ms with 20% jitter, back to 1 ms after 20 ms of stable
/// running.
pub fn restart_policy(seed: u64) -> Restart {
    let ms = Duration::from_millis;
    let backoff = Backoff::exponential(ms(1), ms(50)).jitter(0.2).reset_after(ms(20)).seed(seed);
    Restart::transient().intensity(50, Duration::from_secs(1)).backoff(backoff)
}

#[cfg(test)]
mod tests {
    use super::Chaos;

    fn draws(seed: u64) -> Vec<bool> {
        let chaos = Chaos::new(0.5, seed);
        (0..64).map(|_| chaos.strikes()).collect()
    }

    #[test]
    fn neighbouring_seeds_give_different_runs_and_one_seed_the_same_run() {
        assert_ne!(draws(2), draws(3), "seeds 2 and 3 gave the same failures");
        assert_ne!(draws(0), draws(1));
        assert_eq!(draws(7), draws(7));
    }
}
