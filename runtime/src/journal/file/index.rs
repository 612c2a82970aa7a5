//! The in-memory index of a journal's segments: how far each may be read, the damage that stops it, and where every
//! 64th record (or one every 32 KiB) starts, so a read from any position scans a few records of its segment only.

use super::segment::{SegmentFile, SEGMENT_HEADER};
use super::Damage;

/// Every this many positions the writer notes where a record starts, so a read from any position scans at most this
/// many records of its segment instead of the whole segment (a tail follower reads from near the end, often).
pub(crate) const MARK_EVERY: u64 = 64;

/// A record also gets a mark when this many bytes of its segment lie between it and the last mark, so a read scans
/// few bytes of large records too (a durable link's record holds a whole batch: 64 of them are megabytes).
pub(crate) const MARK_BYTES: u64 = 32 * 1024;

/// True when the record at `position`, starting at byte `offset` of a segment whose marks so far are `marks`, gets
/// a mark. The writer and recovery agree on it.
#[inline]
pub(crate) fn wants_mark(position: u64, offset: u64, marks: &[(u64, u64)]) -> bool {
    let since = marks.last().map_or(SEGMENT_HEADER as u64, |&(_, at)| at);
    position.is_multiple_of(MARK_EVERY) || offset.saturating_sub(since) >= MARK_BYTES
}

/// One segment as far as readers may read it.
#[derive(Clone, Debug)]
pub(crate) struct Indexed {
    pub(crate) file: SegmentFile,
    /// Bytes written (header included). Once the buffer is flushed, everything before is complete, checked frames
    /// (while records keep coming, the file may end inside one: see `Frames::whole_pages`); readers flush first.
    pub(crate) len: u64,
    /// The damage found at `len`, where reading must stop with an error.
    pub(crate) damage: Option<Damage>,
    /// `(position, offset)` of every marked record (see [`wants_mark`]), in order.
    pub(crate) marks: Vec<(u64, u64)>,
}

impl Indexed {
    pub(crate) fn new(file: SegmentFile, len: u64, damage: Option<Damage>, marks: Vec<(u64, u64)>) -> Self {
        Self { file, len, damage, marks }
    }

    /// Where a reader of this segment starts, to reach `position`: the nearest mark at or before it.
    pub(crate) fn span_from(&self, position: u64) -> (Span, u64) {
        let start = match self.marks.partition_point(|&(p, _)| p <= position) {
            0 => (self.file.base, SEGMENT_HEADER as u64),
            i => self.marks[i - 1],
        };
        let span =
            Span { file: self.file.clone(), start: start.1.min(self.len), len: self.len, damage: self.damage.clone() };
        (span, position.saturating_sub(start.0))
    }
}

/// The part of one segment a reader reads: from `start` to `len`, then the damage if any.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    pub(crate) file: SegmentFile,
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) damage: Option<Damage>,
}
