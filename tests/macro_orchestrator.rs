//! The orchestrator example (`examples/orchestrator.rs`) at run time, not only compiled: a stop request carries a mode
//! and a reason through the inbox; heartbeats reach the `unhandled` hook and are then dropped by the enum-level ignore
//! list; a failure while stages run takes that state's own failure actions (the shared teardown list spliced in) and
//! ends in a failed state that carries the reason and the state it failed in; the completion method writes the
//! summary however the run ends.

#[path = "../examples/orchestrator.rs"]
#[allow(dead_code)]
mod orchestrator;

use orchestrator::{Ctx, Ev, Orchestrator, OrchestratorState, StopMode};
use stagewise::machine::Step;
use stagewise::{event_inbox, run_self_supervised, Action, Lifecycle, StateMachine, Supervision};
use tokio::sync::oneshot;

/// Runs the orchestrator on `events` (all sent before it starts): how it ended, in which state, and its summary.
async fn run(events: Vec<Ev>) -> (Lifecycle, String, Vec<String>) {
    let (tx, requests) = event_inbox(16);
    for event in events {
        tx.try_send(event).expect("room in the inbox");
    }
    let (summary, read) = oneshot::channel();
    let record = run_self_supervised(
        Orchestrator::new(requests, summary),
        OrchestratorState::INITIAL,
        Ctx::default(),
        Supervision::default(),
    )
    .await
    .expect("the orchestrator ends without escalating");
    (record.lifecycle, record.state.into_owned(), read.await.expect("the summary is written"))
}

#[tokio::test]
async fn a_graceful_stop_drains_then_stops_and_heartbeats_are_logged_then_ignored() {
    let events = vec![
        Ev::Heartbeat,
        Ev::Stop { mode: StopMode::Graceful, reason: "end of day".into() },
        Ev::Stop { mode: StopMode::Abort, reason: "ignored while draining".into() },
        Ev::Drained,
    ];
    let (lifecycle, state, summary) = run(events).await;
    assert_eq!((lifecycle, state.as_str()), (Lifecycle::Completed, "Stopped"));
    let expected = [
        "StartStages",
        "stray: Heartbeat in Running",
        // Running's exit action, then the transition's own.
        "log: stages no longer watched",
        "log: end of day",
        "DrainStages",
        "stray: Stop in Draining",
        "StopStages",
        "CloseJournal",
    ];
    assert_eq!(summary, expected);
}

#[tokio::test]
async fn a_failure_while_running_takes_that_states_failure_actions() {
    let (lifecycle, state, summary) = run(vec![Ev::Failed { reason: "parse died".into() }]).await;
    assert!(matches!(lifecycle, Lifecycle::Failed { .. }), "{lifecycle:?}");
    assert_eq!(state, "Failed");
    // Running's exit action, then its own `#[on_failure(Act::Log(message), Act::DrainStages, teardown)]`, the named
    // list spliced in: five actions in one turn.
    let expected = [
        "StartStages",
        "log: stages no longer watched",
        "log: parse died",
        "DrainStages",
        "StopStages",
        "CloseJournal",
    ];
    assert_eq!(summary, expected);
}

#[test]
fn the_failed_state_carries_the_reason_and_the_state_it_failed_in() {
    let mut machine = StateMachine::<Orchestrator>::new(OrchestratorState::Draining);
    let step = machine.handle(Ev::Failed { reason: "disk full".into() }, &mut Ctx::default());
    let Step::Turned { actions, .. } = step else { panic!("the failure edge turns the machine") };
    let names: Vec<&str> = actions.iter().map(Action::<Ctx>::name).collect();
    assert_eq!(names, ["Log", "StopStages", "CloseJournal"], "the enum-level `on_failure`, with `teardown` spliced in");
    assert_eq!(*machine.state(), OrchestratorState::Failed { reason: "disk full".into(), during: "Draining" });
}
