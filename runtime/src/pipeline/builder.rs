//! The pipeline builder: connects a source, transforms and a sink with bounded links, spawns them with an orchestrator,
//! and hands back one handle for the whole pipeline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::control::Control;
use crate::handle::{spawn_self_supervised, HandleError, SpawnOptions, StageHandle};
use crate::journal::{Journal, MemoryJournal};
use crate::lifecycle::LifecycleRecord;
use crate::restart::RestartStrategy;
use crate::run_loop::StateSnapshot;

use super::assembled::StageStatus;
pub(crate) use super::assembled::{Assembled, PipelineParts};
use super::durable::InputStop;
use super::error_journal::ErrorJournal;
use super::link::{link, Inlet, LinkSnapshot, LinkStats, Outlet};
use super::metrics::PipelineMetrics;
use super::orchestrator::{Orchestrator, OrchestratorConfig, OrchestratorContext, OrchestratorState, StageSlot};
use super::outcome::PipelineOutcome;
use super::policy::FailurePolicy;
use super::stage::{Entry, PipelineStage};
use super::view::StageView;

/// A pipeline: stages connected in a line by bounded links, run under one orchestrator.
///
/// Each stage is built by a function of its links, so the payload types of neighbouring stages must agree:
/// ```no_run
/// # use stagewise_runtime::pipeline::{FailurePolicy, Inlet, Outlet, Pipeline, PipelineStage};
/// # fn read(out: Outlet<String>) -> PipelineStage { unimplemented!() }
/// # fn parse(inlet: Inlet<String>, out: Outlet<u64>) -> PipelineStage { unimplemented!() }
/// # fn sum(inlet: Inlet<u64>) -> PipelineStage { unimplemented!() }
/// # async fn run() {
/// let outcome = Pipeline::builder("numbers")
///     .capacity(16) // batches per link
///     .policy(FailurePolicy::FailPipeline)
///     .source(read)
///     .transform(parse)
///     .sink(sum)
///     .run()
///     .await
///     .expect("the orchestrator does not escalate");
/// println!("{outcome}"); // the pipeline's lifecycle record, then each stage's
/// # }
/// ```
/// The guide on the `stagewise` crate's front page runs a whole one, with macro-written stages;
/// `examples/access_log` builds a real one; `tests/pipeline_support` has small stages to copy from.
#[derive(Debug)]
pub struct Pipeline {
    pub(super) config: PipelineBuilder,
    pub(super) stages: Vec<Entry>,
    pub(super) links: Vec<Arc<LinkStats>>,
}

/// Settings of a pipeline, before its first stage.
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::event::StageId;
/// use stagewise_runtime::pipeline::{FailurePolicy, Outlet, Pipeline, PipelineStage};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Two ready-made stages that count on their own; real ones take the link ends they are given.
/// let counting = |id| PipelineStage::new(Countdown::new(2).with_id(StageId(id)), CountdownState::Counting, 0);
/// let outcome = Pipeline::builder("counts")
///     .capacity(4)
///     .policy(FailurePolicy::FailPipeline)
///     .source(|_out: Outlet<u32>| counting(1))
///     .sink(|_inlet| counting(2))
///     .run()
///     .await
///     .unwrap();
/// assert!(outcome.is_completed());
/// # }
/// ```
#[derive(Clone)]
pub struct PipelineBuilder {
    name: &'static str,
    pub(super) capacity: usize,
    control_capacity: usize,
    policy: FailurePolicy,
    strategy: RestartStrategy,
    shutdown: Duration,
    journal: Arc<dyn Journal<LifecycleRecord>>,
    errors: ErrorJournal,
    drain_timeout: Option<Duration>,
    /// Raised when the pipeline drains or stops, for the durable input it starts at, if any.
    pub(super) input_stop: Option<InputStop>,
}

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("policy", &self.policy)
            .field("strategy", &self.strategy)
            .field("drain_timeout", &self.drain_timeout)
            .finish_non_exhaustive()
    }
}

/// A pipeline being built, whose last stage so far writes events with payload `P`.
#[derive(Debug)]
pub struct Chain<P> {
    pub(super) config: PipelineBuilder,
    pub(super) stages: Vec<Entry>,
    pub(super) links: Vec<Arc<LinkStats>>,
    pub(super) inlet: Inlet<P>,
}

impl Pipeline {
    /// Starts building the pipeline called `name`: links of 16 batches, [`FailurePolicy::FailPipeline`],
    /// [`RestartStrategy::OnlyFailed`], lifecycle and error records kept in memory, a drain deadline of 30 s.
    pub fn builder(name: &'static str) -> PipelineBuilder {
        PipelineBuilder {
            name,
            capacity: 16,
            control_capacity: 16,
            policy: FailurePolicy::default(),
            strategy: RestartStrategy::default(),
            shutdown: Duration::from_secs(1),
            journal: Arc::new(MemoryJournal::new()),
            errors: Arc::new(MemoryJournal::new()),
            drain_timeout: Some(Duration::from_secs(30)),
            input_stop: None,
        }
    }

