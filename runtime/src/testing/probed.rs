//! The supervisor a probe runs: the user's stage (or a pipeline's orchestrator) wrapped so that the real run loop drives it, while a gate in dispatch
//! holds the loop between turns, hands it injected events and faults, and a log records what each turn fed and ran.
//! Everything else (the machine's decisions, hooks, timeouts, control mapping) is the user's, passed through.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use crate::action::Action;
use crate::control::Control;
use crate::directive::Directive;
use crate::error::BoxError;
use crate::event::{StageId, WriterId};
use crate::machine::{ActionList, ActionsOf, Decision, EventVariant, Machine, StateTimeout, Unhandled};
use crate::supervisor::{HandlerSupervised, SelfSupervised, Supervisor};

use super::{Fault, Turn};

/// A closure run on the state and context while the loop waits at the gate.
type Inspect<S> = Box<dyn FnOnce(&<S as Machine>::State, &mut <S as Machine>::Context) + Send>;

/// What the probe and the wrapped stage share: the gate between turns and the log of the current turn.
pub(crate) struct Gate<S: Supervisor> {
    /// The next turn may begin: the loop passes the gate once.
    pub(super) open: bool,
    /// The loop waits at the gate now.
    pub(super) parked: bool,
    /// How many times the loop came to the gate.
    pub(super) arrivals: u64,
    /// User code is running (the stage's dispatch, an action, the completion): the loop is not at rest.
    pub(super) busy: u32,
    /// Events dispatch returns instead of asking the stage, in order.
    pub(super) injected: VecDeque<S::Event>,
    /// Faults waiting for a turn that can take them.
    pub(super) faults: VecDeque<Fault>,
    /// What the current turn did so far.
    pub(super) turn: Turn,
    /// The index of the current turn's next action.
    pub(super) action: usize,
    /// The state as last decided or dispatched in.
    pub(super) state: S::State,
    /// Run on the state and context at the gate.
    pub(super) inspect: Option<Inspect<S>>,
}

impl<S: Supervisor> Gate<S> {
    /// Takes the first waiting fault for the point a turn reached (`here`), leaving the others waiting in order.
    fn take_fault(&mut self, here: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let at = self.faults.iter().position(here)?;
        self.faults.remove(at)
    }
}

pub(crate) type Shared<S> = Arc<Mutex<Gate<S>>>;

/// Locks the gate, taking the data of a poisoned one: a panic in user code never happens while it is held.
pub(super) fn lock<S: Supervisor>(shared: &Shared<S>) -> MutexGuard<'_, Gate<S>> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Marks user code running while it lives; dropped on return, panic or cancellation.
struct Busy<'a, S: Supervisor>(&'a Shared<S>);

impl<'a, S: Supervisor> Busy<'a, S> {
    fn new(shared: &'a Shared<S>) -> Self {
        lock(shared).busy += 1;
        Self(shared)
    }
}

impl<S: Supervisor> Drop for Busy<'_, S> {
    fn drop(&mut self) {
        lock(self.0).busy -= 1;
    }
}

/// The loop waiting at the gate; no longer parked once dropped (passed, or dispatch dropped for a control message).
struct Parked<'a, S: Supervisor> {
    shared: &'a Shared<S>,
    arrived: bool,
}

impl<S: Supervisor> Parked<'_, S> {
    fn poll(&mut self, state: &S::State, ctx: &mut S::Context) -> Poll<()> {
        let inspect = lock(self.shared).inspect.take();
        if let Some(inspect) = inspect {
            inspect(state, ctx);
        }
        let mut gate = lock(self.shared);
        if gate.open {
            gate.open = false;
            gate.parked = false;
            return Poll::Ready(());
        }
        if !self.arrived {
            self.arrived = true;
            gate.arrivals += 1;
        }
        gate.parked = true;
        Poll::Pending
    }
}

impl<S: Supervisor> Drop for Parked<'_, S> {
    fn drop(&mut self) {
        lock(self.shared).parked = false;
    }
}

/// The user's stage, driven by the real run loop under a probe.
pub(crate) struct Probed<S: Supervisor> {
    pub(super) inner: S,
    pub(super) shared: Shared<S>,
}

/// The user's context, with the gate for the actions.
pub(crate) struct ProbedContext<S: Supervisor> {
    pub(super) inner: S::Context,
    pub(super) shared: Shared<S>,
}

/// One of the user's actions, logged and open to an injected fault.
pub(crate) struct ProbedAction<S: Supervisor>(S::Action);

fn wrap<S: Supervisor>(actions: ActionsOf<S>) -> ActionList<ProbedAction<S>, S::ActionCapacity> {
    actions.into_iter().map(ProbedAction).collect()
}

