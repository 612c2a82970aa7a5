//! `access_log --durable DIR` given a run folder that is not as the run left it: a CSV cut short or gone, another
//! `--out`, a deleted error journal or checkpoints, a folder that is not a run's, a file, a run another process is
//! using. Each is refused with what happened and what to do, and nothing is written; none is reported as success.
//! And `journal_inspect` on such folders: every journal verified, the checkpoints' included.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stagewise::pipeline::durable::RunFolder;

mod example_support;
use example_support::build_example;

const LINES: &str = "20000";

fn access_log(dir: &Path, extra: &[&str], crash_at: Option<&str>) -> Output {
    let mut command = Command::new(build_example("access_log", &[]));
    command.args(["--lines", LINES, "--segment-bytes", "65536", "--durable"]).arg(dir).args(extra);
    if let Some(point) = crash_at {
        command.env("ACCESS_LOG_CRASH_AT", point);
    }
    command.output().expect("run access_log")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A run in `root/run` that aborted itself just after its 3rd checkpoint, writing the default CSV; returns the run
/// folder and the CSV.
fn interrupted(root: &Path) -> (PathBuf, PathBuf) {
    let run = root.join("run");
    let crashed = access_log(&run, &[], Some("saved:3"));
    assert_eq!(crashed.status.code(), None, "the run aborted itself: {}", text(&crashed));
    let csv = run.join("output").join("per-minute.csv");
    assert!(csv.exists(), "the default CSV is in the run folder: {}", text(&crashed));
    (run, csv)
}

#[test]
fn a_csv_shorter_than_the_checkpoint_is_refused_never_extended() {
    let root = tempfile::tempdir().unwrap();
    let (run, csv) = interrupted(root.path());
    let full = std::fs::read(&csv).unwrap();
    // Another run's rows over it, as long or longer: the bytes differ from what the run wrote.
    let mut other = full.clone();
    let middle = other.len() / 2;
    other[middle] = if other[middle] == b'7' { b'8' } else { b'7' };
    other.extend_from_slice(b"2026-11-26T00:00,200,/,1,100\n");
    std::fs::write(&csv, &other).unwrap();
    let resumed = access_log(&run, &[], None);
    let said = text(&resumed);
    assert!(!resumed.status.success() && said.contains("differ from what the run wrote"), "{said}");
    assert_eq!(std::fs::read(&csv).unwrap(), other, "left as it was");
    std::fs::write(&csv, &full).unwrap();

    let cut = &full[..full.len() / 2];
    std::fs::write(&csv, cut).unwrap();
    let resumed = access_log(&run, &[], None);
    let said = text(&resumed);
    assert!(!resumed.status.success(), "{said}");
    assert!(said.contains("cannot resume exactly") && said.contains("--fresh"), "{said}");
    assert!(!said.contains("in = out + errors: yes"), "{said}");
    assert_eq!(std::fs::read(&csv).unwrap(), cut, "the CSV is left as it was, not extended");
    assert!(!run.join("RUN-FINISHED").exists());

    std::fs::remove_file(&csv).unwrap();
    let resumed = access_log(&run, &[], None);
    let said = text(&resumed);
    assert!(!resumed.status.success() && said.contains("the file is gone"), "{said}");
    assert!(!csv.exists(), "not re-created empty");

    let fresh = access_log(&run, &["--fresh"], None);
    assert!(fresh.status.success(), "{}", text(&fresh));
    assert!(!std::fs::read(&csv).unwrap().contains(&0), "no NUL in the CSV");
}

#[test]
fn resuming_with_another_out_is_refused_naming_both_files() {
    let root = tempfile::tempdir().unwrap();
    let (run, csv) = interrupted(root.path());
    let before = std::fs::read(&csv).unwrap();
    let other = root.path().join("nowhere").join("k2b.csv");
    let resumed = access_log(&run, &["--out", other.to_str().unwrap()], None);
    let said = text(&resumed);
    assert!(!resumed.status.success(), "{said}");
    assert!(said.contains(&*csv.to_string_lossy()) && said.contains("k2b.csv"), "both named: {said}");
    assert_eq!(std::fs::read(&csv).unwrap(), before);
    let resumed = access_log(&run, &[], None);
    assert!(resumed.status.success(), "the right file resumes: {}", text(&resumed));
}

#[test]
fn a_run_missing_its_error_journal_or_checkpoints_is_refused_up_front() {
    for part in ["errors", "checkpoints", "stage-1"] {
        let root = tempfile::tempdir().unwrap();
        let (run, csv) = interrupted(root.path());
        let before = std::fs::read(&csv).unwrap();
        std::fs::remove_dir_all(run.join(part)).unwrap();
        let resumed = access_log(&run, &[], None);
        let said = text(&resumed);
        assert!(!resumed.status.success(), "{said}");
        assert!(said.contains(&format!("is missing {part}")) && said.contains("--fresh"), "{said}");
        assert!(!said.contains("in = out + errors"), "refused before running: {said}");
        assert_eq!(std::fs::read(&csv).unwrap(), before, "the CSV is not touched");
    }
}

#[test]
fn fresh_deletes_a_run_and_nothing_else() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("e2");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("RUN-STARTED"), "").unwrap();
    std::fs::write(dir.join("mydata.txt"), "x").unwrap();
    let fresh = access_log(&dir, &["--fresh"], None);
    let said = text(&fresh);
    assert!(!fresh.status.success() && said.contains("mydata.txt"), "{said}");
    assert_eq!(std::fs::read_to_string(dir.join("mydata.txt")).unwrap(), "x");
}

