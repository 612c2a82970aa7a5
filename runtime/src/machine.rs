//! The typed state machine: a pure decision from (state, event, context) to the next state plus the actions to run.
//!
//! Nothing here awaits or performs effects. The run loop feeds events in and executes the actions that come out,
//! so a machine can be tested without a runtime.

use std::time::Duration;

use crate::control::{Control, ControlPolicy};

pub use crate::action_list::{ActionCapacity, ActionList, Actions, DefaultCapacity, Inline, INLINE_ACTIONS};
use smallvec::SmallVec;

mod state_machine;

pub(crate) use state_machine::{Decided, Unsettled};
pub use state_machine::{StateMachine, Step};

/// How a run ends when the machine reaches a terminal state. Non-exhaustive: endings may be added, so a match on it
/// ends with a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Ending {
    /// The stage finished its work.
    Completed,
    /// The stage took its failure path.
    Failed,
    /// The stage was stopped before it finished.
    Cancelled,
}

/// A state of a machine: its static name and whether it ends the run.
pub trait StateVariant {
    /// The state's name, for logs, metrics and diagrams.
    fn name(&self) -> &'static str;

    /// `Some` for a terminal state, saying how a run that ends here ends; `None` for an active state.
    fn ending(&self) -> Option<Ending> {
        None
    }

    /// The message a failed state holds: why the run failed. The run loop puts it in the `Failed` record when the state
    /// was entered by an ordinary transition (a timeout whose event is the failure event, a transition function), so
    /// the reason is kept; `#[handler_supervised]` generates it for a `#[failed]` state holding a `String`. `None` by
    /// default: the record then names the state.
    fn failure_message(&self) -> Option<&str> {
        None
    }

    /// How this state treats the control channel. Terminal states always ignore it, whatever this says.
    fn control_policy(&self) -> ControlPolicy {
        ControlPolicy::Poll
    }
}

/// An event of a machine: its static name.
pub trait EventVariant {
    /// The event's name, for logs, metrics and diagrams.
    fn name(&self) -> &'static str;
}

/// What a state does with an event that it has no transition for.
///
/// A machine chooses per state and event in [`Machine::unhandled`]; `#[ignore(..)]` on a state says it to the macro.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unhandled {
    /// Take the failure path, naming the state and the event.
    Fail,
    /// Drop the event with a debug log.
    Ignore,
}

/// A timeout armed when a state is entered and cancelled when it is left.
#[derive(Debug)]
pub struct StateTimeout<E> {
    /// How long the state may last.
    pub after: Duration,
    /// The event fed to the machine when it does last that long.
    pub event: E,
}

/// The decision of a transition. `C` is the machine's [`ActionCapacity`]: how many actions stay inline.
///
/// ```
/// use stagewise_runtime::machine::Decision;
///
/// let stay: Decision<&str, &str> = Decision::stay_with(["count"]);
/// assert!(matches!(stay, Decision::Stay { ref actions } if actions.as_slice() == ["count"]));
/// let go: Decision<&str, &str> = Decision::goto_with("Draining", ["flush"]);
/// assert!(matches!(go, Decision::Goto { next: "Draining", .. }));
/// ```
#[derive(Debug)]
pub enum Decision<S, A, C: ActionCapacity = DefaultCapacity> {
    /// Leave the current state for `next` (possibly the same state, re-entered): exit actions of the current state,
    /// then `actions`, then entry actions of `next`. Re-arms `next`'s timeout.
    Goto {
        /// The next state.
        next: S,
        /// Actions of the transition itself.
        actions: ActionList<A, C>,
    },
    /// Stay in the current state without leaving it: only `actions` run, no exit or entry, the timeout keeps running.
    Stay {
        /// Actions of the transition.
        actions: ActionList<A, C>,
    },
    /// The current state has no transition for the event; its [`Unhandled`] policy applies.
    Unhandled,
}

impl<S, A, C: ActionCapacity> Decision<S, A, C> {
    /// Go to `next` with no actions of the transition's own.
    pub fn goto(next: S) -> Self {
        Decision::Goto { next, actions: SmallVec::new() }
    }

    /// Go to `next`, running `actions`.
    pub fn goto_with(next: S, actions: impl IntoIterator<Item = A>) -> Self {
        Decision::Goto { next, actions: actions.into_iter().collect() }
    }

    /// Stay, running `actions`.
    pub fn stay_with(actions: impl IntoIterator<Item = A>) -> Self {
        Decision::Stay { actions: actions.into_iter().collect() }
    }

    /// The same decision with its actions in a list of capacity `C2`: how a decision of the default capacity (what a
    /// function transition returns) becomes one of a machine that keeps more actions inline.
    ///
    /// ```
    /// use stagewise_runtime::machine::{Decision, Inline};
    ///
    /// let six: Decision<&str, &str, Inline<6>> = Decision::<&str, &str>::stay_with(["count"]).into_capacity();
    /// assert!(matches!(six, Decision::Stay { ref actions } if actions.inline_size() == 6));
    /// ```
    pub fn into_capacity<C2: ActionCapacity>(self) -> Decision<S, A, C2> {
        match self {
            Decision::Goto { next, actions } => Decision::Goto { next, actions: actions.into_iter().collect() },
            Decision::Stay { actions } => Decision::Stay { actions: actions.into_iter().collect() },
            Decision::Unhandled => Decision::Unhandled,
        }
    }
}

