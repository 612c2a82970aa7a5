//! Tests of durable links and checkpoints after the damage a crash leaves in their files: a segment roll cut short,
//! a torn last record, a checkpoint torn while it was being saved.

use std::path::{Path, PathBuf};

use crate::journal::Journal;

use super::tests::{assert_doubled, links, options, resumed_double, source, SEGMENT_BYTES};
use super::*;

/// The segment files of the journal in `dir`, oldest first.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    files.sort();
    files
}

/// Leaves the journal in `dir` as a crash in the middle of a segment roll does: a next segment, named for the
/// journal's next position, holding part of its header only.
fn cut_a_roll_short(dir: &Path) {
    let records = crate::journal::FileJournal::<LinkRecord<u64>>::open(dir, options(SEGMENT_BYTES)).unwrap().len();
    let last = segments(dir).pop().expect("a segment");
    let name = last.file_name().unwrap().to_string_lossy().into_owned();
    let digits = name.len() - ".seg".len();
    let header = std::fs::read(&last).unwrap();
    std::fs::write(dir.join(format!("{records:0digits$}.seg")), &header[..11]).unwrap();
}

/// Cuts the last `bytes` bytes off the newest segment of the journal in `dir`: a record torn by a crash.
fn tear_the_tail(dir: &Path, bytes: u64) {
    let last = segments(dir).pop().expect("a segment");
    let file = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len - bytes).unwrap();
}

#[tokio::test]
async fn links_cut_mid_segment_roll_or_mid_record_resume_without_loss_or_repeat() {
    let total = 1000;
    for (torn, case) in [(false, "a segment roll cut short"), (true, "a record torn at the tail")] {
        let dir = tempfile::tempdir().unwrap();
        let first = links(dir.path(), LinkPolicy::default());
        assert!(!source(&first.open::<u64>(0).unwrap().outlet(), total, 60).await, "the source stopped half-way");
        drop(first);
        assert!(!resumed_double(dir.path(), 40, false).await, "the transform stopped half-way");
        for index in [0, 1] {
            let folder = stage_folder(dir.path(), index);
            assert!(segments(&folder).len() > 1, "records span several segments");
            if torn {
                tear_the_tail(&folder, 7);
            } else {
                cut_a_roll_short(&folder);
            }
        }
        let mut runs = 0;
        loop {
            runs += 1;
            assert!(runs < 100, "the source never finished: {case}");
            let again = links(dir.path(), LinkPolicy::default());
            if source(&again.open::<u64>(0).unwrap().outlet(), total, 30).await {
                break;
            }
        }
        while !resumed_double(dir.path(), 25, false).await {
            runs += 1;
            assert!(runs < 200, "the transform never finished: {case}");
        }
        assert_doubled(dir.path(), total, case);
    }
}

/// Saves checkpoints 1..=`last` (input n, state n eight times) in `dir`, in small segments, and closes them.
async fn save_checkpoints(dir: &Path, last: u64) {
    let checkpoints = Checkpoints::<Vec<u32>>::open(dir, options(512)).unwrap();
    for input in 1..=last {
        checkpoints.save(Checkpoint { input, finished: false, state: vec![input as u32; 8] }).await.unwrap();
    }
}

#[tokio::test]
async fn a_checkpoint_torn_while_it_was_saved_leaves_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    save_checkpoints(dir.path(), 40).await;
    // The 40th checkpoint's frame loses its last bytes: the crash came while it was written.
    tear_the_tail(dir.path(), 3);
    let reopened = Checkpoints::<Vec<u32>>::open(dir.path(), options(512)).unwrap();
    let last = reopened.latest().unwrap().expect("an intact checkpoint");
    assert_eq!((last.input, last.state), (39, vec![39; 8]), "the one before the torn checkpoint");
    // Saving goes on after it.
    reopened.save(Checkpoint { input: 40, finished: true, state: vec![40; 8] }).await.unwrap();
    assert_eq!(reopened.latest().unwrap().map(|c| (c.input, c.finished)), Some((40, true)));
}

#[tokio::test]
async fn a_checkpoint_saved_across_a_segment_roll_cut_short_is_still_found() {
    let dir = tempfile::tempdir().unwrap();
    save_checkpoints(dir.path(), 30).await;
    cut_a_roll_short(dir.path());
    let reopened = Checkpoints::<Vec<u32>>::open(dir.path(), options(512)).unwrap();
    assert_eq!(reopened.latest().unwrap().map(|c| c.input), Some(30), "the last whole checkpoint");
}
