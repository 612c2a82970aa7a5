//! The access-log pipeline across processes (`--nats URL --role read|parse|aggregate`, feature `nats`): each stage
//! runs in its own OS process, the links between them are JetStream streams (`access_log-stage-0`: lines,
//! `access_log-stage-1`: parsed hits), and each process's lifecycle records go to one stream
//! (`access_log.lifecycle.<role>` in `access_log_LIFECYCLE`). Each stage's process joins as a `Member` (a heartbeat,
//! requests it obeys); `--role orchestrate` follows them all (see `orchestrate.rs`).
//!
//! Each consumer reads its link through a durable JetStream consumer that acknowledges only what the stage has made
//! durable (parse: its output; aggregate: its checkpoint), and each producer waits while it is `--in-flight` records
//! (default 256) past its consumer's acknowledgements: a slow role holds back the one before it, across processes.
//!
//! Killed at any moment and started again, a role resumes as a durable stage does: read and parse just past the
//! input stamped on their own last record in their output stream, aggregate from its last checkpoint in `--durable
//! DIR` (its table, CSV and error journal are local files). So the final CSV is the single-process run's.
//! `--fresh` on a stage role starts a new run instead (see `runs.rs`): each role starts over what it owns, its
//! output stream or folder, once its input is the new run's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use stagewise::journal::{Durability, FileJournal, JournalOptions};
use stagewise::nats::{connect, Context, Member, NatsLog};
use stagewise::pipeline::durable::{DurableLink, LinkLog, LinkPolicy, Retention, RunStatus};
use stagewise::pipeline::{ErrorRecord, FailurePolicy, Pipeline, PipelineBuilder};
use stagewise::{Lifecycle, StageId};

use crate::durable::DurableRun;
use crate::orchestrate;
use crate::parse::Hit;
use crate::runs;
use crate::stages::{self, Input};
use crate::work::{BATCH, LINK_CAPACITY};

/// Which stage this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Read,
    Parse,
    Aggregate,
    /// No stage: follows the others' lifecycle records and heartbeats, applies the policies across processes.
    Orchestrate(orchestrate::Options),
}

impl Role {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "read" => Ok(Role::Read),
            "parse" => Ok(Role::Parse),
            "aggregate" => Ok(Role::Aggregate),
            "orchestrate" => Ok(Role::Orchestrate(orchestrate::Options::default())),
            other => Err(format!("--role: read, parse, aggregate or orchestrate, not {other}")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Parse => "parse",
            Role::Aggregate => "aggregate",
            Role::Orchestrate(_) => "orchestrate",
        }
    }
}

/// How long connecting may take before the process says the server is unreachable.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(5);

/// Records a consumer may hold unacknowledged, and a producer may run ahead of its consumer's acknowledgements, unless
/// `--in-flight` says otherwise: the bound on each link's records in flight across processes. A record is 512 lines.
/// With 64 the three processes took 2.03-2.36 s for a million lines, with 256 1.53-1.75 s (six runs of each,
/// alternated, load 5-6): each window waits a round trip through the consumer's commit and acknowledgement.
pub const IN_FLIGHT: u64 = 256;

/// How each role's links ride out a server that does not answer, and how many records each holds in flight.
#[derive(Clone, Copy, Debug)]
pub struct Links {
    /// `--outage`: how long a wait on the server may last while it does not answer.
    pub outage: Duration,
    /// `--in-flight`: see [`IN_FLIGHT`].
    pub in_flight: u64,
}

