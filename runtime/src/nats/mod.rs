//! Journals and durable links on NATS JetStream (feature `nats`), so a pipeline's stages can run in several
//! processes and on several machines, connected through a JetStream server instead of in-process channels.
//!
//! - [`connect`]: a JetStream context, or a clear error within a deadline when the server cannot be reached.
//! - [`NatsJournal`]: a [`Journal`](crate::journal::Journal) on one subject of a stream (one subject per writer):
//!   append publishes and awaits the server's acknowledgement, with a message id so a retried append is stored
//!   once, and the subject's last sequence as a precondition so a second writer is refused; reads come from a local copy that follows the subject's tail, so another process can follow it too.
//! - [`NatsLog`]: a [`LinkLog`](crate::pipeline::durable::LinkLog) on a stream of its own, so a durable link's
//!   producer and consumer can live in different processes. The durable link's guarantees carry over: each record
//!   stamps the producer's input position, a restarted stage resumes just past the stamp on its own last output.
//!   A consumer may read through a durable JetStream consumer that acknowledges what the stage committed
//!   ([`NatsLog::open_acknowledging`]), and a producer wait on its ack floor ([`NatsLog::bounded_by`]): bounded in
//!   flight across processes.
//! - [`Member`] and [`ProcessOrchestrator`]: lifecycle across processes. Each process joins as a member (its
//!   lifecycle records on its own subject of one stream, a heartbeat, requests it obeys, an exclusive claim on its
//!   name that fences it off once another process took the name over); an orchestrator in any
//!   process follows that stream and the heartbeats, records a process that disappeared, and applies the pipeline's
//!   restart and failure policies to the others by requests, and, given a [`Launch`]er, starts the processes it
//!   restarts that are gone (and, if asked, those not seen when it starts). [`new_run_marked`] tells when the
//!   current run began and whether it ended, so a process starting its part of a new run over takes only inputs of
//!   that run.
//! - The outage deadline ([`DEFAULT_OUTAGE`], 60 s; `outage(..)` on each of the above): how long a wait on the
//!   server goes on while it does not answer. A server restarted within it is ridden out (the client reconnects on
//!   its own, appends are published again with the same ids, readers follow again from their next sequence); one
//!   that stays away ends the wait with [`NatsError::Lost`], naming what was waiting.
//! - [`StreamSpec`]: the stream a journal or link needs; an existing stream with another configuration is an error
//!   that names it ([`NatsError::Mismatch`]), never silently reused.
//!
//! Records are encoded with postcard, as in the file journal (a link's records through
//! `pipeline/durable/record_bytes.rs`: the same bytes, written and read without serde's per-event layers).

mod acked;
mod claim;
mod error;
mod inflight;
mod journal;
mod launch;
mod log;
mod member;
mod names;
mod orchestrator;
mod outage;
mod publish;
mod reader;
mod roster;
mod run_mark;
mod stead;
mod stream;

use std::time::Duration;

use async_nats::jetstream;

pub use error::NatsError;
pub use journal::NatsJournal;
pub use launch::Launch;
pub use log::NatsLog;
pub use member::{lifecycle_stream, Member, Request, CLAIM_BEATS};
pub use orchestrator::ProcessOrchestrator;
pub use outage::DEFAULT_OUTAGE;
pub use run_mark::{new_run_marked, RunMark};
pub use stream::StreamSpec;

/// Connects to the NATS server at `url` (`nats://127.0.0.1:4222`, or a list separated by commas) and returns its
/// JetStream context. A server that refuses the connection (not listening yet, restarting) is asked again until
/// `deadline`. The client reconnects on its own after a connection is lost; appends then wait and retry,
/// readers follow again, for up to the outage deadline of the journal or link ([`DEFAULT_OUTAGE`] by default).
///
/// ```no_run
/// # async fn run() -> Result<(), stagewise_runtime::nats::NatsError> {
/// use std::time::Duration;
/// let js = stagewise_runtime::nats::connect("nats://127.0.0.1:4222", Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`NatsError::Unreachable`] when no server answered within `deadline`; at once when the URL cannot be used (a
/// malformed one, a name that does not resolve) or the server refused the credentials.
pub async fn connect(url: &str, deadline: Duration) -> Result<jetstream::Context, NatsError> {
    let unreachable = |why: String| NatsError::Unreachable { url: url.to_owned(), deadline, why };
    let until = tokio::time::Instant::now() + deadline;
    loop {
        let options = async_nats::ConnectOptions::new().connection_timeout(deadline).name("stagewise");
        let error = match tokio::time::timeout_at(until, options.connect(url)).await {
            Ok(Ok(client)) => return Ok(jetstream::new(client)),
            Ok(Err(e)) => e,
            Err(_) => return Err(unreachable("no answer".to_owned())),
        };
        // Refused (a process started a moment before its server, a server restarting): asked again until the
        // deadline. A URL, name or credentials that cannot work are reported at once.
        let again = matches!(error.kind(), async_nats::ConnectErrorKind::Io | async_nats::ConnectErrorKind::TimedOut);
        if !again || tokio::time::Instant::now() + CONNECT_PAUSE >= until {
            return Err(unreachable(error.to_string()));
        }
        tokio::time::sleep(CONNECT_PAUSE).await;
    }
}

/// Pause between two attempts of [`connect`] to reach a server that refused.
const CONNECT_PAUSE: Duration = Duration::from_millis(100);

/// Encodes a record as the journal and link messages carry it.
pub(crate) fn encode<R: serde::Serialize>(record: &R) -> Result<bytes::Bytes, crate::journal::JournalError> {
    postcard::to_stdvec(record).map(bytes::Bytes::from).map_err(|e| crate::journal::JournalError::Codec(e.to_string()))
}

/// Decodes a record from a message's payload.
pub(crate) fn decode<R: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<R, crate::journal::JournalError> {
    postcard::from_bytes(payload).map_err(|e| crate::journal::JournalError::Codec(e.to_string()))
}

/// The client types a caller needs beside these: the JetStream context [`connect`] returns, and messages to
/// publish with it.
pub use async_nats::jetstream::{message::PublishMessage, Context};

/// The client crate itself (`async-nats`), at the version these types come from: for what this module does not
/// wrap (consumers of your own, key-value stores), and for the benchmark's raw baseline.
pub use async_nats as client;
