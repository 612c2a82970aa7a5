//! The counting stage twice over the same types: once written with `#[handler_supervised]`, once by hand, so the
//! macro's run-time cost can be measured against code without it (`benches/macro_cost.rs`). The macro twin's step is
//! a `sync` method, as a user would write a step that computes its event; a third twin, the same machine with an
//! `async` method, shows what awaiting a method's future costs (information, no target).

use stagewise::{
    BoxError, Decision, Directive, Ending, EventVariant, HandlerSupervised, Machine, Stage, StageId, StateVariant,
    Supervisor,
};

/// The events both twins share.
#[derive(Debug, EventVariant)]
pub enum CountEv {
    Tick,
    Finish,
    Error(String),
}

/// The one action: count.
#[derive(Debug)]
pub struct Increment;

impl stagewise::Action<u64> for Increment {
    fn name(&self) -> &'static str {
        "Increment"
    }
    async fn execute(self, count: &mut u64) -> Result<(), BoxError> {
        *count += 1;
        Ok(())
    }
}

/// What both twins do each turn in `Counting`.
fn next_event(count: u64, limit: u64) -> CountEv {
    if count < limit {
        CountEv::Tick
    } else {
        CountEv::Finish
    }
}

/// With the macro.
#[derive(Stage)]
pub struct MacroCounter {
    id: StageId,
    limit: u64,
}

#[stagewise::handler_supervised(
    stage = MacroCounter, event = CountEv, action = Increment, context = u64, failure = CountEv::Error,
)]
#[derive(Debug, PartialEq)]
pub enum MacroState {
    #[initial]
    #[dispatch(MacroCounter::next, sync)]
    #[on(CountEv::Tick => stay, actions = [Increment])]
    #[on(CountEv::Finish => Done)]
    Counting,
    #[terminal]
    Done,
    #[failed]
    Failed,
}

impl MacroCounter {
    /// Computes the event: a plain method, called with no future.
    fn next(&mut self, count: &mut u64) -> Result<Directive<CountEv>, BoxError> {
        Ok(Directive::Transition(next_event(*count, self.limit)))
    }
}

/// With the macro and an `async` step: the same machine, its method's future created and awaited each turn.
#[derive(Stage)]
pub struct MacroAsyncCounter {
    id: StageId,
    limit: u64,
}

#[stagewise::handler_supervised(
    stage = MacroAsyncCounter, event = CountEv, action = Increment, context = u64, failure = CountEv::Error,
)]
#[derive(Debug, PartialEq)]
pub enum MacroAsyncState {
    #[initial]
    #[dispatch(MacroAsyncCounter::next)]
    #[on(CountEv::Tick => stay, actions = [Increment])]
    #[on(CountEv::Finish => Done)]
    Counting,
    #[terminal]
    Done,
    #[failed]
    Failed,
}

impl MacroAsyncCounter {
    async fn next(&mut self, count: &mut u64) -> Result<Directive<CountEv>, BoxError> {
        Ok(Directive::Transition(next_event(*count, self.limit)))
    }
}

/// By hand, the same machine.
pub struct HandCounter {
    limit: u64,
}

/// The hand twin's states.
#[derive(Debug, PartialEq)]
pub enum HandState {
    Counting,
    Done,
    Failed,
}

impl StateVariant for HandState {
    fn name(&self) -> &'static str {
        match self {
            HandState::Counting => "Counting",
            HandState::Done => "Done",
            HandState::Failed => "Failed",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            HandState::Counting => None,
            HandState::Done => Some(Ending::Completed),
            HandState::Failed => Some(Ending::Failed),
        }
    }
}

impl Machine for HandCounter {
    type State = HandState;
    type Event = CountEv;
    type Context = u64;
    type Action = Increment;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &HandState, event: CountEv, _count: &mut u64) -> Decision<HandState, Increment> {
        match (state, event) {
            (HandState::Counting, CountEv::Tick) => Decision::stay_with([Increment]),
            (HandState::Counting, CountEv::Finish) => Decision::goto(HandState::Done),
            (HandState::Failed, CountEv::Error(_)) => Decision::Stay { actions: stagewise::Actions::new() },
            (_, CountEv::Error(_)) => Decision::goto(HandState::Failed),
            _ => Decision::Unhandled,
        }
    }
}

impl Supervisor for HandCounter {
    fn name(&self) -> &'static str {
        "hand_counter"
    }
    async fn dispatch_state(&mut self, state: &HandState, count: &mut u64) -> Result<Directive<CountEv>, BoxError> {
        Ok(match state {
            HandState::Counting => Directive::Transition(next_event(*count, self.limit)),
            HandState::Done | HandState::Failed => Directive::Terminate,
        })
    }
    fn event_for_action_error(&self, message: String) -> CountEv {
        CountEv::Error(message)
    }
}

impl HandlerSupervised for HandCounter {
    fn stage_id(&self) -> StageId {
        StageId(1)
    }
}

/// Counts to `limit` with the macro-written twin; returns the transitions made.
pub async fn count_with_macro(limit: u64) -> u64 {
    let stage = MacroCounter { id: StageId(1), limit };
    let record =
        stagewise::run_handler_supervised(stage, MacroState::INITIAL, 0, stagewise::Supervision::default()).await;
    record.expect("the counter completes").counters.transitions
}

/// Counts to `limit` with the macro-written twin whose step is `async`; returns the transitions made.
pub async fn count_with_async_macro(limit: u64) -> u64 {
    let stage = MacroAsyncCounter { id: StageId(1), limit };
    let record =
        stagewise::run_handler_supervised(stage, MacroAsyncState::INITIAL, 0, stagewise::Supervision::default()).await;
    record.expect("the counter completes").counters.transitions
}

/// Counts to `limit` with the hand-written twin; returns the transitions made.
pub async fn count_by_hand(limit: u64) -> u64 {
    let stage = HandCounter { limit };
    let record =
        stagewise::run_handler_supervised(stage, HandState::Counting, 0, stagewise::Supervision::default()).await;
    record.expect("the counter completes").counters.transitions
}
