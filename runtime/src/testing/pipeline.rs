//! The test kit for pipelines: a [`PipelineProbe`] spawns a pipeline's stages as usual and runs its orchestrator in
//! the real run loop one turn at a time, so a test sees each thing the orchestrator handles (a stage ending, a
//! restart due, a Drain, a deadline) and the pipeline's records, stage states and links in between.

use crate::control::Control;
use crate::lifecycle::LifecycleRecord;
use crate::pipeline::assembled::{Assembled, PipelineParts};
use crate::pipeline::{LinkSnapshot, Orchestrator, OrchestratorState, Pipeline, PipelineOutcome, StageStatus};
use crate::run_loop::run_self_supervised;

use super::probe::StageProbe;
use super::{Fault, Turn};

/// A pipeline whose orchestrator a test moves one turn at a time; its stages run on their own tasks meanwhile.
///
/// Each call returns once the orchestrator is at rest again (waiting at the start of its next dispatch, or ended).
/// Under tokio's paused clock a turn that waits for a stage lets the stages run and the clock advance to their next
/// timer, so restarts, backoffs and deadlines happen at exact instants.
///
/// ```
/// use std::time::Duration;
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::pipeline::{OrchestratorState, Pipeline, PipelineStage};
/// use stagewise_runtime::restart::{Backoff, Restart};
/// use stagewise_runtime::testing::PipelineProbe;
/// use stagewise_runtime::Lifecycle;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut instances = 0;
/// let restart = Restart::transient().backoff(Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1)));
/// let pipeline = Pipeline::builder("ticks").restartable_stage(restart, move || {
///     instances += 1;
///     let stage = if instances == 1 { Countdown::new(3).failing_at(1) } else { Countdown::new(3) };
///     PipelineStage::new(stage, CountdownState::Counting, 0)
/// });
/// let mut probe = PipelineProbe::new(pipeline);
/// probe.enter().await; // Started; Start sent to the stage
/// let t0 = tokio::time::Instant::now();
/// let turn = probe.step().await; // the first instance fails: a restart is decided
/// assert_eq!(turn.events, ["StageEnded"]);
/// assert!(matches!(probe.records().last().unwrap().lifecycle, Lifecycle::Restarting { attempt: 1, .. }));
/// let turn = probe.step().await; // its backoff passes: a fresh instance starts
/// assert_eq!((turn.events, turn.actions), (vec!["RestartDue"], vec!["Restart"]));
/// assert_eq!(tokio::time::Instant::now() - t0, Duration::from_millis(10));
/// while !probe.step().await.ended {}
/// assert_eq!(probe.state(), OrchestratorState::Completed);
/// assert_eq!(probe.outcome().unwrap().restarts(), [("countdown", 1)]);
/// # }
/// ```
pub struct PipelineProbe {
    orchestrator: StageProbe<Orchestrator>,
    parts: PipelineParts,
}

impl std::fmt::Debug for PipelineProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineProbe").field("orchestrator", &self.orchestrator).finish_non_exhaustive()
    }
}

impl PipelineProbe {
    /// Spawns `pipeline`'s stages on the current tokio runtime; its orchestrator runs only inside the probe's calls.
    ///
    /// # Panics
    /// Outside a tokio runtime, as [`tokio::spawn`] does.
    pub fn new(pipeline: Pipeline) -> Self {
        let Assembled { orchestrator, ctx, options: _, parts } = pipeline.assemble();
        let journal = parts.journal.clone();
        let orchestrator = StageProbe::with_run(
            orchestrator,
            OrchestratorState::Running,
            ctx,
            journal,
            |probed, initial, ctx, supervision| Box::pin(run_self_supervised(probed, initial, ctx, supervision)),
        );
        Self { orchestrator, parts }
    }

    /// Starts the orchestrator: Started, Start sent to every stage, up to its first dispatch.
    pub async fn enter(&mut self) -> Turn {
        self.orchestrator.enter().await
    }

    /// One orchestrator turn: it waits for what it waits for in its state (a stage ending, a restart's backoff, the
    /// drain deadline) and handles it.
    pub async fn step(&mut self) -> Turn {
        self.orchestrator.step().await
    }

    /// Sends `control` to the orchestrator and lets it take it (one turn).
    pub async fn control(&mut self, control: Control) -> Turn {
        self.orchestrator.control(control).await
    }

    /// Injects `fault` into a coming orchestrator turn.
    pub fn inject_fault(&mut self, fault: Fault) {
        self.orchestrator.inject_fault(fault);
    }

    /// The orchestrator's state now.
    pub fn state(&self) -> OrchestratorState {
        self.orchestrator.state()
    }

    /// Each stage's name, id and state now, source first.
    pub fn stage_states(&self) -> Vec<StageStatus> {
        self.parts.stage_states()
    }

    /// Each link's counts now, the source's outlet first.
    pub fn links(&self) -> Vec<LinkSnapshot> {
        self.parts.links()
    }

    /// Every lifecycle record in the pipeline's journal: the orchestrator's, the stages', the restart decisions.
    pub fn records(&self) -> Vec<LifecycleRecord> {
        self.orchestrator.records()
    }

    /// The pipeline's outcome, once the orchestrator has ended with a record.
    pub fn outcome(&self) -> Option<PipelineOutcome> {
        match self.orchestrator.outcome()? {
            Ok(record) => Some(self.parts.outcome(record.clone())),
            Err(escalation) => Some(self.parts.outcome(escalation.record().clone())),
        }
    }
}
