//! Random pipeline schedules (proptest, paused clock): malformed inputs, a stage failing at a random batch, Drain, one
//! to three Stops and an abort at random moments, under both failure policies. Invariants: one Started then one
//! terminal record per stage and for the orchestrator; in = out + errors whenever every stage completed; no hang.
//! `PROPTEST_CASES` sets the number of cases (2,000 by default); `PROPTEST_CASES=100000 cargo test --release --test
//! pipeline_schedules` runs the long version.

mod pipeline_support;

use std::sync::Arc;
use std::time::Duration;

use pipeline_support::{CountSource, RelaySpec, Verdict};
use proptest::prelude::*;
use stagewise::pipeline::{ErrorRecord, FailurePolicy, Pipeline};
use stagewise::{Control, Journal, Lifecycle, LifecycleRecord, MemoryJournal, StageId};

/// Cases: `PROPTEST_CASES` if set, else 2,000.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Something sent to the pipeline from outside, `at` milliseconds (paused clock) after the last one.
#[derive(Clone, Copy, Debug)]
enum Poke {
    Drain,
    Stop,
    Abort,
}

#[derive(Clone, Debug)]
struct Schedule {
    /// Events the source emits, and how many per batch.
    total: u64,
    batch: usize,
    /// Payloads divisible by this are malformed: the transform turns them into error events.
    malformed_every: Option<u64>,
    /// The stage (1: transform, 2: sink) that fails, and the payload it fails on.
    failing: Option<(u32, u64)>,
    policy: FailurePolicy,
    /// Milliseconds each transform and sink batch takes, so pokes land mid-stream.
    transform_ms: u64,
    sink_ms: u64,
    pokes: Vec<(u64, Poke)>,
}

fn poke() -> impl Strategy<Value = Poke> {
    prop_oneof![2 => Just(Poke::Drain), 4 => Just(Poke::Stop), 1 => Just(Poke::Abort)]
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        (0..80u64, 1..9usize, proptest::option::of(2..7u64)),
        proptest::option::weighted(0.4, (1..3u32, 0..80u64)),
        prop_oneof![Just(FailurePolicy::FailPipeline), Just(FailurePolicy::LetOthersFinish)],
        (0..3u64, 0..3u64),
        proptest::collection::vec((0..25u64, poke()), 0..5),
    )
        .prop_map(|((total, batch, malformed_every), failing, policy, (transform_ms, sink_ms), pokes)| {
            // One to three Stops at most (a fourth is the same as the third), at most one abort, the last thing sent.
            let mut stops = 0;
            let mut kept = Vec::new();
            for (at, poke) in pokes {
                match poke {
                    Poke::Stop if stops == 3 => continue,
                    Poke::Stop => stops += 1,
                    Poke::Abort => {
                        kept.push((at, poke));
                        break;
                    }
                    Poke::Drain => {}
                }
                kept.push((at, poke));
            }
            Schedule { total, batch, malformed_every, failing, policy, transform_ms, sink_ms, pokes: kept }
        })
}

/// Runs `schedule` on a fresh paused-clock runtime and checks the invariants; `Err` says which one broke.
fn check(schedule: &Schedule) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    runtime.block_on(run(schedule.clone()))
}

const NAMES: [&str; 4] = ["schedules", "count", "transform", "sink"];

