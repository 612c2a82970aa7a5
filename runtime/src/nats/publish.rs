//! Storing one message with its acknowledgement: published with a message id, so a retry after a lost
//! acknowledgement (a timeout, a server restart) is recognised by the server and stored once; retried until a
//! deadline ([`Outage`]) while the server does not answer.

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, message::PublishMessage, publish::PublishAck};
use bytes::Bytes;

use super::error::NatsError;
use super::outage::Outage;

/// Pause between two attempts.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// One message to store.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub(crate) subject: String,
    pub(crate) id: String,
    /// Where the stream or the subject must end for it to be stored: the writer is alone there.
    pub(crate) after: After,
    pub(crate) payload: Bytes,
}

/// The last sequence a message is stored after, or refused ([`NatsError::NotSoleWriter`]): another writer moved it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum After {
    /// The stream's last sequence (a link's writer is alone on its stream).
    Stream(u64),
    /// The last sequence of a message on its subject (a journal's writer is alone on its subject).
    Subject(u64),
}

impl Outgoing {
    pub(crate) fn message(&self) -> PublishMessage {
        let message = PublishMessage::build().payload(self.payload.clone()).message_id(&self.id);
        match self.after {
            After::Stream(sequence) => message.expected_last_sequence(sequence),
            After::Subject(sequence) => message.expected_last_subject_sequence(sequence),
        }
    }
}

/// Stores `outgoing`, retrying while the server does not acknowledge, for up to `outage`'s deadline.
///
/// # Errors
/// [`NatsError::NotSoleWriter`] when the stream moved on without this writer; [`NatsError::Request`] when the
/// server refused the message; [`NatsError::Lost`] when it did not acknowledge it within the deadline.
pub(crate) async fn store(
    js: &jetstream::Context,
    outgoing: &Outgoing,
    outage: &mut Outage,
) -> Result<PublishAck, NatsError> {
    store_from(js, outgoing, 0, outage).await
}

/// As [`store`], for a message published once already whose acknowledgement failed: the server may hold it, so a
/// duplicate is its acknowledgement, not another writer's.
pub(crate) async fn store_again(
    js: &jetstream::Context,
    outgoing: &Outgoing,
    outage: &mut Outage,
) -> Result<PublishAck, NatsError> {
    store_from(js, outgoing, 1, outage).await
}

async fn store_from(
    js: &jetstream::Context,
    outgoing: &Outgoing,
    first: u32,
    outage: &mut Outage,
) -> Result<PublishAck, NatsError> {
    for attempt in first.. {
        let publish = async { js.send_publish(outgoing.subject.clone(), outgoing.message()).await?.await };
        match tokio::time::timeout(outage.remaining(), publish).await {
            // A duplicate is expected only when an earlier attempt was stored but its acknowledgement lost: on the
            // first attempt, another writer stored this id.
            Ok(Ok(ack)) if ack.duplicate && attempt == 0 => {
                return Err(NatsError::NotSoleWriter { subject: outgoing.subject.clone() })
            }
            Ok(Ok(ack)) => {
                outage.answered();
                return Ok(ack);
            }
            Ok(Err(error)) if error.kind() == PublishErrorKind::WrongLastSequence => {
                return Err(NatsError::NotSoleWriter { subject: outgoing.subject.clone() })
            }
            Ok(Err(error)) => {
                let retry = matches!(
                    error.kind(),
                    PublishErrorKind::TimedOut
                        | PublishErrorKind::BrokenPipe
                        | PublishErrorKind::StreamNotFound
                        | PublishErrorKind::Other
                );
                if !retry {
                    let what = format!("publishing {} to {}", outgoing.id, outgoing.subject);
                    return Err(NatsError::request(what, error));
                }
                tracing::debug!(subject = %outgoing.subject, id = %outgoing.id, error = %error, "publish not acknowledged; retrying");
                outage.failed(error);
            }
            Err(_) => outage.failed("no acknowledgement"),
        }
        outage.check(|| format!("publishing {} to {}", outgoing.id, outgoing.subject))?;
        tokio::time::sleep(RETRY_PAUSE).await;
    }
    unreachable!("the attempts end by returning")
}
