//! The crash test that defines durable links done: `access_log --durable DIR` on generated lines is killed at
//! random moments, again and again, and restarted on the same folder each time until it finishes; the final CSV must
//! be byte-identical to an uninterrupted in-memory run's, the error journal must hold each malformed line exactly
//! once (the same records, ids included, as the uninterrupted run's), and in = out + errors.
//!
//! Kills: most are SIGKILL after a random delay, landing while the run reads its folder and resumes, in the middle
//! of batches, while a segment rolls (segments of 64 KiB hold about one batch, so nearly every append starts a new
//! one) and while checkpoints are saved (one per batch); every fifth run instead aborts itself at an exact point
//! (`ACCESS_LOG_CRASH_AT`): after a batch's rows and errors are written but before they are flushed, after they are
//! flushed but before the checkpoint that accounts for them is saved, or after it is saved.
//!
//! The same boundaries one at a time, on 20,000 lines: a crash before the rows of a batch are flushed, after they are
//! flushed but before the checkpoint that accounts for them, and after that checkpoint is saved.
//!
//! CI size: 200,000 lines and at least 50 kills. The full size:
//! `DURABLE_CRASH_LINES=1000000 DURABLE_CRASH_KILLS=60 cargo test --release --test durable_crash -- --nocapture`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use stagewise::journal::{FileJournal, Journal, JournalOptions};
use stagewise::pipeline::ErrorRecord;
use stagewise::{Lifecycle, LifecycleRecord};

mod example_support;
use example_support::build_example;

/// xorshift64*: deterministic kill moments without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// The child process, killed when dropped, so a failing assertion never leaves one running.
struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn durable_run(example: &Path, dir: &Path, lines: u64, crash_at: Option<String>) -> Run {
    durable_run_under(example, dir, lines, crash_at, "os")
}

