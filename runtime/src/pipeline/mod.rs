//! Pipelines: stages connected in a line by bounded links, run under a self-supervised orchestrator.
//!
//! - [`link`](link()): bounded channels of event batches with end of stream in band ([`Message`]); a full link makes
//!   its sender wait, so a slow sink slows the source and memory stays bounded.
//! - [`Pipeline::builder`]: source -> transforms -> sink, spawned together; [`PipelineHandle`] drains, stops, watches
//!   and awaits the whole pipeline; its [`PipelineOutcome`] is a typed record of the pipeline and of every stage.
//! - [`durable`]: links whose records go to a journal per stage, so a pipeline resumes after a crash without losing
//!   or repeating a record, replays, and keeps its disk use bounded.
//! - [`FailurePolicy`]: what the [`Orchestrator`] does when a stage fails.
//! - [`ErrorRecord`] / [`ErrorJournal`]: where events whose processing status is Error are recorded.
//! - [`PipelineMetrics`]: per-stage counts (loop turns, transitions, failures, restarts, events in and out, link
//!   depth) for any exporter of the `metrics` facade, read from counters the pipeline keeps anyway.
//!
//! # How stages in a pipeline behave
//! The runtime delivers control messages; each stage's machine decides what they mean. Stages built for pipelines
//! follow one convention, which the orchestrator relies on:
//! - `Start` begins work. The orchestrator sends it to every stage once they are all spawned.
//! - `Drain`: a source stops reading, sends end of stream and completes; a transform or sink goes on until end of
//!   stream arrives (or its inlet closes), finishes its in-flight work, forwards end of stream and completes.
//! - `Stop`: the stage stops at once and records Cancelled.
//! - End of stream on the inlet: finish, forward end of stream, complete. An inlet that closes without end of stream
//!   while the stage is not draining means the stage before failed: take the failure path.
//! - A stage never forwards end of stream after failing, so the failure is never mistaken for a complete stream.

pub(crate) mod assembled;
mod builder;
pub mod durable;
mod error_journal;
mod held;
mod kept;
mod link;
pub mod metrics;
mod orchestrator;
mod outcome;
mod policy;
mod respawn;
mod restartable;
mod stage;
mod view;

pub use assembled::StageStatus;
pub use builder::{Chain, Pipeline, PipelineBuilder, PipelineHandle};
pub use error_journal::{journal_if_error, journal_if_error_async, ErrorJournal, ErrorRecord};
pub use link::{link, Batch, Inlet, LinkClosed, LinkError, LinkSnapshot, LinkStats, Message, Outlet};
pub use metrics::PipelineMetrics;
pub use orchestrator::{Orchestrator, OrchestratorAction, OrchestratorContext, OrchestratorEvent, OrchestratorState};
pub use outcome::{PipelineOutcome, StageOutcome};
pub use policy::FailurePolicy;
pub use restartable::spawn_restartable;
pub use stage::PipelineStage;
