//! A stage ready to be spawned into a pipeline, whatever its machine: the builder holds stages of different types in
//! one list.

use crate::event::StageId;
use crate::handle::{spawn_handler_supervised, SpawnOptions, StageHandle};
use crate::supervisor::HandlerSupervised;

use super::orchestrator::Restarter;

/// A handler-supervised stage with its initial state and context, not yet running: what the pipeline builder's
/// `source`, `transform` and `sink` take. (`#[derive(Stage)]` is something else: it marks a stage struct's id field.)
pub struct PipelineStage {
    name: &'static str,
    id: StageId,
    spawn: Box<dyn FnOnce(SpawnOptions) -> StageHandle + Send>,
}

impl std::fmt::Debug for PipelineStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineStage").field("name", &self.name).field("id", &self.id).finish_non_exhaustive()
    }
}

impl PipelineStage {
    /// `stage`, to start in `initial` with `ctx`.
    pub fn new<S: HandlerSupervised>(stage: S, initial: S::State, ctx: S::Context) -> Self {
        Self {
            name: stage.name(),
            id: stage.stage_id(),
            spawn: Box::new(move |options| spawn_handler_supervised(stage, initial, ctx, options)),
        }
    }

    /// The stage's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The stage's id.
    pub fn id(&self) -> StageId {
        self.id
    }

    /// Spawns the stage on the current tokio runtime.
    pub fn spawn(self, options: SpawnOptions) -> StageHandle {
        (self.spawn)(options)
    }
}

/// A stage of a pipeline being built, with its restarter when it was wired with a restart policy.
pub(super) struct Entry {
    pub(super) stage: PipelineStage,
    pub(super) restart: Option<Restarter>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("stage", &self.stage).field("restartable", &self.restart.is_some()).finish()
    }
}

impl From<PipelineStage> for Entry {
    fn from(stage: PipelineStage) -> Self {
        Self { stage, restart: None }
    }
}
