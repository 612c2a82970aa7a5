//! The durable journal given damage: bit flips at random offsets, cut files, zeroed, garbage and future-version segment
//! headers, empty segments in every position, garbage after the last record, foreign files, a damaged tail mark and a
//! second writer. Each case checks against an oracle computed from the intact files: no panic; damage is reported with
//! the segment and offset where it starts, every record before it reads back, appends are refused and no byte changes;
//! or, for a torn tail of the last segment only, the cut is reported (segment, offset, bytes, records, position) and
//! nothing else changes. Records the journal held when it was closed and that are gone from its end (a cut or emptied
//! last segment, a deleted one) are reported as lost, with their count and bytes, from the tail mark. `cargo test
//! --test journal_corruption`; the case counts are in the README.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use stagewise::journal::file::FORMAT_VERSION;
use stagewise::journal::{Durability, FileJournal, Journal, JournalError, JournalOptions};

/// Random bit flips, one per seed.
const FLIP_SEEDS: u64 = 400;
const RECORDS: u64 = 30;
const HEADER: usize = 32;
const FRAME: usize = 12;

fn options() -> JournalOptions {
    JournalOptions { segment_bytes: 400, ..JournalOptions::default() }
}

fn line(i: u64) -> String {
    format!("10.0.0.{} - - [28/Nov/2026:04:{:02}:00 +0000] \"GET /item/{i}\" 200 {}", i % 256, i % 60, i * 7)
}

/// splitmix64: a small seeded generator, so every case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One record's frame in the intact journal.
#[derive(Clone, Copy, Debug)]
struct Frame {
    position: u64,
    start: usize,
    len: usize,
}

/// One segment of the intact journal: its name, bytes and frames.
#[derive(Clone, Debug)]
struct Segment {
    name: String,
    bytes: Vec<u8>,
    frames: Vec<Frame>,
}

/// An intact journal of `RECORDS` records across several segments, and its files.
struct Intact {
    dir: tempfile::TempDir,
    segments: Vec<Segment>,
}

/// The tail mark's file name: how far the journal reached when it was closed.
const MARK: &str = "tail.mark";

/// The template journal: its segments and its tail mark.
struct Template {
    segments: Vec<Segment>,
    mark: Vec<u8>,
}

impl Intact {
    /// A fresh copy of the template journal in a folder of its own.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let segments = template().segments.clone();
        for seg in &segments {
            fs::write(dir.path().join(&seg.name), &seg.bytes).unwrap();
        }
        fs::write(dir.path().join(MARK), &template().mark).unwrap();
        Self { dir, segments }
    }

    fn path(&self, segment: usize) -> PathBuf {
        self.dir.path().join(&self.segments[segment].name)
    }

    fn write(&self, segment: usize, bytes: &[u8]) {
        fs::write(self.path(segment), bytes).unwrap();
    }

    /// The position of the first record of `segment`.
    fn base(&self, segment: usize) -> u64 {
        self.segments[segment].frames[0].position
    }

    fn last(&self) -> usize {
        self.segments.len() - 1
    }

    /// What the tail mark says is lost when the journal ends at `frame` (a record of the last segment).
    fn lost_from(&self, frame: Frame) -> Option<(u64, u64, u64)> {
        let end = self.segments[self.last()].bytes.len();
        Some((frame.position, RECORDS - frame.position, (end - frame.start) as u64))
    }
}

