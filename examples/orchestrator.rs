//! A pipeline-level orchestrator written with `#[self_supervised]`: it starts its stages, watches them, and stops
//! on request. Requests and stage reports are its own events, sent with data through its inbox (a stop request
//! carries a mode and a reason) and read under each state's control policy; heartbeats are ignored in every state; the teardown
//! actions are one named list shared by several states, each with its own failure actions; the failed state
//! carries the reason and the state it failed in; every event no transition takes is logged by a hook before the
//! ignore lists decide; the run's summary is written on completion.
//!
//! Run with `cargo run --example orchestrator`.

use stagewise::{
    event_inbox, run_self_supervised, Action, BoxError, Decision, EventInbox, EventVariant, Lifecycle, Supervision,
};
use tokio::sync::oneshot;

#[stagewise::self_supervised(
    stage = Orchestrator, event = Ev, action = Act, context = Ctx,
    failure = Ev::Failed { reason },
    // Named once, used by several states' failure actions and transitions.
    action_lists(teardown = [Act::StopStages, Act::CloseJournal]),
    on_failure = [Act::Log(message), teardown],
    // Every state drops these: liveness only, never a transition.
    ignore = [Ev::Heartbeat],
    // Sees every event no transition takes (logs it here), then leaves it to the ignore lists.
    unhandled = Orchestrator::stray,
    completion = Orchestrator::write_summary,
    // Requests and reports arrive in this field's inbox; states without work of their own wait for them.
    inbox = requests,
)]
#[derive(Debug, PartialEq)]
pub enum OrchestratorState {
    #[initial]
    #[dispatch(emit = Ev::Start)]
    // Requests wait in the inbox until the stages run.
    #[control(ignore)]
    #[on(Ev::Start => Running, actions = [Act::StartStages])]
    Starting,
    #[on(Ev::Stop { mode: StopMode::Graceful, reason } => Draining, actions = [Act::Log(reason), Act::DrainStages])]
    #[on(Ev::Stop { mode: StopMode::Abort, reason } => Aborting, actions = [Act::Log(reason)])]
    #[on(Ev::StageFailed(stage) => stay, actions = [Act::Log(stage)])]
    // Failing while stages run: drain what is in flight first, then the shared teardown.
    #[on_failure(Act::Log(message), Act::DrainStages, teardown)]
    // Whichever way it leaves, it says so: with the failure actions that makes five in one turn, so the macro sizes
    // the machine's action lists to keep five inline (`type ActionCapacity` in `examples/expanded/orchestrator.rs`).
    #[exit(Act::Log("stages no longer watched".into()))]
    Running,
    #[timeout(secs = 5, event = Ev::Deadline)]
    #[on(Ev::Drained => Stopped, actions = [teardown])]
    #[on(Ev::Deadline => Orchestrator::escalate, to = [Aborting, Failed])]
    // A second stop request while draining changes nothing.
    #[ignore(Ev::Stop)]
    Draining,
    // "Abort requested" still takes one final event (the stages' last word) before the run ends: an active state
    // that leads to the terminal one, with a deadline so it cannot hang.
    #[timeout(millis = 500, event = Ev::Deadline)]
    #[on(Ev::Drained | Ev::Deadline => Aborted, actions = [teardown])]
    #[ignore(Ev::Stop, Ev::StageFailed)]
    Aborting,
    #[terminal]
    Stopped,
    #[terminal(cancelled)]
    Aborted,
    #[failed(Orchestrator::failed_state)]
    Failed { reason: String, during: &'static str },
}

/// How to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Let the stages finish what is in flight.
    Graceful,
    /// Stop now.
    Abort,
}

/// The orchestrator's events.
#[derive(Debug, EventVariant)]
pub enum Ev {
    Start,
    Stop { mode: StopMode, reason: String },
    StageFailed(String),
    Drained,
    Heartbeat,
    Deadline,
    Failed { reason: String },
}

/// Its actions.
#[derive(Debug, stagewise::VariantName)]
pub enum Act {
    StartStages,
    DrainStages,
    StopStages,
    CloseJournal,
    Log(String),
}

/// What the actions act on: here, a log of what was done.
#[derive(Debug, Default)]
pub struct Ctx {
    pub log: Vec<String>,
}

impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        let line = match self {
            Act::Log(text) => format!("log: {text}"),
            other => other.variant_name().to_owned(),
        };
        ctx.log.push(line);
        Ok(())
    }
}

/// The orchestrator: its requests (stop, stage reports) arrive in its inbox; its summary leaves on a channel.
pub struct Orchestrator {
    requests: EventInbox<Ev>,
    summary: Option<oneshot::Sender<Vec<String>>>,
}

impl Orchestrator {
    /// An orchestrator reading `requests`, that sends its summary to `summary` when its run ends.
    pub fn new(requests: EventInbox<Ev>, summary: oneshot::Sender<Vec<String>>) -> Self {
        Self { requests, summary: Some(summary) }
    }

    /// The drain deadline passed: abort if the stages still answer, else fail.
    fn escalate(_state: &OrchestratorState, _event: Ev, ctx: &mut Ctx) -> Decision<OrchestratorState, Act> {
        if ctx.log.iter().any(|l| l.contains("StageFailed")) {
            Decision::goto(OrchestratorState::Failed { reason: "drain deadline".into(), during: "Draining" })
        } else {
            Decision::goto_with(OrchestratorState::Aborting, [Act::Log("drain deadline passed".into())])
        }
    }

    /// An event no transition of `state` takes: logged, then left to the ignore lists (and the failure path).
    fn stray(state: &OrchestratorState, event: Ev, ctx: &mut Ctx) -> Decision<OrchestratorState, Act> {
        use stagewise::StateVariant;
        ctx.log.push(format!("stray: {} in {}", event.name(), state.name()));
        Decision::Unhandled
    }

    /// The failed state, from what the macro knows (the state that failed, the message) and what it does not.
    fn failed_state(from: &OrchestratorState, reason: String, _ctx: &mut Ctx) -> OrchestratorState {
        use stagewise::StateVariant;
        OrchestratorState::Failed { reason, during: from.name() }
    }

    /// Written when the run ends, however it ends.
    async fn write_summary(&mut self, ctx: &mut Ctx) -> Result<(), BoxError> {
        let summary = self.summary.take().ok_or("the summary is written once")?;
        summary.send(std::mem::take(&mut ctx.log)).map_err(|_| "nobody reads the summary")?;
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (tx, requests) = event_inbox(8);
    for event in [
        Ev::Heartbeat,
        Ev::StageFailed("parse".into()),
        Ev::Stop { mode: StopMode::Abort, reason: "operator asked".into() },
        Ev::Stop { mode: StopMode::Graceful, reason: "ignored while aborting".into() },
        Ev::Drained,
    ] {
        tx.send(event).await.expect("the orchestrator is there");
    }
    let (summary, read_summary) = oneshot::channel();
    let orchestrator = Orchestrator::new(requests, summary);
    let record = run_self_supervised(orchestrator, OrchestratorState::INITIAL, Ctx::default(), Supervision::default())
        .await
        .expect("the orchestrator ends");
    println!("{:?} in {}", record.lifecycle, record.state);
    for line in read_summary.await.expect("the summary is written") {
        println!("  {line}");
    }
    assert!(matches!(record.lifecycle, Lifecycle::Cancelled { .. }), "{:?}", record.lifecycle);
    println!("\n{}", OrchestratorState::MERMAID);
}
