//! Pipelines end to end: in-order drain with exact counts, backpressure under a slow sink, the failure policy,
//! errors passing through to the error journal, and stop/drain sent to the pipeline handle.

mod pipeline_support;

use std::sync::Arc;
use std::time::Duration;

use pipeline_support::{CountSource, RelaySpec, Verdict};
use stagewise::pipeline::{ErrorJournal, ErrorRecord, FailurePolicy, Pipeline};
use stagewise::{Control, Journal, Lifecycle, LifecycleRecord, MemoryJournal, StageId};

/// Fails the test instead of hanging it if a pipeline never ends.
async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future).await.expect("the pipeline hung")
}

trait Bounded: std::future::Future + Sized {
    fn bounded(self) -> impl std::future::Future<Output = Self::Output> {
        bounded(self)
    }
}

impl<F: std::future::Future> Bounded for F {}

fn error_journal() -> (Arc<MemoryJournal<ErrorRecord>>, ErrorJournal) {
    let journal = Arc::new(MemoryJournal::new());
    (journal.clone(), journal)
}

fn assert_all_terminal(outcome: &stagewise::PipelineOutcome) {
    for stage in &outcome.stages {
        let record = stage.outcome.as_ref().unwrap_or_else(|e| panic!("stage {} has no record: {e}", stage.name));
        assert!(record.lifecycle.is_terminal(), "{record}");
    }
}

#[tokio::test]
async fn three_stage_pipeline_drains_in_order_with_exact_counts() {
    let (errors, error_sink) = error_journal();
    let lifecycle = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let double = RelaySpec::new(1, "double", error_sink.clone()).work(|n| {
        if n % 7 == 0 {
            Verdict::ErrorEvent("multiple of seven")
        } else {
            Verdict::Payload(n * 2)
        }
    });
    let sink = RelaySpec::new(2, "collect", error_sink);
    let collected = sink.collected();

    let mut handle = Pipeline::builder("counts")
        .capacity(4)
        .journal(lifecycle.clone())
        .source(|out| CountSource::stage(StageId(0), 10_000, 64, out))
        .transform(|inlet, out| double.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();
    let outcome = bounded(handle.outcome()).await.unwrap();

    assert!(outcome.is_completed(), "{outcome}");
    for stage in &outcome.stages {
        assert_eq!(stage.lifecycle(), Some(&Lifecycle::Completed), "{stage}");
    }
    let collected = collected.lock().unwrap();
    let expected: Vec<u64> = (0..10_000).filter(|n| n % 7 != 0).map(|n| n * 2).collect();
    assert_eq!(collected.payloads, expected, "every event arrives, in order");
    let error_count = (0..10_000u64).filter(|n| n % 7 == 0).count() as u64;
    assert_eq!(collected.errors, error_count);
    assert_eq!(errors.len(), error_count);
    assert_eq!(10_000, collected.payloads.len() as u64 + collected.errors, "in = out + errors");
    for link in handle.links() {
        assert_eq!((link.sent, link.in_flight()), (10_000, 0));
    }
    let states: Vec<_> = handle.stage_states().iter().map(|stage| (stage.name, stage.id, stage.state.ending)).collect();
    let completed = Some(stagewise::Ending::Completed);
    let source = outcome.stages[0].name;
    assert_eq!(
        states,
        [(source, StageId(0), completed), ("double", StageId(1), completed), ("collect", StageId(2), completed)],
        "stage_states names each stage, source first, in its final state"
    );
    // One Started and one terminal record per stage and for the orchestrator.
    let records = lifecycle.records();
    assert_eq!(records.len(), 8);
    assert_eq!(records.iter().filter(|r| r.lifecycle == Lifecycle::Completed).count(), 4);
}

#[tokio::test]
async fn error_events_pass_later_stages_untouched_into_the_error_journal() {
    let (errors, error_sink) = error_journal();
    let reject = RelaySpec::new(1, "reject", error_sink.clone()).work(|n| {
        if n == 3 {
            Verdict::ErrorEvent("three is rejected")
        } else {
            Verdict::Payload(n)
        }
    });
    // The second transform would fail the stage on the rejected payload if it ever saw it.
    let strict = RelaySpec::new(2, "strict", error_sink.clone()).work(|n| {
        if n == 3 {
            Verdict::FailStage("saw an error event")
        } else {
            Verdict::Payload(n + 100)
        }
    });
    let sink = RelaySpec::new(3, "collect", error_sink);
    let collected = sink.collected();

    let outcome = Pipeline::builder("errors")
        .source(|out| CountSource::stage(StageId(0), 6, 2, out))
        .transform(|inlet, out| reject.build(inlet, Some(out)))
        .transform(|inlet, out| strict.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .bounded()
        .await
        .unwrap();

    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(collected.lock().unwrap().payloads, vec![100, 101, 102, 104, 105]);
    let records = errors.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].context.stage, StageId(1), "the record names the stage where the event failed");
    assert_eq!(records[0].message, "three is rejected");
}

