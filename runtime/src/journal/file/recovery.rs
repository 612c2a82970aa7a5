//! Opening a journal folder is recovery: check every segment header, scan every record, cut a torn write off the end
//! of the last segment (and say so), and stop at damage anywhere else, so the journal is writable again after a
//! crash and never hides a damaged record.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
#[cfg(any(test, feature = "fault-injection"))]
use std::sync::Arc;

use super::frame::{self, Frame, FRAME_HEADER};
use super::index::{wants_mark, Indexed};
use super::io::sync_dir;
#[cfg(any(test, feature = "fault-injection"))]
use super::io::Faults;
use super::io::SegmentIo;
use super::mark::{self, Mark};
use super::policy::JournalOptions;
use super::segment::{self, BadHeader, Header, SegmentFile, SEGMENT_HEADER};
use super::unsynced;
use super::writer::Writer;
use super::Damage;
use crate::journal::JournalError;

/// What opening a journal found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// True when the folder held no journal and a new one was started.
    pub created: bool,
    /// Segment files in the journal.
    pub segments: usize,
    /// Intact records found (the position of the next record, for a journal that starts at 0).
    pub records: u64,
    /// The torn write cut off the end of the last segment, if there was one.
    pub truncated: Option<Truncation>,
    /// The first damaged record, if any: reading stops there with an error, and appending is refused.
    pub damage: Option<Damage>,
    /// Records the journal held at its last sync (by its tail mark) that are gone from its end, if any.
    pub lost: Option<Loss>,
}

/// Records gone from the end of the journal that were synced (or, under [`Durability::Os`](super::Durability::Os),
/// written and the journal closed): an emptied or deleted last segment, the end of a segment cut at a record
/// boundary, or a synced record cut off as a torn tail. Known from the tail mark, which the journal writes after its
/// syncs; the journal stays writable and its next record takes the first lost position.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loss {
    /// The segment that held the last lost record.
    pub segment: String,
    /// The position of the first lost record: the journal's next position after recovery.
    pub position: u64,
    /// How many records are gone.
    pub records: u64,
    /// How many bytes of records (frames) are gone: exact when the recovered journal ends in `segment` or in the one
    /// before it, complete; otherwise the bytes lost from `segment` alone.
    pub bytes: u64,
}

/// A torn write found at the end of the journal and cut off on open: what was lost, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Truncation {
    /// The segment file.
    pub segment: String,
    /// Where the torn write began: the segment's new length.
    pub offset: u64,
    /// How many bytes were cut off.
    pub bytes: u64,
    /// How many frames with an intact length were among the cut bytes (records whose payload did not all reach the
    /// disk, or whose checksum failed); 0 when the cut bytes held no complete frame header.
    pub records: u64,
    /// The position the first cut record would have had: the journal's next position after recovery.
    pub position: u64,
    /// Why they were judged a torn write.
    pub reason: String,
}

