//! The main example's `--metrics` endpoint, scraped over loopback: every stage's counts arrive in Prometheus' text
//! format and agree with what the pipeline itself recorded, restarts included.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stagewise::pipeline::{ErrorJournal, FailurePolicy, Pipeline};
use stagewise::{Journal, Lifecycle, MemoryJournal, StageId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "../examples/access_log/endpoint.rs"]
mod endpoint;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use endpoint::MetricsEndpoint;
use stages::Input;
use work::Aggregator;

/// One plain HTTP/1.1 GET over a fresh connection; the whole response, head and body.
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    response
}

/// The value of the sample `name{..}` whose labels include every one of `labels`.
fn sample(body: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    let line = body
        .lines()
        .find(|line| {
            line.strip_prefix(name).is_some_and(|rest| rest.starts_with('{'))
                && wanted.iter().all(|label| line.contains(label.as_str()))
        })
        .unwrap_or_else(|| panic!("no sample {name} {wanted:?} in:\n{body}"));
    let value = line.rsplit(' ').next().unwrap();
    value.parse::<f64>().unwrap_or_else(|_| panic!("not a number in {line}")) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_serves_every_stages_counts_over_loopback() {
    const LINES: u64 = 5_000;
    const BATCH: u64 = 64;
    const CHAOS: f64 = 0.05;
    const SEED: u64 = 7;
    // parse fails on the batches the seeded chaos strikes and is restarted (see tests/access_log.rs for the replay).
    let replay = chaos::Chaos::new(CHAOS, SEED);
    let struck = (0..LINES.div_ceil(BATCH)).filter(|_| replay.strikes()).count() as u64;
    assert!(struck > 0, "the seed strikes a batch");

    let errors = Arc::new(MemoryJournal::new());
    let error_journal: ErrorJournal = errors.clone();
    let summary = Arc::new(Mutex::new(None));
    let chaos = chaos::Chaos::new(CHAOS, SEED);
    let mut pipeline = Pipeline::builder("access_log")
        .capacity(4)
        .policy(FailurePolicy::FailPipeline)
        .errors(error_journal.clone())
        .source(|out| stages::read(StageId(0), Input::Generated { next: 0, total: LINES }, BATCH as usize, out))
        .restartable_transform(chaos::restart_policy(SEED), move |inlet, out| {
            stages::parse_restartable(StageId(1), inlet, out, &chaos)
        })
        .sink(|inlet| {
            stages::aggregate(StageId(2), inlet, Aggregator::new(None).unwrap(), error_journal, summary.clone())
        })
        .spawn();
    let exported = pipeline.metrics().with_error_journal(errors.clone());
    let endpoint = MetricsEndpoint::serve("127.0.0.1:0".parse().unwrap(), exported).await.unwrap();
    assert!(endpoint.addr().ip().is_loopback() && endpoint.addr().port() != 0, "a free port was picked");

    let during = get(endpoint.addr(), "/metrics").await;
    assert!(during.starts_with("HTTP/1.1 200 OK\r\n"), "{during}");
    assert!(during.contains("# TYPE stagewise_stage_transitions_total counter"), "{during}");

    let outcome = tokio::time::timeout(Duration::from_secs(20), pipeline.outcome()).await;
    let outcome = outcome.expect("the pipeline hung").unwrap();
    assert!(outcome.is_completed(), "{outcome}");

    let response = get(endpoint.addr(), "/metrics").await;
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK") && head.contains("text/plain; version=0.0.4"), "{head}");

    let pipeline_label = ("pipeline", "access_log");
    assert_eq!(outcome.restarts(), [("read", 0), ("parse", struck as u32), ("aggregate", 0)]);
    for stage in &outcome.stages {
        let Ok(record) = &stage.outcome else { panic!("{stage}") };
        assert_eq!(record.lifecycle, Lifecycle::Completed);
        let id = stage.id.0.to_string();
        let labels = [pipeline_label, ("stage", stage.name), ("stage_id", id.as_str())];
        let transitions = sample(body, "stagewise_stage_transitions_total", &labels);
        let loop_turns = sample(body, "stagewise_stage_loop_turns_total", &labels);
        assert_eq!(sample(body, "stagewise_stage_restarts_total", &labels), u64::from(stage.restarts), "{stage}");
        if stage.restarts == 0 {
            assert_eq!(transitions, record.counters.transitions, "{stage}");
            assert_eq!(loop_turns, record.counters.loop_turns, "{stage}");
            assert_eq!(sample(body, "stagewise_stage_failures_total", &labels), 0, "{stage}");
        } else {
            // The last instance's record counts only its own run; the metrics add up every instance's.
            assert!(transitions > record.counters.transitions, "{stage}: {transitions}");
            assert!(loop_turns > record.counters.loop_turns, "{stage}: {loop_turns}");
            assert_eq!(sample(body, "stagewise_stage_failures_total", &labels), struck, "one per failed instance");
        }
        assert!(record.counters.transitions > 2, "{stage}: the counts are real, not zeros");
    }
    // Every line leaves read and is taken by parse; the lines of the batches parse failed on go to the error journal
    // from the orchestrator, the rest reach aggregate (malformed ones as error events).
    let stage = |name| [pipeline_label, ("stage", name)];
    let passed = sample(body, "stagewise_stage_events_out_total", &stage("parse"));
    assert_eq!(sample(body, "stagewise_stage_events_out_total", &stage("read")), LINES);
    assert_eq!(sample(body, "stagewise_stage_events_in_total", &stage("parse")), LINES);
    assert!(passed < LINES, "the struck batches did not pass parse: {passed}");
    assert_eq!(sample(body, "stagewise_stage_events_in_total", &stage("aggregate")), passed);
    let has_sample = |name: &str, stage: &str| {
        body.lines().any(|l| l.starts_with(&format!("{name}{{")) && l.contains(&format!("stage=\"{stage}\"")))
    };
    assert!(!has_sample("stagewise_stage_events_in_total", "read"), "the source has no inlet: {body}");
    assert!(!has_sample("stagewise_stage_events_out_total", "aggregate"), "the sink has no outlet: {body}");
    assert!(has_sample("stagewise_stage_events_in_total", "parse"));
    for (from, to) in [("read", "parse"), ("parse", "aggregate")] {
        assert_eq!(sample(body, "stagewise_link_depth_events", &[pipeline_label, ("from", from), ("to", to)]), 0);
    }
    let summary = summary.lock().unwrap().take().unwrap_or_default();
    let error_events = sample(body, "stagewise_pipeline_error_events_total", &[pipeline_label]);
    assert_eq!(error_events, errors.len());
    assert_eq!(summary.hits + error_events, LINES, "in = out + errors, read from the metrics");

    let elsewhere = get(endpoint.addr(), "/other").await;
    assert!(elsewhere.starts_with("HTTP/1.1 404 Not Found\r\n"), "{elsewhere}");
}
