//! The event model: who wrote an event (stage and writer ids), its ordered id, and whether processing succeeded.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Identifies one stage of a pipeline.
///
/// The number is a public field on purpose: an id is any `u32` the user picks (no invariant to guard), it is written
/// into journals as that number (so changing what it holds is a format change, not an API detail), and `StageId(3)` is
/// how every stage, test and pattern names one.
///
/// ```
/// use stagewise_runtime::event::{StageId, WriterId};
///
/// let id = StageId(3);
/// assert_eq!(id.to_string(), "stage-3");
/// assert_eq!(WriterId::from(id), WriterId::Stage(id)); // a stage writes under its own id
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StageId(pub u32);

impl fmt::Display for StageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stage-{}", self.0)
    }
}

/// Who wrote an event: a stage, or the system itself (an orchestrator, the runtime).
///
/// ```
/// use stagewise_runtime::event::{StageId, WriterId};
///
/// assert_eq!(WriterId::Stage(StageId(1)).to_string(), "stage-1");
/// assert_eq!(WriterId::System.to_string(), "system");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WriterId {
    /// Written by the stage with this id.
    Stage(StageId),
    /// Written by the runtime or an orchestrator that is not a stage.
    System,
}

impl From<StageId> for WriterId {
    fn from(stage: StageId) -> Self {
        WriterId::Stage(stage)
    }
}

impl fmt::Display for WriterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriterId::Stage(s) => write!(f, "{s}"),
            WriterId::System => f.write_str("system"),
        }
    }
}

/// Unique id of an event: its writer plus a sequence number that grows with every event that writer writes.
///
/// Ids of one writer are totally ordered; ids of different writers are only unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventId {
    /// Who wrote the event.
    pub writer: WriterId,
    /// Position in the writer's sequence, starting at 0.
    pub seq: u64,
}

/// Hands out the [`EventId`]s of one writer, in order.
///
/// ```
/// use stagewise_runtime::event::{EventIds, StageId, WriterId};
///
/// let mut ids = EventIds::new(StageId(2).into());
/// let first = ids.next_id();
/// let second = ids.next_id();
/// assert_eq!((first.writer, first.seq, second.seq), (WriterId::Stage(StageId(2)), 0, 1));
/// assert!(first < second); // ids of one writer are ordered
/// assert_eq!(ids.issued(), 2);
/// ```
#[derive(Debug)]
pub struct EventIds {
    writer: WriterId,
    next: u64,
}

impl EventIds {
    /// A sequence for `writer` starting at 0.
    pub fn new(writer: WriterId) -> Self {
        Self { writer, next: 0 }
    }

    /// A sequence for `writer` whose next id has sequence number `next`: for a stage resuming after the ids it wrote
    /// before.
    pub fn starting_at(writer: WriterId, next: u64) -> Self {
        Self { writer, next }
    }

    /// The next id of this writer.
    pub fn next_id(&mut self) -> EventId {
        let id = EventId { writer: self.writer, seq: self.next };
        self.next += 1;
        id
    }

    /// How many ids were handed out.
    pub fn issued(&self) -> u64 {
        self.next
    }
}

/// Where an event was written: the stage and its name, for logs and journals.
///
/// ```
/// use stagewise_runtime::event::{StageContext, StageId};
///
/// const PARSE: StageContext = StageContext::new(StageId(1), "parse"); // usable in constants
/// assert_eq!(PARSE.name, "parse");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageContext {
    /// The stage that wrote the event.
    pub stage: StageId,
    /// The stage's name; static in the steady state, so writing it allocates nothing (and reading it back from a
    /// journal or link allocates each distinct name once).
    #[serde(deserialize_with = "crate::names::deserialize")]
    pub name: Cow<'static, str>,
}

impl StageContext {
    /// Context for a stage with a static name.
    pub const fn new(stage: StageId, name: &'static str) -> Self {
        Self { stage, name: Cow::Borrowed(name) }
    }
}

/// What went wrong with an event, coarsely: enough to route and count errors without parsing messages. Non-exhaustive:
/// kinds may be added, so a match on it ends with a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be parsed (a malformed record).
    Parse,
    /// The input parsed but broke a rule of the domain.
    Validation,
    /// Reading or writing outside the process failed.
    Io,
    /// A deadline passed.
    Timeout,
    /// Code panicked while handling the event.
    Panic,
    /// The stage holding the event (its in-flight batch) failed or was stopped for a restart before finishing it;
    /// its supervisor recorded the event instead of redelivering it, so a poison batch cannot fail a stage forever.
    StageFailed,
    /// Anything else.
    Internal,
}

/// Whether an event was processed successfully.
///
/// Stages pass an event whose status is [`ProcessingStatus::Error`] through untouched (see
/// [`run_if_not_error`](crate::HandlerSupervised::run_if_not_error)), so a malformed record is recorded,
/// not lost, and the pipeline goes on.
///
/// ```
/// use stagewise_runtime::event::{ErrorKind, ProcessingStatus};
///
/// assert!(!ProcessingStatus::default().is_error()); // events start out successful
/// let failed = ProcessingStatus::Error { message: "no status code".into(), kind: ErrorKind::Parse };
/// assert!(failed.is_error());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProcessingStatus {
    /// Processed without error.
    #[default]
    Success,
    /// Processing failed; later stages pass the event on without processing it.
    Error {
        /// What went wrong, for people.
        message: String,
        /// What went wrong, for code.
        kind: ErrorKind,
    },
}

impl ProcessingStatus {
    /// True for [`ProcessingStatus::Error`].
    pub fn is_error(&self) -> bool {
        matches!(self, ProcessingStatus::Error { .. })
    }
}

/// One event flowing between stages.
///
/// The payload is typed (`P`), not a dynamic value: stage wiring is checked by the compiler and no stage pays
/// to encode or decode a dynamic value per event. Journals serialize `P` with serde where they need to.
///
/// ```
/// use stagewise_runtime::event::{ChainEvent, ErrorKind, EventIds, StageContext, StageId};
///
/// let id = StageId(0);
/// let mut ids = EventIds::new(id.into());
/// let line = ChainEvent::new(ids.next_id(), StageContext::new(id, "read"), "GET / 200".to_owned());
/// assert!(!line.is_error());
/// assert_eq!(line.writer(), id.into());
///
/// // A stage that cannot process an event marks it and passes it on; later stages leave it alone.
/// let bad = line.into_error(ErrorKind::Parse, "no byte count");
/// assert!(bad.is_error());
/// assert_eq!(bad.payload, "GET / 200"); // the input is kept for the error journal
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainEvent<P> {
    /// Unique id; carries the writer id.
    pub id: EventId,
    /// Where the event was written.
    pub context: StageContext,
    /// The data.
    pub payload: P,
    /// Whether processing has failed somewhere upstream.
    pub status: ProcessingStatus,
}

impl<P> ChainEvent<P> {
    /// A successful event.
    pub fn new(id: EventId, context: StageContext, payload: P) -> Self {
        Self { id, context, payload, status: ProcessingStatus::Success }
    }

    /// Who wrote this event.
    pub fn writer(&self) -> WriterId {
        self.id.writer
    }

    /// Marks the event as failed; later stages pass it on untouched.
    pub fn into_error(mut self, kind: ErrorKind, message: impl Into<String>) -> Self {
        self.status = ProcessingStatus::Error { message: message.into(), kind };
        self
    }

    /// True when the event's status is [`ProcessingStatus::Error`].
    pub fn is_error(&self) -> bool {
        self.status.is_error()
    }
}
