//! The main example across three OS processes on NATS JetStream against the same example in one process: wall time
//! for the same lines, the two sides interleaved by the harness (`benches/harness/`), each three-process sample on a
//! `nats-server` of its own (started and stopped outside the timed part) and checked to give the single-process
//! run's CSV.
//!
//! Timed like `scripts/access-log-on-nats.sh`: from starting the processes (orchestrate, aggregate, parse, read)
//! until aggregate, the last stage, exits; process start-up and connection included. The single-process side is
//! `access_log --lines N`, start-up included, and for information the same with `--durable DIR` (its links
//! durable journals in a folder, checkpoints and all, as the three processes' links are streams).
//!
//! Run: `cargo build --release --features nats --example access_log && cargo bench --features nats --bench across`
//! (`ACROSS_BENCH_LINES` lines a sample, default 1,000,000; `STAGEWISE_BENCH_ROUNDS` rounds, default 21). Needs
//! `nats-server` on the `PATH`.

#[path = "harness/mod.rs"]
mod harness;
#[path = "../tests/nats_support/mod.rs"]
mod nats_support;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use harness::{ratio, timed, Bench, Clock, Elapsed, Stopwatch};

const THREE: &str = "three processes on NATS JetStream";
const SINGLE: &str = "one process";
const SINGLE_DURABLE: &str = "one process, durable links (--durable)";

/// The example binary, built beforehand with the `nats` feature.
fn example() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let example = target.join("release/examples/access_log");
    assert!(
        example.exists(),
        "{} is missing: build it first with `cargo build --release --features nats --example access_log`",
        example.display()
    );
    example
}

/// Starts the example with `args`, its output to `log` in `dir`.
fn start(example: &Path, dir: &Path, log: &str, args: &[&str]) -> Child {
    let out = std::fs::File::create(dir.join(log)).expect("a log file");
    Command::new(example)
        .args(args)
        .stdout(out.try_clone().expect("the log file"))
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .expect("the example starts")
}

/// Waits for `child`; when it failed, panics with every log in `dir` (the other processes' say why).
fn finished(mut child: Child, dir: &Path, log: &str) {
    let status = child.wait().expect("the example's status");
    if !status.success() {
        let mut logs: Vec<_> = std::fs::read_dir(dir).expect("the logs").flatten().map(|e| e.path()).collect();
        logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
        logs.sort();
        let printed: String = logs
            .iter()
            .map(|p| format!("--- {}\n{}\n", p.display(), std::fs::read_to_string(p).unwrap_or_default()))
            .collect();
        panic!("{log}: {status}\n{printed}");
    }
}

/// One single-process run of `lines` (with `durable`, its links durable journals in a folder, as the three
/// processes' are streams); returns its time and its CSV.
fn single(example: &Path, lines: u64, durable: bool) -> (Elapsed, Vec<u8>) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (out, journal) = (dir.path().join("single.csv"), dir.path().join("journal"));
    let lines = lines.to_string();
    let state = dir.path().join("durable");
    let mut args =
        vec!["--lines", &lines, "--out", out.to_str().expect("utf-8"), "--journal", journal.to_str().expect("utf-8")];
    if durable {
        args.extend(["--durable", state.to_str().expect("utf-8")]);
    }
    let watch = Stopwatch::start();
    let child = start(example, dir.path(), "single.log", &args);
    finished(child, dir.path(), "single.log");
    let elapsed = watch.elapsed();
    (elapsed, std::fs::read(out).expect("the single-process CSV"))
}

/// One run of `lines` across three processes (and the orchestrator) on a fresh server; returns its time and CSV.
fn three(example: &Path, lines: u64) -> (Elapsed, Vec<u8>) {
    let server = nats_support::NatsServer::start();
    let url = server.url();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (out, state) = (dir.path().join("nats.csv"), dir.path().join("aggregate"));
    let lines = lines.to_string();
    let role = |role: &'static str| ["--nats", url.as_str(), "--role", role];
    let watch = Stopwatch::start();
    let orchestrate = start(example, dir.path(), "orchestrate.log", &role("orchestrate"));
    let aggregate_args =
        [&role("aggregate")[..], &["--durable", state.to_str().expect("utf-8"), "--out", out.to_str().expect("utf-8")]]
            .concat();
    let aggregate = start(example, dir.path(), "aggregate.log", &aggregate_args);
    let parse = start(example, dir.path(), "parse.log", &role("parse"));
    let read = start(example, dir.path(), "read.log", &[&role("read")[..], &["--lines", &lines]].concat());
    finished(read, dir.path(), "read.log");
    finished(parse, dir.path(), "parse.log");
    finished(aggregate, dir.path(), "aggregate.log");
    let elapsed = watch.elapsed();
    finished(orchestrate, dir.path(), "orchestrate.log");
    drop(server);
    (elapsed, std::fs::read(out).expect("the three-process CSV"))
}

fn main() {
    let bench = Bench::from_env("across");
    if !bench.wants("access_log") {
        return;
    }
    let lines = if bench.settings.smoke {
        10_000
    } else {
        std::env::var("ACROSS_BENCH_LINES").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(1_000_000)
    };
    let example = example();
    // Every sample's CSV must be the first single-process run's.
    let expected: RefCell<Option<Vec<u8>>> = RefCell::new(None);
    let check = |csv: Vec<u8>, side: &str| {
        let mut expected = expected.borrow_mut();
        let expected = expected.get_or_insert_with(|| csv.clone());
        assert!(*expected == csv, "the {side} run's CSV differs from the first run's");
    };
    let (example, check) = (&example, &check);
    bench.clone().clock(Clock::Wall).compare(
        "access_log",
        "line",
        vec![
            timed(SINGLE, move |n| {
                let (elapsed, csv) = single(example, n, false);
                check(csv, SINGLE);
                elapsed
            })
            .units(lines),
            timed(SINGLE_DURABLE, move |n| {
                let (elapsed, csv) = single(example, n, true);
                check(csv, SINGLE_DURABLE);
                elapsed
            })
            .units(lines),
            timed(THREE, move |n| {
                let (elapsed, csv) = three(example, n);
                check(csv, THREE);
                elapsed
            })
            .units(lines),
        ],
        &[
            ratio("throughput, three processes / one process", SINGLE, THREE),
            ratio("throughput, three processes / one process with durable links", SINGLE_DURABLE, THREE),
        ],
    );
}
