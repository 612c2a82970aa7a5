//! The consuming end of a durable link: reads the log from a position (where its stage resumes, 0, or a chosen
//! offset), follows the tail, and reports how far it has read (for backpressure) and what is committed (for
//! retention).

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::watch;

use super::outlet::Resumable;
use super::record::{Body, LinkRecord};
use super::shared::{Consumer, InputPosition, LinkShared};
use crate::journal::JournalError;
use crate::pipeline::link::Message;

/// Tells the durable inlet at the start of a pipeline whose link another process writes to stop reading, when the
/// pipeline drains or stops: it plays the source's part there (nothing in this process would end its input), so it
/// hands over what it holds, then the end of this run (not of the stream: nothing past the stage's commit is
/// consumed, a resumed run reads on from there).
#[derive(Clone, Debug)]
pub(crate) struct InputStop(Arc<watch::Sender<bool>>);

impl InputStop {
    pub(crate) fn new() -> Self {
        Self(Arc::new(watch::Sender::new(false)))
    }

    /// The inlets told stop reading.
    pub(crate) fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// Where a durable inlet starts reading.
#[derive(Clone)]
pub(crate) enum Start {
    /// At this position.
    At(u64),
    /// Where the stage's own durable outlet says it had got to.
    Resume(Arc<dyn Resumable>),
}

impl std::fmt::Debug for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Start::At(p) => write!(f, "At({p})"),
            Start::Resume(_) => f.write_str("Resume"),
        }
    }
}

/// The consuming end of one durable link.
#[derive(Debug)]
pub(crate) struct DurableInlet<P> {
    link: Arc<LinkShared<P>>,
    consumer: Arc<Consumer>,
    start: Option<Start>,
    /// Position of the next record to hand to the stage.
    position: u64,
    buffer: VecDeque<LinkRecord<P>>,
    appended: watch::Receiver<u64>,
    input: Arc<InputPosition>,
    /// Why reading stopped, if it failed.
    failure: Option<JournalError>,
    ended: bool,
    /// Raised when its pipeline drains or stops, for an inlet whose link another process writes.
    stop: Option<watch::Receiver<bool>>,
}

impl<P: Send + 'static> DurableInlet<P> {
    pub(crate) fn new(link: Arc<LinkShared<P>>, start: Start) -> Self {
        let initial = match start {
            Start::At(p) => p,
            Start::Resume(_) => 0,
        };
        let consumer = link.attach(initial);
        let appended = link.subscribe();
        Self {
            link,
            consumer,
            start: Some(start),
            position: initial,
            buffer: VecDeque::new(),
            appended,
            input: Arc::default(),
            failure: None,
            ended: false,
            stop: None,
        }
    }

    /// Stops reading once `stop` is raised (see [`InputStop`]).
    pub(crate) fn stop_with(&mut self, stop: &InputStop) {
        self.stop = Some(stop.0.subscribe());
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|stop| *stop.borrow())
    }

    /// Starts reading at `start` instead, if nothing was read yet.
    pub(crate) fn seek(&mut self, start: Start) {
        if self.start.is_some() {
            self.start = Some(start);
        }
    }

    pub(crate) fn consumer(&self) -> &Arc<Consumer> {
        &self.consumer
    }

    pub(crate) fn input(&self) -> &Arc<InputPosition> {
        &self.input
    }

    /// Position of the next record it hands over.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    pub(crate) fn failure(&self) -> Option<&JournalError> {
        self.failure.as_ref()
    }

    /// The next message; `None` when the producer ended without end of stream, or reading failed (see `failure`).
    pub(crate) async fn recv(&mut self) -> Option<Message<P>> {
        match self.next().await {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(error = %e, position = self.position, "a durable link could not be read");
                self.failure = Some(e);
                None
            }
        }
    }

    async fn begin(&mut self, start: Start) -> Result<Option<Message<P>>, JournalError> {
        let position = match start {
            Start::At(p) => p,
            Start::Resume(outlet) => outlet.resume().await?.input,
        };
        self.position = position;
        self.link.read_to(&self.consumer, position);
        self.consumer.commit(position);
        self.input.set(position);
        // Starting just past the end of stream: the stream is over, say so at once.
        if let Some(before) = position.checked_sub(1).filter(|&p| p >= self.link.log.first()) {
            if self.link.log.read(before, 1).await?.first().is_some_and(LinkRecord::is_end) {
                self.ended = true;
                self.input.end();
                return Ok(Some(Message::EndOfStream));
            }
        }
        Ok(None)
    }

    async fn next(&mut self) -> Result<Option<Message<P>>, JournalError> {
        if let Some(start) = self.start.take() {
            if let Some(end) = self.begin(start).await? {
                return Ok(Some(end));
            }
        }
        if self.ended {
            return Ok(Some(Message::EndOfStream));
        }
        loop {
            if let Some(record) = self.buffer.pop_front() {
                self.position += 1;
                self.link.read_to(&self.consumer, self.position);
                self.input.set(self.position);
                return Ok(Some(match record.body {
                    Body::Events(events) => Message::Events(events),
                    Body::EndOfStream => {
                        self.ended = true;
                        self.input.end();
                        Message::EndOfStream
                    }
                }));
            }
            if self.stopped() {
                // Its pipeline drains or stops: the end of this run, as a paused link's.
                return Ok(Some(Message::EndOfStream));
            }
            self.appended.borrow_and_update();
            let readable = self.link.len();
            let ahead = self.link.policy.read_ahead.max(1);
            if readable > self.position && self.link.take_recent(self.position, ahead, &mut self.buffer) > 0 {
                continue;
            }
            if readable > self.position {
                let records = self.link.log.read(self.position, ahead).await?;
                if records.is_empty() {
                    return Err(JournalError::Unusable(format!(
                        "the durable link holds {readable} records but none could be read at {}",
                        self.position
                    )));
                }
                self.buffer.extend(records);
                continue;
            }
            if self.link.is_paused() {
                // The end of this run, not of the stream: nothing is consumed, a resumed run reads on from here.
                return Ok(Some(Message::EndOfStream));
            }
            if self.link.is_producer_gone() {
                return Ok(None);
            }
            if let Some(e) = self.link.log.failure() {
                return Err(e);
            }
            let stop = async {
                let raised = match &mut self.stop {
                    Some(stop) => stop.wait_for(|stopped| *stopped).await.is_ok(),
                    None => false,
                };
                if !raised {
                    // No stop, or no one left to raise it (its pipeline's orchestrator ended): never.
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                changed = self.appended.changed() => if changed.is_err() {
                    return Ok(None);
                },
                () = stop => {}
            }
        }
    }
}

impl<P> Drop for DurableInlet<P> {
    fn drop(&mut self) {
        self.link.detach(&self.consumer);
    }
}
