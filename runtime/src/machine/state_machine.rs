//! A machine in motion ([`StateMachine`]): feeds it events and applies its decisions, the only way its state changes.

use smallvec::SmallVec;

use super::{
    ActionCapacity, ActionList, ActionsOf, Decision, DefaultCapacity, EventVariant, Machine, StateVariant, Unhandled,
};

/// The outcome of feeding one event to a [`StateMachine`].
#[derive(Debug)]
pub enum Step<A, C: ActionCapacity = DefaultCapacity> {
    /// The machine turned; run these actions in order.
    Turned {
        /// Exit, transition and entry actions, in the order they run.
        actions: ActionList<A, C>,
        /// True when the machine left its state (a [`Decision::Goto`]), so the state timeout is re-armed.
        entered: bool,
    },
    /// The state ignored the event (its [`Unhandled::Ignore`] policy).
    Ignored {
        /// The state that ignored it.
        state: &'static str,
        /// The event's name.
        event: &'static str,
    },
    /// The state has no transition for the event and its policy is [`Unhandled::Fail`].
    Rejected {
        /// The state that rejected it.
        state: &'static str,
        /// The event's name.
        event: &'static str,
    },
}

/// A machine in motion: the current state and the definition that moves it.
pub struct StateMachine<M: Machine> {
    state: M::State,
    /// Set while the current state's exit hook runs; still set afterwards only if it panicked. The next transition
    /// (the failure transition the loop takes for that panic) then leaves without calling the hook again, instead of
    /// panicking a second time and escalating.
    exit_unwound: bool,
}

impl<M: Machine> std::fmt::Debug for StateMachine<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateMachine").field("state", &self.state.name()).finish()
    }
}

impl<M: Machine> StateMachine<M> {
    /// A machine in `initial`. Entry actions of the initial state are not run here; see [`StateMachine::enter`].
    pub fn new(initial: M::State) -> Self {
        Self { state: initial, exit_unwound: false }
    }

    /// The current state.
    pub fn state(&self) -> &M::State {
        &self.state
    }

    /// The entry actions of the current state, for starting a run.
    pub fn enter(&self) -> ActionsOf<M> {
        let mut actions = SmallVec::new();
        M::on_entry(&self.state, &mut actions);
        actions
    }

    /// Feeds `event` to the machine and returns the actions to run. This is the only way the state changes.
    #[inline(always)]
    pub fn handle(&mut self, event: M::Event, ctx: &mut M::Context) -> Step<M::Action, M::ActionCapacity> {
        match self.decide(event, ctx) {
            // Not traced (its actions are): a steady turn pays for no second disabled `trace!` check.
            Decided::Stay(actions) => Step::Turned { actions, entered: false },
            Decided::Other(other) => self.settle(other),
        }
    }

    /// The machine's decision on `event`, before it is applied: a stay (the common steady turn, which changes nothing
    /// but runs its actions) with its list as the transition built it, or anything else for [`settle`](Self::settle).
    /// The run loop matches the stay in place, so its list is not copied through a [`Step`] on every turn.
    #[inline(always)]
    pub(crate) fn decide(&self, event: M::Event, ctx: &mut M::Context) -> Decided<M> {
        let event_name = event.name();
        let unhandled = M::unhandled(&self.state, &event);
        match M::transition(&self.state, event, ctx) {
            Decision::Stay { actions } => Decided::Stay(actions),
            decision => Decided::Other(Unsettled { decision, unhandled, event_name }),
        }
    }

    /// Applies a decision that is not a stay: leaves the state for a `Goto`, or names the event a state has no
    /// transition for. Out of line: a steady turn does not carry its code.
    #[inline(never)]
    pub(crate) fn settle(&mut self, unsettled: Unsettled<M>) -> Step<M::Action, M::ActionCapacity> {
        let Unsettled { decision, unhandled, event_name } = unsettled;
        match decision {
            Decision::Stay { actions } => Step::Turned { actions, entered: false },
            Decision::Goto { next, actions } => self.leave_for(next, actions, event_name),
            Decision::Unhandled => {
                let state = self.state.name();
                match unhandled {
                    Unhandled::Ignore => Step::Ignored { state, event: event_name },
                    Unhandled::Fail => Step::Rejected { state, event: event_name },
                }
            }
        }
    }

    /// Leaves the current state for `next`: its exit actions, the transition's own, then `next`'s entry actions.
    fn leave_for(
        &mut self,
        next: M::State,
        own: ActionsOf<M>,
        event_name: &'static str,
    ) -> Step<M::Action, M::ActionCapacity> {
        let mut actions = SmallVec::new();
        if !self.exit_unwound {
            self.exit_unwound = true;
            M::on_exit(&self.state, &mut actions);
        }
        self.exit_unwound = false;
        actions.extend(own);
        M::on_entry(&next, &mut actions);
        tracing::trace!(from = self.state.name(), to = next.name(), event = event_name, "transition");
        self.state = next;
        Step::Turned { actions, entered: true }
    }
}

/// What [`StateMachine::decide`] found: a stay's actions, or a decision still to [`settle`](StateMachine::settle).
pub(crate) enum Decided<M: Machine> {
    /// Stay in the current state and run these actions.
    Stay(ActionsOf<M>),
    /// A `Goto` or an unhandled event.
    Other(Unsettled<M>),
}

/// A decision that is not a stay, with what applying it needs to know about the event that was consumed.
pub(crate) struct Unsettled<M: Machine> {
    decision: Decision<M::State, M::Action, M::ActionCapacity>,
    /// The state's policy for the event, asked before the transition consumed it.
    unhandled: Unhandled,
    event_name: &'static str,
}
