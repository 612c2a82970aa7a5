//! The durable journal: records framed with a length and checksums in append-only segment files under one folder,
//! synced as a [`Durability`] policy says, recovered on open, readable from any position and followable at the tail.
//!
//! Module map: `frame` (one record on disk), `buffer` (frames not yet written, checksummed on the way out), `segment` (segment files and their header), `codec` (serde formats),
//! `policy` (options), `writer` (appending under the lock), `reader` (reading back), `recovery` (opening), `index`
//! (where readers start), `mark` (the tail mark), `io` (the file seam and test faults), `commit` (group commit: the
//! thread that runs the syncs and wakes waiting appenders), `lock` (one writer per folder), `closing` (drop and a sync without a committer), `unsynced` (a torn tail across segments rolled since the last sync),
//! `retain` and `scan`. The
//! on-disk format and the benchmark numbers are in `README.md` beside this file.

mod buffer;
mod closing;
mod codec;
mod commit;
mod frame;
mod index;
mod io;
pub(crate) mod lock;
mod mark;
mod policy;
mod reader;
mod recovery;
mod retain;
mod scan;
mod segment;
mod unsynced;
mod writer;

#[cfg(test)]
mod tests;

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

pub use codec::Format;
pub(crate) use io::sync_dir;
#[cfg(any(test, feature = "fault-injection"))]
pub use io::Faults;
pub use policy::{Durability, JournalOptions};
pub use reader::Records;
pub use recovery::{Loss, Recovery, Truncation};
pub use retain::SegmentInfo;
pub use scan::{scan, ScanProblem, SegmentScan};
pub(crate) use segment::is_journal_file;
pub use segment::FORMAT_VERSION;

use super::{AppendFuture, Journal, JournalError};
use segment::SegmentFile;
use writer::{Appended, Writer};

/// The environment variable that overrides [`default_folder`].
pub const JOURNAL_DIR_ENV: &str = "STAGEWISE_JOURNAL_DIR";

/// Where a program keeps its journals unless told otherwise: `$STAGEWISE_JOURNAL_DIR` if set, else a new folder
/// `stagewise-journal/<program>-<unix seconds>-<pid>` under the system's temporary directory, so every run starts its
/// own journals and none land in the working tree. Programs print it on start-up; lifecycle records, data events and
/// error events go to sub-folders of it.
///
/// ```
/// let root = stagewise_runtime::journal::default_folder("access-log");
/// assert!(root.to_string_lossy().contains("access-log") || std::env::var_os("STAGEWISE_JOURNAL_DIR").is_some());
/// ```
pub fn default_folder(program: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(JOURNAL_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    std::env::temp_dir().join("stagewise-journal").join(format!(
        "{program}-{}-{}",
        since_epoch.as_secs(),
        std::process::id()
    ))
}

/// A damaged record: where it is and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// The segment file.
    pub segment: String,
    /// Byte offset of the damaged record in it.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
}

impl Damage {
    fn new(segment: &SegmentFile, offset: u64, reason: impl Into<String>) -> Self {
        Self { segment: segment.name(), offset, reason: reason.into() }
    }

    /// The error reads and appends return at this damage.
    pub fn error(&self) -> JournalError {
        JournalError::Corrupt { segment: self.segment.clone(), offset: self.offset, reason: self.reason.clone() }
    }
}

/// What the journal and its committer thread share.
#[derive(Debug)]
struct Shared {
    writer: Mutex<Writer>,
    appended: watch::Sender<u64>,
    commit: Arc<commit::GroupCommit>,
    marks: mark::MarkFile,
}

impl Shared {
    #[inline]
    fn lock(&self) -> MutexGuard<'_, Writer> {
        // Every mutation of the writer leaves it consistent before anything that can panic (encoding runs on a
        // record of the caller's, but the buffer is cut back on its error or its panic:
        // `Frames::encoding`), so a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells followers that the records before `upto` are there. Publishing wakes every waiter slot of the channel
    /// (a few hundred ns), so it is skipped while nobody follows; `subscribe` catches the count up under the lock, so
    /// no append is missed. Concurrent appenders may publish out of order: the count only ever moves forward.
    #[inline]
    fn publish(&self, upto: u64) {
        if self.appended.receiver_count() > 0 {
            crate::journal::raise(&self.appended, upto);
        }
    }
}

impl commit::Source for Shared {
    fn sync_point(&self) -> Result<commit::SyncPoint, JournalError> {
        self.lock().sync_point()
    }

