//! Following a subject of a stream from a sequence: a task of its own reads the messages into a bounded channel, so
//! a slow reader holds back delivery instead of growing memory. After a lost connection or a server restart it
//! follows again from the next sequence, so the messages it hands over stay gap-free and in order; once the server
//! has not answered for its deadline ([`Outage`]), the last thing it hands over is that error.
//!
//! What it reads through is a [`Source`]: an ordered (ephemeral) consumer here ([`Follower::start`]), or a durable
//! consumer that acknowledges what its stage committed (`acked.rs`).

use std::future::Future;
use std::sync::{Arc, OnceLock};

use async_nats::jetstream::{self, consumer::pull, consumer::DeliverPolicy, stream::Stream};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::error::NatsError;
use super::outage::Outage;

/// One stored message: its sequence in the stream, its subject (one writer's, when several share the stream) and its
/// payload.
#[derive(Debug)]
pub(crate) struct Delivered {
    pub(crate) sequence: u64,
    pub(crate) subject: async_nats::Subject,
    pub(crate) payload: Bytes,
}

/// Where a follower of a link's stream counts the records stored, for the link's readers to follow, and says why it
/// stopped (waking them, so they read the error instead of waiting for records that will not come).
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub(crate) count: watch::Sender<u64>,
    pub(crate) failure: Arc<OnceLock<String>>,
}

/// Messages as a consumer delivers them; an error (a lost connection, a consumer gone with a restarted server) means
/// following again.
pub(crate) type Messages = BoxStream<'static, Result<jetstream::Message, String>>;

/// What a follower reads through.
pub(crate) trait Source: Send + 'static {
    /// The messages of its subject from stream sequence `start` (1 is the first) on.
    fn subscribe(&mut self, start: u64) -> impl Future<Output = Result<Messages, NatsError>> + Send;

    /// `message`, at `sequence`, is handed over (a durable consumer keeps it to acknowledge later).
    fn keep(&mut self, _sequence: u64, _message: jetstream::Message) {}

    /// Following again from a new subscription: what was kept is void.
    fn restarted(&mut self) {}

    /// Resolves with what to do besides delivering (a commit to acknowledge), or `None` to stop; by default never.
    fn chore(&mut self) -> impl Future<Output = Option<u64>> + Send {
        std::future::pending()
    }

    /// Does the chore [`chore`](Self::chore) returned; `true` when the subscription is stuck and must be made
    /// again (as after a lost connection).
    fn do_chore(&mut self, _up_to: u64) -> impl Future<Output = bool> + Send {
        std::future::ready(false)
    }
}

/// Messages of one subject from a sequence on, in order; the task reading them ends when this is dropped.
#[derive(Debug)]
pub(crate) struct Follower {
    messages: mpsc::Receiver<Result<Delivered, NatsError>>,
    task: JoinHandle<()>,
    /// The subject, for the error once the task has ended.
    subject: String,
}

impl Follower {
    /// Follows `subject` (a wildcard works) of `stream` from stream sequence `start` (1 is the first) through an
    /// ordered consumer, holding at most `buffer` messages not yet taken. `stored`, if given, is raised to each
    /// message's sequence as it arrives (for a stream holding one subject, the count of records stored), and told
    /// why the follower stopped.
    ///
    /// # Errors
    /// When the consumer cannot be created.
    pub(crate) async fn start(
        stream: &Stream,
        subject: &str,
        start: u64,
        buffer: usize,
        stored: Option<Stored>,
        outage: Outage,
    ) -> Result<Self, NatsError> {
        let ordered = Ordered { stream: stream.clone(), subject: subject.to_owned() };
        Self::through(ordered, subject, start, buffer, stored, outage).await
    }

    /// As [`start`](Self::start), through `source`.
    ///
    /// # Errors
    /// When `source` cannot subscribe.
    pub(crate) async fn through<S: Source>(
        mut source: S,
        subject: &str,
        start: u64,
        buffer: usize,
        stored: Option<Stored>,
        outage: Outage,
    ) -> Result<Self, NatsError> {
        let incoming = source.subscribe(start).await?;
        let (send, messages) = mpsc::channel(buffer.max(1));
        let following = Following { send, stored, outage, subject: subject.to_owned() };
        let task = tokio::spawn(following.run(source, incoming, start));
        Ok(Self { messages, task, subject: subject.to_owned() })
    }

    /// The next message, waiting for it (across reconnections).
    ///
    /// # Errors
    /// [`NatsError::Lost`] when the server did not answer within the deadline; once the task has ended (after that
    /// error), that it ended.
    pub(crate) async fn next(&mut self) -> Result<Delivered, NatsError> {
        match self.messages.recv().await {
            Some(delivered) => delivered,
            None => Err(NatsError::request(format!("following {}", self.subject), "the follower stopped")),
        }
    }