/// The intact journal, written once (without syncs: the bytes are the same under every policy) and copied per case.
fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let journal =
            FileJournal::<String>::open(dir.path(), JournalOptions { durability: Durability::Os, ..options() })
                .unwrap();
        for i in 0..RECORDS {
            assert_eq!(journal.append(line(i)).unwrap(), i);
        }
        drop(journal);
        let mut position = 0;
        let mut files = files(dir.path());
        let mark = files.remove(MARK).expect("a closed journal has a tail mark");
        let segments = files
            .into_iter()
            .map(|(name, bytes)| {
                let mut frames = Vec::new();
                let mut start = HEADER;
                while start < bytes.len() {
                    let len = FRAME + u32::from_le_bytes(bytes[start..start + 4].try_into().unwrap()) as usize;
                    frames.push(Frame { position, start, len });
                    position += 1;
                    start += len;
                }
                Segment { name, bytes, frames }
            })
            .collect::<Vec<_>>();
        assert_eq!(position, RECORDS);
        assert!(segments.len() >= 5, "the cases need segments in every position");
        let frames: Vec<usize> = segments.iter().map(|s| s.frames.len()).collect();
        eprintln!("template journal: {RECORDS} records in {} segments holding {frames:?}", segments.len());
        Template { segments, mark }
    })
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), fs::read(e.path()).unwrap())
        })
        .collect()
}

/// What opening the damaged journal must find.
#[derive(Debug)]
enum Expect {
    /// Damage at `(segment, offset)`; the `readable` records before it read back; appends refused; no byte changed.
    Damage { segment: String, offset: u64, readable: u64 },
    /// A torn tail of the last segment cut at `offset`: `bytes` bytes holding `records` framed records; the
    /// `readable` records before it read back and the journal takes appends again. `lost`: the `(position, records,
    /// bytes)` the tail mark says are gone (the records the journal held after `readable`).
    Torn { segment: String, offset: u64, bytes: u64, records: u64, readable: u64, lost: Option<(u64, u64, u64)> },
}

/// The `(position, records, bytes)` reported lost.
fn lost(recovery: &stagewise::journal::Recovery) -> Option<(u64, u64, u64)> {
    recovery.lost.as_ref().map(|l| (l.position, l.records, l.bytes))
}

/// Opens the journal in `dir` and checks it against `expect`; `case` names the case in failures.
fn check(dir: &Path, expect: &Expect, case: &str) {
    let before = files(dir);
    let journal = FileJournal::<String>::open(dir, options()).unwrap_or_else(|e| panic!("{case}: open failed: {e}"));
    let recovery = journal.recovery().clone();
    let readable = match expect {
        Expect::Damage { segment, offset, readable } => {
            let damage = recovery.damage.clone().unwrap_or_else(|| panic!("{case}: no damage reported"));
            assert_eq!((&damage.segment, damage.offset), (segment, *offset), "{case}: where the damage is");
            assert!(recovery.truncated.is_none(), "{case}: damage is not a torn write: {recovery:?}");
            assert!(recovery.lost.is_none(), "{case}: damaged records are not lost, they are there: {recovery:?}");
            assert_eq!(journal.len(), *readable, "{case}");
            let read: Vec<_> = journal.iter_from(0).unwrap().collect();
            assert_eq!(read.len() as u64, readable + 1, "{case}: every record before the damage, then its error");
            match read.last() {
                Some(Err(JournalError::Corrupt { segment: s, offset: o, .. })) => {
                    assert_eq!((s, o), (segment, offset), "{case}: the read error names the damage")
                }
                other => panic!("{case}: expected the damage at the end of the read, got {other:?}"),
            }
            assert!(
                matches!(journal.append(line(999)), Err(JournalError::Corrupt { .. })),
                "{case}: appends are refused"
            );
            drop(journal);
            assert_eq!(files(dir), before, "{case}: no byte changed");
            *readable
        }
        Expect::Torn { segment, offset, bytes, records, readable, lost: gone } => {
            let cut = recovery.truncated.clone().unwrap_or_else(|| panic!("{case}: no truncation reported"));
            assert!(recovery.damage.is_none(), "{case}: {recovery:?}");
            assert_eq!(
                (&cut.segment, cut.offset, cut.bytes, cut.records, cut.position),
                (segment, *offset, *bytes, *records, *readable),
                "{case}: what was cut"
            );
            assert_eq!(lost(&recovery), *gone, "{case}: what the tail mark says is lost");
            let mut after = before.clone();
            after.get_mut(segment).unwrap().truncate(*offset as usize);
            assert_eq!(files(dir), after, "{case}: only the torn tail was cut");
            assert_eq!(journal.read_from(0).unwrap(), (0..*readable).map(line).collect::<Vec<_>>(), "{case}");
            assert_eq!(journal.append(line(*readable)).unwrap(), *readable, "{case}: writable again");
            *readable
        }
    };
    // Read through a second open (now that the first is closed), the same records are there.
    if let Ok(again) = FileJournal::<String>::open(dir, options()) {
        let intact: Vec<String> = again.iter_from(0).unwrap().map_while(Result::ok).take(readable as usize).collect();
        assert_eq!(intact, (0..readable).map(line).collect::<Vec<_>>(), "{case}: records before the damage");
    }
}

