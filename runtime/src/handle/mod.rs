//! Handles: spawn a supervisor on tokio and control, watch and await it from outside. A single stage spawned with a
//! restart policy is [`spawn_restartable`](crate::spawn_restartable) (it needs a factory, so it lives with the
//! restartable pipeline stages).

mod shared;

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::control::{self, Control, ControlSender, ControlTrySendError};
use crate::counters::{CounterSnapshot, Counters};
use crate::error::{panic_message, Escalation};
use crate::journal::{Journal, MemoryJournal};
use crate::lifecycle::LifecycleRecord;
use crate::machine::StateVariant;
use crate::run_loop::{run_handler_supervised, run_self_supervised, RunResult, StateSnapshot, Supervision};

use crate::supervisor::{HandlerSupervised, SelfSupervised};
use shared::StageShared;

/// How to spawn a supervisor: built from its default with one method per setting, so settings can be added.
///
/// ```
/// use std::sync::Arc;
/// use stagewise_runtime::{LifecycleRecord, MemoryJournal, SpawnOptions};
///
/// let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
/// let options = SpawnOptions::default().control_capacity(4).journal(journal.clone());
/// assert!(format!("{options:?}").contains("control_capacity: 4"));
/// ```
#[derive(Clone)]
pub struct SpawnOptions {
    pub(crate) control_capacity: usize,
    /// `None`: a [`MemoryJournal`] of the supervisor's own, made when it is spawned (not with the options, which are
    /// mostly given a journal).
    journal: Option<Arc<dyn Journal<LifecycleRecord>>>,
}

impl SpawnOptions {
    /// How many control messages may wait unread (at least 1; 16 by default).
    #[must_use]
    pub fn control_capacity(mut self, messages: usize) -> Self {
        self.control_capacity = messages.max(1);
        self
    }

    /// Where lifecycle records go (by default a [`MemoryJournal`] of the supervisor's own).
    #[must_use]
    pub fn journal(mut self, journal: Arc<dyn Journal<LifecycleRecord>>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The journal lifecycle records go to: the one given, or a new [`MemoryJournal`].
    pub(crate) fn lifecycle_journal(&self) -> Arc<dyn Journal<LifecycleRecord>> {
        match &self.journal {
            Some(journal) => journal.clone(),
            None => Arc::new(MemoryJournal::new()),
        }
    }
}

impl std::fmt::Debug for SpawnOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnOptions").field("control_capacity", &self.control_capacity).finish_non_exhaustive()
    }
}

impl Default for SpawnOptions {
    fn default() -> Self {
        Self { control_capacity: 16, journal: None }
    }
}

/// Why a handle could not do what was asked. Non-exhaustive: kinds may be added, so a match on it ends with a `_` arm.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HandleError {
    /// The supervisor's run has ended; it reads no more control messages.
    Ended {
        /// The supervisor.
        supervisor: &'static str,
    },
    /// The control channel holds as many unread messages as it can (from `try_send`): the supervisor has yet to read
    /// them. The run goes on; try again later, or wait for room with `send`.
    Full {
        /// The supervisor.
        supervisor: &'static str,
        /// The message that was not sent.
        control: Control,
    },
    /// The run escalated: a failure while handling a failure, or a terminal record its journal refused. Shown as the
    /// escalation itself; [`source`](std::error::Error::source) is the escalation's cause.
    Escalated(Box<Escalation>),
    /// The task died outside the loop's protection (it should not; the loop catches panics).
    TaskPanicked(String),
}

impl std::fmt::Display for HandleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandleError::Ended { supervisor } => write!(f, "supervisor {supervisor} has ended"),
            HandleError::Full { supervisor, control } => {
                write!(f, "the control channel of supervisor {supervisor} is full: {control:?} was not sent")
            }
            HandleError::Escalated(e) => write!(f, "{e}"),
            HandleError::TaskPanicked(m) => write!(f, "supervisor task panicked: {m}"),
        }
    }
}

