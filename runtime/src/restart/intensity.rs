//! Restart intensity: at most N restarts within a sliding period of the stage's own time (backoff delays left out),
//! past which the supervisor gives up.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// At most `max_restarts` restarts within any period of `within` (OTP's `intensity` and `period`).
///
/// The period counts the time the stage was up (running, or waiting for input), not the delays the supervisor waited
/// before restarting it: a stage that fails each time it starts gives up after `max_restarts` restarts however long
/// its backoff grows (as Akka's `maxNrOfRetries` would), instead of being spaced out of the period and restarted
/// forever. Without backoff this is OTP's rule exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// How many restarts the period allows.
    pub max_restarts: u32,
    /// The sliding period.
    pub within: Duration,
}

impl Intensity {
    /// At most `max_restarts` within `within`.
    pub fn new(max_restarts: u32, within: Duration) -> Self {
        Self { max_restarts, within }
    }
}

/// The restarts of one stage within the sliding period: decides whether one more is allowed.
#[derive(Clone, Debug)]
pub struct IntensityWindow {
    limit: Intensity,
    /// The instants of admitted restarts, on the stage's clock (wall clock minus `waited`).
    restarts: VecDeque<Instant>,
    total: u32,
    /// The backoff delays waited so far: time that does not count toward the period.
    waited: Duration,
}

impl IntensityWindow {
    /// An empty window for `limit`.
    pub fn new(limit: Intensity) -> Self {
        Self { limit, restarts: VecDeque::new(), total: 0, waited: Duration::ZERO }
    }

    /// Records a restart at `now` and returns true if the limit allows it; false (recording nothing) when
    /// `max_restarts` restarts already happened within the period ending at `now`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stagewise_runtime::restart::{Intensity, IntensityWindow};
    /// use tokio::time::Instant;
    ///
    /// let mut window = IntensityWindow::new(Intensity::new(2, Duration::from_secs(1)));
    /// let t0 = Instant::now();
    /// assert!(window.admit(t0));
    /// assert!(window.admit(t0 + Duration::from_millis(500)));
    /// assert!(!window.admit(t0 + Duration::from_millis(900)), "a third within 1 s exceeds the intensity");
    /// assert!(window.admit(t0 + Duration::from_millis(1001)), "the first has left the period");
    /// ```
    pub fn admit(&mut self, now: Instant) -> bool {
        let now = now.checked_sub(self.waited).unwrap_or(now);
        while self.restarts.front().is_some_and(|&at| now.saturating_duration_since(at) >= self.limit.within) {
            self.restarts.pop_front();
        }
        if self.restarts.len() >= self.limit.max_restarts as usize {
            return false;
        }
        self.restarts.push_back(now);
        self.total += 1;
        true
    }

    /// The supervisor waited `delay` (a backoff) before the restart it admitted last: that time is not the stage's,
    /// so it does not move restarts out of the period.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stagewise_runtime::restart::{Intensity, IntensityWindow};
    /// use tokio::time::Instant;
    ///
    /// let mut window = IntensityWindow::new(Intensity::new(2, Duration::from_secs(5)));
    /// let t0 = Instant::now();
    /// let minute = Duration::from_secs(60);
    /// assert!(window.admit(t0));
    /// window.waited(minute); // a long backoff; the stage fails again as soon as it starts
    /// assert!(window.admit(t0 + minute));
    /// window.waited(minute);
    /// assert!(!window.admit(t0 + minute * 2), "three quick failures: the backoff does not hide them");
    /// ```
    pub fn waited(&mut self, delay: Duration) {
        self.waited = self.waited.saturating_add(delay);
    }

    /// Every restart admitted so far, in or out of the period.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// The declared limit.
    pub fn limit(&self) -> Intensity {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_restarts_allowed_means_the_first_failure_escalates() {
        let mut window = IntensityWindow::new(Intensity::new(0, Duration::from_secs(5)));
        assert!(!window.admit(Instant::now()));
        assert_eq!(window.total(), 0);
    }

    #[test]
    fn a_refused_restart_is_not_counted() {
        let mut window = IntensityWindow::new(Intensity::new(1, Duration::from_secs(1)));
        let t0 = Instant::now();
        assert!(window.admit(t0));
        assert!(!window.admit(t0 + Duration::from_millis(100)));
        assert!(!window.admit(t0 + Duration::from_millis(999)));
        assert!(window.admit(t0 + Duration::from_secs(1)), "exactly one period later the first no longer counts");
        assert_eq!(window.total(), 2);
    }

    #[test]
    fn backoff_waits_do_not_count_but_the_stage_running_does() {
        let second = Duration::from_secs(1);
        let mut window = IntensityWindow::new(Intensity::new(1, second * 10));
        let t0 = Instant::now();
        assert!(window.admit(t0));
        window.waited(second * 30);
        assert!(!window.admit(t0 + second * 35), "up 5 s of its own since the last restart: within the period");
        assert!(window.admit(t0 + second * 40), "up 10 s: the last restart has left the period");
    }
}
