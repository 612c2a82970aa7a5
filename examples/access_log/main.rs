//! The main example: a web-server access log through a supervised three-stage pipeline, read -> parse -> aggregate,
//! with progress, Ctrl-C draining, an error journal for malformed lines, and a summary of every stage's lifecycle.
//!
//! ```sh
//! cargo run --release --example access_log                    # a generated log of 1,000,000 lines, 3% malformed
//! cargo run --release --example access_log -- access.log      # a Common Log Format file of your own
//! cargo run --release --example access_log -- --lines 5000000 --out per-minute.csv --journal ./journal
//! cargo run --release --example access_log -- --durable ./run   # durable links: kill it, run it again, it resumes
//! cargo run --release --example access_log -- --chaos 0.01      # parse fails on 1% of batches and is restarted
//! cargo run --release --example access_log -- --lines 50000000 --metrics 127.0.0.1:9000  # curl it: /metrics
//! ```
//!
//! In memory, parse is wired restartable (`chaos::restart_policy`): `--chaos P [--seed N]` makes it fail on a batch
//! with probability P; each failure restarts it, the batch it held goes to the error journal, and the summary lists
//! each stage's restarts.
//!
//! `--durable DIR` makes both links durable journals under DIR (`stage-0`, `stage-1`), with the lifecycle and error
//! journals, the aggregate stage's checkpoints and (unless `--out` says otherwise) the CSV, `output/per-minute.csv`,
//! beside them. Run it again on the same DIR after a crash and it resumes; on a finished run it says so and exits;
//! `--fresh` starts over (deleting the run, never other files: a folder holding any is refused). One process at a
//! time uses a run. `--policy os|every|every-append` chooses
//! the links' durability (default `os`), `--segment-bytes N` their segment size; segments every reader has passed are
//! deleted unless `--keep-links` keeps them for replay.
//!
//! Lifecycle and error records go to durable journals (`FileJournal`) in a folder named on start-up:
//! `--journal DIR`, else `$STAGEWISE_JOURNAL_DIR`, else a new folder under the temporary directory.
//!
//! `--metrics ADDR` serves every stage's metrics (loop turns, transitions, failures, restarts, events in and out, link
//! depth, error records) in Prometheus' text format at `http://ADDR/metrics` while the pipeline runs.

#[cfg(feature = "nats")]
mod across;
mod calendar;
mod chaos;
#[cfg(feature = "nats")]
mod children;
mod durable;
mod endpoint;
#[cfg(feature = "nats")]
mod orchestrate;
mod parse;
#[cfg(feature = "nats")]
mod runs;
mod stages;
mod work;

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stagewise::journal::{default_folder, Durability, FileJournal, JournalOptions};
use stagewise::pipeline::durable::{Retention, RunStatus};
use stagewise::pipeline::{ErrorJournal, ErrorRecord, FailurePolicy, Pipeline};
use stagewise::{Control, Journal, Lifecycle, LifecycleRecord, StageId};

use durable::DurableRun;
use endpoint::MetricsEndpoint;
use stages::Input;
use work::{Aggregator, BATCH, LINK_CAPACITY, MALFORMED_PERCENT};

