//! Building pipelines with durable links: `durable_source` and `durable_transform` make the link after the stage
//! durable; a stage's durable inlet then starts where its durable outlet says the stage had got to.

use std::sync::Arc;

use super::inlet::Start;
use super::links::{DurableLink, DurableLinks, Payload};
use crate::pipeline::builder::{Chain, PipelineBuilder};
use crate::pipeline::link::{Inlet, Outlet};
use crate::pipeline::stage::PipelineStage;

impl PipelineBuilder {
    /// The first stage, writing to a durable link in `links` (folder `stage-0`). A resumed source asks its outlet
    /// where to pick up ([`Outlet::resume`]).
    ///
    /// ```no_run
    /// # use stagewise_runtime::pipeline::{durable::{DurableLinks, LinkPolicy}, Inlet, Outlet, Pipeline, PipelineStage};
    /// # use stagewise_runtime::journal::{Durability, JournalOptions};
    /// # fn read(out: Outlet<String>) -> PipelineStage { unimplemented!() }
    /// # fn parse(inlet: Inlet<String>, out: Outlet<u64>) -> PipelineStage { unimplemented!() }
    /// # fn sum(inlet: Inlet<u64>) -> PipelineStage { unimplemented!() }
    /// # async fn run() {
    /// let links = DurableLinks::new("run", JournalOptions::with_durability(Durability::Os), LinkPolicy::default());
    /// let outcome = Pipeline::builder("numbers")
    ///     .durable_source(&links, read) // run/stage-0
    ///     .durable_transform(&links, parse) // run/stage-1, read from where parse's own output says
    ///     .sink(sum) // reads run/stage-1 from 0 unless it seeks to its checkpoint
    ///     .run()
    ///     .await;
    /// # }
    /// ```
    pub fn durable_source<P: Payload>(
        self,
        links: &DurableLinks,
        make: impl FnOnce(Outlet<P>) -> PipelineStage,
    ) -> Chain<P> {
        self.durable_source_on(&links.open_or_failing::<P>(0), make)
    }

    /// The first stage, writing to `link` (a link on any [`LinkLog`](super::LinkLog), such as one on a broker's
    /// stream): as [`durable_source`](Self::durable_source) otherwise.
    pub fn durable_source_on<P: Payload>(
        self,
        link: &DurableLink<P>,
        make: impl FnOnce(Outlet<P>) -> PipelineStage,
    ) -> Chain<P> {
        let outlet = link.outlet();
        let stats = outlet.stats().clone();
        let inlet = link.inlet_from(0, stats.clone());
        Chain { stages: vec![make(outlet).into()], links: vec![stats], inlet, config: self }
    }
}

impl<P: Send + 'static> Chain<P> {
    /// A middle stage writing to a durable link in `links` (folder `stage-N`, N its index). When its inlet is
    /// durable too, the inlet starts just past the input stamped on the stage's last output record, and commits
    /// upstream records once their output is stored: the stage resumes without losing or repeating a record.
    pub fn durable_transform<Q: Payload>(
        self,
        links: &DurableLinks,
        make: impl FnOnce(Inlet<P>, Outlet<Q>) -> PipelineStage,
    ) -> Chain<Q> {
        let link = links.open_or_failing::<Q>(self.stages.len());
        self.durable_transform_on(&link, make)
    }

    /// A middle stage writing to `link` (a link on any [`LinkLog`](super::LinkLog)): as
    /// [`durable_transform`](Self::durable_transform) otherwise.
    pub fn durable_transform_on<Q: Payload>(
        mut self,
        link: &DurableLink<Q>,
        make: impl FnOnce(Inlet<P>, Outlet<Q>) -> PipelineStage,
    ) -> Chain<Q> {
        let mut core = link.outlet_core();
        let outlet = match self.inlet.as_durable_mut() {
            Some(inlet) => {
                core.bind_upstream(inlet.consumer().clone(), inlet.input().clone());
                let core = Arc::new(core);
                inlet.seek(Start::Resume(core.clone()));
                Outlet::durable(core)
            }
            None => Outlet::durable(Arc::new(core)),
        };
        let stats = outlet.stats().clone();
        let inlet = link.inlet_from(0, stats.clone());
        self.links.push(stats);
        self.stages.push(make(self.inlet, outlet).into());
        Chain { config: self.config, stages: self.stages, links: self.links, inlet }
    }
}
