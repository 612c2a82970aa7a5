//! Records lost from the end of the journal after they were synced: an emptied, header-only or deleted last segment,
//! a segment cut at a record boundary, a synced last record that reads as a torn write. Each is reported in
//! `Recovery::lost` with its records and bytes; a crash that cut an unsynced write is not a loss.

use super::*;

/// A journal of `n` synced records in small segments (one segment for `n` < 10), closed; returns its segments.
fn synced_journal(dir: &Path, n: u64) -> Vec<PathBuf> {
    let options = if n < 10 { JournalOptions::default() } else { small_segments() };
    let journal = FileJournal::open(dir, options).unwrap();
    fill(&journal, n);
    drop(journal);
    segments(dir)
}

/// The position of the first record of the segment at `path`.
fn base_of(path: &Path) -> u64 {
    path.file_stem().unwrap().to_str().unwrap().parse().unwrap()
}

#[test]
fn an_emptied_last_segment_reports_the_synced_records_and_bytes_it_held() {
    for kept in [0, SEGMENT_HEADER] {
        let dir = tempfile::tempdir().unwrap();
        let segs = synced_journal(dir.path(), 10);
        let last = segs.last().unwrap();
        let (base, held) = (base_of(last), fs::metadata(last).unwrap().len());
        assert!(base > 0 && held > SEGMENT_HEADER as u64, "the last segment holds records");
        let header = fs::read(last).unwrap()[..SEGMENT_HEADER].to_vec();
        fs::write(last, &header[..kept]).unwrap();

        let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
        let lost = journal.recovery().lost.clone().unwrap_or_else(|| panic!("{kept} bytes kept: loss not reported"));
        assert_eq!(lost.segment, last.file_name().unwrap().to_str().unwrap());
        assert_eq!((lost.position, lost.records, lost.bytes), (base, 10 - base, held - SEGMENT_HEADER as u64));
        if kept == 0 {
            let cut = journal.recovery().truncated.clone().expect("the header written again is reported");
            assert!(cut.reason.contains(&format!("{} synced records", 10 - base)), "{}", cut.reason);
        }
        assert_eq!(journal.read_from(0).unwrap(), expected(0..base));
        assert_eq!(journal.append(line(base)).unwrap(), base, "the journal stays writable");
    }
}

#[test]
fn a_deleted_last_segment_reports_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let segs = synced_journal(dir.path(), 10);
    let last = segs.last().unwrap();
    let (base, held) = (base_of(last), fs::metadata(last).unwrap().len());
    fs::remove_file(last).unwrap();
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    let lost = journal.recovery().lost.clone().expect("reported");
    assert_eq!((lost.position, lost.records, lost.bytes), (base, 10 - base, held - SEGMENT_HEADER as u64));
}

#[test]
fn a_last_segment_cut_at_a_record_boundary_reports_the_records_cut() {
    let dir = tempfile::tempdir().unwrap();
    let segs = synced_journal(dir.path(), 3);
    assert_eq!(segs.len(), 1);
    let cut_at = offset_of(&segs[0], 1);
    let held = fs::metadata(&segs[0]).unwrap().len();
    fs::OpenOptions::new().write(true).open(&segs[0]).unwrap().set_len(cut_at).unwrap();
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert!(journal.recovery().truncated.is_none(), "nothing torn to cut");
    let lost = journal.recovery().lost.clone().expect("reported");
    assert_eq!((lost.position, lost.records, lost.bytes), (1, 2, held - cut_at));
}

#[test]
fn a_synced_last_record_cut_off_as_a_torn_write_is_reported_as_lost() {
    let dir = tempfile::tempdir().unwrap();
    let segs = synced_journal(dir.path(), 3);
    let offset = offset_of(&segs[0], 2);
    let held = fs::metadata(&segs[0]).unwrap().len();
    flip_byte(&segs[0], offset + frame::FRAME_HEADER as u64 + 3);
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    let cut = journal.recovery().truncated.clone().expect("cut off");
    assert_eq!((cut.offset, cut.records), (offset, 1));
    let lost = journal.recovery().lost.clone().expect("a synced record is never dropped silently");
    assert_eq!((lost.position, lost.records, lost.bytes), (2, 1, held - offset));
}

#[test]
fn a_crash_cutting_an_unsynced_write_or_a_new_segment_is_no_loss() {
    let dir = tempfile::tempdir().unwrap();
    let segs = synced_journal(dir.path(), 3);
    let mut frame = Vec::new();
    frame::write_frame(&mut frame, line(3).as_bytes());
    append_bytes(&segs[0], &frame[..20]);
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert!(journal.recovery().truncated.is_some());
    assert_eq!(journal.recovery().lost, None);
    drop(journal);

    fs::write(dir.path().join("00000000000000000003.seg"), b"SWJ").unwrap();
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert!(journal.recovery().truncated.is_some());
    assert_eq!(journal.recovery().lost, None);
}

#[test]
fn a_damaged_tail_mark_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    synced_journal(dir.path(), 3);
    fs::write(dir.path().join("tail.mark"), b"garbage").unwrap();
    let journal = FileJournal::<String>::open(dir.path(), small_segments()).unwrap();
    assert_eq!((journal.recovery().lost.clone(), journal.recovery().damage.clone()), (None, None));
    assert_eq!(journal.read_from(0).unwrap(), expected(0..3));
    journal.append(line(3)).unwrap();
    drop(journal);
    assert_eq!(fs::read(dir.path().join("tail.mark")).unwrap().len(), 40);
}
