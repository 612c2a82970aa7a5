//! Restart intensity: at most N restarts within a sliding period, past which the supervisor gives up.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// At most `max_restarts` restarts within any period of `within` (OTP's `intensity` and `period`).
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
    restarts: VecDeque<Instant>,
    total: u32,
}

impl IntensityWindow {
    /// An empty window for `limit`.
    pub fn new(limit: Intensity) -> Self {
        Self { limit, restarts: VecDeque::new(), total: 0 }
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
}