    /// The next message if one is here already.
    pub(crate) fn try_next(&mut self) -> Option<Result<Delivered, NatsError>> {
        self.messages.try_recv().ok()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Pause before following again after a lost connection.
pub(crate) const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// The follower's task: where it hands messages over, and how it judges the server.
struct Following {
    send: mpsc::Sender<Result<Delivered, NatsError>>,
    stored: Option<Stored>,
    outage: Outage,
    subject: String,
}

impl Following {
    async fn run<S: Source>(mut self, mut source: S, mut incoming: Messages, start: u64) {
        let mut next = start.max(1);
        loop {
            let subject = &self.subject;
            let what = || format!("following {subject} from sequence {next}");
            let message = tokio::select! {
                chore = source.chore() => {
                    let stuck = match chore {
                        Some(up_to) => source.do_chore(up_to).await,
                        None => return,
                    };
                    if !stuck {
                        continue;
                    }
                    Some(Err("the server holds the consumer stuck".to_owned()))
                }
                message = incoming.next() => message,
                lost = self.outage.lasting(what) => return self.end(lost).await,
            };
            let message = match message {
                Some(Ok(message)) => message,
                other => {
                    // A lost connection or a restarted server (an ephemeral consumer is gone): follow again from the
                    // next sequence.
                    let why = other.map_or("the delivery ended".to_owned(), |e| e.err().unwrap_or_default());
                    tracing::debug!(subject = %self.subject, next, error = %why, "following again");
                    source.restarted();
                    self.outage.failed(why);
                    match self.again(&mut source, next).await {
                        Some(again) => incoming = again,
                        None => return,
                    }
                    continue;
                }
            };
            self.outage.answered();
            let Ok(sequence) = message.info().map(|info| info.stream_sequence) else { continue };
            if sequence < next {
                continue; // delivered again after the ack wait: the reader has it
            }
            next = sequence + 1;
            let delivered = Delivered { sequence, subject: message.subject.clone(), payload: message.payload.clone() };
            source.keep(sequence, message);
            if self.send.send(Ok(delivered)).await.is_err() {
                return;
            }
            // Counted once handed over: a reader woken by the count finds the message there, instead of waking
            // again for it (what is in the channel is counted, so a full channel never hides a record).
            if let Some(stored) = &self.stored {
                crate::journal::raise(&stored.count, sequence);
            }
        }
    }

    /// Subscribes again from `next` until it works; `None` once nobody reads or the deadline passed (the error
    /// handed over).
    async fn again<S: Source>(&mut self, source: &mut S, next: u64) -> Option<Messages> {
        loop {
            tokio::time::sleep(RETRY_PAUSE).await;
            if self.send.is_closed() {
                return None;
            }
            let subject = &self.subject;
            if let Err(lost) = self.outage.check(|| format!("following {subject} from sequence {next}")) {
                self.end(lost).await;
                return None;
            }
            match tokio::time::timeout(self.outage.remaining(), source.subscribe(next)).await {
                Ok(Ok(incoming)) => {
                    self.outage.answered();
                    return Some(incoming);
                }
                Ok(Err(over @ (NatsError::Fenced { .. } | NatsError::StartedOver { .. }))) => {
                    self.end(over).await;
                    return None;
                }
                Ok(Err(e)) => {
                    tracing::debug!(subject = %self.subject, error = %e, "cannot follow yet; retrying");
                    self.outage.failed(e);
                }
                Err(_) => self.outage.failed("no answer"),
            }
        }
    }

    /// Hands `lost` over as the last message.
    async fn end(&self, lost: NatsError) {
        tracing::warn!(subject = %self.subject, error = %lost, "following stopped");
        if let Some(stored) = &self.stored {
            let _ = stored.failure.set(lost.to_string());
            stored.count.send_modify(|_| {});
        }
        let _ = self.send.send(Err(lost)).await;
    }
}

/// An ordered (ephemeral) pull consumer, recreated by the client after a gap and by the follower after a lost
/// connection.
struct Ordered {
    stream: Stream,
    subject: String,
}

impl Source for Ordered {
    async fn subscribe(&mut self, start: u64) -> Result<Messages, NatsError> {
        let config = pull::OrderedConfig {
            filter_subject: self.subject.clone(),
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: start.max(1) },
            ..Default::default()
        };
        let what = || format!("following {} from sequence {start}", self.subject);
        super::stream::unchanged(&self.stream).await?;
        let consumer = self.stream.create_consumer(config).await.map_err(|e| NatsError::request(what(), e))?;
        let messages = consumer.messages().await.map_err(|e| NatsError::request(what(), e))?;
        Ok(messages.map(|m| m.map_err(|e| e.to_string())).boxed())
    }
}
