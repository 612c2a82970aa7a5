//! A durable link's log on a JetStream stream of its own: record `n` of the link is the stream's message `n + 1`,
//! so a position is a sequence and reading from one needs no index. The producer publishes each record with the
//! stream's last sequence as a precondition and a message id made from its position: a retried append is stored
//! once, and a second producer is refused instead of interleaving. Appends are pipelined (`inflight.rs`):
//! up to 256 records await their acknowledgements at once; end of stream returns once all are stored, and a
//! consumer in this process acknowledges upstream only what every producer of its pipeline here has stored. A reader follows the stream through an ordered
//! consumer, in this process or another; or, opened acknowledging, through a durable consumer that acknowledges what
//! the stage committed, whose ack floor a producer opened bounded waits on.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_nats::jetstream::{self, stream::Stream};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{watch, Mutex};

use super::acked::{Durable, Lead};
use super::error::NatsError;
use super::inflight::Appends;
use super::outage::{Outage, Patience};
use super::publish::{After, Outgoing};
use super::reader::{Follower, Stored};
use super::stream::StreamSpec;
use crate::journal::JournalError;
use crate::pipeline::durable::{record_bytes, Body, LinkLog, LinkRecord, LogFuture, Retention};

/// Messages a reader holds ahead of the stage reading them.
const READ_BUFFER: usize = 256;

/// A [`LinkLog`] on a JetStream stream: the two ends of a durable link can run in different processes.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use stagewise_runtime::nats::{connect, NatsLog};
/// use stagewise_runtime::pipeline::durable::{DurableLink, LinkPolicy};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let js = connect("nats://127.0.0.1:4222", Duration::from_secs(5)).await?;
/// // In the producing process:
/// let log = NatsLog::<String>::open(&js, "access_log", "lines").await?;
/// let link = DurableLink::new(Arc::new(log), LinkPolicy::default());
/// // In the consuming process, the same names, following what the producer appends:
/// let log = NatsLog::<String>::open_following(&js, "access_log", "lines").await?;
/// # Ok(()) }
/// ```
pub struct NatsLog<P> {
    js: jetstream::Context,
    stream: Stream,
    subject: String,
    /// Records stored, as far as this process knows: moved by its own appends and by its reader.
    appended: watch::Sender<u64>,
    /// Why its reader stopped (the server did not answer within the deadline): what the link's readers fail with.
    failure: Arc<OnceLock<String>>,
    /// Position of the first record still held.
    first: AtomicU64,
    /// This producer's part of its records' message ids (`{subject}:{writer}:{position}`), which no other producer's
    /// have: a duplicate the server reports is then always this producer's own append, never another's record.
    writer: String,
    /// The size of the last record encoded: room the next one's encoding starts with.
    encoded: AtomicUsize,
    /// The pipeline of the link: what a consumer in this process waits on before acknowledging.
    pipeline: String,
    /// Position of the next record this process appends; held across an append so appends go one at a time.
    next: Mutex<u64>,
    /// This process's appends awaiting their acknowledgements: started with the first append (a log only read
    /// has none).
    appends: OnceLock<Appends>,
    /// How long a wait on the server may last while it does not answer; shared with the reader's and appends' tasks.
    patience: Patience,
    reader: Mutex<Option<Reader>>,
    /// The durable consumer this process reads through, if it acknowledges what it committed.
    durable: Option<Durable>,
    /// The position this process's consumer committed: what the durable consumer acknowledges.
    committed: watch::Sender<u64>,
    /// How far the producer may run ahead of its consumer's ack floor.
    lead: Option<Lead>,
    _payload: PhantomData<fn(P) -> P>,
}

/// A follower, and the position of the next record it delivers.
struct Reader {
    next: u64,
    follower: Follower,
}

impl<P> std::fmt::Debug for NatsLog<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsLog")
            .field("subject", &self.subject)
            .field("appended", &*self.appended.borrow())
            .finish_non_exhaustive()
    }
}