    /// Spawns every stage and the orchestrator on the current tokio runtime; the orchestrator starts the stages.
    ///
    /// # Panics
    /// Outside a tokio runtime, as [`tokio::spawn`] does.
    pub fn spawn(self) -> PipelineHandle {
        let Assembled { orchestrator, ctx, options, parts } = self.assemble();
        let orchestrator = spawn_self_supervised(orchestrator, OrchestratorState::Running, ctx, options);
        PipelineHandle { orchestrator, parts }
    }

    /// Spawns every stage and builds the orchestrator that will start them, without running it.
    pub(crate) fn assemble(self) -> Assembled {
        let Pipeline { config, stages, links } = self;
        let options = SpawnOptions::default().control_capacity(config.control_capacity).journal(config.journal.clone());
        let journal_start = config.journal.len();
        let mut slots = Vec::with_capacity(stages.len());
        let mut names = Vec::with_capacity(stages.len());
        let mut views = Vec::with_capacity(stages.len());
        for Entry { stage, restart } in stages {
            let (name, id) = (stage.name(), stage.id());
            let handle = stage.spawn(options.clone());
            views.push(StageView::new(&handle));
            names.push((name, id));
            slots.push(StageSlot { handle, id, restart });
        }
        let report = Arc::new(Mutex::new(vec![None; slots.len()]));
        let views = Arc::new(Mutex::new(views));
        let ctx = OrchestratorContext::new(
            slots,
            OrchestratorConfig {
                policy: config.policy,
                strategy: config.strategy,
                drain_timeout: config.drain_timeout,
                input_stop: config.input_stop,
                shutdown: config.shutdown,
                journal: config.journal.clone(),
                journal_start,
                errors: config.errors.clone(),
                options: options.clone(),
                report: report.clone(),
                views: views.clone(),
            },
        );
        let parts = PipelineParts { names, views, links, report, journal: config.journal, errors: config.errors };
        Assembled { orchestrator: Orchestrator::new(config.name), ctx, options, parts }
    }

    /// Spawns the pipeline and waits for its outcome.
    ///
    /// # Errors
    /// As [`PipelineHandle::outcome`]: when the orchestrator itself escalates or its task ends without a record.
    ///
    /// # Panics
    /// Outside a tokio runtime, as [`tokio::spawn`] does.
    pub async fn run(self) -> Result<PipelineOutcome, HandleError> {
        self.spawn().outcome().await
    }
}

impl PipelineBuilder {
    /// How many batches each link holds before its sender waits (at least 1).
    #[must_use]
    pub fn capacity(mut self, batches: usize) -> Self {
        self.capacity = batches.max(1);
        self
    }

    /// How many control messages may wait unread, per stage and for the orchestrator.
    #[must_use]
    pub fn control_capacity(mut self, messages: usize) -> Self {
        self.control_capacity = messages.max(1);
        self
    }

