//! A pipeline's per-stage metrics through the `metrics` facade, so any exporter (Prometheus, StatsD, OpenTelemetry, ...)
//! can publish them.
//!
//! Nothing here runs on the hot path: the run loop and the links already keep their counts in atomics, and
//! [`PipelineMetrics::record`] copies them into the installed recorder when it is called (on each scrape, or every
//! period with [`PipelineMetrics::record_every`]). A stage pays nothing per transition for being observed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::metrics::{counter, describe_counter, describe_gauge, gauge, Label, Unit};

use crate::event::StageId;

use super::error_journal::ErrorJournal;
use super::held::lock;
use super::link::LinkStats;
use super::view::StageView;

/// Loop turns of a stage (counter; labels `pipeline`, `stage`, `stage_id`).
pub const LOOP_TURNS: &str = "stagewise_stage_loop_turns_total";
/// Events a stage's machine turned on, failure events included (counter).
pub const TRANSITIONS: &str = "stagewise_stage_transitions_total";
/// Failure paths a stage took (counter).
pub const FAILURES: &str = "stagewise_stage_failures_total";
/// Times the orchestrator restarted a stage wired with a restart policy (counter).
pub const RESTARTS: &str = "stagewise_stage_restarts_total";
/// Events a stage took off its inlet (counter; not for the source).
pub const EVENTS_IN: &str = "stagewise_stage_events_in_total";
/// Events a stage put on its outlet, error events included (counter; not for the sink).
pub const EVENTS_OUT: &str = "stagewise_stage_events_out_total";
/// Events waiting on a link: sent by the stage before, not yet taken by the stage after (gauge; labels `pipeline`,
/// `from`, `to`).
pub const LINK_DEPTH: &str = "stagewise_link_depth_events";
/// Records in the pipeline's error journal, when one is given (counter; label `pipeline`).
pub const ERROR_EVENTS: &str = "stagewise_pipeline_error_events_total";

/// The counts of one running pipeline, ready to be copied into the installed `metrics` recorder.
///
/// Get it from [`PipelineHandle::metrics`](super::PipelineHandle::metrics); it holds only shared counters, so it
/// outlives the handle and can move to an exporter's task.
///
/// ```
/// use stagewise_runtime::pipeline::{metrics, Pipeline};
/// # use stagewise_runtime::pipeline::{Inlet, Outlet, PipelineStage as Stage};
/// # fn read(out: Outlet<String>) -> Stage { unimplemented!() }
/// # fn write(inlet: Inlet<String>) -> Stage { unimplemented!() }
///
/// # async fn run() {
/// // Install an exporter first (any `metrics` recorder), then:
/// metrics::PipelineMetrics::describe();
/// let mut pipeline = Pipeline::builder("copy").source(read).sink(write).spawn();
/// let exported = pipeline.metrics();
/// tokio::spawn(exported.record_every(std::time::Duration::from_secs(1)));
/// pipeline.outcome().await.unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct PipelineMetrics {
    pipeline: &'static str,
    names: Vec<(&'static str, StageId)>,
    /// Each stage's counters, swapped by the orchestrator when it restarts a stage.
    views: Arc<Mutex<Vec<StageView>>>,
    links: Vec<Arc<LinkStats>>,
    errors: Option<ErrorJournal>,
}

impl std::fmt::Debug for PipelineMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineMetrics").field("pipeline", &self.pipeline).field("stages", &self.names).finish()
    }
}

impl PipelineMetrics {
    /// The metrics of `pipeline`, whose stages (source first) and links (the source's outlet first) are given.
    pub(super) fn new(
        pipeline: &'static str,
        names: Vec<(&'static str, StageId)>,
        views: Arc<Mutex<Vec<StageView>>>,
        links: Vec<Arc<LinkStats>>,
    ) -> Self {
        Self { pipeline, names, views, links, errors: None }
    }

    /// Also exports how many records the pipeline's error journal holds, as [`ERROR_EVENTS`].
    #[must_use]
    pub fn with_error_journal(mut self, errors: ErrorJournal) -> Self {
        self.errors = Some(errors);
        self
    }

    /// Gives the installed recorder each metric's unit and description (Prometheus prints them as `# HELP`). Call
    /// once, after installing the recorder.
    pub fn describe() {
        describe_counter!(LOOP_TURNS, Unit::Count, "Turns of the stage's run loop.");
        describe_counter!(TRANSITIONS, Unit::Count, "Events the stage's machine turned on, failure events included.");
        describe_counter!(FAILURES, Unit::Count, "Failure paths the stage took.");
        describe_counter!(RESTARTS, Unit::Count, "Times the stage was restarted.");
        describe_counter!(EVENTS_IN, Unit::Count, "Events the stage took off its inlet.");
        describe_counter!(EVENTS_OUT, Unit::Count, "Events the stage put on its outlet, error events included.");
        describe_gauge!(LINK_DEPTH, Unit::Count, "Events waiting on the link between two stages.");
        describe_counter!(ERROR_EVENTS, Unit::Count, "Records in the pipeline's error journal.");
    }

    /// Copies every count as it is now into the installed recorder: counters as absolute values, the link depths as
    /// gauges. A restarted stage's counts add up over all its instances. Cheap enough to call on every scrape (a
    /// few atomic loads and one recorder call per metric).
    pub fn record(&self) {
        let counts: Vec<_> = lock(&self.views).iter().map(|view| (view.totals(), view.restarts)).collect();
        for (i, (&(name, id), (now, restarts))) in self.names.iter().zip(counts).enumerate() {
            let labels = vec![
                Label::new("pipeline", self.pipeline),
                Label::new("stage", name),
                Label::new("stage_id", id.0.to_string()),
            ];
            counter!(LOOP_TURNS, labels.clone()).absolute(now.loop_turns);
            counter!(TRANSITIONS, labels.clone()).absolute(now.transitions);
            counter!(FAILURES, labels.clone()).absolute(now.failures);
            counter!(RESTARTS, labels.clone()).absolute(u64::from(restarts));
            if let Some(inlet) = i.checked_sub(1).and_then(|before| self.links.get(before)) {
                counter!(EVENTS_IN, labels.clone()).absolute(inlet.snapshot().received);
            }
            if let Some(outlet) = self.links.get(i) {
                counter!(EVENTS_OUT, labels).absolute(outlet.snapshot().sent);
            }
        }
        for (link, pair) in self.links.iter().zip(self.names.windows(2)) {
            // Depths are far below 2^53 events, so the conversion to a gauge's f64 is exact.
            #[allow(clippy::cast_precision_loss)]
            let depth = link.snapshot().in_flight() as f64;
            gauge!(LINK_DEPTH, "pipeline" => self.pipeline, "from" => pair[0].0, "to" => pair[1].0).set(depth);
        }
        if let Some(errors) = &self.errors {
            counter!(ERROR_EVENTS, "pipeline" => self.pipeline).absolute(errors.len());
        }
    }

    /// Records every `period`, for exporters that push rather than get scraped; runs until its task is dropped or
    /// aborted. The first record is made at once.
    pub async fn record_every(self, period: Duration) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.record();
        }
    }
}
