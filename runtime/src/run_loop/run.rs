//! The run's core: the state it carries, the outer loop with its panic guards, and the hot path of steady turns
//! (dispatch, transition, actions) that keeps everything inline and allocates nothing.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use tracing::Instrument;

use crate::action::Action;
use crate::control::{Control, ControlPolicy, ControlReceiver};
use crate::counters::{CounterSnapshot, Counters};
use crate::directive::Directive;
use crate::error::BoxError;
use crate::event::{StageId, WriterId};
use crate::lifecycle::Lifecycle;
use crate::machine::{ActionsOf, Decided, EventVariant, StateMachine, StateVariant, Step, Unsettled};

use super::phase::Phase;
use super::recorder::Recorder;
use super::state_cell::StateOutlet;
use super::state_cell::StateSnapshot;
use super::supervision::Supervision;
use super::timer::StateTimer;
use super::wake::{poll_wake, ready_wake, Interruption};
use super::RunResult;
use crate::supervisor::Supervisor;

/// Runs `actions` in order with the run's context, marking the phase; on the first failure, returns `$failed` of its
/// message from the enclosing function, skipping the rest (returning at once keeps no outcome in the future). A macro rather than only an async fn so that the hot path keeps it inline: awaiting a nested future there
/// cost 28% more instructions per transition (callgrind, counting stage).
macro_rules! run_actions {
    ($run:expr, $actions:expr, $failed:expr) => {{
        for action in $actions {
            let name = action.name();
            $run.phase = Phase::Action { name };
            // Out of line: `trace!` inline stores the name where its fields are built on every turn, enabled or not.
            if tracing::level_enabled!(tracing::Level::TRACE) {
                trace_action(name);
            }
            if let Err(e) = action.execute(&mut $run.ctx).await {
                return $failed($run.phase.action_failed(&*e));
            }
        }
    }};
}

/// Logs the action about to run (a failure reads its name back from the phase).
#[cold]
#[inline(never)]
fn trace_action(name: &'static str) {
    tracing::trace!(action = name, "executing action");
}

/// How a run of steady turns ended.
pub(super) enum SteadyEnd {
    /// Something failed; take the failure path with this message.
    Failure(String),
    /// A control message, a closed channel, a timeout or Terminate.
    Interrupted(Interruption),
}

/// Whether the run goes on after something off the hot path was handled.
pub(super) enum Progress {
    /// The run goes on: back to steady turns.
    Running,
    /// The run ended with this result; its terminal record is written.
    Ended(RunResult),
}

/// One run of one supervisor: everything the loop reads and writes.
pub(super) struct Run<S: Supervisor> {
    pub(super) supervisor: S,
    pub(super) machine: StateMachine<S>,
    pub(super) ctx: S::Context,
    pub(super) timer: StateTimer<S::Event>,
    pub(super) control: Option<ControlReceiver>,
    pub(super) watch: StateOutlet,
    pub(super) counters: Arc<Counters>,
    pub(super) tally: CounterSnapshot,
    pub(super) recorder: Recorder,
    pub(super) phase: Phase,
    /// The failure that drove the machine to its failed state, once it has.
    pub(super) failure: Option<String>,
    /// The last control message fed to the machine, to say why a run was cancelled.
    pub(super) last_control: Option<Control>,
    /// The completion was written once and failed; the failed state terminates without writing it again.
    pub(super) completion_failed: bool,
}

