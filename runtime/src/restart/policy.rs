//! The declared restart policy of a stage (its type, intensity and backoff) and the strategy of a group of stages.

use std::time::Duration;

use crate::lifecycle::Lifecycle;

use super::backoff::Backoff;
use super::intensity::Intensity;

/// Whether a stage comes back after its run ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RestartType {
    /// Restarted after any ending: Completed, Failed or Cancelled (OTP `permanent`), with one exception: a completion
    /// that ended the stage's work is final. A stage that completed after end of stream came through its inlet, or
    /// while its pipeline drains, has nothing left to read: a fresh instance would fail at once and loop until the
    /// intensity gave up, so it ends for good instead.
    Permanent,
    /// Restarted only after Failed; a stage that completed or was cancelled stays ended (OTP `transient`).
    #[default]
    Transient,
    /// Never restarted (OTP `temporary`).
    Temporary,
}

impl RestartType {
    /// True when a run that ended with `ending` is to be restarted. `Started` is not an ending: never.
    ///
    /// ```
    /// use stagewise_runtime::restart::RestartType;
    /// use stagewise_runtime::Lifecycle;
    ///
    /// let failed = Lifecycle::Failed { error: "boom".into(), escalation: None };
    /// assert!(RestartType::Transient.restarts_after(&failed));
    /// assert!(!RestartType::Transient.restarts_after(&Lifecycle::Completed));
    /// assert!(RestartType::Permanent.restarts_after(&Lifecycle::Completed));
    /// assert!(!RestartType::Temporary.restarts_after(&failed));
    /// ```
    pub fn restarts_after(self, ending: &Lifecycle) -> bool {
        match self {
            RestartType::Permanent => ending.is_terminal(),
            RestartType::Transient => matches!(ending, Lifecycle::Failed { .. }),
            RestartType::Temporary => false,
        }
    }
}

/// Which stages of a pipeline restart when one of them is restarted.
///
/// Siblings are stopped (Stop, then aborted if they do not end in time), their in-flight batches recorded, and all
/// of them are started again in pipeline order, source first, after the failed stage's backoff. A sibling wired
/// without a factory (or [`RestartType::Temporary`]) cannot come back, so it is left running.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RestartStrategy {
    /// Only the stage that ended (OTP `one_for_one`, Akka `OneForOneStrategy`).
    #[default]
    OnlyFailed,
    /// Every restartable stage of the pipeline (OTP `one_for_all`, Akka `AllForOneStrategy`).
    All,
    /// The stage that ended and every restartable stage downstream of it (OTP `rest_for_one`: the children started
    /// after it; in a pipeline, stages start source first).
    FailedAndDownstream,
}

impl RestartStrategy {
    /// The indices, in pipeline order, of the stages that restart when stage `failed` of `count` does.
    ///
    /// ```
    /// use stagewise_runtime::restart::RestartStrategy;
    ///
    /// assert_eq!(RestartStrategy::OnlyFailed.affected(1, 4), 1..2);
    /// assert_eq!(RestartStrategy::All.affected(1, 4), 0..4);
    /// assert_eq!(RestartStrategy::FailedAndDownstream.affected(1, 4), 1..4);
    /// ```
    pub fn affected(self, failed: usize, count: usize) -> std::ops::Range<usize> {
        match self {
            RestartStrategy::OnlyFailed => failed..failed + 1,
            RestartStrategy::All => 0..count,
            RestartStrategy::FailedAndDownstream => failed..count,
        }
    }
}

/// How one stage is restarted: its type, how often it may be restarted, and how long to wait each time.
///
/// ```
/// use std::time::Duration;
/// use stagewise_runtime::restart::{Backoff, Restart};
///
/// let restart = Restart::transient()
///     .intensity(5, Duration::from_secs(10))
///     .backoff(Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1)).jitter(0.2));
/// assert_eq!(restart.intensity.max_restarts, 5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Restart {
    /// After which endings the stage comes back.
    pub kind: RestartType,
    /// How many restarts within how long before the supervisor gives up.
    pub intensity: Intensity,
    /// How long to wait before each restart.
    pub backoff: Backoff,
}

impl Default for Restart {
    /// [`RestartType::Transient`], at most 3 restarts within 5 s (OTP's defaults are 1 in 5 s), backoff 100 ms doubling
    /// to 10 s with 20% jitter, reset after 30 s of stable running.
    fn default() -> Self {
        Self::of(RestartType::Transient)
    }
}

impl Restart {
    /// A policy of `kind` with the default intensity and backoff.
    pub fn of(kind: RestartType) -> Self {
        Self {
            kind,
            intensity: Intensity::new(3, Duration::from_secs(5)),
            backoff: Backoff::exponential(Duration::from_millis(100), Duration::from_secs(10))
                .jitter(0.2)
                .reset_after(Duration::from_secs(30)),
        }
    }

    /// Restarted after any ending.
    pub fn permanent() -> Self {
        Self::of(RestartType::Permanent)
    }

    /// Restarted after Failed only.
    pub fn transient() -> Self {
        Self::of(RestartType::Transient)
    }

    /// Never restarted; its in-flight batch is still recorded when it fails.
    pub fn temporary() -> Self {
        Self::of(RestartType::Temporary)
    }

    /// At most `max_restarts` restarts within `within`; the next failure escalates.
    #[must_use]
    pub fn intensity(mut self, max_restarts: u32, within: Duration) -> Self {
        self.intensity = Intensity::new(max_restarts, within);
        self
    }

    /// The delay curve before each restart.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
}
