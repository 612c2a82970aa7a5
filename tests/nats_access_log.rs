//! The main example across three OS processes on a real `nats-server` (feature `nats`): `access_log --nats URL
//! --role read|parse|aggregate`, with a fourth, `--role orchestrate`, following their lifecycle records and
//! heartbeats. Each role in turn is killed with SIGKILL in the middle of its run: the orchestrator records it gone
//! (Failed, "stopped heartbeating") and a restart; started again, the final CSV must be byte-identical to a
//! single-process run's, and the aggregate must count every line once (in = out + errors). Then a run whose
//! nats-server is restarted (same store, same port) in the middle: every stage reconnects and finishes, the same
//! CSV, and the lifecycle stream holds each stage's Started and Completed and no process taken for gone.
//!
//! And two runs against one server, one after the other, each with `--fresh` on every role: each CSV is its own
//! input's single-process CSV; the same when the second run's aggregate, with a new, empty folder, starts before
//! parse and read (it waits for the run the orchestrator marked instead of taking the earlier one), or even before the
//! orchestrator (it waits for the orchestrator's mark instead of taking the ended run's).
//!
//! CI size: 100,000 lines per run. More: `NATS_ACCESS_LOG_LINES=1000000 cargo test --release --features nats --test
//! nats_access_log`.

mod example_support;
mod nats_support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use example_support::build_example;
use nats_support::NatsServer;
use stagewise::journal::Journal;
use stagewise::nats::{lifecycle_stream, Context, NatsJournal, StreamSpec};
use stagewise::{Lifecycle, LifecycleRecord};

/// The stages' processes, and the orchestrator's.
const ROLES: [&str; 4] = ["orchestrate", "aggregate", "parse", "read"];

/// A role's process, killed when dropped, so a failing assertion never leaves one running.
struct Role(Child);

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(example: &Path, url: &str, role: &str, lines: u64, dir: &Path) -> Role {
    start_with(example, url, role, lines, dir, &[])
}

/// As [`start`], with more arguments.
fn start_with(example: &Path, url: &str, role: &str, lines: u64, dir: &Path, more: &[&str]) -> Role {
    start_logged(example, url, (role, role), lines, dir, more)
}

/// As [`start_with`], `role.0` logging to `{role.1}.log`. Each link holds at most 64 records in flight (the
/// example's default is 256): with the tests' 100,000 lines (196 records) a producer must not be able to finish its
/// whole run before its consumer acknowledges anything, or a kill "mid-run" could come after its end.
fn start_logged(example: &Path, url: &str, role: (&str, &str), lines: u64, dir: &Path, more: &[&str]) -> Role {
    let mut command = Command::new(example);
    command.args(["--nats", url, "--role", role.0, "--lines", &lines.to_string(), "--in-flight", "64"]);
    command.args(more).arg("--out");
    command.arg(dir.join("nats.csv")).arg("--durable").arg(dir.join("aggregate"));
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{}.log", role.1))).unwrap();
    command.stdout(log.try_clone().unwrap()).stderr(log);
    Role(command.spawn().expect("start access_log"))
}