/// The future of one run of `supervisor` from `initial`, in a span naming the supervisor. `writer` and `stage` say
/// who it is: what its records carry.
pub(super) fn drive<S: Supervisor>(
    supervisor: S,
    writer: WriterId,
    stage: Option<StageId>,
    initial: S::State,
    ctx: S::Context,
    supervision: Supervision,
) -> impl Future<Output = RunResult> + Send {
    let span = tracing::debug_span!("supervisor", name = supervisor.name(), writer = %writer);
    let Supervision { control, state, journal, counters } = supervision;
    let recorder = Recorder {
        journal,
        counters: counters.clone(),
        supervisor: supervisor.name(),
        writer,
        stage,
        state: initial.name(),
        started: false,
        ended: false,
        refused: None,
    };
    let mut run = Run {
        supervisor,
        phase: Phase::Dispatch,
        machine: StateMachine::new(initial),
        ctx,
        timer: StateTimer::new(),
        control,
        watch: state,
        counters,
        tally: CounterSnapshot::default(),
        recorder,
        failure: None,
        last_control: None,
        completion_failed: false,
    };
    // The block owns the run and the loop borrows it: an `async fn run(mut self)` would hold it twice in the future,
    // once as its argument and once as the local the argument is moved into.
    async move { run.run().await }.instrument(span)
}

impl<S: Supervisor> Run<S> {
    async fn run(&mut self) -> RunResult {
        Box::pin(self.recorder.write(Lifecycle::Started)).await;
        self.publish();
        let failure = match AssertUnwindSafe(self.start()).catch_unwind().await {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(message),
            Err(panic) => Some(self.panicked(&*panic)),
        };
        if let Some(message) = failure {
            if let Progress::Ended(result) = Box::pin(self.fail(message)).await {
                return result;
            }
        }
        loop {
            // One panic guard around a whole run of steady turns (dispatch, transition, actions) instead of one per
            // call: the phase says where a panic came from. The paths off the hot one are boxed, so their large
            // futures neither bloat this one nor get copied on every turn.
            let failure = match AssertUnwindSafe(self.steady()).catch_unwind().await {
                Ok(SteadyEnd::Failure(message)) => message,
                Ok(SteadyEnd::Interrupted(interruption)) => {
                    match AssertUnwindSafe(Box::pin(self.on_interruption(interruption))).catch_unwind().await {
                        Ok(Progress::Running) => continue,
                        Ok(Progress::Ended(result)) => return result,
                        Err(panic) => self.panicked(&*panic),
                    }
                }
                Err(panic) => self.panicked(&*panic),
            };
            if let Progress::Ended(result) = Box::pin(self.fail(failure)).await {
                return result;
            }
        }
    }

    /// Enters the initial state: arms its timeout and runs its entry actions. Panics propagate to the caller's guard.
    async fn start(&mut self) -> Result<(), String> {
        self.phase = Phase::Hook { name: "timeout" };
        self.timer.arm(S::timeout(self.machine.state()));
        self.phase = Phase::Hook { name: "on_entry" };
        let entry = self.machine.enter();
        self.execute(entry).await
    }

    /// The failure message for a panic caught in the current phase.
    pub(super) fn panicked(&self, panic: &(dyn std::any::Any + Send)) -> String {
        self.phase.panicked(self.machine.state().name(), panic)
    }