/// Which end of a link this process holds: the producer, held back by the named consumer's acknowledgements, or the
/// consumer reading through its durable JetStream consumer of that name.
enum End {
    Producer { consumer: &'static str },
    Consumer { name: &'static str },
}

async fn link<P: stagewise::pipeline::durable::Payload>(
    js: &Context,
    name: &str,
    end: End,
    links: Links,
) -> Result<DurableLink<P>, String> {
    link_of_run(js, name, end, links, None).await
}

/// As [`link`], refused unless its stream is the run created at `run` (it was not started over meanwhile).
async fn link_of_run<P: stagewise::pipeline::durable::Payload>(
    js: &Context,
    name: &str,
    end: End,
    links: Links,
    run: Option<SystemTime>,
) -> Result<DurableLink<P>, String> {
    let log = match end {
        End::Consumer { name: consumer } => {
            NatsLog::open_acknowledging(js, "access_log", name, consumer, links.in_flight).await
        }
        End::Producer { consumer } => {
            NatsLog::open(js, "access_log", name).await.map(|log| log.bounded_by(consumer, links.in_flight))
        }
    };
    let log = log.map_err(|e| format!("the link {name}: {e}"))?.outage(links.outage);
    if run.is_some_and(|run| run != log.created()) {
        return Err(format!("the link {name} was started over (a new run) while this role opened it: start it again"));
    }
    Ok(DurableLink::new(Arc::new(log), LinkPolicy { retention: Retention::KeepAll, ..LinkPolicy::default() }))
}

/// Runs `role` against the server at `url`; `state` is the aggregate's folder, `out` its CSV (by default in
/// `state`). `fresh` (`--fresh`) starts a new run: on the orchestrate role, the lifecycle records of earlier runs,
/// kept in the stream, are not judged; on a stage role, it starts its output over for the new run of its input
/// (`runs.rs`). A server that does not answer for `links.outage` ends the role with an error (its stage fails; its
/// lifecycle records, if they cannot be stored either, are printed with the error).
pub async fn run(
    url: &str,
    role: Role,
    input: Input,
    out: Option<&Path>,
    state: Option<PathBuf>,
    links: Links,
    fresh: bool,
) -> ExitCode {
    let outcome = match role {
        Role::Orchestrate(options) => orchestrate::run(url, links.outage, fresh, options).await,
        _ => run_role(url, role, input, out, state, links, fresh).await,
    };
    match outcome {
        Ok(code) => code,
        Err(why) => {
            eprintln!("access_log --role {}: {why}", role.name());
            ExitCode::FAILURE
        }
    }
}

/// Joins the pipeline as `role` (lifecycle records to `access_log.lifecycle.<role>`, a heartbeat) and runs its stage,
/// again each time the orchestrator asks after a failed run; stops it when the orchestrator asks, and runs it again
/// when asked to restart while it runs (with a sibling, by the restart strategy). With `fresh` its first run is a new
/// run (`runs.rs`), once it holds the claim on its name; the others resume.
async fn run_role(
    url: &str,
    role: Role,
    input: Input,
    out: Option<&Path>,
    state: Option<PathBuf>,
    links: Links,
    mut fresh: bool,
) -> Result<ExitCode, String> {
    let outage = links.outage;
    let js = connect(url, CONNECT_DEADLINE).await.map_err(|e| e.to_string())?;
    let member = Member::join(&js, "access_log", role.name(), orchestrate::HEARTBEAT).await;
    let mut member = member.map_err(|e| e.to_string())?.outage(outage);
    println!("role:    {} on {url}; lifecycle records to access_log.lifecycle.{}", role.name(), role.name());
    let mut input = Some(input);
    loop {
        let builder = Pipeline::builder("access_log")
            .capacity(LINK_CAPACITY)
            .policy(FailurePolicy::FailPipeline)
            .journal(member.lifecycle());
        let started = Instant::now();
        let pipeline = match role {
            Role::Read => {
                runs::read(&js, std::mem::take(&mut fresh)).await?;
                let lines = link::<String>(&js, "stage-0", End::Producer { consumer: "parse" }, links).await?;
                let current = input.take().ok_or("a file input is read once per process: start the process again")?;
                input = again(&current);
                builder.durable_source_on(&lines, |out| stages::read(StageId(0), current, BATCH, out)).durable_output()
            }
            Role::Parse => {
                let run = runs::parse(&js, std::mem::take(&mut fresh), outage).await?;
                let lines = link_of_run::<String>(&js, "stage-0", End::Consumer { name: "parse" }, links, Some(run));
                let lines = lines.await?;
                let hits = link::<Hit>(&js, "stage-1", End::Producer { consumer: "aggregate" }, links).await?;
                builder
                    .durable_input(&lines)
                    .durable_transform_on(&hits, |inlet, out| stages::parse(StageId(1), inlet, out))
                    .durable_output()
            }
            Role::Aggregate | Role::Orchestrate(_) => {
                let state = state.as_deref().ok_or("the aggregate role keeps its checkpoints in --durable DIR")?;
                let fresh = std::mem::take(&mut fresh);
                match aggregate(&js, builder, (state, fresh), out, &mut member, links).await? {
                    Some(code) => return Ok(code),
                    None => continue, // restart requested
                }
            }
        };
        let (outcome, again) = orchestrate::obeying(pipeline, &mut member).await?;
        println!("{} in {:.3} s", outcome.pipeline, started.elapsed().as_secs_f64());
        if *outcome.lifecycle() == Lifecycle::Completed {
            return Ok(ExitCode::SUCCESS);
        }
        if !again && !orchestrate::restart_requested(&mut member).await {
            return Ok(ExitCode::FAILURE);
        }
    }
}

/// One run of the aggregate stage, its folder `state` started over when `fresh`: `Some(exit code)` when the process
/// is done, `None` when the orchestrator asked for another run after a failed one.
async fn aggregate(
    js: &Context,
    builder: PipelineBuilder,
    (state, fresh): (&Path, bool),
    out: Option<&Path>,
    member: &mut Member,
    links: Links,
) -> Result<Option<ExitCode>, String> {
    let (hits_run, over) = runs::aggregate(js, state, fresh, links.outage).await?;
    let run = DurableRun::open(state, fresh, false, &over, Durability::Os, 64 << 20, Retention::KeepAll)?;
    if run.status == RunStatus::Finished {
        println!("run:     {} holds a finished run; nothing to do", state.display());
        return Ok(Some(ExitCode::SUCCESS));
    }
    let out = out.map_or_else(|| run.default_out(), Path::to_owned);
    let output = run.output(&out)?;
    let errors =
        FileJournal::<ErrorRecord>::open(state.join("errors"), JournalOptions::with_durability(Durability::Os))
            .map(Arc::new)
            .map_err(|e| format!("cannot open the error journal in {}: {e}", state.display()))?;
    let replayed = run.errors(errors.clone())?;
    let hits = End::Consumer { name: "aggregate" };
    let hits = link_of_run::<Hit>(js, "stage-1", hits, links, Some(hits_run)).await?;
    let summary = Arc::new(Mutex::new(None));
    let started = Instant::now();
    let pipeline = builder
        .durable_input(&hits)
        .sink(|inlet| run.aggregate(inlet, output, errors.clone(), replayed, summary.clone()));
    let (outcome, again) = orchestrate::obeying(pipeline, member).await?;
    println!("{} in {:.3} s", outcome.pipeline, started.elapsed().as_secs_f64());
    // Filled once the stream ended: a run stopped or failed before has no totals to balance.
    let summary = summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    if let Some(summary) = summary.filter(|_| *outcome.lifecycle() == Lifecycle::Completed) {
        let lines = lines_in(js).await?;
        let balanced = lines == summary.hits + stagewise::Journal::len(&*errors);
        println!(
            "records:  {lines} lines in, {} hits, {} errors; in = out + errors: {}",
            summary.hits,
            stagewise::Journal::len(&*errors),
            if balanced { "yes" } else { "NO" }
        );
        if !balanced {
            return Ok(Some(ExitCode::FAILURE));
        }
        run.run.finish().map_err(|e| format!("cannot mark the run finished: {e}"))?;
        return Ok(Some(ExitCode::SUCCESS));
    }
    drop(run); // its folder lock: the next run takes it again
    Ok((!again && !orchestrate::restart_requested(member).await).then_some(ExitCode::FAILURE))
}

/// The input afresh for a run in the same process (it resumes past what its stream holds): the generated log
/// can be, a file being read cannot.
fn again(input: &Input) -> Option<Input> {
    match input {
        Input::Generated { total, .. } => Some(Input::Generated { next: 0, total: *total }),
        Input::File(_) => None,
    }
}

/// The lines the read stage consumed: the input stamped on the last record of its stream.
async fn lines_in(js: &Context) -> Result<u64, String> {
    let log = NatsLog::<String>::open(js, "access_log", "stage-0").await.map_err(|e| e.to_string())?;
    let Some(last) = log.len().checked_sub(1) else { return Ok(0) };
    let records = log.read(last, 1).await.map_err(|e| e.to_string())?;
    Ok(records.first().map_or(0, |r| r.input))
}
