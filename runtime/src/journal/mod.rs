//! Journals: append-only logs of records (lifecycle records, data events, error events) that can be read back and
//! followed.

pub mod file;
mod memory;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use tokio::sync::watch;

#[cfg(any(test, feature = "fault-injection"))]
pub use file::Faults;
pub use file::{
    default_folder, Damage, Durability, FileJournal, Format, JournalOptions, Loss, Records, Recovery, SegmentInfo,
    Truncation, JOURNAL_DIR_ENV,
};
pub use memory::MemoryJournal;

/// Why a journal could not append or read.
///
/// ```
/// use std::error::Error;
/// use stagewise_runtime::journal::JournalError;
///
/// let full = JournalError::from(std::io::Error::other("no space left on device"));
/// assert_eq!(full.to_string(), "journal i/o error: no space left on device");
/// assert!(full.source().is_some()); // the I/O error underneath
/// ```
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

/// What [`Journal::append_async`] returns: the record's position, once the journal's durability promise holds.
pub type AppendFuture<'a> = Pin<Box<dyn Future<Output = Result<u64, JournalError>> + Send + 'a>>;

/// An append-only log of records of type `R`, numbered from 0 in the order they were appended.
///
/// Two journals come with the runtime: [`MemoryJournal`] and the durable [`FileJournal`]. Code that writes records
/// takes an `Arc<dyn Journal<R>>`, so tests and production choose differently.
///
/// Appending comes in two forms that keep the same promise. [`append`](Journal::append) returns when the promise
/// holds and blocks the calling thread until then (a durable journal waits for an `fdatasync`): for threads of your
/// own and for synchronous code. [`append_async`](Journal::append_async) returns a future that resolves when the
/// promise holds and leaves the thread free meanwhile: async code uses it, so that no tokio worker waits on a disk or
/// a broker.
///
/// ```
/// use std::sync::Arc;
/// use stagewise_runtime::journal::{Journal, MemoryJournal};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), stagewise_runtime::journal::JournalError> {
/// let journal: Arc<dyn Journal<String>> = Arc::new(MemoryJournal::new());
/// let mut tail = journal.subscribe(); // follow the tail without polling
///
/// let writer = journal.clone();
/// tokio::spawn(async move { writer.append("first".to_owned()) });
/// tail.changed().await.expect("the journal is alive");
/// assert_eq!(*tail.borrow(), 1); // one record now
///
/// assert_eq!(journal.append("second".to_owned())?, 1); // positions count from 0
/// assert_eq!(journal.read_from(1)?, ["second"]);
/// assert_eq!(journal.len(), 2);
/// # Ok(())
/// # }
/// ```
pub trait Journal<R>: Send + Sync {
    /// Appends `record` and returns its position. Returns only when the journal's durability promise holds.
    ///
    /// # Errors
    ///
    /// When the record could not be stored as promised: [`JournalError::Io`] when the storage refuses (disk full,
    /// permission denied), [`JournalError::Codec`] when the record cannot be encoded (nothing is written). A durable
    /// journal whose sync failed, or that holds a damaged record, refuses every later append
    /// ([`JournalError::Unusable`], [`JournalError::Corrupt`]) rather than write after an unknown state.
    fn append(&self, record: R) -> Result<u64, JournalError>;

    /// Appends `record` and resolves to its position once the journal's durability promise holds, without blocking
    /// the calling thread while it waits: the form to use from async code. The position is known only when the
    /// future resolves (a broker may assign it on acknowledgement).
    ///
    /// Records are ordered by call, not by poll: a journal takes the record when this is called, so two
    /// `append_async` calls made one after the other from one task are appended in that order whichever future is
    /// awaited first. A future dropped before it resolves leaves the record appended (or failed), just not waited
    /// for.
    ///
    /// The default calls [`append`](Journal::append), which is right for a journal whose `append` never waits (in
    /// memory, a wrapper adding nothing that waits); a journal that waits for storage or a network overrides it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use stagewise_runtime::journal::{Durability, FileJournal, Journal, JournalOptions};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), stagewise_runtime::journal::JournalError> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = JournalOptions::with_durability(Durability::EveryAppend);
    /// let journal: Arc<dyn Journal<String>> = Arc::new(FileJournal::open(dir.path(), options)?);
    ///
    /// // Synced when it resolves; the worker ran other tasks while the disk worked.
    /// assert_eq!(journal.append_async("first".to_owned()).await?, 0);
    ///
    /// // Taken in call order; both wait for the same sync.
    /// let second = journal.append_async("second".to_owned());
    /// let third = journal.append_async("third".to_owned());
    /// assert_eq!((third.await?, second.await?), (2, 1));
    /// assert_eq!(journal.read_from(0)?, ["first", "second", "third"]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`append`](Journal::append).
    fn append_async(&self, record: R) -> AppendFuture<'_> {
        Box::pin(std::future::ready(self.append(record)))
    }

    /// The records from `position` on, in order; none when `position` is at or past the end.
    ///
    /// # Errors
    ///
    /// [`JournalError::Io`] when the storage cannot be read, [`JournalError::Corrupt`] at a damaged record (nothing
    /// after it is returned), [`JournalError::Codec`] when a record does not decode as `R`.
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

/// Moves the position `watch` publishes forward to `to` (never back: writers may publish out of order), waking its
/// receivers only when it moved.
pub(crate) fn raise(watch: &watch::Sender<u64>, to: u64) {
    watch.send_if_modified(|at| {
        let moved = *at < to;
        *at = (*at).max(to);
        moved
    });
}