    /// Turns the loop for as long as turns are steady (a Continue, or a transition whose actions succeed); returns the
    /// first turn that is not. This is the hot path: everything on it is inline, nothing allocates.
    async fn steady(&mut self) -> SteadyEnd {
        loop {
            let event = loop {
                // A dispatch that returns at once without awaiting anything tokio counts would otherwise keep this task
                // on its worker forever: after a Continue (the phase is still Dispatch), and every 64th turn whatever
                // it did, the loop spends a unit of tokio's cooperative budget, so such a stage yields now and then.
                // One await point for both, where the turn keeps nothing alive.
                if matches!(self.phase, Phase::Dispatch) || self.tally.loop_turns.is_multiple_of(64) {
                    tokio::task::consume_budget().await;
                }
                let (policy, raced) = self.begin_turn();
                let dispatched = if !raced {
                    // Nothing can race dispatch: await it alone. Only the three fields it needs are borrowed across the
                    // await, so the future keeps (and reloads every turn) no more references than that.
                    self.supervisor.dispatch_state(self.machine.state(), &mut self.ctx).await
                } else {
                    let Run { supervisor, machine, ctx, timer, control, .. } = &mut *self;
                    let state = machine.state();
                    // `matches!` rather than `==`, which borrows `policy` and so would give it a place in the future.
                    let mut control = if matches!(policy, ControlPolicy::Ignore) { None } else { control.as_mut() };
                    if matches!(policy, ControlPolicy::Block) {
                        if control.is_none() && timer.event.is_none() {
                            let message =
                                format!("state {} blocks on the control channel, which is closed", state.name());
                            return SteadyEnd::Failure(message);
                        }
                        let interruption =
                            std::future::poll_fn(|cx| poll_wake(control.as_deref_mut(), timer, cx)).await;
                        return SteadyEnd::Interrupted(interruption);
                    }
                    if let Some(interruption) = ready_wake(control.as_deref_mut(), timer) {
                        return SteadyEnd::Interrupted(interruption);
                    }
                    // Race dispatch against control and the timer, by hand rather than with `tokio::select!`: dispatch is
                    // polled first, and the others only register for wake-ups once it is pending, which keeps a busy
                    // stage's turn cheap. A message that arrives meanwhile is taken by `ready_wake` before the next
                    // dispatch. The closure owns what it polls (the pinned dispatch, the channel, the timer): borrowing
                    // them, it would keep pointers to them in the future beside them, stored every turn.
                    let mut dispatch = std::pin::pin!(supervisor.dispatch_state(state, ctx));
                    let raced = std::future::poll_fn(move |cx| match dispatch.as_mut().poll(cx) {
                        Poll::Ready(directive) => Poll::Ready(Ok(directive)),
                        Poll::Pending => poll_wake(control.as_deref_mut(), timer, cx).map(Err),
                    })
                    .await;
                    match raced {
                        Ok(directive) => directive,
                        Err(interruption) => return SteadyEnd::Interrupted(interruption),
                    }
                };
                // Moved into a temporary that ends with the `match`: matched in place, it would live (with a drop
                // flag) across the await below, so in the future, stored and checked every turn.
                match std::convert::identity(dispatched) {
                    Ok(Directive::Transition(event)) => break event,
                    other => {
                        if let Some(end) = Self::off_turn(other, self) {
                            return end;
                        }
                    }
                }
            };
            // A stay is matched in place, so its list goes from the transition straight into the action loop; the rest
            // is settled out of line, and has an action loop of its own, so the stay's list is not merged with it.
            match self.decide(event) {
                Decided::Stay(actions) => {
                    self.transitioned();
                    run_actions!(self, actions, SteadyEnd::Failure);
                }
                Decided::Other(unsettled) => match self.settle(unsettled) {
                    Ok(actions) => run_actions!(self, actions, SteadyEnd::Failure),
                    Err(message) => return SteadyEnd::Failure(message),
                },
            }
        }
    }

    /// A dispatch that did not name an event: `None` for Continue, else how the steady turns end (Terminate, or the
    /// failure of a dispatch that returned an error). Out of line, so the hot path tests for a transition alone.
    #[cold]
    fn off_turn(dispatched: Result<Directive<S::Event>, BoxError>, run: &Self) -> Option<SteadyEnd> {
        match dispatched {
            Ok(Directive::Transition(_) | Directive::Continue) => None,
            Ok(Directive::Terminate) => Some(SteadyEnd::Interrupted(Interruption::Terminate)),
            Err(e) => Some(SteadyEnd::Failure(run.dispatch_failed(&*e))),
        }
    }

    /// Starts a turn: counts it, marks the phase, and says the state's control policy and whether anything can race
    /// dispatch. One synchronous call, so `self` is loaded once: in the `async fn` every access reloads it from the
    /// future after each store through it.
    #[inline(always)]
    fn begin_turn(&mut self) -> (ControlPolicy, bool) {
        self.tally.loop_turns += 1;
        self.counters.turned(self.tally.loop_turns);
        self.phase = Phase::Dispatch;
        let state = self.machine.state();
        let policy = if state.ending().is_some() { ControlPolicy::Ignore } else { state.control_policy() };
        let raced = policy == ControlPolicy::Block
            || (policy == ControlPolicy::Poll && self.control.is_some())
            || self.timer.event.is_some();
        (policy, raced)
    }

