//! The JetStream stream a journal or a link lives on: created when missing, checked when present, so a stream made
//! by someone else for another purpose is reported by name instead of being written into; started over for a new
//! run, and told apart from the stream of the same name it replaced (its creation time).

use std::time::{Duration, SystemTime};

use async_nats::jetstream::context::{CreateStreamErrorKind, GetStreamErrorKind};
use async_nats::jetstream::{self, stream, ErrorCode};

use super::error::NatsError;
use super::names;

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

    /// The stream of the link `link` of the pipeline `pipeline`, as [`NatsLog`](super::NatsLog) opens it: stream
    /// `{pipeline}-{link}`, subject `{pipeline}.{link}`, the names as written: two different links never share a
    /// stream.
    ///
    /// ```
    /// use stagewise_runtime::nats::StreamSpec;
    /// assert_eq!(StreamSpec::link("access_log", "stage-0")?.name, "access_log-stage-0");
    /// assert!(StreamSpec::link("access-log", "stage-0").is_err()); // write access_log
    /// # Ok::<(), stagewise_runtime::nats::NatsError>(())
    /// ```
    ///
    /// # Errors
    /// [`NatsError::Invalid`] when `pipeline` is not letters, digits and `_` (at most 238), or `link` not letters,
    /// digits, `-` and `_`, or the stream's name would be over the server's 255 characters.
    pub fn link(pipeline: &str, link: &str) -> Result<Self, NatsError> {
        let (name, subject) = names::link(pipeline, link)?;
        Ok(Self::new(name, [subject]))
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

    /// When the server created the stream (its clock), `None` while there is none: a stream deleted and created
    /// again (a [`reset`](Self::reset)) is a new stream with a later time, so comparing the times of two streams
    /// tells which was started over last.
    ///
    /// # Errors
    /// [`NatsError::Request`] when the server refuses or does not answer.
    pub async fn created(&self, js: &jetstream::Context) -> Result<Option<SystemTime>, NatsError> {
        match js.get_stream(&self.name).await {
            Ok(stream) => Ok(Some(SystemTime::from(stream.cached_info().created))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(NatsError::request(format!("stream {}", self.name), e)),
        }
    }

    /// Starts the stream over for a new run: deletes it, with its records and consumers, if it exists, and creates
    /// it empty. Meant for the stream's one writer, before it writes: a reader following it meanwhile finds it
    /// started over when it follows again and stops with [`NatsError::StartedOver`], instead of reading the new
    /// run's records as the rest of the old one.
    ///
    /// ```no_run
    /// # async fn run(js: &stagewise_runtime::nats::Context) -> Result<(), stagewise_runtime::nats::NatsError> {
    /// use stagewise_runtime::nats::StreamSpec;
    /// let spec = StreamSpec::link("access_log", "stage-0")?;
    /// let before = spec.created(js).await?;
    /// spec.reset(js).await?;
    /// assert!(spec.created(js).await? > before);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`NatsError::Mismatch`] when it exists with another configuration (it is not deleted: it may be someone
    /// else's); [`NatsError::Request`] when the server refuses or does not answer.
    pub async fn reset(&self, js: &jetstream::Context) -> Result<stream::Stream, NatsError> {
        match js.get_stream(&self.name).await {
            Ok(existing) => {
                self.check(&existing.cached_info().config)?;
                match js.delete_stream(&self.name).await {
                    Ok(_) => {}
                    Err(e) if is_not_found(&e) => {} // gone already
                    Err(e) => return Err(NatsError::request(format!("deleting stream {}", self.name), e)),
                }
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(NatsError::request(format!("stream {}", self.name), e)),
        }
        self.ensure(js).await
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

pub(crate) fn is_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), GetStreamErrorKind::JetStream(js) if js.error_code() == ErrorCode::STREAM_NOT_FOUND)
}

/// `Ok` while `stream` is the stream it was opened as; [`NatsError::StartedOver`] once it was deleted and created
/// again under its name (its records are another run's). Asked before each subscription, so a reader never
/// follows a new run's records on from where it was in the old one.
pub(crate) async fn unchanged(stream: &stream::Stream) -> Result<(), NatsError> {
    let opened = stream.cached_info();
    let now = stream.get_info().await.map_err(|e| NatsError::request(format!("stream {}", opened.config.name), e))?;
    match now.created == opened.created {
        true => Ok(()),
        false => Err(NatsError::StartedOver { stream: opened.config.name.clone() }),
    }
}

/// The server answered that the consumer is not there (deleting it, or asking for it).
pub(crate) fn is_consumer_not_found(e: &jetstream::stream::ConsumerError) -> bool {
    matches!(e.kind(), jetstream::stream::ConsumerErrorKind::JetStream(js) if js.error_code() == ErrorCode::CONSUMER_NOT_FOUND)
}
