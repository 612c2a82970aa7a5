//! What can go wrong between a stage and the JetStream server, as one error type that journals and links wrap in
//! [`JournalError::Io`](crate::journal::JournalError::Io), so it stays reachable through `source()`.

use std::fmt;
use std::time::Duration;

use crate::journal::JournalError;

/// Why a JetStream journal or link could not connect, set up its stream, or store a record.
#[derive(Debug)]
#[non_exhaustive]
pub enum NatsError {
    /// No server answered at `url` within `deadline`.
    Unreachable {
        /// Where it tried.
        url: String,
        /// How long it tried.
        deadline: Duration,
        /// What the client said.
        why: String,
    },
    /// The server stopped answering while a journal, link, member or orchestrator was working, and did not answer
    /// again within its deadline (the `outage` setting; 60 s by default): a server stopped for good, or cut off.
    Lost {
        /// What it was doing (following a subject, publishing, waiting on a consumer's ack floor, ...).
        what: String,
        /// How long it waited.
        deadline: Duration,
        /// The connection's state and the last error.
        why: String,
    },
    /// The stream exists with another configuration than the one asked for; it is left as it is.
    Mismatch {
        /// The stream's name.
        stream: String,
        /// Which setting differs, as found and as wanted.
        difference: String,
    },
    /// The server refused or did not acknowledge a request in time (after retries, for appends).
    Request {
        /// What was asked (creating a stream, publishing to a subject, ...).
        what: String,
        /// What the client or the server said.
        why: String,
    },
    /// A name or setting given to it cannot be used (a process name that is not one subject token, a zero
    /// heartbeat interval); nothing was sent to the server.
    Invalid {
        /// The name or setting, as given.
        what: String,
        /// What it must be.
        why: String,
    },
    /// Another process holds the claim on this process's name (it runs under that name now), and still did after
    /// `wait`: this one was not started.
    Claimed {
        /// The pipeline.
        pipeline: String,
        /// The process name.
        process: String,
        /// How long it waited for the claim to expire.
        wait: Duration,
    },
    /// This process's claim on its name expired (it was paused, or cut off) and another process took it: this one
    /// stops writing, so the two never both write as that process.
    Fenced {
        /// The pipeline.
        pipeline: String,
        /// The process name.
        process: String,
    },
    /// The stream was deleted and created again (a new run, [`StreamSpec::reset`](super::StreamSpec::reset))
    /// while this reader followed it: what it holds now is not the rest of what was read.
    StartedOver {
        /// The stream's name.
        stream: String,
    },
    /// A second writer appended to a subject this journal or link writes alone.
    NotSoleWriter {
        /// The subject.
        subject: String,
    },
}

impl fmt::Display for NatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatsError::Unreachable { url, deadline, why } => {
                write!(f, "no NATS server reachable at {url} within {deadline:?}: {why}")
            }
            NatsError::Lost { what, deadline, why } => {
                write!(f, "the NATS server did not answer for {deadline:?} while {what}: {why}")
            }
            NatsError::Mismatch { stream, difference } => write!(
                f,
                "the JetStream stream {stream} exists with another configuration ({difference}); delete it or \
                 use another name"
            ),
            NatsError::Request { what, why } => write!(f, "JetStream request failed: {what}: {why}"),
            NatsError::Invalid { what, why } => write!(f, "{what}: {why}"),
            NatsError::Claimed { pipeline, process, wait } => write!(
                f,
                "another process runs as {process} of pipeline {pipeline}: its claim on that name was still renewed \
                 after {wait:?}; stop it, or give this one another name"
            ),
            NatsError::Fenced { pipeline, process } => write!(
                f,
                "this process lost its claim on the name {process} of pipeline {pipeline} to another process (it \
                 was paused or cut off for longer than the claim lives): it stops rather than run beside it"
            ),
            NatsError::StartedOver { stream } => write!(
                f,
                "the JetStream stream {stream} was started over (deleted and created again, a new run) while this \
                 process read it: its records now are not the rest of what it read"
            ),
            NatsError::NotSoleWriter { subject } => {
                write!(f, "another writer appended to {subject}, which one journal or link writes alone")
            }
        }
    }
}

impl std::error::Error for NatsError {}

impl NatsError {
    pub(crate) fn request(what: impl Into<String>, why: impl fmt::Display) -> Self {
        NatsError::Request { what: what.into(), why: why.to_string() }
    }

    pub(crate) fn invalid(what: impl Into<String>, why: impl fmt::Display) -> Self {
        NatsError::Invalid { what: what.into(), why: why.to_string() }
    }
}

impl From<NatsError> for JournalError {
    fn from(e: NatsError) -> Self {
        JournalError::Io(std::io::Error::other(e))
    }
}
