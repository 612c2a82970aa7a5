//! The main example: a web-server access log through a supervised three-stage pipeline, read -> parse -> aggregate,
//! with progress, Ctrl-C draining, an error journal for malformed lines, and a summary of every stage's lifecycle.
//!
//! ```sh
//! cargo run --release --example access_log                    # a generated log of 1,000,000 lines, 3% malformed
//! cargo run --release --example access_log -- access.log      # a Common Log Format file of your own
//! cargo run --release --example access_log -- --lines 5000000 --out per-minute.csv --journal ./journal
//! ```
//!
//! Lifecycle and error records go to durable journals (`FileJournal`) in a folder named on start-up:
//! `--journal DIR`, else `$STAGEWISE_JOURNAL_DIR`, else a new folder under the temporary directory.

mod stages;
mod work;

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stagewise::journal::{default_folder, Durability, FileJournal, JournalOptions};
use stagewise::pipeline::{ErrorJournal, ErrorRecord, FailurePolicy, Pipeline};
use stagewise::{Control, Journal, Lifecycle, LifecycleRecord, StageId};

use stages::Input;
use work::{Aggregator, BATCH, LINK_CAPACITY, MALFORMED_PERCENT};

struct Args {
    path: Option<String>,
    lines: u64,
    out: std::path::PathBuf,
    journal: std::path::PathBuf,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        path: None,
        lines: 1_000_000,
        out: std::env::temp_dir().join("stagewise-access_log.csv"),
        journal: default_folder("access_log"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--lines" => {
                let n = it.next().ok_or("--lines needs a number")?;
                args.lines = n.replace('_', "").parse().map_err(|_| format!("--lines: not a number: {n}"))?;
            }
            "--out" => args.out = it.next().ok_or("--out needs a path")?.into(),
            "--journal" => args.journal = it.next().ok_or("--journal needs a folder")?.into(),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path => args.path = Some(path.to_owned()),
        }
    }
    Ok(args)
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
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
            eprintln!("usage: access_log [PATH] [--lines N] [--out CSV] [--journal DIR]");
            return ExitCode::from(2);
        }
    };
    let input = match &args.path {
        None => {
            println!(
                "input:   a generated access log, {} lines ({MALFORMED_PERCENT}% malformed), the same on every run",
                thousands(args.lines)
            );
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
    let output = match File::create(&args.out) {
        Ok(file) => BufWriter::with_capacity(1 << 16, file),
        Err(e) => {
            eprintln!("access_log: cannot create {}: {e}", args.out.display());
            return ExitCode::FAILURE;
        }
    };
    println!("output:  {} (hits and bytes per minute, status and path)", args.out.display());
    // The embedded default journal: durable files. Lifecycle records are synced on every append (they are few and are
    // the record of how each stage ended); error records are synced in groups of 1,000 or every 100 ms.
    let lifecycle = FileJournal::<LifecycleRecord>::open_default(args.journal.join("lifecycle"));
    let errors = FileJournal::<ErrorRecord>::open(
        args.journal.join("errors"),
        JournalOptions::with_durability(Durability::Every { records: 1000, interval: Duration::from_millis(100) }),
    );
    let (lifecycle, errors) = match (lifecycle, errors) {
        (Ok(lifecycle), Ok(errors)) => (Arc::new(lifecycle), Arc::new(errors)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("access_log: cannot open the journal in {}: {e}", args.journal.display());
            return ExitCode::FAILURE;
        }
    };
    println!("journal: {} (lifecycle/ and errors/; durable)", args.journal.display());
    println!("stages:  read -> parse -> aggregate, links of {LINK_CAPACITY} batches x {BATCH} lines; Ctrl-C drains (30 s deadline)");

    let aggregator = match Aggregator::new(Some(Box::new(output))) {
        Ok(aggregator) => aggregator,
        Err(e) => {
            eprintln!("access_log: cannot write {}: {e}", args.out.display());
            return ExitCode::FAILURE;
        }
    };
    let summary = Arc::new(Mutex::new(None));
    let error_journal: ErrorJournal = errors.clone();
    let started = Instant::now();
    let mut pipeline = Pipeline::builder("access_log")
        .capacity(LINK_CAPACITY)
        .policy(FailurePolicy::FailPipeline)
        .journal(lifecycle.clone())
        .source(|out| stages::read(StageId(0), input, BATCH, out))
        .transform(|inlet, out| stages::parse(StageId(1), inlet, out))
        .sink(|inlet| stages::aggregate(StageId(2), inlet, aggregator, error_journal, summary.clone()))
        .spawn();

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
            return ExitCode::FAILURE;
        }
    };
    let links = pipeline.links();
    let lines_in = links[0].sent;
    let summary = summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().unwrap_or_default();
    println!();
    println!("records in:   {:>12} lines", thousands(lines_in));
    println!("records out:  {:>12} hits aggregated into {} rows", thousands(summary.hits), thousands(summary.rows));
    println!("errors:       {:>12} malformed lines in the error journal", thousands(errors.len()));
    let balanced = lines_in == summary.hits + errors.len();
    println!("in = out + errors: {}", if balanced { "yes" } else { "NO" });
    if let Some(first) = errors.read_from(0).ok().and_then(|e| e.into_iter().next()) {
        println!("first error:  {} [{:?}] {}", first.context.name, first.kind, first.message);
    }
    let statuses: Vec<String> = summary.statuses.iter().map(|(s, n)| format!("{s}: {}", thousands(*n))).collect();
    println!("statuses:     {}", statuses.join(", "));
    let top: Vec<String> = summary.top_paths.iter().map(|(p, n)| format!("{p} ({})", thousands(*n))).collect();
    println!("top paths:    {}", top.join(", "));
    println!("lifecycle:");
    println!("  {}", outcome.pipeline);
    for stage in &outcome.stages {
        println!("  {stage}");
    }
    println!(
        "journal:      {} lifecycle records, {} error records, kept in {}",
        lifecycle.len(),
        thousands(errors.len()),
        args.journal.display()
    );
    let secs = wall.as_secs_f64();
    println!(
        "wall time:    {secs:.3} s; throughput {:.2} M lines/s ({} lines/s)",
        lines_in as f64 / secs / 1e6,
        thousands((lines_in as f64 / secs) as u64)
    );
    match outcome.lifecycle() {
        Lifecycle::Completed if balanced => ExitCode::SUCCESS,
        Lifecycle::Cancelled { .. } => ExitCode::from(130),
        _ => ExitCode::FAILURE,
    }
}
