//! The producing end of a durable link: appends each batch the stage sends as one record stamped with the stage's
//! input position, drops what a resumed stage sends again, waits for room (backpressure) and applies retention.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::OnceCell;

use super::log::LogFuture;
use super::record::{Body, LinkRecord};
use super::retention::Retention;
use super::shared::{Consumer, InputPosition, LinkShared};
use crate::event::{EventIds, WriterId};
use crate::journal::JournalError;
use crate::pipeline::link::Batch;

/// Retention is looked at every this many appends.
const RETAIN_EVERY: u64 = 8;

/// Where a resumed stage picks up: what its durable outlet found at the end of its log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// The input position stamped on the last record: the stage has consumed its input up to here.
    pub input: u64,
    /// The log already ends with end of stream: the stage finished before.
    pub ended: bool,
    /// Records in the log.
    pub records: u64,
}

/// Why a durable outlet refused a batch.
#[derive(Debug)]
pub enum OutletError {
    /// The log failed.
    Journal(JournalError),
    /// The stage broke the durable link's contract.
    Misuse(&'static str),
}

impl std::fmt::Display for OutletError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutletError::Journal(e) => write!(f, "durable link: {e}"),
            OutletError::Misuse(why) => write!(f, "durable link misused: {why}"),
        }
    }
}

impl std::error::Error for OutletError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OutletError::Journal(e) => Some(e),
            OutletError::Misuse(_) => None,
        }
    }
}

impl From<JournalError> for OutletError {
    fn from(e: JournalError) -> Self {
        OutletError::Journal(e)
    }
}

/// Where the stage that owns a durable outlet resumes; its inlet asks before reading its first record.
pub(crate) trait Resumable: Send + Sync {
    /// What the end of the outlet's log says (read once).
    fn resume(&self) -> LogFuture<'_, Resume>;
}

/// The producing end of one durable link.
pub(crate) struct DurableOutlet<P> {
    link: Arc<LinkShared<P>>,
    resume: OnceCell<Resume>,
    /// How far the stage consumed its input, when it says (a stage with an inlet always does).
    input: Arc<InputPosition>,
    /// Stamp of the last record appended in this run.
    last: AtomicU64,
    /// Batches sent in this run, for stages that never say their input position.
    sent: AtomicU64,
    ended: AtomicBool,
    /// The stage's own inlet, committed once its output is durable.
    upstream: Option<Arc<Consumer>>,
    appends: AtomicU64,
}

impl<P> std::fmt::Debug for DurableOutlet<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableOutlet").field("resume", &self.resume.get()).finish_non_exhaustive()
    }
}

