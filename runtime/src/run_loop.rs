//! The one generic supervised run loop: the single gateway that feeds events to a machine and executes its actions,
//! and that turns every error, panic, rejected event, closed channel and timeout into the machine's failure path.

use std::borrow::Cow;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tracing::Instrument;

use crate::action::Action;
use crate::control::{Control, ControlPolicy, ControlReceiver, Peek};
use crate::counters::{CounterSnapshot, Counters};
use crate::directive::Directive;
use crate::error::{panic_message, BoxError, Escalation};
use crate::event::{StageId, WriterId};
use crate::journal::{Journal, MemoryJournal};
use crate::lifecycle::{Lifecycle, LifecycleRecord};
use crate::machine::{Actions, Ending, EventVariant, Machine, StateMachine, StateTimeout, StateVariant, Step};
use crate::supervisor::{HandlerSupervised, SelfSupervised};

/// What a run returns: its final lifecycle record, or the escalation that stopped it.
pub type RunResult = Result<LifecycleRecord, Escalation>;

/// The state a supervisor is in, as published to watchers right after each transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateSnapshot {
    /// The state's name.
    pub name: &'static str,
    /// `Some` once the machine is in a terminal state.
    pub ending: Option<Ending>,
}

/// The plumbing one run is connected to: its control channel, its state watchers, its lifecycle journal, its counters.
pub struct Supervision {
    pub(crate) control: Option<ControlReceiver>,
    pub(crate) state: Option<watch::Sender<StateSnapshot>>,
    pub(crate) journal: Arc<dyn Journal<LifecycleRecord>>,
    pub(crate) counters: Arc<Counters>,
}

impl std::fmt::Debug for Supervision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervision")
            .field("control", &self.control.is_some())
            .field("journal_len", &self.journal.len())
            .finish_non_exhaustive()
    }
}

impl Default for Supervision {
    fn default() -> Self {
        Self::new(Arc::new(MemoryJournal::new()))
    }
}

impl Supervision {
    /// No control channel, no watchers, lifecycle records written to `journal`.
    pub fn new(journal: Arc<dyn Journal<LifecycleRecord>>) -> Self {
        Self { control: None, state: None, journal, counters: Arc::default() }
    }

    /// Reads control messages from `control`.
    #[must_use]
    pub fn with_control(mut self, control: ControlReceiver) -> Self {
        self.control = Some(control);
        self
    }

    /// Publishes the state to `state` right after each transition.
    #[must_use]
    pub fn with_state_watch(mut self, state: watch::Sender<StateSnapshot>) -> Self {
        self.state = Some(state);
        self
    }

    /// Writes the counters to `counters`, so others can read them while the run goes on.
    #[must_use]
    pub fn with_counters(mut self, counters: Arc<Counters>) -> Self {
        self.counters = counters;
        self
    }

    /// The counters this run writes.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }
}

/// Runs a handler-supervised stage from `initial` until it terminates.
pub fn run_handler_supervised<S: HandlerSupervised>(
    stage: S,
    initial: S::State,
    ctx: S::Context,
    supervision: Supervision,
) -> impl Future<Output = RunResult> + Send {
    drive(ViaHandler(stage), initial, ctx, supervision)
}

/// Runs a self-supervised orchestrator from `initial` until it terminates.
pub fn run_self_supervised<S: SelfSupervised>(
    orchestrator: S,
    initial: S::State,
    ctx: S::Context,
    supervision: Supervision,
) -> impl Future<Output = RunResult> + Send {
    drive(ViaSelf(orchestrator), initial, ctx, supervision)
}

/// `run` for every handler-supervised stage.
pub trait HandlerSupervisedExt: HandlerSupervised {
    /// Runs the stage with default supervision: no control channel, lifecycle records kept in memory.
    fn run(self, initial: Self::State, ctx: Self::Context) -> impl Future<Output = RunResult> + Send {
        run_handler_supervised(self, initial, ctx, Supervision::default())
    }
}

