//! A restartable stage's supervision state, kept by the orchestrator: its restart policy, its factory, and where it
//! is on its intensity window and backoff.

use tokio::time::Instant;

use crate::pipeline::respawn::Respawn;
use crate::restart::{BackoffClock, IntensityWindow, Restart};

/// A stage wired with a restart policy: the policy, its factory, and where it is on its intensity and backoff.
pub(crate) struct Restarter {
    pub(super) policy: Restart,
    pub(super) respawn: Box<dyn Respawn>,
    pub(super) window: IntensityWindow,
    pub(super) backoff: BackoffClock,
    pub(super) restarts: u32,
}

impl Restarter {
    /// `respawn` under `policy`; `salt` (the stage's position) keeps stages sharing a seed from jittering in step.
    pub(crate) fn new(policy: Restart, respawn: Box<dyn Respawn>, salt: u64) -> Self {
        let window = IntensityWindow::new(policy.intensity);
        let mut backoff = BackoffClock::new(policy.backoff.clone(), salt);
        backoff.started(Instant::now());
        Self { policy, respawn, window, backoff, restarts: 0 }
    }

    /// How many times the stage was restarted.
    pub(crate) fn restarts(&self) -> u32 {
        self.restarts
    }
}
