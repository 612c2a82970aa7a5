//! Behaviour of the file journal: round trips, recovery of torn writes, damage, foreign folders, failing disks.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::segment::SEGMENT_HEADER;
use super::*;

fn options(durability: Durability) -> JournalOptions {
    JournalOptions { durability, ..JournalOptions::default() }
}

fn small_segments() -> JournalOptions {
    JournalOptions { segment_bytes: 256, ..JournalOptions::default() }
}

fn line(i: u64) -> String {
    format!("10.0.0.{} - - [26/Nov/2026:09:{:02}:00 +0000] \"GET /item/{i} HTTP/1.1\" 200 {}", i % 256, i % 60, i * 7)
}

fn fill(journal: &FileJournal<String>, n: u64) {
    for i in 0..n {
        let start = journal.len();
        assert_eq!(journal.append(line(start)).unwrap(), start, "record {i}");
    }
}

fn expected(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(line).collect()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x55;
    fs::write(path, bytes).unwrap();
}

/// Byte offset of record `index` in a segment of records written by `fill`.
fn offset_of(path: &Path, index: usize) -> u64 {
    let bytes = fs::read(path).unwrap();
    let mut offset = SEGMENT_HEADER;
    for _ in 0..index {
        offset += frame::FRAME_HEADER + frame::read_header(&bytes[offset..]).unwrap();
    }
    offset as u64
}

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
fn a_torn_record_at_the_tail_is_cut_off_and_reported_and_the_journal_is_writable_again() {
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::open_default(dir.path()).unwrap();
    fill(&journal, 5);
    drop(journal);
    let seg = segments(dir.path()).remove(0);
    let good_len = fs::metadata(&seg).unwrap().len();
    // The first 20 bytes of a real frame: header intact, payload cut short.
    let mut frame = Vec::new();
    frame::write_frame(&mut frame, line(5).as_bytes());
    append_bytes(&seg, &frame[..20]);

    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    let truncated = journal.recovery().truncated.clone().expect("torn write reported");
    assert_eq!(truncated.segment, "00000000000000000000.seg");
    assert_eq!((truncated.offset, truncated.bytes), (good_len, 20));
    assert_eq!(fs::metadata(&seg).unwrap().len(), good_len);
    assert_eq!(journal.append(line(5)).unwrap(), 5);
    assert_eq!(journal.read_from(0).unwrap(), expected(0..6));
}

#[test]
fn a_zero_filled_tail_is_a_torn_write() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open_default(dir.path()).unwrap(), 3);
    let seg = segments(dir.path()).remove(0);
    append_bytes(&seg, &[0; 100]);
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    assert_eq!(journal.recovery().truncated.as_ref().map(|t| t.bytes), Some(100));
    assert_eq!(journal.read_from(0).unwrap(), expected(0..3));
}

#[test]
fn a_segment_whose_creation_was_cut_short_gets_its_header_back() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open_default(dir.path()).unwrap(), 3);
    let torn = dir.path().join("00000000000000000003.seg");
    fs::write(&torn, b"SWJOU").unwrap();
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    let truncated = journal.recovery().truncated.clone().expect("reported");
    assert_eq!((truncated.segment.as_str(), truncated.bytes), ("00000000000000000003.seg", 5));
    assert_eq!(journal.append(line(3)).unwrap(), 3);
    drop(journal);
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    assert_eq!(journal.read_from(0).unwrap(), expected(0..4));
}

#[test]
fn a_corrupt_record_mid_segment_stops_reading_there_naming_segment_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open_default(dir.path()).unwrap(), 10);
    let seg = segments(dir.path()).remove(0);
    let offset = offset_of(&seg, 4);
    flip_byte(&seg, offset + 20);
    let before = fs::read(&seg).unwrap();

    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    let damage = journal.recovery().damage.clone().expect("damage reported");
    assert_eq!((damage.segment.as_str(), damage.offset), ("00000000000000000000.seg", offset));
    assert!(journal.recovery().truncated.is_none(), "damage is not a torn write");
    assert_eq!(journal.len(), 4);

    let mut records = journal.iter_from(0).unwrap();
    for expected in expected(0..4) {
        assert_eq!(records.next().unwrap().unwrap(), expected);
    }
    match records.next() {
        Some(Err(JournalError::Corrupt { segment, offset: at, reason })) => {
            assert_eq!((segment.as_str(), at), ("00000000000000000000.seg", offset));
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected the damage, got {other:?}"),
    }
    assert!(records.next().is_none(), "nothing after the damage is read");
    assert!(matches!(journal.read_from(0), Err(JournalError::Corrupt { .. })));
    assert!(matches!(journal.read_from(4), Err(JournalError::Corrupt { .. })));
    assert!(matches!(journal.read_from(9), Err(JournalError::Corrupt { .. })));
    assert!(matches!(journal.append(line(99)), Err(JournalError::Corrupt { .. })));
    drop(journal);
    assert_eq!(fs::read(&seg).unwrap(), before, "nothing overwritten");
}