/// Recovers the journal in the existing, locked folder `dir`, starting a new one if it holds no segment.
pub(crate) fn open(
    dir: &Path,
    options: JournalOptions,
    #[cfg(any(test, feature = "fault-injection"))] faults: Option<Arc<Faults>>,
) -> Result<(Writer, Recovery), JournalError> {
    let segments = segment::list(dir)?;
    let marked = mark::read(dir)?.unwrap_or_else(|why| {
        tracing::warn!(dir = %dir.display(), reason = %why, "journal tail mark ignored");
        None
    });
    let mut recovery = Recovery { segments: segments.len().max(1), ..Recovery::default() };
    if segments.is_empty() {
        recovery.created = true;
        create_first(dir, options)?;
    }
    let segments = if recovery.created { segment::list(dir)? } else { segments };

    // Every header first: a journal of a newer format or of another record format stops the open before anything
    // changes; a damaged header stops the journal at that segment, like any other damage.
    let mut headers = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        let mut head = Vec::with_capacity(SEGMENT_HEADER);
        File::open(&seg.path)?.take(SEGMENT_HEADER as u64).read_to_end(&mut head)?;
        let header = match segment::check_header(seg, &head) {
            Ok(Header::Torn) if i + 1 < segments.len() && !unsynced::past_mark(marked, seg, 0) => {
                Err(Damage::new(seg, 0, format!("segment header cut short ({} bytes)", head.len())))
            }
            Ok(Header::Valid { format }) if format != options.format => {
                let why =
                    format!("{} holds {format:?} records; the journal was opened for {:?}", seg.name(), options.format);
                if i == 0 {
                    return Err(JournalError::Unusable(why));
                }
                Err(Damage::new(seg, 0, why))
            }
            Ok(header) => Ok(header),
            Err(BadHeader::Unreadable(why)) if i == 0 => return Err(JournalError::Unusable(why)),
            Err(BadHeader::Unreadable(why) | BadHeader::Damaged(why)) => Err(Damage::new(seg, 0, why)),
        };
        let stop = header.is_err();
        headers.push(header);
        if stop {
            break;
        }
    }

    let mut indexed = Vec::with_capacity(segments.len());
    let mut next = segments[0].base;
    let mut damage = None;
    for (i, (seg, header)) in segments.iter().zip(headers).enumerate() {
        let last = i + 1 == segments.len();
        let header_only = |damage| Indexed::new(seg.clone(), SEGMENT_HEADER as u64, damage, Vec::new());
        if seg.base != next {
            if indexed.last().is_some_and(|prev: &Indexed| unsynced::past_mark(marked, &prev.file, prev.len)) {
                let why = format!("records {next} to {} are missing before {}", seg.base, seg.name());
                recovery.truncated = Some(cut_unsynced(&segments[i..], None, next, &why)?);
                break;
            }
            let reason = format!("segment starts at record {} but the records before it end at {next}", seg.base);
            damage = Some(Damage::new(seg, 0, reason));
            indexed.push(header_only(damage.clone()));
            break;
        }
        match header {
            Err(d) => {
                damage = Some(d);
                indexed.push(header_only(damage.clone()));
                break;
            }
            Ok(Header::Torn) if !last => {
                let why = format!("a segment header cut short in {}", seg.name());
                recovery.truncated = Some(cut_unsynced(&segments[i..], None, next, &why)?);
                break;
            }
            Ok(Header::Torn) => {
                let bytes = fs::metadata(&seg.path)?.len();
                rewrite_header(seg, options)?;
                recovery.truncated = Some(Truncation {
                    segment: seg.name(),
                    offset: 0,
                    bytes,
                    records: 0,
                    position: next,
                    reason: format!(
                        "the last segment held {bytes} bytes, less than a segment header, so no record: a crash cut \
                         its creation short (or the file was emptied, and records from position {next} on that it \
                         held are gone); its header was written again"
                    ),
                });
                indexed.push(header_only(None));
                continue;
            }
            Ok(Header::Valid { .. }) => {}
        }
        let bytes = fs::read(&seg.path)?;
        let scan = scan(&bytes, seg.base);
        next += scan.records;
        let end = scan.end as u64;
        match scan.problem {
            None => indexed.push(Indexed::new(seg.clone(), end, None, scan.marks)),
            Some(problem) if !last && torn(&bytes, scan.end, &problem) && unsynced::past_mark(marked, seg, end) => {
                let why = format!("record {next} incomplete ({})", describe(&problem));
                recovery.truncated = Some(cut_unsynced(&segments[i..], Some(end), next, &why)?);
                indexed.push(Indexed::new(seg.clone(), end, None, scan.marks));
                break;
            }
            Some(problem) if last && torn(&bytes, scan.end, &problem) => {
                let cut = bytes.len() as u64 - end;
                let records = frame::frames_in(&bytes[scan.end..]);
                super::io::truncate(&seg.path, end)?;
                recovery.truncated = Some(Truncation {
                    segment: seg.name(),
                    offset: end,
                    bytes: cut,
                    records,
                    position: next,
                    reason: format!("last record incomplete ({})", describe(&problem)),
                });
                indexed.push(Indexed::new(seg.clone(), end, None, scan.marks));
            }
            Some(problem) => {
                damage = Some(Damage::new(seg, end, describe(&problem)));
                indexed.push(Indexed::new(seg.clone(), end, damage.clone(), scan.marks));
                break;
            }
        }
    }
    if damage.is_none() {
        recovery.lost = marked.and_then(|m| lost(dir, m, next, indexed.last()));
    }
    if let (Some(t), Some(lost)) = (&mut recovery.truncated, &recovery.lost) {
        t.reason.push_str(&format!(
            "; the tail mark says {} synced records ({} bytes) from position {} are gone: see `Recovery::lost`",
            lost.records, lost.bytes, lost.position
        ));
    }
    if let Some(l) = &recovery.lost {
        tracing::error!(segment = %l.segment, position = l.position, records = l.records, bytes = l.bytes,
            "journal recovery found synced records gone from the end");
    }
    if let Some(t) = &recovery.truncated {
        tracing::warn!(segment = %t.segment, offset = t.offset, bytes = t.bytes, records = t.records,
            position = t.position, reason = %t.reason, "journal recovery cut a torn write off the end");
    }
    if let Some(d) = &damage {
        tracing::error!(segment = %d.segment, offset = d.offset, reason = %d.reason,
            "journal holds a damaged record; reads stop there and appends are refused");
    }
    let tail = match (&damage, indexed.last()) {
        (None, Some(last)) => {
            let mut file = OpenOptions::new().read(true).write(true).open(&last.file.path)?;
            file.seek(SeekFrom::Start(last.len))?;
            Some(SegmentIo::new(
                file,
                #[cfg(any(test, feature = "fault-injection"))]
                faults.clone(),
            )?)
        }
        _ => None,
    };
    recovery.records = next - segments[0].base;
    recovery.damage = damage.clone();
    let writer = Writer::new(
        dir.to_owned(),
        options,
        indexed,
        tail,
        next,
        damage,
        #[cfg(any(test, feature = "fault-injection"))]
        faults,
    );
    Ok((writer, recovery))
}