/// Where a flipped byte at `(segment, offset)` of the intact journal must be found.
fn expect_flip(intact: &Intact, segment: usize, offset: usize) -> Expect {
    let seg = &intact.segments[segment];
    if offset < HEADER {
        return Expect::Damage { segment: seg.name.clone(), offset: 0, readable: intact.base(segment) };
    }
    let frame = *seg.frames.iter().rfind(|f| f.start <= offset).unwrap();
    let last_frame = segment == intact.last() && frame.start + frame.len == seg.bytes.len();
    // A bit flip past the length words of the last record leaves its header intact and its checksum failing: just
    // what a write cut short leaves, so recovery cuts it off, and reports it.
    if last_frame && (4..8).chain(FRAME..frame.len).any(|i| frame.start + i == offset) {
        return Expect::Torn {
            segment: seg.name.clone(),
            offset: frame.start as u64,
            bytes: frame.len as u64,
            records: 1,
            readable: frame.position,
            lost: intact.lost_from(frame),
        };
    }
    Expect::Damage { segment: seg.name.clone(), offset: frame.start as u64, readable: frame.position }
}

#[test]
fn a_bit_flipped_anywhere_is_found_where_it_is_and_every_record_before_it_reads_back() {
    let mut torn = 0;
    for seed in 0..FLIP_SEEDS {
        let intact = Intact::new();
        let mut rng = Rng(seed);
        let segment = rng.below(intact.segments.len() as u64) as usize;
        let mut bytes = intact.segments[segment].bytes.clone();
        let offset = rng.below(bytes.len() as u64) as usize;
        let bit = rng.below(8);
        bytes[offset] ^= 1 << bit;
        intact.write(segment, &bytes);
        let expect = expect_flip(&intact, segment, offset);
        torn += u32::from(matches!(expect, Expect::Torn { .. }));
        let case = format!("seed {seed}: bit {bit} of byte {offset} of {}", intact.segments[segment].name);
        check(intact.dir.path(), &expect, &case);
    }
    assert!(torn > 0 && torn < FLIP_SEEDS as u32 / 4, "both outcomes are exercised: {torn} torn tails");
}

#[test]
fn a_cut_inside_a_record_of_the_last_segment_is_a_reported_torn_tail() {
    let probe = Intact::new();
    let last = probe.last();
    for frame in probe.segments[last].frames.clone() {
        for within in [1, FRAME - 1, FRAME, frame.len - 1] {
            let intact = Intact::new();
            let seg = &intact.segments[last];
            let len = frame.start + within;
            intact.write(last, &seg.bytes[..len]);
            let expect = Expect::Torn {
                segment: seg.name.clone(),
                offset: frame.start as u64,
                bytes: within as u64,
                records: u64::from(within >= FRAME),
                readable: frame.position,
                lost: intact.lost_from(frame),
            };
            check(intact.dir.path(), &expect, &format!("last segment cut at byte {len}"));
        }
    }
}