    fn synced(&self, upto: u64, mark: Option<mark::Mark>) {
        if let Some(mark) = mark {
            self.marks.write(mark);
        }
        self.publish(upto);
    }

    fn closed_synced(&self, upto: u64) {
        self.lock().closed_synced(upto);
    }

    fn broken(&self, why: &str) {
        self.lock().break_with(why.to_owned());
    }
}

/// A durable, file-backed [`Journal`] of records of type `R`, serialized with serde.
///
/// ```
/// use stagewise_runtime::journal::{FileJournal, Journal};
///
/// let dir = tempfile::tempdir().unwrap();
/// let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
/// assert_eq!(journal.append("started".to_owned()).unwrap(), 0);
/// drop(journal);
///
/// let reopened = FileJournal::<String>::open_default(dir.path()).unwrap();
/// assert_eq!(reopened.read_from(0).unwrap(), ["started"]);
/// assert!(reopened.recovery().truncated.is_none());
/// ```
#[derive(Debug)]
pub struct FileJournal<R> {
    shared: Arc<Shared>,
    dir: PathBuf,
    options: JournalOptions,
    recovery: Recovery,
    /// Held while open; handed to the committer with the last sync when the journal is dropped in a runtime.
    folder: Option<lock::FolderLock>,
    _record: PhantomData<fn(R) -> R>,
}

impl<R> FileJournal<R> {
    /// Opens the journal in `dir`, creating the folder and a first segment if there is none, and recovers it: a torn
    /// write at the end is cut off and reported in [`recovery`](Self::recovery).
    ///
    /// # Errors
    ///
    /// [`JournalError::Unusable`] for a folder that holds anything but segment files, whose first segment is of a
    /// newer format version or of another record format, or that another open journal holds; nothing is changed
    /// then. [`JournalError::Io`] when the folder cannot be read or created. Damage (a damaged record or segment
    /// header) does not fail the open: it is reported in [`recovery`](Self::recovery), the records before it stay
    /// readable and appends are refused.
    pub fn open(dir: impl AsRef<Path>, options: JournalOptions) -> Result<Self, JournalError> {
        Self::open_inner(
            dir.as_ref(),
            options,
            #[cfg(any(test, feature = "fault-injection"))]
            None,
        )
    }

    /// Opens the journal in `dir` with the default options: sync every append, postcard records, 64 MiB segments.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_default(dir: impl AsRef<Path>) -> Result<Self, JournalError> {
        Self::open(dir, JournalOptions::default())
    }

    /// Opens the journal in `dir` with writes that fail as `faults` says. For tests of the error paths.
    #[cfg(any(test, feature = "fault-injection"))]
    pub fn open_with_faults(
        dir: impl AsRef<Path>,
        options: JournalOptions,
        faults: Arc<Faults>,
    ) -> Result<Self, JournalError> {
        Self::open_inner(dir.as_ref(), options, Some(faults))
    }

    fn open_inner(
        dir: &Path,
        options: JournalOptions,
        #[cfg(any(test, feature = "fault-injection"))] faults: Option<Arc<Faults>>,
    ) -> Result<Self, JournalError> {
        if dir.exists() && !dir.is_dir() {
            return Err(JournalError::Unusable(format!("{} is not a folder", dir.display())));
        }
        std::fs::create_dir_all(dir)?;
        let lock = lock::acquire(dir)?;
        let (writer, recovery) = recovery::open(
            dir,
            options,
            #[cfg(any(test, feature = "fault-injection"))]
            faults,
        )?;
        let appended = watch::Sender::new(writer.next());
        let commit = writer.group_commit();
        let marks = mark::MarkFile::new(dir, options.durability != Durability::Os);
        let shared = Arc::new(Shared { writer: Mutex::new(writer), appended, commit, marks });
        if options.durability != Durability::Os {
            let source: Weak<dyn commit::Source> = Arc::downgrade(&shared) as Weak<Shared>;
            shared.commit.start(source)?;
        }
        Ok(Self { shared, dir: dir.to_owned(), options, recovery, folder: Some(lock), _record: PhantomData })
    }

    /// What opening found and repaired.
    ///
    /// ```
    /// use std::io::Write;
    /// use stagewise_runtime::journal::{FileJournal, Journal};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// FileJournal::<String>::open_default(dir.path()).unwrap().append("kept".into()).unwrap();
    /// // A crash in the middle of the next write leaves half a record behind.
    /// let segment = dir.path().join("00000000000000000000.seg");
    /// std::fs::OpenOptions::new().append(true).open(&segment).unwrap().write_all(&[7, 0, 0, 0, 1]).unwrap();
    ///
    /// let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    /// let cut = journal.recovery().truncated.as_ref().expect("the torn write is reported");
    /// assert_eq!((cut.segment.as_str(), cut.bytes), ("00000000000000000000.seg", 5));
    /// assert_eq!(journal.read_from(0).unwrap(), ["kept"]);
    /// ```
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The journal's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options it was opened with.
    pub fn options(&self) -> &JournalOptions {
        &self.options
    }

    /// Hands buffered records to the OS (they then survive a crash of this process, not a power cut).
    ///
    /// # Errors
    ///
    /// [`JournalError::Io`] when they cannot be written; they stay buffered.
    pub fn flush(&self) -> Result<(), JournalError> {
        self.shared.lock().flush()
    }

    /// Forces every appended record to stable storage, whatever the policy. Blocks the calling thread for an
    /// `fdatasync`: from async code, await [`Journal::append_async`] under a syncing policy instead. The sync runs
    /// outside the journal's lock, so appenders on other threads (tokio workers) never wait for it: on the committer
    /// thread under a syncing policy, here under [`Durability::Os`] (which has no committer).
    ///
    /// # Errors
    ///
    /// [`JournalError::Io`] when the records cannot be written or synced; the journal refuses appends after a
    /// failed sync.
    pub fn sync(&self) -> Result<(), JournalError> {
        if self.options.durability == Durability::Os {
            return self.shared.sync_here();
        }
        let next = {
            let mut writer = self.shared.lock();
            writer.flush()?;
            writer.next()
        };
        next.checked_sub(1).map_or(Ok(()), |last| self.shared.commit.wait(last))
    }
}