impl std::error::Error for HandleError {
    /// The escalation's cause (the failure that escalated) for [`HandleError::Escalated`], which shows as the
    /// escalation; `None` otherwise.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandleError::Escalated(e) => std::error::Error::source(&**e),
            _ => None,
        }
    }
}

/// A running (or ended) supervisor, seen from outside: send it control messages, read its state and counters, abort
/// it, and await how it ended.
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::handle::{spawn_handler_supervised, HandleError, SpawnOptions};
/// use stagewise_runtime::lifecycle::Lifecycle;
/// use stagewise_runtime::Control;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), HandleError> {
/// // A countdown that would run for a long time, stopped from outside.
/// let mut handle = spawn_handler_supervised(Countdown::new(u32::MAX), CountdownState::Counting, 0, SpawnOptions::default());
/// assert_eq!(handle.state().name, "Counting");
/// handle.send(Control::Stop).await?;
/// let record = handle.outcome().await?;
/// assert!(matches!(record.lifecycle, Lifecycle::Cancelled { .. }));
/// assert_eq!(handle.state().name, "Stopped");
/// // Once it has ended, control messages are refused with a reason.
/// assert!(matches!(handle.send(Control::Stop).await, Err(HandleError::Ended { .. })));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct StageHandle {
    supervisor: &'static str,
    control: ControlSender,
    /// The state, and the terminal record kept for an abort: shared with the run in one allocation.
    shared: Arc<StageShared>,
    counters: Arc<Counters>,
    task: Option<JoinHandle<RunResult>>,
    /// Boxed: it is read once a run has ended, and kept inline it would triple the size of every live handle.
    outcome: Option<Box<Result<LifecycleRecord, HandleError>>>,
}

/// Spawns a handler-supervised stage on the current tokio runtime, in `initial` with context `ctx`. It runs once; to
/// have it restarted when it ends, spawn it with [`spawn_restartable`](crate::spawn_restartable) and a factory instead.
///
/// ```
/// use std::sync::Arc;
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::handle::{spawn_handler_supervised, SpawnOptions};
/// use stagewise_runtime::journal::{Journal, MemoryJournal};
/// use stagewise_runtime::lifecycle::LifecycleRecord;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let records = Arc::new(MemoryJournal::<LifecycleRecord>::new());
/// let options = SpawnOptions::default().journal(records.clone()).control_capacity(4);
/// let mut handle = spawn_handler_supervised(Countdown::new(3), CountdownState::Counting, 0, options);
/// handle.outcome().await.unwrap();
/// assert_eq!(records.len(), 2); // its Started and Completed records went to the journal we gave
/// # }
/// ```
///
/// # Panics
/// Outside a tokio runtime, as [`tokio::spawn`] does.
pub fn spawn_handler_supervised<S: HandlerSupervised>(
    stage: S,
    initial: S::State,
    ctx: S::Context,
    options: SpawnOptions,
) -> StageHandle {
    let supervisor = stage.name();
    let first = StateSnapshot { name: initial.name(), ending: initial.ending() };
    StageHandle::spawn(supervisor, first, options, |supervision| {
        run_handler_supervised(stage, initial, ctx, supervision)
    })
}

/// Spawns a self-supervised orchestrator on the current tokio runtime (an example is on
/// [`SelfSupervised`]).
///
/// # Panics
/// Outside a tokio runtime, as [`tokio::spawn`] does.
pub fn spawn_self_supervised<S: SelfSupervised>(
    orchestrator: S,
    initial: S::State,
    ctx: S::Context,
    options: SpawnOptions,
) -> StageHandle {
    let supervisor = orchestrator.name();
    let first = StateSnapshot { name: initial.name(), ending: initial.ending() };
    StageHandle::spawn(supervisor, first, options, |supervision| {
        run_self_supervised(orchestrator, initial, ctx, supervision)
    })
}

