//! Restart wiring and endings under paused time: a single stage spawned with a restart policy (no pipeline to write);
//! a Permanent stage whose work is over (its input ended, or its pipeline drains) ending for good instead of
//! restarting until its intensity gives up; a failure after the input ended being final; a stage failing on every
//! start giving up however long its backoff; a factory panicking on a restart named in the pipeline's failure; a
//! Permanent source that sent end of stream being done; a restart record, or the events a failed stage held, that
//! their journal refuses only once the append is awaited failing the pipeline, not dropped.

mod pipeline_support;
mod restart_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pipeline_support::{CountSource, RelaySpec, Verdict};
use restart_support::{
    restart_decisions, restart_delays, script, scripted_parts, starts, End, Journals, Plan, ScriptState,
};
use stagewise::journal::AppendFuture;
use stagewise::pipeline::link;
use stagewise::pipeline::ErrorRecord;
use stagewise::restart::{Backoff, Restart};
use stagewise::{
    spawn_restartable, Control, Journal, JournalError, Lifecycle, LifecycleRecord, MemoryJournal, SpawnOptions, StageId,
};
use tokio::sync::watch;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn a_single_stage_spawned_with_a_restart_policy_comes_back_after_each_failure() {
    let journal = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let plans = [
        Plan { emit: vec![1], end: End::Fail },
        Plan { emit: vec![2], end: End::Fail },
        Plan { emit: vec![3], end: End::Finish },
    ];
    let script = script(plans);
    let inlets = Arc::new(Mutex::new(Vec::new()));
    let kept = inlets.clone();
    let restart = Restart::transient().backoff(Backoff::exponential(MS * 10, MS * 10));
    let t0 = Instant::now();
    // A macro-written stage, unchanged: the factory returns the stage, its initial state and its context.
    let mut handle = spawn_restartable(
        restart,
        move || {
            let (out, inlet) = link(4);
            kept.lock().unwrap().push(inlet);
            let (stage, ctx) = scripted_parts(0, script.clone(), out);
            (stage, ScriptState::INITIAL, ctx)
        },
        SpawnOptions::default().journal(journal.clone()),
    );
    let outcome = handle.outcome().await.unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(outcome.restarts(), [("scripted", 2)]);
    assert_eq!(Instant::now() - t0, MS * 20, "two backoffs of 10 ms, nothing else waited");
    assert_eq!(starts(&journal, "scripted"), 3, "each instance is a run with its own Started");
    assert_eq!(restart_delays(&journal, "scripted"), [MS * 10, MS * 10], "one Restarting record per decision");
    let supervisor: Vec<_> =
        journal.records().into_iter().filter(|r| r.supervisor == "restarter").map(|r| r.lifecycle).collect();
    assert_eq!(supervisor, [Lifecycle::Started, Lifecycle::Completed], "the supervisor of one has its own records");
    assert_eq!(inlets.lock().unwrap().len(), 3, "three instances, each from the factory");
}

#[tokio::test(start_paused = true)]
async fn a_permanent_transform_whose_input_ended_completes_for_good_instead_of_restarting() {
    let journals = Journals::new();
    let sink = RelaySpec::new(2, "sink", journals.errors());
    let out = sink.collected();
    let restart = Restart::permanent().intensity(3, Duration::from_secs(5)).backoff(Backoff::none());
    let errors_for = journals.errors();
    let outcome = journals
        .builder("finite")
        .source(|out| CountSource::stage(StageId(0), 20, 5, out))
        .restartable_transform(restart, move |inlet, outlet| {
            RelaySpec::new(1, "relay", errors_for.clone()).build(inlet, Some(outlet))
        })
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .await
        .unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(outcome.restarts(), [("count", 0), ("relay", 0), ("sink", 0)]);
    assert_eq!(restart_decisions(&journals.lifecycle), [], "end of stream ended its work: no restart to decide");
    assert_eq!(starts(&journals.lifecycle, "relay"), 1);
    assert_eq!(out.lock().unwrap().payloads, (0..20).collect::<Vec<u64>>(), "in = out + errors, errors none");
}

