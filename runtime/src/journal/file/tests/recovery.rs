//! Recovery on open: torn writes cut off and reported, damage found where it is and stopping reads there, folders and segments that are not this journal's.

use super::*;

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
    let crc = frame::crc32c(&bytes[..24]);
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
    let files: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files, [dir.path().join("notes.txt")], "nothing created");

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
