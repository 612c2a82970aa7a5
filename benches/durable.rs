//! Throughput of the access-log pipeline with durable links (policy `Os`, and `Every { 64 records, 50 ms }`) beside
//! the same pipeline with in-memory links, run interleaved by the harness (`benches/harness/`): throughput on the wall
//! clock, cost in CPU time of the whole process; then the resume time of the release example after a SIGKILL.
//!
//! Every variant writes its CSV to a file and journals errors; the durable ones also checkpoint the aggregate table
//! after every batch, exactly as `access_log --durable` does (they build the example's own durable pipeline).
//!
//! Run: `cargo bench --bench durable` (`DURABLE_BENCH_LINES` lines per run, default 200,000; `DURABLE_BENCH_KILLS`
//! resumes timed, default 15; `STAGEWISE_BENCH_ROUNDS` rounds); `cargo bench --bench durable -- access_log` skips the
//! resume part. `cargo test --benches` makes a short smoke run of the throughput part.

#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "../examples/access_log/durable.rs"]
#[allow(dead_code)]
mod durable;
#[path = "harness/mod.rs"]
mod harness;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::{ratio, timed, Bench, Clock, Elapsed, Spread, Stopwatch, Target};
use stagewise::journal::{Durability, FileJournal, JournalOptions};
use stagewise::pipeline::durable::Retention;
use stagewise::pipeline::{ErrorJournal, ErrorRecord, Pipeline};
use stagewise::{Journal, StageId};

use durable::DurableRun;
use stages::Input;
use work::{Aggregator, BATCH, LINK_CAPACITY};

const MEMORY: &str = "in-memory";
const OS: &str = "durable Os";
const EVERY: &str = "durable Every{64, 50ms}";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// One run of the pipeline over `lines` generated lines in a new folder; times everything from opening the journals
/// to closing them (not the folder's removal).
async fn run(links: Option<Durability>, lines: u64) -> Elapsed {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let watch = Stopwatch::start();
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
    let outcome = match links {
        None => {
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
        Some(durability) => {
            let run =
                DurableRun::open(&dir.join("run"), true, true, "bench", durability, 64 << 20, Retention::Consumed)
                    .unwrap();
            let output = run.output(&csv).unwrap();
            run.pipeline(builder, input, output, errors.clone(), summary.clone()).unwrap().run().await
        }
    };
    assert!(outcome.unwrap().is_completed());
    let summary = summary.lock().unwrap().take().unwrap();
    assert_eq!(summary.hits + errors.len(), lines, "in = out + errors");
    drop(errors);
    watch.elapsed()
}

/// Throughput and CPU cost, interleaved.
fn throughput(bench: &Bench, lines: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let variant = |name: &'static str, links: Option<Durability>| {
        let rt = &rt;
        timed(name, move |n| rt.block_on(run(links, n))).units(lines)
    };
    let every = Durability::Every { records: 64, interval: Duration::from_millis(50) };
    for (clock, comparison, label_os, label_every) in [
        (Clock::Wall, "access_log", "throughput, durable Os / in-memory", "throughput, durable Every / in-memory"),
        (
            Clock::ProcessCpu,
            "access_log_cpu",
            "CPU time per line, in-memory / durable Os",
            "CPU time per line, in-memory / durable Every",
        ),
    ] {
        let target = if clock == Clock::Wall { Some(Target::AtLeast(0.5)) } else { None };
        let os = ratio(label_os, MEMORY, OS);
        bench.clone().clock(clock).compare(
            comparison,
            "line",
            vec![variant(MEMORY, None), variant(OS, Some(Durability::Os)), variant(EVERY, Some(every))],
            &[if let Some(t) = target { os.target(t) } else { os }, ratio(label_every, MEMORY, EVERY)],
        );
    }
}

/// Resume time: the release example is killed at a random moment of a run (SIGKILL), then timed from the start of
/// the next process on the same folder until it has reopened every journal, read its checkpoint and started its
/// pipeline (its `stages:` line), and until that run is done.
fn resume(bench: &Bench, lines: u64, kills: usize) {
    if !bench.wants("resume") {
        return;
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--release", "--example", "access_log"])
        .status()
        .expect("cargo build");
    assert!(status.success());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/examples/access_log");
    let dir = tempfile::tempdir().unwrap();
    let start = |fresh: bool| {
        let mut command = Command::new(&example);
        command.args(["--lines", &lines.to_string(), "--durable"]).arg(dir.path().join("run"));
        command.arg("--out").arg(dir.path().join("out.csv")).stdout(Stdio::piped()).stderr(Stdio::null());
        if fresh {
            command.arg("--fresh");
        }
        command.spawn().expect("start access_log")
    };
    // xorshift: kill moments spread over the run, the same on every machine.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let (mut ready, mut whole) = (Vec::new(), Vec::new());
    for _ in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = start(true);
        std::thread::sleep(Duration::from_millis(50 + seed % 400));
        child.kill().unwrap();
        child.wait().unwrap();
        let started = Instant::now();
        let mut child = start(false);
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap() > 0 && !line.contains("stages:") {
            line.clear();
        }
        ready.push(started.elapsed().as_secs_f64() * 1e3);
        std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
        assert!(child.wait().unwrap().success(), "the resumed run finishes");
        whole.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let ready = Spread::of(&ready).expect("kills");
    let whole = Spread::of(&whole).expect("kills");
    println!(
        "\ndurable/resume: access_log --durable, {lines} lines, SIGKILL at 50-450 ms, {kills} kills; restart until the \
         pipeline runs again: {} ms median (range {}-{}); restart until the resumed run is done: {} ms (range {}-{})",
        harness::sig(ready.median),
        harness::sig(ready.min),
        harness::sig(ready.max),
        harness::sig(whole.median),
        harness::sig(whole.min),
        harness::sig(whole.max),
    );
}

fn main() {
    let bench = Bench::from_env("durable");
    let lines = if bench.settings.smoke { 5_000 } else { env_or("DURABLE_BENCH_LINES", 200_000) };
    throughput(&bench, lines);
    if !bench.settings.smoke {
        resume(&bench, 1_000_000, env_or("DURABLE_BENCH_KILLS", 15) as usize);
    }
}