impl<P> NatsLog<P> {
    /// The log of the link called `link` of the pipeline called `pipeline`: stream `{pipeline}-{link}` (created if
    /// missing, see [`StreamSpec::link`]), subject `{pipeline}.{link}`. For the producer's process, and a consumer
    /// in the same process.
    ///
    /// # Errors
    /// [`NatsError::Invalid`] when a name cannot be used (see [`StreamSpec::link`]); when the stream cannot be
    /// created or read, or exists with another configuration ([`NatsError::Mismatch`]).
    pub async fn open(js: &jetstream::Context, pipeline: &str, link: &str) -> Result<Self, NatsError> {
        let spec = StreamSpec::link(pipeline, link)?;
        let subject = spec.subjects[0].clone();
        let mut stream = spec.ensure(js).await?;
        let state =
            stream.info().await.map_err(|e| NatsError::request(format!("stream {}", spec.name), e))?.state.clone();
        let len = state.last_sequence;
        let first = if state.messages == 0 { len } else { state.first_sequence.saturating_sub(1) };
        Ok(Self {
            js: js.clone(),
            stream,
            subject,
            appended: watch::Sender::new(len),
            failure: Arc::default(),
            first: AtomicU64::new(first),
            writer: super::names::unique_instance(),
            encoded: AtomicUsize::new(0),
            pipeline: pipeline.to_owned(),
            next: Mutex::new(len),
            appends: OnceLock::new(),
            patience: Patience::default(),
            reader: Mutex::new(None),
            durable: None,
            committed: watch::Sender::new(0),
            lead: None,
            _payload: PhantomData,
        })
    }

    /// As [`open_following`](Self::open_following), reading through the durable JetStream consumer `consumer`
    /// (letters, digits, `-`, `_`; at most 191 characters), which acknowledges only what this process's consumer has committed (its
    /// outputs and checkpoint are durable): the consumer's ack floor on the server is the stage's commit, and the
    /// server delivers at most `max_ack_pending` records past it. A producer opened
    /// [`bounded_by`](Self::bounded_by) the same consumer waits on that floor, so a slow consumer holds back a
    /// producer in another process. Each read from a new position starts the consumer afresh there.
    ///
    /// `max_ack_pending` must exceed what the stage reads before it commits (the link's read-ahead and the records
    /// it works on at once), or it waits forever for records the server holds back.
    ///
    /// # Errors
    /// As [`open`](Self::open); [`NatsError::Invalid`] when `consumer` is not such a name; when the consumer cannot
    /// be created.
    pub async fn open_acknowledging(
        js: &jetstream::Context,
        pipeline: &str,
        link: &str,
        consumer: &str,
        max_ack_pending: u64,
    ) -> Result<Self, NatsError> {
        super::names::check_consumer(consumer)?;
        let mut log = Self::open(js, pipeline, link).await?;
        log.durable = Some(Durable::new(consumer, max_ack_pending, pipeline));
        let len = log.len_now();
        let follower = log.follow(len).await?;
        *log.reader.lock().await = Some(Reader { next: len, follower });
        Ok(log)
    }

    /// This producer waits before appending while the record would be `max_lead` or more records past the ack
    /// floor of the durable consumer `consumer` (see [`open_acknowledging`](Self::open_acknowledging); the same
    /// number as its `max_ack_pending` is the natural choice). Until that consumer exists its floor counts as
    /// nothing consumed.
    #[must_use]
    pub fn bounded_by(mut self, consumer: &str, max_lead: u64) -> Self {
        self.lead = Some(Lead::new(consumer, max_lead));
        self
    }

    /// How long its appends, its reader and its wait on a consumer's ack floor go on while the server does not
    /// answer before they fail with [`NatsError::Lost`] (default [`DEFAULT_OUTAGE`](super::DEFAULT_OUTAGE), 60 s):
    /// a server restarted within it is ridden out, one stopped for good fails the stage using the link.
    #[must_use]
    pub fn outage(self, deadline: Duration) -> Self {
        self.patience.set(deadline);
        self
    }

    fn watch_outage(&self) -> Outage {
        Outage::new(self.js.client(), &self.patience)
    }

    /// A follower delivering record `position` on: through the durable consumer if there is one.
    async fn follow(&self, position: u64) -> Result<Follower, NatsError> {
        let start = position + 1;
        let appended = Stored { count: self.appended.clone(), failure: self.failure.clone() };
        let outage = self.watch_outage();
        match &self.durable {
            Some(durable) => {
                let committed = self.committed.subscribe();
                let source = durable.source(&self.stream, &self.subject, committed, self.patience.clone());
                Follower::through(source, &self.subject, start, READ_BUFFER, Some(appended), outage).await
            }
            None => Follower::start(&self.stream, &self.subject, start, READ_BUFFER, Some(appended), outage).await,
        }
    }

    /// As [`open`](Self::open), for a process that reads the link while another writes it: it follows the stream's
    /// tail from now on, so its readers see records as the other process appends them.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub async fn open_following(js: &jetstream::Context, pipeline: &str, link: &str) -> Result<Self, NatsError> {
        let log = Self::open(js, pipeline, link).await?;
        let len = log.len_now();
        let follower = log.follow(len).await?;
        *log.reader.lock().await = Some(Reader { next: len, follower });
        Ok(log)
    }

    fn len_now(&self) -> u64 {
        *self.appended.borrow()
    }

    /// The subject its records are published to.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When the server created its stream ([`StreamSpec::created`]), as it was when this log opened it.
    pub fn created(&self) -> std::time::SystemTime {
        std::time::SystemTime::from(self.stream.cached_info().created)
    }
}

