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

use crate::restart::Restart;

use super::builder::{Chain, Entry, Pipeline, PipelineBuilder};
use super::held::Held;
use super::kept::{KeptInlet, KeptOutlet};
use super::link::{link, Inlet, Outlet};
use super::orchestrator::Restarter;
use super::respawn::Respawner;
use super::stage::PipelineStage;

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
