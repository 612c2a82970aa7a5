//! The anchor the run loop is compared with: a faithful copy of the reference supervision loop, the one stagewise grew
//! from (`HandlerSupervisedExt::run` in ObzenFlow's `handler_supervised.rs`, kept as
//! `../shared/reference/seed-handler_supervised.rs.txt`), on the crate it was written against, `obzenflow-fsm` 0.3.2
//! (a dev-dependency only: nothing of it ships). It drives the same counting work as `tests/support/counting.rs`:
//! dispatch says Tick while the count is under the limit, the machine stays in Counting with one Increment action.
//!
//! Copied as is: the state cloned each turn, `async_trait` dispatch, `StateMachine::handle` (names as `String` keys,
//! boxed handler futures, a `Vec` of actions), the per-turn and per-action `tracing` calls (disabled here, as in the
//! run loop's benchmark). Left out, since the counting work never reaches them: `run_if_not_error`, `spawn_task`,
//! `cancel_task`. The base `Supervisor` trait (not in the reference file) is reduced to what the loop calls: `name`
//! and `build_state_machine`. `obzenflow_core`'s `WriterId` and `StageId` are stagewise's.

#![allow(dead_code)] // The parts of the reference the counting work never reaches are kept, as in the original.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use obzenflow_fsm::{fsm, EventVariant, FsmAction, FsmContext, StateMachine, StateVariant, Transition};
use stagewise::{StageId, WriterId};

/// What `dispatch_state` tells the loop (the reference's `EventLoopDirective`).
#[derive(Debug)]
pub enum EventLoopDirective<E> {
    Continue,
    Transition(E),
    Terminate,
}

/// The reference's base trait, reduced to what its loop calls.
pub trait Supervisor {
    type State: StateVariant;
    type Event: EventVariant;
    type Context: FsmContext;
    type Action: FsmAction<Context = Self::Context>;
    fn name(&self) -> &str;
    fn build_state_machine(
        &self,
        initial_state: Self::State,
    ) -> StateMachine<Self::State, Self::Event, Self::Context, Self::Action>;
}

