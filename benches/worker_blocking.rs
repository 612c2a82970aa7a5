//! Does journaling block a tokio worker? 64 stages append to durable journals (one each, synced on every append) on
//! a 2-worker runtime while a probe task asks to wake every 1 ms; the probe's lateness is how long the workers were
//! kept from running it. Two variants, interleaved in one process (order rotated per round, first round discarded):
//! `blocking`, each stage calling the synchronous `Journal::append` on its worker (what the runtime did before the
//! async append), `async`, each stage awaiting `Journal::append_async`, and `idle`, the same journals open and tasks
//! ticking without appending (the lateness the machine and its other load cause by themselves). Reports the probe's
//! p99 lateness per variant (median and range over rounds; target under 5 ms for `async`), appends per second, and the
//! longest any one call into the journal held its worker.
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
    /// The same 64 journals open and 64 tasks ticking, appending nothing: the lateness the machine itself causes.
    Idle,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Blocking => "blocking",
            Variant::Async => "async",
            Variant::Idle => "idle",
        }
    }
}

/// What one sample measured.
struct Sample {
    p99_ms: f64,
    max_ms: f64,
    appends_per_second: f64,
    /// The longest a stage's call into the journal held its worker (the blocking append, or `append_async` up to
    /// the future it returns: lock, encode, write).
    held_max_ms: f64,
    /// Calls into the journal that held their worker for 1 ms or more.
    held_over_1ms: u64,
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
    let held_max = Arc::new(AtomicU64::new(0));
    let held_long = Arc::new(AtomicU64::new(0));
    // With STAGEWISE_WB_EXPLAIN=1: for calls holding a worker 1 ms or more, the wall time, the time on a CPU and the
    // time runnable but waiting for one (preempted), from /proc/thread-self/schedstat; the rest is time blocked.
    let explain = std::env::var_os("STAGEWISE_WB_EXPLAIN").is_some();
    let why_held = Arc::new(std::sync::Mutex::new([0_u64; 3]));
    let (lateness, seconds) = runtime.block_on(async {
        let stages: Vec<_> = journals
            .iter()
            .enumerate()
            .map(|(i, journal)| {
                let (journal, stop, appended) = (journal.clone(), stop.clone(), appended.clone());
                let (held_max, held_long, why_held) = (held_max.clone(), held_long.clone(), why_held.clone());
                tokio::spawn(async move {
                    let mut n = 0_u64;
                    while !stop.load(Ordering::Relaxed) {
                        let record = format!("stage {i} record {n}: a line of an access log, more or less");
                        let called = Instant::now();
                        let sched = schedstat(explain);
                        let held = |called: Instant| {
                            let ns = called.elapsed().as_nanos() as u64;
                            held_max.fetch_max(ns, Ordering::Relaxed);
                            held_long.fetch_add(u64::from(ns >= 1_000_000), Ordering::Relaxed);
                            if let (Some((cpu0, queued0)), Some((cpu1, queued1))) = (sched, schedstat(explain)) {
                                if ns >= 1_000_000 {
                                    let mut why = why_held.lock().unwrap();
                                    why[0] += ns;
                                    why[1] += cpu1 - cpu0;
                                    why[2] += queued1 - queued0;
                                }
                            }
                        };
                        match variant {
                            Variant::Blocking => {
                                let appended = journal.append(record).map(drop);
                                held(called);
                                appended
                            }
                            Variant::Async => {
                                let future = journal.append_async(record);
                                held(called);
                                future.await.map(drop)
                            }
                            Variant::Idle => {
                                drop(record);
                                tokio::time::sleep(Duration::from_millis(1)).await;
                                Ok(())
                            }
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
    if explain {
        let [wall, cpu, queued] = *why_held.lock().unwrap();
        if wall > 0 {
            eprintln!(
                "  {}: calls holding a worker >= 1 ms: {:.1} ms in all, on a CPU {:.0}%, preempted {:.0}%, blocked {:.0}%",
                variant.name(),
                wall as f64 / 1e6,
                100.0 * cpu as f64 / wall as f64,
                100.0 * queued as f64 / wall as f64,
                100.0 * wall.saturating_sub(cpu + queued) as f64 / wall as f64
            );
        }
    }
    let mut ms: Vec<f64> = lateness.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    if ms.is_empty() {
        // The probe never woke within the sample (a short smoke run with blocked workers): it was late by all of it.
        ms.push(seconds * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    let p99 = ms[((ms.len() as f64 * 0.99).ceil() as usize).clamp(1, ms.len()) - 1];
    Sample {
        p99_ms: p99,
        max_ms: *ms.last().expect("the probe ticked"),
        appends_per_second: appended.load(Ordering::Relaxed) as f64 / seconds,
        held_max_ms: held_max.load(Ordering::Relaxed) as f64 / 1e6,
        held_over_1ms: held_long.load(Ordering::Relaxed),
    }
}

/// The calling thread's time on a CPU and time runnable waiting for one, in ns (`/proc/thread-self/schedstat`).
fn schedstat(wanted: bool) -> Option<(u64, u64)> {
    if !wanted {
        return None;
    }
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
    Some((fields.next()??, fields.next()??))
}

fn main() {
    let bench = Bench::from_env("worker_blocking");
    let rounds = if bench.settings.smoke { 1 } else { bench.settings.rounds.min(11) };
    let length = if bench.settings.smoke { Duration::from_millis(50) } else { Duration::from_millis(400) };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(WORKERS).enable_time().build().expect("runtime");
    let variants = [Variant::Blocking, Variant::Async, Variant::Idle];
    let mut p99 = [Vec::new(), Vec::new(), Vec::new()];
    let mut rate = [Vec::new(), Vec::new(), Vec::new()];
    let mut held = [Vec::new(), Vec::new(), Vec::new()];
    let mut csv = String::from(
        "round,position,variant,stages,workers,p99_lateness_ms,max_lateness_ms,appends_per_s,held_max_ms,held_over_1ms\n",
    );
    for round in 0..=rounds {
        for position in 0..variants.len() {
            let v = (round + position) % variants.len();
            let s = sample(&runtime, variants[v], length);
            csv.push_str(&format!(
                "{round},{position},{},{STAGES},{WORKERS},{:.3},{:.3},{:.0},{:.3},{}\n",
                variants[v].name(),
                s.p99_ms,
                s.max_ms,
                s.appends_per_second,
                s.held_max_ms,
                s.held_over_1ms
            ));
            if round > 0 {
                p99[v].push(s.p99_ms);
                rate[v].push(s.appends_per_second);
                held[v].push(s.held_max_ms);
            }
        }
    }
    println!(
        "\nworker_blocking: {STAGES} stages appending (EveryAppend, a journal each) on {WORKERS} workers, probe every \
         {PROBE_EVERY:?}; {rounds} rounds of {length:?} kept (first discarded), variants interleaved{}",
        if bench.settings.smoke { " [smoke run: not a measurement]" } else { "" }
    );
    for (v, variant) in variants.iter().enumerate() {
        let (l, r, h) = (Spread::of(&p99[v]).expect("p99"), Spread::of(&rate[v]).expect("rate"), Spread::of(&held[v]));
        let verdict = match variant {
            Variant::Async if l.median < TARGET_P99_MS => format!("  target < {TARGET_P99_MS} ms: MET"),
            Variant::Async => format!("  target < {TARGET_P99_MS} ms: MISSED"),
            _ => String::new(),
        };
        let work = match (variant, h) {
            (Variant::Idle, _) | (_, None) => " (no appends: the machine's own lateness)".to_owned(),
            (_, Some(h)) => format!(
                "; {} appends/s (range {}-{}); longest call holding a worker {} ms median (range {}-{})",
                sig(r.median),
                sig(r.min),
                sig(r.max),
                sig(h.median),
                sig(h.min),
                sig(h.max)
            ),
        };
        println!(
            "  {:<8} probe p99 lateness {} ms median (range {}-{}){work}{verdict}",
            variant.name(),
            sig(l.median),
            sig(l.min),
            sig(l.max),
        );
    }
    bench.write_csv("worker_blocking.csv", &csv);
}
