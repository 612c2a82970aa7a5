//! Round trips: records read back after reopen under every policy and format, across segment boundaries and from any position; followers of the tail; one open journal per folder.

use super::*;

#[test]
fn records_read_back_after_reopen_under_every_policy() {
    let policies =
        [Durability::EveryAppend, Durability::Every { records: 3, interval: Duration::from_secs(60) }, Durability::Os];
    for durability in policies {
        let dir = tempfile::tempdir().unwrap();
        let journal = FileJournal::open(dir.path(), options(durability)).unwrap();
        assert!(journal.recovery().created);
        fill(&journal, 10);
        assert_eq!(journal.read_from(0).unwrap(), expected(0..10), "{durability:?} before reopen");
        drop(journal);
        let journal = FileJournal::<String>::open(dir.path(), options(durability)).unwrap();
        assert_eq!(journal.recovery().records, 10);
        assert_eq!(journal.read_from(4).unwrap(), expected(4..10), "{durability:?} after reopen");
        assert_eq!(journal.append(line(10)).unwrap(), 10);
    }
}

#[test]
fn segments_roll_at_the_size_limit_and_read_across_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::open(dir.path(), small_segments()).unwrap();
    fill(&journal, 30);
    let files = segments(dir.path());
    assert!(files.len() > 5, "{} segments", files.len());
    for path in &files {
        assert!(fs::metadata(path).unwrap().len() <= 256 + 120, "{} too large", path.display());
    }
    for start in [0, 1, 7, 15, 29, 30, 31] {
        assert_eq!(journal.read_from(start).unwrap(), expected(start.min(30)..30), "from {start}");
    }
    drop(journal);
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert_eq!(journal.recovery().segments, files.len());
    assert_eq!(journal.read_from(0).unwrap(), expected(0..30));
}

#[test]
fn a_record_larger_than_a_segment_gets_a_segment_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::open(dir.path(), small_segments()).unwrap();
    let big = "x".repeat(1000);
    journal.append(line(0)).unwrap();
    journal.append(big.clone()).unwrap();
    journal.append(line(2)).unwrap();
    assert_eq!(journal.read_from(0).unwrap(), [line(0), big, line(2)]);
}

#[test]
fn json_journals_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let json = JournalOptions { format: Format::Json, ..JournalOptions::default() };
    fill(&FileJournal::open(dir.path(), json).unwrap(), 4);
    assert_eq!(FileJournal::<String>::open(dir.path(), json).unwrap().read_from(0).unwrap(), expected(0..4));
}

#[test]
fn reads_from_any_position_start_at_the_right_record_before_and_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = JournalOptions { segment_bytes: 40_000, ..options(Durability::Os) };
    let journal = FileJournal::open(dir.path(), opts).unwrap();
    fill(&journal, 1000);
    assert!(segments(dir.path()).len() > 2, "several segments, each with several marks");
    let check = |journal: &FileJournal<String>| {
        for start in (0..1000).step_by(7).chain([63, 64, 65, 127, 128, 999, 1000]) {
            let read: Vec<String> = journal.iter_from(start).unwrap().take(3).map(Result::unwrap).collect();
            assert_eq!(read, expected(start..(start + 3).min(1000)), "from {start}");
        }
    };
    check(&journal);
    drop(journal);
    check(&FileJournal::open(dir.path(), opts).unwrap());
}

#[tokio::test]
async fn a_subscriber_follows_the_tail_without_polling() {
    let dir = tempfile::tempdir().unwrap();
    let journal = std::sync::Arc::new(FileJournal::<String>::open_default(dir.path()).unwrap());
    let mut tail = journal.subscribe();
    let follower = {
        let journal = journal.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while seen.len() < 5 {
                tail.changed().await.unwrap();
                seen.extend(journal.read_from(seen.len() as u64).unwrap());
            }
            seen
        })
    };
    for i in 0..5 {
        journal.append(line(i)).unwrap();
        tokio::task::yield_now().await;
    }
    assert_eq!(follower.await.unwrap(), expected(0..5));
}

#[tokio::test]
async fn a_late_subscriber_sees_the_current_count_and_every_later_append() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    fill(&journal, 3);
    let mut tail = journal.subscribe();
    assert_eq!(*tail.borrow_and_update(), 3);
    journal.append(line(3)).unwrap();
    tail.changed().await.unwrap();
    assert_eq!(*tail.borrow_and_update(), 4);
}

#[test]
fn a_folder_has_one_open_journal_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = FileJournal::<String>::open_default(dir.path()).unwrap();
    let err = FileJournal::<String>::open_default(dir.path()).unwrap_err();
    assert!(matches!(err, JournalError::Unusable(ref m) if m.contains("already open")), "{err}");
    drop(first);
    FileJournal::<String>::open_default(dir.path()).expect("free again once the first is closed");
}