/// The reference's `HandlerSupervised`, without the helper its loop does not call.
#[async_trait::async_trait]
pub trait HandlerSupervised: Supervisor {
    async fn dispatch_state(
        &mut self,
        state: &Self::State,
        context: &mut Self::Context,
    ) -> Result<EventLoopDirective<Self::Event>, Box<dyn std::error::Error + Send + Sync>>;
    fn writer_id(&self) -> WriterId;
    fn stage_id(&self) -> StageId;
    async fn write_completion_event(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;
    fn event_for_action_error(&self, msg: String) -> Self::Event;
}

/// The reference loop, line for line.
#[async_trait::async_trait]
pub trait HandlerSupervisedExt: HandlerSupervised {
    async fn run(
        mut self,
        initial_state: Self::State,
        context: Self::Context,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
    where
        Self: Sized + Send,
        Self::State: Send + Sync + 'static,
        Self::Event: Send + Sync + 'static,
        Self::Context: 'static,
        Self::Action: 'static,
    {
        let supervisor_name = self.name().to_string();
        let supervisor_writer = self.writer_id();
        let supervisor_stage = self.stage_id();
        let mut context = context;
        let mut machine = self.build_state_machine(initial_state);
        let mut loop_iteration: u64 = 0;
        loop {
            loop_iteration += 1;
            let current_state = machine.state().clone();
            tracing::debug!(
                target: "obzenflow_runtime::supervised_base::handler_supervised",
                iteration = loop_iteration,
                state = %current_state.variant_name(),
                "HandlerSupervised::run loop iteration start"
            );
            let directive = match self.dispatch_state(&current_state, &mut context).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(
                        supervisor = %supervisor_name,
                        writer_id = ?supervisor_writer,
                        stage_id = ?supervisor_stage,
                        state = %current_state.variant_name(),
                        error = %e,
                        "dispatch_state returned error; driving FSM through failure path"
                    );
                    let failure_event = self.event_for_action_error(format!(
                        "dispatch_state error in {}: {e}",
                        current_state.variant_name()
                    ));
                    let failure_actions = machine.handle(failure_event, &mut context).await.map_err(|fe| {
                        format!(
                            "FSM error after dispatch_state failure (missing Error handler in state {}?): {fe}",
                            current_state.variant_name()
                        )
                    })?;
                    tracing::info!(
                        supervisor = %supervisor_name,
                        writer_id = ?supervisor_writer,
                        stage_id = ?supervisor_stage,
                        iteration = loop_iteration,
                        action_count = failure_actions.len(),
                        "HandlerSupervised: executing failure-handling actions"
                    );
                    for (i, failure_action) in failure_actions.into_iter().enumerate() {
                        tracing::info!(
                            supervisor = %supervisor_name,
                            writer_id = ?supervisor_writer,
                            stage_id = ?supervisor_stage,
                            iteration = loop_iteration,
                            action_index = i,
                            action = ?failure_action,
                            "HandlerSupervised: executing failure-handling action"
                        );
                        failure_action
                            .execute(&mut context)
                            .await
                            .map_err(|e2| format!("Action error during dispatch_state failure handling: {e2}"))?;
                    }
                    continue;
                }
            };
            tracing::debug!(
                target: "obzenflow_runtime::supervised_base::handler_supervised",
                iteration = loop_iteration,
                state = %current_state.variant_name(),
                directive = ?directive,
                "HandlerSupervised::run dispatch_state returned directive"
            );
            match directive {
                EventLoopDirective::Continue => {
                    tokio::task::yield_now().await;
                    continue;
                }
                EventLoopDirective::Transition(event) => {
                    tracing::info!(
                        target: "flowip-080o",
                        iteration = loop_iteration,
                        event = ?event,
                        "HandlerSupervised: handling FSM transition event"
                    );
                    let actions = machine.handle(event, &mut context).await.map_err(|e| format!("FSM error: {e}"))?;
                    tracing::info!(
                        target: "flowip-080o",
                        iteration = loop_iteration,
                        action_count = actions.len(),
                        "HandlerSupervised: FSM returned actions, executing sequentially"
                    );
                    for (i, action) in actions.into_iter().enumerate() {
                        tracing::info!(
                            target: "flowip-080o",
                            iteration = loop_iteration,
                            action_index = i,
                            action = ?action,
                            "HandlerSupervised: executing action"
                        );
                        if let Err(e) = action.execute(&mut context).await {
                            tracing::error!(
                                target: "flowip-080o",
                                iteration = loop_iteration,
                                action_index = i,
                                error = %e,
                                "HandlerSupervised action failed; emitting failure event"
                            );
                            let failure_event = self.event_for_action_error(format!("{e}"));
                            let failure_actions = machine
                                .handle(failure_event, &mut context)
                                .await
                                .map_err(|fe| format!("FSM error after action failure: {fe}"))?;
                            tracing::info!(
                                target: "flowip-080o",
                                iteration = loop_iteration,
                                action_count = failure_actions.len(),
                                "HandlerSupervised: executing failure-handling actions"
                            );
                            for (j, failure_action) in failure_actions.into_iter().enumerate() {
                                tracing::info!(
                                    target: "flowip-080o",
                                    iteration = loop_iteration,
                                    action_index = j,
                                    action = ?failure_action,
                                    "HandlerSupervised: executing failure-handling action"
                                );
                                failure_action
                                    .execute(&mut context)
                                    .await
                                    .map_err(|e2| format!("Action error during failure handling: {e2}"))?;
                            }
                            break;
                        }
                        tracing::info!(
                            target: "flowip-080o",
                            iteration = loop_iteration,
                            action_index = i,
                            "HandlerSupervised: action completed"
                        );
                    }
                    tracing::info!(
                        target: "flowip-080o",
                        iteration = loop_iteration,
                        "HandlerSupervised: all actions completed"
                    );
                }
                EventLoopDirective::Terminate => {
                    self.write_completion_event().await?;
                    break;
                }
            }
        }
        Ok(())
    }
}

impl<T: HandlerSupervised> HandlerSupervisedExt for T {}

