//! Restartable stages in the pipeline builder: a stage wired with a [`Restart`] policy is built by a factory the
//! orchestrator can call again, around link ends the orchestrator keeps, so each fresh instance reads and writes the
//! same links and the rest of the pipeline sees only a pause.
//!
//! ```no_run
//! # use std::time::Duration;
//! # use stagewise_runtime::pipeline::{Inlet, Outlet, Pipeline, PipelineStage};
//! # use stagewise_runtime::restart::{Backoff, Restart, RestartStrategy};
//! # fn read(out: Outlet<String>) -> PipelineStage { unimplemented!() }
//! # fn parse(inlet: Inlet<String>, out: Outlet<u64>) -> PipelineStage { unimplemented!() }
//! # fn sum(inlet: Inlet<u64>) -> PipelineStage { unimplemented!() }
//! # async fn run() {
//! let restart = Restart::transient()
//!     .intensity(5, Duration::from_secs(10))
//!     .backoff(Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1)).jitter(0.2));
//! let outcome = Pipeline::builder("numbers")
//!     .strategy(RestartStrategy::OnlyFailed)
//!     .source(read)
//!     .restartable_transform(restart, parse) // called again for each fresh instance
//!     .sink(sum)
//!     .run()
//!     .await
//!     .expect("the orchestrator does not escalate");
//! println!("{:?}", outcome.restarts()); // [("read", 0), ("parse", n), ("sum", 0)]
//! # }
//! ```
//! The factory is an `FnMut`, so it can hand out what each instance needs (a fresh connection, a counter). The
//! stage's type is unchanged: a `#[handler_supervised]` stage needs nothing more to be restartable.

use crate::handle::SpawnOptions;
use crate::restart::Restart;
use crate::supervisor::HandlerSupervised;

use super::builder::{Chain, Pipeline, PipelineBuilder, PipelineHandle};
use super::held::Held;
use super::kept::{KeptInlet, KeptOutlet};
use super::link::{link, Inlet, Outlet};
use super::orchestrator::Restarter;
use super::respawn::Respawner;
use super::stage::{Entry, PipelineStage};

/// Spawns a single stage with a restart policy: the spawn options' counterpart of
/// [`spawn_handler_supervised`](crate::spawn_handler_supervised) for a stage that comes back when it ends. `make`
/// builds each instance (the stage, its initial state, its context); it is called once now and again before each
/// restart. The stage's type needs nothing more: a `#[handler_supervised]` stage is restartable as it is.
///
/// The stage runs under a supervisor of one called `restarter` (the orchestrator of
/// [`restartable_stage`](PipelineBuilder::restartable_stage)): every instance is sent `Start` when spawned (a stage
/// that does not map it ignores it), `Drain` and `Stop` sent to the returned handle reach the running instance, each
/// restart decision is a [`Lifecycle::Restarting`](crate::Lifecycle::Restarting) record in `options`' journal, and
/// past the intensity the supervisor records Failed naming the stage. `options` sets the control capacity and the
/// lifecycle journal of the supervisor and of every instance.
///
/// ```
/// # use std::time::Duration;
/// # use stagewise_runtime::*;
/// # use stagewise_runtime::machine::Decision;
/// # use stagewise_runtime::restart::{Backoff, Restart};
/// # #[derive(Clone, Copy, Debug, PartialEq)] enum S { Polling, Done, Failed }
/// # impl StateVariant for S {
/// #     fn name(&self) -> &'static str { match self { S::Polling => "Polling", S::Done => "Done", S::Failed => "Failed" } }
/// #     fn ending(&self) -> Option<Ending> { match self { S::Polling => None, S::Done => Some(Ending::Completed), S::Failed => Some(Ending::Failed) } }
/// # }
/// # #[derive(Debug)] enum E { Polled, Fail(String) }
/// # impl EventVariant for E { fn name(&self) -> &'static str { match self { E::Polled => "Polled", E::Fail(_) => "Fail" } } }
/// # struct NoAction;
/// # impl Action<()> for NoAction { fn name(&self) -> &'static str { "none" } async fn execute(self, _: &mut ()) -> Result<(), BoxError> { Ok(()) } }
/// # struct Poller { attempt: u32 }
/// # impl Machine for Poller { type State = S; type Event = E; type Context = (); type Action = NoAction;
/// #     type ActionCapacity = stagewise_runtime::DefaultCapacity;
/// #     fn transition(s: &S, e: E, _: &mut ()) -> Decision<S, NoAction> { match (s, e) { (S::Polling, E::Polled) => Decision::goto(S::Done), (_, E::Fail(_)) => Decision::goto(S::Failed), _ => Decision::Unhandled } } }
/// # impl Supervisor for Poller {
/// #     fn name(&self) -> &'static str { "poller" }
/// #     async fn dispatch_state(&mut self, s: &S, _: &mut ()) -> Result<Directive<E>, BoxError> {
/// #         match s { S::Polling if self.attempt < 2 => Err("connection refused".into()), S::Polling => Ok(Directive::Transition(E::Polled)), _ => Ok(Directive::Terminate) }
/// #     }
/// #     fn event_for_action_error(&self, m: String) -> E { E::Fail(m) }
/// # }
/// # impl HandlerSupervised for Poller { fn stage_id(&self) -> StageId { StageId(1) } }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let mut attempt = 0;
/// let restart = Restart::transient().backoff(Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1)));
/// let mut handle = spawn_restartable(
///     restart,
///     move || {
///         attempt += 1; // a fresh instance each time: a new connection, a counter
///         (Poller { attempt }, S::Polling, ())
///     },
///     SpawnOptions::default(),
/// );
/// let outcome = handle.outcome().await.unwrap();
/// assert!(outcome.is_completed());
/// assert_eq!(outcome.restarts(), [("poller", 1)]); // failed once, came back, completed
/// # }
/// ```
pub fn spawn_restartable<S: HandlerSupervised>(
    restart: Restart,
    mut make: impl FnMut() -> (S, S::State, S::Context) + Send + 'static,
    options: SpawnOptions,
) -> PipelineHandle {
    let builder =
        Pipeline::builder("restarter").control_capacity(options.control_capacity).journal(options.lifecycle_journal());
    let pipeline = builder.restartable_stage(restart, move || {
        let (stage, initial, ctx) = make();
        PipelineStage::new(stage, initial, ctx)
    });
    pipeline.spawn()
}

