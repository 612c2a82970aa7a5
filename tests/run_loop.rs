//! Integration tests of the supervised run loop: directives, both failure paths, panics, escalation, unhandled-event
//! policies, lifecycle records and run_if_not_error. Each test pins the behaviour its name says.

mod support;

use stagewise::{
    ChainEvent, ErrorKind, EventIds, HandleError, HandlerSupervised, Lifecycle, Outputs, StageContext, StageId,
    WriterId,
};
use support::{run_probe, Act, Ctx, Ev, Probe, Script, St};

fn log(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn continue_directive_turns_the_loop_without_feeding_the_machine() {
    let ran = run_probe(
        Probe::new([Script::Continue, Script::Continue, Script::Emit(Ev::Finish)]),
        St::Running,
        Ctx::default(),
    )
    .await;
    let record = ran.result.expect("run completes");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    // Two Continue turns changed nothing; one Finish transition; one Terminate turn.
    assert_eq!(record.counters.transitions, 1);
    assert_eq!(record.counters.loop_turns, 4);
    assert_eq!(ran.log, log(&["enter Running", "exit Running", "finish", "completion"]));
}

#[tokio::test]
async fn transition_directive_feeds_the_event_and_runs_its_actions_in_order() {
    let ctx = Ctx { on_work: vec![Act::Log("a"), Act::Log("b"), Act::Log("c")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Emit(Ev::Work), Script::Emit(Ev::Finish)]), St::Running, ctx).await;
    assert_eq!(ran.result.expect("completes").lifecycle, Lifecycle::Completed);
    assert_eq!(ran.log, log(&["enter Running", "a", "b", "c", "exit Running", "finish", "completion"]));
}

#[tokio::test]
async fn terminate_directive_writes_completion_and_one_completed_record() {
    let ran = run_probe(Probe::new([Script::Terminate]), St::Done, Ctx::default()).await;
    let record = ran.result.expect("completes");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.state, "Done");
    assert_eq!(record.stage, Some(StageId(7)));
    assert_eq!(record.writer, WriterId::Stage(StageId(7)));
    assert_eq!(ran.log, log(&["completion"]));
    assert_eq!(ran.records.len(), 2, "Started then Completed: {:?}", ran.records);
    assert_eq!(ran.records[0].lifecycle, Lifecycle::Started);
}

