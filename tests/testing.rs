//! The test kit's own tests: a probe runs a macro-written stage in the real run loop one turn at a time, takes
//! injected events, control messages, dispatch, action and completion failures and panics down the paths the loop
//! takes (with the loop's own words), lets time pass for state timeouts, and reads the state, the context and the
//! records; `run_recorded` returns the records of a whole run.

mod pipeline_support;
mod restart_support;

use std::sync::Arc;
use std::time::Duration;

use pipeline_support::{CountSource, RelaySpec};
use restart_support::{script, End, Plan, ScriptEvent, ScriptState, Scripted};
use stagewise::pipeline::{link, ErrorRecord, Message, OrchestratorState, Pipeline};
use stagewise::testing::{run_recorded, Fault, PipelineProbe, StageProbe};
use stagewise::{Control, Lifecycle, MemoryJournal, StageId};

fn probe_of(plans: Vec<Plan>) -> (StageProbe<Scripted>, stagewise::pipeline::Inlet<u64>) {
    let (out, inlet) = link(4);
    let (stage, ctx) = restart_support::scripted_parts(0, script(plans), out);
    (StageProbe::new(stage, ScriptState::INITIAL, ctx), inlet)
}

fn lifecycles(probe: &StageProbe<Scripted>) -> Vec<Lifecycle> {
    probe.records().into_iter().map(|r| r.lifecycle).collect()
}

#[tokio::test(start_paused = true)]
async fn a_probe_moves_one_turn_per_call_and_reports_what_the_turn_ran() {
    let (mut probe, mut inlet) = probe_of(vec![Plan { emit: vec![7, 8], end: End::Finish }]);
    let entered = probe.enter().await;
    assert_eq!((entered.events.len(), entered.state), (0, "Idle"));
    assert_eq!(lifecycles(&probe), [Lifecycle::Started], "the run started in the real loop");
    let turn = probe.control(Control::Start).await;
    assert_eq!((turn.events, turn.state), (vec!["Start"], "Emitting"));
    let turn = probe.step().await;
    assert_eq!(turn.events, ["Emit"]);
    assert_eq!(turn.actions, ["Send"]);
    assert!(matches!(inlet.recv().await, Some(Message::Events(b)) if b.iter().map(|e| e.payload).eq([7, 8])));
    let turn = probe.step().await;
    assert_eq!((turn.events, turn.actions, turn.state), (vec!["Finish"], vec!["EndOfStream"], "Done"));
    assert!(matches!(inlet.recv().await, Some(Message::EndOfStream)));
    assert!(!turn.ended, "the terminal state has yet to dispatch");
    let turn = probe.step().await;
    assert!(turn.ended, "a terminal state's dispatch terminates the run");
    assert_eq!(lifecycles(&probe), [Lifecycle::Started, Lifecycle::Completed]);
    assert_eq!(probe.outcome().unwrap().as_ref().unwrap().lifecycle, Lifecycle::Completed);
}