impl<R: DeserializeOwned> FileJournal<R> {
    /// The records from `position` on, read lazily. Reading stops at the first damaged record with
    /// [`JournalError::Corrupt`], after yielding every intact record before it.
    ///
    /// ```
    /// use stagewise_runtime::journal::{FileJournal, Journal};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let journal = FileJournal::<u32>::open_default(dir.path()).unwrap();
    /// for n in 0..5 {
    ///     journal.append(n * 10).unwrap();
    /// }
    /// let tail: Vec<u32> = journal.iter_from(3).unwrap().collect::<Result<_, _>>().unwrap();
    /// assert_eq!(tail, [30, 40]);
    /// ```
    ///
    /// # Errors
    /// [`JournalError`] when the journal's files cannot be read; a record that fails to decode or is damaged comes
    /// as an `Err` item of the iterator.
    pub fn iter_from(&self, position: u64) -> Result<Records<R>, JournalError> {
        let mut writer = self.shared.lock();
        if position < writer.first() {
            return Err(JournalError::Unusable(format!(
                "record {position} was deleted by retention; the journal starts at record {}",
                writer.first()
            )));
        }
        if let Some(damage) = writer.damage() {
            if position >= writer.next() {
                return Ok(Records::failed(self.options.format, damage));
            }
        }
        if position >= writer.next() {
            return Ok(Records::new(self.options.format, Vec::new(), 0));
        }
        let (segments, skip) = writer.readable_from(position)?;
        Ok(Records::new(self.options.format, segments, skip))
    }
}

impl<R: Serialize + DeserializeOwned + Send> Journal<R> for FileJournal<R> {
    fn append(&self, record: R) -> Result<u64, JournalError> {
        let Appended { position, wait } = self.shared.lock().append(&record)?;
        if wait {
            self.shared.commit.wait(position)?;
        }
        self.shared.publish(position + 1);
        Ok(position)
    }

    /// Encodes and writes `record` under the journal's lock at once (no sync under it), asks the committer thread
    /// for a sync if the policy wants one, and returns a future that waits for that sync without blocking the
    /// calling thread. The record is written, and its sync started, even if the future is dropped unpolled.
    fn append_async(&self, record: R) -> AppendFuture<'_> {
        let appended = self.shared.lock().append(&record);
        if let Ok(Appended { position, wait: true }) = appended {
            self.shared.commit.request(position);
        }
        Box::pin(async move {
            let Appended { position, wait } = appended?;
            if wait {
                self.shared.commit.wait_async(position).await?;
            }
            self.shared.publish(position + 1);
            Ok(position)
        })
    }

    fn read_from(&self, position: u64) -> Result<Vec<R>, JournalError> {
        self.iter_from(position)?.collect()
    }

    fn len(&self) -> u64 {
        self.shared.lock().next()
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        let writer = self.shared.lock();
        let receiver = self.shared.appended.subscribe();
        crate::journal::raise(&self.shared.appended, writer.next());
        receiver
    }
}
