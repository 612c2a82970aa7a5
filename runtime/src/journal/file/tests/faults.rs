//! A failing disk: full, permission withdrawn, syncs that fail. Every error is reported and nothing acknowledged is lost.

use super::*;

#[test]
fn disk_full_on_append_is_an_io_error_and_the_journal_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    fill(&journal, 3);
    faults.disk_full_after(10); // the next frame is written part-way, then the disk is full
    let err = journal.append(line(3)).unwrap_err();
    assert!(
        matches!(&err, JournalError::Io(e) if e.kind() == std::io::ErrorKind::StorageFull),
        "expected disk full, got {err}"
    );
    assert_eq!(journal.len(), 3, "the failed append is not counted");
    assert!(journal.append(line(3)).is_err(), "still full");
    faults.heal();
    assert_eq!(journal.append(line(3)).unwrap(), 3, "space freed: appends work again");
    drop(journal);
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    assert!(journal.recovery().truncated.is_none(), "the part-written frame was undone at once");
    assert_eq!(journal.read_from(0).unwrap(), expected(0..4));
}

#[test]
fn permission_denied_on_append_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    faults.permission_denied_after(0);
    let err = journal.append(line(0)).unwrap_err();
    assert!(matches!(&err, JournalError::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied), "{err}");
    assert_eq!(journal.len(), 0);
}

#[test]
fn disk_full_while_starting_a_segment_leaves_no_half_made_segment() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), small_segments(), faults.clone()).unwrap();
    fill(&journal, 2);
    let before = segments(dir.path());
    let mut n = journal.len();
    faults.disk_full_after(0);
    while segments(dir.path()) == before && n < 50 {
        // Each attempt fails; the one that would start a segment must not leave it behind.
        assert!(journal.append(line(n)).is_err());
        n += 1;
    }
    assert_eq!(segments(dir.path()), before);
    faults.heal();
    fill(&journal, 10);
    assert_eq!(journal.read_from(0).unwrap(), expected(0..12));
}

#[test]
fn buffered_records_survive_a_full_disk_and_are_written_once_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let opts = JournalOptions { durability: Durability::Os, buffer_bytes: 300, ..JournalOptions::default() };
    let journal = FileJournal::open_with_faults(dir.path(), opts, faults.clone()).unwrap();
    faults.disk_full_after(0);
    let mut acknowledged = 0;
    while journal.append(line(acknowledged)).is_ok() {
        acknowledged += 1;
    }
    assert!(acknowledged >= 2, "the buffer took {acknowledged} records before it had to be written");
    assert_eq!(journal.len(), acknowledged);
    faults.heal();
    assert_eq!(journal.read_from(0).unwrap(), expected(0..acknowledged), "nothing acknowledged was lost");
}

#[test]
fn a_failed_sync_refuses_further_appends_until_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    fill(&journal, 2);
    faults.fail_syncs();
    let err = journal.append(line(2)).unwrap_err();
    assert!(matches!(err, JournalError::Io(_)), "{err}");
    // The waiter gets the failed sync's I/O error, said once (it read "journal i/o error: journal i/o error: ..").
    assert_eq!(err.to_string(), "journal i/o error: Input/output error (os error 5, injected)");
    faults.heal();
    assert!(matches!(journal.append(line(2)), Err(JournalError::Unusable(m)) if m.contains("reopen")));
    drop(journal);
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    assert_eq!(journal.read_from(0).unwrap()[..2], expected(0..2));
}

#[test]
fn a_full_disk_when_the_committer_writes_buffered_records_is_not_a_failed_sync() {
    // Under `Every`, records wait in the buffer and the committer writes them before it syncs. A full disk then is a
    // failed write, as when it hits an appender's own write: the records stay buffered and the sync covers those
    // written before them. It was taken for a failed sync: the committer broke the journal ("a sync failed (No space
    // left on device)"), refusing appends until reopened, and failed appenders whose records were written.
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let every = Durability::Every { records: 1000, interval: Duration::from_secs(3600) };
    let journal = FileJournal::open_with_faults(dir.path(), options(every), faults.clone()).unwrap();
    journal.append(line(0)).unwrap();
    journal.flush().unwrap();
    journal.append(line(1)).unwrap();
    faults.disk_full_after(0);
    let point =
        super::super::commit::Source::sync_point(&*journal.shared).expect("a failed write is not a failed sync");
    assert_eq!(point.upto, 1, "the sync covers the written record, not the buffered one");
    assert!(point.mark.is_none(), "no tail mark while records wait in the buffer");
    faults.heal();
    assert_eq!(journal.append(line(2)).unwrap(), 2, "space returned: the journal takes appends");
    journal.sync().unwrap();
    assert_eq!(journal.read_from(0).unwrap(), expected(0..3), "the buffered record was written once space returned");
}