impl StageHandle {
    fn spawn<F>(
        supervisor: &'static str,
        first: StateSnapshot,
        options: SpawnOptions,
        run: impl FnOnce(Supervision) -> F,
    ) -> Self
    where
        F: std::future::Future<Output = RunResult> + Send + 'static,
    {
        let (control_tx, control_rx) = control::channel(options.control_capacity);
        let counters = Arc::new(Counters::default());
        let shared = Arc::new(StageShared::new(options.lifecycle_journal(), first));
        let supervision = Supervision::connected(shared.clone(), counters.clone())
            .with_control(control_rx)
            .with_state_cell(shared.clone());
        let task = tokio::spawn(run(supervision));
        Self { supervisor, control: control_tx, shared, counters, task: Some(task), outcome: None }
    }

    /// The supervisor's name.
    pub fn supervisor(&self) -> &'static str {
        self.supervisor
    }

    /// Sends a control message, waiting while the control channel is full.
    ///
    /// # Errors
    /// [`HandleError::Ended`] once the run has ended.
    pub async fn send(&self, control: Control) -> Result<(), HandleError> {
        self.control.send(control).await.map_err(|_| HandleError::Ended { supervisor: self.supervisor })
    }

    /// Sends a control message if there is room now.
    ///
    /// # Errors
    /// [`HandleError::Full`] when the control channel holds as many unread messages as it can (the run goes on);
    /// [`HandleError::Ended`] once the run has ended.
    pub fn try_send(&self, control: Control) -> Result<(), HandleError> {
        self.control.try_send(control).map_err(|e| match e {
            ControlTrySendError::Full(control) => HandleError::Full { supervisor: self.supervisor, control },
            ControlTrySendError::Closed(_) => HandleError::Ended { supervisor: self.supervisor },
        })
    }

    /// The state the supervisor is in now.
    pub fn state(&self) -> StateSnapshot {
        self.shared.snapshot()
    }

    /// A receiver that sees every change of state. The first call makes the watch: a stage nobody watches keeps none.
    /// Once the run has ended, the receiver holds the last state and its `changed` returns an error.
    pub fn subscribe(&self) -> watch::Receiver<StateSnapshot> {
        self.shared.subscribe()
    }

    /// The counters now.
    pub fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }

    /// The live counters themselves, for readers that outlive the handle (a pipeline's metrics).
    pub(crate) fn shared_counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// True once the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Aborts the task. The run records Cancelled; [`outcome`](Self::outcome) returns that record.
    pub fn abort(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }

    /// Waits for the run to end and returns its final lifecycle record. Can be called again after it returned.
    ///
    /// Cancel-safe: dropping the returned future before it resolves loses nothing, so it can race other futures in a
    /// `select!` and be called again.
    ///
    /// # Errors
    /// [`HandleError::Escalated`] when the run escalated (the escalation holds its record and why);
    /// [`HandleError::TaskPanicked`] when its task died outside the loop's protection.
    pub async fn outcome(&mut self) -> Result<LifecycleRecord, HandleError> {
        if let Some(task) = self.task.as_mut() {
            // Await through `&mut`: the join handle stays in place until the task's result is in hand.
            let joined = task.await;
            self.task = None;
            let outcome = match joined {
                Ok(Ok(record)) => Ok(record),
                Ok(Err(escalation)) => Err(HandleError::Escalated(Box::new(escalation))),
                Err(e) if e.is_cancelled() => match self.shared.terminal_record() {
                    Some(record) => Ok(record.clone()),
                    None => Err(HandleError::Ended { supervisor: self.supervisor }),
                },
                Err(e) => Err(HandleError::TaskPanicked(match e.try_into_panic() {
                    Ok(payload) => panic_message(&*payload),
                    Err(e) => e.to_string(),
                })),
            };
            self.outcome = Some(Box::new(outcome));
        }
        self.outcome.as_deref().cloned().unwrap_or(Err(HandleError::Ended { supervisor: self.supervisor }))
    }
}
