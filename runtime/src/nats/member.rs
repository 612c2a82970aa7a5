//! One process's part in a pipeline split across processes: where its lifecycle records go (its own subject of the
//! pipeline's lifecycle stream), the heartbeat it publishes so an orchestrator elsewhere can tell it is still there,
//! and the requests (restart, stop) that orchestrator sends it.
//!
//! Subjects, for a pipeline `p` and a process `x`: lifecycle records `p.lifecycle.x` (stored, in the stream
//! `p_LIFECYCLE`), heartbeats `p.heartbeat.x` and requests `p.control.x` (plain NATS, not stored: only the latest
//! matters, and a heartbeat's absence is the point).

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::claim::Claim;
use super::error::NatsError;
use super::journal::NatsJournal;
use super::names::{self, check_pipeline, check_token, subject};
use super::stream::StreamSpec;
use crate::lifecycle::LifecycleRecord;

/// What an orchestrator in another process asks of this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Run the pipeline again: its last run failed (or this process was taken for gone) and the restart policy
    /// allows one more. Received while the pipeline runs, it is stale (meant for a run that has ended since, or for
    /// a process only paused): ignore it.
    Restart,
    /// Stop the running pipeline and run it again (or, between runs, run it again): another process's pipeline
    /// ended and the restart strategy ([`ProcessOrchestrator::strategy`](super::ProcessOrchestrator::strategy))
    /// restarts this one with it.
    RestartWithSibling,
    /// Stop the pipeline: another process failed and the failure policy fails the whole pipeline.
    Stop,
}

impl Request {
    fn payload(self) -> &'static [u8] {
        match self {
            Request::Restart => b"restart",
            Request::RestartWithSibling => b"restart-with-sibling",
            Request::Stop => b"stop",
        }
    }

    fn from_payload(payload: &[u8]) -> Option<Self> {
        match payload {
            b"restart" => Some(Request::Restart),
            b"restart-with-sibling" => Some(Request::RestartWithSibling),
            b"stop" => Some(Request::Stop),
            _ => None,
        }
    }
}

/// The lifecycle stream of the pipeline called `pipeline`: `{pipeline}_LIFECYCLE`, subjects `{pipeline}.lifecycle.>`
/// (one per process).
///
/// ```
/// use stagewise_runtime::nats::lifecycle_stream;
/// assert_eq!(lifecycle_stream("access_log")?.name, "access_log_LIFECYCLE");
/// # Ok::<(), stagewise_runtime::nats::NatsError>(())
/// ```
///
/// # Errors
/// [`NatsError::Invalid`] when `pipeline` is not letters, digits and `_`, at most 238 of them.
pub fn lifecycle_stream(pipeline: &str) -> Result<StreamSpec, NatsError> {
    Ok(StreamSpec::new(names::lifecycle_stream(pipeline)?, [subject(pipeline, "lifecycle", ">")]))
}

/// A heartbeat interval that can be kept: more than zero (a zero interval would panic the task keeping it).
pub(crate) fn check_interval(what: &str, every: Duration) -> Result<(), NatsError> {
    match every.is_zero() {
        true => Err(NatsError::invalid(format!("{what} {every:?}"), "more than zero")),
        false => Ok(()),
    }
}

/// How many heartbeats a claim on a process name lives without being renewed.
pub const CLAIM_BEATS: u32 = 10;

/// Sends `request` to `process` of `pipeline` (not stored: a process not connected at that moment misses it).
pub(crate) async fn send(client: &async_nats::Client, pipeline: &str, process: &str, request: Request) {
    let subject = subject(pipeline, "control", process);
    if let Err(e) = client.publish(subject, request.payload().into()).await {
        tracing::debug!(process, error = %e, "request not sent");
    }
}

