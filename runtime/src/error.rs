//! Errors of the run loop: the boxed error stages return, and the escalation that ends a run at once.

use std::fmt;

use crate::lifecycle::LifecycleRecord;

/// The error type stages, actions and dispatch return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A run that could not end cleanly: a failure while handling a failure (the loop stopped at once and wrote one Failed
/// record holding both errors), or a terminal record the lifecycle journal refused (the run ended as
/// [`record`](Self::record) says, but its journal does not hold that record).
///
/// Shown as the supervisor and what it was handling; [`source`](std::error::Error::source) is the failure that
/// escalated, a [`RunFailure`]. Fields are private so what an escalation carries can grow; read it through the
/// accessors.
#[derive(Debug, Clone)]
pub struct Escalation {
    first: String,
    second: RunFailure,
    record: LifecycleRecord,
}

impl Escalation {
    /// An escalation of the run that wrote (or tried to write) `record`: `second` happened while handling `first`.
    pub(crate) fn new(first: String, second: String, record: LifecycleRecord) -> Self {
        Self { first, second: RunFailure(second), record }
    }

    /// The failure the loop was handling (for a refused record: how the run ended).
    pub fn first(&self) -> &str {
        &self.first
    }

    /// The failure that happened while handling it, or the lifecycle journal's refusal: the escalation's
    /// [`source`](std::error::Error::source), as text.
    pub fn second(&self) -> &str {
        &self.second.0
    }

    /// The terminal record the run wrote (or tried to write, when the journal refused it).
    pub fn record(&self) -> &LifecycleRecord {
        &self.record
    }

    /// The terminal record, taken out.
    pub fn into_record(self) -> LifecycleRecord {
        self.record
    }
}

impl fmt::Display for Escalation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} escalated while handling: {}", self.record.supervisor, self.first)
    }
}

impl std::error::Error for Escalation {
    /// The failure that escalated the run.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.second)
    }
}

/// A failure the run loop caught, as the message it was turned into (errors, panics and refusals reach the loop in
/// many types; the loop keeps their text). The cause of an [`Escalation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFailure(String);

impl RunFailure {
    /// The failure's message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunFailure {}

/// Turns a panic payload into a message.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
