//! A [`Journal`] on one subject of a JetStream stream (one subject per writer, so many writers share a stream and
//! a reader can follow one writer or, with a wildcard, all of them). The journal keeps a local copy of its subject,
//! filled by an ordered consumer that follows the tail: reads and the record count come from it, and it sees what
//! other processes append as well as its own appends. Each append is stored only after the sequence the subject
//! ended at with this writer's last append (or when it opened): a second writer on the subject is refused at once
//! instead of interleaving, whatever its message ids.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::claim::Claim;
use super::error::NatsError;
use super::outage::{Outage, Patience};
use super::publish::{store, After, Outgoing};
use super::reader::Follower;
use super::stream::StreamSpec;
use crate::journal::{AppendFuture, Journal, JournalError};

/// Messages the follower holds before the copy takes them.
const FOLLOW_BUFFER: usize = 1024;

/// A [`Journal`] stored in JetStream: append returns once the server has acknowledged the record (stored in its
/// file store), each record carries a message id (`{subject}:{writer}:{n}`, `writer` this journal's alone) so an
/// append retried after a lost acknowledgement is stored once, and [`subscribe`](Journal::subscribe) follows the
/// subject's tail, whoever appends.
///
/// A subject with a wildcard (`lifecycle.>`) opens a read-only journal over every writer's subject, in the order the
/// stream stored them: how an orchestrator in one process follows the stages of others.
///
/// Appends go one at a time, each stored after the last: a second writer on the subject (another journal opened on
/// it) is refused with [`NatsError::NotSoleWriter`] at each append, instead of interleaving its records.
pub struct NatsJournal<R> {
    inner: Arc<Inner>,
    _record: PhantomData<fn(R) -> R>,
}

struct Inner {
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    subject: String,
    /// False for a wildcard subject.
    writable: bool,
    /// What the follow task has copied so far; shared with that task.
    copy: Arc<LocalCopy>,
    /// How long an append or the follow task goes on while the server does not answer.
    patience: Patience,
    /// The claim on the name of the process that writes it, checked before each append.
    claim: OnceLock<Arc<Claim>>,
    /// Where this writer is on its subject; held across an append, so appends go one at a time.
    place: tokio::sync::Mutex<Place>,
    /// The runtime it was opened on: a thread outside it appends through it.
    runtime: tokio::runtime::Handle,
    follow: JoinHandle<()>,
}

/// Where a writer is on its subject.
struct Place {
    /// This writer's part of its message ids, which no other writer's ids have: a duplicate the server reports is
    /// then always this writer's own append, never another writer's record with the same number.
    writer: String,
    /// Numbers the message ids of its appends.
    next_id: u64,
    /// The sequence its subject must still end at: its last append's, or the subject's last when it opened.
    last: u64,
    /// The message id of an append whose acknowledgement never came (the server may hold it): the next append
    /// first asks where the subject ends.
    unsure: Option<String>,
}

/// Every record of the subject so far, as the follow task delivered them, and their count.
struct LocalCopy {
    /// Stream sequence and payload, in order.
    records: Mutex<Vec<(u64, Bytes)>>,
    len: watch::Sender<u64>,
    /// Why the follow task stopped (the server did not answer within the deadline): the copy is no longer kept.
    failure: OnceLock<String>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.follow.abort();
    }
}

impl<R> std::fmt::Debug for NatsJournal<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsJournal")
            .field("subject", &self.inner.subject)
            .field("len", &*self.inner.copy.len.borrow())
            .finish_non_exhaustive()
    }
}

