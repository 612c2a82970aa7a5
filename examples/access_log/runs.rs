//! Which run of its input a role of the access log across processes takes part in, and `--fresh` on the stage
//! roles: a new run (feature `nats`).
//!
//! A run of a link is its stream as its producer last started it over ([`StreamSpec::reset`]), told apart by the
//! time the server created it. `--fresh` on read starts `access_log-stage-0` over; on parse it waits for a run of
//! stage-0 newer than its own output (read started over), then starts `access_log-stage-1` over; on aggregate it
//! waits for a run of stage-1 other than the one its `--durable` folder's run is over, then starts the folder over.
//! Parse and aggregate with `--fresh` also take part only in an input run created after the orchestrator's last
//! new-run mark (`orchestrate --fresh`, started first; [`new_run_marked`]), waiting for that mark while the
//! orchestrator's last run has ended: with a new, empty folder aggregate has no run of its own to tell the earlier
//! one by, and started before parse it would otherwise take the earlier run left on the server, ended and all, for
//! the new one.
//! So the roles of a new run may start in any order, and none loses a record: each deletes only its own output,
//! after its claim on its name (a second process under that name is refused first), and the one consumer of that
//! output is a role of the same new run that does not read it before it was started over. Without `--fresh`, a role
//! whose input holds a newer run than its own output or folder refuses, naming `--fresh`, instead of mixing the two.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use stagewise::nats::{new_run_marked, Context, NatsError, StreamSpec};
use stagewise::pipeline::durable::RunFolder;

/// How often a role waiting for its input's new run looks again.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// The orchestrate role's process name (the orchestrator's default).
const ORCHESTRATOR: &str = "orchestrator";

/// read: with `fresh`, starts its output, the stream of lines, over.
pub async fn read(js: &Context, fresh: bool) -> Result<(), String> {
    if fresh {
        let spec = StreamSpec::link("access_log", "stage-0").map_err(|e| e.to_string())?;
        spec.reset(js).await.map_err(|e| e.to_string())?;
        println!("run:     a new run: {} started over", spec.name);
    }
    Ok(())
}

/// parse: the run of the stream of lines it takes part in (when the server created it); with `fresh`, once there
/// is a newer one than its output, the stream of hits, which it starts over for it.
pub async fn parse(js: &Context, fresh: bool, outage: Duration) -> Result<SystemTime, String> {
    let lines = StreamSpec::link("access_log", "stage-0").map_err(|e| e.to_string())?;
    let hits = StreamSpec::link("access_log", "stage-1").map_err(|e| e.to_string())?;
    let mut waiting = Waiting::default();
    let marked = if fresh { run_marked(js, outage, &mut waiting).await? } else { None };
    loop {
        let Some(input) = created(js, &lines, outage).await? else {
            waiting.say(format!("{} does not exist yet: waiting for read to create it", lines.name)).await;
            continue;
        };
        if marked.is_some_and(|marked| input <= marked) {
            let why = format!("{} holds a run from before the orchestrator's new run", lines.name);
            waiting.say(format!("{why}: waiting for read --fresh")).await;
            continue;
        }
        // The hits are parse's own: created after the run of lines they come from.
        match (fresh, created(js, &hits, outage).await?) {
            (_, None) => return Ok(input),
            (true, Some(output)) if input > output => {
                hits.reset(js).await.map_err(|e| e.to_string())?;
                println!("run:     a new run: {} started over", hits.name);
                return Ok(input);
            }
            (true, Some(_)) => {
                waiting.say(format!("{} holds the run parse took part in: waiting for read --fresh", lines.name)).await;
            }
            (false, Some(output)) if input > output => {
                return Err(format!(
                    "{} holds a newer run than parse's output {}: start parse with --fresh to take part in it",
                    lines.name, hits.name
                ))
            }
            (false, Some(_)) => return Ok(input),
        }
    }
}

/// aggregate: the run of the stream of hits it takes part in (when the server created it), and what its run in
/// `state` is over, to open the folder with; with `fresh`, once that is another run than the folder's.
pub async fn aggregate(
    js: &Context,
    state: &Path,
    fresh: bool,
    outage: Duration,
) -> Result<(SystemTime, String), String> {
    let hits = StreamSpec::link("access_log", "stage-1").map_err(|e| e.to_string())?;
    let mut waiting = Waiting::default();
    let marked = if fresh { run_marked(js, outage, &mut waiting).await? } else { None };
    loop {
        let Some(input) = created(js, &hits, outage).await? else {
            waiting.say(format!("{} does not exist yet: waiting for parse to create it", hits.name)).await;
            continue;
        };
        if marked.is_some_and(|marked| input <= marked) {
            let why = format!("{} holds a run from before the orchestrator's new run", hits.name);
            waiting.say(format!("{why}: waiting for parse --fresh")).await;
            continue;
        }
        let over = over(input);
        if fresh && RunFolder::started_on(state).is_some_and(|started| started == over) {
            let why = format!("{} holds the run of {} aggregate took part in", state.display(), hits.name);
            waiting.say(format!("{why}: waiting for parse --fresh")).await;
            continue;
        }
        return Ok((input, over));
    }
}

/// What an aggregate run over the run of the stream of hits created at `created` is over, as its folder records it.
fn over(created: SystemTime) -> String {
    let nanos = created.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("the parse stage's JetStream link access_log-stage-1 (created at {nanos} ns)")
}

/// When the server created the stream `spec`, asked again while the server does not answer, for up to `outage`.
async fn created(js: &Context, spec: &StreamSpec, outage: Duration) -> Result<Option<SystemTime>, String> {
    answered(&spec.name, outage, || spec.created(js)).await
}

/// When the orchestrator marked the run in progress, asked again while the server does not answer, for up to
/// `outage`; while its last run has ended (its new run is not marked yet: it was started at the same moment, or
/// waits for an earlier orchestrator's claim), waits for the mark instead of taking the ended run for this one.
async fn run_marked(js: &Context, outage: Duration, waiting: &mut Waiting) -> Result<Option<SystemTime>, String> {
    loop {
        let what = "the orchestrator's new-run mark";
        let mark = answered(what, outage, || new_run_marked(js, "access_log", ORCHESTRATOR)).await?;
        if !mark.ended {
            return Ok(mark.marked);
        }
        let why = "the orchestrator's last run ended and it marked no new one yet";
        waiting.say(format!("{why}: waiting for orchestrate --fresh")).await;
    }
}

/// What `ask` answers about `what`, asked again while the server does not answer, for up to `outage`.
async fn answered<T, Asked>(what: &str, outage: Duration, ask: impl Fn() -> Asked) -> Result<T, String>
where
    Asked: Future<Output = Result<T, NatsError>>,
{
    let since = Instant::now();
    loop {
        match ask().await {
            Ok(answer) => return Ok(answer),
            Err(e) if since.elapsed() >= outage => {
                return Err(format!("the NATS server did not answer for {outage:?} while looking for {what}: {e}"))
            }
            Err(_) => tokio::time::sleep(LOOK_EVERY).await,
        }
    }
}

/// A wait, said once for each reason.
#[derive(Default)]
struct Waiting(String);

impl Waiting {
    async fn say(&mut self, why: String) {
        if why != self.0 {
            println!("waiting: {why}");
            self.0 = why;
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}