async fn run(s: Schedule) -> Result<(), String> {
    let lifecycle = Arc::new(MemoryJournal::<LifecycleRecord>::new());
    let errors = Arc::new(MemoryJournal::<ErrorRecord>::new());
    let fails_at = |stage: u32| s.failing.filter(|(at, _)| *at == stage).map(|(_, payload)| payload);
    let (transform_fails, sink_fails, malformed) = (fails_at(1), fails_at(2), s.malformed_every);
    let transform = RelaySpec::new(1, "transform", errors.clone()).delay(Duration::from_millis(s.transform_ms)).work(
        move |p| match () {
            _ if Some(p) == transform_fails => Verdict::FailStage("poison in transform"),
            _ if malformed.is_some_and(|every| p % every == 0) => Verdict::ErrorEvent("malformed"),
            _ => Verdict::Payload(p),
        },
    );
    let mut sink = RelaySpec::new(2, "sink", errors.clone()).work(move |p| {
        if Some(p) == sink_fails {
            Verdict::FailStage("poison in sink")
        } else {
            Verdict::Payload(p)
        }
    });
    if s.sink_ms > 0 {
        sink = sink.delay(Duration::from_millis(s.sink_ms));
    }
    let collected = sink.collected();
    let (total, batch) = (s.total, s.batch);
    let mut handle = Pipeline::builder(NAMES[0])
        .capacity(2)
        .policy(s.policy)
        .journal(lifecycle.clone())
        .errors(errors.clone())
        .drain_timeout(Some(Duration::from_millis(50)))
        .source(move |out| CountSource::stage(StageId(0), total, batch, out))
        .transform(|inlet, out| transform.build(inlet, Some(out)))
        .sink(|inlet| sink.build(inlet, None))
        .spawn();
    for (at, poke) in &s.pokes {
        tokio::time::sleep(Duration::from_millis(*at)).await;
        match poke {
            // A send fails only once the pipeline has ended: nothing to check then.
            Poke::Drain => drop(handle.try_send(Control::Drain)),
            Poke::Stop => drop(handle.try_send(Control::Stop)),
            Poke::Abort => handle.abort(),
        }
    }
    let outcome = tokio::time::timeout(Duration::from_secs(3600), handle.outcome())
        .await
        .map_err(|_| "the pipeline hung for an hour".to_owned())?
        .map_err(|e| format!("the orchestrator escalated: {e}"))?;
    // An aborted pipeline's stages write their records as their tasks are dropped: give them a few turns.
    for _ in 0..100 {
        if terminal_count(&lifecycle) == NAMES.len() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let records = lifecycle.records();
    for name in NAMES {
        let mine: Vec<&Lifecycle> = records.iter().filter(|r| r.supervisor == name).map(|r| &r.lifecycle).collect();
        let shape_ok = mine.len() == 2 && mine[0] == &Lifecycle::Started && mine[1].is_terminal();
        if !shape_ok {
            return Err(format!("{name}: expected Started then one terminal record, got {mine:?}"));
        }
    }
    let terminal_of = |name: &str| records.iter().rev().find(|r| r.supervisor == name).map(|r| r.lifecycle.clone());
    if terminal_of(NAMES[0]).as_ref() != Some(outcome.lifecycle()) {
        return Err(format!("the pipeline's outcome {outcome} is not its record {:?}", terminal_of(NAMES[0])));
    }
    for stage in &outcome.stages {
        if let Some(lifecycle) = stage.lifecycle() {
            if terminal_of(stage.name).as_ref() != Some(lifecycle) {
                return Err(format!(
                    "{}: the outcome says {lifecycle:?}, the journal {:?}",
                    stage.name,
                    terminal_of(stage.name)
                ));
            }
        }
    }
    let all_completed = NAMES[1..].iter().all(|name| terminal_of(name) == Some(Lifecycle::Completed));
    if all_completed {
        let sent = handle.links()[0].sent;
        let out = collected.lock().unwrap().payloads.len() as u64;
        if sent != out + errors.len() {
            return Err(format!("in = out + errors broken: {sent} in, {out} out, {} errors", errors.len()));
        }
    }
    if s.pokes.is_empty() && s.failing.is_none_or(|(_, payload)| payload >= s.total) && !all_completed {
        return Err(format!("left alone with nothing failing, the run did not complete: {outcome}"));
    }
    Ok(())
}

fn terminal_count(journal: &MemoryJournal<LifecycleRecord>) -> usize {
    journal.records().iter().filter(|r| r.lifecycle.is_terminal()).count()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_schedules_keep_one_started_and_one_terminal_record_and_in_equals_out_plus_errors(s in schedule()) {
        if let Err(broken) = check(&s) {
            prop_assert!(false, "{broken}");
        }
    }
}
