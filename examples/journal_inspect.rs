//! The inspection tool for a pipeline's journals, the first thing to reach for when a pipeline fails at night:
//! verifies every frame of every journal (reporting damage with segment and byte offset), shows each durable link's
//! records with its consumers' positions and lag, the lifecycle records as a timeline per stage and run, and the
//! error records, filtered by kind; `--follow` then prints what is appended as it comes.
//!
//! ```sh
//! cargo run --example journal_inspect -- DIR                 # a pipeline folder (access_log --durable DIR)
//! cargo run --example journal_inspect -- DIR --errors parse  # error records of kind Parse (or: all)
//! cargo run --example journal_inspect -- DIR --follow        # then follow the tails (Ctrl-C ends)
//! ```
//!
//! It only reads: no lock is taken and nothing is repaired, so it runs beside a live pipeline (whose unfinished
//! last write shows as a torn tail).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;
use stagewise::journal::file::{scan, SegmentScan};
use stagewise::journal::Format;
use stagewise::pipeline::ErrorRecord;
use stagewise::{Lifecycle, LifecycleRecord};

/// The head of a durable link record, whatever its payload: the stamp and the number of events.
#[derive(Deserialize)]
struct LinkHead {
    input: u64,
    body: BodyHead,
}

#[derive(Deserialize)]
enum BodyHead {
    Events(u64),
    EndOfStream,
}

/// The head of a checkpoint, whatever its state.
#[derive(Deserialize)]
struct CheckpointHead {
    input: u64,
    finished: bool,
}

/// The kinds of error records (`stagewise::ErrorKind`), as `--errors` names them.
const KINDS: [&str; 7] = ["Parse", "Validation", "Io", "Timeout", "Panic", "StageFailed", "Internal"];

struct Args {
    dir: PathBuf,
    errors: Option<String>,
    follow: bool,
    limit: usize,
}

fn args() -> Result<Args, String> {
    let mut args = Args { dir: PathBuf::new(), errors: None, follow: false, limit: 20 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--errors" => args.errors = Some(it.next().unwrap_or_else(|| "all".into()).to_lowercase()),
            "--follow" => args.follow = true,
            "--limit" => args.limit = it.next().and_then(|n| n.parse().ok()).ok_or("--limit needs a number")?,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            dir => args.dir = dir.into(),
        }
    }
    if args.dir.as_os_str().is_empty() {
        return Err("a pipeline folder is needed".into());
    }
    if let Some(kind) = &args.errors {
        if kind != "all" && !KINDS.iter().any(|k| k.to_lowercase() == *kind) {
            return Err(format!("--errors: no kind {kind}; the kinds are {}, or all", KINDS.join(", ")));
        }
    }
    Ok(args)
}

/// Verification of one journal: prints damage and torn tails; true when every frame is intact.
fn verify(name: &str, segments: &[SegmentScan]) -> bool {
    let records: u64 = segments.iter().map(|s| s.records).sum();
    let bytes: u64 = segments.iter().map(|s| s.bytes).sum();
    let mut intact = true;
    for s in segments {
        if let Some(p) = &s.problem {
            let what = if p.torn { "torn tail (a write in progress, or cut short by a crash)" } else { "DAMAGED" };
            println!("  {name}: {what} in {} at byte {}: {}", s.segment, p.offset, p.reason);
            intact &= p.torn;
        }
    }
    println!(
        "  {name}: {records} records in {} segment(s), {bytes} bytes, {}",
        segments.len(),
        if intact { "every frame verified" } else { "DAMAGE found" }
    );
    intact
}

/// What a link holds.
struct LinkScan {
    segments: Vec<SegmentScan>,
    /// The stamp of the last record, and whether it is the end of stream.
    last: Option<(u64, bool)>,
    /// Position after the last record.
    end: u64,
    /// Events in the records held.
    events: u64,
}

/// Scans the link in `dir`.
fn link(dir: &Path) -> Result<LinkScan, String> {
    let mut last = None;
    let mut events = 0;
    let segments = scan::<LinkHead>(dir, Format::Postcard, 0, |_, head| {
        if let Ok(head) = head {
            if let BodyHead::Events(n) = head.body {
                events += n;
            }
            last = Some((head.input, matches!(head.body, BodyHead::EndOfStream)));
        }
    })
    .map_err(|e| format!("{}: {e}", dir.display()))?;
    let end = segments.last().map_or(0, |s| s.base + s.records);
    Ok(LinkScan { segments, last, end, events })
}

