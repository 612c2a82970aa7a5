//! Following a subject of a stream from a sequence: an ordered pull consumer (ephemeral, recreated by the client
//! after a gap or a lost connection) read by a task of its own into a bounded channel, so a slow reader holds back
//! delivery instead of growing memory. After a lost connection or a server restart it follows again from the next
//! sequence, so the messages it hands over stay gap-free and in order.

use async_nats::jetstream::{consumer::pull, consumer::DeliverPolicy, stream::Stream};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::error::NatsError;

/// One stored message: its sequence in the stream, its subject (one writer's, when several share the stream) and its
/// payload.
#[derive(Debug)]
pub(crate) struct Delivered {
    pub(crate) sequence: u64,
    pub(crate) subject: async_nats::Subject,
    pub(crate) payload: Bytes,
}

/// Messages of one subject from a sequence on, in order; the task reading them ends when this is dropped.
#[derive(Debug)]
pub(crate) struct Follower {
    messages: mpsc::Receiver<Delivered>,
    task: JoinHandle<()>,
}

impl Follower {
    /// Follows `subject` (a wildcard works) of `stream` from stream sequence `start` (1 is the first), holding at
    /// most `buffer` messages not yet taken. `stored`, if given, is raised to each message's sequence as it
    /// arrives: for a stream holding one subject, the count of records stored.
    ///
    /// # Errors
    /// When the consumer cannot be created.
    pub(crate) async fn start(
        stream: &Stream,
        subject: &str,
        start: u64,
        buffer: usize,
        stored: Option<watch::Sender<u64>>,
    ) -> Result<Self, NatsError> {
        let mut incoming = consume(stream, subject, start).await?;
        let (send, messages) = mpsc::channel(buffer.max(1));
        let (stream, subject) = (stream.clone(), subject.to_owned());
        let task = tokio::spawn(async move {
            let mut next = start.max(1);
            loop {
                while let Some(message) = incoming.next().await {
                    let delivered = message.map_err(|e| e.to_string()).and_then(|m| {
                        let sequence = m.info().map_err(|e| e.to_string())?.stream_sequence;
                        Ok(Delivered { sequence, subject: m.subject.clone(), payload: m.payload.clone() })
                    });
                    let delivered = match delivered {
                        Ok(delivered) => delivered,
                        Err(why) => {
                            // A lost connection or a restarted server (the ephemeral consumer is gone): follow
                            // again from the next sequence.
                            tracing::debug!(subject = %subject, next, error = %why, "following again");
                            break;
                        }
                    };
                    next = delivered.sequence + 1;
                    if let Some(stored) = &stored {
                        crate::journal::raise(stored, next - 1);
                    }
                    if send.send(delivered).await.is_err() {
                        return;
                    }
                }
                incoming = loop {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    if send.is_closed() {
                        return;
                    }
                    match consume(&stream, &subject, next).await {
                        Ok(incoming) => break incoming,
                        Err(e) => tracing::debug!(subject = %subject, error = %e, "cannot follow yet; retrying"),
                    }
                };
            }
        });
        Ok(Self { messages, task })
    }

    /// A follower whose messages `task` sends to `messages`; the task is aborted when the follower is dropped.
    pub(crate) fn from_task(messages: mpsc::Receiver<Delivered>, task: JoinHandle<()>) -> Self {
        Self { messages, task }
    }

    /// The next message, waiting for it (across reconnections).
    pub(crate) async fn next(&mut self) -> Option<Delivered> {
        self.messages.recv().await
    }

    /// The next message if one is here already.
    pub(crate) fn try_next(&mut self) -> Option<Delivered> {
        self.messages.try_recv().ok()
    }
}

/// Pause before following again after a lost connection.
pub(crate) const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// The messages of an ordered consumer of `subject` from sequence `start`.
async fn consume(stream: &Stream, subject: &str, start: u64) -> Result<pull::Ordered, NatsError> {
    let config = pull::OrderedConfig {
        filter_subject: subject.to_owned(),
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: start.max(1) },
        ..Default::default()
    };
    let what = || format!("following {subject} from sequence {start}");
    let consumer = stream.create_consumer(config).await.map_err(|e| NatsError::request(what(), e))?;
    consumer.messages().await.map_err(|e| NatsError::request(what(), e))
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}
