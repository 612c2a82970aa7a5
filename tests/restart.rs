//! Restart policies under paused time: restart types after each ending, strategies, intensity, backoff, Stop during a
//! backoff, and the accounting of what a failed stage held (in = out + errors across restarts).

mod pipeline_support;
mod restart_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline_support::{Collected, CountSource, RelaySpec, Verdict};
use restart_support::{restart_decisions, restart_delays, scripted, starts, End, Journals, Plan};
use stagewise::pipeline::{ErrorJournal, OrchestratorState, PipelineHandle};
use stagewise::restart::{Backoff, BackoffClock, Restart, RestartStrategy, RestartType};
use stagewise::testing::PipelineProbe;
use stagewise::{Control, Journal, Lifecycle, StageId};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// A relay factory sharing `collected` and `work` across instances.
fn relay(
    id: u32,
    name: &'static str,
    errors: ErrorJournal,
    collected: Arc<Mutex<Collected>>,
    fail_on: &'static [u64],
    delay: Option<Duration>,
) -> impl FnMut(
    stagewise::pipeline::Inlet<u64>,
    Option<stagewise::pipeline::Outlet<u64>>,
) -> stagewise::pipeline::PipelineStage
       + Send
       + 'static {
    move |inlet, outlet| {
        let mut spec = RelaySpec::new(id, name, errors.clone());
        spec.collected = collected.clone();
        spec.delay = delay;
        spec.work(move |p| if fail_on.contains(&p) { Verdict::FailStage("poison") } else { Verdict::Payload(p) })
            .build(inlet, outlet)
    }
}

fn count_source(
    total: u64,
    batch: usize,
) -> impl FnOnce(stagewise::pipeline::Outlet<u64>) -> stagewise::pipeline::PipelineStage {
    move |out| CountSource::stage(StageId(0), total, batch, out)
}

async fn outcome(mut handle: PipelineHandle) -> stagewise::pipeline::PipelineOutcome {
    tokio::time::timeout(Duration::from_secs(3600), handle.outcome()).await.expect("the pipeline hung").unwrap()
}

