//! The probe: a stage's run in the real run loop, polled by the test itself and brought to rest after each turn.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use crate::control::{self, Control, ControlPolicy, ControlSender};
use crate::journal::{Journal, MemoryJournal};
use crate::lifecycle::LifecycleRecord;
use crate::machine::StateVariant;
use crate::run_loop::{run_handler_supervised, RunResult, Supervision};
use crate::supervisor::{HandlerSupervised, Supervisor};

use super::probed::{lock, Gate, Probed, ProbedContext, Shared};
use super::{Fault, Turn};

/// A stage running in the real run loop, moved one turn at a time by the test. (A pipeline's orchestrator runs in
/// one too, inside a [`PipelineProbe`](super::PipelineProbe).)
///
/// The loop runs inside the probe's own calls (the test's task polls it; nothing is spawned), and each call returns
/// once the loop is at rest again: waiting at the start of its next dispatch, waiting for a control message or its
/// state's timeout, or ended. The probe keeps a copy of the state, so the stage's state type must be `Clone`.
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::testing::StageProbe;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut probe = StageProbe::new(Countdown::new(2), CountdownState::Counting, 0);
/// let turn = probe.step().await; // one dispatch: one tick
/// assert_eq!(turn.events, ["Tick"]);
/// assert_eq!(turn.actions, ["Count"]);
/// assert_eq!(probe.state(), CountdownState::Counting);
/// while !probe.step().await.ended {}
/// assert_eq!(probe.state(), CountdownState::Done);
/// assert_eq!(probe.records().len(), 2, "Started, Completed");
/// # }
/// ```
pub struct StageProbe<S: Supervisor>
where
    S::State: Clone,
{
    run: ProbedRun,
    outcome: Option<RunResult>,
    shared: Shared<S>,
    control: ControlSender,
    journal: Arc<dyn Journal<LifecycleRecord>>,
    started: bool,
    name: &'static str,
}

impl<S: Supervisor> std::fmt::Debug for StageProbe<S>
where
    S::State: Clone,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.shared).state.name();
        f.debug_struct("StageProbe").field("stage", &self.name).field("state", &state).finish_non_exhaustive()
    }
}

impl<S: HandlerSupervised> StageProbe<S>
where
    S::State: Clone,
    S::Context: 'static,
{
    /// `stage` in `initial` with `ctx`, in the run loop with a control channel and its lifecycle records kept in
    /// memory; nothing runs until a turn is asked for.
    pub fn new(stage: S, initial: S::State, ctx: S::Context) -> Self {
        let journal: Arc<dyn Journal<LifecycleRecord>> = Arc::new(MemoryJournal::new());
        Self::with_run(stage, initial, ctx, journal, |probed, initial, ctx, supervision| {
            Box::pin(run_handler_supervised(probed, initial, ctx, supervision))
        })
    }
}

/// The future of a probed run.
pub(crate) type ProbedRun = Pin<Box<dyn Future<Output = RunResult> + Send>>;