#[tokio::test(start_paused = true)]
async fn a_permanent_source_that_completes_because_the_pipeline_drains_is_not_restarted() {
    let journals = Journals::new();
    let sink = RelaySpec::new(1, "sink", journals.errors()).delay(MS);
    let out = sink.collected();
    let restart = Restart::permanent().intensity(3, Duration::from_secs(5)).backoff(Backoff::none());
    let mut handle = journals
        .builder("drained")
        .restartable_source(restart, |out| CountSource::stage(StageId(0), u64::MAX, 4, out))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();
    tokio::time::sleep(MS * 10).await;
    handle.send(Control::Drain).await.unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(60), handle.outcome()).await.unwrap().unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(outcome.restarts(), [("count", 0), ("sink", 0)]);
    assert_eq!(restart_decisions(&journals.lifecycle), []);
    let sent = handle.links()[0].sent;
    assert_eq!(
        out.lock().unwrap().payloads.len() as u64 + journals.errors.records().len() as u64,
        sent,
        "in = out + errors"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transform_failing_after_its_input_ended_is_not_restarted_and_its_failure_is_the_cause() {
    let journals = Journals::new();
    let sink = RelaySpec::new(2, "sink", journals.errors());
    let out = sink.collected();
    let restart = Restart::transient().intensity(5, Duration::from_secs(10)).backoff(Backoff::none());
    let errors_for = journals.errors();
    let outcome = journals
        .builder("flush")
        .source(|out| CountSource::stage(StageId(0), 50, 10, out))
        .restartable_transform(restart, move |inlet, outlet| {
            RelaySpec::new(1, "relay", errors_for.clone())
                .end_fails("flush failed at end of stream")
                .build(inlet, Some(outlet))
        })
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .await
        .unwrap();
    assert_eq!(restart_decisions(&journals.lifecycle), [], "a fresh instance would find its input closed: no restart");
    assert_eq!(starts(&journals.lifecycle, "relay"), 1);
    match outcome.lifecycle() {
        Lifecycle::Failed { error, .. } => assert!(error.contains("flush failed at end of stream"), "{error}"),
        other => panic!("the flush's failure fails the pipeline, got {other:?}"),
    }
    assert_eq!(out.lock().unwrap().payloads, (0..50).collect::<Vec<u64>>(), "every batch had passed on");
}

#[tokio::test(start_paused = true)]
async fn a_stage_failing_each_time_it_starts_gives_up_however_long_its_backoff_grows() {
    let journals = Journals::new();
    let sink = RelaySpec::new(2, "sink", journals.errors());
    // Three restarts within 5 s of the stage's own time; backoff 1 s doubling to a minute: without leaving the waits
    // out, the fourth failure would come 8 s after the first and be admitted, and so on forever.
    let restart = Restart::transient()
        .intensity(3, Duration::from_secs(5))
        .backoff(Backoff::exponential(Duration::from_secs(1), Duration::from_secs(60)));
    let errors_for = journals.errors();
    let run = journals
        .builder("poisoned")
        .source(|out| CountSource::stage(StageId(0), 1_000, 10, out))
        .restartable_transform(restart, move |inlet, outlet| {
            RelaySpec::new(1, "relay", errors_for.clone())
                .work(|_| Verdict::FailStage("poison"))
                .build(inlet, Some(outlet))
        })
        .sink(|inlet| sink.build(inlet, None))
        .run();
    let outcome = tokio::time::timeout(Duration::from_secs(3 * 3600), run).await.expect("gave up, no endless restarts");
    let outcome = outcome.unwrap();
    match outcome.lifecycle() {
        Lifecycle::Failed { error, .. } => assert!(error.contains("gave up after 3 restarts"), "{error}"),
        other => panic!("expected the pipeline to give up, got {other:?}"),
    }
    assert_eq!(restart_delays(&journals.lifecycle, "relay"), [MS * 1000, MS * 2000, MS * 4000], "the declared curve");
}

#[tokio::test(start_paused = true)]
async fn a_factory_that_panics_on_a_restart_fails_the_pipeline_naming_the_stage() {
    let journals = Journals::new();
    let sink = RelaySpec::new(2, "sink", journals.errors());
    let errors_for = journals.errors();
    let mut built = 0;
    let outcome = journals
        .builder("factory")
        .source(|out| CountSource::stage(StageId(0), 100, 10, out))
        .restartable_transform(Restart::transient().backoff(Backoff::none()), move |inlet, outlet| {
            built += 1;
            assert!(built == 1, "cannot build: the database is down");
            let poison = |p| if p == 37 { Verdict::FailStage("poison") } else { Verdict::Payload(p) };
            RelaySpec::new(1, "relay", errors_for.clone()).work(poison).build(inlet, Some(outlet))
        })
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .await
        .unwrap();
    match outcome.lifecycle() {
        Lifecycle::Failed { error, .. } => assert!(
            error.contains("stage relay (stage-1) could not be restarted: its factory panicked: cannot build"),
            "{error}"
        ),
        other => panic!("expected the pipeline to fail, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_permanent_source_that_sent_end_of_stream_is_done_and_the_pipeline_completes() {
    let journals = Journals::new();
    let sink = RelaySpec::new(2, "sink", journals.errors());
    let out = sink.collected();
    let restart = Restart::permanent().intensity(5, Duration::from_secs(10)).backoff(Backoff::none());
    let errors_for = journals.errors();
    let outcome = journals
        .builder("finite_source")
        .restartable_source(restart.clone(), |out| CountSource::stage(StageId(0), 50, 10, out))
        .restartable_transform(restart, move |inlet, outlet| {
            RelaySpec::new(1, "relay", errors_for.clone()).build(inlet, Some(outlet))
        })
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .await
        .unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(restart_decisions(&journals.lifecycle), [], "its end of stream ended its work: nothing to restart");
    assert_eq!(out.lock().unwrap().payloads, (0..50).collect::<Vec<u64>>(), "the stream once");
    assert_eq!(journals.errors.records().len(), 0);
}

/// A journal that takes every record at once, as a durable one does, but resolves the append of each record
/// `refuses` picks only after a turn of the scheduler, with an error: a sync that fails after the write.
struct RefusesWhenAwaited<R> {
    journal: MemoryJournal<R>,
    refuses: fn(&R) -> bool,
}

impl<R> RefusesWhenAwaited<R> {
    fn new(refuses: fn(&R) -> bool) -> Self {
        Self { journal: MemoryJournal::new(), refuses }
    }
}

impl<R: Clone + Send + Sync> Journal<R> for RefusesWhenAwaited<R> {
    fn append(&self, record: R) -> Result<u64, JournalError> {
        self.journal.append(record)
    }
    fn append_async(&self, record: R) -> AppendFuture<'_> {
        let refused = (self.refuses)(&record);
        let appended = self.journal.append(record);
        Box::pin(async move {
            tokio::task::yield_now().await;
            if refused {
                return Err(JournalError::Io(std::io::Error::other("the sync failed (injected)")));
            }
            appended
        })
    }
    fn read_from(&self, position: u64) -> Result<Vec<R>, JournalError> {
        self.journal.read_from(position)
    }
    fn len(&self) -> u64 {
        self.journal.len()
    }
    fn subscribe(&self) -> watch::Receiver<u64> {
        self.journal.subscribe()
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_record_the_journal_refuses_only_once_awaited_fails_the_pipeline() {
    let journal = Arc::new(RefusesWhenAwaited::new(|record: &LifecycleRecord| {
        matches!(record.lifecycle, Lifecycle::Restarting { .. })
    }));
    let script = script([Plan { emit: vec![1], end: End::Fail }, Plan { emit: vec![2], end: End::Finish }]);
    let inlets = Arc::new(Mutex::new(Vec::new()));
    let mut handle = spawn_restartable(
        Restart::transient().backoff(Backoff::exponential(MS * 10, MS * 10)),
        move || {
            let (out, inlet) = link(4);
            inlets.lock().unwrap().push(inlet);
            let (stage, ctx) = scripted_parts(0, script.clone(), out);
            (stage, ScriptState::INITIAL, ctx)
        },
        SpawnOptions::default().journal(journal.clone()),
    );
    let outcome = handle.outcome().await.unwrap();
    match outcome.lifecycle() {
        Lifecycle::Failed { error, .. } => {
            assert!(error.contains("refused a restart record") && error.contains("(injected)"), "{error}")
        }
        other => panic!("the refused restart record was not noticed: the run ended {other:?}"),
    }
    assert_eq!(restart_delays(&journal.journal, "scripted"), [MS * 10], "the record was written, its sync failed");
}

#[tokio::test(start_paused = true)]
async fn the_events_of_a_failed_stage_its_error_journal_refuses_only_once_awaited_fail_the_pipeline() {
    let journals = Journals::new();
    let refusing = Arc::new(RefusesWhenAwaited::new(|_: &ErrorRecord| true));
    let sink = RelaySpec::new(2, "sink", journals.errors());
    let errors_for = journals.errors();
    let restart = Restart::transient().backoff(Backoff::exponential(MS * 10, MS * 10));
    let outcome = journals
        .builder("refused")
        .errors(refusing.clone())
        .source(|out| CountSource::stage(StageId(0), 100, 10, out))
        .restartable_transform(restart, move |inlet, outlet| {
            RelaySpec::new(1, "relay", errors_for.clone())
                .work(|_| Verdict::FailStage("poison"))
                .build(inlet, Some(outlet))
        })
        .sink(|inlet| sink.build(inlet, None))
        .run()
        .await;
    // Failed, or escalated when the journal refuses again while the pipeline fails (the stages' other events).
    let error = match &outcome {
        Ok(outcome) => match outcome.lifecycle() {
            Lifecycle::Failed { error, .. } => error.clone(),
            other => panic!("the refused events were not noticed: the pipeline ended {other:?}"),
        },
        Err(e) => format!("{e:?}"),
    };
    assert!(error.contains("error journal refused a record") && error.contains("(injected)"), "{error}");
    assert!(refusing.journal.len() > 0, "the held batch was written, its sync failed");
}