#[tokio::test(start_paused = true)]
async fn each_restart_type_restarts_after_exactly_the_endings_it_names() {
    for kind in [RestartType::Permanent, RestartType::Transient, RestartType::Temporary] {
        for end in [End::Complete, End::Fail, End::Cancel] {
            let journals = Journals::new();
            let collected = Arc::new(Mutex::new(Collected::default()));
            let plans = [Plan { emit: vec![1, 2], end }, Plan { emit: vec![3], end: End::Finish }];
            let restart = Restart::of(kind).backoff(Backoff::none());
            let sink = relay(1, "sink", journals.errors(), collected.clone(), &[], None);
            let mut sink = sink;
            let handle = journals
                .builder("types")
                .restartable_source(restart, scripted(0, restart_support::script(plans)))
                .sink(move |inlet| sink(inlet, None))
                .spawn();
            let outcome = outcome(handle).await;
            let expected = match kind {
                RestartType::Permanent => true,
                RestartType::Transient => end == End::Fail,
                RestartType::Temporary => false,
            };
            let case = format!("{kind:?} after {end:?}: {outcome}");
            let decisions = restart_decisions(&journals.lifecycle);
            let cause = match end {
                End::Complete => "ended: completed",
                End::Fail => "scripted failure",
                _ => "was cancelled: ",
            };
            if expected {
                assert!(decisions.first().is_some_and(|(_, n, why)| *n == 1 && why.contains(cause)), "{case}");
                assert!(starts(&journals.lifecycle, "scripted") >= 2, "{case}");
                assert_eq!(collected.lock().unwrap().payloads, [1, 2, 3], "{case}: the sink saw only a pause");
            } else {
                assert_eq!(decisions, [], "{case}");
                assert_eq!(starts(&journals.lifecycle, "scripted"), 1, "{case}");
                assert_eq!(outcome.restarts()[0], ("scripted", 0), "{case}");
                assert!(matches!(outcome.lifecycle(), Lifecycle::Failed { .. }), "{case}: the link closed");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_restarted_transform_resumes_reading_its_input_link_and_in_equals_out_plus_errors() {
    let journals = Journals::new();
    let out = Arc::new(Mutex::new(Collected::default()));
    let mut transform = relay(1, "parse", journals.errors(), Arc::default(), &[137, 555], None);
    let mut sink = relay(2, "sink", journals.errors(), out.clone(), &[], None);
    let restart = Restart::transient().intensity(10, Duration::from_secs(1)).backoff(Backoff::none());
    let handle = journals
        .builder("resume")
        .source(count_source(1000, 10))
        .restartable_transform(restart, move |inlet, outlet| transform(inlet, Some(outlet)))
        .sink(move |inlet| sink(inlet, None))
        .spawn();
    let outcome = outcome(handle).await;
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(outcome.restarts(), [("count", 0), ("parse", 2), ("sink", 0)]);
    let held = journals.stage_failed();
    let mut held_payload_ids: Vec<u64> = held.iter().map(|r| r.id.seq).collect();
    held_payload_ids.sort_unstable();
    let expected: Vec<u64> = (130..140).chain(550..560).collect();
    assert_eq!(held_payload_ids, expected, "exactly the two batches the stage held when it failed");
    assert!(held.iter().all(|r| r.message.starts_with("stage parse (stage-1) held it when its run failed: ")));
    assert!(held.iter().all(|r| r.message.ends_with("poison")), "{held:?}");
    let payloads = out.lock().unwrap().payloads.clone();
    let resumed: Vec<u64> = (0..1000).filter(|p| !expected.contains(p)).collect();
    assert_eq!(payloads, resumed, "every other event, in order: each instance read on where the last stopped");
    assert_eq!(payloads.len() as u64 + journals.errors.len(), 1000, "in = out + errors");
}

#[tokio::test(start_paused = true)]
async fn intensity_exceeded_escalates_once_with_one_record() {
    let journals = Journals::new();
    let mut transform = relay(1, "parse", journals.errors(), Arc::default(), &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], None);
    let mut sink = relay(2, "sink", journals.errors(), Arc::default(), &[], None);
    let restart = Restart::transient().intensity(3, Duration::from_secs(10)).backoff(Backoff::none());
    let handle = journals
        .builder("intense")
        .source(count_source(100, 1))
        .restartable_transform(restart, move |inlet, outlet| transform(inlet, Some(outlet)))
        .sink(move |inlet| sink(inlet, None))
        .spawn();
    let outcome = outcome(handle).await;
    match outcome.lifecycle() {
        Lifecycle::Failed { error, .. } => {
            assert!(error.contains("stage parse (stage-1) failed: action Process failed: poison"), "{error}");
            assert!(error.contains("gave up after 3 restarts (at most 3 within 10s)"), "{error}");
        }
        other => panic!("expected the pipeline to fail, got {other:?}"),
    }
    assert_eq!(restart_delays(&journals.lifecycle, "parse").len(), 3);
    assert_eq!(starts(&journals.lifecycle, "parse"), 4, "the first run and three restarts");
    let pipeline_failed = journals
        .lifecycle
        .records()
        .into_iter()
        .filter(|r| r.supervisor == "intense" && matches!(r.lifecycle, Lifecycle::Failed { .. }))
        .count();
    assert_eq!(pipeline_failed, 1, "the escalation is one record");
    assert_eq!(outcome.restarts()[1], ("parse", 3));
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_follow_the_declared_curve_exactly_under_paused_time() {
    let journals = Journals::new();
    let starts_at = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let mut transform = relay(1, "parse", journals.errors(), Arc::default(), &[0, 1, 2, 3, 4, 5], None);
    let mut sink = relay(2, "sink", journals.errors(), Arc::default(), &[], None);
    let curve = Backoff::exponential(MS * 10, MS * 80).jitter(0.25).seed(42).reset_after(Duration::from_secs(60));
    let restart = Restart::transient().intensity(100, Duration::from_secs(60)).backoff(curve.clone());
    let seen = starts_at.clone();
    let handle = journals
        .builder("curve")
        .source(count_source(10, 1))
        .restartable_transform(restart, move |inlet, outlet| {
            seen.lock().unwrap().push(Instant::now() - t0);
            transform(inlet, Some(outlet))
        })
        .sink(move |inlet| sink(inlet, None))
        .spawn();
    let outcome = outcome(handle).await;
    assert!(outcome.is_completed(), "{outcome}");
    let mut clock = BackoffClock::new(curve, 1);
    let expected: Vec<Duration> = (0..6).map(|_| clock.next_delay(t0)).collect();
    assert_eq!(restart_delays(&journals.lifecycle, "parse"), expected, "the seeded curve, decision by decision");
    for (n, delay) in expected.iter().enumerate() {
        let base = [10, 20, 40, 80, 80, 80][n];
        assert!(*delay >= MS * base && *delay <= MS * (base + base / 4), "{n}: {delay:?} (the curve, up to +25%)");
    }
    // Each instance fails at once on a queued poison event, so instance k starts the sum of the first k delays in.
    let mut at = Duration::ZERO;
    let mut expected_starts = vec![at];
    for delay in &expected {
        at += *delay;
        expected_starts.push(at);
    }
    assert_eq!(*starts_at.lock().unwrap(), expected_starts, "the restarts happen exactly when the curve says");
}

#[tokio::test(start_paused = true)]
async fn backoff_starts_over_after_the_stage_ran_stably_for_reset_after() {
    let journals = Journals::new();
    let mut transform = relay(1, "parse", journals.errors(), Arc::default(), &[1, 2, 40], Some(MS * 10));
    let mut sink = relay(2, "sink", journals.errors(), Arc::default(), &[], None);
    let curve = Backoff::exponential(MS * 10, Duration::from_secs(1)).reset_after(MS * 100);
    let restart = Restart::transient().intensity(100, Duration::from_secs(60)).backoff(curve);
    let handle = journals
        .builder("reset")
        .source(count_source(50, 1))
        .restartable_transform(restart, move |inlet, outlet| transform(inlet, Some(outlet)))
        .sink(move |inlet| sink(inlet, None))
        .spawn();
    assert!(outcome(handle).await.is_completed());
    // Fails 20 ms in (10 ms), again 10 ms after its restart (20 ms, the curve goes on), then after 380 ms of stable
    // running (10 ms: the curve started over).
    assert_eq!(restart_delays(&journals.lifecycle, "parse"), [MS * 10, MS * 20, MS * 10]);
}

#[tokio::test(start_paused = true)]
async fn stop_during_a_backoff_ends_it_within_one_turn_and_the_pipeline_is_cancelled() {
    let journals = Journals::new();
    let mut transform = relay(1, "parse", journals.errors(), Arc::default(), &[3], None);
    let out = Arc::new(Mutex::new(Collected::default()));
    let mut sink = relay(2, "sink", journals.errors(), out.clone(), &[], None);
    let restart = Restart::transient().backoff(Backoff::exponential(Duration::from_secs(10), Duration::from_secs(10)));
    let pipeline = journals
        .builder("stopped")
        .source(count_source(100, 1))
        .restartable_transform(restart, move |inlet, outlet| transform(inlet, Some(outlet)))
        .sink(move |inlet| sink(inlet, None));
    // The test kit moves the orchestrator one turn at a time: up to the restart decision, then the Stop.
    let mut probe = PipelineProbe::new(pipeline);
    while restart_delays(&journals.lifecycle, "parse").is_empty() {
        assert!(!probe.step().await.ended, "the pipeline ended before parse failed");
    }
    let stopped_at = Instant::now();
    let turn = probe.control(Control::Stop).await;
    assert_eq!((turn.events, turn.actions), (vec!["Stop"], vec!["CancelRestarts", "StopAll"]), "in the Stop's turn");
    assert_eq!(probe.state(), OrchestratorState::Stopping);
    while !probe.step().await.ended {}
    assert_eq!(Instant::now(), stopped_at, "no time passed: the backoff timer was not waited out");
    let outcome = probe.outcome().unwrap();
    assert!(matches!(outcome.lifecycle(), Lifecycle::Cancelled { .. }), "{outcome}");
    assert_eq!(starts(&journals.lifecycle, "parse"), 1, "the restart was given up");
    // Nothing is lost: what the stopped stages held or had queued is in the error journal.
    let sent = probe.links()[0].sent;
    assert_eq!(sent, out.lock().unwrap().payloads.len() as u64 + journals.errors.len(), "in = out + errors");
}

/// A pipeline of a plain source and three restartable stages, the second of which fails once; returns the restart
/// decisions journaled, the stages' restarts and the order the stages started in after the first round.
async fn strategy_run(
    strategy: RestartStrategy,
) -> (Vec<(String, u32, String)>, Vec<(&'static str, u32)>, Vec<String>) {
    let journals = Journals::new();
    let out = Arc::new(Mutex::new(Collected::default()));
    let mut first = relay(1, "first", journals.errors(), Arc::default(), &[], None);
    let mut second = relay(2, "second", journals.errors(), Arc::default(), &[50], None);
    let mut sink = relay(3, "sink", journals.errors(), out.clone(), &[], None);
    let restart = || Restart::transient().backoff(Backoff::exponential(MS * 5, MS * 5));
    let handle = journals
        .builder("strategy")
        .strategy(strategy)
        .source(count_source(100, 5))
        .restartable_transform(restart(), move |inlet, outlet| first(inlet, Some(outlet)))
        .restartable_transform(restart(), move |inlet, outlet| second(inlet, Some(outlet)))
        .restartable_sink(restart(), move |inlet| sink(inlet, None))
        .spawn();
    let links = {
        let outcome = outcome(handle).await;
        assert!(outcome.is_completed(), "{strategy:?}: {outcome}");
        outcome.restarts()
    };
    let records = journals.lifecycle.records();
    let first_restart = records.iter().position(|r| matches!(r.lifecycle, Lifecycle::Restarting { .. })).unwrap();
    let started_after: Vec<String> = records[first_restart..]
        .iter()
        .filter(|r| r.lifecycle == Lifecycle::Started)
        .map(|r| r.supervisor.to_string())
        .collect();
    let in_count = 100;
    assert_eq!(out.lock().unwrap().payloads.len() as u64 + journals.errors.len(), in_count, "in = out + errors");
    (restart_decisions(&journals.lifecycle), links, started_after)
}

#[tokio::test(start_paused = true)]
async fn only_failed_restarts_the_failed_stage_alone() {
    let (decisions, restarts, started) = strategy_run(RestartStrategy::OnlyFailed).await;
    assert_eq!(decisions, [("second".to_owned(), 1, "failed: action Process failed: poison".to_owned())]);
    assert_eq!(restarts, [("count", 0), ("first", 0), ("second", 1), ("sink", 0)]);
    assert_eq!(started, ["second"]);
}

#[tokio::test(start_paused = true)]
async fn all_restarts_every_restartable_stage_source_first() {
    let (decisions, restarts, started) = strategy_run(RestartStrategy::All).await;
    let sibling = "restarted with stage second (stage-2), which failed: action Process failed: poison".to_owned();
    assert_eq!(
        decisions,
        [
            ("second".to_owned(), 1, "failed: action Process failed: poison".to_owned()),
            ("first".to_owned(), 1, sibling.clone()),
            ("sink".to_owned(), 1, sibling),
        ],
        "the failed stage's decision first, then its siblings' in pipeline order; the plain source is left running"
    );
    assert_eq!(restarts, [("count", 0), ("first", 1), ("second", 1), ("sink", 1)]);
    assert_eq!(started, ["first", "second", "sink"], "fresh instances start in pipeline order");
}

#[tokio::test(start_paused = true)]
async fn failed_and_downstream_restarts_the_failed_stage_and_every_stage_after_it() {
    let (decisions, restarts, started) = strategy_run(RestartStrategy::FailedAndDownstream).await;
    let sibling = "restarted with stage second (stage-2), which failed: action Process failed: poison".to_owned();
    assert_eq!(
        decisions,
        [("second".to_owned(), 1, "failed: action Process failed: poison".to_owned()), ("sink".to_owned(), 1, sibling)]
    );
    assert_eq!(restarts, [("count", 0), ("first", 0), ("second", 1), ("sink", 1)]);
    assert_eq!(started, ["second", "sink"]);
}

#[tokio::test(start_paused = true)]
async fn a_single_stage_wired_restartable_is_supervised_on_its_own() {
    let journals = Journals::new();
    let plans = [
        Plan { emit: vec![1], end: End::Fail },
        Plan { emit: vec![2], end: End::Fail },
        Plan { emit: vec![3], end: End::Finish },
    ];
    let inlets = Arc::new(Mutex::new(Vec::new()));
    let kept = inlets.clone();
    let mut make = scripted(0, restart_support::script(plans));
    let restart = Restart::transient().backoff(Backoff::exponential(MS * 10, MS * 10));
    let t0 = Instant::now();
    let handle = journals
        .builder("alone")
        .restartable_stage(restart, move || {
            let (out, inlet) = stagewise::pipeline::link(4);
            kept.lock().unwrap().push(inlet);
            make(out)
        })
        .spawn();
    let outcome = outcome(handle).await;
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(outcome.restarts(), [("scripted", 2)]);
    assert_eq!(Instant::now() - t0, MS * 20, "two backoffs of 10 ms, nothing else waited");
    assert_eq!(inlets.lock().unwrap().len(), 3, "three instances, each from the factory");
    assert_eq!(starts(&journals.lifecycle, "scripted"), 3);
}

#[tokio::test(start_paused = true)]
async fn each_restart_type_decides_on_the_real_record_of_each_ending_driven_by_the_test_kit() {
    for end in [End::Complete, End::Fail, End::Cancel] {
        let (out, _inlet) = stagewise::pipeline::link(4);
        let (stage, ctx) =
            restart_support::scripted_parts(0, restart_support::script([Plan { emit: vec![], end }]), out);
        let mut probe = stagewise::testing::StageProbe::new(stage, restart_support::ScriptState::INITIAL, ctx);
        probe.control(Control::Start).await;
        while !probe.step().await.ended {}
        let ending = probe.records().pop().unwrap().lifecycle;
        let restarted: Vec<bool> = [RestartType::Permanent, RestartType::Transient, RestartType::Temporary]
            .iter()
            .map(|kind| kind.restarts_after(&ending))
            .collect();
        assert_eq!(restarted, [true, end == End::Fail, false], "{end:?} ended as {ending:?}");
    }
}
