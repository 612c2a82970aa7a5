//! Checkpoints of a stage whose effects are not records of a durable link (a sink's table, a file it writes): the
//! stage's state and its input position, stored together in one record of a journal of their own, so after a crash
//! the stage restarts from the last one and replays its input from there.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::links::Payload;
use crate::journal::{FileJournal, Journal, JournalError, JournalOptions};

/// A stage's state once it had consumed its input up to `input`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint<S> {
    /// Position in the stage's input just past the last record the state accounts for.
    pub input: u64,
    /// True once the stage has seen the end of its stream and finished.
    pub finished: bool,
    /// The state.
    pub state: S,
}

/// Where a stage's checkpoints go: a journal holding at most a segment or two of them.
#[derive(Debug)]
pub struct Checkpoints<S> {
    journal: Arc<FileJournal<Checkpoint<S>>>,
}

impl<S> Clone for Checkpoints<S> {
    fn clone(&self) -> Self {
        Self { journal: self.journal.clone() }
    }
}

impl<S: Payload> Checkpoints<S> {
    /// Opens (recovers) the checkpoints in `dir`. Segments are kept small; older ones are deleted as new
    /// checkpoints are saved.
    ///
    /// # Errors
    /// When the journal cannot be opened. Every error of these checkpoints names their folder (a damaged record: its
    /// segment as a path under it).
    pub fn open(dir: impl AsRef<Path>, options: JournalOptions) -> Result<Self, JournalError> {
        let dir = dir.as_ref();
        let options = JournalOptions { segment_bytes: options.segment_bytes.min(1 << 20), ..options };
        let journal = FileJournal::open(dir, options).map_err(|e| in_folder(dir, e))?;
        Ok(Self { journal: Arc::new(journal) })
    }

    /// The last checkpoint saved, if any. Reads the disk: call it when the stage is built, not on its hot path.
    ///
    /// # Errors
    /// When the last checkpoint cannot be read, or a checkpoint is damaged ([`JournalError::Corrupt`], its segment
    /// named with the folder).
    pub fn latest(&self) -> Result<Option<Checkpoint<S>>, JournalError> {
        // Past a damaged record the last checkpoint cannot be told: an earlier one would not match the stage's
        // effects, and its input may be deleted already.
        if let Some(damage) = &self.journal.recovery().damage {
            return Err(in_folder(self.journal.dir(), damage.error()));
        }
        let Some(last) = self.journal.len().checked_sub(1) else { return Ok(None) };
        let read = || self.journal.iter_from(last)?.next().transpose();
        read().map_err(|e| in_folder(self.journal.dir(), e))
    }

    /// Saves `checkpoint`; returns once it survives a crash of this process (and a power cut, under a syncing
    /// durability policy). The caller's worker never waits on the disk: the sync is awaited
    /// ([`Journal::append_async`]), the flush that follows is a `write` into the page cache under a lock no sync
    /// holds, and deleting older segments runs on tokio's blocking pool.
    ///
    /// # Errors
    /// When it cannot be stored; the previous checkpoint stays the last.
    pub async fn save(&self, checkpoint: Checkpoint<S>) -> Result<(), JournalError> {
        self.store(checkpoint).await.map_err(|e| in_folder(self.journal.dir(), e))
    }

    async fn store(&self, checkpoint: Checkpoint<S>) -> Result<(), JournalError> {
        self.journal.append_async(checkpoint).await?;
        self.journal.flush()?;
        let segments = self.journal.segments();
        let (Some(oldest), Some(newest)) = (segments.first(), segments.last()) else { return Ok(()) };
        if oldest.base == newest.base {
            return Ok(());
        }
        let (journal, newest) = (self.journal.clone(), newest.base);
        tokio::task::spawn_blocking(move || journal.delete_before(newest).map(drop))
            .await
            .map_err(|e| JournalError::Io(std::io::Error::other(format!("a checkpoint task did not finish: {e}"))))?
    }
}

/// `error` of the checkpoints in `dir`, saying so.
fn in_folder(dir: &Path, error: JournalError) -> JournalError {
    let dir = dir.display();
    match error {
        JournalError::Corrupt { segment, offset, reason } => {
            JournalError::Corrupt { segment: format!("{dir}/{segment}"), offset, reason }
        }
        JournalError::Io(e) => {
            JournalError::Io(std::io::Error::new(e.kind(), format!("the checkpoints in {dir}: {e}")))
        }
        JournalError::Codec(why) => JournalError::Codec(format!("the checkpoints in {dir}: {why}")),
        JournalError::Unusable(why) => JournalError::Unusable(format!("the checkpoints in {dir}: {why}")),
    }
}
