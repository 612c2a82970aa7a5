//! The declared failure policy of a pipeline: what its orchestrator does when one stage fails.

/// What a pipeline does when one of its stages fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FailurePolicy {
    /// The pipeline fails at once: the orchestrator drains every other stage and records Failed.
    #[default]
    FailPipeline,
    /// The other stages go on to their own end; the pipeline records Failed once all have ended.
    LetOthersFinish,
}
