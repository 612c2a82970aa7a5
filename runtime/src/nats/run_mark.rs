//! When the current run of a pipeline across processes began: the server's time of its orchestrator's last new-run
//! mark, and whether that run already ended. A process that starts its own part of a new run over tells by it its
//! input's new run from an earlier run left on the server, whatever order the processes start in.

use std::time::SystemTime;

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::{self, stream::LastRawMessageErrorKind};
use futures_util::StreamExt;

use super::error::NatsError;
use super::member::lifecycle_stream;
use super::names::{subject, supervisor};
use super::orchestrator::NEW_RUN;
use super::stream::is_not_found;
use crate::lifecycle::LifecycleRecord;

/// What the lifecycle stream tells of an orchestrator's runs ([`new_run_marked`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunMark {
    /// When it last marked a new run ([`ProcessOrchestrator::new_run`](super::ProcessOrchestrator::new_run)), by the
    /// server's clock, the clock of a stream's creation time ([`StreamSpec::created`](super::StreamSpec::created)):
    /// a stream created after it is that run's. `None` when it never marked one.
    pub marked: Option<SystemTime>,
    /// Its last record is the outcome of its run (Completed, Failed, Cancelled): that run ended, and the next one,
    /// if any, is not marked yet. A process of a new run that starts before its orchestrator stored its mark (started
    /// at the same moment, or waiting for the claim of an earlier one) sees the ended run's mark: it waits for this
    /// to turn false instead of taking that run for its own.
    pub ended: bool,
}

/// What the orchestrator called `orchestrator` of `pipeline` recorded of its runs: when it last marked a new run,
/// and whether its last run ended. Both empty (`None`, `false`) when it recorded nothing (or the pipeline has no
/// lifecycle stream yet). It reads the orchestrator's records up to its last one, so its cost grows with them.
///
/// ```no_run
/// # async fn run(js: &stagewise_runtime::nats::Context) -> Result<(), stagewise_runtime::nats::NatsError> {
/// use stagewise_runtime::nats::{new_run_marked, StreamSpec};
/// let lines = StreamSpec::link("access_log", "stage-0")?;
/// let mark = new_run_marked(js, "access_log", "orchestrator").await?;
/// // While `mark.ended`, the next run is not marked yet: ask again later.
/// let of_this_run = !mark.ended
///     && match (mark.marked, lines.created(js).await?) {
///         (Some(marked), Some(created)) => created > marked,
///         (None, created) => created.is_some(),
///         (Some(_), None) => false,
///     };
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`NatsError::Invalid`] for a pipeline name that cannot be one; [`NatsError::Request`] when the server refuses or
/// does not answer.
pub async fn new_run_marked(js: &jetstream::Context, pipeline: &str, orchestrator: &str) -> Result<RunMark, NatsError> {
    let spec = lifecycle_stream(pipeline)?;
    let what = || format!("the new-run marks of {orchestrator} in stream {}", spec.name);
    let stream = match js.get_stream(&spec.name).await {
        Ok(stream) => stream,
        Err(e) if is_not_found(&e) => return Ok(RunMark::default()),
        Err(e) => return Err(NatsError::request(what(), e)),
    };
    let own = subject(pipeline, "lifecycle", orchestrator);
    // Its last record: reading stops there, so an orchestrator that has written nothing more is not waited for.
    let last = match stream.get_last_raw_message_by_subject(&own).await {
        Ok(message) => message.sequence,
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(RunMark::default()),
        Err(e) => return Err(NatsError::request(what(), e)),
    };
    let config = pull::OrderedConfig { filter_subject: own, deliver_policy: DeliverPolicy::All, ..Default::default() };
    let consumer = stream.create_consumer(config).await.map_err(|e| NatsError::request(what(), e))?;
    let mut records = consumer.messages().await.map_err(|e| NatsError::request(what(), e))?;
    let itself = supervisor(pipeline, orchestrator);
    let mut mark = RunMark::default();
    while let Some(message) = records.next().await {
        let message = message.map_err(|e| NatsError::request(what(), e))?;
        let info = message.info().map_err(|e| NatsError::request(what(), e))?;
        let (sequence, published) = (info.stream_sequence, SystemTime::from(info.published));
        match super::decode::<LifecycleRecord>(&message.payload) {
            Ok(record) if record.state == NEW_RUN => mark = RunMark { marked: Some(published), ended: false },
            // Its own records are its Started (a new run's, or its own restart's) and its run's outcome; the others
            // are about its processes, in their stead.
            Ok(record) if record.supervisor == itself => mark.ended = record.lifecycle.is_terminal(),
            Ok(_) => {}
            Err(e) => tracing::warn!(subject = %message.subject, error = %e, "not a lifecycle record"),
        }
        if sequence >= last {
            break;
        }
    }
    Ok(mark)
}
