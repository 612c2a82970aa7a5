//! A ready-made stage, written by hand against the traits, for the examples in these docs and for tests that need
//! some stage to spawn, control, fail or wire: [`Countdown`] counts a number of ticks and completes.
//!
//! It is also the smallest complete stage to read: one [`Machine`], one [`Supervisor`], one [`HandlerSupervised`].

use crate::action::Action;
use crate::control::Control;
use crate::directive::Directive;
use crate::error::BoxError;
use crate::event::StageId;
use crate::machine::{Decision, DefaultCapacity, Ending, EventVariant, Machine, StateVariant};
use crate::supervisor::{HandlerSupervised, Supervisor};

/// A stage that counts `ticks` turns (its context holds the count) and completes; told to, it fails at a chosen tick.
/// [`Control::Stop`] cancels it, [`Control::Drain`] completes it at once.
///
/// ```
/// use stagewise_runtime::countdown::{Countdown, CountdownState};
/// use stagewise_runtime::handle::{spawn_handler_supervised, SpawnOptions};
/// use stagewise_runtime::lifecycle::Lifecycle;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut handle = spawn_handler_supervised(Countdown::new(3), CountdownState::Counting, 0, SpawnOptions::default());
/// let record = handle.outcome().await.unwrap();
/// assert!(matches!(record.lifecycle, Lifecycle::Completed { .. }));
/// assert_eq!(handle.counters().transitions, 4); // three ticks and the end
///
/// let mut failing = spawn_handler_supervised(
///     Countdown::new(3).failing_at(1),
///     CountdownState::Counting,
///     0,
///     SpawnOptions::default(),
/// );
/// let record = failing.outcome().await.unwrap();
/// assert!(matches!(record.lifecycle, Lifecycle::Failed { .. }));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Countdown {
    id: StageId,
    ticks: u32,
    fail_at: Option<u32>,
}

impl Countdown {
    /// A countdown of `ticks` turns, with stage id 1.
    pub fn new(ticks: u32) -> Self {
        Self { id: StageId(1), ticks, fail_at: None }
    }

    /// The same with stage id `id`.
    pub fn with_id(mut self, id: StageId) -> Self {
        self.id = id;
        self
    }

    /// Its dispatch returns an error when the count reaches `tick`, which takes the stage down its failure path.
    pub fn failing_at(mut self, tick: u32) -> Self {
        self.fail_at = Some(tick);
        self
    }
}

/// The states of a [`Countdown`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountdownState {
    /// Counting ticks.
    Counting,
    /// All ticks counted, or drained.
    Done,
    /// Stopped before the end.
    Stopped,
    /// Failed, with the reason.
    Failed(String),
}

impl StateVariant for CountdownState {
    fn name(&self) -> &'static str {
        match self {
            CountdownState::Counting => "Counting",
            CountdownState::Done => "Done",
            CountdownState::Stopped => "Stopped",
            CountdownState::Failed(_) => "Failed",
        }
    }

    fn ending(&self) -> Option<Ending> {
        match self {
            CountdownState::Counting => None,
            CountdownState::Done => Some(Ending::Completed),
            CountdownState::Stopped => Some(Ending::Cancelled),
            CountdownState::Failed(_) => Some(Ending::Failed),
        }
    }

    fn failure_message(&self) -> Option<&str> {
        match self {
            CountdownState::Failed(why) => Some(why),
            _ => None,
        }
    }
}

/// The events of a [`Countdown`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountdownEvent {
    /// One more tick.
    Tick,
    /// Every tick counted, or a Drain.
    Finished,
    /// A Stop.
    Stop,
    /// Something failed: an error, a panic, a rejected event.
    Fail(String),
}

impl EventVariant for CountdownEvent {
    fn name(&self) -> &'static str {
        match self {
            CountdownEvent::Tick => "Tick",
            CountdownEvent::Finished => "Finished",
            CountdownEvent::Stop => "Stop",
            CountdownEvent::Fail(_) => "Fail",
        }
    }
}

/// The one action of a [`Countdown`]: count a tick in the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count;

impl Action<u32> for Count {
    fn name(&self) -> &'static str {
        "Count"
    }

    async fn execute(self, counted: &mut u32) -> Result<(), BoxError> {
        *counted += 1;
        Ok(())
    }
}

impl Machine for Countdown {
    type State = CountdownState;
    type Event = CountdownEvent;
    type Context = u32;
    type Action = Count;
    type ActionCapacity = DefaultCapacity;

    fn transition(state: &CountdownState, event: CountdownEvent, _: &mut u32) -> Decision<CountdownState, Count> {
        match (state, event) {
            (CountdownState::Counting, CountdownEvent::Tick) => Decision::stay_with([Count]),
            (CountdownState::Counting, CountdownEvent::Finished) => Decision::goto(CountdownState::Done),
            (CountdownState::Counting, CountdownEvent::Stop) => Decision::goto(CountdownState::Stopped),
            (_, CountdownEvent::Fail(why)) => Decision::goto(CountdownState::Failed(why)),
            _ => Decision::Unhandled,
        }
    }

    fn control_event(control: Control) -> Option<CountdownEvent> {
        match control {
            Control::Drain => Some(CountdownEvent::Finished),
            Control::Stop => Some(CountdownEvent::Stop),
            _ => None,
        }
    }
}

impl Supervisor for Countdown {
    fn name(&self) -> &'static str {
        "countdown"
    }

    async fn dispatch_state(
        &mut self,
        state: &CountdownState,
        counted: &mut u32,
    ) -> Result<Directive<CountdownEvent>, BoxError> {
        if state.ending().is_some() {
            return Ok(Directive::Terminate); // a terminal state ends the run
        }
        // Let other tasks (and control messages) in between ticks, as a stage awaiting input would.
        tokio::task::yield_now().await;
        if self.fail_at == Some(*counted) {
            return Err(format!("told to fail at tick {counted}").into());
        }
        Ok(Directive::Transition(if *counted < self.ticks { CountdownEvent::Tick } else { CountdownEvent::Finished }))
    }

    fn event_for_action_error(&self, message: String) -> CountdownEvent {
        CountdownEvent::Fail(message)
    }
}

impl HandlerSupervised for Countdown {
    fn stage_id(&self) -> StageId {
        self.id
    }
}