/// A durable run whose journals (and, under `every-append`, CSV) are synced as `--policy` says.
fn durable_run_under(example: &Path, dir: &Path, lines: u64, crash_at: Option<String>, policy: &str) -> Run {
    let mut command = Command::new(example);
    command
        .args(["--lines", &lines.to_string(), "--policy", policy, "--durable"])
        .arg(dir.join("run"))
        .arg("--out")
        .arg(dir.join("durable.csv"))
        .args(["--segment-bytes", "65536"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap());
    if let Some(point) = crash_at {
        command.env("ACCESS_LOG_CRASH_AT", point);
    }
    Run(command.spawn().expect("start access_log"))
}

/// The lines the run prints, as they come.
fn lines_of(run: &mut Run) -> mpsc::Receiver<String> {
    let stdout = BufReader::new(run.0.stdout.take().unwrap());
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

fn finish(run: Run) -> Output {
    let mut run = run;
    let child = std::mem::replace(&mut run.0, Command::new("true").spawn().unwrap());
    child.wait_with_output().unwrap()
}

/// The record the aggregate stage resumed at, from a run's `run:` line.
fn resumed_from(stdout: &str) -> Option<u64> {
    let line = stdout.lines().find(|l| l.contains("aggregate from record"))?;
    line.rsplit("record ").next()?.trim_end_matches(')').parse().ok()
}

fn error_records(dir: &Path) -> Vec<ErrorRecord> {
    FileJournal::<ErrorRecord>::open(dir, JournalOptions::default()).unwrap().read_from(0).unwrap()
}

/// The reference: one uninterrupted run with in-memory links, into `reference.csv` and `reference/`.
fn reference_run(example: &Path, dir: &Path, lines: u64) {
    let reference = Command::new(example)
        .args(["--lines", &lines.to_string(), "--out"])
        .arg(dir.join("reference.csv"))
        .arg("--journal")
        .arg(dir.join("reference"))
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", String::from_utf8_lossy(&reference.stdout));
}

/// A run finished before the kill meant for it (the machine sped up after the delays adapted): its output is checked
/// like the last run's, then the run starts over in an empty folder with shorter delays, so the kills asked for still
/// land however the load changes.
fn start_over(dir: &Path, lines: u64, finished_early: &mut u64, max_delay_ms: &mut u64) {
    *finished_early += 1;
    assert_same_as_reference(dir, lines);
    std::fs::remove_dir_all(dir.join("run")).unwrap();
    std::fs::remove_file(dir.join("durable.csv")).unwrap();
    *max_delay_ms = (*max_delay_ms / 2).max(10);
}

/// The durable run's CSV is byte-identical to the reference's, its error journal holds the same records (each
/// malformed line once, ids included), and in = out + errors. Returns the reference's CSV and error records.
fn assert_same_as_reference(dir: &Path, lines: u64) -> (Vec<u8>, Vec<ErrorRecord>) {
    let expected = std::fs::read(dir.join("reference.csv")).unwrap();
    let actual = std::fs::read(dir.join("durable.csv")).unwrap();
    assert!(
        expected == actual,
        "the CSV differs from the uninterrupted run's ({} vs {} bytes)",
        actual.len(),
        expected.len()
    );
    let expected_errors = error_records(&dir.join("reference").join("errors"));
    let actual_errors = error_records(&dir.join("run").join("errors"));
    assert_eq!(actual_errors.len(), expected_errors.len(), "each malformed line once");
    assert!(actual_errors == expected_errors, "the same error records, ids included, in the same order");
    let hits: u64 = String::from_utf8_lossy(&actual)
        .lines()
        .skip(1)
        .map(|row| row.split(',').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(hits + actual_errors.len() as u64, lines, "in = out + errors");
    (expected, expected_errors)
}

/// The run aborts itself at `phase` of the aggregate stage's 5th checkpoint; the next run must resume from the
/// checkpoint `resumes_at` (the aggregate's input position it records) and finish with the reference's output.
fn crash_at_a_checkpoint_boundary(phase: &str, resumes_at: u64, policy: &str) {
    let lines = 20_000;
    let example = build_example("access_log", &[]);
    let dir = tempfile::tempdir().unwrap();
    reference_run(&example, dir.path(), lines);
    let crashed = finish(durable_run_under(&example, dir.path(), lines, Some(format!("{phase}:5")), policy));
    assert_eq!(crashed.status.code(), None, "the run aborted itself at {phase}:5");
    let resumed = finish(durable_run_under(&example, dir.path(), lines, None, policy));
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(resumed.status.success(), "{stdout}");
    assert_eq!(resumed_from(&stdout), Some(resumes_at), "{stdout}");
    assert!(stdout.contains("in = out + errors: yes"), "{stdout}");
    assert_same_as_reference(dir.path(), lines);
}

#[test]
fn the_aggregate_crashed_before_its_rows_are_durable_resumes_from_the_checkpoint_before() {
    crash_at_a_checkpoint_boundary("batch", 4, "os");
}

#[test]
fn the_aggregate_crashed_after_its_rows_but_before_its_checkpoint_writes_them_once() {
    crash_at_a_checkpoint_boundary("checkpoint", 4, "os");
}

/// Under `every-append` the CSV and the error journal are synced before each checkpoint (their sync runs between
/// the flush and the checkpoint, where this crash lands).
#[test]
fn synced_outputs_crashed_before_the_checkpoint_resume_the_same() {
    crash_at_a_checkpoint_boundary("checkpoint", 4, "every-append");
}

#[test]
fn the_aggregate_crashed_after_its_checkpoint_resumes_just_past_it() {
    crash_at_a_checkpoint_boundary("saved", 5, "os");
}

#[test]
fn an_interrupted_run_resumed_on_another_input_is_refused_and_left_to_resume() {
    let lines = 20_000;
    let example = build_example("access_log", &[]);
    let dir = tempfile::tempdir().unwrap();
    reference_run(&example, dir.path(), lines);
    let crashed = finish(durable_run(&example, dir.path(), lines, Some("checkpoint:3".to_owned())));
    assert_eq!(crashed.status.code(), None, "the run aborted itself");
    let other = finish(durable_run(&example, dir.path(), lines / 2, None));
    let stderr = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(!other.status.success(), "a run on half the lines is refused");
    assert!(stderr.contains("was started on a generated log of 20000 lines, not on"), "{stderr}");
    let resumed = finish(durable_run(&example, dir.path(), lines, None));
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stdout));
    assert_same_as_reference(dir.path(), lines);
}

#[test]
fn killed_at_random_moments_and_resumed_the_output_equals_an_uninterrupted_run() {
    let lines = env_or("DURABLE_CRASH_LINES", 200_000);
    let kills = env_or("DURABLE_CRASH_KILLS", 50);
    let started = Instant::now();
    let example = build_example("access_log", &[]);
    let dir = tempfile::tempdir().unwrap();

    reference_run(&example, dir.path(), lines);
    let reference_secs = started.elapsed().as_secs_f64();

    let mut rng = Rng(0x5eed_d00a_b1e5_0001);
    // Delays start short and adapt to how fast runs go on this machine (its load varies), so each run gets about
    // its share of the records and the kills spread over the whole run.
    let mut max_delay_ms = 20;
    // Kill, restart, kill...
    let records = lines.div_ceil(512);
    let share = (records / (kills + kills / 2)).max(1);
    let adapt = |resumed_at: &[u64], max_delay_ms: &mut u64| {
        if let [.., before, last] = resumed_at {
            let moved = last.saturating_sub(*before);
            if moved < share / 2 {
                *max_delay_ms = (*max_delay_ms * 3 / 2).min(5_000);
            } else if moved > share * 2 {
                *max_delay_ms = (*max_delay_ms / 2).max(10);
            }
        }
    };
    let (mut sigkills, mut aborts, mut finished_early, mut runs) = (0u64, 0u64, 0u64, 0u64);
    let mut resumed_at = Vec::new();
    while sigkills + aborts < kills {
        runs += 1;
        assert!(runs < kills * 4, "runs keep finishing before they are killed");
        if runs % 5 == 0 {
            let point = format!(
                "{}:{}",
                ["batch", "checkpoint", "saved"][(runs / 5 % 3) as usize],
                1 + rng.next() % share.max(2)
            );
            let output = finish(durable_run(&example, dir.path(), lines, Some(point)));
            if output.status.success() {
                start_over(dir.path(), lines, &mut finished_early, &mut max_delay_ms);
                continue;
            }
            assert_eq!(output.status.code(), None, "the run aborted itself: killed by a signal");
            aborts += 1;
            resumed_at.extend(resumed_from(&String::from_utf8_lossy(&output.stdout)));
            continue;
        }
        let mut run = durable_run(&example, dir.path(), lines, None);
        let stdout = lines_of(&mut run);
        // One kill in five lands while the run starts up (opening its folder, recovering journals, resuming); the
        // others once the pipeline runs, spread over the time a run would take.
        let mut seen = String::new();
        if runs % 5 != 1 {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !seen.contains("stages:") {
                let line = stdout.recv_timeout(deadline.saturating_duration_since(Instant::now()));
                if seen.contains("holds a finished run") {
                    break;
                }
                let line = line.unwrap_or_else(|e| {
                    let stderr = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
                    panic!("run {runs} did not start its pipeline ({e}): {seen}\n{stderr}")
                });
                seen.push_str(&line);
                seen.push('\n');
            }
        }
        if seen.contains("holds a finished run") {
            start_over(dir.path(), lines, &mut finished_early, &mut max_delay_ms);
            continue;
        }
        let resumed = resumed_from(&seen);
        if let Some(at) = resumed {
            resumed_at.push(at);
            adapt(&resumed_at, &mut max_delay_ms);
        }
        thread::sleep(Duration::from_millis(rng.next() % max_delay_ms));
        if run.0.try_wait().unwrap().is_some_and(|status| status.success()) {
            drop(run);
            start_over(dir.path(), lines, &mut finished_early, &mut max_delay_ms);
            continue;
        }
        run.0.kill().expect("SIGKILL the run");
        run.0.wait().unwrap();
        sigkills += 1;
        seen.extend(stdout.iter().map(|line| line + "\n"));
        if resumed.is_none() {
            resumed_at.extend(resumed_from(&seen));
        }
    }
    // Restart until it finishes. (A run that finished before its kill was checked and started over, so the last
    // folder has been killed at least once.)
    let output = finish(durable_run(&example, dir.path(), lines, None));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the last run finishes: {stdout}");
    resumed_at.extend(resumed_from(&stdout));
    eprintln!(
        "{lines} lines: {sigkills} SIGKILLs and {aborts} self-aborts over {runs} runs in {:.1} s \
         (an uninterrupted run: {reference_secs:.1} s); {finished_early} finished before its kill; the aggregate \
         stage resumed at records {resumed_at:?} of {records}",
        started.elapsed().as_secs_f64()
    );
    // Runs go faster or slower with the machine's load, and the delays adapt after the fact: ask for kills past the
    // first eighth of the records, not an even spread.
    let furthest = resumed_at.iter().copied().max().unwrap_or(0);
    assert!(furthest > records / 8, "the kills spread over the run, not only its start: {resumed_at:?}");
    assert!(sigkills + aborts >= kills.min(50), "at least 50 kills landed");

    let (expected, expected_errors) = assert_same_as_reference(dir.path(), lines);
    assert!(stdout.contains("in = out + errors: yes"), "{stdout}");

    // The lifecycle journal shows every run that got as far as starting the pipeline, and one that completed.
    let lifecycle: Vec<LifecycleRecord> =
        FileJournal::open(dir.path().join("run").join("lifecycle"), JournalOptions::default())
            .unwrap()
            .read_from(0)
            .unwrap();
    let pipeline = |want: fn(&Lifecycle) -> bool| {
        lifecycle.iter().filter(|r| r.supervisor == "access_log" && want(&r.lifecycle)).count()
    };
    assert!(pipeline(|l| *l == Lifecycle::Started) > 1, "interrupted runs and the resumed one are recorded");
    assert_eq!(pipeline(|l| *l == Lifecycle::Completed), 1, "one run completed");

    // Run again: it says the run is finished and leaves everything as it is.
    let again = finish(durable_run(&example, dir.path(), lines, None));
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("holds a finished run"));
    assert!(std::fs::read(dir.path().join("durable.csv")).unwrap() == expected);

    // The inspection tool verifies every frame, shows every reader caught up and the interrupted runs.
    let inspect = build_example("journal_inspect", &[]);
    let report = Command::new(&inspect)
        .arg(dir.path().join("run"))
        .args(["--errors", "parse", "--limit", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(report.status.success(), "{text}");
    assert!(text.contains("consumer stage-1: at ") && text.contains("lag 0 records"), "{text}");
    assert!(text.contains("(checkpoint, finished)"), "{text}");
    assert!(text.contains("no end recorded"), "the interrupted runs show: {text}");
    assert!(text.contains(&format!("error records by kind: Parse: {}", expected_errors.len())), "{text}");
    assert!(!text.contains("DAMAGED"), "{text}");

    // A flipped byte in the error journal is reported with its segment and offset.
    let segment = std::fs::read_dir(dir.path().join("run").join("errors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&segment, bytes).unwrap();
    let report = Command::new(&inspect).arg(dir.path().join("run")).output().unwrap();
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(!report.status.success(), "damage fails the check: {text}");
    let name = segment.file_name().unwrap().to_string_lossy().into_owned();
    assert!(text.contains(&format!("errors: DAMAGED in {name} at byte ")), "{text}");
}
