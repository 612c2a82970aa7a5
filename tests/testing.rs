//! The test kit's own tests: a probe moves a macro-written stage one turn at a time, takes injected events, control
//! messages, dispatch and action failures and panics down the paths the run loop would, and `run_recorded` returns
//! the records of a real run.

mod restart_support;

use restart_support::{script, End, Plan, ScriptEvent, ScriptState, Scripted};
use stagewise::pipeline::{link, Message};
use stagewise::testing::{run_recorded, Fault, StageProbe};
use stagewise::{Control, Lifecycle};

fn probe_of(plans: Vec<Plan>) -> (StageProbe<Scripted>, stagewise::pipeline::Inlet<u64>) {
    let (out, inlet) = link(4);
    let (stage, ctx) = restart_support::scripted_parts(0, script(plans), out);
    (StageProbe::new(stage, ScriptState::INITIAL, ctx), inlet)
}

#[tokio::test(start_paused = true)]
async fn a_probe_moves_one_turn_per_call_and_reports_what_the_turn_ran() {
    let (mut probe, mut inlet) = probe_of(vec![Plan { emit: vec![7, 8], end: End::Finish }]);
    assert_eq!(*probe.state(), ScriptState::Idle);
    let turn = probe.control(Control::Start).await;
    assert_eq!((turn.events, turn.state), (vec!["Start"], "Emitting"));
    let turn = probe.step().await;
    assert_eq!(turn.events, ["Emit"]);
    assert_eq!(turn.actions, ["Send"]);
    assert!(matches!(inlet.recv().await, Some(Message::Events(b)) if b.iter().map(|e| e.payload).eq([7, 8])));
    let turn = probe.step().await;
    assert_eq!((turn.events, turn.actions, turn.state), (vec!["Finish"], vec!["EndOfStream"], "Done"));
    assert!(matches!(inlet.recv().await, Some(Message::EndOfStream)));
    assert!(probe.step().await.terminated, "a terminal state's dispatch terminates");
}

#[tokio::test(start_paused = true)]
async fn an_injected_action_failure_takes_the_failure_path() {
    let (mut probe, _inlet) = probe_of(vec![Plan { emit: vec![1], end: End::Finish }]);
    probe.control(Control::Start).await;
    probe.fail_action(0, "disk full");
    let turn = probe.step().await;
    assert_eq!(turn.events, ["Emit", "Failure"]);
    assert_eq!(turn.failure.as_deref(), Some("action Send failed: disk full"));
    assert_eq!(*probe.state(), ScriptState::Failed("action Send failed: disk full".into()));
    assert_eq!(turn.escalation, None);
}

#[tokio::test(start_paused = true)]
async fn injected_dispatch_errors_and_panics_name_the_state_they_happened_in() {
    let (mut probe, _inlet) = probe_of(vec![]);
    probe.control(Control::Start).await;
    probe.inject_fault(Fault::DispatchPanic("boom".into()));
    let turn = probe.step().await;
    assert_eq!(turn.failure.as_deref(), Some("dispatch panicked in state Emitting: boom"));
    assert_eq!(turn.state, "Failed");

    let (mut probe, _inlet) = probe_of(vec![]);
    probe.control(Control::Start).await;
    probe.inject_fault(Fault::DispatchError("no input".into()));
    assert_eq!(probe.step().await.failure.as_deref(), Some("dispatch failed in state Emitting: no input"));
}

#[tokio::test(start_paused = true)]
async fn an_injected_action_panic_is_caught_and_takes_the_failure_path() {
    let (mut probe, _inlet) = probe_of(vec![]);
    probe.control(Control::Start).await;
    probe.inject_fault(Fault::ActionPanic(0, "injected".into()));
    let turn = probe.inject(ScriptEvent::Emit(Vec::new())).await;
    assert_eq!(turn.failure.as_deref(), Some("action Send panicked: injected"));
    assert_eq!(turn.state, "Failed");
}

#[tokio::test(start_paused = true)]
async fn an_event_the_state_rejects_is_a_failure_and_control_maps_through_the_machine() {
    let (mut probe, _inlet) = probe_of(vec![]);
    let turn = probe.inject(ScriptEvent::Complete).await;
    assert_eq!(turn.failure.as_deref(), Some("event Complete rejected in state Idle"));
    let (mut probe, _inlet) = probe_of(vec![]);
    assert_eq!(probe.control(Control::Stop).await.state, "Cancelled");
}

#[tokio::test(start_paused = true)]
async fn run_recorded_returns_the_records_of_a_real_run() {
    let (out, _inlet) = link::<u64>(4);
    let (stage, ctx) = restart_support::scripted_parts(0, script([Plan { emit: vec![], end: End::Fail }]), out);
    let run = tokio::spawn(run_recorded(stage, ScriptState::Emitting, ctx));
    let (result, records) = run.await.unwrap();
    let lifecycles: Vec<_> = records.iter().map(|r| r.lifecycle.clone()).collect();
    assert_eq!(lifecycles.len(), 2, "{records:?}");
    assert_eq!(lifecycles[0], Lifecycle::Started);
    assert!(matches!(&lifecycles[1], Lifecycle::Failed { error, .. } if error.contains("scripted failure")));
    assert_eq!(result.unwrap().lifecycle, lifecycles[1]);
}