impl<R> NatsJournal<R> {
    /// Opens the journal on `subject` of the stream `spec` (created if missing) and reads what it holds already;
    /// it follows the tail from then on.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use stagewise_runtime::journal::Journal;
    /// use stagewise_runtime::nats::{connect, NatsJournal, StreamSpec};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let js = connect("nats://127.0.0.1:4222", Duration::from_secs(5)).await?;
    /// let spec = StreamSpec::new("LIFECYCLE", ["lifecycle.>"]);
    /// let journal = NatsJournal::<String>::open(&js, &spec, "lifecycle.parse").await?;
    /// let position = journal.append_acked("started".to_owned()).await?;
    /// assert_eq!(journal.read_from(position)?, ["started"]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When the stream cannot be created or read, exists with another configuration ([`NatsError::Mismatch`]),
    /// or the subject cannot be followed.
    pub async fn open(js: &jetstream::Context, spec: &StreamSpec, subject: &str) -> Result<Self, NatsError> {
        let stream = spec.ensure(js).await?;
        let what = || format!("counting {subject} in stream {}", spec.name);
        let mut counts = stream.info_with_subjects(subject).await.map_err(|e| NatsError::request(what(), e))?;
        let mut held = 0u64;
        while let Some(count) = counts.next().await {
            held += count.map_err(|e| NatsError::request(what(), e))?.1 as u64;
        }
        let patience = Patience::default();
        let outage = Outage::new(js.client(), &patience);
        let mut follower = Follower::start(&stream, subject, 1, FOLLOW_BUFFER, None, outage).await?;
        let copy = Arc::new(LocalCopy {
            records: Mutex::new(Vec::new()),
            len: watch::Sender::new(0),
            failure: OnceLock::new(),
        });
        // The task holds the copy, not the journal: it runs until the journal aborts it on drop.
        let follow = tokio::spawn({
            let copy = copy.clone();
            async move {
                loop {
                    match follower.next().await {
                        Ok(message) => copy.keep(message.sequence, message.payload),
                        Err(e) => return copy.fail(&e),
                    }
                }
            }
        });
        // Dropped on an early return, it ends the follow task.
        let mut inner = Inner {
            js: js.clone(),
            stream,
            subject: subject.to_owned(),
            writable: !subject.contains(['*', '>']),
            copy,
            patience,
            claim: OnceLock::new(),
            place: tokio::sync::Mutex::new(Place {
                writer: super::names::unique_instance(),
                next_id: 0,
                last: 0,
                unsure: None,
            }),
            runtime: tokio::runtime::Handle::current(),
            follow,
        };
        let mut caught_up = inner.copy.len.subscribe();
        let copy = &inner.copy;
        let caught_up = caught_up.wait_for(|&n| n >= held || copy.failure.get().is_some()).await;
        caught_up.map_err(|e| NatsError::request(what(), e))?;
        if let Some(why) = copy.failure.get() {
            return Err(NatsError::request(what(), why));
        }
        // Where the subject ended as counted: a record another writer stored since is past this writer's place.
        let counted = usize::try_from(held).ok().and_then(|held| held.checked_sub(1));
        let records = copy.records.lock().unwrap_or_else(PoisonError::into_inner);
        let last = counted.and_then(|i| records.get(i)).map_or(0, |(sequence, _)| *sequence);
        drop(records);
        inner.place.get_mut().last = last;
        let inner = Arc::new(inner);
        Ok(Self { inner, _record: PhantomData })
    }

    /// How long an append, and the task keeping the copy, go on while the server does not answer before they fail
    /// with [`NatsError::Lost`] (default [`DEFAULT_OUTAGE`](super::DEFAULT_OUTAGE), 60 s): a server restarted
    /// within it is ridden out; once the copy's task has failed, every append fails.
    #[must_use]
    pub fn outage(self, deadline: Duration) -> Self {
        self.set_outage(deadline);
        self
    }

    pub(crate) fn set_outage(&self, deadline: Duration) {
        self.inner.patience.set(deadline);
    }

    /// Each append first waits until `claim` is held, and fails once another process took it.
    pub(crate) fn fence_with(&self, claim: Arc<Claim>) {
        let _ = self.inner.claim.set(claim);
    }

    /// The subject it reads (and writes, without a wildcard).
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }
}

impl Inner {
    /// Where this writer's place on the subject is after an append whose acknowledgement never came (message id
    /// `id`; the subject ended at `last` before it): at that append if the server stored it, still at `last` if
    /// the subject ends there.
    ///
    /// # Errors
    /// [`NatsError::NotSoleWriter`] when the subject ends at another writer's record; [`NatsError::Request`] when
    /// the server does not answer (asked again at the next append).
    async fn settle(&self, last: u64, id: &str) -> Result<u64, NatsError> {
        let found = match self.stream.get_last_raw_message_by_subject(&self.subject).await {
            Ok(message) => Some((message.sequence, message.headers.get(async_nats::header::NATS_MESSAGE_ID).cloned())),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => None,
            Err(e) => return Err(NatsError::request(format!("the last record of {}", self.subject), e)),
        };
        match found {
            Some((sequence, Some(found))) if found.as_str() == id => Ok(sequence),
            Some((sequence, _)) if sequence == last => Ok(last),
            None if last == 0 => Ok(0),
            _ => Err(NatsError::NotSoleWriter { subject: self.subject.clone() }),
        }
    }
}

impl LocalCopy {
    fn keep(&self, sequence: u64, payload: Bytes) {
        let mut copy = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        copy.push((sequence, payload));
        let n = copy.len() as u64;
        drop(copy);
        self.len.send_replace(n);
    }