#[test]
fn a_cut_inside_a_record_of_an_earlier_segment_is_damage() {
    let probe = Intact::new();
    for segment in 0..probe.last() {
        for frame in probe.segments[segment].frames.clone() {
            for within in [1, FRAME + 1] {
                let intact = Intact::new();
                let seg = &intact.segments[segment];
                intact.write(segment, &seg.bytes[..frame.start + within]);
                let expect =
                    Expect::Damage { segment: seg.name.clone(), offset: frame.start as u64, readable: frame.position };
                check(
                    intact.dir.path(),
                    &expect,
                    &format!("{} cut {within} bytes into record {}", seg.name, frame.position),
                );
            }
        }
    }
}

/// A header as a build of format `version` would write it, with a valid checksum.
fn header_of_version(bytes: &[u8], version: u16) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    bytes[8..10].copy_from_slice(&version.to_le_bytes());
    let crc = crc32c(&bytes[..24]);
    bytes[24..28].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// CRC32C (Castagnoli), bit by bit: the test's own, so the oracle does not share the journal's code.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
        }
    }
    !crc
}

/// Damages a segment's bytes in place.
type Damager = fn(&mut [u8], &mut Rng);

#[test]
fn damaged_headers_in_every_segment_stop_reading_there() {
    let probe = Intact::new();
    let mut rng = Rng(7);
    for segment in 0..probe.segments.len() {
        let damages: [(&str, Damager); 4] = [
            ("zeroed", |b, _| b[..HEADER].fill(0)),
            ("garbage", |b, rng| b[..HEADER].iter_mut().for_each(|x| *x = rng.next() as u8)),
            ("garbage after an intact magic", |b, rng| b[8..HEADER].iter_mut().for_each(|x| *x = rng.next() as u8)),
            ("a garbled version under the old checksum", |b, _| b[8..10].copy_from_slice(&42405u16.to_le_bytes())),
        ];
        for (what, damage) in damages {
            let intact = Intact::new();
            let mut bytes = intact.segments[segment].bytes.clone();
            damage(&mut bytes, &mut rng);
            intact.write(segment, &bytes);
            let name = intact.segments[segment].name.clone();
            let expect = Expect::Damage { segment: name.clone(), offset: 0, readable: intact.base(segment) };
            check(intact.dir.path(), &expect, &format!("{what} header of {name}"));
        }
    }
}

#[test]
fn a_future_version_header_refuses_the_journal_when_first_and_stops_reading_there_when_later() {
    let probe = Intact::new();
    for segment in 0..probe.segments.len() {
        let intact = Intact::new();
        let name = intact.segments[segment].name.clone();
        intact.write(segment, &header_of_version(&intact.segments[segment].bytes, FORMAT_VERSION + 1));
        if segment == 0 {
            let before = files(intact.dir.path());
            let err = FileJournal::<String>::open(intact.dir.path(), options()).unwrap_err();
            assert!(matches!(&err, JournalError::Unusable(m) if m.contains(&name) && m.contains("version 2")), "{err}");
            assert_eq!(files(intact.dir.path()), before, "nothing changed");
        } else {
            let expect = Expect::Damage { segment: name.clone(), offset: 0, readable: intact.base(segment) };
            check(intact.dir.path(), &expect, &format!("future version header of {name}"));
        }
    }
}