fn stage_links(dir: &Path) -> Vec<(usize, PathBuf)> {
    (0..).map(|i| (i, dir.join(format!("stage-{i}")))).take_while(|(_, p)| p.is_dir()).collect()
}

/// A journal that cannot be read at all (a file in it that is not a segment, a folder that cannot be listed):
/// reported, and the report goes on with the other journals.
fn unreadable(name: &str, why: &str) -> bool {
    println!("  {name}: CANNOT BE READ: {why}");
    false
}

/// Each link, its records and its consumer's position and lag, and the checkpoints; true when every frame is intact.
fn links(dir: &Path) -> bool {
    let stages = stage_links(dir);
    let mut intact = true;
    let mut heads = Vec::new();
    for (i, path) in &stages {
        match link(path) {
            Ok(LinkScan { segments, last, end, events }) => {
                intact &= verify(&format!("stage-{i}"), &segments);
                heads.push((segments.first().map_or(0, |s| s.base), end, events, last));
            }
            Err(e) => {
                intact &= unreadable(&format!("stage-{i}"), &e);
                heads.push((0, 0, 0, None));
            }
        }
    }
    // Every checkpoint journal is verified as the links are; the last checkpoint is its stage's position.
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir.join("checkpoints"))
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    folders.sort();
    let mut checkpoints: Vec<(String, Option<CheckpointHead>)> = Vec::new();
    for folder in folders {
        let name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let mut last = None;
        match scan::<CheckpointHead>(&folder, Format::Postcard, 0, |_, c| last = c.ok().or(last.take())) {
            Ok(segments) => intact &= verify(&format!("checkpoints/{name}"), &segments),
            Err(e) => intact &= unreadable(&format!("checkpoints/{name}"), &e.to_string()),
        }
        checkpoints.push((name, last));
    }
    println!("links (durable; a record is one batch, stamped with how far its writer had read its input):");
    for (i, (first, end, events, last)) in heads.iter().enumerate() {
        let ended = last.is_some_and(|(_, ended)| ended);
        let stamp = last.map_or("none".to_owned(), |(input, _)| input.to_string());
        println!(
            "  stage-{i}: records {first}..{end} ({events} events held{}), writer's input position {stamp}",
            if ended { ", ends with end of stream" } else { "" }
        );
        // The reader of stage-i is stage-(i+1), whose own records are stamped with its position here; the last
        // link's reader keeps checkpoints.
        let reader = match heads.get(i + 1) {
            Some((_, _, _, next)) => next.map(|(input, _)| (format!("stage-{}", i + 1), input)),
            None => checkpoints.iter().find_map(|(name, c)| {
                c.as_ref()
                    .map(|c| (format!("{name} (checkpoint{})", if c.finished { ", finished" } else { "" }), c.input))
            }),
        };
        match reader {
            Some((name, position)) => {
                println!("    consumer {name}: at {position}, lag {} records", end.saturating_sub(position))
            }
            None => println!("    consumer: none has committed a position yet (lag {} records)", end - first),
        }
    }
    intact
}

/// Where the lifecycle timeline is: the run being read, and who has started in it.
#[derive(Default)]
struct Timeline {
    runs: u64,
    started: BTreeMap<String, bool>,
    /// Per supervisor: (run, what happened in it).
    lines: BTreeMap<String, Vec<(u64, String)>>,
}

impl Timeline {
    /// A supervisor starting a second time starts a new run: everyone who had not ended was interrupted.
    fn add(&mut self, r: &LifecycleRecord, follow: bool) {
        let name = r.supervisor.to_string();
        if r.lifecycle == Lifecycle::Started && (self.runs == 0 || self.started.contains_key(&name)) {
            self.runs += 1;
            self.started.clear();
        }
        let what = match &r.lifecycle {
            Lifecycle::Started => {
                self.started.insert(name.clone(), false);
                "started, no end recorded (interrupted, or still running)".to_owned()
            }
            other => {
                self.started.insert(name.clone(), true);
                format!("{other:?} in {} [turns {}]", r.state, r.counters.loop_turns)
            }
        };
        if follow {
            println!("  {name}: run {}: {what}", self.runs);
        }
        let lines = self.lines.entry(name).or_default();
        match lines.last_mut() {
            Some((run, line)) if *run == self.runs => *line = what,
            _ => lines.push((self.runs, what)),
        }
    }
}

