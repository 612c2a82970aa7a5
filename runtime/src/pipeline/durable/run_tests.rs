//! Tests of the run folder: starting over deletes a run and nothing else, never a run another process is using, and
//! a run missing a part it had is refused; starting over never deletes a folder beside the run.

use std::fs;
use std::io;

use super::*;

#[test]
fn starting_over_refuses_a_run_folder_holding_files_the_run_did_not_create() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("RUN-STARTED"), "").unwrap();
    fs::write(dir.path().join("mydata.txt"), "x").unwrap();
    let refused = RunFolder::open(dir.path(), true).unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
    assert!(refused.to_string().contains("mydata.txt"), "names what is not the run's: {refused}");
    assert_eq!(fs::read_to_string(dir.path().join("mydata.txt")).unwrap(), "x", "nothing deleted");
    assert!(dir.path().join("RUN-STARTED").exists(), "nothing deleted");
}

#[test]
fn starting_over_deletes_every_entry_a_run_creates() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    run.parts(&["checkpoints/aggregate", "errors", "lifecycle", "stage-0", "stage-12"]).unwrap();
    run.writes(&run.outputs().join("out.csv")).unwrap();
    fs::create_dir_all(run.outputs()).unwrap();
    run.finish().unwrap();
    drop(run);
    let (_run, status) = RunFolder::open(dir.path(), true).unwrap();
    assert_eq!(status, RunStatus::New);
    let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["RUN-STARTED"], "only the new run's mark");
}

#[test]
fn starting_over_a_run_another_holder_is_using_is_refused_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = RunFolder::open(dir.path(), false).unwrap();
    live.parts(&["errors"]).unwrap();
    let refused = RunFolder::open(dir.path(), true).unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::WouldBlock, "{refused}");
    assert!(dir.path().join("errors").is_dir() && dir.path().join("RUN-STARTED").exists(), "nothing deleted");
}

#[test]
fn a_file_is_not_taken_for_a_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run");
    fs::write(&file, "x").unwrap();
    let refused = RunFolder::open(&file, false).unwrap_err();
    assert!(refused.to_string().contains("is a file, not a folder"), "{refused}");
}

#[test]
fn a_run_missing_a_part_it_had_is_refused_until_started_over() {
    let dir = tempfile::tempdir().unwrap();
    let parts = ["checkpoints/aggregate", "errors"];
    let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    run.parts(&parts).unwrap();
    drop(run);
    fs::remove_dir_all(dir.path().join("checkpoints")).unwrap();
    let (run, status) = RunFolder::open(dir.path(), false).unwrap();
    assert_eq!(status, RunStatus::Interrupted);
    let missing = run.parts(&parts).unwrap_err();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    assert!(missing.to_string().contains("missing checkpoints/aggregate") && missing.to_string().contains("--fresh"));
    assert!(!dir.path().join("checkpoints").exists(), "nothing re-created");
    drop(run);
    let (run, status) = RunFolder::open(dir.path(), true).unwrap();
    assert_eq!(status, RunStatus::New);
    run.parts(&parts).unwrap();
}

#[test]
fn a_run_writes_one_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    let csv = dir.path().join("a.csv");
    run.writes(&csv).unwrap();
    drop(run);
    let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    run.writes(&csv).unwrap();
    let other = run.writes(&dir.path().join("b.csv")).unwrap_err();
    assert!(other.to_string().contains("a.csv") && other.to_string().contains("b.csv"), "both named: {other}");
}

#[test]
fn a_moved_run_resumes_writing_its_own_output_and_one_file_matches_however_it_is_spelled() {
    let parent = tempfile::tempdir().unwrap();
    let (run, _) = RunFolder::open(parent.path().join("a"), false).unwrap();
    fs::create_dir_all(run.outputs()).unwrap();
    run.writes(&run.outputs().join("out.csv")).unwrap();
    fs::write(run.outputs().join("out.csv"), "rows").unwrap();
    drop(run);
    fs::rename(parent.path().join("a"), parent.path().join("b")).unwrap();
    let (run, status) = RunFolder::open(parent.path().join("b"), false).unwrap();
    assert_eq!(status, RunStatus::Interrupted);
    run.writes(&run.outputs().join("out.csv")).expect("the moved run's own output");
    let spelled = parent.path().join("b").join("output").join("..").join("output").join("out.csv");
    run.writes(&spelled).expect("the same file spelled with ..");
    let other = run.writes(&parent.path().join("a").join("output").join("out.csv")).unwrap_err();
    assert!(other.to_string().contains("b/output/out.csv"), "names the file the run writes: {other}");
}

#[test]
fn starting_over_refuses_a_run_whose_journal_folders_hold_a_users_file_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    run.parts(&["stage-0", "checkpoints/aggregate", "errors"]).unwrap();
    drop(run);
    for (folder, file) in [("stage-0", "notes.txt"), ("checkpoints/aggregate", "keep.me")] {
        fs::write(dir.path().join(folder).join(file), "precious").unwrap();
        let refused = RunFolder::open(dir.path(), true).unwrap_err();
        assert!(refused.to_string().contains(&format!("{folder}/{file}")), "names the file: {refused}");
        assert_eq!(fs::read_to_string(dir.path().join(folder).join(file)).unwrap(), "precious");
        assert!(dir.path().join("RUN-STARTED").exists(), "nothing deleted");
        fs::remove_file(dir.path().join(folder).join(file)).unwrap();
    }
    let (_run, status) = RunFolder::open(dir.path(), true).unwrap();
    assert_eq!(status, RunStatus::New, "a run of journal files only starts over");
}

#[test]
fn starting_over_leaves_a_folder_beside_the_run_alone_whatever_its_name() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("run");
    let (run, _) = RunFolder::open(&dir, false).unwrap();
    run.parts(&["errors"]).unwrap();
    drop(run);
    // Folders a user may have beside the run, named like the trash of an earlier implementation or of this one.
    for beside in ["run.deleting", &format!("run.deleting-{}-0", std::process::id())] {
        fs::create_dir_all(parent.path().join(beside)).unwrap();
        fs::write(parent.path().join(beside).join("mydata.txt"), "precious").unwrap();
    }
    // Written as tab completion gives it: the trash goes beside the run, not inside it.
    let mut spelled = dir.as_os_str().to_owned();
    spelled.push("/");
    let (_run, status) = RunFolder::open(std::path::Path::new(&spelled), true).unwrap();
    assert_eq!(status, RunStatus::New);
    for beside in ["run.deleting", &format!("run.deleting-{}-0", std::process::id())] {
        let kept = fs::read_to_string(parent.path().join(beside).join("mydata.txt")).unwrap();
        assert_eq!(kept, "precious", "{beside} is not the run's");
    }
    let mut left: Vec<_> = fs::read_dir(parent.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left.len(), 3, "the run and the two folders beside it, no trash left: {left:?}");
}