#[test]
fn empty_and_header_only_segments_in_every_position() {
    let probe = Intact::new();
    for segment in 0..probe.segments.len() {
        for header_only in [false, true] {
            let intact = Intact::new();
            let seg = &intact.segments[segment];
            let kept = if header_only { HEADER } else { 0 };
            intact.write(segment, &seg.bytes[..kept]);
            let case = format!("{} left with {kept} bytes", seg.name);
            if segment == intact.last() {
                // The last segment: its header is written again if it was emptied (the one change recovery makes,
                // reported as a truncation), and the records it held are reported lost, with their bytes.
                let before = files(intact.dir.path());
                let journal = FileJournal::<String>::open(intact.dir.path(), options()).unwrap();
                let recovery = journal.recovery().clone();
                let base = intact.base(segment);
                let held = (seg.bytes.len() - HEADER) as u64;
                assert_eq!(lost(&recovery), Some((base, RECORDS - base, held)), "{case}: {recovery:?}");
                assert_eq!(recovery.damage, None, "{case}");
                match recovery.truncated {
                    Some(cut) => {
                        assert!(!header_only, "{case}: a valid header is not cut");
                        assert_eq!((cut.offset, cut.bytes, cut.records, cut.position), (0, 0, 0, base), "{case}");
                        assert!(cut.reason.contains(&format!("position {base}")), "{}", cut.reason);
                        assert!(cut.reason.contains(&format!("{} synced records", RECORDS - base)), "{}", cut.reason);
                    }
                    None => assert!(header_only, "{case}: the emptied segment's new header is reported"),
                }
                let mut after = before;
                after.insert(seg.name.clone(), seg.bytes[..HEADER].to_vec());
                assert_eq!(files(intact.dir.path()), after, "{case}: only the header written again");
                assert_eq!(journal.read_from(0).unwrap(), (0..base).map(line).collect::<Vec<_>>(), "{case}");
                assert_eq!(journal.append(line(0)).unwrap(), base, "{case}: writable again");
                continue;
            }
            // An earlier one: the next segment does not start where this one ends (or it has no header).
            let damaged = if header_only { &intact.segments[segment + 1] } else { seg };
            let expect = Expect::Damage { segment: damaged.name.clone(), offset: 0, readable: intact.base(segment) };
            check(intact.dir.path(), &expect, &case);
        }
    }
}

#[test]
fn an_emptied_last_segment_without_a_tail_mark_is_reported_as_a_cut_from_its_position() {
    // A journal whose tail mark is gone (or that an older build wrote) cannot tell an emptied last segment from a
    // crash while starting it: the header is written again and the report names the position records are gone from.
    let intact = Intact::new();
    fs::remove_file(intact.dir.path().join(MARK)).unwrap();
    let last = intact.last();
    intact.write(last, &[]);
    let base = intact.base(last);
    let journal = FileJournal::<String>::open(intact.dir.path(), options()).unwrap();
    let cut = journal.recovery().truncated.clone().expect("reported");
    assert_eq!((cut.offset, cut.bytes, cut.records, cut.position), (0, 0, 0, base));
    assert!(cut.reason.contains(&format!("records from position {base} on")), "{}", cut.reason);
    assert_eq!(journal.recovery().lost, None);
    assert_eq!(journal.read_from(0).unwrap(), (0..base).map(line).collect::<Vec<_>>());
}

#[test]
fn records_cut_at_a_boundary_or_a_deleted_last_segment_are_reported_lost() {
    let probe = Intact::new();
    let last = probe.last();
    // Cut at every record boundary of the last segment: nothing torn to cut, every record after the cut lost.
    for frame in probe.segments[last].frames.clone() {
        let intact = Intact::new();
        let seg = &intact.segments[last];
        intact.write(last, &seg.bytes[..frame.start]);
        let case = format!("{} cut before record {}", seg.name, frame.position);
        let before = files(intact.dir.path());
        let journal = FileJournal::<String>::open(intact.dir.path(), options()).unwrap();
        let recovery = journal.recovery().clone();
        assert_eq!((recovery.truncated.clone(), recovery.damage.clone()), (None, None), "{case}");
        assert_eq!(lost(&recovery), intact.lost_from(frame), "{case}");
        assert_eq!(files(intact.dir.path()), before, "{case}: nothing changed");
        let read = journal.read_from(0).unwrap();
        assert_eq!(read, (0..frame.position).map(line).collect::<Vec<_>>(), "{case}");
    }
    let intact = Intact::new();
    fs::remove_file(intact.path(last)).unwrap();
    let journal = FileJournal::<String>::open(intact.dir.path(), options()).unwrap();
    let base = intact.base(last);
    let held = (intact.segments[last].bytes.len() - HEADER) as u64;
    assert_eq!(lost(journal.recovery()), Some((base, RECORDS - base, held)), "deleted last segment");
    assert_eq!(journal.read_from(0).unwrap(), (0..base).map(line).collect::<Vec<_>>());
}