impl<P: Serialize + DeserializeOwned + Send + Sync + 'static> NatsLog<P> {
    /// Publishes `record` and returns its position without waiting for its acknowledgement (up to the window of
    /// records in flight); end of stream returns once it and every record before it are stored.
    async fn append_record(&self, record: LinkRecord<P>) -> Result<u64, JournalError> {
        let ends = matches!(record.body, Body::EndOfStream);
        let encoded = self.encoded.load(Ordering::Relaxed);
        let payload = bytes::Bytes::from(record_bytes::encode(&record, encoded + encoded / 8)?);
        self.encoded.store(payload.len(), Ordering::Relaxed);
        let mut next = self.next.lock().await;
        let position = *next;
        let outgoing = Outgoing {
            subject: self.subject.clone(),
            id: format!("{}:{}:{position}", self.subject, self.writer),
            after: After::Stream(position),
            payload,
        };
        if let Some(lead) = &self.lead {
            lead.room(&self.stream, position, &mut self.watch_outage()).await?;
        }
        // Nothing written as a process whose name another process took.
        super::claim::hold_all(&self.pipeline, self.patience.get()).await?;
        let appends =
            self.appends.get_or_init(|| Appends::new(&self.js, &self.pipeline, position, self.watch_outage()));
        appends.publish(&self.js, position, outgoing).await?;
        *next = position + 1;
        if ends {
            appends.stored(position).await?;
        }
        crate::journal::raise(&self.appended, position + 1);
        Ok(position)
    }

    async fn read_records(&self, position: u64, max: usize) -> Result<Vec<LinkRecord<P>>, JournalError> {
        if position >= self.len_now() {
            return Ok(Vec::new());
        }
        let mut reader = self.reader.lock().await;
        if reader.as_ref().is_none_or(|r| r.next != position) {
            *reader = None; // its durable consumer, if any, is replaced
            *reader = Some(Reader { next: position, follower: self.follow(position).await? });
        }
        let Some(reader) = reader.as_mut() else { return Ok(Vec::new()) };
        let mut records = Vec::with_capacity(max.min(READ_BUFFER));
        let mut delivered = Some(reader.follower.next().await);
        while let Some(message) = delivered {
            let message = message?;
            if message.sequence != reader.next + 1 {
                return Err(JournalError::Unusable(format!(
                    "{}: record {} expected, the stream delivered sequence {}",
                    self.subject, reader.next, message.sequence
                )));
            }
            records.push(record_bytes::decode(&message.payload)?);
            reader.next += 1;
            if records.len() >= max {
                break;
            }
            delivered = reader.follower.try_next();
        }
        Ok(records)
    }

    async fn purge(&self, committed: u64, retention: Retention) -> Result<usize, JournalError> {
        // The last record stays: a resumed producer reads its stamp.
        let below = committed.min(self.len_now().saturating_sub(1));
        if retention != Retention::Consumed || below <= self.first.load(Ordering::Acquire) {
            return Ok(0);
        }
        let purged = self
            .stream
            .purge()
            .sequence(below + 1)
            .await
            .map_err(|e| NatsError::request(format!("purging {} below record {below}", self.subject), e))?;
        self.first.fetch_max(below, Ordering::AcqRel);
        Ok(usize::from(purged.purged > 0))
    }
}

impl<P: Serialize + DeserializeOwned + Send + Sync + 'static> LinkLog<P> for NatsLog<P> {
    fn append(&self, record: LinkRecord<P>) -> LogFuture<'_, u64> {
        Box::pin(self.append_record(record))
    }

    fn read(&self, position: u64, max: usize) -> LogFuture<'_, Vec<LinkRecord<P>>> {
        Box::pin(self.read_records(position, max))
    }

    fn len(&self) -> u64 {
        self.len_now()
    }

    fn first(&self) -> u64 {
        self.first.load(Ordering::Acquire)
    }

    fn retain(&self, committed: u64, retention: Retention) -> LogFuture<'_, usize> {
        Box::pin(self.purge(committed, retention))
    }

    fn appended(&self) -> Option<watch::Sender<u64>> {
        Some(self.appended.clone())
    }

    fn failure(&self) -> Option<JournalError> {
        let why = self.failure.get()?;
        Some(JournalError::Unusable(format!("{}: {why}", self.subject)))
    }

    fn acknowledge(&self, position: u64) {
        crate::journal::raise(&self.committed, position);
    }
}
