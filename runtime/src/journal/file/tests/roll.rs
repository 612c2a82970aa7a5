//! Segment rolls: no sync runs on the appender's thread (the committer syncs the closed segment, the new one and the
//! folder before it acknowledges a record after the roll), and a power cut before that sync, which can leave a new
//! segment on disk while the end of the one before it is missing, is recovered as a torn tail, not as damage.

use super::mark::{Mark, MarkFile};
use super::*;

const COMMITTER: &str = "stagewise-journal-commit";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_roll_syncs_on_the_committer_never_on_a_tokio_worker() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), small_segments(), faults.clone()).unwrap();
    tokio::spawn(async move {
        for i in 0..12 {
            assert_eq!(journal.append_async(line(i)).await.unwrap(), i);
        }
        // Closed on the worker too: everything it holds was synced by the committer already.
        drop(journal);
    })
    .await
    .unwrap();
    assert!(segments(dir.path()).len() >= 4, "the appends rolled segments");
    let threads = faults.sync_threads();
    assert!(!threads.is_empty() && threads.iter().all(|t| t == COMMITTER), "syncs ran on {threads:?}");
    assert_eq!(
        FileJournal::<String>::open(dir.path(), small_segments()).unwrap().read_from(0).unwrap(),
        expected(0..12)
    );
}

#[test]
fn a_blocking_append_that_rolls_waits_for_the_committer_to_sync_the_closed_segment_and_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), small_segments(), faults.clone()).unwrap();
    fill(&journal, 2);
    let segs = segments(dir.path()).len();
    loop {
        let before = faults.syncs();
        fill(&journal, 1);
        if segments(dir.path()).len() > segs {
            // Returned once the closed segment, the new one and the folder were synced: by the committer.
            assert!(faults.syncs() >= before + 3, "{} syncs after {before}", faults.syncs());
            break;
        }
    }
    assert!(faults.sync_threads().iter().all(|t| t == COMMITTER), "{:?}", faults.sync_threads());
}

#[test]
fn a_flush_or_read_never_waits_behind_a_roll_whose_syncs_are_slow() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = Arc::new(FileJournal::open_with_faults(dir.path(), small_segments(), faults.clone()).unwrap());
    fill(&journal, 2);
    faults.hold_syncs();
    let before = faults.syncs();
    let appender = {
        let journal = journal.clone();
        // Segments hold two records: this append rolls, and waits for its syncs.
        std::thread::spawn(move || journal.append(line(2)))
    };
    while faults.syncs() == before {
        std::thread::yield_now();
    }
    // A sync is running (held): what durable links and checkpoints do on a worker must not wait for it.
    let (done, finished) = std::sync::mpsc::channel();
    let other = journal.clone();
    std::thread::spawn(move || {
        done.send((other.flush().is_ok(), other.len(), other.read_from(0).map(|r| r.len()).ok()))
    });
    let seen = finished.recv_timeout(Duration::from_secs(30));
    faults.heal();
    assert_eq!(seen.expect("the flush waited for the held sync"), (true, 3, Some(3)));
    assert_eq!(appender.join().unwrap().unwrap(), 2);
}

/// A journal of six records in three segments of two, closed; then its tail mark as the last sync before the third
/// segment was started would have left it (record 2 synced, in the second segment), as a power cut can.
fn rolled_after_the_mark(dir: &Path) -> Vec<PathBuf> {
    let journal = FileJournal::open(dir, small_segments()).unwrap();
    fill(&journal, 6);
    drop(journal);
    let segs = segments(dir);
    assert_eq!(segs.len(), 3, "two records a segment");
    MarkFile::new(dir, false).write(Mark { next: 3, base: 2, len: offset_of(&segs[1], 1) });
    segs
}

fn cut_to(path: &Path, len: u64) {
    OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap();
}

#[test]
fn a_power_cut_after_a_roll_leaving_the_closed_segment_short_is_a_torn_tail_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    let segs = rolled_after_the_mark(dir.path());
    let kept = offset_of(&segs[1], 1);
    cut_to(&segs[1], kept + 5);
    let later = fs::metadata(&segs[2]).unwrap().len();

    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    let recovery = journal.recovery();
    assert_eq!((&recovery.damage, &recovery.lost), (&None, &None), "{recovery:?}");
    let cut = recovery.truncated.clone().expect("the unsynced tail is reported");
    assert_eq!(cut.segment, segs[1].file_name().unwrap().to_str().unwrap());
    assert_eq!((cut.offset, cut.bytes, cut.records, cut.position), (kept, 5 + later, 2, 3), "{cut:?}");
    assert!(cut.reason.contains("00000000000000000004.seg"), "{}", cut.reason);
    assert_eq!(segments(dir.path()), segs[..2]);
    assert_eq!(journal.read_from(0).unwrap(), expected(0..3));
    assert_eq!(journal.append(line(3)).unwrap(), 3, "writable again");
    drop(journal);
    assert_eq!(FileJournal::<String>::open_default(dir.path()).unwrap().read_from(0).unwrap(), expected(0..4));
}

#[test]
fn a_power_cut_after_a_roll_leaving_records_missing_between_segments_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let segs = rolled_after_the_mark(dir.path());
    cut_to(&segs[1], offset_of(&segs[1], 1));

    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert_eq!(journal.recovery().damage, None);
    let cut = journal.recovery().truncated.clone().expect("reported");
    assert_eq!((cut.segment.as_str(), cut.offset, cut.records, cut.position), ("00000000000000000004.seg", 0, 2, 3));
    assert_eq!(journal.read_from(0).unwrap(), expected(0..3));
    assert_eq!(journal.append(line(3)).unwrap(), 3);
}

#[test]
fn a_short_closed_segment_before_the_tail_mark_is_still_damage() {
    let dir = tempfile::tempdir().unwrap();
    let segs = rolled_after_the_mark(dir.path());
    // The mark says record 2 was synced: a cut inside it lost synced data.
    cut_to(&segs[1], offset_of(&segs[1], 0) + 5);
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert!(journal.recovery().damage.is_some() && journal.recovery().truncated.is_none(), "{:?}", journal.recovery());
    assert_eq!(segments(dir.path()), segs, "nothing changed");

    // Without a mark nothing says the end was unsynced: damage as well.
    let dir = tempfile::tempdir().unwrap();
    let segs = rolled_after_the_mark(dir.path());
    fs::remove_file(dir.path().join(super::mark::NAME)).unwrap();
    cut_to(&segs[1], offset_of(&segs[1], 1) + 5);
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert!(journal.recovery().damage.is_some(), "{:?}", journal.recovery());
    assert_eq!(segments(dir.path()), segs);
}