#[test]
fn garbage_after_the_last_record_is_damage_and_changes_nothing() {
    let mut rng = Rng(11);
    for round in 0..20 {
        let intact = Intact::new();
        let last = intact.last();
        let mut bytes = intact.segments[last].bytes.clone();
        let end = bytes.len() as u64;
        let garbage: Vec<u8> = (0..FRAME + 1 + rng.below(200) as usize).map(|_| rng.next() as u8 | 1).collect();
        bytes.extend_from_slice(&garbage);
        intact.write(last, &bytes);
        let expect = Expect::Damage { segment: intact.segments[last].name.clone(), offset: end, readable: RECORDS };
        check(intact.dir.path(), &expect, &format!("round {round}: {} bytes of garbage", garbage.len()));
    }
}

#[test]
fn a_foreign_file_in_the_folder_refuses_the_journal_and_changes_nothing() {
    let intact = Intact::new();
    fs::write(intact.dir.path().join("notes.txt"), "not a segment").unwrap();
    let before = files(intact.dir.path());
    let err = FileJournal::<String>::open(intact.dir.path(), options()).unwrap_err();
    assert!(matches!(&err, JournalError::Unusable(m) if m.contains("notes.txt")), "{err}");
    assert_eq!(files(intact.dir.path()), before);
}

#[test]
fn a_foreign_file_named_as_a_segment_in_every_position_is_damage_there() {
    let probe = Intact::new();
    for segment in 0..probe.segments.len() {
        let intact = Intact::new();
        intact.write(segment, b"#!/bin/sh\necho this is a shell script, not a journal segment\n");
        let name = intact.segments[segment].name.clone();
        let expect = Expect::Damage { segment: name.clone(), offset: 0, readable: intact.base(segment) };
        check(intact.dir.path(), &expect, &format!("foreign file as {name}"));
    }
}

#[test]
fn a_damaged_tail_mark_is_ignored_and_nothing_else_changes() {
    // Garbage in the tail mark only makes recovery know less: the journal opens intact, reports nothing, changes
    // nothing, and the next sync writes a good mark again.
    let intact = Intact::new();
    fs::write(intact.dir.path().join(MARK), b"\xffthis is not a tail mark").unwrap();
    let before = files(intact.dir.path());
    let journal = FileJournal::<String>::open(intact.dir.path(), options()).unwrap();
    let recovery = journal.recovery().clone();
    assert_eq!((recovery.truncated, recovery.damage, recovery.lost), (None, None, None));
    assert_eq!(files(intact.dir.path()), before, "nothing changed on open");
    assert_eq!(journal.read_from(0).unwrap(), (0..RECORDS).map(line).collect::<Vec<_>>());
    assert_eq!(journal.append(line(RECORDS)).unwrap(), RECORDS);
    drop(journal);
    assert_eq!(fs::read(intact.dir.path().join(MARK)).unwrap().len(), template().mark.len(), "a good mark again");
}

#[test]
fn a_second_writer_is_refused_and_the_first_keeps_writing() {
    let intact = Intact::new();
    let first = FileJournal::<String>::open(intact.dir.path(), options()).unwrap();
    let err = FileJournal::<String>::open(intact.dir.path(), options()).unwrap_err();
    assert!(matches!(&err, JournalError::Unusable(m) if m.contains("already open")), "{err}");
    assert_eq!(first.append(line(RECORDS)).unwrap(), RECORDS);
    drop(first);
    let again = FileJournal::<String>::open(intact.dir.path(), options()).unwrap();
    assert_eq!(again.read_from(0).unwrap(), (0..=RECORDS).map(line).collect::<Vec<_>>());
    assert_eq!((again.recovery().truncated.clone(), again.recovery().damage.clone()), (None, None));
}