#[tokio::test(start_paused = true)]
async fn an_injected_action_failure_takes_the_failure_path_and_the_failed_record_holds_it() {
    let (mut probe, _inlet) = probe_of(vec![Plan { emit: vec![1], end: End::Finish }]);
    probe.control(Control::Start).await;
    probe.fail_action(0, "disk full");
    let turn = probe.step().await;
    assert_eq!(turn.events, ["Emit", "Failure"]);
    assert_eq!(turn.failure.as_deref(), Some("action Send failed: disk full"));
    assert_eq!(probe.state(), ScriptState::Failed("action Send failed: disk full".into()));
    assert_eq!(turn.escalation, None);
    assert!(probe.step().await.ended);
    let failed = Lifecycle::Failed { error: "action Send failed: disk full".into(), escalation: None };
    assert_eq!(lifecycles(&probe), [Lifecycle::Started, failed]);
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
async fn an_injected_event_the_state_rejects_fails_in_the_loops_own_words() {
    let (mut probe, _inlet) = probe_of(vec![]);
    probe.control(Control::Start).await;
    let turn = probe.inject(ScriptEvent::Failure("not from the failure path".into())).await;
    assert_eq!(turn.state, "Failed", "the failure event is handled like any event: {turn:?}");
    let (mut probe, _inlet) = probe_of(vec![]);
    probe.control(Control::Start).await;
    assert_eq!(probe.step().await.state, "Done", "no plan: the instance finishes at once");
    let turn = probe.inject(ScriptEvent::Start).await;
    assert_eq!(turn.failure.as_deref(), Some("event Start is not handled in state Done"));
}

#[tokio::test(start_paused = true)]
async fn control_maps_through_the_machine_and_a_blocking_state_refuses_step() {
    let (mut probe, _inlet) = probe_of(vec![]);
    assert_eq!(probe.control(Control::Stop).await.state, "Cancelled");
    assert!(probe.step().await.ended);
    assert!(
        matches!(&lifecycles(&probe)[1], Lifecycle::Cancelled { reason } if reason.contains("Stop control message")),
        "{:?}",
        probe.records()
    );
    let (mut probe, _inlet) = probe_of(vec![]);
    let refused = tokio::spawn(async move { probe.step().await }).await.unwrap_err().into_panic();
    let message = refused.downcast_ref::<String>().unwrap();
    assert!(message.contains("state Idle, which blocks on the control channel"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn a_failing_completion_takes_the_failure_path_once() {
    let (mut probe, _inlet) = probe_of(vec![Plan { emit: vec![], end: End::Complete }]);
    probe.control(Control::Start).await;
    probe.step().await; // the empty batch
    assert_eq!(probe.step().await.state, "Done");
    probe.inject_fault(Fault::CompletionError("flush refused".into()));
    let turn = probe.step().await;
    assert_eq!(turn.failure.as_deref(), Some("write_completion_event failed: flush refused"));
    assert_eq!((turn.events, turn.state), (vec!["Failure"], "Failed"));
    let turn = probe.step().await;
    assert!(turn.ended && turn.failure.is_none(), "the failed state ends without writing the completion again");
    assert!(matches!(&lifecycles(&probe)[..], [Lifecycle::Started, Lifecycle::Failed { .. }]));
}

#[tokio::test(start_paused = true)]
async fn with_context_reads_the_context_between_turns() {
    let (mut probe, _inlet) = probe_of(vec![Plan { emit: vec![1], end: End::Finish }]);
    assert_eq!(probe.with_context(restart_support::has_sent).await, None, "Idle waits for control, not at a dispatch");
    probe.control(Control::Start).await;
    assert_eq!(probe.with_context(restart_support::has_sent).await, Some(false));
    probe.step().await;
    assert_eq!(probe.with_context(restart_support::has_sent).await, Some(true));
}

#[tokio::test(start_paused = true)]
async fn wait_lets_a_state_timeout_fire_exactly_when_it_is_due() {
    let (mut probe, _inlet) = probe_of(vec![]);
    let t0 = tokio::time::Instant::now();
    // Idle times out after 60 s into Cancelled (nobody started the stage).
    let turn = probe.wait(Duration::from_secs(59)).await;
    assert_eq!((turn.events.len(), turn.state), (0, "Idle"));
    let turn = probe.wait(Duration::from_secs(2)).await;
    assert_eq!((turn.events, turn.state), (vec!["Stop"], "Cancelled"));
    assert_eq!(tokio::time::Instant::now() - t0, Duration::from_secs(61), "wait lets exactly its duration pass");
    assert!(probe.step().await.ended);
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

#[tokio::test(start_paused = true)]
async fn a_pipeline_probe_moves_the_orchestrator_one_turn_per_call_while_the_stages_run() {
    let errors = Arc::new(MemoryJournal::<ErrorRecord>::new());
    let sink = RelaySpec::new(1, "sink", errors.clone()).delay(Duration::from_millis(1));
    let out = sink.collected();
    let pipeline = Pipeline::builder("probed")
        .errors(errors)
        .source(|out| CountSource::stage(StageId(0), u64::MAX, 4, out))
        .sink(|inlet| sink.build(inlet, None));
    let mut probe = PipelineProbe::new(pipeline);
    assert_eq!(probe.enter().await.actions, ["StartAll"]);
    tokio::time::sleep(Duration::from_millis(10)).await; // the stages run on their own tasks meanwhile
    let turn = probe.control(Control::Drain).await;
    assert_eq!((turn.events, turn.actions, turn.state), (vec!["Drain"], vec!["DrainAll"], "Draining"));
    let mut events = Vec::new();
    loop {
        let turn = probe.step().await;
        events.extend(turn.events);
        if turn.ended {
            break;
        }
    }
    assert_eq!(events.last(), Some(&"AllEnded"), "{events:?}");
    assert_eq!(probe.state(), OrchestratorState::Completed);
    let outcome = probe.outcome().unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(probe.links()[0].sent, out.lock().unwrap().payloads.len() as u64, "in = out, nothing lost on drain");
    let mine: Vec<_> = probe.records().into_iter().filter(|r| r.supervisor == "probed").map(|r| r.lifecycle).collect();
    assert_eq!(mine, [Lifecycle::Started, Lifecycle::Completed]);
}

#[tokio::test(start_paused = true)]
async fn a_fault_waiting_for_another_point_does_not_hold_back_the_next_one() {
    use stagewise::countdown::{Countdown, CountdownState};
    let mut probe = StageProbe::new(Countdown::new(3), CountdownState::Counting, 0);
    probe.inject_fault(Fault::ActionError(7, "no turn has an eighth action".into()));
    probe.inject_fault(Fault::DispatchError("queued behind it".into()));
    let turn = probe.step().await;
    assert_eq!(turn.failure.as_deref(), Some("dispatch failed in state Counting: queued behind it"));
}
