//! Reading a link through a durable pull consumer that acknowledges only what the consuming stage has made durable:
//! its ack floor is the stage's commit, and the server delivers at most `max_ack_pending` records past it, which is
//! also the lead the producer waits on ([`Lead`]). So a slow consumer in one process holds back a producer in
//! another.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, stream::Stream};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};

use super::error::NatsError;
use super::reader::{Delivered, Follower, RETRY_PAUSE};

/// How long the server waits for an acknowledgement before delivering a record again. Redeliveries are skipped
/// (the reader has them); a consumer that follows again after a lost connection starts a fresh delivery instead.
const ACK_WAIT: Duration = Duration::from_secs(60);

/// How often a producer held back by its consumer asks for the consumer's ack floor.
const LEAD_POLL: Duration = Duration::from_millis(10);

/// The durable consumer a link's consuming process reads through.
#[derive(Clone, Debug)]
pub(crate) struct Durable {
    /// The consumer's name on the stream.
    pub(crate) name: String,
    /// Records delivered and not yet acknowledged, at most.
    pub(crate) max_ack_pending: u64,
    /// The pipeline of the link: an acknowledgement waits for its producers in this process.
    pub(crate) pipeline: String,
}

impl Durable {
    /// Follows `subject` of `stream` from sequence `start` through this durable consumer, created afresh there (a
    /// consumer left by an earlier run is replaced: where to start is the stage's own checkpoint, never behind its
    /// ack floor). Each time `committed` moves to `c`, the records up to sequence `c` are acknowledged, once every
    /// append the pipeline's producers in this process issued before is stored.
    pub(crate) async fn follow(
        &self,
        stream: &Stream,
        subject: &str,
        start: u64,
        buffer: usize,
        stored: watch::Sender<u64>,
        mut committed: watch::Receiver<u64>,
    ) -> Result<Follower, NatsError> {
        let pipeline = self.pipeline.clone();
        let mut incoming = self.consume(stream, subject, start).await?;
        let (send, messages) = mpsc::channel(buffer.max(1));
        let (durable, stream, subject) = (self.clone(), stream.clone(), subject.to_owned());
        let task = tokio::spawn(async move {
            let mut next = start.max(1);
            // Delivered, not yet acknowledged, in sequence order.
            let mut unacked: VecDeque<(u64, jetstream::Message)> = VecDeque::new();
            loop {
                tokio::select! {
                    moved = committed.changed() => {
                        if moved.is_err() {
                            return;
                        }
                        let up_to = *committed.borrow_and_update();
                        // Its outputs were appended before this commit: acknowledged once they are stored.
                        super::inflight::settled(&pipeline).await;
                        acknowledge(&mut unacked, up_to).await;
                    }
                    message = incoming.next() => {
                        let message = match message {
                            Some(Ok(message)) => message,
                            other => {
                                let why = other.map_or("the delivery ended".to_owned(), |e| format!("{:?}", e.err()));
                                tracing::debug!(subject = %subject, next, error = %why, "following again");
                                unacked.clear();
                                incoming = loop {
                                    tokio::time::sleep(RETRY_PAUSE).await;
                                    if send.is_closed() {
                                        return;
                                    }
                                    match durable.consume(&stream, &subject, next).await {
                                        Ok(incoming) => break incoming,
                                        Err(e) => tracing::debug!(subject = %subject, error = %e, "cannot follow yet"),
                                    }
                                };
                                continue;
                            }
                        };
                        let Ok(sequence) = message.info().map(|info| info.stream_sequence) else { continue };
                        if sequence < next {
                            continue; // delivered again after the ack wait: the reader has it
                        }
                        next = sequence + 1;
                        crate::journal::raise(&stored, sequence);
                        let delivered =
                            Delivered { sequence, subject: message.subject.clone(), payload: message.payload.clone() };
                        unacked.push_back((sequence, message));
                        if send.send(delivered).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Ok(Follower::from_task(messages, task))
    }

    async fn consume(&self, stream: &Stream, subject: &str, start: u64) -> Result<pull::Stream, NatsError> {
        let what = || format!("consumer {} of {subject} from sequence {start}", self.name);
        match stream.delete_consumer(&self.name).await {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), jetstream::stream::ConsumerErrorKind::JetStream(js) if js.error_code() == jetstream::ErrorCode::CONSUMER_NOT_FOUND) =>
                {}
            Err(e) => return Err(NatsError::request(what(), e)),
        }
        let config = pull::Config {
            durable_name: Some(self.name.clone()),
            filter_subject: subject.to_owned(),
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: start.max(1) },
            ack_policy: AckPolicy::All,
            ack_wait: ACK_WAIT,
            max_ack_pending: i64::try_from(self.max_ack_pending.max(1)).unwrap_or(i64::MAX),
            ..Default::default()
        };
        let consumer = stream.create_consumer(config).await.map_err(|e| NatsError::request(what(), e))?;
        consumer.messages().await.map_err(|e| NatsError::request(what(), e))
    }
}

/// Acknowledges every message up to stream sequence `up_to` (one acknowledgement: the policy is "all").
/// Each message is queued with its stream sequence, read once when it was delivered.
async fn acknowledge(unacked: &mut VecDeque<(u64, jetstream::Message)>, up_to: u64) {
    let mut last = None;
    while unacked.front().is_some_and(|(sequence, _)| *sequence <= up_to) {
        last = unacked.pop_front();
    }
    if let Some((_, message)) = last {
        if let Err(e) = message.ack().await {
            // The next acknowledgement covers this one.
            tracing::debug!(error = %e, "acknowledgement not sent");
        }
    }
}

/// A producer's bound on how far it may run ahead of a durable consumer's ack floor.
#[derive(Debug)]
pub(crate) struct Lead {
    consumer: String,
    max: u64,
    /// The consumer's ack floor as last asked.
    floor: AtomicU64,
}

impl Lead {
    pub(crate) fn new(consumer: &str, max: u64) -> Self {
        Self { consumer: consumer.to_owned(), max: max.max(1), floor: AtomicU64::new(0) }
    }

    /// Waits until the record at `position` (stream sequence `position + 1`) is fewer than `max` records past the
    /// consumer's ack floor. Before the consumer exists its floor counts as where it is: a producer does not run
    /// ahead of a consumer that has not started.
    pub(crate) async fn room(&self, stream: &Stream, position: u64) {
        loop {
            if position.saturating_sub(self.floor.load(Ordering::Acquire)) < self.max {
                return;
            }
            match stream.consumer_info(&self.consumer).await {
                // The latest answer, even when lower: a consumer started again from its checkpoint moves it back.
                Ok(info) => self.floor.store(info.ack_floor.stream_sequence, Ordering::Release),
                Err(e) => tracing::debug!(consumer = %self.consumer, error = %e, "no ack floor yet"),
            }
            tokio::time::sleep(LEAD_POLL).await;
        }
    }
}
