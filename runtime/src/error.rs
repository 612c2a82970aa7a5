//! Errors of the run loop: the boxed error stages return, and the escalation that ends a run at once.

use std::fmt;

use crate::lifecycle::LifecycleRecord;

/// The error type stages, actions and dispatch return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure while handling a failure: the loop stopped at once and wrote one Failed record holding both errors.
#[derive(Debug, Clone)]
pub struct Escalation {
    /// The failure the loop was handling.
    pub first: String,
    /// The failure that happened while handling it.
    pub second: String,
    /// The Failed record that was written.
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