/// The definition of a machine: its four types and its decisions, as associated functions (no `self`), so the
/// decisions depend on nothing but (state, event, context).
///
/// `#[handler_supervised]` writes this impl from an annotated state enum; by hand it is a `match` on (state, event).
/// A machine is tested without a runtime by feeding it events through a [`StateMachine`]:
///
/// ```
/// use stagewise_runtime::machine::{
///     DefaultCapacity, Decision, EventVariant, Machine, StateMachine, StateVariant, Step,
/// };
/// use stagewise_runtime::{Action, BoxError};
///
/// /// A turnstile: a coin unlocks it, a push locks it again.
/// struct Turnstile;
///
/// #[derive(Debug, PartialEq)]
/// enum State { Locked, Unlocked, Broken(String) }
///
/// impl StateVariant for State {
///     fn name(&self) -> &'static str {
///         match self {
///             State::Locked => "Locked",
///             State::Unlocked => "Unlocked",
///             State::Broken(_) => "Broken",
///         }
///     }
/// }
///
/// enum Event { Coin, Push, Jam(String) }
///
/// impl EventVariant for Event {
///     fn name(&self) -> &'static str {
///         match self {
///             Event::Coin => "Coin",
///             Event::Push => "Push",
///             Event::Jam(_) => "Jam",
///         }
///     }
/// }
///
/// #[derive(Debug, PartialEq)]
/// enum Act { Unlock, Lock, Refund }
///
/// impl Action<u32> for Act {
///     fn name(&self) -> &'static str {
///         match self {
///             Act::Unlock => "Unlock",
///             Act::Lock => "Lock",
///             Act::Refund => "Refund",
///         }
///     }
///     async fn execute(self, coins: &mut u32) -> Result<(), BoxError> {
///         if self == Act::Unlock {
///             *coins += 1;
///         }
///         Ok(())
///     }
/// }
///
/// impl Machine for Turnstile {
///     type State = State;
///     type Event = Event;
///     type Context = u32; // coins taken
///     type Action = Act;
///     type ActionCapacity = DefaultCapacity; // up to 4 actions a transition without allocating
///
///     fn transition(state: &State, event: Event, _coins: &mut u32) -> Decision<State, Act> {
///         match (state, event) {
///             (State::Locked, Event::Coin) => Decision::goto_with(State::Unlocked, [Act::Unlock]),
///             (State::Unlocked, Event::Coin) => Decision::stay_with([Act::Refund]),
///             (State::Unlocked, Event::Push) => Decision::goto_with(State::Locked, [Act::Lock]),
///             (_, Event::Jam(why)) => Decision::goto(State::Broken(why)),
///             _ => Decision::Unhandled,
///         }
///     }
/// }
///
/// let mut turnstile = StateMachine::<Turnstile>::new(State::Locked);
/// let Step::Turned { actions, entered } = turnstile.handle(Event::Coin, &mut 0) else { unreachable!() };
/// assert_eq!((actions.as_slice(), entered), ([Act::Unlock].as_slice(), true));
/// assert_eq!(turnstile.state(), &State::Unlocked);
///
/// // Stay: actions run, the state is not left.
/// let Step::Turned { entered, .. } = turnstile.handle(Event::Coin, &mut 1) else { unreachable!() };
/// assert!(!entered);
///
/// turnstile.handle(Event::Push, &mut 1);
/// // No transition for Push in Locked: the run loop would take the failure path.
/// assert!(matches!(turnstile.handle(Event::Push, &mut 1), Step::Rejected { state: "Locked", event: "Push" }));
/// assert_eq!(turnstile.state(), &State::Locked);
/// ```
pub trait Machine {
    /// The states.
    type State: StateVariant + Send + Sync + 'static;
    /// The events.
    type Event: EventVariant + Send + 'static;
    /// What actions (and dispatch) read and write.
    type Context: Send;
    /// The effects a transition asks for.
    type Action: crate::action::Action<Self::Context>;
    /// How many actions one transition keeps inline, without a heap allocation: [`DefaultCapacity`] (that is
    /// [`Inline`]`<`[`INLINE_ACTIONS`]`>`) unless a transition, with its exit and entry actions, runs more. The run
    /// loop's future holds one list, so each action of capacity costs every stage of the machine its size.
    /// `#[handler_supervised]` sizes it from the longest list a declared transition runs. (Rust has no defaults for
    /// associated types yet, so a machine written by hand names it, usually as `DefaultCapacity`.)
    type ActionCapacity: ActionCapacity;

    /// Decides what `event` does in `state`.
    fn transition(
        state: &Self::State,
        event: Self::Event,
        ctx: &mut Self::Context,
    ) -> Decision<Self::State, Self::Action, Self::ActionCapacity>;

    /// Pushes the actions that run when `state` is entered.
    fn on_entry(_state: &Self::State, _actions: &mut ActionsOf<Self>) {}

    /// Pushes the actions that run when `state` is left.
    fn on_exit(_state: &Self::State, _actions: &mut ActionsOf<Self>) {}

    /// The timeout of `state`, if it has one.
    fn timeout(_state: &Self::State) -> Option<StateTimeout<Self::Event>> {
        None
    }

    /// What `state` does with an event it has no transition for. By default: the failure path.
    fn unhandled(_state: &Self::State, _event: &Self::Event) -> Unhandled {
        Unhandled::Fail
    }

    /// The event a control message becomes; `None` ignores the message with a debug log.
    fn control_event(_control: Control) -> Option<Self::Event> {
        None
    }

    /// The event a closed control channel becomes in `state`; `None` takes the failure path.
    fn control_closed(_state: &Self::State) -> Option<Self::Event> {
        None
    }
}

/// The action list of machine `M`, with its own capacity.
pub type ActionsOf<M> = ActionList<<M as Machine>::Action, <M as Machine>::ActionCapacity>;