#[test]
fn a_sync_in_progress_holds_no_appender() {
    // `FileJournal::sync` on a blocking thread (the main example syncs its error journal so before each checkpoint)
    // while stages append from tokio workers: the sync ran under the journal's lock, so every append, even one that
    // waits for no sync, waited for the `fdatasync` on whatever worker called it.
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let every = Durability::Every { records: 1000, interval: Duration::from_secs(3600) };
    let journal = Arc::new(FileJournal::open_with_faults(dir.path(), options(every), faults.clone()).unwrap());
    journal.append(line(0)).unwrap();
    faults.hold_syncs();
    let syncing = std::thread::spawn({
        let journal = journal.clone();
        move || journal.sync()
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60); // hang guard only
    while faults.syncs() == 0 {
        assert!(std::time::Instant::now() < deadline, "the sync never started");
        std::thread::yield_now();
    }
    let (sent, appended) = std::sync::mpsc::channel();
    std::thread::spawn({
        let journal = journal.clone();
        move || sent.send(journal.append(line(1)).map_err(|e| e.to_string()))
    });
    let append = appended.recv_timeout(Duration::from_secs(30)); // hang guard only
    faults.heal();
    assert_eq!(append, Ok(Ok(1)), "an append that waits for no sync waited for a sync in progress");
    syncing.join().unwrap().unwrap();
    assert_eq!(journal.read_from(0).unwrap(), expected(0..2));
}

#[test]
fn a_full_disk_at_any_byte_of_whole_page_writes_keeps_every_acknowledged_record_and_at_a_drop_damages_nothing() {
    // Under `Os` a full buffer is written in whole pages, the record a page boundary cuts left with its start on disk:
    // a write that fails part-way is cut back to that start, and the record's rest follows once space returns.
    let every = Durability::Every { records: 1000, interval: Duration::from_secs(3600) };
    for (case, durability) in (0..24u64).zip([Durability::Os, every].into_iter().cycle()) {
        let dir = tempfile::tempdir().unwrap();
        let faults = Faults::new();
        let opts = JournalOptions { buffer_bytes: 4096 + 700, segment_bytes: 40_000, ..options(durability) };
        let journal = FileJournal::open_with_faults(dir.path(), opts, faults.clone()).unwrap();
        let record = |i: u64| line(i).repeat(1 + (i % 23) as usize);
        let mut acknowledged = 0;
        while acknowledged < 40 {
            journal.append(record(acknowledged)).unwrap();
            acknowledged += 1;
        }
        faults.disk_full_after(case * 1531 % 9000);
        while journal.append(record(acknowledged)).is_ok() {
            acknowledged += 1;
        }
        faults.heal();
        for _ in 0..30 {
            assert_eq!(journal.append(record(acknowledged)).unwrap(), acknowledged);
            acknowledged += 1;
        }
        let all: Vec<String> = (0..acknowledged).map(record).collect();
        assert_eq!(journal.read_from(0).unwrap(), all, "case {case}: every acknowledged record, once");
        let written = acknowledged;
        for _ in 0..5 {
            journal.append(record(acknowledged)).unwrap();
            acknowledged += 1;
        }
        // A full disk again, while the journal is dropped: what is buffered then cannot be written.
        faults.disk_full_after(case * 733 % 5000);
        drop(journal);
        let reopened = FileJournal::<String>::open(dir.path(), opts).unwrap();
        let recovery = reopened.recovery();
        assert!(recovery.damage.is_none() && recovery.lost.is_none(), "case {case}: {recovery:?}");
        let read = reopened.read_from(0).unwrap();
        assert!((written..=acknowledged).contains(&(read.len() as u64)), "case {case}: {}", read.len());
        for (i, stored) in read.iter().enumerate() {
            assert_eq!(*stored, record(i as u64), "case {case}: record {i}");
        }
        let next = read.len() as u64;
        assert_eq!(reopened.append(record(next)).unwrap(), next, "case {case}: the journal takes appends again");
    }
}