    /// The follow task stopped with `error`: appends waiting for the copy fail with it.
    fn fail(&self, error: &NatsError) {
        let _ = self.failure.set(error.to_string());
        self.len.send_modify(|_| {});
    }

    /// The position of the record the stream stored at `sequence`, once the copy holds it.
    async fn position_of(&self, sequence: u64) -> Result<u64, JournalError> {
        let mut len = self.len.subscribe();
        loop {
            if let Some(why) = self.failure.get() {
                return Err(JournalError::Unusable(format!("the journal's copy is no longer kept: {why}")));
            }
            let found = {
                let copy = self.records.lock().unwrap_or_else(PoisonError::into_inner);
                copy.binary_search_by_key(&sequence, |(s, _)| *s).ok()
            };
            if let Some(position) = found {
                return Ok(position as u64);
            }
            len.changed().await.map_err(|_| JournalError::Unusable("the journal is closing".to_owned()))?;
        }
    }
}

impl<R: Serialize> NatsJournal<R> {
    /// Appends `record` and returns its position once the server has stored it and this journal's copy holds it.
    /// Does not block the thread: the form to use from async code.
    ///
    /// # Errors
    /// [`JournalError::Codec`] when the record cannot be encoded; [`JournalError::Unusable`] on a read-only
    /// (wildcard) journal; [`JournalError::Io`] wrapping a [`NatsError`]: [`NatsError::NotSoleWriter`] when another
    /// writer appended to the subject since this one's last append (or its opening); [`NatsError::Lost`] when the
    /// server did not acknowledge it within its [`outage`](Self::outage) deadline (it may still store it: the next
    /// append first asks whether it did, and goes on from there).
    pub async fn append_acked(&self, record: R) -> Result<u64, JournalError> {
        let inner = &self.inner;
        if !inner.writable {
            return Err(JournalError::Unusable(format!("{} names several subjects: read-only", inner.subject)));
        }
        let payload = super::encode(&record)?;
        let mut place = inner.place.lock().await;
        if let Some(claim) = inner.claim.get() {
            claim.hold(inner.patience.get()).await?;
        }
        if let Some(id) = place.unsure.take() {
            place.last = inner.settle(place.last, &id).await.inspect_err(|_| place.unsure = Some(id))?;
        }
        let id = format!("{}:{}:{}", inner.subject, place.writer, place.next_id);
        place.next_id += 1;
        let outgoing = Outgoing { subject: inner.subject.clone(), id, after: After::Subject(place.last), payload };
        let mut outage = Outage::new(inner.js.client(), &inner.patience);
        let ack = match store(&inner.js, &outgoing, &mut outage).await {
            Ok(ack) => ack,
            Err(e @ NatsError::Lost { .. }) => {
                place.unsure = Some(outgoing.id);
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        place.last = ack.sequence;
        drop(place);
        inner.copy.position_of(ack.sequence).await
    }
}

impl<R: Serialize + DeserializeOwned + Send + 'static> Journal<R> for NatsJournal<R> {
    /// Blocks the calling thread until the server acknowledges; from async code use
    /// [`append_acked`](NatsJournal::append_acked). On a thread of your own it waits on the runtime the journal
    /// was opened on; on a multi-threaded runtime's worker it hands the worker's other tasks away while it waits;
    /// on a current-thread runtime it refuses.
    fn append(&self, record: R) -> Result<u64, JournalError> {
        let journal = Self { inner: self.inner.clone(), _record: PhantomData };
        let append = async move { journal.append_acked(record).await };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread => {
                Err(JournalError::Unusable(
                    "a JetStream journal's append would block a current-thread runtime: use append_acked".to_owned(),
                ))
            }
            Ok(handle) => tokio::task::block_in_place(|| handle.block_on(append)),
            Err(_) => self.inner.runtime.block_on(append),
        }
    }

    /// Resolves once the server has acknowledged the record and this journal's copy holds it, without blocking the
    /// thread: the same as [`append_acked`](NatsJournal::append_acked).
    fn append_async(&self, record: R) -> AppendFuture<'_> {
        Box::pin(self.append_acked(record))
    }

    fn read_from(&self, position: u64) -> Result<Vec<R>, JournalError> {
        let copy = self.inner.copy.records.lock().unwrap_or_else(PoisonError::into_inner);
        let from = usize::try_from(position).unwrap_or(usize::MAX).min(copy.len());
        copy[from..].iter().map(|(_, payload)| super::decode(payload)).collect()
    }

    fn len(&self) -> u64 {
        *self.inner.copy.len.borrow()
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.copy.len.subscribe()
    }
}
