//! Lifecycle records: how a supervisor's run started and how it ended, with its counters.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::counters::CounterSnapshot;
use crate::event::{StageId, WriterId};

/// What happened to a run.
///
/// A run writes [`Started`](Lifecycle::Started), then exactly one terminal record: [`Completed`](Lifecycle::Completed),
/// [`Failed`](Lifecycle::Failed) or [`Cancelled`](Lifecycle::Cancelled). Non-exhaustive: kinds of record may be
/// added, so a match on it ends with a `_` arm.
///
/// ```
/// use stagewise_runtime::lifecycle::Lifecycle;
///
/// let failed = Lifecycle::Failed { error: "disk full".into(), escalation: None };
/// assert!(failed.is_terminal());
/// assert!(!Lifecycle::Started.is_terminal());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Lifecycle {
    /// The run began.
    Started,
    /// The run reached a terminal state and terminated.
    Completed,
    /// The run took its failure path and terminated, or escalated.
    Failed {
        /// The failure that drove the machine to its failed state.
        error: String,
        /// A second failure while handling the first; the loop stopped at once.
        escalation: Option<String>,
    },
    /// The run was stopped or aborted before it finished.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// A supervisor's decision to restart the stage the record names: written once per restart, after the run that
    /// ended and before the next one's Started.
    Restarting {
        /// Which restart of this stage this is, from 1.
        attempt: u32,
        /// How long the supervisor waits before starting the fresh instance.
        delay: Duration,
        /// What ended the previous run: its failure, or the sibling whose failure restarts it.
        cause: String,
    },
}

impl Lifecycle {
    /// True for the three records that end a run: Completed, Failed, Cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Lifecycle::Completed | Lifecycle::Failed { .. } | Lifecycle::Cancelled { .. })
    }

    /// The record's kind, as a word: `Started`, `Completed`, `Failed`, `Cancelled` or `Restarting`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Lifecycle::Started => "Started",
            Lifecycle::Completed => "Completed",
            Lifecycle::Failed { .. } => "Failed",
            Lifecycle::Cancelled { .. } => "Cancelled",
            Lifecycle::Restarting { .. } => "Restarting",
        }
    }
}

/// One lifecycle record of one supervisor.
///
/// Its `Display` is one line for people; the record itself is serde, for journals.
///
/// ```
/// use stagewise_runtime::event::{StageId, WriterId};
/// use stagewise_runtime::lifecycle::{Lifecycle, LifecycleRecord};
/// use stagewise_runtime::CounterSnapshot;
///
/// let record = LifecycleRecord {
///     supervisor: "parse".into(),
///     writer: WriterId::Stage(StageId(1)),
///     stage: Some(StageId(1)),
///     state: "Failed".into(),
///     lifecycle: Lifecycle::Failed { error: "bad input".into(), escalation: None },
///     counters: CounterSnapshot::default(),
/// };
/// assert_eq!(
///     record.to_string(),
///     "parse (stage-1) in Failed: failed: bad input [turns 0, transitions 0, failures 0]"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRecord {
    /// The supervisor's name.
    pub supervisor: Cow<'static, str>,
    /// Who wrote it.
    pub writer: WriterId,
    /// The stage, for handler-supervised stages.
    pub stage: Option<StageId>,
    /// The state the machine was in.
    pub state: Cow<'static, str>,
    /// What happened.
    pub lifecycle: Lifecycle,
    /// The counters at that moment.
    pub counters: CounterSnapshot,
}

impl fmt::Display for LifecycleRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) in {}: ", self.supervisor, self.writer, self.state)?;
        match &self.lifecycle {
            Lifecycle::Started => f.write_str("started")?,
            Lifecycle::Completed => f.write_str("completed")?,
            Lifecycle::Failed { error, escalation: None } => write!(f, "failed: {error}")?,
            Lifecycle::Failed { error, escalation: Some(second) } => {
                write!(f, "failed: {error}; escalated: {second}")?;
            }
            Lifecycle::Cancelled { reason } => write!(f, "cancelled: {reason}")?,
            Lifecycle::Restarting { attempt, delay, cause } => {
                write!(f, "restart {attempt} in {delay:?} after: {cause}")?;
            }
        }
        let c = &self.counters;
        write!(f, " [turns {}, transitions {}, failures {}]", c.loop_turns, c.transitions, c.failures)
    }
}