impl<T: HandlerSupervised> HandlerSupervisedExt for T {}

/// `run` for every self-supervised orchestrator.
pub trait SelfSupervisedExt: SelfSupervised {
    /// Runs the orchestrator with default supervision.
    fn run(self, initial: Self::State, ctx: Self::Context) -> impl Future<Output = RunResult> + Send {
        run_self_supervised(self, initial, ctx, Supervision::default())
    }
}

impl<T: SelfSupervised> SelfSupervisedExt for T {}

/// What the loop needs of a supervisor. The two public supervisor traits reach it through the wrappers below, so the
/// loop is written once.
trait Driver: Send {
    type M: Machine;
    fn name(&self) -> &'static str;
    fn writer_id(&self) -> WriterId;
    fn stage_id(&self) -> Option<StageId>;
    fn failure_event(&self, message: String) -> Event<Self>;
    fn dispatch<'a>(
        &'a mut self,
        state: &'a State<Self>,
        ctx: &'a mut Ctx<Self>,
    ) -> impl Future<Output = Result<Directive<Event<Self>>, BoxError>> + Send + 'a;
    fn complete<'a>(&'a mut self, ctx: &'a mut Ctx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send + 'a;
}

type State<D> = <<D as Driver>::M as Machine>::State;
type Event<D> = <<D as Driver>::M as Machine>::Event;
type Ctx<D> = <<D as Driver>::M as Machine>::Context;
type Act<D> = <<D as Driver>::M as Machine>::Action;

struct ViaHandler<S>(S);
struct ViaSelf<S>(S);

impl<S: HandlerSupervised> Driver for ViaHandler<S> {
    type M = S;
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn writer_id(&self) -> WriterId {
        HandlerSupervised::writer_id(&self.0)
    }
    fn stage_id(&self) -> Option<StageId> {
        Some(self.0.stage_id())
    }
    fn failure_event(&self, message: String) -> S::Event {
        HandlerSupervised::event_for_action_error(&self.0, message)
    }
    fn dispatch<'a>(
        &'a mut self,
        state: &'a S::State,
        ctx: &'a mut S::Context,
    ) -> impl Future<Output = Result<Directive<S::Event>, BoxError>> + Send + 'a {
        HandlerSupervised::dispatch_state(&mut self.0, state, ctx)
    }
    fn complete<'a>(&'a mut self, ctx: &'a mut S::Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        HandlerSupervised::write_completion_event(&mut self.0, ctx)
    }
}

impl<S: SelfSupervised> Driver for ViaSelf<S> {
    type M = S;
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn writer_id(&self) -> WriterId {
        SelfSupervised::writer_id(&self.0)
    }
    fn stage_id(&self) -> Option<StageId> {
        None
    }
    fn failure_event(&self, message: String) -> S::Event {
        SelfSupervised::event_for_action_error(&self.0, message)
    }
    fn dispatch<'a>(
        &'a mut self,
        state: &'a S::State,
        ctx: &'a mut S::Context,
    ) -> impl Future<Output = Result<Directive<S::Event>, BoxError>> + Send + 'a {
        SelfSupervised::dispatch_state(&mut self.0, state, ctx)
    }
    fn complete<'a>(&'a mut self, ctx: &'a mut S::Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        SelfSupervised::write_completion_event(&mut self.0, ctx)
    }
}

/// Writes the run's lifecycle records. If the run is dropped before it ends (an aborted task), it writes Cancelled.
struct Recorder {
    journal: Arc<dyn Journal<LifecycleRecord>>,
    counters: Arc<Counters>,
    supervisor: &'static str,
    writer: WriterId,
    stage: Option<StageId>,
    state: &'static str,
    ended: bool,
}