    /// Calls one of the machine's functions on the current state, marking the phase so a panic in it is named.
    pub(super) fn hook<T>(&mut self, name: &'static str, call: impl FnOnce(&S::State) -> T) -> T {
        self.phase = Phase::Hook { name };
        call(self.machine.state())
    }

    /// Feeds one event and runs the actions it yields. `Err` carries the failure to take the failure path with: the
    /// state rejected the event, or an action failed (path B: the remaining actions are skipped). Panics propagate to
    /// the caller's guard, with `phase` saying where.
    pub(super) async fn feed(&mut self, event: S::Event) -> Result<(), String> {
        let actions = self.step(event)?;
        self.execute(actions).await
    }

    /// The failure message for a dispatch that returned `error`.
    #[cold]
    fn dispatch_failed(&self, error: &(dyn std::error::Error + Send + Sync)) -> String {
        format!("dispatch failed in state {}: {error}", self.machine.state().name())
    }

    /// Turns the machine on `event`; `Err` when the state rejects it. Off the hot path (control, timeouts, the failure
    /// event); steady turns match a stay in place and [`settle`](Self::settle) the rest.
    pub(super) fn step(&mut self, event: S::Event) -> Result<ActionsOf<S>, String> {
        match self.decide(event) {
            Decided::Stay(actions) => {
                self.transitioned();
                Ok(actions)
            }
            Decided::Other(unsettled) => self.settle(unsettled),
        }
    }

    /// The machine's decision on `event`, marking the phase. A function of its own so that the run's future only
    /// moves the event: borrowed there (for its name), it would keep a place (and a drop flag) in the future until the
    /// turn ends, stored and reloaded every turn.
    #[inline(always)]
    fn decide(&mut self, event: S::Event) -> Decided<S> {
        self.phase = Phase::Transition { event: event.name() };
        self.machine.decide(event, &mut self.ctx)
    }

    /// Counts a transition.
    #[inline(always)]
    fn transitioned(&mut self) {
        self.tally.transitions += 1;
        self.counters.transitioned(self.tally.transitions);
    }

    /// Applies a decision that is not a stay: a state left (published, its successor's timeout armed) or an event
    /// ignored or rejected (`Err`).
    #[inline(never)]
    fn settle(&mut self, unsettled: Unsettled<S>) -> Result<ActionsOf<S>, String> {
        match self.machine.settle(unsettled) {
            Step::Turned { actions, entered } => {
                self.transitioned();
                if entered {
                    self.entered();
                }
                Ok(actions)
            }
            unturned => Self::unturned(unturned),
        }
    }

    /// A state was entered: publishes it and arms its timeout.
    #[inline(never)]
    fn entered(&mut self) {
        self.publish();
        self.timer.arm(S::timeout(self.machine.state()));
    }

    /// A step that did not turn the machine: nothing to run for an ignored event, the failure for a rejected one.
    #[cold]
    fn unturned(step: Step<S::Action, S::ActionCapacity>) -> Result<ActionsOf<S>, String> {
        match step {
            Step::Ignored { state, event } => {
                tracing::debug!(state, event, "event not handled in this state; ignored by policy");
                Ok(ActionsOf::<S>::new())
            }
            Step::Rejected { state, event } => Err(format!("event {event} is not handled in state {state}")),
            Step::Turned { actions, .. } => Ok(actions),
        }
    }

    /// Runs actions in order; the first error skips the rest. Panics propagate to the caller's guard.
    pub(super) async fn execute(&mut self, actions: ActionsOf<S>) -> Result<(), String> {
        run_actions!(self, actions, Err);
        Ok(())
    }

    /// Publishes the current state to watchers and the recorder.
    pub(super) fn publish(&mut self) {
        let state = self.machine.state();
        let snapshot = StateSnapshot { name: state.name(), ending: state.ending() };
        self.recorder.state = snapshot.name;
        self.watch.publish(snapshot);
    }
}