impl<P: Send + 'static> DurableOutlet<P> {
    /// The outlet of `link`; it reads the end of its log when first asked where to resume.
    pub(crate) fn new(link: Arc<LinkShared<P>>) -> Self {
        Self {
            link,
            resume: OnceCell::new(),
            input: Arc::default(),
            last: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            ended: AtomicBool::new(false),
            upstream: None,
            appends: AtomicU64::new(0),
        }
    }

    /// Where the stage resumes: read from the end of the log once.
    pub(crate) async fn resume(&self) -> Result<Resume, JournalError> {
        let resume = *self
            .resume
            .get_or_try_init(|| async {
                let records = self.link.log.len();
                let Some(last) = records.checked_sub(1) else { return Ok(Resume::default()) };
                let record = self.link.log.read(last, 1).await?.pop().ok_or_else(|| {
                    JournalError::Unusable(format!("the last record ({last}) of a durable link cannot be read"))
                })?;
                self.last.store(record.input, Ordering::Release);
                self.ended.store(record.is_end(), Ordering::Release);
                Ok::<_, JournalError>(Resume { input: record.input, ended: record.is_end(), records })
            })
            .await?;
        Ok(resume)
    }

    pub(crate) fn input(&self) -> &Arc<InputPosition> {
        &self.input
    }

    /// The stage's own inlet reads the consumer `upstream`: commit it as output becomes durable.
    pub(crate) fn bind_upstream(&mut self, upstream: Arc<Consumer>, input: Arc<InputPosition>) {
        self.upstream = Some(upstream);
        self.input = input;
    }

    /// The stamp of the next record, or `None` when the record was appended before the stage was resumed.
    fn stamp(&self, resume: Resume) -> Result<Option<u64>, OutletError> {
        let stamp = match self.input.get() {
            Some(position) => position,
            None => self.sent.fetch_add(1, Ordering::AcqRel) + 1,
        };
        if stamp <= resume.input && resume.records > 0 {
            return Ok(None);
        }
        if stamp <= self.last.load(Ordering::Acquire) && self.appends.load(Ordering::Acquire) > 0 {
            return Err(OutletError::Misuse(
                "a stage on a durable link sends at most one batch per input record it takes (or per input position)",
            ));
        }
        Ok(Some(stamp))
    }

    pub(crate) async fn send(&self, events: Batch<P>) -> Result<(), OutletError> {
        let resume = self.resume().await?;
        if self.ended.load(Ordering::Acquire) {
            if resume.ended && self.appends.load(Ordering::Acquire) == 0 {
                return Ok(()); // the finished stage runs again after a resume: its output is all there
            }
            return Err(OutletError::Misuse("a batch sent after end of stream"));
        }
        match self.stamp(resume)? {
            Some(stamp) => self.append(LinkRecord { input: stamp, body: Body::Events(events) }).await,
            None => Ok(()),
        }
    }

    pub(crate) async fn end_of_stream(&self) -> Result<(), OutletError> {
        self.resume().await?;
        if self.ended.load(Ordering::Acquire) {
            return Ok(());
        }
        if self.upstream.is_some() && !self.input.ended() {
            // The stage's input paused (was drained or stopped) rather than ended: so does its output.
            self.pause();
            return Ok(());
        }
        let stamp = match self.input.get() {
            Some(position) => position,
            None => self.sent.load(Ordering::Acquire) + 1,
        };
        self.append(LinkRecord { input: stamp.max(self.last.load(Ordering::Acquire)), body: Body::EndOfStream })
            .await?;
        self.ended.store(true, Ordering::Release);
        Ok(())
    }

    /// Ends this run's output without ending the stream: readers see end of stream now, and a resumed stage goes on.
    pub(crate) fn pause(&self) {
        self.link.pause();
    }

    async fn append(&self, record: LinkRecord<P>) -> Result<(), OutletError> {
        self.link.room().await;
        let stamp = record.input;
        let (position, kept) = self.link.log.append_keeping(record).await?;
        if let Some(record) = kept {
            self.link.remember(position, record);
        }
        self.last.store(stamp, Ordering::Release);
        self.link.published(position + 1);
        if let Some(upstream) = &self.upstream {
            upstream.commit(stamp);
        }
        let appends = self.appends.fetch_add(1, Ordering::AcqRel) + 1;
        if self.link.policy.retention != Retention::KeepAll && appends.is_multiple_of(RETAIN_EVERY) {
            if let Some(committed) = self.link.committed() {
                self.link.log.retain(committed, self.link.policy.retention).await?;
            }
        }
        Ok(())
    }

    /// The id sequence of `writer` picking up after the last id it wrote into this log.
    pub(crate) async fn resume_ids(&self, writer: WriterId) -> Result<EventIds, JournalError> {
        let log = &self.link.log;
        let mut from = self.resume().await?.records;
        let mut window = 1;
        while from > log.first() {
            let start = from.saturating_sub(window).max(log.first());
            let records = log.read(start, (from - start) as usize).await?;
            let last =
                records.iter().flat_map(LinkRecord::events).filter(|e| e.id.writer == writer).map(|e| e.id.seq).max();
            if let Some(seq) = last {
                return Ok(EventIds::starting_at(writer, seq + 1));
            }
            from = start;
            window *= 4;
        }
        Ok(EventIds::new(writer))
    }
}

impl<P> Drop for DurableOutlet<P> {
    fn drop(&mut self) {
        self.link.producer_gone();
    }
}

impl<P: Send + 'static> Resumable for DurableOutlet<P> {
    fn resume(&self) -> LogFuture<'_, Resume> {
        Box::pin(DurableOutlet::resume(self))
    }
}
