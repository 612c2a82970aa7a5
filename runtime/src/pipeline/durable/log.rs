//! Where a durable link keeps its records: the [`LinkLog`] abstraction, and its embedded implementation on the file
//! journal. Another engine (a stream of a message broker, to span machines) implements [`LinkLog`] to carry the same
//! links; nothing else in the durable links knows about files.
//!
//! [`FileLog`] appends through the journal's async append ([`Journal::append_async`]): the record is encoded and
//! written under the journal's lock, and the wait for its sync (under a syncing policy) is a future, so a stage's
//! worker never waits on an `fdatasync`. Then [`FileJournal::flush`] hands what the buffering policies buffered to
//! the OS: a `write` into the page cache on the worker, never a sync, under a lock no sync holds (measured and
//! decided in the journal README, *Nothing blocks a worker*). Reads and retention read and delete files, so they run
//! on tokio's blocking pool.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::record::LinkRecord;
use super::retention::Retention;
use crate::journal::{FileJournal, Journal, JournalError, JournalOptions};

/// What the calls of a [`LinkLog`] return.
pub type LogFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, JournalError>> + Send + 'a>>;

/// An append-only log of the records of one durable link, numbered from 0 in the order they were appended.
pub trait LinkLog<P>: Send + Sync + 'static {
    /// Appends `record` and returns its position, once the record survives a crash of this process (and more if the
    /// log's durability policy promises more) and readers can read it.
    fn append(&self, record: LinkRecord<P>) -> LogFuture<'_, u64>;

    /// As [`append`](Self::append), and hands `record` back when the log can do so without copying it (it only
    /// encoded it), so readers in this process take it from memory instead of reading and decoding it again. The
    /// default hands nothing back.
    fn append_keeping(&self, record: LinkRecord<P>) -> LogFuture<'_, (u64, Option<LinkRecord<P>>)> {
        let appended = self.append(record);
        Box::pin(async move { Ok((appended.await?, None)) })
    }

    /// Up to `max` records from `position` on (fewer at the end of the log).
    fn read(&self, position: u64, max: usize) -> LogFuture<'_, Vec<LinkRecord<P>>>;

    /// Position of the next record to be appended.
    fn len(&self) -> u64;

    /// True when nothing was ever appended.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Position of the first record still held (records before it were deleted by retention).
    fn first(&self) -> u64;

    /// Deletes what `retention` allows, given that every consumer has committed up to `committed`; returns how many
    /// segments (or other units of storage) it deleted.
    fn retain(&self, committed: u64, retention: Retention) -> LogFuture<'_, usize>;

    /// A consumer reading this log in this process has durably done every record before `position` (its outputs
    /// and checkpoint are stored; it will not ask for them again): a log whose consumer acknowledges to a server
    /// does it here. Called each time a consumer's commit moves, on the committing task: it must not block. The
    /// default does nothing.
    fn acknowledge(&self, position: u64) {
        let _ = position;
    }

    /// For a log another process appends to: why it can no longer learn of new records (its connection to the
    /// server that holds them is lost for good), so a reader waiting for one fails instead of waiting forever.
    /// `None` (the default) while it can.
    fn failure(&self) -> Option<JournalError> {
        None
    }

    /// For a log another process appends to: the count of records stored, moved by the log as it learns of them,
    /// which the link's readers then follow. `None` (the default) when only this process appends, through the
    /// link's outlet.
    fn appended(&self) -> Option<watch::Sender<u64>> {
        None
    }
}

/// A [`LinkLog`] on a [`FileJournal`]: the embedded, durable default.
#[derive(Debug)]
pub struct FileLog<P> {
    journal: Arc<FileJournal<Stored<P>>>,
}

impl<P: Serialize + DeserializeOwned + Send> FileLog<P> {
    /// Opens (recovers) the log in `dir`.
    ///
    /// # Errors
    /// When the journal cannot be opened (see [`FileJournal::open`]).
    pub fn open(dir: impl AsRef<Path>, options: JournalOptions) -> Result<Self, JournalError> {
        Ok(Self { journal: Arc::new(FileJournal::open(dir, options)?) })
    }
}

/// A record as the file journal holds it: shared, so that once the journal has encoded it (and dropped its share)
/// the log hands it back to be read from memory. Stored exactly as the [`LinkRecord`] inside.
#[derive(Debug)]
struct Stored<P>(Arc<LinkRecord<P>>);

impl<P: Serialize> Serialize for Stored<P> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, P: DeserializeOwned> Deserialize<'de> for Stored<P> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LinkRecord::deserialize(deserializer).map(|record| Stored(Arc::new(record)))
    }
}

impl<P> Stored<P> {
    /// The record, once nothing else shares it.
    fn into_record(self) -> Option<LinkRecord<P>> {
        Arc::into_inner(self.0)
    }
}

/// Runs `work` on the journal on tokio's blocking pool.
async fn blocking<P, T>(
    journal: &Arc<FileJournal<Stored<P>>>,
    work: impl FnOnce(&FileJournal<Stored<P>>) -> Result<T, JournalError> + Send + 'static,
) -> Result<T, JournalError>
where
    P: Send + 'static,
    T: Send + 'static,
{
    let journal = journal.clone();
    tokio::task::spawn_blocking(move || work(&journal).map_err(|e| in_folder(e, journal.dir())))
        .await
        .map_err(|e| JournalError::Io(std::io::Error::other(format!("a journal task did not finish: {e}"))))?
}

/// `e` naming the link's folder with the damaged segment: every link's first segment has the same file name.
fn in_folder(e: JournalError, dir: &Path) -> JournalError {
    match e {
        JournalError::Corrupt { segment, offset, reason } => {
            JournalError::Corrupt { segment: dir.join(segment).display().to_string(), offset, reason }
        }
        other => other,
    }
}

impl<P> LinkLog<P> for FileLog<P>
where
    P: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn append(&self, record: LinkRecord<P>) -> LogFuture<'_, u64> {
        let appended = self.append_keeping(record);
        Box::pin(async move { Ok(appended.await?.0) })
    }

    fn append_keeping(&self, record: LinkRecord<P>) -> LogFuture<'_, (u64, Option<LinkRecord<P>>)> {
        let record = Arc::new(record);
        let appended = self.journal.append_async(Stored(record.clone()));
        Box::pin(async move {
            let position = appended.await.map_err(|e| in_folder(e, self.journal.dir()))?;
            // Handed to the OS (one write of what the buffering policies buffered): the record survives a crash of
            // this process under every policy, and readers see it.
            self.journal.flush().map_err(|e| in_folder(e, self.journal.dir()))?;
            Ok((position, Stored(record).into_record()))
        })
    }

    fn read(&self, position: u64, max: usize) -> LogFuture<'_, Vec<LinkRecord<P>>> {
        Box::pin(blocking(&self.journal, move |journal| {
            journal
                .iter_from(position)?
                .take(max)
                .map(|stored| stored.map(|s| s.into_record().expect("a record just read is not shared")))
                .collect()
        }))
    }

    fn len(&self) -> u64 {
        self.journal.len()
    }

    fn first(&self) -> u64 {
        self.journal.first()
    }

    fn retain(&self, committed: u64, retention: Retention) -> LogFuture<'_, usize> {
        Box::pin(blocking(&self.journal, move |journal| match retention.cut(&journal.segments(), committed) {
            Some(base) => journal.delete_before(base),
            None => Ok(0),
        }))
    }
}
