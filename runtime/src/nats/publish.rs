//! Storing one message with its acknowledgement: published with a message id, so a retry after a lost
//! acknowledgement (a timeout, a server restart) is recognised by the server and stored once; retried until a
//! deadline while the connection is down.

use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, message::PublishMessage, publish::PublishAck};
use bytes::Bytes;
use tokio::time::Instant;

use super::error::NatsError;

/// How long an append keeps retrying while the server is unreachable or restarting.
pub(crate) const RETRY_FOR: Duration = Duration::from_secs(60);

/// Pause between two attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// One message to store.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub(crate) subject: String,
    pub(crate) id: String,
    /// The stream's last sequence must be this (the writer is alone on its stream).
    pub(crate) after: Option<u64>,
    pub(crate) payload: Bytes,
}

impl Outgoing {
    pub(crate) fn message(&self) -> PublishMessage {
        let message = PublishMessage::build().payload(self.payload.clone()).message_id(&self.id);
        match self.after {
            Some(sequence) => message.expected_last_sequence(sequence),
            None => message,
        }
    }
}

/// Stores `outgoing`, retrying for up to [`RETRY_FOR`] while the server does not acknowledge.
///
/// # Errors
/// [`NatsError::NotSoleWriter`] when the stream moved on without this writer; [`NatsError::Request`] when the
/// server refused the message or never acknowledged it.
pub(crate) async fn store(js: &jetstream::Context, outgoing: &Outgoing) -> Result<PublishAck, NatsError> {
    store_from(js, outgoing, 0).await
}

/// As [`store`], for a message published once already whose acknowledgement failed: the server may hold it, so a
/// duplicate is its acknowledgement, not another writer's.
pub(crate) async fn store_again(js: &jetstream::Context, outgoing: &Outgoing) -> Result<PublishAck, NatsError> {
    store_from(js, outgoing, 1).await
}

async fn store_from(js: &jetstream::Context, outgoing: &Outgoing, first: u32) -> Result<PublishAck, NatsError> {
    let deadline = Instant::now() + RETRY_FOR;
    for attempt in first.. {
        let publish = async { js.send_publish(outgoing.subject.clone(), outgoing.message()).await?.await };
        let error = match publish.await {
            // A duplicate is expected only when an earlier attempt was stored but its acknowledgement lost: on the
            // first attempt, another writer stored this id.
            Ok(ack) if ack.duplicate && attempt == 0 => {
                return Err(NatsError::NotSoleWriter { subject: outgoing.subject.clone() })
            }
            Ok(ack) => return Ok(ack),
            Err(e) => e,
        };
        let retry = matches!(
            error.kind(),
            PublishErrorKind::TimedOut
                | PublishErrorKind::BrokenPipe
                | PublishErrorKind::StreamNotFound
                | PublishErrorKind::Other
        );
        if error.kind() == PublishErrorKind::WrongLastSequence {
            return Err(NatsError::NotSoleWriter { subject: outgoing.subject.clone() });
        }
        if !retry || Instant::now() >= deadline {
            return Err(NatsError::request(format!("publishing {} to {}", outgoing.id, outgoing.subject), error));
        }
        tracing::debug!(subject = %outgoing.subject, id = %outgoing.id, error = %error, "publish not acknowledged; retrying");
        tokio::time::sleep(RETRY_PAUSE).await;
    }
    unreachable!("the attempts end by returning")
}
