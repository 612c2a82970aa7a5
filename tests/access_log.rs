//! The main example's pipeline (read -> parse -> aggregate, the stages of `examples/access_log`) on real input: every
//! line is counted once as a hit or an error, errors land in the error journal, and a source that cannot read fails
//! the pipeline while the other stages drain.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use stagewise::pipeline::{ErrorJournal, ErrorRecord, FailurePolicy, Pipeline, PipelineOutcome};
use stagewise::{ErrorKind, Journal, Lifecycle, MemoryJournal, StageId};

#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use stages::Input;
use work::{generate_line, parse_line, AggregateSummary, Aggregator};

async fn run(input: Input) -> (PipelineOutcome, AggregateSummary, Arc<MemoryJournal<ErrorRecord>>) {
    let errors = Arc::new(MemoryJournal::new());
    let error_journal: ErrorJournal = errors.clone();
    let summary = Arc::new(Mutex::new(None));
    let pipeline = Pipeline::builder("access_log")
        .capacity(4)
        .policy(FailurePolicy::FailPipeline)
        .source(|out| stages::read(StageId(0), input, 64, out))
        .transform(|inlet, out| stages::parse(StageId(1), inlet, out))
        .sink(|inlet| {
            let aggregator = Aggregator::new(None).unwrap();
            stages::aggregate(StageId(2), inlet, aggregator, error_journal, summary.clone())
        });
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(20), pipeline.run()).await;
    let outcome = outcome.expect("the pipeline hung").unwrap();
    let summary = summary.lock().unwrap().take().unwrap_or_default();
    (outcome, summary, errors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_log_counts_every_line_once_as_a_hit_or_an_error() {
    const LINES: u64 = 20_000;
    let malformed = (0..LINES).filter(|&i| parse_line(generate_line(i)).is_err()).count() as u64;
    assert!(malformed > LINES / 100 && malformed < LINES / 20, "a few percent malformed: {malformed}");

    let (outcome, summary, errors) = run(Input::Generated { next: 0, total: LINES }).await;

    assert!(outcome.is_completed(), "{outcome}");
    for stage in &outcome.stages {
        assert_eq!(stage.lifecycle(), Some(&Lifecycle::Completed), "{stage}");
    }
    assert_eq!(summary.errors, malformed);
    assert_eq!(errors.len(), malformed);
    assert_eq!(summary.hits + summary.errors, LINES, "in = out + errors");
    assert_eq!(summary.statuses.values().sum::<u64>(), summary.hits);
}

#[tokio::test]
async fn file_lines_that_are_malformed_or_not_utf8_become_error_records_and_the_run_goes_on() {
    let path = std::env::temp_dir().join(format!("stagewise-access_log-test-{}.log", std::process::id()));
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(b"1.2.3.4 - - [26/Nov/2026:10:00:00 +0000] \"GET /a?x=1 HTTP/1.1\" 200 12\n").unwrap();
    file.write_all(b"\xff\xfe not utf-8\n").unwrap();
    file.write_all(b"garbage\n").unwrap();
    file.write_all(b"1.2.3.4 - - [26/Nov/2026:10:05:00 +0000] \"GET /a HTTP/1.1\" 404 -\r\n").unwrap();
    drop(file);

    let (outcome, summary, errors) =
        run(Input::File(std::io::BufReader::new(std::fs::File::open(&path).unwrap()))).await;
    std::fs::remove_file(&path).unwrap();

    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!((summary.hits, summary.errors, summary.rows), (2, 2, 2));
    let records = errors.records();
    assert_eq!(records.len(), 2);
    // The non-UTF-8 line failed in the source and passed parse untouched; the garbage line failed in parse.
    assert_eq!((records[0].context.name.as_ref(), records[0].kind), ("read", ErrorKind::Parse));
    assert!(records[0].message.starts_with("line 2:"), "{}", records[0].message);
    assert_eq!((records[1].context.name.as_ref(), records[1].kind), ("parse", ErrorKind::Parse));
    assert!(records[1].message.starts_with("line 3:"), "{}", records[1].message);
}

#[cfg(unix)]
#[tokio::test]
async fn source_that_cannot_read_fails_the_pipeline_and_the_other_stages_drain() {
    // A directory opens as a file on Unix but fails on the first read.
    let dir = std::fs::File::open(std::env::temp_dir()).unwrap();

    let (outcome, _, _) = run(Input::File(std::io::BufReader::new(dir))).await;

    match outcome.lifecycle() {
        Lifecycle::Failed { error, .. } => assert!(error.contains("stage read (stage-0) failed"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(matches!(outcome.stage("read").unwrap().lifecycle(), Some(Lifecycle::Failed { .. })));
    for stage in &outcome.stages {
        assert!(stage.lifecycle().is_some_and(Lifecycle::is_terminal), "{stage}");
    }
}