impl Recorder {
    fn write(&mut self, lifecycle: Lifecycle) -> LifecycleRecord {
        let record = LifecycleRecord {
            supervisor: Cow::Borrowed(self.supervisor),
            writer: self.writer,
            stage: self.stage,
            state: Cow::Borrowed(self.state),
            lifecycle,
            counters: self.counters.snapshot(),
        };
        if record.lifecycle.is_terminal() {
            self.ended = true;
        }
        if let Err(e) = self.journal.append(record.clone()) {
            tracing::error!(error = %e, "lifecycle record could not be journaled");
        }
        record
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if std::thread::panicking() {
            // The loop guards all user code; this is a last resort, so even a bug of ours leaves a record.
            tracing::error!(state = self.state, "run unwound past the loop's guards; recording Failed");
            let error = "the run panicked outside the loop's guards".to_owned();
            self.write(Lifecycle::Failed { error, escalation: None });
        } else {
            tracing::warn!(state = self.state, "run dropped before it ended; recording Cancelled");
            self.write(Lifecycle::Cancelled { reason: "task aborted".to_owned() });
        }
    }
}

/// The armed timeout of the current state. The sleep is allocated once per run and reset on every entry.
struct Timer<E> {
    sleep: Option<Pin<Box<Sleep>>>,
    event: Option<E>,
}

impl<E> Timer<E> {
    fn arm(&mut self, timeout: Option<StateTimeout<E>>) {
        self.event = timeout.map(|t| {
            let deadline = Instant::now() + t.after;
            match &mut self.sleep {
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            t.event
        });
    }

    /// True when the armed timeout's deadline has passed. Read off the clock, not `Sleep::is_elapsed`: tokio registers
    /// a sleep on its first poll, and a dispatch that never waits never lets it be polled.
    fn is_elapsed(&self) -> bool {
        match (&self.sleep, &self.event) {
            (Some(sleep), Some(_)) => sleep.deadline() <= Instant::now(),
            _ => false,
        }
    }

    /// Ready when the armed timeout fires; pending forever when none is armed.
    fn poll_fired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match (&mut self.sleep, &self.event) {
            (Some(sleep), Some(_)) => sleep.as_mut().poll(cx),
            _ => Poll::Pending,
        }
    }
}

/// A control message already waiting (or the channel closed), then an elapsed timeout: what wins before dispatch is
/// called. Registers no wake-ups; cheap when nothing was sent (one atomic load).
fn ready_wake<E>(control: Option<&mut ControlReceiver>, timer: &Timer<E>) -> Option<Wake<E>> {
    if let Some(rx) = control {
        match rx.peek() {
            Peek::Message(message) => return Some(Wake::Rare(Rare::Control(Some(message)))),
            Peek::Closed => return Some(Wake::Rare(Rare::Control(None))),
            Peek::Empty => {}
        }
    }
    timer.is_elapsed().then_some(Wake::Rare(Rare::Timeout))
}

/// Polls what can wake a state besides its dispatch (a control message or the channel closing, then the timeout),
/// registering for both.
fn poll_wake<E>(control: Option<&mut ControlReceiver>, timer: &mut Timer<E>, cx: &mut Context<'_>) -> Poll<Wake<E>> {
    if let Some(rx) = control {
        if let Poll::Ready(message) = rx.poll_recv(cx) {
            return Poll::Ready(Wake::Rare(Rare::Control(message)));
        }
    }
    timer.poll_fired(cx).map(|()| Wake::Rare(Rare::Timeout))
}

/// Runs `actions` in order with the run's context, marking the phase; evaluates to the first failure's message, skipping
/// the rest. A macro rather than only an async fn so that the hot path keeps it inline: awaiting a nested future there
/// cost 28% more instructions per transition (callgrind, counting stage).
macro_rules! run_actions {
    ($run:expr, $actions:expr) => {{
        let mut outcome = Ok(());
        for action in $actions {
            let name = action.name();
            $run.phase = Phase::Action { name };
            tracing::trace!(action = name, "executing action");
            if let Err(e) = action.execute(&mut $run.ctx).await {
                outcome = Err(format!("action {name} failed: {e}"));
                break;
            }
        }
        outcome
    }};
}

