//! Journals: append-only logs of records (lifecycle records, data events, error events) that can be read back and
//! followed.

pub mod file;
mod memory;

use std::fmt;

use tokio::sync::watch;

#[cfg(any(test, feature = "fault-injection"))]
pub use file::Faults;
pub use file::{
    default_folder, Damage, Durability, FileJournal, Format, JournalOptions, Records, Recovery, Truncation,
    JOURNAL_DIR_ENV,
};
pub use memory::MemoryJournal;

/// Why a journal could not append or read.
#[derive(Debug)]
#[non_exhaustive]
pub enum JournalError {
    /// The file system refused (disk full, permission denied, ...).
    Io(std::io::Error),
    /// A record could not be encoded or decoded.
    Codec(String),
    /// A stored record is damaged; nothing after it is read.
    Corrupt {
        /// Which part of the journal (a segment file, for a durable journal).
        segment: String,
        /// Byte offset of the damaged record in that segment.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The journal cannot be opened as it is (not a journal, or a newer format).
    Unusable(String),
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io(e) => write!(f, "journal i/o error: {e}"),
            JournalError::Codec(e) => write!(f, "journal record could not be encoded or decoded: {e}"),
            JournalError::Corrupt { segment, offset, reason } => {
                write!(f, "journal record corrupt in {segment} at byte {offset}: {reason}")
            }
            JournalError::Unusable(why) => write!(f, "journal unusable: {why}"),
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for JournalError {
    fn from(e: std::io::Error) -> Self {
        JournalError::Io(e)
    }
}

/// An append-only log of records of type `R`, numbered from 0 in the order they were appended.
pub trait Journal<R>: Send + Sync {
    /// Appends `record` and returns its position. Returns only when the journal's durability promise holds.
    fn append(&self, record: R) -> Result<u64, JournalError>;

    /// The records from `position` on, in order.
    fn read_from(&self, position: u64) -> Result<Vec<R>, JournalError>;

    /// How many records the journal holds.
    fn len(&self) -> u64;

    /// True when the journal holds no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Follows the tail: the receiver sees the record count change after every append, without polling.
    fn subscribe(&self) -> watch::Receiver<u64>;
}
