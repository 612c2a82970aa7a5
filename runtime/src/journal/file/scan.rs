//! A read-only pass over a journal folder, for inspection tools: every frame of every segment is checked and its
//! record handed over, nothing is changed and no lock is taken, so it runs beside a live writer (whose unfinished
//! last record then reads as a torn tail, which is what a crash at that instant would leave).

use std::fs;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::codec::Format;
use super::frame::{self, Frame, FRAME_HEADER};
use super::segment::{self, Header, SEGMENT_HEADER};
use crate::journal::JournalError;

/// What a scan found in one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentScan {
    /// The segment file's name.
    pub segment: String,
    /// Position of its first record.
    pub base: u64,
    /// Intact records in it.
    pub records: u64,
    /// Bytes of the file.
    pub bytes: u64,
    /// Where reading it stopped early, and why.
    pub problem: Option<ScanProblem>,
}

/// A frame a scan could not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanProblem {
    /// Byte offset of the frame in the segment.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
    /// True when the file simply ends inside the frame: a write in progress, or cut short by a crash (recovery
    /// cuts it off on the next open). False for damage.
    pub torn: bool,
}

/// Scans the journal in `dir` read-only: calls `visit` with the position and the decoded record (or why it could
/// not be decoded) of every intact frame from position `from` on, and returns what it found per segment.
///
/// ```
/// use stagewise_runtime::journal::{file::scan, FileJournal, Format, Journal};
///
/// let dir = tempfile::tempdir().unwrap();
/// let journal = FileJournal::<String>::open_default(dir.path()).unwrap();
/// journal.append("one".into()).unwrap();
/// journal.append("two".into()).unwrap();
/// let mut seen = Vec::new();
/// let segments = scan::<String>(dir.path(), Format::Postcard, 1, |position, record| {
///     seen.push((position, record.unwrap()));
/// })
/// .unwrap();
/// assert_eq!(seen, [(1, "two".to_owned())]);
/// assert_eq!(segments[0].records, 2);
/// assert!(segments[0].problem.is_none());
/// ```
///
/// # Errors
/// When the folder cannot be listed, holds files that are not segments, or a segment cannot be read.
pub fn scan<R: DeserializeOwned>(
    dir: &Path,
    format: Format,
    from: u64,
    mut visit: impl FnMut(u64, Result<R, JournalError>),
) -> Result<Vec<SegmentScan>, JournalError> {
    let mut found = Vec::new();
    for seg in segment::list(dir)? {
        let bytes = fs::read(&seg.path)?;
        let mut scan =
            SegmentScan { segment: seg.name(), base: seg.base, records: 0, bytes: bytes.len() as u64, problem: None };
        let header = &bytes[..bytes.len().min(SEGMENT_HEADER)];
        match segment::check_header(&seg, header) {
            Ok(Header::Valid { .. }) => {}
            Ok(Header::Torn) => {
                scan.problem =
                    Some(ScanProblem { offset: 0, reason: "segment header cut short".to_owned(), torn: true });
            }
            Err(bad) => {
                scan.problem = Some(ScanProblem { offset: 0, reason: format!("{bad:?}"), torn: false });
            }
        }
        let mut offset = SEGMENT_HEADER;
        while scan.problem.is_none() && offset < bytes.len() {
            match frame::read_frame(&bytes[offset..]) {
                Frame::Record(payload) => {
                    let position = seg.base + scan.records;
                    if position >= from {
                        visit(position, format.decode(payload));
                    }
                    scan.records += 1;
                    offset += FRAME_HEADER + payload.len();
                }
                Frame::Incomplete { needed } => {
                    let reason = match needed {
                        Some(n) => format!("the file ends inside a record of {n} bytes"),
                        None => "the file ends inside a record header".to_owned(),
                    };
                    scan.problem = Some(ScanProblem { offset: offset as u64, reason, torn: true });
                }
                Frame::Damaged { reason, .. } => {
                    scan.problem = Some(ScanProblem { offset: offset as u64, reason, torn: false });
                }
            }
        }
        found.push(scan);
    }
    Ok(found)
}
