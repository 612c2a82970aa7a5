//! When the current run of a pipeline across processes began: the server's time of its orchestrator's last new-run
//! mark. A process that starts its own part of a new run over tells by it its input's new run from an earlier run
//! left on the server, whatever order the processes start in.

use std::time::SystemTime;

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::{self, stream::LastRawMessageErrorKind};
use futures_util::StreamExt;

use super::error::NatsError;
use super::member::lifecycle_stream;
use super::names::subject;
use super::orchestrator::NEW_RUN;
use super::stream::is_not_found;
use crate::lifecycle::LifecycleRecord;

/// When the orchestrator called `orchestrator` of `pipeline` last marked a new run
/// ([`ProcessOrchestrator::new_run`](super::ProcessOrchestrator::new_run)), by the server's clock, the clock of a
/// stream's creation time ([`StreamSpec::created`](super::StreamSpec::created)): a stream created after it is the
/// new run's. `None` when it never marked one (or the pipeline has no lifecycle stream yet).
///
/// ```no_run
/// # async fn run(js: &stagewise_runtime::nats::Context) -> Result<(), stagewise_runtime::nats::NatsError> {
/// use stagewise_runtime::nats::{new_run_marked, StreamSpec};
/// let lines = StreamSpec::link("access_log", "stage-0")?;
/// let marked = new_run_marked(js, "access_log", "orchestrator").await?;
/// let of_this_run = match (marked, lines.created(js).await?) {
///     (Some(marked), Some(created)) => created > marked,
///     (None, created) => created.is_some(),
///     (Some(_), None) => false,
/// };
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`NatsError::Invalid`] for a pipeline name that cannot be one; [`NatsError::Request`] when the server refuses or
/// does not answer.
pub async fn new_run_marked(
    js: &jetstream::Context,
    pipeline: &str,
    orchestrator: &str,
) -> Result<Option<SystemTime>, NatsError> {
    let spec = lifecycle_stream(pipeline)?;
    let what = || format!("the new-run marks of {orchestrator} in stream {}", spec.name);
    let stream = match js.get_stream(&spec.name).await {
        Ok(stream) => stream,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(NatsError::request(what(), e)),
    };
    let own = subject(pipeline, "lifecycle", orchestrator);
    // Its last record: reading stops there, so an orchestrator that has written nothing more is not waited for.
    let last = match stream.get_last_raw_message_by_subject(&own).await {
        Ok(message) => message.sequence,
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(None),
        Err(e) => return Err(NatsError::request(what(), e)),
    };
    let config = pull::OrderedConfig { filter_subject: own, deliver_policy: DeliverPolicy::All, ..Default::default() };
    let consumer = stream.create_consumer(config).await.map_err(|e| NatsError::request(what(), e))?;
    let mut records = consumer.messages().await.map_err(|e| NatsError::request(what(), e))?;
    let mut marked = None;
    while let Some(message) = records.next().await {
        let message = message.map_err(|e| NatsError::request(what(), e))?;
        let info = message.info().map_err(|e| NatsError::request(what(), e))?;
        let (sequence, published) = (info.stream_sequence, SystemTime::from(info.published));
        match super::decode::<LifecycleRecord>(&message.payload) {
            Ok(record) if record.state == NEW_RUN => marked = Some(published),
            Ok(_) => {}
            Err(e) => tracing::warn!(subject = %message.subject, error = %e, "not a lifecycle record"),
        }
        if sequence >= last {
            break;
        }
    }
    Ok(marked)
}
