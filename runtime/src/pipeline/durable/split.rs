//! Pipelines split across processes: each process builds the part of the pipeline it runs, starting from a durable
//! link another process writes ([`PipelineBuilder::durable_input`]) and ending at one another process reads
//! ([`Chain::durable_output`]). The links carry their guarantees across: a stage resumes from the stamp on its own
//! last output record, wherever its input is written.

use std::sync::Arc;

use super::inlet::InputStop;
use super::links::{DurableLink, Payload};
use crate::pipeline::builder::{Chain, Pipeline, PipelineBuilder};
use crate::pipeline::link::LinkStats;

impl PipelineBuilder {
    /// Starts the pipeline at `link`, written by a stage in another process: the next stage reads it (a durable
    /// transform from where its own output says it had got to, a sink from where it seeks).
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use stagewise_runtime::pipeline::{durable::{DurableLink, LinkLog, LinkPolicy}, Inlet, Outlet, Pipeline, PipelineStage};
    /// # fn parse(inlet: Inlet<String>, out: Outlet<u64>) -> PipelineStage { unimplemented!() }
    /// # async fn run(lines: Arc<dyn LinkLog<String>>, numbers: Arc<dyn LinkLog<u64>>) {
    /// // The parse process: reads the lines another process writes, writes numbers a third one reads.
    /// let outcome = Pipeline::builder("numbers")
    ///     .durable_input(&DurableLink::new(lines, LinkPolicy::default()))
    ///     .durable_transform_on(&DurableLink::new(numbers, LinkPolicy::default()), parse)
    ///     .durable_output()
    ///     .run()
    ///     .await;
    /// # }
    /// ```
    ///
    /// Drained or stopped, the pipeline stops reading `link` (nothing in this process would end it): its first stage
    /// gets the end of this run, as from a paused link, and a resumed run reads on from what it committed.
    pub fn durable_input<P: Payload>(mut self, link: &DurableLink<P>) -> Chain<P> {
        let stats = Arc::<LinkStats>::default();
        let mut inlet = link.inlet_from(0, stats.clone());
        let stop = InputStop::new();
        if let Some(durable) = inlet.as_durable_mut() {
            durable.stop_with(&stop);
        }
        self.input_stop = Some(stop);
        Chain { stages: Vec::new(), links: vec![stats], inlet, config: self }
    }
}

impl<P: Payload> Chain<P> {
    /// Ends the pipeline in this process: the last stage's durable link is read by a stage in another process.
    /// (A chain whose last link is in memory loses what it sends: use it only after a durable stage.)
    pub fn durable_output(self) -> Pipeline {
        let Chain { config, stages, links, inlet } = self;
        drop(inlet);
        Pipeline { config, stages, links }
    }
}
