//! A pipeline assembled, its stages spawned, its orchestrator not yet running: what `Pipeline::spawn` runs on tokio
//! and the test kit's `PipelineProbe` runs one turn at a time; and what both read of the pipeline from outside.

use std::sync::{Arc, Mutex};

use crate::event::StageId;
use crate::handle::{HandleError, SpawnOptions};
use crate::journal::Journal;
use crate::lifecycle::LifecycleRecord;

use super::error_journal::ErrorJournal;
use super::held::lock;
use super::link::{LinkSnapshot, LinkStats};
use super::orchestrator::{Orchestrator, OrchestratorContext};
use super::outcome::{PipelineOutcome, StageOutcome};
use super::view::StageView;
use crate::run_loop::StateSnapshot;

/// One stage of a running pipeline at one moment, as [`PipelineHandle::stage_states`](super::PipelineHandle::stage_states) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StageStatus {
    /// The stage's name.
    pub name: &'static str,
    /// The stage's id.
    pub id: StageId,
    /// The state it is in.
    pub state: StateSnapshot,
}

/// The orchestrator of a pipeline whose stages are spawned, with its context and spawn options, and the parts its
/// handle reads.
pub(crate) struct Assembled {
    pub(crate) orchestrator: Orchestrator,
    pub(crate) ctx: OrchestratorContext,
    pub(crate) options: SpawnOptions,
    pub(crate) parts: PipelineParts,
}

/// What is read of a pipeline from outside: its stages' names, states and outcomes, its links, its journals.
pub(crate) struct PipelineParts {
    pub(crate) names: Vec<(&'static str, StageId)>,
    /// Each stage's state, replaced by the orchestrator when it restarts the stage.
    pub(crate) views: Arc<Mutex<Vec<StageView>>>,
    pub(crate) links: Vec<Arc<LinkStats>>,
    pub(crate) report: Arc<Mutex<Vec<Option<StageOutcome>>>>,
    pub(crate) journal: Arc<dyn Journal<LifecycleRecord>>,
    pub(crate) errors: ErrorJournal,
}

impl PipelineParts {
    /// Each stage's name, id and state now, source first.
    pub(crate) fn stage_states(&self) -> Vec<StageStatus> {
        let views = lock(&self.views);
        let states = self.names.iter().zip(views.iter());
        states.map(|(&(name, id), view)| StageStatus { name, id, state: *view.state.borrow() }).collect()
    }

    /// Each link's counts now, the source's outlet first.
    pub(crate) fn links(&self) -> Vec<LinkSnapshot> {
        self.links.iter().map(|l| l.snapshot()).collect()
    }

    /// The pipeline's outcome, given the orchestrator's final record: each stage's as the orchestrator reported it.
    pub(crate) fn outcome(&self, pipeline: LifecycleRecord) -> PipelineOutcome {
        let report = lock(&self.report);
        let stages = self
            .names
            .iter()
            .zip(report.iter())
            .map(|(&(name, id), outcome)| match outcome {
                Some(outcome) => outcome.clone(),
                None => StageOutcome { name, id, restarts: 0, outcome: Err(HandleError::Ended { supervisor: name }) },
            })
            .collect();
        PipelineOutcome { pipeline, stages }
    }
}
