//! Backoff: how long a supervisor waits before restarting a stage. Exponential between a minimum and a maximum, with
//! seeded jitter, reset once the stage has run stably for a declared time (as Akka's `BackoffSupervisor` does).

use std::time::Duration;

use tokio::time::Instant;

/// The delay curve before each restart of a stage.
///
/// The delay before consecutive restart `n` (0 for the first since the last reset) is
/// `min(max, min * factor^n) * (1 + jitter * r)` (rounded up to a whole millisecond), with `r` uniform in `[0, 1)`
/// drawn from a generator seeded with
/// [`seed`](Self::seed) (or from the process's random state when no seed is given). A stage that has run for
/// [`reset_after`](Self::reset_after) before it ends again starts the curve over.
///
/// ```
/// use std::time::Duration;
/// use stagewise_runtime::restart::Backoff;
///
/// let backoff = Backoff::exponential(Duration::from_millis(10), Duration::from_millis(50));
/// let delays: Vec<_> = (0..4).map(|n| backoff.delay(n, 0.0)).collect();
/// let ms = Duration::from_millis;
/// assert_eq!(delays, [ms(10), ms(20), ms(40), ms(50)]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    /// The first delay.
    pub min: Duration,
    /// The curve stops growing here; jitter still adds its fraction on top (as Akka's `randomFactor` does), so stages
    /// restarting at the longest delay do not all come back at the same instant.
    pub max: Duration,
    /// Each consecutive restart waits this many times longer (2 by default).
    pub factor: f64,
    /// Up to this fraction is added at random to each delay (0 by default; Akka's `randomFactor`).
    pub jitter: f64,
    /// A stage that ran this long before ending again starts the curve over; `max` by default.
    pub reset_after: Duration,
    /// The jitter generator's seed; `None` seeds it from the process's random state.
    pub seed: Option<u64>,
}

impl Backoff {
    /// Restarts at once, every time.
    pub fn none() -> Self {
        Self::exponential(Duration::ZERO, Duration::ZERO)
    }

    /// Doubling from `min` to `max`, without jitter, reset after `max` of stable running.
    pub fn exponential(min: Duration, max: Duration) -> Self {
        Self { min, max: max.max(min), factor: 2.0, jitter: 0.0, reset_after: max.max(min), seed: None }
    }

    /// Each delay grows by `factor` (at least 1).
    #[must_use]
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor.is_finite() { factor.max(1.0) } else { 1.0 };
        self
    }

    /// Adds up to `fraction` (0 to 1) of each delay at random.
    #[must_use]
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
        self
    }

    /// How long a stage must run before its next failure starts the curve over.
    #[must_use]
    pub fn reset_after(mut self, stable: Duration) -> Self {
        self.reset_after = stable;
        self
    }

    /// Seeds the jitter, so the delays are the same on every run (tests, reproducible chaos).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The delay before consecutive restart `n`, for a jitter draw `r` in `[0, 1)`, rounded up to whole
    /// milliseconds: tokio's timer fires on millisecond ticks, so the delay recorded is the delay waited.
    pub fn delay(&self, n: u32, r: f64) -> Duration {
        let max = self.max.as_nanos() as f64;
        let grown = self.min.as_nanos() as f64 * self.factor.powi(n.min(i32::MAX as u32) as i32);
        let jittered = grown.min(max) * (1.0 + self.jitter * r.clamp(0.0, 1.0));
        let nanos = jittered.min(u64::MAX as f64).round() as u64;
        Duration::from_millis(nanos.div_ceil(1_000_000))
    }
}

/// The backoff of one stage as it runs: where on the curve it is, its jitter generator, when its instance started.
#[derive(Clone, Debug)]
pub struct BackoffClock {
    curve: Backoff,
    consecutive: u32,
    started: Option<Instant>,
    rng: SplitMix64,
}

impl BackoffClock {
    /// A clock at the start of `curve`; `salt` tells apart the generators of stages that share a seed.
    pub fn new(curve: Backoff, salt: u64) -> Self {
        let seed = curve.seed.unwrap_or_else(random_seed) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self { curve, consecutive: 0, started: None, rng: SplitMix64(seed) }
    }

    /// The stage's instance started running at `now`.
    pub fn started(&mut self, now: Instant) {
        self.started = Some(now);
    }

