//! Does journaling block a tokio worker? 64 stages append to durable journals (one each, synced on every append) on
//! a 2-worker runtime while a probe task asks to wake every 1 ms; the probe's lateness is how long the workers were
//! kept from running it. Two variants, interleaved in one process (order rotated per round, first round discarded):
//! `blocking`, each stage calling the synchronous `Journal::append` on its worker (what the runtime did before the
//! async append), and `async`, each stage awaiting `Journal::append_async`. Reports the probe's p99 lateness per
//! variant (median and range over rounds; target under 5 ms for `async`) and appends per second.
//! Run: `cargo bench --bench worker_blocking`.

#[path = "harness/mod.rs"]
mod harness;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::{sig, Bench, Spread};
use stagewise::journal::{Durability, FileJournal, Journal, JournalOptions};

const STAGES: usize = 64;
const WORKERS: usize = 2;
const PROBE_EVERY: Duration = Duration::from_millis(1);
/// The target for the probe's p99 lateness with async appends.
const TARGET_P99_MS: f64 = 5.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    Blocking,
    Async,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Blocking => "blocking",
            Variant::Async => "async",
        }
    }
}

/// What one sample measured.
struct Sample {
    p99_ms: f64,
    max_ms: f64,
    appends_per_second: f64,
}

/// Runs `STAGES` appending stages and the probe for `length` on `runtime`; returns the probe's lateness.
fn sample(runtime: &tokio::runtime::Runtime, variant: Variant, length: Duration) -> Sample {
    let dir = tempfile::tempdir().expect("temporary folder");
    let options = JournalOptions::with_durability(Durability::EveryAppend);
    let journals: Vec<Arc<FileJournal<String>>> = (0..STAGES)
        .map(|i| Arc::new(FileJournal::open(dir.path().join(format!("stage-{i}")), options).expect("journal")))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let appended = Arc::new(AtomicU64::new(0));
    let (lateness, seconds) = runtime.block_on(async {
        let stages: Vec<_> = journals
            .iter()
            .enumerate()
            .map(|(i, journal)| {
                let (journal, stop, appended) = (journal.clone(), stop.clone(), appended.clone());
                tokio::spawn(async move {
                    let mut n = 0_u64;
                    while !stop.load(Ordering::Relaxed) {
                        let record = format!("stage {i} record {n}: a line of an access log, more or less");
                        match variant {
                            Variant::Blocking => journal.append(record).map(drop),
                            Variant::Async => journal.append_async(record).await.map(drop),
                        }
                        .expect("append");
                        n += 1;
                        appended.fetch_add(1, Ordering::Relaxed);
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let started = Instant::now();
        let probe = tokio::spawn(async move {
            let mut lateness = Vec::with_capacity(length.as_millis() as usize + 1);
            while started.elapsed() < length {
                let due = tokio::time::Instant::now() + PROBE_EVERY;
                tokio::time::sleep_until(due).await;
                lateness.push(tokio::time::Instant::now().saturating_duration_since(due));
            }
            lateness
        });
        let lateness = probe.await.expect("probe");
        let seconds = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for stage in stages {
            stage.await.expect("stage");
        }
        (lateness, seconds)
    });
    let mut ms: Vec<f64> = lateness.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let p99 = ms[((ms.len() as f64 * 0.99).ceil() as usize).clamp(1, ms.len()) - 1];
    Sample {
        p99_ms: p99,
        max_ms: *ms.last().expect("the probe ticked"),
        appends_per_second: appended.load(Ordering::Relaxed) as f64 / seconds,
    }
}

fn main() {
    let bench = Bench::from_env("worker_blocking");
    let rounds = if bench.settings.smoke { 1 } else { bench.settings.rounds.min(11) };
    let length = if bench.settings.smoke { Duration::from_millis(50) } else { Duration::from_millis(400) };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(WORKERS).enable_time().build().expect("runtime");
    let variants = [Variant::Blocking, Variant::Async];
    let mut p99 = [Vec::new(), Vec::new()];
    let mut rate = [Vec::new(), Vec::new()];
    let mut csv = String::from("round,position,variant,stages,workers,p99_lateness_ms,max_lateness_ms,appends_per_s\n");
    for round in 0..=rounds {
        for position in 0..variants.len() {
            let v = (round + position) % variants.len();
            let s = sample(&runtime, variants[v], length);
            csv.push_str(&format!(
                "{round},{position},{},{STAGES},{WORKERS},{:.3},{:.3},{:.0}\n",
                variants[v].name(),
                s.p99_ms,
                s.max_ms,
                s.appends_per_second
            ));
            if round > 0 {
                p99[v].push(s.p99_ms);
                rate[v].push(s.appends_per_second);
            }
        }
    }
    println!(
        "\nworker_blocking: {STAGES} stages appending (EveryAppend, a journal each) on {WORKERS} workers, probe every \
         {PROBE_EVERY:?}; {rounds} rounds of {length:?} kept (first discarded), variants interleaved{}",
        if bench.settings.smoke { " [smoke run: not a measurement]" } else { "" }
    );
    for (v, variant) in variants.iter().enumerate() {
        let (l, r) = (Spread::of(&p99[v]).expect("p99"), Spread::of(&rate[v]).expect("rate"));
        let verdict = match variant {
            Variant::Async if l.median < TARGET_P99_MS => format!("  target < {TARGET_P99_MS} ms: MET"),
            Variant::Async => format!("  target < {TARGET_P99_MS} ms: MISSED"),
            Variant::Blocking => String::new(),
        };
        println!(
            "  {:<8} probe p99 lateness {} ms median (range {}-{}); {} appends/s (range {}-{}){verdict}",
            variant.name(),
            sig(l.median),
            sig(l.min),
            sig(l.max),
            sig(r.median),
            sig(r.min),
            sig(r.max)
        );
    }
    bench.write_csv("worker_blocking.csv", &csv);
}