/// This process's membership of a pipeline whose stages run in several processes: give its
/// [`lifecycle`](Member::lifecycle) journal to the pipeline builder, and obey its [`request`](Member::request)s.
/// While it lives it publishes a heartbeat; an [`ProcessOrchestrator`](super::ProcessOrchestrator) elsewhere takes a process
/// whose heartbeat stops for a stopped process.
///
/// A process's whole part: join, run the pipeline with the member's journal, stop it when asked (and run it again
/// when asked to restart with a sibling process), and after a failed run wait for the orchestrator's answer (the
/// `stages` function stands for your own stages on the builder):
///
/// ```no_run
/// use std::time::Duration;
/// use stagewise_runtime::nats::{connect, Member, Request};
/// use stagewise_runtime::pipeline::{Pipeline, PipelineBuilder};
/// use stagewise_runtime::{Control, Lifecycle};
///
/// # async fn run(stages: impl Fn(PipelineBuilder) -> Pipeline) -> Result<(), Box<dyn std::error::Error>> {
/// let js = connect("nats://127.0.0.1:4222", Duration::from_secs(5)).await?;
/// let mut member = Member::join(&js, "access_log", "parse", Duration::from_millis(200)).await?;
/// loop {
///     let mut handle = stages(Pipeline::builder("access_log").journal(member.lifecycle())).spawn();
///     let mut again = false;
///     let outcome = loop {
///         tokio::select! {
///             outcome = handle.outcome() => break outcome?,
///             Some(request) = member.request() => match request {
///                 Request::Stop => handle.send(Control::Stop).await?,
///                 Request::RestartWithSibling => {
///                     again = true;
///                     handle.send(Control::Stop).await?;
///                 }
///                 _ => {} // a Restart while running is stale
///             },
///         }
///     };
///     if *outcome.lifecycle() == Lifecycle::Completed {
///         return Ok(());
///     }
///     if again {
///         continue; // stopped to run again: durable stages resume from what they committed
///     }
///     // Failed or stopped: run again only if the orchestrator asks (it may take a while: give it a deadline).
///     if !matches!(member.request().await, Some(Request::Restart | Request::RestartWithSibling)) {
///         return Err(format!("{:?}", outcome.lifecycle()).into());
///     }
/// }
/// # }
/// ```
pub struct Member {
    lifecycle: Arc<NatsJournal<LifecycleRecord>>,
    claim: Arc<Claim>,
    requests: async_nats::Subscriber,
    heartbeat: JoinHandle<()>,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member").field("lifecycle", &self.lifecycle).finish_non_exhaustive()
    }
}

