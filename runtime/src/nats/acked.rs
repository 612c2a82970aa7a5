//! Reading a link through a durable pull consumer that acknowledges only what the consuming stage has made durable:
//! its ack floor is the stage's commit, and the server delivers at most `max_ack_pending` records past it, which is
//! also the lead the producer waits on ([`Lead`]). So a slow consumer in one process holds back a producer in
//! another.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, stream::Stream};
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;

use super::claim::hold_all;
use super::error::NatsError;
use super::outage::{Outage, Patience};
use super::reader::{Messages, Source};
use super::stream::is_consumer_not_found;

/// How long the server waits for an acknowledgement before delivering a record again. Redeliveries are skipped
/// (the reader has them); a consumer that follows again after a lost connection starts a fresh delivery instead.
const ACK_WAIT: Duration = Duration::from_secs(60);

/// How long a consumer that committed nothing new waits before it sends its last acknowledgement again: a server
/// killed before it stored the consumer's state has lost it, and its producer, held back by that ack floor, would
/// otherwise wait for a commit that can come only from records it has not sent yet.
const ACK_AGAIN: Duration = Duration::from_secs(1);

/// How often a producer held back by its consumer asks for the consumer's ack floor.
const LEAD_POLL: Duration = Duration::from_millis(10);

/// The durable consumer a link's consuming process reads through. On the server it is called
/// `{name}--{instance}`, `instance` unique to this process: a process that takes the name over deletes every
/// consumer called `{name}` or `{name}--...` and creates its own, so the pull requests of a process it replaced
/// (paused, then resumed) reach a consumer that is gone, never take records from the new one.
#[derive(Clone, Debug)]
pub(crate) struct Durable {
    /// The consumer's name, as the producer's [`Lead`] knows it.
    name: String,
    /// Its name on the server.
    instance: String,
    /// Records delivered and not yet acknowledged, at most.
    max_ack_pending: u64,
    /// The pipeline of the link: an acknowledgement waits for its producers in this process.
    pipeline: String,
}

/// True for the server's name of an instance of the consumer called `name` (`{name}--{unique instance}`), not of
/// another consumer whose name starts with `name` (`x-`, `x--y` beside `x`).
fn is_instance_of(server_name: &str, name: &str) -> bool {
    let rest = server_name.strip_prefix(name);
    server_name == name || rest.and_then(|rest| rest.strip_prefix("--")).is_some_and(super::names::is_unique_instance)
}

impl Durable {
    pub(crate) fn new(name: &str, max_ack_pending: u64, pipeline: &str) -> Self {
        Self {
            name: name.to_owned(),
            instance: format!("{name}--{}", super::names::unique_instance()),
            max_ack_pending,
            pipeline: pipeline.to_owned(),
        }
    }

    /// What a [`Follower`](super::reader::Follower) of `subject` of `stream` reads through: this durable consumer,
    /// created afresh at each start (a consumer left by an earlier run is replaced: where to start is the stage's own
    /// checkpoint, never behind its ack floor). Each time `committed` moves to `c`, the records up to sequence `c` are
    /// acknowledged, once every append the pipeline's producers in this process issued before is stored.
    /// Neither is done while this process's claim on its name is not held ([`hold_all`]): a process resumed after a
    /// pause that another took its name over in would otherwise replace that one's consumer.
    pub(crate) fn source(
        &self,
        stream: &Stream,
        subject: &str,
        committed: watch::Receiver<u64>,
        patience: Patience,
    ) -> impl Source {
        Acknowledging {
            durable: self.clone(),
            patience,
            stream: stream.clone(),
            subject: subject.to_owned(),
            committed,
            unacked: VecDeque::new(),
            acked: None,
            idle: 0,
        }
    }