impl<S: Supervisor> Action<ProbedContext<S>> for ProbedAction<S> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    async fn execute(self, ctx: &mut ProbedContext<S>) -> Result<(), BoxError> {
        let fault = {
            let mut gate = lock(&ctx.shared);
            let index = gate.action;
            gate.action += 1;
            gate.turn.actions.push(self.0.name());
            gate.take_fault(
                |fault| matches!(fault, Fault::ActionError(at, _) | Fault::ActionPanic(at, _) if *at == index),
            )
        };
        match fault {
            Some(Fault::ActionError(_, message)) => return Err(message.into()),
            Some(Fault::ActionPanic(_, message)) => std::panic::panic_any(message),
            _ => {}
        }
        let _busy = Busy::new(&ctx.shared);
        self.0.execute(&mut ctx.inner).await
    }
}

impl<S: Supervisor> Machine for Probed<S>
where
    S::State: Clone,
{
    type State = S::State;
    type Event = S::Event;
    type Context = ProbedContext<S>;
    type Action = ProbedAction<S>;
    type ActionCapacity = S::ActionCapacity;

    fn transition(
        state: &S::State,
        event: S::Event,
        ctx: &mut ProbedContext<S>,
    ) -> Decision<S::State, Self::Action, S::ActionCapacity> {
        lock(&ctx.shared).turn.events.push(event.name());
        match S::transition(state, event, &mut ctx.inner) {
            Decision::Goto { next, actions } => {
                lock(&ctx.shared).state = next.clone();
                Decision::Goto { next, actions: wrap::<S>(actions) }
            }
            Decision::Stay { actions } => Decision::Stay { actions: wrap::<S>(actions) },
            Decision::Unhandled => Decision::Unhandled,
        }
    }

    fn on_entry(state: &S::State, actions: &mut ActionsOf<Self>) {
        let mut inner = ActionsOf::<S>::new();
        S::on_entry(state, &mut inner);
        actions.extend(wrap::<S>(inner));
    }

    fn on_exit(state: &S::State, actions: &mut ActionsOf<Self>) {
        let mut inner = ActionsOf::<S>::new();
        S::on_exit(state, &mut inner);
        actions.extend(wrap::<S>(inner));
    }

    fn timeout(state: &S::State) -> Option<StateTimeout<S::Event>> {
        S::timeout(state)
    }

    fn unhandled(state: &S::State, event: &S::Event) -> Unhandled {
        S::unhandled(state, event)
    }

    fn control_event(control: Control) -> Option<S::Event> {
        S::control_event(control)
    }

    fn control_closed(state: &S::State) -> Option<S::Event> {
        S::control_closed(state)
    }
}

/// What dispatch does once the gate lets the turn begin.
enum Next<E> {
    Injected(E),
    Fault(Fault),
    Dispatch,
}

impl<S: Supervisor> Supervisor for Probed<S>
where
    S::State: Clone,
{
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn dispatch_state(
        &mut self,
        state: &S::State,
        ctx: &mut ProbedContext<S>,
    ) -> Result<Directive<S::Event>, BoxError> {
        let shared = self.shared.clone();
        lock(&shared).state = state.clone();
        let mut parked = Parked { shared: &shared, arrived: false };
        std::future::poll_fn(|_| parked.poll(state, &mut ctx.inner)).await;
        drop(parked);
        let next = {
            let mut gate = lock(&shared);
            match gate.injected.pop_front() {
                Some(event) => Next::Injected(event),
                None => {
                    match gate.take_fault(|fault| matches!(fault, Fault::DispatchError(_) | Fault::DispatchPanic(_))) {
                        Some(fault) => Next::Fault(fault),
                        None => Next::Dispatch,
                    }
                }
            }
        };
        match next {
            Next::Injected(event) => Ok(Directive::Transition(event)),
            Next::Fault(Fault::DispatchPanic(message)) => std::panic::panic_any(message),
            Next::Fault(Fault::DispatchError(message)) => Err(message.into()),
            Next::Fault(_) | Next::Dispatch => {
                let _busy = Busy::new(&shared);
                self.inner.dispatch_state(state, &mut ctx.inner).await
            }
        }
    }

    fn event_for_action_error(&self, message: String) -> S::Event {
        lock(&self.shared).turn.failure.get_or_insert_with(|| message.clone());
        self.inner.event_for_action_error(message)
    }

    async fn write_completion_event(&mut self, ctx: &mut ProbedContext<S>) -> Result<(), BoxError> {
        let fault = {
            let mut gate = lock(&self.shared);
            gate.take_fault(|fault| matches!(fault, Fault::CompletionError(_)))
        };
        if let Some(Fault::CompletionError(message)) = fault {
            return Err(message.into());
        }
        let _busy = Busy::new(&self.shared);
        self.inner.write_completion_event(&mut ctx.inner).await
    }
}

impl<S: HandlerSupervised> HandlerSupervised for Probed<S>
where
    S::State: Clone,
{
    fn stage_id(&self) -> StageId {
        self.inner.stage_id()
    }

    fn writer_id(&self) -> WriterId {
        self.inner.writer_id()
    }
}

impl<S: SelfSupervised> SelfSupervised for Probed<S>
where
    S::State: Clone,
{
    fn writer_id(&self) -> WriterId {
        SelfSupervised::writer_id(&self.inner)
    }
}
