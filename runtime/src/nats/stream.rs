//! The JetStream stream a journal or a link lives on: created when missing, checked when present, so a stream made
//! by someone else for another purpose is reported by name instead of being written into.

use std::time::Duration;

use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
use async_nats::jetstream::{self, stream, ErrorCode};

use super::error::NatsError;

/// The stream a [`NatsJournal`](super::NatsJournal) or [`NatsLog`](super::NatsLog) uses: file storage, limits
/// retention (records stay until deleted), one replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSpec {
    /// The stream's name (letters, digits, `-`, `_`).
    pub name: String,
    /// The subjects it stores (`lifecycle.>`, `access_log.stage-0`).
    pub subjects: Vec<String>,
    /// How long the server remembers message ids to drop a retried publish (JetStream's default is 2 minutes).
    pub duplicate_window: Duration,
}

impl StreamSpec {
    /// A stream called `name` storing `subjects`, with a 2-minute duplicate window.
    pub fn new(name: impl Into<String>, subjects: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            name: name.into(),
            subjects: subjects.into_iter().map(Into::into).collect(),
            duplicate_window: Duration::from_secs(120),
        }
    }

    fn config(&self) -> stream::Config {
        stream::Config {
            name: self.name.clone(),
            subjects: self.subjects.clone(),
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: self.duplicate_window,
            num_replicas: 1,
            ..Default::default()
        }
    }

    /// The stream, created if missing.
    ///
    /// # Errors
    /// [`NatsError::Mismatch`] when it exists with other subjects, storage or retention; [`NatsError::Request`] when
    /// the server refuses or does not answer.
    pub async fn ensure(&self, js: &jetstream::Context) -> Result<stream::Stream, NatsError> {
        // Processes starting together race to create the same stream: whoever loses finds it on the next look.
        let mut last = String::new();
        for _ in 0..CREATE_ATTEMPTS {
            match js.get_stream(&self.name).await {
                Ok(mut existing) => {
                    let info =
                        existing.info().await.map_err(|e| NatsError::request(format!("stream {}", self.name), e))?;
                    self.check(&info.config)?;
                    return Ok(existing);
                }
                Err(e) if is_not_found(&e) => match js.create_stream(self.config()).await {
                    Ok(created) => return Ok(created),
                    Err(e) if is_name_taken(&e) => last = e.to_string(),
                    Err(e) if matches!(e.kind(), CreateStreamErrorKind::TimedOut) => last = e.to_string(),
                    Err(e) => return Err(NatsError::request(format!("creating stream {}", self.name), e)),
                },
                // A loaded server may answer late (the request timed out): ask again.
                Err(e) if matches!(e.kind(), GetStreamErrorKind::Request) => last = e.to_string(),
                Err(e) => return Err(NatsError::request(format!("stream {}", self.name), e)),
            }
        }
        Err(NatsError::request(format!("stream {} after {CREATE_ATTEMPTS} attempts", self.name), last))
    }

    /// The differences that matter between `found` and this spec.
    fn check(&self, found: &stream::Config) -> Result<(), NatsError> {
        let wanted = self.config();
        let mut differences = Vec::new();
        if found.subjects != wanted.subjects {
            differences.push(format!("subjects {:?}, wanted {:?}", found.subjects, wanted.subjects));
        }
        if found.storage != wanted.storage {
            differences.push(format!("storage {:?}, wanted {:?}", found.storage, wanted.storage));
        }
        if found.retention != wanted.retention {
            differences.push(format!("retention {:?}, wanted {:?}", found.retention, wanted.retention));
        }
        if found.max_messages_per_subject > 0 || found.max_messages > 0 || found.max_age > Duration::ZERO {
            differences.push("limits that delete records, wanted none".to_owned());
        }
        match differences.is_empty() {
            true => Ok(()),
            false => Err(NatsError::Mismatch { stream: self.name.clone(), difference: differences.join("; ") }),
        }
    }
}

/// How often [`StreamSpec::ensure`] asks, when it lost a race to create the stream or the server answered late.
const CREATE_ATTEMPTS: usize = 5;

/// Another process created the stream first. A create racing another's may also be answered that its subjects
/// overlap an existing stream (that same one): the next look finds it, or the overlap is real and is reported.
fn is_name_taken(e: &jetstream::context::CreateStreamError) -> bool {
    matches!(e.kind(), CreateStreamErrorKind::JetStream(js)
        if js.error_code() == ErrorCode::STREAM_NAME_EXIST || js.error_code() == ErrorCode::STREAM_SUBJECT_OVERLAP)
}

fn is_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), GetStreamErrorKind::JetStream(js) if js.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

/// The server answered that the consumer is not there (deleting it, or asking for it).
pub(crate) fn is_consumer_not_found(e: &jetstream::stream::ConsumerError) -> bool {
    matches!(e.kind(), jetstream::stream::ConsumerErrorKind::JetStream(js) if js.error_code() == ErrorCode::CONSUMER_NOT_FOUND)
}