#[tokio::test]
async fn dispatch_error_takes_failure_path_a_and_runs_failure_actions() {
    let ctx = Ctx { on_failure: vec![Act::Log("report"), Act::Log("cleanup")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Error("disk on fire")]), St::Running, ctx).await;
    let record = ran.result.expect("a handled failure is not an escalation");
    match &record.lifecycle {
        Lifecycle::Failed { error, escalation: None } => {
            assert!(error.contains("dispatch failed in state Running: disk on fire"), "{error}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(record.state, "Failed");
    assert_eq!(record.counters.failures, 1);
    // Leaving Running runs its exit action, then the failure actions, then the failed state terminates.
    assert_eq!(ran.log, log(&["enter Running", "exit Running", "report", "cleanup", "completion"]));
}

#[tokio::test]
async fn action_error_takes_failure_path_b_and_skips_the_remaining_actions() {
    let ctx = Ctx {
        on_work: vec![Act::Log("first"), Act::Fail("second broke"), Act::Log("never")],
        on_failure: vec![Act::Log("report")],
        ..Ctx::default()
    };
    let ran = run_probe(Probe::new([Script::Emit(Ev::Work)]), St::Running, ctx).await;
    match ran.ending() {
        Lifecycle::Failed { error, escalation: None } => assert!(error.contains("action Fail failed: second broke")),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(ran.log, log(&["enter Running", "first", "exit Running", "report", "completion"]));
    assert!(!ran.log.contains(&"never".to_owned()));
}

#[tokio::test]
async fn dispatch_panic_is_caught_and_takes_the_failure_path() {
    let ctx = Ctx { on_failure: vec![Act::Log("report")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Panic("index out of bounds")]), St::Running, ctx).await;
    match &ran.result.as_ref().expect("not escalated").lifecycle {
        Lifecycle::Failed { error, escalation: None } => {
            assert!(error.contains("dispatch panicked in state Running: index out of bounds"), "{error}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(ran.log.contains(&"report".to_owned()));
}

#[tokio::test]
async fn action_panic_is_caught_and_takes_the_failure_path() {
    let ctx = Ctx {
        on_work: vec![Act::Panic("unwrap on None"), Act::Log("never")],
        on_failure: vec![Act::Log("report")],
        ..Ctx::default()
    };
    let ran = run_probe(Probe::new([Script::Emit(Ev::Work)]), St::Running, ctx).await;
    match ran.ending() {
        Lifecycle::Failed { error, escalation: None } => {
            assert!(error.contains("action Panic panicked: unwrap on None"))
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(ran.log, log(&["enter Running", "exit Running", "report", "completion"]));
}

#[tokio::test]
async fn transition_panic_is_caught_and_takes_the_failure_path() {
    let ctx = Ctx { on_failure: vec![Act::Log("report")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Emit(Ev::Explode)]), St::Running, ctx).await;
    match ran.ending() {
        Lifecycle::Failed { error, escalation: None } => {
            assert_eq!(error, "transition on event Explode panicked in state Running: decision bug");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(ran.log.contains(&"report".to_owned()));
}

#[tokio::test]
async fn failure_action_panic_escalates_with_one_failed_record_holding_both_errors() {
    let ctx = Ctx { on_failure: vec![Act::Panic("cleanup exploded"), Act::Log("never")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Error("first failure")]), St::Running, ctx).await;
    let escalation = ran.result.as_ref().expect_err("failure during failure escalates");
    assert!(escalation.first().contains("first failure"));
    assert!(escalation.second().contains("action Panic panicked: cleanup exploded"));
    match ran.ending() {
        Lifecycle::Failed { error, escalation: Some(second) } => {
            assert!(error.contains("first failure"));
            assert!(second.contains("cleanup exploded"));
        }
        other => panic!("expected an escalated Failed record, got {other:?}"),
    }
    assert_eq!(&escalation.record().lifecycle, ran.ending());
    assert!(!ran.log.contains(&"completion".to_owned()), "an escalated run stops at once");
}

#[tokio::test]
async fn an_escalation_shows_what_it_was_handling_and_gives_the_failure_that_escalated_as_its_source() {
    use std::error::Error as _;
    let ctx = Ctx { on_failure: vec![Act::Panic("cleanup exploded")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Error("first failure")]), St::Running, ctx).await;
    let escalation = ran.result.as_ref().expect_err("failure during failure escalates");
    let shown = escalation.to_string();
    assert!(shown.contains("escalated while handling") && shown.contains("first failure"), "{shown}");
    assert!(!shown.contains("cleanup exploded"), "the cause is the source, not repeated in the message: {shown}");
    let source = escalation.source().expect("an escalation has a cause");
    assert_eq!(source.to_string(), escalation.second());
    let cause = source.downcast_ref::<stagewise::RunFailure>().expect("the cause is a RunFailure");
    assert!(cause.message().contains("action Panic panicked: cleanup exploded"), "{}", cause.message());
    assert!(source.source().is_none(), "the chain ends at the failure that escalated");

    // A handle reports it as the escalation itself: same message, same cause.
    let handle_error = HandleError::Escalated(Box::new(escalation.clone()));
    assert_eq!(handle_error.to_string(), shown);
    let through_handle = handle_error.source().expect("the handle's error exposes the cause");
    assert_eq!(through_handle.to_string(), escalation.second());
}

#[tokio::test]
async fn failure_action_error_escalates() {
    let ctx = Ctx { on_failure: vec![Act::Fail("cannot report")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Emit(Ev::Stray)]), St::Running, ctx).await;
    let escalation = ran.result.expect_err("escalates");
    assert!(escalation.first().contains("event Stray is not handled in state Running"), "{}", escalation.first());
    assert!(escalation.second().contains("cannot report"));
}

#[tokio::test]
async fn failure_in_the_failed_state_escalates_instead_of_looping() {
    let ran =
        run_probe(Probe::new([Script::Error("terminal dispatch broke")]), St::Failed("earlier".into()), Ctx::default())
            .await;
    let escalation = ran.result.as_ref().expect_err("escalates");
    assert!(escalation.second().contains("terminal dispatch broke"));
    assert_eq!(ran.terminal().len(), 1);
}

#[tokio::test]
async fn failure_event_that_does_not_reach_a_failed_state_escalates() {
    let ctx = Ctx { misroute_failure: true, ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Error("boom")]), St::Running, ctx).await;
    let escalation = ran.result.expect_err("escalates");
    assert!(
        escalation.second().contains("led to state Running, which is not a failed state"),
        "{}",
        escalation.second()
    );
}

#[tokio::test]
async fn unhandled_event_under_the_fail_policy_takes_the_failure_path() {
    let ctx = Ctx { on_failure: vec![Act::Log("report")], ..Ctx::default() };
    let ran = run_probe(Probe::new([Script::Emit(Ev::Stray)]), St::Running, ctx).await;
    match ran.ending() {
        Lifecycle::Failed { error, escalation: None } => {
            assert_eq!(error, "event Stray is not handled in state Running");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(ran.log.contains(&"report".to_owned()));
}

#[tokio::test]
async fn unhandled_event_under_the_ignore_policy_is_dropped_and_the_run_goes_on() {
    let ran =
        run_probe(Probe::new([Script::Emit(Ev::Noise), Script::Emit(Ev::Finish)]), St::Running, Ctx::default()).await;
    let record = ran.result.expect("completes");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.counters.failures, 0);
    assert_eq!(record.counters.transitions, 1, "the ignored event is not a transition");
}

#[tokio::test]
async fn completion_error_takes_the_failure_path_and_is_not_written_twice() {
    let mut probe = Probe::new([Script::Terminate]);
    probe.completion_error = Some("downstream closed");
    let ctx = Ctx { on_failure: vec![Act::Log("report")], ..Ctx::default() };
    let ran = run_probe(probe, St::Done, ctx).await;
    match ran.ending() {
        Lifecycle::Failed { error, escalation: None } => {
            assert_eq!(error, "write_completion_event failed: downstream closed");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(ran.records.last().unwrap().state, "Failed", "the machine was driven to its failed state");
    assert_eq!(ran.log, log(&["completion", "report"]), "failure actions ran; the completion was written once");
}

#[tokio::test]
async fn completion_error_in_the_failed_state_escalates() {
    let mut probe = Probe::new([Script::Error("first")]);
    probe.completion_error = Some("downstream closed");
    let ran = run_probe(probe, St::Running, Ctx::default()).await;
    let escalation = ran.result.as_ref().expect_err("a second failure escalates");
    assert!(escalation.first().contains("first"));
    assert_eq!(escalation.second(), "write_completion_event failed: downstream closed");
    assert_eq!(ran.terminal().len(), 1);
}

#[tokio::test]
async fn terminating_in_a_cancelled_state_records_cancelled() {
    let ran = run_probe(Probe::new([Script::Emit(Ev::Stop)]), St::Running, Ctx::default()).await;
    match ran.ending() {
        Lifecycle::Cancelled { reason } => assert_eq!(reason, "stopped in state Stopped"),
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn every_run_writes_exactly_one_terminal_lifecycle_record() {
    let scripts: Vec<(Vec<Script>, St, Ctx)> = vec![
        (vec![Script::Emit(Ev::Finish)], St::Running, Ctx::default()),
        (vec![Script::Error("x")], St::Running, Ctx::default()),
        (vec![Script::Panic("x")], St::Running, Ctx::default()),
        (vec![Script::Emit(Ev::Stop)], St::Running, Ctx::default()),
        (vec![Script::Error("x")], St::Running, Ctx { on_failure: vec![Act::Fail("y")], ..Ctx::default() }),
        (vec![Script::Emit(Ev::Wait)], St::Running, Ctx::default()),
    ];
    for (script, initial, ctx) in scripts {
        let ran = run_probe(Probe::new(script), initial, ctx).await;
        assert_eq!(ran.terminal().len(), 1, "{:?}", ran.records);
        assert_eq!(ran.records.first().map(|r| &r.lifecycle), Some(&Lifecycle::Started));
        assert!(ran.records.last().unwrap().lifecycle.is_terminal(), "the terminal record is the last");
    }
}

#[tokio::test]
async fn entry_and_exit_actions_run_around_the_transition_actions() {
    let ran =
        run_probe(Probe::new([Script::Emit(Ev::Start), Script::Emit(Ev::Finish)]), St::Idle, Ctx::default()).await;
    // Idle blocks on control, and there is no control channel here: the run fails rather than hang.
    assert!(matches!(ran.ending(), Lifecycle::Failed { .. }));

    let ran = run_probe(
        Probe::new([Script::Emit(Ev::Wait), Script::Emit(Ev::Work), Script::Emit(Ev::Finish)]),
        St::Running,
        Ctx::default(),
    )
    .await;
    // Initial entry of Running, exit on Wait, re-entry on Work, exit then the transition's own action on Finish.
    assert_eq!(
        ran.log,
        log(&["enter Running", "exit Running", "enter Running", "exit Running", "finish", "completion"])
    );
}

fn event(ids: &mut EventIds, payload: &str) -> ChainEvent<String> {
    ChainEvent::new(ids.next_id(), StageContext::new(StageId(1), "source"), payload.to_owned())
}

#[test]
fn run_if_not_error_passes_error_events_through_untouched() {
    let probe = Probe::new([]);
    let mut ids = EventIds::new(WriterId::Stage(StageId(1)));
    let bad = event(&mut ids, "garbage").into_error(ErrorKind::Parse, "no status field");
    let out = probe.run_if_not_error(bad.clone(), |_| panic!("must not run on an error event"));
    assert_eq!(out.into_vec(), vec![bad]);
}

#[test]
fn run_if_not_error_runs_the_step_on_a_successful_event() {
    let probe = Probe::new([]);
    let mut ids = EventIds::new(WriterId::Stage(StageId(1)));
    let good = event(&mut ids, "hello");
    let out = probe.run_if_not_error(good, |mut e| {
        e.payload = e.payload.to_uppercase();
        Outputs::from_iter([e])
    });
    assert_eq!(out[0].payload, "HELLO");
    assert!(!out[0].is_error());
}

#[test]
fn event_ids_are_ordered_within_a_writer_and_unique_across_writers() {
    let mut a = EventIds::new(WriterId::Stage(StageId(1)));
    let mut b = EventIds::new(WriterId::Stage(StageId(2)));
    let (a0, a1, b0) = (a.next_id(), a.next_id(), b.next_id());
    assert!(a0 < a1);
    assert_eq!(a0.seq, b0.seq);
    assert_ne!(a0, b0);
    assert_eq!(a.issued(), 2);
}