/// What woke the loop this turn: dispatch's directive, or something handled off the hot path.
enum Wake<E> {
    Dispatched(Result<Directive<E>, BoxError>),
    Rare(Rare),
}

/// What the loop handles off the hot path.
enum Rare {
    /// A control message, or `None` when every sender is gone.
    Control(Option<Control>),
    /// The state's timeout fired.
    Timeout,
    /// Dispatch asked to end the run.
    Terminate,
}

/// The turn that ended a run of steady turns.
enum Turned {
    /// Something failed; take the failure path with this message.
    Fail(String),
    /// A control message, a timeout or Terminate.
    Rare(Rare),
}

/// How a turn left the loop.
enum Flow {
    Next,
    Done(RunResult),
}

/// Where user code was running, so that a panic caught around a whole turn can say where it came from. Only what
/// cannot be read back after the panic is kept (the machine's state can), so setting it costs the hot path little.
#[derive(Clone, Copy)]
enum Phase {
    Dispatch,
    Transition {
        event: &'static str,
    },
    Action {
        name: &'static str,
    },
    /// One of the machine's other functions: `timeout`, `on_entry`, `control_event`, `control_closed`.
    Hook {
        name: &'static str,
    },
}

impl Phase {
    /// The failure message for a panic in this phase, while the machine was in `state`.
    fn panicked(self, state: &'static str, payload: &(dyn std::any::Any + Send)) -> String {
        let message = panic_message(payload);
        match self {
            Phase::Dispatch => format!("dispatch panicked in state {state}: {message}"),
            Phase::Transition { event } => {
                format!("transition on event {event} panicked in state {state}: {message}")
            }
            Phase::Action { name } => format!("action {name} panicked: {message}"),
            Phase::Hook { name } => format!("{name} panicked in state {state}: {message}"),
        }
    }
}

struct Run<D: Driver> {
    driver: D,
    machine: StateMachine<D::M>,
    ctx: Ctx<D>,
    timer: Timer<Event<D>>,
    control: Option<ControlReceiver>,
    watch: Option<watch::Sender<StateSnapshot>>,
    counters: Arc<Counters>,
    tally: CounterSnapshot,
    recorder: Recorder,
    phase: Phase,
    /// The failure that drove the machine to its failed state, once it has.
    failure: Option<String>,
    /// The last control message fed to the machine, to say why a run was cancelled.
    last_control: Option<Control>,
    /// The completion was written once and failed; the failed state terminates without writing it again.
    completion_failed: bool,
}

fn drive<D: Driver>(
    driver: D,
    initial: State<D>,
    ctx: Ctx<D>,
    supervision: Supervision,
) -> impl Future<Output = RunResult> + Send {
    let span = tracing::debug_span!("supervisor", name = driver.name(), writer = %driver.writer_id());
    let Supervision { control, state, journal, counters } = supervision;
    let recorder = Recorder {
        journal,
        counters: counters.clone(),
        supervisor: driver.name(),
        writer: driver.writer_id(),
        stage: driver.stage_id(),
        state: initial.name(),
        ended: false,
    };
    let run = Run {
        driver,
        phase: Phase::Dispatch,
        machine: StateMachine::new(initial),
        ctx,
        timer: Timer { sleep: None, event: None },
        control,
        watch: state,
        counters,
        tally: CounterSnapshot::default(),
        recorder,
        failure: None,
        last_control: None,
        completion_failed: false,
    };
    run.run().instrument(span)
}