#[test]
fn folders_that_are_not_a_run_and_runs_in_use_are_refused_saying_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let other = root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "x").unwrap();
    let said = text(&access_log(&other, &[], None));
    assert!(said.contains("holds files but no run") && !said.contains("--fresh"), "{said}");

    let file = root.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let said = text(&access_log(&file, &[], None));
    assert!(said.contains("is a file, not a folder") && !said.contains("os error"), "{said}");

    let run = root.path().join("run");
    let (_live, _) = RunFolder::open(&run, false).unwrap();
    let second = access_log(&run, &[], None);
    let said = text(&second);
    assert!(!second.status.success() && said.contains("another access_log is using"), "{said}");
    let fresh = access_log(&run, &["--fresh"], None);
    assert!(!fresh.status.success() && run.join("RUN-STARTED").exists(), "{}", text(&fresh));
}

fn inspect(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(build_example("journal_inspect", &[])).args(args).output().expect("run journal_inspect")
}

#[test]
fn journal_inspect_verifies_every_journal_and_refuses_what_it_cannot_read() {
    let root = tempfile::tempdir().unwrap();
    let (run, _) = interrupted(root.path());
    let ok = inspect(&[run.as_os_str()]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("checkpoints/aggregate: "), "checkpoints verified: {}", text(&ok));

    let missing = inspect(&[root.path().join("nothing").as_os_str()]);
    assert!(!missing.status.success() && text(&missing).contains("not a folder"), "{}", text(&missing));
    // A folder that is not a run (here: the folder holding the run) is refused, not reported as intact and empty.
    let not_a_run = inspect(&[root.path().as_os_str()]);
    let said = text(&not_a_run);
    assert!(!not_a_run.status.success() && said.contains("holds no pipeline journals"), "{said}");
    let bogus = inspect(&[run.as_os_str(), "--errors".as_ref(), "Bogus".as_ref()]);
    assert!(!bogus.status.success() && text(&bogus).contains("Parse, Validation"), "{}", text(&bogus));

    // A file that is not a segment, in a link: reported, and the report goes on to the other journals.
    std::fs::write(run.join("stage-0").join("notes.txt"), "x").unwrap();
    let foreign = inspect(&[run.as_os_str()]);
    let said = text(&foreign);
    assert!(!foreign.status.success() && said.contains("stage-0: CANNOT BE READ"), "{said}");
    assert!(said.contains("lifecycle timeline") && said.contains("error records by kind"), "goes on: {said}");
    std::fs::remove_file(run.join("stage-0").join("notes.txt")).unwrap();

    // A damaged checkpoint: found by the tool, and named with its folder by access_log.
    let folder = run.join("checkpoints").join("aggregate");
    let segment = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    let at = bytes.len() / 4;
    bytes[at] ^= 0x5a;
    std::fs::write(&segment, bytes).unwrap();
    let damaged = inspect(&[run.as_os_str()]);
    let said = text(&damaged);
    assert!(!damaged.status.success() && said.contains("checkpoints/aggregate: DAMAGED"), "{said}");
    let resumed = access_log(&run, &[], None);
    let said = text(&resumed);
    assert!(!resumed.status.success(), "{said}");
    assert!(said.contains(&*folder.to_string_lossy()), "the folder is named: {said}");
}

#[test]
fn a_run_stopped_by_ctrl_c_says_its_figures_come_when_it_finishes_instead_of_zeros() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let root = tempfile::tempdir().unwrap();
    let mut run = Command::new(build_example("access_log", &[]))
        .args(["--lines", "50000000", "--durable"])
        .arg(root.path().join("run"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first progress line comes from the loop that also waits for Ctrl-C: its handler is in place by then.
    let stderr = BufReader::new(run.stderr.take().unwrap());
    let mut lines = stderr.lines().map_while(Result::ok);
    let progress = lines.by_ref().find(|line| line.starts_with("progress:"));
    let interrupt = Command::new("kill").args(["-INT", &run.id().to_string()]).status();
    if progress.is_none() || !interrupt.as_ref().is_ok_and(|s| s.success()) {
        let _ = run.kill();
        let _ = run.wait();
        panic!("the run reports progress ({progress:?}) and takes Ctrl-C ({interrupt:?})");
    }
    std::thread::spawn(move || lines.for_each(drop));
    let output = run.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{said}");
    assert!(said.contains("figures (hits, rows, statuses, top paths) come when the run finishes"), "{said}");
    assert!(!said.contains("0 hits aggregated into 0 rows"), "{said}");
}
