//! Lifecycle across processes on a real `nats-server`: members (standing in for the processes of a pipeline) write
//! lifecycle records and heartbeats; a `ProcessOrchestrator` records a member that stopped heartbeating, asks a
//! failed member to restart within the restart policy's intensity, stops the others past it, and completes when
//! every member completed; with a restart strategy, asks the running siblings the strategy names to restart with a
//! failed member. Deadlines only guard against a hang; no test asserts how fast anything is.

mod nats_support;

use std::borrow::Cow;
use std::time::Duration;

use nats_support::NatsServer;
use stagewise::journal::Journal;
use stagewise::nats::{
    connect, lifecycle_stream, Context, Launch, Member, NatsError, NatsJournal, ProcessOrchestrator, Request,
};
use stagewise::pipeline::FailurePolicy;
use stagewise::restart::{Backoff, Restart, RestartStrategy};
use stagewise::{CounterSnapshot, Lifecycle, LifecycleRecord, StageId, WriterId};

/// Long enough for a loaded machine; only a guard against a hang.
const DEADLINE: Duration = Duration::from_secs(60);

/// A record of `supervisor`: its pipeline's (no stage) or its stage's.
fn record(supervisor: &'static str, stage: Option<u32>, lifecycle: Lifecycle) -> LifecycleRecord {
    LifecycleRecord {
        supervisor: Cow::Borrowed(supervisor),
        writer: stage.map_or(WriterId::System, |s| WriterId::Stage(StageId(s))),
        stage: stage.map(StageId),
        state: Cow::Borrowed("-"),
        lifecycle,
        counters: CounterSnapshot::default(),
    }
}

async fn join(js: &Context, process: &str) -> Member {
    Member::join(js, "pipe", process, Duration::from_millis(50)).await.expect("joined")
}

async fn write(member: &Member, record: LifecycleRecord) {
    member.lifecycle().append_acked(record).await.expect("recorded");
}

async fn next_request(member: &mut Member) -> Request {
    tokio::time::timeout(DEADLINE, member.request()).await.expect("a request before the deadline").expect("a request")
}

/// Every record of every process and of the orchestrator, in the order stored.
async fn all_records(js: &Context) -> Vec<LifecycleRecord> {
    let all =
        NatsJournal::<LifecycleRecord>::open(js, &lifecycle_stream("pipe").unwrap(), "pipe.lifecycle.>").await.unwrap();
    all.read_from(0).unwrap()
}