    /// What the pipeline does when a stage fails.
    #[must_use]
    pub fn policy(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How long stages may take to end once told to drain (or stop): past it, those still running are told to stop;
    /// that long after, they are aborted. `None` waits for ever: then a stage that never ends keeps the pipeline
    /// running, and once the pipeline has failed (its Failed state ignores control, as every terminal state does)
    /// only [`PipelineHandle::abort`] ends it.
    #[must_use]
    pub fn drain_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Which stages restart with one that is restarted; see [`RestartStrategy`]. Only stages wired with a restart
    /// policy (`restartable_source`, `restartable_transform`, `restartable_sink`) are ever restarted.
    #[must_use]
    pub fn strategy(mut self, strategy: RestartStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// How long a stage told to stop because a sibling restarts may take to end before it is aborted (1 s by
    /// default; OTP's `shutdown`).
    #[must_use]
    pub fn shutdown(mut self, timeout: Duration) -> Self {
        self.shutdown = timeout;
        self
    }

    /// Where the orchestrator records the events a restartable stage held (or had queued) when its run ended, with
    /// [`ErrorKind::StageFailed`](crate::ErrorKind::StageFailed); usually the journal the sink writes error events
    /// to, so that in = out + errors holds across restarts. In memory by default.
    #[must_use]
    pub fn errors(mut self, journal: ErrorJournal) -> Self {
        self.errors = journal;
        self
    }

    /// Where the orchestrator and every stage write their lifecycle records.
    #[must_use]
    pub fn journal(mut self, journal: Arc<dyn Journal<LifecycleRecord>>) -> Self {
        self.journal = journal;
        self
    }

    /// The first stage: `make` builds it around the outlet of its link to the next stage.
    pub fn source<P>(self, make: impl FnOnce(Outlet<P>) -> PipelineStage) -> Chain<P> {
        let (outlet, inlet) = link(self.capacity);
        let links = vec![outlet.stats().clone()];
        Chain { stages: vec![make(outlet).into()], links, inlet, config: self }
    }
}

impl<P> Chain<P> {
    /// A middle stage: `make` builds it around its inlet and the outlet of its link to the next stage.
    pub fn transform<Q>(mut self, make: impl FnOnce(Inlet<P>, Outlet<Q>) -> PipelineStage) -> Chain<Q> {
        let (outlet, inlet) = link(self.config.capacity);
        self.links.push(outlet.stats().clone());
        self.stages.push(make(self.inlet, outlet).into());
        Chain { config: self.config, stages: self.stages, links: self.links, inlet }
    }

    /// The last stage: `make` builds it around its inlet. The pipeline is then complete.
    pub fn sink(mut self, make: impl FnOnce(Inlet<P>) -> PipelineStage) -> Pipeline {
        self.stages.push(make(self.inlet).into());
        Pipeline { config: self.config, stages: self.stages, links: self.links }
    }
}

/// A running (or ended) pipeline, seen from outside: control it, watch it, wait for its outcome.
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::event::StageId;
/// use stagewise_runtime::pipeline::{Outlet, Pipeline, PipelineStage};
/// use stagewise_runtime::Control;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let counting = |id| PipelineStage::new(Countdown::new(1_000_000).with_id(StageId(id)), CountdownState::Counting, 0);
/// let mut handle = Pipeline::builder("counts")
///     .source(|_out: Outlet<u32>| counting(1))
///     .sink(|_inlet| counting(2))
///     .spawn();
/// handle.send(Control::Drain).await.unwrap(); // drains the stages in order, then completes
/// let outcome = handle.outcome().await.unwrap();
/// assert!(outcome.is_completed());
/// assert_eq!(handle.stage_states().len(), 2);
/// # }
/// ```
pub struct PipelineHandle {
    orchestrator: StageHandle,
    parts: PipelineParts,
}

impl std::fmt::Debug for PipelineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineHandle")
            .field("orchestrator", &self.orchestrator)
            .field("stages", &self.parts.names)
            .finish_non_exhaustive()
    }
}

impl PipelineHandle {
    /// Sends a control message to the orchestrator: Drain drains the stages in order and completes; Stop drains them
    /// and records Cancelled (a second Stop stops every stage at once, a third aborts them).
    ///
    /// # Errors
    /// [`HandleError::Ended`] when the orchestrator has ended and takes no more control messages.
    pub async fn send(&self, control: Control) -> Result<(), HandleError> {
        self.orchestrator.send(control).await
    }

    /// Sends a control message if there is room now.
    ///
    /// # Errors
    /// [`HandleError::Full`] when the control channel has no room now, [`HandleError::Ended`] when the orchestrator has
    /// ended.
    pub fn try_send(&self, control: Control) -> Result<(), HandleError> {
        self.orchestrator.try_send(control)
    }

    /// The orchestrator's state now.
    pub fn state(&self) -> StateSnapshot {
        self.orchestrator.state()
    }

    /// A receiver that sees every change of the orchestrator's state.
    pub fn subscribe(&self) -> watch::Receiver<StateSnapshot> {
        self.orchestrator.subscribe()
    }

    /// Each stage's name, id and state now, source first.
    pub fn stage_states(&self) -> Vec<StageStatus> {
        self.parts.stage_states()
    }

    /// Each link's counts now, the source's outlet first.
    pub fn links(&self) -> Vec<LinkSnapshot> {
        self.parts.links()
    }

    /// The pipeline's per-stage counts, for a `metrics` exporter: see [`PipelineMetrics`].
    pub fn metrics(&self) -> PipelineMetrics {
        let PipelineParts { names, views, links, .. } = &self.parts;
        PipelineMetrics::new(self.orchestrator.supervisor(), names.clone(), views.clone(), links.clone())
    }

    /// The journal every lifecycle record of this pipeline goes to.
    pub fn journal(&self) -> &Arc<dyn Journal<LifecycleRecord>> {
        &self.parts.journal
    }

    /// The journal the events of failed restartable stages go to; see [`PipelineBuilder::errors`].
    pub fn errors(&self) -> &ErrorJournal {
        &self.parts.errors
    }

    /// Aborts the orchestrator, which aborts every stage still running; each records Cancelled.
    pub fn abort(&self) {
        self.orchestrator.abort();
    }

    /// Waits for the pipeline to end and returns its outcome. Cancel-safe, and can be called again.
    ///
    /// # Errors
    /// [`HandleError::Escalated`] when the orchestrator's own failure path failed; the other [`HandleError`]s when
    /// its task ended without a record (aborted before it wrote one, or panicked outside the loop).
    pub async fn outcome(&mut self) -> Result<PipelineOutcome, HandleError> {
        let pipeline = self.orchestrator.outcome().await?;
        Ok(self.parts.outcome(pipeline))
    }
}
