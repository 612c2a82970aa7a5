//! The counting stage: the smallest real supervised stage (dispatch, one transition, one action per count), shared by
//! the transition benchmark and the zero-allocation test so both measure the same thing.

use stagewise::{
    BoxError, Decision, Directive, Ending, EventVariant, HandlerSupervised, Machine, StageId, StateVariant, Supervisor,
};

/// Counting until the limit, then Done.
#[derive(Debug, PartialEq)]
pub enum CountState {
    Counting,
    Done,
    Failed,
}

impl StateVariant for CountState {
    fn name(&self) -> &'static str {
        match self {
            CountState::Counting => "Counting",
            CountState::Done => "Done",
            CountState::Failed => "Failed",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            CountState::Counting => None,
            CountState::Done => Some(Ending::Completed),
            CountState::Failed => Some(Ending::Failed),
        }
    }
}

pub enum CountEv {
    Tick,
    Finish,
    Error,
}

impl EventVariant for CountEv {
    fn name(&self) -> &'static str {
        match self {
            CountEv::Tick => "Tick",
            CountEv::Finish => "Finish",
            CountEv::Error => "Error",
        }
    }
}

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

/// Counts to `limit` through the supervised loop.
pub struct Counter {
    pub limit: u64,
}

impl Machine for Counter {
    type State = CountState;
    type Event = CountEv;
    type Context = u64;
    type Action = Increment;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &CountState, event: CountEv, _count: &mut u64) -> Decision<CountState, Increment> {
        match (state, event) {
            (CountState::Counting, CountEv::Tick) => Decision::stay_with([Increment]),
            (CountState::Counting, CountEv::Finish) => Decision::goto(CountState::Done),
            (_, CountEv::Error) => Decision::goto(CountState::Failed),
            _ => Decision::Unhandled,
        }
    }
}

impl Supervisor for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    async fn dispatch_state(&mut self, state: &CountState, count: &mut u64) -> Result<Directive<CountEv>, BoxError> {
        Ok(match state {
            CountState::Counting if *count < self.limit => Directive::Transition(CountEv::Tick),
            CountState::Counting => Directive::Transition(CountEv::Finish),
            CountState::Done | CountState::Failed => Directive::Terminate,
        })
    }
    fn event_for_action_error(&self, _message: String) -> CountEv {
        CountEv::Error
    }
}

impl HandlerSupervised for Counter {
    fn stage_id(&self) -> StageId {
        StageId(1)
    }
}

/// Runs the counter to `limit` under supervision; returns the count reached.
pub async fn count_supervised(limit: u64) -> u64 {
    let record = stagewise::run_handler_supervised(
        Counter { limit },
        CountState::Counting,
        0,
        stagewise::Supervision::default(),
    )
    .await
    .expect("the counter completes");
    record.counters.transitions
}

/// Runs the counter to `limit` with a live control channel, so every turn races control against dispatch.
pub async fn count_supervised_with_control(limit: u64) -> u64 {
    let (_control, rx) = stagewise::control_channel(1);
    let supervision = stagewise::Supervision::default().with_control(rx);
    let record = stagewise::run_handler_supervised(Counter { limit }, CountState::Counting, 0, supervision)
        .await
        .expect("the counter completes");
    record.counters.transitions
}

/// The same work as a bare async `match` loop: the limit of what supervision can cost.
pub async fn count_bare(limit: u64) -> u64 {
    async fn increment(count: &mut u64) {
        // Opaque to the optimizer, so the loop is not folded into a closed form.
        *count = std::hint::black_box(*count + 1);
    }
    let mut state = CountState::Counting;
    let mut count = 0u64;
    let mut transitions = 0u64;
    loop {
        match state {
            CountState::Counting if count < limit => {
                increment(&mut count).await;
                transitions += 1;
            }
            CountState::Counting => {
                state = CountState::Done;
                transitions += 1;
            }
            CountState::Done | CountState::Failed => return transitions,
        }
    }
}