impl<D: Driver> Run<D> {
    async fn run(mut self) -> RunResult {
        self.recorder.write(Lifecycle::Started);
        self.publish();
        let failure = match AssertUnwindSafe(self.start()).catch_unwind().await {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(message),
            Err(panic) => Some(self.panicked(&*panic)),
        };
        if let Some(message) = failure {
            if let Flow::Done(result) = Box::pin(self.fail(message)).await {
                return result;
            }
        }
        loop {
            // One panic guard around a whole run of steady turns (dispatch, transition, actions) instead of one per
            // call: the phase says where a panic came from. The rare paths are boxed, so their large futures neither
            // bloat this one nor get copied on every turn.
            let failure = match AssertUnwindSafe(self.steady()).catch_unwind().await {
                Ok(Turned::Fail(message)) => message,
                Ok(Turned::Rare(rare)) => match AssertUnwindSafe(Box::pin(self.on_wake(rare))).catch_unwind().await {
                    Ok(Flow::Next) => continue,
                    Ok(Flow::Done(result)) => return result,
                    Err(panic) => self.panicked(&*panic),
                },
                Err(panic) => self.panicked(&*panic),
            };
            if let Flow::Done(result) = Box::pin(self.fail(failure)).await {
                return result;
            }
        }
    }

    /// Enters the initial state: arms its timeout and runs its entry actions. Panics propagate to the caller's guard.
    async fn start(&mut self) -> Result<(), String> {
        self.phase = Phase::Hook { name: "timeout" };
        self.timer.arm(D::M::timeout(self.machine.state()));
        self.phase = Phase::Hook { name: "on_entry" };
        let entry = self.machine.enter();
        self.execute(entry).await
    }

    /// The failure message for a panic caught in the current phase.
    fn panicked(&self, panic: &(dyn std::any::Any + Send)) -> String {
        self.phase.panicked(self.machine.state().name(), panic)
    }

    /// Turns the loop for as long as turns are steady (a Continue, or a transition whose actions succeed); returns the
    /// first turn that is not. This is the hot path: everything on it is inline, nothing allocates.
    async fn steady(&mut self) -> Turned {
        loop {
            self.tally.loop_turns += 1;
            self.counters.turned(self.tally.loop_turns);
            let Run { driver, machine, ctx, timer, control, phase, .. } = self;
            let state = machine.state();
            *phase = Phase::Dispatch;
            let policy = if state.ending().is_some() { ControlPolicy::Ignore } else { state.control_policy() };
            let mut control = if policy == ControlPolicy::Ignore { None } else { control.as_mut() };
            let wake = if policy == ControlPolicy::Block {
                if control.is_none() && timer.event.is_none() {
                    let message = format!("state {} blocks on the control channel, which is closed", state.name());
                    return Turned::Fail(message);
                }
                std::future::poll_fn(|cx| poll_wake(control.as_deref_mut(), timer, cx)).await
            } else if control.is_none() && timer.event.is_none() {
                // Nothing can race dispatch: await it alone.
                Wake::Dispatched(driver.dispatch(state, ctx).await)
            } else if let Some(wake) = ready_wake(control.as_deref_mut(), timer) {
                wake
            } else {
                // Race dispatch against control and the timer, by hand rather than with `tokio::select!`: dispatch is
                // polled first, and the others only register for wake-ups once it is pending, which keeps a busy
                // stage's turn cheap. A message that arrives meanwhile is taken by `ready_wake` before the next
                // dispatch.
                let mut dispatch = std::pin::pin!(driver.dispatch(state, ctx));
                std::future::poll_fn(|cx| match dispatch.as_mut().poll(cx) {
                    Poll::Ready(directive) => Poll::Ready(Wake::Dispatched(directive)),
                    Poll::Pending => poll_wake(control.as_deref_mut(), timer, cx),
                })
                .await
            };
            let event = match wake {
                Wake::Dispatched(Ok(Directive::Transition(event))) => event,
                Wake::Dispatched(Ok(Directive::Continue)) => {
                    // A dispatch that returns Continue without awaiting would otherwise keep this task on its worker
                    // forever; spending tokio's cooperative budget makes it yield now and then.
                    tokio::task::consume_budget().await;
                    continue;
                }
                Wake::Dispatched(Ok(Directive::Terminate)) => return Turned::Rare(Rare::Terminate),
                Wake::Dispatched(Err(e)) => {
                    return Turned::Fail(format!("dispatch failed in state {}: {e}", self.machine.state().name()));
                }
                Wake::Rare(rare) => return Turned::Rare(rare),
            };
            let actions = match self.step(event) {
                Ok(actions) => actions,
                Err(message) => return Turned::Fail(message),
            };
            if let Err(message) = run_actions!(self, actions) {
                return Turned::Fail(message);
            }
        }
    }

