//! Restart costs. (1) Time from a stage's failure to its fresh instance running again (handling the next batch), with
//! zero backoff: the orchestrator's decision, the Restarting record, the factory, the spawn, Start, and the first
//! recv on the kept inlet. (2) Throughput of the access_log pipeline (parse wired restartable, the example's policy)
//! with chaos 1% against chaos 0%, the two run interleaved in one process.
//! Run: `cargo bench --bench restart` (about a minute). Prints medians and ranges.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stagewise::pipeline::{ErrorJournal, Pipeline};
use stagewise::restart::{Backoff, Restart};
use stagewise::{MemoryJournal, StageId};

#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../tests/pipeline_support/mod.rs"]
mod pipeline_support;
#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use pipeline_support::{CountSource, RelaySpec, Verdict};

/// One round: a restartable relay that fails on every other event; returns the time from each failure to the next
/// event handled by the fresh instance.
async fn restart_latencies(restarts: u64) -> Vec<Duration> {
    let errors: ErrorJournal = Arc::new(MemoryJournal::new());
    let failed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(restarts as usize)));
    let (sink_errors, relay_errors) = (errors.clone(), errors.clone());
    let (failed, seen) = (failed_at.clone(), latencies.clone());
    let restart = Restart::transient().intensity(u32::MAX, Duration::from_nanos(1)).backoff(Backoff::none());
    let outcome = Pipeline::builder("restart-latency")
        .errors(errors)
        .source(move |out| CountSource::stage(StageId(0), restarts * 2, 1, out))
        .restartable_transform(restart, move |inlet, out| {
            let (failed, seen) = (failed.clone(), seen.clone());
            RelaySpec::new(1, "relay", relay_errors.clone())
                .work(move |payload| {
                    let mut failed = failed.lock().unwrap();
                    match failed.take() {
                        Some(at) => {
                            seen.lock().unwrap().push(at.elapsed());
                            Verdict::Payload(payload)
                        }
                        None => {
                            *failed = Some(Instant::now());
                            Verdict::FailStage("bench")
                        }
                    }
                })
                .build(inlet, Some(out))
        })
        .sink(move |inlet| RelaySpec::new(2, "sink", sink_errors).build(inlet, None))
        .run()
        .await
        .expect("pipeline outcome");
    assert!(outcome.is_completed(), "{outcome}");
    let latencies = latencies.lock().unwrap().clone();
    latencies
}

/// The access_log pipeline, parse restartable with the example's policy and `chaos` (or, with `None`, wired as a
/// plain transform); returns lines per second.
async fn access_log(lines: u64, chaos: Option<f64>, seed: u64) -> f64 {
    let errors = Arc::new(MemoryJournal::new());
    let error_journal: ErrorJournal = errors.clone();
    let summary = Arc::new(Mutex::new(None));
    let started = Instant::now();
    let source = Pipeline::builder("bench")
        .capacity(work::LINK_CAPACITY)
        .errors(error_journal.clone())
        .source(|out| stages::read(StageId(0), stages::Input::Generated { next: 0, total: lines }, work::BATCH, out));
    let parsed = match chaos {
        Some(chaos) => {
            let chaos = chaos::Chaos::new(chaos, seed);
            source.restartable_transform(chaos::restart_policy(seed), move |inlet, out| {
                stages::parse_restartable(StageId(1), inlet, out, &chaos)
            })
        }
        None => source.transform(|inlet, out| stages::parse(StageId(1), inlet, out)),
    };
    let outcome = parsed
        .sink(|inlet| {
            let aggregator = work::Aggregator::new(None).expect("aggregator");
            stages::aggregate(StageId(2), inlet, aggregator, error_journal, summary.clone())
        })
        .run()
        .await
        .expect("pipeline outcome");
    let elapsed = started.elapsed();
    assert!(outcome.is_completed(), "{outcome}");
    let hits = summary.lock().unwrap().take().expect("summary").hits;
    assert_eq!(hits + stagewise::Journal::len(&*errors), lines, "in = out + errors");
    lines as f64 / elapsed.as_secs_f64()
}

fn median<T: PartialOrd + Copy>(values: &mut [T]) -> T {
    values.sort_unstable_by(|a, b| a.partial_cmp(b).expect("comparable"));
    values[values.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("restart: bench");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");

    const ROUNDS: usize = 6;
    const RESTARTS: u64 = 5_000;
    let mut medians = Vec::new();
    let (mut fastest, mut slowest) = (Duration::MAX, Duration::ZERO);
    for round in 0..ROUNDS {
        let mut latencies = rt.block_on(restart_latencies(RESTARTS));
        assert_eq!(latencies.len() as u64, RESTARTS);
        if round == 0 {
            continue; // warm-up
        }
        fastest = fastest.min(*latencies.iter().min().expect("samples"));
        slowest = slowest.max(*latencies.iter().max().expect("samples"));
        medians.push(median(&mut latencies));
    }
    let median_of_medians = median(&mut medians.clone());
    let (low, high) = (medians.iter().min().expect("rounds"), medians.iter().max().expect("rounds"));
    println!(
        "restart/latency: failure to the fresh instance handling its next batch, zero backoff, {RESTARTS} restarts x {} \
         rounds: median {:.1} us (round medians {:.1}..{:.1} us; single restarts {:.1} us..{:.1} ms)",
        ROUNDS - 1,
        median_of_medians.as_secs_f64() * 1e6,
        low.as_secs_f64() * 1e6,
        high.as_secs_f64() * 1e6,
        fastest.as_secs_f64() * 1e6,
        slowest.as_secs_f64() * 1e3,
    );

    const ROUNDS_OF_THREE: usize = 9;
    const LINES: u64 = 200_000;
    // Plain transform, restartable with chaos 0, restartable with chaos 1%: run in turn, the order rotating.
    let variants = [None, Some(0.0), Some(0.01)];
    let mut rates: [Vec<f64>; 3] = Default::default();
    for round in 0..ROUNDS_OF_THREE {
        let seed = round as u64 + 1;
        let mut this_round = [0.0; 3];
        for k in 0..3 {
            let v = (round + k) % 3;
            this_round[v] = rt.block_on(access_log(LINES, variants[v], seed));
        }
        if round == 0 {
            continue; // warm-up
        }
        for v in 0..3 {
            rates[v].push(this_round[v]);
        }
    }
    let ratio = |a: usize, b: usize| {
        let mut ratios: Vec<f64> = rates[a].iter().zip(&rates[b]).map(|(x, y)| x / y).collect();
        let low = ratios.iter().copied().fold(f64::MAX, f64::min);
        let high = ratios.iter().copied().fold(f64::MIN, f64::max);
        (median(&mut ratios), low, high)
    };
    let [plain, calm, chaotic] = rates.clone().map(|mut r| median(&mut r) / 1e6);
    let (chaos_ratio, chaos_low, chaos_high) = ratio(2, 1);
    let (wired_ratio, wired_low, wired_high) = ratio(1, 0);
    println!(
        "restart/chaos: access_log {LINES} lines over {} rounds: plain transform {plain:.2}, restartable {calm:.2}, \
         restartable with chaos 1% {chaotic:.2} M lines/s (medians); chaos 1% / 0%: median {chaos_ratio:.2} \
         (range {chaos_low:.2}..{chaos_high:.2}); restartable / plain: median {wired_ratio:.2} \
         (range {wired_low:.2}..{wired_high:.2})",
        ROUNDS_OF_THREE - 1,
    );
}
