//! A deterministic test kit for stages, in the spirit of Akka's `TestFSMRef`: a [`StageProbe`] holds a stage, its
//! machine and its context, and moves them one turn per call — a dispatch, an injected event or control message, a
//! dispatch or action failure, a panic at a chosen action — reporting what each turn did. Use it under tokio's paused
//! clock (`#[tokio::test(start_paused = true)]`) so timers in dispatch or actions resolve at once and in order.
//!
//! A turn follows the run loop's contract (`semantics.md`): the event goes to the machine, its actions run in order,
//! and an error or panic in dispatch or an action, or an event the state rejects, feeds the stage's failure event
//! ([`Supervisor::event_for_action_error`](crate::Supervisor::event_for_action_error)) so the machine takes its failure path; a second failure while
//! handling it escalates. For what only the loop does (control races, state timeouts, lifecycle records), run the
//! stage for real with [`run_recorded`] and read the records it wrote.
//!
//! ```
//! # use stagewise_runtime::testing::StageProbe;
//! # use stagewise_runtime::*;
//! # use stagewise_runtime::machine::Decision;
//! # #[derive(Clone, Copy, Debug, PartialEq)] enum S { Idle, Done, Failed }
//! # impl StateVariant for S {
//! #     fn name(&self) -> &'static str { match self { S::Idle => "Idle", S::Done => "Done", S::Failed => "Failed" } }
//! #     fn ending(&self) -> Option<Ending> { match self { S::Idle => None, S::Done => Some(Ending::Completed), S::Failed => Some(Ending::Failed) } }
//! # }
//! # #[derive(Debug)] enum E { Go, Fail(String) }
//! # impl EventVariant for E { fn name(&self) -> &'static str { match self { E::Go => "Go", E::Fail(_) => "Fail" } } }
//! # struct Log;
//! # impl Action<u32> for Log { fn name(&self) -> &'static str { "Log" } async fn execute(self, n: &mut u32) -> Result<(), BoxError> { *n += 1; Ok(()) } }
//! # struct Stage;
//! # impl Machine for Stage { type State = S; type Event = E; type Context = u32; type Action = Log;
//! #     fn transition(s: &S, e: E, _: &mut u32) -> Decision<S, Log> { match (s, e) { (S::Idle, E::Go) => Decision::goto_with(S::Done, [Log]), (_, E::Fail(_)) => Decision::goto(S::Failed), _ => Decision::Unhandled } } }
//! # impl Supervisor for Stage {
//! #     fn name(&self) -> &'static str { "stage" }
//! #     async fn dispatch_state(&mut self, _: &S, _: &mut u32) -> Result<Directive<E>, BoxError> { Ok(Directive::Transition(E::Go)) }
//! #     fn event_for_action_error(&self, m: String) -> E { E::Fail(m) }
//! # }
//! # impl HandlerSupervised for Stage { fn stage_id(&self) -> StageId { StageId(1) } }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let mut probe = StageProbe::new(Stage, S::Idle, 0);
//! probe.fail_action(0, "disk full"); // the first action of the next turn fails
//! let turn = probe.step().await;
//! assert_eq!(turn.events, ["Go", "Fail"]);
//! assert_eq!(turn.actions, ["Log"]);
//! assert_eq!(turn.failure.as_deref(), Some("action Log failed: disk full"));
//! assert_eq!(*probe.state(), S::Failed);
//! # }
//! ```

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use crate::action::Action;
use crate::control::Control;
use crate::directive::Directive;
use crate::error::{panic_message, Escalation};
use crate::journal::{Journal, MemoryJournal};
use crate::lifecycle::LifecycleRecord;
use crate::machine::{EventVariant, StateMachine, StateVariant, Step};
use crate::run_loop::{run_handler_supervised, Supervision};
use crate::supervisor::HandlerSupervised;

/// A fault to inject into the next turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Dispatch returns this error instead of running.
    DispatchError(String),
    /// Dispatch panics with this message instead of running.
    DispatchPanic(String),
    /// The action at this index (0 for the turn's first) returns this error instead of running.
    ActionError(usize, String),
    /// The action at this index panics with this message instead of running.
    ActionPanic(usize, String),
}

/// What one turn did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    /// The events fed to the machine, in order: the turn's own, then the failure event if it failed.
    pub events: Vec<&'static str>,
    /// The actions that ran (or were attempted), in order.
    pub actions: Vec<&'static str>,
    /// The state after the turn.
    pub state: &'static str,
    /// The failure that sent the machine down its failure path, if any.
    pub failure: Option<String>,
    /// A second failure while handling the first: the run loop would stop at once.
    pub escalation: Option<String>,
    /// Dispatch said the run is over ([`Directive::Terminate`]).
    pub terminated: bool,
}

/// A stage with its machine and context, moved one turn at a time by the test.
pub struct StageProbe<S: HandlerSupervised> {
    stage: S,
    machine: StateMachine<S>,
    ctx: S::Context,
    faults: VecDeque<Fault>,
}

impl<S: HandlerSupervised> std::fmt::Debug for StageProbe<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageProbe").field("stage", &self.stage.name()).field("machine", &self.machine).finish()
    }
}

impl<S: HandlerSupervised> StageProbe<S> {
    /// `stage` in `initial` with `ctx`; nothing runs until a turn is asked for.
    pub fn new(stage: S, initial: S::State, ctx: S::Context) -> Self {
        Self { stage, machine: StateMachine::new(initial), ctx, faults: VecDeque::new() }
    }

    /// The state now.
    pub fn state(&self) -> &S::State {
        self.machine.state()
    }

    /// The context, to read what actions wrote.
    pub fn context(&self) -> &S::Context {
        &self.ctx
    }