impl<S: Supervisor> StageProbe<S>
where
    S::State: Clone,
    S::Context: 'static,
{
    /// `supervisor` in `initial` with `ctx`, wrapped and handed to `run` with a control channel and `journal`.
    pub(crate) fn with_run(
        supervisor: S,
        initial: S::State,
        ctx: S::Context,
        journal: Arc<dyn Journal<LifecycleRecord>>,
        run: impl FnOnce(Probed<S>, S::State, ProbedContext<S>, Supervision) -> ProbedRun,
    ) -> Self {
        let name = supervisor.name();
        let shared: Shared<S> = Arc::new(Mutex::new(Gate {
            open: false,
            parked: false,
            arrivals: 0,
            busy: 0,
            injected: VecDeque::new(),
            faults: VecDeque::new(),
            turn: Turn::default(),
            action: 0,
            state: initial.clone(),
            inspect: None,
        }));
        let (control, control_rx) = control::channel(16);
        let probed = Probed { inner: supervisor, shared: shared.clone() };
        let ctx = ProbedContext { inner: ctx, shared: shared.clone() };
        let run = run(probed, initial, ctx, Supervision::new(journal.clone()).with_control(control_rx));
        Self { run, outcome: None, shared, control, journal, started: false, name }
    }

    /// Starts the run: Started, the initial state's entry actions, up to its first dispatch (or its wait for a
    /// control message). The other calls start the run first if it has not started; call this to see the entry
    /// turn on its own.
    pub async fn enter(&mut self) -> Turn {
        self.begin_turn();
        self.started = true;
        self.settle().await
    }

    /// One turn: the state's dispatch (or the injected event or dispatch fault), the event it returned, its actions.
    ///
    /// # Panics
    /// When the state blocks on the control channel ([`ControlPolicy::Block`]): it does not dispatch; send it a
    /// control message with [`control`](Self::control), or let its timeout fire with [`wait`](Self::wait).
    pub async fn step(&mut self) -> Turn {
        self.start().await;
        if self.outcome.is_some() {
            return self.turn_after();
        }
        self.assert_dispatches("step");
        self.begin_turn();
        lock(&self.shared).open = true;
        self.settle().await
    }

    /// One turn fed `event` instead of what dispatch would return.
    ///
    /// # Panics
    /// When the state blocks on the control channel, as [`step`](Self::step).
    pub async fn inject(&mut self, event: S::Event) -> Turn {
        self.start().await;
        if self.outcome.is_some() {
            return self.turn_after();
        }
        self.assert_dispatches("inject");
        lock(&self.shared).injected.push_back(event);
        self.step().await
    }

    /// Sends `control` on the stage's control channel and lets the loop take it: one turn with the event the machine
    /// maps it to, or none if it maps it to none. A state that ignores the channel (a terminal one, or
    /// [`ControlPolicy::Ignore`]) leaves the message unread, as in production.
    ///
    /// # Panics
    /// When 16 control messages already wait unread (a test sending control to a state that ignores it, again and
    /// again).
    pub async fn control(&mut self, control: Control) -> Turn {
        self.start().await;
        self.begin_turn();
        if self.outcome.is_none() {
            // At most 16 messages wait unread; a test that fills the channel of a state ignoring it learns it here.
            self.control.try_send(control).expect("the probe's control channel is full");
        }
        self.settle().await
    }

    /// Lets `duration` pass on the clock (under a paused clock: at once, timers firing in order) while the loop waits
    /// where it is, then returns what happened meanwhile: a state timeout firing, a dispatch under way receiving what
    /// it waited for. The gate stays shut: no new dispatch begins.
    pub async fn wait(&mut self, duration: Duration) -> Turn {
        self.start().await;
        self.begin_turn();
        let deadline = tokio::time::sleep(duration);
        let mut deadline = std::pin::pin!(deadline);
        if self.outcome.is_none() {
            let run = &mut self.run;
            let ended = std::future::poll_fn(|cx| {
                if let Poll::Ready(result) = run.as_mut().poll(cx) {
                    return Poll::Ready(Some(result));
                }
                deadline.as_mut().poll(cx).map(|()| None)
            })
            .await;
            if let Some(result) = ended {
                self.outcome = Some(result);
            }
        }
        self.settle().await
    }

    /// Runs `inspect` on the context while the loop waits at the start of a dispatch; `None` when it does not (it
    /// waits for a control message, or has ended).
    pub async fn with_context<T: Send + 'static>(
        &mut self,
        inspect: impl FnOnce(&mut S::Context) -> T + Send + 'static,
    ) -> Option<T> {
        self.start().await;
        if self.outcome.is_some() || !lock(&self.shared).parked {
            return None;
        }
        let slot = Arc::new(Mutex::new(None));
        let out = slot.clone();
        lock(&self.shared).inspect = Some(Box::new(move |_, ctx| {
            *out.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(inspect(ctx));
        }));
        self.settle().await;
        let value = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        value
    }

    /// The state now (as of the last turn).
    pub fn state(&self) -> S::State {
        lock(&self.shared).state.clone()
    }

    /// Injects `fault` into a coming turn (faults wait in order; see [`Fault`]).
    pub fn inject_fault(&mut self, fault: Fault) {
        lock(&self.shared).faults.push_back(fault);
    }

    /// The next turn's action at `index` fails with `message`.
    pub fn fail_action(&mut self, index: usize, message: &str) {
        self.inject_fault(Fault::ActionError(index, message.to_owned()));
    }

    /// Every lifecycle record the run wrote so far: Started first, the terminal record last once it ended.
    pub fn records(&self) -> Vec<LifecycleRecord> {
        self.journal.read_from(0).unwrap_or_default()
    }

    /// How the run ended, once it has: its terminal record, or the escalation that stopped it.
    pub fn outcome(&self) -> Option<&RunResult> {
        self.outcome.as_ref()
    }

    /// Starts the run if no call has.
    async fn start(&mut self) {
        if !self.started {
            self.enter().await;
        }
    }

    /// A new turn: an empty log, action indices from 0.
    fn begin_turn(&mut self) {
        let mut gate = lock(&self.shared);
        gate.turn = Turn::default();
        gate.action = 0;
    }

    /// Panics, naming `call`, when the state does not dispatch.
    fn assert_dispatches(&self, call: &str) {
        let gate = lock(&self.shared);
        let blocks = gate.state.ending().is_none() && gate.state.control_policy() == ControlPolicy::Block;
        assert!(
            !blocks,
            "StageProbe::{call} in state {}, which blocks on the control channel and does not dispatch: send it a \
             control message (`control`) or let its timeout fire (`wait`)",
            gate.state.name()
        );
    }

    /// Polls the loop until it is at rest (waiting at the gate, for control or a timer, with no user code running)
    /// or has ended; returns what the turn did.
    async fn settle(&mut self) -> Turn {
        if self.outcome.is_none() {
            let shared = self.shared.clone();
            let run = &mut self.run;
            // Unconstrained: tokio's cooperative budget must not make the loop look at rest when it has work.
            let ended = std::future::poll_fn(|cx| match tokio::task::unconstrained(run.as_mut()).poll_unpin(cx) {
                Poll::Ready(result) => Poll::Ready(Some(result)),
                Poll::Pending if lock(&shared).busy == 0 => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            })
            .await;
            if let Some(result) = ended {
                self.outcome = Some(result);
            }
        }
        self.turn_after()
    }

    /// The log of the turn just taken, with the state and the run's end.
    fn turn_after(&self) -> Turn {
        let mut gate = lock(&self.shared);
        let mut turn = std::mem::take(&mut gate.turn);
        turn.state = gate.state.name();
        if let Some(result) = &self.outcome {
            turn.ended = true;
            if let Err(escalation) = result {
                turn.escalation = Some(escalation.second().to_owned());
            }
        }
        turn
    }
}

/// `poll` on an `Unpin` future, without naming `Pin`.
trait PollUnpin: Future + Unpin {
    fn poll_unpin(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        Pin::new(self).poll(cx)
    }
}

impl<F: Future + Unpin> PollUnpin for F {}