    /// The paths off the hot one: control messages, timeouts, Terminate. Panics propagate to the caller's guard.
    async fn on_wake(&mut self, rare: Rare) -> Flow {
        match rare {
            Rare::Terminate => self.terminate().await,
            Rare::Control(Some(control)) => match self.hook("control_event", |_| D::M::control_event(control)) {
                Some(event) => {
                    let flow = self.feed_or_fail(event).await;
                    // Kept only when it is what stopped the run, to say so in the Cancelled record.
                    let cancelled = self.machine.state().ending() == Some(Ending::Cancelled);
                    self.last_control = cancelled.then_some(control);
                    flow
                }
                None => {
                    tracing::debug!(?control, state = self.machine.state().name(), "control message ignored");
                    Flow::Next
                }
            },
            Rare::Control(None) => {
                self.control = None;
                match self.hook("control_closed", D::M::control_closed) {
                    Some(event) => self.feed_or_fail(event).await,
                    None => {
                        let message = format!("control channel closed in state {}", self.machine.state().name());
                        self.fail(message).await
                    }
                }
            }
            Rare::Timeout => match self.timer.event.take() {
                Some(event) => {
                    tracing::debug!(state = self.machine.state().name(), event = event.name(), "state timeout fired");
                    self.feed_or_fail(event).await
                }
                None => Flow::Next,
            },
        }
    }

    /// Calls one of the machine's functions on the current state, marking the phase so a panic in it is named.
    fn hook<T>(&mut self, name: &'static str, call: impl FnOnce(&State<D>) -> T) -> T {
        self.phase = Phase::Hook { name };
        call(self.machine.state())
    }

    /// Feeds one event and runs the actions it yields. `Err` carries the failure to take the failure path with: the
    /// state rejected the event, or an action failed (path B: the remaining actions are skipped). Panics propagate to
    /// the caller's guard, with `phase` saying where.
    async fn feed(&mut self, event: Event<D>) -> Result<(), String> {
        let actions = self.step(event)?;
        self.execute(actions).await
    }

    /// [`feed`](Self::feed) off the hot path, with its own panic guard.
    async fn feed_or_fail(&mut self, event: Event<D>) -> Flow {
        match AssertUnwindSafe(self.feed(event)).catch_unwind().await {
            Ok(Ok(())) => Flow::Next,
            Ok(Err(message)) => self.fail(message).await,
            Err(panic) => {
                let message = self.panicked(&*panic);
                self.fail(message).await
            }
        }
    }

    /// Turns the machine on `event`; `Err` when the state rejects it.
    fn step(&mut self, event: Event<D>) -> Result<Actions<Act<D>>, String> {
        self.phase = Phase::Transition { event: event.name() };
        match self.machine.handle(event, &mut self.ctx) {
            Step::Turned { actions, entered } => {
                self.tally.transitions += 1;
                self.counters.transitioned(self.tally.transitions);
                if entered {
                    self.publish();
                    self.timer.arm(D::M::timeout(self.machine.state()));
                }
                Ok(actions)
            }
            Step::Ignored { state, event } => {
                tracing::debug!(state, event, "event not handled in this state; ignored by policy");
                Ok(Actions::new())
            }
            Step::Rejected { state, event } => Err(format!("event {event} is not handled in state {state}")),
        }
    }

    /// Runs actions in order; the first error skips the rest. Panics propagate to the caller's guard.
    async fn execute(&mut self, actions: Actions<Act<D>>) -> Result<(), String> {
        run_actions!(self, actions)
    }