impl PipelineBuilder {
    /// A single stage with no links, restarted under `restart`: a supervisor of one, for a stage that is not part of
    /// a line (a poller, a listener). `make` builds each instance; the stage follows the pipeline stage convention
    /// (it waits for Start, takes Drain and Stop), and the returned pipeline's handle controls and awaits it.
    ///
    /// ```no_run
    /// # use stagewise_runtime::pipeline::{Pipeline, PipelineStage};
    /// # use stagewise_runtime::restart::Restart;
    /// # fn poller() -> PipelineStage { unimplemented!() }
    /// # async fn run() {
    /// let handle = Pipeline::builder("poller").restartable_stage(Restart::permanent(), poller).spawn();
    /// # }
    /// ```
    pub fn restartable_stage(
        self,
        restart: Restart,
        mut make: impl FnMut() -> PipelineStage + Send + 'static,
    ) -> Pipeline {
        let held = Held::new();
        let stage = make();
        let respawn = Respawner::new((), (), held, move |(), ()| make());
        let entry = Entry { stage, restart: Some(Restarter::new(restart, Box::new(respawn), 0)) };
        Pipeline { config: self, stages: vec![entry], links: Vec::new() }
    }

    /// The first stage, restarted under `restart`: `make` builds each instance around the outlet of its link to the
    /// next stage, which stays open while the source is restarted.
    pub fn restartable_source<P: Send + 'static>(
        self,
        restart: Restart,
        mut make: impl FnMut(Outlet<P>) -> PipelineStage + Send + 'static,
    ) -> Chain<P> {
        let (outlet, inlet) = link(self.capacity);
        let links = vec![outlet.stats().clone()];
        let held = Held::new();
        let (kept, first) = KeptOutlet::keep(outlet, &held);
        let stage = make(first);
        let respawn = Respawner::new((), kept, held, move |(), out| make(out));
        let entry = Entry { stage, restart: Some(Restarter::new(restart, Box::new(respawn), 0)) };
        Chain { stages: vec![entry], links, inlet, config: self }
    }
}

impl<P: Send + 'static> Chain<P> {
    /// A middle stage, restarted under `restart`: `make` builds each instance around the same inlet and outlet.
    /// The batch an instance held when it failed goes to the pipeline's error journal
    /// ([`PipelineBuilder::errors`]) as [`ErrorKind::StageFailed`](crate::ErrorKind::StageFailed).
    pub fn restartable_transform<Q: Send + 'static>(
        mut self,
        restart: Restart,
        mut make: impl FnMut(Inlet<P>, Outlet<Q>) -> PipelineStage + Send + 'static,
    ) -> Chain<Q> {
        let (outlet, inlet) = link(self.config.capacity);
        self.links.push(outlet.stats().clone());
        let held = Held::new();
        let (kept_in, first_in) = KeptInlet::keep(self.inlet, &held);
        let (kept_out, first_out) = KeptOutlet::keep(outlet, &held);
        let stage = make(first_in, first_out);
        let respawn = Respawner::new(kept_in, kept_out, held, make);
        let salt = self.stages.len() as u64;
        self.stages.push(Entry { stage, restart: Some(Restarter::new(restart, Box::new(respawn), salt)) });
        Chain { config: self.config, stages: self.stages, links: self.links, inlet }
    }

    /// The last stage, restarted under `restart`: `make` builds each instance around the same inlet.
    pub fn restartable_sink(
        mut self,
        restart: Restart,
        mut make: impl FnMut(Inlet<P>) -> PipelineStage + Send + 'static,
    ) -> Pipeline {
        let held = Held::new();
        let (kept, first) = KeptInlet::keep(self.inlet, &held);
        let stage = make(first);
        let respawn = Respawner::new(kept, (), held, move |inlet, ()| make(inlet));
        let salt = self.stages.len() as u64;
        self.stages.push(Entry { stage, restart: Some(Restarter::new(restart, Box::new(respawn), salt)) });
        Pipeline { config: self.config, stages: self.stages, links: self.links }
    }
}
