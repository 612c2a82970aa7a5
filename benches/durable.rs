//! Throughput of the access-log pipeline with durable links (policy `Os`, and `Every { 64 records, 50 ms }`) beside
//! the same pipeline with in-memory links, interleaved in one process (each round runs the three in a rotating
//! order; the first round is discarded), reported as median and range of lines per second and of the ratio to the
//! in-memory run of the same round; then the resume time after a SIGKILL of the example.
//!
//! Every variant writes its CSV to a file and journals errors; the durable ones also checkpoint the aggregate table
//! after every batch, exactly as `access_log --durable` does.
//!
//! Run: `cargo bench --bench durable` (`DURABLE_BENCH_LINES`, `DURABLE_BENCH_ROUNDS` to change the size);
//! `cargo test --benches` makes a short smoke run of the throughput part.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stagewise::journal::{Durability, FileJournal, JournalOptions};
use stagewise::pipeline::durable::Retention;
use stagewise::pipeline::{ErrorJournal, ErrorRecord, Pipeline};
use stagewise::{Journal, StageId};

#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "../examples/access_log/durable.rs"]
#[allow(dead_code)]
mod durable;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use durable::{DurableRun, SinkCheckpoints};
use stages::Input;
use work::{Aggregator, BATCH, LINK_CAPACITY};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Links {
    Memory,
    Durable(Durability),
}

impl Links {
    fn name(self) -> &'static str {
        match self {
            Links::Memory => "in-memory",
            Links::Durable(Durability::Os) => "durable Os",
            Links::Durable(_) => "durable Every{64, 50ms}",
        }
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One run of the pipeline in a new folder under `dir`; returns lines per second.
async fn run(links: Links, lines: u64, dir: &Path) -> f64 {
    let errors = Arc::new(
        FileJournal::<ErrorRecord>::open(
            dir.join("errors"),
            JournalOptions::with_durability(Durability::Every { records: 1000, interval: Duration::from_millis(100) }),
        )
        .unwrap(),
    );
    let summary = Arc::new(Mutex::new(None));
    let csv = dir.join("out.csv");
    let input = Input::Generated { next: 0, total: lines };
    let builder = Pipeline::builder("bench").capacity(LINK_CAPACITY);
    let started = Instant::now();
    let outcome = match links {
        Links::Memory => {
            let out = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&csv).unwrap());
            let aggregator = Aggregator::new(Some(Box::new(out))).unwrap();
            let error_journal: ErrorJournal = errors.clone();
            builder
                .source(|out| stages::read(StageId(0), input, BATCH, out))
                .transform(|inlet, out| stages::parse(StageId(1), inlet, out))
                .sink(|inlet| stages::aggregate(StageId(2), inlet, aggregator, error_journal, summary.clone()))
                .run()
                .await
        }
        Links::Durable(durability) => {
            let run = DurableRun::open(&dir.join("run"), true, durability, 64 << 20, Retention::Consumed).unwrap();
            let (aggregator, csv_bytes) = run.output(&csv).unwrap();
            let replayed = run.errors(errors.clone()).unwrap();
            builder
                .durable_source(&run.links, |out| stages::read(StageId(0), input, BATCH, out))
                .durable_transform(&run.links, |inlet, out| stages::parse(StageId(1), inlet, out))
                .sink(|inlet| {
                    let checkpoints = SinkCheckpoints {
                        checkpoints: run.checkpoints.clone(),
                        progress: inlet.progress().unwrap(),
                        csv_bytes,
                        errors: replayed.clone(),
                        error_file: errors.clone(),
                        crash: None,
                        saves: 0,
                    };
                    stages::aggregate_with(StageId(2), inlet, aggregator, replayed, summary.clone(), checkpoints)
                })
                .run()
                .await
        }
    };
    let secs = started.elapsed().as_secs_f64();
    assert!(outcome.unwrap().is_completed());
    let summary = summary.lock().unwrap().take().unwrap();
    assert_eq!(summary.hits + errors.len(), lines, "in = out + errors");
    lines as f64 / secs
}

fn median_and_range(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (values[values.len() / 2], values[0], values[values.len() - 1])
}

/// Throughput, interleaved.
fn throughput(lines: u64, rounds: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let variants = [
        Links::Memory,
        Links::Durable(Durability::Os),
        Links::Durable(Durability::Every { records: 64, interval: Duration::from_millis(50) }),
    ];
    let mut rates = vec![Vec::new(); variants.len()];
    for round in 0..=rounds {
        let mut this_round = [0.0; 3];
        for k in 0..variants.len() {
            let i = (round + k) % variants.len();
            let dir = tempfile::tempdir().unwrap();
            this_round[i] = rt.block_on(run(variants[i], lines, dir.path()));
        }
        if round > 0 {
            for (i, rate) in this_round.iter().enumerate() {
                rates[i].push(*rate);
            }
        }
    }
    println!("durable/throughput: access_log, {lines} lines, {rounds} rounds (first discarded), median [min, max]:");
    let memory = rates[0].clone();
    for (variant, rates) in variants.iter().zip(&rates) {
        let mut ratios: Vec<f64> = rates.iter().zip(&memory).map(|(r, m)| r / m).collect();
        let (rm, rlo, rhi) = median_and_range(&mut ratios);
        let (m, lo, hi) = median_and_range(&mut rates.clone());
        println!(
            "  {:<24} {:.2} M lines/s [{:.2}, {:.2}]; {rm:.2}x in-memory [{rlo:.2}, {rhi:.2}]",
            variant.name(),
            m / 1e6,
            lo / 1e6,
            hi / 1e6
        );
    }
}

/// Resume time: the release example killed in the middle of a run, then timed from its restart until it has
/// reopened every journal, read its checkpoint and started its pipeline (its `stages:` line).
fn resume(lines: u64, kills: usize) {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "--example", "access_log"])
        .status()
        .unwrap();
    assert!(status.success());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/examples/access_log");
    let dir = tempfile::tempdir().unwrap();
    let start = |dir: &Path| {
        Command::new(&example)
            .args(["--lines", &lines.to_string(), "--durable"])
            .arg(dir.join("run"))
            .arg("--out")
            .arg(dir.join("out.csv"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut times = Vec::new();
    for _ in 0..kills {
        let mut child = start(dir.path());
        std::thread::sleep(Duration::from_millis(150));
        child.kill().unwrap();
        child.wait().unwrap();
        let started = Instant::now();
        let mut child = start(dir.path());
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() > 0 && !line.contains("stages:") {
            line.clear();
        }
        times.push(started.elapsed().as_secs_f64() * 1e3);
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let (m, lo, hi) = median_and_range(&mut times);
    println!("durable/resume: restart after SIGKILL until the pipeline runs again: {m:.1} ms [{lo:.1}, {hi:.1}] over {kills} kills");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: then a smoke run checks that it all still runs.
    if !args.iter().any(|a| a == "--bench") {
        throughput(5_000, 1);
        return;
    }
    let lines = env_or("DURABLE_BENCH_LINES", 200_000);
    let rounds = env_or("DURABLE_BENCH_ROUNDS", 8) as usize;
    throughput(lines, rounds);
    resume(1_000_000, 7);
}