fn failed(error: &str) -> Lifecycle {
    Lifecycle::Failed { error: error.to_owned(), escalation: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_stops_heartbeating_is_recorded_failed_in_its_stead() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::from_millis(50), 4);
    let running = tokio::spawn(orchestrator.run());
    let member = join(&js, "a").await;
    write(&member, record("pipe", None, Lifecycle::Started)).await;
    write(&member, record("parse", Some(1), Lifecycle::Started)).await;
    drop(member); // its heartbeat stops, as a killed process's would

    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    let outcome = outcome.unwrap().expect("the orchestrator ran");
    assert!(
        matches!(&outcome, Lifecycle::Failed { error, .. } if error.contains("process a stopped heartbeating")),
        "{outcome:?}"
    );
    let records = all_records(&js).await;
    for (supervisor, stage) in [("pipe", None), ("parse", Some(StageId(1)))] {
        let gone = records.iter().find(|r| r.supervisor == supervisor && r.state == "Gone");
        let gone = gone.unwrap_or_else(|| panic!("no Gone record for {supervisor}: {records:#?}"));
        assert_eq!(gone.stage, stage);
        assert!(matches!(&gone.lifecycle, Lifecycle::Failed { error, .. } if error.contains("stopped heartbeating")));
    }
    assert_eq!(records.last().map(|r| r.supervisor.as_ref()), Some("pipe@orchestrator"), "{records:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_process_is_restarted_within_its_intensity_then_the_others_are_stopped() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let restart = Restart::transient().intensity(1, Duration::from_secs(600)).backoff(Backoff::none());
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a", "b"])
        .heartbeat(Duration::from_millis(50), 100)
        .policy(FailurePolicy::FailPipeline)
        .restart(restart, DEADLINE);
    let (mut a, mut b) = (join(&js, "a").await, join(&js, "b").await);
    let running = tokio::spawn(orchestrator.run());
    write(&b, record("pipe", None, Lifecycle::Started)).await;
    write(&a, record("pipe", None, Lifecycle::Started)).await;
    write(&a, record("pipe", None, failed("first"))).await;
    assert_eq!(next_request(&mut a).await, Request::Restart, "one restart is within the intensity");
    write(&a, record("pipe", None, Lifecycle::Started)).await;
    write(&a, record("pipe", None, failed("second"))).await;
    assert_eq!(next_request(&mut b).await, Request::Stop, "past the intensity, the pipeline fails: b is stopped");
    write(&b, record("pipe", None, Lifecycle::Cancelled { reason: "stopped".into() })).await;

    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    let outcome = outcome.unwrap().expect("the orchestrator ran");
    assert_eq!(outcome, failed("process a: failed: second"));
    let records = all_records(&js).await;
    let restarting: Vec<_> = records.iter().filter(|r| matches!(r.lifecycle, Lifecycle::Restarting { .. })).collect();
    assert_eq!(restarting.len(), 1, "{records:#?}");
    assert_eq!(restarting[0].supervisor, "pipe@a");
    assert!(
        matches!(&restarting[0].lifecycle, Lifecycle::Restarting { attempt: 1, cause, .. } if cause.contains("first"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_process_completed_completes_the_pipeline() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let (a, b) = (join(&js, "a").await, join(&js, "b").await);
    for member in [&a, &b] {
        write(member, record("pipe", None, Lifecycle::Started)).await;
        write(member, record("pipe", None, Lifecycle::Completed)).await;
    }
    // Started after the records: it catches up from the stream.
    let outcome = ProcessOrchestrator::new(&js, "pipe", ["a", "b"]).heartbeat(Duration::from_millis(50), 10).run();
    let outcome = tokio::time::timeout(DEADLINE, outcome).await.expect("an outcome before the deadline");
    assert_eq!(outcome.expect("the orchestrator ran"), Lifecycle::Completed);
    let records = all_records(&js).await;
    let own: Vec<_> = records.iter().filter(|r| r.supervisor == "pipe@orchestrator").map(|r| &r.lifecycle).collect();
    assert_eq!(own, [&Lifecycle::Started, &Lifecycle::Completed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_heartbeat_interval_is_refused_with_an_error_not_a_panic() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let joined = Member::join(&js, "pipe", "a", Duration::ZERO).await;
    let refused = joined.expect_err("a member beating every 0 s");
    assert!(matches!(refused, NatsError::Invalid { .. }) && refused.to_string().contains("heartbeat"), "{refused}");

    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::ZERO, 4);
    let outcome = tokio::time::timeout(DEADLINE, tokio::spawn(orchestrator.run())).await.expect("before the deadline");
    let refused =
        outcome.expect("the orchestrator did not panic").expect_err("an orchestrator expecting beats every 0 s");
    assert!(matches!(refused, NatsError::Invalid { .. }) && refused.to_string().contains("heartbeat"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_name_that_is_not_one_subject_token_is_refused_naming_it() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    for pipeline in ["a b", "a.b", "a>", ""] {
        member_and_orchestrator_refused(&js, pipeline, "pipeline").await;
    }
}

/// A member and an orchestrator of `pipeline` are both refused as invalid, the error saying `says`.
async fn member_and_orchestrator_refused(js: &Context, pipeline: &str, says: &str) {
    let refused = Member::join(js, pipeline, "a", Duration::from_millis(50)).await.expect_err("a member");
    assert!(matches!(refused, NatsError::Invalid { .. }) && refused.to_string().contains(says), "{refused}");
    let orchestrator = ProcessOrchestrator::new(js, pipeline, ["a"]).heartbeat(Duration::from_millis(50), 4);
    let refused = orchestrator.run().await.expect_err("an orchestrator");
    assert!(matches!(refused, NatsError::Invalid { .. }) && refused.to_string().contains(says), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_of_different_names_never_share_a_stream_or_claims_bucket() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    // Each pair shared the claims bucket and lifecycle stream once names were upper-cased: the second member waited
    // for the first's claim on "a" and was refused.
    let mut members = Vec::new();
    for pipeline in ["pipe", "Pipe", "a_b", "A_B"] {
        let joined = Member::join(&js, pipeline, "a", Duration::from_millis(50)).await;
        members.push(joined.unwrap_or_else(|e| panic!("pipeline {pipeline}: {e}")));
    }
    // A '-' would be a second spelling of '_' in the names of streams: refused, saying what to write.
    member_and_orchestrator_refused(&js, "a-b", "write \"a_b\"").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orchestrator_of_no_process_or_named_as_one_of_its_processes_is_refused() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let empty = ProcessOrchestrator::new(&js, "pipe", Vec::<String>::new()).run();
    let refused = tokio::time::timeout(DEADLINE, empty).await.expect("before the deadline");
    let refused = refused.expect_err("an orchestrator of nothing does not complete");
    assert!(matches!(refused, NatsError::Invalid { .. }) && refused.to_string().contains("process"), "{refused}");

    // Its records and heartbeat would be taken for those of the process of that name.
    let clash = ProcessOrchestrator::new(&js, "pipe", ["a", "b"]).name("a").run();
    let refused = tokio::time::timeout(DEADLINE, clash).await.expect("before the deadline");
    let refused = refused.expect_err("an orchestrator named as one of its processes");
    assert!(matches!(refused, NatsError::Invalid { .. }) && refused.to_string().contains("\"a\""), "{refused}");
}

/// Waits until the lifecycle stream holds a record `found` accepts; the records so far.
async fn until(js: &Context, found: impl Fn(&LifecycleRecord) -> bool) -> Vec<LifecycleRecord> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let records = all_records(js).await;
        if records.iter().any(&found) {
            return records;
        }
        assert!(tokio::time::Instant::now() < deadline, "not recorded before the deadline: {records:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_silent_for_a_while_but_alive_is_recorded_back_when_it_beats_again() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let restart = Restart::transient().intensity(3, Duration::from_secs(600)).backoff(Backoff::none());
    let orchestrator =
        ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::from_millis(50), 4).restart(restart, DEADLINE);
    let running = tokio::spawn(orchestrator.run());
    // The process's own journal, without a Member's heartbeat: the test beats for it, as a paused process would not.
    let own = NatsJournal::<LifecycleRecord>::open(&js, &lifecycle_stream("pipe").unwrap(), "pipe.lifecycle.a")
        .await
        .unwrap();
    own.append_acked(record("pipe", None, Lifecycle::Started)).await.unwrap();
    own.append_acked(record("parse", Some(1), Lifecycle::Started)).await.unwrap();
    until(&js, |r| matches!(r.lifecycle, Lifecycle::Restarting { .. })).await;

    // It comes back (SIGCONT): its heartbeat again, the same run going on.
    let client = js.client();
    let beating = tokio::spawn(async move {
        loop {
            client.publish("pipe.heartbeat.a", Vec::new().into()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let records = until(&js, |r| r.supervisor == "pipe@a" && r.state == "Back").await;
    let parse: Vec<_> = records.iter().filter(|r| r.supervisor == "parse").map(|r| r.state.as_ref()).collect();
    assert_eq!(parse, ["-", "Gone", "Back"], "parse's own history: started, taken for gone, back");
    own.append_acked(record("parse", Some(1), Lifecycle::Completed)).await.unwrap();
    own.append_acked(record("pipe", None, Lifecycle::Completed)).await.unwrap();
    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    assert_eq!(outcome.unwrap().expect("the orchestrator ran"), Lifecycle::Completed);
    beating.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_name_claimed_by_a_live_process_is_refused_and_free_again_once_it_stops() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let first = join(&js, "parse").await;
    // It waits for the claim to expire (10 beats and 2 more): the first renews it, so it is refused.
    let twice = Member::join(&js, "pipe", "parse", Duration::from_millis(50)).await;
    let refused = twice.expect_err("a second process joining as parse");
    assert!(matches!(refused, NatsError::Claimed { .. }), "{refused}");
    assert!(refused.to_string().starts_with("another process runs as parse of pipeline pipe"), "{refused}");
    assert!(first.fenced().is_none(), "the first keeps its name");
    drop(first); // stopped: its claim is released (or expires), and the role can be started again
    join(&js, "parse").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orchestrator_started_again_does_not_judge_a_gone_process_a_second_time() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let restart = Restart::transient().intensity(3, Duration::from_secs(600)).backoff(Backoff::none());
    let orchestrator = || {
        ProcessOrchestrator::new(&js, "pipe", ["a"])
            .heartbeat(Duration::from_millis(50), 4)
            .restart(restart.clone(), Duration::from_secs(2))
    };
    let first = tokio::spawn(orchestrator().run());
    let member = join(&js, "a").await;
    write(&member, record("pipe", None, Lifecycle::Started)).await;
    drop(member); // killed, and not started again
    until(&js, |r| matches!(r.lifecycle, Lifecycle::Restarting { .. })).await;
    first.abort(); // the orchestrator's process killed too, then started again

    let outcome = tokio::time::timeout(DEADLINE, orchestrator().run()).await.expect("an outcome before the deadline");
    let outcome = outcome.expect("the orchestrator ran");
    assert!(
        matches!(&outcome, Lifecycle::Failed { error, .. } if error.contains("did not start again")),
        "{outcome:?}"
    );
    let records = all_records(&js).await;
    let judged = |state: &str| records.iter().filter(|r| r.state == state).count();
    assert_eq!((judged("Gone"), judged("Restarting")), (1, 1), "judged once, by the first: {records:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_for_good_ends_the_orchestrator_with_an_error_naming_it() {
    let mut server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let a = join(&js, "a").await;
    write(&a, record("pipe", None, Lifecycle::Started)).await;
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::from_millis(50), 10);
    let running = tokio::spawn(orchestrator.outage(Duration::from_secs(2)).run());
    until(&js, |r| r.supervisor == "pipe@orchestrator").await;
    server.kill(); // for good
                   // A guard against a hang only: it ends once the server has not answered for 2 s.
    let ended = tokio::time::timeout(DEADLINE, running).await.expect("the orchestrator ends").unwrap();
    let lost = ended.expect_err("no outcome without a server");
    assert!(matches!(lost, NatsError::Lost { .. }), "{lost}");
    assert!(lost.to_string().starts_with("the NATS server did not answer for 2s while"), "{lost}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_run_judges_nothing_from_an_earlier_runs_records() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let a = join(&js, "a").await;
    // The earlier run: a completed, and so did the pipeline.
    write(&a, record("pipe", None, Lifecycle::Started)).await;
    write(&a, record("pipe", None, Lifecycle::Completed)).await;
    let earlier = ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::from_millis(50), 10).run();
    let earlier = tokio::time::timeout(DEADLINE, earlier).await;
    assert_eq!(earlier.expect("before the deadline").unwrap(), Lifecycle::Completed);

    // A new run: the earlier Completed does not count; this run's failure does.
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::from_millis(50), 10);
    let running = tokio::spawn(orchestrator.new_run().run());
    until(&js, |r| r.supervisor == "pipe@orchestrator" && r.state == "NewRun").await;
    write(&a, record("pipe", None, Lifecycle::Started)).await;
    write(&a, record("pipe", None, failed("boom"))).await;
    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("before the deadline").unwrap();
    assert_eq!(outcome.unwrap(), failed("process a: failed: boom"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_silencing_every_heartbeat_is_not_taken_for_a_gone_process() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    // The process beats from before the orchestrator starts, so the orchestrator takes it for running at once.
    let client = js.client();
    let beating = tokio::spawn(async move {
        loop {
            let _ = client.publish("pipe.heartbeat.a", Vec::new().into()).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::from_millis(50), 4);
    let running = tokio::spawn(orchestrator.run());
    let own = NatsJournal::<LifecycleRecord>::open(&js, &lifecycle_stream("pipe").unwrap(), "pipe.lifecycle.a")
        .await
        .unwrap();
    own.append_acked(record("pipe", None, Lifecycle::Started)).await.unwrap();
    until(&js, |r| r.supervisor == "pipe@orchestrator").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The server stalls (SIGSTOP) for several times the silence that makes a process gone, its connections open: no
    // heartbeat reaches the orchestrator, its own connection stays up. Nobody stopped heartbeating.
    server.pause();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.resume();
    tokio::time::sleep(Duration::from_millis(500)).await;
    own.append_acked(record("pipe", None, Lifecycle::Completed)).await.unwrap();
    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    let records = all_records(&js).await;
    assert_eq!(outcome.unwrap().expect("the orchestrator ran"), Lifecycle::Completed, "{records:#?}");
    assert!(!records.iter().any(|r| r.state == "Gone"), "nothing taken for gone: {records:#?}");
    beating.abort();
}

/// The Restarting records in the lifecycle stream: (supervisor, state, cause), in the order stored.
async fn restarts(js: &Context) -> Vec<(String, String, String)> {
    let records = all_records(js).await;
    let restarting = records.iter().filter_map(|r| match &r.lifecycle {
        Lifecycle::Restarting { cause, .. } => Some((r.supervisor.to_string(), r.state.to_string(), cause.clone())),
        _ => None,
    });
    restarting.collect()
}

/// `member` stopped its run to run again (asked to restart while it ran), and started it again.
async fn restarted(member: &Member) {
    write(member, record("pipe", None, Lifecycle::Cancelled { reason: "stopped".into() })).await;
    write(member, record("pipe", None, Lifecycle::Started)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_for_all_restarts_every_other_running_process_but_not_one_that_completed() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let (mut a, mut b, mut c, d) =
        (join(&js, "a").await, join(&js, "b").await, join(&js, "c").await, join(&js, "d").await);
    for member in [&a, &b, &c, &d] {
        write(member, record("pipe", None, Lifecycle::Started)).await;
    }
    write(&d, record("pipe", None, Lifecycle::Completed)).await; // done before anything failed
                                                                 // One restart per process within the intensity: a restart with a sibling does not count against it.
    let restart = Restart::transient().intensity(1, Duration::from_secs(600)).backoff(Backoff::none());
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a", "b", "c", "d"])
        .heartbeat(Duration::from_millis(50), 100)
        .restart(restart, DEADLINE)
        .strategy(RestartStrategy::All);
    let running = tokio::spawn(orchestrator.run());

    write(&b, record("pipe", None, failed("boom"))).await;
    assert_eq!(next_request(&mut b).await, Request::Restart);
    for member in [&mut a, &mut c] {
        assert_eq!(next_request(member).await, Request::RestartWithSibling);
    }
    restarted(&a).await;
    restarted(&c).await;
    write(&b, record("pipe", None, Lifecycle::Started)).await;
    // a fails in turn: its own first restart, b and c with it.
    write(&a, record("pipe", None, failed("bang"))).await;
    assert_eq!(next_request(&mut a).await, Request::Restart, "a's own intensity was not charged by b's restart");
    for member in [&mut b, &mut c] {
        assert_eq!(next_request(member).await, Request::RestartWithSibling);
    }
    write(&a, record("pipe", None, Lifecycle::Started)).await;
    restarted(&b).await;
    restarted(&c).await;
    for member in [&a, &b, &c] {
        write(member, record("pipe", None, Lifecycle::Completed)).await;
    }

    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    assert_eq!(outcome.unwrap().expect("the orchestrator ran"), Lifecycle::Completed);
    let restarts = restarts(&js).await;
    let who: Vec<(&str, &str)> = restarts.iter().map(|(s, state, _)| (s.as_str(), state.as_str())).collect();
    assert_eq!(
        who,
        [
            ("pipe@b", "Restarting"),
            ("pipe@a", "WithSibling"),
            ("pipe@c", "WithSibling"),
            ("pipe@a", "Restarting"),
            ("pipe@b", "WithSibling"),
            ("pipe@c", "WithSibling"),
        ],
        "d completed: not restarted"
    );
    assert_eq!(restarts[1].2, "restarted with process b, which failed: boom");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_for_one_restarts_only_the_processes_downstream_of_the_failed_one() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let (a, mut b, mut c) = (join(&js, "a").await, join(&js, "b").await, join(&js, "c").await);
    for member in [&a, &b, &c] {
        write(member, record("pipe", None, Lifecycle::Started)).await;
    }
    let restart = Restart::transient().intensity(1, Duration::from_secs(600)).backoff(Backoff::none());
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a", "b", "c"])
        .heartbeat(Duration::from_millis(50), 100)
        .restart(restart, DEADLINE)
        .strategy(RestartStrategy::FailedAndDownstream);
    let running = tokio::spawn(orchestrator.run());

    write(&b, record("pipe", None, failed("boom"))).await;
    assert_eq!(next_request(&mut b).await, Request::Restart);
    assert_eq!(next_request(&mut c).await, Request::RestartWithSibling, "c is downstream of b");
    write(&b, record("pipe", None, Lifecycle::Started)).await;
    restarted(&c).await;
    for member in [&a, &b, &c] {
        write(member, record("pipe", None, Lifecycle::Completed)).await;
    }

    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    assert_eq!(outcome.unwrap().expect("the orchestrator ran"), Lifecycle::Completed);
    let restarts = restarts(&js).await;
    let who: Vec<&str> = restarts.iter().map(|(supervisor, _, _)| supervisor.as_str()).collect();
    assert_eq!(who, ["pipe@b", "pipe@c"], "a is upstream of b: not restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_orchestrator_of_the_pipeline_is_refused_and_the_first_goes_on() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let orchestrator = || ProcessOrchestrator::new(&js, "pipe", ["a"]).heartbeat(Duration::from_millis(50), 10);
    let first = tokio::spawn(orchestrator().run());
    until(&js, |r| r.supervisor == "pipe@orchestrator").await;
    // Started by mistake beside it: it would record and ask everything a second time.
    let second = tokio::time::timeout(DEADLINE, orchestrator().run()).await.expect("refused before the deadline");
    assert!(matches!(second, Err(NatsError::Claimed { .. })), "{second:?}");

    let member = join(&js, "a").await;
    write(&member, record("pipe", None, Lifecycle::Started)).await;
    write(&member, record("pipe", None, Lifecycle::Completed)).await;
    let outcome = tokio::time::timeout(DEADLINE, first).await.expect("an outcome before the deadline");
    assert_eq!(outcome.unwrap().expect("the first orchestrator ran"), Lifecycle::Completed);
}

/// A launcher whose starting a process is, here, telling the test (the receiver) to join a member under its name.
fn launcher() -> (impl Launch, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (starts, started) = tokio::sync::mpsc::unbounded_channel::<String>();
    let launcher = move |process: &str| {
        let sent = starts.send(process.to_owned()).map_err(|e| e.to_string());
        async move { sent }
    };
    (launcher, started)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launcher_starts_the_processes_not_seen_and_a_gone_one_again() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let (launcher, mut started) = launcher();
    let restart = Restart::transient().intensity(3, Duration::from_secs(600)).backoff(Backoff::none());
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"])
        .heartbeat(Duration::from_millis(50), 4)
        .restart(restart, DEADLINE)
        .launcher(launcher)
        .launch_unseen();
    let running = tokio::spawn(orchestrator.run());
    let mut next_start = async || tokio::time::timeout(DEADLINE, started.recv()).await.expect("a start").unwrap();
    assert_eq!(next_start().await, "a", "not seen at the start: started");
    let member = join(&js, "a").await;
    write(&member, record("pipe", None, Lifecycle::Started)).await;
    drop(member); // killed: its heartbeat stops
    assert_eq!(next_start().await, "a", "gone: started again");
    let member = join(&js, "a").await;
    write(&member, record("pipe", None, Lifecycle::Started)).await;
    write(&member, record("pipe", None, Lifecycle::Completed)).await;

    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    assert_eq!(outcome.unwrap().expect("the orchestrator ran"), Lifecycle::Completed);
    let restarts = restarts(&js).await;
    assert_eq!(restarts.len(), 1, "{restarts:?}");
    assert!(restarts[0].2.contains("process a stopped heartbeating"), "{restarts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_the_launcher_cannot_start_fails_the_pipeline_naming_why() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let launcher = |_: &str| async { Err("no such program".to_owned()) };
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"])
        .heartbeat(Duration::from_millis(50), 4)
        .launcher(launcher)
        .launch_unseen();
    let outcome = tokio::time::timeout(DEADLINE, orchestrator.run()).await.expect("an outcome before the deadline");
    assert_eq!(outcome.expect("the orchestrator ran"), failed("process a could not be started: no such program"));
    let records = all_records(&js).await;
    assert!(records.iter().any(|r| r.supervisor == "pipe@a" && r.state == "NotStarted"), "{records:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launcher_starts_again_a_process_whose_run_failed_and_that_exited_within_its_intensity() {
    let server = NatsServer::start();
    let js = connect(&server.url(), Duration::from_secs(5)).await.unwrap();
    let (launcher, mut started) = launcher();
    let restart = Restart::transient().intensity(1, Duration::from_secs(600)).backoff(Backoff::none());
    let orchestrator = ProcessOrchestrator::new(&js, "pipe", ["a"])
        .heartbeat(Duration::from_millis(50), 4)
        .restart(restart, DEADLINE)
        .launcher(launcher);
    let member = join(&js, "a").await;
    let running = tokio::spawn(orchestrator.run());
    write(&member, record("pipe", None, Lifecycle::Started)).await;
    write(&member, record("pipe", None, failed("first"))).await;
    drop(member); // it exits instead of waiting for the orchestrator's answer: a restart request finds nobody
    let start = tokio::time::timeout(DEADLINE, started.recv()).await.expect("a start before the deadline");
    assert_eq!(start.as_deref(), Some("a"), "failed, then exited: started again");
    let member = join(&js, "a").await;
    write(&member, record("pipe", None, Lifecycle::Started)).await;
    write(&member, record("pipe", None, failed("second"))).await;
    drop(member);

    let outcome = tokio::time::timeout(DEADLINE, running).await.expect("an outcome before the deadline");
    assert_eq!(outcome.unwrap().expect("the orchestrator ran"), failed("process a: failed: second"));
    assert!(started.try_recv().is_err(), "its one restart was the first start: not started a second time");
    let restarts = restarts(&js).await;
    assert_eq!(restarts.len(), 1, "{restarts:?}");
    assert!(restarts[0].2.contains("first"), "{restarts:?}");
}