#[test]
fn a_damaged_length_is_damage_not_a_torn_write_even_in_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open_default(dir.path()).unwrap(), 3);
    let seg = segments(dir.path()).remove(0);
    flip_byte(&seg, offset_of(&seg, 2) + 1);
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    assert!(journal.recovery().truncated.is_none());
    assert_eq!(journal.recovery().damage.as_ref().map(|d| d.offset), Some(offset_of(&seg, 2)));
}

#[test]
fn a_corrupt_record_in_an_earlier_segment_stops_reading_before_later_segments() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open(dir.path(), small_segments()).unwrap(), 20);
    let second = segments(dir.path()).remove(1);
    let base: u64 = second.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    flip_byte(&second, offset_of(&second, 1) + 15);
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert_eq!(journal.len(), base + 1);
    let read: Vec<_> = journal.iter_from(0).unwrap().collect();
    assert_eq!(read.len() as u64, base + 2);
    assert!(read[..read.len() - 1].iter().all(Result::is_ok));
    let name = second.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(matches!(read.last(), Some(Err(JournalError::Corrupt { segment, .. })) if *segment == name));
}

/// Rewrites the header of `seg` as a newer build would: a higher version under a valid checksum.
fn write_version(seg: &Path, version: u16) -> Vec<u8> {
    let mut bytes = fs::read(seg).unwrap();
    bytes[8..10].copy_from_slice(&version.to_le_bytes());
    let crc = crc32c::crc32c(&bytes[..24]);
    bytes[24..28].copy_from_slice(&crc.to_le_bytes());
    bytes.extend_from_slice(b"future records in a future layout");
    fs::write(seg, &bytes).unwrap();
    bytes
}

#[test]
fn a_journal_of_a_newer_format_version_is_refused_on_open_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open_default(dir.path()).unwrap(), 3);
    let seg = segments(dir.path()).remove(0);
    let bytes = write_version(&seg, FORMAT_VERSION + 1);

    let err = FileJournal::<String>::open_default(dir.path()).unwrap_err();
    assert!(matches!(err, JournalError::Unusable(_)), "{err}");
    let message = err.to_string();
    assert!(message.contains("version 2") && message.contains("00000000000000000000.seg"), "{message}");
    assert_eq!(fs::read(&seg).unwrap(), bytes, "nothing overwritten");
}

#[test]
fn a_later_segment_of_a_newer_format_version_stops_reading_there() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open(dir.path(), small_segments()).unwrap(), 20);
    let second = segments(dir.path()).remove(1);
    let base: u64 = second.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let bytes = write_version(&second, FORMAT_VERSION + 1);

    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    let damage = journal.recovery().damage.clone().expect("reported");
    assert_eq!((damage.segment.as_str(), damage.offset), (second.file_name().unwrap().to_str().unwrap(), 0));
    assert!(damage.reason.contains("version 2"), "{}", damage.reason);
    let read: Vec<_> = journal.iter_from(0).unwrap().collect();
    assert_eq!(read.len() as u64, base + 1, "every record before it, then the error");
    assert!(read[..base as usize].iter().all(Result::is_ok));
    assert!(matches!(journal.append(line(99)), Err(JournalError::Corrupt { .. })));
    drop(journal);
    assert_eq!(fs::read(&second).unwrap(), bytes, "nothing overwritten");
}

#[test]
fn a_folder_that_is_not_a_journal_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "my notes").unwrap();
    let err = FileJournal::<String>::open_default(dir.path()).unwrap_err();
    assert!(matches!(err, JournalError::Unusable(ref m) if m.contains("notes.txt")), "{err}");
    assert_eq!(segments(dir.path()), [dir.path().join("notes.txt")], "nothing created");

    let file = dir.path().join("notes.txt");
    assert!(matches!(FileJournal::<String>::open_default(&file), Err(JournalError::Unusable(_))));
    assert_eq!(fs::read_to_string(file).unwrap(), "my notes");
}