#[tokio::test(start_paused = true)]
async fn slow_sink_backpressure_keeps_in_flight_events_under_the_link_bounds() {
    const CAPACITY: usize = 2;
    const BATCH: usize = 4;
    let (_, error_sink) = error_journal();
    let relay = RelaySpec::new(1, "relay", error_sink.clone());
    let sink = RelaySpec::new(2, "slow", error_sink).delay(Duration::from_millis(10));
    let collected = sink.collected();

    let mut handle = Pipeline::builder("backpressure")
        .capacity(CAPACITY)
        .source(|out| CountSource::stage(StageId(0), 400, BATCH, out))
        .transform(|inlet, out| relay.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();

    let bound = (CAPACITY * BATCH) as u64;
    let mut max_in_flight = [0u64; 2];
    let mut max_ahead = 0u64;
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    while handle.state().ending.is_none() {
        ticks.tick().await;
        let links = handle.links();
        for (max, link) in max_in_flight.iter_mut().zip(&links) {
            assert!(link.in_flight() <= bound, "a link holds {} events, bound {bound}", link.in_flight());
            *max = (*max).max(link.in_flight());
        }
        // The source runs ahead of the sink by at most what the links and the two stages' hands can hold.
        max_ahead = max_ahead.max(links[0].sent - links[1].received);
    }
    let outcome = bounded(handle.outcome()).await.unwrap();

    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(collected.lock().unwrap().payloads.len(), 400);
    assert_eq!(max_in_flight[1], bound, "the slow sink's link filled up");
    assert!(max_ahead <= 2 * bound + 2 * BATCH as u64, "source ran {max_ahead} events ahead of the sink");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_failing_mid_stream_fails_the_pipeline_and_records_every_stage() {
    let (_, error_sink) = error_journal();
    let lifecycle = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let fragile = RelaySpec::new(1, "fragile", error_sink.clone()).work(|n| {
        if n == 500 {
            Verdict::FailStage("boom")
        } else {
            Verdict::Payload(n)
        }
    });
    let sink = RelaySpec::new(2, "collect", error_sink);

    let outcome = Pipeline::builder("fails")
        .capacity(2)
        .policy(FailurePolicy::FailPipeline)
        .journal(lifecycle.clone())
        .source(|out| CountSource::stage(StageId(0), u64::MAX, 16, out))
        .transform(|inlet, out| fragile.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .bounded()
        .await
        .unwrap();

    match outcome.lifecycle() {
        Lifecycle::Failed { error, escalation: None } => {
            assert!(error.contains("stage fragile (stage-1) failed") && error.contains("boom"), "{error}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_all_terminal(&outcome);
    assert!(matches!(outcome.stage("fragile").unwrap().lifecycle(), Some(Lifecycle::Failed { .. })));
    // Exactly one terminal record per stage and for the orchestrator, all in the pipeline's journal.
    let terminal = lifecycle.records().into_iter().filter(|r| r.lifecycle.is_terminal()).count();
    assert_eq!(terminal, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_let_others_finish_the_pipeline_fails_only_after_every_stage_ended() {
    let (_, error_sink) = error_journal();
    let fragile = RelaySpec::new(1, "fragile", error_sink.clone()).work(|n| {
        if n == 50 {
            Verdict::FailStage("boom")
        } else {
            Verdict::Payload(n)
        }
    });
    let sink = RelaySpec::new(2, "collect", error_sink);

    let outcome = Pipeline::builder("finishes")
        .policy(FailurePolicy::LetOthersFinish)
        .source(|out| CountSource::stage(StageId(0), 1_000, 8, out))
        .transform(|inlet, out| fragile.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .bounded()
        .await
        .unwrap();

    match outcome.lifecycle() {
        Lifecycle::Failed { error, .. } => assert!(error.contains("stage fragile (stage-1) failed"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_all_terminal(&outcome);
}

#[tokio::test]
async fn drain_sent_to_the_pipeline_completes_every_stage_without_losing_events() {
    let (_, error_sink) = error_journal();
    let relay = RelaySpec::new(1, "relay", error_sink.clone());
    let sink = RelaySpec::new(2, "collect", error_sink).delay(Duration::from_millis(1));
    let collected = sink.collected();

    let mut handle = Pipeline::builder("drained")
        .capacity(2)
        .source(|out| CountSource::stage(StageId(0), u64::MAX, 8, out))
        .transform(|inlet, out| relay.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();
    while collected.lock().unwrap().payloads.len() < 100 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    handle.send(Control::Drain).await.unwrap();
    let outcome = bounded(handle.outcome()).await.unwrap();

    assert!(outcome.is_completed(), "{outcome}");
    for stage in &outcome.stages {
        assert_eq!(stage.lifecycle(), Some(&Lifecycle::Completed), "{stage}");
    }
    let payloads = &collected.lock().unwrap().payloads;
    let sent = handle.links()[0].sent;
    assert_eq!(payloads.len() as u64, sent, "everything the source sent reached the sink");
    assert!(payloads.iter().copied().eq(0..sent), "in order, no gaps");
}

#[tokio::test]
async fn stop_sent_to_the_pipeline_drains_it_and_records_cancelled() {
    let (_, error_sink) = error_journal();
    let sink = RelaySpec::new(1, "collect", error_sink).delay(Duration::from_millis(1));
    let collected = sink.collected();

    let mut handle = Pipeline::builder("stopped")
        .source(|out| CountSource::stage(StageId(0), u64::MAX, 8, out))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();
    while collected.lock().unwrap().payloads.is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    handle.send(Control::Stop).await.unwrap();
    let outcome = bounded(handle.outcome()).await.unwrap();

    assert!(matches!(outcome.lifecycle(), Lifecycle::Cancelled { .. }), "{outcome}");
    for stage in &outcome.stages {
        assert_eq!(stage.lifecycle(), Some(&Lifecycle::Completed), "stages drain gracefully: {stage}");
    }
    assert_eq!(collected.lock().unwrap().payloads.len() as u64, handle.links()[0].sent);
}

#[tokio::test]
async fn aborting_the_pipeline_cancels_every_stage() {
    let (_, error_sink) = error_journal();
    let lifecycle = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let sink = RelaySpec::new(1, "collect", error_sink).delay(Duration::from_millis(1));

    let mut handle = Pipeline::builder("aborted")
        .journal(lifecycle.clone())
        .source(|out| CountSource::stage(StageId(0), u64::MAX, 8, out))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();
    tokio::time::sleep(Duration::from_millis(5)).await;
    handle.abort();
    let outcome = bounded(handle.outcome()).await.unwrap();

    assert!(matches!(outcome.lifecycle(), Lifecycle::Cancelled { .. }), "{outcome}");
    // The stages' tasks are aborted with the orchestrator; each records Cancelled as it is dropped.
    let mut cancelled = 0;
    for _ in 0..100 {
        cancelled = lifecycle.records().iter().filter(|r| matches!(r.lifecycle, Lifecycle::Cancelled { .. })).count();
        if cancelled == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(cancelled, 3);
}

#[tokio::test(start_paused = true)]
async fn second_stop_sent_to_a_draining_pipeline_stops_every_stage_at_once() {
    let (_, error_sink) = error_journal();
    let relay = RelaySpec::new(1, "relay", error_sink.clone());
    let sink = RelaySpec::new(2, "slow", error_sink).delay(Duration::from_secs(1));
    let collected = sink.collected();

    let mut handle = Pipeline::builder("stopped twice")
        .capacity(2)
        .source(|out| CountSource::stage(StageId(0), u64::MAX, 8, out))
        .transform(|inlet, out| relay.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();
    let mut states = handle.subscribe();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    handle.send(Control::Stop).await.unwrap();
    states.wait_for(|s| s.name == "Stopping").await.unwrap();
    handle.send(Control::Stop).await.unwrap();
    let outcome = bounded(handle.outcome()).await.unwrap();

    assert!(matches!(outcome.lifecycle(), Lifecycle::Cancelled { .. }), "{outcome}");
    assert!(matches!(outcome.stage("slow").unwrap().lifecycle(), Some(Lifecycle::Cancelled { .. })), "{outcome}");
    // Stages blocked sending into the stopped sink fail ("stopped reading"); that does not fail the pipeline.
    assert_all_terminal(&outcome);
    let received = collected.lock().unwrap().payloads.len() as u64;
    assert!(received < handle.links()[0].sent, "the slow sink was stopped before the end of the stream");
}

#[tokio::test(start_paused = true)]
async fn drain_deadline_stops_then_aborts_a_stage_that_does_not_end() {
    let (_, error_sink) = error_journal();
    let stuck = RelaySpec::new(1, "stuck", error_sink).delay(Duration::from_secs(3600));

    let mut handle = Pipeline::builder("deadline")
        .drain_timeout(Some(Duration::from_secs(1)))
        .source(|out| CountSource::stage(StageId(0), u64::MAX, 8, out))
        .sink(|inlet| stuck.build(inlet, None))
        .spawn();
    while handle.links()[0].received == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    handle.send(Control::Drain).await.unwrap();
    let outcome = bounded(handle.outcome()).await.unwrap();

    assert!(matches!(outcome.lifecycle(), Lifecycle::Cancelled { .. }), "a drain cut short is not complete: {outcome}");
    // The sink never reads control; the source waits on the full link to it. Neither can take Drain or Stop.
    for stage in &outcome.stages {
        match stage.lifecycle() {
            Some(Lifecycle::Cancelled { reason }) => assert!(reason.contains("aborted"), "{reason}"),
            other => panic!("expected {} aborted, got {other:?}", stage.name),
        }
    }
}
