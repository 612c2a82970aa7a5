//! Lifecycle across the access-log's processes (feature `nats`): `--role orchestrate` follows the lifecycle records
//! and heartbeats of read, parse and aggregate and applies the pipeline's policies to them
//! ([`ProcessOrchestrator`]); each stage's process runs its pipeline obeying the orchestrator's requests
//! ([`obeying`], [`restart_requested`]).
//!
//! The policies: a process that stops heartbeating (200 ms beats, 15 missed: 3 s) is recorded Failed in its stead;
//! a process's pipeline that failed, or a process gone, is restarted (transient, at most 3 times a minute, no
//! backoff): a live process runs its pipeline again when asked, a gone one must be started again (by hand, or by a
//! process manager) within a minute. Past that the whole pipeline fails: the others are stopped. `--strategy
//! one-for-all` restarts the other running processes with one that is restarted, `rest-for-one` those downstream of
//! it (read, parse, aggregate is the pipeline's order), `one-for-one` (the default) none. `--spawn` starts the
//! three roles as child processes of the orchestrator (see `children.rs`), and starts again itself one that is gone
//! (killed, or exited after its pipeline failed).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use stagewise::nats::{connect, new_run_marked, Member, ProcessOrchestrator, Request};
use stagewise::pipeline::{Pipeline, PipelineOutcome};
use stagewise::restart::{Backoff, Restart, RestartStrategy};
use stagewise::{Control, Lifecycle};

use crate::children::Children;

/// How often each stage's process publishes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_millis(200);

/// Heartbeats missed before a process counts as gone: 3 s, generous on a loaded machine.
const MISSED: u32 = 15;

/// How long a gone process, or one asked to restart, may take to start again.
const COME_BACK: Duration = Duration::from_secs(60);

/// How long a process whose pipeline failed waits for the orchestrator's answer before it exits.
const ANSWER: Duration = Duration::from_secs(30);

/// How long, once the orchestrator has ended, its children (`--spawn`) have to end on their own before they are
/// killed: a completed role still writes its summary.
const CHILDREN_END: Duration = Duration::from_secs(10);

/// The processes the orchestrator follows.
const PROCESSES: [&str; 3] = ["read", "parse", "aggregate"];

/// The orchestrator's own options (`--role orchestrate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--strategy one-for-one|one-for-all|rest-for-one`.
    pub strategy: RestartStrategy,
    /// `--spawn`: the orchestrator starts the stage roles as its child processes, and again when one is gone.
    pub spawn: bool,
}

/// `--strategy NAME`: OTP's names for the restart strategies.
pub fn strategy(name: &str) -> Result<RestartStrategy, String> {
    match name {
        "one-for-one" => Ok(RestartStrategy::OnlyFailed),
        "one-for-all" => Ok(RestartStrategy::All),
        "rest-for-one" => Ok(RestartStrategy::FailedAndDownstream),
        other => Err(format!("--strategy: one-for-one, one-for-all or rest-for-one, not {other}")),
    }
}

/// `--role orchestrate`: runs the orchestrator until every stage's process completed or the pipeline failed.
pub async fn run(url: &str, outage: Duration, new_run: bool, options: Options) -> Result<ExitCode, String> {
    let js = connect(url, super::across::CONNECT_DEADLINE).await.map_err(|e| e.to_string())?;
    println!("role:    orchestrate on {url}: following access_log.lifecycle.> and access_log.heartbeat.*");
    let restart = Restart::transient().intensity(3, Duration::from_secs(60)).backoff(Backoff::none());
    let orchestrator = ProcessOrchestrator::new(&js, "access_log", PROCESSES);
    let orchestrator = if new_run { orchestrator.new_run() } else { orchestrator };
    let orchestrator =
        orchestrator.heartbeat(HEARTBEAT, MISSED).restart(restart, COME_BACK).strategy(options.strategy).outage(outage);
    let children = options.spawn.then(|| Arc::new(Children::of_this_process()));
    let orchestrator = match &children {
        Some(children) => orchestrator.launcher(children.clone()).launch_unseen(),
        None => orchestrator,
    };
    // The roles of a new run start once its mark is stored: one started before takes the earlier run's mark (when
    // that orchestrator was killed, or this one waits for its claim) or, ended, sees none yet.
    let before = if new_run { Some(new_run_marked(&js, "access_log", "orchestrator").await) } else { None };
    let announce = async {
        if let Some(Ok(before)) = before {
            while !new_run_marked(&js, "access_log", "orchestrator")
                .await
                .is_ok_and(|now| now.marked != before.marked && !now.ended)
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            println!("marked:  a new run of access_log: start the stage roles with --fresh now");
        }
        std::future::pending::<()>().await;
    };
    let outcome = tokio::select! {
        outcome = orchestrator.run() => outcome.map_err(|e| e.to_string()),
        () = announce => unreachable!("announcing never ends"),
    };
    if let Some(children) = children {
        children.end(CHILDREN_END).await;
    }
    let outcome = outcome?;
    println!("across processes: {outcome:?}");
    Ok(if outcome == Lifecycle::Completed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Runs `pipeline` to its end, stopping it if the orchestrator asks; true beside its outcome when it was stopped to
/// run again (the orchestrator restarts it with a sibling that ended: a durable stage resumes from what it
/// committed). A process fenced off its name (another took it while this one was paused) ends with that error,
/// whatever its pipeline's outcome.
pub async fn obeying(pipeline: Pipeline, member: &mut Member) -> Result<(PipelineOutcome, bool), String> {
    let mut handle = pipeline.spawn();
    let mut listening = true;
    let mut again = false;
    loop {
        tokio::select! {
            outcome = handle.outcome() => {
                let outcome = outcome.map_err(|e| format!("the pipeline escalated: {}", chain(&e)));
                return match member.fenced() {
                    Some(fenced) => Err(format!("{fenced} ({})", outcome.map_or_else(|e| e, |o| o.pipeline.to_string()))),
                    None => outcome.map(|outcome| (outcome, again)),
                };
            }
            request = member.request(), if listening => match request {
                Some(Request::Stop) => {
                    println!("stop:    asked by the orchestrator");
                    let _ = handle.send(Control::Stop).await;
                }
                Some(Request::RestartWithSibling) => {
                    println!("restart: asked by the orchestrator while running (with another process)");
                    again = true;
                    let _ = handle.send(Control::Stop).await;
                }
                Some(_) => {}
                None => {
                    listening = false;
                    if let Some(fenced) = member.fenced() {
                        println!("stop:    {fenced}");
                        let _ = handle.send(Control::Stop).await;
                    }
                }
            },
        }
    }
}

/// `error` and its sources, outermost first: an escalation's source is what refused its record (a lost server, a
/// process fenced off its name).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// After a failed run: true when the orchestrator asks for another, false when it asks to stop or does not answer.
pub async fn restart_requested(member: &mut Member) -> bool {
    let answer = tokio::time::timeout(ANSWER, async {
        loop {
            match member.request().await {
                Some(Request::Restart | Request::RestartWithSibling) => return true,
                Some(Request::Stop) | None => return false,
                Some(_) => {}
            }
        }
    });
    let restart = answer.await.unwrap_or(false);
    println!("failed:  {}", if restart { "restart asked by the orchestrator" } else { "no restart; exiting" });
    restart
}
