//! Durable links: a stage's output goes to a journal of its own, and the next stage reads it from an offset and
//! follows its tail, so a pipeline survives a crash of its process, can be replayed, and keeps its disk use bounded.
//!
//! - [`DurableLinks`] / [`DurableLink`]: one journal folder per producing stage under the pipeline's folder;
//!   `PipelineBuilder::durable_source` and `Chain::durable_transform` build pipelines with them. In-memory links
//!   stay the default; a pipeline chooses per link.
//! - [`LinkRecord`]: each record holds one batch plus the input position the stage had reached when it sent it.
//!   That stamp is the stage's checkpoint: output and position are stored in one frame, atomically.
//! - [`Checkpoints`]: a stage whose effects are not link records (a sink's table and file) saves its state with its
//!   input position.
//! - [`ReplayedErrors`]: an error journal that recognises, by event id, the records a resumed stage writes again.
//! - [`RunFolder`]: whether a folder holds a new, interrupted or finished run.
//! - [`Retention`] and [`LinkPolicy`]: which passed segments are deleted; how many unread records make the producer
//!   wait.
//! - [`LinkLog`]: the storage a link needs; [`FileLog`] on the file journal is the embedded one.
//!
//! # Guarantees
//! A record is appended only after the previous ones; the journal's recovery cuts a torn record off, so after a
//! crash a link holds a prefix of what was sent, each record whole. A stage reading a durable link and writing one
//! restarts just past the input stamped on its last output record: every input before it has its output stored
//! (nothing is lost), none after it has (nothing is repeated), provided the stage is deterministic and sends at most
//! one batch per input record. A batch a resumed stage sends again anyway (a source that regenerates from its
//! start) carries a stamp at or before the last one stored, and is dropped. These hold for a crash of the process
//! under every [`Durability`](crate::journal::Durability) policy (records are handed to the OS before anyone reads
//! them); for a power cut only under syncing policies.

mod batch_codec;
mod chain;
mod checkpoint;
mod inlet;
mod links;
mod log;
mod outlet;
mod record;
// The link records' postcard bytes written and read directly: for links on a NATS stream.
#[cfg(feature = "nats")]
pub(crate) mod record_bytes;
mod replayed;
mod retention;
mod run;
mod shared;
mod split;

#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod torn_tests;

pub use checkpoint::{Checkpoint, Checkpoints};
pub(crate) use inlet::{DurableInlet, InputStop, Start};
pub use links::{stage_folder, DurableLink, DurableLinks, Payload};
pub use log::{FileLog, LinkLog, LogFuture};
pub(crate) use outlet::DurableOutlet;
pub use outlet::{OutletError, Resume};
pub use record::{Body, LinkRecord};
pub use replayed::ReplayedErrors;
pub use retention::Retention;
pub use run::{RunFolder, RunStatus, RUN_ENTRIES};
pub use shared::{InputProgress, LinkPolicy};