impl Member {
    /// Joins the pipeline `pipeline` as the process `process` (letters, digits, `-`, `_`; unique among the
    /// pipeline's processes): opens its lifecycle journal (the stream [`lifecycle_stream`], created if missing),
    /// listens for requests, and publishes a heartbeat every `heartbeat` until it is dropped.
    ///
    /// It first claims the name (bucket `{pipeline}_CLAIMS`, see the [module](super)): the claim lives
    /// [`CLAIM_BEATS`] heartbeats and is renewed at each. While another process holds it (the role started twice, or
    /// started again while the first is only paused) it waits for it to expire, for one time-to-live and two beats,
    /// then gives up, before writing anything. A member whose claim expired (it was paused or cut off) and was
    /// taken is fenced: its lifecycle appends, its pipeline's link appends and acknowledgements in this process fail
    /// with [`NatsError::Fenced`], it stops heartbeating, and [`request`](Self::request) returns `None`.
    ///
    /// # Errors
    /// [`NatsError::Invalid`] when `pipeline` is not letters, digits and `_` (at most 238), `process` not letters,
    /// digits, `-` and `_` (at most 255), or `heartbeat` is zero; [`NatsError::Claimed`] when another process kept its claim on `process`; another
    /// [`NatsError`] when the stream, the claims bucket or the subscription cannot be set up.
    pub async fn join(
        js: &jetstream::Context,
        pipeline: &str,
        process: &str,
        heartbeat: Duration,
    ) -> Result<Self, NatsError> {
        check_pipeline(pipeline)?;
        check_token("process", process)?;
        check_interval("heartbeat", heartbeat)?;
        let ttl = heartbeat * CLAIM_BEATS;
        let claim = Claim::take(js, pipeline, process, ttl, ttl + heartbeat * 2).await?;
        // Opened once the name is this process's: it counts what the previous holder wrote, all of it.
        let lifecycle =
            NatsJournal::open(js, &lifecycle_stream(pipeline)?, &subject(pipeline, "lifecycle", process)).await?;
        lifecycle.fence_with(claim.clone());
        let client = js.client();
        let requests = client
            .subscribe(subject(pipeline, "control", process))
            .await
            .map_err(|e| NatsError::request(format!("requests to {process}"), e))?;
        let beat = subject(pipeline, "heartbeat", process);
        let renewed = claim.clone();
        let heartbeat = tokio::spawn(async move {
            let interval = heartbeat;
            let mut every = tokio::time::interval(interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // Renewed first, so a process resumed after a pause learns whether it was replaced before it beats;
                // a slow renewal does not hold the beat back past its interval.
                match tokio::time::timeout(interval, renewed.renew()).await {
                    Ok(Ok(())) => {}
                    // Another process runs under this name now: it heartbeats, this one no longer does.
                    Ok(Err(fenced @ NatsError::Fenced { .. })) => return tracing::error!(error = %fenced, "fenced"),
                    // The claim lapses on its own if this goes on; a beat can still tell the orchestrator it lives.
                    Ok(Err(e)) => tracing::debug!(error = %e, "claim not renewed"),
                    Err(_) => tracing::debug!("claim not renewed within a heartbeat"),
                }
                // While the connection is down the client buffers or refuses it: the next one goes through.
                if let Err(e) = client.publish(beat.clone(), bytes::Bytes::new()).await {
                    tracing::debug!(subject = %beat, error = %e, "heartbeat not sent");
                }
            }
        });
        Ok(Self { lifecycle: Arc::new(lifecycle), claim, requests, heartbeat })
    }

    /// How long its lifecycle appends go on while the server does not answer before they fail with
    /// [`NatsError::Lost`] (default [`DEFAULT_OUTAGE`](super::DEFAULT_OUTAGE), 60 s). A pipeline whose lifecycle
    /// journal refuses a record ends escalated, the refused record in its outcome: the record is not lost to the
    /// process, which can still print or log it.
    #[must_use]
    pub fn outage(self, deadline: Duration) -> Self {
        self.lifecycle.set_outage(deadline);
        self
    }

    /// The journal this process's lifecycle records go to: give it to the pipeline builder
    /// ([`PipelineBuilder::journal`](crate::pipeline::PipelineBuilder::journal)).
    pub fn lifecycle(&self) -> Arc<NatsJournal<LifecycleRecord>> {
        self.lifecycle.clone()
    }

    /// The next request from the orchestrator, waiting for it; `None` once the connection is closed for good or
    /// this member is fenced (another process took its name).
    pub async fn request(&mut self) -> Option<Request> {
        let mut fenced = tokio::time::interval(FENCE_LOOK);
        loop {
            tokio::select! {
                message = self.requests.next() => match Request::from_payload(&message?.payload) {
                    Some(request) => return Some(request),
                    None => continue,
                },
                _ = fenced.tick() => if self.claim.is_fenced() {
                    return None;
                },
            }
        }
    }

    /// Once another process took this member's name (its claim expired while it was paused or cut off): the
    /// [`NatsError::Fenced`] its writes fail with. It should end.
    pub fn fenced(&self) -> Option<NatsError> {
        self.claim.is_fenced().then(|| self.claim.fenced())
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.heartbeat.abort();
        // The name is free at once for the next process, instead of when the claim expires.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let claim = self.claim.clone();
            runtime.spawn(async move { claim.release().await });
        }
    }
}

/// How often [`Member::request`] looks whether the member was fenced.
const FENCE_LOOK: Duration = Duration::from_millis(50);
