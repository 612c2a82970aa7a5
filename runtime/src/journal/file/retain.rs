//! Retention of a file journal: which segments it holds, how large they are, and deleting the oldest once every
//! reader that needs them has passed them, so a long-running journal's disk use stays bounded.

use std::path::PathBuf;
use std::time::SystemTime;

use super::io::sync_dir;
use super::{Durability, FileJournal};
use crate::journal::JournalError;

/// One segment file of a journal, as retention sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Position of the segment's first record.
    pub base: u64,
    /// Bytes of it readers may read, its header included.
    pub bytes: u64,
    /// The file.
    pub path: PathBuf,
}

impl SegmentInfo {
    /// When the segment was last written, if the file system says.
    pub fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path).and_then(|m| m.modified()).ok()
    }
}

impl<R> FileJournal<R> {
    /// Position of the first record the journal still holds: 0 unless [`delete_before`](Self::delete_before)
    /// deleted older segments. Reading from an earlier position fails.
    pub fn first(&self) -> u64 {
        self.shared.lock().first()
    }

    /// The journal's segments, oldest first; the last is the one being appended to.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.shared
            .lock()
            .segment_sizes()
            .into_iter()
            .map(|(file, bytes)| SegmentInfo { base: file.base, bytes, path: file.path })
            .collect()
    }

    /// Deletes every segment that starts before `base`, oldest first, never the segment being appended to; returns
    /// how many it deleted. Call it with the base of a segment every reader has passed: its records are gone for
    /// good. A crash in the middle leaves the newer segments, still a valid journal.
    ///
    /// ```
    /// use stagewise_runtime::journal::{FileJournal, Journal, JournalOptions};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = JournalOptions { segment_bytes: 256, ..JournalOptions::default() };
    /// let journal = FileJournal::<String>::open(dir.path(), options).unwrap();
    /// for n in 0..20 {
    ///     journal.append(format!("record {n:04} padded to take room")).unwrap();
    /// }
    /// let segments = journal.segments();
    /// assert!(segments.len() > 2);
    /// assert_eq!(journal.delete_before(segments[2].base).unwrap(), 2);
    /// assert_eq!(journal.first(), segments[2].base);
    /// assert!(journal.read_from(0).is_err(), "deleted records cannot be read");
    /// assert_eq!(journal.read_from(journal.first()).unwrap().len() as u64, 20 - segments[2].base);
    /// ```
    ///
    /// # Errors
    /// [`JournalError::Io`] when a file cannot be removed; the segments before it are deleted, it and the later ones
    /// are no longer read.
    pub fn delete_before(&self, base: u64) -> Result<usize, JournalError> {
        let forgotten = self.shared.lock().forget_before(base);
        for file in &forgotten {
            std::fs::remove_file(&file.path)?;
        }
        if !forgotten.is_empty() && self.options.durability != Durability::Os {
            sync_dir(&self.dir)?;
        }
        Ok(forgotten.len())
    }
}