struct Args {
    path: Option<String>,
    lines: u64,
    /// `--out`; by default a file in the temporary directory, or in a durable run's folder.
    out: Option<std::path::PathBuf>,
    journal: std::path::PathBuf,
    durable: Option<std::path::PathBuf>,
    fresh: bool,
    chaos: f64,
    seed: u64,
    policy: Durability,
    segment_bytes: u64,
    keep_links: bool,
    metrics: Option<std::net::SocketAddr>,
    /// `--nats URL --role NAME`: one stage of the pipeline, in this process (feature `nats`).
    nats: Option<(String, String)>,
    /// `--outage SECS`: how long a role goes on while the server does not answer (default 60 s).
    outage: Option<std::time::Duration>,
    /// `--in-flight N`: records each link holds past its consumer's acknowledgements, at most (default 256).
    in_flight: Option<u64>,
    /// `--strategy NAME` (`--role orchestrate`): which processes restart with one that is restarted.
    strategy: Option<String>,
    /// `--spawn` (`--role orchestrate`): the orchestrator starts the stage roles as its child processes.
    spawn: bool,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        path: None,
        lines: 1_000_000,
        out: None,
        journal: default_folder("access_log"),
        durable: None,
        fresh: false,
        chaos: 0.0,
        seed: 1,
        policy: Durability::Os,
        segment_bytes: 64 * 1024 * 1024,
        keep_links: false,
        metrics: None,
        nats: None,
        outage: None,
        in_flight: None,
        strategy: None,
        spawn: false,
    };
    let mut role = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--lines" => {
                let n = it.next().ok_or("--lines needs a number")?;
                args.lines = n.replace('_', "").parse().map_err(|_| format!("--lines: not a number: {n}"))?;
            }
            "--out" => args.out = Some(it.next().ok_or("--out needs a path")?.into()),
            "--journal" => args.journal = it.next().ok_or("--journal needs a folder")?.into(),
            "--durable" => args.durable = Some(it.next().ok_or("--durable needs a folder")?.into()),
            "--fresh" => args.fresh = true,
            "--chaos" => {
                let p = it.next().ok_or("--chaos needs a probability")?;
                args.chaos = p.parse().ok().filter(|p| (0.0..=1.0).contains(p)).ok_or(format!("--chaos: {p}"))?;
            }
            "--seed" => {
                let n = it.next().ok_or("--seed needs a number")?;
                args.seed = n.parse().map_err(|_| format!("--seed: not a number: {n}"))?;
            }
            "--keep-links" => args.keep_links = true,
            "--metrics" => {
                let addr = it.next().ok_or("--metrics needs an address, such as 127.0.0.1:9000")?;
                args.metrics = Some(addr.parse().map_err(|_| format!("--metrics: not an address: {addr}"))?);
            }
            "--policy" => args.policy = durable::durability(&it.next().ok_or("--policy needs a name")?)?,
            "--segment-bytes" => {
                let n = it.next().ok_or("--segment-bytes needs a number")?;
                args.segment_bytes = n.replace('_', "").parse().map_err(|_| format!("--segment-bytes: {n}"))?;
            }
            "--nats" => args.nats = Some((it.next().ok_or("--nats needs a URL")?, String::new())),
            "--outage" => {
                let n = it.next().ok_or("--outage needs a number of seconds")?;
                let secs = n.parse().map_err(|_| format!("--outage: not a number of seconds: {n}"))?;
                args.outage = Some(std::time::Duration::from_secs(secs));
            }
            "--in-flight" => {
                let n = it.next().ok_or("--in-flight needs a number of records")?;
                let records = n.parse().ok().filter(|&r| r > 0);
                args.in_flight = Some(records.ok_or(format!("--in-flight: not a number of records above 0: {n}"))?);
            }
            "--strategy" => {
                args.strategy = Some(it.next().ok_or("--strategy needs one-for-one, one-for-all or rest-for-one")?)
            }
            "--spawn" => args.spawn = true,
            "--role" => role = Some(it.next().ok_or("--role needs read, parse, aggregate or orchestrate")?),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path => args.path = Some(path.to_owned()),
        }
    }
    match (&mut args.nats, role) {
        // Before connecting: with the server unreachable its error would hide the missing flag.
        (Some(_), Some(role)) if role == "aggregate" && args.durable.is_none() => {
            return Err("--role aggregate needs --durable DIR (its checkpoints, CSV and error journal)".to_owned())
        }
        (Some((_, name)), Some(role)) => *name = role,
        (None, None) => {}
        (Some(_), None) => return Err("--nats needs --role read|parse|aggregate|orchestrate".to_owned()),
        (None, Some(_)) => return Err("--role needs --nats URL".to_owned()),
    }
    if (args.outage.is_some() || args.in_flight.is_some()) && args.nats.is_none() {
        return Err("--outage and --in-flight are for the processes on NATS: --nats URL --role ...".to_owned());
    }
    let orchestrates = args.nats.as_ref().is_some_and(|(_, role)| role == "orchestrate");
    if (args.strategy.is_some() || args.spawn) && !orchestrates {
        return Err("--strategy and --spawn are the orchestrator's: --nats URL --role orchestrate".to_owned());
    }
    if args.spawn && args.durable.is_none() {
        return Err("--spawn starts the aggregate role, which needs --durable DIR".to_owned());
    }
    Ok(args)
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("access_log: {why}");
            }
            eprintln!(
                "usage: access_log [PATH] [--lines N] [--out CSV] [--journal DIR] \
                 [--durable DIR [--fresh] [--policy os|every|every-append] [--segment-bytes N] [--keep-links]] \
                 [--chaos P [--seed N]] [--metrics ADDR] \
                 [--nats URL --role read|parse|aggregate|orchestrate [--outage SECS] [--in-flight N] [--fresh] \
                 [--strategy one-for-one|one-for-all|rest-for-one] [--spawn]]"
            );
            return ExitCode::from(2);
        }
    };
    // In a process running parse or aggregate only, the input is not read here.
    let reads_input = args.nats.as_ref().is_none_or(|(_, role)| role == "read");
    // What a durable run is over: resuming it on another input would mix two inputs' output.
    let input_name = match &args.path {
        None => format!("a generated log of {} lines", args.lines),
        Some(path) => format!("the file {path}"),
    };
    let input = match &args.path {
        None => {
            if reads_input {
                println!(
                    "input:   a generated access log, {} lines ({MALFORMED_PERCENT}% malformed), the same on every run",
                    thousands(args.lines)
                );
            }
            Input::Generated { next: 0, total: args.lines }
        }
        Some(path) => match File::open(path) {
            Ok(file) => {
                println!("input:   {path}");
                Input::File(BufReader::with_capacity(1 << 16, file))
            }
            Err(e) => {
                eprintln!("access_log: cannot open {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    if let Some((url, role)) = &args.nats {
        return across_processes(url, role, input, &args).await;
    }
    if args.chaos > 0.0 && args.durable.is_some() {
        eprintln!(
            "access_log: --chaos works with in-memory links only (a durable parse resumes instead of restarting)"
        );
        return ExitCode::from(2);
    }
    // Segments both stages after a link have passed are deleted, unless kept for replay.
    let retention = if args.keep_links { Retention::KeepAll } else { Retention::Consumed };
    let durable = match &args.durable {
        None => None,
        Some(dir) => {
            match DurableRun::open(dir, args.fresh, true, &input_name, args.policy, args.segment_bytes, retention) {
                Ok(run) => Some(run),
                Err(why) => {
                    eprintln!("access_log: {why}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    if let Some(run) = &durable {
        let dir = run.run.dir().display();
        match run.status {
            RunStatus::Finished => {
                println!("run:     {dir} holds a finished run; nothing to do (--fresh starts over)");
                return ExitCode::SUCCESS;
            }
            RunStatus::Interrupted => {
                println!("run:     resuming the interrupted run in {dir} (aggregate from record {})", run.input())
            }
            RunStatus::New => println!("run:     a new durable run in {dir} (links stage-0/ and stage-1/)"),
        }
    }
    let journal_dir = durable.as_ref().map_or_else(|| args.journal.clone(), |run| run.run.dir().to_owned());
    let out = match (&args.out, &durable) {
        (Some(out), _) => out.clone(),
        (None, Some(run)) => run.default_out(),
        (None, None) => std::env::temp_dir().join("stagewise-access_log.csv"),
    };
    let output = match &durable {
        None => File::create(&out)
            .and_then(|file| {
                let out = BufWriter::with_capacity(1 << 16, file);
                Ok((Aggregator::new(Some(Box::new(out)))?, None))
            })
            .map_err(|e| format!("cannot write {}: {e}", out.display())),
        Some(run) => run.output(&out).map(|(aggregator, bytes)| (aggregator, Some(bytes))),
    };
    let (aggregator, csv_bytes) = match output {
        Ok(output) => output,
        Err(why) => {
            eprintln!("access_log: {why}");
            return ExitCode::FAILURE;
        }
    };
    println!("output:  {} (hits and bytes per minute, status and path)", out.display());
    // The embedded default journal: durable files. Lifecycle records are synced on every append (they are few and are
    // the record of how each stage ended); error records are synced in groups of 1,000 or every 100 ms.
    let lifecycle = FileJournal::<LifecycleRecord>::open_default(journal_dir.join("lifecycle"));
    let errors = FileJournal::<ErrorRecord>::open(
        journal_dir.join("errors"),
        JournalOptions::with_durability(Durability::Every { records: 1000, interval: Duration::from_millis(100) }),
    );
    let (lifecycle, errors) = match (lifecycle, errors) {
        (Ok(lifecycle), Ok(errors)) => (Arc::new(lifecycle), Arc::new(errors)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("access_log: cannot open the journal in {}: {e}", journal_dir.display());
            return ExitCode::FAILURE;
        }
    };
    println!("journal: {} (lifecycle/ and errors/; durable)", journal_dir.display());
    println!("stages:  read -> parse -> aggregate, links of {LINK_CAPACITY} batches x {BATCH} lines; Ctrl-C drains (30 s deadline)");

    let summary = Arc::new(Mutex::new(None));
    let started = Instant::now();
    let builder = Pipeline::builder("access_log")
        .capacity(LINK_CAPACITY)
        .policy(FailurePolicy::FailPipeline)
        .journal(lifecycle.clone());
    let mut pipeline = match (&durable, csv_bytes) {
        (Some(run), Some(csv_bytes)) => {
            match run.pipeline(builder, input, (aggregator, csv_bytes), errors.clone(), summary.clone()) {
                Ok(pipeline) => pipeline.spawn(),
                Err(why) => {
                    eprintln!("access_log: {why}");
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => {
            // In memory, parse is restartable: a failed batch goes to the error journal, a fresh parse reads on.
            let error_journal: ErrorJournal = errors.clone();
            let chaos = chaos::Chaos::new(args.chaos, args.seed);
            builder
                .errors(error_journal.clone())
                .source(|out| stages::read(StageId(0), input, BATCH, out))
                .restartable_transform(chaos::restart_policy(args.seed), move |inlet, out| {
                    stages::parse_restartable(StageId(1), inlet, out, &chaos)
                })
                .sink(|inlet| stages::aggregate(StageId(2), inlet, aggregator, error_journal, summary.clone()))
                .spawn()
        }
    };
    let _endpoint = match args.metrics {
        None => None,
        Some(addr) => {
            let errors: ErrorJournal = errors.clone();
            match MetricsEndpoint::serve(addr, pipeline.metrics().with_error_journal(errors)).await {
                Ok(endpoint) => {
                    println!("metrics: http://{}/metrics", endpoint.addr());
                    Some(endpoint)
                }
                Err(e) => {
                    eprintln!("access_log: cannot serve metrics on {addr}: {e}");
                    pipeline.abort();
                    return ExitCode::FAILURE;
                }
            }
        }
    };

    let mut progress =
        tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
    let mut interrupts = 0;
    let outcome = loop {
        tokio::select! {
            outcome = pipeline.outcome() => break outcome,
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                // The first Ctrl-C drains: the source stops, the others finish the stream. A second stops every
                // stage at once, a third aborts them; the orchestrator escalates the same way on its own at the
                // drain deadline.
                eprintln!("Ctrl-C: {}", match interrupts {
                    1 => "draining (again to stop at once)",
                    2 => "stopping (again to abort)",
                    _ => "aborting",
                });
                let _ = pipeline.try_send(Control::Stop);
            }
            _ = progress.tick() => {
                let links = pipeline.links();
                let secs = started.elapsed().as_secs_f64();
                let states: Vec<String> =
                    pipeline.stage_states().iter().map(|stage| format!("{} {}", stage.name, stage.state.name)).collect();
                eprintln!(
                    "progress: {:>12} lines read, {:>12} parsed, {:>10} errors journaled, {:>5.2} M lines/s [{}]",
                    thousands(links[0].sent),
                    thousands(links[1].sent),
                    thousands(errors.len()),
                    links[0].received as f64 / secs / 1e6,
                    states.join(", "),
                );
            }
        }
    };
    let wall = started.elapsed();

    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("access_log: the pipeline escalated: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(error) = cause {
                eprintln!("  caused by: {error}");
                cause = error.source();
            }
            return ExitCode::FAILURE;
        }
    };
    let links = pipeline.links();
    let lines_in = match &durable {
        // Over every run of a resumed pipeline: the lines the read stage's link holds.
        Some(run) => match durable::lines_in(&run.links).await {
            Ok(lines) => lines,
            Err(e) => {
                eprintln!("access_log: cannot read the read stage's link: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => links[0].sent,
    };
    let summary = summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().unwrap_or_default();
    println!();
    println!("records in:   {:>12} lines", thousands(lines_in));
    // A stopped durable run's aggregate keeps its table in its checkpoint and reports it only at the end.
    let paused = durable.is_some() && matches!(outcome.lifecycle(), Lifecycle::Cancelled { .. });
    if paused {
        println!("records out:  the aggregate's figures (hits, rows, statuses, top paths) come when the run finishes");
    } else {
        println!("records out:  {:>12} hits aggregated into {} rows", thousands(summary.hits), thousands(summary.rows));
    }
    let total = outcome.restarts().iter().map(|(_, n)| u64::from(*n)).sum::<u64>();
    println!(
        "errors:       {:>12} in the error journal (malformed lines, and the lines of batches parse failed on)",
        thousands(errors.len())
    );
    let restarts: Vec<String> = outcome.restarts().iter().map(|(name, n)| format!("{name} {n}")).collect();
    println!("restarts:     {} ({total} in all; --chaos {} --seed {})", restarts.join(", "), args.chaos, args.seed);
    let balanced = lines_in == summary.hits + errors.len();
    match (&durable, outcome.lifecycle()) {
        // A stopped durable run pauses its links: what they hold is processed when it resumes, and the aggregate
        // reports its table only at the end, so the balance is for the run that finishes.
        (Some(run), Lifecycle::Cancelled { .. }) => println!(
            "in = out + errors: checked when the run finishes (interrupted: run the same command again to resume \
             it from {})",
            run.run.dir().display()
        ),
        // A failed pipeline's stages did not all finish the stream (the aggregate's table may have gone with it).
        (_, Lifecycle::Failed { .. }) if !balanced => {
            println!("in = out + errors: not checked (the pipeline failed; the lifecycle below says why)")
        }
        _ => println!("in = out + errors: {}", if balanced { "yes" } else { "NO" }),
    }
    if let Some(first) = errors.read_from(0).ok().and_then(|e| e.into_iter().next()) {
        println!("first error:  {} [{:?}] {}", first.context.name, first.kind, first.message);
    }
    if !paused {
        let statuses: Vec<String> = summary.statuses.iter().map(|(s, n)| format!("{s}: {}", thousands(*n))).collect();
        println!("statuses:     {}", statuses.join(", "));
        let top: Vec<String> = summary.top_paths.iter().map(|(p, n)| format!("{p} ({})", thousands(*n))).collect();
        println!("top paths:    {}", top.join(", "));
    }
    println!("lifecycle:");
    println!("  {}", outcome.pipeline);
    for stage in &outcome.stages {
        println!("  {stage}");
    }
    println!(
        "journal:      {} lifecycle records, {} error records, kept in {}",
        lifecycle.len(),
        thousands(errors.len()),
        journal_dir.display()
    );
    let secs = wall.as_secs_f64();
    println!(
        "wall time:    {secs:.3} s; throughput {:.2} M lines/s ({} lines/s)",
        lines_in as f64 / secs / 1e6,
        thousands((lines_in as f64 / secs) as u64)
    );
    if let (Some(run), Lifecycle::Completed, true) = (&durable, outcome.lifecycle(), balanced) {
        if let Err(e) = run.run.finish() {
            eprintln!("access_log: cannot mark the run finished: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let (Some(run), Lifecycle::Failed { .. }) = (&durable, outcome.lifecycle()) {
        let dir = run.run.dir().display();
        eprintln!(
            "access_log: the durable run in {dir} failed; `journal_inspect {dir}` shows each damaged record with its \
             folder, segment and byte; run again to resume once the cause is gone, or add --fresh to start over"
        );
    }
    match outcome.lifecycle() {
        Lifecycle::Completed if balanced => ExitCode::SUCCESS,
        Lifecycle::Cancelled { .. } => ExitCode::from(130),
        _ => ExitCode::FAILURE,
    }
}

/// `--nats URL --role NAME`: this process runs one stage; the others run in other processes.
#[cfg(feature = "nats")]
async fn across_processes(url: &str, role: &str, input: Input, args: &Args) -> ExitCode {
    let strategy = args.strategy.as_deref().map_or(Ok(Default::default()), orchestrate::strategy);
    match across::Role::parse(role).and_then(|role| Ok((role, strategy?))) {
        Ok((role, strategy)) => {
            let role = match role {
                across::Role::Orchestrate(_) => {
                    across::Role::Orchestrate(orchestrate::Options { strategy, spawn: args.spawn })
                }
                role => role,
            };
            let links = across::Links {
                outage: args.outage.unwrap_or(stagewise::nats::DEFAULT_OUTAGE),
                in_flight: args.in_flight.unwrap_or(across::IN_FLIGHT),
            };
            across::run(url, role, input, args.out.as_deref(), args.durable.clone(), links, args.fresh).await
        }
        Err(why) => {
            eprintln!("access_log: {why}");
            ExitCode::from(2)
        }
    }
}

#[cfg(not(feature = "nats"))]
async fn across_processes(_: &str, _: &str, _: Input, _: &Args) -> ExitCode {
    eprintln!("access_log: --nats needs the nats feature: cargo run --release --features nats --example access_log");
    ExitCode::from(2)
}
