//! The typed outcome of a pipeline run: the orchestrator's lifecycle record plus every stage's.

use std::fmt;

use crate::event::StageId;
use crate::handle::HandleError;
use crate::lifecycle::{Lifecycle, LifecycleRecord};

/// How one stage of a pipeline ended.
#[derive(Clone, Debug)]
pub struct StageOutcome {
    /// The stage's name.
    pub name: &'static str,
    /// The stage's id.
    pub id: StageId,
    /// How many times it was restarted (0 for a stage wired without a restart policy).
    pub restarts: u32,
    /// Its final lifecycle record, or why there is none (it escalated, or the pipeline was aborted before it ended).
    pub outcome: Result<LifecycleRecord, HandleError>,
}

impl StageOutcome {
    /// The stage's final lifecycle, when it has a record.
    pub fn lifecycle(&self) -> Option<&Lifecycle> {
        self.outcome.as_ref().ok().map(|record| &record.lifecycle)
    }
}

impl fmt::Display for StageOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(record) => write!(f, "{record}")?,
            Err(e) => write!(f, "{} ({}): {e}", self.name, self.id)?,
        }
        if self.restarts > 0 {
            write!(f, " [restarted {} times]", self.restarts)?;
        }
        Ok(())
    }
}

/// How a pipeline ended: the orchestrator's own lifecycle record, and each stage's, in pipeline order.
#[derive(Clone, Debug)]
pub struct PipelineOutcome {
    /// The orchestrator's final record: Completed, Failed naming the stage that failed, or Cancelled.
    pub pipeline: LifecycleRecord,
    /// Every stage, source first.
    pub stages: Vec<StageOutcome>,
}

impl PipelineOutcome {
    /// The pipeline's lifecycle.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.pipeline.lifecycle
    }

    /// True when the pipeline completed.
    pub fn is_completed(&self) -> bool {
        matches!(self.pipeline.lifecycle, Lifecycle::Completed)
    }

    /// Each stage's name and how many times it was restarted, source first.
    pub fn restarts(&self) -> Vec<(&'static str, u32)> {
        self.stages.iter().map(|s| (s.name, s.restarts)).collect()
    }

    /// The stage called `name`.
    pub fn stage(&self, name: &str) -> Option<&StageOutcome> {
        self.stages.iter().find(|s| s.name == name)
    }
}

impl fmt::Display for PipelineOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.pipeline)?;
        for stage in &self.stages {
            write!(f, "\n  {stage}")?;
        }
        Ok(())
    }
}