    /// [`execute`](Self::execute) with its own panic guard, for entry and failure actions.
    async fn execute_caught(&mut self, actions: Actions<Act<D>>) -> Result<(), String> {
        match AssertUnwindSafe(self.execute(actions)).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => Err(self.panicked(&*panic)),
        }
    }

    /// The failure path: map the failure to the machine's failure event, turn, run the failure actions. It must end in
    /// a failed state; anything else that goes wrong on the way escalates.
    async fn fail(&mut self, message: String) -> Flow {
        self.tally.failures += 1;
        self.counters.publish(&self.tally);
        let state = self.machine.state();
        tracing::warn!(state = state.name(), error = %message, "taking the failure path");
        if let Some(first) = &self.failure {
            let first = first.clone();
            return self.escalate(first, message);
        }
        if state.ending() == Some(Ending::Failed) {
            return self.escalate(format!("the run had already failed in state {}", state.name()), message);
        }
        let turned = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let event = self.driver.failure_event(message.clone());
            self.step(event)
        }));
        let actions = match turned {
            Ok(Ok(actions)) => actions,
            Ok(Err(rejected)) => return self.escalate(message, rejected),
            Err(panic) => {
                let second = self.panicked(&*panic);
                return self.escalate(message, second);
            }
        };
        if let Err(second) = self.execute_caught(actions).await {
            return self.escalate(message, second);
        }
        let state = self.machine.state();
        if state.ending() != Some(Ending::Failed) {
            let second = format!("the failure event led to state {}, which is not a failed state", state.name());
            return self.escalate(message, second);
        }
        self.failure = Some(message);
        Flow::Next
    }

    fn escalate(&mut self, first: String, second: String) -> Flow {
        tracing::error!(error = %first, escalation = %second, "failure while handling a failure; stopping");
        self.counters.publish(&self.tally);
        let record = self.recorder.write(Lifecycle::Failed { error: first.clone(), escalation: Some(second.clone()) });
        Flow::Done(Err(Escalation { first, second, record }))
    }

    /// Writes the completion and the one terminal lifecycle record.
    /// A failing completion is an error like any other: it takes the failure path (once; the failed state then
    /// terminates without writing the completion again).
    async fn terminate(&mut self) -> Flow {
        let completion = if self.completion_failed {
            Ok(())
        } else {
            match AssertUnwindSafe(self.driver.complete(&mut self.ctx)).catch_unwind().await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("write_completion_event failed: {e}")),
                Err(panic) => Err(format!("write_completion_event panicked: {}", panic_message(&*panic))),
            }
        };
        self.counters.publish(&self.tally);
        if let Err(message) = completion {
            if let Some(first) = self.failure.take() {
                return self.escalate(first, message);
            }
            self.completion_failed = true;
            return self.fail(message).await;
        }
        let state = self.machine.state();
        let lifecycle = match state.ending() {
            Some(Ending::Failed) => Lifecycle::Failed {
                error: self.failure.take().unwrap_or_else(|| format!("entered failed state {}", state.name())),
                escalation: None,
            },
            Some(Ending::Cancelled) => Lifecycle::Cancelled {
                reason: self.failure.take().unwrap_or_else(|| match self.last_control {
                    Some(control) => format!("stopped in state {} after a {control:?} control message", state.name()),
                    None => format!("stopped in state {}", state.name()),
                }),
            },
            Some(Ending::Completed) | None => Lifecycle::Completed,
        };
        tracing::debug!(state = state.name(), "terminating");
        Flow::Done(Ok(self.recorder.write(lifecycle)))
    }

    /// Publishes the current state to watchers and the recorder.
    fn publish(&mut self) {
        let state = self.machine.state();
        let snapshot = StateSnapshot { name: state.name(), ending: state.ending() };
        self.recorder.state = snapshot.name;
        if let Some(watch) = &self.watch {
            watch.send_if_modified(|current| {
                let changed = *current != snapshot;
                *current = snapshot;
                changed
            });
        }
    }
}