/// The CSV of a single-process run of `lines` lines, run in `dir`.
fn reference_csv(example: &Path, lines: u64, dir: &Path) -> Vec<u8> {
    let reference = dir.join("reference.csv");
    let single = Command::new(example)
        .args(["--lines", &lines.to_string(), "--out"])
        .arg(&reference)
        .arg("--journal")
        .arg(dir.join("journal"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(single.success());
    std::fs::read(reference).unwrap()
}

/// Lines a run of these tests reads: `NATS_ACCESS_LOG_LINES`, 100,000 by default.
fn lines() -> u64 {
    std::env::var("NATS_ACCESS_LOG_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// A private nats-server, its URL and a JetStream context on it (the test's own connection).
async fn served() -> (NatsServer, String, Context) {
    let server = NatsServer::start();
    let url = server.url();
    let js = stagewise::nats::connect(&url, Duration::from_secs(5)).await.unwrap();
    (server, url, js)
}

/// The name of the stream of the link `stage` (0: lines, 1: hits).
fn link_stream(stage: u32) -> String {
    StreamSpec::link("access_log", &format!("stage-{stage}")).expect("the example's link names").name
}

/// Records in the stream of the link `stage` (0: lines, 1: hits); 0 before it exists.
async fn records(js: &stagewise::nats::Context, stage: u32) -> u64 {
    match js.get_stream(link_stream(stage)).await {
        Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.last_sequence),
        Err(_) => 0,
    }
}

/// What role `name` printed so far.
fn log_of(name: &str, dir: &Path) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_else(|e| format!("(no log: {e})"))
}

/// Every lifecycle record in the pipeline's stream, once `until` holds of them (or a minute passed: the caller's
/// assertion then shows them).
async fn lifecycle_until(js: &Context, until: impl Fn(&[LifecycleRecord]) -> bool) -> Vec<LifecycleRecord> {
    let spec = lifecycle_stream("access_log").unwrap();
    let journal = NatsJournal::<LifecycleRecord>::open(js, &spec, "access_log.lifecycle.>").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let records = journal.read_from(0).unwrap();
        if until(&records) || Instant::now() >= deadline {
            return records;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every lifecycle record, once the orchestrator's terminal record is among them.
async fn until_orchestrator_ended(js: &Context) -> Vec<LifecycleRecord> {
    let ended = |records: &[LifecycleRecord]| {
        records.iter().any(|r| r.supervisor == "access_log@orchestrator" && r.lifecycle.is_terminal())
    };
    lifecycle_until(js, ended).await
}

/// Asserts that the CSV the run across processes wrote in `dir` is `reference`, the single-process run's; `what`
/// says which run for the failure message.
fn same_csv(dir: &Path, reference: &[u8], what: &str) {
    let csv = std::fs::read(dir.join("nats.csv")).unwrap();
    assert!(csv == reference, "{what}: the CSV differs from the single-process run's");
}

/// A record of `supervisor` failing with `error` in it.
fn failed_with(record: &LifecycleRecord, supervisor: &str, error: &str) -> bool {
    record.supervisor == supervisor
        && matches!(&record.lifecycle, Lifecycle::Failed { error: e, .. } if e.contains(error))
}

/// Every role's log, for a failure message.
fn all_logs(roles: &[(&str, Role)], dir: &Path) -> String {
    roles.iter().map(|(name, _)| format!("--- {name}.log ---\n{}\n", log_of(name, dir))).collect()
}

/// Panics with every role's log when one of them exited before `until` holds, or when `until` still does not
/// hold after a minute: a role that died at startup is reported as such, not as a lack of progress.
async fn wait_until_running(roles: &mut [(&str, Role)], dir: &Path, what: &str, mut until: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !until().await {
        for index in 0..roles.len() {
            if let Some(status) = roles[index].1 .0.try_wait().unwrap() {
                let name = roles[index].0;
                panic!("{name} exited ({status}) before {what}\n{}", all_logs(roles, dir));
            }
        }
        assert!(Instant::now() < deadline, "no {what} within 60 s\n{}", all_logs(roles, dir));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for role `index` to exit, within two minutes (a hang guard: a server restart costs the clients'
/// reconnection delay, about 15 s, more on a loaded machine); panics with every role's log otherwise.
fn wait_exit(roles: &mut [(&str, Role)], index: usize, dir: &Path) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = roles[index].1 .0.try_wait().unwrap() {
            return status;
        }
        let name = roles[index].0;
        assert!(Instant::now() < deadline, "{name} did not finish within 120 s\n{}", all_logs(roles, dir));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for every role to exit successfully, each within two minutes (as [`wait_exit`]); panics otherwise, saying
/// `what` happened in the run, with every role's log and what the server holds of the links (`js`).
async fn wait_success(roles: &mut [(&str, Role)], dir: &Path, what: &str, js: &Context) {
    let since = Instant::now();
    for index in 0..roles.len() {
        let deadline = Instant::now() + Duration::from_secs(120);
        let name = roles[index].0;
        let status = loop {
            if let Some(status) = roles[index].1 .0.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let links = links_state(js).await;
                panic!("{what}: {name} did not finish within 120 s\n{links}{}", all_logs(roles, dir));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(status.success(), "{what}: {name} failed ({status})\n{}", all_logs(roles, dir));
        eprintln!("{what}: {name} done {:?} after", since.elapsed());
    }
}

/// What the server holds of the two links: records, and each consumer's ack floor and pending records.
async fn links_state(js: &Context) -> String {
    use futures_util::StreamExt;
    let mut text = String::new();
    for stage in 0..2 {
        let name = link_stream(stage);
        let stream = match js.get_stream(&name).await {
            Ok(stream) => stream,
            Err(e) => {
                text += &format!("{name}: {e}\n");
                continue;
            }
        };
        text += &format!("{name}: {} records\n", stream.cached_info().state.last_sequence);
        let mut consumers = stream.consumers();
        while let Some(consumer) = consumers.next().await {
            text += &match consumer {
                Ok(c) => format!(
                    "  consumer {}: ack floor {}, delivered {}, {} pending, {} awaiting acknowledgement\n",
                    c.name, c.ack_floor.stream_sequence, c.delivered.stream_sequence, c.num_pending, c.num_ack_pending
                ),
                Err(e) => format!("  consumers: {e}\n"),
            };
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_killed_mid_run_and_restarted_gives_the_single_process_csv() {
    let lines = lines();
    let example = build_example("access_log", &["nats"]);
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = reference_csv(&example, lines, reference_dir.path());
    let batches = lines.div_ceil(512);

    for victim in ["read", "parse", "aggregate"] {
        let (server, url, js) = served().await;
        let dir = tempfile::tempdir().unwrap();
        let mut roles: Vec<(&str, Role)> =
            ROLES.map(|name| (name, start(&example, &url, name, lines, dir.path()))).into();

        // Killed once its stage runs (its Started stored: on a loaded machine a role can still be starting while
        // its producer fills the link's 64 records in flight) and its own output (or, for aggregate, its input)
        // holds about a fifth of the run.
        let running = |records: &[LifecycleRecord]| {
            records.iter().any(|r| r.supervisor == victim && r.lifecycle == Lifecycle::Started)
        };
        let started = lifecycle_until(&js, running).await;
        assert!(running(&started), "{victim} did not start its stage: {started:#?}\n{}", all_logs(&roles, dir.path()));
        let watched = if victim == "read" { 0 } else { 1 };
        let what = format!("progress before killing {victim}");
        wait_until_running(&mut roles, dir.path(), &what, async || records(&js, watched).await >= batches / 5).await;
        let index = roles.iter().position(|(name, _)| *name == victim).unwrap();
        let killed = &mut roles[index].1;
        assert!(killed.0.try_wait().unwrap().is_none(), "{victim} had already finished: the kill would prove nothing");
        killed.0.kill().unwrap(); // SIGKILL
        killed.0.wait().unwrap();
        // The orchestrator takes it for gone once its heartbeat stops, and records that and a restart.
        let gone = format!("process {victim} stopped heartbeating");
        let restarting = format!("access_log@{victim}");
        let gone_recorded = |records: &[LifecycleRecord]| records.iter().any(|r| failed_with(r, "access_log", &gone));
        let restart_recorded = |records: &[LifecycleRecord]| {
            records.iter().any(|r| r.supervisor == restarting && matches!(r.lifecycle, Lifecycle::Restarting { .. }))
        };
        let records = lifecycle_until(&js, |records| gone_recorded(records) && restart_recorded(records)).await;
        assert!(gone_recorded(&records), "{records:#?}\n{}", all_logs(&roles, dir.path()));
        assert!(restart_recorded(&records), "no restart recorded for {victim}: {records:#?}");
        roles[index].1 = start(&example, &url, victim, lines, dir.path());

        wait_success(&mut roles, dir.path(), &format!("killing {victim}, then starting it again"), &js).await;
        same_csv(dir.path(), &reference, &format!("killing {victim}"));
        let aggregate_log = std::fs::read_to_string(dir.path().join("aggregate.log")).unwrap();
        assert!(aggregate_log.contains("in = out + errors: yes"), "{aggregate_log}");
        drop(server);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_restarted_mid_run_every_stage_reconnects_and_finishes_with_the_single_process_csv() {
    let lines = lines();
    let example = build_example("access_log", &["nats"]);
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_csv(&example, lines, dir.path());
    let (mut server, url, js) = served().await;
    let mut roles: Vec<(&str, Role)> = ROLES.map(|name| (name, start(&example, &url, name, lines, dir.path()))).into();
    let batches = lines.div_ceil(512);
    let what = "progress before restarting the server";
    wait_until_running(&mut roles, dir.path(), what, async || records(&js, 1).await >= batches / 3).await;
    for (name, role) in &mut roles {
        assert!(role.0.try_wait().unwrap().is_none(), "{name} had already finished: the restart would prove nothing");
    }
    server.restart(); // same store, same port
    wait_success(&mut roles, dir.path(), "restarting nats-server", &js).await;
    same_csv(dir.path(), &reference, "the run");

    let records = until_orchestrator_ended(&js).await;
    let stages: std::collections::BTreeSet<&str> =
        records.iter().filter(|r| r.stage.is_some()).map(|r| r.supervisor.as_ref()).collect();
    assert!(stages.len() >= 3, "a stage per process: {stages:?}");
    for stage in stages {
        let own: Vec<&Lifecycle> = records.iter().filter(|r| r.supervisor == stage).map(|r| &r.lifecycle).collect();
        assert_eq!(own, [&Lifecycle::Started, &Lifecycle::Completed], "{stage}: {records:#?}");
    }
    assert!(!records.iter().any(|r| r.state == "Gone"), "a process taken for gone: {records:#?}");
    let orchestrator: Vec<_> =
        records.iter().filter(|r| r.supervisor == "access_log@orchestrator").map(|r| &r.lifecycle).collect();
    assert_eq!(orchestrator, [&Lifecycle::Started, &Lifecycle::Completed]);
}

#[test]
fn the_aggregate_role_without_its_folder_is_a_usage_error_before_any_connection() {
    let example = build_example("access_log", &["nats"]);
    // Nothing listens on port 1: the missing flag must be reported, not the server.
    let run = Command::new(&example).args(["--nats", "nats://127.0.0.1:1", "--role", "aggregate"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--role aggregate needs --durable DIR"), "{stderr}");
}

#[test]
fn the_options_of_the_processes_on_nats_without_nats_are_a_usage_error_not_ignored() {
    let example = build_example("access_log", &["nats"]);
    for option in [["--in-flight", "64"], ["--outage", "5"]] {
        let run = Command::new(&example).args(["--lines", "10"]).args(option).output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{option:?}: {stderr}");
        assert!(stderr.contains("are for the processes on NATS: --nats URL --role"), "{option:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_for_good_ends_every_role_with_an_error_naming_it() {
    let example = build_example("access_log", &["nats"]);
    let (mut server, url, js) = served().await;
    let dir = tempfile::tempdir().unwrap();
    // More lines than the roles get through before the server is gone.
    let start = |name| start_with(&example, &url, name, 100_000_000, dir.path(), &["--outage", "2"]);
    let mut roles: Vec<(&str, Role)> = ROLES.map(|name| (name, start(name))).into();
    // Every role running its stage (its Started record stored) and records through both links: progress on the
    // hits alone does not say aggregate has started (parse runs up to 64 records ahead of it), and a role stopped
    // while it starts ends with its start's error, not the outage's.
    let spec = lifecycle_stream("access_log").unwrap();
    let lifecycle = NatsJournal::<LifecycleRecord>::open(&js, &spec, "access_log.lifecycle.>").await.unwrap();
    let started = |records: &[LifecycleRecord], supervisor: &str| {
        records.iter().any(|r| r.supervisor == supervisor && r.lifecycle == Lifecycle::Started)
    };
    let running = || {
        let records = lifecycle.read_from(0).unwrap();
        ["read", "parse", "aggregate", "access_log@orchestrator"].iter().all(|name| started(&records, name))
    };
    let what = "every role running and records through both links before stopping the server";
    wait_until_running(&mut roles, dir.path(), what, async || running() && records(&js, 1).await >= 10).await;
    server.kill(); // for good
    for index in 0..roles.len() {
        let status = wait_exit(&mut roles, index, dir.path());
        let (name, log) = (roles[index].0, log_of(roles[index].0, dir.path()));
        assert!(!status.success(), "{name} exited successfully without a server; it printed:\n{log}");
        let cause = format!("access_log --role {name}: ");
        let lost = "the NATS server did not answer for 2s while";
        assert!(
            log.contains(&cause) && log.contains(lost),
            "{name} exited ({status}) without an error line naming the lost server ({cause:?} and {lost:?}); it \
             printed:\n{log}"
        );
    }
}

/// Sends `signal` (`STOP`, `CONT`) to `role`'s process.
fn signal(role: &Role, signal: &str) {
    let sent = Command::new("kill").args([&format!("-{signal}"), &role.0.id().to_string()]).status().unwrap();
    assert!(sent.success(), "kill -{signal}");
}

/// Waits until `name`'s log holds `text` (a hang guard of a minute; panics with every log otherwise).
async fn until_logged(roles: &mut [(&str, Role)], dir: &Path, name: &str, text: &str) {
    let what = format!("{text:?} in {name}.log");
    wait_until_running(roles, dir, &what, async || log_of(name, dir).contains(text)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_role_is_refused_while_the_first_lives_and_a_paused_one_replaced_stops_itself_when_resumed() {
    let lines = lines();
    let example = build_example("access_log", &["nats"]);
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_csv(&example, lines, dir.path());
    let (_server, url, js) = served().await;
    let mut roles: Vec<(&str, Role)> = ROLES.map(|name| (name, start(&example, &url, name, lines, dir.path()))).into();
    let what = "progress before pausing read";
    wait_until_running(&mut roles, dir.path(), what, async || records(&js, 1).await >= lines.div_ceil(512) / 5).await;
    // read paused (SIGSTOP): the run stands still, every other role alive and idle.
    let read = roles.iter().position(|(name, _)| *name == "read").unwrap();
    signal(&roles[read].1, "STOP");

    // A second parse while the first renews its claim on the name: refused, naming why, before writing anything.
    let mut second = vec![("parse-2", start_logged(&example, &url, ("parse", "parse-2"), lines, dir.path(), &[]))];
    let refused = wait_exit(&mut second, 0, dir.path());
    let log = log_of("parse-2", dir.path());
    assert!(!refused.success() && log.contains("another process runs as parse of pipeline access_log"), "{log}");

    // parse paused too: its claim expires, and a replacement takes it once it has.
    let paused = roles.iter().position(|(name, _)| *name == "parse").unwrap();
    let (_, first) = roles.remove(paused);
    signal(&first, "STOP");
    roles.push(("parse-3", start_logged(&example, &url, ("parse", "parse-3"), lines, dir.path(), &[])));
    until_logged(&mut roles, dir.path(), "parse-3", "role:    parse").await;

    // The first resumed (SIGCONT): it learns its name was taken before it writes anything, and stops.
    signal(&first, "CONT");
    let mut first = vec![("parse", first)];
    let stopped = wait_exit(&mut first, 0, dir.path());
    let log = log_of("parse", dir.path());
    let all = all_logs(&roles, dir.path());
    assert!(
        !stopped.success() && log.contains("lost its claim on the name parse of pipeline access_log"),
        "{log}\n{all}"
    );

    // read resumed: the run finishes through the replacement, the single-process run's CSV.
    let read = roles.iter().position(|(name, _)| *name == "read").unwrap();
    signal(&roles[read].1, "CONT");
    wait_success(&mut roles, dir.path(), "pausing parse, replacing it", &js).await;
    same_csv(dir.path(), &reference, "the run");
}

/// How many times the orchestrator recorded itself Started (each run's mark, and each start again within a run).
fn orchestrator_starts(lifecycle: &NatsJournal<LifecycleRecord>) -> usize {
    let records = lifecycle.read_from(0).unwrap();
    let starts =
        records.iter().filter(|r| r.supervisor == "access_log@orchestrator" && r.lifecycle == Lifecycle::Started);
    starts.count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_run_with_fresh_against_the_same_server_gives_its_own_inputs_single_process_csv() {
    let example = build_example("access_log", &["nats"]);
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start();
    let url = server.url();
    // The second run's read is started first and ends (its few batches fit in its lead over parse) before parse and
    // aggregate start: they must take its run, not the first one left in the streams and the aggregate's folder.
    let runs = [(1_000, ROLES), (5_000, ["orchestrate", "read", "parse", "aggregate"])];
    let js = stagewise::nats::connect(&url, Duration::from_secs(5)).await.unwrap();
    let spec = lifecycle_stream("access_log").unwrap();
    let lifecycle = NatsJournal::<LifecycleRecord>::open(&js, &spec, "access_log.lifecycle.>").await.unwrap();
    for (run, (lines, order)) in runs.into_iter().enumerate() {
        let single = dir.path().join(format!("single-{run}"));
        std::fs::create_dir_all(&single).unwrap();
        let reference = reference_csv(&example, lines, &single);
        let logs: Vec<String> = order.iter().map(|name| format!("{name}-{run}")).collect();
        let start = |index: usize| {
            let role = (order[index], logs[index].as_str());
            (logs[index].as_str(), start_logged(&example, &url, role, lines, dir.path(), &["--fresh"]))
        };
        // The orchestrator's new run marked before any role of it starts: records stored before the mark are an
        // earlier run's to it, and a read that ended before it would never show up.
        let mut roles: Vec<(&str, Role)> = vec![start(0)];
        let marked = || orchestrator_starts(&lifecycle) > run;
        wait_until_running(&mut roles, dir.path(), "the orchestrator's new run", async || marked()).await;
        roles.push(start(1));
        if run == 1 {
            let status = wait_exit(&mut roles, 1, dir.path());
            assert!(status.success(), "read alone failed ({status})\n{}", all_logs(&roles, dir.path()));
        }
        roles.extend((2..4).map(start));
        wait_success(&mut roles, dir.path(), &format!("run {run} ({lines} lines, --fresh)"), &js).await;
        let all = all_logs(&roles, dir.path());
        same_csv(dir.path(), &reference, &format!("run {run} ({lines} lines)\n{all}"));
        let aggregate = log_of(&format!("aggregate-{run}"), dir.path());
        assert!(aggregate.contains(&format!("{lines} lines in")), "{aggregate}");
        assert!(aggregate.contains("in = out + errors: yes"), "{aggregate}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_runs_aggregate_started_first_with_a_new_folder_waits_for_the_new_run_not_the_one_left_on_the_server() {
    let example = build_example("access_log", &["nats"]);
    let (_server, url, js) = served().await;
    let spec = lifecycle_stream("access_log").unwrap();
    let lifecycle = NatsJournal::<LifecycleRecord>::open(&js, &spec, "access_log.lifecycle.>").await.unwrap();
    // A first run, ended, left on the server: its streams hold 1,000 lines' records and an end of stream.
    let earlier = tempfile::tempdir().unwrap();
    let mut roles: Vec<(&str, Role)> =
        ROLES.map(|name| (name, start(&example, &url, name, 1_000, earlier.path()))).into();
    wait_success(&mut roles, earlier.path(), "the earlier run", &js).await;

    // The new run: the orchestrator's mark first, then aggregate alone, with a new, empty folder: nothing of its
    // own tells it that the hits on the server are the earlier run's.
    let (lines, dir) = (5_000, tempfile::tempdir().unwrap());
    let single = tempfile::tempdir().unwrap();
    let reference = reference_csv(&example, lines, single.path());
    let start = |name| start_with(&example, &url, name, lines, dir.path(), &["--fresh"]);
    let mut roles: Vec<(&str, Role)> = vec![("orchestrate", start("orchestrate"))];
    let marks = || orchestrator_starts(&lifecycle);
    wait_until_running(&mut roles, dir.path(), "the orchestrator's new run", async || marks() == 2).await;
    roles.push(("aggregate", start("aggregate")));
    let what = "aggregate waiting for the new run";
    wait_until_running(&mut roles, dir.path(), what, async || log_of("aggregate", dir.path()).contains("waiting:"))
        .await;
    let aggregate = log_of("aggregate", dir.path());
    assert!(aggregate.contains("from before the orchestrator's new run"), "{aggregate}");
    roles.extend(["parse", "read"].map(|name| (name, start(name))));
    wait_success(&mut roles, dir.path(), "the new run, aggregate started first", &js).await;
    same_csv(dir.path(), &reference, &format!("the new run\n{}", all_logs(&roles, dir.path())));
    let aggregate = log_of("aggregate", dir.path());
    assert!(aggregate.contains(&format!("{lines} lines in")), "{aggregate}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_runs_aggregate_started_before_the_orchestrators_mark_waits_for_it_not_the_ended_run() {
    let example = build_example("access_log", &["nats"]);
    let (_server, url, js) = served().await;
    let spec = lifecycle_stream("access_log").unwrap();
    let lifecycle = NatsJournal::<LifecycleRecord>::open(&js, &spec, "access_log.lifecycle.>").await.unwrap();
    // A first run, with --fresh, ended: its streams hold 1,000 lines' records, an end of stream, and the lifecycle
    // stream the orchestrator's new-run mark and its outcome.
    let earlier = tempfile::tempdir().unwrap();
    let start_earlier = |name| start_with(&example, &url, name, 1_000, earlier.path(), &["--fresh"]);
    let marks = || orchestrator_starts(&lifecycle);
    let mut roles: Vec<(&str, Role)> = vec![("orchestrate", start_earlier("orchestrate"))];
    wait_until_running(&mut roles, earlier.path(), "the earlier run's mark", async || marks() == 1).await;
    roles.extend(["aggregate", "parse", "read"].map(|name| (name, start_earlier(name))));
    wait_success(&mut roles, earlier.path(), "the earlier run", &js).await;

    // The new run's aggregate, with a new, empty folder, starts before its orchestrator stored its mark (started
    // at the same moment, or waiting for an earlier orchestrator's claim): the last mark is the ended run's, whose
    // hits are all on the server.
    let (lines, dir) = (5_000, tempfile::tempdir().unwrap());
    let single = tempfile::tempdir().unwrap();
    let reference = reference_csv(&example, lines, single.path());
    let start = |name| start_with(&example, &url, name, lines, dir.path(), &["--fresh"]);
    let mut roles: Vec<(&str, Role)> = vec![("aggregate", start("aggregate"))];
    let what = "aggregate waiting for the orchestrator's new run";
    wait_until_running(&mut roles, dir.path(), what, async || log_of("aggregate", dir.path()).contains("waiting:"))
        .await;
    let aggregate = log_of("aggregate", dir.path());
    assert!(aggregate.contains("waiting for orchestrate --fresh"), "{aggregate}");
    roles.push(("orchestrate", start("orchestrate")));
    wait_until_running(&mut roles, dir.path(), "the orchestrator's new run", async || marks() == 2).await;
    // It says when its mark is stored: the time to start the other roles.
    let marked = async || log_of("orchestrate", dir.path()).contains("marked:  a new run of access_log");
    wait_until_running(&mut roles, dir.path(), "the orchestrator saying its mark is stored", marked).await;
    roles.extend(["parse", "read"].map(|name| (name, start(name))));
    wait_success(&mut roles, dir.path(), "the new run, aggregate started before its mark", &js).await;
    same_csv(dir.path(), &reference, &format!("the new run\n{}", all_logs(&roles, dir.path())));
    let aggregate = log_of("aggregate", dir.path());
    assert!(aggregate.contains(&format!("{lines} lines in")), "{aggregate}");
}

/// The process ids `role`'s children were started with, in the order the orchestrator printed them
/// (`spawned: parse (pid 1234)`).
fn spawned(log: &str, role: &str) -> Vec<u32> {
    let prefix = format!("spawned: {role} (pid ");
    let pids = log.lines().filter_map(|line| line.strip_prefix(&prefix)?.strip_suffix(')')?.parse().ok());
    pids.collect()
}

/// Sends SIGKILL to every process the orchestrator spawned, when dropped: a failing assertion leaves none behind.
struct Spawned<'a>(&'a Path);

impl Drop for Spawned<'_> {
    fn drop(&mut self) {
        let log = log_of("orchestrate", self.0);
        for pid in ["read", "parse", "aggregate"].into_iter().flat_map(|role| spawned(&log, role)) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).stderr(Stdio::null()).status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orchestrator_spawning_the_roles_starts_again_one_killed_mid_run_with_the_single_process_csv() {
    let lines = lines();
    let example = build_example("access_log", &["nats"]);
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_csv(&example, lines, dir.path());
    let (_server, url, js) = served().await;
    let more = ["--spawn", "--strategy", "rest-for-one"];
    let mut roles = vec![("orchestrate", start_with(&example, &url, "orchestrate", lines, dir.path(), &more))];
    let _spawned = Spawned(dir.path());
    let what = "progress before killing parse";
    wait_until_running(&mut roles, dir.path(), what, async || records(&js, 1).await >= lines.div_ceil(512) / 5).await;

    // parse, by the process id the orchestrator printed: SIGKILL.
    let pid = spawned(&log_of("orchestrate", dir.path()), "parse")[0];
    let killed = Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
    assert!(killed.success(), "parse (pid {pid}) had already finished: the kill would prove nothing");
    wait_success(&mut roles, dir.path(), "parse (spawned by the orchestrator)", &js).await;
    let log = log_of("orchestrate", dir.path());
    assert_eq!(spawned(&log, "parse").len(), 2, "parse started again by the orchestrator\n{log}");
    assert!(log.contains("in = out + errors: yes"), "{log}");
    same_csv(dir.path(), &reference, "the run");

    let records = until_orchestrator_ended(&js).await;
    assert!(
        records.iter().any(|r| r.state == "Gone" && failed_with(r, "access_log", "process parse stopped heartbeating")),
        "{records:#?}"
    );
    let restarted = |supervisor: &str, state: &str| {
        records.iter().any(|r| {
            r.supervisor == supervisor && r.state == state && matches!(r.lifecycle, Lifecycle::Restarting { .. })
        })
    };
    assert!(restarted("access_log@parse", "Restarting"), "{records:#?}");
    assert!(restarted("access_log@aggregate", "WithSibling"), "rest-for-one: aggregate, after parse: {records:#?}");
    assert!(!restarted("access_log@read", "WithSibling"), "rest-for-one: not read, before parse: {records:#?}");
}
