//! Errors of the run loop: the boxed error stages return, and the escalation that ends a run at once.

use std::fmt;

use crate::lifecycle::LifecycleRecord;

/// The error type stages, actions and dispatch return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A run that could not end cleanly: a failure while handling a failure (the loop stopped at once and wrote one Failed
/// record holding both errors), or a terminal record the lifecycle journal refused (the run ended as `record` says, but
/// its journal does not hold that record; `second` carries the journal's error).
#[derive(Debug, Clone)]
pub struct Escalation {
    /// The failure the loop was handling (for a refused record: how the run ended).
    pub first: String,
    /// The failure that happened while handling it, or the lifecycle journal's refusal.
    pub second: String,
    /// The terminal record the run wrote (or tried to write, when the journal refused it).
    pub record: LifecycleRecord,
}

impl fmt::Display for Escalation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} escalated: {}; while handling: {}", self.record.supervisor, self.second, self.first)
    }
}

impl std::error::Error for Escalation {}

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