    /// The context, to arrange a situation.
    pub fn context_mut(&mut self) -> &mut S::Context {
        &mut self.ctx
    }

    /// The stage.
    pub fn stage(&self) -> &S {
        &self.stage
    }

    /// Injects `fault` into the next turn (faults queue up, one per turn that can take it).
    pub fn inject_fault(&mut self, fault: Fault) {
        self.faults.push_back(fault);
    }

    /// The next turn's action at `index` fails with `message`.
    pub fn fail_action(&mut self, index: usize, message: &str) {
        self.inject_fault(Fault::ActionError(index, message.to_owned()));
    }

    /// Runs the entry actions of the initial state, as a run does when it starts.
    pub async fn enter(&mut self) -> Turn {
        let actions = self.machine.enter();
        let mut turn = Turn::default();
        self.run_actions(actions.into_iter().collect(), &mut turn).await;
        turn.state = self.machine.state().name();
        turn
    }

    /// One turn: the state's dispatch (or the injected dispatch fault), then the event it returned.
    pub async fn step(&mut self) -> Turn {
        let state = self.machine.state().name();
        let dispatched = match self.faults.front() {
            Some(Fault::DispatchError(message)) => Err(message.clone()),
            Some(Fault::DispatchPanic(message)) => Err(format!("dispatch panicked in state {state}: {message}")),
            _ => AssertUnwindSafe(self.stage.dispatch_state(self.machine.state(), &mut self.ctx))
                .catch_unwind()
                .await
                .map_err(|panic| format!("dispatch panicked in state {state}: {}", panic_message(&*panic)))
                .and_then(|result| result.map_err(|e| e.to_string())),
        };
        if matches!(self.faults.front(), Some(Fault::DispatchError(_) | Fault::DispatchPanic(_))) {
            self.faults.pop_front();
        }
        match dispatched {
            Ok(Directive::Transition(event)) => self.inject(event).await,
            Ok(Directive::Continue) => Turn { state, ..Turn::default() },
            Ok(Directive::Terminate) => Turn { state, terminated: true, ..Turn::default() },
            Err(message) if message.starts_with("dispatch panicked") => self.fail(Turn::default(), message).await,
            Err(message) => self.fail(Turn::default(), format!("dispatch failed in state {state}: {message}")).await,
        }
    }

    /// One turn fed `event`, without dispatch.
    pub async fn inject(&mut self, event: S::Event) -> Turn {
        let mut turn = Turn::default();
        if let Some(failure) = self.feed(event, &mut turn).await {
            return self.fail(turn, failure).await;
        }
        turn.state = self.machine.state().name();
        turn
    }

    /// One turn fed the event `control` means to the machine; no turn if it means none.
    pub async fn control(&mut self, control: Control) -> Turn {
        match S::control_event(control) {
            Some(event) => self.inject(event).await,
            None => Turn { state: self.machine.state().name(), ..Turn::default() },
        }
    }

    /// Feeds `event` and runs its actions; the failure to handle, if any.
    async fn feed(&mut self, event: S::Event, turn: &mut Turn) -> Option<String> {
        turn.events.push(event.name());
        match self.machine.handle(event, &mut self.ctx) {
            Step::Turned { actions, .. } => self.run_actions(actions.into_iter().collect(), turn).await,
            Step::Ignored { .. } => None,
            Step::Rejected { state, event } => Some(format!("event {event} rejected in state {state}")),
        }
    }

    /// Runs `actions` in order, applying an injected action fault; stops at the first failure.
    async fn run_actions(&mut self, actions: Vec<S::Action>, turn: &mut Turn) -> Option<String> {
        let fault = match self.faults.front() {
            Some(Fault::ActionError(..) | Fault::ActionPanic(..)) => self.faults.pop_front(),
            _ => None,
        };
        for (index, action) in actions.into_iter().enumerate() {
            let name = action.name();
            turn.actions.push(name);
            let result = match &fault {
                Some(Fault::ActionError(at, message)) if *at == index => Ok(Err(message.clone())),
                Some(Fault::ActionPanic(at, message)) if *at == index => {
                    AssertUnwindSafe(injected_panic(message.clone())).catch_unwind().await
                }
                _ => AssertUnwindSafe(action.execute(&mut self.ctx))
                    .catch_unwind()
                    .await
                    .map(|result| result.map_err(|e| e.to_string())),
            };
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Some(format!("action {name} failed: {e}")),
                Err(panic) => return Some(format!("action {name} panicked: {}", panic_message(&*panic))),
            }
        }
        None
    }

    /// Sends the machine down its failure path for `failure`; a second failure escalates.
    async fn fail(&mut self, mut turn: Turn, failure: String) -> Turn {
        let event = self.stage.event_for_action_error(failure.clone());
        turn.escalation = self.feed(event, &mut turn).await;
        turn.failure = Some(failure);
        turn.state = self.machine.state().name();
        turn
    }
}

/// An action that panics with `message`, as an injected [`Fault::ActionPanic`].
async fn injected_panic(message: String) -> Result<(), String> {
    std::panic::panic_any(message)
}

/// Runs `stage` to its end in the real run loop, with its lifecycle records kept in memory; returns how the run ended
/// and every record it wrote (Started first, the terminal record last).
///
/// # Errors
/// The run's [`Escalation`], when a failure happened while handling a failure.
pub async fn run_recorded<S: HandlerSupervised>(
    stage: S,
    initial: S::State,
    ctx: S::Context,
) -> (Result<LifecycleRecord, Escalation>, Vec<LifecycleRecord>) {
    let journal = Arc::new(MemoryJournal::new());
    let shared: Arc<dyn Journal<LifecycleRecord>> = journal.clone();
    let result = run_handler_supervised(stage, initial, ctx, Supervision::new(shared)).await;
    (result, journal.records())
}
