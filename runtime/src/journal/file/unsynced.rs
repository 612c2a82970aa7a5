//! A torn tail that spans segments: a segment roll does not sync (the next sync syncs the closed segment, the new one
//! and the folder before it counts a record as synced), so a power cut before that sync can leave a new segment on
//! disk while the end of the segment before it never got there. What is missing was never synced, so recovery cuts
//! it off like a torn write at the end of the last segment: the short segment is cut at its last intact record, the
//! segments after it are removed, and all of it is reported in `Recovery::truncated`.
//!
//! Recovery knows the damage lies in that unsynced tail from the tail mark, written after every sync: the damage is
//! past the mark (in the segment the mark names, at or after the length it gives, or in a segment that starts after
//! it). Without a mark (a journal an older build wrote, or a damaged mark) it is damage, as before.

use std::fs;

use super::frame;
use super::mark::Mark;
use super::segment::{SegmentFile, SEGMENT_HEADER};
use crate::journal::JournalError;

/// True when the tail mark says nothing at `offset` of `segment` or after it was ever synced.
pub(crate) fn past_mark(mark: Option<Mark>, segment: &SegmentFile, offset: u64) -> bool {
    mark.is_some_and(|m| m.base < segment.base || (m.base == segment.base && offset >= m.len))
}

/// What [`cut`] cut off.
#[derive(Debug)]
pub(crate) struct Cut {
    /// Bytes of every file cut or removed.
    pub(crate) bytes: u64,
    /// Frames with an intact header among them.
    pub(crate) records: u64,
    /// Why, and which files were removed.
    pub(crate) reason: String,
}

/// Cuts the unsynced tail that starts in `from[0]`: at `keep` bytes of it (or the whole segment, with `None`), and
/// every later segment in `from`. `why` says what recovery found there.
///
/// # Errors
/// When a file cannot be cut or removed, or the folder synced.
pub(crate) fn cut(from: &[SegmentFile], keep: Option<u64>, why: &str) -> Result<Cut, JournalError> {
    let (first, later) = from.split_first().expect("a segment to cut");
    let (mut bytes, mut records) = (0, 0);
    for (i, segment) in from.iter().enumerate() {
        let held = fs::read(&segment.path)?;
        let kept = if i == 0 { keep.unwrap_or(0) as usize } else { 0 };
        bytes += held.len().saturating_sub(kept) as u64;
        records += frame::frames_in(held.get(kept.max(SEGMENT_HEADER)..).unwrap_or_default());
    }
    match keep {
        Some(len) => super::io::truncate(&first.path, len)?,
        None => fs::remove_file(&first.path)?,
    }
    for segment in later {
        fs::remove_file(&segment.path)?;
    }
    if keep.is_none() || !later.is_empty() {
        if let Some(dir) = first.path.parent() {
            super::io::sync_dir(dir)?;
        }
    }
    let removed: Vec<String> = from.iter().skip(usize::from(keep.is_some())).map(SegmentFile::name).collect();
    Ok(Cut {
        bytes,
        records,
        reason: format!(
            "{why}, past the tail mark: written after the last sync, in segments started since, and never all on \
             disk (a power cut before the sync); cut off{}",
            if removed.is_empty() { String::new() } else { format!(", removing {}", removed.join(", ")) }
        ),
    })
}
