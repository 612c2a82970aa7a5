//! The main example across three OS processes on a real `nats-server` (feature `nats`): `access_log --nats URL
//! --role read|parse|aggregate`. Each role in turn is killed with SIGKILL in the middle of its run and started
//! again; the final CSV must be byte-identical to a single-process run's, and the aggregate must count every line
//! once (in = out + errors).
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

/// A role's process, killed when dropped, so a failing assertion never leaves one running.
struct Role(Child);

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(example: &Path, url: &str, role: &str, lines: u64, dir: &Path) -> Role {
    let mut command = Command::new(example);
    command.args(["--nats", url, "--role", role, "--lines", &lines.to_string(), "--out"]);
    command.arg(dir.join("nats.csv")).arg("--durable").arg(dir.join("aggregate"));
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{role}.log"))).unwrap();
    command.stdout(log.try_clone().unwrap()).stderr(log);
    Role(command.spawn().expect("start access_log"))
}

/// Records in the stream of the link `stage` (0: lines, 1: hits); 0 before it exists.
async fn records(js: &stagewise::nats::Context, stage: u32) -> u64 {
    match js.get_stream(format!("access_log_stage_{stage}")).await {
        Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.last_sequence),
        Err(_) => 0,
    }
}

/// What role `name` printed so far.
fn log_of(name: &str, dir: &Path) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_else(|e| format!("(no log: {e})"))
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

/// Waits for every role to exit successfully, within a minute each; panics with every role's log otherwise.
fn wait_success(roles: &mut [(&str, Role)], dir: &Path, victim: &str) {
    let restarted = Instant::now();
    for index in 0..roles.len() {
        let name = roles[index].0;
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = roles[index].1 .0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{name} did not finish within 60 s\n{}", all_logs(roles, dir));
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "killing {victim}: {name} failed ({status})\n{}", all_logs(roles, dir));
        eprintln!("killing {victim}: {name} done {:?} after the restart", restarted.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_killed_mid_run_and_restarted_gives_the_single_process_csv() {
    let lines: u64 = std::env::var("NATS_ACCESS_LOG_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let example = build_example("access_log", &["nats"]);
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = reference_dir.path().join("reference.csv");
    let single = Command::new(&example)
        .args(["--lines", &lines.to_string(), "--out"])
        .arg(&reference)
        .arg("--journal")
        .arg(reference_dir.path().join("journal"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(single.success());
    let reference = std::fs::read(reference).unwrap();
    let batches = lines.div_ceil(512);

    for victim in ["read", "parse", "aggregate"] {
        let server = NatsServer::start();
        let url = server.url();
        let dir = tempfile::tempdir().unwrap();
        let js = stagewise::nats::connect(&url, Duration::from_secs(5)).await.unwrap();
        let mut roles: Vec<(&str, Role)> =
            ["aggregate", "parse", "read"].map(|name| (name, start(&example, &url, name, lines, dir.path()))).into();

        // Killed once its own output (or, for aggregate, its input) holds about a fifth of the run.
        let watched = if victim == "read" { 0 } else { 1 };
        let what = format!("progress before killing {victim}");
        wait_until_running(&mut roles, dir.path(), &what, async || records(&js, watched).await >= batches / 5).await;
        let index = roles.iter().position(|(name, _)| *name == victim).unwrap();
        let killed = &mut roles[index].1;
        assert!(killed.0.try_wait().unwrap().is_none(), "{victim} had already finished: the kill would prove nothing");
        killed.0.kill().unwrap(); // SIGKILL
        killed.0.wait().unwrap();
        roles[index].1 = start(&example, &url, victim, lines, dir.path());

        wait_success(&mut roles, dir.path(), victim);
        let csv = std::fs::read(dir.path().join("nats.csv")).unwrap();
        assert!(csv == reference, "killing {victim}: the CSV differs from the single-process run's");
        let aggregate_log = std::fs::read_to_string(dir.path().join("aggregate.log")).unwrap();
        assert!(aggregate_log.contains("in = out + errors: yes"), "{aggregate_log}");
        drop(server);
    }
}