/// Counting until the limit, then Done (the counting stage's states).
#[derive(Clone, Debug, PartialEq)]
pub enum CountState {
    Counting,
    Done,
    Failed,
}

impl StateVariant for CountState {
    fn variant_name(&self) -> &str {
        match self {
            CountState::Counting => "Counting",
            CountState::Done => "Done",
            CountState::Failed => "Failed",
        }
    }
}

#[derive(Clone, Debug)]
pub enum CountEv {
    Tick,
    Finish,
    Error(String),
}

impl EventVariant for CountEv {
    fn variant_name(&self) -> &str {
        match self {
            CountEv::Tick => "Tick",
            CountEv::Finish => "Finish",
            CountEv::Error(_) => "Error",
        }
    }
}

/// The count, and how many transitions the machine made.
#[derive(Default)]
pub struct Count {
    pub value: u64,
    pub transitions: u64,
}

impl FsmContext for Count {}

#[derive(Clone, Debug)]
pub struct Increment;

#[async_trait::async_trait]
impl FsmAction for Increment {
    type Context = Count;
    async fn execute(&self, ctx: &mut Count) -> obzenflow_fsm::types::FsmResult<()> {
        ctx.value += 1;
        Ok(())
    }
}

/// Counts to `limit` through the reference loop. The loop consumes its context, so the terminal dispatch leaves the
/// number of transitions in `reached` for the caller to check.
pub struct Counter {
    pub limit: u64,
    pub reached: Arc<AtomicU64>,
}

impl Supervisor for Counter {
    type State = CountState;
    type Event = CountEv;
    type Context = Count;
    type Action = Increment;

    fn name(&self) -> &str {
        "counter"
    }

    fn build_state_machine(&self, initial_state: CountState) -> StateMachine<CountState, CountEv, Count, Increment> {
        let _ = initial_state; // `fsm!` takes the initial state as a literal; the loop always starts in Counting.
        fsm! {
            state:   CountState;
            event:   CountEv;
            context: Count;
            action:  Increment;
            initial: CountState::Counting;

            state CountState::Counting {
                on CountEv::Tick => |_s: &CountState, _e: &CountEv, ctx: &mut Count| {
                    Box::pin(async move {
                        ctx.transitions += 1;
                        Ok(Transition { next_state: CountState::Counting, actions: vec![Increment] })
                    })
                };
                on CountEv::Finish => |_s: &CountState, _e: &CountEv, ctx: &mut Count| {
                    Box::pin(async move {
                        ctx.transitions += 1;
                        Ok(Transition { next_state: CountState::Done, actions: vec![] })
                    })
                };
                on CountEv::Error => |_s: &CountState, _e: &CountEv, ctx: &mut Count| {
                    Box::pin(async move {
                        ctx.transitions += 1;
                        Ok(Transition { next_state: CountState::Failed, actions: vec![] })
                    })
                };
            }
        }
    }
}

#[async_trait::async_trait]
impl HandlerSupervised for Counter {
    async fn dispatch_state(
        &mut self,
        state: &CountState,
        context: &mut Count,
    ) -> Result<EventLoopDirective<CountEv>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(match state {
            CountState::Counting if context.value < self.limit => EventLoopDirective::Transition(CountEv::Tick),
            CountState::Counting => EventLoopDirective::Transition(CountEv::Finish),
            CountState::Done | CountState::Failed => {
                self.reached.store(context.transitions, Ordering::Relaxed);
                EventLoopDirective::Terminate
            }
        })
    }
    fn writer_id(&self) -> WriterId {
        WriterId::Stage(StageId(1))
    }
    fn stage_id(&self) -> StageId {
        StageId(1)
    }
    async fn write_completion_event(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }
    fn event_for_action_error(&self, msg: String) -> CountEv {
        CountEv::Error(msg)
    }
}

/// Runs the counter to `limit` through the reference loop; returns the transitions it made.
pub async fn count_reference(limit: u64) -> u64 {
    let reached = Arc::new(AtomicU64::new(0));
    let counter = Counter { limit, reached: reached.clone() };
    counter.run(CountState::Counting, Count::default()).await.expect("the reference counter completes");
    reached.load(Ordering::Relaxed)
}