#[test]
fn a_segment_name_on_a_foreign_file_is_damage_that_refuses_appends_and_changes_nothing() {
    let impostor = tempfile::tempdir().unwrap();
    let seg = impostor.path().join("00000000000000000000.seg");
    fs::write(&seg, "not a journal, just a name").unwrap();
    let journal = FileJournal::<String>::open_default(impostor.path()).unwrap();
    let damage = journal.recovery().damage.clone().expect("reported");
    assert_eq!((damage.segment.as_str(), damage.offset), ("00000000000000000000.seg", 0));
    assert!(matches!(journal.read_from(0), Err(JournalError::Corrupt { offset: 0, .. })));
    assert!(matches!(journal.append(line(0)), Err(JournalError::Corrupt { .. })));
    drop(journal);
    assert_eq!(fs::read_to_string(seg).unwrap(), "not a journal, just a name");
}

#[test]
fn a_journal_of_another_record_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fill(&FileJournal::open_default(dir.path()).unwrap(), 1);
    let json = JournalOptions { format: Format::Json, ..JournalOptions::default() };
    let err = FileJournal::<String>::open(dir.path(), json).unwrap_err();
    assert!(matches!(err, JournalError::Unusable(ref m) if m.contains("Postcard")), "{err}");
}

#[test]
fn json_journals_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let json = JournalOptions { format: Format::Json, ..JournalOptions::default() };
    fill(&FileJournal::open(dir.path(), json).unwrap(), 4);
    assert_eq!(FileJournal::<String>::open(dir.path(), json).unwrap().read_from(0).unwrap(), expected(0..4));
}

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
    assert!(matches!(journal.append(line(2)), Err(JournalError::Io(_))));
    faults.heal();
    assert!(matches!(journal.append(line(2)), Err(JournalError::Unusable(m)) if m.contains("reopen")));
    drop(journal);
    let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
    assert_eq!(journal.read_from(0).unwrap()[..2], expected(0..2));
}

#[test]
fn the_interval_policy_writes_waiting_records_without_another_append() {
    let dir = tempfile::tempdir().unwrap();
    let every = Durability::Every { records: 1000, interval: Duration::from_millis(20) };
    let journal = FileJournal::open(dir.path(), options(every)).unwrap();
    journal.append(line(0)).unwrap();
    let seg = segments(dir.path()).remove(0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fs::metadata(&seg).unwrap().len() == SEGMENT_HEADER as u64 {
        assert!(std::time::Instant::now() < deadline, "the waiting record was never written");
        std::thread::sleep(Duration::from_millis(5));
    }
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

#[test]
fn concurrent_appenders_get_distinct_positions_holding_their_own_records() {
    let dir = tempfile::tempdir().unwrap();
    let opts = JournalOptions { segment_bytes: 8 * 1024, buffer_bytes: 1024, ..options(Durability::Os) };
    let journal = FileJournal::<String>::open(dir.path(), opts).unwrap();
    let appended: Vec<Vec<(u64, String)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let journal = &journal;
                s.spawn(move || {
                    (0..250)
                        .map(|i| {
                            let record = format!("thread {t} record {i}");
                            (journal.append(record.clone()).unwrap(), record)
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let stored = journal.read_from(0).unwrap();
    assert_eq!(stored.len(), 1000);
    for (position, record) in appended.into_iter().flatten() {
        assert_eq!(stored[position as usize], record);
    }
}

#[test]
fn every_append_is_synced_before_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    for i in 0..5 {
        let before = faults.syncs();
        journal.append(line(i)).unwrap();
        assert!(faults.syncs() > before, "append {i} returned without a sync");
    }
}

#[test]
fn concurrent_appenders_share_syncs_under_every_append() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    let (threads, each) = (8, 25);
    std::thread::scope(|s| {
        for t in 0..threads {
            let journal = &journal;
            s.spawn(move || {
                for i in 0..each {
                    journal.append(format!("thread {t} record {i}")).unwrap();
                }
            });
        }
    });
    let appends = threads * each;
    assert_eq!(journal.len(), appends);
    // While one appender syncs, the others write and then share the next sync.
    assert!(faults.syncs() < appends, "{} syncs for {appends} appends", faults.syncs());
    drop(journal);
    assert_eq!(FileJournal::<String>::open_default(dir.path()).unwrap().read_from(0).unwrap().len() as u64, appends);
}