    /// The delay before restarting a stage that ended at `now`: the curve starts over if the instance ran for
    /// `reset_after`, and moves one step on.
    pub fn next_delay(&mut self, now: Instant) -> Duration {
        if self.started.is_some_and(|at| now.saturating_duration_since(at) >= self.curve.reset_after) {
            self.consecutive = 0;
        }
        let r = if self.curve.jitter > 0.0 { self.rng.next_unit() } else { 0.0 };
        let delay = self.curve.delay(self.consecutive, r);
        self.consecutive = self.consecutive.saturating_add(1);
        delay
    }

    /// Consecutive restarts since the curve last started over.
    pub fn consecutive(&self) -> u32 {
        self.consecutive
    }
}

/// A seed from the process's random state (std's hasher keys), so unseeded stages do not jitter in step.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    hasher.finish()
}

/// Vigna's SplitMix64: small, fast, and good enough to spread restarts; not for cryptography.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn delays_double_from_min_and_stop_at_max() {
        let curve = Backoff::exponential(MS * 10, MS * 100);
        let delays: Vec<_> = (0..6).map(|n| curve.delay(n, 0.0)).collect();
        assert_eq!(delays, [MS * 10, MS * 20, MS * 40, MS * 80, MS * 100, MS * 100]);
        assert_eq!(curve.delay(u32::MAX, 0.0), MS * 100, "no overflow far along the curve");
    }

    #[test]
    fn jitter_adds_at_most_its_fraction_even_at_max() {
        let curve = Backoff::exponential(MS * 10, MS * 100).jitter(0.5);
        assert_eq!(curve.delay(0, 0.0), MS * 10);
        assert_eq!(curve.delay(0, 0.999_999), MS * 15, "14.999995 ms, rounded up to the timer's tick");
        assert_eq!(curve.delay(0, 0.42), MS * 13, "12.1 ms waits for the 13th tick");
        assert_eq!(curve.delay(3, 0.9), MS * 116, "80 ms + 45%: jitter may pass max, as Akka's randomFactor does");
        assert_eq!(curve.delay(4, 0.9), MS * 145, "at max the jitter still spreads restarts: 100 ms + 45%");
    }

    #[test]
    fn a_seeded_clock_gives_the_same_jittered_delays_every_run_and_within_the_curve() {
        let curve = Backoff::exponential(MS * 10, Duration::from_secs(10)).jitter(0.3).seed(7);
        let run = || {
            let mut clock = BackoffClock::new(curve.clone(), 1);
            let now = Instant::now();
            (0..8).map(|_| clock.next_delay(now)).collect::<Vec<_>>()
        };
        let delays = run();
        assert_eq!(delays, run());
        for (n, delay) in delays.iter().enumerate() {
            let base = curve.delay(n as u32, 0.0);
            assert!(*delay >= base && *delay <= base.mul_f64(1.3), "{n}: {delay:?} outside {base:?} + 30%");
        }
        let other_stage: Vec<_> = {
            let mut clock = BackoffClock::new(curve.clone(), 2);
            (0..8).map(|_| clock.next_delay(Instant::now())).collect()
        };
        assert_ne!(delays, other_stage, "stages sharing a seed do not jitter in step");
    }

    #[test]
    fn running_stably_for_reset_after_starts_the_curve_over() {
        let curve = Backoff::exponential(MS * 10, Duration::from_secs(1)).reset_after(MS * 500);
        let mut clock = BackoffClock::new(curve, 0);
        let t0 = Instant::now();
        clock.started(t0);
        assert_eq!(clock.next_delay(t0 + MS), MS * 10);
        clock.started(t0 + MS * 11);
        assert_eq!(clock.next_delay(t0 + MS * 20), MS * 20, "ran 9 ms: the curve goes on");
        clock.started(t0 + MS * 40);
        assert_eq!(clock.next_delay(t0 + MS * 539), MS * 40, "ran 499 ms: not yet stable");
        clock.started(t0 + MS * 600);
        assert_eq!(clock.next_delay(t0 + MS * 1100), MS * 10, "ran 500 ms: stable, back to min");
        assert_eq!(clock.consecutive(), 1);
    }

    #[test]
    fn no_backoff_restarts_at_once() {
        let mut clock = BackoffClock::new(Backoff::none(), 0);
        assert!((0..5).all(|_| clock.next_delay(Instant::now()).is_zero()));
    }
}