/// The lifecycle records from `from` on, as a timeline per stage and run; the next position, and true when every
/// frame is intact.
fn lifecycle(dir: &Path, from: u64, timeline: &mut Timeline, follow: bool) -> Result<(u64, bool), String> {
    let mut next = from;
    let segments = scan::<LifecycleRecord>(dir, Format::Postcard, from, |position, record| {
        next = position + 1;
        if let Ok(r) = record {
            timeline.add(&r, follow);
        }
    })
    .map_err(|e| e.to_string())?;
    let mut intact = true;
    if !follow {
        intact = verify("lifecycle", &segments);
        println!("lifecycle timeline ({} run(s)), per stage:", timeline.runs);
        for (name, runs) in &timeline.lines {
            let runs: Vec<String> = runs.iter().map(|(run, what)| format!("run {run}: {what}")).collect();
            println!("  {name}: {}", runs.join("; "));
        }
    }
    Ok((next, intact))
}

/// The error records from `from` on, counted by kind; those of `kind` printed. The next position, and true when
/// every frame is intact.
fn errors(dir: &Path, from: u64, kind: Option<&str>, limit: usize, follow: bool) -> Result<(u64, bool), String> {
    let mut next = from;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut shown = 0;
    let segments = scan::<ErrorRecord>(dir, Format::Postcard, from, |position, record| {
        next = position + 1;
        let Ok(r) = record else { return };
        let k = format!("{:?}", r.kind);
        *counts.entry(k.clone()).or_default() += 1;
        if kind.is_some_and(|want| want == "all" || want == k.to_lowercase()) && (follow || shown < limit) {
            shown += 1;
            println!("  #{position} {} ({}) [{k}] {}", r.context.name, r.id.writer, r.message);
        }
    })
    .map_err(|e| e.to_string())?;
    let mut intact = true;
    if !follow {
        intact = verify("errors", &segments);
        let by_kind: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        println!("error records by kind: {}", if by_kind.is_empty() { "none".into() } else { by_kind.join(", ") });
    }
    Ok((next, intact))
}

fn run(args: &Args) -> Result<bool, String> {
    if !args.dir.is_dir() {
        return Err(format!("{} is not a folder (a pipeline's folder is needed)", args.dir.display()));
    }
    let journals = ["stage-0", "lifecycle", "errors", "checkpoints"];
    if !journals.iter().any(|name| args.dir.join(name).is_dir()) {
        return Err(format!(
            "{} holds no pipeline journals (none of {}): give the folder of a run (access_log --durable DIR)",
            args.dir.display(),
            journals.join(", ")
        ));
    }
    println!("journals in {}", args.dir.display());
    let mut intact = links(&args.dir);
    let mut timeline = Timeline::default();
    let lifecycle_dir = args.dir.join("lifecycle");
    let errors_dir = args.dir.join("errors");
    let mut lifecycle_next = 0;
    if lifecycle_dir.is_dir() {
        match lifecycle(&lifecycle_dir, 0, &mut timeline, false) {
            Ok((next, ok)) => (lifecycle_next, intact) = (next, intact & ok),
            Err(e) => intact &= unreadable("lifecycle", &e),
        }
    }
    let mut errors_next = 0;
    if errors_dir.is_dir() {
        if let Some(kind) = &args.errors {
            println!("error records ({kind}, at most {}):", args.limit);
        }
        match errors(&errors_dir, 0, args.errors.as_deref(), args.limit, false) {
            Ok((next, ok)) => (errors_next, intact) = (next, intact & ok),
            Err(e) => intact &= unreadable("errors", &e),
        }
    }
    if args.follow {
        println!("following (Ctrl-C ends):");
        loop {
            std::thread::sleep(Duration::from_millis(500));
            if lifecycle_dir.is_dir() {
                lifecycle_next = lifecycle(&lifecycle_dir, lifecycle_next, &mut timeline, true)?.0;
            }
            if errors_dir.is_dir() {
                errors_next = errors(&errors_dir, errors_next, args.errors.as_deref().or(Some("all")), 0, true)?.0;
            }
            for (i, path) in stage_links(&args.dir) {
                let scan = link(&path)?;
                let at = scan.last.map_or(0, |(input, _)| input);
                println!("  stage-{i}: {} records, writer at input {at}", scan.end);
            }
        }
    }
    Ok(intact)
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("journal_inspect: {why}");
            }
            eprintln!("usage: journal_inspect DIR [--errors KIND|all] [--limit N] [--follow]");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!("DAMAGE: see above (segment and byte offset of each damaged record, or the journal that cannot be read)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("journal_inspect: {e}");
            ExitCode::FAILURE
        }
    }
}
