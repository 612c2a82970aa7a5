//! A deterministic test kit for stages, in the spirit of Akka's `TestFSMRef`: a [`StageProbe`] runs a stage in the
//! real run loop and holds the loop between turns, so a test moves it one turn per call — a dispatch, an injected
//! event or control message, time passing — injects a dispatch, action or completion failure or a panic at a chosen
//! point, and reads the state, what each turn fed and ran, and the lifecycle records. Use it under tokio's paused
//! clock (`#[tokio::test(start_paused = true)]`) so timers resolve at once and in order. A [`PipelineProbe`] does the
//! same for a pipeline's orchestrator while its stages run on their own tasks.
//!
//! There is one implementation of the contract: the probe wraps the stage (its decisions, hooks and actions pass
//! through unchanged) and the run loop drives it, so what a turn does under a probe is what it does in production —
//! the same failure messages, the same failure path, the same records. The probe only holds the loop at the start of
//! each dispatch (a gate) and replaces what dispatch returns when an event or a fault is injected.
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
//! #     type ActionCapacity = stagewise_runtime::DefaultCapacity;
//! #     fn transition(s: &S, e: E, _: &mut u32) -> Decision<S, Log> { match (s, e) { (S::Idle, E::Go) => Decision::goto_with(S::Done, [Log]), (_, E::Fail(_)) => Decision::goto(S::Failed), _ => Decision::Unhandled } } }
//! # impl Supervisor for Stage {
//! #     fn name(&self) -> &'static str { "stage" }
//! #     async fn dispatch_state(&mut self, _: &S, _: &mut u32) -> Result<Directive<E>, BoxError> { Ok(Directive::Transition(E::Go)) }
//! #     fn event_for_action_error(&self, m: String) -> E { E::Fail(m) }
//! # }
//! # impl HandlerSupervised for Stage { fn stage_id(&self) -> StageId { StageId(1) } }
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let mut probe = StageProbe::new(Stage, S::Idle, 0);
//! probe.fail_action(0, "disk full"); // the first action of the next turn fails
//! let turn = probe.step().await;
//! assert_eq!(turn.events, ["Go", "Fail"]);
//! assert_eq!(turn.actions, ["Log"]);
//! assert_eq!(turn.failure.as_deref(), Some("action Log failed: disk full"));
//! assert_eq!(probe.state(), S::Failed);
//! assert!(probe.step().await.ended, "the failed state terminates");
//! let lifecycles: Vec<_> = probe.records().into_iter().map(|r| r.lifecycle).collect();
//! assert!(matches!(&lifecycles[..], [Lifecycle::Started, Lifecycle::Failed { .. }]));
//! # }
//! ```

mod pipeline;
mod probe;
mod probed;

use std::sync::Arc;

use crate::error::Escalation;
use crate::journal::{Journal, MemoryJournal};
use crate::lifecycle::LifecycleRecord;
use crate::run_loop::{run_handler_supervised, Supervision};
use crate::supervisor::HandlerSupervised;

pub use pipeline::PipelineProbe;
pub use probe::StageProbe;

/// A fault to inject into a coming turn. Faults wait in order; each is taken by the first turn that reaches its
/// point (a dispatch, the action at its index, the completion), whatever waits before it for another point.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Dispatch returns this error instead of asking the stage.
    DispatchError(String),
    /// Dispatch panics with this message instead of asking the stage.
    DispatchPanic(String),
    /// The action at this index within a turn (0 for the turn's first) returns this error instead of running.
    ActionError(usize, String),
    /// The action at this index within a turn panics with this message instead of running.
    ActionPanic(usize, String),
    /// The stage's completion ([`Supervisor::write_completion_event`](crate::Supervisor::write_completion_event))
    /// returns this error when the run ends.
    CompletionError(String),
}

/// What one turn did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Turn {
    /// The events fed to the machine, in order: the turn's own, then the failure event if it failed.
    pub events: Vec<&'static str>,
    /// The actions that ran (or were attempted), in order: exit, transition, entry, then failure actions.
    pub actions: Vec<&'static str>,
    /// The state after the turn.
    pub state: &'static str,
    /// The failure that sent the machine down its failure path, as the run loop worded it.
    pub failure: Option<String>,
    /// A second failure while handling the first: the run escalated and ended.
    pub escalation: Option<String>,
    /// The run has ended, during this turn or before (its terminal record is written; see [`StageProbe::outcome`]).
    pub ended: bool,
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