    async fn consume(&self, stream: &Stream, subject: &str, start: u64) -> Result<pull::Stream, NatsError> {
        let what = || format!("consumer {} of {subject} from sequence {start}", self.name);
        let names: Vec<String> =
            stream.consumer_names().try_collect().await.map_err(|e| NatsError::request(what(), e))?;
        for name in names.iter().filter(|n| is_instance_of(n, &self.name)) {
            match stream.delete_consumer(name).await {
                Ok(_) => {}
                Err(e) if is_consumer_not_found(&e) => {}
                Err(e) => return Err(NatsError::request(what(), e)),
            }
        }
        let config = pull::Config {
            durable_name: Some(self.instance.clone()),
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

/// Reading through a durable consumer: the messages handed over and not yet acknowledged, and the stage's commits
/// that acknowledge them.
struct Acknowledging {
    durable: Durable,
    /// How long to wait for this process's claim to be renewed.
    patience: Patience,
    stream: Stream,
    subject: String,
    committed: watch::Receiver<u64>,
    /// Delivered, not yet acknowledged, in sequence order.
    unacked: VecDeque<(u64, jetstream::Message)>,
    /// The last message acknowledged (its acknowledgement covers every one before), sent again after [`ACK_AGAIN`]
    /// without a new one.
    acked: Option<jetstream::Message>,
    /// How many times in a row it found the consumer stuck while idle (see [`Acknowledging::stuck`]).
    idle: u32,
}

impl Source for Acknowledging {
    async fn subscribe(&mut self, start: u64) -> Result<Messages, NatsError> {
        hold_all(&self.durable.pipeline, self.patience.get()).await?;
        super::stream::unchanged(&self.stream).await?;
        let messages = self.durable.consume(&self.stream, &self.subject, start).await?;
        Ok(messages.map(|m| m.map_err(|e| e.to_string())).boxed())
    }

    fn keep(&mut self, sequence: u64, message: jetstream::Message) {
        self.unacked.push_back((sequence, message));
    }

    fn restarted(&mut self) {
        self.unacked.clear();
        self.acked = None; // of a consumer replaced now
        self.idle = 0;
    }

    async fn chore(&mut self) -> Option<u64> {
        tokio::select! {
            changed = self.committed.changed() => changed.ok()?,
            () = tokio::time::sleep(ACK_AGAIN), if self.acked.is_some() => {}
        }
        Some(*self.committed.borrow_and_update())
    }

    async fn do_chore(&mut self, up_to: u64) -> bool {
        // Its outputs were appended before this commit: acknowledged once they are stored.
        super::inflight::settled(&self.durable.pipeline).await;
        if let Err(e) = hold_all(&self.durable.pipeline, self.patience.get()).await {
            // Its reads and writes fail with it: acknowledge nothing more.
            tracing::warn!(error = %e, "not acknowledged");
            return false;
        }
        let before = self.unacked.len();
        while self.unacked.front().is_some_and(|(sequence, _)| *sequence <= up_to) {
            self.acked = self.unacked.pop_front().map(|(_, message)| message);
        }
        if self.unacked.len() == before && self.stuck().await {
            return true;
        }
        // One acknowledgement: the policy is "all". Sent again when nothing new was committed.
        if let Some(message) = &self.acked {
            if let Err(e) = message.ack().await {
                // The next acknowledgement covers this one.
                tracing::debug!(error = %e, "acknowledgement not sent");
            }
        }
        false
    }
}

impl Acknowledging {
    /// True when, twice in a row with nothing new to acknowledge, the server says records await acknowledgement
    /// although this consumer holds none unacknowledged: a server killed -9 can come back with its consumer's
    /// pending records from before its last acknowledgements, and it then delivers nothing more (they fill
    /// `max_ack_pending`) and never asks for them again (they are below the ack floor). Made again from the next
    /// record, as after a lost connection, the consumer goes on.
    async fn stuck(&mut self) -> bool {
        if !self.unacked.is_empty() {
            self.idle = 0;
            return false;
        }
        let pending = match self.stream.consumer_info(&self.durable.instance).await {
            Ok(info) => info.num_ack_pending,
            Err(_) => return false, // the reader finds out for itself
        };
        self.idle = if pending > 0 { self.idle + 1 } else { 0 };
        if self.idle < 2 {
            return false;
        }
        tracing::warn!(consumer = %self.durable.instance, pending, "the server holds records unacknowledged that were acknowledged: consuming again");
        true
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
    /// ahead of a consumer that has not started, and waits for it as long as it takes (the server answers that it
    /// is not there yet).
    ///
    /// # Errors
    /// [`NatsError::Lost`] when the server has not answered for `outage`'s deadline.
    pub(crate) async fn room(&self, stream: &Stream, position: u64, outage: &mut Outage) -> Result<(), NatsError> {
        loop {
            if position.saturating_sub(self.floor.load(Ordering::Acquire)) < self.max {
                return Ok(());
            }
            match tokio::time::timeout(outage.remaining(), self.floor_now(stream)).await {
                // The latest answer, even when lower: a consumer started again from its checkpoint moves it back.
                Ok(Ok(Some(floor))) => {
                    outage.answered();
                    self.floor.store(floor, Ordering::Release);
                }
                // No such consumer yet: an answer, not an outage.
                Ok(Ok(None)) => outage.answered(),
                Ok(Err(e)) => outage.failed(e),
                Err(_) => outage.failed("no answer"),
            }
            outage.check(|| format!("waiting on the ack floor of consumer {}", self.consumer))?;
            tokio::time::sleep(LEAD_POLL).await;
        }
    }

    /// The consumer's ack floor (the lowest of its instances', while a new one replaces an old one), `None` while
    /// there is none.
    async fn floor_now(&self, stream: &Stream) -> Result<Option<u64>, async_nats::Error> {
        let mut consumers = stream.consumers();
        let mut floor = None;
        while let Some(info) = consumers.try_next().await? {
            if is_instance_of(&info.name, &self.consumer) {
                // A consumer that has acknowledged nothing yet reports 0; what it starts past is consumed already
                // (a consumer started again when its stage had caught up would otherwise hold its producer back
                // for good).
                let start = match info.config.deliver_policy {
                    DeliverPolicy::ByStartSequence { start_sequence } => start_sequence.saturating_sub(1),
                    _ => 0,
                };
                let at = info.ack_floor.stream_sequence.max(start);
                floor = Some(floor.unwrap_or(u64::MAX).min(at));
            }
        }
        Ok(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::is_instance_of;
    use crate::nats::names::unique_instance;

    #[test]
    fn a_consumers_instances_are_its_own_not_those_of_a_consumer_whose_name_starts_with_its_name() {
        let instance = |name: &str| format!("{name}--{}", unique_instance());
        assert!(is_instance_of(&instance("x"), "x"));
        assert!(is_instance_of("x", "x"));
        // Before, each was taken for an instance of `x`: its consumer deleted when `x` started, its floor read as x's.
        for other in ["x-", "x--y", "x--1", "x---"] {
            assert!(!is_instance_of(&instance(other), "x"), "{other}");
        }
        assert!(!is_instance_of("xy", "x"));
    }
}