/// Cuts the unsynced tail that starts in `from[0]` (see `unsynced`) and reports it; `position` is the position its
/// first record would have had.
fn cut_unsynced(from: &[SegmentFile], keep: Option<u64>, position: u64, why: &str) -> Result<Truncation, JournalError> {
    let cut = unsynced::cut(from, keep, why)?;
    let segment = from[0].name();
    Ok(Truncation {
        segment,
        offset: keep.unwrap_or(0),
        bytes: cut.bytes,
        records: cut.records,
        position,
        reason: cut.reason,
    })
}

/// The records `mark` says the journal held and recovery did not find (the journal now ends at `next`, in `tail`).
fn lost(dir: &Path, mark: Mark, next: u64, tail: Option<&Indexed>) -> Option<Loss> {
    if mark.next <= next {
        return None;
    }
    let segment = SegmentFile::new(dir, mark.base);
    let bytes = match tail {
        Some(t) if t.file.base == mark.base => mark.len.saturating_sub(t.len),
        _ => mark.len.saturating_sub(SEGMENT_HEADER as u64),
    };
    Some(Loss { segment: segment.name(), position: next, records: mark.next - next, bytes })
}

/// The outcome of scanning one segment's records.
struct Scan<'a> {
    records: u64,
    /// Offset just past the last intact record.
    end: usize,
    /// What stopped the scan before the end of the file.
    problem: Option<Frame<'a>>,
    /// Where the marked records start (see `wants_mark`).
    marks: Vec<(u64, u64)>,
}

fn scan(bytes: &[u8], base: u64) -> Scan<'_> {
    let mut offset = SEGMENT_HEADER;
    let mut records = 0;
    let mut marks = Vec::new();
    while offset < bytes.len() {
        match frame::read_frame(&bytes[offset..]) {
            Frame::Record(payload) => {
                if wants_mark(base + records, offset as u64, &marks) {
                    marks.push((base + records, offset as u64));
                }
                records += 1;
                offset += FRAME_HEADER + payload.len();
            }
            problem => return Scan { records, end: offset, problem: Some(problem), marks },
        }
    }
    Scan { records, end: offset, problem: None, marks }
}

/// True when the bad frame at `end` of the last segment is what a write cut short by a crash leaves: the file ends
/// inside the frame, or the frame's header is intact and it is the last thing in the file (its payload did not all
/// reach the disk), or nothing but zeros follows (space the file system allocated but the data never reached).
fn torn(bytes: &[u8], end: usize, problem: &Frame<'_>) -> bool {
    let rest = &bytes[end..];
    match problem {
        Frame::Incomplete { .. } => true,
        Frame::Damaged { header_intact: true, .. } => {
            frame::read_header(rest).is_ok_and(|len| FRAME_HEADER + len == rest.len()) || rest.iter().all(|&b| b == 0)
        }
        Frame::Damaged { header_intact: false, .. } => rest.iter().all(|&b| b == 0),
        Frame::Record(_) => false,
    }
}

fn describe(problem: &Frame<'_>) -> String {
    match problem {
        Frame::Incomplete { needed: Some(n) } => format!("the file ends inside a record of {n} bytes"),
        Frame::Incomplete { needed: None } => "the file ends inside a record header".to_owned(),
        Frame::Damaged { reason, .. } => reason.clone(),
        Frame::Record(_) => "intact".to_owned(),
    }
}

fn rewrite_header(seg: &SegmentFile, options: JournalOptions) -> Result<(), JournalError> {
    let mut file = OpenOptions::new().write(true).open(&seg.path)?;
    file.set_len(0)?;
    file.write_all(&segment::header(options.format, seg.base))?;
    file.sync_all()?;
    Ok(())
}

fn create_first(dir: &Path, options: JournalOptions) -> Result<(), JournalError> {
    let seg = SegmentFile::new(dir, 0);
    let mut file = OpenOptions::new().write(true).create_new(true).open(&seg.path)?;
    file.write_all(&segment::header(options.format, 0))?;
    file.sync_all()?;
    sync_dir(dir)?;
    Ok(())
}
